#!/usr/bin/env bash
# Debian 13 (trixie): Xvnc on xorg-server $XORG_VERSION with the shared configure flags.
set -euo pipefail

exec "$(dirname "$0")/../../common/build/xorg-build.sh"
