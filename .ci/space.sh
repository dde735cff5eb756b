#!/usr/bin/env bash
# space.sh DIR MIN_GB: fail with one line when the filesystem holding DIR has less than MIN_GB
# gigabytes (10^9 bytes) free. .ci/run checks the engine's data root with it before the
# container tier, whose containers and images need that room: a full disk otherwise shows up as
# hundreds of unrelated errors ("no space left on device") deep in the test run.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 2)) || die "usage: space.sh DIR MIN_GB"
dir=$1 min_gb=$2
[[ $min_gb =~ ^[0-9]+$ ]] || die "space.sh: MIN_GB must be a whole number of gigabytes, got '$min_gb'"
[[ -d $dir ]] || die "space.sh: $dir is not a directory"
free_bytes=$(df -P -B1 -- "$dir" | awk 'NR == 2 { print $4 }')
[[ $free_bytes =~ ^[0-9]+$ ]] || die "space.sh: cannot read the free space of $dir from df"
free_gb=$((free_bytes / 1000000000))
if ((free_bytes < min_gb * 1000000000)); then
    die "$dir has ${free_gb} GB free, the container tier needs ${min_gb} GB:" \
        "free space (e.g. docker system prune, docker builder prune) or set HELIOS_CI_MIN_FREE_GB"
fi
log "$dir: ${free_gb} GB free (needs ${min_gb} GB)"
