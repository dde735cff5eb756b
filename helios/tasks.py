"""invoke task definitions; the top-level tasks.py only exposes `namespace()`.

invoke parses every command line itself: a task's distros are one argument (`invoke build
bookworm,sid`), and `Executor` (named in invoke.yaml) refuses a distro task written after one.
Docker, buildx and compose are driven through python-on-whales. Every task turns a HeliosError,
an OSError (a path it cannot use), a failed docker command or a missing docker into a one-line
message and exit code 1.
"""

import functools
import itertools
import os
import platform as host
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke import executor
from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import Task, task

from helios import ROOT, HeliosError, bake, lint, matrix, tags

if TYPE_CHECKING:
    # Imported where used: python-on-whales takes a quarter of a second to import, which
    # `invoke --list` and every rejected command line would otherwise pay.
    from python_on_whales import DockerClient
    from python_on_whales.exceptions import DockerException

COMPOSE_FILE = ROOT / "compose.yml"
COMPOSE_GPU_FILE = ROOT / "compose.gpu.yml"
CA_ENV = "HELIOS_CA_BUNDLE"
NO_DOCKER = "error: docker is not on PATH: install Docker with the buildx and compose plugins"
PLATFORMS_ENV = "HELIOS_PLATFORMS"
DEFAULT_PLATFORMS = "linux/amd64"
# An image reference for --base-image (name[:tag][@digest]; no spaces, commas or quotes).
IMAGE_NAME = re.compile(r"[a-z0-9][A-Za-z0-9._/:@-]*")


def docker_client(**kwargs: Any) -> "DockerClient":
    """The single place a python-on-whales client is made (tests replace it)."""
    from python_on_whales import DockerClient

    return DockerClient(**kwargs)


def _friendly(fn: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except HeliosError as exc:
            raise Exit(f"error: {exc}", code=1) from exc
        except OSError as exc:  # a path that cannot be read or written: the machine, not a bug
            where = f"{exc.filename}: " if exc.filename else ""
            raise Exit(f"error: {where}{exc.strerror or exc}", code=1) from exc
        except Exception as exc:
            message = docker_problem(exc)
            if message is None:
                raise
            raise Exit(message, code=1) from None

    return wrapper


def docker_problem(exc: Exception) -> str | None:
    """The one line for a failed docker command or a missing docker; None for anything else."""
    if "python_on_whales" not in sys.modules:
        return None  # not raised by python-on-whales: nothing of docker's ran
    from python_on_whales.client_config import ClientNotFoundError
    from python_on_whales.exceptions import DockerException

    if isinstance(exc, DockerException):
        return docker_failure(exc)
    if isinstance(exc, ClientNotFoundError):
        return NO_DOCKER
    return None


def docker_failure(exc: "DockerException") -> str:
    """One line for a failed docker command: its reason and the command to rerun."""
    stderr = exc.stderr if isinstance(exc.stderr, str) else ""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.upper().startswith("ERROR")]
    reason = (errors or lines or ["see its output above"])[0][:300]
    command = shlex.join(str(part) for part in exc.docker_command)
    return f"error: docker exited {exc.return_code}: {reason}; rerun: {command}"


ALL = "all"


def parse_distros(spec: str, task_name: str = "build") -> list[matrix.Distro]:
    """'bookworm,sid' (commas or spaces) or 'all' -> distros; unknown names list the valid.

    invoke hands a task's first word to its distros argument even when it looks like an option
    (`invoke test --help`): such a word gets the hint where options and help go."""
    wanted = [name for name in spec.replace(",", " ").split() if name]
    distros = matrix.load()
    valid = ", ".join(matrix.names(distros))
    flags = [name for name in wanted if name.startswith("-")]
    if flags:
        raise HeliosError(
            f"{flags[0]} stands where the distros go: invoke {task_name} <distros> [options]; "
            f"help: invoke --help {task_name}; distros: {valid}"
        )
    if not wanted:
        raise HeliosError(f"name a distro or {ALL}; valid: {valid}")
    if wanted == [ALL]:
        return list(distros)
    return matrix.select(distros, wanted)


