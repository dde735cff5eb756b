#!/usr/bin/env bash
# Shared helpers for the .ci scripts (sourced, not run): logging, root/OS checks, apt installs.
set -euo pipefail

HELIOS_DEBIAN_MIRROR=${HELIOS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
HELIOS_CI_CACHE=${HELIOS_CI_CACHE:-/var/cache/helios-ci}

log() {
    printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"
}

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

require_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (installs packages and starts dockerd)"
}

# Prints the Debian major release (12 or 13); anything else is an error.
debian_major() {
    local version
    [[ -r /etc/debian_version ]] || die "/etc/debian_version missing: only Debian 12 or 13 is supported"
    version=$(cat /etc/debian_version)
    case $version in
        12.* | bookworm*) echo 12 ;;
        13.* | trixie*) echo 13 ;;
        *) die "/etc/debian_version is '$version': only Debian 12 (bookworm) or 13 (trixie) is supported" ;;
    esac
}

# Installs the given Debian packages that are not installed yet; a no-op when all are.
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "packages already installed: $*"
        return 0
    fi
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -q
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
}
