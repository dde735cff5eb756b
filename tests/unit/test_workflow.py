"""The GitHub Actions workflows: the job graph, triggers, permissions, pins and what each step does.

build.yml decides the channel (plan), runs the CI script (checks) and calls image.yml once per
distro; image.yml builds, tests and (only when green and pushing) pushes and signs one distro for
both platforms. Expressions are evaluated the way Actions would and shell steps are run with
stand-in `docker`/`cosign` commands, so the tests check what the workflow does, not its text.
"""

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ociutil import make_archive

from helios import ROOT, bake, channels, manifest, matrix, measure, tags, version

WORKFLOW_DIR = ROOT / ".github" / "workflows"
BUILD = WORKFLOW_DIR / "build.yml"
IMAGE = WORKFLOW_DIR / "image.yml"
WORKFLOWS = [BUILD, IMAGE]
SHA_RE = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT_RE = re.compile(r"#\s*v\d+(\.\d+)*\s*$")
NAMES = matrix.names(matrix.load())
ARCHES = [p.removeprefix("linux/") for p in bake.PLATFORMS]
SIGNING_JOB = (IMAGE.name, "push")
CALLER_JOB = (BUILD.name, "image")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(BUILD)


@pytest.fixture(scope="module")
def image() -> dict[str, Any]:
    return load(IMAGE)


def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(p.name, name, job) for p in WORKFLOWS for name, job in load(p)["jobs"].items()]


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    (found,) = [s for s in steps(job) if s.get("uses", "").startswith(f"{action}@")]
    return found


def step_named(job: dict[str, Any], start: str) -> dict[str, Any]:
    (found,) = [s for s in steps(job) if s.get("name", "").startswith(start)]
    return found


class Ctx(dict):
    """A GitHub expression context: nested mappings readable as attributes (needs.plan.x)."""

    def __getitem__(self, name: str) -> Any:
        value = super().__getitem__(name)
        return Ctx(value) if isinstance(value, dict) else value

    def __getattr__(self, name: str) -> Any:
        return self[name]


def expr(value: Any, ctx: dict[str, Any]) -> Any:
    """Evaluate the ${{ }} expressions of a workflow value the way Actions would.

    Only what these workflows use: context paths, ==, !=, !, &&, ||, fromJSON, startsWith,
    cancelled(), literals. A whole-value expression keeps its type; embedded ones are formatted
    into the string.
    """
    if not isinstance(value, str):
        return value

    def one(code: str) -> Any:
        py = code.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
        py = py.replace(" not =", "!=").replace("fromJSON(", "json.loads(")
        py = re.sub(r"startsWith\(([^,]+),", r"str.startswith(\1,", py)
        py = re.sub(r"\b(\w+)-(\w+)\b", r"\1_\2", py)  # secrets.registry-username
        scope = {"json": json, "str": str, "true": True, "false": False}
        scope["cancelled"] = lambda: False
        names = Ctx({k: _underscored(v) for k, v in ctx.items()})
        return eval(py, scope, names)  # test-only evaluator over the repo's own workflows

    def text(code: str) -> str:
        got = one(code)
        return str(got).lower() if isinstance(got, bool) else str(got)

    whole = re.fullmatch(r"\$\{\{([^}]*)\}\}", value.strip())
    if whole:
        return one(whole.group(1))
    return re.sub(r"\$\{\{([^}]*)\}\}", lambda m: text(m.group(1)), value)


def _underscored(value: Any) -> Any:
    if isinstance(value, dict):
        return {k.replace("-", "_"): _underscored(v) for k, v in value.items()}
    return value


def condition(item: dict[str, Any], ctx: dict[str, Any]) -> bool:
    """Whether a job or step with this `if:` runs (`if:` is an expression even without ${{ }})."""
    text = str(item.get("if", "true"))
    return bool(expr(text if "${{" in text else f"${{{{ {text} }}}}", ctx))


