"""Container tier: passwords, nginx on HTTP_PORT/HTTPS_PORT (basic auth, routing, /health,
Origin check, throttle, TLS), the backends' lock-down and the web settings' validation.

nginx runs from the generated configuration through svc-nginx's real `run` file. kclient is
stood in for by a python server on its unix socket, started through svc-kclient's real `run` file
(a fake `node`); Xvnc by a python server on 127.0.0.1:6901 that, like KasmVNC, accepts only the
credential in /run/helios/xvnc/kasmpasswd (crypt SHA-256, salt "kasm").
Requests are made inside the container by CLIENT (credentials from a file, never in argv).
"""

from __future__ import annotations

import json
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
# Backend stand-ins: GET answers "<name>:<path>"; a websocket upgrade answers 101 and closes.
STUB = r"""
import base64, ctypes, http.server, os, socketserver, sys
name = sys.argv[1]
crypt = ctypes.CDLL("libcrypt.so.1").crypt
crypt.restype = ctypes.c_char_p

def xvnc_accepts(header):
    if not header or not header.startswith("Basic "):
        return False
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    for line in open("/run/helios/xvnc/kasmpasswd"):
        entry, stored, _ = line.rstrip("\n").split(":")
        if entry == user and crypt(password.encode(), b"$5$kasm$").decode() == stored:
            return True
    return False

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_GET(self):
        if name == "xvnc" and not xvnc_accepts(self.headers.get("Authorization")):
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.close_connection = True
            return
        body = f"{name}:{self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

if name == "xvnc":
    http.server.ThreadingHTTPServer(("127.0.0.1", 6901), Handler).serve_forever()
else:
    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True
    Server(os.environ["HELIOS_KCLIENT_SOCKET"], Handler).serve_forever()
"""
FAKE_NODE = "#!/bin/sh\necho $$ >/tmp/kclient.pid\nexec python3 /srv/stub.py kclient\n"
# In-container HTTP client. Credentials ("user:password") come from a file.
#   one PORT PATH [--creds FILE] [--origin O] [--ws] [--tls] [--cookie C] -> {"status", "body"}
#   burst N PORT PATH --creds FILE                -> {"<status>": count, ...}
#   page N PORT --creds FILE                      -> statuses of N requests made with the cookie
#   health N PORT                                 -> statuses of N concurrent /health requests
CLIENT = r"""
import argparse, base64, collections, concurrent.futures, http.client, json, os, ssl, sys
p = argparse.ArgumentParser()
p.add_argument("mode"); p.add_argument("args", nargs="*")
p.add_argument("--creds"); p.add_argument("--origin"); p.add_argument("--cookie")
p.add_argument("--ws", action="store_true"); p.add_argument("--tls", action="store_true")
a = p.parse_args()

def connect(port):
    if a.tls:
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                           context=ssl._create_unverified_context())
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)

def headers(port, cookie=None):
    h = {"Host": f"127.0.0.1:{port}"}
    if a.creds:
        token = base64.b64encode(open(a.creds, "rb").read().strip()).decode()
        h["Authorization"] = "Basic " + token
    if a.origin:
        h["Origin"] = a.origin
    if a.ws:
        h.update({"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                  "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()})
    if cookie or a.cookie:
        h["Cookie"] = cookie or a.cookie
    return h

def request(conn, port, path, cookie=None):
    conn.request("GET", path, headers=headers(port, cookie))
    r = conn.getresponse()
    body = b"" if r.status == 101 else r.read()
    return r, body.decode(errors="replace")

if a.mode == "one":
    port, path = int(a.args[0]), a.args[1]
    r, body = request(connect(port), port, path)
    print(json.dumps({"status": r.status, "body": body, "cookie": r.getheader("Set-Cookie")}))
elif a.mode == "burst":
    n, port, path = int(a.args[0]), int(a.args[1]), a.args[2]
    conn, counts = connect(port), collections.Counter()
    for _ in range(n):
        r, _ = request(conn, port, path)
        counts[r.status] += 1
    print(json.dumps(counts))
elif a.mode == "page":
    n, port = int(a.args[0]), int(a.args[1])
    conn = connect(port)
    r, _ = request(conn, port, "/")
    cookie = r.getheader("Set-Cookie").split(";")[0]
    counts = collections.Counter([r.status])
    for i in range(n):
        counts[request(conn, port, f"/asset/{i}.js", cookie)[0].status] += 1
    print(json.dumps(counts))
elif a.mode == "health":
    n, port = int(a.args[0]), int(a.args[1])
    def get(_):
        return request(connect(port), port, "/health")[0].status
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        print(json.dumps(collections.Counter(pool.map(get, range(n)))))
"""
CREDS = f"{SECRETS}/creds"


