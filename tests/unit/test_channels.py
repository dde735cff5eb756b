"""The channel/tag decision CI makes for each git ref (helios.channels)."""

import json
import re
import subprocess
import sys

import pytest

from helios import ROOT, HeliosError, channels, matrix, version

CURRENT = version.read()
NAMES = matrix.names(matrix.load())


@pytest.mark.parametrize(
    ("ref", "channel", "push", "tags"),
    [
        ("refs/heads/main", "unstable", True, ["ghcr.io/o/helios:unstable-rocky-9"]),
        ("refs/heads/testing", "testing", True, ["ghcr.io/o/helios:testing-rocky-9"]),
        ("refs/tags/v1.2.3", "release", True, ["ghcr.io/o/helios:v1.2.3-rocky-9"]),
        (
            "refs/pull/7/merge",
            "dev",
            False,
            ["ghcr.io/o/helios:rocky-9", "ghcr.io/o/helios:v1.2.3-rocky-9"],
        ),
        (
            "refs/heads/feature/new-panel",
            "dev",
            False,
            ["ghcr.io/o/helios:rocky-9", "ghcr.io/o/helios:v1.2.3-rocky-9"],
        ),
        # Only the exact branch names publish.
        ("refs/heads/main-fix", "dev", False, None),
        ("refs/heads/testing/x", "dev", False, None),
    ],
)
def test_decision_per_ref(ref, channel, push, tags):
    decision = channels.decide(ref, "1.2.3")
    assert (decision.channel, decision.version, decision.push) == (channel, "1.2.3", push)
    if tags is not None:
        assert decision.tags("rocky-9", "ghcr.io/o/helios") == tags
    assert decision.env() == {
        "HELIOS_CHANNEL": channel,
        "HELIOS_VERSION": "1.2.3",
        "push": "true" if push else "false",
    }


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("refs/tags/v1.2.4", r"tag version 1.2.4 differs from version.toml \(1.2.3\)"),
        ("refs/tags/1.2.3", r"release tags must be vX.Y.Z"),
        ("refs/tags/v1.2", r"release tags must be vX.Y.Z"),
        ("refs/tags/v1.2.3-rc1", r"release tags must be vX.Y.Z"),
        ("refs/heads/", r"branch name is empty"),
        ("main", r"must be refs/heads/<branch>"),
        ("refs/pull/7", r"must be refs/heads/<branch>"),
        ("", r"must be refs/heads/<branch>"),
    ],
)
def test_bad_refs_are_refused(ref, message):
    with pytest.raises(HeliosError, match=message):
        channels.decide(ref, "1.2.3")


@pytest.mark.parametrize(
    ("registry", "image", "repo"),
    [
        ("", "", "helios"),
        ("ghcr.io", "", "ghcr.io/helios"),
        ("ghcr.io", "my-org/helios", "ghcr.io/my-org/helios"),
        ("registry.local:5000", "team/desk.top", "registry.local:5000/team/desk.top"),
    ],
)
def test_repository(registry, image, repo):
    assert channels.repository(registry, image) == repo


@pytest.mark.parametrize(
    ("registry", "image", "name"),
    [
        ("GHCR.io", "", "HELIOS_REGISTRY"),
        ("ghcr.io/", "", "HELIOS_REGISTRY"),
        ("ghcr.io", "Org/Helios", "HELIOS_IMAGE"),
        ("ghcr.io", "org/helios:tag", "HELIOS_IMAGE"),
    ],
)
def test_repository_rejects_bad_names(registry, image, name):
    with pytest.raises(HeliosError, match=name):
        channels.repository(registry, image)


def test_outputs_for_main_use_version_toml_and_the_matrix():
    values = channels.outputs("refs/heads/main", "ghcr.io", "org/helios")
    assert values == {
        "HELIOS_CHANNEL": "unstable",
        "HELIOS_VERSION": CURRENT,
        "push": "true",
        "HELIOS_REPO": "ghcr.io/org/helios",
        "distros": json.dumps(NAMES, separators=(",", ":")),
    }
    assert len(json.loads(values["distros"])) == 8


def test_pushing_ref_without_registry_is_refused():
    with pytest.raises(HeliosError, match="HELIOS_REGISTRY is empty"):
        channels.outputs("refs/heads/testing", "", "org/helios")
    # A pull request needs no registry: nothing is pushed.
    assert channels.outputs("refs/pull/7/merge")["HELIOS_REPO"] == "helios"


def test_cli_prints_github_key_value_lines():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "helios.channels",
            "--ref",
            f"refs/tags/v{CURRENT}",
            "--registry",
            "ghcr.io",
            "--image",
            "org/helios",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "HELIOS_CHANNEL=release",
        f"HELIOS_VERSION={CURRENT}",
        "push=true",
        "HELIOS_REPO=ghcr.io/org/helios",
    ]
    assert all(re.fullmatch(r"[A-Za-z_]+=\S+", line) for line in lines)


def test_cli_refuses_a_mismatched_tag_with_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "helios.channels", "--ref", "refs/tags/v999.0.0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "differs from version.toml" in result.stderr
