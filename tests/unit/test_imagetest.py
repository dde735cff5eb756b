"""`invoke test <distro>` (helios.imagetest): what it builds and runs, without Docker."""

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from invoke.context import Context

from helios import ROOT, HeliosError, imagetest, matrix
from helios import tasks as t

PY = sys.executable


def pick(*names: str) -> list[matrix.Distro]:
    return matrix.select(matrix.load(), list(names))


class Recorder:
    """The injected engine, build and runner: records what happens, in order."""

    def __init__(self, present=(), codes=None):
        self.present = set(present)
        self.codes = codes or {}
        self.events: list[tuple] = []

    def exists(self, image):
        self.events.append(("exists", image))
        return image in self.present

    def build(self, distros):
        self.events.append(("build", [d.name for d in distros]))

    def runner(self, step):
        self.events.append(("run", step.argv, dict(step.env)))
        return self.codes.get(step.argv[4], 0)


def test_a_present_image_is_tested_as_it_is(capsys):
    seen = Recorder(present={"helios:bookworm"})
    imagetest.run(pick("bookworm"), exists=seen.exists, build=seen.build, runner=seen.runner)
    env = {"HELIOS_IMAGE_BOOKWORM": "helios:bookworm", "HELIOS_IT_DISTROS": "bookworm"}
    assert seen.events == [
        ("exists", "helios:bookworm"),
        ("run", (PY, "-m", "nox", "-s", "integration"), env),
        ("run", (PY, "-m", "nox", "-s", "measure", "--", "bookworm"), env),
    ]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "helios:bookworm is present: testing it as it is (not rebuilt)"
    assert [line.split(":")[0] for line in out[1:]] == [
        "screenshot (bookworm)",
        "junit",
        "measurements",
    ]


def test_a_missing_image_is_built_first_under_helios_repo(capsys):
    environ = {"HELIOS_REPO": "helios-x"}
    seen = Recorder(present={"helios-x:sid"})
    imagetest.run(
        pick("rocky-9", "sid"),
        exists=seen.exists,
        build=seen.build,
        runner=seen.runner,
        environ=environ,
    )
    env = {
        "HELIOS_IMAGE_ROCKY_9": "helios-x:rocky-9",
        "HELIOS_IMAGE_SID": "helios-x:sid",
        "HELIOS_IT_DISTROS": "rocky-9,sid",
    }
    assert seen.events == [
        ("exists", "helios-x:rocky-9"),
        ("exists", "helios-x:sid"),
        ("build", ["rocky-9"]),  # only the missing one, before anything runs
        ("run", (PY, "-m", "nox", "-s", "integration"), env),
        ("run", (PY, "-m", "nox", "-s", "measure", "--", "rocky-9", "sid"), env),
    ]
    assert "building helios-x:rocky-9 (not in the engine)" in capsys.readouterr().out


def test_every_step_runs_and_each_failure_is_named_in_one_line(capsys):
    seen = Recorder(present={"helios:trixie"}, codes={"integration": 1, "measure": 2})
    with pytest.raises(HeliosError) as err:
        imagetest.run(pick("trixie"), exists=seen.exists, build=seen.build, runner=seen.runner)
    assert [e[1][4] for e in seen.events if e[0] == "run"] == ["integration", "measure"]
    assert str(err.value) == (
        "failed: nox -s integration (exit 1), nox -s measure -- trixie (exit 2); "
        "see their output above"
    )
    assert "junit: reports/junit-integration.xml" in capsys.readouterr().out


def test_a_failed_build_runs_no_suite():
    seen = Recorder()

    def build(distros):
        raise HeliosError("sources folder /x: not a directory")

    with pytest.raises(HeliosError, match="not a directory"):
        imagetest.run(pick("sid"), exists=seen.exists, build=build, runner=seen.runner)
    assert [e[0] for e in seen.events] == ["exists"]


