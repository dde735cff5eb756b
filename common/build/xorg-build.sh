#!/usr/bin/env bash
# Build Xvnc: xorg-server $XORG_VERSION unpacked into KasmVNC's unix/xserver, patched with
# KasmVNC's matching xserver patch, configured with the flags shared by every distro plus "$@".
# Called by <distro>/build/xorg.sh, which passes its genuine differences as configure flags.
set -euo pipefail
# shellcheck source=common/build/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${XORG_VERSION:?XORG_VERSION must be set (e.g. 21.1.4)}"
[[ "$XORG_VERSION" =~ ^[0-9]+(\.[0-9]+)+$ ]] || die "XORG_VERSION '$XORG_VERSION' is not a dotted version"
tree=/build/kasmvnc
[ -d "$tree/unix/xserver" ] || die "no KasmVNC tree in $tree (run common/build/kasm.sh first)"

case "$XORG_VERSION" in
    21.*) xpatch=xserver21.patch ;;
    1.*) xpatch="xserver$(echo "$XORG_VERSION" | cut -d. -f1,2 | tr -d .).patch" ;;
    *) die "XORG_VERSION $XORG_VERSION: no KasmVNC xserver patch rule" ;;
esac
[ -f "$tree/unix/$xpatch" ] || die "KasmVNC has no unix/$xpatch for xorg-server $XORG_VERSION"

cd "$tree/unix/xserver"
tar -xf "$(src_file "xorg-server-$XORG_VERSION")" --strip-components=1 --no-same-owner
patch -Np1 -i "../$xpatch"
case "$XORG_VERSION" in
    1.20.*) patch -s -p0 <../CVE-2022-2320-v1.20.patch ;;
esac
# DPMS: the server registers the extension only when a screen has a DPMS hook, and Xvnc's screens
# have none, so every client that asks (xfsettingsd >= 4.20 on each screen change) makes Xlib log
# 'extension "DPMS" missing'. A virtual screen has no monitor to power down: give it a hook that
# does nothing, and zero timeouts, so the server never enters a power-saving level on its own
# (a client may still set timeouts, as on any X server).
xvnc=hw/vnc/xvnc.c
hook='^    pScreen->SaveScreen = vfbSaveScreen;$'
proto='^static void vfbFreeFramebufferMemory(vfbFramebufferInfoPtr pfb);$'
if ! grep -q "$hook" "$xvnc" || ! grep -q "$proto" "$xvnc"; then
    die "xorg: $xvnc has no screen-init lines to add DPMS to"
fi
sed -i -e "/$proto/a\\
#ifdef DPMSExtension\\
static void heliosDPMS(ScreenPtr pScreen, int level) { (void) pScreen; (void) level; }\\
#endif" -e "/$hook/a\\
#ifdef DPMSExtension\\
    pScreen->DPMS = heliosDPMS;\\
    DPMSStandbyTime = DPMSSuspendTime = DPMSOffTime = 0;\\
#endif" "$xvnc"
[ "$(grep -c 'heliosDPMS' "$xvnc")" -eq 2 ] || die "xorg: the DPMS hook was not added to $xvnc"
# KasmVNC >= 1.5 links -lsharpyuv, a separate library only in libwebp >= 1.3 (bookworm has 1.2.4,
# where it is part of libwebp). Xvnc calls no SharpYuv function itself.
if ! pkg-config --exists libsharpyuv; then
    sed -i 's/ -lsharpyuv / /' hw/vnc/Makefile.am
    if grep -q -e '-lsharpyuv' hw/vnc/Makefile.am; then
        die "xorg: hw/vnc/Makefile.am still links -lsharpyuv"
    fi
fi
autoreconf -i
# XORG_GL_MIN: lower the configure check for gl.pc (libglvnd reports 1.2 on EL9, not mesa's 7.1).
if [ -n "${XORG_GL_MIN:-}" ]; then
    sed -i "s/LIBGL=\"gl >= 7.1.0\"/LIBGL=\"gl >= $XORG_GL_MIN\"/" configure
    grep -q "LIBGL=\"gl >= $XORG_GL_MIN\"" configure || die "xorg configure: the gl version check was not found"
fi
export LIBRARY_PATH=/usr/local/lib${LIBRARY_PATH:+:$LIBRARY_PATH}
./configure \
    --prefix=/opt/kasmweb \
    --with-xkb-path=/usr/share/X11/xkb \
    --with-xkb-output=/var/lib/xkb \
    --with-xkb-bin-directory=/usr/bin \
    --with-default-font-path="/usr/share/fonts/X11/misc,/usr/share/fonts/X11/cyrillic,/usr/share/fonts/X11/100dpi/:unscaled,/usr/share/fonts/X11/75dpi/:unscaled,/usr/share/fonts/X11/Type1,/usr/share/fonts/X11/100dpi,/usr/share/fonts/X11/75dpi,built-ins" \
    --with-sha1=libcrypto --without-dtrace --disable-static \
    --disable-dri --disable-dri2 --enable-dri3 --enable-glx \
    --disable-xinerama --disable-xvfb --disable-xnest --disable-xorg --disable-dmx \
    --disable-xwin --disable-xephyr --disable-kdrive --disable-config-hal \
    --disable-config-udev --disable-xwayland "$@"
# Newer compilers trip -Werror=array-bounds in the 21.x tree.
find . -name Makefile -exec sed -i 's/-Werror=array-bounds//g' {} +
make -j"$(nproc)"
[ -x hw/vnc/Xvnc ] || die "the X server build produced no hw/vnc/Xvnc"
