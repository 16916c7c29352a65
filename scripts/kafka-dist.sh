#!/usr/bin/env bash
# Fetches Apache Kafka jars from Maven Central into the cache (idempotent; a second run is instant).
#
# For every kafka-dist/pom-*.xml, the Kafka version is the POM's <kafka.version>; its runtime jars
# go to $CACHE/kafka/<version>/libs. A marker file `.complete` holding the POM's checksum is
# written last, so an interrupted download is redone and an edited POM is fetched again.
# The jars land in a temporary folder first and are moved into place in one rename, so a
# runtime never sees half a libs/ folder.
#
# Environment:
#   DREAMSCAPE_CACHE   cache root (default ~/.cache/dreamscape-infra)
#   MVN                maven command (default mvn)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${DREAMSCAPE_CACHE:-$HOME/.cache/dreamscape-infra}"
MVN="${MVN:-mvn}"

if ! command -v "$MVN" >/dev/null 2>&1; then
    echo "kafka-dist: '$MVN' not found; install Maven (apt-get install maven) or set KAFKA_HOME" >&2
    exit 4
fi

for pom in "$ROOT"/kafka-dist/pom-*.xml; do
    version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom" | head -n1)"
    if [[ -z "$version" ]]; then
        echo "kafka-dist: $pom has no <kafka.version> property" >&2
        exit 3
    fi
    dest="$CACHE/kafka/$version"
    sum="$(sha256sum "$pom" | cut -d' ' -f1)"
    if [[ -f "$dest/.complete" && "$(cat "$dest/.complete")" == "$sum" && -d "$dest/libs" ]]; then
        echo "kafka $version: jars already in $dest/libs"
        continue
    fi
    echo "kafka $version: resolving $(basename "$pom") from Maven Central..."
    mkdir -p "$dest"
    tmp="$(mktemp -d "$dest/.libs.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    # Maven's output only matters when it fails (and -q still prints colour resets)
    if ! "$MVN" -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" -DincludeScope=runtime >"$dest/mvn.log" 2>&1; then
        tail -n 30 "$dest/mvn.log" >&2
        echo "kafka-dist: Maven could not resolve $(basename "$pom") (full log: $dest/mvn.log)" >&2
        exit 4
    fi
    rm -rf "$dest/libs" "$dest/.complete"
    mv "$tmp" "$dest/libs"
    trap - EXIT
    echo "$sum" > "$dest/.complete"
    echo "kafka $version: $(find "$dest/libs" -name '*.jar' | wc -l) jars in $dest/libs"
done
