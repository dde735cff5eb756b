#!/usr/bin/env bash
# Ubuntu 22.04 (jammy): Node and the toolchain for the kclient native addon.
set -euo pipefail
# shellcheck source=common/build/apt.sh
. "$(dirname "$0")/../../common/build/apt.sh"

# jammy ships Node 12 (too old): use the pinned Node binary from the sources manifest.
apt_node_pinned
