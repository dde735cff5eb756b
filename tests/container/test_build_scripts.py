"""The per-distro build scripts in real Debian containers (bookworm, trixie, sid), Debian mirror.

Two containers per distro, as in the Dockerfile: the build lineage runs <distro>/build/kasm.sh then
<distro>/build/kclient.sh; a fresh base runs <distro>/build/system.sh (the final image's runtime).
The repository is mounted read-only and the scripts run from it, like the COPY'd scripts in the
Dockerfile (same relative layout). What needs an unreachable host is isolated and reported:
- KasmVNC, Xorg, VirtualGL, the web client and kclient sources come from GitHub: not built here
  (the image build does that); these tests cover the distro package sets the scripts install.
  system.sh runs with HELIOS_SKIP_VIRTUALGL=true (no VirtualGL build to check); the VirtualGL
  runtime checks are tested on their own against planted files.
"""

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from python_on_whales import Container, DockerClient
from python_on_whales.exceptions import DockerException

from helios import ROOT

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

RUNTIME_PACKAGES = (
    "xfce4-session",
    "xfwm4",
    "xfce4-panel",
    "xfdesktop4",
    "xfce4-settings",
    "xfconf",
    "xfce4-terminal",
    "pulseaudio",
    "pulseaudio-utils",
    "nginx",
    "nodejs",
    "openssl",
    "ca-certificates",
    "curl",
    "dbus-x11",
    "xauth",
    "x11-xserver-utils",
    "xkb-data",
    "libgl1-mesa-dri",
    "libgbm1",
    "libgomp1",
    "libwebp7",
    "libxfont2",
    "libpixman-1-0",
    "fonts-dejavu-core",
    "thunar",
    "librsvg2-common",
    # VirtualGL's runtime libraries (its files come from the virtualgl stage)
    "libxtst6",
    "libxv1",
    "libglu1-mesa",
    "libegl1",
)
RUNTIME_COMMANDS = (
    "bash",
    "node",
    "pactl",
    "pulseaudio",
    "setpriv",
    "useradd",
    "groupadd",
    "usermod",
    "chpasswd",
    "openssl",
    "nginx",
    "curl",
    "dbus-launch",
    "xauth",
    "xrandr",
    "xset",
    "xkbcomp",
    "xfce4-session",
    "xfwm4",
    "thunar",
    "exo-open",
)
BUILD_PACKAGES = ("gcc", "g++", "make", "cmake", "nasm", "libxfont-dev", "libwebp-dev")
BUILD_PACKAGES += ("libssl-dev", "libpulse-dev", "nodejs", "libgl1-mesa-dri", "autoconf")
# VirtualGL's build dependencies (virtualgl stage, on build-deps)
BUILD_PACKAGES += ("libxv-dev", "libglu1-mesa-dev", "libegl-dev", "libxcb-keysyms1-dev")
BUILD_PACKAGES += ("libxcb-glx0-dev", "ocl-icd-opencl-dev", "opencl-c-headers")


@dataclass
class Box:
    """A running container with the repository mounted at /repo."""

    docker: DockerClient
    container: Container
    distro: str

    def sh(self, script: str, env: dict[str, str] | None = None) -> str:
        return str(
            self.docker.container.execute(
                self.container, ["bash", "-euo", "pipefail", "-c", script], envs=env or {}
            )
        )

    def packages(self) -> set[str]:
        return set(self.sh("dpkg-query -W -f='${Package}\\n'").split())

    def node_major(self) -> int:
        return int(self.sh("node -p 'process.versions.node.split(\".\")[0]'").strip())


def _distro(image: str) -> str:
    return image.partition(":")[2]


@pytest.fixture(scope="session")
def boxes(docker: DockerClient) -> Iterator[list[Container]]:
    started: list[Container] = []
    yield started
    for container in started:
        container.remove(force=True)


def _start(docker: DockerClient, boxes: list[Container], image: str, extra=()) -> Box:
    container = docker.run(
        image,
        ["sleep", "infinity"],
        detach=True,
        name=f"helios-test-{_distro(image)}-{uuid.uuid4().hex[:8]}",
        volumes=[(str(ROOT), "/repo", "ro"), *extra],
    )
    boxes.append(container)
    return Box(docker, container, _distro(image))


@pytest.fixture(scope="session")
def build_box(docker: DockerClient, debian_target_image: str, boxes: list[Container]) -> Box:
    """<distro>/build/kasm.sh then <distro>/build/kclient.sh, as the build-deps and node stages."""
    box = _start(docker, boxes, debian_target_image)
    box.sh(f"/repo/{box.distro}/build/kasm.sh")
    box.sh(f"/repo/{box.distro}/build/kclient.sh")
    return box