@pytest.fixture
def box(docker: DockerClient, runtime_image: str) -> Iterator[Box]:
    with Box(docker, runtime_image) as container:
        container.put("/srv/stub.py", STUB)
        container.put("/srv/client.py", CLIENT)
        yield container


def boot(box: Box, **variables: str) -> None:
    """init-hooks, init-user, init-xvnc and init-nginx as s6-rc would run them, then svc-nginx."""
    box.set_env(**{"USER": "alice", "UID": "1234", "PASSWORD": "correct horse", **variables})
    for service in ("init-hooks", "init-user", "init-xvnc", "init-nginx"):
        result = box.up(service)
        assert result.rc == 0, f"{service}: {result.err}"
    box.ok("rm -f /tmp/nginx.ready")
    box.start("svc-nginx", "/tmp/nginx.ready")
    # svc-nginx's readiness writer puts a newline on the notification fd once the ports answer.
    box.wait_for("[ -s /tmp/nginx.ready ]")


def start_kclient(box: Box) -> None:
    """svc-kclient's real run file with a fake node serving the kclient stand-in."""
    box.put("/usr/local/bin/node", FAKE_NODE, mode="0755")
    box.ok("rm -f /tmp/kclient.ready")
    box.start("svc-kclient", "/tmp/kclient.ready")
    box.wait_for("[ -s /tmp/kclient.ready ]")


def start_xvnc(box: Box) -> None:
    box.background("echo $$ >/tmp/xvnc.pid; exec python3 /srv/stub.py xvnc >/dev/null 2>&1")
    box.wait_for("(exec 3<>/dev/tcp/127.0.0.1/6901) 2>/dev/null")


def stop(box: Box, name: str) -> None:
    box.ok(f"kill $(cat /tmp/{name}.pid)")
    if name == "xvnc":
        box.wait_for("! (exec 3<>/dev/tcp/127.0.0.1/6901) 2>/dev/null")
    else:
        box.wait_for("! kill -0 $(cat /tmp/kclient.pid) 2>/dev/null")


def backends(box: Box) -> None:
    start_kclient(box)
    start_xvnc(box)


def client(box: Box, *args: str, password: str | None = None) -> dict:
    if password is not None:
        box.put(CREDS, f"alice:{password}", mode="0600")
        args = (*args, "--creds", CREDS)
    out = box.ok("python3 /srv/client.py " + " ".join(f"'{arg}'" for arg in args))
    return json.loads(out)


def http(
    box: Box, path: str, password: str | None = None, port: int = 3000, head: bool = False
) -> tuple[int, str]:
    """(status, body) of a request to nginx with curl; credentials through a curl config file."""
    options = "-I" if head else ""
    if password is not None:
        box.put(f"{SECRETS}/curlrc", curl_config("alice", password), mode="0600")
        options += f" -K {SECRETS}/curlrc"
    out = box.ok(f"curl -s {options} -w '\\n%{{http_code}}' 'http://127.0.0.1:{port}{path}'")
    box.ok(f"rm -f {SECRETS}/curlrc")
    body, _, status = out.rpartition("\n")
    return int(status), body.strip()


