"""Rendering the Dockerfile from Dockerfile.j2: its src-* stages come from sources.toml.

Each [stages.<name>] of the manifest becomes `FROM <from> AS src-<name>` with the ARG lines of
every source whose `stage` it is (per-arch sources get every architecture; those an arch lacks,
and `unpinned` sources, are declared empty) and one fetch.sh RUN per `fetch` entry.
"""

from dataclasses import dataclass
from pathlib import Path

from helios import ROOT, HeliosError, manifest
from helios.manifest import ARCHES, Manifest

TEMPLATE = ROOT / "Dockerfile.j2"
OUTPUT = ROOT / "Dockerfile"
ARG_FIELDS = ("FILE", "SHA256", "URL")


@dataclass(frozen=True)
class Stage:
    name: str
    base: str
    args: list[str]
    fetches: list[str]


def _empty_args(source_id: str) -> list[str]:
    """The ARG lines of a source pinned elsewhere (a sources folder): all empty."""
    lines = [f'{source_id}_DIGEST=""', f'{source_id}_VERSION=""']
    lines += [f'{source_id}_{f}_{a.upper()}=""' for f in ARG_FIELDS for a in ARCHES]
    return sorted(lines)


def _source_args(source: manifest.Source) -> list[str]:
    lines = list(source.args())
    if "" not in source.artifacts:
        missing = [a for a in ARCHES if a not in source.artifacts]
        lines += [f'{source.arg_id}_{f}_{a.upper()}=""' for f in ARG_FIELDS for a in missing]
    return sorted(lines)


def stages(pins: Manifest) -> list[Stage]:
    """The src-* stages in manifest order; every source's stage checked."""
    unknown = sorted({s.stage or "(none)" for s in pins.sources.values()} - set(pins.stages))
    if unknown:
        raise HeliosError(f"sources.toml: source stage(s) without a [stages.*] table: {unknown}")
    out = []
    for name, entry in pins.stages.items():
        members = [s for s in pins.sources.values() if s.stage == name]
        args = [line for s in members for line in _source_args(s)]
        args += [line for n in entry.unpinned for line in _empty_args(manifest.arg_id(n))]
        fetches = entry.fetch if entry.fetch is not None else [s.name for s in members]
        if not fetches:
            raise HeliosError(f"sources.toml: [stages.{name}] fetches nothing")
        out.append(Stage(name, entry.base, [*entry.args, *args], list(fetches)))
    return out


def render(
    manifest_file: Path = manifest.MANIFEST_FILE,
    template: Path = TEMPLATE,
) -> str:
    from helios import bake

    pins = manifest.load(manifest_file)
    values = {"stages": stages(pins)}
    return bake.render_template(template, values)
