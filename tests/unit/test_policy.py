"""Static policy for the image build: Dockerfile, build scripts and the sources manifest."""

import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from bakeutil import resolved_target

from helios import ROOT, bake, manifest, matrix

DOCKERFILE = ROOT / "Dockerfile"
SCRIPTS = ("kasm.sh", "xorg.sh", "kclient.sh", "system.sh")
DISTROS = matrix.load()
# Words that name a distro, its image or its family; none may appear outside the snakeoil stage.
DISTRO_WORDS = sorted(
    {d.name for d in DISTROS}
    | {part for d in DISTROS for part in re.split(r"[^a-z0-9]+", d.image.split(":")[0]) if part}
    | {d.family for d in DISTROS}
    | {"debian", "ubuntu", "kali", "rocky", "alma", "centos", "fedora", "alpine", "el9"}
)
URL_RE = re.compile(r"https?://(?!127\.0\.0\.1[:/])")
# A downloader run with options, a variable or a URL (a package name "curl" in a list is fine).
DOWNLOADER_RE = re.compile(r"(^|[;&|(`])\s*(curl|wget|aria2c)\s+[-\"$h]")


def _scripts() -> list[Path]:
    return sorted(
        {
            p
            for p in [*ROOT.glob("common/build/*"), *ROOT.glob("*/build/*.sh")]
            if p.is_file() and p.suffix in {".sh", ".js"}
        }
    )


def _shell_scripts() -> list[Path]:
    return [p for p in _scripts() if p.suffix == ".sh"]


def _dockerfile_lines() -> list[str]:
    return DOCKERFILE.read_text().splitlines()