def curl_config(user: str, password: str) -> str:
    escaped = password.replace("\\", "\\\\").replace('"', '\\"')
    return f'user = "{user}:{escaped}"\n'


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
    start_kclient(box)

    # nginx (crypt() of the htpasswd hash) accepts exactly this password.
    assert http(box, "/", password) == (200, "kclient:/")
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

    backends(box)
    assert http(box, "/health")[0] == 503  # backends answer but the desktop is not ready
    # The desktop's readiness writer creates the marker once its check passes.
    marker = "/run/helios/desktop-ready"
    box.ok(f"/usr/lib/helios/notify-ready.sh -m {marker} 3 10 tcp 127.0.0.1 6901 3>/tmp/d")
    box.wait_for("[ -s /run/helios/desktop-ready ] && [ -s /tmp/d ]")
    assert http(box, "/health") == (200, '{"status":"UP"}')
    assert http(box, "/health", head=True)[0] == 200
    assert http(box, "/", "correct horse") == (200, "kclient:/")
    assert http(box, "/websockify", "correct horse") == (200, "xvnc:/websockify")

    # /health shares one probe result for up to 1 s, so a change shows within a second or two.
    stop(box, "xvnc")
    health_becomes(box, 503)
    start_xvnc(box)
    health_becomes(box, 200)
    stop(box, "kclient")
    health_becomes(box, 503)
    start_kclient(box)
    health_becomes(box, 200)
    box.ok("/etc/s6-overlay/s6-rc.d/svc-desktop/finish 0 0")  # desktop stopped: marker removed
    health_becomes(box, 503)


def health_becomes(box: Box, status: int) -> None:
    box.wait_for(
        f"[ $(curl -s -o /dev/null -w '%{{http_code}}' http://127.0.0.1:3000/health) = {status} ]",
        seconds=10,
    )


def test_prefix_routes_and_redirects(box: Box) -> None:
    boot(box, PREFIX="/desk/", HTTP_PORT="8080", DISABLE_IPV6="true")
    conf = box.ok("cat /run/helios/nginx.conf")
    assert "listen 8080 default_server;" in conf
    assert "listen [::]" not in conf
    backends(box)
    assert http(box, "/desk/", "correct horse", port=8080) == (200, "kclient:/desk/")
    assert http(box, "/desk/websockify", "correct horse", port=8080) == (200, "xvnc:/websockify")
    status = box.ok("curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://127.0.0.1:8080/")
    assert status == "302 http://127.0.0.1:8080/desk/"


# --- backends: nothing answers on TCP without nginx's credential -------------------------------


def listening_tcp_ports(box: Box) -> set[int]:
    """Ports in LISTEN state (st 0A) in /proc/net/tcp and tcp6."""
    table = box.ok("cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; true")
    ports = set()
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 3 and fields[3] == "0A":
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_backends_need_nginx_and_hold_no_secret_in_reach_of_the_user(box: Box) -> None:
    boot(box)
    backends(box)
    # kclient has no TCP port; its socket directory admits only the user and nginx's group.
    assert listening_tcp_ports(box) == {3000, 3001, 6901}
    assert box.ok("stat -c '%u %G %a' /run/helios/kclient").split() == ["1234", "www-data", "2750"]
    nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups"
    assert box.sh(f"{nobody} test -x /run/helios/kclient").rc == 1
    # Xvnc answers only nginx's per-boot credential; without it 401, also on websocket upgrades.
    assert client(box, "one", "6901", "/websockify")["status"] == 401
    assert client(box, "one", "6901", "/websockify", "--ws")["status"] == 401
    assert client(box, "one", "6901", "/", password="correct horse")["status"] == 401
    assert http(box, "/websockify", "correct horse") == (200, "xvnc:/websockify")
    # The credential's plaintext is only in nginx.conf and init-xvnc's hand-over file (root, 0600,
    # which the desktop user cannot read); Xvnc's file holds its hash.
    assert box.ok("stat -c '%U %a' /run/helios/nginx.conf").split() == ["root", "600"]
    assert box.ok("stat -c '%U %a' /run/helios/xvnc-auth").split() == ["root", "600"]
    assert (
        box.sh("setpriv --reuid=1234 --regid=1234 --clear-groups cat /run/helios/xvnc-auth").rc != 0
    )
    assert box.ok("stat -c '%U %G %a' /run/helios/xvnc/kasmpasswd").split() == [
        "root",
        "alice",
        "640",
    ]
    token = box.ok(r"grep -o 'Basic [A-Za-z0-9+/=]*' /run/helios/nginx.conf | head -1").split()[1]
    secret = box.ok(f"echo {token} | base64 -d | cut -d: -f2").strip()
    box.put(f"{SECRETS}/pattern", f"{token}\n{secret}\n", mode="0600")
    leaks = box.ok(
        f"grep -laF -f {SECRETS}/pattern /proc/[0-9]*/cmdline /proc/[0-9]*/environ"
        " /run/helios/xvnc/kasmpasswd /tmp/*.log 2>/dev/null; true"
    )
    assert leaks.split() == []
    # A second boot makes a new credential (per boot, not per image).
    box.ok(f"{S6_UP}/init-xvnc/up && {S6_UP}/init-nginx/up")
    assert token not in box.ok("cat /run/helios/nginx.conf")


