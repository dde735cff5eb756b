#!/usr/bin/env bash
# Installs the host tools the lint and container tiers need (idempotent): mmdebstrap for the
# Debian base images, shellcheck and shfmt for lint, chromium for the screenshot checker test.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
    require_root
    debian_major >/dev/null
    apt_install ca-certificates mmdebstrap shellcheck shfmt chromium
}

main "$@"
