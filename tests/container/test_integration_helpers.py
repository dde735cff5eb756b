"""Real tests of the integration suite's helpers (issue 5), without a Helios image.

A small nginx image built from debian:bookworm stands in for Helios: basic auth on every page,
`/health` answering 503 until /tmp/ready exists, a colourful page and a blank one. The readiness
waiter, the HTTP/auth probes, the process and memory probes, the auth-injecting proxy and the
screenshot checker (Debian's chromium) run against it. The websocket upgrade probe runs against a
loopback server that only upgrades requests carrying credentials and an Origin.
"""

import socket
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from python_on_whales import DockerClient
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy

from helios import HeliosError, baseimages, integration
from helios.integration import AuthProxy, Credentials
from helios.integration_screens import (
    Picture,
    RenderedPageWaitStrategy,
    decode_png,
    png_stats,
    screenshot,
    stats,
)

CREDS = Credentials("tester", "helios-test-pw")  # a throwaway test password
TAG = "helios-test-nginx:latest"

DOCKERFILE = """\
FROM debian:bookworm
RUN apt-get update \\
 && apt-get install -y --no-install-recommends nginx openssl \\
 && rm -rf /var/lib/apt/lists/*
RUN printf 'tester:%s\\n' "$(printf '%s' 'helios-test-pw' | openssl passwd -apr1 -stdin)" \\
    > /etc/nginx/htpasswd && chmod 644 /etc/nginx/htpasswd
COPY site.conf /etc/nginx/sites-enabled/default
COPY www/ /srv/www/
CMD ["nginx", "-g", "daemon off;"]
"""

SITE = """\
server {
    listen 8080;
    root /srv/www;
    location = /health {
        if (!-f /tmp/ready) { return 503; }
        return 200 "up\\n";
    }
    location / {
        auth_basic "helios-test";
        auth_basic_user_file /etc/nginx/htpasswd;
    }
}
"""

PAGE = """<!doctype html><html><head><title>helios-test-page</title></head>
<body style="margin:0;background:linear-gradient(120deg,#102030,#c08040,#40c080)">
<h1 style="color:#fff;font:48px sans-serif">Helios screenshot check</h1>
<div style="width:320px;height:200px;background:radial-gradient(#f00,#00f)"></div>
</body></html>
"""
BLANK = "<!doctype html><html><body style='background:#ffffff'></body></html>"


@pytest.fixture(scope="module")
def nginx_image(docker: DockerClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    baseimages.ensure("debian:bookworm", docker)
    ctx = tmp_path_factory.mktemp("nginx-ctx")
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "site.conf").write_text(SITE)
    (ctx / "www").mkdir()
    (ctx / "www" / "page.html").write_text(PAGE)
    (ctx / "www" / "blank.html").write_text(BLANK)
    docker.build(ctx, tags=[TAG], load=True, progress=False)
    yield TAG
    docker.image.remove(TAG, force=True)


@pytest.fixture(scope="module")
def nginx(nginx_image: str) -> Iterator[DockerContainer]:
    container = (
        DockerContainer(nginx_image)
        .with_name(f"helios-test-nginx-{uuid.uuid4().hex[:8]}")
        .with_exposed_ports(8080)
        # nginx is listening once /health answers at all (503 until /tmp/ready exists).
        .waiting_for(HttpWaitStrategy(8080, "/health").for_status_code(503))
    )
    with container:
        yield container


def test_health_waiter_keeps_waiting_on_503_and_returns_on_200(nginx: DockerContainer) -> None:
    host, port = integration.host_port(nginx, 8080)
    assert integration.http_get(f"http://{host}:{port}/health")[0] == 503

    start = time.monotonic()
    with pytest.raises(TimeoutError):
        integration.wait_ready(nginx, integration.health_strategy(8080, timeout=2), start)
    assert time.monotonic() - start >= 2  # it really waited instead of accepting the 503

    nginx.exec(["touch", "/tmp/ready"])
    start = time.monotonic()
    seconds = integration.wait_ready(nginx, integration.health_strategy(8080, timeout=30), start)
    assert 0 <= seconds < 30
    assert integration.http_get(f"http://{host}:{port}/health") == (200, "up\n")


def test_basic_auth_probe(nginx: DockerContainer) -> None:
    host, port = integration.host_port(nginx, 8080)
    url = f"http://{host}:{port}/page.html"
    assert integration.http_get(url)[0] == 401
    assert integration.http_get(url, Credentials("tester", "wrong-password"))[0] == 401
    status, body = integration.http_get(url, CREDS)
    assert status == 200
    assert "helios-test-page" in body


