"""Image tags per release channel (mirrors the tags() logic in docker-bake.hcl.j2)."""

from helios import HeliosError

CHANNELS = ("dev", "release", "unstable", "testing")
DEFAULT_REPO = "helios"


def tags(channel: str, repo: str, version: str, distro: str) -> list[str]:
    """The tags an image of `distro` gets on `channel`."""
    table = {
        "dev": [f"{repo}:{distro}", f"{repo}:v{version}-{distro}"],
        "release": [f"{repo}:v{version}-{distro}"],
        "unstable": [f"{repo}:unstable-{distro}"],
        "testing": [f"{repo}:testing-{distro}"],
    }
    if channel not in table:
        raise HeliosError(f"unknown channel {channel!r}; valid: {', '.join(CHANNELS)}")
    return table[channel]


def local_tag(distro: str, repo: str = DEFAULT_REPO) -> str:
    """The tag `invoke build` loads into the local engine (dev channel) and compose starts."""
    return f"{repo}:{distro}"
