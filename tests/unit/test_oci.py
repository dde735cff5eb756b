"""helios.oci: the archive CI tests is the one it pushes (digests, platform, attestations)."""

import hashlib
import json
import tarfile
from pathlib import Path

import pytest
from ociutil import OCI_INDEX, OCI_MANIFEST, PROVENANCE, Archive, make_archive

from helios import HeliosError, oci


def test_describe_names_the_tested_digests_and_tags(tmp_path):
    path, digests = make_archive(tmp_path)
    image = oci.describe(path, "linux/arm64")
    assert image.platform == "linux/arm64"
    assert (image.index, image.manifest, image.config) == (
        digests["index"],
        digests["manifest"],
        digests["config"],
    )
    assert image.attestations == (digests["attestation"],)
    assert image.tags == ("ghcr.io/org/helios:unstable-bookworm",)


def test_describe_reads_an_unpacked_layout_the_same(tmp_path):
    path, _ = make_archive(tmp_path)
    folder = tmp_path / "layout"
    with tarfile.open(path) as tar:
        tar.extractall(folder, filter="data")
    assert oci.describe(folder) == oci.describe(path)


def test_wrong_platform_is_refused(tmp_path):
    path, _ = make_archive(tmp_path, arch="amd64")
    with pytest.raises(HeliosError, match="expected the image of linux/arm64, found linux/amd64"):
        oci.describe(path, "linux/arm64")


@pytest.mark.parametrize(
    ("predicates", "missing"),
    [((PROVENANCE,), "SBOM"), ((oci.SBOM_PREDICATE,), "provenance"), ((), "SBOM or provenance")],
)
def test_an_archive_without_its_attestations_is_refused(tmp_path, predicates, missing):
    path, _ = make_archive(tmp_path, predicates=predicates)
    with pytest.raises(HeliosError, match=f"has no {missing} attestation"):
        oci.describe(path)


def test_an_archive_built_without_attestations_is_refused(tmp_path):
    archive = Archive()
    manifest = archive.blob({"mediaType": OCI_MANIFEST, "config": {"digest": "sha256:00"}})
    archive.files["index.json"] = json.dumps(
        {"manifests": [{"mediaType": OCI_MANIFEST, "digest": manifest}]}
    ).encode()
    with pytest.raises(HeliosError, match="one image index"):
        oci.describe(archive.write(tmp_path / "plain.tar"))


def test_a_blob_whose_bytes_changed_is_refused(tmp_path):
    path, digests = make_archive(tmp_path)
    folder = tmp_path / "layout"
    with tarfile.open(path) as tar:
        tar.extractall(folder, filter="data")
    blob = folder / "blobs" / "sha256" / digests["manifest"][7:]
    blob.write_bytes(blob.read_bytes().replace(b"sha256", b"sha256 "))
    with pytest.raises(HeliosError, match="does not have that digest"):
        oci.describe(folder)


