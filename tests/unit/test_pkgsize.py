"""helios.pkgsize: parsing dpkg-query output and explaining why a package is installed."""

import pytest

from helios import HeliosError, pkgsize

# dpkg-query lines (Package, Installed-Size, Depends, Pre-Depends, Recommends, Provides).
DPKG = "\n".join(
    "\t".join(fields)
    for fields in [
        ("pulseaudio", "5000", "libpulse0 (= 16.1), libasound2-plugins, adduser", "", "", ""),
        ("libasound2-plugins", "900", "libavcodec59 (>= 7:5.0), libc6:any", "", "", ""),
        ("libavcodec59", "14701", "libx265-199 | libx265-x, libcodec2-1.0 [amd64]", "", "", ""),
        ("libx265-199", "16203", "libc6", "", "", ""),
        ("libcodec2-1.0", "16473", "", "", "", ""),
        ("libpulse0", "1000", "libc6", "", "", ""),
        ("libc6", "12000", "", "", "", ""),
        ("adduser", "600", "passwd", "", "", ""),
        ("shadow", "300", "", "", "", "passwd (= 1)"),
        ("orphan", "1", "", "", "", ""),
    ]
)
STATES = """Package: libasound2-plugins
Architecture: amd64
Auto-Installed: 1

Package: libavcodec59:amd64
Auto-Installed: 1

Package: libx265-199
Auto-Installed: 1

Package: libcodec2-1.0
Auto-Installed: 1

Package: libpulse0
Auto-Installed: 0
"""


def test_parse_packages_strips_versions_arches_and_keeps_alternatives():
    packages = pkgsize.parse_packages(DPKG + "\nbroken line\n")
    assert len(packages) == 10
    assert packages["pulseaudio"].depends == [["libpulse0"], ["libasound2-plugins"], ["adduser"]]
    assert packages["libavcodec59"].depends == [["libx265-199", "libx265-x"], ["libcodec2-1.0"]]
    assert packages["libasound2-plugins"].depends == [["libavcodec59"], ["libc6"]]
    assert packages["shadow"].provides == ["passwd"]
    assert packages["libx265-199"].kib == 16203


def test_auto_marks_follow_extended_states_with_arch_qualifiers():
    assert pkgsize.parse_auto(STATES) == {
        "libasound2-plugins",
        "libavcodec59",
        "libx265-199",
        "libcodec2-1.0",
    }


def test_reverse_depends_use_the_first_installed_alternative_and_provides():
    rdeps = pkgsize.reverse_depends(pkgsize.parse_packages(DPKG))
    assert rdeps["libavcodec59"] == {"libasound2-plugins"}
    assert rdeps["libx265-199"] == {"libavcodec59"}
    assert rdeps["libc6"] == {"libasound2-plugins", "libx265-199", "libpulse0"}
    assert rdeps["shadow"] == {"adduser"}  # through its Provides: passwd
    assert rdeps["orphan"] == set()


def test_largest_explains_the_ffmpeg_chain_back_to_pulseaudio():
    packages = pkgsize.parse_packages(DPKG)
    rows = pkgsize.largest(packages, pkgsize.parse_auto(STATES), top=3)
    assert [r.name for r in rows] == ["libcodec2-1.0", "libx265-199", "libavcodec59"]
    assert rows[0].direct == ["libavcodec59"]
    assert rows[0].chain == ["libcodec2-1.0", "libavcodec59", "libasound2-plugins", "pulseaudio"]
    text = pkgsize.report("helios:x", 811_000_000, packages, rows)
    assert text.splitlines()[0].startswith("helios:x: 811 MB image, 10 packages")
    assert "libcodec2-1.0 <- libavcodec59 <- libasound2-plugins <- pulseaudio" in text


def test_a_manual_package_is_requested_by_name():
    packages = pkgsize.parse_packages(DPKG)
    rows = pkgsize.largest(packages, set(), top=10)
    by_name = {r.name: r for r in rows}
    assert by_name["libc6"].chain == ["libc6"]
    assert "(requested by name)" in pkgsize.report("i", 1, packages, rows)


class FakeImages:
    def __init__(self, present: bool) -> None:
        self.present = present

    def exists(self, image: str) -> bool:
        return self.present


class FakeClient:
    def __init__(self, present: bool = True) -> None:
        self.image = FakeImages(present)


def test_missing_image_and_bad_top_are_one_line_errors():
    with pytest.raises(HeliosError, match="helios:nope is not in the local engine"):
        pkgsize.size_report(FakeClient(present=False), "helios:nope")
    with pytest.raises(HeliosError, match="--top must be at least 1"):
        pkgsize.size_report(FakeClient(), "helios:x", top=0)


def test_top_as_invoke_hands_it_over():
    assert pkgsize.parse_top("10") == 10
    with pytest.raises(HeliosError, match=r"^--top must be a whole number, got '2\.5'$"):
        pkgsize.parse_top("2.5")
    with pytest.raises(HeliosError, match=r"^--top must be at least 1, got 0$"):
        pkgsize.parse_top("0")


def test_on_disk_sizes_rank_packages_when_measured():
    """Installed-Size counts excluded docs/translations; the bytes in the image decide."""
    packages = pkgsize.parse_packages(DPKG)
    pkgsize.apply_disk(packages, "libx265-199\t1024\nlibc6\t99999999\nunknown\t5\nbad\tx\n")
    assert packages["libx265-199"].kib_on_disk == 1
    assert packages["libcodec2-1.0"].kib_on_disk == 16473  # not measured: dpkg's value
    rows = pkgsize.largest(packages, set(), top=2)
    assert [(r.name, r.kib, r.installed_kib) for r in rows] == [
        ("libc6", 97656, 12000),
        ("libcodec2-1.0", 16473, 16473),
    ]
