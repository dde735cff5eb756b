"""nox sessions: `nox` runs lint + unit tests; `nox -s container` / `integration` need Docker."""

import os

import nox

nox.needs_version = ">=2025.2.9"
nox.options.sessions = ["lint", "tests"]
nox.options.reuse_venv = "yes"

PYTHON = "3.11"


def _install(session: nox.Session) -> None:
    session.install("-e", ".[test,lint]")


def _docker_env() -> dict[str, str]:
    # testcontainers pulls Ryuk from Docker Hub; tests stop their containers themselves.
    return {"TESTCONTAINERS_RYUK_DISABLED": os.environ.get("TESTCONTAINERS_RYUK_DISABLED", "true")}


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff, shellcheck, shfmt, hadolint, zizmor and the bake drift check (the lint extra)."""
    _install(session)
    session.run("python", "-m", "helios.lint")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Unit + static tier (no Docker)."""
    _install(session)
    session.run("pytest", "tests/unit", *session.posargs)


@nox.session(python=PYTHON)
def container(session: nox.Session) -> None:
    """Container tier: project scripts in real Debian containers (needs a Docker engine)."""
    _install(session)
    junit = "--junitxml=reports/junit-container.xml"  # .ci/run counts the executed tests in it
    session.run("pytest", "tests/container", "-ra", junit, *session.posargs, env=_docker_env())


@nox.session(python=PYTHON)
def integration(session: nox.Session) -> None:
    """Full images started with testcontainers (skips, naming the build command, without them)."""
    _install(session)
    junit = "--junitxml=reports/junit-integration.xml"
    args = ("tests/integration", "-ra", "-m", "not bench", junit, *session.posargs)
    session.run("pytest", *args, env=_docker_env())


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Streaming benchmark (tests/integration/test_bench.py) into reports/measurements.toml."""
    _install(session)
    session.run(
        "pytest",
        "tests/integration",
        "-ra",
        "-s",
        "-m",
        "bench",
        *session.posargs,
        env=_docker_env(),
    )


@nox.session(python=PYTHON)
def measure(session: nox.Session) -> None:
    """Print measured size / start time / idle memory against budget.toml; fail over budget."""
    _install(session)
    session.run("python", "-m", "helios.measure", *session.posargs)
