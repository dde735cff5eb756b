#!/usr/bin/env bash
# svc-custom: run /etc/helios/services.d/custom.sh as root with the container environment minus
# PASSWORD (plus DISPLAY/XAUTHORITY/PULSE_SERVER for the desktop). It runs as `bash <file>`, so a
# read-only mount without the executable bit works. s6 restarts it whenever it exits.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

CUSTOM="${HELIOS_CUSTOM_SERVICE:-/etc/helios/services.d/custom.sh}"
unset PASSWORD
home="$(user_field 6)"
export DISPLAY=":${HELIOS_DISPLAY_NUM}" XAUTHORITY="${home}/.Xauthority"
export PULSE_SERVER="unix:${HELIOS_PULSE_DIR}/native"
if [[ ! -f "${CUSTOM}" ]]; then
    log "${CUSTOM} does not exist; svc-custom idles"
    exec sleep infinity
fi
exec bash "${CUSTOM}"
