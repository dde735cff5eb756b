#!/usr/bin/env bash
# Rocky Linux 9: runtime packages of the final image; nodejs:20 matches the build stage.
set -euo pipefail
# shellcheck source=common/build/dnf-runtime.sh
. "$(dirname "$0")/../../common/build/dnf-runtime.sh"

dnf_runtime 20
