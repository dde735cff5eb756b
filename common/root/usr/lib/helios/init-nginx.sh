#!/usr/bin/env bash
# init-nginx [--check]: validate the web settings; without --check also make this boot's backend
# secrets, the TLS pair (first boot) and the nginx configuration, and check it with `nginx -t`.
# --check validates only: it writes nothing and prints nothing when the settings are valid.
# The htpasswd file is written by init-user.
#   HTTP_PORT        default 3000; decimal 1..65535, not 6901 (Xvnc, internal)
#   HTTPS_PORT       default 3001; 0 disables HTTPS; else like HTTP_PORT and not equal to it
#   PREFIX           default /; starts and ends with /, path segments of [A-Za-z0-9._~-]
#   DISABLE_IPV6     default false; true also when the kernel has no IPv6
#   TLS_CERT/TLS_KEY both or neither; a readable PEM certificate and its (unencrypted) key.
#                    Neither: a self-signed pair made at first boot in HELIOS_TLS_DIR (kept).
#   ALLOWED_ORIGINS  space/comma separated scheme://host[:port] origins (http or https) whose
#                    pages may open the desktop's websockets besides the desktop's own origin
# Per boot, nginx.conf (root-only) gets Xvnc's credential, which init-xvnc made just before (a
# hash of it is in Xvnc's kasmpasswd file), and a random throttle-exemption cookie; neither is logged.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

TEMPLATE="${HELIOS_NGINX_TEMPLATE:-/usr/share/helios/nginx.conf.tmpl}"
TLS_DIR="${HELIOS_TLS_DIR:-/var/lib/helios/tls}"
XVNC_PORT=6901
# Login throttle (per client address; requests with a password but without the session cookie):
# bursts of 30 pass at once, then one request every 2 s. README "Login throttling" has the numbers.
THROTTLE_RATE=30r/m
THROTTLE_BURST=30

# --- validation (read-only) -------------------------------------------------------------------

valid_port() {
    local name="$1" value="$2"
    if [[ ! "${value}" =~ ^[1-9][0-9]{0,4}$ ]] || ((value > 65535)); then
        invalid "${name} must be a decimal port number from 1 to 65535, got '${value}'"
    fi
    if ((value == XVNC_PORT)); then
        invalid "${name} must not be ${XVNC_PORT} (Xvnc's internal port), got ${value}"
    fi
}

validate_ports() {
    HTTP_PORT="${HTTP_PORT:-3000}"
    HTTPS_PORT="${HTTPS_PORT:-3001}"
    valid_port HTTP_PORT "${HTTP_PORT}"
    if [[ "${HTTPS_PORT}" != 0 ]]; then
        if [[ ! "${HTTPS_PORT}" =~ ^[1-9][0-9]{0,4}$ ]] || ((HTTPS_PORT > 65535)); then
            invalid "HTTPS_PORT must be 0 (no HTTPS) or a decimal port number from 1 to 65535, got '${HTTPS_PORT}'"
        fi
        valid_port HTTPS_PORT "${HTTPS_PORT}"
        ((HTTPS_PORT != HTTP_PORT)) ||
            invalid "HTTPS_PORT must differ from HTTP_PORT, both are ${HTTP_PORT}"
    fi
}

validate_prefix() {
    PREFIX="${PREFIX:-/}"
    if [[ ! "${PREFIX}" =~ ^/([A-Za-z0-9._~-]+/)*$ ]] || [[ "${PREFIX}" =~ (^|/)\.\.?/ ]]; then
        invalid "PREFIX must start and end with / and contain only [A-Za-z0-9._~-] segments (e.g. /desktop/), got '${PREFIX}'"
    fi
}

validate_ipv6() {
    IPV6=true
    if is_true DISABLE_IPV6 "${DISABLE_IPV6:-}"; then
        IPV6=false
    elif ! grep -qs . /proc/net/if_inet6; then
        IPV6=false
        IPV6_MISSING=true
    fi
}

