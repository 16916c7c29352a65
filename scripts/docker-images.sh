#!/usr/bin/env bash
# Builds the images the compose stack runs in CI, where no image registry is reachable, and
# prints the variables that make docker/docker-compose.kafka.yml use them:
#
#   eval "$(make -s docker-images)"      # or: eval "$(bash scripts/docker-images.sh)"
#   dreamscape-infra up --runtime docker
#
# These are local stand-ins, not Confluent's images (docs/docker-stack.md says what differs):
#   dreamscape-ci/base:bookworm     `debootstrap --variant=minbase bookworm` from the Debian mirror
#                                   apt uses here, imported with `docker import`
#   dreamscape-ci/python:3.11       Debian's Python 3.11 (docker/standin/python), the topic-init base
#   dreamscape-ci/zookeeper:<v>     Apache Kafka's jars (the Maven artifacts the local runtime
#   dreamscape-ci/kafka:<v>         caches) on Debian's Java 17 (docker/standin/kafka), honouring
#                                   the cp images' KAFKA_*/ZOOKEEPER_* variables, tools and paths
#   dreamscape-ci/topic-init:local  docker/Dockerfile built FROM the Python stand-in
# Kafka UI and Schema Registry have no stand-in: their profiles are not run in CI.
#
# Each image carries a `dreamscape.inputs` label, a hash of everything it is built from; an
# image whose label matches is not rebuilt, so a machine that keeps its Docker data root
# (scripts/docker-engine.sh keeps it under ~/.cache) builds them once. Builds use
# `--network host` only so apt and pip reach their package registries. Progress goes to
# stderr; stdout holds only `export` lines.
#
# Environment: DREAMSCAPE_DEBIAN_MIRROR (default: the mirror of /etc/apt/sources.list*),
# DREAMSCAPE_IMAGES_REBUILD=1 to rebuild everything.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PY:-python3}"
SUITE="bookworm"
BASE_IMAGE="dreamscape-ci/base:$SUITE"
PYTHON_IMAGE="dreamscape-ci/python:3.11"
TOPIC_INIT_IMAGE="dreamscape-ci/topic-init:local"
LABEL="dreamscape.inputs"

say() { echo "docker-images: $*" >&2; }

# The engine: the daemon that answers, else the one scripts/docker-engine.sh starts.
engine_env="$(bash "$ROOT/scripts/docker-engine.sh" start)"
eval "$engine_env"

debian_mirror() {
    if [[ -n "${DREAMSCAPE_DEBIAN_MIRROR-}" ]]; then
        echo "$DREAMSCAPE_DEBIAN_MIRROR"
        return
    fi
    local file mirror=""
    # deb822 .sources: the URIs of a stanza whose Suites name bookworm itself
    for file in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$file" ]] || continue
        mirror="$(awk -v suite="$SUITE" '
            BEGIN { RS = ""; FS = "\n" }
            {
                uris = ""; ok = 0
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uris = u[1] }
                    if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == suite) ok = 1 }
                }
                if (ok && uris != "") { print uris; exit }
            }' "$file")"
        [[ -n "$mirror" ]] && break
    done
    if [[ -z "$mirror" ]]; then
        # one-line format: deb [options] URL bookworm components
        mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | sed -E 's/\[[^]]*\]//' \
            | awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }')"
    fi
    if [[ -z "$mirror" ]]; then
        say "no Debian $SUITE mirror in /etc/apt/sources.list*: set DREAMSCAPE_DEBIAN_MIRROR"
        exit 1
    fi
    echo "$mirror"
}

hash_of() {  # hash_of WORDS... FILES_OR_DIRS...: one hash over the strings and file contents
    local item
    for item in "$@"; do
        if [[ -d "$item" ]]; then
            (cd "$item" && find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 \
                | LC_ALL=C sort -z | xargs -0 sha256sum)
        elif [[ -f "$item" ]]; then
            sha256sum <"$item"
        else
            echo "$item"
        fi
    done | sha256sum | cut -c1-16
}

current_inputs() {  # the dreamscape.inputs label of an image, or nothing
    docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true
}

up_to_date() {
    [[ "${DREAMSCAPE_IMAGES_REBUILD:-0}" != 1 && "$(current_inputs "$1")" == "$2" ]]
}

timed() {  # timed NAME CMD...: run, report how long it took
    local name="$1" start=$SECONDS
    shift
    "$@"
    say "$name built in $((SECONDS - start))s"
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

build_base() {
    local mirror="$1" inputs="$2"
    if ! command -v debootstrap >/dev/null 2>&1; then
        say "debootstrap is not installed: apt-get install -y debootstrap"
        exit 1
    fi
    say "debootstrap --variant=minbase $SUITE from $mirror"
    debootstrap --variant=minbase "$SUITE" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
        tail -n 20 "$work/debootstrap.log" >&2
        exit 1
    }
    rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
    tar -C "$work/rootfs" -c . | docker import \
        --change "LABEL $LABEL=$inputs" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        - "$BASE_IMAGE" >/dev/null
    rm -rf "$work/rootfs"
}

