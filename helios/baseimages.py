"""Base images for the container tier: pulled where a registry answers, else made locally.

Debian bases (debian:bookworm, debian:sid) can be made from Debian's package mirror with
mmdebstrap and imported under the same tag, so the container tier works on machines that reach
no container registry. The tarball is cached so later runs only re-import it.
"""

import os
import shutil
import subprocess
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from helios import HeliosError

DEBIAN_MIRROR = os.environ.get("HELIOS_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CACHE_DIR = Path(os.environ.get("HELIOS_CACHE_DIR", Path.home() / ".cache" / "helios"))
# Suites whose Release file may be expired on a frozen mirror snapshot.
NO_VALID_UNTIL = {"sid", "unstable", "trixie", "testing"}


def mmdebstrap_command(suite: str, out: Path, mirror: str = DEBIAN_MIRROR) -> list[str]:
    cmd = ["mmdebstrap", "--variant=minbase"]
    if suite in NO_VALID_UNTIL:
        cmd.append("--aptopt=Acquire::Check-Valid-Until \"false\"")
    return [*cmd, suite, str(out), mirror]


def _make_debian(client: DockerClient, image: str, suite: str) -> None:
    if shutil.which("mmdebstrap") is None:
        raise HeliosError(
            f"cannot pull {image} and mmdebstrap is missing: apt-get install mmdebstrap"
        )
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tarball = CACHE_DIR / f"debian-{suite}.tar"
    if not tarball.exists():
        partial = tarball.with_suffix(".partial.tar")
        subprocess.run(mmdebstrap_command(suite, partial), check=True)
        partial.rename(tarball)
    client.image.import_(tarball, tag=image)


def ensure(image: str, client: DockerClient | None = None) -> str:
    """Make `image` present in the local engine: local, else pull, else build (Debian only)."""
    client = client or DockerClient()
    if client.image.exists(image):
        return image
    try:
        client.image.pull(image, quiet=True)
        return image
    except DockerException:
        pass
    repo, _, suite = image.partition(":")
    if repo != "debian" or not suite:
        raise HeliosError(f"cannot pull {image} and only debian:<suite> images can be made here")
    _make_debian(client, image, suite)
    return image
