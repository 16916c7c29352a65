"""Finding Java and the Kafka jars the local runtime runs.

The jars come from `runtime.fetch` (`up` on first use, `dreamscape-infra runtime fetch`,
`make kafka-dist`), which has Maven copy what the POMs in dreamscape_infra/data/kafka-dist/
resolve into `${DREAMSCAPE_CACHE:-~/.cache/dreamscape-infra}/kafka/<version>/libs`, or from an
Apache Kafka install named by KAFKA_HOME (its `libs/`). Nothing here downloads.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dreamscape_infra.errors import EnvironmentFailure

KafkaLine = Literal["zookeeper", "kraft"]

# Must match <kafka.version> in dreamscape_infra/data/kafka-dist/pom-3.9.xml and pom-4.1.xml
# (a test checks it).
ZOOKEEPER_VERSION = "3.9.1"  # the last line with ZooKeeper mode, like the compose stack
KRAFT_VERSION = "4.1.1"

CACHE_ENV = "DREAMSCAPE_CACHE"
MARKER = ".complete"  # written last by runtime.fetch: without it libs/ does not count
_KAFKA_JAR = re.compile(r"^kafka_2\.1[23]-(\d+)\.(\d+)\.(\d+)[^/]*\.jar$")


@dataclass(frozen=True, slots=True)
class KafkaDist:
    """One usable set of Kafka jars."""

    version: str
    libs: Path
    source: Literal["cache", "KAFKA_HOME"]

    @property
    def major(self) -> int:
        return int(self.version.split(".", 1)[0])

    @property
    def classpath(self) -> str:
        """A `java -cp` wildcard: the JVM expands it, so the command line stays short."""
        return str(self.libs / "*")


def cache_root(env: Mapping[str, str]) -> Path:
    """Where `runtime.fetch` puts the jars: $DREAMSCAPE_CACHE, else ~/.cache/dreamscape-infra."""
    configured = env.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".cache" / "dreamscape-infra"


def jar_version(libs: Path) -> str | None:
    """The version of the `kafka_2.13-X.Y.Z.jar` in `libs`, or None when there is none."""
    try:
        names = [p.name for p in libs.iterdir()]
    except OSError:
        return None
    for name in sorted(names):
        match = _KAFKA_JAR.match(name)
        if match and "-test" not in name and "-sources" not in name:
            return ".".join(match.groups())
    return None


def find_kafka(line: KafkaLine, env: Mapping[str, str]) -> KafkaDist:
    """The jars for ZooKeeper mode (3.9) or KRaft (4.x).

    KAFKA_HOME, when set, wins for both lines; a 4.x install cannot run ZooKeeper mode.
    Raises EnvironmentFailure saying how to get the jars when they are missing.
    """
    home = env.get("KAFKA_HOME")
    if home:
        libs = Path(home).expanduser() / "libs"
        version = jar_version(libs)
        if version is None:
            raise EnvironmentFailure(
                f"KAFKA_HOME={home} has no Kafka jars (no kafka_2.13-*.jar in {libs}): point "
                "KAFKA_HOME at an Apache Kafka install, or unset it so `up` fetches the jars"
            )
        dist = KafkaDist(version, libs, "KAFKA_HOME")
        if line == "zookeeper" and dist.major >= 4:
            raise EnvironmentFailure(
                f"KAFKA_HOME holds Kafka {version}, which has no ZooKeeper mode",
                hint="use --kraft, or point KAFKA_HOME at Kafka 3.x",
            )
        return dist
    version = ZOOKEEPER_VERSION if line == "zookeeper" else KRAFT_VERSION
    folder = cache_root(env) / "kafka" / version
    libs = folder / "libs"
    if not (folder / MARKER).is_file() or jar_version(libs) is None:
        label = "3.9" if line == "zookeeper" else "4.x"
        raise EnvironmentFailure(
            f"the Kafka {version} jars are missing (looked in {libs}): run "
            f"`dreamscape-infra runtime fetch --kafka {label}` (or `make kafka-dist`), "
            "or set KAFKA_HOME"
        )
    return KafkaDist(version, libs, "cache")


def find_java(env: Mapping[str, str]) -> str:
    """The `java` executable: $JAVA_HOME/bin/java, else the first on PATH.

    Raises EnvironmentFailure when there is none.
    """
    java_home = env.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("java", path=env.get("PATH", os.defpath))
    if found is None:
        raise EnvironmentFailure(
            "Java was not found (no JAVA_HOME/bin/java, no java on PATH): install Java 17+ "
            "(e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME; or use "
            "--runtime docker"
        )
    return found


def java_available(env: Mapping[str, str]) -> bool:
    """True when `find_java` would succeed."""
    try:
        find_java(env)
    except EnvironmentFailure:
        return False
    return True
