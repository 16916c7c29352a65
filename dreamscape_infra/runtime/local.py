"""The local runtime: ZooKeeper and Kafka (or one KRaft node) as background JVMs, no Docker.

Everything lives in one state folder (default `./.state/local`, git-ignored):

    cluster.json                  what was started: mode, broker count, ports, version
    log4j.properties              logging for 3.x jars (reload4j), a file: URL on the command line
    log4j2.properties             logging for 4.x jars (log4j2)
    <service>/                    zookeeper, kafka, kafka-2, kafka-3
        zoo.cfg | server.properties
        <service>.pid  <service>.log  data/
    <extra>/                      a profile's process (runtime.extras), e.g. schema-registry
        <extra>.pid  <extra>.log  data/

A pid file is trusted only while that pid is alive and its command line still names our config
file, so a recycled pid is never signalled. The runtime never prints: it reports through the
ProgressCallback and raises `dreamscape_infra.errors` types. All process handling goes through
`runtime.process.Processes`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shlex
import signal
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from dreamscape_infra.errors import ConfigError, EnvironmentFailure
from dreamscape_infra.kafka.cluster import ClusterInfo
from dreamscape_infra.runtime.base import (
    DownResult,
    Health,
    ProgressCallback,
    RuntimeName,
    ServiceRole,
    ServiceState,
    ServiceStatus,
    StackStatus,
    UpOptions,
    UpResult,
)
from dreamscape_infra.runtime.dist import KafkaDist, KafkaLine, find_java
from dreamscape_infra.runtime.extras import (
    ExtraProfile,
    Launch,
    ManagedProcess,
    extra_profiles,
    http_ready,
)
from dreamscape_infra.runtime.probe import ProbeFactory, admin_probe
from dreamscape_infra.runtime.process import Processes, default_processes
from dreamscape_infra.runtime.security import (
    ADMIN_PRINCIPAL,
    ADMIN_USER,
    CONTROLLER_LISTENER,
    SCRAM_ITERATIONS,
    ClientEnvironment,
    Listener,
    SecurityConfig,
    admin_settings,
    broker_properties,
    client_environment,
    controller_properties,
    ensure_certificates,
    ensure_passwords,
    read_password,
    redact,
    redact_file,
    scram_config_file,
    write_private,
)
from dreamscape_infra.settings import ConnectionSettings

HOST = "127.0.0.1"
# How long `up` waits for a port held by a process that is still exiting (see _check_ports).
PORT_RELEASE_GRACE_S = 3.0
MAX_BROKERS = 3
STATE_DIR_ENV = "DREAMSCAPE_STATE_DIR"
DEFAULT_STATE_DIR = Path(".state") / "local"
PORT_ENVS = {
    "zk_port": "DREAMSCAPE_ZK_PORT",
    "kafka_port": "DREAMSCAPE_KAFKA_PORT",
    "controller_port": "DREAMSCAPE_CONTROLLER_PORT",
}
HEAP_ENV = "DREAMSCAPE_KAFKA_HEAP"
JVM_OPTS_ENV = "DREAMSCAPE_JVM_OPTS"  # replaces JVM_FLAGS (set it empty for the JVM defaults)
LOG_TAIL_LINES = 20
# A ZooKeeper session this short lets a broker killed from outside be restarted quickly: its
# old registration (/brokers/ids/N) must expire before the new process may register.
ZK_SESSION_TIMEOUT_MS = 6000
# The wait for the first ZooKeeper connection defaults to the session timeout. Brokers start
# beside ZooKeeper, which listens before it serves: a connection made in that moment may get
# no answer at all (ZooKeeper 3.8 fails to close it), and the client only retries after 6 s.
# With the default the broker would exit then; `up`'s own deadline bounds the wait instead.
ZK_CONNECTION_TIMEOUT_MS = 60000
# Fast start-up for a short-lived dev JVM: no parallel GC threads on 2 cores, C1 only, CDS on.
JVM_FLAGS = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    "-Djava.awt.headless=true",
    "-Djava.net.preferIPv4Stack=true",
)
# What a broker logs once it has registered and serves requests: `[KafkaServer id=2] started`
# (ZooKeeper mode), `[KafkaRaftServer nodeId=1] Kafka Server started` (KRaft)
STARTED_LINE = re.compile(r"\] (Kafka Server )?started \(kafka\.server\.Kafka(Raft)?Server\)")
ZK_HEAP = "256m"
ZK_MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
KAFKA_MAIN = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
CONFIG_TOOL = "kafka.admin.ConfigCommand"

Mode = KafkaLine
# The jars of a Kafka line, possibly fetched first (runtime.fetch.ensure_kafka by default).
KafkaProvider = Callable[[KafkaLine, ProgressCallback], KafkaDist]
ServiceKind = Literal["zookeeper", "broker", "kraft"]


@dataclass(frozen=True, slots=True)
class LocalConfig:
    """Where the local stack keeps its state and which ports it listens on (all on 127.0.0.1)."""

    state_dir: Path = DEFAULT_STATE_DIR
    zk_port: int = 2181
    kafka_port: int = 9092  # broker i (1-based) listens on kafka_port + i - 1
    controller_port: int = 9093  # KRaft only; KRaft runs a single node, so 9093 is free
    heap: str = "512m"
    stop_timeout_s: float = 30.0
    start_retry_s: float = 1.0
    jvm_flags: tuple[str, ...] = JVM_FLAGS

    @classmethod
    def from_env(cls, env: Mapping[str, str], state_dir: Path | str | None = None) -> LocalConfig:
        """Read DREAMSCAPE_STATE_DIR, DREAMSCAPE_*_PORT, DREAMSCAPE_KAFKA_HEAP and _JVM_OPTS.

        `state_dir` (the CLI option) wins over the variable. Raises ConfigError naming every
        invalid variable.
        """
        problems: list[str] = []
        ports: dict[str, int] = {}
        for key, var in PORT_ENVS.items():
            raw = env.get(var)
            if raw is None or raw.strip() == "":
                continue
            text = raw.strip()
            if not (text.isascii() and text.isdigit() and 0 < int(text) < 65536):
                problems.append(f"{var}: '{raw}' is not a port (expected 1-65535)")
                continue
            ports[key] = int(text)
        heap = (env.get(HEAP_ENV) or "512m").strip()
        if not (heap[:-1].isascii() and heap[:-1].isdigit() and heap[-1:].lower() in "kmg"):
            problems.append(f"{HEAP_ENV}: '{heap}' is not a heap size (e.g. 512m or 1g)")
        flags: tuple[str, ...] = JVM_FLAGS
        raw_flags = env.get(JVM_OPTS_ENV)
        if raw_flags is not None:
            try:
                flags = tuple(shlex.split(raw_flags))
            except ValueError as exc:
                problems.append(f"{JVM_OPTS_ENV}: cannot split '{raw_flags}' ({exc})")
        if problems:
            raise ConfigError(problems, hint="fix the environment variable(s) named above")
        folder = state_dir if state_dir is not None else env.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR
        return cls(state_dir=Path(folder).expanduser(), heap=heap, jvm_flags=flags, **ports)


@dataclass(frozen=True, slots=True)
class Layout:
    """What one `up` decided to run; stored as cluster.json so status/down/logs know it."""

    mode: Mode
    brokers: int
    version: str
    zk_port: int
    kafka_port: int
    controller_port: int
    cluster_id: str | None = None
    acls: bool = False  # an authorizer runs (`up --acls`)
    security: str = "plaintext"  # a runtime.security.SecurityMode
    # the topics.yaml environment `up` syncs with (`up --env`; None: the base declarations)
    environment: str | None = None
    # the extra processes (`up --profile`, runtime.extras) by profile, with the port each got
    extras: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Service:
    """One JVM of the stack."""

    name: str
    kind: ServiceKind
    port: int
    node_id: int
    folder: Path

    @property
    def config_file(self) -> Path:
        return self.folder / ("zoo.cfg" if self.kind == "zookeeper" else "server.properties")

    @property
    def pid_file(self) -> Path:
        return self.folder / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.folder / f"{self.name}.log"

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def main_class(self) -> str:
        return ZK_MAIN if self.kind == "zookeeper" else KAFKA_MAIN

    @property
    def is_broker(self) -> bool:
        return self.kind != "zookeeper"


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes as 22 characters of URL-safe base64.

    Never starts with '-', which StorageTool's argument parser would take for an option (Kafka's
    own Uuid.randomUuid() skips those too).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def broker_name(index: int) -> str:
    """`kafka` for the first broker (as in the compose stack), `kafka-2`, `kafka-3` after it."""
    return "kafka" if index == 1 else f"kafka-{index}"


def services_of(layout: Layout, state_dir: Path) -> tuple[Service, ...]:
    """The JVMs of a layout, in start order (ZooKeeper first)."""
    if layout.mode == "kraft":
        return (Service("kafka", "kraft", layout.kafka_port, 1, state_dir / "kafka"),)
    zk = Service("zookeeper", "zookeeper", layout.zk_port, 0, state_dir / "zookeeper")
    brokers = tuple(
        Service(broker_name(i), "broker", layout.kafka_port + i - 1, i, state_dir / broker_name(i))
        for i in range(1, layout.brokers + 1)
    )
    return (zk, *brokers)


def bootstrap_of(services: Sequence[Service]) -> str:
    return ",".join(f"{HOST}:{s.port}" for s in services if s.is_broker)


def _properties(values: Mapping[str, object]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


def zoo_cfg(service: Service) -> str:
    """ZooKeeper standalone config; a short tick so short broker sessions are allowed."""
    return _properties(
        {
            "dataDir": service.data_dir,
            "clientPort": service.port,
            "clientPortAddress": HOST,
            "tickTime": 500,
            "maxClientCnxns": 0,
            "admin.enableServer": "false",
            "4lw.commands.whitelist": "ruok,srvr,stat",
        }
    )


def _single_node_settings(replication: int) -> dict[str, object]:
    """Settings that make a one-to-three node dev cluster start fast and behave."""
    return {
        "offsets.topic.replication.factor": replication,
        "offsets.topic.num.partitions": 1,  # the default 50 makes the first group slow
        "transaction.state.log.replication.factor": replication,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 1,
        "group.initial.rebalance.delay.ms": 0,
        "log.cleaner.dedupe.buffer.size": 2097152,  # the default allocates 128 MB up front
        "num.partitions": 1,
        "default.replication.factor": 1,
        "auto.create.topics.enable": "true",
    }


def server_properties(
    service: Service, layout: Layout, security: SecurityConfig | None = None
) -> str:
    """server.properties for a ZooKeeper-mode broker or the combined KRaft node.

    With a secured `security`, its listeners, inter-broker and TLS/SASL settings replace the
    PLAINTEXT listener (see runtime.security). The KRaft CONTROLLER listener, on 127.0.0.1
    inside the one node, is SASL_PLAINTEXT with PLAIN for the admin alone when the stack uses
    SASL (`controller_properties`), else PLAINTEXT.
    """
    listener = f"PLAINTEXT://{HOST}:{service.port}"
    values: dict[str, object]
    if service.kind == "kraft":
        values = {
            "process.roles": "broker,controller",
            "node.id": service.node_id,
            "listeners": f"{listener},CONTROLLER://{HOST}:{layout.controller_port}",
            "advertised.listeners": listener,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.quorum.voters": f"{service.node_id}@{HOST}:{layout.controller_port}",
            "log.dirs": service.data_dir,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            "share.coordinator.state.topic.num.partitions": 1,
            # a node killed from outside is refused re-registration until the controller has
            # expired its old session (default 9 s); this makes `up` after a crash faster
            "broker.session.timeout.ms": 4000,
            "broker.heartbeat.interval.ms": 1000,
        }
    else:
        values = {
            "broker.id": service.node_id,
            "listeners": listener,
            "advertised.listeners": listener,
            "zookeeper.connect": f"{HOST}:{layout.zk_port}",
            "zookeeper.session.timeout.ms": ZK_SESSION_TIMEOUT_MS,
            "zookeeper.connection.timeout.ms": ZK_CONNECTION_TIMEOUT_MS,
            "log.dirs": service.data_dir,
        }
    values.update(_single_node_settings(min(layout.brokers, MAX_BROKERS)))
    # KRaft with SASL: the controller listener is SASL_PLAINTEXT/PLAIN, the admin its only user
    controller = controller_properties(security) if security is not None else {}
    if layout.acls:
        # requests on a listener without authentication come from User:ANONYMOUS: unsecured
        # stacks, SSL without client certificates (the brokers' own requests too, when it is
        # the inter-broker listener), plaintext test listeners, and the KRaft controller
        # listener of a stack without SASL
        plaintext = (
            security is None
            or not security.secured
            or security.anonymous
            or (service.kind == "kraft" and not controller)
        )
        values.update(authorizer_properties(layout.mode, plaintext_listeners=plaintext))
    if security is not None and security.secured:
        extra = {}
        if service.kind == "kraft":
            extra = {CONTROLLER_LISTENER: "SASL_PLAINTEXT" if controller else "PLAINTEXT"}
        secured = broker_properties(security, HOST, service.port, extra_protocols=extra)
        if service.kind == "kraft":
            secured["listeners"] = (
                f"{secured['listeners']},CONTROLLER://{HOST}:{layout.controller_port}"
            )
            secured.update(controller)
        values.update(secured)
    return _properties(values)


ANONYMOUS_PRINCIPAL = "User:ANONYMOUS"
ZK_AUTHORIZER = "kafka.security.authorizer.AclAuthorizer"
KRAFT_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


def authorizer_properties(mode: Mode, *, plaintext_listeners: bool = True) -> dict[str, object]:
    """The broker settings of `up --acls`: Kafka's ACL authorizer, with the admin as super user.

    AclAuthorizer keeps ACLs in ZooKeeper; KRaft's StandardAuthorizer in the metadata log.
    Every request on a PLAINTEXT listener comes from User:ANONYMOUS — the brokers' own
    requests to each other and to the controller too — so while such a listener exists
    ANONYMOUS must be a super user, and then a plaintext client is allowed everything: ACLs
    are only enforced on authenticated (SASL or mutual-TLS) listeners.
    """
    supers = [ADMIN_PRINCIPAL, *([ANONYMOUS_PRINCIPAL] if plaintext_listeners else [])]
    return {
        "authorizer.class.name": KRAFT_AUTHORIZER if mode == "kraft" else ZK_AUTHORIZER,
        "super.users": ";".join(supers),
        "allow.everyone.if.no.acl.found": "false",
    }


LOG4J_PROPERTIES = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
"""

