#!/usr/bin/env bash
# Rocky Linux 9: build dependencies from BaseOS, AppStream and CRB.
set -euo pipefail
# shellcheck source=common/build/dnf.sh
. "$(dirname "$0")/../../common/build/dnf.sh"

# shellcheck disable=SC2119 # no distro-specific additions
dnf_build_deps
