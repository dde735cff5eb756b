#!/usr/bin/env bash
# Debian unstable (sid): runtime packages of the final image (XFCE, pulseaudio, nginx, Node, mesa, VirtualGL).
set -euo pipefail
# shellcheck source=common/build/apt-runtime.sh
. "$(dirname "$0")/../../common/build/apt-runtime.sh"

# t64 library names since the 64-bit time_t transition. libunwind8: xorg-server's configure
# finds libunwind among sid's build-deps, so Xvnc links it.
apt_runtime nodejs libssl3t64 libunwind8
