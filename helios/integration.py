"""Helpers for the integration suite (tests/integration): images, HTTP probes, processes.

Images: HELIOS_IMAGE_<DISTRO> (upper case, `-` -> `_`) names an existing tag; otherwise the bake
dev tag `helios:<distro>` is used when it exists locally. Everything here talks to a published
port on 127.0.0.1 (never a bridge address) and keeps credentials out of process arguments.
"""

import base64
import os
import select
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy
from testcontainers.core.waiting_utils import WaitStrategy

from helios.matrix import Distro

DEV_TAG = "helios:{name}"
HTTP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str

    def header(self) -> str:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Basic {token}"


def image_env_var(name: str) -> str:
    """HELIOS_IMAGE_<NAME>: the variable naming an existing image for distro `name`."""
    return "HELIOS_IMAGE_" + name.upper().replace("-", "_")


def build_hint(name: str) -> str:
    return (
        f"build it with `invoke build {name}` (offline: `invoke build --sources DIR {name}`) "
        f"or set {image_env_var(name)} to an existing image"
    )


def resolve_image(
    distro: Distro, client: DockerClient, environ: Mapping[str, str] | None = None
) -> tuple[str | None, str]:
    """(image, "") when an image for `distro` is available locally, else (None, why + how)."""
    environ = os.environ if environ is None else environ
    var = image_env_var(distro.name)
    wanted = environ.get(var, "").strip()
    if wanted:
        if client.image.exists(wanted):
            return wanted, ""
        return None, f"{var}={wanted} is not in the local engine; {build_hint(distro.name)}"
    tag = DEV_TAG.format(name=distro.name)
    if client.image.exists(tag):
        return tag, ""
    return None, f"no Helios image {tag} for {distro.name}: {build_hint(distro.name)}"


def engine_problem(client: DockerClient) -> str | None:
    """Why no Docker engine can be used, or None when one answers."""
    try:
        client.system.info()
    except DockerException as exc:
        return f"no Docker engine answers ({str(exc).splitlines()[0]})"
    return None


def health_strategy(
    port: int = 3000, path: str = "/health", timeout: float = 180.0
) -> HttpWaitStrategy:
    """Wait until `path` answers 200 (any other status, e.g. 503 while starting, keeps waiting)."""
    return (
        HttpWaitStrategy(port, path)
        .for_status_code(200)
        .with_startup_timeout(timeout)
        .with_poll_interval(0.5)
    )


def wait_ready(container: DockerContainer, strategy: WaitStrategy, since: float) -> float:
    """Block until `strategy` is satisfied; seconds from `since` (a time.monotonic()) to ready."""
    strategy.wait_until_ready(container)
    return time.monotonic() - since


def host_port(container: DockerContainer, port: int) -> tuple[str, int]:
    """Where the host reaches a published container port (127.0.0.1 rather than `localhost`)."""
    host = container.get_container_host_ip()
    if host == "localhost":
        host = "127.0.0.1"
    return host, int(container.get_exposed_port(port))


def http_get(
    url: str, creds: Credentials | None = None, headers: Mapping[str, str] | None = None
) -> tuple[int, str]:
    """(status, body) of a GET; HTTP error statuses are returned, not raised."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    if creds is not None:
        request.add_header("Authorization", creds.header())
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def read_head(sock: socket.socket, bufsize: int) -> bytes:
    """Bytes read until the end of an HTTP head (CRLF CRLF) or until the peer closes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(bufsize)
        if not chunk:
            break
        data += chunk
    return data


