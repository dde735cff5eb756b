#!/usr/bin/env bash
# Extract s6-overlay (noarch, arch, both symlink sets) into the staging root /s6-root.
set -euo pipefail
# shellcheck source=common/build/lib.sh
. "$(dirname "$0")/lib.sh"

umask 022
root=/s6-root
mkdir -p "$root"
for name in s6-overlay-noarch s6-overlay-arch s6-overlay-symlinks-noarch s6-overlay-symlinks-arch; do
    tar -C "$root" -Jxpf "$(src_file "$name")"
done
[ -x "$root/init" ] && [ -x "$root/command/s6-svscan" ] || die "s6-overlay extraction gave no /init"
