#!/usr/bin/env bash
# Debian 12 (bookworm): Node and the toolchain for the kclient native addon.
set -euo pipefail
# shellcheck source=common/build/apt.sh
. "$(dirname "$0")/../../common/build/apt.sh"

# bookworm ships Node 18.
apt_node_distro 18