def one_distro(spec: str, task_name: str) -> matrix.Distro:
    """Exactly one distro named in `spec`, for `invoke <task_name> <distro>`."""
    chosen = parse_distros(spec, task_name)
    if len(chosen) != 1 or spec.strip() == ALL:
        raise HeliosError(f"name exactly one distro, e.g. invoke {task_name} {chosen[0].name}")
    return chosen[0]


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
    unknown = [p for p in wanted if p not in bake.PLATFORMS]
    if unknown or not wanted:
        raise HeliosError(
            f"platform {', '.join(unknown) or repr(spec)} (--platform / {PLATFORMS_ENV}): "
            f"Helios builds {', '.join(bake.PLATFORMS)}"
        )
    # bake.PLATFORMS and bake.MACHINES name platforms linux/<arch>, arch as in manifest.ARCHES.
    machine = bake.MACHINES.get(host.machine().lower())
    found = wanted + ([machine] if machine else [])
    return tuple(sorted({p.removeprefix("linux/") for p in found}))


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
    # The engine's image store holds one platform: a loaded build is the host's unless told.
    platforms = platform or (bake.host_platform() if load else "")
    if base_image and len(distros) != 1:
        raise HeliosError("--base-image replaces one distro's base: name exactly one distro")
    if base_image and not IMAGE_NAME.fullmatch(base_image):
        raise HeliosError(f"--base-image {base_image!r} is not an image name")
    if not bake.is_current():
        print("generated build files were stale; re-rendered them (invoke bake)")
        bake.write()
    settings = build_settings(sources, ca_bundle, distros, platforms)
    if kasmbins:
        settings["*.args.KASMBINS"] = "true"
    if base_image:
        name = distros[0].name
        settings[f"{name}.args.BASE_IMAGE"] = base_image
        settings[f"{name}.labels.org.opencontainers.image.base.name"] = base_image
    variables = {"HELIOS_CHANNEL": channel, "HELIOS_REVISION": git_revision()}
    if platforms:
        variables["HELIOS_PLATFORMS"] = platforms
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
    whatever an interrupted earlier build left staged is undone first). Either holds the
    checkout's build lock: a second build here at the same time stops with one line."""
    from helios import sources as source_folder

    if not sources:
        return source_folder.unstaged()
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


def compose_client(gpu: bool = False) -> "DockerClient":
    files = [COMPOSE_FILE, COMPOSE_GPU_FILE] if gpu else [COMPOSE_FILE]
    return docker_client(compose_files=files)


def compose_up(distro: matrix.Distro, gpu: bool = False) -> None:
    image = tags.built_tag(distro.name)
    with _environ(HELIOS_IMAGE=image):
        compose_client(gpu).compose.up(detach=True, wait=False, force_recreate=True)
    print(f"{image} is starting: open http://localhost:3000 (see compose.yml for the login)")


DISTROS_HELP = "comma list of distros, or all (e.g. bookworm,sid)"
SOURCES_HELP = "offline sources folder (invoke sources; verified, OFFLINE=true)"
CA_HELP = f"extra CA bundle for the build stages (default ${CA_ENV})"


@task(
    positional=["distros"],
    auto_shortflags=False,  # channel would get -h, which reads as help
    help={
        "distros": DISTROS_HELP,
        "sources": SOURCES_HELP,
        "ca_bundle": CA_HELP,
        "platform": "platform(s) to build, e.g. linux/arm64 (one when loaded)",
        "channel": "tag channel: dev, release, unstable or testing",
        "kasmbins": "add Kasm's binaries (pinned by the --sources folder's sources.toml)",
        "base_image": "one distro's base image for the target platform (e.g. an arm64 base)",
    },
)
@_friendly
def build(
    c: Context,
    distros: str,
    sources: str = "",
    ca_bundle: str = "",
    platform: str = "",
    channel: str = "dev",
    kasmbins: bool = False,
    base_image: str = "",
) -> None:
    """Build + load images via bake: build bookworm,sid | all."""
    build_images(
        parse_distros(distros, "build"),
        sources=sources,
        ca_bundle=ca_bundle,
        platform=platform,
        channel=channel,
        kasmbins=kasmbins,
        base_image=base_image,
    )


IMAGE_RUN_HELP = {
    "distros": DISTROS_HELP,
    "sources": SOURCES_HELP + " when a build is needed",
    "ca_bundle": CA_HELP,
}


def _image_run(task_name: str, distros: str, sources: str, ca_bundle: str, bench: bool) -> None:
    """`invoke test` / `invoke bench`: build the missing images, then run the suite on them."""
    from helios import imagetest

    chosen = parse_distros(distros, task_name)
    ca_bundle_path(ca_bundle)  # a bad bundle stops here, before anything runs
    client = docker_client()
    imagetest.run(
        chosen,
        exists=client.image.exists,
        build=lambda missing: build_images(missing, sources=sources, ca_bundle=ca_bundle),
        bench=bench,
    )


@task(name="test", positional=["distros"], help=IMAGE_RUN_HELP)
@_friendly
def test_task(c: Context, distros: str, sources: str = "", ca_bundle: str = "") -> None:
    """Build if missing, run the integration suite + measurements."""
    _image_run("test", distros, sources, ca_bundle, bench=False)


@task(name="bench", positional=["distros"], help=IMAGE_RUN_HELP)
@_friendly
def bench_task(c: Context, distros: str, sources: str = "", ca_bundle: str = "") -> None:
    """Build if missing, run the streaming benchmark."""
    _image_run("bench", distros, sources, ca_bundle, bench=True)


@task(name="bake", help={"check": "only report whether the generated files are stale"})
@_friendly
def bake_task(c: Context, check: bool = False) -> None:
    """Render docker-bake.hcl from its template (--check: drift)."""
    code = bake.main(["--check"] if check else [])
    if code:
        raise Exit(code=code)


