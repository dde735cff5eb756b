""".ci/image-tests.sh: how the release workflow starts the integration suite for one image."""

import os
import subprocess
from pathlib import Path

import pytest
from support.integration import image_env_var

from helios import ROOT

SCRIPT = ROOT / ".ci" / "image-tests.sh"


def run(tmp_path: Path, *args: str, known: str = "sha256:abc", **env: str):
    """Run the script with a stand-in `docker` that knows one image and records every call."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    log = tmp_path / "docker.log"
    (fake / "docker").write_text(
        "#!/usr/bin/env bash\n"
        f'printf "%s\\n" "$@" >>{log}; echo --- >>{log}\n'
        f'if [[ $1 == image && $2 == inspect ]]; then [[ ${{@: -1}} == "{known}" ]]; fi\n'
    )
    (fake / "docker").chmod(0o755)
    base = {"PATH": f"{fake}:{os.environ['PATH']}", "TMPDIR": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        ["bash", str(SCRIPT), *args], env=base | env, capture_output=True, text=True, check=False
    )
    calls = (
        [c.strip("\n").split("\n") for c in log.read_text().split("---")] if log.exists() else []
    )
    return result, [c for c in calls if c != [""]]


@pytest.mark.parametrize("distro", ["bookworm", "rocky-9"])
def test_names_the_image_the_way_the_suite_reads_it(tmp_path, distro):
    result, calls = run(tmp_path, distro, "sha256:abc", "-k", "health")
    assert result.returncode == 0, result.stderr
    inspect, started = calls
    assert inspect[:2] == ["image", "inspect"]
    assert started[:2] == ["run", "--rm"]
    assert f"{image_env_var(distro)}=sha256:abc" in started
    # the suite's tmp files are bind-mounted by the engine: same path inside and out
    scratch = started[started.index("--env") + 1 :]
    tmpdir = next(v for v in scratch if v.startswith("TMPDIR="))
    folder = tmpdir.removeprefix("TMPDIR=")
    assert f"{folder}:{folder}" in started and folder.startswith(str(tmp_path))
    assert f"{ROOT}:{ROOT}" in started
    assert "--privileged" not in started
    assert started[-6:] == [
        "debian:bookworm",
        "bash",
        ".ci/image-tests-debian.sh",
        distro,
        "-k",
        "health",
    ]


def test_an_image_the_engine_lacks_starts_nothing(tmp_path):
    result, calls = run(tmp_path, "sid", "helios:missing")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: IMAGE 'helios:missing' is not in the local engine"
    assert len(calls) == 1


@pytest.mark.parametrize("name", ["Bookworm", "sid;rm", "../x", "-k"])
def test_a_bad_distro_name_starts_nothing(tmp_path, name):
    result, calls = run(tmp_path, name, "sha256:abc")
    assert result.returncode == 1
    assert "lower-case name" in result.stderr
    assert calls == []


def test_a_missing_ca_bundle_is_one_line(tmp_path):
    result, calls = run(tmp_path, "sid", "sha256:abc", HELIOS_CA_BUNDLE=str(tmp_path / "none.pem"))
    assert result.returncode == 1
    assert "HELIOS_CA_BUNDLE" in result.stderr and "is not a file" in result.stderr
    assert not any(c[0] == "run" for c in calls)


def test_a_ca_bundle_is_mounted_read_only_and_trusted(tmp_path):
    pem = tmp_path / "corp.pem"
    pem.write_text("cert")
    result, calls = run(tmp_path, "sid", "sha256:abc", HELIOS_CA_BUNDLE=str(pem))
    assert result.returncode == 0, result.stderr
    started = calls[-1]
    assert f"{pem}:/etc/helios-ca.pem:ro" in started
    assert "PIP_CERT=/etc/helios-ca.pem" in started
