"""Which pinned sources a set of distros needs (sources.toml `needed_by`, the matrix's xorg).

A source without `needed_by` is needed by every distro, except the xorg-server-<version>
sources, each needed by the distros whose `xorg` is that version (distros.toml). `needed_by`
names distros or families (debian, ubuntu, rhel). bake passes `<ID>_NEEDED = "true"|"false"` per
target for the sources with `needed_by`, so a build never asks for a file its distro does not
use, and `invoke build <distros> --sources DIR` checks the folder only for the files of the
distros being built.
"""

from helios import HeliosError, matrix
from helios.manifest import Manifest, Source

XORG_PREFIX = "xorg-server-"


def is_needed(source: Source, distro: matrix.Distro) -> bool:
    if source.name.startswith(XORG_PREFIX):
        return source.name == f"{XORG_PREFIX}{distro.xorg}"
    if not source.needed_by:
        return True
    return distro.name in source.needed_by or distro.family in source.needed_by


def check(pinned: Manifest, distros: tuple[matrix.Distro, ...]) -> None:
    """Every `needed_by` entry names a distro or a family of the matrix."""
    known = {d.name for d in distros} | set(matrix.FAMILIES)
    for source in pinned.sources.values():
        unknown = sorted(set(source.needed_by) - known)
        if unknown:
            raise HeliosError(
                f"source '{source.name}': needed_by names unknown distro/family "
                f"{', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )


def needed_names(pinned: Manifest, distros: list[matrix.Distro]) -> set[str]:
    """Names of the sources at least one of `distros` needs."""
    return {s.name for s in pinned.sources.values() if any(is_needed(s, d) for d in distros)}


def target_args(pinned: Manifest, distro: matrix.Distro) -> dict[str, str]:
    """<ID>_NEEDED build args of one bake target (only sources restricted by needed_by)."""
    return {
        f"{s.arg_id}_NEEDED": "true" if is_needed(s, distro) else "false"
        for s in sorted(pinned.sources.values(), key=lambda s: s.name)
        if s.needed_by
    }
