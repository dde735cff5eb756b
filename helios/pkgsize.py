"""`invoke size <distro>`: the largest packages of a built image and what pulls each one in.

Reads dpkg's database inside the image (`dpkg-query`, run in a throwaway container of it) and
apt's auto-installed marks, then for each of the largest packages lists the installed packages
that depend on it directly and one shortest chain of dependencies from a package that was asked
for by name (apt's "manual" packages: the runtime list of <distro>/build/system.sh, or the base
image's). Reading dpkg-query's fields needs no apt lists, which the images do not keep.
Only dpkg-based images (debian and ubuntu families) are supported.
"""

import re
from collections import deque
from dataclasses import dataclass, field

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from helios import HeliosError

FIELDS = ("Package", "Installed-Size", "Depends", "Pre-Depends", "Recommends", "Provides")
QUERY = "\\t".join(f"${{{name}}}" for name in FIELDS) + "\\n"
EXTENDED_STATES = "/var/lib/apt/extended_states"
# Bytes of each package's regular files that are really in the image: Installed-Size counts the
# docs, man pages and translations the images leave out (dpkg path-exclude), so it overstates.
# Hard links count once (bookworm's mesa ships one 25 MB file under 13 driver names).
DISK = r"""
dpkg-query -W -f='${Package}\n' | while read -r p; do
    printf '%s\t' "$p"
    dpkg-query -L "$p" 2>/dev/null | xargs -r -d '\n' stat -c '%i %s %F' 2>/dev/null |
        awk '$3 == "regular" && !seen[$1]++ { s += $2 } END { print s + 0 }'
done
"""
# dpkg-query, the auto marks (no extended_states: none auto) and the on-disk sizes in one run.
SCRIPT = (
    f"dpkg-query -W -f='{QUERY}' && echo '%%auto%%' && "
    f"(cat {EXTENDED_STATES} 2>/dev/null || true) && echo '%%disk%%' && {DISK}"
)
_VERSION = re.compile(r"\s*\(.*?\)|:any|:native|\s*\[.*?\]|\s*<.*?>")


@dataclass
class Package:
    name: str
    kib: int
    depends: list[list[str]] = field(default_factory=list)  # AND of OR-alternatives
    recommends: list[list[str]] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)
    disk_bytes: int | None = None  # regular files present in the image, when measured

    @property
    def kib_on_disk(self) -> int:
        return self.kib if self.disk_bytes is None else self.disk_bytes // 1024


def _relations(text: str) -> list[list[str]]:
    out = []
    for clause in text.split(","):
        alternatives = [_VERSION.sub("", alt).strip() for alt in clause.split("|")]
        alternatives = [a for a in alternatives if a]
        if alternatives:
            out.append(alternatives)
    return out


def parse_packages(text: str) -> dict[str, Package]:
    """Packages from dpkg-query lines in FIELDS order (tab separated)."""
    packages = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != len(FIELDS) or not parts[0]:
            continue
        name, size, depends, pre, recommends, provides = parts
        packages[name] = Package(
            name,
            int(size) if size.isdigit() else 0,
            _relations(depends) + _relations(pre),
            _relations(recommends),
            [alt[0] for alt in _relations(provides)],
        )
    return packages


def parse_auto(text: str) -> set[str]:
    """Package names apt marked Auto-Installed: 1 in extended_states."""
    auto, name = set(), ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == "Package":
            name = value.strip().split(":")[0]
        elif key == "Auto-Installed" and value.strip() == "1" and name:
            auto.add(name)
    return auto


def apply_disk(packages: dict[str, Package], text: str) -> None:
    """Set disk_bytes from `name<TAB>bytes` lines (unknown names are ignored)."""
    for line in text.splitlines():
        name, _, size = line.partition("\t")
        if name in packages and size.strip().isdigit():
            packages[name].disk_bytes = int(size)


def _providers(packages: dict[str, Package]) -> dict[str, list[str]]:
    providers: dict[str, list[str]] = {name: [name] for name in packages}
    for pkg in packages.values():
        for virtual in pkg.provides:
            providers.setdefault(virtual, []).append(pkg.name)
    return providers


