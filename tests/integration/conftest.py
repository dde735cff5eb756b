"""Integration suite (tier 3): the full Helios image of every distro in the matrix.

Image per distro: $HELIOS_IMAGE_<DISTRO> (upper case, `-` -> `_`, an existing local tag) or the
bake dev tag `helios:<distro>` when it exists locally. Without one, the distro's cases skip with
one message naming the build command. Each distro gets one container (module scope) started
with USER/UID/GID/PASSWORD, an init.d hook and a services.d/custom.sh mounted; the fixture waits
for /health 200 with a testcontainers wait strategy and times it.

Environment: TESTCONTAINERS_RYUK_DISABLED=true where no registry answers (Ryuk is pulled from
Docker Hub); HELIOS_IT_TIMEOUT (seconds, default 180) bounds every wait; HELIOS_IT_DISTROS
(comma list, default all) deselects the other distros' cases (`invoke test <distro>` sets it).
"""

import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from itsetup import (
    CUSTOM,
    CUSTOM_PATH,
    DISTROS,
    HOOK,
    HOOK_PATH,
    TIMEOUT,
    suite_container,
)
from python_on_whales import DockerClient
from support import integration
from support.integration import Desktop

from helios import HeliosError, imagetest, matrix
from helios.matrix import Distro


def selected_distros(environ: Mapping[str, str]) -> set[str] | None:
    """The names in $HELIOS_IT_DISTROS (comma list), or None (every distro) when unset."""
    wanted = [n for n in environ.get(imagetest.SELECT_VAR, "").replace(",", " ").split() if n]
    if not wanted:
        return None
    try:
        return {d.name for d in matrix.select(DISTROS, wanted)}
    except HeliosError as exc:
        raise pytest.UsageError(f"{imagetest.SELECT_VAR}: {exc}") from None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep = selected_distros(os.environ)
    kept, dropped = [], []
    for item in items:
        if "tests/integration/" not in str(item.path).replace(os.sep, "/"):
            kept.append(item)
            continue
        item.add_marker(pytest.mark.integration)
        params = getattr(item, "callspec", None)
        distro = params.params.get("helios_image") if params else None
        if keep is None or distro is None or distro.name in keep:
            kept.append(item)
        else:
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def docker_client() -> DockerClient:
    client = DockerClient()
    problem = integration.engine_problem(client)
    if problem:
        pytest.skip(f"{problem}; start one with `.ci/engine.sh start`")
    return client


@pytest.fixture(scope="session")
def images(docker_client: DockerClient) -> dict[str, tuple[str | None, str]]:
    """Per distro (image, "") or (None, reason); one shared reason when no image exists at all."""
    found = {d.name: integration.resolve_image(d, docker_client) for d in DISTROS}
    if all(image is None for image, _ in found.values()):
        reason = (
            "no Helios image is available (looked for HELIOS_IMAGE_<DISTRO> and "
            "helios:<distro>): build one with `invoke build <distro>` "
            "(offline: `invoke build --sources DIR <distro>`)"
        )
        return {name: (None, reason) for name in found}
    return found


@pytest.fixture(scope="module", params=DISTROS, ids=[d.name for d in DISTROS])
def helios_image(
    request: pytest.FixtureRequest, images: dict[str, tuple[str | None, str]]
) -> tuple[Distro, str]:
    distro: Distro = request.param
    image, reason = images[distro.name]
    if image is None:
        pytest.skip(reason)
    return distro, image


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def desktop(
    helios_image: tuple[Distro, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desktop]:
    distro, image = helios_image
    files = tmp_path_factory.mktemp(f"helios-{distro.name}")
    container = (
        suite_container(image, f"test-{distro.name}", 3000, 3001)
        .with_volume_mapping(_write(files / "hook.sh", HOOK), HOOK_PATH)
        .with_volume_mapping(_write(files / "custom.sh", CUSTOM), CUSTOM_PATH)
    )
    started = time.monotonic()
    with container:
        yield integration.ready_desktop(container, distro, image, started, TIMEOUT)
