"""Container tier: svc-pulseaudio (real PulseAudio) and svc-kasmvnc (with a stand-in Xvnc).

The stand-in Xvnc records its arguments and uid, then creates the X socket and listens on the
websocket port like the real one, so svc-kasmvnc's preparation and readiness are exercised.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from python_on_whales import DockerClient
from runtime.harness import SECRETS, Box

FAKE_XVNC = r"""#!/usr/bin/python3
import http.server, os, socket, sys
with open("/tmp/xvnc.args", "w") as out:
    out.write("\n".join(sys.argv[1:]) + "\n")
with open("/tmp/xvnc.uid", "w") as out:
    out.write(f"{os.getuid()} {os.environ.get('OMP_WAIT_POLICY')}\n")
x11 = socket.socket(socket.AF_UNIX)
x11.bind("/tmp/.X11-unix/X1")
x11.listen()
http.server.HTTPServer(("127.0.0.1", 6901), http.server.SimpleHTTPRequestHandler).serve_forever()
"""


@pytest.fixture
def box(docker: DockerClient, runtime_image: str) -> Iterator[Box]:
    with Box(docker, runtime_image) as container:
        container.set_env(USER="alice", UID="1234", PASSWORD="pw")
        for service in ("init-hooks", "init-user", "init-devices", "init-xvnc", "init-nginx"):
            assert container.up(service).rc == 0
        yield container


def test_pulseaudio_runs_once_as_the_user_with_sink_and_mic_fifo(box: Box) -> None:
    box.start("svc-pulseaudio", "/tmp/pulse.ready")
    box.wait_for("[ -s /tmp/pulse.ready ]", seconds=30)
    info = box.ok(
        "/command/with-contenv /usr/lib/helios/run-as-user.sh"
        " env PULSE_SERVER=unix:/run/helios/pulse/native pactl info"
    )
    assert "Default Sink: auto_null" in info
    assert "Default Source: virtmic" in info
    assert box.ok("stat -c '%u %a' /run/helios/pulse").strip() == "1234 700"
    # kclient writes the microphone to /opt/helios/mic.sock: it must reach the FIFO.
    assert box.sh("test -p /run/helios/pulse/mic.sock && test -p /opt/helios/mic.sock").rc == 0
    owners = box.ok(
        'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = pulseaudio ]'
        " && stat -c %u $p; done; true"
    ).split()
    assert owners == ["1234"]


def test_kasmvnc_prepares_display_and_runs_xvnc_as_the_user(box: Box) -> None:
    box.put("/usr/local/bin/Xvnc", FAKE_XVNC, mode="0755")
    box.ok("mkdir -p /tmp/.X11-unix && touch /tmp/.X1-lock /tmp/.X11-unix/X1")  # stale leftovers
    box.ok("mkdir -p /run/helios && echo up >/run/helios/desktop-ready")
    box.start("svc-kasmvnc", "/tmp/kasmvnc.ready")
    box.wait_for("[ -s /tmp/kasmvnc.ready ]", seconds=30)
    expected = box.ok("/usr/lib/helios/kasmvnc-args.sh").splitlines()
    args = box.ok("cat /tmp/xvnc.args").splitlines()
    assert args == [*expected, "-auth", "/home/alice/.Xauthority"]
    assert box.ok("cat /tmp/xvnc.uid").split() == ["1234", "PASSIVE"]
    assert box.sh("test -e /tmp/.X1-lock").rc == 1
    assert box.sh("test -e /run/helios/desktop-ready").rc == 1  # not ready before the desktop
    assert box.ok("stat -c '%u %a' /home/alice/.Xauthority").strip() == "1234 600"
    cookies = box.ok("xauth -f /home/alice/.Xauthority list")
    assert ":1  MIT-MAGIC-COOKIE-1  " in cookies
    cookie = cookies.split()[-1]
    assert len(cookie) == 32
    box.put(f"{SECRETS}/cookie", cookie + "\n")
    found = box.ok(f"grep -laF -f {SECRETS}/cookie /proc/[0-9]*/cmdline 2>/dev/null; true")
    assert found.strip() == ""


def test_kasmvnc_does_not_start_with_a_bad_settings_file(box: Box) -> None:
    box.put("/usr/local/bin/Xvnc", FAKE_XVNC, mode="0755")
    box.put("/etc/kasm/kasmvnc.conf", "PublicIP auto\n")
    result = box.sh("/etc/s6-overlay/s6-rc.d/svc-kasmvnc/run 3>/tmp/kasmvnc.ready")
    assert result.rc == 2
    assert "[helios] /etc/kasm/kasmvnc.conf:1: PublicIP must be an IPv4 or IPv6 address" in (
        result.err
    )
    assert box.sh("test -e /tmp/xvnc.args").rc == 1


# Stand-ins that record how they were started: uid, arguments and environment.
RECORDER = """#!/bin/bash
{ id -u; printf '%s\\n' "$*"; env; } >"/tmp/$(basename "$0").record"
"""
# kclient listens on the unix socket svc-kclient names (no TCP port).
FAKE_NODE = RECORDER + (
    "exec python3 -c 'import os, socket; s = socket.socket(socket.AF_UNIX);"
    ' s.bind(os.environ["HELIOS_KCLIENT_SOCKET"]); s.listen(); s.accept()\'\n'
)
FAKE_DBUS_LAUNCH = RECORDER + "exec /usr/local/bin/xfwm4\n"
FAKE_XFWM4 = "#!/bin/bash\nwhile :; do sleep 1; done\n"


def record(box: Box, name: str) -> tuple[str, str, dict[str, str]]:
    lines = box.ok(f"cat /tmp/{name}.record").splitlines()
    variables = dict(line.split("=", 1) for line in lines[2:] if "=" in line)
    return lines[0], lines[1], variables


def test_desktop_session_runs_as_the_user_and_marks_readiness(box: Box) -> None:
    box.put("/usr/local/bin/dbus-launch", FAKE_DBUS_LAUNCH, mode="0755")
    box.put("/usr/local/bin/xfwm4", FAKE_XFWM4, mode="0755")
    box.set_env(USER="alice", UID="1234", PASSWORD="leaked?")
    box.start("svc-desktop", "/tmp/desktop.ready")
    box.wait_for("[ -s /tmp/desktop.ready ]", seconds=30)
    assert box.ok("cat /run/helios/desktop-ready").strip() == '{"status":"UP"}'
    uid, args, variables = record(box, "dbus-launch")
    assert (uid, args) == ("1234", "--exit-with-session xfce4-session")
    assert "PASSWORD" not in variables
    assert variables["DISPLAY"] == ":1"
    assert variables["HOME"] == "/home/alice"
    assert variables["PULSE_SERVER"] == "unix:/run/helios/pulse/native"
    assert variables["XDG_RUNTIME_DIR"] == "/run/user/1234"
    assert box.ok("stat -c '%u %a' /run/user/1234").strip() == "1234 700"
    box.ok("/etc/s6-overlay/s6-rc.d/svc-desktop/finish 0 0")
    assert box.sh("test -e /run/helios/desktop-ready").rc == 1


def test_kclient_runs_as_the_user_with_prefix_and_mic_fifo(box: Box) -> None:
    box.put("/usr/local/bin/node", FAKE_NODE, mode="0755")
    box.set_env(USER="alice", UID="1234", PASSWORD="leaked?", PREFIX="/desk/")
    box.start("svc-kclient", "/tmp/kclient.ready")
    box.wait_for("[ -s /tmp/kclient.ready ]", seconds=30)
    uid, args, variables = record(box, "node")
    assert (uid, args) == ("1234", "/opt/helios/kclient/index.js")
    assert "PASSWORD" not in variables
    assert variables["SUBFOLDER"] == "/desk/"
    assert variables["HELIOS_MIC_FIFO"] == "/run/helios/pulse/mic.sock"
    assert variables["PULSE_SERVER"] == "unix:/run/helios/pulse/native"
    assert variables["FM_HOME"] == "/home/alice"
    # Only the user and nginx's worker group may enter the socket's directory.
    assert box.ok("stat -c '%u %G %a' /run/helios/kclient").split() == ["1234", "www-data", "2750"]
    assert box.ok("stat -c '%G %a' /run/helios/kclient/kclient.sock").split() == ["www-data", "770"]
