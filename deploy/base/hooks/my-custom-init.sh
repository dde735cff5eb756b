#!/usr/bin/env bash
# Example init hook (mounted at /etc/helios/init.d/my-custom-init.sh). Runs as root before the
# desktop user exists: the environment (USER, UID, GID) and the whole filesystem are available.
set -euo pipefail

echo "helios init hook: preparing the desktop for ${USER:-unknown} (uid ${UID:-unknown})"
