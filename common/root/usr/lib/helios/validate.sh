#!/usr/bin/env bash
# init-validate: check every variable and file the runtime reads, after the init hooks (they may
# write configuration) and before anything is created. Each part validates its own input without
# writing anything (`--check`); the first error prints one line naming the variable or file:line
# and the rule, and the container stops with exit status 2.
#   TITLE   default Helios; 1 to 64 characters, no control characters
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

RESULTS_DIR="${HELIOS_RESULTS_DIR:-/run/s6-linux-init-container-results}"
CHECKS=(
    "/usr/lib/helios/init-user.sh --check"
    "/usr/lib/helios/init-nginx.sh --check"
    "/usr/lib/helios/kasmvnc-args.sh --check"
)

validate_title() {
    local title="${TITLE-Helios}"
    ((${#title} >= 1 && ${#title} <= 64)) ||
        invalid "TITLE must be 1 to 64 characters long, got ${#title}"
    [[ "${title}" != *[[:cntrl:]]* ]] || invalid "TITLE must not contain control characters"
}

# The container's exit status: s6-overlay reports it when stage 2 fails.
record_status() {
    { printf '%s\n' "$1" >"${RESULTS_DIR}/exitcode"; } 2>/dev/null || true
}

main() {
    local check status=0
    (validate_title) || status=$?
    for check in "${CHECKS[@]}"; do
        ((status == 0)) || break
        # Word splitting is wanted: each entry is a script and its flag.
        # shellcheck disable=SC2086
        ${check} || status=$?
    done
    if ((status != 0)); then
        record_status "${status}"
        exit "${status}"
    fi
}

main "$@"
