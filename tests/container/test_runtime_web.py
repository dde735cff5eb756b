"""Container tier: passwords, nginx on HTTP_PORT (basic auth, routing, /health) and readiness.

nginx runs from the generated configuration through svc-nginx's real `run` file; kclient (6900)
and Xvnc (6901) are stood in for by python3 http.server stubs on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from python_on_whales import DockerClient
from runtime.harness import ENV_DIR, SECRETS, Box

SHIM_PATH = "/opt/argv-shim:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Wrap the external commands the init scripts call so every argv they receive is logged.
SHIM_SETUP = r"""
mkdir -p /opt/argv-shim
for c in openssl chpasswd useradd usermod groupadd groupmod userdel groupdel getent install \
         mv cp chown chmod rm mktemp cat cut grep nginx id setpriv stat; do
    real="$(command -v "$c")" || continue
    printf '#!/bin/bash\nprintf "%%s " "${0##*/}" "$@" >>/tmp/argv.log\necho >>/tmp/argv.log\n' \
        >"/opt/argv-shim/$c"
    printf 'exec %s "$@"\n' "$real" >>"/opt/argv-shim/$c"
    chmod 755 "/opt/argv-shim/$c"
done
"""
STUBS = r"""
mkdir -p /srv/kclient/desk /srv/xvnc
echo kclient-root >/srv/kclient/index.html
echo kclient-desk >/srv/kclient/desk/index.html
echo xvnc-page >/srv/xvnc/index.html
echo xvnc-websockify >/srv/xvnc/websockify
"""


@pytest.fixture
def box(docker: DockerClient, runtime_image: str) -> Iterator[Box]:
    with Box(docker, runtime_image) as container:
        container.ok(STUBS)
        yield container


def boot(box: Box, **variables: str) -> None:
    """init-hooks, init-user and init-nginx as s6-rc would run them, then svc-nginx."""
    box.set_env(**{"USER": "alice", "UID": "1234", "PASSWORD": "correct horse", **variables})
    for service in ("init-hooks", "init-user", "init-nginx"):
        result = box.up(service)
        assert result.rc == 0, f"{service}: {result.err}"
    box.start("svc-nginx", "/tmp/nginx.ready")
    # svc-nginx's readiness writer puts a newline on the notification fd once the port answers.
    box.wait_for("[ -s /tmp/nginx.ready ]")


def stub(box: Box, port: int) -> None:
    folder = "/srv/kclient" if port == 6900 else "/srv/xvnc"
    box.background(
        f"echo $$ >/tmp/stub{port}.pid; exec python3 -m http.server --bind 127.0.0.1"
        f" --directory {folder} {port} >/dev/null 2>&1"
    )
    box.wait_for(f"(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null")


def stop_stub(box: Box, port: int) -> None:
    box.ok(f"kill $(cat /tmp/stub{port}.pid)")
    box.wait_for(f"! (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null")


def curl_config(user: str, password: str) -> str:
    escaped = password.replace("\\", "\\\\").replace('"', '\\"')
    return f'user = "{user}:{escaped}"\n'


def http(
    box: Box, path: str, password: str | None = None, port: int = 3000, head: bool = False
) -> tuple[int, str]:
    """(status, body) of a request to nginx; credentials go through a curl config file."""
    options = "-I" if head else ""
    if password is not None:
        box.put(f"{SECRETS}/curlrc", curl_config("alice", password), mode="0600")
        options += f" -K {SECRETS}/curlrc"
    out = box.ok(f"curl -s {options} -w '\\n%{{http_code}}' 'http://127.0.0.1:{port}{path}'")
    box.ok(f"rm -f {SECRETS}/curlrc")
    body, _, status = out.rpartition("\n")
    return int(status), body.strip()


PASSWORDS = {
    "quotes": 'Zq9 it\'s a "quoted" X7k',
    "dollar": "Zq9$HOME$(id)${PATH}$1`id`X7k",
    "backslash": r"Zq9\n\\t\X7k\\",
    "spaces": "  Zq9 lead and trail X7k  ",
    "colons": "Zq9:alice:pw::X7k",
    "unicode": "Zq9-pässwörd-密码-🔑-X7k",
    "shell": "Zq9*?[a]|&;<>~#!%^()X7k",
}

VERIFY_SHADOW = r"""
import ctypes, sys
crypt = ctypes.CDLL("libcrypt.so.1").crypt
crypt.restype = ctypes.c_char_p
password = open(sys.argv[2], "rb").read()
prefix = sys.argv[1].encode() + b":"
stored = [l.split(b":")[1] for l in open("/etc/shadow", "rb") if l.startswith(prefix)][0]
sys.exit(0 if crypt(password, stored) == stored else 1)
"""
FIND_PLAINTEXT = f"""
grep -rlaF -D skip -f {SECRETS}/pattern --exclude-dir=proc --exclude-dir=sys \
    --exclude-dir={SECRETS.lstrip("/")} / 2>/dev/null
for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do
    grep -qaF -f {SECRETS}/pattern "$f" 2>/dev/null && echo "$f"
