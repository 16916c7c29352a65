"""A fake Maven for the fetch tests (behind `runtime.fetch.Maven`), and a fake `mvn` script."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dreamscape_infra.runtime.fetch import Maven


def pom_version(pom: Path) -> str:
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom.read_text())
    assert match, pom
    return match.group(1)


@dataclass
class FakeMaven:
    """Copies a few empty jars named like Kafka's, as `mvn dependency:copy-dependencies` would.

    `exit_code` != 0 fails after writing part of the jars; `interrupt` raises after that, as a
    Ctrl-C during the download would; `no_kafka_jar` leaves the Kafka jar out.
    """

    exit_code: int = 0
    interrupt: bool = False
    no_kafka_jar: bool = False
    delay_s: float = 0.0
    calls: list[Path] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def factory(self) -> Callable[[Mapping[str, str]], Maven]:
        return lambda env: self

    def copy_dependencies(
        self, pom: Path, output_dir: Path, log_file: Path, on_line: Callable[[str], None]
    ) -> int:
        with self.lock:
            self.calls.append(pom)
        version = pom_version(pom)
        output_dir.mkdir(parents=True, exist_ok=True)
        with log_file.open("a") as log:
            for name in ("zookeeper-3.8.4.jar", "slf4j-api-1.7.36.jar"):
                (output_dir / name).write_bytes(b"")
                line = f"[INFO] Downloaded from central: https://repo/{name} (1 kB at 1 MB/s)"
                log.write(line + "\n")
                on_line(line)
            if self.exit_code:
                log.write("[ERROR] Failed to execute goal: could not resolve kafka_2.13\n")
                return self.exit_code
            if self.interrupt:
                raise KeyboardInterrupt
            time.sleep(self.delay_s)
            if not self.no_kafka_jar:
                (output_dir / f"kafka_2.13-{version}.jar").write_bytes(b"")
            log.write("[INFO] BUILD SUCCESS\n")
        return 0


FAKE_MVN = """#!/usr/bin/env bash
# A stand-in for `mvn dependency:copy-dependencies`: records the call, announces it has started
# (for tests that kill it midway), sleeps FAKE_MVN_SLEEP seconds, then copies one Kafka jar.
set -eu
pom=""; out=""
prev=""
for arg in "$@"; do
  case "$arg" in
    -DoutputDirectory=*) out="${arg#-DoutputDirectory=}" ;;
  esac
  if [ "$prev" = "-f" ]; then pom="$arg"; fi
  prev="$arg"
done
version="$(sed -n 's:.*<kafka.version>\\(.*\\)</kafka.version>.*:\\1:p' "$pom" | head -n1)"
echo "$$ $version" >> "$FAKE_MVN_CALLS"
mkdir -p "$out"
: > "$out/zookeeper-3.8.4.jar"
echo "[INFO] Downloaded from central: https://repo/zookeeper-3.8.4.jar"
touch "$FAKE_MVN_CALLS.started"
sleep "${FAKE_MVN_SLEEP:-0}"
: > "$out/kafka_2.13-$version.jar"
echo "[INFO] BUILD SUCCESS"
"""


def write_fake_mvn(folder: Path) -> Path:
    """An executable fake `mvn` in `folder`; point $MVN at it."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "mvn"
    script.write_text(FAKE_MVN)
    script.chmod(0o755)
    return script
