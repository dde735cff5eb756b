#!/usr/bin/env bash
# init-user: validate USER/UID/GID/PASSWORD, then create or update the desktop account, its home,
# groups and password (system shadow + nginx htpasswd), and finally remove the plaintext PASSWORD
# from the s6 container environment so no service inherits it.
#
# Rules (each violation prints one line naming the variable and exits 2 before anything changes):
#   USER      required; ^[a-z_][a-z0-9_-]*$, at most 32 characters; not a system account or group
#             (an entry with id < 1000 or > 60000, or one of the reserved names below)
#   UID       required; decimal 1..60000 without sign or leading zeros; not the uid of a system account
#   GID       optional, defaults to UID; same format as UID
#   PASSWORD  required, non-empty, a single line (any other character is allowed)
# A regular account (uid 1000..60000) that already owns UID under another name (e.g. `ubuntu`
# on noble) is removed (its home directory is kept) and a log line says so.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

RESERVED_NAMES=" root daemon bin sys sync games man lp mail news uucp proxy www-data backup list
 irc gnats nobody nogroup nginx messagebus systemd-network systemd-resolve systemd-timesync
 _apt pulse pulse-access polkitd sshd ssl-cert video render audio input kvm tty disk adm
 users staff shadow utmp wheel operator ftp halt shutdown "
SUPPLEMENTARY_GROUPS=(audio video render ssl-cert)
SNAKEOIL_KEY="${HELIOS_SNAKEOIL_KEY:-/etc/ssl/private/ssl-cert-snakeoil.key}"
SHELL_PATH=/bin/bash

scrub_password() {
    rm -f "${HELIOS_ENV_DIR}/PASSWORD"
}

# --- validation (read-only) -------------------------------------------------------------------

is_system_id() {
    (($1 < 1000 || $1 > HELIOS_ID_MAX))
}

