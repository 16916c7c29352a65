"""The Schema Registry of `up --runtime local --profile schema`: Apicurio Registry, run as one
of the local runtime's extra managed processes (see runtime.extras).

Confluent's schema-registry is not on Maven Central; Apicurio Registry is, as a runnable
Quarkus app (`io.apicurio:apicurio-registry-app:<version>:zip:all`: a runner jar and lib/). It
speaks Confluent's REST API under `/apis/ccompat/v7`, which is what `SCHEMA_REGISTRY_URL` names,
so Confluent's clients and serializers use it unchanged.

The app comes like the Kafka jars (runtime.fetch): Maven copies the zip the POM
`data/kafka-dist/pom-apicurio.xml` names, checking its checksum and honouring
~/.m2/settings.xml; it is unpacked into the cache:

    ${DREAMSCAPE_CACHE:-~/.cache/dreamscape-infra}/apicurio/
        <version>.lock        flock'ed while one process checks or fills <version>/
        <version>/app/        the unpacked zip (apicurio-registry-app-<version>-runner.jar, lib/)
        <version>/.complete   the POM's sha256, written last
        <version>/mvn.log     Maven's output of the last fetch

Storage: Apicurio's SQL storage on an H2 *file* database in the state folder,
`<state>/schema-registry/data/registry.mv.db`. So its subjects survive `down`/`up` and `down -v`
removes them with the rest of the state. (Its Kafka storage would keep them in a topic of our
own broker instead: the registry could only start after Kafka, every `topics plan` would list
its journal topic as undeclared, and a secured stack would need its credentials.)
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.runtime.base import SCHEMA_REGISTRY_LABEL, ProgressCallback, no_progress
from dreamscape_infra.runtime.dist import MARKER, cache_root, find_java
from dreamscape_infra.runtime.extras import (
    EXTRA_HOST,
    ExtraProfile,
    Launch,
    ManagedProcess,
)
from dreamscape_infra.runtime.fetch import (
    LOCK_TIMEOUT_S,
    OFFLINE_ENV,
    ArtifactMaven,
    _failure_details,
    _remove_leftovers,
    _write_marker,
    cache_lock,
    default_maven,
    offline,
)

# Must match <apicurio.version> in data/kafka-dist/pom-apicurio.xml (a test checks it).
APICURIO_VERSION = "3.0.9"
POM_RESOURCE = "pom-apicurio.xml"
SERVICE = "schema-registry"
PROFILE = "schema"
PORT_ENV = "DREAMSCAPE_SCHEMA_REGISTRY_PORT"
DEFAULT_PORT = 8081
CCOMPAT_PATH = "/apis/ccompat/v7"  # Confluent's API: what SCHEMA_REGISTRY_URL names
READY_PATH = "/health/ready"
HEAP = "384m"
# A short-lived dev JVM on a small machine: as for the brokers (runtime.local.JVM_FLAGS)
JVM_FLAGS = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    "-Djava.awt.headless=true",
    "-Djava.net.preferIPv4Stack=true",
)

ArtifactMavenFactory = Callable[[Mapping[str, str]], ArtifactMaven]


@dataclass(frozen=True, slots=True)
class ApicurioDist:
    """An unpacked Apicurio Registry app."""

    version: str
    app: Path  # holds the runner jar and lib/

    @property
    def runner_jar(self) -> Path:
        return self.app / f"apicurio-registry-app-{self.version}-runner.jar"


@dataclass(frozen=True, slots=True)
class ApicurioFetch:
    """What one `runtime fetch --schema-registry` did."""

    version: str
    app: Path
    fetched: bool  # False: it was already complete
    seconds: float


def pom_text() -> bytes:
    """The POM's bytes, read from the installed package."""
    return (
        resources.files("dreamscape_infra")
        .joinpath("data", "kafka-dist", POM_RESOURCE)
        .read_bytes()
    )


def pom_sha256() -> str:
    return hashlib.sha256(pom_text()).hexdigest()


def version_folder(env: Mapping[str, str]) -> Path:
    return cache_root(env) / "apicurio" / APICURIO_VERSION


def is_complete(folder: Path) -> bool:
    """The marker holds this POM's checksum and the runner jar is in app/."""
    try:
        marker = (folder / MARKER).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    dist = ApicurioDist(APICURIO_VERSION, folder / "app")
    return marker == pom_sha256() and dist.runner_jar.is_file()


def fetch_apicurio(
    env: Mapping[str, str],
    *,
    progress: ProgressCallback = no_progress,
    maven_factory: ArtifactMavenFactory = default_maven,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
) -> ApicurioFetch:
    """Make `<cache>/apicurio/<version>` complete, fetching the zip with Maven when needed.

    As `runtime.fetch.fetch_kafka`: the version's lock is held while checking and filling, the
    zip is unpacked into a fresh `.fetch-*` folder and renamed into place, the marker written
    last. With DREAMSCAPE_OFFLINE=1 nothing is fetched. Raises EnvironmentFailure (one line,
    Maven's error lines as details) when Java or Maven is missing, Maven fails (offline, a
    mirror without it), or the zip holds no runner jar.
    """
    started = time.monotonic()
    folder = version_folder(env)
    app = folder / "app"
    if is_complete(folder):
        return ApicurioFetch(APICURIO_VERSION, app, False, 0.0)
    if offline(env):
        raise missing_offline(env)
    subject = f"apicurio-registry {APICURIO_VERSION}"

    def waiting() -> None:
        progress(subject, f"waiting for another process fetching into {folder}")

    with cache_lock(folder.parent / f"{APICURIO_VERSION}.lock", waiting, timeout_s=lock_timeout_s):
        if is_complete(folder):
            return ApicurioFetch(APICURIO_VERSION, app, False, time.monotonic() - started)
        maven = maven_factory(env)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).unlink(missing_ok=True)
        _remove_leftovers(folder)
        work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=folder))
        try:
            _resolve(maven, work, folder, subject, progress)
            shutil.rmtree(app, ignore_errors=True)
            (work / "app").rename(app)
            _write_marker(folder, pom_sha256())
        finally:
            shutil.rmtree(work, ignore_errors=True)
    progress(subject, f"unpacked into {app}")
    return ApicurioFetch(APICURIO_VERSION, app, True, time.monotonic() - started)


