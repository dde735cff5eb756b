#!/usr/bin/env bash
# Helios custom service. Replace this file (COPY in a derived image, or mount it) to run your own
# background programs. It runs as root with the container environment (PASSWORD removed), after
# the desktop is up; DISPLAY, XAUTHORITY and PULSE_SERVER point at the desktop. Run programs as
# the desktop user with: /usr/lib/helios/run-as-user.sh <command>. When this script exits, s6
# starts it again (after one second), so keep it in the foreground. The default one idles.
set -euo pipefail
exec sleep infinity
