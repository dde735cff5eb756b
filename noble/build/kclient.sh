#!/usr/bin/env bash
# Ubuntu 24.04 (noble): Node and the toolchain for the kclient native addon.
set -euo pipefail
# shellcheck source=common/build/apt.sh
. "$(dirname "$0")/../../common/build/apt.sh"

# noble ships Node 18.
apt_node_distro 18
