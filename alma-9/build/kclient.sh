#!/usr/bin/env bash
# AlmaLinux 9: Node 20 from the distro's AppStream module plus the kclient addon toolchain.
set -euo pipefail
# shellcheck source=common/build/dnf.sh
. "$(dirname "$0")/../../common/build/dnf.sh"

dnf_node_module 20
