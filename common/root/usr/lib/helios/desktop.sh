#!/usr/bin/env bash
# svc-desktop: the XFCE session on display :1 as the desktop user, inside its own D-Bus session.
# Ready (and /health's marker written) once the window manager xfwm4 runs for the user.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

NOTIFY_FD="${1:-3}"
uid="$(user_field 3)"
gid="$(user_field 4)"
rm -f "${HELIOS_READY_MARKER}"
runtime="/run/user/${uid}"
install -d -m 0755 /run/user
install -d -m 0700 -o "${uid}" -g "${gid}" "${runtime}"
# xfce4-session's ICE listener socket dir: root-made in world-writable /tmp, never through
# whatever the user may have left there (a symlink would otherwise make root chmod its target).
ensure_shared_dir /tmp/.ICE-unix 1777
/usr/lib/helios/notify-ready.sh -m "${HELIOS_READY_MARKER}" "${NOTIFY_FD}" 60 proc xfwm4
exec {NOTIFY_FD}>&-
# The session's ICE authority lives in the runtime directory root made for it, not in the home:
# a broken ~/.ICEauthority (a link to a file the user cannot read) would stop xfce4-session.
export DISPLAY=":${HELIOS_DISPLAY_NUM}" XDG_RUNTIME_DIR="${runtime}" XDG_SESSION_TYPE=x11 \
    ICEAUTHORITY="${runtime}/ICEauthority" \
    PULSE_SERVER="unix:${HELIOS_PULSE_DIR}/native" PULSE_RUNTIME_PATH="${HELIOS_PULSE_DIR}"
exec /usr/lib/helios/run-as-user.sh dbus-launch --exit-with-session xfce4-session
