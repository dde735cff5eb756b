"""`invoke test <distro>`: what CI runs for a distro, on this machine.

The image is the tag `invoke build` loads ($HELIOS_REPO:<distro>, see helios.tags); when the
engine lacks it, it is built first. Then the integration suite runs against it
(`nox -s integration` with HELIOS_IMAGE_<DISTRO> naming the image and HELIOS_IT_DISTROS
limiting the suite to the distros asked for), then the budget check (`nox -s measure --
<distro>...`), and the files they wrote are named.

Docker and the build are reached only through the callables passed in (`exists`, `build`,
`runner`), so the unit tier checks what is composed without an engine.
"""

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from helios import ROOT, HeliosError, measure, tags
from helios.matrix import Distro

# The integration suite runs only these distros (comma list; tests/integration/conftest.py).
SELECT_VAR = "HELIOS_IT_DISTROS"
REPORTS = ROOT / "reports"
JUNIT = REPORTS / "junit-integration.xml"  # noxfile.py's integration session writes it
SCREENSHOTS = REPORTS / "screenshots"


@dataclass(frozen=True)
class Step:
    """One command: its argv and the variables it gets on top of the caller's environment."""

    argv: tuple[str, ...]
    env: Mapping[str, str]

    @property
    def label(self) -> str:
        """The command as a contributor would type it (`nox -s integration`)."""
        return shlex.join(self.argv[2:] if self.argv[1:2] == ("-m",) else self.argv)

    def shown(self) -> str:
        return " ".join([*(f"{k}={shlex.quote(v)}" for k, v in self.env.items()), self.label])


Runner = Callable[[Step], int]


def images(distros: list[Distro], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Per distro, the tag to test: the one `invoke build` gives it."""
    return {d.name: tags.built_tag(d.name, environ) for d in distros}


def steps(
    distros: list[Distro], tested: Mapping[str, str], python: str = "", bench: bool = False
) -> list[Step]:
    """`nox -s integration` then `nox -s measure`, both told which images and distros; with
    `bench`, `nox -s bench` (the streaming benchmark) instead."""
    python = python or sys.executable
    names = [d.name for d in distros]
    env = {tags.image_env_var(name): tested[name] for name in names}
    env[SELECT_VAR] = ",".join(names)
    nox = (python, "-m", "nox", "-s")
    if bench:
        return [Step((*nox, "bench"), env)]
    return [Step((*nox, "integration"), env), Step((*nox, "measure", "--", *names), env)]


def run_step(step: Step) -> int:
    """Run `step` in the repository root with the caller's environment plus its own."""
    print(f"running: {step.shown()}", flush=True)
    return subprocess.run(
        step.argv, cwd=ROOT, env={**os.environ, **step.env}, check=False
    ).returncode


def artifacts(distros: list[Distro], bench: bool = False) -> list[tuple[str, Path]]:
    """What a run leaves behind, in the order it is printed."""
    if bench:
        return [("measurements", measure.REPORT_FILE)]
    found = [(f"screenshot ({d.name})", SCREENSHOTS / f"{d.name}.png") for d in distros]
    return [*found, ("junit", JUNIT), ("measurements", measure.REPORT_FILE)]


def describe(path: Path, since: float = 0.0) -> str:
    """`path` (relative to the repository), marked when this run (from `since`) did not write it:
    a report left by an earlier run is not this run's."""
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    if not path.exists():
        return f"{shown} (not written)"
    if path.stat().st_mtime < since:
        return f"{shown} (not written by this run: it is older)"
    return f"{shown}"


def run(
    distros: list[Distro],
    *,
    exists: Callable[[str], bool],
    build: Callable[[list[Distro]], None],
    runner: Runner | None = None,
    environ: Mapping[str, str] | None = None,
    bench: bool = False,
) -> None:
    """Build the missing images, run every step (also after a failed one), name the files.
    With `bench`, the step is the streaming benchmark.

    `runner` (default `run_step`) runs each command. Raises HeliosError naming each failed
    step after all of them ran."""
    tested = images(distros, environ)
    missing = [d for d in distros if not exists(tested[d.name])]
    for distro in distros:
        if distro not in missing:
            print(f"{tested[distro.name]} is present: testing it as it is (not rebuilt)")
    if missing:
        print(f"building {', '.join(tested[d.name] for d in missing)} (not in the engine)")
        build(missing)
    failed = []
    began = time.time()
    for step in steps(distros, tested, bench=bench):
        code = (runner or run_step)(step)
        if code:
            failed.append(f"{step.label} (exit {code})")
    for label, path in artifacts(distros, bench):
        print(f"{label}: {describe(path, began)}")
    if failed:
        raise HeliosError(f"failed: {', '.join(failed)}; see their output above")
