#!/usr/bin/env bash
# Checks for the final image, sourced by apt-runtime.sh and dnf-runtime.sh (kept apart from the
# build helpers so changing them does not rebuild KasmVNC or Xorg).
# shellcheck source=common/build/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# VirtualGL's programs and faker libraries (virtualgl stage), the OpenCL faker aside: `vglrun
# -ocl` needs an OpenCL ICD loader, which Helios leaves to derived images (as VirtualGL's own
# packages do).
VIRTUALGL_FAKERS=(libvglfaker.so libvglfaker-nodl.so libdlfaker.so libgefaker.so)

virtualgl_files() {
    local f lib dir
    for f in /opt/VirtualGL/bin/*; do
        [ -f "$f" ] && head -c 4 "$f" | grep -q ELF && echo "$f"
    done
    for lib in "${VIRTUALGL_FAKERS[@]}"; do
        for dir in /usr/lib64 /usr/lib; do
            [ -f "$dir/$lib" ] && echo "$dir/$lib"
        done
    done
    return 0
}

# Fail when Xvnc, the kclient audio addon (if present) or VirtualGL link a library that is not
# installed.
missing_libs() {
    local f out="" vgl
    mapfile -t vgl < <(virtualgl_files)
    for f in /usr/local/bin/Xvnc /opt/helios/kclient/node_modules/pulseaudio2/build/Release/*.node \
        "${vgl[@]}"; do
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

# Fail unless VirtualGL is installed: vglrun on PATH and every faker library in place.
# HELIOS_SKIP_VIRTUALGL=true (the container tier, which has no VirtualGL build) skips the check.
virtualgl_present() {
    local lib
    if [ "${HELIOS_SKIP_VIRTUALGL:-false}" = true ]; then
        log "HELIOS_SKIP_VIRTUALGL=true: VirtualGL not checked"
        return 0
    fi
    command -v vglrun >/dev/null || die "VirtualGL: vglrun is not on PATH"
    for lib in "${VIRTUALGL_FAKERS[@]}"; do
        [ -f "/usr/lib64/$lib" ] || [ -f "/usr/lib/$lib" ] || die "VirtualGL: $lib is not installed"
    done
}
