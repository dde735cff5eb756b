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
# Identity files for the desktop user when /etc cannot hold it (started non-root, or root with a
# read-only /etc): a passwd/group pair in /run, read through nss_wrapper (LD_PRELOAD).
HELIOS_NSS_DIR="${HELIOS_RUN}/nss"
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
    local -a fields
    entry="$(getent passwd "${USER:?USER is not set}")" || die "user ${USER} does not exist; did init-user run?"
    # Split with read, not cut: one process less on every service's path to /health.
    IFS=: read -r -a fields <<<"${entry}"
    printf '%s\n' "${fields[$1 - 1]:-}"
}

# user_entry: the desktop user's passwd entry in USER_UID, USER_GID and USER_HOME with one lookup
# (scripts that need several fields; user_field costs a getent each).
user_entry() {
    local entry name
    entry="$(getent passwd "${USER:?USER is not set}")" || die "user ${USER} does not exist; did init-user run?"
    IFS=: read -r name _ USER_UID USER_GID _ USER_HOME _ <<<"${entry}"
    [[ -n "${name}" && -n "${USER_UID}" && -n "${USER_GID}" ]] || die "user ${USER} has a malformed passwd entry"
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

# --- paths the desktop user can influence -------------------------------------------------------
# Root never follows a path the user controls: directories the user can write to are entered only
# as the user (run-as-user.sh), and root-made directories in world-writable places (/tmp) are
# made with mkdir, which never follows a symlink, after removing whatever the user put there.

# Groups that grant more than device access; nobody joins them through GID or a device's group.
HELIOS_PRIVILEGED_GROUPS=" root wheel sudo admin adm shadow disk kmem tty docker lxd libvirt
 systemd-journal staff utmp operator sys bin daemon "

# is_privileged_group NAME: 0 when NAME is one of HELIOS_PRIVILEGED_GROUPS.
is_privileged_group() {
    [[ "${HELIOS_PRIVILEGED_GROUPS}" == *[[:space:]]"$1"[[:space:]]* ]]
}

# root_owned_dir PATH: 0 when PATH itself (not a symlink target) is a directory owned by root.
root_owned_dir() {
    [[ ! -L "$1" && -d "$1" && "$(stat -c %u -- "$1")" == 0 ]]
}

# ensure_shared_dir PATH MODE: PATH becomes a root-owned directory with MODE (e.g. /tmp/.X11-unix
# 1777). A symlink, file or directory of someone else in its place is removed first (logged);
# if something reappears before mkdir, the boot stops instead of using it.
ensure_shared_dir() {
    local path="$1" mode="$2"
    if rootless; then
        # One uid in the whole container: there is nobody to protect the directory from.
        [[ -d "${path}" && ! -L "${path}" ]] || mkdir -m "${mode}" -- "${path}"
        return 0
    fi
    if root_owned_dir "${path}"; then
        chmod -- "${mode}" "${path}"
        return 0
    fi
    if [[ -e "${path}" || -L "${path}" ]]; then
        log "removing ${path}: expected a root-owned directory, found $(stat -c '%F owned by uid %u' -- "${path}")"
        rm -rf -- "${path}"
    fi
    mkdir -m "${mode}" -- "${path}" || die "could not create ${path} (something else took its place)"
    root_owned_dir "${path}" || die "${path} is not a root-owned directory after mkdir; refusing to use it"
}

# --- least privilege: started as a non-root user, or with a read-only /etc ------------------------

# rootless: 0 when the container runs as a user other than root (docker --user, Kubernetes
# runAsNonRoot, OpenShift's arbitrary UIDs): no account is created and nothing is chowned.
rootless() {
    ((EUID != 0))
}

# nss_mode: 0 when the desktop account lives in HELIOS_NSS_DIR instead of /etc/passwd.
nss_mode() {
    rootless || [[ ! -w /etc/passwd ]]
}

# nss_wrapper's library, wherever the distro installs it.
nss_wrapper_lib() {
    local lib
    for lib in /usr/lib/*/libnss_wrapper.so /usr/lib64/libnss_wrapper.so /usr/lib/libnss_wrapper.so; do
        if [[ -e "${lib}" ]]; then
            printf '%s\n' "${lib}"
            return 0
        fi
    done
    return 1
}

# use_nss_files: once init-user wrote them, every Helios script (and what it starts) resolves the
# desktop user through the generated files.
use_nss_files() {
    local lib
    [[ -s "${HELIOS_NSS_DIR}/passwd" && -s "${HELIOS_NSS_DIR}/group" ]] || return 0
    lib="$(nss_wrapper_lib)" || die "nss_wrapper is not installed (libnss_wrapper.so not found)"
    export LD_PRELOAD="${lib}" NSS_WRAPPER_PASSWD="${HELIOS_NSS_DIR}/passwd" \
        NSS_WRAPPER_GROUP="${HELIOS_NSS_DIR}/group"
}

use_nss_files

# --- web edge (init-nginx, kasmvnc, kclient, nginx) ---------------------------------------------
# kclient listens on a unix socket in a directory only the desktop user and nginx's worker group
# can enter; Xvnc's basic-auth file (per-boot credential, see init-xvnc.sh) lives in HELIOS_XVNC_DIR,
# and the Authorization value nginx sends with it in HELIOS_XVNC_AUTH (root's, 0600).
HELIOS_KCLIENT_DIR_RUN="${HELIOS_RUN}/kclient"
HELIOS_KCLIENT_SOCKET="${HELIOS_KCLIENT_DIR_RUN}/kclient.sock"
HELIOS_XVNC_DIR="${HELIOS_RUN}/xvnc"
HELIOS_XVNC_PASSWD="${HELIOS_XVNC_DIR}/kasmpasswd"
HELIOS_XVNC_AUTH="${HELIOS_RUN}/xvnc-auth"

# nginx_worker_group: the primary group of nginx's worker account.
nginx_worker_group() {
    id -gn "$(nginx_worker_user)"
}