done
true
"""


@pytest.mark.parametrize("password", PASSWORDS.values(), ids=PASSWORDS.keys())
def test_password_with_special_characters(box: Box, password: str) -> None:
    box.ok(SHIM_SETUP)
    boot(box, PASSWORD=password, PATH=SHIM_PATH)
    stub(box, 6900)

    # nginx (crypt() of the htpasswd hash) accepts exactly this password.
    assert http(box, "/", password) == (200, "kclient-root")
    assert http(box, "/", password + "x")[0] == 401
    assert http(box, "/", password[:-1])[0] == 401
    assert http(box, "/")[0] == 401

    # libcrypt (not openssl) accepts it for the system account.
    box.put(f"{SECRETS}/verify.py", VERIFY_SHADOW)
    box.put(f"{SECRETS}/pw", password.encode(), mode="0600")
    assert box.sh(f"python3 {SECRETS}/verify.py alice {SECRETS}/pw").rc == 0
    box.put(f"{SECRETS}/pw", (password + "x").encode(), mode="0600")
    assert box.sh(f"python3 {SECRETS}/verify.py alice {SECRETS}/pw").rc == 1
    box.ok(f"rm -f {SECRETS}/pw")

    # The shim saw the commands (so its log is meaningful) ...
    argv = box.ok("cat /tmp/argv.log")
    assert "openssl passwd -6 -stdin" in argv
    assert "chpasswd -e" in argv
    # ... and the plaintext is in no file, no argv (shim log, live cmdlines) and no process env.
    box.put(f"{SECRETS}/pattern", password.encode() + b"\n", mode="0600")
    # Control: the scan does find the plaintext in a file that holds it.
    box.put("/var/tmp/control", b"prefix " + password.encode() + b" suffix", mode="0600")
    assert box.ok(FIND_PLAINTEXT).split() == ["/var/tmp/control"]
    box.ok("rm -f /var/tmp/control")
    assert box.ok(FIND_PLAINTEXT).split() == []
    assert box.sh(f"test -e {ENV_DIR}/PASSWORD").rc == 1


def test_nginx_auth_routing_and_health(box: Box) -> None:
    boot(box)
    assert box.sh("nginx -t -q -c /run/helios/nginx.conf").rc == 0
    assert http(box, "/")[0] == 401
    assert http(box, "/websockify")[0] == 401
    assert http(box, "/health") == (503, '{"status":"DOWN"}')
    assert http(box, "/", "correct horse")[0] == 502  # authenticated, kclient not up

    stub(box, 6900)
    stub(box, 6901)
    assert http(box, "/health")[0] == 503  # backends answer but the desktop is not ready
    # The desktop's readiness writer creates the marker once its check passes.
    marker = "/run/helios/desktop-ready"
    box.ok(f"/usr/lib/helios/notify-ready.sh -m {marker} 3 10 tcp 127.0.0.1 6901 3>/tmp/d")
    box.wait_for("[ -s /run/helios/desktop-ready ] && [ -s /tmp/d ]")
    assert http(box, "/health") == (200, '{"status":"UP"}')
    assert http(box, "/health", head=True)[0] == 200
    assert http(box, "/", "correct horse") == (200, "kclient-root")
    assert http(box, "/websockify", "correct horse") == (200, "xvnc-websockify")

    stop_stub(box, 6901)
    assert http(box, "/health")[0] == 503
    stub(box, 6901)
    assert http(box, "/health")[0] == 200
    stop_stub(box, 6900)
    assert http(box, "/health")[0] == 503
    stub(box, 6900)
    box.ok("/etc/s6-overlay/s6-rc.d/svc-desktop/finish 0 0")  # desktop stopped: marker removed
    assert http(box, "/health")[0] == 503


def test_prefix_routes_and_redirects(box: Box) -> None:
    boot(box, PREFIX="/desk/", HTTP_PORT="8080", DISABLE_IPV6="true")
    conf = box.ok("cat /run/helios/nginx.conf")
    assert "listen 8080 default_server;" in conf
    assert "listen [::]" not in conf
    stub(box, 6900)
    stub(box, 6901)
    assert http(box, "/desk/", "correct horse", port=8080) == (200, "kclient-desk")
    assert http(box, "/desk/websockify", "correct horse", port=8080) == (200, "xvnc-websockify")
    status = box.ok("curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://127.0.0.1:8080/")
    assert status == "302 http://127.0.0.1:8080/desk/"


BAD_WEB_INPUT = [
    *[
        ({"HTTP_PORT": value}, "HTTP_PORT must be a decimal port number from 1 to 65535")
        for value in ("abc", "0", "70000", "03000", "-1", "80 ")
    ],
    *[({"HTTP_PORT": value}, "HTTP_PORT must not be 6900 or 6901") for value in ("6900", "6901")],
    *[
        ({"PREFIX": value}, "PREFIX must start and end with /")
        for value in ("desk", "/desk", "desk/", "/a b/", "/../", "/x;y/", "//", "/a/./")
    ],
    ({"DISABLE_IPV6": "maybe"}, "DISABLE_IPV6 must be true or false"),
]


def test_bad_web_input_is_rejected(box: Box) -> None:
    box.set_env(USER="alice", UID="1234", PASSWORD="pw")
    assert box.up("init-user").rc == 0
    failures = []
    for variables, message in BAD_WEB_INPUT:
        box.set_env(USER="alice", UID="1234", **variables)
        result = box.up("init-nginx")
        lines = result.err_lines
        if result.rc != 2 or len(lines) != 1 or not lines[0].startswith(f"[helios] {message}"):
            failures.append(f"{variables!r}: rc={result.rc} stderr={result.err!r}")
    assert not failures, "\n".join(failures)
    assert box.sh("test -e /run/helios/nginx.conf").rc == 1


def test_readiness_writer_times_out_without_notifying(box: Box) -> None:
    box.ok("/usr/lib/helios/notify-ready.sh 3 1 tcp 127.0.0.1 9 3>/tmp/r 2>/tmp/err")
    box.wait_for("grep -q 'not ready after 1s' /tmp/err", seconds=5)
    assert box.ok("stat -c %s /tmp/r").strip() == "0"
    missing_fd = box.sh("/usr/lib/helios/notify-ready.sh 3 1 tcp 127.0.0.1 9")
    assert missing_fd.rc == 1
    assert "file descriptor 3 is not open" in missing_fd.err