# validate_tls: TLS_CERT/TLS_KEY are both set or both unset; when set, a certificate and the
# private key of its public key. openssl reads the files itself (paths only in its arguments).
validate_tls() {
    local cert="${TLS_CERT:-}" key="${TLS_KEY:-}" cert_pub key_pub
    if [[ -z "${cert}" && -z "${key}" ]]; then
        return 0
    fi
    [[ -n "${cert}" ]] || invalid "TLS_CERT must be set together with TLS_KEY (both or neither)"
    [[ -n "${key}" ]] || invalid "TLS_KEY must be set together with TLS_CERT (both or neither)"
    [[ "${HTTPS_PORT}" != 0 ]] ||
        invalid "TLS_CERT and TLS_KEY need HTTPS, but HTTPS_PORT is 0 (HTTPS disabled)"
    local name file
    for name in TLS_CERT TLS_KEY; do
        file="${!name}"
        [[ "${file}" == /* ]] || invalid "${name} must be an absolute path, got '${file}'"
        [[ -f "${file}" && -r "${file}" ]] || invalid "${name} must be a readable file, '${file}' is not"
    done
    cert_pub="$(openssl x509 -noout -pubkey -in "${cert}" 2>/dev/null)" ||
        invalid "TLS_CERT must be a PEM certificate, openssl x509 cannot read '${cert}'"
    key_pub="$(openssl pkey -pubout -passin pass: -in "${key}" 2>/dev/null)" ||
        invalid "TLS_KEY must be an unencrypted PEM private key, openssl pkey cannot read '${key}'"
    [[ "${cert_pub}" == "${key_pub}" ]] ||
        invalid "TLS_KEY must be the private key of TLS_CERT's public key, '${key}' does not match '${cert}'"
}

# normalize_origin ORIGIN: print the origin as browsers send it (lowercase, no default port) or
# fail. Hosts: DNS names, IPv4 addresses or [IPv6] literals.
normalize_origin() {
    local origin="${1,,}" scheme host port
    local label='[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?'
    local re="^(https?)://(${label}(\\.${label})*|\\[[0-9a-f:.]+\\])(:([1-9][0-9]{0,4}))?\$"
    [[ "${origin}" =~ ${re} ]] || return 1
    scheme="${BASH_REMATCH[1]}" host="${BASH_REMATCH[2]}" port="${BASH_REMATCH[7]}"
    if [[ -n "${port}" ]]; then
        ((port <= 65535)) || return 1
        if [[ "${scheme}:${port}" == http:80 || "${scheme}:${port}" == https:443 ]]; then
            port=""
        fi
    fi
    printf '%s://%s%s\n' "${scheme}" "${host}" "${port:+:${port}}"
}

validate_origins() {
    local raw="${ALLOWED_ORIGINS:-}" entry normal
    ORIGINS=()
    raw="${raw//,/ }"
    for entry in ${raw}; do
        normal="$(normalize_origin "${entry}")" ||
            invalid "ALLOWED_ORIGINS entries must be scheme://host[:port] with scheme http or https and no path (e.g. https://desk.example.com:8443), got '${entry}'"
        ORIGINS+=("${normal}")
    done
}

validate() {
    IPV6_MISSING=false
    validate_ports
    validate_prefix
    validate_ipv6
    validate_tls
    validate_origins
}

# --- rendering ----------------------------------------------------------------------------------

# render_template FILE NAME=VALUE...: FILE with every @NAME@ replaced by its VALUE, in one pass
# (a value is never scanned again) and without bash's pattern substitution, whose replacement
# string treats & (patsub_replacement, bash 5.2) and backslashes specially. An @NAME@ without a
# value is an error, so the template and this script cannot drift apart silently.
render_template() {
    local file="$1" rest out="" name pair
    shift
    local -A values=()
    for pair in "$@"; do
        values["${pair%%=*}"]="${pair#*=}"
    done
    rest="$(<"${file}")"
    while [[ "${rest}" =~ @([A-Z][A-Z0-9_]*)@ ]]; do
        name="${BASH_REMATCH[1]}"
        [[ -n "${values[${name}]+set}" ]] || die "${file}: no value for @${name}@"
        out+="${rest%%"@${name}@"*}${values[${name}]}"
        rest="${rest#*"@${name}@"}"
    done
    printf '%s%s\n' "${out}" "${rest}"
}

listen_lines() {
    local port
    printf '        listen %s default_server;\n' "${HTTP_PORT}"
    [[ "${IPV6}" == false ]] || printf '        listen [::]:%s default_server;\n' "${HTTP_PORT}"
    [[ "${HTTPS_PORT}" != 0 ]] || return 0
    port="${HTTPS_PORT}"
    printf '        listen %s ssl default_server;\n' "${port}"
    [[ "${IPV6}" == false ]] || printf '        listen [::]:%s ssl default_server;\n' "${port}"
    printf '        ssl_certificate %s;\n        ssl_certificate_key %s;\n' "${CERT_FILE}" "${KEY_FILE}"
    printf '        ssl_protocols TLSv1.2 TLSv1.3;\n        ssl_session_cache shared:helios_tls:1m;'
}

# Map lines accepting each ALLOWED_ORIGINS entry (regex-escaped: only . [ ] need it).
origin_lines() {
    local origin escaped sep=""
    for origin in "${ORIGINS[@]}"; do
        escaped="${origin//./\\.}"
        escaped="${escaped//\[/\\[}"
        escaped="${escaped//\]/\\]}"
        printf '%s        "~*^%s\\|" 1;' "${sep}" "${escaped}"
        sep=$'\n'
    done
}

# nginx's `user` line: workers drop to the distro's nginx account when the master is root; in a
# non-root container there is nobody to drop to (nginx would ignore the line with a warning).
worker_line() {
    if rootless; then
        printf '# non-root container: the workers run as the container user'
    else
        printf 'user %s;' "$(nginx_worker_user)"
    fi
}

render() {
    local redirect=""
    if [[ "${PREFIX}" != / ]]; then
        redirect="        location = / { return 302 ${PREFIX}; }"
    fi
    render_template "${TEMPLATE}" \
        "HTTPS_PORT=${HTTPS_PORT}" \
        "PREFIX=${PREFIX}" \
        "RUN=${HELIOS_RUN}" \
        "HTPASSWD=${HELIOS_HTPASSWD}" \
        "KCLIENT_SOCKET=${HELIOS_KCLIENT_SOCKET}" \
        "WORKER=$(worker_line)" \
        "LISTEN=$(listen_lines)" \
        "ALLOWED_ORIGINS=$(origin_lines)" \
        "PREFIX_REDIRECT=${redirect}" \
        "THROTTLE_RATE=${THROTTLE_RATE}" \
        "THROTTLE_BURST=${THROTTLE_BURST}" \
        "COOKIE_NAME=${COOKIE_NAME}" \
        "SESSION=${SESSION}" \
        "XVNC_AUTH=${XVNC_AUTH}"
}

# --- per-boot secrets and TLS -------------------------------------------------------------------

# Per-boot web secrets: the session cookie's name and value, and the Authorization value nginx
# sends to Xvnc (made by init-xvnc, read here from its root-only file). They stay in shell
# variables and nginx.conf (root, 0600), never in argv.
make_secrets() {
    [[ -r "${HELIOS_XVNC_AUTH}" ]] || die "${HELIOS_XVNC_AUTH} is missing; did init-xvnc run?"
    XVNC_AUTH="$(<"${HELIOS_XVNC_AUTH}")"
    [[ "${XVNC_AUTH}" =~ ^[A-Za-z0-9+/]+=*$ ]] || die "${HELIOS_XVNC_AUTH} does not hold a base64 credential"
    COOKIE_NAME="helios_$(openssl rand -hex 4)"
    SESSION="$(openssl rand -hex 32)"
}

# pair_matches CERT KEY: both readable by openssl and KEY is the private key of CERT.
pair_matches() {
    local cert_pub key_pub
    cert_pub="$(openssl x509 -noout -pubkey -in "$1" 2>/dev/null)" || return 1
    key_pub="$(openssl pkey -pubout -passin pass: -in "$2" 2>/dev/null)" || return 1
    [[ "${cert_pub}" == "${key_pub}" ]]
}

# tls_dir: TLS_DIR made (0700, root's when root), or ${HELIOS_RUN}/tls when TLS_DIR cannot be
# written (read-only root filesystem, non-root start): the pair is then made anew at each boot.
tls_dir() {
    local dir="${TLS_DIR}"
    if ! { [[ -d "${dir}" && -w "${dir}" ]] || install -d -m 0700 "${dir}" 2>/dev/null; }; then
        dir="${HELIOS_RUN}/tls"
        log "${TLS_DIR} is not writable: the self-signed certificate lives in ${dir} and is made anew at each boot (mount a volume at ${TLS_DIR} to keep it)"
        rm -rf "${dir}"
        install -d -m 0700 "${dir}"
    fi
    chmod 0700 "${dir}"
    printf '%s\n' "${dir}"
}

# A self-signed pair for this container, made once and kept in TLS_DIR (the container's own
# filesystem: a new container gets a new pair). Key 0600: only root (nginx's master reads it as
# root), or the one uid of a non-root container.
self_signed() {
    local host san dir cert key
    dir="$(tls_dir)"
    cert="${dir}/cert.pem" key="${dir}/key.pem"
    CERT_FILE="${cert}" KEY_FILE="${key}"
    if [[ -f "${cert}" && -f "${key}" ]] && pair_matches "${cert}" "${key}"; then
        return 0
    fi
    host="$(</proc/sys/kernel/hostname)"
    [[ "${host}" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$ ]] || host=helios
    san="subjectAltName=DNS:${host},DNS:localhost,IP:127.0.0.1,IP:::1"
    rm -f "${cert}.new" "${key}.new"
    (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "${key}.new" -out "${cert}.new" -days 3650 -subj "/CN=${host}" \
        -addext "${san}" -addext "basicConstraints=critical,CA:FALSE" \
        -addext "extendedKeyUsage=serverAuth" 2>/dev/null) ||
        die "openssl could not make the self-signed TLS certificate in ${dir}"
    chmod 0600 "${key}.new"
    chmod 0644 "${cert}.new"
    mv -f "${key}.new" "${key}"
    mv -f "${cert}.new" "${cert}"
    log "made a self-signed TLS certificate for ${host} in ${dir} (set TLS_CERT/TLS_KEY to use your own)"
}

tls_files() {
    [[ "${HTTPS_PORT}" != 0 ]] || return 0
    if [[ -n "${TLS_CERT:-}" ]]; then
        CERT_FILE="${TLS_CERT}" KEY_FILE="${TLS_KEY}"
        if [[ "$(stat -c %a "${TLS_KEY}")" =~ [4-7]$ ]]; then
            log "TLS_KEY ${TLS_KEY} is readable by every account; give it mode 0600 or 0400"
        fi
    else
        self_signed
    fi
}

main() {
    local check=false
    case "${1:-}" in
        --check) check=true ;;
        '') ;;
        *) die "usage: init-nginx.sh [--check]" ;;
    esac
    validate
    [[ "${check}" == false ]] || return 0
    [[ "${IPV6_MISSING}" == false ]] || log "IPv6 is not available in this container; nginx listens on IPv4 only"
    [[ -f "${HELIOS_HTPASSWD}" ]] || die "${HELIOS_HTPASSWD} is missing; did init-user run?"
    install -d -m 0755 "${HELIOS_RUN}" "${HELIOS_RUN}/nginx"
    tls_files
    make_secrets
    (umask 077 && render >"${HELIOS_NGINX_CONF}.new")
    chmod 0600 "${HELIOS_NGINX_CONF}.new"
    mv -f "${HELIOS_NGINX_CONF}.new" "${HELIOS_NGINX_CONF}"
    if ! nginx -t -q -e stderr -c "${HELIOS_NGINX_CONF}"; then
        die "nginx rejected the generated ${HELIOS_NGINX_CONF}"
    fi
    local https="HTTPS off"
    [[ "${HTTPS_PORT}" == 0 ]] || https="HTTPS on ${HTTPS_PORT}"
    log "nginx listens on port ${HTTP_PORT} (${https}, prefix ${PREFIX}, IPv6 ${IPV6})"
}

# Sourcing the script (tests) defines the functions without running main.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
