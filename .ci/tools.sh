#!/usr/bin/env bash
# Installs the host tools the lint and container tiers need (idempotent): mmdebstrap for the
# Debian base images and chromium for the screenshot checker test (lint tools: the lint extra).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
    require_root
    debian_major >/dev/null
    apt_install ca-certificates mmdebstrap chromium
}

main "$@"
