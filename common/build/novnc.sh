#!/usr/bin/env bash
# Build the Kasm web client (noVNC fork) into /build-out/www.
# WEBRTC=false (RHEL) also disables WebRTC UDP transit in the client.
set -euo pipefail
# shellcheck source=common/build/lib.sh
. "$(dirname "$0")/lib.sh"

case "${WEBRTC:-}" in
    true | false) ;;
    *) die "WEBRTC must be \"true\" or \"false\", got '${WEBRTC:-}'" ;;
esac
[[ "${KASMWEB_NPM_BEFORE:-}" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] ||
    die "KASMWEB_NPM_BEFORE must be a date YYYY-MM-DD, got '${KASMWEB_NPM_BEFORE:-}'"
ca_install
node_require 18

tree=/build/kasmweb
src_unpack kasmweb "$tree"
cd "$tree"
node "$(dirname "$0")/novnc-patch.js" "$tree" "$WEBRTC"
# devDependencies are "*": resolve them as of the pinned date.
npm install --before="$KASMWEB_NPM_BEFORE" --no-audit --no-fund --cache /tmp/npm-cache
npm run-script build
[ -f dist/index.html ] && [ -f dist/vnc.html ] || die "web client build produced no dist/index.html"
mkdir -p /build-out/www
cp -a dist/. /build-out/www/
rm -rf "$tree" /tmp/npm-cache
