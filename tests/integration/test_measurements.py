"""Start time and idle memory as the median of RUNS fresh starts of each distro's image.

Recorded into reports/measurements.toml (overriding the single values test_desktop.py records),
where `nox -s measure` compares them with budget.toml. Each run: a new container with the suite's
user settings, timed from start until /health answers 200 (testcontainers wait strategy); then
the desktop is left alone until xfdesktop and the panel run plus IDLE_SETTLE seconds, and the
container's memory is read as `docker stats` reports it.

Before each start the run waits (bounded) for a quiet machine (support.quiet: CPU and I/O
pressure of the last 10 s under their limits), so a neighbour on a shared disk or the previous
run's teardown is not timed as the image's start; the pressure each run started with is printed
and recorded (`start_runs`, `start_pressure`), so a run that could not wait it out shows.
"""

import statistics
import time

from itsetup import TIMEOUT, UID, suite_container
from python_on_whales import DockerClient
from support import integration, quiet
from testcontainers.core.wait_strategies import ExecWaitStrategy

from helios import measure
from helios.matrix import Distro

RUNS = 5
IDLE_SETTLE = 10.0
DESKTOP_UP = "pgrep -u {uid} -x xfdesktop >/dev/null && pgrep -u {uid} -x xfce4-panel >/dev/null"


def one_run(client: DockerClient, distro: Distro, image: str) -> tuple[float, int]:
    container = suite_container(image, f"measure-{distro.name}", 3000)
    started = time.monotonic()
    with container:
        # Polled every 0.1 s (the suite's strategy polls every 0.5 s): this is the measurement.
        health = integration.health_strategy(3000, timeout=TIMEOUT).with_poll_interval(0.1)
        ready = integration.wait_ready(container, health, started)
        up = ["sh", "-c", DESKTOP_UP.format(uid=UID)]
        ExecWaitStrategy(up).with_startup_timeout(TIMEOUT).wait_until_ready(container)
        time.sleep(IDLE_SETTLE)
        memory = integration.memory_bytes(client, str(container.get_wrapped_container().id))
    return ready, memory


def test_start_and_idle_memory_medians(
    docker_client: DockerClient, helios_image: tuple[Distro, str]
) -> None:
    distro, image = helios_image
    runs: list[tuple[float, int]] = []
    pressures: list[quiet.Pressure | None] = []
    for _ in range(RUNS):
        pressures.append(quiet.wait_quiet() if quiet.engine_is_local() else None)
        runs.append(one_run(docker_client, distro, image))
    starts = [r[0] for r in runs]
    memories = [r[1] for r in runs]
    start, memory = statistics.median(starts), int(statistics.median(memories))
    measure.record(
        distro.name,
        {
            "image": image,
            "size_bytes": int(docker_client.image.inspect(image).size),
            "start_seconds": round(start, 2),
            "idle_memory_bytes": memory,
            "start_runs": [round(s, 2) for s in starts],
            "start_pressure": [str(p) if p else "unknown" for p in pressures],
        },
    )
    print(
        f"{distro.name}: start {sorted(round(s, 2) for s in starts)} s -> median {start:.2f} s; "
        f"idle {sorted(m // 2**20 for m in memories)} MiB -> median {memory / 2**20:.0f} MiB; "
        f"pressure before each start: {'; '.join(str(p) for p in pressures)}"
    )
    assert len(runs) == RUNS and all(s > 0 for s in starts) and all(m > 0 for m in memories)
