"""helios.baseimages without Docker: a fake client records what the engine would be asked."""

import subprocess
from pathlib import Path

import pytest
from python_on_whales.exceptions import DockerException

from helios import HeliosError, baseimages, matrix


class FakeImages:
    def __init__(self, present: set[str], pullable: set[str]) -> None:
        self.present = set(present)
        self.pullable = pullable
        self.pulls: list[str] = []
        self.imports: list[tuple[Path, str, list[str]]] = []

    def exists(self, image: str) -> bool:
        return image in self.present

    def pull(self, image: str, quiet: bool = False) -> None:
        self.pulls.append(image)
        if image not in self.pullable:
            raise DockerException(["docker", "pull", image], 1, b"", b"no registry")
        self.present.add(image)

    def import_(self, source: Path, tag: str, changes: list[str]) -> None:
        assert Path(source).is_file()
        self.imports.append((Path(source), tag, changes))
        self.present.add(tag)


class FakeClient:
    def __init__(self, present: set[str] = frozenset(), pullable: set[str] = frozenset()) -> None:
        self.image = FakeImages(set(present), set(pullable))


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """Cache in tmp_path, a fresh pull memory, and a fake mmdebstrap that writes a tarball."""
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], check: bool) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        Path(cmd[-2]).write_bytes(b"rootfs")
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(baseimages, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(baseimages, "_UNPULLABLE", set())
    monkeypatch.setattr(baseimages.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(baseimages.subprocess, "run", fake_run)
    return calls


def test_sid_gets_the_valid_until_option_and_bookworm_does_not(tmp_path: Path) -> None:
    sid = baseimages.mmdebstrap_command("sid", tmp_path / "x.tar", "http://m/debian")
    assert sid == [
        "mmdebstrap",
        "--variant=minbase",
        '--aptopt=Acquire::Check-Valid-Until "false"',
        "sid",
        str(tmp_path / "x.tar"),
        "http://m/debian",
    ]
    bookworm = baseimages.mmdebstrap_command("bookworm", tmp_path / "x.tar")
    assert not any("Valid-Until" in arg for arg in bookworm)
    assert bookworm[-3] == "bookworm"


def test_local_image_is_used_without_pull_or_build(isolated: list[list[str]]) -> None:
    client = FakeClient(present={"debian:sid"})
    assert baseimages.ensure("debian:sid", client) == "debian:sid"
    assert client.image.pulls == [] and client.image.imports == [] and isolated == []


def test_pullable_image_is_pulled_not_built(isolated: list[list[str]]) -> None:
    client = FakeClient(pullable={"ubuntu:noble"})
    assert baseimages.ensure("ubuntu:noble", client) == "ubuntu:noble"
    assert client.image.pulls == ["ubuntu:noble"]
    assert client.image.imports == [] and isolated == []


def test_unpullable_debian_is_built_once_then_reused(isolated: list[list[str]]) -> None:
    client = FakeClient()
    baseimages.ensure("debian:bookworm", client)
    tarball = baseimages.CACHE_DIR / "debian-bookworm.tar"
    assert client.image.imports == [(tarball, "debian:bookworm", ['CMD ["bash"]'])]
    assert len(isolated) == 1 and isolated[0][0] == "mmdebstrap"

    fresh_engine = FakeClient()
    baseimages.ensure("debian:bookworm", fresh_engine)
    assert len(isolated) == 1  # the cached tarball was imported, mmdebstrap not run again
    assert fresh_engine.image.imports[0][1] == "debian:bookworm"
    assert fresh_engine.image.pulls == []  # the failed pull is remembered in this process


def test_unpullable_non_debian_image_is_an_error(isolated: list[list[str]]) -> None:
    client = FakeClient()
    with pytest.raises(HeliosError, match=r"cannot pull rockylinux:9 .*debian:<suite>"):
        baseimages.ensure("rockylinux:9", client)
    assert client.image.imports == [] and isolated == []


def test_missing_mmdebstrap_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baseimages.shutil, "which", lambda name: None)
    with pytest.raises(HeliosError, match="apt-get install mmdebstrap"):
        baseimages.ensure("debian:sid", FakeClient())


def test_failed_mmdebstrap_leaves_no_tarball(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(cmd: list[str], check: bool) -> None:
        Path(cmd[-2]).write_bytes(b"half")
        raise subprocess.CalledProcessError(25, cmd)

    monkeypatch.setattr(baseimages.subprocess, "run", failing)
    client = FakeClient()
    with pytest.raises(HeliosError, match=r"mmdebstrap failed for debian:sid \(exit 25\)"):
        baseimages.ensure("debian:sid", client)
    assert sorted(p.name for p in baseimages.CACHE_DIR.glob("*.tar")) == []
    assert client.image.imports == []


def test_debian_suite_only_for_plain_debian_tags() -> None:
    assert baseimages.debian_suite("debian:sid") == "sid"
    assert baseimages.debian_suite("debian") is None
    assert baseimages.debian_suite("kalilinux/kali-rolling") is None
    assert baseimages.debian_suite("debian:bookworm@sha256:abc") is None


def test_available_bases_without_registry_are_the_debian_ones() -> None:
    client = FakeClient()
    assert baseimages.available_bases(client) == ["debian:bookworm", "debian:trixie", "debian:sid"]


def test_available_bases_with_registry_cover_the_whole_matrix() -> None:
    everything = {d.image for d in matrix.load()}
    client = FakeClient(pullable=everything)
    assert baseimages.available_bases(client) == baseimages.matrix_bases()
    assert len(baseimages.matrix_bases()) == 8
    assert client.image.imports == []
