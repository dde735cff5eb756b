import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from invoke.context import Context
from invoke.exceptions import Exit

from helios import HeliosError, bake, matrix
from helios import sources as source_folder
from helios import tasks as t

NAMES = matrix.names(matrix.load())


class FakeDocker:
    """Records python-on-whales calls (buildx.bake, compose.up/down) with the client kwargs."""

    def __init__(self, calls: list, **kwargs):
        self.kwargs = kwargs
        self.calls = calls
        self.buildx = SimpleNamespace(bake=self._rec("bake"))
        self.compose = SimpleNamespace(up=self._rec("up"), down=self._rec("down"))

    def _rec(self, name):
        def call(**kwargs):
            self.calls.append((name, self.kwargs, kwargs, os.environ.get("HELIOS_IMAGE")))

        return call


@pytest.fixture(autouse=True)
def own_sources_dir(monkeypatch, tmp_path):
    """The tasks' .sources/ (and its lock) per test: a real build in this checkout must not
    make them fail, nor they it."""
    monkeypatch.setattr(source_folder, "SOURCES_DIR", tmp_path / ".sources")


@pytest.fixture
def calls(monkeypatch):
    recorded: list = []
    monkeypatch.setattr(t, "docker_client", lambda **kw: FakeDocker(recorded, **kw))
    monkeypatch.setattr(t, "git_revision", lambda root=None: "abc123")
    monkeypatch.setattr(bake, "is_current", lambda output=None: True)
    monkeypatch.delenv(t.CA_ENV, raising=False)
    return recorded


def test_namespace_has_every_task():
    ns = t.namespace()
    tools = {"build", "test", "bake", "up", "down", "size", "bases", "lint", "format", "sources"}
    tools |= {"release", "bench"}
    assert set(ns.task_names) == {*NAMES, *tools}


def test_every_task_is_documented_in_one_short_line():
    for name, task in t.namespace().tasks.items():
        first = (task.__doc__ or "").strip().splitlines()
        assert first, name
        assert len(first[0]) <= 64, name


def test_the_readme_shows_every_task_with_its_options():
    """README.md's command table names each task and each of its options."""
    readme = (t.ROOT / "README.md").read_text()
    table = [line for line in readme.splitlines() if line.startswith("| `invoke ")]
    for name, item in t.namespace().tasks.items():
        shown = "<distro>" if isinstance(item, t.DistroTask) else name
        rows = [row for row in table if f"`invoke {shown}" in row or f"/ `invoke {shown}" in row]
        assert rows, f"README.md has no row for invoke {name}"
        for argument in item.get_arguments():
            if argument.name in item.positional:
                continue
            flag = "--" + argument.name.replace("_", "-")
            assert any(flag in row for row in rows), f"invoke {name} {flag} not in README.md"


def test_build_calls_bake_with_targets_file_load_and_variables(calls):
    t.build_images(matrix.select(matrix.load(), ["bookworm", "sid"]))
    ((name, client, kwargs, _),) = calls
    assert name == "bake"
    assert client == {}
    assert kwargs == {
        "targets": ["bookworm", "sid"],
        "files": [bake.OUTPUT],
        "load": True,
        "set": {},
        "variables": {
            "HELIOS_CHANNEL": "dev",
            "HELIOS_REVISION": "abc123",
            "HELIOS_PLATFORMS": bake.host_platform(),
        },
    }


@pytest.mark.parametrize(
    ("machine", "platform"), [("x86_64", "linux/amd64"), ("aarch64", "linux/arm64")]
)
def test_a_loaded_build_is_the_host_platform_only(calls, monkeypatch, machine, platform):
    """The bake file builds both platforms; the engine loads one: `invoke build` picks the host."""
    monkeypatch.setattr(bake.host, "machine", lambda: machine)
    t.build_images(matrix.select(matrix.load(), ["sid"]))
    assert calls[0][2]["variables"]["HELIOS_PLATFORMS"] == platform
    t.build_images(matrix.select(matrix.load(), ["sid"]), load=False)
    assert "HELIOS_PLATFORMS" not in calls[1][2]["variables"]  # the bake default: both


