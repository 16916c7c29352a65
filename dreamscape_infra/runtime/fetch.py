"""Fetching the Kafka jars into the cache with Maven, safely when the cache is shared.

The jars are described by the POMs shipped as package data (`dreamscape_infra/data/kafka-dist/`):
Maven resolves them, checks their checksums and honours the user's `~/.m2/settings.xml` and
mirrors; nothing here downloads by itself. `up --runtime local` calls `ensure_kafka` on first
use, `dreamscape-infra runtime fetch` and `make kafka-dist` call `fetch_kafka` ahead of time.

The cache, per Kafka version (`${DREAMSCAPE_CACHE:-~/.cache/dreamscape-infra}/kafka/`):

    <version>.lock        flock'ed while one process checks or fills <version>/ (never deleted)
    <version>/libs/       the jars, moved into place in one rename
    <version>/.complete   the POM's sha256, written last: without it libs/ does not count
    <version>/mvn.log     Maven's output of the last fetch
    <version>/.fetch-*/   a fetch in progress (or killed: removed by the next one)

So two CI jobs on one runner both succeed (the second waits, then finds the jars), and a fetch
killed midway leaves no `.complete`, which the next run redoes from scratch.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.runtime.base import ProgressCallback, no_progress
from dreamscape_infra.runtime.dist import (
    KRAFT_VERSION,
    MARKER,
    ZOOKEEPER_VERSION,
    KafkaDist,
    KafkaLine,
    cache_root,
    find_java,
    find_kafka,
    jar_version,
)

OFFLINE_ENV = "DREAMSCAPE_OFFLINE"
MVN_ENV = "MVN"
LOCK_TIMEOUT_S = 1800.0  # a cold fetch on a slow mirror takes minutes; a hung one must end
_DOWNLOADED = re.compile(r"^\s*(?:\[INFO\]\s*)?Downloaded from ")
_TAIL_LINES = 20


@dataclass(frozen=True, slots=True)
class KafkaPom:
    """One pinned set of Kafka jars: the POM shipped in the package and what it resolves."""

    line: KafkaLine
    label: str  # what `--kafka` calls it
    version: str
    resource: str  # file name under dreamscape_infra/data/kafka-dist/

    def text(self) -> bytes:
        """The POM's bytes, read from the installed package."""
        return (
            resources.files("dreamscape_infra")
            .joinpath("data", "kafka-dist", self.resource)
            .read_bytes()
        )

    def sha256(self) -> str:
        return hashlib.sha256(self.text()).hexdigest()


POMS = (
    KafkaPom("zookeeper", "3.9", ZOOKEEPER_VERSION, "pom-3.9.xml"),
    KafkaPom("kraft", "4.x", KRAFT_VERSION, "pom-4.1.xml"),
)
SELECTORS = ("3.9", "4.x", "all")
_ALIASES = {
    "3": "3.9",
    "3.9": "3.9",
    ZOOKEEPER_VERSION: "3.9",
    "zookeeper": "3.9",
    "4": "4.x",
    "4.x": "4.x",
    "4.1": "4.x",
    KRAFT_VERSION: "4.x",
    "kraft": "4.x",
    "all": "all",
}


def select_poms(selector: str) -> tuple[KafkaPom, ...]:
    """`3.9`, `4.x` or `all` (also `3`, `4`, `4.1`, the full versions) -> the POMs to fetch.

    Raises ValueError with the accepted values for anything else.
    """
    label = _ALIASES.get(selector.strip().lower())
    if label is None:
        raise ValueError(f"unknown Kafka line '{selector}' (expected {', '.join(SELECTORS)})")
    return tuple(p for p in POMS if label in ("all", p.label))


def pom_for(line: KafkaLine) -> KafkaPom:
    """The POM of ZooKeeper mode (3.9) or KRaft (4.x)."""
    return next(p for p in POMS if p.line == line)


def offline(env: Mapping[str, str]) -> bool:
    """DREAMSCAPE_OFFLINE=1 (or true/yes): never fetch."""
    return (env.get(OFFLINE_ENV) or "").strip().lower() in ("1", "true", "yes")


# ---- Maven, behind a Protocol so tests can hand a fake ---------------------------------------


class Maven(Protocol):
    """What a fetch needs from Maven."""

    def copy_dependencies(
        self, pom: Path, output_dir: Path, log_file: Path, on_line: Callable[[str], None]
    ) -> int:
        """Resolve `pom`'s runtime dependencies and copy their jars into `output_dir`.

        Maven's output is appended to `log_file`, each line also handed to `on_line`.
        Returns Maven's exit code.
        """
        ...


