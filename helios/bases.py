"""`invoke bases`: the Debian base images of the matrix, made from Debian's mirror.

Where no container registry answers, `invoke build bookworm,trixie,sid` still needs
debian:bookworm, debian:trixie and debian:sid in the engine. This makes each with mmdebstrap
(minbase) from the release suite plus its `-updates` and `-security` suites when the mirror
serves them (sid has neither), so the image starts with the current security fixes (libssl,
nginx, ...) and apt inside it keeps receiving them, then imports it under the official tag.
The suites served are read from the mirror (a `Release` file answering 200), never assumed.
"""

import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from python_on_whales import DockerClient

from helios import HeliosError, baseimages

SECURITY_MIRROR = os.environ.get(
    "HELIOS_DEBIAN_SECURITY_MIRROR", "http://deb.debian.org/debian-security"
)
TIMEOUT = 20


def served(url: str) -> bool:
    """True when `url` (a suite's Release file) answers 200."""
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "helios-bases"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def suite_lines(
    suite: str,
    mirror: str = baseimages.DEBIAN_MIRROR,
    security: str = SECURITY_MIRROR,
    probe: Callable[[str], bool] = served,
) -> list[str]:
    """The apt source lines for `suite`: itself, then -updates and -security where served."""
    mirror, security = mirror.rstrip("/"), security.rstrip("/")
    if not probe(f"{mirror}/dists/{suite}/Release"):
        raise HeliosError(f"{mirror} serves no suite {suite!r} (dists/{suite}/Release)")
    lines = [f"deb {mirror} {suite} main"]
    for base, name in ((mirror, f"{suite}-updates"), (security, f"{suite}-security")):
        if probe(f"{base}/dists/{name}/Release"):
            lines.append(f"deb {base} {name} main")
    return lines


def mmdebstrap_command(suite: str, out: Path, lines: list[str]) -> list[str]:
    cmd = ["mmdebstrap", "--variant=minbase"]
    if suite in baseimages.NO_VALID_UNTIL:
        cmd.append('--aptopt=Acquire::Check-Valid-Until "false"')
    return [*cmd, suite, str(out), *lines]


def debian_bases(wanted: list[str] | None = None) -> list[str]:
    """debian:<suite> bases of the matrix (or the `wanted` suites among them)."""
    bases = [b for b in baseimages.matrix_bases() if baseimages.debian_suite(b)]
    if not wanted:
        return bases
    by_suite = {baseimages.debian_suite(b): b for b in bases}
    unknown = [s for s in wanted if s not in by_suite]
    if unknown:
        raise HeliosError(
            f"unknown Debian base {', '.join(unknown)}; the matrix's: {', '.join(by_suite)}"
        )
    return [by_suite[s] for s in wanted]


def make(image: str, client: DockerClient, probe: Callable[[str], bool] = served) -> list[str]:
    """Make `image` (debian:<suite>) with mmdebstrap and import it; the apt lines used."""
    suite = baseimages.debian_suite(image)
    if suite is None:
        raise HeliosError(f"{image} is not a debian:<suite> image")
    if shutil.which("mmdebstrap") is None:
        raise HeliosError("mmdebstrap is missing: apt-get install mmdebstrap")
    lines = suite_lines(suite, probe=probe)
    with tempfile.TemporaryDirectory(prefix="helios-base-") as tmp:
        out = Path(tmp) / f"debian-{suite}.tar"
        try:
            subprocess.run(mmdebstrap_command(suite, out, lines), check=True)
        except subprocess.CalledProcessError as exc:
            raise HeliosError(
                f"mmdebstrap failed for {image} (exit {exc.returncode}); rerun: "
                + " ".join(mmdebstrap_command(suite, Path(f"debian-{suite}.tar"), lines))
            ) from exc
        client.image.import_(out, tag=image, changes=list(baseimages.IMPORT_CHANGES))
    return lines


def make_all(client: DockerClient, wanted: list[str] | None = None) -> None:
    for image in debian_bases(wanted):
        lines = make(image, client)
        suites = ", ".join(line.split()[2] for line in lines)
        print(f"{image}: made from {suites}")
