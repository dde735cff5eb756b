"""The top-level windows of the X display, for asserting that a launcher opened one.

x11clients.js runs inside the container with the image's Node (kclient's runtime): a minimal X11
client over the display's unix socket (MIT-MAGIC-COOKIE-1 from ~/.Xauthority) that prints
`window pid class` for each entry of the window manager's _NET_CLIENT_LIST (EWMH). The image has
no xprop/xwininfo (x11-utils) and no Python, and the test must not add packages to it.
"""

from dataclasses import dataclass
from pathlib import Path

CLIENTS_PATH = "/tmp/helios-x11-clients.js"
CLIENTS_JS = (Path(__file__).parent / "x11clients.js").read_text()


@dataclass(frozen=True)
class Window:
    id: int
    pid: int
    wm_class: str


def parse_clients(text: str) -> dict[int, Window]:
    windows = {}
    for line in text.splitlines():
        parts = line.split(maxsplit=2)
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            windows[int(parts[0])] = Window(int(parts[0]), int(parts[1]), parts[2])
    return windows
