#!/usr/bin/env bash
# Checks for the final image, sourced by apt-runtime.sh and dnf-runtime.sh (kept apart from the
# build helpers so changing them does not rebuild KasmVNC or Xorg).
# shellcheck source=common/build/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Fail when Xvnc or the kclient audio addon (if present) link a library that is not installed.
missing_libs() {
    local f out=""
    for f in /usr/local/bin/Xvnc /opt/helios/kclient/node_modules/pulseaudio2/build/Release/*.node; do
        [ -e "$f" ] || continue
        out+=$(ldd "$f" | awk -v f="$f" '/not found/ { printf "%s: %s; ", f, $1 }')
    done
    [ -z "$out" ] || die "missing shared libraries: $out"
}

# Fail when the runtime Node major differs from the one kclient's native addon was built with.
node_matches_kclient() {
    local want=/opt/helios/kclient/.node-major got
    got=$(node -p 'process.versions.node.split(".")[0]') || die "node is not installed in the runtime"
    if [ -f "$want" ]; then
        [ "$(cat "$want")" = "$got" ] || die "runtime node $got differs from kclient's build node $(cat "$want")"
    fi
}
