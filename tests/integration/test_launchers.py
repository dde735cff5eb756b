"""Every launcher and icon the desktop shows starts something (issue 12), in each distro.

The panel's launchers are the .desktop files xfce4-panel copied into the user's
~/.config/xfce4/panel/launcher-*/ at its first start (from /etc/xdg/xfce4/panel/default.xml); the
desktop's icons are xfdesktop's Home and File System (xfce4-desktop channel), which open in the
file manager, as the panel's directory menu does. Each is started the way the panel starts it --
its Exec line, as the desktop user, in the environment of the running xfce4-panel -- and must
open a new top-level window (x11windows.py), with no "Unable to launch" kind of error.
Visible entries of the applications menu must at least name an installed program.
"""

import re
import shlex
import time

import pytest
from python_on_whales import DockerClient
from session import HOME, put_file, session_env, user_run
from support.integration import Desktop
from testcontainers.core.wait_strategies import ExecWaitStrategy
from x11windows import CLIENTS_JS, CLIENTS_PATH, Window, parse_clients

# Window classes of the dialogs a failed launch opens ("Failed to launch preferred
# application ...", "Failed to execute command ...").
ERROR_WINDOWS = {"exo-open", "xfce4-mime-helper", "exo-helper-2", "xfce4-panel", "wrapper-2.0"}
# Field codes of the Desktop Entry spec, dropped from Exec lines (no file/URL is passed).
FIELD_CODE = re.compile(r"%[fFuUdDnNickvm]")
# What exo-open, the helpers and the shell print when a launcher cannot start its program (GLib
# warnings about AT-SPI, thumbnailers or the session manager are noise of a container desktop).
FAILURE = re.compile(
    r"failed to (launch|execute)|unable to launch|no such file or directory|command not found",
    re.IGNORECASE,
)


def desktop_entry(text: str) -> dict[str, str]:
    """The [Desktop Entry] group of a .desktop file as key -> value (first occurrence)."""
    entry: dict[str, str] = {}
    group = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            group = line
        elif group == "[Desktop Entry]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            entry.setdefault(key.strip(), value.strip())
    return entry


def command_of(entry: dict[str, str]) -> list[str]:
    return shlex.split(FIELD_CODE.sub("", entry["Exec"]).replace("%%", "%"))


def windows(client: DockerClient, desktop: Desktop, env: dict) -> dict[int, Window]:
    out = user_run(client, desktop, ["node", CLIENTS_PATH], env)
    return parse_clients(out)


def _wait_for_panel_launchers(desktop: Desktop) -> None:
    ready = f"ls {HOME}/.config/xfce4/panel/launcher-*/*.desktop >/dev/null 2>&1"
    ExecWaitStrategy(["sh", "-c", ready]).with_startup_timeout(60).wait_until_ready(
        desktop.container
    )


def launch_and_check(
    client: DockerClient, desktop: Desktop, command: list[str], what: str
) -> set[str]:
    """Start `command` in the session; the classes of the new top-level windows it opened.

    A new window, not a new process: Thunar runs as a D-Bus activated service and
    xfce4-terminal as a single instance, so a launch may only add a window to a running one.
    """
    env = session_env(client, desktop)
    put_file(desktop, CLIENTS_PATH, CLIENTS_JS.encode())
    before = windows(client, desktop, env)
    log = f"/tmp/helios-launch-{time.monotonic_ns()}.log"
    script = (
        f"{shlex.join(command)} >{log} 2>&1 & pid=$!; sleep 3; "
        f'if kill -0 "$pid" 2>/dev/null; then echo RUNNING; else wait "$pid"; echo "EXIT=$?"; fi; '
        f"cat {log}"
    )
    out = user_run(client, desktop, ["sh", "-c", script], env)
    status, _, output = out.partition("\n")
    assert status in ("RUNNING", "EXIT=0"), f"{what}: {command} -> {status}\n{output}"
    assert not FAILURE.search(output), f"{what}: {command} reported an error:\n{output}"
    deadline = time.monotonic() + 20
    new: dict[int, Window] = {}
    while time.monotonic() < deadline and not new:
        now = windows(client, desktop, env)
        new = {wid: w for wid, w in now.items() if wid not in before}
        time.sleep(0.5)
    opened = sorted(w.wm_class for w in new.values())
    assert new, f"{what}: {command} opened no window (windows: {before}); output:\n{output}"
    close(client, desktop, sorted({w.pid for w in new.values() if w.pid}))
    print(f"{what}: opened {opened}")
    errors = [c for c in opened if c.lower() in ERROR_WINDOWS]
    assert not errors, f"{what}: {command} only opened an error dialog ({opened}):\n{output}"
    return set(opened)


def close(client: DockerClient, desktop: Desktop, pids: list[int]) -> None:
    """End the programs whose windows a launcher opened, so the next launch starts afresh."""
    if not pids:
        return
    listed = " ".join(str(pid) for pid in pids)
    gone = (
        f"kill {listed} 2>/dev/null; "
        f"for p in {listed}; do kill -0 $p 2>/dev/null && exit 1; done; true"
    )
    ExecWaitStrategy(["sh", "-c", gone]).with_startup_timeout(15).wait_until_ready(
        desktop.container
    )


