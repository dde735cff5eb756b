"""The image archive CI tests and then pushes: one `type=docker` export per distro and platform.

BuildKit's docker exporter writes a tar that is both a `docker load` archive (manifest.json) and an
OCI image layout (oci-layout, index.json, blobs/sha256/...). With SBOM and provenance attestations
index.json names one image index holding the platform's image manifest and the attestation
manifest that refers to it. CI loads the archive, tests the image whose ID is the manifest's
config digest, and pushes the same layout with `docker buildx imagetools create`, so the pushed
manifests are byte for byte the tested ones; `verify-index` checks that on the pushed index.

    python -m helios.oci describe ARCHIVE [--platform linux/arm64]
        platform=, index=, manifest=, config= (sha256:...) and tags=repo:tag,... lines
    python -m helios.oci verify-index PUSHED.json --platforms linux/amd64,linux/arm64 ARCHIVE...
        digest=sha256:... of the pushed index, or exit 1 naming what it lacks

ARCHIVE is the tar or the folder it was unpacked into. Standard library only: the workflow runs it
with the runner's python3, before any package is installed. (No OCI library is used: what is read
here is three JSON documents by digest, and the checks are this project's own rules.)
"""

import argparse
import hashlib
import json
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helios import HeliosError

INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
REFERENCE_TYPE = "vnd.docker.reference.type"
REFERENCE_DIGEST = "vnd.docker.reference.digest"
PREDICATE_TYPE = "in-toto.io/predicate-type"
SBOM_PREDICATE = "https://spdx.dev/Document"
PROVENANCE_PREFIX = "https://slsa.dev/provenance/"


class Layout:
    """The files of an OCI layout, read from a tar archive or from the folder it was unpacked to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            raise HeliosError(f"{path}: no such image archive")

    def read(self, name: str) -> bytes:
        if self.path.is_dir():
            try:
                return (self.path / name).read_bytes()
            except OSError as exc:
                raise HeliosError(f"{self.path}: no {name} ({exc.strerror})") from None
        try:
            with tarfile.open(self.path) as archive:
                member = archive.extractfile(name)
                if member is None:
                    raise KeyError(name)
                return member.read()
        except KeyError:
            raise HeliosError(f"{self.path}: no {name} in the archive") from None
        except (OSError, tarfile.TarError) as exc:
            raise HeliosError(f"{self.path}: not a readable tar archive ({exc})") from None

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name))
        except ValueError as exc:
            raise HeliosError(f"{self.path}: {name} is not JSON ({exc})") from None

    def blob(self, digest: str) -> Any:
        """The JSON blob `digest`, after checking that its bytes have that digest."""
        algorithm, _, value = digest.partition(":")
        if algorithm != "sha256" or not value:
            raise HeliosError(f"{self.path}: unsupported digest {digest!r}")
        data = self.read(f"blobs/sha256/{value}")
        if hashlib.sha256(data).hexdigest() != value:
            raise HeliosError(f"{self.path}: blob {digest} does not have that digest")
        try:
            found = json.loads(data)
        except ValueError as exc:
            raise HeliosError(f"{self.path}: blob {digest} is not JSON ({exc})") from None
        if not isinstance(found, dict):
            raise HeliosError(f"{self.path}: blob {digest} is not a JSON object")
        return found


@dataclass(frozen=True)
class Image:
    """One platform's image in an archive: the digests CI tests, pushes and signs."""

    platform: str  # os/architecture[/variant]
    index: str  # the image index index.json points to (what imagetools pushes)
    manifest: str  # the platform's image manifest
    config: str  # its config digest = the image ID `docker load` gives
    attestations: tuple[str, ...]  # attestation manifests referring to `manifest`
    tags: tuple[str, ...]  # the tags the build gave it (bake's channel tags)

    def lines(self) -> list[str]:
        return [
            f"platform={self.platform}",
            f"index={self.index}",
            f"manifest={self.manifest}",
            f"config={self.config}",
            f"tags={','.join(self.tags)}",
        ]


def _platform(descriptor: dict[str, Any]) -> str:
    platform = descriptor.get("platform") or {}
    name = f"{platform.get('os', 'unknown')}/{platform.get('architecture', 'unknown')}"
    return f"{name}/{platform['variant']}" if platform.get("variant") else name


def _predicates(layout: Layout, attestation: str) -> set[str]:
    layers = layout.blob(attestation).get("layers", [])
    return {layer.get("annotations", {}).get(PREDICATE_TYPE, "") for layer in layers}


