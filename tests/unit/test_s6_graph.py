"""Static checks of the s6-rc service graph and runtime scripts in common/root (+ <distro>/root).

No Docker needed: parses /etc/s6-overlay/s6-rc.d source definitions the way s6-rc-compile reads
them. shellcheck and shfmt run over these scripts once, in the lint tier (helios.lint).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from helios import ROOT, matrix

COMMON = ROOT / "common" / "root"
S6_REL = Path("etc/s6-overlay/s6-rc.d")
LIB_REL = Path("usr/lib/helios")
# Services s6-overlay itself defines; ours may depend on them.
PROVIDED = {"base"}
TYPES = {"oneshot", "longrun", "bundle"}
DESKTOP = {"svc-pulseaudio", "svc-kasmvnc", "svc-desktop", "svc-kclient", "svc-nginx"}


@dataclass(frozen=True)
class Service:
    name: str
    path: Path
    type: str
    deps: frozenset[str]
    contents: frozenset[str]


def _entries(folder: Path) -> frozenset[str]:
    return frozenset(p.name for p in folder.iterdir()) if folder.is_dir() else frozenset()


def _roots(distro: str) -> list[Path]:
    return [COMMON, ROOT / distro / "root"]


@cache
def graph(distro: str) -> dict[str, Service]:
    """The merged source tree a distro image gets (common/root, then <distro>/root on top)."""
    services: dict[str, Service] = {}
    for root in _roots(distro):
        for folder in sorted((root / S6_REL).glob("*")) if (root / S6_REL).is_dir() else []:
            if not folder.is_dir():
                continue
            type_file = folder / "type"
            kind = type_file.read_text().strip() if type_file.is_file() else ""
            previous = services.get(folder.name)
            services[folder.name] = Service(
                folder.name,
                folder,
                kind or (previous.type if previous else ""),
                _entries(folder / "dependencies.d") | (previous.deps if previous else frozenset()),
                _entries(folder / "contents.d") | (previous.contents if previous else frozenset()),
            )
    return services


def ancestors(services: dict[str, Service], name: str) -> set[str]:
    seen: set[str] = set()
    stack = [name]
    while stack:
        for dep in services[stack.pop()].deps:
            if dep not in seen:
                seen.add(dep)
                if dep in services:
                    stack.append(dep)
    return seen


DISTROS = [d.name for d in matrix.load()]


@pytest.fixture(params=DISTROS)
def services(request: pytest.FixtureRequest) -> dict[str, Service]:
    return graph(request.param)


def test_type_files_are_valid(services: dict[str, Service]) -> None:
    assert services, "no s6-rc services found"
    for svc in services.values():
        assert svc.type in TYPES, f"{svc.name}: type must be one of {sorted(TYPES)}"
        files = _entries(svc.path)
        if svc.type == "oneshot":
            assert "up" in files and "run" not in files, svc.name
        elif svc.type == "longrun":
            assert "run" in files and "up" not in files, svc.name
        else:
            assert svc.contents, f"{svc.name}: a bundle needs contents.d"


def test_names_follow_roles(services: dict[str, Service]) -> None:
    for svc in services.values():
        if svc.type == "oneshot":
            assert svc.name.startswith("init-"), svc.name
        elif svc.type == "longrun":
            assert svc.name.startswith("svc-"), svc.name


def test_every_dependency_exists(services: dict[str, Service]) -> None:
    for svc in services.values():
        for dep in svc.deps | svc.contents:
            assert dep in services or dep in PROVIDED, f"{svc.name} -> unknown {dep}"


def test_graph_has_no_cycles(services: dict[str, Service]) -> None:
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == "done" or name not in services:
            return
        assert state.get(name) != "open", f"cycle: {' -> '.join((*path, name))}"
        state[name] = "open"
        for dep in sorted(services[name].deps | services[name].contents):
            visit(dep, (*path, name))
        state[name] = "done"

    for name in services:
        visit(name, ())


def test_boot_order(services: dict[str, Service]) -> None:
    def before(first: str, then: str) -> None:
        assert first in ancestors(services, then), f"{then} must depend on {first}"

    before("init-hooks", "init-validate")
    before("init-validate", "init-user")
    # Nothing is created before every input was validated.
    for name, svc in services.items():
        if svc.type != "bundle" and name not in {"init-hooks", "init-validate", "init-user"}:
            before("init-user", name)
    before("init-devices", "svc-pulseaudio")
    before("init-devices", "svc-kasmvnc")
    before("svc-kasmvnc", "svc-desktop")
    # init-xvnc makes the per-boot credential Xvnc's basic auth checks (kasmpasswd) and nginx
    # sends: both wait for it, and Xvnc waits for nothing else of the web edge or of audio.
    before("init-xvnc", "svc-kasmvnc")
    before("init-xvnc", "init-nginx")
    assert not {"init-nginx", "svc-pulseaudio", "svc-kclient"} & ancestors(services, "svc-kasmvnc")
    # kclient needs PulseAudio (it connects to it at start), not the desktop: it starts beside
    # Xvnc and XFCE.
    before("svc-pulseaudio", "svc-kclient")
    assert not {"svc-kasmvnc", "svc-desktop"} & ancestors(services, "svc-kclient")
    # nginx starts once its configuration is made, beside the desktop: /health answers 503 until
    # the desktop's marker exists and Xvnc and kclient answer (the probe in nginx.conf), so no
    # edge to them is needed, and nginx's own start is off the path to /health.
    before("init-nginx", "svc-nginx")
    desktop = {"svc-pulseaudio", "svc-kasmvnc", "svc-desktop", "svc-kclient"}
    assert not desktop & ancestors(services, "svc-nginx")
    before("svc-desktop", "svc-custom")
    # Hooks come first: they wait only for s6-overlay's own base bundle.
    assert ancestors(services, "init-hooks") <= PROVIDED


def test_user_bundle_starts_everything(services: dict[str, Service]) -> None:
    user = services["user"]
    assert user.type == "bundle"
    assert {"svc-nginx", "svc-custom"} <= user.contents


def test_readiness_is_notified(services: dict[str, Service]) -> None:
    """Dependants of a longrun must wait for real readiness, not just for the spawn."""
    for name in DESKTOP:
        folder = services[name].path
        assert (folder / "notification-fd").read_text().strip() == "3", name
        assert int((folder / "timeout-up").read_text()) > 0, name


def _s6_scripts(services: dict[str, Service]) -> list[Path]:
    return sorted(
        svc.path / f
        for svc in services.values()
        for f in ("up", "run", "finish")
        if (svc.path / f).is_file()
    )


def test_s6_scripts_are_thin_wrappers(services: dict[str, Service]) -> None:
    for script in _s6_scripts(services):
        text = script.read_text()
        assert "/usr/bin/with-contenv" not in text, script
        commands = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        if script.name == "up":
            # execlineb -P reads it: one command, no shell syntax.
            assert len(commands) == 1, script
            assert re.fullmatch(r"/command/with-contenv /usr/lib/helios/[\w.-]+\.sh", commands[0])
        target = re.search(r"/usr/lib/helios/[\w.-]+\.sh", text)
        if script.name != "finish":
            assert target and (COMMON / target.group(0).lstrip("/")).is_file(), script
            assert "/command/with-contenv" in text, script


def _all_scripts() -> list[Path]:
    scripts = _s6_scripts(graph(DISTROS[0]))
    scripts += sorted((COMMON / LIB_REL).glob("*.sh"))
    scripts += sorted((COMMON / "etc/helios/services.d").glob("*.sh"))
    return scripts


def test_scripts_are_executable() -> None:
    for script in _all_scripts():
        assert script.stat().st_mode & 0o111 == 0o111, f"{script} is not executable"
        assert script.read_text().startswith("#!"), f"{script} has no shebang"
