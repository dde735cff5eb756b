"""Headless Chromium screenshots and a check that they show a rendered page, not a blank one.

The PNG decoder is deliberately small (zlib + the five scanline filters, 8-bit greyscale/RGB/
RGBA, no interlacing): enough for Chromium's screenshots without adding an imaging library.
"""

import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from testcontainers.core.waiting_utils import WaitStrategy, WaitStrategyTarget

from helios import HeliosError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
# A rendered page: no single colour covers more than this share of the pixels ...
MAX_DOMINANT_SHARE = 0.85
# ... and at least this many distinct colours appear (anti-aliased text and images do).
MIN_COLOURS = 32
# A drawn remote desktop: the area right of the web client's control bar and below its top strip
# (x >= width/3, y >= height/8) is not one flat colour. The Kasm client with an empty canvas
# passes `rendered` (its control bar is colourful) but leaves that area a single colour.
MIN_DESKTOP_AREA_COLOURS = 16


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    channels: int
    rows: list[bytes]  # unfiltered scanlines, width * channels bytes each

    def pixels(self) -> list[bytes]:
        step = self.channels
        return [row[i : i + step] for row in self.rows for i in range(0, len(row), step)]


@dataclass(frozen=True)
class PictureStats:
    width: int
    height: int
    colours: int
    dominant_share: float
    desktop_area_colours: int

    @property
    def rendered(self) -> bool:
        return self.dominant_share <= MAX_DOMINANT_SHARE and self.colours >= MIN_COLOURS

    @property
    def desktop(self) -> bool:
        """Rendered, and the remote desktop is drawn (not just the web client's controls)."""
        return self.rendered and self.desktop_area_colours >= MIN_DESKTOP_AREA_COLOURS


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not data.startswith(PNG_SIGNATURE):
        raise HeliosError("not a PNG file (bad signature)")
    chunks, pos = [], len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
        if kind == b"IEND":
            break
    return chunks


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, prev: bytes, bpp: int) -> bytearray:
    if kind == 0:
        return line
    if kind == 2:
        return bytearray((x + y) & 0xFF for x, y in zip(line, prev, strict=True))
    out = bytearray(len(line))
    for i, x in enumerate(line):
        a = out[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if kind == 1:
            out[i] = (x + a) & 0xFF
        elif kind == 3:
            out[i] = (x + ((a + b) >> 1)) & 0xFF
        elif kind == 4:
            out[i] = (x + _paeth(a, b, c)) & 0xFF
        else:
            raise HeliosError(f"PNG: unknown scanline filter {kind}")
    return out


def decode_png(data: bytes) -> Picture:
    """Decode an 8-bit, non-interlaced greyscale/RGB/RGBA PNG into unfiltered scanlines."""
    chunks = _chunks(data)
    if not chunks or chunks[0][0] != b"IHDR":
        raise HeliosError("PNG: IHDR chunk missing")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if depth != 8 or colour not in CHANNELS or interlace:
        raise HeliosError(
            f"PNG: only 8-bit non-interlaced grey/RGB/RGBA is supported "
            f"(depth {depth}, colour type {colour}, interlace {interlace})"
        )
    channels = CHANNELS[colour]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise HeliosError(f"PNG: image data is {len(raw)} bytes, expected {height * (stride + 1)}")
    rows: list[bytes] = []
    prev = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), prev, channels)
        prev = bytes(line)
        rows.append(prev)
    return Picture(width, height, channels, rows)


def _desktop_area_colours(picture: Picture) -> int:
    step, left = picture.channels, picture.width // 3
    area = {
        row[x * step : (x + 1) * step]
        for row in picture.rows[picture.height // 8 :]
        for x in range(left, picture.width)
    }
    return len(area)


def stats(picture: Picture) -> PictureStats:
    counts = Counter(picture.pixels())
    total = picture.width * picture.height
    share = counts.most_common(1)[0][1] / total if total else 1.0
    area = _desktop_area_colours(picture)
    return PictureStats(picture.width, picture.height, len(counts), share, area)


def png_stats(path: Path) -> PictureStats:
    return stats(decode_png(path.read_bytes()))


def chromium_binary() -> str | None:
    """The Chromium to use: $HELIOS_CHROMIUM, else `chromium` / `chromium-browser` on PATH."""
    explicit = os.environ.get("HELIOS_CHROMIUM")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(
    url: str,
    out: Path,
    size: tuple[int, int] = (1280, 800),
    settle_ms: int = 5000,
    timeout: float = 90.0,
) -> Path:
    """Render `url` in a fresh headless Chromium profile and save a PNG screenshot to `out`.

    `settle_ms` is Chromium's virtual time budget: how long scripts may run before the shot.
    Never pass credentials in `url`; put an AuthProxy in front instead.
    """
    binary = chromium_binary()
    if binary is None:
        raise HeliosError("chromium not found: apt-get install chromium (or set HELIOS_CHROMIUM)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="helios-chromium-") as profile:
        cmd = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={size[0]},{size[1]}",
            f"--virtual-time-budget={settle_ms}",
            f"--screenshot={out}",
            url,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0 or not out.is_file():
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise HeliosError(f"chromium screenshot of {url} failed (exit {result.returncode}): {tail}")
    return out


class RenderedPageWaitStrategy(WaitStrategy):
    """Wait until a screenshot of `url` shows a rendered page (see PictureStats.rendered), or
    with `desktop=True` a drawn remote desktop (PictureStats.desktop).

    The last screenshot stays at `out` as the artifact; `last` holds its statistics.
    """

    def __init__(
        self, url: str, out: Path, size: tuple[int, int] = (1280, 800), desktop: bool = False
    ) -> None:
        super().__init__()
        self._url = url
        self._out = out
        self._size = size
        self._desktop = desktop
        self.last: PictureStats | None = None

    def _check(self) -> bool:
        screenshot(self._url, self._out, self._size)
        self.last = png_stats(self._out)
        return self.last.desktop if self._desktop else self.last.rendered

    def wait_until_ready(self, container: WaitStrategyTarget) -> None:
        if not self._poll(self._check):
            raise TimeoutError(
                f"{self._url} did not render within {self._startup_timeout:.0f}s "
                f"(last screenshot {self._out}: {self.last})"
            )