@task(positional=["distro"], help={"gpu": "pass /dev/dri through (compose.gpu.yml)"})
@_friendly
def up(c: Context, distro: str, gpu: bool = False) -> None:
    """Start a built distro with docker compose (--gpu: /dev/dri)."""
    compose_up(one_distro(distro, "up"), gpu)


@task(
    name="size",
    positional=["distro"],
    help={"image": "image to inspect (default $HELIOS_REPO:<distro>)", "top": "packages shown"},
)
@_friendly
def size_task(c: Context, distro: str, image: str = "", top: str = "25") -> None:
    """Largest packages of a built image and what pulls each in (dpkg)."""
    from helios import pkgsize

    chosen = one_distro(distro, "size")
    count = pkgsize.parse_top(top)
    client = docker_client()
    print(pkgsize.size_report(client, image or tags.built_tag(chosen.name), count))


@task(name="bases", help={"suite": "comma list of Debian suites (default: the matrix's)"})
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


@task(
    name="sources",
    help={
        "dest": "folder to fill (default .sources)",
        "mirror": "fetch every file as <mirror>/<file>",
        "arch": "comma list of architectures (default amd64,arm64)",
    },
)
@_friendly
def sources_task(c: Context, dest: str = ".sources", mirror: str = "", arch: str = "") -> None:
    """Download + verify every pinned source (offline builds)."""
    from helios import manifest
    from helios import sources as source_folder

    arches = tuple(a for a in arch.replace(",", " ").split() if a) or manifest.ARCHES
    folder = (ROOT / dest).resolve() if not Path(dest).is_absolute() else Path(dest)
    paths = source_folder.fetch_all(folder, manifest.load(), arches, mirror=mirror)
    print(f"{len(paths)} verified files in {folder}")


@task(
    name="release",
    help={"part": "patch, minor or major", "dry_run": "print the plan, change nothing"},
)
@_friendly
def release_task(c: Context, part: str = "patch", dry_run: bool = False) -> None:
    """Bump the version (--part patch|minor|major), commit, tag."""
    from helios import release

    release.main(part, dry_run)


class DistroTask(Task):
    """`invoke <distro>`: build it through bake and start it with docker compose."""


def distro_task(distro: matrix.Distro) -> DistroTask:
    @_friendly
    def run(c: Context, gpu: bool = False, sources: str = "", ca_bundle: str = "") -> None:
        build_images([distro], sources=sources, ca_bundle=ca_bundle)
        compose_up(distro, gpu)

    run.__doc__ = f"Build {distro.name} via bake and start it (docker compose up)."
    help_ = {"gpu": "pass /dev/dri through", "sources": SOURCES_HELP, "ca_bundle": CA_HELP}
    return DistroTask(run, name=distro.name, help=help_)


TOOL_TASKS = (
    build,
    test_task,
    bench_task,
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
# The tasks whose first argument names distros: a distro task right after one is a mistake.
DISTRO_ARGUMENT = {t.name: "distros" for t in (build, test_task, bench_task)} | {
    t.name: "distro" for t in (up, size_task)
}


class Executor(executor.Executor):
    """invoke's executor, refusing `invoke build bookworm sid` before anything runs.

    invoke reads that as `build bookworm` and then the task `sid` (which builds and starts sid).
    A distro task straight after a task that takes distros is such a list written with spaces.
    invoke.yaml (`tasks.executor_class`) makes the `invoke` program use this class.
    """

    def execute(self, *tasks: Any) -> dict[Task, Any]:
        for before, after in itertools.pairwise(self.normalize(tasks)):
            argument = DISTRO_ARGUMENT.get(before.task.name)
            if argument and isinstance(after.task, DistroTask):
                first, then, named = before.task.name, after.task.name, before.kwargs[argument]
                raise Exit(
                    f"error: {then} is a task of its own (it builds and starts {then}), not "
                    f"another distro for {first}: name several as one argument, "
                    f"invoke {first} {named},{then}",
                    code=1,
                )
        return super().execute(*tasks)


def namespace() -> Collection:
    """Every task: the tool tasks and one per distro of distros.toml.

    Nothing is read at import: a broken data file is one `error:` line and exit 1 (invoke prints
    an Exit raised while it loads tasks.py without a traceback), also for `invoke --list`.
    """
    try:
        distros = matrix.load()
        taken = {t.name for t in TOOL_TASKS} | {ALL}
        clash = [d.name for d in distros if d.name in taken]
        if clash:
            raise HeliosError(
                f"{matrix.MATRIX_FILE.name}: distro name(s) {', '.join(clash)} are taken by "
                f"tasks ({', '.join(sorted(taken))})"
            )
    except HeliosError as exc:
        raise Exit(f"error: {exc}", code=1) from exc
    ns = Collection()
    for item in TOOL_TASKS:
        ns.add_task(item)
    for distro in distros:
        ns.add_task(distro_task(distro))
    return ns
