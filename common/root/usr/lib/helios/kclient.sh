#!/usr/bin/env bash
# svc-kclient: the linuxserver kclient page server (127.0.0.1:6900) as the desktop user.
# It records audio from PulseAudio and writes the browser microphone to HELIOS_MIC_FIFO, the FIFO
# of PulseAudio's module-pipe-source (/opt/helios/mic.sock links there too). Ready when port 6900
# accepts connections.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

NOTIFY_FD="${1:-3}"
KCLIENT_DIR="${HELIOS_KCLIENT_DIR:-/opt/helios/kclient}"
/usr/lib/helios/notify-ready.sh "${NOTIFY_FD}" 30 tcp 127.0.0.1 6900
exec {NOTIFY_FD}>&-
home="$(user_field 6)"
export SUBFOLDER="${PREFIX:-/}" TITLE="${TITLE:-Helios}" FM_HOME="${home}"
export PULSE_SERVER="unix:${HELIOS_PULSE_DIR}/native" PULSE_RUNTIME_PATH="${HELIOS_PULSE_DIR}"
export HELIOS_MIC_FIFO="${HELIOS_PULSE_DIR}/mic.sock"
exec /usr/lib/helios/run-as-user.sh node "${KCLIENT_DIR}/index.js"
