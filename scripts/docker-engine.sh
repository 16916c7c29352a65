#!/usr/bin/env bash
# A Docker engine for the docker-marked tests and for `--runtime docker` on a machine without one.
#
#   bash scripts/docker-engine.sh start   # `make docker-engine`: nothing when a daemon answers
#   bash scripts/docker-engine.sh stop    # `make docker-engine-stop`: only an engine started here
#   bash scripts/docker-engine.sh env     # the DOCKER_HOST line for an engine started here
#
# A machine whose Docker already answers (a laptop with Docker Desktop or a system dockerd) keeps
# its own: `start` sees it answer and does nothing. Otherwise `start` runs Debian's dockerd
# (`apt-get install docker.io`) itself, without systemd:
#
#   --iptables=false --ip-forward=false  no firewall rule and no forwarding: containers reach each
#                                        other and the host's published 127.0.0.1 ports, nothing else
#   --data-root   $DREAMSCAPE_DOCKER_DATA  images and volumes; under ~/.cache so a machine that
#                                        keeps its cache keeps the built images between runs
#   --exec-root, -H unix://…, --pidfile  under $DREAMSCAPE_DOCKER_RUN: a socket of its own, so no
#                                        other process on the machine sees this engine by accident
#
# `start` prints `export DOCKER_HOST=unix://…` on stdout (only that; progress goes to stderr), so
# `eval "$(bash scripts/docker-engine.sh start)"` points the shell at it. `stop` sends SIGTERM to
# the pid it recorded (never to a daemon it did not start), waits, and removes what dockerd leaves
# behind when it stops: the docker0 bridge and the network-namespace mount under its exec root.
set -euo pipefail

RUN_DIR="${DREAMSCAPE_DOCKER_RUN:-/run/dreamscape-docker}"
DATA_DIR="${DREAMSCAPE_DOCKER_DATA:-${DREAMSCAPE_CACHE:-$HOME/.cache/dreamscape-infra}/docker}"
SOCK="$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/dockerd.pid"
EXEC_ROOT="$RUN_DIR/exec"
LOG="$RUN_DIR/dockerd.log"
BRIDGE="docker0"
START_TIMEOUT_S="${DREAMSCAPE_DOCKER_START_TIMEOUT:-60}"
OUR_HOST="unix://$SOCK"

say() { echo "docker-engine: $*" >&2; }

answers() {  # answers [DOCKER_HOST value]: 0 when that daemon (or the default one) replies
    local host="${1-}"
    command -v docker >/dev/null 2>&1 || return 1
    if [[ -n "$host" ]]; then
        DOCKER_HOST="$host" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
    else
        timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
    fi
}

our_pid() {  # the pid of the dockerd this script started, when it is still that dockerd
    [[ -f "$PIDFILE" ]] || return 1
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--pidfile $PIDFILE" || return 1
    echo "$pid"
}

