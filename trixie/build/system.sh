#!/usr/bin/env bash
# Debian 13 (trixie): runtime packages of the final image (XFCE, pulseaudio, nginx, Node, mesa, VirtualGL).
set -euo pipefail
# shellcheck source=common/build/apt-runtime.sh
. "$(dirname "$0")/../../common/build/apt-runtime.sh"

# t64 library names (64-bit time_t transition, as in sid). libunwind8: xorg-server's build-deps
# bring libunwind-dev on trixie too, so Xvnc links it.
# What Xvnc (KasmVNC 1.5) links besides the shared runtime: oneTBB, libcpuid, fmt, libyuv, VA-API.
apt_runtime nodejs libssl3t64 libunwind8 libtbb12 libcpuid17 libfmt10 libyuv0 libva2 libva-drm2 libsharpyuv0
