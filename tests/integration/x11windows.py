"""The top-level windows of the X display, for asserting that a launcher opened one.

CLIENTS_PY runs inside the container with the image's python3 (Debian: from xfce4-helpers) and
libX11 through ctypes -- the image has no xprop/xwininfo (x11-utils) and the test must not add
packages to it. It prints `window pid class` for each entry of the window manager's
_NET_CLIENT_LIST (EWMH).
"""

from dataclasses import dataclass

CLIENTS_PATH = "/tmp/helios-x11-clients.py"
CLIENTS_PY = r"""
import ctypes as C
x = C.CDLL("libX11.so.6")
P = C.POINTER
x.XOpenDisplay.restype = C.c_void_p
x.XOpenDisplay.argtypes = [C.c_char_p]
x.XDefaultRootWindow.restype = C.c_ulong
x.XDefaultRootWindow.argtypes = [C.c_void_p]
x.XInternAtom.restype = C.c_ulong
x.XInternAtom.argtypes = [C.c_void_p, C.c_char_p, C.c_int]
x.XGetWindowProperty.argtypes = [
    C.c_void_p, C.c_ulong, C.c_ulong, C.c_long, C.c_long, C.c_int, C.c_ulong,
    P(C.c_ulong), P(C.c_int), P(C.c_ulong), P(C.c_ulong), P(C.c_void_p),
]
d = x.XOpenDisplay(None)
assert d, "cannot open the display"


def prop(win, name):
    kind, fmt, n, after, data = C.c_ulong(), C.c_int(), C.c_ulong(), C.c_ulong(), C.c_void_p()
    atom = x.XInternAtom(d, name, 0)
    refs = [C.byref(v) for v in (kind, fmt, n, after, data)]
    x.XGetWindowProperty(d, win, atom, 0, 4096, 0, 0, *refs)
    return n.value, data


n, data = prop(x.XDefaultRootWindow(d), b"_NET_CLIENT_LIST")
for w in (C.cast(data, P(C.c_ulong))[:n] if n else []):
    m, cls = prop(w, b"WM_CLASS")
    raw = C.string_at(cls, m) if m else b""
    name = raw.split(b"\0")[1].decode() if raw.count(b"\0") >= 1 else raw.decode()
    m, pid = prop(w, b"_NET_WM_PID")
    print(w, C.cast(pid, P(C.c_ulong))[0] if m else 0, name or "?")
"""


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
