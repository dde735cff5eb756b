"""`invoke release`: bump version.toml, re-render the bake file, update image tags, commit and tag.

The release commit changes exactly these files (those that exist):

    version.toml             version = "X.Y.Z" (the header comment is kept)
    docker-bake.hcl          re-rendered by helios.bake.render()
    README.md, compose.yml,  every image tag v<old>-<distro> becomes v<new>-<distro>
    deploy/base/statefulset.yaml  (tags of other versions or unknown distros are left alone)

and the commit is tagged v<new> (annotated). Nothing is changed when a check fails: the tree must
be clean, the tag must not exist and the part must be patch, minor or major. With dry_run the same
checks run and the plan is printed. If a step fails after files were written, they are restored.
Git runs as a subprocess with explicit argument lists (no shell).
"""

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from helios import ROOT, HeliosError, bake, matrix, version

PARTS = ("patch", "minor", "major")
VERSION_FILE = "version.toml"
BAKE_FILE = "docker-bake.hcl"
# Files whose image tags follow the version (relative to the repository root).
TAGGED_FILES = ("README.md", "compose.yml", "deploy/base/statefulset.yaml")
ANY_VERSION = r"\d+\.\d+\.\d+"

Echo = Callable[[str], None]
BakeWriter = Callable[[Path], Path]


@dataclass(frozen=True)
class Edit:
    """A planned change of one text file."""

    path: Path
    old: str
    new: str
    count: int


def bump(current: str, part: str) -> str:
    """The next version: bump("1.2.3", "minor") == "1.3.0"."""
    if part not in PARTS:
        raise HeliosError(f"--part {part!r}: must be one of {', '.join(PARTS)}")
    if not version.SEMVER_RE.match(current):
        raise HeliosError(f"version {current!r}: must be X.Y.Z")
    major, minor, patch = (int(n) for n in current.split("."))
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def tag_pattern(version_re: str, distros: list[str]) -> re.Pattern[str]:
    """Image tags v<ver>-<distro>, not part of a longer word or version (v10.1.0, -rocky-90)."""
    names = "|".join(re.escape(d) for d in sorted(distros, key=len, reverse=True))
    return re.compile(rf"(?<![\w.-])v{version_re}-(?P<distro>{names})(?![\w-])")


def retag(text: str, old: str, new: str, distros: list[str]) -> tuple[str, int]:
    """Replace v<old>-<distro> image tags with v<new>-<distro>; returns (text, count)."""
    return tag_pattern(re.escape(old), distros).subn(lambda m: f"v{new}-{m['distro']}", text)


def stale_tags(text: str, current: str, distros: list[str]) -> list[str]:
    """Image tags of a version other than the current one (left unchanged, reported)."""
    found = (m.group(0) for m in tag_pattern(ANY_VERSION, distros).finditer(text))
    return sorted({tag for tag in found if not tag.startswith(f"v{current}-")})


def version_text(path: Path, new: str) -> str:
    """version.toml with the new version, keeping the file's leading comment lines."""
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line + "\n")
    return "".join(header) + tomli_w.dumps({"version": new})


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in `root`; a failure raises HeliosError with git's own message."""
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit {result.returncode}"
        raise HeliosError(f"git {' '.join(args)}: {reason}")
    return result


def check_repository(root: Path, tag: str) -> None:
    """Refuse a dirty tree (tracked or untracked changes) and an existing tag."""
    if git(root, "rev-parse", "--is-inside-work-tree", check=False).returncode != 0:
        raise HeliosError(f"{root}: not a git work tree")
    status = git(root, "status", "--porcelain", "--untracked-files=normal").stdout.splitlines()
    if status:
        listed = ", ".join(line[3:] for line in status[:5]) + (" ..." if len(status) > 5 else "")
        raise HeliosError(
            f"working tree is dirty ({len(status)} change(s): {listed}): commit or stash them first"
        )
    if git(root, "rev-parse", "-q", "--verify", f"refs/tags/{tag}", check=False).returncode == 0:
        raise HeliosError(f"tag {tag} already exists: bump another --part or delete the tag")