@pytest.fixture(scope="session")
def runtime_box(docker: DockerClient, debian_target_image: str, boxes: list[Container]) -> Box:
    """<distro>/build/system.sh on a fresh base, as the final stage (VirtualGL not built here)."""
    box = _start(docker, boxes, debian_target_image)
    env = {"HELIOS_SRC": "/tmp/helios-src", "HELIOS_SKIP_VIRTUALGL": "true"}
    box.sh(f"/repo/{box.distro}/build/system.sh", env)
    return box


def test_build_deps_are_installed(build_box: Box) -> None:
    installed = build_box.packages()
    missing = sorted(set(BUILD_PACKAGES) - installed)
    assert not missing, f"{build_box.distro}: build stage lacks {missing}"
    # apt-get build-dep needs deb-src entries; kasm.sh enabled them.
    uris = build_box.sh("apt-get source --print-uris xorg-server")
    assert "orig.tar" in uris, f"{build_box.distro}: no deb-src for xorg-server"


FFMPEG_SONAMES = {
    "bookworm": ["libavformat.so.59", "libavutil.so.57", "libswscale.so.6", "libavcodec.so.59"],
    "trixie": ["libavformat.so.61", "libavutil.so.59", "libswscale.so.8", "libavcodec.so.61"],
}


def test_ffmpeg_sonames_are_the_distro_libraries(build_box: Box) -> None:
    """What kasm.sh bakes into Xvnc: the sonames of the ffmpeg the build has, not any match."""
    sonames = build_box.sh("/repo/common/build/ffmpeg-sonames.sh").split()
    real = build_box.sh(
        "for l in libavformat libavutil libswscale libavcodec; do "
        'f=$(readlink -f "$(pkg-config --variable=libdir $l)/$l.so"); echo "${f##*/}"; done'
    ).split()
    assert [name.rsplit(".", 2)[0] for name in real] == sonames
    if build_box.distro in FFMPEG_SONAMES:
        assert sonames == FFMPEG_SONAMES[build_box.distro]


def test_pinned_ffmpeg_headers_refuse_a_distro_that_has_its_own(build_box: Box) -> None:
    """FFMPEG_NEEDED=true on a distro with ffmpeg -dev would shadow them: a wrong needed_by."""
    with pytest.raises(DockerException) as failed:
        build_box.sh("/repo/common/build/ffmpeg-headers.sh", {"FFMPEG_NEEDED": "true"})
    assert "already provides libavcodec's headers" in str(failed.value)
    assert build_box.sh("ls /usr/local/include | grep -c libav || true").strip() == "0"


def test_build_node_is_recent_enough_for_kclient(build_box: Box) -> None:
    assert build_box.node_major() >= 18
    build_box.sh(
        'npm --version && test -n "$(command -v node-gyp || ls /usr/share/nodejs/node-gyp)"'
    )
    build_box.sh("pkg-config --exists libpulse")


def test_runtime_has_what_the_image_needs(runtime_box: Box) -> None:
    installed = runtime_box.packages()
    missing = sorted(set(RUNTIME_PACKAGES) - installed)
    assert not missing, f"{runtime_box.distro}: runtime lacks packages {missing}"
    absent = runtime_box.sh(
        "for c in " + " ".join(RUNTIME_COMMANDS) + "; do command -v $c >/dev/null || echo $c; done"
    ).split()
    assert not absent, f"{runtime_box.distro}: runtime lacks commands {absent}"


def test_runtime_has_no_toolchain_or_dev_packages(runtime_box: Box) -> None:
    installed = runtime_box.packages()
    tools = {"cpp", "gcc", "g++", "make", "cmake"}
    bad = sorted(p for p in installed if p.endswith("-dev") or p in tools)
    bad += sorted(p for p in installed if re.fullmatch(r"(cpp|gcc|g\+\+)-\d+", p))
    assert not bad, f"{runtime_box.distro}: toolchain/-dev packages in the runtime: {bad}"
    assert runtime_box.sh("command -v cc gcc g++ c++ cpp make || true").strip() == ""


def test_runtime_leaves_out_what_the_stand_ins_replace(runtime_box: Box) -> None:
    """ffmpeg (libasound2-plugins), cpp, perl and python3 (xfce4-helpers): stand-ins only."""
    installed = runtime_box.packages()
    stand_ins = {"helios-no-libasound2-plugins", "helios-no-cpp", "helios-no-perl"}
    assert stand_ins | {"helios-xfce4-helpers"} <= installed
    ffmpeg = sorted(p for p in installed if re.match(r"lib(avcodec|avutil|swresample|x265)", p))
    assert ffmpeg == [] and "libasound2-plugins" not in installed, ffmpeg
    left_out = {"perl", "python3", "xfce4-helpers", "usrmerge"} & installed
    assert not left_out, f"{runtime_box.distro}: {sorted(left_out)} should be left out"
    # What the stand-ins stand for still works: perl-base runs xfce4-terminal's wrapper, and
    # exo finds the file manager and terminal helpers.
    runtime_box.sh("perl -c /usr/bin/xfce4-terminal.wrapper 2>&1 | grep -q 'syntax OK'")
    runtime_box.sh("grep -qx FileManager=thunar /etc/xdg/xfce4/helpers.rc")


