"""The distro matrix (distros.toml): loading and validation (pydantic models)."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from helios import ROOT, HeliosError, tomlfile

MATRIX_FILE = ROOT / "distros.toml"
FAMILIES = ("debian", "ubuntu", "rhel")
# Valid as a bake target, an invoke task (no dots, no underscores) and a folder name.
Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
Image = Annotated[str, StringConstraints(pattern=r"^\S+$")]
Version = Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)+$")]


class Distro(tomlfile.Strict):
    """One Helios image flavour."""

    name: Name
    image: Image
    family: Literal["debian", "ubuntu", "rhel"]
    xorg: Version
    webrtc: bool

    @property
    def rhel(self) -> bool:
        return self.family == "rhel"


class Matrix(tomlfile.Strict):
    distro: list[Distro] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> "Matrix":
        names = [d.name for d in self.distro]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"distro name(s) used twice: {', '.join(dupes)}")
        return self


def load(path: Path = MATRIX_FILE) -> tuple[Distro, ...]:
    """Load and validate the matrix; every problem raises HeliosError naming file and key."""
    return tuple(tomlfile.validated(path, Matrix).distro)


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
