#!/usr/bin/env bash
# apt-based build steps (Debian, Ubuntu, Kali families), sourced by <distro>/build/*.sh.
# shellcheck source=common/build/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export DEBIAN_FRONTEND=noninteractive

apt_install() {
    apt-get install -y --no-install-recommends "$@"
}

apt_clean() {
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log
}

# Add deb-src entries for every configured deb entry (one-line and deb822 formats).
apt_enable_sources() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        sed -i 's/^Types: deb$/Types: deb deb-src/' "$f"
    done
    if [ -f /etc/apt/sources.list ]; then
        sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list >/etc/apt/sources.list.d/helios-src.list
    fi
    grep -rqs -e '^deb-src ' -e '^Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/ ||
        die "no apt source entries found to enable deb-src for"
}

# Packages every Debian-family build stage needs (libjpeg-turbo, KasmVNC, Xorg, VirtualGL);
# $@ adds distro-specific ones. KasmVNC >= 1.5 compiles against the ffmpeg headers (Xvnc
# dlopen()s the libraries, see common/build/kasm.sh), VA-API, libcpuid, fmt, oneTBB and libyuv;
# all come from the distro, none from a download.
apt_build_deps() {
    apt-get update
    apt_install ca-certificates curl
    ca_install
    apt_enable_sources
    apt-get update
    apt-get build-dep -y libxfont-dev xorg-server
    apt_install autoconf automake libtool pkg-config make gcc g++ cmake nasm patch \
        xz-utils bzip2 file \
        libssl-dev libjpeg-dev libpng-dev libtiff-dev libgif-dev libwebp-dev \
        libx11-dev libxrandr-dev libxcursor-dev libxtst-dev libxfont-dev libxkbfile-dev \
        libxshmfence-dev libgbm-dev libdrm-dev libgl1-mesa-dri \
        libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libva-dev \
        libcpuid-dev libfmt-dev libtbb-dev libyuv-dev \
        libxext-dev libxv-dev libgl-dev libglu1-mesa-dev libegl-dev libx11-xcb-dev libxcb1-dev \
        libxcb-glx0-dev libxcb-keysyms1-dev ocl-icd-opencl-dev opencl-c-headers "$@"
}

# Node and the kclient native-addon toolchain from the distro ($1 = minimum Node major); also
# runs on the bare base image (build-node stage).
apt_node_distro() {
    apt-get update
    apt_install ca-certificates
    ca_install
    apt_install nodejs npm libnode-dev python3 g++ make libpulse-dev
    node_require "$1"
}

# Node from the pinned tarball plus the addon toolchain (distros whose nodejs is too old).
apt_node_pinned() {
    apt-get update
    apt_install ca-certificates
    ca_install
    apt_install python3 g++ make libpulse-dev
    node_from_tarball build
    node_require 18
}
