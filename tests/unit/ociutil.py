"""A docker-exporter archive as BuildKit writes one with attestations, for unit tests."""

import hashlib
import io
import json
import tarfile
from pathlib import Path

from helios import oci

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PROVENANCE = "https://slsa.dev/provenance/v0.2"


class Archive:
    """A docker-exporter archive as BuildKit writes one with attestations (blobs by digest)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def blob(self, value: object) -> str:
        data = json.dumps(value).encode()
        digest = hashlib.sha256(data).hexdigest()
        self.files[f"blobs/sha256/{digest}"] = data
        return f"sha256:{digest}"

    def write(self, path: Path) -> Path:
        with tarfile.open(path, "w") as tar:
            for name, data in sorted(self.files.items()):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return path


def make_archive(
    tmp_path: Path,
    arch: str = "arm64",
    predicates: tuple[str, ...] = (oci.SBOM_PREDICATE, PROVENANCE),
    tags: tuple[str, ...] = ("ghcr.io/org/helios:unstable-bookworm",),
    name: str = "image.tar",
) -> tuple[Path, dict[str, str]]:
    archive = Archive()
    config = archive.blob({"architecture": arch, "os": "linux", "rootfs": {"diff_ids": [arch]}})
    manifest = archive.blob({"mediaType": OCI_MANIFEST, "config": {"digest": config}})
    layers = [{"annotations": {oci.PREDICATE_TYPE: p}} for p in predicates]
    attestation = archive.blob({"mediaType": OCI_MANIFEST, "layers": layers})
    index = archive.blob(
        {
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": manifest,
                    "platform": {"architecture": arch, "os": "linux"},
                },
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": attestation,
                    "platform": {"architecture": "unknown", "os": "unknown"},
                    "annotations": {
                        oci.REFERENCE_TYPE: "attestation-manifest",
                        oci.REFERENCE_DIGEST: manifest,
                    },
                },
            ],
        }
    )
    archive.files["index.json"] = json.dumps(
        {"manifests": [{"mediaType": OCI_INDEX, "digest": index}]}
    ).encode()
    archive.files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    archive.files["manifest.json"] = json.dumps(
        [{"Config": f"blobs/sha256/{config[7:]}", "RepoTags": list(tags)}]
    ).encode()
    digests = {"index": index, "manifest": manifest, "config": config, "attestation": attestation}
    return archive.write(tmp_path / name), digests
