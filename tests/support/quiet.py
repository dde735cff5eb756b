"""A quiet machine before a timed start: Linux pressure stall information (PSI).

A container's start on a 2-core machine is CPU- and disk-bound, so a start timed while another
tenant of a shared disk writes (or the previous run's container is still being torn down)
measures the neighbour, not the image. `wait_quiet` waits, up to a bound, until the last 10 s
of CPU and I/O pressure ("some avg10" in /proc/pressure/{cpu,io}) are under their limits, and
returns the pressure it started with, which the measurement records beside each start. It never
hides a run: on a machine that stays busy it gives up after `timeout` and the run is timed and
recorded with the pressure it had. Without PSI (not Linux, or a remote engine) it returns None.
"""

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

PRESSURE = Path("/proc/pressure")
# "some avg10": percent of the last 10 s in which at least one task waited for the resource.
IO_LIMIT = 5.0
CPU_LIMIT = 10.0
TIMEOUT = 90.0
POLL = 1.0


@dataclass(frozen=True)
class Pressure:
    cpu: float
    io: float

    def quiet(self, cpu_limit: float = CPU_LIMIT, io_limit: float = IO_LIMIT) -> bool:
        return self.cpu <= cpu_limit and self.io <= io_limit

    def __str__(self) -> str:
        return f"cpu {self.cpu:.1f} % io {self.io:.1f} %"


def some_avg10(text: str) -> float:
    """The `some avg10=` percentage of one /proc/pressure file's text."""
    for line in text.splitlines():
        kind, _, fields = line.partition(" ")
        if kind != "some":
            continue
        values = dict(field.split("=", 1) for field in fields.split())
        return float(values["avg10"])
    raise ValueError(f"no 'some' line in pressure data: {text!r}")


def read(root: Path = PRESSURE) -> Pressure | None:
    """The machine's current pressure, or None where the kernel offers no PSI."""
    try:
        cpu = (root / "cpu").read_text()
        io = (root / "io").read_text()
    except OSError:
        return None
    return Pressure(cpu=some_avg10(cpu), io=some_avg10(io))


def wait_quiet(
    root: Path = PRESSURE,
    timeout: float = TIMEOUT,
    poll: float = POLL,
    sleep: Callable[[float], None] = time.sleep,
) -> Pressure | None:
    """Wait (at most `timeout` seconds) for a quiet machine; the pressure when the wait ended."""
    waited = 0.0
    while True:
        pressure = read(root)
        if pressure is None or pressure.quiet() or waited >= timeout:
            return pressure
        sleep(poll)
        waited += poll


def engine_is_local(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the Docker engine runs on this machine (its pressure is this machine's)."""
    host = env.get("DOCKER_HOST", "")
    return host == "" or host.startswith("unix://")