def test_the_files_are_named_and_marked_when_not_written(tmp_path, monkeypatch):
    shot = tmp_path / "screenshots" / "sid.png"
    shot.parent.mkdir()
    shot.write_bytes(b"png")
    monkeypatch.setattr(imagetest, "SCREENSHOTS", shot.parent)
    monkeypatch.setattr(imagetest, "JUNIT", tmp_path / "junit.xml")
    named = dict(imagetest.artifacts(pick("sid")))
    assert imagetest.describe(named["screenshot (sid)"]) == str(shot)
    assert imagetest.describe(named["junit"]) == f"{tmp_path / 'junit.xml'} (not written)"
    assert imagetest.describe(ROOT / "reports" / "none.toml") == "reports/none.toml (not written)"
    os.utime(shot, (1_000_000, 1_000_000))
    assert imagetest.describe(shot, since=2_000_000) == (
        f"{shot} (not written by this run: it is older)"
    )


def test_run_step_hands_its_variables_to_the_command(capfd, monkeypatch):
    monkeypatch.setenv("HELIOS_KEPT", "from the caller")
    script = (
        "import os; print(os.getcwd(), os.environ['HELIOS_IMAGE_SID'], os.environ['HELIOS_KEPT'])"
    )
    code = imagetest.run_step(imagetest.Step((PY, "-c", script), {"HELIOS_IMAGE_SID": "x:sid"}))
    out = capfd.readouterr().out.splitlines()
    assert code == 0
    assert out[0].startswith("running: HELIOS_IMAGE_SID=x:sid ")
    assert out[1] == f"{ROOT} x:sid from the caller"
    failing = imagetest.Step((PY, "-c", "raise SystemExit(3)"), {})
    assert imagetest.run_step(failing) == 3


def test_the_task_checks_the_engine_and_builds_with_its_options(monkeypatch, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("cert")
    events: list[tuple] = []
    client = SimpleNamespace(image=SimpleNamespace(exists=lambda tag: False))
    monkeypatch.setattr(t, "docker_client", lambda **kw: client)
    monkeypatch.setattr(
        t, "build_images", lambda distros, **kw: events.append(([d.name for d in distros], kw))
    )
    monkeypatch.setattr(imagetest, "run_step", lambda step: events.append(step.argv[4]) or 0)
    t.test_task(Context(), "noble", sources=str(tmp_path), ca_bundle=str(ca))
    assert events == [
        (["noble"], {"sources": str(tmp_path), "ca_bundle": str(ca)}),
        "integration",
        "measure",
    ]


def test_helios_it_distros_deselects_the_other_distros():
    """The integration suite honours the selection `invoke test` passes (collection only)."""

    def collect(value):
        return subprocess.run(
            [
                PY,
                "-m",
                "pytest",
                "tests/integration",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, imagetest.SELECT_VAR: value},
        )

    every = collect("")
    chosen = collect("sid,rocky-9")
    assert every.returncode == 0 and chosen.returncode == 0, chosen.stdout + chosen.stderr
    all_ids = [line for line in every.stdout.splitlines() if "::" in line]
    ids = [line for line in chosen.stdout.splitlines() if "::" in line]
    assert ids == [i for i in all_ids if i.split("[", 1)[1].startswith(("sid", "rocky-9"))]
    assert len(ids) * len(matrix.load()) == 2 * len(all_ids)
    wrong = collect("buster")
    assert wrong.returncode != 0
    assert "HELIOS_IT_DISTROS: unknown distro 'buster'; valid: " in wrong.stderr


def test_bench_runs_the_streaming_benchmark_against_the_tested_image(capsys):
    seen = Recorder(present={"helios:sid"})
    imagetest.run(pick("sid"), exists=seen.exists, build=seen.build, runner=seen.runner, bench=True)
    env = {"HELIOS_IMAGE_SID": "helios:sid", "HELIOS_IT_DISTROS": "sid"}
    assert seen.events == [
        ("exists", "helios:sid"),
        ("run", (PY, "-m", "nox", "-s", "bench"), env),
    ]
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out[1:]] == ["measurements"]
