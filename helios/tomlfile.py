"""Reading TOML data files with errors that name the file."""

import tomllib
from pathlib import Path
from typing import Any

from helios import HeliosError


def load(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning I/O and syntax errors into HeliosError naming the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise HeliosError(f"{path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise HeliosError(f"{path}: invalid TOML: {exc}") from exc