def panel_launchers(client: DockerClient, desktop: Desktop) -> dict[str, dict[str, str]]:
    _wait_for_panel_launchers(desktop)
    listing = str(
        client.container.execute(
            desktop.id, ["sh", "-c", f"ls {HOME}/.config/xfce4/panel/launcher-*/*.desktop"]
        )
    )
    launchers = {}
    for path in listing.split():
        text = str(client.container.execute(desktop.id, ["cat", path]))
        launchers[path] = desktop_entry(text)
    return launchers


def test_every_panel_launcher_starts_a_program(
    docker_client: DockerClient, desktop: Desktop
) -> None:
    launchers = panel_launchers(docker_client, desktop)
    names = sorted(entry.get("Name", path) for path, entry in launchers.items())
    assert len(launchers) >= 2, f"the dock shows fewer launchers than expected: {names}"
    for path, entry in sorted(launchers.items()):
        launch_and_check(docker_client, desktop, command_of(entry), f"panel launcher {path}")


@pytest.mark.parametrize(
    ("icon", "folder"), [("Home", HOME), ("File System", "/")], ids=["home", "filesystem"]
)
def test_desktop_icons_open_in_the_file_manager(
    docker_client: DockerClient, desktop: Desktop, icon: str, folder: str
) -> None:
    """xfdesktop opens its Home / File System icons with the preferred file manager."""
    xml = str(
        docker_client.container.execute(
            desktop.id,
            ["cat", "/etc/xdg/xfce4/xfconf/xfce-perchannel-xml/xfce4-desktop.xml"],
        )
    )
    key = {"Home": "show-home", "File System": "show-filesystem"}[icon]
    assert f'name="{key}" type="bool" value="true"' in xml
    for hidden in ("show-trash", "show-removable"):  # need gvfs/udisks: not shown
        assert f'name="{hidden}" type="bool" value="false"' in xml
    started = launch_and_check(
        docker_client, desktop, ["exo-open", "--launch", "FileManager", folder], icon
    )
    assert started & {"Thunar", "Pcmanfm"}, started


def test_visible_menu_entries_name_installed_programs(
    docker_client: DockerClient, desktop: Desktop
) -> None:
    script = (
        "for f in /usr/local/share/applications/*.desktop /usr/share/applications/*.desktop; "
        'do [ -f "$f" ] && printf \'%s\\n\' "@@$f" && cat "$f"; done'
    )
    text = str(docker_client.container.execute(desktop.id, ["sh", "-c", script]))
    seen: set[str] = set()
    problems = []
    for chunk in text.split("@@")[1:]:
        path, _, body = chunk.partition("\n")
        name = path.rsplit("/", 1)[-1]
        if name in seen:  # /usr/local/share wins over /usr/share
            continue
        seen.add(name)
        entry = desktop_entry(body)
        shown = entry.get("NoDisplay") != "true" and entry.get("Hidden") != "true"
        shown = shown and "XFCE" not in entry.get("NotShowIn", "")
        only = entry.get("OnlyShowIn", "")
        if not shown or (only and "XFCE" not in only) or "Exec" not in entry:
            continue
        program = command_of(entry)[0]
        found = docker_client.container.execute(
            desktop.id, ["sh", "-c", f"command -v {shlex.quote(program)} || true"]
        )
        if not str(found).strip():
            problems.append(f"{path}: {program}")
        if program == "exo-open":
            category = command_of(entry)[-1]
            if category in ("WebBrowser", "MailReader"):
                problems.append(f"{path}: launches {category}, none is installed")
    assert not problems, f"menu entries that cannot start: {problems}"


def test_xrdb_loads_resources_without_a_preprocessor(
    docker_client: DockerClient, desktop: Desktop
) -> None:
    """cpp is left out (a stand-in satisfies x11-xserver-utils); xrdb must still work."""
    env = session_env(docker_client, desktop)
    script = "printf 'HeliosTest.value: 42\\n' | xrdb -merge - && xrdb -query"
    out = user_run(docker_client, desktop, ["sh", "-c", script], env)
    assert "HeliosTest.value:\t42" in out, out


POWER_ERRORS = re.compile(r"pm-is-supported|unable to launch|extension \"DPMS\" missing", re.I)


def test_boot_log_has_no_launch_or_power_management_errors(desktop: Desktop) -> None:
    """The session starts nothing it cannot find (Thunar), asks no missing pm-utils, and finds
    the DPMS extension it asks about (xfsettingsd >= 4.20 does on every screen change)."""
    _wait_for_panel_launchers(desktop)
    stdout, stderr = desktop.container.get_logs()
    log = (stdout + stderr).decode(errors="replace")
    bad = [line for line in log.splitlines() if POWER_ERRORS.search(line)]
    assert not bad, "\n".join(bad)


def test_display_has_dpms_that_never_powers_down_by_itself(
    docker_client: DockerClient, desktop: Desktop
) -> None:
    """Xvnc advertises DPMS (a virtual monitor that is always on) with zero timeouts."""
    env = session_env(docker_client, desktop)
    out = user_run(docker_client, desktop, ["xset", "q"], env)
    dpms = out.split("DPMS (Display Power Management Signaling):", 1)[-1]
    assert "Server does not have the DPMS Extension" not in dpms, out
    assert re.search(r"Standby:\s+0\s+Suspend:\s+0\s+Off:\s+0", dpms), out
    assert "Monitor is On" in dpms, out
