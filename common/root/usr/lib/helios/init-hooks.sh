#!/usr/bin/env bash
# init-hooks: run every file in /etc/helios/init.d as root, in lexical (C locale) order, before
# the desktop user exists. Each hook runs as `bash <file>`, so hooks work when mounted read-only
# and without the executable bit. The first hook that fails stops the boot.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

HOOK_DIR="${HELIOS_HOOK_DIR:-/etc/helios/init.d}"

run_hooks() {
    local hook name status
    [[ -d "${HOOK_DIR}" ]] || return 0
    local -a hooks=()
    # Glob results are sorted by the collation of LC_COLLATE; C gives byte order.
    local LC_ALL=C
    for hook in "${HOOK_DIR}"/*; do
        [[ -f "${hook}" ]] && hooks+=("${hook}")
    done
    for hook in "${hooks[@]}"; do
        name="${hook##*/}"
        log "running init hook ${name}"
        status=0
        bash "${hook}" || status=$?
        if ((status != 0)); then
            log "init hook ${name} failed with exit code ${status}"
            exit 1
        fi
    done
}

run_hooks