def run_shell(
    script: str, env: dict[str, str], tmp_path: Path, fakes: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a step's `run:` as the runner does (bash -eo pipefail), stand-in commands first."""
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir(exist_ok=True)
    for name, body in (fakes or {}).items():
        (fake_bin / name).write_text(f"#!/usr/bin/env bash\nset -euo pipefail\n{body}\n")
        (fake_bin / name).chmod(0o755)
    python_dir = str(Path(sys.executable).parent)
    base = {"PATH": f"{fake_bin}:{python_dir}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        check=False,
    )


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


# ---------------------------------------------------------------------------------------------
# Files, pins, triggers, concurrency


def test_workflows_exist_and_parse():
    assert sorted(WORKFLOW_DIR.glob("*.yml")) == sorted(WORKFLOWS)
    for path in WORKFLOWS:
        data = load(path)
        assert data["on"] and data["jobs"], path


def all_uses(data: dict[str, Any]) -> list[str]:
    found = []
    for job in data["jobs"].values():
        if "uses" in job:
            found.append(job["uses"])
        found += [s["uses"] for s in steps(job) if "uses" in s]
    return found


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_a_version_comment(path):
    uses = all_uses(load(path))
    assert uses
    lines = path.read_text().splitlines()
    for ref in uses:
        if ref.startswith("./"):
            assert (ROOT / ref).is_file(), f"{path.name}: {ref} does not exist"
            continue
        assert SHA_RE.match(ref), f"{path.name}: {ref} is not pinned to a full commit SHA"
        found = [line for line in lines if re.search(rf"uses:\s*{re.escape(ref)}\b", line)]
        assert found, ref
        for line in found:
            assert VERSION_COMMENT_RE.search(line), f"{line.strip()}: add '# vX.Y.Z'"


def test_one_action_one_commit_across_the_workflows():
    """The same action is pinned to the same commit everywhere (one upgrade moves them all)."""
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS:
        for ref in all_uses(load(path)):
            if match := SHA_RE.match(ref):
                pins.setdefault(match["action"], set()).add(match["sha"])
    assert "sigstore/cosign-installer" in pins and "actions/upload-artifact" in pins
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


CRON_FIELD = re.compile(r"^\d+$")


def test_triggers_include_a_weekly_schedule_and_release_tags(workflow):
    on = workflow["on"]
    assert "pull_request" in on
    assert "**" in on["push"]["branches"]
    assert on["push"]["tags"] == ["v*"]
    (entry,) = on["schedule"]
    minute, hour, day, month, weekday = entry["cron"].split()
    assert CRON_FIELD.match(minute) and int(minute) < 60
    assert CRON_FIELD.match(hour) and int(hour) < 24
    assert (day, month) == ("*", "*"), "weekly: every month, any day of the month"
    assert CRON_FIELD.match(weekday) and int(weekday) <= 6, "weekly: exactly one weekday"


def _ctx(event: str, ref: str, decision: dict[str, str] | None = None) -> dict[str, Any]:
    plan = decision if decision is not None else _decision(ref)
    return {
        "github": {
            "event_name": event,
            "ref": ref,
            "sha": "abc",
            "server_url": "https://github.com",
            "repository": "org/helios",
        },
        "needs": {"plan": {"outputs": plan}},
        "vars": {"HELIOS_REGISTRY": "ghcr.io", "HELIOS_IMAGE": "org/helios"},
        "secrets": {"HELIOS_REGISTRY_USERNAME": "u", "HELIOS_REGISTRY_PASSWORD": "p"},
        "matrix": {"distro": NAMES[0]},
    }


def _decision(ref: str) -> dict[str, str]:
    """What the plan job outputs for `ref` (its step runs helios.channels; see run_decide)."""
    try:
        out = channels.outputs(ref, "ghcr.io", "org/helios")
    except Exception:
        return {"push": "false", "distros": json.dumps(NAMES)}
    return {
        "channel": out["HELIOS_CHANNEL"],
        "version": out["HELIOS_VERSION"],
        "repo": out["HELIOS_REPO"],
        "push": out["push"],
        "distros": out["distros"],
        "created": "2026-01-01T00:00:00Z",
    }


TAG = f"refs/tags/v{version.read()}"
EVENTS = [
    # (event, ref, pushes, fresh)
    ("push", "refs/heads/main", True, False),
    ("push", "refs/heads/testing", True, False),
    ("push", TAG, True, True),
    ("push", "refs/heads/feature/x", False, False),
    ("pull_request", "refs/pull/7/merge", False, False),
    ("schedule", "refs/heads/main", True, True),
]


@pytest.mark.parametrize(("event", "ref", "pushes", "fresh"), EVENTS)
def test_concurrency_cancels_only_pull_requests(workflow, event, ref, pushes, fresh):
    """A pushing run is never cancelled between its push and its signature."""
    concurrency = workflow["concurrency"]
    ctx = _ctx(event, ref)
    assert ref in expr(concurrency["group"], ctx)
    assert expr(concurrency["cancel-in-progress"], ctx) is (event == "pull_request")


# ---------------------------------------------------------------------------------------------
# The job graph


def test_build_yml_calls_image_yml_per_distro_after_checks_and_plan(workflow):
    jobs = workflow["jobs"]
    assert set(jobs) == {"checks", "plan", "image"}
    caller = jobs["image"]
    assert caller["uses"] == "./.github/workflows/image.yml"
    assert set(caller["needs"]) == {"checks", "plan"}, "a red tree (checks job) builds nothing"
    assert caller["strategy"]["fail-fast"] is False, "a failing distro must not stop the others"
    assert expr(caller["strategy"]["matrix"]["distro"], _ctx("push", "refs/heads/main")) == NAMES


def test_image_yml_is_build_then_integration_then_push(image):
    jobs = image["jobs"]
    assert set(jobs) == {"build", "integration", "push"}
    assert "needs" not in jobs["build"]
    assert jobs["integration"]["needs"] == "build"
    assert jobs["push"]["needs"] == "integration", "push waits for every integration leg"
    assert "workflow_call" in image["on"] and set(image["on"]) == {"workflow_call"}


def _legs(job: dict[str, Any]) -> list[dict[str, str]]:
    return job["strategy"]["matrix"]["include"]


@pytest.mark.parametrize("name", ["build", "integration"])
def test_both_platforms_build_and_test_natively(image, name):
    job = image["jobs"][name]
    legs = _legs(job)
    assert job["strategy"]["fail-fast"] is False
    assert sorted(leg["platform"] for leg in legs) == sorted(bake.PLATFORMS)
    for leg in legs:
        assert leg["platform"] == f"linux/{leg['arch']}"
        runner = expr(job["runs-on"], {"matrix": leg})
        assert runner == ("ubuntu-24.04-arm" if leg["arch"] == "arm64" else "ubuntu-24.04")


def test_integration_runs_where_its_build_ran(image):
    assert _legs(image["jobs"]["integration"]) == _legs(image["jobs"]["build"])


def _with(caller: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    return {k: expr(v, ctx) for k, v in caller["with"].items()}


@pytest.mark.parametrize(("event", "ref", "pushes", "fresh"), EVENTS)
def test_push_and_signing_run_only_for_pushing_refs_never_for_pull_requests(
    workflow, image, event, ref, pushes, fresh
):
    caller = workflow["jobs"]["image"]
    inputs = _with(caller, _ctx(event, ref))
    push_job = image["jobs"]["push"]
    ctx = {"inputs": inputs, "github": {"event_name": event, "ref": ref}}
    assert condition(push_job, ctx) is pushes
    assert inputs["fresh"] is fresh
    for step in steps(push_job):
        assert condition(step, ctx), "every push step runs once the job runs"


def test_a_pull_request_never_pushes_even_if_the_plan_said_so(workflow, image):
    """Defence in depth: a plan bug that says push=true for a PR still pushes nothing."""
    ctx = _ctx("pull_request", "refs/pull/7/merge", _decision("refs/heads/main"))
    inputs = _with(workflow["jobs"]["image"], ctx)
    assert inputs["push"] is False
    forced = {"inputs": inputs | {"push": True}, "github": {"event_name": "pull_request"}}
    assert condition(image["jobs"]["push"], forced) is False


def test_the_caller_passes_the_plan_to_image_yml(workflow, image):
    inputs = _with(workflow["jobs"]["image"], _ctx("push", "refs/heads/main"))
    declared = image["on"]["workflow_call"]["inputs"]
    required = {k for k, v in declared.items() if v.get("required")}
    assert required <= set(inputs) <= set(declared)
    assert inputs["distro"] == NAMES[0]
    assert (inputs["channel"], inputs["repo"]) == ("unstable", "ghcr.io/org/helios")
    assert inputs["registry"] == "ghcr.io"
    secrets = workflow["jobs"]["image"]["secrets"]
    assert set(secrets) == set(image["on"]["workflow_call"]["secrets"])


# ---------------------------------------------------------------------------------------------
# Permissions and secrets


def test_workflow_level_permissions_are_empty():
    for path in WORKFLOWS:
        assert load(path)["permissions"] == {}, path.name


def test_every_job_asks_for_the_least_it_needs():
    for workflow_name, name, job in all_jobs():
        where = f"{workflow_name}:{name}"
        assert "permissions" in job, f"{where}: declare its permissions"
        permissions = dict(job["permissions"])
        assert permissions.pop("contents") == "read", where
        if (workflow_name, name) in (SIGNING_JOB, CALLER_JOB):
            assert permissions == {"id-token": "write"}, where
        else:
            assert permissions == {}, f"{where}: only contents: read, got {job['permissions']}"


def _runs_cosign(step: dict[str, Any]) -> bool:
    return step.get("uses", "").startswith("sigstore/") or "cosign" in step.get("run", "")


def test_signing_happens_only_in_the_push_job_which_has_id_token():
    signing = {(w, n) for w, n, job in all_jobs() if any(_runs_cosign(s) for s in steps(job))}
    assert signing == {SIGNING_JOB}
    with_token = {(w, n) for w, n, job in all_jobs() if "id-token" in job.get("permissions", {})}
    # The caller holds id-token only to hand it to image.yml (a called job gets no more than it).
    assert with_token == {SIGNING_JOB, CALLER_JOB}
    assert load(BUILD)["jobs"]["image"]["uses"].endswith(IMAGE.name)


def test_no_secret_reaches_a_shell_step():
    for workflow_name, name, job in all_jobs():
        for step in steps(job):
            if "run" in step:
                assert "secrets." not in str(step), f"{workflow_name}:{name}: secrets in a run step"


def test_registry_secrets_go_only_to_the_login_of_the_push_job(image):
    users = [
        (name, s["uses"].split("@")[0])
        for name, job in image["jobs"].items()
        for s in steps(job)
        if "secrets." in json.dumps(s)
    ]
    assert users == [("push", "docker/login-action")]


def test_checkouts_keep_no_credentials():
    for workflow_name, name, job in all_jobs():
        for step in steps(job):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, f"{workflow_name}:{name}"


# ---------------------------------------------------------------------------------------------
# What the jobs do


def _build_ctx(arch: str, fresh: bool, tmp: str = "/tmp/runner") -> dict[str, Any]:
    return {
        "inputs": {
            "distro": "rocky-9",
            "fresh": fresh,
            "channel": "unstable",
            "repo": "r/h",
            "version": "1.2.3",
            "created": "2026-01-01T00:00:00Z",
        },
        "matrix": {"arch": arch, "platform": f"linux/{arch}"},
        "runner": {"temp": tmp},
        "github": {"sha": "abc", "server_url": "https://github.com", "repository": "o/r"},
        "steps": {"load": {"outputs": {"image": "sha256:cfg"}}},
    }


def _sets(bake_step: dict[str, Any], ctx: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in expr(bake_step["with"]["set"], ctx).splitlines():
        key, _, value = line.strip().partition("=")
        found.setdefault(key, []).append(value)
    return found


@pytest.mark.parametrize("fresh", [False, True])
@pytest.mark.parametrize("arch", ARCHES)
def test_build_exports_one_attested_archive_of_one_platform(image, arch, fresh):
    job = image["jobs"]["build"]
    ctx = _build_ctx(arch, fresh)
    env = {k: expr(v, ctx) for k, v in job["env"].items()}
    assert env["HELIOS_PLATFORMS"] == f"linux/{arch}"
    assert (env["HELIOS_CHANNEL"], env["HELIOS_REPO"]) == ("unstable", "r/h")
    bake_with = {k: expr(v, ctx) for k, v in step_using(job, "docker/bake-action")["with"].items()}
    assert bake_with["files"] == "docker-bake.hcl" and bake_with["source"] == "."
    assert bake_with["targets"] == "rocky-9"
    assert bake_with.get("push", False) is False, "nothing is pushed before it is tested"
    assert (bake_with["sbom"], bake_with["provenance"]) == (True, "mode=max")
    # The weekly rebuild and a release: every base pulled, no cached layer.
    assert bake_with["pull"] is fresh and bake_with["no-cache"] is fresh
    sets = _sets(step_using(job, "docker/bake-action"), ctx)
    assert sets["*.output"] == ["type=docker,dest=/tmp/runner/image.tar"]
    assert sets["*.cache-from"] == [f"type=gha,scope=helios-rocky-9-{arch}"]
    upload = {
        k: expr(v, ctx) for k, v in step_using(job, "actions/upload-artifact")["with"].items()
    }
    assert upload["path"] == "/tmp/runner/image.tar"
    assert upload["name"] == f"image-rocky-9-{arch}"
    assert upload["if-no-files-found"] == "error"


def test_no_job_rebuilds_after_the_test(image):
    builders = ("docker/bake-action", "docker/build-push-action")
    for name in ("integration", "push"):
        for step in steps(image["jobs"][name]):
            assert not step.get("uses", "").startswith(builders), name
            assert not re.search(r"buildx (bake|build)|docker build\b", step.get("run", "")), name


@pytest.mark.parametrize("arch", ARCHES)
def test_integration_downloads_the_archive_its_build_uploaded(image, arch):
    ctx = _build_ctx(arch, False)
    upload = step_using(image["jobs"]["build"], "actions/upload-artifact")["with"]
    download = step_using(image["jobs"]["integration"], "actions/download-artifact")["with"]
    assert expr(download["name"], ctx) == expr(upload["name"], ctx)
    # download-artifact puts the one file of a named artifact into `path`.
    assert Path(expr(download["path"], ctx)) / "image.tar" == Path(expr(upload["path"], ctx))


def test_integration_loads_the_archive_and_tests_the_image_by_its_config_digest(image, tmp_path):
    job = image["jobs"]["integration"]
    (tmp_path / "runner").mkdir()
    archive, digests = make_archive(tmp_path / "runner", arch="arm64")
    load_step = step_named(job, "Load the image")
    log = tmp_path / "docker.log"
    docker = f'echo "$*" >>{log}\n[[ $1 == image ]] && echo "{digests["config"]} arm64"\ntrue'
    out = tmp_path / "out"
    out.write_text("")
    env = {k: str(expr(v, _build_ctx("arm64", False))) for k, v in load_step["env"].items()}
    env |= {"RUNNER_TEMP": str(archive.parent), "GITHUB_OUTPUT": str(out)}
    result = run_shell(load_step["run"], env, tmp_path, {"docker": docker})
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        f"load --input {archive}",
        f"image inspect --format {{{{.Id}}}} {{{{.Architecture}}}} {digests['config']}",
    ]
    assert outputs(out) == {"image": digests["config"]}
    # ... and the suite runs against exactly that image ID.
    suite = step_named(job, "Integration suite")
    assert suite["run"].strip() == '.ci/image-tests.sh "$TARGET" "$IMAGE"'
    suite_env = {k: expr(v, _build_ctx("arm64", False)) for k, v in suite["env"].items()}
    assert suite_env == {"TARGET": "rocky-9", "IMAGE": "sha256:cfg"}


def test_integration_refuses_an_archive_of_the_other_platform(image, tmp_path):
    (tmp_path / "runner").mkdir()
    archive, _ = make_archive(tmp_path / "runner", arch="amd64")
    load_step = step_named(image["jobs"]["integration"], "Load the image")
    log = tmp_path / "docker.log"
    out = tmp_path / "out"
    out.write_text("")
    env = {"PLATFORM": "linux/arm64", "RUNNER_TEMP": str(archive.parent), "GITHUB_OUTPUT": str(out)}
    result = run_shell(load_step["run"], env, tmp_path, {"docker": f'echo "$*" >>{log}'})
    assert result.returncode != 0
    assert "expected the image of linux/arm64, found linux/amd64" in result.stderr
    assert not log.exists(), "nothing is loaded"
    assert outputs(out) == {}


README_ARTIFACT_RE = re.compile(r"`((?:image|reports)-<distro>-<arch>)`")


def test_artifacts_are_uploaded_with_the_names_the_readme_says(image):
    documented = set(README_ARTIFACT_RE.findall((ROOT / "README.md").read_text()))
    assert documented == {"image-<distro>-<arch>", "reports-<distro>-<arch>"}
    ctx = _build_ctx("arm64", False) | {
        "inputs": {"distro": "<distro>"},
        "matrix": {"arch": "<arch>"},
    }
    uploaded = {
        expr(s["with"]["name"], ctx)
        for job in image["jobs"].values()
        for s in steps(job)
        if s.get("uses", "").startswith("actions/upload-artifact@")
    }
    assert uploaded == documented


def test_reports_artifact_holds_the_screenshots_measurements_and_junit(image):
    job = image["jobs"]["integration"]
    upload = step_using(job, "actions/upload-artifact")
    assert upload["if"] == "${{ !cancelled() }}", "a failing run keeps its evidence"
    paths = expr(upload["with"]["path"], _build_ctx("amd64", False)).split()
    junit = re.search(
        r"--junitxml=([^\s\"]+)", (ROOT / "noxfile.py").read_text().split("def integration")[1]
    )
    assert junit
    assert paths == [
        "reports/screenshots/",
        str(measure.REPORT_FILE.relative_to(ROOT)),
        junit.group(1),
    ]
    assert upload["with"]["if-no-files-found"] == "error"


# ---------------------------------------------------------------------------------------------
# The push job, run with a stand-in registry


def _push_setup(tmp_path: Path, distro: str, tag_sets: tuple[tuple[str, ...], ...] | None = None):
    images = tmp_path / "runner" / "images"
    digests = {}
    repo = "ghcr.io/org/helios"
    for i, arch in enumerate(ARCHES):
        folder = images / f"image-{distro}-{arch}"
        folder.mkdir(parents=True)
        tagged = tag_sets[i] if tag_sets else tuple(tags.tags("unstable", repo, "1.2.3", distro))
        _, digests[arch] = make_archive(folder, arch=arch, tags=tagged)
    return images, digests, repo


def _fake_registry(tmp_path: Path, pushed: bytes) -> str:
    index = tmp_path / "pushed-index.json"
    index.write_bytes(pushed)
    log = tmp_path / "docker.log"
    return (
        f'echo "$*" >>{log}\n'
        f'if [[ "$*" == "buildx imagetools inspect --raw "* ]]; then cat {index}; fi'
    )


def _pushed_index(digests: dict[str, dict[str, str]], arches: list[str]) -> bytes:
    manifests = [
        {"digest": digests[a][k], "mediaType": "application/vnd.oci.image.manifest.v1+json"}
        for a in arches
        for k in ("manifest", "attestation")
    ]
    return json.dumps({"manifests": manifests}).encode()


def _run_push(image: dict[str, Any], tmp_path: Path, distro: str, repo: str, pushed: bytes):
    job = image["jobs"]["push"]
    step = step_named(job, "Push the tested archives")
    out = tmp_path / "out"
    out.write_text("")
    ctx = {"inputs": {"distro": distro, "repo": repo}}
    env = {k: str(expr(v, ctx)) for k, v in step["env"].items()}
    env |= {"RUNNER_TEMP": str(tmp_path / "runner"), "GITHUB_OUTPUT": str(out)}
    result = run_shell(step["run"], env, tmp_path, {"docker": _fake_registry(tmp_path, pushed)})
    log = tmp_path / "docker.log"
    return result, outputs(out), log.read_text().splitlines() if log.exists() else []


def test_push_sends_the_tested_archives_with_their_tags_and_outputs_the_index_digest(
    image, tmp_path
):
    images, digests, repo = _push_setup(tmp_path, "rocky-9")
    pushed = _pushed_index(digests, ARCHES)
    result, out, calls = _run_push(image, tmp_path, "rocky-9", repo, pushed)
    assert result.returncode == 0, result.stderr
    create, inspect = calls
    expected_tags = [f"--tag {t}" for t in tags.tags("unstable", repo, "1.2.3", "rocky-9")]
    sources = [f"oci-layout://{images}/layout-{a}@{digests[a]['index']}" for a in ARCHES]
    assert create == " ".join(["buildx imagetools create", *expected_tags, *sources])
    assert inspect == f"buildx imagetools inspect --raw {repo}:unstable-rocky-9"
    assert out == {"digest": "sha256:" + hashlib.sha256(pushed).hexdigest()}


def test_push_gives_no_digest_to_sign_when_the_registry_lacks_a_tested_manifest(image, tmp_path):
    _, digests, repo = _push_setup(tmp_path, "sid")
    result, out, _ = _run_push(image, tmp_path, "sid", repo, _pushed_index(digests, ARCHES[:1]))
    assert result.returncode != 0
    assert "lacks the tested manifest" in result.stderr
    assert "digest" not in out


def test_push_refuses_tags_outside_the_repository(image, tmp_path):
    foreign = (("ghcr.io/other/helios:unstable-sid",),) * 2
    _, digests, repo = _push_setup(tmp_path, "sid", foreign)
    result, out, calls = _run_push(image, tmp_path, "sid", repo, _pushed_index(digests, ARCHES))
    assert result.returncode != 0
    assert "is not in ghcr.io/org/helios" in result.stderr
    assert calls == [] and out == {}


def test_sign_step_signs_the_pushed_index_by_digest_not_by_tag(image, tmp_path):
    job = image["jobs"]["push"]
    sign = step_named(job, "Sign")
    assert step_using(job, "sigstore/cosign-installer")
    names = [s.get("name", s.get("uses", "")) for s in steps(job)]
    assert names.index(sign["name"]) > names.index(
        "Push the tested archives as one multi-platform image"
    )
    digest = "sha256:" + "a" * 64
    ctx = {
        "inputs": {"repo": "ghcr.io/org/helios"},
        "steps": {"push": {"outputs": {"digest": digest}}},
    }
    env = {k: str(expr(v, ctx)) for k, v in sign["env"].items()}
    log = tmp_path / "cosign.log"
    result = run_shell(sign["run"], env, tmp_path, {"cosign": f'printf "%s\\n" "$@" >{log}'})
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == ["sign", "--yes", f"ghcr.io/org/helios@{digest}"]


def test_push_job_logs_in_with_the_passed_secrets(image):
    login = step_using(image["jobs"]["push"], "docker/login-action")["with"]
    ctx = {
        "inputs": {"registry": "ghcr.io"},
        "secrets": {"registry-username": "u", "registry-password": "p"},
    }
    assert {k: expr(v, ctx) for k, v in login.items()} == {
        "registry": "ghcr.io",
        "username": "u",
        "password": "p",
    }


def test_push_pushes_both_platforms_of_the_bake_file(image):
    run = step_named(image["jobs"]["push"], "Push the tested archives")["run"]
    loop = re.search(r"for arch in ([\w ]+); do", run)
    assert loop and loop.group(1).split() == ARCHES
    assert f"--platforms {','.join(bake.PLATFORMS)}" in run


# ---------------------------------------------------------------------------------------------
# The plan and checks jobs


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
    return result.returncode, outputs(output)


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
    assert json.loads(out["distros"]) == NAMES
    assert re.match(r"^\d{4}-\d\d-\d\dT", out["created"])


def test_a_tag_that_is_not_the_version_plans_nothing(workflow, tmp_path):
    code, out = run_decide(workflow, tmp_path, "refs/tags/v999.0.0")
    assert code != 0
    assert "HELIOS_CHANNEL" not in out


def test_checks_job_runs_the_ci_script(workflow):
    checks = workflow["jobs"]["checks"]
    assert [s["run"].strip() for s in steps(checks) if "run" in s][-1] == "bash .ci/run"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_build_args_or_per_distro_values_in_the_workflows(path):
    """Everything per distro comes from the bake file; the workflows must not repeat it."""
    text = path.read_text()
    assert not re.search(r"\.args\.|--build-arg|build-args", text)
    arg_names = {"BASE_IMAGE", "DISTRO", "FAMILY", "XORG_VERSION", "WEBRTC", "SNAKEOIL_IMAGE"}
    arg_names |= set(manifest.load().build_args())
    leaked = sorted(name for name in arg_names if re.search(rf"\b{name}\b", text))
    assert not leaked, f"build args repeated in the workflow: {leaked}"
    jobs = yaml.safe_dump({k: v for k, v in load(path)["jobs"].items() if k != "checks"})
    values = {v for d in matrix.load() for v in (d.name, d.image, d.xorg)}
    repeated = sorted(v for v in values if re.search(rf"(?<![\w.-]){re.escape(v)}(?![\w.-])", jobs))
    assert not repeated, f"per-distro values in the jobs: {repeated}"


# ---------------------------------------------------------------------------------------------
# The README's promises about the pipeline

README = ROOT / "README.md"
WEEKDAYS = ["Sundays", "Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays"]


def test_readme_names_the_weekly_run_time(workflow):
    minute, hour, _, _, weekday = workflow["on"]["schedule"][0]["cron"].split()
    when = f"{WEEKDAYS[int(weekday) % 7]} {int(hour):02d}:{int(minute):02d} UTC"
    assert f"({when})" in README.read_text()


def readme_cosign() -> list[str]:
    text = README.read_text()
    block = re.search(r"```shell\n(cosign verify .*?)\n```", text, re.S)
    assert block, "README: the cosign verify command"
    return shlex.split(block.group(1).replace("\\\n", " "))


def _option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def test_readme_cosign_command_checks_githubs_issuer_and_the_signing_workflow():
    words = readme_cosign()
    assert words[:2] == ["cosign", "verify"]
    assert words[2].startswith("ghcr.io/my-org/helios:v")
    assert (
        _option(words, "--certificate-oidc-issuer") == "https://token.actions.githubusercontent.com"
    )
    identity = re.compile(_option(words, "--certificate-identity-regexp"))
    signer = f"https://github.com/my-org/helios/.github/workflows/{SIGNING_JOB[0]}"
    pushing = [f"refs/heads/{b}" for b in channels.PUSH_BRANCHES] + [TAG]
    for ref in pushing:
        assert identity.fullmatch(f"{signer}@{ref}"), ref
    # Nothing else the repository runs can pass for a release signer.
    for other in ["refs/heads/feature/x", "refs/pull/7/merge", "refs/tags/v1.2.3-evil"]:
        assert not identity.fullmatch(f"{signer}@{other}"), other
    assert not identity.fullmatch(
        f"https://github.com/my-org/helios/.github/workflows/build.yml@{TAG}"
    )
    assert not identity.fullmatch(
        f"https://github.com/evil/helios/.github/workflows/image.yml@{TAG}"
    )


def test_readme_shows_how_to_read_the_sbom_and_provenance():
    text = README.read_text()
    image = readme_cosign()[2]
    for field in ("SBOM", "Provenance"):
        assert f"docker buildx imagetools inspect {image} --format '{{{{json .{field}}}}}'" in text
