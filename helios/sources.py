"""The sources folder: download, verify and stage the pinned upstream files of sources.toml.

`invoke sources` fills a folder with every file of the manifest (`fetch_all`);
`invoke build <distros> --sources DIR` checks that folder (`verify_folder`), links its files into
the build context's `.sources/` (`stage`) and passes `build_overrides` to bake so the build never
contacts upstream hosts. A folder may carry its own `sources.toml` (an organisation's vetted
checksums for repackaged files): it then wins over the repository manifest for that folder.
"""

import bz2
import gzip
import hashlib
import lzma
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import requests
from filelock import FileLock, Timeout
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from helios import ROOT, HeliosError, manifest
from helios.manifest import Artifact, Manifest, Source

SOURCES_DIR = ROOT / ".sources"
FOLDER_MANIFEST = "sources.toml"
CHUNK = 1 << 20
TIMEOUT = 60
# Transient failures (connection errors, 429 and 5xx answers) are retried with backoff.
RETRY = Retry(total=4, backoff_factor=1.0, status_forcelist=(429, 500, 502, 503, 504))
# Build args a folder's own manifest may change (everything else must match the repository).
OVERRIDABLE = ("_SHA256", "_FILE", "_DIGEST")
# Upstream URLs are never used by an offline build, so a folder may record other ones.
IGNORED_OFFLINE = "_URL"

TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar.xz", ".tar.bz2", ".tar")


