#!/usr/bin/env bash
# Build KasmVNC's common libraries (everything but the X server) in /build/kasmvnc.
set -euo pipefail
# shellcheck source=common/build/lib.sh
. "$(dirname "$0")/lib.sh"

tree=/build/kasmvnc
src_unpack kasmvnc "$tree"
cd "$tree"
# Server only: no FLTK viewer, no manual tests (some commits already leave them out).
sed -i -e '/^[[:space:]]*find_package(FLTK/s@^@#@' -e '/^[[:space:]]*add_subdirectory(tests/s@^@#@' CMakeLists.txt
if grep -q -E '^[[:space:]]*(find_package\(FLTK|add_subdirectory\(tests)' CMakeLists.txt; then
    die "kasmvnc: CMakeLists.txt still builds the FLTK viewer or the tests"
fi
# CMake >= 4 (sid) refuses the OLD behaviour of CMP0022; nothing in KasmVNC relies on it (the
# libtool control files read <target>_LIB_DEPENDS, not LINK_INTERFACE_LIBRARIES).
sed -i 's/cmake_policy(SET CMP0022 OLD)/cmake_policy(SET CMP0022 NEW)/' CMakeLists.txt
if grep -q 'CMP0022 OLD' CMakeLists.txt; then
    die "kasmvnc: CMakeLists.txt still sets CMP0022 to OLD"
fi

# Xvnc's websocket thread hands each session to the RFB server over an abstract unix socket
# (@.KasmVNCSock<pid>), which every process in the network namespace can reach (a sidecar could
# ride an open session's name and get the framebuffer). Accept it only from Xvnc itself: a peer
# whose SO_PEERCRED pid is not ours is shut down before the server writes anything.
marker='Socket\* WebsocketListener::createSocket(int fd) {'
grep -q "^${marker}\$" common/network/TcpSocket.cxx || die "kasmvnc: WebsocketListener::createSocket not found"
sed -i "/^${marker}\$/a\\
  struct ucred peer = {0, 0, 0};\\
  socklen_t peer_len = sizeof(peer);\\
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, \\&peer, \\&peer_len) != 0 || peer.pid != getpid()) {\\
    vlog.error(\"Helios: refused pid %d on the internal socket\", (int) peer.pid);\\
    ::shutdown(fd, SHUT_RDWR);\\
  }" common/network/TcpSocket.cxx
grep -q 'Helios: refused pid' common/network/TcpSocket.cxx || die "kasmvnc: the internal-socket peer check was not applied"

export LIBRARY_PATH=/usr/local/lib${LIBRARY_PATH:+:$LIBRARY_PATH}
# KasmVNC asks for cmake_minimum_required < 3.5, which CMake >= 4 (sid) refuses without a floor.
cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_VIEWER:BOOL=OFF -DENABLE_GNUTLS:BOOL=OFF \
    -DCMAKE_POLICY_VERSION_MINIMUM=3.5 .
make -j"$(nproc)"
