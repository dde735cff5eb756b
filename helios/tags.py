"""Image tags per release channel (mirrors the tags() logic in docker-bake.hcl.j2)."""

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
