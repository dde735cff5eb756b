"""Container tier (tier 2): real Debian containers, no full Helios image.

Every test under tests/container is marked `container`. Without a Docker engine they skip with
the reason, unless HELIOS_REQUIRE_DOCKER=1 (set by CI), where a missing engine is a failure.
"""

import os

import pytest
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from helios import baseimages

DEBIAN_BASES = ("debian:bookworm", "debian:sid")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/container/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.container)


def _engine_problem(client: DockerClient) -> str | None:
    try:
        client.system.info()
    except DockerException as exc:
        return f"no Docker engine answers ({str(exc).splitlines()[0]})"
    return None


@pytest.fixture(scope="session")
def docker() -> DockerClient:
    """A python-on-whales client for a live engine (skips, or fails under CI, without one)."""
    client = DockerClient()
    problem = _engine_problem(client)
    if problem:
        if os.environ.get("HELIOS_REQUIRE_DOCKER") == "1":
            pytest.fail(f"HELIOS_REQUIRE_DOCKER=1 but {problem}")
        pytest.skip(f"{problem}; start dockerd (see .ci/engine.sh) to run the container tier")
    return client


@pytest.fixture(scope="session", params=DEBIAN_BASES, ids=["bookworm", "sid"])
def debian_image(request: pytest.FixtureRequest, docker: DockerClient) -> str:
    """Each real Debian base image, pulled or made with mmdebstrap."""
    return baseimages.ensure(request.param, docker)
