#!/usr/bin/env bash
# fetch.sh [--when true|false | --when-needed true|false] [--arch ARCH] NAME [DEST]: put the
# pinned file of manifest source NAME into DEST (default /out/NAME). DEST stays empty with --when
# false (an optional source that is disabled). --when-needed false (the distro does not use the
# source, sources.toml needed_by): copied from the sources folder when it is there, else left
# out -- never downloaded, never an error. --arch (amd64, arm64) picks a per-arch source's file
# for that architecture instead of the target's (e.g. $BUILDARCH for a build-platform stage).
# Reads the build args <ID>_FILE/_URL/_SHA256/_DIGEST (with _AMD64/_ARM64 for per-arch sources),
# SOURCES_MIRROR and OFFLINE. Looks in /sources (the bind-mounted .sources folder) first, then
# $SOURCES_MIRROR/<file>, then the upstream URL; verifies the sha256 (DIGEST=tar: over the
# decompressed tar stream) and stops naming the file on a mismatch.
set -euo pipefail
# shellcheck source=common/build/lib.sh
. "$(dirname "$0")/lib.sh"

usage="usage: fetch.sh [--when true|false | --when-needed true|false] [--arch ARCH] NAME [DEST]"
when=true
while [ $# -gt 0 ]; do
    case "$1" in
        --when)
            [ $# -ge 2 ] || die "$usage"
            when=$2
            shift 2
            ;;
        --when-needed)
            case "${2:-}" in
                true) ;;
                false) when=if-present ;;
                *) die "fetch.sh --when-needed must be \"true\" or \"false\", got '${2:-}'" ;;
            esac
            shift 2
            ;;
        --arch)
            case "${2:-}" in
                amd64 | arm64) TARGETARCH=$2 ;;
                *) die "fetch.sh --arch must be amd64 or arm64, got '${2:-}'" ;;
            esac
            shift 2
            ;;
        -*) die "$usage" ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] && [ $# -le 2 ] || die "$usage"
name=$1
dest=${2:-/out/$name}
case "$when" in
    true | if-present) ;;
    false)
        mkdir -p "$dest"
        log "source '$name' is disabled: not fetched"
        exit 0
        ;;
    *) die "fetch.sh --when must be \"true\" or \"false\", got '$when' (source '$name')" ;;
esac
sources_dir=${SOURCES_DIR:-/sources}
id=$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]' | tr -c 'A-Z0-9' '_')

# Per-arch sources carry an _<ARCH> suffix on URL/FILE/SHA256.
suffix=""
if [ -z "$(printenv "${id}_FILE" || true)" ]; then
    suffix="_$(helios_arch | tr '[:lower:]' '[:upper:]')"
fi
file=$(printenv "${id}_FILE${suffix}" || true)
url=$(printenv "${id}_URL${suffix}" || true)
sha256=$(printenv "${id}_SHA256${suffix}" || true)
digest=$(printenv "${id}_DIGEST" || echo file)
[ -n "$file" ] && [ -n "$url" ] && [ -n "$sha256" ] ||
    die "source '$name' ($(helios_arch)) has no pin: build args ${id}_FILE${suffix}/_URL/_SHA256 are not set; pin it (URL, file, vetted sha256) in your sources folder's sources.toml"
[[ "$sha256" =~ ^[0-9a-f]{64}$ ]] || die "source '$name': ${id}_SHA256${suffix} is not 64 hex digits"
case "$file" in
    */* | .* | "") die "source '$name': file name '$file' must be a plain name" ;;
esac

# sha256 of $1 as the manifest defines it for this source (compression from the file name).
digest_of() {
    case "$digest" in
        file) sha256sum "$1" | cut -d' ' -f1 ;;
        tar)
            case "$file" in
                *.tar.gz | *.tgz) gzip -dc "$1" | sha256sum | cut -d' ' -f1 ;;
                *.tar.xz) xz -dc "$1" | sha256sum | cut -d' ' -f1 ;;
                *.tar.bz2) bzip2 -dc "$1" | sha256sum | cut -d' ' -f1 ;;
                *.tar) sha256sum "$1" | cut -d' ' -f1 ;;
                *) die "$file: DIGEST=tar needs a .tar, .tar.gz, .tgz, .tar.xz or .tar.bz2 file" ;;
            esac
            ;;
        *) die "source '$name': ${id}_DIGEST must be file or tar, got '$digest'" ;;
    esac
}

# Verify $1 against the pinned sha256; $2 says where it came from.
verify() {
    local got
    got=$(digest_of "$1")
    [ "$got" = "$sha256" ] || die "$file: sha256 mismatch ($2): got $got, expected $sha256 (digest=$digest)"
}

mkdir -p "$dest"
part="$dest/.$file.part"
if [ "$when" = if-present ] && [ ! -f "$sources_dir/$file" ]; then
    log "source '$name' is not needed by this distro and not in the sources folder: left out"
    exit 0
fi
if [ -f "$sources_dir/$file" ]; then
    verify "$sources_dir/$file" "sources folder"
    cp "$sources_dir/$file" "$part"
    log "$file: from the sources folder, sha256 ok"
elif [ "${OFFLINE:-false}" = true ]; then
    die "$file: not in the sources folder and OFFLINE=true (run 'invoke sources' or add it to .sources/)"
else
    if [ -n "${SOURCES_MIRROR:-}" ]; then
        url="${SOURCES_MIRROR%/}/$file"
    fi
    ca_install
    log "$file: downloading $url"
    curl -fsSL --retry 3 --connect-timeout 30 -o "$part" "$url" || die "$file: download failed from $url"
    verify "$part" "downloaded from $url"
fi
mv "$part" "$dest/$file"
