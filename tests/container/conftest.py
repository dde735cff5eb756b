"""Container tier (tier 2): real Debian containers, no full Helios image.

Every test under tests/container is marked `container`. Without a Docker engine they skip with
the reason, unless HELIOS_REQUIRE_DOCKER=1 (set by CI), where a missing engine is a failure.

Fixtures:
  docker          python-on-whales client for a live engine
  debian_image    debian:bookworm and debian:sid (pulled, or made with mmdebstrap and cached)
  debian_target_image  every Debian-family target with its own build scripts made here:
                  debian:bookworm, debian:trixie, debian:sid (test_build_scripts.py)
  any_base_image  every base image of the matrix; those that can be neither pulled nor made
                  here (kali, ubuntu, rocky, alma without a registry) skip with the reason
  chromium        path of a headless-capable Chromium (skips, or fails under CI, without one)
"""

import os

import pytest
from python_on_whales import DockerClient
from support.integration import chromium_binary, engine_problem

from helios import HeliosError, baseimages

DEBIAN_BASES = ("debian:bookworm", "debian:sid")
DEBIAN_TARGETS = ("debian:bookworm", "debian:trixie", "debian:sid")
REQUIRED = os.environ.get("HELIOS_REQUIRE_DOCKER") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/container/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.container)


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"HELIOS_REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker() -> DockerClient:
    """A python-on-whales client for a live engine (skips, or fails under CI, without one)."""
    client = DockerClient()
    problem = engine_problem(client)
    if problem:
        _unavailable(f"{problem}; start one with `.ci/engine.sh start` to run the container tier")
    return client


@pytest.fixture(scope="session", params=DEBIAN_BASES, ids=["bookworm", "sid"])
def debian_image(request: pytest.FixtureRequest, docker: DockerClient) -> str:
    """Each real Debian base image, pulled or made with mmdebstrap."""
    return baseimages.ensure(request.param, docker)


@pytest.fixture(scope="session", params=DEBIAN_TARGETS, ids=["bookworm", "trixie", "sid"])
def debian_target_image(request: pytest.FixtureRequest, docker: DockerClient) -> str:
    """Each Debian target's base image (its per-distro build scripts run on it)."""
    return baseimages.ensure(request.param, docker)


@pytest.fixture(
    scope="session",
    params=baseimages.matrix_bases(),
    ids=lambda image: image.replace("/", "-").replace(":", "-"),
)
def any_base_image(request: pytest.FixtureRequest, docker: DockerClient) -> str:
    """Each base image of the matrix that is local, pullable or makeable; others skip."""
    try:
        return baseimages.ensure(request.param, docker)
    except HeliosError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def chromium() -> str:
    """A Chromium binary for headless screenshots (CI installs Debian's `chromium`)."""
    binary = chromium_binary()
    if binary is None:
        _unavailable("chromium not found: apt-get install chromium (or set HELIOS_CHROMIUM)")
    return str(binary)


@pytest.fixture(scope="module")
def runtime_image(docker: DockerClient, debian_image: str) -> str:
    """The runtime test image for the current Debian base: Debian packages + common/root."""
    from runtime.harness import build_image

    return build_image(docker, debian_image)