def _tags(layout: Layout) -> tuple[str, ...]:
    entries = layout.json("manifest.json")
    if not isinstance(entries, list) or len(entries) != 1:
        raise HeliosError(f"{layout.path}: manifest.json must describe exactly one image")
    return tuple(entries[0].get("RepoTags") or ())


def describe(path: Path, platform: str = "") -> Image:
    """The image of the archive at `path` (it must hold one platform's, `platform` if given);
    its SBOM and provenance attestations must be attached."""
    layout = Layout(path)
    top = layout.json("index.json").get("manifests", [])
    if len(top) != 1 or top[0].get("mediaType") not in INDEX_TYPES:
        raise HeliosError(
            f"{path}: index.json must name one image index (an image built with attestations: "
            "--sbom=true --provenance=mode=max)"
        )
    index = top[0]["digest"]
    children = layout.blob(index).get("manifests", [])
    images = [c for c in children if REFERENCE_TYPE not in c.get("annotations", {})]
    have = sorted(_platform(c) for c in images)
    if len(images) != 1 or (platform and have != [platform]):
        found = ", ".join(have) or "none"
        wanted = platform or "one platform"
        raise HeliosError(f"{path}: expected the image of {wanted}, found {found}")
    manifest = images[0]["digest"]
    attestations = tuple(
        c["digest"]
        for c in children
        if c.get("annotations", {}).get(REFERENCE_DIGEST) == manifest
        and c["annotations"].get(REFERENCE_TYPE) == "attestation-manifest"
    )
    predicates = set().union(*(_predicates(layout, a) for a in attestations))
    missing = []
    if SBOM_PREDICATE not in predicates:
        missing.append("SBOM")
    if not any(p.startswith(PROVENANCE_PREFIX) for p in predicates):
        missing.append("provenance")
    if missing:
        raise HeliosError(f"{path}: the {have[0]} image has no {' or '.join(missing)} attestation")
    config = (layout.blob(manifest).get("config") or {}).get("digest")
    if not isinstance(config, str):
        raise HeliosError(f"{path}: the image manifest {manifest} names no config")
    return Image(have[0], index, manifest, config, attestations, _tags(layout))


def verify_index(pushed: bytes, images: list[Image], platforms: list[str]) -> str:
    """The digest of the pushed index `pushed`, which must hold every tested manifest; `images`
    must be exactly one per platform of `platforms`, all with the same tags."""
    got = sorted(image.platform for image in images)
    if got != sorted(platforms):
        raise HeliosError(f"archives for {', '.join(got)}; the image needs {', '.join(platforms)}")
    try:
        listed = {m.get("digest") for m in json.loads(pushed).get("manifests", [])}
    except (ValueError, AttributeError) as exc:
        raise HeliosError(f"the pushed index is not an image index ({exc})") from None
    wanted = [d for image in images for d in (image.manifest, *image.attestations)]
    absent = [d for d in wanted if d not in listed]
    if absent:
        raise HeliosError(f"the pushed index lacks the tested manifest(s) {', '.join(absent)}")
    tag_sets = {image.tags for image in images}
    if len(tag_sets) > 1:
        raise HeliosError("the archives carry different tags: " + " vs ".join(map(str, tag_sets)))
    return "sha256:" + hashlib.sha256(pushed).hexdigest()


def _parser() -> argparse.ArgumentParser:
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m helios.oci", description=summary)
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("describe", help="print the digests and tags of an archive's image")
    one.add_argument("archive", type=Path)
    one.add_argument("--platform", default="", help="the platform it must be, e.g. linux/amd64")
    check = sub.add_parser("verify-index", help="check a pushed index holds the tested images")
    check.add_argument("pushed", type=Path, help="the raw JSON of the pushed image index")
    check.add_argument("--platforms", required=True, help="comma-separated, one archive each")
    check.add_argument("archives", nargs="+", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "describe":
            print("\n".join(describe(args.archive, args.platform).lines()))
            return 0
        images = [describe(path) for path in args.archives]
        try:
            pushed = args.pushed.read_bytes()
        except OSError as exc:
            raise HeliosError(f"{args.pushed}: {exc.strerror}") from None
        platforms = [p for p in args.platforms.split(",") if p]
        print(f"digest={verify_index(pushed, images, platforms)}")
    except HeliosError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
