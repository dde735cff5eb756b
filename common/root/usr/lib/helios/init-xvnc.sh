#!/usr/bin/env bash
# init-xvnc: Xvnc's per-boot credential. Only nginx talks to Xvnc (127.0.0.1:6901): it sends
# "Basic base64(user:secret)", and Xvnc's kasmpasswd file holds user:crypt-sha256(secret, salt
# "kasm"):rw (the format and salt KasmVNC's websocket server checks).
#   HELIOS_XVNC_PASSWD  root:<user's group> 0640 in a fresh root-owned 0750 directory (Xvnc runs
#                       as the user and reads it); the user's own 0600 in a non-root container
#   HELIOS_XVNC_AUTH    the Authorization value, root's 0600 (init-nginx renders it into
#                       nginx.conf); the user's own 0600 in a non-root container
# Its own oneshot (after init-user, before svc-kasmvnc and init-nginx), so Xvnc starts while
# nginx's configuration is made. The secret stays in shell variables and pipes, never in argv.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

# write_file PATH MODE [OWNER]: stdin -> PATH through a fresh PATH.new, never readable by others.
write_file() {
    local path="$1" mode="$2" owner="${3:-}"
    rm -f "${path}.new"
    (umask 077 && cat >"${path}.new")
    [[ -z "${owner}" ]] || chown "${owner}" "${path}.new"
    chmod "${mode}" "${path}.new"
    mv -f "${path}.new" "${path}"
}

main() {
    local user secret hash gid
    user="helios-$(openssl rand -hex 8)"
    secret="$(openssl rand -hex 32)"
    hash="$(printf '%s\n' "${secret}" | openssl passwd -5 -salt kasm -stdin)"
    [[ "${hash}" == "\$5\$kasm\$"* ]] || die "openssl passwd -5 did not produce a SHA-256 crypt hash"
    install -d -m 0755 "${HELIOS_RUN}"
    # /run/helios is root's, so the directory is made fresh and nothing in it is followed.
    rm -rf "${HELIOS_XVNC_DIR}"
    if rootless; then
        # One uid runs everything (Xvnc and nginx): private to it.
        install -d -m 0700 "${HELIOS_XVNC_DIR}"
        printf '%s:%s:rw\n' "${user}" "${hash}" | write_file "${HELIOS_XVNC_PASSWD}" 0600
    else
        gid="$(user_field 4)"
        install -d -m 0750 -o root -g "${gid}" "${HELIOS_XVNC_DIR}"
        printf '%s:%s:rw\n' "${user}" "${hash}" | write_file "${HELIOS_XVNC_PASSWD}" 0640 "root:${gid}"
    fi
    printf '%s:%s' "${user}" "${secret}" | openssl base64 -A | write_file "${HELIOS_XVNC_AUTH}" 0600
}

main "$@"
