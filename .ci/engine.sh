#!/usr/bin/env bash
# Docker engine bootstrap for CI and developers.
#
#   .ci/engine.sh install   install docker.io and the buildx + compose CLI plugins (idempotent)
#   .ci/engine.sh start     start dockerd unless an engine already answers; wait until it does
#   .ci/engine.sh stop      stop the dockerd that `start` started in the same run (never another)
#   .ci/engine.sh status    say whether an engine answers and which run of this script started it
#
# A run is named by HELIOS_ENGINE_RUN (.ci/run sets a fresh one). `start` records the dockerd it
# starts together with that name (a generated one when unset, logged); `stop` stops it only when
# given the same name, so one invocation never stops the engine another one started, even
# though both record it in the same pidfile.
#
# Environment:
#   HELIOS_ENGINE_RUN    the name of this run (required by stop)
#   HELIOS_ENGINE_STATE  directory for the pidfile of the engine we started (/run/helios-engine)
#   HELIOS_ENGINE_LOG    dockerd log file (/var/log/helios-dockerd.log)
#   HELIOS_ENGINE_WAIT   seconds to wait for `docker info` after starting dockerd (90)
#   HELIOS_DOCKERD_ARGS  extra dockerd arguments, e.g. a second engine's --host/--data-root/
#                        --exec-root/--pidfile. Never --bridge none next to another engine:
#                        dockerd then deletes the shared docker0 interface.
#   DOCKER_HOST          honoured by `docker info`, as usual
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE_DIR=${HELIOS_ENGINE_STATE:-/run/helios-engine}
PIDFILE=$STATE_DIR/dockerd.pid
ENGINE_LOG=${HELIOS_ENGINE_LOG:-/var/log/helios-dockerd.log}
ENGINE_WAIT=${HELIOS_ENGINE_WAIT:-90}
PLUGIN_DIR=${HELIOS_CLI_PLUGIN_DIR:-/usr/local/lib/docker/cli-plugins}
TRIXIE_APT=$HELIOS_CI_CACHE/trixie-apt

engine_answers() {
    timeout 10 docker info >/dev/null 2>&1
}

# True while process PID has not exited (an exited one nobody reaped yet is a zombie).
running() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

running_dockerd() {
    [[ $(cat "/proc/$1/comm" 2>/dev/null) == dockerd ]] && running "$1"
}

# "PID RUN" as `start` recorded them, printed only while PID is still a running dockerd. A
# pidfile without a run name (written before runs were named) names no run.
recorded() {
    local pid run
    [[ -s $PIDFILE ]] || return 1
    read -r pid run <"$PIDFILE" || [[ -n ${pid:-} ]] || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    running_dockerd "$pid" || return 1
    echo "$pid ${run:-}"
}

new_run_name() {
    echo "engine-$(date -u +%Y%m%dT%H%M%SZ)-$$"
}

plugin_works() {
    docker "$1" version >/dev/null 2>&1
}

