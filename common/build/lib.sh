#!/usr/bin/env bash
# Helios build helpers, sourced by every build script (never run on its own).
# Paths: HELIOS_SRC (default /src) holds fetched sources, one folder per source name.

HELIOS_SRC=${HELIOS_SRC:-/src}
HELIOS_CA_SECRET=${HELIOS_CA_SECRET:-/run/secrets/helios-ca}

log() {
    printf 'helios: %s\n' "$*" >&2
}

die() {
    printf 'helios: error: %s\n' "$*" >&2
    exit 1
}

# The Docker architecture name (amd64, arm64) of the build.
helios_arch() {
    local arch=${TARGETARCH:-}
    if [ -z "$arch" ]; then
        arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
    fi
    case "$arch" in
        amd64 | x86_64) echo amd64 ;;
        arm64 | aarch64) echo arm64 ;;
        *) die "architecture '$arch' is not supported (amd64, arm64)" ;;
    esac
}

# The kernel-style machine name (x86_64, aarch64) of the build.
helios_machine() {
    case "$(helios_arch)" in
        amd64) echo x86_64 ;;
        arm64) echo aarch64 ;;
    esac
}

# The one file fetched for source $1 (from the sources stage), e.g. /src/kasmvnc/kasmvnc-<v>.tar.gz.
src_file() {
    local dir="$HELIOS_SRC/$1" files
    shopt -s nullglob
    files=("$dir"/*)
    shopt -u nullglob
    [ "${#files[@]}" -eq 1 ] || die "expected exactly one file in $dir for source '$1', found ${#files[@]}"
    echo "${files[0]}"
}

# Unpack source $1 into directory $2 (created), dropping the archive's top folder.
src_unpack() {
    local file
    file=$(src_file "$1")
    mkdir -p "$2"
    tar -xf "$file" -C "$2" --strip-components=1 --no-same-owner
}

# Trust the optional corporate CA (BuildKit secret helios-ca) for this RUN: system store + Node.
ca_install() {
    [ -s "$HELIOS_CA_SECRET" ] || return 0
    if [ -d /usr/local/share/ca-certificates ] && command -v update-ca-certificates >/dev/null; then
        # update-ca-certificates takes one certificate per file: split a bundle.
        awk -v dir=/usr/local/share/ca-certificates '
            /-----BEGIN CERTIFICATE-----/ { n++; out = sprintf("%s/helios-ca-%03d.crt", dir, n) }
            out { print > out }
            /-----END CERTIFICATE-----/ { close(out); out = "" }
        ' "$HELIOS_CA_SECRET"
        update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed for the helios-ca secret"
    elif [ -d /etc/pki/ca-trust/source/anchors ] && command -v update-ca-trust >/dev/null; then
        cp "$HELIOS_CA_SECRET" /etc/pki/ca-trust/source/anchors/helios-ca.crt
        update-ca-trust extract
    else
        die "a helios-ca secret was given but this image has no CA store tool yet"
    fi
    export NODE_EXTRA_CA_CERTS="$HELIOS_CA_SECRET"
    log "using the corporate CA from the helios-ca build secret"
}

# Remove what ca_install added (final image: the CA must not stay in a layer).
ca_remove() {
    if compgen -G '/usr/local/share/ca-certificates/helios-ca-*.crt' >/dev/null; then
        rm -f /usr/local/share/ca-certificates/helios-ca-*.crt
        update-ca-certificates --fresh >/dev/null
    fi
    if [ -f /etc/pki/ca-trust/source/anchors/helios-ca.crt ]; then
        rm -f /etc/pki/ca-trust/source/anchors/helios-ca.crt
        update-ca-trust extract
    fi
    unset NODE_EXTRA_CA_CERTS
}

# Install the pinned Node binary (npm registry package node-linux-<arch>) into /usr/local.
# $1 = "build" also installs headers (for node-gyp) and npm; "runtime" only bin/node.
node_from_tarball() {
    local mode=$1 node_tgz
    node_tgz=$(src_file node)
    tar -xzf "$node_tgz" -C /usr/local --strip-components=1 --no-same-owner package/bin/node
    if [ "$mode" = build ]; then
        tar -xzf "$node_tgz" -C /usr/local --strip-components=1 --no-same-owner package/include
        mkdir -p /usr/local/lib/node_modules/npm
        src_unpack npm /usr/local/lib/node_modules/npm
        ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
        ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
    fi
    /usr/local/bin/node --version >/dev/null || die "the pinned Node binary does not run here"
}

# Fail unless `node` is at least major version $1.
node_require() {
    local major
    major=$(node -p 'process.versions.node.split(".")[0]') || die "node is not installed"
    [ "$major" -ge "$1" ] || die "node $major is too old (need >= $1)"
    log "node $(node --version), npm $(npm --version 2>/dev/null || echo none)"
}
