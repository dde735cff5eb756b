#!/usr/bin/env bash
# shellcheck disable=SC2034 # constants are used by the scripts that source this file
# Shared helpers for the Helios runtime scripts (sourced, never executed).
# Every message goes to stderr with a "[helios] " prefix so it is easy to find in `docker logs`.
set -euo pipefail

# Where s6-overlay v3 stores the container environment (one file per variable).
HELIOS_ENV_DIR="${HELIOS_ENV_DIR:-/run/s6/container_environment}"
# Runtime state written at boot (generated configs, hashes, readiness marker).
HELIOS_RUN="${HELIOS_RUN:-/run/helios}"
HELIOS_READY_MARKER="${HELIOS_RUN}/desktop-ready"
HELIOS_PULSE_DIR="${HELIOS_RUN}/pulse"
HELIOS_HTPASSWD="${HELIOS_RUN}/htpasswd"
HELIOS_NGINX_CONF="${HELIOS_RUN}/nginx.conf"
HELIOS_DISPLAY_NUM=1
# Largest UID/GID accepted: the top of login.defs' default UID_MAX/GID_MAX range. Higher ids
# (65534 nobody, user-namespace ranges) are reserved.
HELIOS_ID_MAX=60000

log() {
    printf '[helios] %s\n' "$*" >&2
}

die() {
    log "$*"
    exit 1
}

# Exit status used for rejected input (bad environment variables or config lines).
HELIOS_EXIT_INVALID=2

invalid() {
    log "$*"
    exit "${HELIOS_EXIT_INVALID}"
}

# is_true NAME VALUE: "true/1/yes/on" -> 0, "false/0/no/off/<empty>" -> 1, anything else is rejected.
is_true() {
    local name="$1" value="${2,,}"
    case "${value}" in
        true | 1 | yes | on) return 0 ;;
        '' | false | 0 | no | off) return 1 ;;
        *) invalid "${name} must be true or false (also accepted: 1/0, yes/no, on/off), got '${2}'" ;;
    esac
}

# valid_id NAME VALUE: a decimal integer 1..HELIOS_ID_MAX without sign, spaces or leading zeros.
valid_id() {
    local name="$1" value="$2"
    if [[ ! "${value}" =~ ^[1-9][0-9]{0,9}$ ]]; then
        invalid "${name} must be a decimal integer from 1 to ${HELIOS_ID_MAX} (no sign, spaces or leading zeros)"
    fi
    if ((value > HELIOS_ID_MAX)); then
        invalid "${name} must be a decimal integer from 1 to ${HELIOS_ID_MAX}, got ${value}"
    fi
}

# nginx_worker_user: the unprivileged account the distro's nginx package created.
nginx_worker_user() {
    local candidate
    for candidate in www-data nginx; do
        if getent passwd "${candidate}" >/dev/null; then
            printf '%s\n' "${candidate}"
            return 0
        fi
    done
    die "no nginx worker account (www-data or nginx) exists; is nginx installed?"
}

# user_field FIELD: field of the desktop user's passwd entry (1 name, 3 uid, 4 gid, 6 home).
user_field() {
    local entry
    entry="$(getent passwd "${USER:?USER is not set}")" || die "user ${USER} does not exist; did init-user run?"
    cut -d: -f"$1" <<<"${entry}"
}

# raw_env NAME: the variable as this process received it. Needed for UID, which bash itself
# sets to the caller's uid when the environment does not define it. Prints nothing and
# returns 1 when the variable is absent.
raw_env() {
    local name="$1" entry
    while IFS= read -r -d '' entry; do
        if [[ "${entry}" == "${name}="* ]]; then
            printf '%s' "${entry#*=}"
            return 0
        fi
    done </proc/$$/environ
    return 1
}

# --- web edge (init-nginx, kasmvnc, kclient, nginx) ---------------------------------------------
# kclient listens on a unix socket in a directory only the desktop user and nginx's worker group
# can enter; Xvnc's basic-auth file (per-boot credential, see init-nginx.sh) lives in HELIOS_XVNC_DIR.
HELIOS_KCLIENT_DIR_RUN="${HELIOS_RUN}/kclient"
HELIOS_KCLIENT_SOCKET="${HELIOS_KCLIENT_DIR_RUN}/kclient.sock"
HELIOS_XVNC_DIR="${HELIOS_RUN}/xvnc"
HELIOS_XVNC_PASSWD="${HELIOS_XVNC_DIR}/kasmpasswd"

# nginx_worker_group: the primary group of nginx's worker account.
nginx_worker_group() {
    id -gn "$(nginx_worker_user)"
}