def test_runtime_is_minimal(runtime_box: Box) -> None:
    leftovers = runtime_box.sh(
        "ls /var/lib/apt/lists | grep -v -e '^lock$' -e '^partial$' || true;"
        "find /usr/share/doc -type f ! -name copyright | head -5;"
        "find /usr/share/man -type f | head -5;"
        "ls /usr/local/share/ca-certificates"
    ).split()
    assert leftovers == [], f"{runtime_box.distro}: caches/docs/CA left: {leftovers}"


def test_runtime_node_matches_the_build_node(build_box: Box, runtime_box: Box) -> None:
    assert runtime_box.node_major() == build_box.node_major()


RUNTIME_SH = ". /repo/common/build/runtime.sh; "
FAKERS = ("libvglfaker.so", "libvglfaker-nodl.so", "libdlfaker.so", "libgefaker.so")


def _vgl_check(box: Box, script: str) -> tuple[bool, str]:
    """Run `script` then the VirtualGL runtime checks in a copy of the runtime box's state."""
    try:
        out = box.sh(f"{script}; {RUNTIME_SH} virtualgl_present && missing_libs && echo CHECKED")
    except DockerException as exc:
        return False, str(exc)
    return "CHECKED" in out, out


def test_virtualgl_runtime_checks_fail_without_vglrun_or_a_faker(runtime_box: Box) -> None:
    """The runtime needs the virtualgl stage's files: an image without them fails its build."""
    runtime_box.sh("rm -rf /opt/VirtualGL /usr/bin/vglrun /usr/lib/lib*faker*.so")
    ok, out = _vgl_check(runtime_box, "true")
    assert not ok and "VirtualGL: vglrun is not on PATH" in out
    plant = "mkdir -p /opt/VirtualGL/bin && printf '#!/bin/sh\\n' >/opt/VirtualGL/bin/vglrun"
    plant += " && chmod 755 /opt/VirtualGL/bin/vglrun && ln -sf /opt/VirtualGL/bin/vglrun /usr/bin/"
    ok, out = _vgl_check(runtime_box, plant)
    assert not ok and "VirtualGL: libvglfaker.so is not installed" in out
    fakers = " ".join(f"/usr/lib/{lib}" for lib in FAKERS)
    # Real ELF objects that link only installed libraries (copies of one the runtime has).
    libz = "$(ldconfig -p | awk '/libz.so.1 /{print $NF; exit}')"
    ok, out = _vgl_check(runtime_box, f"for f in {fakers}; do cp {libz} $f; done")
    assert ok, out
    runtime_box.sh(f"rm -f {fakers} /usr/bin/vglrun; rm -rf /opt/VirtualGL")


def test_virtualgl_runtime_checks_catch_a_faker_linking_a_missing_library(
    runtime_box: Box,
) -> None:
    """A faker built against a library the runtime does not install is a build failure."""
    fakers = " ".join(f"/usr/lib/{lib}" for lib in FAKERS)
    libz = "$(ldconfig -p | awk '/libz.so.1 /{print $NF; exit}')"
    plant = "mkdir -p /opt/VirtualGL/bin && ln -sf /bin/true /usr/bin/vglrun"
    plant += f" && for f in {fakers}; do cp {libz} $f; done"
    # libgefaker.so now needs a library that is not installed (its DT_NEEDED renamed).
    plant += " && sed -i 's/libc.so.6/libq.so.6/' /usr/lib/libgefaker.so"
    try:
        ok, out = _vgl_check(runtime_box, plant)
        assert not ok and "missing shared libraries: /usr/lib/libgefaker.so: libq.so.6" in out
    finally:
        runtime_box.sh(f"rm -f {fakers} /usr/bin/vglrun; rm -rf /opt/VirtualGL")


def test_the_one_bashrc_names_the_distro_from_os_release(
    docker: DockerClient, debian_image: str
) -> None:
    """common/root/etc/skel/.bashrc in a real interactive bash: the prompt names the distro."""
    bashrc = ROOT / "common" / "root" / "etc" / "skel" / ".bashrc"
    out = docker.run(
        debian_image,
        ["bash", "--rcfile", "/skel-bashrc", "-ic", 'printf "%s\\n" "$PS1"; alias ll'],
        volumes=[(bashrc, "/skel-bashrc", "ro")],
        remove=True,
        name=f"helios-test-bashrc-{uuid.uuid4().hex[:8]}",
    )
    prompt, alias = str(out).strip().splitlines()[-2:]
    suite = debian_image.split(":", 1)[1]
    assert f"\\u@helios-{suite}\\[" in prompt, prompt
    assert alias == "alias ll='ls -alF'"