def test_process_probe_reports_owners_and_arguments(
    docker: DockerClient, nginx: DockerContainer
) -> None:
    procs = integration.processes(docker, nginx.get_wrapped_container().id)
    masters = [p for p in integration.find(procs, "nginx") if "master" in p.cmdline]
    workers = [p for p in integration.find(procs, "nginx") if "worker" in p.cmdline]
    assert [p.uid for p in masters] == [0]
    assert workers
    assert {p.uid for p in workers} == {33}  # www-data on Debian
    assert all(CREDS.password not in p.cmdline for p in procs)
    assert integration.memory_bytes(docker, nginx.get_wrapped_container().id) > 1_000_000


def test_screenshot_checker_through_auth_proxy(
    nginx: DockerContainer, chromium: str, tmp_path: Path
) -> None:
    host, port = integration.host_port(nginx, 8080)
    with AuthProxy(host, port, CREDS) as proxy:
        assert integration.http_get(f"{proxy.url}/page.html")[0] == 200
        page = png_stats(screenshot(f"{proxy.url}/page.html", tmp_path / "page.png"))
        blank = png_stats(screenshot(f"{proxy.url}/blank.html", tmp_path / "blank.png"))
        waiter = RenderedPageWaitStrategy(f"{proxy.url}/page.html", tmp_path / "wait.png")
        waiter.with_startup_timeout(60).wait_until_ready(nginx)
    assert (page.width, page.height) == (1280, 800)
    assert page.rendered, page
    assert not blank.rendered, blank
    assert blank.colours == 1
    assert waiter.last is not None and waiter.last.rendered


def test_screenshot_without_credentials_fails(
    nginx: DockerContainer, chromium: str, tmp_path: Path
) -> None:
    host, port = integration.host_port(nginx, 8080)
    with pytest.raises(HeliosError, match=r"chromium screenshot of .* failed"):
        screenshot(f"http://{host}:{port}/page.html", tmp_path / "denied.png")
    assert not (tmp_path / "denied.png").exists()


