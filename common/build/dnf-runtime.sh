#!/usr/bin/env bash
# dnf-based runtime steps of the final image, sourced by <distro>/build/system.sh.
# shellcheck source=common/build/dnf.sh
. "$(dirname "${BASH_SOURCE[0]}")/dnf.sh"
# shellcheck source=common/build/runtime.sh
. "$(dirname "${BASH_SOURCE[0]}")/runtime.sh"

# The runtime every RHEL-family image needs; $1 = nodejs module stream (same as the build's),
# further arguments = distro-specific additions.
# XFCE is only packaged in EPEL (epel-release comes from the distro's own extras repo), as are
# fmt, libyuv and libcpuid, which Xvnc links since KasmVNC 1.5 (with tbb and libva).
dnf_runtime() {
    local stream=$1
    shift
    ca_install
    dnf_install epel-release dnf-plugins-core
    dnf config-manager --set-enabled crb
    dnf module reset -y nodejs
    dnf module enable -y "nodejs:$stream"
    dnf_install --allowerasing bash coreutils util-linux shadow-utils passwd openssl curl procps-ng \
        nginx pulseaudio pulseaudio-utils dbus-x11 xorg-x11-xauth xrandr xset xkbcomp \
        xkeyboard-config xfce4-session xfwm4 xfce4-panel xfdesktop xfce4-settings xfconf \
        xfce4-terminal Thunar adwaita-icon-theme dejavu-sans-fonts dejavu-sans-mono-fonts \
        mesa-dri-drivers libglvnd-glx mesa-libGL mesa-libEGL mesa-libgbm libgomp libwebp freetype \
        libXfont2 pixman libxshmfence libxkbfile pulseaudio-libs nss_wrapper-libs nodejs \
        libXtst libXv mesa-libGLU libglvnd-egl tbb fmt libyuv libcpuid libva "$@"
    dnf config-manager --set-disabled crb
    dnf remove -y epel-release dnf-plugins-core || true
    ca_remove
    dnf_clean
    rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/* /tmp/* 2>/dev/null || true
    runtime_checks
}

runtime_checks() {
    local bad
    # cpp may stay (xrdb uses it); compiler drivers, make and -devel packages may not.
    bad=$(rpm -qa --qf '%{NAME}\n' | grep -E -e '-devel$' -e '^(gcc|gcc-c\+\+|make|cmake)$' || true)
    [ -z "$bad" ] || die "toolchain or -devel packages in the runtime image: $(echo "$bad" | tr '\n' ' ')"
    missing_libs
    virtualgl_present
    node_matches_kclient
}
