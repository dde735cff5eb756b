#!/usr/bin/env bash
# apt-based runtime steps of the final image, sourced by <distro>/build/system.sh.
# shellcheck source=common/build/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
# shellcheck source=common/build/runtime.sh
. "$(dirname "${BASH_SOURCE[0]}")/runtime.sh"

# Keep docs, man pages and translations out of the runtime image.
apt_nodoc() {
    cat >/etc/dpkg/dpkg.cfg.d/helios-nodoc <<'CFG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/groff/*
path-exclude=/usr/share/lintian/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/en*
path-include=/usr/share/locale/locale.alias
CFG
}

# The runtime every Debian-family image needs; $@ = distro-specific package names
# (versioned library names differ per release, e.g. libssl3 vs libssl3t64).
apt_runtime() {
    apt_nodoc
    apt-get update
    apt_install ca-certificates
    ca_install
    apt_install bash coreutils util-linux passwd openssl curl procps \
        nginx pulseaudio pulseaudio-utils dbus-x11 xauth x11-xserver-utils x11-xkb-utils xkb-data \
        xfce4-session xfwm4 xfce4-panel xfdesktop4 xfce4-settings xfconf xfce4-terminal \
        adwaita-icon-theme fonts-dejavu-core \
        libgl1 libgl1-mesa-dri libglx-mesa0 libegl-mesa0 libgbm1 libgomp1 libwebp7 libfreetype6 \
        libxfont2 libpixman-1-0 libxshmfence1 libxkbfile1 libxcvt0 libpulse0 libnss-wrapper "$@"
    apt_virtualgl
    ca_remove
    apt-get autoremove -y
    apt_clean
    # Docs of packages from the base image too; copyright files stay (licences).
    find /usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
    find /usr/share/doc -mindepth 1 -type d -empty -delete
    find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'en*' ! -name locale.alias -exec rm -rf {} +
    rm -rf /usr/share/man/* /usr/share/info/* /var/cache/debconf/*-old /tmp/* 2>/dev/null || true
    runtime_checks
}

# VirtualGL from the pinned release .deb ($HELIOS_SRC/virtualgl-deb, fetched by the sources stage).
apt_virtualgl() {
    if [ "${HELIOS_SKIP_VIRTUALGL:-false}" = true ]; then
        log "HELIOS_SKIP_VIRTUALGL=true: VirtualGL not installed"
        return 0
    fi
    local deb
    deb=$(src_file virtualgl-deb)
    apt_install "$deb"
    command -v vglrun >/dev/null || die "VirtualGL installed but vglrun is missing"
}

# Fail the build if the runtime image has a toolchain or misses what Xvnc/kclient link.
runtime_checks() {
    local bad
    # cpp stays: x11-xserver-utils (xrandr, xset, xrdb) depends on it; no compiler driver does.
    bad=$(dpkg-query -W -f='${Package}\n' | grep -E -e '-dev$' -e '^(gcc|g\+\+|make|cmake)(-[0-9.]+)?$' || true)
    [ -z "$bad" ] || die "toolchain or -dev packages in the runtime image: $(echo "$bad" | tr '\n' ' ')"
    missing_libs
    node_matches_kclient
}
