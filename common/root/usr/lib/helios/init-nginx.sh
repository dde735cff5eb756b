#!/usr/bin/env bash
# init-nginx: validate HTTP_PORT, PREFIX and DISABLE_IPV6, render the nginx configuration from
# its template and check it with `nginx -t`. The htpasswd file is written by init-user.
#   HTTP_PORT     default 3000; decimal 1..65535, not 6900/6901 (kclient/Xvnc)
#   PREFIX        default /; starts and ends with /, path segments of [A-Za-z0-9._~-]
#   DISABLE_IPV6  default false; true also when the kernel has no IPv6
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

TEMPLATE="${HELIOS_NGINX_TEMPLATE:-/usr/share/helios/nginx.conf.tmpl}"

validate() {
    HTTP_PORT="${HTTP_PORT:-3000}"
    PREFIX="${PREFIX:-/}"
    if [[ ! "${HTTP_PORT}" =~ ^[1-9][0-9]{0,4}$ ]] || ((HTTP_PORT > 65535)); then
        invalid "HTTP_PORT must be a decimal port number from 1 to 65535, got '${HTTP_PORT}'"
    fi
    if ((HTTP_PORT == 6900 || HTTP_PORT == 6901)); then
        invalid "HTTP_PORT must not be 6900 or 6901 (used by kclient and Xvnc), got ${HTTP_PORT}"
    fi
    if [[ ! "${PREFIX}" =~ ^/([A-Za-z0-9._~-]+/)*$ ]] || [[ "${PREFIX}" =~ (^|/)\.\.?/ ]]; then
        invalid "PREFIX must start and end with / and contain only [A-Za-z0-9._~-] segments (e.g. /desktop/), got '${PREFIX}'"
    fi
    IPV6=true
    if is_true DISABLE_IPV6 "${DISABLE_IPV6:-}"; then
        IPV6=false
    elif ! grep -qs . /proc/net/if_inet6; then
        IPV6=false
        log "IPv6 is not available in this container; nginx listens on IPv4 only"
    fi
}

render() {
    local tmpl v6="" redirect=""
    tmpl="$(<"${TEMPLATE}")"
    if [[ "${IPV6}" == true ]]; then
        v6="        listen [::]:${HTTP_PORT} default_server;"
    fi
    if [[ "${PREFIX}" != / ]]; then
        redirect="        location = / { return 302 ${PREFIX}; }"
    fi
    tmpl="${tmpl//@HTTP_PORT@/${HTTP_PORT}}"
    tmpl="${tmpl//@PREFIX@/${PREFIX}}"
    tmpl="${tmpl//@RUN@/${HELIOS_RUN}}"
    tmpl="${tmpl//@WORKER_USER@/$(nginx_worker_user)}"
    tmpl="${tmpl//@LISTEN_V6@/${v6}}"
    tmpl="${tmpl//@PREFIX_REDIRECT@/${redirect}}"
    printf '%s\n' "${tmpl}"
}

main() {
    validate
    install -d -m 0755 "${HELIOS_RUN}" "${HELIOS_RUN}/nginx"
    render >"${HELIOS_NGINX_CONF}.new"
    mv -f "${HELIOS_NGINX_CONF}.new" "${HELIOS_NGINX_CONF}"
    [[ -f "${HELIOS_HTPASSWD}" ]] || die "${HELIOS_HTPASSWD} is missing; did init-user run?"
    if ! nginx -t -q -e stderr -c "${HELIOS_NGINX_CONF}"; then
        die "nginx rejected the generated ${HELIOS_NGINX_CONF}"
    fi
    log "nginx listens on port ${HTTP_PORT} (prefix ${PREFIX}, IPv6 ${IPV6})"
}

main "$@"