S6_UP = "/etc/s6-overlay/s6-rc.d"


# --- Origin check on the websocket paths ----------------------------------------------------------

WS_PATHS = ("/websockify", "/audio/socket.io/?EIO=4&transport=websocket")


@pytest.mark.parametrize("path", WS_PATHS, ids=["xvnc", "kclient"])
def test_websocket_origin_must_match_host_or_be_allowed(box: Box, path: str) -> None:
    boot(box, ALLOWED_ORIGINS="https://desk.example.com, http://10.0.0.5:8080")
    backends(box)

    def upgrade(origin: str | None, port: int = 3000, *extra: str) -> int:
        args = ["one", str(port), path, "--ws", *extra]
        if origin is not None:
            args += ["--origin", origin]
        return client(box, *args, password="correct horse")["status"]

    assert upgrade("http://evil.example") == 403
    assert upgrade("http://127.0.0.1:3000.evil.example") == 403
    assert upgrade("http://127.0.0.1:3001") == 403  # same host, other port
    assert upgrade("null") == 403
    assert upgrade("http://127.0.0.1:3000") == 101
    assert upgrade("HTTP://127.0.0.1:3000") == 101
    assert upgrade(None) == 101  # non-browser clients send no Origin
    assert upgrade("https://desk.example.com") == 101
    assert upgrade("http://10.0.0.5:8080") == 101
    assert upgrade("https://desk.example.com:8443") == 403
    # Same rules over HTTPS; no password: 401 before anything else.
    assert upgrade("https://127.0.0.1:3001", 3001, "--tls") == 101
    assert upgrade("http://evil.example", 3001, "--tls") == 403
    # A foreign Origin is refused before the password is even looked at.
    assert (
        client(box, "one", "3000", path, "--ws", "--origin", "http://evil.example")["status"] == 403
    )
    assert (
        client(box, "one", "3000", path, "--ws", "--origin", "http://127.0.0.1:3000")["status"]
        == 401
    )
    # Socket.io's polling transport (plain GETs) is covered as well.
    polling = "/audio/socket.io/?EIO=4&transport=polling"
    evil = ("--origin", "http://evil.example")
    assert client(box, "one", "3000", polling, *evil, password="correct horse")["status"] == 403


# --- throttling -------------------------------------------------------------------------------


def test_wrong_passwords_are_throttled_and_a_page_load_is_not(box: Box) -> None:
    boot(box)
    backends(box)
    counts = client(box, "burst", "300", "3000", "/", password="wrong")
    # Of 300 rapid wrong guesses at most 100 reach the password check (401); the rest get 429.
    assert counts.get("401", 0) <= 100, counts
    assert counts.get("401", 0) >= 20, counts  # a few typos are not throttled
    assert counts.get("401", 0) + counts.get("429", 0) == 300, counts
    # Per address, on HTTPS too; requests without a password (the browser's first, answered by
    # the 401 challenge) are not counted and still get 401.
    # (A few in a row: on a loaded machine the bucket may have let one through meanwhile; the
    # limit is 30/min, so ten right after the burst meet it unless a minute has passed.)
    tls = client(box, "burst", "10", "3001", "/", "--tls", password="correct horse")
    assert tls.get("429", 0) >= 5, tls
    assert client(box, "one", "3000", "/")["status"] == 401
    # After a short pause the right password works, and a page load made with the session
    # cookie its first answer sets (300 requests here) is never throttled.
    box.ok("sleep 3")
    assert client(box, "page", "300", "3000", password="correct horse") == {"200": 301}
    # Without the cookie, guessing is throttled again; a forged cookie does not help.
    assert "429" in client(box, "burst", "10", "3000", "/", password="wrong")
    fake = "--cookie=helios_00000000=" + "0" * 64
    assert client(box, "burst", "10", "3000", "/", fake, password="wrong") == {"429": 10}