class _UpgradeServer:
    """Loopback server answering 101 only to upgrades with Authorization and Origin headers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.heads: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                head = data.decode().lower()
                self.heads.append(head)
                ok = "authorization: basic " in head and "origin: " in head
                if ok and "upgrade: websocket" in head:
                    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\n\r\nRFB 003.008\n")
                else:
                    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")


def test_websocket_upgrade_probe_and_proxy_pass_through() -> None:
    server = _UpgradeServer()
    try:
        origin = f"http://127.0.0.1:{server.port}"
        assert integration.websocket_upgrade(
            "127.0.0.1", server.port, "/websockify", None, origin
        ) == (401, b"")
        status, rest = integration.websocket_upgrade(
            "127.0.0.1", server.port, "/websockify", CREDS, origin
        )
        assert (status, rest) == (101, b"RFB 003.008\n")
        with AuthProxy("127.0.0.1", server.port, CREDS) as proxy:
            proxy_port = int(proxy.url.rsplit(":", 1)[1])
            status, _ = integration.websocket_upgrade(
                "127.0.0.1", proxy_port, "/websockify", None, origin
            )
        assert status == 101
        assert server.heads[-1].count("authorization:") == 1
    finally:
        server.sock.close()


def _png(width: int, height: int, rows: list[tuple[int, bytes]]) -> bytes:
    """A tiny RGB PNG whose scanlines use the given (filter type, filtered bytes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    raw = b"".join(bytes([kind]) + line for kind, line in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_png_decoder_undoes_every_scanline_filter() -> None:
    # 2x5 RGB; row 0 raw, then Sub, Up, Average, Paeth applied to known pixels.
    rows = [
        (0, bytes([10, 20, 30, 40, 50, 60])),
        (1, bytes([1, 2, 3, 4, 4, 4])),  # -> 1 2 3 5 6 7
        (2, bytes([1, 1, 1, 1, 1, 1])),  # -> 2 3 4 6 7 8
        (3, bytes([2, 2, 2, 2, 2, 2])),  # -> 3 3 4 6 7 8   (x + (left + up) // 2)
        (4, bytes([1, 1, 1, 1, 1, 1])),  # -> 4 4 5 7 8 9   (Paeth predicts `up` here)
    ]
    picture = decode_png(_png(2, 5, rows))
    assert picture.rows == [
        bytes([10, 20, 30, 40, 50, 60]),
        bytes([1, 2, 3, 5, 6, 7]),
        bytes([2, 3, 4, 6, 7, 8]),
        bytes([3, 3, 4, 6, 7, 8]),
        bytes([4, 4, 5, 7, 8, 9]),
    ]
    assert stats(picture).colours == 9  # (6, 7, 8) appears twice
    assert not stats(picture).rendered  # 9 colours is below the rendered threshold


def _picture(width: int, height: int, colour_at: Callable[[int, int], bytes]) -> Picture:
    rows = [b"".join(colour_at(x, y) for x in range(width)) for y in range(height)]
    return Picture(width, height, 3, rows)


def test_controls_over_an_empty_canvas_are_rendered_but_no_desktop() -> None:
    """The Kasm client before the desktop is drawn: a busy control bar, a flat canvas."""

    def controls_only(x: int, y: int) -> bytes:
        return bytes([x % 64, y % 64, 7]) if x < 40 else bytes([40, 40, 40])

    def desktop_drawn(x: int, y: int) -> bytes:
        return bytes([x % 64, y % 64, 7]) if x < 40 or (x > 80 and y > 60) else bytes([21, 34, 51])

    empty = stats(_picture(120, 80, controls_only))
    drawn = stats(_picture(120, 80, desktop_drawn))
    assert empty.rendered and not empty.desktop, empty
    assert empty.desktop_area_colours == 1
    assert drawn.rendered and drawn.desktop, drawn


def test_png_decoder_rejects_what_it_cannot_read() -> None:
    with pytest.raises(HeliosError, match="not a PNG"):
        decode_png(b"GIF89a")
    truncated = _png(2, 2, [(0, bytes(6))])  # says 2 rows, holds 1
    with pytest.raises(HeliosError, match="image data is 7 bytes, expected 14"):
        decode_png(truncated)


def test_auth_proxy_rewrites_request_heads() -> None:
    proxy = AuthProxy("127.0.0.1", 9, CREDS)
    try:
        plain = proxy.rewrite(
            b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Zm9vOmJhcg==\r\n"
            b"Connection: keep-alive"
        )
        lines = plain.split(b"\r\n")
        assert lines[0] == b"GET / HTTP/1.1"
        assert [line for line in lines if line.startswith(b"Authorization")] == [
            b"Authorization: " + CREDS.header().encode()
        ]
        assert b"Connection: close" in lines and b"Connection: keep-alive" not in lines
        upgrade = proxy.rewrite(b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade")
        assert b"Connection: Upgrade" in upgrade and b"Connection: close" not in upgrade
    finally:
        proxy.__exit__(None, None, None)


# os-release ID of each matrix base image (what a container of that base must report).
OS_RELEASE_ID = {
    "debian:bookworm": "debian",
    "debian:sid": "debian",
    "kalilinux/kali-rolling": "kali",
    "ubuntu:noble": "ubuntu",
    "ubuntu:jammy": "ubuntu",
    "rockylinux:9": "rocky",
    "almalinux:9": "almalinux",
}


def test_any_base_image_runs_and_is_the_right_distro(docker: DockerClient, any_base_image: str):
    assert set(OS_RELEASE_ID) == set(baseimages.matrix_bases())
    out = docker.run(
        any_base_image,
        ["sh", "-c", ". /etc/os-release && echo $ID"],
        remove=True,
        name=f"helios-test-base-{uuid.uuid4().hex[:8]}",
    )
    assert str(out).strip() == OS_RELEASE_ID[any_base_image]


def test_mmdebstrap_tarball_imports_as_a_working_debian(docker: DockerClient) -> None:
    """The registry-free path of ensure(): cached mmdebstrap tarball -> docker import."""
    tarball = baseimages.build_tarball("bookworm")  # made once, then reused from the cache
    assert baseimages.build_tarball("bookworm") == tarball
    tag = f"helios-test-base:{uuid.uuid4().hex[:8]}"
    docker.image.import_(tarball, tag=tag, changes=list(baseimages.IMPORT_CHANGES))
    try:
        assert docker.image.inspect(tag).config.cmd == ["bash"]
        out = docker.run(
            tag,
            ["sh", "-c", "cat /etc/debian_version && apt-get --version | head -n1"],
            remove=True,
            name=f"helios-test-base-{uuid.uuid4().hex[:8]}",
        )
        version, apt = str(out).strip().splitlines()
        assert version.startswith("12.")
        assert apt.startswith("apt ")
    finally:
        docker.image.remove(tag, force=True)
