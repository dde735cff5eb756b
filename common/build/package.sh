#!/usr/bin/env bash
# Package KasmVNC (Xvnc + web client), kclient and optionally kasmbins into the rootfs /build-out.
# Inputs: /build/kasmvnc (built tree with Xvnc), /build/www (web client), /build/kclient,
# $HELIOS_SRC/kasmbins when KASMBINS=true.
set -euo pipefail
# shellcheck source=common/build/lib.sh
. "$(dirname "$0")/lib.sh"

tree=/build/kasmvnc
out=/build-out
[ -x "$tree/unix/xserver/hw/vnc/Xvnc" ] || die "no Xvnc in $tree (run <distro>/build/xorg.sh first)"
[ -f /build/www/vnc.html ] || die "no web client in /build/www"
[ -f /build/kclient/index.js ] || die "no kclient in /build/kclient"

# Layout that KasmVNC's `make servertarball` expects.
cd "$tree"
rm -rf xorg.build
mkdir -p xorg.build/bin xorg.build/man/man1 xorg.build/lib
ln -s "$tree/unix/xserver/hw/vnc/Xvnc" xorg.build/bin/Xvnc
touch xorg.build/man/man1/Xserver.1
cp unix/xserver/hw/vnc/Xvnc.man xorg.build/man/man1/Xvnc.1
dri=""
for dir in "/usr/lib/$(helios_machine)-linux-gnu/dri" /usr/lib64/dri /usr/lib/dri; do
    if [ -f "$dir/swrast_dri.so" ]; then
        dri=$dir
        break
    fi
done
[ -n "$dri" ] || die "no swrast_dri.so found (install the distro's mesa DRI drivers in kasm.sh)"
ln -s "$dri" xorg.build/lib/dri
rm -rf builder/www
mkdir -p builder/www
cp -a /build/www/. builder/www/

make servertarball
set -- kasmvnc-Linux*.tar.gz
[ $# -eq 1 ] && [ -f "$1" ] || die "make servertarball produced no single kasmvnc-Linux*.tar.gz"
rm -rf "$out"
mkdir -p "$out"
umask 022
# usr/local/man is a symlink on Debian: never extract over it. The perl vncserver wrapper is
# not used (Xvnc is started directly), so it and its modules stay out. usr/local/lib/dri is the
# servertarball's copy of the build stage's DRI drivers (the xorg.build/lib/dri link above): Xvnc
# loads the runtime image's own mesa drivers, so the copy (25 MB of swrast_dri.so) stays out.
tar -xzf "$1" -C "$out" --no-same-owner --exclude='./usr/local/man' \
    --exclude='./usr/local/bin/vncserver' --exclude='./usr/local/bin/KasmVNC' \
    --exclude='./usr/local/lib/dri'
[ ! -e "$out/usr/local/lib/dri" ] || die "the servertarball's DRI driver copy was not left out"
rm -rf "$out/usr/local/share/man"
strip --strip-unneeded "$out/usr/local/bin/Xvnc"
mkdir -p "$out/usr/share" "$out/etc" "$out/usr/lib"
ln -s /usr/local/share/kasmvnc "$out/usr/share/kasmvnc"
ln -s /usr/local/etc/kasmvnc "$out/etc/kasmvnc"
ln -s /usr/local/lib/kasmvnc "$out/usr/lib/kasmvncserver"

mkdir -p "$out/opt/helios"
cp -a /build/kclient "$out/opt/helios/kclient"
if [ "${KASMBINS:-false}" = true ]; then
    mkdir -p "$out/opt/helios/kasmbins"
    tar -xzf "$(src_file kasmbins)" -C "$out/opt/helios/kasmbins" --no-same-owner
    rm -rf "$out/opt/helios/kasmbins/"{kasm_gamepad_server,kasm_printer_service,kasm_upload_server,kasm_webcam_server}
    echo "${KASMBINS_VERSION:?}" >"$out/opt/helios/kasmbins.version"
fi
# The ffmpeg sonames Xvnc loads for video mode (common/build/kasm.sh), one per line.
install -m 0644 "$tree/helios-ffmpeg-sonames" "$out/usr/local/share/kasmvnc/ffmpeg-sonames"
echo "${KASMVNC_VERSION:?}" >"$out/opt/helios/kasmvnc.version"
echo "${KASMWEB_VERSION:?}" >"$out/opt/helios/kasmweb.version"
echo "${KCLIENT_VERSION:?}" >"$out/opt/helios/kclient.version"
# Capture first: `Xvnc -version | grep -q` races (grep exits early, Xvnc dies of SIGPIPE, pipefail).
xvnc_version=$("$out/usr/local/bin/Xvnc" -version 2>&1) || die "the packaged Xvnc does not run"
case "$xvnc_version" in
    *KasmVNC*) ;;
    *) die "the packaged Xvnc is not KasmVNC's: $xvnc_version" ;;
esac
