#!/usr/bin/env bash
# Runs a command (the test suite) with a Docker engine and the stand-in images, then stops the
# engine again if this script started it:
#
#   bash scripts/with-docker.sh python3 -m pytest      # what `make test` runs
#
# A machine whose Docker already answers keeps its daemon, and it stays running afterwards.
# Otherwise, as root with apt, it installs Debian's docker.io and debootstrap when missing,
# starts a dockerd of its own (scripts/docker-engine.sh), builds the stand-in images
# (scripts/docker-images.sh) and exports the variables that select them. When that cannot be
# done, the command runs without Docker: the docker-marked tests then skip, or, under CI=true,
# fail. The exit code is the command's.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

say() { echo "with-docker: $*" >&2; }

before="$(bash "$ROOT/scripts/docker-engine.sh" env)"
stop_engine() {
    if [[ -z "$before" ]]; then
        bash "$ROOT/scripts/docker-engine.sh" stop || true
    fi
}
trap stop_engine EXIT

prepare() {
    if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
        if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
            say "installing Debian's docker.io and debootstrap"
            apt-get -o DPkg::Lock::Timeout=300 update -qq &&
                DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
                    docker.io debootstrap >/dev/null || return 1
        fi
    fi
    local started=$SECONDS exports
    exports="$(bash "$ROOT/scripts/docker-images.sh")" || return 1
    eval "$exports"
    say "docker engine and images ready in $((SECONDS - started))s"
}

if ! prepare; then
    say "no Docker engine for the docker-marked tests (see above): they skip, or fail under CI=true"
fi
"$@"
