"""common/build/ffmpeg-headers.sh and ffmpeg-sonames.sh in a real Debian container.

EL9 has no ffmpeg -devel in the repositories Helios uses, so its KasmVNC build takes the headers
of the pinned FFmpeg release (sources.toml `ffmpeg`, needed_by rhel) and nothing else. EL9 bases
are not reachable here; a bookworm container without ffmpeg's -dev packages stands in for it: the
same script, the same tarball, the same pkg-config lookups kasm.sh makes. The tarball comes from
Debian's mirror (Debian ships FFmpeg's signed release tarball as its orig tarball), and must be
byte-identical to the pin.
"""

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from python_on_whales import Container, DockerClient
from python_on_whales.exceptions import DockerException

from helios import ROOT, baseimages, manifest, sources

PIN = manifest.load().sources["ffmpeg"]
ARTIFACT = PIN.artifacts[""]
ORIG = f"pool/main/f/ffmpeg/ffmpeg_{PIN.version}.orig.tar.xz"
CACHE = Path.home() / ".cache" / "helios"
# FFmpeg 5.1's major versions: the sonames an EL9 user's ffmpeg libraries must have.
SONAMES_5_1 = ["libavformat.so.59", "libavutil.so.57", "libswscale.so.6", "libavcodec.so.59"]


@pytest.fixture(scope="module")
def tarball() -> Path:
    """The pinned FFmpeg tarball, fetched once from Debian's mirror and checked against the pin."""
    target = CACHE / ARTIFACT.file
    if not target.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        url = f"{baseimages.DEBIAN_MIRROR.rstrip('/')}/{ORIG}"
        with sources.session() as http, http.get(url, timeout=120) as response:
            if response.status_code == 404:
                pytest.skip(f"{url}: 404 (the mirror no longer carries FFmpeg {PIN.version})")
            response.raise_for_status()
            part = target.with_suffix(".part")
            part.write_bytes(response.content)
            part.rename(target)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == ARTIFACT.sha256
    return target


@pytest.fixture(scope="module")
def box(docker: DockerClient, tarball: Path) -> Iterator[Container]:
    """bookworm with a C toolchain and pkg-config but no ffmpeg -dev, the tarball in /src/ffmpeg."""
    image = baseimages.ensure("debian:bookworm", docker)
    container = docker.run(
        image,
        ["sleep", "infinity"],
        detach=True,
        name=f"helios-test-ffmpeg-{uuid.uuid4().hex[:8]}",
        volumes=[(str(ROOT), "/repo", "ro"), (str(tarball.parent), "/cache", "ro")],
    )
    try:
        sh(
            docker,
            container,
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
            f"--no-install-recommends gcc libc6-dev make pkgconf xz-utils binutils >/dev/null && "
            f"mkdir -p /src/ffmpeg && cp /cache/{ARTIFACT.file} /src/ffmpeg/",
        )
        yield container
    finally:
        container.remove(force=True)


def sh(docker: DockerClient, container: Container, script: str, env: dict | None = None) -> str:
    return str(docker.container.execute(container, ["bash", "-c", script], envs=env or {}))


def run(docker: DockerClient, container: Container, script: str, env: dict) -> tuple[int, str]:
    try:
        return 0, sh(docker, container, f"{script} 2>&1", env)
    except DockerException as exc:
        return exc.return_code, (exc.stdout or "") + (exc.stderr or "")


@pytest.fixture(scope="module")
def installed(docker: DockerClient, box: Container) -> tuple[int, str]:
    """One run of ffmpeg-headers.sh with FFMPEG_NEEDED=true in the box: (exit status, output)."""
    return run(docker, box, "/repo/common/build/ffmpeg-headers.sh", {"FFMPEG_NEEDED": "true"})


def test_pinned_headers_install_without_any_library(
    docker: DockerClient, box: Container, installed: tuple[int, str]
) -> None:
    rc, out = installed
    assert rc == 0, out
    assert sh(docker, box, "pkg-config --modversion libavcodec").strip().startswith("59.")
    assert sh(docker, box, "pkg-config --cflags libavformat").strip() == "-I/usr/local/include"
    assert sh(docker, box, "test -f /usr/local/include/libavcodec/avcodec.h && echo y").strip()
    libs = sh(docker, box, "find /usr/local -name 'libav*.so*' -o -name 'lib*.a' | sort").split()
    assert libs == [], "headers only: no library may be built or installed"
    assert "No such file" in sh(docker, box, "ls /tmp/build/ffmpeg 2>&1 || true")


def test_sonames_come_from_the_headers_when_no_library_exists(
    docker: DockerClient, box: Container, installed: tuple[int, str]
) -> None:
    assert installed[0] == 0, installed[1]
    out = sh(docker, box, "/repo/common/build/ffmpeg-sonames.sh")
    assert out.split() == SONAMES_5_1


def test_a_wrong_flag_stops_with_one_line(docker: DockerClient, box: Container) -> None:
    rc, out = run(docker, box, "/repo/common/build/ffmpeg-headers.sh", {"FFMPEG_NEEDED": "yes"})
    assert rc == 1
    assert out.strip().splitlines() == [
        'helios: error: FFMPEG_NEEDED must be "true" or "false", got \'yes\''
    ]


def test_not_needed_installs_nothing(docker: DockerClient, tarball: Path) -> None:
    image = baseimages.ensure("debian:bookworm", docker)
    out = docker.run(
        image,
        ["bash", "-c", "/repo/common/build/ffmpeg-headers.sh 2>&1 && ls /usr/local/include"],
        remove=True,
        envs={"FFMPEG_NEEDED": "false"},
        volumes=[(str(ROOT), "/repo", "ro")],
    )
    assert "from the distro's packages" in str(out)
    assert "libavcodec" not in str(out)
