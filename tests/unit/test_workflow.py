"""The GitHub Actions workflow: pinned actions, checks first, the bake file as the only source."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from helios import ROOT, channels, manifest, matrix, version

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


class Ctx(dict):
    """A GitHub expression context: nested mappings readable as attributes (needs.plan.x)."""

    def __getitem__(self, name: str) -> Any:
        value = super().__getitem__(name)
        return Ctx(value) if isinstance(value, dict) else value

    def __getattr__(self, name: str) -> Any:
        return self[name]


def expr(value: Any, ctx: dict[str, Any]) -> Any:
    """Evaluate the ${{ }} expressions of a workflow value the way Actions would.

    Only what this workflow uses: context paths, ==, !, &&, ||, fromJSON, startsWith, literals.
    A whole-value expression keeps its type; embedded ones are formatted into the string.
    """
    if not isinstance(value, str):
        return value

    def one(code: str) -> Any:
        py = code.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
        py = py.replace(" not =", "!=").replace("fromJSON(", "json.loads(")
        py = re.sub(r"startsWith\(([^,]+),", r"str.startswith(\1,", py)
        scope = {"json": json, "str": str, "true": True, "false": False}
        return eval(py, scope, Ctx(ctx))  # test-only evaluator over the repo's own workflow

    def text(code: str) -> str:
        got = one(code)
        return str(got).lower() if isinstance(got, bool) else str(got)

    whole = re.fullmatch(r"\$\{\{([^}]*)\}\}", value.strip())
    if whole:
        return one(whole.group(1))
    return re.sub(r"\$\{\{([^}]*)\}\}", lambda m: text(m.group(1)), value)


def run_decide(workflow: dict[str, Any], tmp_path: Path, ref: str) -> tuple[int, dict[str, str]]:
    """Run the plan job's steps as a runner would (the install step by a stand-in venv)."""
    plan = workflow["jobs"]["plan"]
    install, decide = plan["steps"][-2:]
    assert "pip" in install["run"] and "install" in install["run"] and "." in install["run"]
    venv_bin = tmp_path / "runner" / "helios" / "bin"
    venv_bin.mkdir(parents=True)
    # The runner's venv after `pip install .`: this test's own Python, which has the package deps.
    (venv_bin / "python").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    (venv_bin / "python").chmod(0o755)
    ctx = {
        "github": {"ref": ref},
        "vars": {"HELIOS_REGISTRY": "ghcr.io", "HELIOS_IMAGE": "org/helios"},
    }
    output = tmp_path / "github_output"
    output.write_text("")
    env = {k: str(expr(v, ctx)) for k, v in decide["env"].items()}
    env |= {"GITHUB_OUTPUT": str(output), "RUNNER_TEMP": str(tmp_path / "runner")}
    env |= {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    result = subprocess.run(
        ["bash", "-c", decide["run"]], cwd=ROOT, env=env, capture_output=True, text=True
    )
    pairs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return result.returncode, pairs


@pytest.mark.parametrize(
    ("ref", "channel", "push"),
    [
        ("refs/heads/main", "unstable", "true"),
        ("refs/heads/testing", "testing", "true"),
        ("refs/heads/feature/x", "dev", "false"),
        ("refs/pull/7/merge", "dev", "false"),
        ("refs/tags/v{version}", "release", "true"),
    ],
)
def test_plan_job_decides_channel_and_push_for_each_ref(workflow, tmp_path, ref, channel, push):
    code, out = run_decide(workflow, tmp_path, ref.format(version=version.read()))
    assert code == 0
    assert (out["HELIOS_CHANNEL"], out["push"]) == (channel, push)
    assert out["HELIOS_VERSION"] == version.read()
    assert out["HELIOS_REPO"] == "ghcr.io/org/helios"
    assert json.loads(out["distros"]) == matrix.names(matrix.load())
    assert re.match(r"^\d{4}-\d\d-\d\dT", out["created"])


def test_a_tag_that_is_not_the_version_plans_nothing(workflow, tmp_path):
    code, out = run_decide(workflow, tmp_path, "refs/tags/v999.0.0")
    assert code != 0
    assert "HELIOS_CHANNEL" not in out


def _build_view(workflow: dict[str, Any], outputs: dict[str, str]) -> dict[str, Any]:
    """The build job as Actions would run it for one distro, given the plan job's outputs."""
    plan_outputs = {
        k: expr(v, {"steps": {"decide": {"outputs": outputs}}})
        for k, v in workflow["jobs"]["plan"]["outputs"].items()
    }
    build = workflow["jobs"]["build"]
    ctx: dict[str, Any] = {"needs": {"plan": {"outputs": plan_outputs}}}
    matrix_values = expr(build["strategy"]["matrix"]["distro"], ctx)
    ctx |= {
        "matrix": {"distro": matrix_values[0]},
        "github": {"sha": "abc", "server_url": "https://x", "repository": "o/r"},
        "vars": {"HELIOS_REGISTRY": "ghcr.io"},
        "secrets": {"HELIOS_REGISTRY_USERNAME": "u", "HELIOS_REGISTRY_PASSWORD": "p"},
    }
    steps = []
    for step in steps_of(build):
        condition = str(step.get("if", "true"))  # `if:` is an expression even without ${{ }}
        runs = expr(condition if "${{" in condition else f"${{{{ {condition} }}}}", ctx)
        with_ = {k: expr(v, ctx) for k, v in step.get("with", {}).items()}
        steps.append({"uses": step.get("uses", "").split("@")[0], "runs": runs, "with": with_})
    env = {k: expr(v, ctx) for k, v in build["env"].items()}
    return {"matrix": matrix_values, "steps": steps, "env": env, "needs": build["needs"]}


def steps_of(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def _decision(ref: str) -> dict[str, str]:
    """What the plan job outputs for `ref` (its step runs helios.channels; see the test above)."""
    return channels.outputs(ref, "ghcr.io", "org/helios") | {"created": "2026-01-01"}


@pytest.mark.parametrize("ref", ["refs/heads/main", "refs/pull/7/merge", "refs/tags/v{version}"])
def test_build_job_builds_every_distro_and_pushes_only_when_decided(workflow, ref):
    decision = _decision(ref.format(version=version.read()))
    view = _build_view(workflow, decision)
    pushing = decision["push"] == "true"
    assert view["matrix"] == matrix.names(matrix.load())
    assert "checks" in view["needs"], "a red tree (checks job) must build nothing"
    by_action = {s["uses"]: s for s in view["steps"] if s["uses"]}
    assert by_action["docker/login-action"]["runs"] is pushing
    bake_with = by_action["docker/bake-action"]["with"]
    assert bake_with["push"] is pushing
    assert bake_with["files"] == "docker-bake.hcl" and bake_with["source"] == "."
    assert bake_with["targets"] == view["matrix"][0]
    assert bake_with["provenance"] == ("mode=max" if pushing else "false")
    assert bake_with["sbom"] is pushing
    assert view["env"]["HELIOS_CHANNEL"] == decision["HELIOS_CHANNEL"]
    assert view["env"]["HELIOS_VERSION"] == decision["HELIOS_VERSION"]
    assert view["env"]["HELIOS_REPO"] == decision["HELIOS_REPO"]


def test_checks_job_runs_the_ci_script(workflow):
    checks = workflow["jobs"]["checks"]
    assert [s["run"].strip() for s in steps_of(checks) if "run" in s][-1] == "bash .ci/run"


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


def test_no_secret_reaches_a_shell_step(workflow):
    for name, job in workflow["jobs"].items():
        for step in steps(job):
            if "run" in step:
                assert "secrets." not in str(step), f"{name}: secrets in a run step"
