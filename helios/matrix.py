"""The distro matrix (distros.toml): loading and validation."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helios import ROOT, HeliosError, tomlfile

MATRIX_FILE = ROOT / "distros.toml"
FAMILIES = ("debian", "ubuntu", "rhel")
# Valid as a bake target, an invoke task (no dots, no underscores) and a folder name.
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
VERSION_RE = re.compile(r"^\d+(\.\d+)+$")
FIELDS: dict[str, type] = {
    "name": str,
    "image": str,
    "family": str,
    "xorg": str,
    "webrtc": bool,
}


@dataclass(frozen=True)
class Distro:
    """One Helios image flavour."""

    name: str
    image: str
    family: str
    xorg: str
    webrtc: bool

    @property
    def rhel(self) -> bool:
        return self.family == "rhel"


def _fail(path: Path, who: str, field: str, rule: str) -> HeliosError:
    return HeliosError(f"{path}: distro {who}: field '{field}' {rule}")


def _check_entry(path: Path, index: int, entry: Any) -> Distro:
    who = f"#{index + 1}"
    if not isinstance(entry, dict):
        raise HeliosError(f"{path}: distro {who}: must be a table ([[distro]])")
    if isinstance(entry.get("name"), str):
        who = repr(entry["name"])
    for key in entry:
        if key not in FIELDS:
            raise _fail(path, who, key, f"is unknown (known fields: {', '.join(FIELDS)})")
    for key, kind in FIELDS.items():
        if key not in entry:
            raise _fail(path, who, key, "is missing")
        if not isinstance(entry[key], kind):
            raise _fail(path, who, key, f"must be a {kind.__name__}")
    rules = {
        "name": (NAME_RE.match(entry["name"]), "must match [a-z0-9][a-z0-9-]* (bake/invoke name)"),
        "image": (entry["image"].strip() == entry["image"] != "", "must be a non-empty image"),
        "family": (entry["family"] in FAMILIES, f"must be one of {', '.join(FAMILIES)}"),
        "xorg": (VERSION_RE.match(entry["xorg"]), "must be a dotted version such as 21.1.4"),
    }
    for key, (ok, rule) in rules.items():
        if not ok:
            raise _fail(path, who, key, f"{rule}, got {entry[key]!r}")
    return Distro(**entry)


def load(path: Path = MATRIX_FILE) -> tuple[Distro, ...]:
    """Load and validate the matrix; every problem raises HeliosError naming file, distro, field."""
    data = tomlfile.load(path)
    unknown = set(data) - {"distro"}
    if unknown:
        raise HeliosError(f"{path}: unknown top-level key(s): {', '.join(sorted(unknown))}")
    entries = data.get("distro")
    if not isinstance(entries, list) or not entries:
        raise HeliosError(f"{path}: needs at least one [[distro]] table")
    distros = tuple(_check_entry(path, i, entry) for i, entry in enumerate(entries))
    seen: set[str] = set()
    for distro in distros:
        if distro.name in seen:
            raise _fail(path, repr(distro.name), "name", "is a duplicate")
        seen.add(distro.name)
    return distros


def names(distros: tuple[Distro, ...]) -> list[str]:
    return [d.name for d in distros]


def select(distros: tuple[Distro, ...], wanted: list[str]) -> list[Distro]:
    """Pick distros by name; an unknown name raises HeliosError listing the valid ones."""
    by_name = {d.name: d for d in distros}
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise HeliosError(
            f"unknown distro {', '.join(map(repr, unknown))}; valid: {', '.join(by_name)}"
        )
    return [by_name[name] for name in wanted] if wanted else list(distros)
