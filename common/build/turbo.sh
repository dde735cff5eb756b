#!/usr/bin/env bash
# Build libjpeg-turbo from the pinned release into /usr/local (KasmVNC links a static,
# position-independent libturbojpeg.a from there).
set -euo pipefail
# shellcheck source=common/build/lib.sh
. "$(dirname "$0")/lib.sh"

build=/tmp/build/libjpeg-turbo
src_unpack libjpeg-turbo "$build"
cd "$build"
cmake -G "Unix Makefiles" \
    -DCMAKE_INSTALL_PREFIX=/usr/local \
    -DCMAKE_INSTALL_LIBDIR=/usr/local/lib \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DENABLE_SHARED=OFF \
    .
make -j"$(nproc)"
make install
[ -f /usr/local/lib/libturbojpeg.a ] || die "libjpeg-turbo did not install /usr/local/lib/libturbojpeg.a"
rm -rf "$build"
