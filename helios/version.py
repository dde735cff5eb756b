"""The single Helios version source (version.toml)."""

import re
from pathlib import Path

from helios import ROOT, HeliosError, tomlfile

VERSION_FILE = ROOT / "version.toml"
SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def read(path: Path = VERSION_FILE) -> str:
    """Return the Helios version (X.Y.Z, no leading v)."""
    data = tomlfile.load(path)
    version = data.get("version")
    if set(data) != {"version"} or not isinstance(version, str) or not SEMVER_RE.match(version):
        raise HeliosError(f'{path}: must hold exactly version = "X.Y.Z"')
    return version
