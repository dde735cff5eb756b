import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from bakeutil import blocks, eval_tags, resolved_target

from helios import HeliosError, bake, manifest, matrix, tags, version

DATA_MANIFEST = Path(__file__).parent / "data" / "sources.toml"
DISTROS = matrix.load()
NAMES = [d.name for d in DISTROS]


@pytest.fixture(scope="module")
def rendered() -> str:
    return bake.render(manifest_file=DATA_MANIFEST)


def test_render_is_deterministic(rendered):
    assert bake.render(manifest_file=DATA_MANIFEST) == rendered


def test_groups(rendered):
    groups = blocks(rendered, "group")
    assert groups["default"]["targets"] == NAMES
    assert groups["debian"]["targets"] == ["bookworm", "trixie", "sid", "kali"]
    assert groups["ubuntu"]["targets"] == ["noble", "jammy"]
    assert groups["rhel"]["targets"] == ["rocky-9", "alma-9"]


SHARED = ["_common", "_labels", "_platforms", "_sources"]


def test_one_target_per_distro_plus_small_shared_ones(rendered):
    targets = blocks(rendered, "target")
    assert sorted(targets) == sorted([*NAMES, *SHARED])
    assert targets["_common"]["inherits"] == ["_platforms", "_sources", "_labels"]
    for name in NAMES:
        assert targets[name]["inherits"] == ["_common"]
    # each shared piece holds one concern: platforms, args or labels
    assert set(targets["_platforms"]) == {"platforms"}
    assert set(targets["_sources"]) == {"args"}
    assert set(targets["_labels"]) == {"labels"}


def test_every_target_builds_both_platforms_by_default(rendered):
    assert bake.PLATFORMS == ("linux/amd64", "linux/arm64")
    default = blocks(rendered, "variable")["HELIOS_PLATFORMS"]["default"]
    assert default.split(",") == list(bake.PLATFORMS)
    for name in NAMES:
        assert resolved_target(rendered, name)["platforms"] == '${split(",", HELIOS_PLATFORMS)}'


@pytest.mark.parametrize(
    ("machine", "platform"),
    [
        ("x86_64", "linux/amd64"),
        ("AMD64", "linux/amd64"),
        ("aarch64", "linux/arm64"),
        ("arm64", "linux/arm64"),
    ],
)
def test_host_platform_maps_the_machine_to_its_docker_platform(machine, platform):
    assert bake.host_platform(machine) == platform


def test_host_platform_of_an_unsupported_machine_names_the_choices():
    with pytest.raises(
        HeliosError, match=r"'riscv64' has no Helios image.*linux/amd64 or linux/arm64"
    ):
        bake.host_platform("riscv64")


def test_host_platform_reads_this_machine(monkeypatch):
    monkeypatch.setattr(bake.host, "machine", lambda: "aarch64")
    assert bake.host_platform() == "linux/arm64"


def test_variables_are_prefixed_and_defaulted(rendered):
    variables = blocks(rendered, "variable")
    assert all(name.startswith("HELIOS_") for name in variables)
    assert variables["HELIOS_REPO"]["default"] == "helios"
    assert variables["HELIOS_CHANNEL"]["default"] == "dev"
    assert variables["HELIOS_VERSION"]["default"] == version.read()
    assert variables["HELIOS_PLATFORMS"]["default"] == "linux/amd64,linux/arm64"
    assert variables["HELIOS_SNAKEOIL_IMAGE"]["default"] == "ubuntu:noble"


@pytest.mark.parametrize("distro", DISTROS, ids=NAMES)
def test_target_context_args_and_labels(rendered, distro):
    target = resolved_target(rendered, distro.name)
    assert target["context"] == "."
    assert target["dockerfile"] == "Dockerfile"
    assert target["platforms"] == '${split(",", HELIOS_PLATFORMS)}'
    args = target["args"]
    assert args["BASE_IMAGE"] == distro.image
    assert args["DISTRO"] == distro.name
    assert args["FAMILY"] == distro.family
    assert args["XORG_VERSION"] == distro.xorg
    assert args["WEBRTC"] == ("true" if distro.webrtc else "false")
    # The build platform's stages (web client, snakeoil) start from the same distro image.
    assert args["BUILDPLATFORM_IMAGE"] == distro.image
    assert "VIRTUALGL" not in args  # built from source for every distro (issue 14)
    assert args["HELIOS_VERSION"] == "HELIOS_VERSION"
    assert args["SNAKEOIL_IMAGE"] == "HELIOS_SNAKEOIL_IMAGE"
    for key, value in manifest.load(DATA_MANIFEST).build_args().items():
        assert args[key] == value
    labels = target["labels"]
    assert labels["org.opencontainers.image.title"] == f"Helios {distro.name}"
    assert labels["org.opencontainers.image.base.name"] == distro.image
    assert labels["org.opencontainers.image.version"] == "HELIOS_VERSION"
    assert labels["org.opencontainers.image.revision"] == "HELIOS_REVISION"
    assert labels["org.opencontainers.image.source"] == "HELIOS_SOURCE_URL"
    assert "timestamp()" in labels["org.opencontainers.image.created"]
    assert target["tags"] == f'${{tags("{distro.name}")}}'


