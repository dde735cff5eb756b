#!/usr/bin/env bash
# svc-nginx: nginx in the foreground with the configuration init-nginx generated.
# Ready when HTTP_PORT (and HTTPS_PORT unless 0) accept connections.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

NOTIFY_FD="${1:-3}"
checks=(tcp 127.0.0.1 "${HTTP_PORT:-3000}")
if [[ "${HTTPS_PORT:-3001}" != 0 ]]; then
    checks+=(+ tcp 127.0.0.1 "${HTTPS_PORT:-3001}")
fi
/usr/lib/helios/notify-ready.sh "${NOTIFY_FD}" 30 "${checks[@]}"
exec {NOTIFY_FD}>&-
# A killed nginx leaves its unix socket behind, and binding it again would fail.
rm -f "${HELIOS_RUN}/nginx/health.sock"
exec nginx -e stderr -c "${HELIOS_NGINX_CONF}" -g 'daemon off;'
