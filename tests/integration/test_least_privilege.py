"""Integration: least privilege (issue 11) against the full image of each distro.

The README's exact command — `--user 1234:1234 --read-only`, tmpfs for /run, /tmp and the home,
no capabilities, no-new-privileges — must give the whole desktop with no process of uid 0 and
nothing written outside the mounts. Also: OpenShift's arbitrary UID with group 0, the default
root mode with a read-only root filesystem, and ids that do not match the process.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Iterator
from pathlib import PurePosixPath

import pytest
import requests
import urllib3
from itsetup import CREDS, TIMEOUT
from python_on_whales import DockerClient
from support import integration
from support.integration import Credentials, Desktop, RenderedPageWaitStrategy, chromium_binary
from testcontainers.core.container import DockerContainer

from helios import measure
from helios.matrix import Distro

USER = "alice"
ME = Credentials(USER, CREDS.password)
HOOK_OUT = "/tmp/helios-test-hook.out"
CUSTOM_PID = "/tmp/helios-test-custom.pid"
HOOK = f'#!/usr/bin/env bash\nprintf "uid=%s user=%s\\n" "$(id -u)" "$USER" >{HOOK_OUT}\n'
CUSTOM = f'#!/usr/bin/env bash\necho "$$" >{CUSTOM_PID}\nexec sleep infinity\n'
REPORTS = measure.REPORT_FILE.parent


def least_privilege(image: str, uid: int, gid: int, **extra: object) -> DockerContainer:
    """The README's command for `uid:gid` (plus hook and custom service mounts)."""
    home = f"/home/{USER}"
    kwargs: dict[str, object] = {
        "user": f"{uid}:{gid}",
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        **extra,
    }
    return with_tmpfs(
        DockerContainer(image)
        .with_name(f"helios-test-lp-{uuid.uuid4().hex[:8]}")
        .with_exposed_ports(3000, 3001)
        .with_envs(USER=USER, PASSWORD=CREDS.password)
        .with_kwargs(**kwargs),
        {"/run": f"exec,uid={uid},gid={gid}", "/tmp": "exec", home: f"uid={uid},gid={gid}"},
    )


def with_tmpfs(container: DockerContainer, mounts: dict[str, str]) -> DockerContainer:
    """tmpfs mounts; each value is docker's tmpfs option string (exec, uid=, gid=, size=)."""
    for path, options in mounts.items():
        container.with_tmpfs_mount(path, options)
    return container


def sh(running: Desktop, script: str) -> str:
    result = running.container.exec(["bash", "-c", script])
    out = result.output.decode(errors="replace")
    assert result.exit_code == 0, f"{script!r} exited {result.exit_code}: {out}"
    return out.strip()


def root_mode(image: str, **kwargs: object) -> DockerContainer:
    """The default mode: started as root, the desktop user from USER/UID."""
    return (
        DockerContainer(image)
        .with_name(f"helios-test-root-{uuid.uuid4().hex[:8]}")
        .with_exposed_ports(3000, 3001)
        .with_envs(USER=USER, UID="1234", GID="2345", PASSWORD=CREDS.password)
        .with_kwargs(**kwargs)
    )


def start(container: DockerContainer, distro: Distro, image: str) -> Desktop:
    """`container` started and ready (conftest.desktop's shape); stopped again if it is not."""
    began = time.monotonic()
    container.start()
    try:
        return integration.ready_desktop(container, distro, image, began, TIMEOUT)
    except BaseException:  # pytest.fail raises an outcome, not an Exception
        container.stop()
        raise