EXPECTED = {
    "dev": ["{repo}:{d}", "{repo}:v{v}-{d}"],
    "release": ["{repo}:v{v}-{d}"],
    "unstable": ["{repo}:unstable-{d}"],
    "testing": ["{repo}:testing-{d}"],
}


@pytest.mark.parametrize("channel", sorted(EXPECTED))
@pytest.mark.parametrize("distro", NAMES)
def test_tags_per_channel(rendered, channel, distro):
    repo = "ghcr.io/org/helios"
    want = [t.format(repo=repo, v="1.2.3", d=distro) for t in EXPECTED[channel]]
    assert eval_tags(rendered, channel, repo, "1.2.3", distro) == want
    assert tags.tags(channel, repo, "1.2.3", distro) == want


def test_unknown_channel_is_an_error(rendered):
    with pytest.raises(KeyError):
        eval_tags(rendered, "nightly", "helios", "1.2.3", "sid")
    with pytest.raises(HeliosError, match="unknown channel 'nightly'"):
        tags.tags("nightly", "helios", "1.2.3", "sid")


def test_missing_xorg_source_is_reported(tmp_path):
    text = DATA_MANIFEST.read_text()
    cut = text.index('[sources."xorg-server-1.20.14"]')
    path = tmp_path / "sources.toml"
    path.write_text(text[:cut])
    with pytest.raises(HeliosError, match=r"xorg-server-<version> source .* rocky-9, alma-9"):
        bake.render(manifest_file=path)


def test_unsafe_values_are_refused(tmp_path):
    path = tmp_path / "distros.toml"
    path.write_text(
        matrix.MATRIX_FILE.read_text().replace('"debian:bookworm"', '"debian:${evil}"', 1)
    )
    with pytest.raises(HeliosError, match="cannot be written into HCL"):
        bake.render(matrix_file=path, manifest_file=DATA_MANIFEST)


def test_check_reports_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "docker-bake.hcl"
    stale.write_text("# old\n")
    monkeypatch.setattr(bake, "OUTPUT", stale)
    assert bake.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().err


BUILDX = (
    shutil.which("docker")
    and subprocess.run(["docker", "buildx", "version"], capture_output=True, check=False).returncode
    == 0
)


def bake_print(
    env: dict[str, str], *targets: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`docker buildx bake --print` of the committed file with `env`."""
    return subprocess.run(
        ["docker", "buildx", "bake", "--print", "-f", str(bake.OUTPUT), *targets],
        cwd=bake.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
    )


@pytest.mark.buildx
@pytest.mark.skipif(not BUILDX, reason="docker buildx plugin not installed")
@pytest.mark.parametrize("channel", sorted(EXPECTED))
def test_buildx_bake_print_accepts_committed_file(channel):
    env = {k: v for k, v in os.environ.items() if k != "HELIOS_PLATFORMS"}
    env |= {"HELIOS_CHANNEL": channel, "HELIOS_REPO": "reg.example/helios"}
    printed = json.loads(bake_print(env).stdout)
    assert printed["group"]["default"]["targets"] == NAMES
    assert sorted(printed["target"]) == sorted(NAMES)
    version = blocks(bake.OUTPUT.read_text(), "variable")["HELIOS_VERSION"]["default"]
    for name in NAMES:
        want = tags.tags(channel, "reg.example/helios", version, name)
        assert printed["target"][name]["tags"] == want
        assert printed["target"][name]["platforms"] == ["linux/amd64", "linux/arm64"]


@pytest.mark.buildx
@pytest.mark.skipif(not BUILDX, reason="docker buildx plugin not installed")
def test_buildx_one_platform_from_the_variable():
    """What `invoke build` sets for a --load build: only the host's platform is built."""
    env = {k: v for k, v in os.environ.items() if k != "HELIOS_PLATFORMS"}
    printed = json.loads(bake_print({**env, "HELIOS_PLATFORMS": "linux/arm64"}).stdout)
    assert {name: t["platforms"] for name, t in printed["target"].items()} == {
        name: ["linux/arm64"] for name in NAMES
    }


@pytest.mark.buildx
@pytest.mark.skipif(not BUILDX, reason="docker buildx plugin not installed")
def test_buildx_rejects_unknown_channel():
    env = {**os.environ, "HELIOS_CHANNEL": "nightly"}
    assert bake_print(env, check=False).returncode != 0


def _printed_bookworm_args(snakeoil: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HELIOS_SNAKEOIL_IMAGE"}
    if snakeoil is not None:
        env["HELIOS_SNAKEOIL_IMAGE"] = snakeoil
    return json.loads(bake_print(env, "bookworm").stdout)["target"]["bookworm"]["args"]


@pytest.mark.buildx
@pytest.mark.skipif(not BUILDX, reason="docker buildx plugin not installed")
def test_buildx_snakeoil_image_follows_the_variable():
    """Where ubuntu:noble cannot be pulled, HELIOS_SNAKEOIL_IMAGE names a local image instead."""
    assert _printed_bookworm_args(None)["SNAKEOIL_IMAGE"] == "ubuntu:noble"
    assert _printed_bookworm_args("debian:bookworm")["SNAKEOIL_IMAGE"] == "debian:bookworm"