def test_an_unsupported_host_builds_nothing(calls, monkeypatch):
    monkeypatch.setattr(bake.host, "machine", lambda: "riscv64")
    with pytest.raises(HeliosError, match="'riscv64' has no Helios image"):
        t.build_images(matrix.select(matrix.load(), ["sid"]))
    assert calls == []


def test_build_with_platform_channel_and_ca(calls, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("cert")
    t.build_images(
        matrix.select(matrix.load(), ["noble"]),
        platform="linux/arm64",
        channel="unstable",
        ca_bundle=str(ca),
    )
    kwargs = calls[0][2]
    assert kwargs["variables"]["HELIOS_PLATFORMS"] == "linux/arm64"
    assert kwargs["variables"]["HELIOS_CHANNEL"] == "unstable"
    assert kwargs["set"] == {"*.secrets": f"id=helios-ca,src={ca.resolve()}"}


def test_ca_bundle_from_environment(calls, tmp_path, monkeypatch):
    ca = tmp_path / "corp.pem"
    ca.write_text("cert")
    monkeypatch.setenv(t.CA_ENV, str(ca))
    t.build_images(matrix.select(matrix.load(), ["sid"]))
    assert calls[0][2]["set"] == {"*.secrets": f"id=helios-ca,src={ca.resolve()}"}


def test_bad_inputs_change_nothing(calls, tmp_path):
    with pytest.raises(HeliosError, match="is not a file"):
        t.build_images(matrix.load()[:1], ca_bundle=str(tmp_path / "missing.pem"))
    with pytest.raises(HeliosError, match="unknown channel"):
        t.build_images(matrix.load()[:1], channel="nightly")
    with pytest.raises(HeliosError, match="cannot be loaded"):
        t.build_images(matrix.load()[:1], platform="linux/amd64,linux/arm64")
    assert calls == []


def test_build_with_sources_folder_stages_and_overrides(calls, tmp_path, monkeypatch):
    import helios.sources as source_folder

    events: list[tuple[str, Path]] = []
    verified: list[Path] = []

    @contextmanager
    def staged(folder):
        events.append(("staged", folder))
        yield
        events.append(("unstaged", folder))

    monkeypatch.setattr(
        source_folder,
        "verify_folder",
        lambda folder, arches, needed=None: verified.append((folder, arches)),
    )
    monkeypatch.setattr(source_folder, "staged", staged)
    monkeypatch.setattr(source_folder, "build_overrides", lambda folder: {"*.args.OFFLINE": "true"})
    t.build_images(matrix.select(matrix.load(), ["bookworm"]), sources=str(tmp_path))
    assert verified == [(tmp_path.resolve(), t.build_arches())]
    assert events == [("staged", tmp_path.resolve()), ("unstaged", tmp_path.resolve())]
    assert calls[0][2]["set"] == {"*.args.OFFLINE": "true"}


def test_staging_is_undone_even_when_the_build_fails(tmp_path, monkeypatch):
    """--sources must not poison a later plain build (issue 12): .sources/ is restored."""
    import helios.sources as source_folder

    context = tmp_path / "ctx"
    context.mkdir()
    (context / "kept-1.0.bin").write_bytes(b"from invoke sources")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "kept-1.0.bin").write_bytes(b"repackaged by an organisation")
    (folder / "only-here.bin").write_bytes(b"x")
    monkeypatch.setattr(source_folder, "SOURCES_DIR", context)
    monkeypatch.setattr(source_folder, "verify_folder", lambda folder, arches, needed=None: [])
    monkeypatch.setattr(source_folder, "build_overrides", lambda folder: {})
    monkeypatch.setattr(bake, "is_current", lambda output=None: True)
    monkeypatch.setattr(t, "git_revision", lambda root=None: "")
    seen: list[bytes] = []

    def failing_bake(**kwargs):
        seen.append((context / "kept-1.0.bin").read_bytes())
        raise RuntimeError("bake failed")

    monkeypatch.setattr(
        t, "docker_client", lambda **kw: SimpleNamespace(buildx=SimpleNamespace(bake=failing_bake))
    )
    with pytest.raises(RuntimeError):
        t.build_images(matrix.load()[:1], sources=str(folder))
    assert seen == [b"repackaged by an organisation"]
    assert sorted(p.name for p in context.iterdir()) == ["kept-1.0.bin"]
    assert (context / "kept-1.0.bin").read_bytes() == b"from invoke sources"


