#!/usr/bin/env bash
# Build kclient (audio/microphone bridge and page around the web client) into /build-out/kclient,
# with the Helios edits from kclient-patch.js. Builds the native pulseaudio addon with the Node
# that <distro>/build/kclient.sh installed (the runtime must use the same major).
set -euo pipefail
# shellcheck source=common/build/lib.sh
. "$(dirname "$0")/lib.sh"

[[ "${KCLIENT_NPM_BEFORE:-}" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] ||
    die "KCLIENT_NPM_BEFORE must be a date YYYY-MM-DD, got '${KCLIENT_NPM_BEFORE:-}'"
ca_install
node_require 18

tree=/build/kclient
src_unpack kclient "$tree"
cd "$tree"
node "$(dirname "$0")/kclient-patch.js" "$tree"
# node-gyp must use local headers (never download them).
for dir in /usr/local /usr; do
    if [ -f "$dir/include/node/common.gypi" ]; then
        export npm_config_nodedir="$dir"
        break
    fi
done
# npm >= 12 skips every dependency install script not approved in package.json's allowScripts
# (older npm ignores the field); the pulseaudio2 addon's node-gyp build is the one kclient needs.
npm pkg set allowScripts.pulseaudio2=true --json
npm install --omit=dev --before="$KCLIENT_NPM_BEFORE" --no-audit --no-fund --cache /tmp/npm-cache
rm -f package-lock.json
# Keep the built addon, drop node-gyp's intermediate objects.
rm -rf node_modules/pulseaudio2/build/Release/obj.target node_modules/pulseaudio2/build/Release/.deps
# Files Node never reads: TypeScript declarations (@types/*, *.d.ts: 2.6 MB), source maps and the
# packages' markdown (READMEs, changelogs: 2.5 MB). Licence texts stay, whatever their name.
rm -rf node_modules/@types
find node_modules -type f \( -name '*.d.ts' -o -name '*.map' -o -iname '*.md' \) \
    ! -iname 'licen[cs]e*' ! -iname 'copying*' -delete
compgen -G 'node_modules/pulseaudio2/build/Release/*.node' >/dev/null ||
    die "kclient: the pulseaudio2 native addon was not built"
node -p 'process.versions.node.split(".")[0]' >.node-major
mkdir -p /build-out/kclient
cp -a . /build-out/kclient/
rm -rf "$tree" /tmp/npm-cache