def test_session_cookie_is_only_given_after_authentication(box: Box) -> None:
    boot(box)
    backends(box)
    assert client(box, "one", "3000", "/", password="wrong")["cookie"] is None
    cookie = client(box, "one", "3000", "/", password="correct horse")["cookie"]
    name, _, rest = cookie.partition("=")
    assert name.startswith("helios_") and len(rest.split(";")[0]) == 64
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    tls = client(box, "one", "3001", "/", "--tls", password="correct horse")["cookie"]
    assert "; Secure" in tls
    # With the cookie a wrong password is still refused.
    with_cookie = f"--cookie={cookie.split(';')[0]}"
    assert client(box, "one", "3000", "/", with_cookie, password="correct horse")["status"] == 200
    assert client(box, "one", "3000", "/", with_cookie, password="wrong")["status"] == 401


# --- HTTPS ------------------------------------------------------------------------------------


def fingerprint(box: Box, port: int = 3001) -> str:
    return box.ok(
        f"openssl s_client -connect 127.0.0.1:{port} </dev/null 2>/dev/null"
        " | openssl x509 -noout -fingerprint -sha256"
    ).strip()


def test_https_serves_the_same_site_with_a_per_container_certificate(
    docker: DockerClient, runtime_image: str, box: Box
) -> None:
    boot(box)
    backends(box)
    assert client(box, "one", "3001", "/", "--tls")["status"] == 401
    assert client(box, "one", "3001", "/", "--tls", password="wrong")["status"] == 401
    answer = client(box, "one", "3001", "/", "--tls", password="correct horse")
    assert (answer["status"], answer["body"]) == (200, "kclient:/")
    first = fingerprint(box)
    assert first.startswith("sha256 Fingerprint=")
    # Key readable by root only; never the image's snakeoil pair.
    assert box.ok("stat -c '%U %a' /var/lib/helios/tls/key.pem").split() == ["root", "600"]
    pub = "openssl pkey -pubout -in"
    ours = box.ok(f"{pub} /var/lib/helios/tls/key.pem")
    assert ours != box.ok(f"{pub} /etc/ssl/private/ssl-cert-snakeoil.key")
    san = box.ok("openssl x509 -noout -ext subjectAltName -in /var/lib/helios/tls/cert.pem")
    assert "DNS:localhost" in san and "IP Address:127.0.0.1" in san
    # Kept across restarts of this container (the boot runs again) ...
    box.ok("kill $(cat /run/helios/nginx.pid)")
    box.wait_for("! (exec 3<>/dev/tcp/127.0.0.1/3001) 2>/dev/null")
    boot(box)
    assert fingerprint(box) == first
    # ... and different in another container.
    with Box(docker, runtime_image) as other:
        other.put("/srv/stub.py", STUB)
        other.put("/srv/client.py", CLIENT)
        boot(other)
        assert fingerprint(other) != first


def test_https_uses_the_given_pair_and_can_be_disabled(box: Box) -> None:
    box.ok(
        "mkdir -p /certs && openssl req -x509 -newkey rsa:2048 -nodes -keyout /certs/k.pem"
        " -out /certs/c.pem -days 2 -subj /CN=given.example 2>/dev/null && chmod 600 /certs/k.pem"
    )
    boot(box, TLS_CERT="/certs/c.pem", TLS_KEY="/certs/k.pem")
    given = box.ok("openssl x509 -noout -fingerprint -sha256 -in /certs/c.pem").strip()
    assert fingerprint(box) == given
    assert box.sh("test -e /var/lib/helios/tls").rc == 1
    box.ok("kill $(cat /run/helios/nginx.pid)")
    box.wait_for("! (exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null")
    boot(box, HTTPS_PORT="0", HTTP_PORT="8080")
    assert listening_tcp_ports(box) == {8080}
    assert "ssl" not in box.ok("grep -n listen /run/helios/nginx.conf")


# --- /health under load -------------------------------------------------------------------------


def test_health_stays_up_under_50_concurrent_connections(box: Box) -> None:
    boot(box)
    backends(box)
    box.ok('echo \'{"status":"UP"}\' >/run/helios/desktop-ready')
    for _ in range(3):
        assert client(box, "health", "50", "3000") == {"200": 50}


# --- validation ---------------------------------------------------------------------------------