@pytest.fixture(scope="module")
def rootless(
    helios_image: tuple[Distro, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desktop]:
    distro, image = helios_image
    files = tmp_path_factory.mktemp(f"helios-lp-{distro.name}")
    (files / "hook.sh").write_text(HOOK)
    (files / "custom.sh").write_text(CUSTOM)
    container = least_privilege(image, 1234, 1234)
    container.with_volume_mapping(str(files / "hook.sh"), "/etc/helios/init.d/50-test.sh", "ro")
    container.with_volume_mapping(
        str(files / "custom.sh"), "/etc/helios/services.d/custom.sh", "ro"
    )
    running = start(container, distro, image)
    try:
        yield running
    finally:
        container.stop()


def written_outside_mounts(client: DockerClient, container: str) -> dict[str, str]:
    """`docker diff` minus the mount points (and their parents) that docker made for mounts."""
    info = client.container.inspect(container)
    targets = [str(m.destination) for m in info.mounts or []]
    targets += [str(path) for path in info.host_config.tmpfs or {}]
    stubs = {str(p) for t in targets for p in (PurePosixPath(t), *PurePosixPath(t).parents)}
    return {p: c for p, c in client.container.diff(container).items() if p not in stubs}


def https_status(url: str, creds: Credentials | None) -> int:
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    auth = creds.pair() if creds else None
    # The certificate is the container's own self-signed one: not verified here on purpose.
    return requests.get(url, auth=auth, verify=False, timeout=integration.HTTP_TIMEOUT).status_code


def test_health_and_auth_on_both_ports(rootless: Desktop) -> None:
    assert integration.http_get(f"{rootless.url}/health")[0] == 200
    assert integration.http_get(f"{rootless.url}/")[0] == 401
    assert integration.http_get(f"{rootless.url}/", ME)[0] == 200
    tls = f"https://{rootless.host}:{integration.host_port(rootless.container, 3001)[1]}/"
    assert https_status(tls, None) == 401
    assert https_status(tls, ME) == 200


def test_websocket_reaches_xvnc(rootless: Desktop) -> None:
    status, first = integration.websocket_upgrade(
        rootless.host, rootless.port, "/websockify", ME, rootless.url
    )
    assert status == 101 and first.startswith(b"RFB "), (status, first)


def test_no_process_runs_as_root(docker_client: DockerClient, rootless: Desktop) -> None:
    procs = integration.processes(docker_client, rootless.id)
    assert {"Xvnc", "xfce4-session", "nginx", "pulseaudio"} <= {p.comm for p in procs}
    # kclient by its arguments: newer Node names its main thread "MainThread" (sid).
    assert any("kclient/index.js" in p.cmdline for p in procs), [p.cmdline for p in procs]
    assert {p.uid for p in procs} == {1234}, [
        (p.pid, p.uid, p.comm) for p in procs if p.uid != 1234
    ]


def test_the_account_is_named_from_user(rootless: Desktop) -> None:
    out = sh(
        rootless,
        "/usr/lib/helios/run-as-user.sh bash -c 'id -un; whoami; getent passwd alice; echo $HOME'",
    )
    assert out.splitlines() == [
        USER,
        USER,
        "alice:x:1234:1234:alice:/home/alice:/bin/bash",
        "/home/alice",
    ]
    # The desktop's own processes resolve the name too.
    pid = sh(rootless, "pgrep -u 1234 -x xfce4-session | head -1")
    env = sh(rootless, f"tr '\\0' '\\n' </proc/{pid}/environ")
    assert "USER=alice" in env.splitlines() and any(
        v.startswith("LD_PRELOAD=") for v in env.splitlines()
    )


def test_hook_and_custom_service_run_as_the_user(rootless: Desktop) -> None:
    assert sh(rootless, f"cat {HOOK_OUT}") == "uid=1234 user=alice"
    old = integration.wait_service(rootless.container, CUSTOM_PID, TIMEOUT)
    assert sh(rootless, f"stat -c %u /proc/{old}") == "1234"
    sh(rootless, f"kill -KILL {old}")
    new = integration.wait_service(rootless.container, CUSTOM_PID, 60, replacing=old)
    assert sh(rootless, f"stat -c %u /proc/{new}") == "1234"


def test_nothing_is_written_outside_the_mounts(
    docker_client: DockerClient, rootless: Desktop
) -> None:
    for path in ("/etc/helios-x", "/usr/helios-x", "/var/lib/helios-x", "/opt/helios-x"):
        result = rootless.container.exec(["touch", path])
        assert result.exit_code != 0, path
    # The writable layer holds nothing but the mount points docker itself made.
    assert written_outside_mounts(docker_client, rootless.id) == {}


def test_screenshot_shows_the_desktop(rootless: Desktop) -> None:
    if chromium_binary() is None:
        pytest.skip("chromium not found: apt-get install chromium (or set HELIOS_CHROMIUM)")
    shot = REPORTS / "screenshots" / f"{rootless.distro.name}-rootless.png"
    waiter = RenderedPageWaitStrategy(f"{rootless.url}/", shot, desktop=True, credentials=ME.pair())
    waiter.with_startup_timeout(TIMEOUT).wait_until_ready(rootless.container)
    assert waiter.last is not None and waiter.last.desktop, waiter.last


def test_openshift_arbitrary_uid_with_group_zero(helios_image: tuple[Distro, str]) -> None:
    distro, image = helios_image
    running = start(least_privilege(image, 1000680000, 0), distro, image)
    try:
        assert integration.http_get(f"{running.url}/", ME)[0] == 200
        out = sh(running, "/usr/lib/helios/run-as-user.sh bash -c 'id -u; id -g; id -un'")
        assert out.splitlines() == ["1000680000", "0", USER]
    finally:
        running.container.stop()


def test_root_mode_with_a_read_only_root_filesystem(
    docker_client: DockerClient, helios_image: tuple[Distro, str]
) -> None:
    distro, image = helios_image
    container = with_tmpfs(
        root_mode(image, read_only=True), {"/run": "exec", "/tmp": "exec", f"/home/{USER}": ""}
    )
    running = start(container, distro, image)
    try:
        assert integration.http_get(f"{running.url}/", ME)[0] == 200
        procs = integration.processes(docker_client, running.id)
        xvnc = integration.find(procs, "Xvnc")
        assert xvnc and {p.uid for p in xvnc} == {1234}
        assert sh(running, "/usr/lib/helios/run-as-user.sh id -un") == USER
        assert written_outside_mounts(docker_client, running.id) == {}
    finally:
        running.container.stop()


def test_ids_that_do_not_match_the_process_stop_with_one_line(
    docker_client: DockerClient, helios_image: tuple[Distro, str]
) -> None:
    _, image = helios_image
    container = least_privilege(image, 1234, 1234).with_env("UID", "1000")
    container.start()
    try:
        integration.wait_exited(docker_client, container.get_wrapped_container().id, 30)
        logs = integration.logs_of(container)
    finally:
        container.stop()
    errors = [line for line in logs.splitlines() if line.startswith("[helios]")]
    assert errors == [
        "[helios] UID 1000 does not match the user this container runs as (uid 1234); drop UID or"
        " start the container with --user 1000"
    ], logs


def test_record_start_and_memory_beside_root_mode(
    docker_client: DockerClient, helios_image: tuple[Distro, str]
) -> None:
    """Median of 5 fresh starts each, non-root (the README command) and the default root mode."""
    distro, image = helios_image
    results: dict[str, dict[str, float]] = {}
    for mode in ("rootless", "root"):
        starts, memory = [], []
        for _ in range(5):
            if mode == "rootless":
                container = least_privilege(image, 1234, 1234)
            else:
                container = root_mode(image)
            running = start(container, distro, image)
            try:
                time.sleep(10)  # idle: the desktop settles
                starts.append(running.ready_seconds)
                memory.append(integration.memory_bytes(docker_client, running.id) / 2**20)
            finally:
                running.container.stop()
        results[mode] = {
            "start_seconds": round(statistics.median(starts), 2),
            "idle_memory_mib": round(statistics.median(memory), 1),
        }
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"least-privilege-{distro.name}.json").write_text(json.dumps(results) + "\n")
    assert all(0 < r["start_seconds"] <= TIMEOUT for r in results.values()), results
