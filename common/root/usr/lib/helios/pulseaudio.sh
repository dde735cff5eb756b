#!/usr/bin/env bash
# svc-pulseaudio: the single PulseAudio daemon of the container, in the foreground as the user.
# Runtime dir /run/helios/pulse (socket "native", mic FIFO "mic.sock"); clients use PULSE_SERVER.
# Ready when the native socket exists (it is created after every module in pulse.pa loaded).
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

NOTIFY_FD="${1:-3}"
user_entry
uid="${USER_UID}" gid="${USER_GID}"
install -d -m 0755 "${HELIOS_RUN}"
rm -rf "${HELIOS_PULSE_DIR}"
install -d -m 0700 -o "${uid}" -g "${gid}" "${HELIOS_PULSE_DIR}"
/usr/lib/helios/notify-ready.sh "${NOTIFY_FD}" 30 socket "${HELIOS_PULSE_DIR}/native"
exec {NOTIFY_FD}>&-
export PULSE_RUNTIME_PATH="${HELIOS_PULSE_DIR}" PULSE_STATE_PATH="${HELIOS_PULSE_DIR}/state"
unset PULSE_SERVER
# No realtime/high priority: both ask rtkit on the system bus, which a container does not have.
exec /usr/lib/helios/run-as-user.sh pulseaudio --daemonize=no --system=no --exit-idle-time=-1 \
    --use-pid-file=no --disallow-exit=yes --realtime=no --high-priority=no --log-target=stderr \
    -n -F /etc/helios/pulse.pa