validate_user_name() {
    local entry
    [[ -n "${USER:-}" ]] || invalid "USER is required and must not be empty"
    if [[ ! "${USER}" =~ ^[a-z_][a-z0-9_-]*$ ]]; then
        invalid "USER must match ^[a-z_][a-z0-9_-]*\$ (lowercase letters, digits, _ and -), got '${USER}'"
    fi
    ((${#USER} <= 32)) || invalid "USER must be at most 32 characters long, got ${#USER}"
    if [[ "${RESERVED_NAMES}" == *[[:space:]]"${USER}"[[:space:]]* ]]; then
        invalid "USER must not be a system account name, '${USER}' is reserved"
    fi
    if entry="$(getent passwd "${USER}")" && is_system_id "$(cut -d: -f3 <<<"${entry}")"; then
        invalid "USER must not be a system account name, '${USER}' is a system account"
    fi
    if entry="$(getent group "${USER}")" && is_system_id "$(cut -d: -f3 <<<"${entry}")"; then
        invalid "USER must not be a system group name, '${USER}' is a system group"
    fi
}

validate_ids() {
    local owner
    [[ -n "${UID_VALUE}" ]] || invalid "UID is required and must not be empty"
    valid_id UID "${UID_VALUE}"
    valid_id GID "${GID_VALUE}"
    if owner="$(getent passwd "${UID_VALUE}")"; then
        owner="${owner%%:*}"
        if [[ "${owner}" != "${USER}" ]] && { is_system_id "${UID_VALUE}" ||
            [[ "${RESERVED_NAMES}" == *[[:space:]]"${owner}"[[:space:]]* ]]; }; then
            invalid "UID ${UID_VALUE} belongs to system account ${owner}; choose another UID"
        fi
    fi
}

validate_password() {
    [[ -n "${PASSWORD:-}" ]] || invalid "PASSWORD is required and must not be empty"
    [[ "${PASSWORD}" != *$'\n'* ]] || invalid "PASSWORD must be a single line (it contains a newline)"
}

# --- changes ----------------------------------------------------------------------------------

free_uid() {
    local owner
    owner="$(getent passwd "${UID_VALUE}")" || return 0
    owner="${owner%%:*}"
    [[ "${owner}" != "${USER}" ]] || return 0
    remove_account "${owner}" "to free UID ${UID_VALUE} for ${USER}"
}

# remove_account NAME WHY: delete the account (never its files) and its now-unused private group.
remove_account() {
    local name="$1" why="$2" gid group
    gid="$(getent passwd "${name}" | cut -d: -f4)"
    userdel "${name}" 2>/dev/null || userdel -f "${name}"
    log "removed existing account ${name} ${why} (its files were kept)"
    group="$(getent group "${gid}" | cut -d: -f1)" || return 0
    if [[ "${group}" == "${name}" ]] && ! cut -d: -f4 /etc/passwd | grep -qx "${gid}"; then
        groupdel "${group}"
        log "removed its private group ${group} (GID ${gid})"
    fi
}

ensure_primary_group() {
    local holder
    if holder="$(getent group "${GID_VALUE}")"; then
        holder="${holder%%:*}"
        if [[ "${holder}" != "${USER}" ]]; then
            log "GID ${GID_VALUE} belongs to existing group ${holder}; using it as ${USER}'s primary group"
        fi
        return 0
    fi
    if getent group "${USER}" >/dev/null; then
        groupmod -g "${GID_VALUE}" "${USER}"
        log "changed GID of group ${USER} to ${GID_VALUE}"
    else
        groupadd -g "${GID_VALUE}" "${USER}"
    fi
}

ensure_account() {
    local entry
    if entry="$(getent passwd "${USER}")"; then
        IFS=: read -r _ _ cur_uid cur_gid _ <<<"${entry}"
        if [[ "${cur_uid}" == "${UID_VALUE}" && "${cur_gid}" == "${GID_VALUE}" ]]; then
            usermod -d "${HOME_DIR}" -s "${SHELL_PATH}" "${USER}"
            return 0
        fi
        # usermod -u/-g would chown the whole home; recreate the entry instead.
        remove_account "${USER}" "to change its ids to ${UID_VALUE}:${GID_VALUE}"
        ensure_primary_group
    fi
    useradd -M -N -u "${UID_VALUE}" -g "${GID_VALUE}" -d "${HOME_DIR}" -s "${SHELL_PATH}" "${USER}"
    log "created user ${USER} (uid ${UID_VALUE}, gid ${GID_VALUE})"
}

ensure_home() {
    if [[ -d "${HOME_DIR}" ]]; then
        # Existing home (volume): keep its content, only make the directory itself usable.
        chown "${UID_VALUE}:${GID_VALUE}" "${HOME_DIR}"
        log "kept existing home ${HOME_DIR}"
    else
        install -d -m 0750 -o "${UID_VALUE}" -g "${GID_VALUE}" "${HOME_DIR}"
        if [[ -d /etc/skel ]]; then
            cp -a /etc/skel/. "${HOME_DIR}/"
            # A brand-new home holds only the skeleton, so this touches a handful of files.
            chown -R "${UID_VALUE}:${GID_VALUE}" "${HOME_DIR}"
            chmod 0750 "${HOME_DIR}"
        fi
        log "created home ${HOME_DIR}"
    fi
    install -d -m 0700 -o "${UID_VALUE}" -g "${GID_VALUE}" "${HOME_DIR}/.config" "${HOME_DIR}/.cache"
}

ensure_snakeoil_group() {
    [[ -f "${SNAKEOIL_KEY}" ]] || return 0
    getent group ssl-cert >/dev/null || groupadd -r ssl-cert
    chown root:ssl-cert "${SNAKEOIL_KEY}"
    chmod 0640 "${SNAKEOIL_KEY}"
}

ensure_groups() {
    local group
    local -a present=()
    ensure_snakeoil_group
    for group in "${SUPPLEMENTARY_GROUPS[@]}"; do
        getent group "${group}" >/dev/null && present+=("${group}")
    done
    if ((${#present[@]})); then
        usermod -a -G "$(
            IFS=,
            printf '%s' "${present[*]}"
        )" "${USER}"
    fi
}

# write_root_file PATH OWNER MODE: stdin -> PATH atomically, never readable by others meanwhile.
write_private_file() {
    local path="$1" owner="$2" mode="$3" tmp
    tmp="$(mktemp "${path}.XXXXXX")"
    cat >"${tmp}"
    chown "${owner}" "${tmp}"
    chmod "${mode}" "${tmp}"
    mv -f "${tmp}" "${path}"
}

set_password() {
    local hash worker
    # The plaintext only travels through pipes from bash builtins: never argv, never a file.
    hash="$(printf '%s\n' "${PASSWORD}" | openssl passwd -6 -stdin)"
    [[ "${hash}" == "\$6\$"* ]] || die "openssl passwd -6 did not produce a SHA-512 crypt hash"
    printf '%s:%s\n' "${USER}" "${hash}" | chpasswd -e
    worker="$(nginx_worker_user)"
    install -d -m 0755 "${HELIOS_RUN}"
    printf '%s:%s\n' "${USER}" "${hash}" | write_private_file "${HELIOS_HTPASSWD}" "${worker}:root" 0600
    log "password set for ${USER} (stored as SHA-512 crypt only)"
}

main() {
    umask 077
    UID_VALUE="$(raw_env UID)" || UID_VALUE=""
    GID_VALUE="$(raw_env GID)" || GID_VALUE=""
    [[ -n "${GID_VALUE}" ]] || GID_VALUE="${UID_VALUE}"
    trap scrub_password EXIT
    validate_user_name
    validate_ids
    validate_password
    HOME_DIR="/home/${USER}"
    umask 022
    free_uid
    ensure_primary_group
    ensure_account
    ensure_home
    ensure_groups
    umask 077
    set_password
}

main "$@"
