import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from helios import HeliosError, lint


def make_tree(root):
    (root / "a.sh").write_text("echo a\n")
    (root / "run").write_text("#!/command/with-contenv bash\necho run\n")
    (root / "up").write_text("#!/command/execlineb -P\nfoo\n")
    (root / "tool").write_text("#!/usr/bin/env bash\necho tool\n")
    (root / "py").write_text("#!/usr/bin/env python3\n")
    (root / ".sources").mkdir()
    (root / ".sources" / "x.sh").write_text("echo upstream\n")


def test_shell_scripts_by_suffix_and_shebang(tmp_path):
    make_tree(tmp_path)
    names = [p.as_posix() for p in lint.shell_scripts(tmp_path)]
    assert names == ["a.sh", "run", "tool"]


def test_shell_scripts_in_git_tree_skip_ignored(tmp_path):
    make_tree(tmp_path)
    (tmp_path / ".gitignore").write_text("tool\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    names = [p.as_posix() for p in lint.shell_scripts(tmp_path)]
    assert names == ["a.sh", "run"]


def test_lint_commands_cover_every_check(tmp_path):
    make_tree(tmp_path)
    commands = lint.lint_commands(tmp_path)
    assert ["ruff", "check", "."] in commands
    assert ["ruff", "format", "--check", "."] in commands
    assert [sys.executable, "-m", "helios.bake", "--check"] in commands
    assert ["shellcheck", "-x", "a.sh", "run", "tool"] in commands
    assert ["shfmt", "-d", "-i", "4", "-ci", "a.sh", "run", "tool"] in commands
    assert not any(c[0] in ("hadolint", "zizmor", "actionlint") for c in commands)
    (tmp_path / "common" / "root" / "etc" / "skel").mkdir(parents=True)
    (tmp_path / "common" / "root" / "etc" / "skel" / ".bashrc").write_text("PS1='$ '\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    commands = lint.lint_commands(tmp_path)
    assert ["actionlint", ".github/workflows/ci.yml"] in commands
    assert ["shellcheck", "-s", "bash", "common/root/etc/skel/.bashrc"] in commands
    assert ["hadolint", "Dockerfile"] in commands
    assert ["zizmor", "--offline", "--no-progress", ".github/workflows"] in commands


def test_format_commands(tmp_path):
    make_tree(tmp_path)
    commands = lint.format_commands(tmp_path)
    assert ["ruff", "format", "."] in commands
    assert ["shfmt", "-w", "-i", "4", "-ci", "a.sh", "run", "tool"] in commands


def test_failed_commands_are_named_by_what_they_run(tmp_path):
    marker = tmp_path / "ran"
    commands = [
        [sys.executable, "-c", "raise SystemExit(3)"],
        [sys.executable, "-m", "helios.bake", "--no-such-option"],
        [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"],
        ["false"],
    ]
    failed = lint.run_all(commands, tmp_path)
    assert failed == [Path(sys.executable).name, "helios.bake", "false"]
    assert marker.exists()  # every command runs, even after a failure


@pytest.mark.parametrize(
    "name", ["shfmt", "shellcheck", "hadolint", "zizmor", "ruff", "actionlint"]
)
def test_lint_tools_come_from_the_lint_extra_without_path(monkeypatch, name):
    """`pip install -e '.[lint]'` is all lint needs: no tool is looked up on the OS PATH."""
    monkeypatch.setenv("PATH", "")
    path = Path(lint.tool(name))
    assert path.parent == Path(sysconfig.get_path("scripts"))
    assert subprocess.run([str(path), "--version"], capture_output=True).returncode == 0


def test_shfmt_from_the_extra_flags_a_badly_indented_script(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "")
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\nif true; then\n  echo two-spaces\nfi\n")
    result = subprocess.run([lint.tool("shfmt"), "-d", *lint.SHFMT_STYLE, str(bad)], check=False)
    assert result.returncode == 1


def test_a_missing_tool_is_one_line_and_a_failure(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(HeliosError, match=r"^no-such-linter is not installed: pip install"):
        lint.tool("no-such-linter")
    assert lint.run_all([["no-such-linter", "x"]], tmp_path) == ["no-such-linter"]
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: no-such-linter is not installed: pip install -e '.[lint]'"]


def test_main_exit_code(monkeypatch):
    monkeypatch.setattr(lint, "lint_commands", lambda: [[sys.executable, "-c", "pass"]])
    assert lint.main([]) == 0
    monkeypatch.setattr(lint, "lint_commands", lambda: [["false"]])
    assert lint.main([]) == 1
    monkeypatch.setattr(lint, "format_commands", lambda: [[sys.executable, "-c", "pass"]])
    assert lint.main(["--format"]) == 0


def test_main_refuses_an_unknown_argument(capsys):
    """`python -m helios.lint --fromat` used to run the checks as if nothing was asked."""
    with pytest.raises(SystemExit) as err:
        lint.main(["--fromat"])
    assert err.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "python -m helios.lint: error: unrecognized arguments: --fromat"
    )


BROKEN_WORKFLOW = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.no_such_context.title }}"
      - uses: actions/checkout@v4
        with:
          no-such-input: 1
    needs: [missing-job]
"""


def test_actionlint_from_the_extra_flags_a_broken_workflow(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "")
    workflow = tmp_path / "ci.yml"
    workflow.write_text(BROKEN_WORKFLOW)
    result = subprocess.run(
        [lint.tool("actionlint"), "-no-color", str(workflow)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "missing-job" in result.stdout
