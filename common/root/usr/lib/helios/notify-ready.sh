#!/usr/bin/env bash
# notify-ready [-m MARKER] FD TIMEOUT CHECK...: s6 readiness writer. Starts a detached poller and
# returns at once; the caller then closes FD and execs the daemon. The poller runs check.sh's
# `check_all CHECK...` every 0.05 s in its own shell, and waits between polls with bash's own
# `read -t` (no process per poll: five services poll at once during boot on the path to /health,
# so a poll should cost little CPU and add at most 50 ms); on success it writes a
# newline to FD (s6 notification-fd protocol) and, with -m, writes {"status":"UP"} to MARKER. After TIMEOUT seconds it gives up
# without notifying, so s6-rc's timeout-up fails the service instead of starting dependants early.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh
# shellcheck source=check.sh
source /usr/lib/helios/check.sh

marker=""
if [[ "${1:-}" == -m ]]; then
    marker="$2"
    shift 2
fi
(($# >= 3)) || die "usage: notify-ready [-m MARKER] FD TIMEOUT CHECK..."
fd="$1" timeout="$2"
shift 2
[[ "${fd}" =~ ^[0-9]+$ && "${timeout}" =~ ^[0-9]+$ ]] || die "notify-ready: FD and TIMEOUT must be numbers"
[[ -e "/proc/$$/fd/${fd}" ]] || die "notify-ready: file descriptor ${fd} is not open (notification-fd missing?)"

poll() {
    local deadline=$((SECONDS + timeout)) nap
    # A pipe nobody writes to (opened read-write, so it never reaches end of file): `read -t`
    # on it is a 0.05 s sleep without starting /usr/bin/sleep.
    exec {nap}<> <(:)
    while ((SECONDS < deadline)); do
        if check_all "$@" 2>/dev/null; then
            if [[ -n "${marker}" ]]; then
                printf '{"status":"UP"}\n' >"${marker}.new"
                chmod 0644 "${marker}.new"
                mv -f "${marker}.new" "${marker}"
            fi
            printf '\n' >&"${fd}"
            return 0
        fi
        read -r -t 0.05 -u "${nap}" _ || true
    done
    log "not ready after ${timeout}s: $*"
    return 1
}

# A proc check compares owners with the desktop user's uid: looked up once, not at every poll.
if [[ " $* " == *" proc "* ]]; then
    CHECK_UID="$(user_field 3)"
fi
# Double fork: the poller is re-parented to PID 1, so it never becomes the daemon's zombie.
(poll "$@" </dev/null &)
