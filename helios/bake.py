"""Rendering the generated files from their templates and the data files.

docker-bake.hcl from docker-bake.hcl.j2 (distros.toml, sources.toml, version.toml) and the
Dockerfile from Dockerfile.j2 (sources.toml [stages], see helios.dockerfile). Both are committed;
`python -m helios.bake --check` (the lint tier) fails when either is stale.
"""

import platform as host
from pathlib import Path

import jinja2

from helios import ROOT, HeliosError, manifest, matrix, needs, version
from helios.tags import CHANNELS

TEMPLATE = ROOT / "docker-bake.hcl.j2"
OUTPUT = ROOT / "docker-bake.hcl"
SNAKEOIL_IMAGE = "ubuntu:noble"
# Every target builds every platform (HELIOS_PLATFORMS' default); one per arch of sources.toml.
PLATFORMS = tuple(f"linux/{arch}" for arch in manifest.ARCHES)
# platform.machine() names -> the Docker platform of that arch.
MACHINES = {
    "x86_64": "linux/amd64",
    "amd64": "linux/amd64",
    "aarch64": "linux/arm64",
    "arm64": "linux/arm64",
}


def host_platform(machine: str | None = None) -> str:
    """The platform this machine builds natively (what a `--load` build targets by default)."""
    name = host.machine() if machine is None else machine
    found = MACHINES.get(name.lower())
    if found is None:
        raise HeliosError(
            f"host architecture {name!r} has no Helios image; build one with --platform "
            f"({' or '.join(PLATFORMS)}, emulated)"
        )
    return found


def context(
    distros: tuple[matrix.Distro, ...],
    sources: manifest.Manifest,
    helios_version: str,
) -> dict[str, object]:
    """Everything the template needs, in a deterministic order."""
    groups: dict[str, list[str]] = {}
    for distro in distros:
        groups.setdefault(distro.family, []).append(distro.name)
    missing = [d.name for d in distros if f"xorg-server-{d.xorg}" not in sources.sources]
    if missing:
        raise HeliosError(
            f"no xorg-server-<version> source in the manifest for: {', '.join(missing)}"
        )
    needs.check(sources, distros)
    collisions = set(groups) & {d.name for d in distros}
    if collisions:
        raise HeliosError(f"group name(s) {', '.join(sorted(collisions))} collide with a distro")
    return {
        "distros": distros,
        "groups": groups,
        "families": list(groups),
        "channels": CHANNELS,
        "platforms": PLATFORMS,
        "version": helios_version,
        "snakeoil_image": SNAKEOIL_IMAGE,
        "source_args": sources.build_args(),
        "needs": {d.name: needs.target_args(sources, d) for d in distros},
    }


def render_template(template: Path, values: dict[str, object]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template.parent),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return env.get_template(template.name).render(**values)


def render_with(template: Path, values: dict[str, object]) -> str:
    for key, value in _strings(values):
        if '"' in value or "\\" in value or "${" in value or "\n" in value:
            raise HeliosError(f"value for {key} cannot be written into HCL safely: {value!r}")
    return render_template(template, values)


def _strings(values: dict[str, object]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = [("version", str(values["version"]))]
    found += [(k, v) for k, v in dict(values["source_args"]).items()]  # type: ignore[call-overload]
    for distro in values["distros"]:  # type: ignore[attr-defined]
        found += [(f"{distro.name}.image", distro.image)]
    return found


def render(
    matrix_file: Path = matrix.MATRIX_FILE,
    manifest_file: Path = manifest.MANIFEST_FILE,
    version_file: Path = version.VERSION_FILE,
    template: Path = TEMPLATE,
) -> str:
    """Render the bake file from the committed data files."""
    values = context(
        matrix.load(matrix_file), manifest.load(manifest_file), version.read(version_file)
    )
    return render_with(template, values)


def generated() -> dict[Path, str]:
    """Every generated file with its fresh render."""
    from helios import dockerfile

    return {OUTPUT: render(), dockerfile.OUTPUT: dockerfile.render()}


def write(output: Path | None = None) -> Path:
    """Write the bake file (or `output`) and the Dockerfile from fresh renders."""
    from helios import dockerfile

    output = output or OUTPUT
    output.write_text(render(), encoding="utf-8")
    dockerfile.OUTPUT.write_text(dockerfile.render(), encoding="utf-8")
    return output


def stale() -> list[Path]:
    """The generated files that differ from a fresh render."""
    return [
        path
        for path, text in generated().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def is_current(output: Path | None = None) -> bool:
    """True when the committed generated files equal fresh renders."""
    if output is not None:
        return output.exists() and output.read_text(encoding="utf-8") == render()
    return not stale()


def main(argv: list[str] | None = None) -> int:
    """`python -m helios.bake [--check]`: write the bake file, or fail when it is stale."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m helios.bake", description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a generated file is stale")
    args = parser.parse_args(argv)
    try:
        if args.check:
            old = stale()
            if old:
                names = ", ".join(p.name for p in old)
                print(f"{names} stale: run `invoke bake` and commit", file=sys.stderr)
                return 1
            print(", ".join(p.name for p in generated()) + " up to date")
            return 0
        write()
        print("wrote " + ", ".join(str(p.relative_to(ROOT)) for p in generated()))
    except HeliosError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
