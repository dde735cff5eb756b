#!/usr/bin/env bash
# Inside the Debian container .ci/image-tests.sh starts: installs what the suite needs, runs
# `nox -s integration` (HELIOS_IMAGE_<DISTRO> names the image), checks that it executed tests,
# then `nox -s measure -- DISTRO`. Every step runs; the exit code is non-zero if any failed.
#
#   bash .ci/image-tests-debian.sh DISTRO [PYTEST_ARGS...]
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VENV=$HELIOS_CI_CACHE/venv
JUNIT=reports/junit-integration.xml

main() {
    (($# >= 1)) || die "usage: bash .ci/image-tests-debian.sh DISTRO [PYTEST_ARGS...]"
    local distro=$1 rc=0
    shift
    require_root
    log "Debian $(debian_major), $(python3 --version)"
    # docker.io for its CLI (python-on-whales drives it; its dockerd is never started here).
    # libatomic1: the node binary of the playwright wheel links it.
    apt_install ca-certificates chromium docker.io libatomic1 python3-venv util-linux
    if [[ ! -x $VENV/bin/nox ]]; then
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q nox
    fi
    rm -f "$JUNIT"
    PATH="$VENV/bin:$PATH" nox -s integration -- "$@" || rc=$?
    python3 .ci/junit_executed.py "$JUNIT" || rc=1
    PATH="$VENV/bin:$PATH" nox -s measure -- "$distro" || rc=1
    ((rc == 0)) || log "image tests FAILED for $distro (exit $rc)"
    return "$rc"
}

main "$@"