def test_build_with_a_bad_sources_folder_builds_nothing(calls, tmp_path):
    with pytest.raises(HeliosError, match="not a directory"):
        t.build_images(matrix.load()[:1], sources=str(tmp_path / "missing"))
    assert calls == []


def test_distro_task_builds_then_composes_up_with_the_built_tag(calls):
    task = t.namespace().tasks["noble"]
    task(Context())
    assert [c[0] for c in calls] == ["bake", "up"]
    assert calls[0][2]["targets"] == ["noble"]
    _, client, kwargs, image = calls[1]
    assert client == {"compose_files": [t.COMPOSE_FILE]}
    assert kwargs == {"detach": True, "wait": False, "force_recreate": True}
    assert image == "helios:noble"
    assert "HELIOS_IMAGE" not in os.environ


def test_up_with_gpu_adds_the_gpu_compose_file(calls):
    t.up(Context(), "jammy", gpu=True)
    _, client, _, image = calls[0]
    assert client == {"compose_files": [t.COMPOSE_FILE, t.COMPOSE_GPU_FILE]}
    assert image == "helios:jammy"


def test_up_rejects_unknown_distro_listing_valid(calls):
    with pytest.raises(Exit) as err:
        t.up(Context(), "buster")
    assert "unknown distro 'buster'" in str(err.value.message)
    assert ", ".join(NAMES) in str(err.value.message)
    assert calls == []


def test_down(calls):
    t.down(Context())
    assert calls[0][0] == "down"
    assert calls[0][2] == {"remove_orphans": True}


def test_stale_bake_file_is_rerendered_before_building(calls, monkeypatch):
    written: list[bool] = []
    monkeypatch.setattr(bake, "is_current", lambda output=None: False)
    monkeypatch.setattr(bake, "write", lambda output=None: written.append(True))
    t.build_images(matrix.load()[:1])
    assert written == [True]
    assert calls[0][0] == "bake"


def test_lint_and_format_run_the_shared_commands(monkeypatch, tmp_path):
    ran = tmp_path / "ran"
    ok = [sys.executable, "-c", f"open({str(ran)!r}, 'a').write('x')"]
    monkeypatch.setattr(t.lint, "lint_commands", lambda: [ok, ["false"], ok])
    monkeypatch.setattr(t.lint, "format_commands", lambda: [ok])
    with pytest.raises(Exit, match=r"^error: failed: false$"):
        t.lint_task(Context())
    assert ran.read_text() == "xx"
    t.format_task(Context())
    assert ran.read_text() == "xxx"


TREE_FILES = (
    "tasks.py",
    "invoke.yaml",
    "distros.toml",
    "sources.toml",
    "version.toml",
    "budget.toml",
    "docker-bake.hcl.j2",
    "docker-bake.hcl",
    "Dockerfile.j2",
    "Dockerfile",
    "compose.yml",
    "compose.gpu.yml",
)
# Stands in for docker on PATH: logs each call (and HELIOS_CHANNEL), answers `image inspect`
# with "No such image", succeeds for `buildx bake` unless FAKE_BAKE_FAILS is set (python-on-whales
# then reads the bake definition with --print: `{}`, not logged).
FAKE_DOCKER = """#!/bin/sh
case " $* " in *" --print "*) echo '{}' && exit 0 ;; esac
printf '%s | HELIOS_CHANNEL=%s\\n' "$*" "${HELIOS_CHANNEL:-}" >>"$FAKE_DOCKER_LOG"
case "$1 $2" in
"image inspect") echo "Error: No such image: $3" >&2 && exit 1 ;;
"buildx bake") [ -z "${FAKE_BAKE_FAILS:-}" ] && exit 0 ;;
esac
echo "ERROR: fake docker: $1 $2 failed" >&2
exit 1
"""