def test_not_an_archive_is_one_line(tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_text("not a tar")
    with pytest.raises(HeliosError, match="not a readable tar archive"):
        oci.describe(junk)
    with pytest.raises(HeliosError, match="no such image archive"):
        oci.describe(tmp_path / "missing.tar")


def pushed_index(*digests: str) -> bytes:
    manifests = [{"mediaType": OCI_MANIFEST, "digest": d} for d in digests]
    return json.dumps({"mediaType": OCI_INDEX, "manifests": manifests}).encode()


def two_platforms(tmp_path: Path) -> tuple[list[oci.Image], list[dict[str, str]]]:
    amd, amd_digests = make_archive(tmp_path, arch="amd64", name="amd64.tar")
    arm, arm_digests = make_archive(tmp_path, arch="arm64", name="arm64.tar")
    return [oci.describe(amd), oci.describe(arm)], [amd_digests, arm_digests]


PLATFORMS = ["linux/amd64", "linux/arm64"]


def test_verify_index_accepts_the_tested_manifests_and_returns_the_index_digest(tmp_path):
    images, digests = two_platforms(tmp_path)
    pushed = pushed_index(*(d[k] for d in digests for k in ("manifest", "attestation")))
    assert oci.verify_index(pushed, images, PLATFORMS) == (
        "sha256:" + hashlib.sha256(pushed).hexdigest()
    )


def test_verify_index_refuses_a_rebuilt_image(tmp_path):
    """An index whose arm64 manifest is not the tested one (e.g. a rebuild) is not signed."""
    images, digests = two_platforms(tmp_path)
    rebuilt = "sha256:" + "1" * 64
    pushed = pushed_index(
        digests[0]["manifest"], digests[0]["attestation"], rebuilt, digests[1]["attestation"]
    )
    with pytest.raises(HeliosError, match=f"lacks the tested manifest.*{digests[1]['manifest']}"):
        oci.verify_index(pushed, images, PLATFORMS)


def test_verify_index_refuses_dropped_attestations(tmp_path):
    images, digests = two_platforms(tmp_path)
    pushed = pushed_index(digests[0]["manifest"], digests[1]["manifest"])
    with pytest.raises(HeliosError, match=digests[0]["attestation"]):
        oci.verify_index(pushed, images, PLATFORMS)


def test_verify_index_needs_one_archive_per_platform(tmp_path):
    images, digests = two_platforms(tmp_path)
    pushed = pushed_index(*(d[k] for d in digests for k in ("manifest", "attestation")))
    with pytest.raises(HeliosError, match="archives for linux/amd64; the image needs"):
        oci.verify_index(pushed, images[:1], PLATFORMS)


def test_verify_index_refuses_archives_with_different_tags(tmp_path):
    amd, amd_d = make_archive(tmp_path, arch="amd64", name="a.tar", tags=("r:unstable-sid",))
    arm, arm_d = make_archive(tmp_path, arch="arm64", name="b.tar", tags=("r:testing-sid",))
    pushed = pushed_index(*(d[k] for d in (amd_d, arm_d) for k in ("manifest", "attestation")))
    with pytest.raises(HeliosError, match="different tags"):
        oci.verify_index(pushed, [oci.describe(amd), oci.describe(arm)], PLATFORMS)


def test_cli_describe_and_verify(tmp_path, capsys):
    amd, amd_d = make_archive(tmp_path, arch="amd64", name="amd64.tar")
    arm, arm_d = make_archive(tmp_path, arch="arm64", name="arm64.tar")
    assert oci.main(["describe", str(arm), "--platform", "linux/arm64"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"config={arm_d['config']}" in lines
    assert "tags=ghcr.io/org/helios:unstable-bookworm" in lines
    pushed = tmp_path / "pushed.json"
    pushed.write_bytes(
        pushed_index(*(d[k] for d in (amd_d, arm_d) for k in ("manifest", "attestation")))
    )
    args = ["verify-index", str(pushed), "--platforms", ",".join(PLATFORMS), str(amd), str(arm)]
    assert oci.main(args) == 0
    digest = "sha256:" + hashlib.sha256(pushed.read_bytes()).hexdigest()
    assert capsys.readouterr().out == f"digest={digest}\n"
    pushed.write_bytes(pushed_index(amd_d["manifest"]))
    assert oci.main(args) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: the pushed index lacks")
    assert "Traceback" not in captured.err


def test_a_manifest_without_config_is_one_line(tmp_path):
    archive = Archive()
    manifest = archive.blob({"mediaType": OCI_MANIFEST})
    layers = [{"annotations": {oci.PREDICATE_TYPE: p}} for p in (oci.SBOM_PREDICATE, PROVENANCE)]
    attestation = archive.blob({"layers": layers})
    refs = {oci.REFERENCE_TYPE: "attestation-manifest", oci.REFERENCE_DIGEST: manifest}
    index = archive.blob(
        {
            "manifests": [
                {"digest": manifest, "platform": {"os": "linux", "architecture": "amd64"}},
                {"digest": attestation, "annotations": refs},
            ]
        }
    )
    archive.files["index.json"] = json.dumps(
        {"manifests": [{"mediaType": OCI_INDEX, "digest": index}]}
    ).encode()
    with pytest.raises(HeliosError, match="names no config"):
        oci.describe(archive.write(tmp_path / "x.tar"))