def _open_stream(path: Path, digest: str, name: str) -> BinaryIO:
    """The byte stream a digest covers: the file itself, or its decompressed tar stream."""
    if digest == "file":
        return path.open("rb")
    if digest != "tar":
        raise HeliosError(f"{name}: unknown digest kind {digest!r} (file, tar)")
    if name.endswith((".tar.gz", ".tgz")):
        return gzip.open(path, "rb")
    if name.endswith(".tar.xz"):
        return lzma.open(path, "rb")
    if name.endswith(".tar.bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".tar"):
        return path.open("rb")
    raise HeliosError(f"{name}: digest 'tar' needs one of {', '.join(TAR_SUFFIXES)}")


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


def digest_of(path: Path, digest: str, name: str = "") -> str:
    """sha256 of a file ("file") or of its decompressed tar stream ("tar").

    `name` (default: the path's name) decides the compression, so partial downloads work.
    """
    name = name or path.name
    sha = hashlib.sha256()
    try:
        with _open_stream(path, digest, name) as handle:
            for chunk in _chunks(handle):
                sha.update(chunk)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise HeliosError(f"{name}: cannot read for sha256 ({exc})") from exc
    return sha.hexdigest()


def verify(path: Path, source: Source, artifact: Artifact) -> None:
    """Raise HeliosError naming the file unless it matches the pinned sha256."""
    got = digest_of(path, source.digest, artifact.file)
    if got != artifact.sha256:
        raise HeliosError(
            f"{artifact.file}: sha256 mismatch (source '{source.name}', digest={source.digest}): "
            f"got {got}, expected {artifact.sha256}"
        )


def _is_valid(path: Path, source: Source, artifact: Artifact) -> bool:
    try:
        verify(path, source, artifact)
    except HeliosError:
        return False
    return True


def _url(artifact: Artifact, mirror: str) -> str:
    return f"{mirror.rstrip('/')}/{artifact.file}" if mirror else artifact.url


def session() -> requests.Session:
    """An HTTP session that retries transient failures (see RETRY)."""
    http = requests.Session()
    http.headers["User-Agent"] = "helios-sources"
    adapter = HTTPAdapter(max_retries=RETRY)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


def _download(url: str, part: Path) -> None:
    try:
        with session() as http, http.get(url, stream=True, timeout=TIMEOUT) as response:
            response.raise_for_status()
            with part.open("wb") as out:
                for chunk in response.iter_content(CHUNK):
                    out.write(chunk)
    except (requests.RequestException, OSError) as exc:
        part.unlink(missing_ok=True)
        raise HeliosError(
            f"{part.name.removeprefix('.').removesuffix('.part')}: "
            f"download from {url} failed ({exc})"
        ) from exc


def fetch_one(dest: Path, source: Source, artifact: Artifact, mirror: str = "") -> Path:
    """Make dest/<file> present and valid: keep a valid copy, else download atomically."""
    target = dest / artifact.file
    if target.is_file() and _is_valid(target, source, artifact):
        return target
    part = dest / f".{artifact.file}.part"
    url = _url(artifact, mirror)
    _download(url, part)
    try:
        verify(part, source, artifact)
    except HeliosError as exc:
        part.unlink(missing_ok=True)
        raise HeliosError(f"{exc} (downloaded from {url})") from exc
    os.replace(part, target)
    return target


def fetch_all(
    dest: Path,
    manifest: Manifest,
    arches: tuple[str, ...],
    *,
    mirror: str | None = None,
    optional: bool = True,
) -> list[Path]:
    """Download every file of the manifest for `arches` into `dest`, verified.

    `mirror` (default: $SOURCES_MIRROR) is a base URL serving the files by their manifest file
    name; `optional=False` leaves out optional sources (kasmbins).
    """
    base = os.environ.get("SOURCES_MIRROR", "") if mirror is None else mirror
    dest.mkdir(parents=True, exist_ok=True)
    return [
        fetch_one(dest, source, artifact, base)
        for source, artifact in manifest.artifacts(arches)
        if optional or not source.optional
    ]


def folder_manifest(folder: Path) -> Manifest:
    """The folder's own sources.toml when it has one, else the repository manifest."""
    own = folder / FOLDER_MANIFEST
    return manifest.load(own) if own.is_file() else manifest.load()


def verify_folder(
    folder: Path, arches: tuple[str, ...] = ("amd64",), needed: set[str] | None = None
) -> list[Path]:
    """Check that `folder` holds every required file for `arches` with the right sha256.

    Optional sources, and sources not in `needed` (names; default: all are needed), are
    checked only when present. Raises one HeliosError listing every missing or mismatching file.
    """
    if not folder.is_dir():
        raise HeliosError(f"sources folder {folder}: not a directory")
    pinned = folder_manifest(folder)
    problems: list[str] = []
    good: list[Path] = []
    for source, artifact in pinned.artifacts(arches):
        path = folder / artifact.file
        if not path.is_file():
            if not source.optional and (needed is None or source.name in needed):
                problems.append(f"{artifact.file}: missing (source '{source.name}')")
            continue
        try:
            verify(path, source, artifact)
        except HeliosError as exc:
            problems.append(str(exc))
            continue
        good.append(path)
    if problems:
        raise HeliosError(f"sources folder {folder}: " + "; ".join(problems))
    return good


def build_overrides(folder: Path) -> dict[str, str]:
    """bake --set entries making a build read only from `folder` (staged as .sources/)."""
    out = {"*.args.OFFLINE": "true"}
    own = folder / FOLDER_MANIFEST
    if not own.is_file():
        return out
    pinned = manifest.load()
    repo_args = pinned.build_args()
    folder_pins = manifest.load(own)
    for source in folder_pins.sources.values():
        if source.name not in pinned.sources:
            # A source the repository cannot pin (e.g. kasmbins): the folder's owner vets it.
            out.update({f"*.args.{k}": v for k, v in source.args().items()})
    for key, value in folder_pins.build_args().items():
        if key not in repo_args and any(
            key.startswith(s.arg_id + "_")
            for s in folder_pins.sources.values()
            if s.name not in pinned.sources
        ):
            continue
        if key not in repo_args:
            raise HeliosError(f"{own}: build arg {key} is not in the repository manifest")
        if value == repo_args[key] or IGNORED_OFFLINE in key:
            continue
        if not any(marker in key for marker in OVERRIDABLE):
            raise HeliosError(
                f"{own}: {key} = {value!r} differs from the repository manifest "
                f"({repo_args[key]!r}); a sources folder may only change sha256, file and digest"
            )
        out[f"*.args.{key}"] = value
    return out


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _place(path: Path, dest: Path) -> None:
    """Hard-link (else copy) `path` to `dest` through a temporary name, replacing it at once."""
    part = dest.parent / f".{path.name}.part"
    part.unlink(missing_ok=True)
    try:
        os.link(path, part)
    except OSError:
        shutil.copy2(path, part)
    os.replace(part, dest)


def stage(folder: Path, target: Path = SOURCES_DIR) -> None:
    """Make the folder's files available in `target` (hard links, copies across devices)."""
    if not folder.is_dir():
        raise HeliosError(f"sources folder {folder}: not a directory")
    target.mkdir(parents=True, exist_ok=True)
    if _same_file(folder, target):
        return
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name == FOLDER_MANIFEST:
            continue
        dest = target / path.name
        if dest.exists() and _same_file(path, dest):
            continue
        _place(path, dest)


# Staging for one build: what `staged` put into the build context's .sources/ is recorded there
# (one file name a line) before it is placed, and files it had to replace are moved aside, so
# the end of the build -- or, after a crash, the start of the next one -- puts .sources/ back as
# it was. A later plain build then never meets a file (or a checksum) meant for another folder.
STAGE_RECORD = ".helios-staged"
STASH_DIR = ".helios-stash"


def unstage(target: Path | None = None) -> None:
    """Undo a recorded staging of `target` (default .sources/): remove staged files, restore
    the ones they replaced."""
    target = target or SOURCES_DIR
    record = target / STAGE_RECORD
    if not record.is_file():
        return
    stash = target / STASH_DIR
    for name in dict.fromkeys(record.read_text().split()):
        if "/" in name or name.startswith("."):
            continue  # only plain names are ever recorded
        (target / name).unlink(missing_ok=True)
        if (stash / name).is_file():
            os.replace(stash / name, target / name)
    shutil.rmtree(stash, ignore_errors=True)
    record.unlink()


def _stage_recorded(folder: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    record = target / STAGE_RECORD
    stash = target / STASH_DIR
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name == FOLDER_MANIFEST:
            continue
        dest = target / path.name
        if dest.exists() and _same_file(path, dest):
            continue
        with record.open("a") as out:
            out.write(path.name + "\n")
        if dest.is_file():
            stash.mkdir(exist_ok=True)
            os.replace(dest, stash / path.name)
        _place(path, dest)


# Held for a whole build, beside the folder (<target>.lock, e.g. .sources.lock): a second build in
# the same checkout would otherwise take the first one's staging record for a killed build's,
# undo it, and leave the first without its files.


@contextmanager
def exclusive(target: Path | None = None) -> Iterator[None]:
    """The checkout's `target` (default .sources/) for one build only; a build already holding
    it makes this one stop with one line (nothing is staged or undone)."""
    target = target or SOURCES_DIR
    target.mkdir(parents=True, exist_ok=True)
    lock = FileLock(target.parent / f"{target.name}.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise HeliosError(
            f"another build in this checkout is using {target}/ (lock {lock.lock_file}): "
            "wait for it to finish, or build from another worktree"
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def unstaged(target: Path | None = None) -> Iterator[None]:
    """A plain build: whatever a killed build left staged in `target` is undone first."""
    with exclusive(target):
        unstage(target)
        yield


@contextmanager
def staged(folder: Path, target: Path | None = None) -> Iterator[None]:
    """`folder`'s files in `target` (default .sources/) for the duration of a build; `target`
    is restored after."""
    target = target or SOURCES_DIR
    if not folder.is_dir():
        raise HeliosError(f"sources folder {folder}: not a directory")
    with exclusive(target):
        unstage(target)  # left over by a build that was killed
        if _same_file(folder, target):
            yield
            return
        try:
            _stage_recorded(folder, target)
            yield
        finally:
            unstage(target)
