"""A minimal RFB (VNC) client over the web client's websocket, for the multi-monitor test.

Only what the Kasm web client does to span several monitors: the RFB 3.8 handshake with security
type None (nginx authenticates the websocket), SetEncodings announcing ExtendedDesktopSize, then
SetDesktopSize (message 251) with one screen per monitor, laid out as core/rfb.js
`RFB.messages.setDesktopSize` lays them out (screen id = index, flags = 0, the framebuffer as
large as the union of the screens). No RFB library on PyPI speaks websocket + this extension, so
the few messages are packed here with `struct`; the transport is websocket-client's.
"""

import struct
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import websocket
from support.integration import Credentials

SECURITY_NONE = 1
MSG_SET_ENCODINGS = 2
MSG_SET_DESKTOP_SIZE = 251
SERVER_FRAMEBUFFER_UPDATE = 0
ENCODING_RAW = 0
PSEUDO_DESKTOP_SIZE = -223
PSEUDO_EXTENDED_DESKTOP_SIZE = -308


@dataclass(frozen=True)
class Screen:
    x: int
    y: int
    width: int
    height: int


def set_desktop_size(screens: list[Screen]) -> bytes:
    """SetDesktopSize for `screens`, byte for byte as the Kasm web client sends it."""
    width = max(s.x + s.width for s in screens)
    height = max(s.y + s.height for s in screens)
    out = struct.pack(">BBHHBB", MSG_SET_DESKTOP_SIZE, 0, width, height, len(screens), 0)
    for index, s in enumerate(screens):
        out += struct.pack(">IHHHHI", index, s.x, s.y, s.width, s.height, 0)
    return out


class RfbSession:
    """An RFB session through nginx's /websockify (basic auth in a header, never in the URL)."""

    def __init__(self, host: str, port: int, creds: Credentials, timeout: float = 15.0) -> None:
        self._url = f"ws://{host}:{port}/websockify"
        self._origin = f"http://{host}:{port}"
        self._creds = creds
        self._timeout = timeout
        self._ws: websocket.WebSocket | None = None
        self._buffer = b""
        self.name = ""
        self.size = (0, 0)

    def __enter__(self) -> Self:
        self._ws = websocket.create_connection(
            self._url,
            timeout=self._timeout,
            subprotocols=["binary"],
            origin=self._origin,
            header=[f"Authorization: {self._creds.header()}"],
        )
        self._handshake()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ws is not None:
            self._ws.close()

    def _read(self, count: int) -> bytes:
        assert self._ws is not None
        deadline = time.monotonic() + self._timeout
        while len(self._buffer) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"RFB: waited for {count} bytes, have {len(self._buffer)}")
            frame = self._ws.recv()
            self._buffer += frame if isinstance(frame, bytes) else frame.encode()
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def send(self, data: bytes) -> None:
        assert self._ws is not None
        self._ws.send_binary(data)

    def _handshake(self) -> None:
        version = self._read(12)
        if not version.startswith(b"RFB 003."):
            raise ConnectionError(f"not an RFB server: {version!r}")
        self.send(b"RFB 003.008\n")
        (count,) = struct.unpack(">B", self._read(1))
        types = list(self._read(count))
        if SECURITY_NONE not in types:
            raise ConnectionError(f"RFB: security type None not offered ({types})")
        self.send(bytes([SECURITY_NONE]))
        (result,) = struct.unpack(">I", self._read(4))
        if result != 0:
            raise ConnectionError(f"RFB: security result {result}")
        self.send(b"\x01")  # ClientInit: shared, like the web client
        width, height = struct.unpack(">HH", self._read(4))
        self._read(16)  # pixel format
        (name_length,) = struct.unpack(">I", self._read(4))
        self.name = self._read(name_length).decode(errors="replace")
        self.size = (width, height)
        encodings = [ENCODING_RAW, PSEUDO_EXTENDED_DESKTOP_SIZE, PSEUDO_DESKTOP_SIZE]
        self.send(
            struct.pack(f">BBH{len(encodings)}i", MSG_SET_ENCODINGS, 0, len(encodings), *encodings)
        )

    def request_screens(self, screens: list[Screen]) -> None:
        self.send(set_desktop_size(screens))
