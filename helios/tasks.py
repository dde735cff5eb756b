"""invoke task definitions; the top-level tasks.py only exposes `namespace()`.

Docker, buildx and compose are driven through python-on-whales. Every task turns a HeliosError
into a one-line message and exit code 1.
"""

import functools
import os
import platform as host
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import Task, task
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from helios import ROOT, HeliosError, bake, lint, matrix, tags

COMPOSE_FILE = ROOT / "compose.yml"
COMPOSE_GPU_FILE = ROOT / "compose.gpu.yml"
CA_ENV = "HELIOS_CA_BUNDLE"
PLATFORMS_ENV = "HELIOS_PLATFORMS"
DEFAULT_PLATFORMS = "linux/amd64"
# Docker's architecture names (manifest.ARCHES) for the platforms Helios builds and for the
# machine names of a build host.
PLATFORM_ARCHES = {"linux/amd64": "amd64", "linux/arm64": "arm64"}
# An image reference for --base-image (name[:tag][@digest]; no spaces, commas or quotes).
IMAGE_NAME = re.compile(r"[a-z0-9][A-Za-z0-9._/:@-]*")
MACHINE_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def docker_client(**kwargs: Any) -> DockerClient:
    """The single place a python-on-whales client is made (tests replace it)."""
    return DockerClient(**kwargs)


def _friendly(fn: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except HeliosError as exc:
            raise Exit(f"error: {exc}", code=1) from exc
        except DockerException as exc:
            raise Exit(docker_failure(exc), code=1) from None

    return wrapper


def docker_failure(exc: DockerException) -> str:
    """One line for a failed docker command: its reason and the command to rerun."""
    stderr = exc.stderr if isinstance(exc.stderr, str) else ""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.upper().startswith("ERROR")]
    reason = (errors or lines or ["see its output above"])[0][:300]
    command = shlex.join(str(part) for part in exc.docker_command)
    return f"error: docker exited {exc.return_code}: {reason}; rerun: {command}"


def parse_distros(spec: str) -> list[matrix.Distro]:
    """'bookworm,sid' or 'bookworm sid' -> distros; empty -> all; unknown names list the valid."""
    wanted = [name for name in spec.replace(",", " ").split() if name]
    return matrix.select(matrix.load(), wanted)


def value_options(command: Task) -> set[str]:
    """The flags of `command` that take a value, long and short, as invoke parses them."""
    flags: set[str] = set()
    for argument in command.get_arguments():
        if argument.kind is not bool:
            flags |= {f"--{n}" if len(n) > 1 else f"-{n}" for n in argument.names}
    return flags


def claimed_distros(argv: list[str], task_name: str, task_names: set[str]) -> list[str]:
    """Distro names written after `invoke <task_name> [options]`.

    invoke would read `invoke build bookworm sid` as three tasks; `build` claims the names
    instead (and stops invoke before it runs them). Options must come before the names, and a
    word that is neither a distro nor a task is an unknown distro.
    """
    if task_name not in argv[1:]:
        return []
    valid = matrix.names(matrix.load())
    claimed: list[str] = []
    expect_value = False
    for word in argv[argv.index(task_name, 1) + 1 :]:
        if expect_value:
            expect_value = False
        elif word.startswith("-"):
            if claimed:
                raise HeliosError(f"put options before the distro names (invoke {task_name} ...)")
            expect_value = "=" not in word and word in value_options(build)
        elif word in valid:
            claimed.append(word)
        elif word in task_names:
            break
        else:
            raise HeliosError(f"unknown distro {word!r}; valid: {', '.join(valid)}")
    return claimed


def check_first_word(argv: list[str], task_names: set[str]) -> None:
    """`invoke bogus`: name the valid distros instead of invoke's bare 'No idea' message."""
    if len(argv) > 1 and not argv[1].startswith("-") and argv[1] not in task_names:
        valid = ", ".join(matrix.names(matrix.load()))
        raise HeliosError(f"unknown task or distro {argv[1]!r}; distros: {valid}")


def git_revision(root: Path = ROOT) -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def ca_bundle_path(explicit: str) -> Path | None:
    """The extra CA bundle for build stages: --ca-bundle, else $HELIOS_CA_BUNDLE, else none."""
    value = explicit or os.environ.get(CA_ENV, "")
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    if not path.is_file():
        raise HeliosError(f"CA bundle {value} (--ca-bundle / {CA_ENV}) is not a file")
    return path


