#!/usr/bin/env bash
# init-devices: give the desktop user access to GPU (/dev/dri) and DVB (/dev/dvb) devices.
# For every character device the user joins the device's owning group (a group named
# helios-dev<GID> is created when no group has that GID) and group read/write is added to the
# device only when it is missing. Devices owned by group root (GID 0) are reported, not changed.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

DEVICE_DIRS=("${HELIOS_DEV_ROOT:-/dev}/dri" "${HELIOS_DEV_ROOT:-/dev}/dvb")

group_for_gid() {
    local gid="$1" name
    if name="$(getent group "${gid}")"; then
        printf '%s\n' "${name%%:*}"
        return 0
    fi
    name="helios-dev${gid}"
    groupadd -g "${gid}" "${name}"
    log "created group ${name} (GID ${gid}) for device access"
    printf '%s\n' "${name}"
}

grant() {
    local device="$1" gid mode group
    gid="$(stat -c %g "${device}")"
    if ((gid == 0)); then
        log "${device} belongs to group root; not granting access (pass --group-add or fix its group)"
        return 0
    fi
    group="$(group_for_gid "${gid}")"
    if ! id -nG "${USER}" | tr ' ' '\n' | grep -qxF "${group}"; then
        usermod -a -G "${group}" "${USER}"
        log "added ${USER} to group ${group} for ${device}"
    fi
    mode="$(stat -c %a "${device}")"
    if (((8#${mode} & 8#060) != 8#060)); then
        chmod g+rw "${device}"
        log "added group read/write to ${device}"
    fi
}

main() {
    local dir device
    [[ -n "${USER:-}" ]] || die "USER is not set"
    getent passwd "${USER}" >/dev/null || die "user ${USER} does not exist; did init-user run?"
    for dir in "${DEVICE_DIRS[@]}"; do
        [[ -d "${dir}" ]] || continue
        while IFS= read -r -d '' device; do
            grant "${device}"
        done < <(find "${dir}" -type c -print0 | sort -z)
    done
}

main "$@"
