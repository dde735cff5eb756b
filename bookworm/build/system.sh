#!/usr/bin/env bash
# Debian 12 (bookworm): runtime packages of the final image (XFCE, pulseaudio, nginx, Node, mesa, VirtualGL).
set -euo pipefail
# shellcheck source=common/build/apt-runtime.sh
. "$(dirname "$0")/../../common/build/apt-runtime.sh"

# What Xvnc (KasmVNC 1.5) links besides the shared runtime: oneTBB, libcpuid, fmt, libyuv, VA-API.
apt_runtime nodejs libssl3 libtbb12 libcpuid16 libfmt9 libyuv0 libva2 libva-drm2
