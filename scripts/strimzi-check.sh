#!/usr/bin/env bash
# The Strimzi-model check: deserializes KafkaTopic/KafkaUser manifests with Strimzi's own API
# classes (io.strimzi:api from Maven Central), strictly (strimzi-check/StrimziCheck.java).
#
#   scripts/strimzi-check.sh --build-only      resolve and compile (idempotent; `make strimzi-check`)
#   scripts/strimzi-check.sh FILE... | -       check manifests (multi-document YAML; - is stdin)
#
# The jars and the compiled class go to $CACHE/strimzi-check/<checksum of pom.xml and the Java
# source>, with a `.complete` marker written last, so a rerun is instant and an edit rebuilds.
# Environment: DREAMSCAPE_CACHE (default ~/.cache/dreamscape-infra), MVN (default mvn).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${DREAMSCAPE_CACHE:-$HOME/.cache/dreamscape-infra}"
MVN="${MVN:-mvn}"
SRC="$ROOT/strimzi-check"
sum="$(cat "$SRC/pom.xml" "$SRC/StrimziCheck.java" | sha256sum | cut -c1-16)"
dest="$CACHE/strimzi-check/$sum"

if [[ ! -f "$dest/.complete" ]]; then
    for tool in "$MVN" javac java; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "strimzi-check: '$tool' not found; install a JDK 17 and Maven" >&2
            exit 4
        fi
    done
    echo "strimzi-check: resolving io.strimzi:api and compiling the check into $dest" >&2
    mkdir -p "$dest"
    tmp="$(mktemp -d "$dest/.build.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    if ! "$MVN" -q -B -Dstyle.color=never -f "$SRC/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$tmp/libs" -DincludeScope=runtime >"$tmp/mvn.log" 2>&1; then
        tail -n 30 "$tmp/mvn.log" >&2
        echo "strimzi-check: Maven could not resolve strimzi-check/pom.xml" >&2
        exit 4
    fi
    javac -nowarn -d "$tmp/classes" -cp "$tmp/libs/*" "$SRC/StrimziCheck.java"
    rm -rf "$dest/libs" "$dest/classes"
    mv "$tmp/libs" "$tmp/classes" "$dest/"
    rm -rf "$tmp"
    trap - EXIT
    echo "$sum" > "$dest/.complete"
fi

if [[ "${1:-}" == "--build-only" ]]; then
    echo "strimzi-check: ready in $dest"
    exit 0
fi
exec java -Dslf4j.internal.verbosity=ERROR -cp "$dest/classes:$dest/libs/*" StrimziCheck "$@"
