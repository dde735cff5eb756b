"""The single Helios version source (version.toml)."""

import re
from pathlib import Path
from typing import Annotated

from pydantic import StringConstraints

from helios import ROOT, tomlfile

VERSION_FILE = ROOT / "version.toml"
SEMVER = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$"
SEMVER_RE = re.compile(SEMVER)
SemVer = Annotated[str, StringConstraints(pattern=SEMVER)]


class VersionFile(tomlfile.Strict):
    version: SemVer


def read(path: Path = VERSION_FILE) -> str:
    """Return the Helios version (X.Y.Z, no leading v)."""
    return tomlfile.validated(path, VersionFile).version
