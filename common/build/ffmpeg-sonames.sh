#!/usr/bin/env bash
# Print the sonames of the ffmpeg libraries Xvnc loads (libavformat, libavutil, libswscale,
# libavcodec: one per line, in that order) for the ffmpeg whose headers pkg-config finds. From the
# library when the build has it (the distro's -dev package), else from the headers' major version
# (ffmpeg-headers.sh installs headers only): FFmpeg names each soname after LIB<NAME>_VERSION_MAJOR.
set -euo pipefail
# shellcheck source=common/build/lib.sh
. "$(dirname "$0")/lib.sh"

soname() {
    local lib="$1" dir inc major so
    dir=$(pkg-config --variable=libdir "$lib") || die "pkg-config knows no $lib (ffmpeg headers missing)"
    if [ -e "$dir/$lib.so" ]; then
        so=$(readelf -d "$dir/$lib.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
    else
        inc=$(pkg-config --variable=includedir "$lib")
        major=$(grep -h -o -E "^#define ${lib^^}_VERSION_MAJOR[[:space:]]+[0-9]+" "$inc/$lib"/version*.h |
            grep -o -E '[0-9]+$' || true)
        so="$lib.so.$major"
    fi
    [[ "$so" =~ ^$lib\.so\.[0-9]+$ ]] || die "cannot read the soname of $lib from $dir or its headers (got '$so')"
    printf '%s\n' "$so"
}

for lib in libavformat libavutil libswscale libavcodec; do
    soname "$lib"
done
