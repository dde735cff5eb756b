#!/usr/bin/env bash
# init-user: validate USER/UID/GID/PASSWORD, then create or update the desktop account, its home,
# groups and password (system shadow + nginx htpasswd), and finally remove the plaintext PASSWORD
# from the s6 container environment so no service inherits it.
#
# Rules (each violation prints one line naming the variable and exits 2 before anything changes):
#   USER      required; ^[a-z_][a-z0-9_-]*$, at most 32 characters; not a system account or group
#             (an entry with id < 1000 or > 60000, or one of the reserved names below)
#   UID       required; decimal 1..60000 without sign or leading zeros; not the uid of a system account
#   GID       optional, defaults to UID; same format as UID; not an existing system group (id < 1000,
#             a reserved or privileged name) unless it is the user's own group; an unused id is fine
#   PASSWORD / PASSWORD_FILE  exactly one: the password itself, or an absolute path of a file
#             holding it (one line; a trailing newline is dropped); non-empty, a single line
# /home/$USER must be a directory or absent (a symlink there is refused).
#
# Started as a non-root user (docker --user, Kubernetes runAsNonRoot): UID/GID are optional and
# must match the process; no account is created: the account lives in /run/helios/nss (read
# through nss_wrapper), and /home/$USER must already exist and be writable (a volume or tmpfs).
# Root with a read-only /etc (docker --read-only) uses the same generated account files.
#
# `init-user.sh --check` only validates (used by init-validate before anything is created).
# Root never follows a path in the home: the top directory is checked to be no symlink, an id
# change re-owns the tree without following symlinks, and ~/.config, ~/.cache are made as the user.
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
    # A group of that name with a low id is fine only when it is the one this user asks for
    # (made by an earlier boot with an unused GID below 1000).
    if entry="$(getent group "${USER}")" && is_system_id "$(cut -d: -f3 <<<"${entry}")" &&
        [[ "$(cut -d: -f3 <<<"${entry}")" != "${GID_VALUE}" ]]; then
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

validate_gid() {
    local entry name
    entry="$(getent group "${GID_VALUE}")" || return 0
    name="${entry%%:*}"
    [[ "${name}" != "${USER}" ]] || return 0
    if is_system_id "${GID_VALUE}" || is_privileged_group "${name}" ||
        [[ "${RESERVED_NAMES}" == *[[:space:]]"${name}"[[:space:]]* ]]; then
        invalid "GID ${GID_VALUE}${GID_SOURCE} is the system group ${name}; choose an unused GID or a regular group (1000-${HELIOS_ID_MAX})"
    fi
}

