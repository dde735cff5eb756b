#!/usr/bin/env bash
# init-devices: give the desktop user access to GPU (/dev/dri) and DVB (/dev/dvb) devices through
# groups, never by changing a device node (it may be the host's, through a bind mount).
# For every character device the user joins the device's owning group (a group named
# helios-dev<GID> is created when no group has that GID) unless that group is privileged (root,
# shadow, disk, sudo, adm, wheel, docker, ... see lib.sh). When the user still cannot read and
# write the device, one line says what to change on the host.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

DEVICE_DIRS=("${HELIOS_DEV_ROOT:-/dev}/dri" "${HELIOS_DEV_ROOT:-/dev}/dvb")
HOST_FIX="give the device a dedicated group with read/write on the host (e.g. render or video) and pass it with --device"

# With the account in generated files (read-only /etc), groups are added there.
nss_add_group() {
    printf '%s:x:%s:\n' "$1" "$2" >>"${HELIOS_NSS_DIR}/group"
}

nss_add_member() {
    local file="${HELIOS_NSS_DIR}/group"
    awk -F: -v OFS=: -v group="$1" -v user="${USER}" \
        '$1 == group { $4 = ($4 == "" ? user : $4 "," user) } { print }' "${file}" >"${file}.new"
    mv -f "${file}.new" "${file}"
}

group_for_gid() {
    local gid="$1" name
    if name="$(getent group "${gid}")"; then
        printf '%s\n' "${name%%:*}"
        return 0
    fi
    name="helios-dev${gid}"
    if nss_mode; then
        nss_add_group "${name}" "${gid}"
    else
        groupadd -g "${gid}" "${name}"
    fi
    log "created group ${name} (GID ${gid}) for device access"
    printf '%s\n' "${name}"
}

is_member() {
    id -nG "${USER}" | tr ' ' '\n' | grep -qxF "$1"
}

# join_group DEVICE GID: 0 when the user is (now) in the device's group.
join_group() {
    local device="$1" gid="$2" group
    if ((gid == 0)); then
        log "${device} belongs to group root; not granting access: ${HOST_FIX}"
        return 1
    fi
    group="$(group_for_gid "${gid}")"
    if is_privileged_group "${group}"; then
        log "${device} belongs to privileged group ${group}; not adding ${USER} to it: ${HOST_FIX}"
        return 1
    fi
    if ! is_member "${group}"; then
        if nss_mode; then
            nss_add_member "${group}"
        else
            usermod -a -G "${group}" "${USER}"
        fi
        log "added ${USER} to group ${group} for ${device}"
    fi
}

grant() {
    local device="$1" gid mode
    gid="$(stat -c %g -- "${device}")"
    mode="$(stat -c %a -- "${device}")"
    if (((8#${mode} & 8#006) == 8#006)); then
        return 0 # everyone may read and write it
    fi
    join_group "${device}" "${gid}" || return 0
    if (((8#${mode} & 8#060) != 8#060)); then
        log "${device} (mode ${mode}) gives its group no read/write; ${USER} cannot use it: ${HOST_FIX}"
    fi
}

main() {
    local dir device
    [[ -n "${USER:-}" ]] || die "USER is not set"
    getent passwd "${USER}" >/dev/null || die "user ${USER} does not exist; did init-user run?"
    if rootless; then
        log "not root: device access comes from the container runtime (--group-add, --device, supplementalGroups); nothing changed"
        return 0
    fi
    for dir in "${DEVICE_DIRS[@]}"; do
        [[ -d "${dir}" ]] || continue
        while IFS= read -r -d '' device; do
            grant "${device}"
        done < <(find "${dir}" -type c -print0 | sort -z)
    done
}

main "$@"
