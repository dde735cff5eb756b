#!/usr/bin/env bash
# Debian unstable (sid): build dependencies for libjpeg-turbo, KasmVNC and Xorg.
set -euo pipefail
# shellcheck source=common/build/apt.sh
. "$(dirname "$0")/../../common/build/apt.sh"

# crypt.h (KasmVNC): libc6-dev no longer pulls libcrypt-dev in here, unlike bookworm.
apt_build_deps libxcvt-dev libcrypt-dev
