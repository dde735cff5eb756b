#!/usr/bin/env bash
# svc-kasmvnc: Xvnc for display :1 in the foreground, as the desktop user, supervised by s6.
# Arguments come from kasmvnc-args.sh (fixed settings + /etc/kasm/kasmvnc.conf + DRI).
# A fresh MIT-MAGIC-COOKIE in ~/.Xauthority protects the display; the websocket port 6901
# (127.0.0.1) needs the per-boot credential init-xvnc wrote to HELIOS_XVNC_PASSWD (only nginx
# knows the password). Ready when the X socket exists and port 6901 accepts connections.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

NOTIFY_FD="${1:-3}"
display=":${HELIOS_DISPLAY_NUM}"
home="$(user_field 6)"
rm -f "${HELIOS_READY_MARKER}"
# A bad settings line must stop the service, so no process substitution (its status is lost).
arg_lines="$(/usr/lib/helios/kasmvnc-args.sh)"
mapfile -t args <<<"${arg_lines}"
[[ -r "${HELIOS_XVNC_PASSWD}" ]] || die "${HELIOS_XVNC_PASSWD} is missing; did init-xvnc run?"
# A previous Xvnc that died leaves its lock and socket behind; Xvnc refuses to start with them.
# /tmp is world-writable: the socket directory is made root's first (never through a planted
# link), then the stale entries in it are removed (rm unlinks, it follows no link).
ensure_shared_dir /tmp/.X11-unix 1777
rm -f "/tmp/.X${HELIOS_DISPLAY_NUM}-lock" "/tmp/.X11-unix/X${HELIOS_DISPLAY_NUM}"
cookie="$(openssl rand -hex 16)"
# In the home, as the user: root never acts on a path there. One run-as-user for both steps
# (each costs a setpriv and a shell on the path to /health).
# shellcheck disable=SC2016 # $1 expands in the user's shell
printf 'add %s . %s\n' "${display}" "${cookie}" |
    /usr/lib/helios/run-as-user.sh bash -c 'rm -f "$1" && exec xauth -q -f "$1" source -' \
        xauth "${home}/.Xauthority"
unset cookie
/usr/lib/helios/notify-ready.sh "${NOTIFY_FD}" 60 x11 "${HELIOS_DISPLAY_NUM}" + tcp 127.0.0.1 6901
exec {NOTIFY_FD}>&-
# Idle Xvnc must not spin its OpenMP threads.
export OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=0
log "starting Xvnc ${args[*]}"
exec /usr/lib/helios/run-as-user.sh Xvnc "${args[@]}" -auth "${home}/.Xauthority"
