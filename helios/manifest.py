"""The upstream sources manifest (sources.toml): every download the image build makes.

Schema, one table per source under [sources]:

    [sources.<name>]
    version = "..."            # what is pinned (commit, release); expands {version}
    url = "https://.../{version}.tar.gz"
    file = "<name>-{version}.tar.gz"   # file name in a sources folder and in the build
    sha256 = "<64 hex>"
    digest = "file"            # optional: "file" (sha256 of the bytes, default) or
                               # "tar" (sha256 of the decompressed tar stream, for
                               # forge-generated archives whose compression is not stable)
    optional = false           # optional: fetched only when the build enables it
    needed_by = ["jammy"]      # optional: only these distros (or families) use it; a sources
                               # folder for other distros may leave it out (default: all)
    note = "..."               # optional: provenance

A per-architecture source replaces url/file/sha256 with [sources.<name>.arch.<targetarch>]
tables (targetarch as in Docker: amd64, arm64), each with url, file and sha256.

[args] holds further scalar pins passed verbatim to the build as build args.

Each source becomes build args named after it: <ID>_URL, <ID>_FILE, <ID>_SHA256, <ID>_DIGEST
(and <ID>_VERSION), with an _<ARCH> suffix (e.g. S6_OVERLAY_ARCH_URL_AMD64) for per-arch
ones, where <ID> is the name upper-cased with every non-alphanumeric character as "_".
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helios import ROOT, HeliosError, tomlfile

MANIFEST_FILE = ROOT / "sources.toml"
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
ARCHES = ("amd64", "arm64")
DIGESTS = ("file", "tar")
SOURCE_KEYS = {
    "version",
    "url",
    "file",
    "sha256",
    "digest",
    "optional",
    "note",
    "arch",
    "needed_by",
}
ARTIFACT_KEYS = {"url", "file", "sha256"}


@dataclass(frozen=True)
class Artifact:
    """One downloadable file."""

    url: str
    file: str
    sha256: str


@dataclass(frozen=True)
class Source:
    """One pinned upstream input; `artifacts` maps an arch ("" when arch-independent)."""

    name: str
    version: str
    digest: str
    optional: bool
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    note: str = ""
    needed_by: tuple[str, ...] = ()

    @property
    def arg_id(self) -> str:
        return arg_id(self.name)

    def args(self) -> dict[str, str]:
        """The build args carrying this source into the Dockerfile."""
        out = {f"{self.arg_id}_VERSION": self.version, f"{self.arg_id}_DIGEST": self.digest}
        for arch, art in sorted(self.artifacts.items()):
            suffix = f"_{arch.upper()}" if arch else ""
            out[f"{self.arg_id}_URL{suffix}"] = art.url
            out[f"{self.arg_id}_FILE{suffix}"] = art.file
            out[f"{self.arg_id}_SHA256{suffix}"] = art.sha256
        return out


@dataclass(frozen=True)
class Manifest:
    sources: dict[str, Source]
    args: dict[str, str]

    def build_args(self) -> dict[str, str]:
        """Every build arg the manifest defines, sorted for deterministic output."""
        out: dict[str, str] = {}
        for source in self.sources.values():
            out.update(source.args())
        out.update(self.args)
        return dict(sorted(out.items()))

    def artifacts(self, arches: tuple[str, ...] = ARCHES) -> list[tuple[Source, Artifact]]:
        """Every file of the manifest for the given architectures."""
        return [
            (source, art)
            for source in self.sources.values()
            for arch, art in sorted(source.artifacts.items())
            if not arch or arch in arches
        ]


def arg_id(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def _artifact(path: Path, where: str, raw: Any, version: str) -> Artifact:
    if not isinstance(raw, dict):
        raise HeliosError(f"{path}: {where}: must be a table")
    extra = set(raw) - ARTIFACT_KEYS
    if extra:
        raise HeliosError(f"{path}: {where}: unknown key(s) {', '.join(sorted(extra))}")
    for key in sorted(ARTIFACT_KEYS):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise HeliosError(f"{path}: {where}: '{key}' is missing or empty")
    if not SHA256_RE.match(raw["sha256"]):
        raise HeliosError(f"{path}: {where}: 'sha256' must be 64 lowercase hex digits")
    url = raw["url"].replace("{version}", version)
    file = raw["file"].replace("{version}", version)
    if not url.startswith("https://"):
        raise HeliosError(f"{path}: {where}: 'url' must be https://, got {url!r}")
    if "/" in file or file.startswith("."):
        raise HeliosError(f"{path}: {where}: 'file' must be a plain file name, got {file!r}")
    return Artifact(url=url, file=file, sha256=raw["sha256"])


def _source(path: Path, name: str, raw: Any) -> Source:
    where = f"source '{name}'"
    if not NAME_RE.match(name):
        raise HeliosError(f"{path}: {where}: name must match [a-z0-9][a-z0-9.-]*")
    if not isinstance(raw, dict):
        raise HeliosError(f"{path}: {where}: must be a table")
    extra = set(raw) - SOURCE_KEYS
    if extra:
        raise HeliosError(f"{path}: {where}: unknown key(s) {', '.join(sorted(extra))}")
    version = raw.get("version")
    if not isinstance(version, str) or not version:
        raise HeliosError(f"{path}: {where}: 'version' is missing or empty")
    digest = raw.get("digest", "file")
    if digest not in DIGESTS:
        raise HeliosError(f"{path}: {where}: 'digest' must be one of {', '.join(DIGESTS)}")
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        raise HeliosError(f"{path}: {where}: 'optional' must be true or false")
    if "arch" in raw:
        if ARTIFACT_KEYS & set(raw):
            raise HeliosError(f"{path}: {where}: use either url/file/sha256 or arch tables")
        arches = raw["arch"]
        if not isinstance(arches, dict) or not arches or set(arches) - set(ARCHES):
            raise HeliosError(f"{path}: {where}: 'arch' tables must be among {ARCHES}")
        artifacts = {
            a: _artifact(path, f"{where} arch {a}", arches[a], version) for a in sorted(arches)
        }
    else:
        subset = {k: raw[k] for k in ARTIFACT_KEYS if k in raw}
        artifacts = {"": _artifact(path, where, subset, version)}
    needed_by = raw.get("needed_by", [])
    if not isinstance(needed_by, list) or not all(
        isinstance(n, str) and NAME_RE.match(n) for n in needed_by
    ):
        raise HeliosError(f"{path}: {where}: 'needed_by' must be a list of distro/family names")
    note = str(raw.get("note", ""))
    return Source(name, version, digest, optional, artifacts, note, tuple(needed_by))


def load(path: Path = MANIFEST_FILE) -> Manifest:
    """Load and validate the manifest; problems raise HeliosError naming file and source."""
    data = tomlfile.load(path)
    extra = set(data) - {"sources", "args"}
    if extra:
        raise HeliosError(f"{path}: unknown top-level key(s): {', '.join(sorted(extra))}")
    raw_sources = data.get("sources", {})
    if not isinstance(raw_sources, dict) or not raw_sources:
        raise HeliosError(f"{path}: needs at least one [sources.<name>] table")
    sources = {name: _source(path, name, raw) for name, raw in raw_sources.items()}
    files = [art.file for s in sources.values() for art in s.artifacts.values()]
    dupes = sorted({f for f in files if files.count(f) > 1})
    if dupes:
        raise HeliosError(f"{path}: file name(s) used twice: {', '.join(dupes)}")
    args = data.get("args", {})
    if not isinstance(args, dict) or not all(
        isinstance(k, str) and re.match(r"^[A-Z][A-Z0-9_]*$", k) and isinstance(v, str)
        for k, v in args.items()
    ):
        raise HeliosError(f"{path}: [args] must map UPPER_CASE names to strings")
    return Manifest(sources=sources, args=dict(args))
