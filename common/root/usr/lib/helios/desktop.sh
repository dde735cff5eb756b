#!/usr/bin/env bash
# svc-desktop: the XFCE session on display :1 as the desktop user, inside its own D-Bus session.
# Ready (and /health's marker written) once the window manager xfwm4 runs for the user.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

NOTIFY_FD="${1:-3}"
user_entry
uid="${USER_UID}" gid="${USER_GID}"
rm -f "${HELIOS_READY_MARKER}"
runtime="/run/user/${uid}"
install -d -m 0755 /run/user
install -d -m 0700 -o "${uid}" -g "${gid}" "${runtime}"
# xfce4-session's ICE listener socket dir: root-made in world-writable /tmp, never through
# whatever the user may have left there (a symlink would otherwise make root chmod its target).
ensure_shared_dir /tmp/.ICE-unix 1777
# A broken ~/.config, ~/.cache or ~/.local/share (say a link to a directory the user cannot
# write) would keep XFCE from starting: the session then gets a fresh one in its runtime dir, and
# the log says which. Checked and made as the user: root never looks into the home.
home="${USER_HOME}"
# One check as the user for all three (each run-as-user costs a setpriv and a shell on the path to
# /health): it prints the names whose directory cannot be made or written.
# shellcheck disable=SC2016 # $1 and $rel expand in the user's shell
broken="$(/usr/lib/helios/run-as-user.sh bash -c 'for rel in .config .cache .local/share; do
    mkdir -p "$1/${rel}" 2>/dev/null; [[ -d "$1/${rel}" && -w "$1/${rel}" ]] || printf "%s\n" "${rel}"
done' xdg "${home}")"
for entry in CONFIG:.config CACHE:.cache DATA:.local/share; do
    kind="${entry%%:*}" rel="${entry#*:}"
    grep -qxF -- "${rel}" <<<"${broken}" || continue
    fallback="${runtime}/xdg-${kind,,}"
    /usr/lib/helios/run-as-user.sh mkdir -p -m 0700 "${fallback}"
    export "XDG_${kind}_HOME=${fallback}"
    log "${home}/${rel} is not a writable directory; this session uses ${fallback} instead (fix or remove it)"
done
/usr/lib/helios/notify-ready.sh -m "${HELIOS_READY_MARKER}" "${NOTIFY_FD}" 60 proc xfwm4
exec {NOTIFY_FD}>&-
# The session's ICE authority lives in the runtime directory root made for it, not in the home:
# a broken ~/.ICEauthority (a link to a file the user cannot read) would stop xfce4-session.
export DISPLAY=":${HELIOS_DISPLAY_NUM}" XDG_RUNTIME_DIR="${runtime}" XDG_SESSION_TYPE=x11 \
    ICEAUTHORITY="${runtime}/ICEauthority" \
    PULSE_SERVER="unix:${HELIOS_PULSE_DIR}/native" PULSE_RUNTIME_PATH="${HELIOS_PULSE_DIR}"
exec /usr/lib/helios/run-as-user.sh dbus-launch --exit-with-session xfce4-session