def _resolve(
    maven: ArtifactMaven, work: Path, folder: Path, subject: str, progress: ProgressCallback
) -> None:
    pom_file = work / "pom.xml"
    pom_file.write_bytes(pom_text())
    log_file = folder / "mvn.log"
    log_file.unlink(missing_ok=True)
    progress(subject, "fetching the registry with Maven (first use; ~110 MB)")
    code = maven.copy_artifacts(pom_file, work / "zip", log_file, lambda line: None)
    if code != 0:
        raise EnvironmentFailure(
            f"Maven could not fetch Apicurio Registry {APICURIO_VERSION} (exit {code})",
            hint=f"full log: {log_file}; check the network, or the mirror in ~/.m2/settings.xml",
            details=_failure_details(log_file),
        )
    zips = sorted((work / "zip").glob("apicurio-registry-app-*.zip"))
    if not zips:
        raise EnvironmentFailure(
            f"Maven finished but copied no apicurio-registry-app-{APICURIO_VERSION}-all.zip",
            hint=f"full log: {log_file}",
        )
    progress(subject, f"unpacking {zips[0].name}")
    try:
        with zipfile.ZipFile(zips[0]) as archive:
            archive.extractall(work / "app")
    except (zipfile.BadZipFile, OSError) as exc:
        raise EnvironmentFailure(f"cannot unpack {zips[0]}: {exc}") from None
    if not ApicurioDist(APICURIO_VERSION, work / "app").runner_jar.is_file():
        raise EnvironmentFailure(
            f"{zips[0].name} holds no apicurio-registry-app-{APICURIO_VERSION}-runner.jar"
        )


def missing_offline(env: Mapping[str, str]) -> EnvironmentFailure:
    """The one line for a registry missing while DREAMSCAPE_OFFLINE forbids fetching it."""
    return EnvironmentFailure(
        f"Apicurio Registry {APICURIO_VERSION} is not in {version_folder(env) / 'app'} and "
        f"{OFFLINE_ENV}=1 forbids fetching it: run `dreamscape-infra runtime fetch "
        f"--schema-registry` once without {OFFLINE_ENV}"
    )


def ensure_apicurio(
    env: Mapping[str, str],
    progress: ProgressCallback = no_progress,
    *,
    maven_factory: ArtifactMavenFactory = default_maven,
) -> ApicurioDist:
    """The unpacked app, fetched first when it is missing (never with DREAMSCAPE_OFFLINE)."""
    fetched = fetch_apicurio(env, progress=progress, maven_factory=maven_factory)
    return ApicurioDist(fetched.version, fetched.app)


# ---- the managed process ---------------------------------------------------------------------


def database_url(data_dir: Path) -> str:
    """H2 on a file in the state folder: survives `down`, removed by `down -v`. WRITE_DELAY=0
    writes each commit out before answering (H2 waits 500 ms by default): a registry killed
    with SIGKILL right after `schemas sync` registered keeps what it said it registered."""
    return f"jdbc:h2:file:{data_dir / 'registry'};WRITE_DELAY=0"


def describe(state_dir: Path, port: int) -> ManagedProcess:
    """The registry of a state folder on `port`."""
    folder = state_dir / SERVICE
    return ManagedProcess(
        name=SERVICE,
        profile=PROFILE,
        port=port,
        folder=folder,
        ready_path=READY_PATH,
        # the database path is inside this state folder: no other stack's registry has it
        identity=(f"-Dapicurio.datasource.url={database_url(folder / 'data')}",),
        urls=((SCHEMA_REGISTRY_LABEL, f"http://{EXTRA_HOST}:{port}{CCOMPAT_PATH}"),),
    )


def launch(process: ManagedProcess, env: Mapping[str, str], progress: ProgressCallback) -> Launch:
    """`java -jar` the runner jar (fetched first on first use) on 127.0.0.1:<port>."""
    java = find_java(env)
    dist = ensure_apicurio(env, progress)
    argv = (
        java,
        f"-Xmx{HEAP}",
        *JVM_FLAGS,
        f"-Dquarkus.http.host={EXTRA_HOST}",
        f"-Dquarkus.http.port={process.port}",
        *process.identity,
        # `schemas sync --prune` deletes subjects: Apicurio refuses deletes unless enabled
        "-Dapicurio.rest.deletion.artifact.enabled=true",
        "-Dapicurio.rest.deletion.artifact-version.enabled=true",
        "-Dapicurio.rest.deletion.group.enabled=true",
        "-Dquarkus.log.console.color=false",
        "-jar",
        str(dist.runner_jar),
    )
    return Launch(argv=argv)


SCHEMA_PROFILE = ExtraProfile(
    profile=PROFILE,
    port_env=PORT_ENV,
    default_port=DEFAULT_PORT,
    describe=describe,
    launch=launch,
)


__all__ = [
    "APICURIO_VERSION",
    "CCOMPAT_PATH",
    "DEFAULT_PORT",
    "PORT_ENV",
    "SCHEMA_PROFILE",
    "ApicurioDist",
    "ApicurioFetch",
    "describe",
    "ensure_apicurio",
    "fetch_apicurio",
    "launch",
    "missing_offline",
]