BAD_WEB_INPUT = [
    *[
        ({"HTTP_PORT": value}, "HTTP_PORT must be a decimal port number from 1 to 65535")
        for value in ("abc", "0", "70000", "03000", "-1", "80 ", "30&0")
    ],
    ({"HTTP_PORT": "6901"}, "HTTP_PORT must not be 6901 (Xvnc's internal port)"),
    *[
        ({"HTTPS_PORT": value}, "HTTPS_PORT must be 0 (no HTTPS) or a decimal port number")
        for value in ("abc", "70000", "00", "-1", "off", "3001 ")
    ],
    ({"HTTPS_PORT": "6901"}, "HTTPS_PORT must not be 6901"),
    ({"HTTPS_PORT": "3000"}, "HTTPS_PORT must differ from HTTP_PORT, both are 3000"),
    ({"HTTPS_PORT": "8080", "HTTP_PORT": "8080"}, "HTTPS_PORT must differ from HTTP_PORT"),
    *[
        ({"PREFIX": value}, "PREFIX must start and end with /")
        for value in ("desk", "/desk", "desk/", "/a b/", "/../", "/x;y/", "//", "/a/./", "/a&b/")
    ],
    ({"DISABLE_IPV6": "maybe"}, "DISABLE_IPV6 must be true or false"),
    *[
        ({"ALLOWED_ORIGINS": value}, "ALLOWED_ORIGINS entries must be scheme://host[:port]")
        for value in (
            "*",
            "ftp://a.example",
            "https://a.example/",
            "https://a.example/path",
            "https://",
            "a.example",
            "https://a_b.example",
            "https://a.example:0",
            "https://a.example:70000",
            "https://user@a.example",
            "https://a.example, null",
            'https://a.example"; return 200',
        )
    ],
    ({"TLS_CERT": "/certs/c.pem"}, "TLS_KEY must be set together with TLS_CERT"),
    ({"TLS_KEY": "/certs/k.pem"}, "TLS_CERT must be set together with TLS_KEY"),
    (
        {"TLS_CERT": "/certs/c.pem", "TLS_KEY": "/certs/k.pem", "HTTPS_PORT": "0"},
        "TLS_CERT and TLS_KEY need HTTPS, but HTTPS_PORT is 0",
    ),
    ({"TLS_CERT": "certs/c.pem", "TLS_KEY": "/certs/k.pem"}, "TLS_CERT must be an absolute path"),
    ({"TLS_CERT": "/nope.pem", "TLS_KEY": "/certs/k.pem"}, "TLS_CERT must be a readable file"),
    ({"TLS_CERT": "/certs", "TLS_KEY": "/certs/k.pem"}, "TLS_CERT must be a readable file"),
    ({"TLS_CERT": "/certs/c.pem", "TLS_KEY": "/nope"}, "TLS_KEY must be a readable file"),
    ({"TLS_CERT": "/certs/k.pem", "TLS_KEY": "/certs/k.pem"}, "TLS_CERT must be a PEM certificate"),
    ({"TLS_CERT": "/certs/c.pem", "TLS_KEY": "/certs/c.pem"}, "TLS_KEY must be an unencrypted PEM"),
    ({"TLS_CERT": "/certs/c.pem", "TLS_KEY": "/certs/enc.pem"}, "TLS_KEY must be an unencrypted"),
    (
        {"TLS_CERT": "/certs/c.pem", "TLS_KEY": "/certs/other.pem"},
        "TLS_KEY must be the private key of TLS_CERT's public key",
    ),
]
MAKE_CERTS = (
    "mkdir -p /certs && cd /certs && openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem"
    " -out c.pem -days 2 -subj /CN=x 2>/dev/null && openssl genrsa -out other.pem 2048 2>/dev/null"
    " && openssl genrsa -aes256 -passout pass:pw -out enc.pem 2048 2>/dev/null"
)
# Every path (mode, size, mtime) init-nginx could write, minus the s6 env dir set_env rewrites.
SNAPSHOT = (
    "find /run /var/lib/helios /etc/nginx -path /run/s6 -prune"
    " -o -printf '%p %m %s %T@\\n' 2>/dev/null | sort"
)


