#!/usr/bin/env bash
# check CHECK [+ CHECK ...]: exit 0 when every check passes (used as a readiness probe).
# Sourced, it only defines check_all: notify-ready polls it in-process (no fork per poll).
#   tcp HOST PORT   something accepts TCP connections on HOST:PORT
#   socket PATH     PATH is a unix socket
#   x11 N           the X server for display :N has its socket
#   proc NAME       a process named NAME runs as the desktop user ($USER)
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

check_tcp() {
    local fd
    # bash's /dev/tcp connect; a refused connection fails at once.
    exec {fd}<>"/dev/tcp/$1/$2" || return 1
    exec {fd}>&-
}

check_proc() {
    local name="$1" uid dir comm owner
    # notify-ready looks the uid up once for all its polls (CHECK_UID).
    uid="${CHECK_UID:-$(user_field 3)}"
    for dir in /proc/[0-9]*; do
        { read -r comm <"${dir}/comm"; } 2>/dev/null || continue
        [[ "${comm}" == "${name}" ]] || continue
        owner="$(stat -c %u "${dir}" 2>/dev/null)" || continue
        [[ "${owner}" == "${uid}" ]] && return 0
    done
    return 1
}

run_check() {
    local kind="$1"
    shift
    case "${kind}" in
        tcp) check_tcp "$1" "$2" 2>/dev/null ;;
        socket) [[ -S "$1" ]] ;;
        x11) [[ -S "/tmp/.X11-unix/X$1" ]] ;;
        proc) check_proc "$1" ;;
        *) die "check: unknown check '${kind}'" ;;
    esac
}

check_all() {
    local -a current=()
    local arg
    for arg in "$@" +; do
        if [[ "${arg}" == + ]]; then
            ((${#current[@]})) || die "check: empty check"
            run_check "${current[@]}" || return 1
            current=()
        else
            current+=("${arg}")
        fi
    done
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    check_all "$@"
fi