LOG4J2_PROPERTIES = """\
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
"""


def _how_it_ended(code: int | None) -> tuple[str, str]:
    """A JVM's exit status for the message, and a hint when a signal (not Kafka) ended it."""
    if code is None:
        return "", ""
    if code >= 0:
        return f" (exit code {code})", ""
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    if -code == signal.SIGKILL:
        return (
            f" (killed by {name})",
            "SIGKILL comes from outside the JVM: another process, or the kernel's "
            "out-of-memory killer (see `dmesg`); ",
        )
    return f" (killed by {name})", ""


def tail_lines(path: Path, n: int = LOG_TAIL_LINES) -> list[str]:
    """The last `n` non-empty lines of a file (none when it does not exist)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return list(deque((line.rstrip() for line in handle if line.strip()), maxlen=n))
    except OSError:
        return []


class LocalRuntime:
    """`StackRuntime` over local JVM processes. Never prints, prompts or exits."""

    name: RuntimeName = "local"

    def __init__(
        self,
        config: LocalConfig | None = None,
        env: Mapping[str, str] | None = None,
        processes: Processes | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        probe: ProbeFactory = admin_probe,
        clock: Callable[[], float] = time.monotonic,
        kafka_provider: KafkaProvider | None = None,
        extra_listeners: Sequence[Listener] = (),
        sasl_mechanisms: Sequence[str] | None = None,
        profiles: Mapping[str, ExtraProfile] | None = None,
        http_check: Callable[[str], bool] = http_ready,
    ) -> None:
        import os

        self._env: Mapping[str, str] = env if env is not None else os.environ
        self.config = config if config is not None else LocalConfig.from_env(self._env)
        self.state_dir = self.config.state_dir.absolute()
        self._proc = processes if processes is not None else default_processes()
        self._sleep = sleep
        self._probe = probe  # how `up` asks the starting cluster whether it is ready
        self._clock = clock  # the readiness wait's deadline (tests pair it with `sleep`)
        self._log_offsets: dict[str, int] = {}  # log size when each service was last spawned
        self._kafka_provider = kafka_provider
        # tests: more client listeners on the one broker, and the SASL mechanisms they enable
        self._extra_listeners = tuple(extra_listeners)
        self._sasl_mechanisms = tuple(sasl_mechanisms) if sasl_mechanisms is not None else None
        self._profiles = dict(profiles) if profiles is not None else None
        self._http_check = http_check  # an extra's readiness (GET of its ready URL)

    # ---- security -----------------------------------------------------------------------

    def security(self, layout: Layout | None = None, users: Sequence[str] = ()) -> SecurityConfig:
        """The security of `layout` (the recorded one by default): its mode, and as SASL users
        the admin, `users` and every user that already has a password in the state folder."""
        layout = layout or self.read_layout() or self._default_layout()
        folder = self.state_dir / "security" / "passwords"
        known = [p.name for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
        return SecurityConfig.for_state(
            layout.security,
            self.state_dir,
            [*users, *(n for n in known if not n.endswith(".tmp"))],
            mechanisms=self._sasl_mechanisms,
            extra_listeners=self._extra_listeners,
        )

    def admin_settings(self) -> ConnectionSettings:
        """How to connect to the recorded stack as its admin (plaintext when unsecured)."""
        services = self.services()
        return admin_settings(self.security(), bootstrap_of(services))

    def client_environment(self, user: str | None = None) -> ClientEnvironment:
        """The KAFKA_* variables a client of the recorded stack needs (no password: its file)."""
        security = self.security()
        return client_environment(security, bootstrap_of(self.services()), user or ADMIN_USER)

    # ---- state folder -------------------------------------------------------------------

    @property
    def layout_file(self) -> Path:
        return self.state_dir / "cluster.json"

    def read_layout(self) -> Layout | None:
        """The recorded layout, or None when nothing was started here (or it is unreadable)."""
        try:
            raw = json.loads(self.layout_file.read_text(encoding="utf-8"))
            layout = Layout(**raw)
            extras = {str(k): int(v) for k, v in dict(layout.extras).items()}
            return replace(layout, extras=extras)
        except (OSError, ValueError, TypeError, AttributeError):
            return None

    def _write_layout(self, layout: Layout) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.layout_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(layout), indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.layout_file)

    def _default_layout(self, mode: Mode = "zookeeper", brokers: int = 1) -> Layout:
        return Layout(
            mode=mode,
            brokers=brokers,
            version="",
            zk_port=self.config.zk_port,
            kafka_port=self.config.kafka_port,
            controller_port=self.config.controller_port,
        )

    def services(self) -> tuple[Service, ...]:
        """The services of the recorded layout (ZooKeeper + one broker when none is recorded)."""
        layout = self.read_layout() or self._default_layout()
        return services_of(layout, self.state_dir)

    # ---- pids ---------------------------------------------------------------------------

    def _read_pid(self, service: Service | ManagedProcess) -> int | None:
        try:
            text = service.pid_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else -1

    def _is_ours(self, service: Service | ManagedProcess, pid: int) -> bool:
        """The pid is alive and still the JVM we started for this service's config file (an
        extra: whose command line has every string of its identity)."""
        argv = self._proc.command_line(pid)
        if argv is None:
            return False
        if isinstance(service, ManagedProcess):
            return bool(service.identity) and all(part in argv for part in service.identity)
        return service.main_class in argv and str(service.config_file) in argv

    def live_pid(self, service: Service | ManagedProcess) -> int | None:
        """The pid of the service's JVM when it runs, else None."""
        pid = self._read_pid(service)
        if pid is None or pid <= 0:
            return None
        return pid if self._is_ours(service, pid) else None

    def _clean_stale(self, services: Sequence[Service | ManagedProcess], notes: list[str]) -> None:
        for service in services:
            pid = self._read_pid(service)
            if pid is None or (pid > 0 and self._is_ours(service, pid)):
                continue
            service.pid_file.unlink(missing_ok=True)
            notes.append(
                f"removed a stale pid file for {service.name} "
                f"(pid {pid} is gone or no longer our JVM)"
            )

    # ---- up -----------------------------------------------------------------------------

    def up(self, options: UpOptions, progress: ProgressCallback) -> UpResult:
        """Start ZooKeeper + brokers (or one KRaft node) and, with `options.wait`, wait for them.

        Ready means an AdminClient sees every broker and a controller. Services already running
        are left alone (`already_running` when all were). Raises EnvironmentFailure naming the
        port in use, the missing Java or jars, or a JVM that died (with its last log lines).
        """
        _check_options(options)
        profiles = self._select_profiles(options.profiles)
        mode: Mode = "kraft" if options.kraft else "zookeeper"
        java = find_java(self._env)
        dist = self._kafka(mode, progress)
        notes: list[str] = []
        if options.build:
            notes.append("--build has no effect on the local runtime")

        layout = self._plan_layout(mode, options.brokers, dist, notes, options.security)
        layout = self._with_authorizer(layout, options.acls, notes)
        layout = self._with_environment(layout, options.environment, notes)
        services = services_of(layout, self.state_dir)
        security = self.security(layout, options.service_users)
        if security.extra_listeners and layout.brokers != 1:
            raise ConfigError(["extra listeners need a single broker"])
        self._clean_stale(services, notes)
        extras = self._plan_extras(profiles)
        layout = replace(layout, extras={e.profile: e.port for _, e in extras})
        self._clean_stale([e for _, e in extras], notes)
        to_start = [s for s in services if self.live_pid(s) is None]
        extras_to_start = [(p, e) for p, e in extras if self.live_pid(e) is None]
        if not to_start:
            if extras_to_start:
                self._check_extra_ports(extras_to_start)
                launches = self._launches(extras_to_start, progress)
                self._write_layout(replace(self.read_layout() or layout, extras=layout.extras))
                self._spawn_extras(launches, progress)
            if options.wait:
                self._prepare_security(security, notes)
                self._ready(services, options, progress, started=(), security=security)
                self._extras_ready(extras, extras_to_start, options, progress)
            return UpResult(self.status(), already_running=not extras_to_start, notes=tuple(notes))

        self._check_ports(to_start, layout)
        self._check_extra_ports(extras_to_start)
        # before any JVM starts: fetching the registry can fail (offline, no Maven)
        launches = self._launches(extras_to_start, progress)
        self._write_layout(layout)
        self._prepare_security(security, notes)
        self._write_configs(layout, services, security)
        if mode == "kraft":
            self._format_kraft(java, dist, layout, services[0], progress, security)
        scram_ready = mode == "kraft" or not security.scram
        for service in to_start:
            if service.is_broker and not scram_ready:
                self._bootstrap_scram_admin(java, dist, layout, security, progress)
                scram_ready = True
            self._spawn(java, dist, service, progress)
        self._spawn_extras(launches, progress)
        if options.wait:
            self._ready(
                services,
                options,
                progress,
                started=tuple(to_start),
                java=java,
                dist=dist,
                security=security,
            )
            self._extras_ready(extras, extras_to_start, options, progress)
        return UpResult(self.status(), already_running=False, notes=tuple(notes))

    # ---- extra processes (runtime.extras) -----------------------------------------------

    def _known_profiles(self) -> dict[str, ExtraProfile]:
        return self._profiles if self._profiles is not None else extra_profiles()

    def _select_profiles(self, requested: Sequence[str]) -> tuple[ExtraProfile, ...]:
        known = self._known_profiles()
        unknown = [p for p in requested if p not in known]
        if unknown:
            raise ConfigError(
                [
                    f"--profile {p}: the local runtime has no such profile "
                    f"(expected one of {', '.join(known) or 'none'})"
                    for p in unknown
                ]
            )
        return tuple(p for name, p in known.items() if name in requested)

    def _plan_extras(
        self, requested: Sequence[ExtraProfile]
    ) -> list[tuple[ExtraProfile, ManagedProcess]]:
        """The extras this `up` runs: those asked for (on the port their variable names), and
        those already running (on their recorded port), as `up` without `--profile` in
        compose leaves a profile's running services alone."""
        recorded = (self.read_layout() or self._default_layout()).extras
        chosen: list[tuple[ExtraProfile, ManagedProcess]] = []
        for name, profile in self._known_profiles().items():
            if name in recorded:
                process = profile.describe(self.state_dir, recorded[name])
                if self.live_pid(process) is not None:
                    chosen.append((profile, process))
                    continue
            if profile in requested:
                chosen.append((profile, profile.describe(self.state_dir, profile.port(self._env))))
        return chosen

    def extras(self) -> tuple[ManagedProcess, ...]:
        """The extra processes of the recorded layout, on their recorded ports."""
        layout = self.read_layout()
        if layout is None:
            return ()
        known = self._known_profiles()
        return tuple(
            known[name].describe(self.state_dir, port)
            for name, port in layout.extras.items()
            if name in known
        )

    def _every_extra(self) -> tuple[ManagedProcess, ...]:
        """Every profile's process of this state folder, recorded or not (for `down`, whose
        pid files and folders must go whatever cluster.json says)."""
        recorded = (self.read_layout() or self._default_layout()).extras
        return tuple(
            p.describe(self.state_dir, recorded.get(name, p.default_port))
            for name, p in self._known_profiles().items()
        )

    def _check_extra_ports(self, extras: Sequence[tuple[ExtraProfile, ManagedProcess]]) -> None:
        for profile, process in extras:
            if not self._proc.port_free(HOST, process.port):
                from dreamscape_infra.runtime.process import port_holder

                holder = port_holder(process.port)
                by = f" by {holder}" if holder else ""
                raise EnvironmentFailure(
                    f"port {process.port} on {HOST} is already in use{by} "
                    f"(needed by {process.name})",
                    hint=f"stop what listens on {process.port}, or choose another port with "
                    f"{profile.port_env}",
                )

    def _launches(
        self, extras: Sequence[tuple[ExtraProfile, ManagedProcess]], progress: ProgressCallback
    ) -> list[tuple[ManagedProcess, Launch]]:
        return [(e, p.launch(e, self._env, progress)) for p, e in extras]

    def _spawn_extras(
        self, launches: Sequence[tuple[ManagedProcess, Launch]], progress: ProgressCallback
    ) -> None:
        for process, launch in launches:
            progress(process.name, f"starting {process.name} on {HOST}:{process.port}")
            process.folder.mkdir(parents=True, exist_ok=True)
            try:
                self._log_offsets[process.name] = process.log_file.stat().st_size
            except OSError:
                self._log_offsets[process.name] = 0
            pid = self._proc.spawn(launch.argv, process.log_file, {**self._env, **launch.env})
            process.pid_file.write_text(f"{pid}\n", encoding="ascii")

    def _extras_ready(
        self,
        extras: Sequence[tuple[ExtraProfile, ManagedProcess]],
        started: Sequence[tuple[ExtraProfile, ManagedProcess]],
        options: UpOptions,
        progress: ProgressCallback,
    ) -> None:
        """Wait until every extra answers its readiness URL; one that exits meanwhile fails
        `up` with its last log lines."""
        deadline = self._clock() + options.timeout_s
        waiting = [e for _, e in extras]
        just_started = {e.name for _, e in started}
        while waiting:
            for process in list(waiting):
                if self._http_check(process.ready_url):
                    waiting.remove(process)
                elif process.name in just_started and self.live_pid(process) is None:
                    pid = self._read_pid(process)
                    ended = self._proc.exit_status(pid) if pid is not None and pid > 0 else None
                    process.pid_file.unlink(missing_ok=True)
                    how, hint = _how_it_ended(ended)
                    raise EnvironmentFailure(
                        f"{process.name} exited during start-up{how}",
                        details=tail_lines(process.log_file),
                        hint=f"{hint}full log: {process.log_file}",
                    )
            if not waiting:
                return
            if self._clock() >= deadline:
                names = ", ".join(p.name for p in waiting)
                raise EnvironmentFailure(
                    f"{names} did not become ready within {options.timeout_s:g}s "
                    f"(no answer from {waiting[0].ready_url}); it keeps running",
                    details=tail_lines(waiting[0].log_file),
                    hint=f"see `dreamscape-infra logs --runtime local {waiting[0].name}`",
                )
            progress(waiting[0].name, f"waiting for {waiting[0].ready_url}")
            self._sleep(0.25)

    def _kafka(self, mode: Mode, progress: ProgressCallback) -> KafkaDist:
        """The jars, fetched on first use (runtime.fetch; not with KAFKA_HOME/offline)."""
        if self._kafka_provider is not None:
            return self._kafka_provider(mode, progress)
        from dreamscape_infra.runtime.fetch import ensure_kafka

        return ensure_kafka(mode, self._env, progress=progress)

    def _prepare_security(self, security: SecurityConfig, notes: list[str]) -> None:
        """Passwords for new SASL users and the CA/broker key stores that are missing."""
        created = ensure_passwords(security)
        if created:
            notes.append(
                f"created SASL password(s) for {', '.join(created)} in "
                f"{security.password_file(created[0]).parent}"
            )
        if ensure_certificates(security):
            notes.append(f"issued the local CA and broker certificate in {security.folder}")

    def _bootstrap_scram_admin(
        self,
        java: str,
        dist: KafkaDist,
        layout: Layout,
        security: SecurityConfig,
        progress: ProgressCallback,
    ) -> None:
        """ZooKeeper mode: the admin's SCRAM credentials must exist before a broker starts,
        since the brokers log in to each other as the admin. kafka-configs still writes SCRAM
        credentials straight to ZooKeeper for exactly this; the password goes through a 0600
        file, never the command line."""
        progress("zookeeper", "creating the admin's SCRAM credentials")
        folder = security.folder
        arg_file = folder / "admin-scram.properties"
        write_private(arg_file, scram_config_file(security, ADMIN_USER).encode())
        log = self.state_dir / "zookeeper" / "kafka-configs.log"
        argv = [
            *self._jvm(java, dist, "256m", CONFIG_TOOL),
            "--zookeeper",
            f"{HOST}:{layout.zk_port}",
            "--alter",
            "--entity-type",
            "users",
            "--entity-name",
            ADMIN_USER,
            "--add-config-file",
            str(arg_file),
        ]
        try:
            code = self._proc.run(argv, log, self._env, timeout_s=120)
        finally:
            arg_file.unlink(missing_ok=True)
            redact_file(log, security)  # it echoes a rejected credential
        if code != 0:
            raise EnvironmentFailure(
                f"creating the admin's SCRAM credentials in ZooKeeper failed (exit {code})",
                details=redact(tail_lines(log), security),
                hint=f"full log: {log}",
            )

    def _plan_layout(
        self,
        mode: Mode,
        brokers: int,
        dist: KafkaDist,
        notes: list[str],
        security: str | None = None,
    ) -> Layout:
        recorded = self.read_layout()
        fresh = replace(self._default_layout(mode, brokers), version=dist.version)
        if mode == "kraft":
            fresh = replace(fresh, cluster_id=new_cluster_id())
        fresh = replace(fresh, security=security or "plaintext")
        if recorded is None:
            return fresh
        old_services = services_of(recorded, self.state_dir)
        running = [s.name for s in old_services if self.live_pid(s) is not None]
        if security is None:  # `up` without --security keeps what the stack has
            fresh = replace(fresh, security=recorded.security)
        elif recorded.mode == mode and recorded.security != security:
            # SCRAM users and certificates belong to the data (KRaft formats them in): switching
            # the security of an existing cluster is a fresh start
            where = "is running" if running else "has data"
            if running or any(s.data_dir.exists() for s in old_services):
                raise EnvironmentFailure(
                    f"the stack in {self.state_dir} {where} with --security "
                    f"{recorded.security}, not {security}",
                    hint="remove it with `dreamscape-infra down --runtime local -v`, "
                    "or use another --state-dir",
                )
        if recorded.mode != mode:
            if running:
                raise EnvironmentFailure(
                    f"a {recorded.mode}-mode stack is running from {self.state_dir} "
                    f"({', '.join(running)})",
                    hint="stop it first with `dreamscape-infra down --runtime local`",
                )
            if any(s.data_dir.exists() for s in old_services):
                raise EnvironmentFailure(
                    f"{self.state_dir} holds the data of a {recorded.mode}-mode cluster",
                    hint="remove it with `dreamscape-infra down --runtime local -v`, "
                    "or use another --state-dir",
                )
            return fresh
        if recorded.version and recorded.version != dist.version and running:
            notes.append(f"Kafka {recorded.version} keeps running; these jars are {dist.version}")
        # keep the brokers the cluster already has: its topics may be replicated over them
        keep = max(brokers, recorded.brokers)
        if keep != brokers:
            notes.append(f"this cluster has {recorded.brokers} brokers; starting all of them")
        ports = recorded if running else fresh
        return replace(
            fresh,
            brokers=keep,
            version=recorded.version if running and recorded.version else dist.version,
            zk_port=ports.zk_port,
            kafka_port=ports.kafka_port,
            controller_port=ports.controller_port,
            cluster_id=recorded.cluster_id or fresh.cluster_id,
            security=fresh.security,
        )

    def _with_authorizer(self, layout: Layout, acls: bool | None, notes: list[str]) -> Layout:
        """`--acls`/`--no-acls` for a stack that starts now, else (None) what it was started
        with: a restart must not silently drop the authorizer of a secured stack. A running
        stack keeps what it runs with."""
        recorded = self.read_layout()
        running = recorded is not None and any(
            self.live_pid(s) is not None for s in services_of(recorded, self.state_dir)
        )
        if recorded is not None and running:
            if acls is not None and acls != recorded.acls:
                have = "an authorizer" if recorded.acls else "no authorizer"
                flag = "--acls" if acls else "--no-acls"
                notes.append(
                    f"the running brokers have {have}: stop them (`down`) and `up {flag}` "
                    "to change that"
                )
            return replace(layout, acls=recorded.acls)
        if acls is None:
            acls = recorded.acls if recorded is not None else False
        return replace(layout, acls=acls)

    def _with_environment(self, layout: Layout, requested: str | None, notes: list[str]) -> Layout:
        """The environment a stack that starts now is asked for, else (None) the one it was
        started with, so a plain `up` after a crash does not sync the base declarations over
        a prod stack. A running stack keeps its own: the CLI says what another would change."""
        recorded = self.read_layout()
        if recorded is None:
            return replace(layout, environment=requested)
        running = any(self.live_pid(s) is not None for s in services_of(recorded, self.state_dir))
        if running or requested is None:
            return replace(layout, environment=recorded.environment)
        if requested != recorded.environment:
            notes.append(
                f"this stack was started with --env {recorded.environment or '(none)'}; "
                f"it now syncs --env {requested}"
            )
        return replace(layout, environment=requested)

    def _check_ports(self, to_start: Sequence[Service], layout: Layout) -> None:
        wanted: list[tuple[int, str, str]] = []
        for service in to_start:
            var = PORT_ENVS["zk_port" if service.kind == "zookeeper" else "kafka_port"]
            wanted.append((service.port, service.name, var))
            if service.kind == "kraft":
                wanted.append(
                    (layout.controller_port, "the KRaft controller", PORT_ENVS["controller_port"])
                )
            if service.is_broker:
                wanted += [
                    (x.port, f"the {x.name} listener", "the listener's port")
                    for x in self._extra_listeners
                ]
        deadline = self._clock() + PORT_RELEASE_GRACE_S
        for port, owner, var in wanted:
            # A broker just killed (kill -9, a crash) still holds its ports until the kernel
            # has torn down all of its JVM's threads, which under load takes a moment after its
            # pid already reads as dead: give such a port a little time before calling it taken.
            while not self._proc.port_free(HOST, port) and self._clock() < deadline:
                self._sleep(0.1)
            if not self._proc.port_free(HOST, port):
                raise EnvironmentFailure(
                    f"port {port} on {HOST} is already in use (needed by {owner})",
                    hint=f"stop what listens on {port}, or choose another port with {var}",
                )

    def _write_configs(
        self, layout: Layout, services: Sequence[Service], security: SecurityConfig | None = None
    ) -> None:
        (self.state_dir / "log4j.properties").write_text(LOG4J_PROPERTIES, encoding="utf-8")
        (self.state_dir / "log4j2.properties").write_text(LOG4J2_PROPERTIES, encoding="utf-8")
        for service in services:
            service.folder.mkdir(parents=True, exist_ok=True)
            if service.kind == "zookeeper":
                service.config_file.write_text(zoo_cfg(service), encoding="utf-8")
                continue
            text = server_properties(service, layout, security)
            if security is not None and security.sasl:
                # the listeners' JAAS configs carry the admin's (and PLAIN users') passwords
                write_private(service.config_file, text.encode("utf-8"))
            else:
                service.config_file.write_text(text, encoding="utf-8")

    def _jvm(self, java: str, dist: KafkaDist, heap: str, main: str) -> list[str]:
        log4j = (self.state_dir / "log4j.properties").as_uri()
        log4j2 = (self.state_dir / "log4j2.properties").as_uri()
        return [
            java,
            f"-Xmx{heap}",
            *self.config.jvm_flags,
            f"-Dlog4j.configuration={log4j}",
            f"-Dlog4j2.configurationFile={log4j2}",
            "-cp",
            dist.classpath,
            main,
        ]

    def _format_kraft(
        self,
        java: str,
        dist: KafkaDist,
        layout: Layout,
        service: Service,
        progress: ProgressCallback,
        security: SecurityConfig | None = None,
    ) -> None:
        if (service.data_dir / "meta.properties").exists():
            return
        assert layout.cluster_id is not None  # _plan_layout always sets it for KRaft
        progress(service.name, "formatting the KRaft storage")
        argv = [
            *self._jvm(java, dist, "256m", STORAGE_TOOL),
            "format",
            "-t",
            layout.cluster_id,
            "-c",
            str(service.config_file),
        ]
        if security is not None and security.scram:
            # KRaft keeps SCRAM credentials in its metadata log: the admin's must be formatted
            # in, since the node logs in to itself as the admin. The storage tool takes them
            # only as arguments (it runs for a second, on this machine, and logs no password).
            for mechanism in security.enabled_mechanisms:
                if mechanism.startswith("SCRAM"):
                    password = read_password(security, ADMIN_USER).reveal()
                    argv += [
                        "--add-scram",
                        f"{mechanism}=[name={ADMIN_USER},iterations={SCRAM_ITERATIONS},"
                        f"password={password}]",
                    ]
        code = self._proc.run(argv, service.log_file, self._env, timeout_s=120)
        if security is not None and security.scram:
            redact_file(service.log_file, security)  # should it echo a rejected --add-scram
        if code != 0:
            details = tail_lines(service.log_file)
            raise EnvironmentFailure(
                f"formatting the KRaft storage of {service.name} failed (exit {code})",
                details=redact(details, security) if security is not None else details,
                hint=f"full log: {service.log_file}",
            )

    def _spawn(
        self, java: str, dist: KafkaDist, service: Service, progress: ProgressCallback
    ) -> None:
        progress(service.name, f"starting {service.name} on {HOST}:{service.port}")
        heap = ZK_HEAP if service.kind == "zookeeper" else self.config.heap
        argv = [*self._jvm(java, dist, heap, service.main_class), str(service.config_file)]
        try:
            self._log_offsets[service.name] = service.log_file.stat().st_size
        except OSError:
            self._log_offsets[service.name] = 0
        pid = self._proc.spawn(argv, service.log_file, self._env)
        service.pid_file.write_text(f"{pid}\n", encoding="ascii")

    def _ready(
        self,
        services: Sequence[Service],
        options: UpOptions,
        progress: ProgressCallback,
        *,
        started: tuple[Service, ...],
        java: str | None = None,
        dist: KafkaDist | None = None,
        security: SecurityConfig | None = None,
    ) -> StackStatus:
        brokers = [s for s in services if s.is_broker]
        bootstrap = bootstrap_of(services)
        deadline = self._clock() + options.timeout_s
        security = security or self.security()
        settings = admin_settings(security, bootstrap)
        admin = self._probe(settings)
        try:
            while True:
                for service in started:
                    if self.live_pid(service) is None:
                        self._died(service, java, dist, deadline, progress)
                try:
                    ready, waiting = self._layout_ready(admin.describe_cluster(), brokers, started)
                except EnvironmentFailure:
                    ready, waiting = False, f"waiting for Kafka at {bootstrap}"
                if ready:
                    self._ensure_scram_users(settings, security, progress)
                    return self.status()
                if self._clock() >= deadline:
                    raise EnvironmentFailure(
                        f"Kafka did not become ready within {options.timeout_s:g}s "
                        f"({waiting}); it keeps running",
                        details=tail_lines(brokers[0].log_file),
                        hint="see `dreamscape-infra logs --runtime local`, or stop it with "
                        "`dreamscape-infra down --runtime local`",
                    )
                progress(brokers[0].name, waiting)
                self._sleep(0.25)
        finally:
            admin.close()

    def _layout_ready(
        self, info: ClusterInfo, brokers: Sequence[Service], started: Sequence[Service]
    ) -> tuple[bool, str]:
        """Ready: every broker id of the layout is registered, a controller is known, and
        every broker JVM this `up` started has said it started.

        A count is not enough, nor are ids alone: a broker killed from outside keeps its
        registration (/brokers/ids/N) until its ZooKeeper session expires, so DescribeCluster
        lists its id while the new JVM is still starting, and that JVM may yet be refused for
        the old session. Only the new JVM's own start line says the registration is its own."""
        wanted = {s.node_id for s in brokers}
        seen = wanted & {b.id for b in info.brokers}
        starting = [s.name for s in started if s.is_broker and not self._said_started(s)]
        waiting = f"{len(seen)}/{len(wanted)} brokers registered"
        if starting:
            waiting += f"; {', '.join(starting)} still starting"
        return seen == wanted and info.controller_id is not None and not starting, waiting

    def _said_started(self, service: Service) -> bool:
        """The broker's log, since it was last spawned, has Kafka's end-of-start-up line."""
        since = _read_from(service.log_file, self._log_offsets.get(service.name, 0))
        return STARTED_LINE.search(since) is not None

    def _ensure_scram_users(
        self, settings: ConnectionSettings, security: SecurityConfig, progress: ProgressCallback
    ) -> None:
        """Every service user gets its SCRAM credentials (again: upserts are idempotent)."""
        if not security.scram or not security.users:
            return
        from dreamscape_infra.kafka.scram import upsert_scram_users

        progress("kafka", f"creating SCRAM credentials for {len(security.users)} service user(s)")
        mechanisms = [m for m in security.enabled_mechanisms if m.startswith("SCRAM")]
        upsert_scram_users(
            settings,
            {user: read_password(security, user) for user in security.users},
            mechanisms,
            SCRAM_ITERATIONS,
        )

    def _died(
        self,
        service: Service,
        java: str | None,
        dist: KafkaDist | None,
        deadline: float,
        progress: ProgressCallback,
    ) -> None:
        """A JVM exited during start-up: restart it if ZooKeeper still held its old session."""
        lines = tail_lines(service.log_file, 400)
        since_start = _read_from(service.log_file, self._log_offsets.get(service.name, 0))
        stale_session = "does not match current session" in since_start
        pid = self._read_pid(service)
        ended = self._proc.exit_status(pid) if pid is not None and pid > 0 else None
        service.pid_file.unlink(missing_ok=True)
        if stale_session and java and dist and self._clock() < deadline:
            # a broker killed from outside keeps /brokers/ids/N until its ZK session expires
            progress(service.name, "waiting for ZooKeeper to expire the old broker session")
            self._sleep(self.config.start_retry_s)
            self._spawn(java, dist, service, progress)
            return
        how, hint = _how_it_ended(ended)
        raise EnvironmentFailure(
            f"{service.name} exited during start-up{how}",
            details=lines[-LOG_TAIL_LINES:],
            hint=f"{hint}full log: {service.log_file}",
        )

    # ---- down ---------------------------------------------------------------------------

    def down(self, remove_data: bool, progress: ProgressCallback) -> DownResult:
        """Stop the brokers, wait for them, then ZooKeeper: SIGTERM, SIGKILL after a timeout.

        Only pids whose command line still names our config file are signalled; other pid
        files are removed as stale. `remove_data` (already confirmed) deletes what this runtime
        wrote in the state folder, and the folder when that leaves it empty.
        """
        services = self.services()
        notes: list[str] = []
        stopped: list[str] = []
        brokers = [s for s in services if s.is_broker]
        others = [s for s in services if not s.is_broker]
        extras = [e for e in self._every_extra() if e.pid_file.exists()]
        groups: tuple[Sequence[Service | ManagedProcess], ...] = (extras, brokers, others)
        for group in groups:
            stopped.extend(self._stop(group, progress, notes))
        if remove_data:
            progress("state", f"removing {self.state_dir}")
            self._remove_state(services)
        return DownResult(stopped=tuple(stopped), removed_data=remove_data, notes=tuple(notes))

    def stop_extras(self, progress: ProgressCallback) -> tuple[str, ...]:
        """Stop the profiles' processes only (Kafka keeps running); what was stopped."""
        notes: list[str] = []
        extras = [e for e in self._every_extra() if e.pid_file.exists()]
        return tuple(self._stop(extras, progress, notes))

    def _stop(
        self,
        group: Sequence[Service | ManagedProcess],
        progress: ProgressCallback,
        notes: list[str],
    ) -> list[str]:
        live: dict[Service | ManagedProcess, int] = {}
        for service in group:
            pid = self._read_pid(service)
            if pid is None:
                continue
            if pid <= 0 or not self._is_ours(service, pid):
                service.pid_file.unlink(missing_ok=True)
                notes.append(f"{service.name} was not running (removed its stale pid file)")
                continue
            progress(service.name, f"stopping {service.name} (pid {pid})")
            self._proc.terminate(pid)
            live[service] = pid
        signalled = list(live)
        deadline = time.monotonic() + self.config.stop_timeout_s
        killed_at: float | None = None
        while live:
            for service, pid in list(live.items()):
                if not self._is_ours(service, pid):
                    del live[service]
            if not live:
                break
            now = time.monotonic()
            if killed_at is None and now >= deadline:
                for service, pid in live.items():
                    notes.append(
                        f"{service.name} did not stop within {self.config.stop_timeout_s:g}s; "
                        "sent SIGKILL"
                    )
                    progress(service.name, f"killing {service.name} (pid {pid})")
                    self._proc.terminate(pid, kill=True)
                killed_at = now
            elif killed_at is not None and now - killed_at > 10:
                names = ", ".join(s.name for s in live)
                raise EnvironmentFailure(f"{names} did not exit even after SIGKILL")
            self._sleep(0.1)
        for service in signalled:
            service.pid_file.unlink(missing_ok=True)
        return [s.name for s in signalled]

    def _remove_state(self, services: Sequence[Service]) -> None:
        import shutil

        folders = {s.folder for s in services}
        folders.update(
            p for p in self.state_dir.glob("kafka*") if p.is_dir()
        )  # brokers of an earlier, larger layout
        folders.add(self.state_dir / "zookeeper")
        folders.add(self.state_dir / "security")  # CA, key stores, passwords
        folders.update(e.folder for e in self._every_extra())  # the registry's database too
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        for name in ("cluster.json", "cluster.tmp", "log4j.properties", "log4j2.properties"):
            (self.state_dir / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the user keeps other files there
            self.state_dir.rmdir()

    # ---- status and logs ----------------------------------------------------------------

    def status(self) -> StackStatus:
        """Every service of the recorded layout with its state, pid and port, and the
        environment the stack was started with."""
        services = self.services()
        security = self.security()
        recorded = self.read_layout()
        bootstrap = bootstrap_of(services)
        extras = self.extras()
        extra_rows = tuple(self._extra_status(e) for e in extras)
        return StackStatus(
            runtime="local",
            services=(*(self._service_status(s) for s in services), *extra_rows),
            bootstrap_servers=bootstrap,
            urls=tuple(
                url
                for e, row in zip(extras, extra_rows, strict=True)
                if row.state == "running"
                for url in e.urls
            ),
            security=security.mode,
            client_environment=(
                client_environment(security, bootstrap) if security.secured else None
            ),
            environment=recorded.environment if recorded is not None else None,
        )

    def _service_status(self, service: Service) -> ServiceStatus:
        ports = (f"{HOST}:{service.port}",)
        pid = self._read_pid(service)
        state: ServiceState
        health: Health = "none"
        detail = ""
        if pid is None:
            state = "stopped" if service.folder.exists() else "missing"
            shown_pid = None
        elif pid > 0 and self._is_ours(service, pid):
            state = "running"
            health = "healthy" if self._proc.port_open(HOST, service.port) else "starting"
            shown_pid = pid
        else:
            state = "exited"
            detail = f"pid {pid} is not running (stale pid file); `up` restarts it"
            shown_pid = None
        role: ServiceRole = "coordinator" if service.kind == "zookeeper" else "broker"
        return ServiceStatus(service.name, state, health, ports, shown_pid, detail, role)

    def _extra_status(self, process: ManagedProcess) -> ServiceStatus:
        ports = (f"{HOST}:{process.port}",)
        pid = self._read_pid(process)
        if pid is None:
            state: ServiceState = "stopped" if process.folder.exists() else "missing"
            return ServiceStatus(process.name, state, "none", ports, None, "", "extra")
        if pid > 0 and self._is_ours(process, pid):
            health: Health = "healthy" if self._http_check(process.ready_url) else "starting"
            return ServiceStatus(process.name, "running", health, ports, pid, "", "extra")
        detail = f"pid {pid} is not running (stale pid file); `up --profile {process.profile}`"
        return ServiceStatus(
            process.name, "exited", "none", ports, None, f"{detail} restarts it", "extra"
        )

    def logs(self, service: str | None, follow: bool, tail: int | None) -> Iterator[str]:
        """The service's log lines (all services', prefixed, without a name); `follow` waits
        for new lines until the caller stops iterating."""
        services: Sequence[Service | ManagedProcess] = (
            *self.services(),
            *(e for e in self._every_extra() if e.log_file.exists()),
        )
        names = [s.name for s in services]
        if service is not None and service not in names:
            raise ConfigError(
                [f"unknown service '{service}' (the local stack has: {', '.join(names)})"]
            )
        chosen = [s for s in services if service is None or s.name == service]
        prefix = len(chosen) > 1
        width = max(len(s.name) for s in chosen)
        positions: dict[Path, int] = {}
        for svc in chosen:
            lines, positions[svc.log_file] = _read_tail(svc.log_file, tail)
            for line in lines:
                yield f"{svc.name.ljust(width)} | {line}" if prefix else line
        if not follow:
            return
        pending: dict[Path, str] = {}
        while True:
            got_any = False
            for svc in chosen:
                path = svc.log_file
                try:
                    size = path.stat().st_size
                except OSError:
                    continue
                start = positions.get(path, 0)
                if size < start:  # the file was recreated (down -v, up)
                    start = 0
                if size == start:
                    continue
                with path.open("rb") as handle:
                    handle.seek(start)
                    chunk = handle.read(size - start)
                positions[path] = start + len(chunk)
                text = pending.pop(path, "") + chunk.decode("utf-8", errors="replace")
                *complete, rest = text.split("\n")
                if rest:
                    pending[path] = rest
                for line in complete:
                    got_any = True
                    yield f"{svc.name.ljust(width)} | {line}" if prefix else line
            if not got_any:
                self._sleep(0.25)


def _read_from(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _read_tail(path: Path, tail: int | None) -> tuple[list[str], int]:
    try:
        with path.open("rb") as handle:
            data = handle.read()
    except OSError:
        return [], 0
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if tail is not None:
        lines = lines[-tail:] if tail > 0 else []
    return lines, len(data)


def _check_options(options: UpOptions) -> None:
    problems: list[str] = []
    if not 1 <= options.brokers <= MAX_BROKERS:
        problems.append(f"--brokers {options.brokers}: expected 1 to {MAX_BROKERS}")
    if options.kraft and options.brokers != 1:
        problems.append("--kraft runs one combined broker+controller node; drop --brokers")
    if problems:
        raise ConfigError(problems)