def test_bad_web_input_is_rejected(box: Box) -> None:
    box.ok(MAKE_CERTS)
    box.set_env(USER="alice", UID="1234", PASSWORD="pw")
    assert box.up("init-user").rc == 0
    assert box.up("init-xvnc").rc == 0
    before = box.ok(SNAPSHOT)
    failures = []
    for variables, message in BAD_WEB_INPUT:
        box.set_env(USER="alice", UID="1234", **variables)
        for command in ("/usr/lib/helios/init-nginx.sh --check", f"{S6_UP}/init-nginx/up"):
            if "--check" in command:
                command = f"/command/with-contenv {command}"
            result = box.sh(command)
            lines = result.err_lines
            ok = len(lines) == 1 and lines[0].startswith(f"[helios] {message}")
            if result.rc != 2 or not ok or result.out:
                failures.append(f"{command} {variables!r}: rc={result.rc} stderr={result.err!r}")
    assert not failures, "\n".join(failures)
    assert box.sh("test -e /run/helios/nginx.conf").rc == 1
    box.set_env(USER="alice", UID="1234")
    assert box.ok(SNAPSHOT) == before  # nothing was written (the env dir is outside the scan)


def test_check_accepts_valid_input_silently_and_writes_nothing(box: Box) -> None:
    box.ok(MAKE_CERTS)
    box.set_env(USER="alice", UID="1234", PASSWORD="pw")
    assert box.up("init-user").rc == 0
    assert box.up("init-xvnc").rc == 0
    before = box.ok(SNAPSHOT)
    for variables in (
        {},
        {"HTTP_PORT": "80", "HTTPS_PORT": "443", "PREFIX": "/a/b.c~d-e_f/"},
        {"HTTPS_PORT": "0", "DISABLE_IPV6": "yes"},
        {"TLS_CERT": "/certs/c.pem", "TLS_KEY": "/certs/k.pem"},
        {"ALLOWED_ORIGINS": "https://A.example.com:443,http://[::1]:8080  http://10.1.2.3"},
    ):
        box.set_env(USER="alice", UID="1234", **variables)
        result = box.sh("/command/with-contenv /usr/lib/helios/init-nginx.sh --check")
        assert (result.rc, result.out, result.err) == (0, "", ""), variables
    assert box.ok(SNAPSHOT) == before


def test_allowed_origins_are_normalized_like_browsers_send_them(box: Box) -> None:
    boot(box, ALLOWED_ORIGINS="HTTPS://Desk.Example.com:443,http://[::1]:8080 http://a.b:80")
    backends(box)
    conf = box.ok("cat /run/helios/nginx.conf")
    assert '"~*^https://desk\\.example\\.com\\|" 1;' in conf
    assert '"~*^http://\\[::1\\]:8080\\|" 1;' in conf
    assert '"~*^http://a\\.b\\|" 1;' in conf
    for origin in ("https://desk.example.com", "http://[::1]:8080", "http://a.b"):
        args = ("one", "3000", "/websockify", "--ws", "--origin", origin)
        assert client(box, *args, password="correct horse")["status"] == 101, origin


# --- template rendering -----------------------------------------------------------------------

TRICKY = [
    "a&b",
    "&&",
    "back\\slash \\1 \\& \\\\",
    "$HOME ${PATH} $(id) `id`",
    "@PREFIX@ @X@",
    "* ? [a] ~ %s %% |",
    "line1\nline2",
    "'\"quotes\"'",
    "",
]


@pytest.mark.parametrize("value", TRICKY, ids=range(len(TRICKY)))
def test_template_rendering_is_literal_for_every_character(box: Box, value: str) -> None:
    box.put("/tmp/t.tmpl", "x=@X@ y=@Y@ @X@\n@Y@ end\n")
    box.put(f"{SECRETS}/value", value.encode())
    script = (
        "source /usr/lib/helios/init-nginx.sh && shopt -s patsub_replacement 2>/dev/null;"
        ' v="$(cat "$1"; printf .)"; v="${v%.}";'
        ' render_template /tmp/t.tmpl "X=${v}" "Y=<${v}>"'
    )
    out = box.ok(script, f"{SECRETS}/value")
    assert out == f"x={value} y=<{value}> {value}\n<{value}> end\n"


def test_template_token_without_value_is_an_error(box: Box) -> None:
    box.put("/tmp/t.tmpl", "a @MISSING@ b\n")
    result = box.sh("source /usr/lib/helios/init-nginx.sh && render_template /tmp/t.tmpl X=1")
    assert result.rc == 1
    assert result.err_lines == ["[helios] /tmp/t.tmpl: no value for @MISSING@"]


