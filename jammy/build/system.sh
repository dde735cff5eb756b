#!/usr/bin/env bash
# Ubuntu 22.04 (jammy): runtime packages of the final image (XFCE, pulseaudio, nginx, Node, mesa, VirtualGL).
set -euo pipefail
# shellcheck source=common/build/apt-runtime.sh
. "$(dirname "$0")/../../common/build/apt-runtime.sh"

# Same pinned Node binary as the build (kclient's native addon needs the same major).
node_from_tarball runtime
# What Xvnc (KasmVNC 1.5) links besides the shared runtime: oneTBB, libcpuid, fmt, libyuv, VA-API.
apt_runtime libssl3 libtbb12 libcpuid15 libfmt8 libyuv0 libva2 libva-drm2
