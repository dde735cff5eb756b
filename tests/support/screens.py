"""Browser screenshots (Playwright driving the system Chromium) and a check, with Pillow, that
they show a rendered page or a drawn remote desktop rather than a blank one.

No browser is downloaded: Chromium is $HELIOS_CHROMIUM or `chromium` on PATH (Debian's package),
launched through Playwright's `executable_path`. Credentials go to the browser through
Playwright's `http_credentials` (over its pipe), never in a URL or a process argument.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright
from testcontainers.core.waiting_utils import WaitStrategy, WaitStrategyTarget

from helios import HeliosError

CHROMIUM_FLAGS = (
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
        """A drawn remote desktop: many colours, and the area right of and below the web client's
        controls is not flat. A desktop's plain wallpaper may cover most of the picture, so the
        dominant-colour rule of `rendered` does not apply; a blank or error page has a flat area.
        """
        return self.colours >= MIN_COLOURS and self.desktop_area_colours >= MIN_DESKTOP_AREA_COLOURS


def _colours(image: Image.Image) -> list[tuple[int, object]]:
    return image.getcolors(maxcolors=max(1, image.width * image.height)) or []


def stats(image: Image.Image) -> PictureStats:
    rgb = image.convert("RGB")
    counts = _colours(rgb)
    total = rgb.width * rgb.height
    share = max(count for count, _ in counts) / total if total else 1.0
    area = rgb.crop((rgb.width // 3, rgb.height // 8, rgb.width, rgb.height))
    return PictureStats(rgb.width, rgb.height, len(counts), share, len(_colours(area)))


def png_stats(path: Path) -> PictureStats:
    with Image.open(path) as image:
        return stats(image)


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
    credentials: tuple[str, str] | None = None,
) -> Path:
    """Open `url` in a fresh headless Chromium, let scripts run `settle_ms`, save a PNG to `out`.

    `credentials` (user, password) answer the page's basic-auth challenge for its origin only.
    An HTTP error status of the page itself (e.g. 401 without credentials) raises HeliosError.
    """
    binary = chromium_binary()
    if binary is None:
        raise HeliosError("chromium not found: apt-get install chromium (or set HELIOS_CHROMIUM)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    auth = None
    if credentials is not None:
        origin = "/".join(url.split("/", 3)[:3])
        auth = {"username": credentials[0], "password": credentials[1], "origin": origin}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=binary, args=list(CHROMIUM_FLAGS), timeout=timeout * 1000
            )
            try:
                context = browser.new_context(
                    viewport={"width": size[0], "height": size[1]}, http_credentials=auth
                )
                page = context.new_page()
                response = page.goto(url, timeout=timeout * 1000)
                if response is None or response.status >= 400:
                    status = "no response" if response is None else f"HTTP {response.status}"
                    raise HeliosError(f"screenshot of {url} failed: {status}")
                page.wait_for_timeout(settle_ms)
                page.screenshot(path=str(out))
            finally:
                browser.close()
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HeliosError(f"screenshot of {url} failed: {first}") from exc
    return out


class RenderedPageWaitStrategy(WaitStrategy):
    """Wait until a screenshot of `url` shows a rendered page (see PictureStats.rendered), or
    with `desktop=True` a drawn remote desktop (PictureStats.desktop).

    `credentials` ((user, password), e.g. `Credentials.pair()`) answer basic auth. The last
    screenshot stays at `out` as the artifact; `last` holds its statistics.
    """

    def __init__(
        self,
        url: str,
        out: Path,
        size: tuple[int, int] = (1280, 800),
        desktop: bool = False,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._url = url
        self._out = out
        self._size = size
        self._desktop = desktop
        self._credentials = credentials
        self.last: PictureStats | None = None

    def _check(self) -> bool:
        screenshot(self._url, self._out, self._size, credentials=self._credentials)
        self.last = png_stats(self._out)
        return self.last.desktop if self._desktop else self.last.rendered

    def wait_until_ready(self, container: WaitStrategyTarget) -> None:
        if not self._poll(self._check):
            raise TimeoutError(
                f"{self._url} did not render within {self._startup_timeout:.0f}s "
                f"(last screenshot {self._out}: {self.last})"
            )
