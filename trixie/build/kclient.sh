#!/usr/bin/env bash
# Debian 13 (trixie): Node and the toolchain for the kclient native addon.
set -euo pipefail
# shellcheck source=common/build/apt.sh
. "$(dirname "$0")/../../common/build/apt.sh"

# trixie ships Node 20.
apt_node_distro 20
