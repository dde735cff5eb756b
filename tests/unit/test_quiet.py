"""tests/support/quiet.py: reading PSI and waiting for a quiet machine before a timed start."""

from pathlib import Path

import pytest
from support import quiet

BUSY_IO = (
    "some avg10=42.50 avg60=30.00 avg300=12.39 total=1\n"
    "full avg10=40.00 avg60=1.00 avg300=1.00 total=1\n"
)


def pressure_dir(tmp_path: Path, cpu: float, io: float) -> Path:
    for name, value in (("cpu", cpu), ("io", io)):
        (tmp_path / name).write_text(
            f"some avg10={value:.2f} avg60=0.00 avg300=0.00 total=0\n"
            "full avg10=99.00 avg60=0.00 avg300=0.00 total=0\n"
        )
    return tmp_path


def test_some_avg10_reads_the_some_line_not_full() -> None:
    assert quiet.some_avg10(BUSY_IO) == 42.5


def test_some_avg10_without_some_line_is_an_error() -> None:
    with pytest.raises(ValueError, match="no 'some' line"):
        quiet.some_avg10("full avg10=1.00 avg60=0 avg300=0 total=0\n")


def test_read_without_psi_is_none(tmp_path: Path) -> None:
    assert quiet.read(tmp_path / "missing") is None


def test_quiet_machine_is_not_waited_for(tmp_path: Path) -> None:
    naps: list[float] = []
    got = quiet.wait_quiet(pressure_dir(tmp_path, cpu=2.0, io=1.0), sleep=naps.append)
    assert got == quiet.Pressure(cpu=2.0, io=1.0)
    assert naps == []


def test_busy_disk_is_waited_out_until_it_settles(tmp_path: Path) -> None:
    root = pressure_dir(tmp_path, cpu=0.0, io=42.5)
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:  # the neighbour stops writing
            pressure_dir(tmp_path, cpu=0.0, io=0.5)

    got = quiet.wait_quiet(root, timeout=60, poll=1.0, sleep=nap)
    assert got == quiet.Pressure(cpu=0.0, io=0.5)
    assert naps == [1.0, 1.0, 1.0]


def test_a_machine_that_stays_busy_is_timed_anyway_with_its_pressure(tmp_path: Path) -> None:
    naps: list[float] = []
    got = quiet.wait_quiet(
        pressure_dir(tmp_path, cpu=35.0, io=0.0), timeout=5, poll=1.0, sleep=naps.append
    )
    assert got is not None and not got.quiet() and got.cpu == 35.0
    assert len(naps) == 5


@pytest.mark.parametrize(
    ("host", "local"),
    [("", True), ("unix:///run/user/1000/docker.sock", True), ("tcp://10.0.0.5:2376", False)],
)
def test_engine_is_local(host: str, local: bool) -> None:
    env = {"DOCKER_HOST": host} if host else {}
    assert quiet.engine_is_local(env) is local