def reverse_depends(packages: dict[str, Package]) -> dict[str, set[str]]:
    """Installed package -> the installed packages whose Depends/Pre-Depends it satisfies."""
    providers = _providers(packages)
    rdeps: dict[str, set[str]] = {name: set() for name in packages}
    for pkg in packages.values():
        for alternatives in pkg.depends:
            for alt in alternatives:
                found = [p for p in providers.get(alt, []) if p != pkg.name]
                if found:
                    for provider in found:
                        rdeps[provider].add(pkg.name)
                    break
    return rdeps


def why(name: str, rdeps: dict[str, set[str]], manual: set[str]) -> list[str]:
    """Shortest chain [name, ..., a manual package] up the reverse dependencies, else [name]."""
    if name in manual:
        return [name]
    seen = {name}
    queue = deque([[name]])
    while queue:
        chain = queue.popleft()
        for parent in sorted(rdeps.get(chain[-1], ())):
            if parent in seen:
                continue
            if parent in manual:
                return [*chain, parent]
            seen.add(parent)
            queue.append([*chain, parent])
    return [name]


@dataclass(frozen=True)
class Row:
    name: str
    kib: int  # in the image (on disk when measured, else dpkg's Installed-Size)
    installed_kib: int  # dpkg's Installed-Size
    direct: list[str]
    chain: list[str]


def largest(packages: dict[str, Package], auto: set[str], top: int) -> list[Row]:
    rdeps = reverse_depends(packages)
    manual = set(packages) - auto
    rows = []
    for pkg in sorted(packages.values(), key=lambda p: (-p.kib_on_disk, p.name))[:top]:
        direct, chain = sorted(rdeps[pkg.name]), why(pkg.name, rdeps, manual)
        rows.append(Row(pkg.name, pkg.kib_on_disk, pkg.kib, direct, chain))
    return rows


def report(image: str, image_bytes: int, packages: dict[str, Package], rows: list[Row]) -> str:
    total = sum(p.kib_on_disk for p in packages.values())
    lines = [
        f"{image}: {image_bytes / 1e6:.0f} MB image, {len(packages)} packages, "
        f"{total / 1024:.0f} MiB of package files in the image",
        f"{'KiB':>8} {'(dpkg)':>8}  {'package':<32} pulled in by (direct) / chain to a "
        "requested package",
    ]
    for row in rows:
        direct = ", ".join(row.direct[:4]) + (" …" if len(row.direct) > 4 else "")
        chain = " <- ".join(row.chain) if len(row.chain) > 1 else "(requested by name)"
        lines.append(f"{row.kib:>8} {row.installed_kib:>8}  {row.name:<32} {direct or '-'}")
        lines.append(f"{'':>8} {'':>8}  {'':<32} {chain}")
    return "\n".join(lines)


def inspect_image(client: DockerClient, image: str) -> tuple[int, dict[str, Package], set[str]]:
    """(image bytes, installed packages, auto-installed names) of a local image."""
    if not client.image.exists(image):
        raise HeliosError(f"image {image} is not in the local engine; build it first")
    size = int(client.image.inspect(image).size)
    try:
        output = client.run(image, ["sh", "-c", SCRIPT], entrypoint="", remove=True)
    except DockerException as exc:
        raise HeliosError(
            f"{image}: cannot read its dpkg database (only dpkg-based images are supported): "
            f"{str(exc).strip().splitlines()[-1]}"
        ) from exc
    text, _, rest = str(output).partition("%%auto%%")
    auto, _, disk = rest.partition("%%disk%%")
    packages = parse_packages(text)
    if not packages:
        raise HeliosError(f"{image}: dpkg-query listed no packages")
    apply_disk(packages, disk)
    return size, packages, parse_auto(auto)


def parse_top(text: str) -> int:
    """--top as `invoke size` receives it: a string, because invoke's own int conversion
    ends in a traceback for `--top abc`."""
    try:
        value = int(text)
    except ValueError:
        raise HeliosError(f"--top must be a whole number, got {text!r}") from None
    if value < 1:
        raise HeliosError(f"--top must be at least 1, got {value}")
    return value


def size_report(client: DockerClient, image: str, top: int = 25) -> str:
    if top < 1:
        raise HeliosError(f"--top must be at least 1, got {top}")
    size, packages, auto = inspect_image(client, image)
    return report(image, size, packages, largest(packages, auto, top))
