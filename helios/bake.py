"""Rendering docker-bake.hcl from docker-bake.hcl.j2 and the data files."""

from pathlib import Path

import jinja2

from helios import ROOT, HeliosError, manifest, matrix, needs, version
from helios.tags import CHANNELS

TEMPLATE = ROOT / "docker-bake.hcl.j2"
OUTPUT = ROOT / "docker-bake.hcl"
SNAKEOIL_IMAGE = "ubuntu:noble"


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
        "version": helios_version,
        "snakeoil_image": SNAKEOIL_IMAGE,
        "source_args": sources.build_args(),
        "needs": {d.name: needs.target_args(sources, d) for d in distros},
    }


def render_with(template: Path, values: dict[str, object]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template.parent),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    for key, value in _strings(values):
        if '"' in value or "\\" in value or "${" in value or "\n" in value:
            raise HeliosError(f"value for {key} cannot be written into HCL safely: {value!r}")
    return env.get_template(template.name).render(**values)


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


def write(output: Path | None = None) -> Path:
    output = output or OUTPUT
    output.write_text(render(), encoding="utf-8")
    return output


def is_current(output: Path | None = None) -> bool:
    """True when the committed bake file equals a fresh render."""
    output = output or OUTPUT
    return output.exists() and output.read_text(encoding="utf-8") == render()


def main(argv: list[str] | None = None) -> int:
    """`python -m helios.bake [--check]`: write the bake file, or fail when it is stale."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m helios.bake", description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="fail if docker-bake.hcl is stale")
    args = parser.parse_args(argv)
    try:
        if args.check:
            if not is_current():
                print(f"{OUTPUT.name} is stale: run `invoke bake` and commit it", file=sys.stderr)
                return 1
            print(f"{OUTPUT.name} is up to date")
            return 0
        print(f"wrote {write().relative_to(ROOT)}")
    except HeliosError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
