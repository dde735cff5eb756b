#!/usr/bin/env bash
# Rocky Linux 9: Xvnc on xorg-server $XORG_VERSION (1.20). EL9's gl.pc comes from libglvnd
# (version 1.2), so the configure check for mesa's "gl >= 7.1.0" is lowered.
set -euo pipefail

export XORG_GL_MIN=1.1
exec "$(dirname "$0")/../../common/build/xorg-build.sh"
