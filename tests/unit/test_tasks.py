import os
import sys
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from invoke.context import Context
from invoke.exceptions import Exit

from helios import HeliosError, bake, matrix
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
    tools = {"build", "bake", "up", "down", "size", "bases", "lint", "format", "sources", "release"}
    assert set(ns.task_names) == {*NAMES, *tools}


def test_every_task_is_documented_in_one_short_line():
    for name, task in t.namespace().tasks.items():
        first = (task.__doc__ or "").strip().splitlines()
        assert first, name
        assert len(first[0]) <= 64, name


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
        "variables": {"HELIOS_CHANNEL": "dev", "HELIOS_REVISION": "abc123"},
    }


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


@pytest.mark.parametrize(
    ("argv", "claimed"),
    [
        (["invoke", "build"], []),
        (["invoke", "build", "bookworm", "sid"], ["bookworm", "sid"]),
        (["invoke", "build", "--sources", "sid", "bookworm"], ["bookworm"]),
        (["invoke", "build", "--sources=/x", "-c", "ca.pem", "rocky-9"], ["rocky-9"]),
        (["invoke", "build", "noble", "up", "noble"], ["noble"]),
        (["invoke", "lint"], []),
    ],
)
def test_claimed_distros(argv, claimed):
    assert t.claimed_distros(argv, "build", t.task_names()) == claimed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["invoke", "build", "buster"], "unknown distro 'buster'; valid: " + ", ".join(NAMES)),
        (["invoke", "build", "sid", "--sources", "x"], "put options before the distro names"),
        (["invoke", "buster"], "unknown task or distro 'buster'; distros: " + ", ".join(NAMES)),
    ],
)
def test_namespace_rejects_bad_command_lines(argv, message):
    with pytest.raises(Exit) as err:
        t.namespace(argv)
    assert err.value.code == 1
    assert message in str(err.value.message)


def test_build_task_builds_claimed_names_and_stops_invoke(calls, monkeypatch):
    monkeypatch.setattr("sys.argv", ["invoke", "build", "bookworm", "sid"])
    with pytest.raises(Exit) as err:
        t.build(Context())
    assert err.value.code == 0
    assert calls[0][2]["targets"] == ["bookworm", "sid"]


def test_build_task_without_names_builds_all(calls, monkeypatch):
    monkeypatch.setattr("sys.argv", ["invoke", "build"])
    t.build(Context())
    assert calls[0][2]["targets"] == NAMES


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


def _tree_copy(tmp_path: Path) -> Path:
    """This tree's tasks.py, helios package and data files in a folder of their own."""
    import shutil

    root = tmp_path / "tree"
    shutil.copytree(
        t.ROOT / "helios", root / "helios", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("tasks.py", "distros.toml", "sources.toml", "version.toml", "budget.toml"):
        shutil.copy(t.ROOT / name, root / name)
    return root


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ('family = "rhel"', "distro[7] 'rocky-9'.family: Input should be"),
        ("[[distro]]", "invalid TOML"),
    ],
)
def test_a_broken_distros_toml_is_one_line_for_every_invoke_call(tmp_path, broken, message):
    import subprocess

    root = _tree_copy(tmp_path)
    matrix_file = root / "distros.toml"
    bad = 'family = "hurd"' if broken.startswith("family") else "[[distro]"
    matrix_file.write_text(matrix_file.read_text().replace(broken, bad, 1))
    for argv in (["--list"], ["build", "bookworm"], ["lint"]):
        result = subprocess.run(
            [sys.executable, "-m", "invoke", *argv],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        assert result.returncode == 1, (argv, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, result.stderr)
        assert message in lines[0] and "Traceback" not in result.stderr


def test_kasmbins_flag_enables_the_optional_source(calls):
    t.build_images(matrix.select(matrix.load(), ["sid"]), kasmbins=True)
    assert calls[0][2]["set"] == {"*.args.KASMBINS": "true"}
    t.build_images(matrix.select(matrix.load(), ["sid"]))
    assert "*.args.KASMBINS" not in calls[1][2]["set"]


def test_build_value_options_come_from_the_task_itself():
    flags = t.value_options(t.build)
    assert {"--sources", "-s", "--ca-bundle", "-c", "--platform", "-p", "--channel"} <= flags
    assert "--kasmbins" not in flags and "-k" not in flags  # a switch takes no value
    argv = ["invoke", "build", "-k", "--channel", "dev", "sid", "bookworm"]
    assert t.claimed_distros(argv, "build", t.task_names()) == ["sid", "bookworm"]


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
