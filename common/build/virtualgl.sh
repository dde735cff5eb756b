#!/usr/bin/env bash
# Build VirtualGL from its pinned source release into the rootfs /build-out, laid out as the
# official packages install it: programs in /opt/VirtualGL/bin with links to the user commands
# (vglrun, ...) in /usr/bin, and the faker libraries (LD_PRELOADed by name) in the loader's
# system directory. TurboJPEG is the turbo stage's static PIC libturbojpeg.a, linked in as the
# official packages do, so the image needs no libturbojpeg. No headers, docs or client GUI deps.
set -euo pipefail
# shellcheck source=common/build/lib.sh
. "$(dirname "$0")/lib.sh"

prefix=/opt/VirtualGL
out=/build-out
# Where the official package of this system puts the fakers: /usr/lib64 where the 64-bit
# libraries live there (the RPM, on RHEL), else /usr/lib (the .deb; Debian's loader searches it).
libdir=/usr/lib
[ -e /usr/lib64/libc.so.6 ] && libdir=/usr/lib64
[ -f /usr/local/lib/libturbojpeg.a ] || die "no static TurboJPEG in /usr/local/lib (turbo stage)"

tree=/tmp/build/virtualgl
src_unpack virtualgl "$tree"
cmake -S "$tree" -B "$tree/build" -G "Unix Makefiles" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_INSTALL_LIBDIR="$libdir" \
    -DTJPEG_INCLUDE_DIR=/usr/local/include \
    -DTJPEG_LIBRARY=/usr/local/lib/libturbojpeg.a
make -C "$tree/build" -j"$(nproc)"
rm -rf "$out"
umask 022
make -C "$tree/build" install DESTDIR="$out"
rm -rf "${out:?}$prefix/include" "${out:?}$prefix/doc"
mkdir -p "$out/usr/bin" "$out/usr/share/doc/virtualgl"
for cmd in vglclient vglconfig vglconnect vglgenkey vgllogin vglrun vglserver_config; do
    [ -x "$out$prefix/bin/$cmd" ] || die "VirtualGL installed no $prefix/bin/$cmd"
    ln -s "$prefix/bin/$cmd" "$out/usr/bin/$cmd"
done
# The licence (wxWindows Library Licence, which includes the LGPL) stays, like every package's.
cat "$tree/LICENSE.txt" "$tree/LGPL.txt" >"$out/usr/share/doc/virtualgl/copyright"
for lib in libvglfaker.so libvglfaker-nodl.so libdlfaker.so libgefaker.so; do
    [ -f "$out$libdir/$lib" ] || die "VirtualGL installed no $libdir/$lib"
done
if ldd "$out$libdir/libvglfaker.so" | grep -q turbojpeg; then
    die "libvglfaker.so links a shared libturbojpeg (the static one was not used)"
fi
# Debug symbols stay out of the image (vglrun and the other scripts are not ELF files).
for f in "$out$prefix"/bin/* "$out$libdir"/*.so; do
    if head -c 4 "$f" | grep -q 'ELF'; then
        strip --strip-unneeded "$f"
    fi
done
rm -rf "$tree"
