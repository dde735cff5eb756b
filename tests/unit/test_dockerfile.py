"""helios.dockerfile: the Dockerfile's src-* stages rendered from sources.toml [stages]."""

import re
import shutil
from pathlib import Path

import pytest

from helios import ROOT, HeliosError, dockerfile, manifest, matrix


def stage_names(text: str) -> list[str]:
    return re.findall(r"^FROM \S+ AS src-(\S+)$", text, re.M)


def test_one_src_stage_per_stages_table_in_manifest_order() -> None:
    text = dockerfile.render()
    assert stage_names(text) == list(manifest.load().stages)
    assert "FROM src-node AS src-runtime" in text.splitlines()


def test_every_manifest_build_arg_is_declared_in_the_stage_of_its_source() -> None:
    pins = manifest.load()
    text = dockerfile.render()
    for source in pins.sources.values():
        block = text.split(f" AS src-{source.stage}\n", 1)[1].split("\nFROM ", 1)[0]
        for arg in source.args():
            assert re.search(rf"^ARG {arg}$", block, re.M), f"{arg} not in src-{source.stage}"


def test_missing_arches_and_unpinned_sources_are_declared_empty() -> None:
    text = dockerfile.render()
    assert 'ARG VIRTUALGL_DEB_URL_ARM64=""' in text  # the .deb is pinned for amd64 only
    assert 'ARG VIRTUALGL_RPM_SHA256_AMD64=""' in text  # pinned by a sources folder only
    assert 'ARG KASMBINS_FILE_ARM64=""' in text


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copy(ROOT / "sources.toml", tmp_path / "sources.toml")
    shutil.copy(ROOT / "distros.toml", tmp_path / "distros.toml")
    return tmp_path / "sources.toml", tmp_path / "distros.toml"


def test_a_source_without_a_stage_table_is_an_error(tmp_path: Path) -> None:
    sources, distros = _tree(tmp_path)
    sources.write_text(sources.read_text().replace('stage = "turbo"', 'stage = "jpeg"'))
    with pytest.raises(HeliosError, match=r"without a \[stages\.\*\] table: \['jpeg'\]"):
        dockerfile.render(matrix_file=distros, manifest_file=sources)


def test_a_virtualgl_source_nobody_fetches_is_an_error(tmp_path: Path) -> None:
    sources, distros = _tree(tmp_path)
    distros.write_text(distros.read_text().replace('"virtualgl-rpm"', '"virtualgl-zip"'))
    assert matrix.load(distros)
    with pytest.raises(HeliosError, match=r"virtualgl source\(s\) virtualgl-zip are neither"):
        dockerfile.render(matrix_file=distros, manifest_file=sources)
