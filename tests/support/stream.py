"""What the Kasm web client receives while the desktop changes: the streaming benchmark's probe.

A headless Chromium (Playwright, the system binary: see screens.py) opens the desktop page, the
container plays a workload on the display (a terminal that keeps scrolling), and for `seconds`
the probe counts what arrives on the VNC websocket (`websockify`: bytes and messages), how many
video frames the browser's WebCodecs `VideoDecoder` put out and with which codec it was
configured, and how much CPU Xvnc used (its utime + stime from /proc, in the container).

The page must be a secure context for WebCodecs: `https_url` gives the HTTPS port (the
self-signed certificate is accepted for this probe only).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import WebSocket, sync_playwright
from testcontainers.core.container import DockerContainer

from helios import HeliosError
from support import integration, screens

# Counts every frame a VideoDecoder outputs and every codec string it is configured with, in
# every frame of the page (the web client runs in an iframe of kclient's page).
DECODER_PROBE = """
(() => {
  const probe = { decoded: 0, codecs: [] };
  window.__heliosVideo = probe;
  const Original = window.VideoDecoder;
  if (!Original) return;
  window.VideoDecoder = class extends Original {
    constructor(init) {
      const output = init.output;
      super({ ...init, output: (frame) => { probe.decoded += 1; output(frame); } });
    }
    configure(config) {
      probe.codecs.push(String(config.codec));
      return super.configure(config);
    }
  };
})();
"""
# The workload: a terminal filling the screen, scrolling without end (as the desktop user).
WORKLOAD = (
    "DISPLAY=:1 XAUTHORITY=$HOME/.Xauthority nohup xfce4-terminal --maximize "
    "-x sh -c 'while :; do ls -lR /usr; done' >/dev/null 2>&1 &"
)
# The web client's stream modes (its `stream_mode` setting, kept in localStorage: the user picks one
# in the client's settings panel; JPEG/WebP rectangles by default).
STREAM_MODE_JPEG_WEBP = -1025
STREAM_MODE_H264 = -1026
CLOCK_TICKS = 100  # USER_HZ of Linux /proc/<pid>/stat on every architecture Helios builds


@dataclass(frozen=True)
class StreamSample:
    seconds: float
    ws_bytes: int
    ws_messages: int
    decoded_frames: int
    codecs: tuple[str, ...]
    xvnc_cpu_percent: float

    @property
    def kib_per_second(self) -> float:
        return self.ws_bytes / 1024 / self.seconds

    def as_report(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1),
            "client_kib_per_s": round(self.kib_per_second, 1),
            "ws_messages_per_s": round(self.ws_messages / self.seconds, 1),
            "decoded_video_frames": self.decoded_frames,
            "video_codecs": sorted(set(self.codecs)),
            "xvnc_cpu_percent": round(self.xvnc_cpu_percent, 1),
        }


def https_url(container: DockerContainer, port: int = 3001) -> str:
    """The desktop on its HTTPS port: a secure context wherever the host reaches it (WebCodecs
    exists only in one; plain http is one only on 127.0.0.1)."""
    host, published = integration.host_port(container, port)
    return f"https://{host}:{published}/"


def _run(container: DockerContainer, script: str, user: str) -> str:
    result = container.exec(["su", "-s", "/bin/sh", "-c", script, user])
    if result.exit_code != 0:
        raise HeliosError(f"{script!r} failed in the container: {result.output.decode()[-500:]}")
    return result.output.decode()


def xvnc_cpu_ticks(container: DockerContainer) -> int:
    """utime + stime of the container's Xvnc, in clock ticks."""
    result = container.exec(["sh", "-c", 'cat "/proc/$(pgrep -x Xvnc | head -n1)/stat"'])
    if result.exit_code != 0:
        raise HeliosError(f"no Xvnc process: {result.output.decode()[-300:]}")
    # Fields after the command name (which may hold spaces) start at state, field 3.
    fields = result.output.decode().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class _Counter:
    def __init__(self) -> None:
        self.bytes = 0
        self.messages = 0
        self.counting = False

    def attach(self, socket: WebSocket) -> None:
        if "websockify" in socket.url:
            socket.on("framereceived", self._frame)

    def _frame(self, payload: str | bytes) -> None:
        if self.counting:
            self.bytes += len(payload.encode() if isinstance(payload, str) else payload)
            self.messages += 1


def _decoder_state(page: Any) -> tuple[int, tuple[str, ...]]:
    decoded, codecs = 0, []
    for frame in page.frames:
        try:
            state = frame.evaluate("() => window.__heliosVideo || null")
        except Exception:  # a frame that navigated away or is not scriptable: nothing of ours
            continue
        if state:
            decoded += int(state["decoded"])
            codecs += list(state["codecs"])
    return decoded, tuple(codecs)


def sample(
    url: str,
    credentials: tuple[str, str],
    container: DockerContainer,
    user: str,
    seconds: float = 20.0,
    warmup: float = 8.0,
    size: tuple[int, int] = (1280, 800),
    stream_mode: int = STREAM_MODE_JPEG_WEBP,
) -> StreamSample:
    """Open `url`, start the workload, let it run `warmup` s, then count for `seconds`.
    `stream_mode` is the web client setting a user would pick (e.g. STREAM_MODE_H264)."""
    binary = screens.chromium_binary()
    if binary is None:
        raise HeliosError("chromium not found: apt-get install chromium (or set HELIOS_CHROMIUM)")
    origin = "/".join(url.split("/", 3)[:3])
    auth = {"username": credentials[0], "password": credentials[1], "origin": origin}
    counter = _Counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=binary, args=list(screens.CHROMIUM_FLAGS)
        )
        try:
            context = browser.new_context(
                viewport={"width": size[0], "height": size[1]},
                http_credentials=auth,
                ignore_https_errors=True,
            )
            context.add_init_script(DECODER_PROBE)
            context.add_init_script(f"localStorage.setItem('stream_mode', '{int(stream_mode)}');")
            page = context.new_page()
            page.on("websocket", counter.attach)
            response = page.goto(url, timeout=90_000)
            if response is None or response.status >= 400:
                raise HeliosError(
                    f"{url}: {'no response' if response is None else response.status}"
                )
            _run(container, WORKLOAD, user)
            page.wait_for_timeout(warmup * 1000)
            decoded_before, _ = _decoder_state(page)
            ticks_before = xvnc_cpu_ticks(container)
            counter.counting = True
            started = time.monotonic()
            page.wait_for_timeout(seconds * 1000)
            counter.counting = False
            elapsed = time.monotonic() - started
            ticks = xvnc_cpu_ticks(container) - ticks_before
            decoded, codecs = _decoder_state(page)
        finally:
            browser.close()
    cpu = 100.0 * ticks / CLOCK_TICKS / elapsed
    return StreamSample(
        elapsed, counter.bytes, counter.messages, decoded - decoded_before, codecs, cpu
    )
