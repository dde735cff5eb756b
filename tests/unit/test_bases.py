"""helios.bases (invoke bases) without Docker or network: a fake probe and a fake engine."""

import subprocess
from pathlib import Path

import pytest

from helios import HeliosError, bases

MIRROR = "http://m/debian"
SECURITY = "http://m/debian-security"
# What deb.debian.org served on 2026-12-01: -updates and -security for bookworm and trixie only.
SERVED = {
    f"{MIRROR}/dists/{suite}/Release"
    for suite in ("bookworm", "bookworm-updates", "trixie", "trixie-updates", "sid")
} | {f"{SECURITY}/dists/{s}-security/Release" for s in ("bookworm", "trixie")}


def probe(url: str) -> bool:
    return url in SERVED


def test_stable_releases_get_updates_and_security_sid_only_itself():
    assert bases.suite_lines("trixie", MIRROR, SECURITY, probe) == [
        f"deb {MIRROR} trixie main",
        f"deb {MIRROR} trixie-updates main",
        f"deb {SECURITY} trixie-security main",
    ]
    assert bases.suite_lines("sid", MIRROR + "/", SECURITY, probe) == [f"deb {MIRROR} sid main"]


def test_a_suite_the_mirror_does_not_serve_is_one_line_error():
    with pytest.raises(HeliosError, match="serves no suite 'buster'"):
        bases.suite_lines("buster", MIRROR, SECURITY, probe)


def test_command_keeps_every_line_and_the_valid_until_option_for_trixie_and_sid():
    lines = ["deb a trixie main", "deb b trixie-security main"]
    cmd = bases.mmdebstrap_command("trixie", Path("/t/x.tar"), lines)
    assert cmd == [
        "mmdebstrap",
        "--variant=minbase",
        '--aptopt=Acquire::Check-Valid-Until "false"',
        "trixie",
        "/t/x.tar",
        *lines,
    ]
    assert "--aptopt" not in " ".join(bases.mmdebstrap_command("bookworm", Path("x"), lines))


def test_debian_bases_of_the_matrix_and_unknown_suites():
    assert bases.debian_bases() == ["debian:bookworm", "debian:trixie", "debian:sid"]
    assert bases.debian_bases(["sid"]) == ["debian:sid"]
    with pytest.raises(HeliosError, match="unknown Debian base buster; the matrix's: bookworm"):
        bases.debian_bases(["buster"])


class FakeImages:
    def __init__(self) -> None:
        self.imports: list[tuple[str, list[str]]] = []

    def import_(self, source: Path, tag: str, changes: list[str]) -> None:
        assert Path(source).read_bytes() == b"rootfs"
        self.imports.append((tag, changes))


class FakeClient:
    def __init__(self) -> None:
        self.image = FakeImages()


def test_make_runs_mmdebstrap_with_the_served_suites_and_imports(monkeypatch):
    calls: list[list[str]] = []

    def fake_run(cmd, check):
        calls.append(cmd)
        next(Path(a) for a in cmd if a.endswith(".tar")).write_bytes(b"rootfs")
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(bases.shutil, "which", lambda name: "/usr/bin/mmdebstrap")
    monkeypatch.setattr(bases.subprocess, "run", fake_run)
    client = FakeClient()
    lines = bases.make("debian:bookworm", client, probe=lambda url: True)
    assert [line.split()[2] for line in lines] == [
        "bookworm",
        "bookworm-updates",
        "bookworm-security",
    ]
    assert calls[0][-3:] == lines
    assert client.image.imports == [("debian:bookworm", ['CMD ["bash"]'])]


def test_failed_mmdebstrap_names_the_command_to_rerun(monkeypatch):
    def failing(cmd, check):
        raise subprocess.CalledProcessError(25, cmd)

    monkeypatch.setattr(bases.shutil, "which", lambda name: "/usr/bin/mmdebstrap")
    monkeypatch.setattr(bases.subprocess, "run", failing)
    with pytest.raises(HeliosError, match=r"exit 25\); rerun: mmdebstrap --variant=minbase"):
        bases.make("debian:sid", FakeClient(), probe=lambda url: True)
