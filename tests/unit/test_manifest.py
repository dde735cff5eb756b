from pathlib import Path

import pytest

from helios import HeliosError, manifest

DATA = Path(__file__).parent / "data" / "sources.toml"
SHA = "a" * 64


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    return path


def test_fixture_manifest_args():
    args = manifest.load(DATA).build_args()
    assert args["KASMVNC_URL"] == (
        "https://example.invalid/kasmvnc/e647af5e281735d1c7fc676ca089201aeae7130a.tar.gz"
    )
    assert args["KASMVNC_DIGEST"] == "tar"
    assert args["S6_OVERLAY_ARCH_FILE_AMD64"] == "s6-overlay-x86_64-3.2.1.0.tar.xz"
    assert args["S6_OVERLAY_ARCH_SHA256_ARM64"] == "3" * 64
    assert args["XORG_SERVER_21_1_4_DIGEST"] == "file"
    assert args["KASMWEB_NPM_BEFORE"] == "2025-05-20"
    assert list(args) == sorted(args)


def test_artifacts_filter_by_arch():
    files = [art.file for _, art in manifest.load(DATA).artifacts(("amd64",))]
    assert "s6-overlay-x86_64-3.2.1.0.tar.xz" in files
    assert "s6-overlay-aarch64-3.2.1.0.tar.xz" not in files


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            f'version="1"\nurl="https://x/a"\nfile="a"\nsha256="{SHA[:-1]}"',
            "sha256: String should match",
        ),
        (
            f'version="1"\nurl="https://x/a"\nfile="a"\nsha256="{SHA.upper()}"',
            "sha256: String should match",
        ),
        ('version="1"\nurl="https://x/a"\nfile="a"', "needs url, file and sha256"),
        (f'version="1"\nurl="http://x/a"\nfile="a"\nsha256="{SHA}"', "must be https"),
        (f'version="1"\nurl="https://x/a"\nfile="../a"\nsha256="{SHA}"', "plain file name"),
        (f'url="https://x/a"\nfile="a"\nsha256="{SHA}"', "thing.version: Field required"),
        (
            f'version="1"\nurl="https://x/a"\nfile="a"\nsha256="{SHA}"\nmd5="x"',
            "thing.md5: unknown key",
        ),
        (
            f'version="1"\nurl="https://x/a"\nfile="a"\nsha256="{SHA}"\ndigest="zip"',
            "digest: Input should be 'file' or 'tar'",
        ),
    ],
)
def test_bad_source_is_named(tmp_path, body, expected):
    path = write(tmp_path, f"[sources.thing]\n{body}\n")
    with pytest.raises(HeliosError) as err:
        manifest.load(path)
    assert str(path) in str(err.value)
    assert ": sources.thing" in str(err.value)
    assert len(str(err.value).splitlines()) == 1
    assert expected in str(err.value)


def test_duplicate_file_names_rejected(tmp_path):
    entry = f'version="1"\nurl="https://x/a"\nfile="same.tar"\nsha256="{SHA}"\n'
    path = write(tmp_path, f"[sources.a]\n{entry}[sources.b]\n{entry}")
    with pytest.raises(HeliosError, match=r"used twice: same\.tar"):
        manifest.load(path)


def test_unknown_arch_rejected(tmp_path):
    path = write(
        tmp_path,
        f'[sources.a]\nversion="1"\n[sources.a.arch.riscv64]\nurl="https://x"\nfile="a"\nsha256="{SHA}"\n',
    )
    with pytest.raises(
        HeliosError, match=r"sources\.a\.arch\.riscv64.*Input should be 'amd64' or 'arm64'"
    ):
        manifest.load(path)


def test_arg_id():
    assert manifest.arg_id("xorg-server-1.20.14") == "XORG_SERVER_1_20_14"