def plan_edits(root: Path, old: str, new: str, distros: list[str]) -> tuple[list[Edit], list[str]]:
    """The image-tag edits for TAGGED_FILES and warnings about tags of other versions."""
    edits: list[Edit] = []
    warnings: list[str] = []
    for rel in TAGGED_FILES:
        path = root / rel
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        updated, count = retag(text, old, new, distros)
        if count:
            edits.append(Edit(path, text, updated, count))
        for tag in stale_tags(text, old, distros):
            warnings.append(f"warning: {rel} shows {tag}, not v{old}: left unchanged")
    return edits, warnings


def write_bake(root: Path) -> Path:
    """Re-render root/docker-bake.hcl from root's template and data files (helios.bake)."""
    text = bake.render(
        matrix_file=root / "distros.toml",
        manifest_file=root / "sources.toml",
        version_file=root / VERSION_FILE,
        template=root / "docker-bake.hcl.j2",
    )
    output = root / BAKE_FILE
    output.write_text(text, encoding="utf-8")
    return output


def _snapshot(root: Path, edits: list[Edit]) -> dict[Path, bytes | None]:
    """The current bytes of every file the release writes (None: the file does not exist)."""
    paths = [root / VERSION_FILE, root / BAKE_FILE]
    snapshot = {p: p.read_bytes() if p.exists() else None for p in paths}
    snapshot.update({e.path: e.old.encode("utf-8") for e in edits})
    return snapshot


def _restore(snapshot: dict[Path, bytes | None]) -> None:
    for path, data in snapshot.items():
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(data)


def _write(root: Path, new: str, edits: list[Edit], bake_writer: BakeWriter) -> None:
    version_path = root / VERSION_FILE
    version_path.write_text(version_text(version_path, new), encoding="utf-8")
    written = bake_writer(root)
    if f'"{new}"' not in written.read_text(encoding="utf-8"):
        raise HeliosError(f"{written}: does not carry version {new} after rendering")
    for edit in edits:
        edit.path.write_text(edit.new, encoding="utf-8")


def _commit(root: Path, paths: list[Path], new: str) -> None:
    """Commit exactly `paths`; on failure unstage them again."""
    rel = [str(p.relative_to(root)) for p in paths if p.exists()]
    git(root, "add", "--", *rel)
    try:
        git(root, "commit", "--quiet", "-m", f"Release v{new}", "--", *rel)
    except HeliosError:
        git(root, "reset", "--quiet", "--", *rel, check=False)
        raise


def main(
    part: str,
    dry_run: bool,
    root: Path = ROOT,
    *,
    echo: Echo = print,
    bake_writer: BakeWriter = write_bake,
) -> list[str]:
    """Release the next `part` version; returns the lines it printed (each also passed to echo)."""
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        echo(line)

    old = version.read(root / VERSION_FILE)
    new = bump(old, part)
    tag = f"v{new}"
    check_repository(root, tag)
    distros = matrix.names(matrix.load(root / "distros.toml"))
    edits, warnings = plan_edits(root, old, new, distros)
    prefix = "would " if dry_run else ""
    say(f"{prefix}bump {VERSION_FILE}: {old} -> {new}")
    say(f"{prefix}render {BAKE_FILE}")
    for edit in edits:
        say(f"{prefix}update {edit.path.relative_to(root)}: {edit.count} image tag(s) -> {tag}")
    for warning in warnings:
        say(warning)
    say(f"{prefix}commit 'Release {tag}' and tag {tag}")
    if dry_run:
        return lines
    snapshot = _snapshot(root, edits)
    try:
        _write(root, new, edits, bake_writer)
        _commit(root, list(snapshot), new)
    except BaseException:
        _restore(snapshot)
        raise
    result = git(root, "tag", "-a", tag, "-m", f"Helios {tag}", check=False)
    if result.returncode != 0:
        raise HeliosError(f"committed 'Release {tag}' but git tag failed: {result.stderr.strip()}")
    say(f"released {tag}: push with `git push --atomic origin HEAD {tag}`")
    return lines
