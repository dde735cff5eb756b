from pathlib import Path

import pytest

from helios import HeliosError, matrix

GOOD = """
[[distro]]
name = "bookworm"
image = "debian:bookworm"
family = "debian"
xorg = "21.1.4"
webrtc = true

[[distro]]
name = "rocky-9"
image = "rockylinux:9"
family = "rhel"
xorg = "1.20.14"
webrtc = false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "distros.toml"
    path.write_text(text)
    return path


def test_repo_matrix_has_the_eight_distros():
    distros = matrix.load()
    assert [d.name for d in distros] == [
        "bookworm",
        "trixie",
        "sid",
        "kali",
        "noble",
        "jammy",
        "rocky-9",
        "alma-9",
    ]
    by_name = {d.name: d for d in distros}
    assert by_name["kali"].image == "kalilinux/kali-rolling"
    assert (by_name["trixie"].image, by_name["trixie"].family) == ("debian:trixie", "debian")
    assert by_name["noble"].family == "ubuntu"
    assert {d.name for d in distros if d.rhel} == {"rocky-9", "alma-9"}
    assert {d.name for d in distros if not d.webrtc} == {"rocky-9", "alma-9"}
    assert {d.xorg for d in distros if d.rhel} == {"1.20.14"}
    assert {d.xorg for d in distros if not d.rhel} == {"21.1.4"}


def test_every_distro_has_its_folder():
    for distro in matrix.load():
        assert (matrix.ROOT / distro.name).is_dir(), distro.name


def test_good_file_loads(tmp_path):
    distros = matrix.load(write(tmp_path, GOOD))
    assert distros[1] == matrix.Distro(
        name="rocky-9",
        image="rockylinux:9",
        family="rhel",
        xorg="1.20.14",
        webrtc=False,
    )


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (
            ("webrtc = false\n", 'webrtc = false\ncolour = "red"\n'),
            "distro[2] 'rocky-9'.colour: unknown key",
        ),
        (
            ('name = "rocky-9"', 'name = "bookworm"'),
            "distro name(s) used twice: bookworm",
        ),
        (('xorg = "1.20.14"\n', ""), "distro[2] 'rocky-9'.xorg: Field required"),
        (
            ('name = "rocky-9"', 'name = "rocky.9"'),
            "distro[2] 'rocky.9'.name: String should match pattern",
        ),
        (
            ('name = "rocky-9"', 'name = "rocky_9"'),
            "distro[2] 'rocky_9'.name: String should match pattern",
        ),
        (
            ('name = "rocky-9"', 'name = "Rocky"'),
            "distro[2] 'Rocky'.name: String should match pattern",
        ),
        (
            ('family = "rhel"', 'family = "suse"'),
            "distro[2] 'rocky-9'.family: Input should be 'debian', 'ubuntu' or 'rhel'",
        ),
        (
            ("webrtc = false", 'webrtc = "no"'),
            "distro[2] 'rocky-9'.webrtc: Input should be a valid boolean",
        ),
        (
            ('xorg = "1.20.14"', 'xorg = "latest"'),
            "distro[2] 'rocky-9'.xorg: String should match pattern",
        ),
        (
            ('image = "rockylinux:9"', 'image = ""'),
            "distro[2] 'rocky-9'.image: String should match pattern",
        ),
    ],
)
def test_bad_file_names_file_distro_and_field(tmp_path, mutation, expected):
    old, new = mutation
    text = (GOOD + '"""').replace(old, new).removesuffix('"""')
    path = write(tmp_path, text)
    with pytest.raises(HeliosError) as err:
        matrix.load(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)
    assert len(str(err.value).splitlines()) == 1


def test_missing_name_uses_position(tmp_path):
    path = write(tmp_path, GOOD.replace('name = "rocky-9"\n', ""))
    with pytest.raises(HeliosError, match=r"distro\[2\]\.name: Field required"):
        matrix.load(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "distro: Field required"),
        (GOOD + "[other]\n", "other: unknown key"),
        ("[[distro]\n", "invalid TOML"),
    ],
)
def test_broken_files(tmp_path, text, expected):
    with pytest.raises(HeliosError, match=expected):
        matrix.load(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(HeliosError, match="file not found"):
        matrix.load(tmp_path / "nope.toml")


def test_select_lists_valid_names_on_error():
    distros = matrix.load()
    assert [d.name for d in matrix.select(distros, ["sid", "noble"])] == ["sid", "noble"]
    assert len(matrix.select(distros, [])) == 8
    with pytest.raises(HeliosError) as err:
        matrix.select(distros, ["bookworm", "buster"])
    assert "unknown distro 'buster'" in str(err.value)
    assert "bookworm, trixie, sid, kali, noble, jammy, rocky-9, alma-9" in str(err.value)
