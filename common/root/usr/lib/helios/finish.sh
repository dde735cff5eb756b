#!/usr/bin/env bash
# finish NAME EXIT_CODE [SIGNAL]: the s6 finish step of the Helios longruns. Exit status 2
# (HELIOS_EXIT_INVALID) is what a Helios service script returns when it refuses its configuration;
# restarting it would print the same error forever, so the container stops with status 2 instead.
# (Xvnc, nginx, node and PulseAudio themselves exit 1 on errors; xfce4-session is not covered.)
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

RESULTS_DIR="${HELIOS_RESULTS_DIR:-/run/s6-linux-init-container-results}"
HALT="${HELIOS_HALT:-/run/s6/basedir/bin/halt}"

main() {
    local name="$1" code="${2:-0}"
    case "${name}" in
        svc-kasmvnc | svc-desktop) rm -f "${HELIOS_READY_MARKER}" ;;
    esac
    [[ "${name}" != svc-desktop && "${code}" == "${HELIOS_EXIT_INVALID}" ]] || return 0
    log "${name} refused its configuration (see the line above); stopping the container"
    printf '%s\n' "${code}" >"${RESULTS_DIR}/exitcode"
    exec "${HALT}"
}

main "$@"
