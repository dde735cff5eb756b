#!/usr/bin/env bash
# Debian 12 (bookworm): runtime packages of the final image (XFCE, pulseaudio, nginx, Node, mesa, VirtualGL).
set -euo pipefail
# shellcheck source=common/build/apt-runtime.sh
. "$(dirname "$0")/../../common/build/apt-runtime.sh"

apt_runtime nodejs libssl3