def build_arches(platform: str = "") -> tuple[str, ...]:
    """The architectures whose sources a build of `platform` (default $HELIOS_PLATFORMS, else
    linux/amd64) fetches: each target's, and the build machine's own (the build-platform stages
    fetch theirs, e.g. jammy's Node for the web client)."""
    spec = platform or os.environ.get(PLATFORMS_ENV, "") or DEFAULT_PLATFORMS
    wanted = [p.strip() for p in spec.split(",") if p.strip()]
    unknown = [p for p in wanted if p not in PLATFORM_ARCHES]
    if unknown or not wanted:
        raise HeliosError(
            f"platform {', '.join(unknown) or repr(spec)} (--platform / {PLATFORMS_ENV}): "
            f"Helios builds {', '.join(PLATFORM_ARCHES)}"
        )
    arches = {PLATFORM_ARCHES[p] for p in wanted}
    machine = MACHINE_ARCHES.get(host.machine().lower())
    if machine:
        arches.add(machine)
    return tuple(sorted(arches))


def build_settings(
    sources: str,
    ca_bundle: str,
    distros: list[matrix.Distro] | None = None,
    platform: str = "",
) -> dict[str, str]:
    """The bake --set overrides for an offline sources folder and a corporate CA bundle.

    The folder must hold the files `distros` (default: all) need on `platform`, no others."""
    overrides: dict[str, str] = {}
    arches = build_arches(platform)
    if sources:
        from helios import manifest, needs
        from helios import sources as source_folder

        folder = Path(sources).expanduser().resolve()
        wanted = needs.needed_names(manifest.load(), distros or list(matrix.load()))
        source_folder.verify_folder(folder, arches, needed=wanted)
        overrides.update(source_folder.build_overrides(folder))
    ca = ca_bundle_path(ca_bundle)
    if ca:
        overrides["*.secrets"] = f"id=helios-ca,src={ca}"
    return overrides


def build_images(
    distros: list[matrix.Distro],
    *,
    sources: str = "",
    ca_bundle: str = "",
    platform: str = "",
    channel: str = "dev",
    load: bool = True,
    kasmbins: bool = False,
    base_image: str = "",
) -> None:
    """Build `distros` through the committed bake file (re-rendered first if stale).

    `kasmbins` sets KASMBINS=true: the sources folder's own sources.toml must pin kasmbins.
    `base_image` replaces the one distro's base image for the target platform (an engine that
    keeps one architecture per tag holds an arm64 base under its own name); the build platform's
    stages keep the distro's image.
    """
    tags.check_channel(channel)
    if load and "," in platform:
        raise HeliosError("--platform with several platforms cannot be loaded into the engine")
    if base_image and len(distros) != 1:
        raise HeliosError("--base-image replaces one distro's base: name exactly one distro")
    if base_image and not IMAGE_NAME.fullmatch(base_image):
        raise HeliosError(f"--base-image {base_image!r} is not an image name")
    if not bake.is_current():
        print("generated build files were stale; re-rendered them (invoke bake)")
        bake.write()
    settings = build_settings(sources, ca_bundle, distros, platform)
    if kasmbins:
        settings["*.args.KASMBINS"] = "true"
    if base_image:
        name = distros[0].name
        settings[f"{name}.args.BASE_IMAGE"] = base_image
        settings[f"{name}.labels.org.opencontainers.image.base.name"] = base_image
    variables = {"HELIOS_CHANNEL": channel, "HELIOS_REVISION": git_revision()}
    if platform:
        variables["HELIOS_PLATFORMS"] = platform
    with sources_staged(sources):
        docker_client().buildx.bake(
            targets=[d.name for d in distros],
            files=[bake.OUTPUT],
            load=load,
            set=settings,
            variables=variables,
        )


def sources_staged(sources: str) -> AbstractContextManager[None]:
    """The --sources folder staged into .sources/ for one build (a plain build: none, and
    whatever an interrupted earlier build left staged is undone first)."""
    from helios import sources as source_folder

    if not sources:
        source_folder.unstage()
        return nullcontext()
    return source_folder.staged(Path(sources).expanduser().resolve())


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def compose_client(gpu: bool = False) -> DockerClient:
    files = [COMPOSE_FILE, COMPOSE_GPU_FILE] if gpu else [COMPOSE_FILE]
    return docker_client(compose_files=files)


def compose_up(distro: matrix.Distro, gpu: bool = False) -> None:
    image = tags.local_tag(distro.name)
    with _environ(HELIOS_IMAGE=image):
        compose_client(gpu).compose.up(detach=True, wait=False, force_recreate=True)
    print(f"{image} is starting: open http://localhost:3000 (see compose.yml for the login)")


@task
@_friendly
def build(
    c: Context,
    sources: str = "",
    ca_bundle: str = "",
    platform: str = "",
    channel: str = "dev",
    kasmbins: bool = False,
    base_image: str = "",
) -> None:
    """Build + load images via bake: build [opts] [distro ...]."""
    claimed = claimed_distros(sys.argv, "build", task_names())
    build_images(
        matrix.select(matrix.load(), claimed),
        sources=sources,
        ca_bundle=ca_bundle,
        platform=platform,
        channel=channel,
        kasmbins=kasmbins,
        base_image=base_image,
    )
    if claimed:
        raise Exit(code=0)  # the names were build's arguments, not tasks to run next


