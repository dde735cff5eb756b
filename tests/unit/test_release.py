"""`invoke release` (helios.release) in a temporary git repository."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helios import ROOT, HeliosError, release, version

DATA_MANIFEST = Path(__file__).parent / "data" / "sources.toml"
HEADER = "# The Helios version. Bumped by `invoke release`.\n"
README = """\
# Helios

Run `helios:v0.4.2-noble` or `ghcr.io/org/helios:v0.4.2-rocky-9`.

```yaml
image: helios:v0.4.2-alma-9
```

Versions look like `v0.0.0-noble`; this is version 0.4.2 of Helios.
Not image tags: v0.4.2-foo, v10.4.2-noble, xv0.4.2-noble, v0.4.2-noble-extra.
"""
STATEFULSET = "      containers:\n        - image: helios:v0.4.2-jammy\n"
COMPOSE = "services:\n  helios:\n    image: ${HELIOS_IMAGE:-helios:v0.4.2-noble}\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A committed minimal Helios tree at version 0.4.2 (git isolated from user config)."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = tmp_path / "helios"
    (root / "deploy" / "base").mkdir(parents=True)
    shutil.copy(ROOT / "distros.toml", root / "distros.toml")
    shutil.copy(ROOT / "docker-bake.hcl.j2", root / "docker-bake.hcl.j2")
    shutil.copy(DATA_MANIFEST, root / "sources.toml")
    (root / "version.toml").write_text(HEADER + 'version = "0.4.2"\n')
    (root / "README.md").write_text(README)
    (root / "compose.yml").write_text(COMPOSE)
    (root / "deploy" / "base" / "statefulset.yaml").write_text(STATEFULSET)
    release.write_bake(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Helios Test")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "config", "tag.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def snapshot(root: Path) -> dict[str, object]:
    """Everything a refused release must leave alone: files, HEAD, tags, index."""
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    files = {k: v for k, v in files.items() if not k.startswith(".git/")}
    return {
        "files": files,
        "head": git(root, "rev-parse", "HEAD"),
        "tags": git(root, "tag", "--list"),
        "status": git(root, "status", "--porcelain"),
    }


@pytest.mark.parametrize(
    ("current", "part", "expected"),
    [
        ("0.4.2", "patch", "0.4.3"),
        ("0.4.2", "minor", "0.5.0"),
        ("0.4.2", "major", "1.0.0"),
        ("1.9.9", "patch", "1.9.10"),
        ("0.0.0", "minor", "0.1.0"),
    ],
)
def test_bump(current, part, expected):
    assert release.bump(current, part) == expected


@pytest.mark.parametrize("part", ["", "Patch", "micro", "1"])
def test_bump_rejects_unknown_part(part):
    with pytest.raises(HeliosError, match=r"--part .*patch, minor, major"):
        release.bump("0.4.2", part)


def test_retag_changes_only_image_tags_of_the_old_version():
    names = ["noble", "rocky-9", "alma-9", "jammy"]
    text, count = release.retag(README, "0.4.2", "0.5.0", names)
    assert count == 3
    assert "`helios:v0.5.0-noble`" in text
    assert "ghcr.io/org/helios:v0.5.0-rocky-9" in text
    assert "image: helios:v0.5.0-alma-9" in text
    # Untouched: other versions, prose, unknown distros, longer words.
    for kept in ("v0.0.0-noble", "version 0.4.2 of", "v0.4.2-foo", "v10.4.2-noble"):
        assert kept in text
    assert "xv0.4.2-noble" in text and "v0.4.2-noble-extra" in text


def test_release_bumps_renders_updates_commits_and_tags(repo):
    before = git(repo, "rev-parse", "HEAD")
    lines = release.main("minor", False, repo, echo=lambda _: None)

    assert version.read(repo / "version.toml") == "0.5.0"
    assert (repo / "version.toml").read_text() == HEADER + 'version = "0.5.0"\n'
    bake_text = (repo / "docker-bake.hcl").read_text()
    assert 'default = "0.5.0"' in bake_text and "0.4.2" not in bake_text
    readme = (repo / "README.md").read_text()
    assert "helios:v0.5.0-noble" in readme and "helios:v0.5.0-rocky-9" in readme
    assert "v0.0.0-noble" in readme and "version 0.4.2 of Helios" in readme
    assert "helios:v0.5.0-jammy" in (repo / "deploy" / "base" / "statefulset.yaml").read_text()
    assert "${HELIOS_IMAGE:-helios:v0.5.0-noble}" in (repo / "compose.yml").read_text()

    # One commit on top of the old HEAD, tagged v0.5.0, with exactly the release files.
    assert git(repo, "rev-parse", "HEAD~1") == before
    assert git(repo, "log", "-1", "--format=%s") == "Release v0.5.0"
    assert git(repo, "rev-parse", "v0.5.0^{commit}") == git(repo, "rev-parse", "HEAD")
    assert git(repo, "cat-file", "-t", "v0.5.0") == "tag"  # annotated
    changed = set(git(repo, "diff", "--name-only", "HEAD~1", "HEAD").splitlines())
    assert changed == {
        "version.toml",
        "docker-bake.hcl",
        "README.md",
        "compose.yml",
        "deploy/base/statefulset.yaml",
    }
    assert git(repo, "status", "--porcelain") == ""
    assert lines[0] == "bump version.toml: 0.4.2 -> 0.5.0"
    assert any("README.md: 3 image tag(s) -> v0.5.0" in line for line in lines)
    assert any("README.md shows v0.0.0-noble" in line for line in lines)
    assert lines[-1].startswith("released v0.5.0")


def test_dry_run_reports_the_plan_and_changes_nothing(repo):
    before = snapshot(repo)
    printed: list[str] = []
    lines = release.main("patch", True, repo, echo=printed.append)
    assert snapshot(repo) == before
    assert printed == lines
    assert lines[0] == "would bump version.toml: 0.4.2 -> 0.4.3"
    assert "would render docker-bake.hcl" in lines
    assert "would update deploy/base/statefulset.yaml: 1 image tag(s) -> v0.4.3" in lines
    assert lines[-1] == "would commit 'Release v0.4.3' and tag v0.4.3"


@pytest.mark.parametrize("dry_run", [False, True])
def test_refuses_a_dirty_tree(repo, dry_run):
    (repo / "README.md").write_text(README + "local edit\n")
    before = snapshot(repo)
    with pytest.raises(HeliosError, match=r"working tree is dirty \(1 change\(s\): README.md\)"):
        release.main("patch", dry_run, repo, echo=lambda _: None)
    assert snapshot(repo) == before


def test_refuses_untracked_files(repo):
    (repo / "notes.txt").write_text("wip\n")
    before = snapshot(repo)
    with pytest.raises(HeliosError, match=r"dirty .*notes.txt"):
        release.main("patch", False, repo, echo=lambda _: None)
    assert snapshot(repo) == before


@pytest.mark.parametrize("dry_run", [False, True])
def test_refuses_an_existing_tag(repo, dry_run):
    git(repo, "tag", "v0.4.3")
    before = snapshot(repo)
    with pytest.raises(HeliosError, match=r"tag v0.4.3 already exists"):
        release.main("patch", dry_run, repo, echo=lambda _: None)
    assert snapshot(repo) == before


def test_refuses_a_bad_part_and_changes_nothing(repo):
    before = snapshot(repo)
    with pytest.raises(HeliosError, match=r"--part 'huge': must be one of patch, minor, major"):
        release.main("huge", False, repo, echo=lambda _: None)
    assert snapshot(repo) == before


def test_refuses_outside_a_git_repository(tmp_path):
    (tmp_path / "version.toml").write_text('version = "0.4.2"\n')
    with pytest.raises(HeliosError, match="not a git work tree"):
        release.main("patch", False, tmp_path, echo=lambda _: None)


def test_failed_bake_render_restores_every_file(repo):
    before = snapshot(repo)

    def broken(root: Path) -> Path:
        (root / "docker-bake.hcl").write_text("half-written")
        raise HeliosError("template error")

    with pytest.raises(HeliosError, match="template error"):
        release.main("patch", False, repo, echo=lambda _: None, bake_writer=broken)
    assert snapshot(repo) == before


def test_bake_file_without_the_new_version_is_refused(repo):
    before = snapshot(repo)

    def stale(root: Path) -> Path:
        return root / "docker-bake.hcl"  # not re-rendered: still 0.4.2

    with pytest.raises(HeliosError, match=r"does not carry version 0.4.3"):
        release.main("patch", False, repo, echo=lambda _: None, bake_writer=stale)
    assert snapshot(repo) == before


def test_failed_commit_restores_files_and_index(repo):
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'rejected by hook' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = snapshot(repo)
    with pytest.raises(HeliosError, match="git commit"):
        release.main("patch", False, repo, echo=lambda _: None)
    assert snapshot(repo) == before
    assert not re.search(r"v0\.4\.3", git(repo, "tag", "--list"))
