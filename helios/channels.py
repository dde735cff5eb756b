"""Release channels: which images a git ref builds, how they are tagged and whether they are pushed.

CI calls this module (the workflow holds no channel logic of its own):

    python -m helios.channels --ref "$GITHUB_REF" --registry ghcr.io --image org/helios

prints KEY=value lines for $GITHUB_ENV / $GITHUB_OUTPUT. The bake file turns HELIOS_CHANNEL,
HELIOS_VERSION and HELIOS_REPO into the tags of helios.tags (`Decision.tags`).

    refs/heads/main       unstable  push   <repo>:unstable-<distro>
    refs/heads/testing    testing   push   <repo>:testing-<distro>
    refs/tags/vX.Y.Z      release   push   <repo>:vX.Y.Z-<distro>   (X.Y.Z must equal version.toml)
    refs/pull/N/merge     dev       local  <repo>:<distro>, <repo>:v<version>-<distro>
    refs/heads/<other>    dev       local  (same as a pull request)
"""

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from helios import ROOT, HeliosError, matrix, tags
from helios.tags import DEFAULT_REPO
from helios.version import SEMVER_RE
from helios.version import read as read_version

PUSH_BRANCHES = {"main": "unstable", "testing": "testing"}
PULL_RE = re.compile(r"^refs/pull/[1-9]\d*/(merge|head)$")
# Registry host (optionally with port) and image path, as Docker accepts them (lower case).
REGISTRY_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?$")
IMAGE_RE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$")


@dataclass(frozen=True)
class Decision:
    """What one git ref builds: the channel, the Helios version and whether images are pushed."""

    channel: str
    version: str
    push: bool

    def tags(self, distro: str, repo: str = DEFAULT_REPO) -> list[str]:
        """The image tags a target gets on this channel (the bake file renders the same)."""
        return tags.tags(self.channel, repo, self.version, distro)

    def env(self) -> dict[str, str]:
        """The variables the bake file reads, plus the workflow's `push` output."""
        return {
            "HELIOS_CHANNEL": self.channel,
            "HELIOS_VERSION": self.version,
            "push": "true" if self.push else "false",
        }


def decide(ref: str, version: str) -> Decision:
    """Map a full git ref (as in $GITHUB_REF) and the version.toml version to a Decision.

    A release tag must be exactly v<version>: a tag that disagrees with version.toml is an error
    (the release task bumps the file and tags in one commit, so they can only differ by mistake).
    """
    if ref.startswith("refs/tags/"):
        tagged = ref.removeprefix("refs/tags/").removeprefix("v")
        if not ref.startswith("refs/tags/v") or not SEMVER_RE.match(tagged):
            raise HeliosError(f"ref {ref!r}: release tags must be vX.Y.Z (e.g. v1.2.3)")
        if tagged != version:
            raise HeliosError(
                f"ref {ref!r}: tag version {tagged} differs from version.toml "
                f"({version}); tag the commit that `invoke release` made"
            )
        return Decision("release", version, push=True)
    if ref.startswith("refs/heads/"):
        branch = ref.removeprefix("refs/heads/")
        if not branch:
            raise HeliosError(f"ref {ref!r}: branch name is empty")
        if branch in PUSH_BRANCHES:
            return Decision(PUSH_BRANCHES[branch], version, push=True)
        return Decision("dev", version, push=False)
    if PULL_RE.match(ref):
        return Decision("dev", version, push=False)
    raise HeliosError(
        f"ref {ref!r}: must be refs/heads/<branch>, refs/tags/vX.Y.Z or refs/pull/<n>/merge"
    )


def repository(registry: str, image: str) -> str:
    """The image repository (HELIOS_REPO): registry/image, or the local default `helios`."""
    if registry and not REGISTRY_RE.match(registry):
        raise HeliosError(f"HELIOS_REGISTRY {registry!r}: must be a lower-case registry host")
    if image and not IMAGE_RE.match(image):
        raise HeliosError(f"HELIOS_IMAGE {image!r}: must be a lower-case image path (org/name)")
    name = image or DEFAULT_REPO
    return f"{registry}/{name}" if registry else name


def outputs(ref: str, registry: str = "", image: str = "", root: Path = ROOT) -> dict[str, str]:
    """Everything the workflow needs: the decision, HELIOS_REPO and the distro list (JSON)."""
    decision = decide(ref, read_version(root / "version.toml"))
    if decision.push and not registry:
        raise HeliosError(
            f"ref {ref!r} pushes images ({decision.channel}) but HELIOS_REGISTRY is empty: "
            "set the repository variable"
        )
    distros = matrix.names(matrix.load(root / "distros.toml"))
    return {
        **decision.env(),
        "HELIOS_REPO": repository(registry, image),
        "distros": json.dumps(distros, separators=(",", ":")),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helios.channels",
        description="Print the channel decision for a git ref as KEY=value lines.",
    )
    parser.add_argument("--ref", required=True, help="full git ref, e.g. refs/heads/main")
    parser.add_argument("--registry", default="", help="registry host, e.g. ghcr.io")
    parser.add_argument("--image", default="", help="image path in the registry, e.g. org/helios")
    args = parser.parse_args(argv)
    try:
        values = outputs(args.ref, args.registry, args.image)
    except HeliosError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for key, value in values.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