@task(name="bake")
@_friendly
def bake_task(c: Context, check: bool = False) -> None:
    """Render docker-bake.hcl from its template (--check: drift)."""
    code = bake.main(["--check"] if check else [])
    if code:
        raise Exit(code=code)


@task(positional=["distro"])
@_friendly
def up(c: Context, distro: str, gpu: bool = False) -> None:
    """Start a built distro with docker compose (--gpu: /dev/dri)."""
    chosen = parse_distros(distro)
    if len(chosen) != 1:
        raise HeliosError("name exactly one distro, e.g. invoke up noble")
    compose_up(chosen[0], gpu)


@task(name="size", positional=["distro"])
@_friendly
def size_task(c: Context, distro: str, image: str = "", top: int = 25) -> None:
    """Largest packages of a built image and what pulls each in (dpkg)."""
    from helios import pkgsize

    chosen = parse_distros(distro)
    if len(chosen) != 1:
        raise HeliosError("name exactly one distro, e.g. invoke size bookworm")
    repo = os.environ.get("HELIOS_REPO", tags.DEFAULT_REPO)
    print(pkgsize.size_report(docker_client(), image or tags.local_tag(chosen[0].name, repo), top))


@task(name="bases")
@_friendly
def bases_task(c: Context, suite: str = "") -> None:
    """Make the debian:<suite> bases from Debian's mirror + security."""
    from helios import bases

    wanted = [name for name in suite.replace(",", " ").split() if name]
    bases.make_all(docker_client(), wanted)


@task
@_friendly
def down(c: Context) -> None:
    """Stop and remove the compose desktop."""
    compose_client(gpu=False).compose.down(remove_orphans=True)


def _run_all(commands: list[list[str]]) -> None:
    failed = lint.run_all(commands)
    if failed:
        raise HeliosError(f"failed: {', '.join(failed)}")


@task(name="lint")
@_friendly
def lint_task(c: Context) -> None:
    """Static checks: ruff, shellcheck, shfmt, hadolint, zizmor, bake."""
    _run_all(lint.lint_commands())


@task(name="format")
@_friendly
def format_task(c: Context) -> None:
    """Format Python (ruff) and every shell script (shfmt)."""
    _run_all(lint.format_commands())


@task(name="sources")
@_friendly
def sources_task(c: Context, dest: str = ".sources", mirror: str = "", arch: str = "") -> None:
    """Download + verify every pinned source (offline builds)."""
    from helios import manifest
    from helios import sources as source_folder

    arches = tuple(a for a in arch.replace(",", " ").split() if a) or manifest.ARCHES
    folder = (ROOT / dest).resolve() if not Path(dest).is_absolute() else Path(dest)
    paths = source_folder.fetch_all(folder, manifest.load(), arches, mirror=mirror)
    print(f"{len(paths)} verified files in {folder}")


@task(name="release")
@_friendly
def release_task(c: Context, part: str = "patch", dry_run: bool = False) -> None:
    """Bump the version (--part patch|minor|major), commit, tag."""
    from helios import release

    release.main(part, dry_run)


def distro_task(distro: matrix.Distro) -> Task:
    """`invoke <distro>`: build it through bake and start it with docker compose."""

    def run(c: Context, gpu: bool = False, sources: str = "", ca_bundle: str = "") -> None:
        try:
            build_images([distro], sources=sources, ca_bundle=ca_bundle)
            compose_up(distro, gpu)
        except HeliosError as exc:
            raise Exit(f"error: {exc}", code=1) from exc
        except DockerException as exc:
            raise Exit(docker_failure(exc), code=1) from None

    run.__doc__ = f"Build {distro.name} via bake and start it (docker compose up)."
    return Task(run, name=distro.name)


TOOL_TASKS = (
    build,
    bake_task,
    up,
    down,
    size_task,
    bases_task,
    lint_task,
    format_task,
    sources_task,
    release_task,
)


def task_names() -> set[str]:
    """Every task name: the tool tasks and one per distro (reads distros.toml)."""
    return {t.name for t in TOOL_TASKS} | set(matrix.names(matrix.load()))


def namespace(argv: list[str] | None = None) -> Collection:
    """All tasks; given the command line, first reject unknown distro names clearly.

    Nothing is read at import: a broken data file is one `error:` line and exit 1 (invoke prints
    an Exit raised while it loads tasks.py without a traceback), also for `invoke --list`.
    """
    try:
        distros = matrix.load()
        if argv is not None:
            check_first_word(argv, task_names())
            claimed_distros(argv, "build", task_names())
    except HeliosError as exc:
        raise Exit(f"error: {exc}", code=1) from exc
    ns = Collection()
    for item in TOOL_TASKS:
        ns.add_task(item)
    for distro in distros:
        ns.add_task(distro_task(distro))
    return ns