class MavenCli:
    """`Maven` over the real `mvn` (or $MVN), run through `runtime.process.run_streaming`."""

    def __init__(self, executable: str, env: Mapping[str, str]) -> None:
        self.executable = executable
        self._env = env

    def argv(self, pom: Path, output_dir: Path) -> tuple[str, ...]:
        # Not -q: the "Downloaded from" lines are the progress we show. No -o either: an
        # offline Maven would fail on a cold ~/.m2; DREAMSCAPE_OFFLINE stops us calling it.
        return (
            self.executable,
            "-B",
            "-Dstyle.color=never",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={output_dir}",
            "-DincludeScope=runtime",
        )

    def copy_dependencies(
        self, pom: Path, output_dir: Path, log_file: Path, on_line: Callable[[str], None]
    ) -> int:
        from dreamscape_infra.runtime.process import run_streaming

        return run_streaming(
            self.argv(pom, output_dir), log_file, self._env, on_line, cwd=pom.parent
        )

    def artifacts_argv(self, pom: Path, output_dir: Path) -> tuple[str, ...]:
        return (
            self.executable,
            "-B",
            "-Dstyle.color=never",
            "-f",
            str(pom),
            "dependency:copy",
            f"-DoutputDirectory={output_dir}",
        )

    def copy_artifacts(
        self, pom: Path, output_dir: Path, log_file: Path, on_line: Callable[[str], None]
    ) -> int:
        """`dependency:copy` of the POM's artifact items (see `ArtifactMaven`)."""
        from dreamscape_infra.runtime.process import run_streaming

        return run_streaming(
            self.artifacts_argv(pom, output_dir), log_file, self._env, on_line, cwd=pom.parent
        )


class ArtifactMaven(Protocol):
    """What fetching a single artifact (the Schema Registry's zip) needs from Maven."""

    def copy_artifacts(
        self, pom: Path, output_dir: Path, log_file: Path, on_line: Callable[[str], None]
    ) -> int:
        """Copy the artifact items configured in `pom` into `output_dir`, with no transitive
        dependencies (`dependency:copy`); output as for `Maven.copy_dependencies`."""
        ...


MavenFactory = Callable[[Mapping[str, str]], Maven]


def find_maven(env: Mapping[str, str]) -> str:
    """The `mvn` executable ($MVN, else the first on PATH); EnvironmentFailure (one line)
    naming what to install when there is none."""
    configured = (env.get(MVN_ENV) or "").strip()
    name = configured or "mvn"
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    if found is None:
        where = f"MVN={configured} is not an executable" if configured else "no mvn on PATH"
        raise EnvironmentFailure(
            f"Maven was not found ({where}): install Maven 3.6+ (e.g. apt-get install maven, "
            "brew install maven) to fetch the Kafka jars, or set KAFKA_HOME to an Apache "
            "Kafka install"
        )
    return found


def _java_one_line(env: Mapping[str, str]) -> str | None:
    try:
        find_java(env)
    except EnvironmentFailure as exc:
        return exc.message
    return None


def default_maven(env: Mapping[str, str]) -> MavenCli:
    """The real Maven; checks Java (which Maven needs) and Maven, one line naming each missing
    one, so a runner without them fails in a second rather than in a stack trace."""
    java_problem = _java_one_line(env)
    try:
        mvn = find_maven(env)
    except EnvironmentFailure:
        if java_problem is not None:
            raise EnvironmentFailure(
                "Java and Maven were not found (no java, no mvn on PATH): install Java 17+ and "
                "Maven 3.6+ (e.g. apt-get install openjdk-17-jdk-headless maven), or set "
                "KAFKA_HOME to an Apache Kafka install"
            ) from None
        raise
    if java_problem is not None:
        raise EnvironmentFailure(java_problem)
    return MavenCli(mvn, env)


# ---- the cache -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The jars of one Kafka version, and what it took to get them."""

    version: str
    label: str
    libs: Path
    jars: int
    fetched: bool  # False: they were already complete (perhaps fetched by a process we waited for)
    seconds: float
    waited_s: float = 0.0


def fetch_document(
    results: Sequence[FetchResult], cache: Path, offline: bool, *, from_home: bool = False
) -> dict[str, Any]:
    """`runtime fetch --output json` (docs/json-output.md): `source` is KAFKA_HOME or cache."""
    return {
        "kind": "runtime-fetch",
        "version": 1,
        "source": "KAFKA_HOME" if from_home else "cache",
        "cache": str(cache),
        "offline": offline,
        "kafka": [
            {
                "version": r.version,
                "libs": str(r.libs),
                "fetched": r.fetched,
                "jars": r.jars,
                "seconds": round(r.seconds, 1),
                "waited_s": round(r.waited_s, 1),
            }
            for r in results
        ],
    }


