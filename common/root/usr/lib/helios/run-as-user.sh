#!/usr/bin/env bash
# run-as-user CMD [ARG...]: exec CMD as the desktop user ($USER) from the home directory, with the
# current environment minus PASSWORD and with HOME/USER/LOGNAME/SHELL of that account.
# Supplementary groups are the account's groups as the system (or nss_wrapper) reports them
# (`id -G`), passed explicitly: initgroups() inside setpriv misses nss_wrapper's groups on sid.
# The directory change happens after dropping privileges, so root never enters a directory the
# user controls.
set -euo pipefail
# shellcheck source=lib.sh
source /usr/lib/helios/lib.sh

(($#)) || die "run-as-user: no command given"
user_entry
uid="${USER_UID}" gid="${USER_GID}" home="${USER_HOME}"
unset PASSWORD
export HOME="${home}" LOGNAME="${USER}" SHELL=/bin/bash
if rootless; then
    # Already the desktop user (the container was started with --user).
    cd "${home}" 2>/dev/null || cd /
    exec "$@"
fi
cd /
groups="$(id -G "${USER}")"
# shellcheck disable=SC2016 # $HOME and $@ expand in the user's shell, not here
exec setpriv --reuid="${uid}" --regid="${gid}" --groups="${groups// /,}" -- \
    bash -c 'cd "${HOME}" 2>/dev/null || cd /; exec "$@"' run-as-user "$@"
