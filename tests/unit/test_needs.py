"""helios.needs: which pinned sources each distro needs; the per-target <ID>_NEEDED args."""

import pytest

from helios import HeliosError, manifest, matrix, needs

DISTROS = {d.name: d for d in matrix.load()}
PINNED = manifest.load()


@pytest.mark.parametrize("name", ["bookworm", "trixie", "sid", "noble"])
def test_debian_and_ubuntu_need_no_rhel_xorg_and_no_pinned_node(name):
    wanted = needs.needed_names(PINNED, [DISTROS[name]])
    assert "xorg-server-21.1.4" in wanted and "virtualgl" in wanted
    assert not wanted & {"xorg-server-1.20.14", "node", "npm", "ffmpeg"}


def test_jammy_needs_the_pinned_node_and_rhel_its_xorg_and_virtualgl_too():
    assert {"node", "npm"} <= needs.needed_names(PINNED, [DISTROS["jammy"]])
    rocky = needs.needed_names(PINNED, [DISTROS["rocky-9"]])
    assert {"xorg-server-1.20.14", "virtualgl"} <= rocky
    assert not rocky & {"xorg-server-21.1.4", "node"}
    # EL9's repositories carry no ffmpeg headers: both RHEL images take the pinned release's.
    for name in ("rocky-9", "alma-9"):
        assert "ffmpeg" in needs.needed_names(PINNED, [DISTROS[name]])


def test_target_args_say_false_only_where_a_source_is_not_used():
    assert needs.target_args(PINNED, DISTROS["bookworm"]) == {
        "FFMPEG_NEEDED": "false",
        "NODE_NEEDED": "false",
        "NPM_NEEDED": "false",
    }
    assert needs.target_args(PINNED, DISTROS["rocky-9"])["FFMPEG_NEEDED"] == "true"
    assert needs.target_args(PINNED, DISTROS["jammy"])["NODE_NEEDED"] == "true"
    # VirtualGL's source is built by every distro: no per-target switch.
    assert "VIRTUALGL_NEEDED" not in needs.target_args(PINNED, DISTROS["alma-9"])


def test_needed_by_must_name_matrix_distros_or_families(tmp_path):
    text = manifest.MANIFEST_FILE.read_text().replace(
        'needed_by = ["jammy"]', 'needed_by = ["jammy", "buster"]', 1
    )
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(HeliosError, match=r"source 'node': needed_by names unknown .* buster"):
        needs.check(manifest.load(path), matrix.load())
    path.write_text(text.replace('needed_by = ["jammy", "buster"]', "needed_by = 3"))
    with pytest.raises(HeliosError, match=r"sources\.node\.needed_by: Input should be a valid"):
        manifest.load(path)