class Cli:
    """The real `invoke` program, run in a copy of this tree with a fake docker on PATH."""

    def __init__(self, tmp_path: Path):
        import shutil

        self.root = tmp_path / "tree"
        shutil.copytree(
            t.ROOT / "helios", self.root / "helios", ignore=shutil.ignore_patterns("__pycache__")
        )
        for name in TREE_FILES:
            shutil.copy(t.ROOT / name, self.root / name)
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        docker = self.bin / "docker"
        docker.write_text(FAKE_DOCKER)
        docker.chmod(0o755)
        self.log = tmp_path / "docker.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HELIOS_")},
            "PYTHONPATH": str(self.root),
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "FAKE_DOCKER_LOG": str(self.log),
        }

    def run(self, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "invoke", *argv],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
            env={**self.env, **env},
            timeout=120,
        )

    def fails_with(self, line: str, *argv: str, **env: str) -> None:
        """`invoke argv` exits 1 printing exactly `line` (one line, no traceback)."""
        result = self.run(*argv, **env)
        assert (result.returncode, result.stderr.strip()) == (1, line), (argv, result.stderr)

    def docker_calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def cli(tmp_path) -> Cli:
    return Cli(tmp_path)


VALID = "valid: " + ", ".join(NAMES)


def test_cli_lists_every_task_and_shows_task_help(cli):
    listed = cli.run("--list")
    assert listed.returncode == 0 and listed.stderr == ""
    names = {line.split()[0] for line in listed.stdout.splitlines()[2:] if line.strip()}
    assert names == set(t.namespace().task_names)
    helped = cli.run("--help", "test")
    assert helped.returncode == 0
    assert "--sources=STRING" in helped.stdout and "--ca-bundle=STRING" in helped.stdout
    assert cli.docker_calls() == []


def test_cli_build_passes_its_distros_to_bake_with_options_before_or_after(cli):
    assert cli.run("build", "--channel", "unstable", "bookworm,sid").returncode == 0
    assert cli.run("build", "all", "--channel", "testing").returncode == 0
    first, every = cli.docker_calls()
    assert first.startswith("buildx bake --load --file ")
    assert first.endswith(" bookworm sid | HELIOS_CHANNEL=unstable")
    assert every.endswith(f" {' '.join(NAMES)} | HELIOS_CHANNEL=testing")


@pytest.mark.parametrize("task", ["build", "test", "bench", "up", "size"])
def test_cli_an_unknown_distro_lists_the_valid_ones(cli, task):
    cli.fails_with(f"error: unknown distro 'buster'; {VALID}", task, "bookworm,buster")
    assert cli.docker_calls() == []


@pytest.mark.parametrize(("task", "argument"), [("build", "sid"), ("test", "trixie")])
def test_cli_a_distro_task_after_the_distros_is_refused_before_anything_runs(cli, task, argument):
    cli.fails_with(
        f"error: {argument} is a task of its own (it builds and starts {argument}), not another "
        f"distro for {task}: name several as one argument, invoke {task} bookworm,{argument}",
        task,
        "bookworm",
        argument,
    )
    assert cli.docker_calls() == []


def test_cli_other_bad_input_is_one_line_and_touches_no_engine(cli, tmp_path):
    one = "error: name exactly one distro, e.g. invoke {} bookworm"
    cli.fails_with(one.format("up"), "up", "bookworm,sid")
    cli.fails_with(one.format("size"), "size", "all")
    cli.fails_with("error: --top must be a whole number, got 'x1'", "size", "sid", "--top", "x1")
    cli.fails_with(
        "error: unknown channel 'nightly'; valid: dev, release, unstable, testing",
        "build",
        "sid",
        "--channel",
        "nightly",
    )
    missing = tmp_path / "missing.pem"
    cli.fails_with(
        f"error: CA bundle {missing} (--ca-bundle / HELIOS_CA_BUNDLE) is not a file",
        "test",
        "sid",
        "--ca-bundle",
        str(missing),
    )
    cli.fails_with(
        f"error: sources folder {missing}: not a directory", "build", "sid", "--sources", missing
    )
    cli.fails_with(
        "error: --help stands where the distros go: invoke test <distros> [options]; "
        f"help: invoke --help test; distros: {', '.join(NAMES)}",
        "test",
        "--help",
    )
    cli.fails_with("'build' did not receive required positional arguments: 'distros'", "build")
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    cli.fails_with(f"error: {taken}: File exists", "sources", "--dest", str(taken))
    assert cli.docker_calls() == []


