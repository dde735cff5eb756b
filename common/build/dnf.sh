#!/usr/bin/env bash
# dnf-based build steps (RHEL family: Rocky, Alma 9), sourced by <distro>/build/*.sh.
# shellcheck source=common/build/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dnf_install() {
    dnf install -y --setopt=install_weak_deps=False --nodocs --best "$@"
}

dnf_clean() {
    dnf clean all
    rm -rf /var/cache/dnf /var/cache/yum /var/log/dnf* /var/log/yum* /var/lib/dnf/history*
}

# Build dependencies (libjpeg-turbo, KasmVNC, Xorg, VirtualGL) from the distro's own repos
# (BaseOS, AppStream, CRB); $@ adds more.
dnf_build_deps() {
    ca_install
    dnf_install dnf-plugins-core
    dnf config-manager --set-enabled crb
    dnf_install autoconf automake libtool pkgconf-pkg-config make gcc gcc-c++ cmake nasm patch \
        xz bzip2 file diffutils findutils curl ca-certificates \
        openssl-devel libjpeg-turbo-devel libpng-devel libtiff-devel giflib-devel libwebp-devel \
        zlib-devel bzip2-devel pixman-devel libdrm-devel mesa-libgbm-devel mesa-libGL-devel \
        mesa-libEGL-devel libglvnd-devel libepoxy-devel mesa-dri-drivers libxshmfence-devel \
        libX11-devel libXext-devel libXau-devel libXdmcp-devel libXfont2-devel libxkbfile-devel \
        libXrandr-devel libXtst-devel libXcursor-devel libXi-devel libXrender-devel \
        libXfixes-devel libXdamage-devel libXinerama-devel libXres-devel libXxf86vm-devel \
        libxcb-devel xcb-util-devel xorg-x11-xtrans-devel xorg-x11-proto-devel \
        xorg-x11-util-macros xorg-x11-font-utils xkeyboard-config-devel \
        libpciaccess-devel libunwind-devel libtirpc-devel dbus-devel libselinux-devel \
        libgcrypt-devel nettle-devel libva-devel tbb-devel \
        libXv-devel mesa-libGLU-devel xcb-util-keysyms-devel libstdc++-static ocl-icd-devel \
        opencl-headers "$@"
    # KasmVNC >= 1.5: fmt, libyuv and libcpuid come from EPEL. Its ffmpeg headers are in no EL9
    # repository Helios uses (RPM Fusion is not one): the kasmvnc stage installs the pinned
    # FFmpeg release's headers (common/build/ffmpeg-headers.sh; README.md, Video mode).
    dnf_install epel-release
    dnf_install fmt-devel libyuv-devel libcpuid-devel
}

# Node from the distro's AppStream module stream $1 (e.g. 20) plus the addon toolchain; also
# runs on the bare base image (build-node stage), so it enables CRB as dnf_build_deps does.
dnf_node_module() {
    ca_install
    dnf_install dnf-plugins-core
    dnf config-manager --set-enabled crb
    dnf module reset -y nodejs
    dnf module enable -y "nodejs:$1"
    dnf_install nodejs npm nodejs-devel python3 gcc-c++ make pulseaudio-libs-devel
    node_require "$1"
}