def version_folder(pom: KafkaPom, env: Mapping[str, str]) -> Path:
    return cache_root(env) / "kafka" / pom.version


def is_complete(folder: Path, pom: KafkaPom) -> bool:
    """The marker holds this POM's checksum and libs/ has this version's Kafka jar."""
    try:
        marker = (folder / MARKER).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return marker == pom.sha256() and jar_version(folder / "libs") == pom.version


def _count_jars(libs: Path) -> int:
    return sum(1 for p in libs.glob("*.jar"))


@contextlib.contextmanager
def cache_lock(
    lock_file: Path,
    on_wait: Callable[[], None],
    *,
    timeout_s: float = LOCK_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[float]:
    """Hold an exclusive flock on `lock_file`; yields the seconds spent waiting for it.

    `on_wait` is called once when another process holds it. The lock goes with our file
    descriptor, so a killed holder never leaves it stuck; the file itself stays (deleting a
    lock file lets two processes lock two different files).
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        started = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    on_wait()
                    told = True
                if time.monotonic() - started > timeout_s:
                    raise EnvironmentFailure(
                        f"another process has held {lock_file} for over {timeout_s:g}s",
                        hint="is a fetch hung? stop it, or point DREAMSCAPE_CACHE elsewhere",
                    ) from None
                sleep(0.2)
        yield time.monotonic() - started
    finally:
        os.close(fd)  # releases the lock


def _remove_leftovers(folder: Path) -> None:
    """Fetch folders of killed runs; only called with the lock held, so none is live."""
    for leftover in folder.glob(".fetch-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _failure_details(log_file: Path) -> list[str]:
    try:
        lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    errors = [line for line in lines if line.startswith("[ERROR]") and line.strip() != "[ERROR]"]
    return (errors or [line for line in lines if line.strip()])[-_TAIL_LINES:]


def fetch_kafka(
    pom: KafkaPom,
    env: Mapping[str, str],
    *,
    progress: ProgressCallback = no_progress,
    detail: Callable[[str, str], None] | None = None,
    maven_factory: MavenFactory = default_maven,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchResult:
    """Make `<cache>/kafka/<version>` complete for `pom`, fetching with Maven when needed.

    `progress` gets one message per step; `detail`, when given, gets transient updates (files
    downloaded so far) for a live display. Holds the version's lock while it checks and
    fills, so concurrent callers all succeed and Maven runs once. The jars are resolved into a
    fresh `.fetch-*` folder, renamed to libs/, and the marker is written last: an interrupted
    fetch is never mistaken for a complete one. Raises EnvironmentFailure when Java or Maven is
    missing or Maven fails (with its error lines and the log's path).
    """
    started = time.monotonic()
    folder = version_folder(pom, env)
    subject = f"kafka {pom.version}"
    libs = folder / "libs"
    if is_complete(folder, pom):  # the common case takes no lock
        return FetchResult(pom.version, pom.label, libs, _count_jars(libs), False, 0.0)

    def waiting() -> None:
        progress(subject, f"waiting for another process fetching into {folder}")

    with cache_lock(
        folder.parent / f"{pom.version}.lock", waiting, timeout_s=lock_timeout_s, sleep=sleep
    ) as waited:
        if is_complete(folder, pom):
            return FetchResult(
                pom.version,
                pom.label,
                libs,
                _count_jars(libs),
                False,
                time.monotonic() - started,
                waited,
            )
        maven = maven_factory(env)  # only now: a complete cache needs neither Java nor Maven
        folder.mkdir(parents=True, exist_ok=True)
        # From here the folder is incomplete until the very end, whatever it held before.
        (folder / MARKER).unlink(missing_ok=True)
        _remove_leftovers(folder)
        work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=folder))
        try:
            jars = _resolve(pom, maven, work, folder, subject, progress, detail)
            shutil.rmtree(libs, ignore_errors=True)
            (work / "libs").rename(libs)
            _write_marker(folder, pom.sha256())
        finally:
            shutil.rmtree(work, ignore_errors=True)
    progress(subject, f"{jars} jars in {libs}")
    return FetchResult(pom.version, pom.label, libs, jars, True, time.monotonic() - started, waited)


def _resolve(
    pom: KafkaPom,
    maven: Maven,
    work: Path,
    folder: Path,
    subject: str,
    progress: ProgressCallback,
    detail: Callable[[str, str], None] | None,
) -> int:
    """Run Maven into `work/libs`; returns the number of jars. Raises on any failure."""
    pom_file = work / "pom.xml"
    pom_file.write_bytes(pom.text())  # the package may be read-only; Maven gets its own copy
    log_file = folder / "mvn.log"
    log_file.unlink(missing_ok=True)
    progress(subject, "resolving the jars with Maven (first use; this can take a minute)")
    downloaded = 0

    def on_line(line: str) -> None:
        nonlocal downloaded
        if detail is not None and _DOWNLOADED.match(line):
            downloaded += 1
            detail(subject, f"resolving with Maven: {downloaded} files downloaded")

    code = maven.copy_dependencies(pom_file, work / "libs", log_file, on_line)
    if code != 0:
        raise EnvironmentFailure(
            f"Maven could not resolve the Kafka {pom.version} jars (exit {code})",
            hint=f"full log: {log_file}; check the network, or the mirror in ~/.m2/settings.xml",
            details=_failure_details(log_file),
        )
    found = jar_version(work / "libs")
    if found != pom.version:
        raise EnvironmentFailure(
            f"Maven finished but no kafka_2.13-{pom.version}.jar was copied (found {found})",
            hint=f"full log: {log_file}",
        )
    return _count_jars(work / "libs")


def _write_marker(folder: Path, checksum: str) -> None:
    tmp = folder / f"{MARKER}.tmp"
    with tmp.open("w", encoding="ascii") as handle:
        handle.write(checksum + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(folder / MARKER)


# ---- what `up` calls -------------------------------------------------------------------------


def missing_offline(pom: KafkaPom, env: Mapping[str, str]) -> EnvironmentFailure:
    """The one line for jars missing while DREAMSCAPE_OFFLINE forbids fetching them."""
    libs = version_folder(pom, env) / "libs"
    return EnvironmentFailure(
        f"the Kafka {pom.version} jars are not in {libs} and {OFFLINE_ENV}=1 forbids fetching "
        f"them: run `dreamscape-infra runtime fetch --kafka {pom.label}` once without "
        f"{OFFLINE_ENV} (or set KAFKA_HOME to an Apache Kafka "
        f"{'3.x' if pom.line == 'zookeeper' else '4.x'} install)"
    )


def ensure_kafka(
    line: KafkaLine,
    env: Mapping[str, str],
    *,
    progress: ProgressCallback = no_progress,
    maven_factory: MavenFactory = default_maven,
) -> KafkaDist:
    """The jars of a Kafka line, fetched first when they are missing.

    With KAFKA_HOME, or DREAMSCAPE_OFFLINE=1, nothing is fetched: a missing jar is an
    EnvironmentFailure whose one line says what to do.
    """
    if env.get("KAFKA_HOME"):
        return find_kafka(line, env)
    pom = pom_for(line)
    if offline(env):
        if not (version_folder(pom, env) / MARKER).is_file():
            raise missing_offline(pom, env)
        return find_kafka(line, env)
    fetch_kafka(pom, env, progress=progress, maven_factory=maven_factory)
    return find_kafka(line, env)


def fetch_all(
    poms: Sequence[KafkaPom],
    env: Mapping[str, str],
    *,
    progress: ProgressCallback = no_progress,
    detail: Callable[[str, str], None] | None = None,
    maven_factory: MavenFactory = default_maven,
) -> tuple[FetchResult, ...]:
    """`runtime fetch`: each POM in turn (offline: only checks they are there)."""
    results = []
    for pom in poms:
        folder = version_folder(pom, env)
        if offline(env):
            if not is_complete(folder, pom):
                raise missing_offline(pom, env)
            libs = folder / "libs"
            results.append(FetchResult(pom.version, pom.label, libs, _count_jars(libs), False, 0))
            continue
        results.append(
            fetch_kafka(pom, env, progress=progress, detail=detail, maven_factory=maven_factory)
        )
    return tuple(results)


__all__ = [
    "OFFLINE_ENV",
    "POMS",
    "SELECTORS",
    "ArtifactMaven",
    "FetchResult",
    "KafkaPom",
    "Maven",
    "MavenCli",
    "default_maven",
    "ensure_kafka",
    "fetch_all",
    "fetch_document",
    "fetch_kafka",
    "find_maven",
    "is_complete",
    "offline",
    "pom_for",
    "select_poms",
]