cleanup_leftovers() {
    # dockerd leaves its default bridge and the bind mount of its netns folder behind
    if [[ -d "$EXEC_ROOT/netns" ]]; then
        local ns
        for ns in "$EXEC_ROOT"/netns/*; do
            [[ -e "$ns" ]] && umount "$ns" 2>/dev/null || true
        done
        umount "$EXEC_ROOT/netns" 2>/dev/null || true
    fi
    # The bridges only when no dockerd runs at all: docker0 is every daemon's default bridge, and
    # a daemon of the machine's own may be using it.
    local link
    if pgrep -x dockerd >/dev/null 2>&1; then
        say "a dockerd still runs (not ours): leaving the bridges alone"
    else
        for link in "$BRIDGE" $(cat "$RUN_DIR/bridges" 2>/dev/null); do
            if ip link show "$link" >/dev/null 2>&1; then
                ip link delete "$link" 2>/dev/null || say "could not delete the $link bridge"
            fi
        done
    fi
    rm -rf "$EXEC_ROOT" "$SOCK" "$PIDFILE" "$RUN_DIR/bridges"
}

start() {
    if [[ -z "${DOCKER_HOST-}" || "${DOCKER_HOST-}" != "$OUR_HOST" ]] && answers "${DOCKER_HOST-}"; then
        say "a Docker daemon already answers (${DOCKER_HOST:-the default socket}): using it"
        return 0
    fi
    if our_pid >/dev/null && answers "$OUR_HOST"; then
        say "the engine started by this script runs (pid $(our_pid))"
        echo "export DOCKER_HOST=$OUR_HOST"
        return 0
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
        say "dockerd is not installed: apt-get install -y docker.io (or install Docker)"
        return 1
    fi
    if [[ "$(id -u)" != 0 ]]; then
        say "starting dockerd needs root; start your Docker (or Docker Desktop) instead"
        return 1
    fi
    if [[ -f "$PIDFILE" ]] && ! our_pid >/dev/null; then
        say "removing what a dockerd that is gone left behind"
        cleanup_leftovers
    fi
    mkdir -p "$RUN_DIR" "$DATA_DIR" "$EXEC_ROOT"
    say "starting dockerd (data root $DATA_DIR, socket $SOCK, log $LOG)"
    # setsid: the daemon outlives this script and make, and no terminal signal reaches it
    setsid dockerd \
        --iptables=false --ip-forward=false --ip-masq=false \
        --data-root "$DATA_DIR" --exec-root "$EXEC_ROOT" \
        -H "$OUR_HOST" --pidfile "$PIDFILE" \
        >"$LOG" 2>&1 </dev/null &
    local deadline=$((SECONDS + START_TIMEOUT_S))
    until answers "$OUR_HOST"; do
        if ((SECONDS >= deadline)); then
            say "dockerd did not answer within ${START_TIMEOUT_S}s; its last lines:"
            tail -n 20 "$LOG" >&2 || true
            stop >/dev/null || true
            return 1
        fi
        sleep 0.5
    done
    say "dockerd answers on $SOCK (pid $(our_pid || echo '?'))"
    echo "export DOCKER_HOST=$OUR_HOST"
}

stop() {
    local pid
    if ! pid="$(our_pid)"; then
        if [[ -e "$PIDFILE" || -e "$SOCK" || -d "$EXEC_ROOT" ]]; then
            cleanup_leftovers
        fi
        say "no engine started by this script is running: nothing to stop"
        return 0
    fi
    # containers first, so no container process outlives the daemon's shim
    local running
    running="$(DOCKER_HOST="$OUR_HOST" timeout 30 docker ps -q 2>/dev/null || true)"
    if [[ -n "$running" ]]; then
        say "stopping containers still running: $(echo "$running" | wc -l)"
        # shellcheck disable=SC2086
        DOCKER_HOST="$OUR_HOST" timeout 60 docker kill $running >/dev/null 2>&1 || true
    fi
    # the bridges of networks still defined (a compose stack not taken down) outlive dockerd too
    DOCKER_HOST="$OUR_HOST" timeout 30 docker network ls --filter driver=bridge -q 2>/dev/null \
        | while read -r id; do
            DOCKER_HOST="$OUR_HOST" docker network inspect --format \
                '{{ index .Options "com.docker.network.bridge.name" }} br-{{ printf "%.12s" .Id }}' \
                "$id" 2>/dev/null
        done | tr ' ' '\n' | grep -v '^$' >"$RUN_DIR/bridges" || true
    say "stopping dockerd (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            say "dockerd (pid $pid) did not stop within 30s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
            break
        fi
        sleep 0.2
    done
    cleanup_leftovers
    say "stopped"
}

env_line() {
    if our_pid >/dev/null; then
        echo "export DOCKER_HOST=$OUR_HOST"
    fi
}

case "${1-}" in
start) start ;;
stop) stop ;;
env) env_line ;;
*)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
