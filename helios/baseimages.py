"""Base images for the container tier: local, else pulled where a registry answers, else made.

Debian bases (debian:bookworm, debian:sid) can be made from Debian's package mirror with
mmdebstrap and imported under the same tag, so the container tier works on machines that reach
no container registry. The tarball is cached (HELIOS_CACHE_DIR, default ~/.cache/helios) so later
runs only re-import it; delete `debian-<suite>.tar` there to refresh a base. The other bases of
the matrix (kali, ubuntu, rocky, alma) are only available where they can be pulled.
"""

import os
import shutil
import subprocess
from pathlib import Path

from filelock import FileLock
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from helios import HeliosError, matrix

DEBIAN_MIRROR = os.environ.get("HELIOS_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CACHE_DIR = Path(os.environ.get("HELIOS_CACHE_DIR", Path.home() / ".cache" / "helios"))
# Suites whose Release file may be expired on a frozen mirror snapshot.
NO_VALID_UNTIL = {"sid", "unstable", "trixie", "testing"}
# Metadata `docker import` would otherwise leave empty (the official images run bash).
IMPORT_CHANGES = ('CMD ["bash"]',)
# Images whose pull already failed in this process: a registry that did not answer once is not
# asked again for the same image.
_UNPULLABLE: set[str] = set()


def mmdebstrap_command(suite: str, out: Path, mirror: str = DEBIAN_MIRROR) -> list[str]:
    """The mmdebstrap call that makes a minimal Debian root tarball for `suite`."""
    cmd = ["mmdebstrap", "--variant=minbase"]
    if suite in NO_VALID_UNTIL:
        cmd.append('--aptopt=Acquire::Check-Valid-Until "false"')
    return [*cmd, suite, str(out), mirror]


def debian_suite(image: str) -> str | None:
    """The suite of a `debian:<suite>` image that mmdebstrap can make, else None."""
    repo, _, suite = image.partition(":")
    if repo in ("debian", "docker.io/library/debian") and suite and "@" not in suite:
        return suite
    return None


def tarball_path(suite: str, cache_dir: Path | None = None) -> Path:
    return (cache_dir or CACHE_DIR) / f"debian-{suite}.tar"


def build_tarball(suite: str, cache_dir: Path | None = None) -> Path:
    """Return the cached root tarball for `suite`, running mmdebstrap only when it is missing."""
    tarball = tarball_path(suite, cache_dir)
    tarball.parent.mkdir(parents=True, exist_ok=True)
    # Two test processes must never build the same tarball at once.
    with FileLock(tarball.with_suffix(".lock")):
        if tarball.is_file() and tarball.stat().st_size > 0:
            return tarball
        if shutil.which("mmdebstrap") is None:
            raise HeliosError(
                f"cannot pull debian:{suite} and mmdebstrap is missing: apt-get install mmdebstrap"
            )
        partial = tarball.with_suffix(".partial.tar")
        partial.unlink(missing_ok=True)
        try:
            subprocess.run(mmdebstrap_command(suite, partial), check=True)
        except subprocess.CalledProcessError as exc:
            partial.unlink(missing_ok=True)
            raise HeliosError(
                f"mmdebstrap failed for debian:{suite} (exit {exc.returncode}); "
                f"check that {DEBIAN_MIRROR} answers"
            ) from exc
        partial.rename(tarball)
    return tarball


def pull(image: str, client: DockerClient) -> bool:
    """Pull `image`; False (remembered for this process) when no registry serves it."""
    if image in _UNPULLABLE:
        return False
    try:
        client.image.pull(image, quiet=True)
    except DockerException:
        _UNPULLABLE.add(image)
        return False
    return True


def ensure(image: str, client: DockerClient | None = None) -> str:
    """Make `image` present in the local engine: local, else pull, else build (Debian only)."""
    client = client or DockerClient()
    if client.image.exists(image) or pull(image, client):
        return image
    suite = debian_suite(image)
    if suite is None:
        raise HeliosError(
            f"cannot pull {image} (no registry answers) and only debian:<suite> images "
            "can be made here"
        )
    client.image.import_(build_tarball(suite), tag=image, changes=list(IMPORT_CHANGES))
    return image


def matrix_bases() -> list[str]:
    """The base image of every distro in the matrix, in matrix order, without duplicates."""
    return list(dict.fromkeys(d.image for d in matrix.load()))


def available_bases(client: DockerClient, images: list[str] | None = None) -> list[str]:
    """The bases (default: the matrix's) that are local, pullable or makeable here.

    Where no registry answers this is just the Debian ones; with a registry, all seven.
    """
    available = []
    for image in images if images is not None else matrix_bases():
        try:
            available.append(ensure(image, client))
        except HeliosError:
            continue
    return available
