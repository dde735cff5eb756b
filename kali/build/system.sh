#!/usr/bin/env bash
# Kali rolling: runtime packages of the final image (XFCE, pulseaudio, nginx, Node, mesa, VirtualGL).
set -euo pipefail
# shellcheck source=common/build/apt-runtime.sh
. "$(dirname "$0")/../../common/build/apt-runtime.sh"

# t64 library names since the 64-bit time_t transition.
# What Xvnc (KasmVNC 1.5) links besides the shared runtime: oneTBB, libcpuid, fmt, libyuv, VA-API.
apt_runtime nodejs libssl3t64 libtbb12 libcpuid18 libfmt11 libyuv0 libva2 libva-drm2 libsharpyuv0
