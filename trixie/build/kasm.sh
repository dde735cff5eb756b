#!/usr/bin/env bash
# Debian 13 (trixie): build dependencies for libjpeg-turbo, KasmVNC and Xorg.
set -euo pipefail
# shellcheck source=common/build/apt.sh
. "$(dirname "$0")/../../common/build/apt.sh"

apt_build_deps libxcvt-dev
