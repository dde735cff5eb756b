#!/usr/bin/env bash
# Kali rolling: Node and the toolchain for the kclient native addon.
set -euo pipefail
# shellcheck source=common/build/apt.sh
. "$(dirname "$0")/../../common/build/apt.sh"

apt_node_distro 18
