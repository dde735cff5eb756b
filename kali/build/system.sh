#!/usr/bin/env bash
# Kali rolling: runtime packages of the final image (XFCE, pulseaudio, nginx, Node, mesa, VirtualGL).
set -euo pipefail
# shellcheck source=common/build/apt-runtime.sh
. "$(dirname "$0")/../../common/build/apt-runtime.sh"

# t64 library names since the 64-bit time_t transition.
apt_runtime nodejs libssl3t64
