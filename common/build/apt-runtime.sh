#!/usr/bin/env bash
# apt-based runtime steps of the final image, sourced by <distro>/build/system.sh.
# shellcheck source=common/build/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
# shellcheck source=common/build/runtime.sh
. "$(dirname "${BASH_SOURCE[0]}")/runtime.sh"

# Keep docs, man pages and translations out of the runtime image (English is the programs' own
# text, so no en* catalogue is needed either), the JSON copy of iso-codes (its consumers here,
# gstreamer and libxklavier, read the XML) and the xfdesktop backdrops nobody selects (the
# default ones stay: xfce-shapes.svg on bookworm, xfce-x.svg on trixie, xfce-blue.jpg via
# apt_wallpaper for sid).
apt_nodoc() {
    cat >/etc/dpkg/dpkg.cfg.d/helios-nodoc <<'CFG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/groff/*
path-exclude=/usr/share/lintian/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/iso-codes/json/*
path-exclude=/usr/share/backgrounds/xfce/*
path-include=/usr/share/backgrounds/xfce/xfce-blue.jpg
path-include=/usr/share/backgrounds/xfce/xfce-shapes.svg
path-include=/usr/share/backgrounds/xfce/xfce-x.svg
CFG
}

# Packages the runtime's packages depend on that Helios leaves out, with the reason. Each gets an
# empty stand-in package (helios-no-<name>, "Provides: <name>") so apt is satisfied and a later
# `apt-get install <name>` (in a derived image) still installs the real one next to it.
#   libasound2-plugins: pulseaudio hard-depends on it, and it pulls the whole ffmpeg stack
#     (libavcodec, x265, codec2, libmfx, svt-av1, aom, ...: ~130 MB) for ALSA plugins. Every
#     Helios sound path uses libpulse (kclient, paplay, pactl, browsers); only ALSA-only programs
#     would need the ALSA->PulseAudio bridge it carries.
#   cpp: x11-xserver-utils (xrandr, xset, xrdb) depends on it only for xrdb's optional
#     preprocessing; without cpp xrdb loads resources unpreprocessed. Nothing in the session
#     runs xrdb, and cpp is a compiler (~40 MB) the minimal image must not carry.
#   perl: xfce4-terminal (trixie and later) depends on perl:any only for Debian's
#     xfce4-terminal.wrapper (the x-terminal-emulator alternative), a script that needs nothing
#     beyond perl-base, which every Debian system has (~48 MB of perl modules saved).
# The stand-ins are Multi-Arch: allowed so that they also satisfy "<name>:any" dependencies.
APT_STUBS=(libasound2-plugins cpp perl)

# Build and install the stand-in packages of APT_STUBS, and the xfce4-helpers one.
apt_stubs() {
    local name dir
    dir=$(mktemp -d)
    for name in "${APT_STUBS[@]}"; do
        mkdir -p "$dir/$name/DEBIAN"
        printf '%s\n' "Package: helios-no-$name" "Version: 1" "Architecture: all" \
            "Multi-Arch: allowed" "Maintainer: Helios <helios@localhost>" "Provides: $name" \
            "Priority: optional" \
            "Description: Helios leaves $name out (see common/build/apt-runtime.sh)" \
            >"$dir/$name/DEBIAN/control"
        dpkg-deb --build --root-owner-group "$dir/$name" "$dir/helios-no-$name.deb" >/dev/null
    done
    apt_helpers_standin "$dir/helpers"
    dpkg-deb --build --root-owner-group "$dir/helpers" "$dir/helios-xfce4-helpers.deb" >/dev/null
    apt_install "$dir"/helios-no-*.deb "$dir/helios-xfce4-helpers.deb"
    rm -rf "$dir"
}

# xfce4-settings depends on xfce4-helpers, Xfce's "preferred applications" helper list, which
# also carries xfce4-compose-mail: a Python script for mail readers (none is installed) that
# pulls python3 (~40 MB with its byte code). This stand-in (in $1) carries only the helpers the
# desktop uses -- Thunar and xfce4-terminal -- as the defaults. It Provides, Conflicts with and
# Replaces xfce4-helpers: `apt-get install xfce4-helpers` swaps the real one (and python3) in.
apt_helpers_standin() {
    local root=$1 helpers=$1/usr/share/xfce4/helpers
    mkdir -p "$root/DEBIAN" "$root/etc/xdg/xfce4" "$helpers"
    printf '%s\n' "Package: helios-xfce4-helpers" "Version: 1" "Architecture: all" \
        "Maintainer: Helios <helios@localhost>" "Provides: xfce4-helpers" \
        "Conflicts: xfce4-helpers" "Replaces: xfce4-helpers" "Priority: optional" \
        "Description: Helios: Xfce preferred-application helpers for Thunar and xfce4-terminal" \
        >"$root/DEBIAN/control"
    echo /etc/xdg/xfce4/helpers.rc >"$root/DEBIAN/conffiles"
    printf '%s\n' "# Helios: Xfce's preferred applications (exo-open --launch CATEGORY)." \
        "FileManager=thunar" "TerminalEmulator=xfce4-terminal" >"$root/etc/xdg/xfce4/helpers.rc"
    printf '%s\n' "[Desktop Entry]" "Version=1.0" "Type=X-XFCE-Helper" "Name=Thunar" \
        "Icon=org.xfce.thunar" "StartupNotify=true" "X-XFCE-Category=FileManager" \
        "X-XFCE-Binaries=thunar;" "X-XFCE-Commands=%B;" 'X-XFCE-CommandsWithParameter=%B "%s";' \
        >"$helpers/thunar.desktop"
    printf '%s\n' "[Desktop Entry]" "Version=1.0" "Type=X-XFCE-Helper" "Name=Xfce Terminal" \
        "Icon=utilities-terminal" "StartupNotify=true" "X-XFCE-Category=TerminalEmulator" \
        "X-XFCE-Binaries=xfce4-terminal;" "X-XFCE-Commands=%B;" \
        "X-XFCE-CommandsWithParameter=%B -x %s;" >"$helpers/xfce4-terminal.desktop"
}

# The runtime every Debian-family image needs; $@ = distro-specific package names
# (versioned library names differ per release, e.g. libssl3 vs libssl3t64).
apt_runtime() {
    apt_nodoc
    apt-get update
    apt_install ca-certificates
    ca_install
    apt_stubs
    apt_install bash coreutils util-linux passwd openssl curl procps \
        nginx pulseaudio pulseaudio-utils dbus-x11 xauth x11-xserver-utils x11-xkb-utils xkb-data \
        xfce4-session xfwm4 xfce4-panel xfdesktop4 xfce4-settings xfconf xfce4-terminal thunar \
        adwaita-icon-theme librsvg2-common fonts-dejavu-core \
        libgl1 libgl1-mesa-dri libglx-mesa0 libegl-mesa0 libgbm1 libgomp1 libwebp7 libfreetype6 \
        libxfont2 libpixman-1-0 libxshmfence1 libxkbfile1 libxcvt0 libpulse0 libnss-wrapper \
        libxtst6 libxv1 libglu1-mesa libegl1 "$@"
    apt_drop_usrmerge
    ca_remove
    apt-get autoremove -y --purge
    apt_clean
    # Docs of packages from the base image too; copyright files stay (licences).
    find /usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
    find /usr/share/doc -mindepth 1 -type d -empty -delete
    find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    rm -rf /usr/share/man/* /usr/share/info/* /var/cache/debconf/*-old /tmp/* 2>/dev/null || true
    apt_wallpaper
    runtime_checks
}

# A base made by mmdebstrap (bookworm) may carry usrmerge, which converts a system to merged
# /usr and then only keeps perl and its libraries installed (marked manual, like the whole base).
# Where /usr is merged already, usr-is-merged states the same without them (as in Debian's own
# container images); perl itself is then left out like everywhere (APT_STUBS).
apt_drop_usrmerge() {
    dpkg-query -W -f='${Status}' usrmerge 2>/dev/null | grep -q 'ok installed' || return 0
    [ -L /bin ] && [ -L /lib ] || return 0
    apt_install usr-is-merged
    local leftovers
    mapfile -t leftovers < <(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' usrmerge perl \
        'perl-modules-*' 'libperl5*' libfile-find-rule-perl libnumber-compare-perl \
        libtext-glob-perl 2>/dev/null | awk '$1 == "ii" { print $2 }')
    apt-get purge -y "${leftovers[@]}"
}

# xfdesktop's Debian default backdrop is desktop-base's image, a package Helios does not install
# (sid's desktop was black): point that path at one of xfdesktop's own backdrops.
apt_wallpaper() {
    local default=/usr/share/images/desktop-base/default image=/usr/share/backgrounds/xfce/xfce-blue.jpg
    [ -e "$default" ] && return 0
    [ -f "$image" ] || die "xfdesktop's backdrop $image is missing"
    mkdir -p "$(dirname "$default")"
    ln -s "$image" "$default"
}

# Fail the build if the runtime image has a toolchain or misses what Xvnc/kclient link.
runtime_checks() {
    local bad
    # No compiler, preprocessor (cpp: see APT_STUBS), make or -dev package.
    bad=$(dpkg-query -W -f='${Package}\n' | grep -E -e '-dev$' -e '^(cpp|gcc|g\+\+|make|cmake)(-[0-9.]+)?$' || true)
    [ -z "$bad" ] || die "toolchain or -dev packages in the runtime image: $(echo "$bad" | tr '\n' ' ')"
    missing_libs
    virtualgl_present
    node_matches_kclient
}
