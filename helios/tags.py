"""Image tags per release channel (mirrors the tags() logic in docker-bake.hcl.j2)."""

import os
from collections.abc import Mapping

from helios import HeliosError

CHANNELS = ("dev", "release", "unstable", "testing")
DEFAULT_REPO = "helios"


def check_channel(channel: str) -> None:
    """Raise HeliosError naming the valid channels when `channel` is not one of them."""
    if channel not in CHANNELS:
        raise HeliosError(f"unknown channel {channel!r}; valid: {', '.join(CHANNELS)}")


def tags(channel: str, repo: str, version: str, distro: str) -> list[str]:
    """The tags an image of `distro` gets on `channel`."""
    check_channel(channel)
    table = {
        "dev": [f"{repo}:{distro}", f"{repo}:v{version}-{distro}"],
        "release": [f"{repo}:v{version}-{distro}"],
        "unstable": [f"{repo}:unstable-{distro}"],
        "testing": [f"{repo}:testing-{distro}"],
    }
    return table[channel]


def local_tag(distro: str, repo: str = DEFAULT_REPO) -> str:
    """The tag `invoke build` loads into the local engine (dev channel) and compose starts."""
    return f"{repo}:{distro}"


def repo_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The repository bake tags with: $HELIOS_REPO (bake reads the same variable), else helios."""
    environ = os.environ if environ is None else environ
    return environ.get("HELIOS_REPO", "").strip() or DEFAULT_REPO


def built_tag(distro: str, environ: Mapping[str, str] | None = None) -> str:
    """The dev tag `invoke build` gives `distro` in this environment ($HELIOS_REPO:<distro>)."""
    return local_tag(distro, repo_from_env(environ))


def image_env_var(distro: str) -> str:
    """HELIOS_IMAGE_<DISTRO> (upper case, `-` -> `_`): names the image the suite tests."""
    return "HELIOS_IMAGE_" + distro.upper().replace("-", "_")
