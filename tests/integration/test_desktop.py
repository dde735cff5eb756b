"""Issue 5 assertions against each distro's running Helios container (see conftest.py)."""

import re

import pytest
from itsetup import CREDS, CUSTOM_PID, GID, HOOK_OUT, TIMEOUT, UID, USER
from python_on_whales import DockerClient
from support import integration
from support.integration import Credentials, Desktop, RenderedPageWaitStrategy, chromium_binary

from helios import measure

REPORTS = measure.REPORT_FILE.parent
DESKTOP_PROCESSES = ("Xvnc", "xfce4-session", "node")


def sh(desktop: Desktop, script: str) -> str:
    result = desktop.container.exec(["sh", "-c", script])
    output = result.output.decode(errors="replace")
    assert result.exit_code == 0, f"`{script}` exited {result.exit_code}: {output}"
    return output.strip()


def test_user_has_requested_ids_and_owns_home(desktop: Desktop) -> None:
    name, _, uid, gid, _, home, _ = sh(desktop, f"getent passwd {USER}").split(":")
    assert (name, int(uid), int(gid)) == (USER, UID, GID)
    assert sh(desktop, f"stat -c %u:%g {home}") == f"{UID}:{GID}"


def test_init_hook_ran_as_root_before_the_user_existed(desktop: Desktop) -> None:
    assert sh(desktop, f"cat {HOOK_OUT}") == "user=absent uid=0"


def test_custom_service_runs_and_is_restarted_after_kill(desktop: Desktop) -> None:
    old = integration.wait_service(desktop.container, CUSTOM_PID, TIMEOUT)
    sh(desktop, f"kill -KILL {old}")
    new = integration.wait_service(desktop.container, CUSTOM_PID, 60, replacing=old)
    assert new != old


def test_port_3000_needs_credentials_and_serves_the_kasm_web_client(desktop: Desktop) -> None:
    assert integration.http_get(f"{desktop.url}/")[0] == 401
    assert integration.http_get(f"{desktop.url}/", Credentials(USER, "not-the-password"))[0] == 401
    assert integration.http_get(f"{desktop.url}/", CREDS)[0] == 200
    status, body = integration.http_get(f"{desktop.url}/vnc/index.html", CREDS)
    assert status == 200
    assert re.search(r"kasm", body, re.IGNORECASE) and "<script" in body


@pytest.mark.parametrize("path", ["/health/", "/health/x", "/healthz", "/HEALTH", "/health.."])
def test_only_the_exact_health_path_skips_the_password(desktop: Desktop, path: str) -> None:
    assert integration.http_get(f"{desktop.url}/health")[0] == 200
    assert integration.http_get(f"{desktop.url}{path}")[0] == 401


def test_websocket_path_upgrades_only_with_the_right_credentials(desktop: Desktop) -> None:
    same_origin = desktop.url
    probe = (desktop.host, desktop.port, "/websockify")
    wrong = Credentials(USER, "not-the-password")
    assert integration.websocket_upgrade(*probe, None, same_origin)[0] == 401
    assert integration.websocket_upgrade(*probe, wrong, same_origin)[0] == 401
    status, first = integration.websocket_upgrade(*probe, CREDS, same_origin)
    assert status == 101
    assert first.startswith(b"RFB "), first  # the VNC server answers through the socket


def test_websocket_from_a_foreign_origin_is_refused(desktop: Desktop) -> None:
    """A page elsewhere would ride on the browser's cached basic-auth credentials."""
    probe = (desktop.host, desktop.port, "/websockify")
    assert integration.websocket_upgrade(*probe, CREDS, "http://evil.example")[0] == 403


def test_desktop_processes_run_as_the_user(docker_client: DockerClient, desktop: Desktop) -> None:
    procs = integration.processes(docker_client, desktop.id)
    for name in DESKTOP_PROCESSES:
        found = integration.find(procs, name)
        assert found, f"no {name} process; running: {sorted({p.comm for p in procs})}"
        assert {p.uid for p in found} == {UID}, f"{name} owners: {[(p.pid, p.uid) for p in found]}"


def test_password_is_in_no_process_arguments(docker_client: DockerClient, desktop: Desktop) -> None:
    procs = integration.processes(docker_client, desktop.id)
    assert len(procs) > 5
    leaking = [p.pid for p in procs if CREDS.password in p.cmdline]
    assert leaking == [], f"PASSWORD in the arguments of pids {leaking}"


def test_screenshot_shows_a_rendered_desktop(desktop: Desktop) -> None:
    if chromium_binary() is None:
        pytest.skip("chromium not found: apt-get install chromium (or set HELIOS_CHROMIUM)")
    shot = REPORTS / "screenshots" / f"{desktop.distro.name}.png"
    # Playwright answers the basic-auth challenge: the password is in no argument or URL.
    waiter = RenderedPageWaitStrategy(
        f"{desktop.url}/", shot, desktop=True, credentials=CREDS.pair()
    )
    waiter.with_startup_timeout(TIMEOUT).wait_until_ready(desktop.container)
    assert shot.is_file()
    # `desktop`, not just `rendered`: the web client's control bar alone passes `rendered`.
    assert waiter.last is not None and waiter.last.desktop, waiter.last


def test_record_measurements(docker_client: DockerClient, desktop: Desktop) -> None:
    """Runs last for its distro: the desktop has been up through every test above."""
    size = int(docker_client.image.inspect(desktop.image).size)
    memory = integration.memory_bytes(docker_client, desktop.id)
    measure.record(
        desktop.distro.name,
        {
            "image": desktop.image,
            "size_bytes": size,
            "start_seconds": round(desktop.ready_seconds, 2),
            "idle_memory_bytes": memory,
        },
    )
    report = measure.load_report(measure.REPORT_FILE)[desktop.distro.name]
    assert report["size_bytes"] == size > 0
    assert report["idle_memory_bytes"] == memory > 0