def test_readiness_writer_times_out_without_notifying(box: Box) -> None:
    box.ok("/usr/lib/helios/notify-ready.sh 3 1 tcp 127.0.0.1 9 3>/tmp/r 2>/tmp/err")
    box.wait_for("grep -q 'not ready after 1s' /tmp/err", seconds=5)
    assert box.ok("stat -c %s /tmp/r").strip() == "0"
    missing_fd = box.sh("/usr/lib/helios/notify-ready.sh 3 1 tcp 127.0.0.1 9")
    assert missing_fd.rc == 1
    assert "file descriptor 3 is not open" in missing_fd.err


# --- least privilege: non-root start, read-only root filesystem -------------------------------

ME = "1234:1234"


def as_user(box: Box, script: str) -> None:
    """Start a bash script detached as the container user (a non-root container's only uid)."""
    box.docker.container.execute(box.container, ["bash", "-c", script], detach=True, user=ME)


def test_web_edge_in_a_non_root_container(box: Box) -> None:
    box.ok("chown 1234:1234 /run && install -d -o 1234 -g 1234 /home/alice")
    box.set_env(USER="alice", PASSWORD="correct horse")
    box.ok(f"chown -R 1234:1234 {ENV_DIR}")
    for service in ("init-user", "init-xvnc", "init-nginx"):
        result = box.up(service, user=ME)
        assert result.rc == 0, f"{service}: {result.err}"
    # Everything belongs to the one uid, private to it; nothing needs root.
    private = "/run/helios/nginx.conf /run/helios/xvnc/kasmpasswd /run/helios/xvnc-auth"
    assert box.ok(f"stat -c '%u %a' {private}").split() == ["1234", "600"] * 3
    assert "\nuser " not in box.ok("cat /run/helios/nginx.conf")
    # The self-signed pair cannot go to /var/lib/helios (root's): it is made in /run per boot.
    assert box.sh("test -e /var/lib/helios/tls").rc == 1
    assert box.ok("stat -c '%u %a' /run/helios/tls/key.pem").split() == ["1234", "600"]
    box.put("/usr/local/bin/node", FAKE_NODE, mode="0755")
    as_user(box, f"exec {S6_UP}/svc-nginx/run 3>/tmp/nginx.ready >/tmp/svc-nginx.log 2>&1")
    as_user(box, f"exec {S6_UP}/svc-kclient/run 3>/tmp/kclient.ready >/tmp/kc.log 2>&1")
    as_user(box, "echo $$ >/tmp/xvnc.pid; exec python3 /srv/stub.py xvnc >/dev/null 2>&1")
    box.wait_for("[ -s /tmp/nginx.ready ] && [ -s /tmp/kclient.ready ]")
    box.wait_for("(exec 3<>/dev/tcp/127.0.0.1/6901) 2>/dev/null")
    assert box.ok("stat -c '%u %a' /run/helios/kclient").split() == ["1234", "700"]
    assert client(box, "one", "3001", "/", "--tls")["status"] == 401
    answer = client(box, "one", "3001", "/", "--tls", password="correct horse")
    assert (answer["status"], answer["body"]) == (200, "kclient:/")
    assert http(box, "/websockify", "correct horse") == (200, "xvnc:/websockify")
    assert client(box, "one", "6901", "/websockify")["status"] == 401


def test_read_only_root_filesystem_makes_the_pair_in_run(
    docker: DockerClient, runtime_image: str
) -> None:
    tmpfs = ["/run:exec", "/tmp:exec", "/home/alice"]
    with Box(docker, runtime_image, read_only=True, tmpfs=tmpfs) as box:
        box.set_env(USER="alice", UID="1234", PASSWORD="pw")
        assert box.up("init-user").rc == 0
        assert box.up("init-xvnc").rc == 0
        result = box.up("init-nginx")
        assert result.rc == 0, result.err
        assert "/var/lib/helios/tls is not writable" in result.err
        assert box.ok("stat -c '%U %a' /run/helios/tls/key.pem").split() == ["root", "600"]
        # The account is in /run/helios/nss (read-only /etc), so compare the gid.
        assert box.ok("stat -c '%U %g %a' /run/helios/xvnc/kasmpasswd").split() == [
            "root",
            "1234",
            "640",
        ]
