"""The GitHub Actions workflow: pinned actions, checks first, the bake file as the only source."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from helios import ROOT, manifest, matrix

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BUILD = ROOT / ".github" / "workflows" / "build.yml"
PINNED_RE = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
USES_LINE_RE = re.compile(r"uses:\s*(?P<ref>\S+)(?P<comment>.*)$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(BUILD)


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    (found,) = [s for s in steps(job) if s.get("uses", "").startswith(f"{action}@")]
    return found


def test_workflows_exist_and_parse():
    assert BUILD in WORKFLOWS
    for path in WORKFLOWS:
        data = load(path)
        assert data["on"] and data["jobs"], path


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_a_version_comment(path):
    lines = [line for line in path.read_text().splitlines() if "uses:" in line]
    assert lines
    for line in lines:
        match = USES_LINE_RE.search(line)
        assert match, line
        ref = match["ref"]
        if ref.startswith("./"):
            continue
        assert PINNED_RE.match(ref), f"{path.name}: {ref} is not pinned to a full commit SHA"
        assert re.match(r"\s*# v\d+(\.\d+)*\s*$", match["comment"]), f"{line}: add '# vX.Y.Z'"


def test_triggers(workflow):
    on = workflow["on"]
    assert "pull_request" in on
    assert "**" in on["push"]["branches"]
    assert on["push"]["tags"] == ["v*"]


def test_checks_run_the_ci_script_before_any_build(workflow):
    jobs = workflow["jobs"]
    assert any(s.get("run", "").strip() == "bash .ci/run" for s in steps(jobs["checks"]))
    builders = [name for name, job in jobs.items() if "docker/bake-action" in str(job)]
    assert builders == ["build"]
    assert "checks" in jobs["build"]["needs"]


def test_channel_decision_comes_from_the_package(workflow):
    plan = workflow["jobs"]["plan"]
    script = "\n".join(s.get("run", "") for s in steps(plan))
    assert 'python3 -m helios.channels --ref "$REF"' in script
    assert "$GITHUB_OUTPUT" in script
    assert plan["steps"][-1]["env"]["REF"] == "${{ github.ref }}"
    assert "vars.HELIOS_REGISTRY" in plan["steps"][-1]["env"]["REGISTRY"]
    assert "vars.HELIOS_IMAGE" in plan["steps"][-1]["env"]["IMAGE"]
    # No channel logic in YAML: the refs appear in no condition.
    text = BUILD.read_text()
    assert "refs/heads/main" not in text and "refs/heads/testing" not in text


def test_build_uses_the_committed_bake_file_and_matrix_from_distros_toml(workflow):
    build = workflow["jobs"]["build"]
    assert build["needs"] == ["checks", "plan"]
    assert build["strategy"]["matrix"]["distro"] == "${{ fromJSON(needs.plan.outputs.distros) }}"
    bake_step = step_using(build, "docker/bake-action")["with"]
    assert bake_step["files"] == "docker-bake.hcl"
    assert bake_step["source"] == "."
    assert bake_step["targets"] == "${{ matrix.distro }}"
    for key in ("HELIOS_CHANNEL", "HELIOS_VERSION", "HELIOS_REPO"):
        assert build["env"][key].startswith("${{ needs.plan.outputs."), key


def test_no_build_args_or_per_distro_values_in_the_workflow(workflow):
    """Everything per distro comes from the bake file; the workflow must not repeat it."""
    text = BUILD.read_text()
    assert not re.search(r"\.args\.|--build-arg|build-args", text)
    arg_names = {"BASE_IMAGE", "DISTRO", "FAMILY", "XORG_VERSION", "WEBRTC", "SNAKEOIL_IMAGE"}
    arg_names |= set(manifest.load().build_args())
    leaked = sorted(name for name in arg_names if re.search(rf"\b{name}\b", text))
    assert not leaked, f"build args repeated in the workflow: {leaked}"
    build = yaml.safe_dump(workflow["jobs"]["build"])
    values = {v for d in matrix.load() for v in (d.name, d.image, d.xorg)}
    repeated = sorted(
        v for v in values if re.search(rf"(?<![\w.-]){re.escape(v)}(?![\w.-])", build)
    )
    assert not repeated, f"per-distro values in the build job: {repeated}"


def test_push_login_attestations_and_cache_follow_the_decision(workflow):
    build = workflow["jobs"]["build"]
    push = "needs.plan.outputs.push == 'true'"
    login = step_using(build, "docker/login-action")
    assert push in login["if"]
    assert login["with"]["registry"] == "${{ vars.HELIOS_REGISTRY }}"
    assert login["with"]["username"].startswith("${{ secrets.")
    assert login["with"]["password"].startswith("${{ secrets.")
    bake_with = step_using(build, "docker/bake-action")["with"]
    assert bake_with["push"] == f"${{{{ {push} }}}}"
    assert push in bake_with["provenance"] and push in bake_with["sbom"]
    assert "*.cache-from=type=gha" in bake_with["set"]
    assert "*.cache-to=type=gha,mode=max" in bake_with["set"]
    assert build["permissions"]["packages"] == "write"
    assert workflow["permissions"] == {"contents": "read"}


def test_no_secret_reaches_a_shell_step(workflow):
    for name, job in workflow["jobs"].items():
        for step in steps(job):
            if "run" in step:
                assert "secrets." not in str(step), f"{name}: secrets in a run step"
