#!/usr/bin/env bash
# Debian unstable (sid): Xvnc on xorg-server $XORG_VERSION. GCC 15 defaults to C23, where bool/true/false
# are keywords that the 21.1 tree still defines itself: build it as C17.
set -euo pipefail

export CFLAGS="${CFLAGS:--g -O2} -std=gnu17"
exec "$(dirname "$0")/../../common/build/xorg-build.sh"