# read_password_file PATH: PASSWORD from PATH (one line; one trailing LF or CRLF is dropped).
read_password_file() {
    local file="$1" size content
    [[ "${file}" == /* ]] || invalid "PASSWORD_FILE must be an absolute path, got '${file}'"
    [[ -f "${file}" && -r "${file}" ]] || invalid "PASSWORD_FILE ${file} is not a readable regular file"
    size="$(stat -L -c %s -- "${file}")"
    ((size <= 4096)) || invalid "PASSWORD_FILE ${file} must hold one line, it has ${size} bytes"
    [[ "$(tr -d '\000' <"${file}" | wc -c)" == "${size}" ]] ||
        invalid "PASSWORD_FILE ${file} must not contain NUL bytes"
    content="$(
        cat -- "${file}"
        printf x
    )"
    content="${content%x}"
    content="${content%$'\n'}"
    content="${content%$'\r'}"
    [[ -n "${content}" ]] || invalid "PASSWORD_FILE ${file} is empty"
    [[ "${content}" != *$'\n'* ]] || invalid "PASSWORD_FILE ${file} must hold a single line (it has several)"
    PASSWORD="${content}"
}

validate_password() {
    if [[ -n "${PASSWORD_FILE+set}" ]]; then
        [[ -z "${PASSWORD+set}" ]] || invalid "PASSWORD and PASSWORD_FILE are both set; set exactly one"
        read_password_file "${PASSWORD_FILE}"
        return 0
    fi
    [[ -n "${PASSWORD:-}" ]] || invalid "PASSWORD is required and must not be empty (or set PASSWORD_FILE)"
    [[ "${PASSWORD}" != *$'\n'* ]] || invalid "PASSWORD must be a single line (it contains a newline)"
}

validate_home() {
    if [[ -L "${HOME_DIR}" ]]; then
        invalid "${HOME_DIR} is a symbolic link; the home must be a directory (or a volume mounted there)"
    fi
    if [[ -e "${HOME_DIR}" && ! -d "${HOME_DIR}" ]]; then
        invalid "${HOME_DIR} exists and is not a directory"
    fi
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

# restrict_home: a world-writable home (a fresh tmpfs is 1777) becomes 0750.
restrict_home() {
    if (((8#$(stat -c %a -- "${HOME_DIR}") & 8#002) != 0)); then
        if chmod 0750 -- "${HOME_DIR}" 2>/dev/null; then
            log "${HOME_DIR} was writable by everyone (e.g. a fresh tmpfs); set it to 0750"
        else
            log "warning: ${HOME_DIR} is writable by everyone and not ours to change"
        fi
    fi
}

# adopt_home: an existing home (volume) keeps its content. If it belonged to another non-root uid
# (UID changed), the entries of that uid are re-owned without following any symlink.
adopt_home() {
    local owner count
    owner="$(stat -c %u -- "${HOME_DIR}")"
    if [[ "${owner}" != 0 && "${owner}" != "${UID_VALUE}" ]]; then
        count="$(find "${HOME_DIR}" -xdev -uid "${owner}" \
            -exec chown -h -- "${UID_VALUE}:${GID_VALUE}" {} + -printf . | wc -c)"
        log "re-owned ${count} entries of ${HOME_DIR} from uid ${owner} to ${UID_VALUE} (symlinks not followed)"
    fi
    chown -h -- "${UID_VALUE}:${GID_VALUE}" "${HOME_DIR}"
    restrict_home
    log "kept existing home ${HOME_DIR}"
}

# new_home: made and filled by root while root still owns it, handed to the user at the end.
new_home() {
    install -d -m 0700 "${HOME_DIR}"
    if [[ -d /etc/skel ]]; then
        cp -a /etc/skel/. "${HOME_DIR}/"
    fi
    chown -R -h -- "${UID_VALUE}:${GID_VALUE}" "${HOME_DIR}"
    chmod 0750 "${HOME_DIR}"
    log "created home ${HOME_DIR}"
}

# user_dirs: ~/.config and ~/.cache, made by the user itself (a symlink there is left alone).
user_dirs() {
    # shellcheck disable=SC2016 # expanded by the user's shell
    /usr/lib/helios/run-as-user.sh bash -c '
        for dir in .config .cache; do
            if [[ -L "${dir}" ]]; then
                printf "[helios] ~/%s is a symbolic link; left as it is\n" "${dir}" >&2
            elif [[ ! -e "${dir}" ]]; then
                mkdir -m 0700 "${dir}"
            fi
        done'
}

ensure_home() {
    if [[ -d "${HOME_DIR}" ]]; then
        adopt_home
    else
        new_home
    fi
    user_dirs
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

# write_private_file PATH OWNER MODE: stdin -> PATH atomically, never readable by others meanwhile.
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
    if nss_mode; then
        log "the account of ${USER} is not in /etc (read-only or not root): only the web login has a password"
    else
        printf '%s:%s\n' "${USER}" "${hash}" | chpasswd -e
    fi
    install -d -m 0755 "${HELIOS_RUN}"
    if rootless; then
        # nginx runs as this same user: the file is the user's own.
        printf '%s:%s\n' "${USER}" "${hash}" |
            write_private_file "${HELIOS_HTPASSWD}" "$(id -u):$(id -g)" 0600
    else
        worker="$(nginx_worker_user)"
        # Root-owned, readable by nginx's worker group only: the worker checks it on every request.
        printf '%s:%s\n' "${USER}" "${hash}" |
            write_private_file "${HELIOS_HTPASSWD}" "root:$(id -gn "${worker}")" 0640
    fi
    log "password set for ${USER} (stored as SHA-512 crypt only)"
}

# --- least privilege: the account in generated files ---------------------------------------------

# validate_rootless_ids: UID/GID, when given, must be the ids the container runs with.
validate_rootless_ids() {
    local uid gid
    uid="$(id -u)"
    gid="$(id -g)"
    if [[ -n "${UID_VALUE}" && "${UID_VALUE}" != "${uid}" ]]; then
        invalid "UID ${UID_VALUE} does not match the user this container runs as (uid ${uid}); drop UID or start the container with --user ${UID_VALUE}"
    fi
    if [[ -n "${GID_RAW}" && "${GID_RAW}" != "${gid}" ]]; then
        invalid "GID ${GID_RAW} does not match the group this container runs as (gid ${gid}); drop GID or start the container with --user ${uid}:${GID_RAW}"
    fi
    UID_VALUE="${uid}"
    GID_VALUE="${gid}"
}

# validate_rootless_home: without root the home cannot be made: it must be there and writable.
validate_rootless_home() {
    local hint="mount a volume or a tmpfs owned by uid ${UID_VALUE} there, e.g. --tmpfs ${HOME_DIR}:uid=${UID_VALUE},gid=${GID_VALUE}"
    if [[ ! -d "${HOME_DIR}" && -w /home && ! -L "${HOME_DIR}" ]]; then
        return 0 # made by rootless_home (a writable /home: e.g. a volume with fsGroup)
    fi
    [[ -d "${HOME_DIR}" ]] || invalid "${HOME_DIR} does not exist and /home is not writable by uid ${UID_VALUE}: ${hint}"
    [[ -w "${HOME_DIR}" && -x "${HOME_DIR}" ]] || invalid "${HOME_DIR} is not writable by uid ${UID_VALUE}: ${hint}"
}

# write_nss_files: the image's accounts minus anything holding the user's name or uid, plus the
# user; its primary group (an existing one with that gid, else one named after the user); the
# user joins the supplementary groups that exist.
write_nss_files() {
    local dir="${HELIOS_NSS_DIR}" extra
    extra=" ${SUPPLEMENTARY_GROUPS[*]} "
    install -d -m 0755 "${HELIOS_RUN}" "${dir}"
    awk -F: -v name="${USER}" -v id="${UID_VALUE}" '$1 != name && $3 != id' /etc/passwd >"${dir}/passwd.new"
    printf '%s:x:%s:%s:%s:%s:%s\n' "${USER}" "${UID_VALUE}" "${GID_VALUE}" "${USER}" "${HOME_DIR}" \
        "${SHELL_PATH}" >>"${dir}/passwd.new"
    awk -F: -v OFS=: -v name="${USER}" -v gid="${GID_VALUE}" -v extra="${extra}" '
        $1 == name && $3 != gid { next }
        index(extra, " " $1 " ") { $4 = ($4 == "" ? name : $4 "," name) }
        { print }
        $3 == gid { found = 1 }
        END { if (!found) print name ":x:" gid ":" }
    ' /etc/group >"${dir}/group.new"
    chmod 0644 "${dir}/passwd.new" "${dir}/group.new"
    mv -f "${dir}/passwd.new" "${dir}/passwd"
    mv -f "${dir}/group.new" "${dir}/group"
    use_nss_files
    log "account ${USER} (uid ${UID_VALUE}, gid ${GID_VALUE}) provided through ${dir} (nss_wrapper)"
}

# rootless_home: a fresh (empty) home gets the skeleton; nothing is chowned.
rootless_home() {
    if [[ ! -d "${HOME_DIR}" ]]; then
        mkdir -m 0750 -- "${HOME_DIR}"
        log "created home ${HOME_DIR}"
    fi
    if [[ -z "$(ls -A "${HOME_DIR}")" && -d /etc/skel ]]; then
        cp -a /etc/skel/. "${HOME_DIR}/"
        chmod 0750 -- "${HOME_DIR}" 2>/dev/null || true
        log "filled empty home ${HOME_DIR} from /etc/skel"
    fi
    restrict_home
    user_dirs
}

validate() {
    UID_VALUE="$(raw_env UID)" || UID_VALUE=""
    GID_RAW="$(raw_env GID)" || GID_RAW=""
    GID_VALUE="${GID_RAW}"
    GID_SOURCE=""
    if [[ -z "${GID_VALUE}" ]]; then
        GID_VALUE="${UID_VALUE}"
        GID_SOURCE=" (GID defaults to UID)"
    fi
    if rootless; then
        validate_rootless_ids
    fi
    validate_user_name
    rootless || validate_ids
    rootless || validate_gid
    validate_password
    HOME_DIR="/home/${USER}"
    validate_home
    if rootless; then
        validate_rootless_home
    elif nss_mode && [[ ! -d "${HOME_DIR}" && ! -w /home ]]; then
        invalid "${HOME_DIR} does not exist and /home is read-only: mount a volume or a tmpfs at ${HOME_DIR}"
    fi
}

# setup_account: the account, its groups and its home, in /etc or in the generated files.
setup_account() {
    if rootless; then
        write_nss_files
        rootless_home
        return 0
    fi
    rm -rf "${HELIOS_NSS_DIR}"
    if nss_mode; then
        write_nss_files
    else
        free_uid
        ensure_primary_group
        ensure_account
    fi
    ensure_home
    nss_mode || ensure_groups
}

main() {
    umask 077
    if [[ "${1:-}" == --check ]]; then
        validate
        return 0
    fi
    trap scrub_password EXIT
    validate
    umask 022
    setup_account
    umask 077
    set_password
}

main "$@"