# Debian 12 has no buildx/compose v2 packages: take trixie's .debs with a private apt state
# (the host's apt sources are not touched) and copy their CLI plugin binaries.
plugins_from_trixie() {
    local apt_opts work deb
    mkdir -p "$TRIXIE_APT"/{lists/partial,cache/archives/partial,parts,debs,root}
    printf 'deb %s trixie main\n' "$HELIOS_DEBIAN_MIRROR" >"$TRIXIE_APT/sources.list"
    apt_opts=(
        -o "Dir::Etc::SourceList=$TRIXIE_APT/sources.list"
        -o "Dir::Etc::SourceParts=$TRIXIE_APT/parts"
        -o "Dir::State::Lists=$TRIXIE_APT/lists"
        -o "Dir::Cache=$TRIXIE_APT/cache"
        -o "APT::Architecture=$(dpkg --print-architecture)"
        -o APT::Sandbox::User=root
    )
    log "downloading docker-buildx and docker-compose from Debian trixie"
    apt-get -q "${apt_opts[@]}" update
    work=$TRIXIE_APT/debs
    rm -f "$work"/*.deb
    (cd "$work" && apt-get -q "${apt_opts[@]}" download docker-buildx docker-compose)
    rm -rf "$TRIXIE_APT/root" && mkdir -p "$TRIXIE_APT/root" "$PLUGIN_DIR"
    for deb in "$work"/*.deb; do
        dpkg -x "$deb" "$TRIXIE_APT/root"
    done
    install -m 0755 "$TRIXIE_APT"/root/usr/libexec/docker/cli-plugins/docker-* "$PLUGIN_DIR/"
}

cmd_install() {
    local major
    require_root
    major=$(debian_major)
    if command -v dockerd >/dev/null && command -v docker >/dev/null; then
        log "docker engine already installed: $(dockerd --version)"
    else
        apt_install docker.io
    fi
    if plugin_works buildx && plugin_works compose; then
        log "buildx and compose plugins already work"
    elif [[ $major == 13 ]]; then
        apt_install docker-buildx docker-compose
    else
        plugins_from_trixie
    fi
    plugin_works buildx || die "docker buildx still not available after install"
    plugin_works compose || die "docker compose still not available after install"
    log "$(docker buildx version); $(docker compose version)"
}

cmd_start() {
    local found pid run=${HELIOS_ENGINE_RUN:-} waited=0
    if engine_answers; then
        log "a Docker engine already answers; leaving it as it is (this run starts none)"
        return 0
    fi
    if found=$(recorded); then
        die "dockerd ${found% *} (started by engine.sh) runs but does not answer; see $ENGINE_LOG"
    fi
    command -v dockerd >/dev/null || die "dockerd not found: run '$0 install' first"
    [[ -n $run ]] || run=$(new_run_name)
    [[ $run =~ ^[A-Za-z0-9._-]+$ ]] || die "HELIOS_ENGINE_RUN '$run': only letters, digits, . _ -"
    mkdir -p "$STATE_DIR" "$(dirname "$ENGINE_LOG")"
    log "starting dockerd for run $run (log: $ENGINE_LOG)"
    # shellcheck disable=SC2086 # HELIOS_DOCKERD_ARGS is a word list on purpose
    setsid dockerd ${HELIOS_DOCKERD_ARGS:-} >>"$ENGINE_LOG" 2>&1 </dev/null &
    pid=$!
    echo "$pid $run" >"$PIDFILE"
    until engine_answers; do
        # Its pid alone: until setsid has exec'd dockerd, /proc/<pid>/comm names setsid.
        if ! running "$pid"; then
            tail -n 20 "$ENGINE_LOG" >&2 || true
            rm -f "$PIDFILE"
            die "dockerd exited during startup; see $ENGINE_LOG"
        fi
        if ((waited >= ENGINE_WAIT)); then
            die "dockerd did not answer 'docker info' within ${ENGINE_WAIT}s; see $ENGINE_LOG"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    log "engine answers after ${waited}s: $(docker info --format '{{.ServerVersion}}')"
    log "stop it with: HELIOS_ENGINE_RUN=$run $0 stop"
}

cmd_stop() {
    local found pid owner run=${HELIOS_ENGINE_RUN:-} waited=0
    [[ -n $run ]] || die "HELIOS_ENGINE_RUN is not set: stop stops only the engine of that run"
    if ! found=$(recorded); then
        log "no engine started by engine.sh is running; nothing to stop"
        return 0
    fi
    pid=${found%% *}
    owner=${found#* }
    if [[ $owner != "$run" ]]; then
        log "dockerd $pid was started by run '${owner:-unnamed}', not '$run'; leaving it running"
        return 0
    fi
    log "stopping dockerd $pid (run $run)"
    kill -TERM "$pid"
    while running_dockerd "$pid"; do
        if ((waited >= 30)); then
            log "dockerd $pid ignored TERM for 30s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 1
        waited=$((waited + 1))
    done
    rm -f "$PIDFILE"
    log "dockerd stopped"
}

cmd_status() {
    local found answers=no
    engine_answers && answers=yes
    if found=$(recorded); then
        log "engine answers: $answers; started by engine.sh as pid ${found%% *} (run '${found#* }')"
    else
        log "engine answers: $answers; not started by engine.sh"
    fi
    [[ $answers == yes ]]
}

main() {
    case ${1:-} in
        install) cmd_install ;;
        start) cmd_start ;;
        stop) cmd_stop ;;
        status) cmd_status ;;
        *) die "usage: $0 install|start|stop|status (got '${1:-}')" ;;
    esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
