"""Helpers for the integration suite (tests/integration): images, HTTP probes, processes, pages.

Import everything from here: `from support import integration` and
`from support.integration import Credentials, RenderedPageWaitStrategy, chromium_binary`.

Images: HELIOS_IMAGE_<DISTRO> (upper case, `-` -> `_`) names an existing tag; otherwise the bake
dev tag `helios:<distro>` is used when it exists locally. Everything here talks to a published
port on 127.0.0.1 (never a bridge address) and keeps credentials out of process arguments.
"""

import base64
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
import requests
import websocket
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException
from requests.adapters import HTTPAdapter
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import ExecWaitStrategy, HttpWaitStrategy
from testcontainers.core.waiting_utils import WaitStrategy
from urllib3.util.retry import Retry

from helios.matrix import Distro
from helios.tags import image_env_var

from .screens import (
    PictureStats,
    RenderedPageWaitStrategy,
    chromium_binary,
    png_stats,
    screenshot,
    stats,
)

__all__ = [
    "DEV_TAG",
    "Credentials",
    "Desktop",
    "PictureStats",
    "Proc",
    "RenderedPageWaitStrategy",
    "build_hint",
    "chromium_binary",
    "engine_problem",
    "find",
    "health_strategy",
    "host_port",
    "http_get",
    "image_env_var",
    "logs_of",
    "memory_bytes",
    "parse_processes",
    "png_stats",
    "processes",
    "read_head",
    "ready_desktop",
    "resolve_image",
    "screenshot",
    "stats",
    "wait_exited",
    "wait_ready",
    "wait_service",
    "websocket_upgrade",
]

DEV_TAG = "helios:{name}"
HTTP_TIMEOUT = 10.0
# Connection resets while a container starts are retried; HTTP answers are returned as they are.
RETRY = Retry(total=3, connect=3, read=2, status=0, backoff_factor=0.5)


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str

    def pair(self) -> tuple[str, str]:
        return self.user, self.password

    def header(self) -> str:
        """The basic-auth Authorization value (for clients that take raw headers)."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Basic {token}"


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


@dataclass(frozen=True)
class Desktop:
    """A started Helios container whose /health answered 200, and where the host reaches it."""

    distro: Distro
    image: str
    container: DockerContainer
    host: str
    port: int
    ready_seconds: float

    @property
    def id(self) -> str:
        return str(self.container.get_wrapped_container().id)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def logs_of(container: DockerContainer) -> str:
    """The container's stdout and stderr so far, as text."""
    return b"\n".join(container.get_logs()).decode(errors="replace")


def ready_desktop(
    container: DockerContainer,
    distro: Distro,
    image: str,
    since: float,
    timeout: float,
    port: int = 3000,
) -> Desktop:
    """The Desktop of the started `container` once /health on `port` answers 200.

    Not ready within `timeout`: the test fails naming the distro, with the container's last
    logs (stopping the container stays the caller's job)."""
    try:
        ready = wait_ready(container, health_strategy(port, timeout=timeout), since)
    except TimeoutError as exc:
        logs = logs_of(container)[-3000:]
        pytest.fail(f"{distro.name}: {exc}\nlast container logs:\n{logs}")
    host, published = host_port(container, port)
    return Desktop(distro, image, container, host, published, ready)


def wait_exited(client: DockerClient, container: str, seconds: float) -> int:
    """The exit code once `container` stops; a test failure (with its logs) after `seconds`.

    Polled: `docker wait` (client.container.wait) has no timeout, and a container that keeps
    running is the failure this has to report."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.container.inspect(container).state
        if not state.running:
            return int(state.exit_code or 0)
        time.sleep(0.2)
    pytest.fail(f"still running after {seconds}s:\n{client.container.logs(container)[-3000:]}")


def wait_service(
    container: DockerContainer, pid_file: str, timeout: float, replacing: str = ""
) -> str:
    """The pid a supervised service wrote to `pid_file`, once that process runs (and is not
    `replacing`, the pid of the instance that was killed): how a restart is seen."""
    alive = f'p=$(cat {pid_file} 2>/dev/null) && [ -n "$p" ] && [ -d "/proc/$p" ]'
    if replacing:
        alive += f' && [ "$p" != {int(replacing)} ]'
    strategy = ExecWaitStrategy(["sh", "-c", alive]).with_startup_timeout(timeout)
    strategy.wait_until_ready(container)
    result = container.exec(["cat", pid_file])
    return result.output.decode().strip()


def read_head(sock: socket.socket) -> bytes:
    """Bytes up to the end of an HTTP head, or all there were when the peer closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


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
    with requests.Session() as http:
        http.mount("http://", HTTPAdapter(max_retries=RETRY))
        auth = creds.pair() if creds else None
        response = http.get(url, auth=auth, headers=dict(headers or {}), timeout=HTTP_TIMEOUT)
        return response.status_code, response.text


def websocket_upgrade(
    host: str, port: int, path: str, creds: Credentials | None, origin: str
) -> tuple[int, bytes]:
    """Open a websocket (subprotocol `binary`); (101, first frame's bytes) or (HTTP status, b"")."""
    ws = websocket.WebSocket()
    options: dict[str, object] = {"origin": origin, "subprotocols": ["binary"]}
    if creds is not None:
        options["header"] = [f"Authorization: {creds.header()}"]
    try:
        ws.connect(f"ws://{host}:{port}{path}", timeout=HTTP_TIMEOUT, **options)
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code, b""
    try:
        ws.settimeout(HTTP_TIMEOUT)
        first = ws.recv()
        return ws.getstatus(), first if isinstance(first, bytes) else first.encode()
    finally:
        ws.close()


@dataclass(frozen=True)
class Proc:
    pid: int
    uid: int
    comm: str
    cmdline: str


# One `ps` call: pid, real uid, command name and the full argument list of every process.
PS_COMMAND = ["ps", "-e", "-ww", "-o", "pid=,ruid=,comm=,args="]


def parse_processes(text: str) -> list[Proc]:
    procs = []
    for line in text.splitlines():
        fields = line.split(None, 3)
        if len(fields) >= 3 and fields[0].isdigit() and fields[1].isdigit():
            args = fields[3] if len(fields) == 4 else ""
            procs.append(Proc(int(fields[0]), int(fields[1]), fields[2], args.strip()))
    return procs


def processes(client: DockerClient, container: str) -> list[Proc]:
    """Every process in `container` with its real uid, name and full argument list."""
    return parse_processes(str(client.container.execute(container, PS_COMMAND)))


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
    stats_ = client.container.stats(container)
    if not stats_:
        raise DockerException(["docker", "stats", container], 1, b"", b"no stats")
    return int(stats_[0].memory_used)