build() {  # build IMAGE INPUTS CONTEXT [docker build args...]
    local image="$1" inputs="$2" context="$3"
    shift 3
    docker build --network host --quiet --label "$LABEL=$inputs" -t "$image" "$@" "$context" \
        >"$work/build.log" 2>&1 || {
        say "building $image failed:"
        tail -n 30 "$work/build.log" >&2
        exit 1
    }
}

# -- base ---------------------------------------------------------------------------------------
mirror="$(debian_mirror)"
base_inputs="$(hash_of "base-v1" "$SUITE" "minbase" "$mirror")"
if up_to_date "$BASE_IMAGE" "$base_inputs"; then
    say "$BASE_IMAGE is up to date"
else
    timed "$BASE_IMAGE" build_base "$mirror" "$base_inputs"
fi
base_id="$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE")"

# -- Python (topic-init's base) -----------------------------------------------------------------
ca_bundle="${DREAMSCAPE_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
context="$work/python"
cp -r "$ROOT/docker/standin/python" "$context"
if [[ -f "$ca_bundle" ]]; then cp "$ca_bundle" "$context/host-ca.crt"; else : >"$context/host-ca.crt"; fi
python_inputs="$(hash_of "$base_id" "$context")"
if up_to_date "$PYTHON_IMAGE" "$python_inputs"; then
    say "$PYTHON_IMAGE is up to date"
else
    timed "$PYTHON_IMAGE" build "$PYTHON_IMAGE" "$python_inputs" "$context" \
        --build-arg "BASE_IMAGE=$BASE_IMAGE"
fi
python_id="$(docker image inspect --format '{{.Id}}' "$PYTHON_IMAGE")"

# -- ZooKeeper and Kafka from the local runtime's jars -----------------------------------------
ours() { PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PY" "$@"; }  # this checkout's code
ours -m dreamscape_infra runtime fetch --kafka 3.9 >&2
dist="import os; from dreamscape_infra.runtime.dist import find_kafka; d = find_kafka('zookeeper', os.environ)"
libs="$(ours -c "$dist; print(d.libs)")"
version="$(ours -c "$dist; print(d.version)")"
ZOOKEEPER_IMAGE="dreamscape-ci/zookeeper:$version"
KAFKA_IMAGE="dreamscape-ci/kafka:$version"
kafka_inputs="$(hash_of "$base_id" "$ROOT/docker/standin/kafka" "$libs")"
if up_to_date "$ZOOKEEPER_IMAGE" "$kafka_inputs" && up_to_date "$KAFKA_IMAGE" "$kafka_inputs"; then
    say "$ZOOKEEPER_IMAGE and $KAFKA_IMAGE are up to date"
else
    context="$work/kafka"
    cp -r "$ROOT/docker/standin/kafka" "$context"
    cp -r "$libs" "$context/libs"
    timed "$ZOOKEEPER_IMAGE" build "$ZOOKEEPER_IMAGE" "$kafka_inputs" "$context" \
        --build-arg "BASE_IMAGE=$BASE_IMAGE" --target zookeeper
    timed "$KAFKA_IMAGE" build "$KAFKA_IMAGE" "$kafka_inputs" "$context" \
        --build-arg "BASE_IMAGE=$BASE_IMAGE" --target kafka
    rm -rf "$context"
fi

# -- topic-init: docker/Dockerfile on the Python stand-in, with this checkout's code ------------
init_inputs="$(hash_of "$python_id" "$ROOT/docker/Dockerfile" "$ROOT/.dockerignore" \
    "$ROOT/pyproject.toml" "$ROOT/README.md" "$ROOT/dreamscape_infra")"
if up_to_date "$TOPIC_INIT_IMAGE" "$init_inputs"; then
    say "$TOPIC_INIT_IMAGE is up to date"
else
    timed "$TOPIC_INIT_IMAGE" build "$TOPIC_INIT_IMAGE" "$init_inputs" "$ROOT" \
        -f "$ROOT/docker/Dockerfile" --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE"
fi

[[ -n "$engine_env" ]] && echo "$engine_env"
echo "export DREAMSCAPE_ZOOKEEPER_IMAGE=$ZOOKEEPER_IMAGE"
echo "export DREAMSCAPE_KAFKA_IMAGE=$KAFKA_IMAGE"
echo "export DREAMSCAPE_PYTHON_IMAGE=$PYTHON_IMAGE"
echo "export DREAMSCAPE_TOPIC_INIT_IMAGE=$TOPIC_INIT_IMAGE"
