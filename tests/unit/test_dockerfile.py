"""helios.dockerfile: the Dockerfile's src-* stages rendered from sources.toml [stages]."""

import re
import shutil
from pathlib import Path

import pytest

from helios import ROOT, HeliosError, dockerfile, manifest


def stage_names(text: str) -> list[str]:
    return re.findall(r"^FROM \S+ AS src-(\S+)$", text, re.M)


def from_lines(text: str) -> dict[str, str]:
    """Stage name -> what it starts FROM (with its --platform flag, if any)."""
    return {m[1]: m[0] for m in re.findall(r"^FROM (.+) AS (\S+)$", text, re.M)}


def test_one_src_stage_per_stages_table_in_manifest_order() -> None:
    text = dockerfile.render()
    assert stage_names(text) == list(manifest.load().stages)
    assert "src-runtime" not in text  # VirtualGL is built, not fetched as a package (issue 14)


def test_every_manifest_build_arg_is_declared_in_the_stage_of_its_source() -> None:
    pins = manifest.load()
    text = dockerfile.render()
    for source in pins.sources.values():
        block = text.split(f" AS src-{source.stage}\n", 1)[1].split("\nFROM ", 1)[0]
        for arg in source.args():
            assert re.search(rf"^ARG {arg}$", block, re.M), f"{arg} not in src-{source.stage}"


def _tree(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "sources.toml", tmp_path / "sources.toml")
    return tmp_path / "sources.toml"


def test_missing_arches_and_unpinned_sources_are_declared_empty(tmp_path: Path) -> None:
    sources = _tree(tmp_path)
    text = sources.read_text()
    arm64 = text[text.index("[sources.node.arch.arm64]") :].split("\n\n", 1)[0]
    sources.write_text(text.replace(arm64 + "\n", ""))
    rendered = dockerfile.render(manifest_file=sources)
    assert 'ARG NODE_URL_ARM64=""' in rendered  # the Node binary pinned for amd64 only
    assert 'ARG KASMBINS_FILE_ARM64=""' in rendered  # pinned by a sources folder only
    assert 'ARG NODE_URL_ARM64=""' not in dockerfile.render()  # the repository pins both


def test_a_source_without_a_stage_table_is_an_error(tmp_path: Path) -> None:
    sources = _tree(tmp_path)
    sources.write_text(sources.read_text().replace('stage = "turbo"', 'stage = "jpeg"'))
    with pytest.raises(HeliosError, match=r"without a \[stages\.\*\] table: \['jpeg'\]"):
        dockerfile.render(manifest_file=sources)


def test_virtualgl_is_built_from_its_pinned_source_on_the_static_turbojpeg() -> None:
    text = dockerfile.render()
    pins = manifest.load()
    vgl = pins.sources["virtualgl"]
    assert vgl.stage == "virtualgl" and vgl.digest == "tar" and "" in vgl.artifacts
    assert from_lines(text)["virtualgl"] == "turbo"
    block = text.split(" AS virtualgl\n", 1)[1].split("\nFROM ", 1)[0]
    assert "COPY --from=src-virtualgl /out/virtualgl/ /src/virtualgl/" in block
    assert "RUN /helios/common/build/virtualgl.sh" in block
    final = text.split(" AS final\n", 1)[1]
    assert "COPY --from=virtualgl /build-out/ /" in final
    # Copied before system.sh, whose runtime checks look for vglrun and the fakers' libraries.
    assert final.index("COPY --from=virtualgl") < final.index("/helios/distro/build/system.sh")


def test_only_architecture_independent_stages_run_on_the_build_platform() -> None:
    froms = from_lines(dockerfile.render())
    on_build = {name for name, base in froms.items() if "--platform=$BUILDPLATFORM" in base}
    assert on_build == {"build-node", "snakeoil"}
    assert froms["build-node"] == "--platform=$BUILDPLATFORM ${BUILDPLATFORM_IMAGE}"
    assert froms["webclient"] == "build-node"
    # kclient carries a native Node addon: it is built for the target with the target's Node.
    assert froms["kclient"] == "node" and froms["node"] == "build-deps"
    assert froms["distro"] == "${BASE_IMAGE}"


def test_the_build_platform_node_is_fetched_for_the_build_arch() -> None:
    text = dockerfile.render()
    block = text.split(" AS src-node\n", 1)[1].split("\nFROM ", 1)[0]
    assert "ARG BUILDARCH" in block.splitlines()
    assert '--arch "${BUILDARCH}" node /out/node-build' in block
    build_node = text.split(" AS build-node\n", 1)[1].split("\nFROM ", 1)[0]
    assert "COPY --from=src-node /out/node-build/ /src/node/" in build_node
