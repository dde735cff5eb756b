"""`.ci/space.sh DIR MIN_GB`: the free-space check .ci/run makes before the container tier."""

import subprocess
from pathlib import Path

from helios import ROOT

SPACE = ROOT / ".ci" / "space.sh"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SPACE), *args], capture_output=True, text=True, check=False)


def test_enough_space_passes_and_says_how_much(tmp_path: Path) -> None:
    result = run(str(tmp_path), "0")
    assert result.returncode == 0, result.stderr
    assert f"{tmp_path}: " in result.stdout and "GB free (needs 0 GB)" in result.stdout


def test_too_little_space_fails_with_one_line_naming_dir_and_need(tmp_path: Path) -> None:
    result = run(str(tmp_path), "999999999")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert str(tmp_path) in lines[0] and "needs 999999999 GB" in lines[0]
    assert "HELIOS_CI_MIN_FREE_GB" in lines[0]
    assert result.stdout == ""


def test_bad_arguments_fail_with_one_line(tmp_path: Path) -> None:
    cases = {
        (str(tmp_path), "15x"): "MIN_GB must be a whole number",
        (str(tmp_path / "missing"), "1"): "is not a directory",
        (str(tmp_path),): "usage: space.sh DIR MIN_GB",
    }
    for args, message in cases.items():
        result = run(*args)
        assert result.returncode == 1, args
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
