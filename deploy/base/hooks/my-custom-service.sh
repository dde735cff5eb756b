#!/usr/bin/env bash
# Example custom service (mounted at /etc/helios/services.d/custom.sh). Helios supervises it and
# starts it again when it exits, so keep a process in the foreground: replace the sleep with yours.
set -euo pipefail

echo "helios custom service: started"
exec sleep infinity