def test_cli_a_failed_docker_command_ends_in_one_line_naming_it(cli):
    """bake streams its own output (here the fake's ERROR line); then one line of ours."""
    result = cli.run("noble", FAKE_BAKE_FAILS="1")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "ERROR: fake docker: buildx bake failed",
        "error: docker exited 1: see its output above; rerun: "
        f"{cli.bin / 'docker'} buildx bake --load --file {cli.root / 'docker-bake.hcl'} noble",
    ]


def test_cli_test_builds_a_missing_image_under_helios_repo_first(cli):
    """`invoke test sid` without the image: inspects $HELIOS_REPO:sid, then builds sid."""
    result = cli.run("test", "sid", HELIOS_REPO="helios-x", FAKE_BAKE_FAILS="1")
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["building helios-x:sid (not in the engine)"]
    assert result.stderr.strip().splitlines()[-1].startswith("error: docker exited 1: see its")
    inspect, bake_call = cli.docker_calls()
    assert inspect.startswith("image inspect helios-x:sid")
    assert bake_call.startswith("buildx bake ") and bake_call.endswith(" sid | HELIOS_CHANNEL=dev")


def test_cli_without_docker_is_one_line(cli, tmp_path):
    (cli.bin / "docker").unlink()
    cli.fails_with(t.NO_DOCKER, "up", "sid", PATH=str(cli.bin))


def test_distro_names_that_are_task_names_are_refused(monkeypatch):
    real = matrix.load()
    clashing = real[0].model_copy(update={"name": "test"})
    monkeypatch.setattr(t.matrix, "load", lambda: (clashing, *real[1:]))
    with pytest.raises(Exit) as err:
        t.namespace()
    assert err.value.code == 1
    assert str(err.value.message).startswith(
        "error: distros.toml: distro name(s) test are taken by tasks "
        "(all, bake, bases, bench, build"
    )


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ('family = "rhel"', "distro[7] 'rocky-9'.family: Input should be"),
        ("[[distro]]", "invalid TOML"),
    ],
)
def test_a_broken_distros_toml_is_one_line_for_every_invoke_call(cli, broken, message):
    matrix_file = cli.root / "distros.toml"
    bad = 'family = "hurd"' if broken.startswith("family") else "[[distro]"
    matrix_file.write_text(matrix_file.read_text().replace(broken, bad, 1))
    for argv in (["--list"], ["test", "sid"]):
        result = cli.run(*argv)
        assert result.returncode == 1, (argv, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, result.stderr)
        assert message in lines[0] and "Traceback" not in result.stderr
    assert cli.docker_calls() == []


def test_build_task_builds_a_comma_list_or_all(calls):
    t.build(Context(), "bookworm,sid")
    t.build(Context(), "all")
    assert [c[2]["targets"] for c in calls] == [["bookworm", "sid"], NAMES]


def test_the_built_tag_follows_helios_repo(calls, monkeypatch):
    monkeypatch.setenv("HELIOS_REPO", "helios-x")
    t.up(Context(), "jammy")
    assert calls[0][3] == "helios-x:jammy"


def test_kasmbins_flag_enables_the_optional_source(calls):
    t.build_images(matrix.select(matrix.load(), ["sid"]), kasmbins=True)
    assert calls[0][2]["set"] == {"*.args.KASMBINS": "true"}
    t.build_images(matrix.select(matrix.load(), ["sid"]))
    assert "*.args.KASMBINS" not in calls[1][2]["set"]


def test_a_failed_docker_command_is_one_line_with_the_command_to_rerun(monkeypatch):
    """`invoke noble` where no registry answers: no python-on-whales traceback (issue 12)."""
    from python_on_whales.exceptions import DockerException

    stderr = (
        b"#1 resolve\nERROR: failed to solve: ubuntu:noble: failed to resolve source metadata\n"
    )
    failure = DockerException(["docker", "buildx", "bake", "noble"], 1, None, stderr)

    def bake_fails(**kwargs):
        raise failure

    monkeypatch.setattr(bake, "is_current", lambda output=None: True)
    monkeypatch.setattr(t, "git_revision", lambda root=None: "")
    monkeypatch.setattr(
        t, "docker_client", lambda **kw: SimpleNamespace(buildx=SimpleNamespace(bake=bake_fails))
    )
    with pytest.raises(Exit) as err:
        t.namespace().tasks["noble"](Context())
    message = str(err.value.message)
    assert err.value.code == 1
    assert message == (
        "error: docker exited 1: ERROR: failed to solve: ubuntu:noble: failed to resolve source "
        "metadata; rerun: docker buildx bake noble"
    )
    assert "\n" not in message and "Traceback" not in message
    uncaptured = DockerException(["docker", "compose", "up"], 2)
    assert t.docker_failure(uncaptured) == (
        "error: docker exited 2: see its output above; rerun: docker compose up"
    )


