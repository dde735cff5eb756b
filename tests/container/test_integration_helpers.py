"""Real tests of the integration suite's helpers (tests/support), without a Helios image.

A small nginx image built from debian:bookworm stands in for Helios: basic auth on every page,
`/health` answering 503 until /tmp/ready exists, a colourful page and a blank one. The readiness
waiter, the HTTP/auth probes (requests), the `ps` process probe, the memory probe and the
screenshot checker (Playwright driving Debian's chromium, Pillow) run against it. The websocket
probe (websocket-client) runs against a loopback server that only upgrades requests carrying
credentials and an Origin.
"""

import base64
import hashlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from python_on_whales import DockerClient
from support import integration
from support.integration import Credentials, RenderedPageWaitStrategy, png_stats, screenshot, stats
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy

from helios import HeliosError, baseimages, matrix

CREDS = Credentials("tester", "helios-test-pw")  # a throwaway test password
TAG = "helios-test-nginx:latest"

DOCKERFILE = """\
FROM debian:bookworm
RUN apt-get update \\
 && apt-get install -y --no-install-recommends nginx openssl procps \\
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


def test_ready_desktop_fails_naming_the_distro_with_logs_then_returns_where_it_answers(
    nginx_image: str,
) -> None:
    bookworm = matrix.select(matrix.load(), ["bookworm"])[0]
    fresh = DockerContainer(nginx_image).with_exposed_ports(8080)
    with fresh:
        began = time.monotonic()
        with pytest.raises(pytest.fail.Exception) as failed:
            integration.ready_desktop(fresh, bookworm, nginx_image, began, timeout=2, port=8080)
        assert str(failed.value).startswith("bookworm: ")
        assert "last container logs:" in str(failed.value)
        fresh.exec(["touch", "/tmp/ready"])
        desktop = integration.ready_desktop(fresh, bookworm, nginx_image, began, 30, port=8080)
        assert (desktop.distro, desktop.image, desktop.container) == (bookworm, nginx_image, fresh)
        assert desktop.ready_seconds >= 2
        assert integration.http_get(f"{desktop.url}/health") == (200, "up\n")


SERVICE_PID = "/tmp/helios-test-service.pid"
START_SERVICE = f"sleep 300 >/dev/null 2>&1 & echo $! >{SERVICE_PID}"


def test_wait_service_sees_a_running_pid_and_a_restart(nginx: DockerContainer) -> None:
    with pytest.raises(TimeoutError):  # no pid file yet
        integration.wait_service(nginx, SERVICE_PID, 1)
    nginx.exec(["sh", "-c", START_SERVICE])
    old = integration.wait_service(nginx, SERVICE_PID, 10)
    assert old.isdigit() and nginx.exec(["test", "-d", f"/proc/{old}"]).exit_code == 0
    with pytest.raises(TimeoutError):  # the same instance is no restart
        integration.wait_service(nginx, SERVICE_PID, 1, replacing=old)
    nginx.exec(["kill", "-KILL", old])
    time.sleep(0.5)
    with pytest.raises(TimeoutError):  # a pid file naming a dead process is no service
        integration.wait_service(nginx, SERVICE_PID, 1)
    nginx.exec(["sh", "-c", START_SERVICE])
    new = integration.wait_service(nginx, SERVICE_PID, 10, replacing=old)
    assert new.isdigit() and new != old
    nginx.exec(["sh", "-c", f"kill $(cat {SERVICE_PID}); rm -f {SERVICE_PID}"])


def test_wait_exited_returns_the_exit_code_or_fails_while_running(
    docker: DockerClient, nginx_image: str
) -> None:
    done = docker.run(nginx_image, ["sh", "-c", "exit 3"], detach=True)
    busy = docker.run(nginx_image, ["sleep", "60"], detach=True)
    try:
        assert integration.wait_exited(docker, done.id, 30) == 3
        with pytest.raises(pytest.fail.Exception, match="still running after 1s"):
            integration.wait_exited(docker, busy.id, 1)
    finally:
        docker.container.remove([done, busy], force=True)


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


def test_screenshot_checker_with_browser_credentials(
    nginx: DockerContainer, chromium: str, tmp_path: Path
) -> None:
    host, port = integration.host_port(nginx, 8080)
    base = f"http://{host}:{port}"
    page = png_stats(
        screenshot(f"{base}/page.html", tmp_path / "page.png", credentials=CREDS.pair())
    )
    blank = png_stats(
        screenshot(f"{base}/blank.html", tmp_path / "blank.png", credentials=CREDS.pair())
    )
    waiter = RenderedPageWaitStrategy(
        f"{base}/page.html", tmp_path / "wait.png", credentials=CREDS.pair()
    )
    waiter.with_startup_timeout(60).wait_until_ready(nginx)
    assert (page.width, page.height) == (1280, 800)
    assert page.rendered, page
    assert not blank.rendered, blank
    assert blank.colours == 1
    assert waiter.last is not None and waiter.last.rendered


def test_screenshot_without_or_with_wrong_credentials_fails(
    nginx: DockerContainer, chromium: str, tmp_path: Path
) -> None:
    host, port = integration.host_port(nginx, 8080)
    url = f"http://{host}:{port}/page.html"
    with pytest.raises(
        HeliosError, match=r"screenshot of .* failed: (HTTP 401|.*ERR_INVALID_AUTH_CREDENTIALS)"
    ):
        screenshot(url, tmp_path / "denied.png")
    with pytest.raises(
        HeliosError, match=r"screenshot of .* failed: (HTTP 401|.*ERR_INVALID_AUTH_CREDENTIALS)"
    ):
        screenshot(url, tmp_path / "wrong.png", credentials=("tester", "wrong-password"))
    assert not (tmp_path / "denied.png").exists()
    assert not (tmp_path / "wrong.png").exists()


def test_browser_credentials_are_in_no_process_argument(
    nginx: DockerContainer, chromium: str, tmp_path: Path
) -> None:
    """While Chromium renders the protected page, no local process has the password in argv."""
    host, port = integration.host_port(nginx, 8080)
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    seen.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
                except OSError:
                    continue
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        screenshot(
            f"http://{host}:{port}/page.html",
            tmp_path / "p.png",
            settle_ms=1500,
            credentials=CREDS.pair(),
        )
    finally:
        done.set()
        watcher.join(timeout=5)
    assert any("chromium" in line for line in seen), "the watcher never saw the browser"
    assert not [line for line in seen if CREDS.password in line]


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
                head = integration.read_head(conn).decode()
                self.heads.append(head.lower())
                fields = dict(
                    line.split(": ", 1) for line in head.split("\r\n")[1:] if ": " in line
                )
                fields = {k.lower(): v for k, v in fields.items()}
                ok = fields.get("authorization") == CREDS.header() and "origin" in fields
                if ok and fields.get("upgrade", "").lower() == "websocket":
                    accept = base64.b64encode(
                        hashlib.sha1((fields["sec-websocket-key"] + WS_GUID).encode()).digest()
                    ).decode()
                    conn.sendall(
                        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        b"Connection: Upgrade\r\nSec-WebSocket-Protocol: binary\r\n"
                        + f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
                        + bytes([0x82, len(RFB)])  # one unmasked binary frame
                        + RFB
                    )
                else:
                    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")


WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, for the test server's answer
RFB = b"RFB 003.008\n"


def test_websocket_probe_needs_credentials_and_reads_the_first_frame() -> None:
    server = _UpgradeServer()
    try:
        origin = f"http://127.0.0.1:{server.port}"
        probe = ("127.0.0.1", server.port, "/websockify")
        assert integration.websocket_upgrade(*probe, None, origin) == (401, b"")
        wrong = Credentials("tester", "wrong-password")
        assert integration.websocket_upgrade(*probe, wrong, origin) == (401, b"")
        assert integration.websocket_upgrade(*probe, CREDS, origin) == (101, RFB)
        assert f"origin: {origin}" in server.heads[-1]
        assert "sec-websocket-protocol: binary" in server.heads[-1]
    finally:
        server.sock.close()


def _picture(
    width: int, height: int, colour_at: Callable[[int, int], tuple[int, ...]]
) -> Image.Image:
    image = Image.new("RGB", (width, height))
    image.putdata([colour_at(x, y) for y in range(height) for x in range(width)])
    return image


def test_controls_over_an_empty_canvas_are_rendered_but_no_desktop(tmp_path: Path) -> None:
    """The Kasm client before the desktop is drawn: a busy control bar, a flat canvas."""

    def controls_only(x: int, y: int) -> tuple[int, ...]:
        return (x % 64, y % 64, 7) if x < 40 else (40, 40, 40)

    def desktop_drawn(x: int, y: int) -> tuple[int, ...]:
        return (x % 64, y % 64, 7) if x < 40 or (x > 80 and y > 60) else (21, 34, 51)

    empty = stats(_picture(120, 80, controls_only))
    _picture(120, 80, desktop_drawn).save(tmp_path / "drawn.png")
    drawn = png_stats(tmp_path / "drawn.png")  # through a PNG file, as screenshots are read
    assert empty.rendered and not empty.desktop, empty
    assert empty.desktop_area_colours == 1
    assert drawn.rendered and drawn.desktop, drawn


def test_a_desktop_with_a_plain_wallpaper_is_a_desktop_not_a_page() -> None:
    """XFCE: a flat wallpaper over 90 % of the screen, a panel, icons and a mouse pointer."""

    def xfce(x: int, y: int) -> tuple[int, ...]:
        if y < 20 or (x > 500 and y > 760):  # top panel, dock
            return (x % 50 + 100, y % 20 + 100, 200)
        if 900 < x < 940 and 500 < y < 540:  # an icon in the desktop area
            return ((x * y) % 97, x % 61, y % 53)
        return (21, 32, 51)

    shot = stats(_picture(1280, 800, xfce))
    assert shot.dominant_share > 0.85 and not shot.rendered, shot
    assert shot.desktop, shot
    page_error = stats(_picture(1280, 800, lambda x, y: (x % 40, 0, 0) if y < 90 else (255,) * 3))
    assert not page_error.desktop, page_error  # text at the top, a flat area below


def test_stats_of_flat_and_few_colour_pictures() -> None:
    flat = stats(Image.new("RGBA", (50, 40), (255, 255, 255, 255)))
    assert (flat.width, flat.height, flat.colours, flat.dominant_share) == (50, 40, 1, 1.0)
    assert not flat.rendered
    stripes = stats(_picture(40, 10, lambda x, y: (x * 6, 0, 0)))  # 40 colours, 10 px each
    assert stripes.colours == 40 and stripes.dominant_share == 0.025
    assert stripes.rendered


# os-release ID of each matrix base image (what a container of that base must report).
OS_RELEASE_ID = {
    "debian:bookworm": "debian",
    "debian:trixie": "debian",
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
