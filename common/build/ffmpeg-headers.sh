#!/usr/bin/env bash
# FFmpeg's headers for building KasmVNC where the distro's repositories carry none (EL9; sources.toml
# `ffmpeg` needed_by). FFMPEG_NEEDED=true: configure the pinned FFmpeg release and install only its
# headers and pkg-config files into /usr/local, with the .pc files where this system's pkg-config
# looks first. No library is compiled: Xvnc loads ffmpeg at run time by soname (common/build/kasm.sh
# reads the sonames from these headers), so the image has video mode once the user adds ffmpeg's
# libraries of the same major versions. FFMPEG_NEEDED=false: nothing to do, the distro's -dev
# packages (build-deps stage) provide the headers.
set -euo pipefail
# shellcheck source=common/build/lib.sh
. "$(dirname "$0")/lib.sh"

case "${FFMPEG_NEEDED:-}" in
    false)
        log "ffmpeg headers: from the distro's packages"
        exit 0
        ;;
    true) ;;
    *) die "FFMPEG_NEEDED must be \"true\" or \"false\", got '${FFMPEG_NEEDED:-}'" ;;
esac
if pkg-config --exists libavcodec; then
    die "FFMPEG_NEEDED=true, but the distro already provides libavcodec's headers: drop it from ffmpeg's needed_by"
fi
pcdir=$(pkg-config --variable pc_path pkg-config | cut -d: -f1)
[ -n "$pcdir" ] || die "pkg-config reports no search path"
build=/tmp/build/ffmpeg
src_unpack ffmpeg "$build"
cd "$build"
# Headers only: no component, program, assembler or external library is needed to generate them.
./configure --prefix=/usr/local --pkgconfigdir="$pcdir" --disable-everything --disable-programs \
    --disable-doc --disable-autodetect --disable-x86asm --disable-avdevice --disable-avfilter \
    --disable-swresample --disable-postproc
make install-headers
for lib in libavcodec libavformat libavutil libswscale; do
    pkg-config --exists "$lib" || die "ffmpeg headers: pkg-config does not find $lib after the install"
done
log "ffmpeg headers $(pkg-config --modversion libavcodec) (libavcodec) installed in /usr/local/include"
cd /
rm -rf "$build"