def test_a_sources_folder_needs_only_the_files_of_the_distros_built(calls, tmp_path):
    """bookworm needs no RHEL Xorg tarball and no jammy Node binary (issue 12)."""
    from helios import manifest

    pinned = manifest.load()
    skip = {"xorg-server-1.20.14", "node", "npm"}
    for source, artifact in pinned.artifacts(("amd64",)):
        if source.name not in skip and not source.optional:
            (tmp_path / artifact.file).write_bytes(b"placeholder")
    with pytest.raises(HeliosError) as err:
        t.build_images(matrix.select(matrix.load(), ["bookworm"]), sources=str(tmp_path))
    problems = str(err.value)
    assert "sha256 mismatch" in problems  # the placeholders are checked ...
    assert "missing" not in problems  # ... but nothing bookworm does not use is asked for
    with pytest.raises(HeliosError) as err:
        t.build_images(matrix.select(matrix.load(), ["jammy", "rocky-9"]), sources=str(tmp_path))
    missing = str(err.value)
    for name in skip:
        assert f"missing (source '{name}')" in missing
    assert calls == []


def test_build_arches_are_the_targets_and_the_build_machines(monkeypatch):
    """An arm64 build on an amd64 machine checks the folder for both (build-platform stages)."""
    monkeypatch.delenv(t.PLATFORMS_ENV, raising=False)
    monkeypatch.setattr(t.host, "machine", lambda: "x86_64")
    assert t.build_arches() == ("amd64",)
    assert t.build_arches("linux/arm64") == ("amd64", "arm64")
    monkeypatch.setattr(t.host, "machine", lambda: "aarch64")
    assert t.build_arches("linux/arm64") == ("arm64",)
    monkeypatch.setenv(t.PLATFORMS_ENV, "linux/amd64,linux/arm64")
    assert t.build_arches() == ("amd64", "arm64")
    with pytest.raises(
        HeliosError, match=r"platform linux/s390x .*builds linux/amd64, linux/arm64"
    ):
        t.build_arches("linux/s390x")


def test_an_arm64_build_checks_the_folder_for_arm64_files(calls, tmp_path, monkeypatch):
    """The x86_64-only folder lacks the aarch64 s6-overlay: named before anything is built."""
    from helios import manifest

    monkeypatch.setattr(t.host, "machine", lambda: "x86_64")
    for _source, artifact in manifest.load().artifacts(("amd64",)):
        (tmp_path / artifact.file).write_bytes(b"placeholder")
    with pytest.raises(HeliosError) as err:
        t.build_images(
            matrix.select(matrix.load(), ["bookworm"]),
            sources=str(tmp_path),
            platform="linux/arm64",
        )
    assert "s6-overlay-aarch64-3.2.1.0.tar.xz: missing (source 's6-overlay-arch')" in str(err.value)
    assert calls == []


def test_base_image_replaces_one_distros_target_base(calls):
    t.build_images(
        matrix.select(matrix.load(), ["bookworm"]),
        platform="linux/arm64",
        base_image="helios-arm-base:bookworm",
    )
    settings = calls[0][2]["set"]
    assert settings["bookworm.args.BASE_IMAGE"] == "helios-arm-base:bookworm"
    assert settings["bookworm.labels.org.opencontainers.image.base.name"] == (
        "helios-arm-base:bookworm"
    )
    assert not any("BUILDPLATFORM_IMAGE" in key for key in settings)  # stays the distro's


def test_base_image_needs_one_distro_and_a_plain_name(calls):
    with pytest.raises(HeliosError, match="name exactly one distro"):
        t.build_images(matrix.select(matrix.load(), ["bookworm", "sid"]), base_image="x:y")
    with pytest.raises(HeliosError, match="is not an image name"):
        t.build_images(matrix.select(matrix.load(), ["bookworm"]), base_image="x y,z=1")
    assert calls == []
