"""`invoke release` on a copy of this tree, then the unit suite on the released copy.

The release commit must leave a tree whose own unit tests pass: a test that hard-codes the
version (or any other file the release rewrites) fails here, before a tag could be pushed.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helios import ROOT, release, version

THIS = "tests/unit/test_release_clone.py"


def run(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)


def tree_files(root: Path) -> list[str]:
    """Files git tracks plus untracked ones it does not ignore: the tree as it is now."""
    listed = run(root, "git", "ls-files", "-co", "--exclude-standard").stdout.splitlines()
    return [rel for rel in listed if (root / rel).is_file()]


@pytest.fixture
def released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    clone = tmp_path / "helios"
    for rel in tree_files(ROOT):
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, clone / rel)
    for args in (
        ("init", "-q", "-b", "main"),
        ("config", "user.name", "Helios Test"),
        ("config", "user.email", "test@example.invalid"),
        ("config", "commit.gpgsign", "false"),
        ("config", "tag.gpgsign", "false"),
        ("add", "-A"),
        ("commit", "-q", "-m", "copy of the tree"),
    ):
        assert run(clone, "git", *args).returncode == 0, args
    return clone


def test_release_then_unit_suite_passes_on_the_result(released: Path) -> None:
    if os.environ.get("HELIOS_NESTED_RELEASE_TEST"):
        pytest.skip("already inside the released copy's unit suite")
    old = version.read()
    new = release.bump(old, "minor")
    result = run(released, sys.executable, "-m", "invoke", "release", "--part", "minor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert version.read(released / "version.toml") == new
    assert run(released, "git", "tag", "--list", f"v{new}").stdout.strip() == f"v{new}"
    assert run(released, "git", "status", "--porcelain").stdout == ""
    # The copy's own package is what runs there, not this tree's.
    where = run(released, sys.executable, "-c", "import helios; print(helios.ROOT)")
    assert Path(where.stdout.strip()) == released
    env = os.environ | {"HELIOS_NESTED_RELEASE_TEST": "1"}
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/unit", "-q", "-p", "no:cacheprovider", "-x"],
        cwd=released,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    tail = "\n".join((suite.stdout + suite.stderr).strip().splitlines()[-25:])
    assert suite.returncode == 0, f"unit suite fails after `invoke release`:\n{tail}"
