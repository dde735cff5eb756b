#!/usr/bin/env bash
# The integration suite and the measurements against one image the local engine has, the way a
# Debian developer machine runs them (what the release workflow runs per distro and platform).
#
#   .ci/image-tests.sh DISTRO IMAGE [PYTEST_ARGS...]     IMAGE: a tag or an image ID
#
# The suite wants Debian: Python 3.11, Debian's chromium for the screenshot, root and nsenter for
# the neighbour checks. It runs in HELIOS_TEST_IMAGE (debian:bookworm) beside the image under
# test: host network and pid namespace (testcontainers reaches the published ports on 127.0.0.1,
# nsenter finds the container's pid; two capabilities, not --privileged), the engine's socket,
# and the checkout and a scratch folder mounted at their own paths, so the suite's bind mounts
# name the same files for the engine. DOCKER_HOST set keeps testcontainers from putting the
# image on this container's (host) network, and the host override sends it to 127.0.0.1.
# reports/ in the checkout gets the junit file, the screenshots and measurements.toml.
# HELIOS_CA_BUNDLE (a PEM file, README "Corporate CA") is trusted for the package downloads.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEST_IMAGE=${HELIOS_TEST_IMAGE:-debian:bookworm}

main() {
    (($# >= 2)) || die "usage: .ci/image-tests.sh DISTRO IMAGE [PYTEST_ARGS...]"
    local distro=$1 image=$2 repo scratch variable ca=()
    shift 2
    [[ $distro =~ ^[a-z0-9]+(-[a-z0-9]+)*$ ]] || die "DISTRO '$distro': lower-case name, e.g. bookworm"
    docker image inspect "$image" >/dev/null 2>&1 || die "IMAGE '$image' is not in the local engine"
    if [[ -n ${HELIOS_CA_BUNDLE:-} ]]; then
        [[ -f $HELIOS_CA_BUNDLE ]] || die "HELIOS_CA_BUNDLE '$HELIOS_CA_BUNDLE' is not a file"
        ca=(--volume "$(realpath "$HELIOS_CA_BUNDLE"):/etc/helios-ca.pem:ro")
        ca+=(--env PIP_CERT=/etc/helios-ca.pem --env SSL_CERT_FILE=/etc/helios-ca.pem)
    fi
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    variable=HELIOS_IMAGE_$(tr 'a-z-' 'A-Z_' <<<"$distro")
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/helios-it.XXXXXX")
    log "testing $image as $variable in $TEST_IMAGE (scratch $scratch)"
    # SYS_ADMIN + SYS_PTRACE: what nsenter needs to enter the image's network namespace.
    docker run --rm --network host --pid host --cap-add SYS_ADMIN --cap-add SYS_PTRACE \
        --volume /var/run/docker.sock:/var/run/docker.sock \
        --env DOCKER_HOST=unix:///var/run/docker.sock \
        --volume "$repo:$repo" --workdir "$repo" \
        --volume "$scratch:$scratch" --env "TMPDIR=$scratch" \
        --env "$variable=$image" \
        --env TESTCONTAINERS_RYUK_DISABLED=true \
        --env TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 \
        --env TESTCONTAINERS_CONNECTION_MODE=docker_host \
        --env HELIOS_IT_TIMEOUT "${ca[@]}" \
        "$TEST_IMAGE" bash .ci/image-tests-debian.sh "$distro" "$@"
}

main "$@"
