#!/usr/bin/env bash
# svc-kclient: the linuxserver kclient page server as the desktop user, on the unix socket
# HELIOS_KCLIENT_SOCKET (no TCP port). Its directory, made fresh each start, is owned by the user
# with nginx's worker group (setgid, 2750), so only the user, nginx and root can connect.
# It records audio from PulseAudio and writes the browser microphone to HELIOS_MIC_FIFO, the FIFO
# of PulseAudio's module-pipe-source (/opt/helios/mic.sock links there too). Ready when the socket
# exists.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

NOTIFY_FD="${1:-3}"
KCLIENT_DIR="${HELIOS_KCLIENT_DIR:-/opt/helios/kclient}"
# /run/helios is root's, so nobody else can put anything at this path; rm -rf follows no link.
rm -rf "${HELIOS_KCLIENT_DIR_RUN}"
if rootless; then
    # One uid runs kclient and nginx: the directory and socket are private to it.
    install -d -m 0700 "${HELIOS_KCLIENT_DIR_RUN}"
    socket_umask=0077
else
    install -d -m 2750 -o "$(user_field 3)" -g "$(nginx_worker_group)" "${HELIOS_KCLIENT_DIR_RUN}"
    socket_umask=0007
fi
/usr/lib/helios/notify-ready.sh "${NOTIFY_FD}" 30 socket "${HELIOS_KCLIENT_SOCKET}"
exec {NOTIFY_FD}>&-
home="$(user_field 6)"
export SUBFOLDER="${PREFIX:-/}" TITLE="${TITLE:-Helios}" FM_HOME="${home}"
export PULSE_SERVER="unix:${HELIOS_PULSE_DIR}/native" PULSE_RUNTIME_PATH="${HELIOS_PULSE_DIR}"
export HELIOS_MIC_FIFO="${HELIOS_PULSE_DIR}/mic.sock" HELIOS_KCLIENT_SOCKET
# The socket gets the directory's group; 0770 lets nginx's worker connect (0700 non-root).
umask "${socket_umask}"
exec /usr/lib/helios/run-as-user.sh node "${KCLIENT_DIR}/index.js"
