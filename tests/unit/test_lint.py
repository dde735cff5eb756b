import subprocess
import sys

from helios import lint


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
    assert not any(c[0] == "hadolint" for c in commands)
    (tmp_path / "sid" / "root" / "etc" / "skel").mkdir(parents=True)
    (tmp_path / "sid" / "root" / "etc" / "skel" / ".bashrc").write_text("PS1='$ '\n")
    assert ["shellcheck", "-s", "bash", "sid/root/etc/skel/.bashrc"] in lint.lint_commands(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    assert ["hadolint", "Dockerfile"] in lint.lint_commands(tmp_path)


def test_format_commands(tmp_path):
    make_tree(tmp_path)
    commands = lint.format_commands(tmp_path)
    assert ["ruff", "format", "."] in commands
    assert ["shfmt", "-w", "-i", "4", "-ci", "a.sh", "run", "tool"] in commands


def test_run_all_runs_every_command_and_reports_failures(tmp_path):
    marker = tmp_path / "ran"
    commands = [
        [sys.executable, "-c", "raise SystemExit(3)"],
        [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"],
    ]
    assert lint.run_all(commands, tmp_path) == ["helios.bake --check"]
    assert marker.exists()


def test_main_exit_code(monkeypatch):
    monkeypatch.setattr(lint, "lint_commands", lambda: [[sys.executable, "-c", "pass"]])
    assert lint.main([]) == 0
    monkeypatch.setattr(lint, "lint_commands", lambda: [["false"]])
    assert lint.main([]) == 1
