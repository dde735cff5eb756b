"""`.ci/engine.sh start/stop` with a stand-in dockerd and docker on PATH (no real engine).

The stand-in dockerd is a shell script of that name (so /proc/<pid>/comm says dockerd, as the
script checks) that marks the engine as answering and then idles; the stand-in docker answers
`docker info` once that mark exists.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helios import ROOT

ENGINE = ROOT / ".ci" / "engine.sh"
FAKE_DOCKERD = """#!/bin/sh
touch "$FAKE_ENGINE_UP"
trap 'rm -f "$FAKE_ENGINE_UP"; exit 0' TERM
while :; do sleep 0.2; done
"""
FAKE_DOCKER = """#!/bin/sh
[ "$1" = info ] && [ -e "$FAKE_ENGINE_UP" ] && echo 20.10-fake && exit 0
exit 1
"""


class Engine:
    def __init__(self, tmp_path: Path):
        self.state = tmp_path / "state"
        self.pidfile = self.state / "dockerd.pid"
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for name, text in (("dockerd", FAKE_DOCKERD), ("docker", FAKE_DOCKER)):
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        self.env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "HELIOS_ENGINE_STATE": str(self.state),
            "HELIOS_ENGINE_LOG": str(tmp_path / "dockerd.log"),
            "HELIOS_ENGINE_WAIT": "20",
            "FAKE_ENGINE_UP": str(tmp_path / "up"),
        }

    def run(self, command: str, run: str | None) -> subprocess.CompletedProcess[str]:
        env = dict(self.env) | ({"HELIOS_ENGINE_RUN": run} if run is not None else {})
        return subprocess.run(
            ["bash", str(ENGINE), command],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def recorded_pid(self) -> int:
        return int(self.pidfile.read_text().split()[0])


def alive(pid: int) -> bool:
    """A running stand-in dockerd (an exited one that nobody reaped yet is a zombie: not)."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[0]
    except OSError:
        return False
    return comm == "dockerd\n" and state != "Z"


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    """The last log line without its [HH:MM:SS] stamp."""
    return (result.stdout + result.stderr).strip().splitlines()[-1].split("] ", 1)[-1]


@pytest.fixture
def engine(tmp_path):
    made = Engine(tmp_path)
    yield made
    if made.pidfile.exists():  # the stand-in this test started, if a stop left it running
        pid = made.recorded_pid()
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_stop_stops_only_the_engine_this_run_started(engine):
    started = engine.run("start", "run-a")
    assert started.returncode == 0, started.stdout + started.stderr
    pid = engine.recorded_pid()
    assert engine.pidfile.read_text() == f"{pid} run-a\n"
    assert last_line(started) == f"stop it with: HELIOS_ENGINE_RUN=run-a {ENGINE} stop"

    other = engine.run("stop", "run-b")  # another invocation sharing the pidfile
    assert other.returncode == 0
    assert last_line(other) == f"dockerd {pid} was started by run 'run-a', not 'run-b'; " + (
        "leaving it running"
    )
    time.sleep(0.5)
    assert alive(pid) and engine.pidfile.exists()

    unnamed = engine.run("stop", None)
    assert unnamed.returncode == 1
    assert unnamed.stderr.strip() == (
        "error: HELIOS_ENGINE_RUN is not set: stop stops only the engine of that run"
    )
    assert alive(pid)

    own = engine.run("stop", "run-a")
    assert own.returncode == 0, own.stdout + own.stderr
    assert last_line(own) == "dockerd stopped"
    assert not alive(pid) and not engine.pidfile.exists()


def test_a_pidfile_without_a_run_name_is_never_stopped(engine):
    """What `start` wrote before runs were named (the pid alone) belongs to no run."""
    assert engine.run("start", "run-a").returncode == 0
    pid = engine.recorded_pid()
    engine.pidfile.write_text(f"{pid}\n")
    result = engine.run("stop", "run-a")
    assert result.returncode == 0
    assert last_line(result) == f"dockerd {pid} was started by run 'unnamed', not 'run-a'; " + (
        "leaving it running"
    )
    assert alive(pid)


def test_start_leaves_an_answering_engine_alone_and_stop_then_has_nothing(engine):
    assert engine.run("start", "run-a").returncode == 0
    pid = engine.recorded_pid()
    second = engine.run("start", "run-b")
    assert second.returncode == 0
    assert last_line(second) == (
        "a Docker engine already answers; leaving it as it is (this run starts none)"
    )
    assert engine.pidfile.read_text() == f"{pid} run-a\n"
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    gone = engine.run("stop", "run-a")
    assert gone.returncode == 0
    assert last_line(gone) == "no engine started by engine.sh is running; nothing to stop"


def test_start_without_a_run_name_makes_one_and_says_how_to_stop(engine):
    started = engine.run("start", None)
    assert started.returncode == 0
    pid_text, run = engine.pidfile.read_text().split()
    assert run.startswith("engine-")
    assert last_line(started) == f"stop it with: HELIOS_ENGINE_RUN={run} {ENGINE} stop"
    assert engine.run("stop", run).returncode == 0
    assert not alive(int(pid_text))


def test_a_run_name_that_cannot_be_recorded_is_refused(engine):
    result = engine.run("start", "a b")
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: HELIOS_ENGINE_RUN 'a b': only letters, digits, . _ -")
    assert not engine.pidfile.exists()
