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

Each source names the Dockerfile `stage` that fetches it (src-<stage>); [stages.<name>] tables, in
build order, say what a stage starts FROM (default "fetcher"), which extra ARG lines it has, what it
fetches (fetch.sh arguments; default: each of its sources by name) and which `unpinned` sources it
may fetch (their build args are declared empty; a sources folder's own sources.toml pins them).
The Dockerfile's src-* stages are rendered from these tables (helios.dockerfile).

[args] holds further scalar pins passed verbatim to the build as build args.

Each source becomes build args named after it: <ID>_URL, <ID>_FILE, <ID>_SHA256, <ID>_DIGEST
(and <ID>_VERSION), with an _<ARCH> suffix (e.g. S6_OVERLAY_ARCH_URL_AMD64) for per-arch
ones, where <ID> is the name upper-cased with every non-alphanumeric character as "_".
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from helios import ROOT, HeliosError, tomlfile

MANIFEST_FILE = ROOT / "sources.toml"
ARCHES = ("amd64", "arm64")
DIGESTS = ("file", "tar")
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
SourceName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]*$")]
StageName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
ArgName = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")]
ArgLine = Annotated[
    str, StringConstraints(pattern=r'^[A-Z][A-Z0-9_]*(=("[^"]*"|[A-Za-z0-9._-]*))?$')
]


class ArtifactEntry(tomlfile.Strict):
    url: NonEmpty
    file: NonEmpty
    sha256: Sha256


class SourceEntry(tomlfile.Strict):
    version: NonEmpty
    url: NonEmpty | None = None
    file: NonEmpty | None = None
    sha256: Sha256 | None = None
    digest: Literal["file", "tar"] = "file"
    optional: bool = False
    note: str = ""
    stage: StageName | None = None
    # Distros or families that use the source (empty: every distro; see helios.needs).
    needed_by: list[SourceName] = Field(default_factory=list)
    arch: dict[Literal["amd64", "arm64"], ArtifactEntry] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_form(self) -> "SourceEntry":
        plain = [self.url, self.file, self.sha256]
        if self.arch is not None and any(v is not None for v in plain):
            raise ValueError("use either url/file/sha256 or [arch.<arch>] tables")
        if self.arch is None and any(v is None for v in plain):
            raise ValueError("needs url, file and sha256 (or [arch.<arch>] tables)")
        return self


class StageEntry(tomlfile.Strict):
    base: NonEmpty = Field("fetcher", alias="from")
    args: list[ArgLine] = Field(default_factory=list)
    fetch: list[NonEmpty] | None = None
    unpinned: list[SourceName] = Field(default_factory=list)


class ManifestFile(tomlfile.Strict):
    sources: dict[SourceName, SourceEntry] = Field(min_length=1)
    stages: dict[StageName, StageEntry] = Field(default_factory=dict)
    args: dict[ArgName, str] = Field(default_factory=dict)


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
    stage: str | None = None
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
    stages: dict[str, StageEntry] = field(default_factory=dict)

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


def _artifact(path: Path, where: str, url: str, file: str, sha256: str, version: str) -> Artifact:
    """The artifact with {version} expanded; the expanded URL and file name are checked here."""
    url, file = url.replace("{version}", version), file.replace("{version}", version)
    if not url.startswith("https://"):
        raise HeliosError(f"{path}: {where}: 'url' must be https://, got {url!r}")
    if "/" in file or file.startswith("."):
        raise HeliosError(f"{path}: {where}: 'file' must be a plain file name, got {file!r}")
    return Artifact(url=url, file=file, sha256=sha256)


def _source(path: Path, name: str, entry: SourceEntry) -> Source:
    where = f"sources.{name}"
    if entry.arch is not None:
        artifacts = {
            arch: _artifact(path, f"{where}.arch.{arch}", a.url, a.file, a.sha256, entry.version)
            for arch, a in sorted(entry.arch.items())
        }
    else:
        assert entry.url and entry.file and entry.sha256  # checked by SourceEntry
        artifacts = {"": _artifact(path, where, entry.url, entry.file, entry.sha256, entry.version)}
    return Source(
        name,
        entry.version,
        entry.digest,
        entry.optional,
        artifacts,
        entry.note,
        entry.stage,
        tuple(entry.needed_by),
    )


def load(path: Path = MANIFEST_FILE) -> Manifest:
    """Load and validate the manifest; problems raise HeliosError naming file and key."""
    data = tomlfile.validated(path, ManifestFile)
    sources = {name: _source(path, name, entry) for name, entry in data.sources.items()}
    files = [art.file for s in sources.values() for art in s.artifacts.values()]
    dupes = sorted({f for f in files if files.count(f) > 1})
    if dupes:
        raise HeliosError(f"{path}: file name(s) used twice: {', '.join(dupes)}")
    return Manifest(sources=sources, args=dict(data.args), stages=dict(data.stages))
