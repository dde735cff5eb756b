"""Commands inside a running Helios container as the desktop user, in the desktop's environment.

`session_env` copies the environment of a process of the XFCE session (DISPLAY, XAUTHORITY-less
~/.Xauthority, DBUS_SESSION_BUS_ADDRESS, PULSE_SERVER, XDG_*), so a command started here is
started the way the panel starts it. Files move in and out with the Docker archive API.
"""

import io
import itertools
import math
import struct
import tarfile
import time
import wave
from collections.abc import Iterable

from itsetup import GID, TIMEOUT, UID, USER
from python_on_whales import DockerClient
from support import integration
from support.integration import Desktop
from testcontainers.core.wait_strategies import ExecWaitStrategy

HOME = f"/home/{USER}"
PULSE_SERVER = "unix:/run/helios/pulse/native"
# What a shell in the session gets at least (the X display and the PulseAudio socket).
BASE_ENV = {
    "DISPLAY": ":1",
    "XAUTHORITY": f"{HOME}/.Xauthority",
    "HOME": HOME,
    "USER": USER,
    "PULSE_SERVER": PULSE_SERVER,
}
# Variables copied from the session process (never PASSWORD, which the session has not).
SESSION_VARS = (
    "DISPLAY",
    "DBUS_SESSION_BUS_ADDRESS",
    "PULSE_SERVER",
    "PULSE_RUNTIME_PATH",
    "XDG_RUNTIME_DIR",
    "XDG_SESSION_TYPE",
    "XDG_CURRENT_DESKTOP",
    "XDG_CONFIG_DIRS",
    "XDG_DATA_DIRS",
    "PATH",
    "LANG",
)


def session_env(client: DockerClient, desktop: Desktop, process: str = "xfce4-panel") -> dict:
    """BASE_ENV plus SESSION_VARS as `process` (a session process of the user) has them.

    /health is 200 once the window manager runs; xfce4-session starts the panel and the rest
    after xfwm4 registered with it (2-3 s later on sid), so the process is waited for."""
    running = ["pgrep", "-u", str(UID), "-x", process]
    ExecWaitStrategy(running).with_startup_timeout(TIMEOUT).wait_until_ready(desktop.container)
    procs = integration.find(integration.processes(client, desktop.id), process)
    mine = [p for p in procs if p.uid == UID]
    assert mine, f"no {process} process of uid {UID}"
    # As the user: root in the container has no CAP_SYS_PTRACE to read another uid's environ.
    environ = ["cat", f"/proc/{mine[0].pid}/environ"]
    raw = str(client.container.execute(desktop.id, environ, user=f"{UID}:{GID}"))
    env = dict(BASE_ENV)
    for item in raw.split("\0"):
        key, sep, value = item.partition("=")
        if sep and key in SESSION_VARS:
            env[key] = value
    return env


def user_run(
    client: DockerClient,
    desktop: Desktop,
    command: list[str],
    env: dict | None = None,
    detach: bool = False,
) -> str:
    """Run `command` as the desktop user (uid:gid) from its home; output, or "" when detached."""
    output = client.container.execute(
        desktop.id,
        command,
        user=f"{UID}:{GID}",
        envs=env or BASE_ENV,
        workdir=HOME,
        detach=detach,
    )
    return "" if detach else str(output)


def put_file(desktop: Desktop, path: str, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` in the container, owned by the desktop user."""
    directory, _, name = path.rpartition("/")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.uid, info.gid = len(data), mode, UID, GID
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
    desktop.container.get_wrapped_container().put_archive(directory or "/", archive.getvalue())


def get_file(desktop: Desktop, path: str) -> bytes:
    """The bytes of the file `path` in the container."""
    stream, _ = desktop.container.get_wrapped_container().get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.getmembers()[0]
        handle = tar.extractfile(member)
        assert handle is not None, f"{path} is not a regular file"
        return handle.read()


def sine(frequency: float, seconds: float, rate: int = 44100, channels: int = 1) -> bytes:
    """Signed 16-bit little-endian PCM of a sine at half full scale."""
    frames = int(seconds * rate)
    out = bytearray()
    for n in range(frames):
        sample = int(16383 * math.sin(2 * math.pi * frequency * n / rate))
        out += struct.pack("<h", sample) * channels
    return bytes(out)


def wav(pcm: bytes, rate: int = 44100, channels: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def samples(pcm: bytes, channels: int = 1) -> list[int]:
    """The first channel of interleaved S16LE `pcm`."""
    count = len(pcm) // 2
    values = struct.unpack(f"<{count}h", pcm[: count * 2])
    return list(values[::channels])


def rms(values: Iterable[int]) -> float:
    values = list(values)
    return math.sqrt(sum(v * v for v in values) / len(values)) if values else 0.0


def frequency(values: list[int], rate: int = 44100) -> float:
    """Estimated frequency (Hz) of a tone from its rising zero crossings."""
    crossings = sum(1 for a, b in itertools.pairwise(values) if a < 0 <= b)
    return crossings * rate / len(values) if values else 0.0