def websocket_upgrade(
    host: str, port: int, path: str, creds: Credentials | None, origin: str
) -> tuple[int, bytes]:
    """Send a websocket upgrade request; (status code, first bytes after the headers)."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: binary",
        f"Origin: {origin}",
    ]
    if creds is not None:
        lines.append(f"Authorization: {creds.header()}")
    with socket.create_connection((host, port), timeout=HTTP_TIMEOUT) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = read_head(sock, 4096)
        head, _, rest = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
    parts = status_line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        raise ConnectionError(f"no HTTP status line in the upgrade answer: {status_line!r}")
    return int(parts[1]), rest


@dataclass(frozen=True)
class Proc:
    pid: int
    uid: int
    comm: str
    cmdline: str


# Lists every process as `pid<TAB>uid<TAB>comm<TAB>cmdline` with sh builtins only (no ps, no awk).
_PS_SCRIPT = r"""
for d in /proc/[0-9]*; do
    [ -r "$d/status" ] || continue
    uid=
    while read -r key value _; do
        if [ "$key" = Uid: ]; then uid=$value; break; fi
    done < "$d/status" 2>/dev/null
    [ -n "$uid" ] || continue
    comm=$(cat "$d/comm" 2>/dev/null) || continue
    cmd=$(tr '\000\n' '  ' < "$d/cmdline" 2>/dev/null) || cmd=
    printf '%s\t%s\t%s\t%s\n' "${d#/proc/}" "$uid" "$comm" "$cmd"
done
"""


def parse_processes(text: str) -> list[Proc]:
    procs = []
    for line in text.splitlines():
        fields = line.split("\t", 3)
        if len(fields) == 4 and fields[0].isdigit() and fields[1].isdigit():
            procs.append(Proc(int(fields[0]), int(fields[1]), fields[2], fields[3].strip()))
    return procs


def processes(client: DockerClient, container: str) -> list[Proc]:
    """Every process in `container` with its real uid, name and full argument list."""
    output = client.container.execute(container, ["sh", "-c", _PS_SCRIPT])
    return parse_processes(str(output))


def find(procs: list[Proc], name: str) -> list[Proc]:
    """Processes whose comm or argv[0] basename is `name`."""
    found = []
    for proc in procs:
        argv0 = proc.cmdline.split(" ", 1)[0].rsplit("/", 1)[-1]
        if name in (proc.comm, argv0):
            found.append(proc)
    return found


def memory_bytes(client: DockerClient, container: str) -> int:
    """Memory the container uses now, as `docker stats` reports it (page cache excluded)."""
    stats = client.container.stats(container)
    if not stats:
        raise DockerException(["docker", "stats", container], 1, b"", b"no stats")
    return int(stats[0].memory_used)


class AuthProxy:
    """A loopback TCP proxy that adds an Authorization header to every request it forwards.

    Lets a browser open a basic-auth protected page without the password in its arguments or
    URL. Each connection carries one request (`Connection: close` is forced) unless it is a
    websocket upgrade, which is then piped both ways untouched.
    """

    def __init__(self, target_host: str, target_port: int, creds: Credentials) -> None:
        self._target = (target_host, target_port)
        self._auth = creds.header().encode()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopped.set()
        self._server.close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def rewrite(self, head: bytes) -> bytes:
        """The request head with our Authorization header (and Connection: close if not ws)."""
        lines = head.split(b"\r\n")
        upgrade = any(line.lower().startswith(b"upgrade:") for line in lines[1:])
        kept = [lines[0]]
        for line in lines[1:]:
            name = line.split(b":", 1)[0].strip().lower()
            if name == b"authorization" or (not upgrade and name in (b"connection", b"keep-alive")):
                continue
            kept.append(line)
        kept.append(b"Authorization: " + self._auth)
        if not upgrade:
            kept.append(b"Connection: close")
        return b"\r\n".join(kept)

    def _serve(self, client: socket.socket) -> None:
        with client:
            data = read_head(client, 65536)
            if b"\r\n\r\n" not in data:
                return
            head, _, body = data.partition(b"\r\n\r\n")
            try:
                upstream = socket.create_connection(self._target, timeout=HTTP_TIMEOUT)
            except OSError:
                return
            with upstream:
                upstream.settimeout(None)
                upstream.sendall(self.rewrite(head) + b"\r\n\r\n" + body)
                _pipe(client, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until one side closes."""
    peers = {a: b, b: a}
    while True:
        readable, _, _ = select.select(list(peers), [], [], 60)
        if not readable:
            return
        for sock in readable:
            try:
                chunk = sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            peers[sock].sendall(chunk)