def _outside_snakeoil(lines: list[str]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    inside = False
    for number, line in enumerate(lines, 1):
        if re.match(r"^\s*FROM\s", line, re.IGNORECASE):
            inside = bool(re.search(r"\bAS\s+snakeoil\s*$", line, re.IGNORECASE))
        if not inside:
            out.append((number, line))
    return out


def _distro_words_in(text: str) -> list[str]:
    return [w for w in DISTRO_WORDS if re.search(rf"(?<![A-Za-z0-9_]){re.escape(w)}\b", text, re.I)]


def test_distro_word_detection_works() -> None:
    assert _distro_words_in("FROM debian:bookworm") == ["bookworm", "debian"]
    assert _distro_words_in("RUN /helios/distro/build/kasm.sh # inside") == []
    assert _distro_words_in("COPY rocky-9/build/x /x") == ["rocky", "rocky-9"]


def test_dockerfile_names_no_distro_outside_the_snakeoil_stage() -> None:
    lines = _dockerfile_lines()
    assert any(re.search(r"\bAS\s+snakeoil\b", line) for line in lines), "no snakeoil stage"
    bad = [
        f"line {n}: {', '.join(words)}: {line.strip()}"
        for n, line in _outside_snakeoil(lines)
        if (words := _distro_words_in(line))
    ]
    assert not bad, "distro-specific text in the Dockerfile:\n" + "\n".join(bad)


def test_dockerfile_fits_buildkit_0_8_and_runs_init() -> None:
    text = DOCKERFILE.read_text()
    assert not re.search(r"^#\s*syntax\s*=", text, re.M | re.I), "a syntax line pulls an image"
    assert not re.search(r"<<-?\s*['\"]?[A-Z]+", text), "heredocs need a newer frontend"
    assert "--link" not in text, "COPY --link needs a newer frontend"
    assert re.search(r'^ENTRYPOINT \["/init"\]$', text, re.M), "s6 /init must be the ENTRYPOINT"
    assert not re.search(r"^CMD .*/init", text, re.M)
    assert re.search(r"^EXPOSE 3000$", text, re.M)
    assert re.search(r"^EXPOSE 3001$", text, re.M), "HTTPS_PORT's default"
    assert re.search(r"^HEALTHCHECK .*", text, re.M)
    assert not re.search(r"^ADD\s", text, re.M), "downloads go through fetch.sh, not ADD"


def _dockerfile_args() -> dict[str, str | None]:
    args: dict[str, str | None] = {}
    for line in _dockerfile_lines():
        m = re.match(r"^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$", line.strip())
        if m:
            args.setdefault(m.group(1), m.group(2))
    return args


def test_dockerfile_declares_every_manifest_build_arg() -> None:
    declared = _dockerfile_args()
    missing = sorted(set(manifest.load().build_args()) - set(declared))
    assert not missing, f"manifest build args not declared in the Dockerfile: {missing}"
    names = (
        "BASE_IMAGE",
        "BUILDPLATFORM_IMAGE",
        "DISTRO",
        "XORG_VERSION",
        "WEBRTC",
        "HELIOS_VERSION",
    )
    for name in names:
        assert name in declared, f"ARG {name} missing"
    assert declared["KASMBINS"] == "false"
    assert declared["OFFLINE"] == "false"
    assert declared["SOURCES_MIRROR"] == '""'


def _stages(text: str) -> dict[str, list[str]]:
    """Stage name -> its instructions (continuation lines joined), in Dockerfile order."""
    joined = re.sub(r"\\\n\s*", " ", text)
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in joined.splitlines():
        m = re.match(r"^FROM\s+(?:--platform=\S+\s+)?\S+\s+AS\s+(\S+)\s*$", line, re.I)
        if m:
            current = stages.setdefault(m.group(1), [])
        elif line.strip() and not line.lstrip().startswith("#"):
            current.append(line.strip())
    return stages


def _distro_args() -> list[dict[str, str]]:
    rendered = bake.render()
    return [resolved_target(rendered, d.name)["args"] for d in DISTROS]


def fetch_arg_problems(text: str) -> list[str]:
    """Every fetch.sh call whose source's build args (or ${VAR}s) its own stage does not declare.

    Names with ${VAR} are expanded with each distro's bake args (XORG_VERSION).
    """
    problems = []
    pins = manifest.load()
    for stage, lines in _stages(text).items():
        declared = {m.group(1) for ln in lines if (m := re.match(r"^ARG\s+(\w+)", ln))}
        for line in lines:
            m = re.search(r"/fetch\.sh\s+(?:--[a-z-]+\s+\S+\s+)*(\S+)", line)
            if not line.startswith("RUN ") or not m:
                continue
            used = set(re.findall(r"\$\{(\w+)\}", line))
            problems += [f"{stage}: {var} used but not declared" for var in used - declared]
            for args in _distro_args():
                name = re.sub(r"\$\{(\w+)\}", lambda v, a=args: a.get(v.group(1), ""), m.group(1))
                name = name.strip('"')
                pinned = pins.sources.get(name)
                source_id = manifest.arg_id(name)
                unpinned = {f"{source_id}_{k}" for k in ("DIGEST", "VERSION")} | {
                    f"{source_id}_{f}_{a.upper()}"
                    for f in ("FILE", "URL", "SHA256")
                    for a in manifest.ARCHES
                }
                needed = set(pinned.args()) if pinned else unpinned
                problems += [f"{stage}: {arg} not declared" for arg in sorted(needed - declared)]
    return sorted(set(problems))


def test_every_fetch_reads_only_args_declared_in_its_own_stage() -> None:
    assert fetch_arg_problems(DOCKERFILE.read_text()) == []


def test_an_arg_declared_in_another_stage_is_caught() -> None:
    text = DOCKERFILE.read_text()
    moved = text.replace("ARG KASMVNC_SHA256\n", "", 1).replace(
        "FROM fetcher AS src-kasmweb\n", "FROM fetcher AS src-kasmweb\nARG KASMVNC_SHA256\n", 1
    )
    assert moved != text
    assert fetch_arg_problems(moved) == ["src-kasmvnc: KASMVNC_SHA256 not declared"]
    no_var = text.replace("ARG BUILDARCH\n", "", 1)
    assert "src-node: BUILDARCH used but not declared" in fetch_arg_problems(no_var)


@pytest.mark.parametrize("distro", [d.name for d in DISTROS])
def test_distro_folder_is_complete(distro: str) -> None:
    folder = ROOT / distro
    for script in SCRIPTS:
        assert (folder / "build" / script).is_file(), f"{distro}/build/{script} is missing"
    # The Dockerfile copies only common/root: a <distro>/root would be silently ignored.
    assert not (folder / "root").exists(), f"{distro}/root: put runtime files in common/root"


def test_scripts_download_only_through_fetch_sh() -> None:
    bad: list[str] = []
    for path in _scripts():
        for n, line in enumerate(path.read_text().splitlines(), 1):
            rel = path.relative_to(ROOT)
            if URL_RE.search(line):
                bad.append(f"{rel}:{n}: literal URL: {line.strip()}")
            if path.name != "fetch.sh" and DOWNLOADER_RE.search(line.split("#", 1)[0]):
                bad.append(f"{rel}:{n}: downloader outside fetch.sh: {line.strip()}")
    assert not bad, "\n".join(bad)


def test_url_and_downloader_detection_works() -> None:
    assert URL_RE.search("curl -o x https://example.com/x")
    assert not URL_RE.search("curl -fsS http://127.0.0.1:3000/health")
    assert DOWNLOADER_RE.search("  wget -q x")
    assert DOWNLOADER_RE.search('x=$(curl "$url")')
    assert not DOWNLOADER_RE.search("apt_install ca-certificates curl")
    assert not DOWNLOADER_RE.search("    xz bzip2 curl procps \\")


def test_every_manifest_entry_has_a_real_sha256() -> None:
    pinned = manifest.load()
    zero = [
        f"{source.name}{f' ({arch})' if arch else ''}: {art.file}"
        for source in pinned.sources.values()
        for arch, art in source.artifacts.items()
        if set(art.sha256) == {"0"}
    ]
    assert not zero, "placeholder (all-zero) sha256 in sources.toml:\n" + "\n".join(zero)


def test_manifest_has_an_xorg_source_per_distro_and_npm_pins() -> None:
    pinned = manifest.load()
    for distro in DISTROS:
        assert f"xorg-server-{distro.xorg}" in pinned.sources, f"no xorg source for {distro.name}"
    for key in ("KASMWEB_NPM_BEFORE", "KCLIENT_NPM_BEFORE"):
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", pinned.args.get(key, "")), key


def _git_modes() -> dict[str, str]:
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        return {}
    out = subprocess.run(
        ["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    modes = {}
    for line in out.stdout.splitlines():
        meta, _, path = line.partition("\t")
        modes[path] = meta.split()[0]
    return modes


def test_every_script_is_executable() -> None:
    modes = _git_modes()
    bad = []
    found = {*ROOT.glob("common/**/*.sh"), *ROOT.glob("*/build/*.sh"), *ROOT.glob("*/root/**/*.sh")}
    for path in sorted(found):
        rel = str(path.relative_to(ROOT))
        if rel in modes:
            if modes[rel] != "100755":
                bad.append(f"{rel}: git mode {modes[rel]}")
        elif not path.stat().st_mode & stat.S_IXUSR:
            bad.append(f"{rel}: not executable")
    assert not bad, "scripts must be mode 100755:\n" + "\n".join(bad)


def test_webrtc_is_compared_explicitly() -> None:
    """Pitfall 1: a bare [ "$WEBRTC" ] test is true for the string "false"."""
    text = (ROOT / "common" / "build" / "novnc.sh").read_text()
    assert not re.search(r'\[\s*(-n\s*)?"?\$\{?WEBRTC\}?"?\s*\]', text)
    patch = (ROOT / "common" / "build" / "novnc-patch.js").read_text()
    assert "webrtc === 'false'" in patch
