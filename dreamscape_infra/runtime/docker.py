"""The docker runtime: `docker/docker-compose.kafka.yml` driven through python-on-whales.

Every compose call goes through python-on-whales, imported inside the methods so `--help` stays
fast. No python_on_whales object leaves this module: `compose ps` output is copied into the
frozen values of `runtime.base`, and every `DockerException` is translated into one
`EnvironmentFailure` line with a hint (its stderr decides which).

`up` does not use a bare `compose up --wait` over the whole file: that fails as soon as the
one-shot topic-init exits (docker/compose#10596). It brings up the long-running services with
`--wait`, then runs topic-init with `compose run` and awaits its exit code.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from dreamscape_infra.errors import ConfigError, EnvironmentFailure, ExitCode
from dreamscape_infra.runtime.base import (
    SCHEMA_REGISTRY_LABEL,
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

if TYPE_CHECKING:
    from python_on_whales import DockerClient

_T = TypeVar("_T")

PROJECT = "dreamscape"
COMPOSE_FILE_ENV = "DREAMSCAPE_COMPOSE_FILE"
COMPOSE_RELATIVE = Path("docker") / "docker-compose.kafka.yml"
# The same stack without topic-init, shipped in the package (scripts/package-compose.py writes
# it): an installed package has no checkout to build topic-init from, so `up` syncs from the host.
PACKAGED_COMPOSE = Path(__file__).resolve().parent.parent / "data" / "docker-compose.kafka.yml"

# The services of docker-compose.kafka.yml (tests/test_compose_file.py checks they match).
CORE_SERVICES = ("zookeeper", "kafka")
INIT_SERVICE = "topic-init"
PROFILE_SERVICES: dict[str, tuple[str, ...]] = {
    "ui": ("kafka-ui",),
    "schema": ("schema-registry",),
}
PROFILES = tuple(PROFILE_SERVICES)
ALL_SERVICES = (*CORE_SERVICES, "kafka-ui", "schema-registry", INIT_SERVICE)
_SERVICE_PROFILE = {s: p for p, services in PROFILE_SERVICES.items() for s in services}
_ROLES: dict[str, ServiceRole] = {
    "zookeeper": "coordinator",
    "kafka": "broker",
    INIT_SERVICE: "one-shot",
}
_URLS = {"kafka-ui": ("Kafka UI", 8080), "schema-registry": (SCHEMA_REGISTRY_LABEL, 8081)}
_HOST_PORTS = {2181: "zookeeper", 9092: "kafka", 8080: "kafka-ui", 8081: "schema-registry"}
_VOLUMES = ("zookeeper-data", "zookeeper-log", "kafka-data")
# the services the compose file gives `restart: on-failure` (tests/test_compose_file.py checks)
RESTARTING_SERVICES = frozenset(ALL_SERVICES) - {INIT_SERVICE}
EXTERNAL_PORT = 9092
# The host port the compose file publishes the broker's EXTERNAL listener on (default 9092).
KAFKA_PORT_ENV = "DREAMSCAPE_KAFKA_PORT"

DAEMON_TIMEOUT_S = 5.0
FAILURE_TAIL_LINES = 20
# `up --wait` fails the moment a container exits (docker then also marks it unhealthy), but
# every long-running service of the compose file has `restart: on-failure`, and docker starts it
# again. A broker killed a moment ago exits that way three or four times (seen by hand): its
# registration in ZooKeeper lives until the old session times out (18 s), and until then the new
# broker exits with "node already exists". So `up` waits through up to this many restarts of a
# service (within its timeout) before it reports the failure.
RESTARTS_WAITED = 8
RESTART_PAUSE_S = 2.0

_NO_DAEMON_HINT = "start Docker (or Docker Desktop) and retry, or use --runtime local"
_NO_COMPOSE_HINT = (
    "install Docker Compose v2 (`make compose-bin` adds one as a docker CLI plugin), "
    "or use --runtime local"
)

_DAEMON_RE = re.compile(
    r"Cannot connect to the Docker daemon[^\n]*|Is the docker daemon running\?"
    r"|error during connect[^\n]*|dial unix [^\n]*docker\.sock[^\n]*",
    re.IGNORECASE,
)
_PERMISSION_RE = re.compile(r"permission denied[^\n]*docker[^\n]*sock", re.IGNORECASE)
_NO_COMPOSE_RE = re.compile(
    r"unknown command: docker compose|'compose' is not a docker command"
    r"|unknown flag: --file|unknown shorthand flag: 'f'|unknown flag: --profile",
    re.IGNORECASE,
)
_PORT_LINE_RE = re.compile(
    r"[^\n]*(?:port is already allocated|address already in use|ports are not available)[^\n]*",
    re.IGNORECASE,
)
_PORT_RE = re.compile(r"(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]*\]|localhost)?:(\d{2,5})\b")
_PULL_LINE_RE = re.compile(
    r"[^\n]*(?:pull access denied|manifest unknown|manifest for \S+ not found"
    r"|failed to resolve reference|repository does not exist|toomanyrequests"
    r"|error pulling image|failed to pull|unauthorized: |no such host|TLS handshake timeout)[^\n]*",
    re.IGNORECASE,
)
_IMAGE_RE = re.compile(r"([a-z0-9][\w.\-]*(?:/[\w.\-]+)+:[\w.\-]+)")
_BUILD_RE = re.compile(r"failed to solve[^\n]*|failed to build[^\n]*", re.IGNORECASE)
_UNHEALTHY_RE = re.compile(r"container (\S+?) (?:is unhealthy|exited \((\d+)\))", re.IGNORECASE)
_WAIT_TIMEOUT_RE = re.compile(r"not healthy after|timeout waiting", re.IGNORECASE)
_CONTAINER_LINE_RE = re.compile(r"^\s*Container\s+(\S+)\s+(.+?)\s*$")
_PULL_PROGRESS_RE = re.compile(r"^\s*(\S+)\s+(Pulling|Pulled|Skipped[^\n]*|Error[^\n]*)\s*$")
_CONTAINER_NAME_RE = re.compile(rf"^{PROJECT}[-_](.+?)(?:[-_]run[-_][0-9a-f]+)?(?:[-_]\d+)?$")


# ---------------------------------------------------------------------------------------------
# Daemon probe and error translation (pure functions over docker's text output)

# What a failed docker command was recognised as; "unrecognised" keeps docker's last lines.
DockerCause = Literal[
    "permission",
    "no-daemon",
    "no-compose",
    "port-in-use",
    "pull",
    "build",
    "service-failed",
    "wait-timeout",
    "unrecognised",
]


class DockerFailure(EnvironmentFailure):
    """A docker command failed; `cause` says what it was recognised as.

    Callers branch on `cause`, never on the wording of the message.
    """

    def __init__(
        self,
        cause: DockerCause,
        message: str,
        *,
        hint: str | None = None,
        details: list[str] | None = None,
        service: str | None = None,
        container_exit: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint, details=details)
        self.cause: DockerCause = cause
        # for "service-failed": which service, and the code its container exited with (None
        # when it is unhealthy rather than exited)
        self.service = service
        self.container_exit = container_exit


def _probe_daemon(docker: str, timeout_s: float) -> str | None:
    """None when the daemon answers `docker version` within `timeout_s`, else why not."""
    try:
        completed = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"the Docker daemon did not answer within {timeout_s:g}s"
    except OSError as exc:
        return f"could not run {docker}: {exc.strerror or exc}"
    if completed.returncode == 0 and completed.stdout.strip():
        return None
    return (
        completed.stderr or completed.stdout
    ).strip() or f"docker version: exit {completed.returncode}"


def docker_daemon_available(timeout_s: float = 3.0) -> bool:
    """True when a `docker` client is on PATH and its daemon answers within `timeout_s`.

    Never raises and never takes (much) longer than `timeout_s`: runtime selection calls it.
    """
    docker = shutil.which("docker")
    if docker is None:
        return False
    return _probe_daemon(docker, timeout_s) is None


def _tail(text: str, n: int = FAILURE_TAIL_LINES) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return lines[-n:]


def _service_of(container: str) -> str:
    """`dreamscape-kafka-1` -> `kafka`; unknown names come back unchanged."""
    match = _CONTAINER_NAME_RE.match(container)
    return match.group(1) if match else container


def one_off_name() -> str:
    """A fresh name for topic-init's `compose run` container.

    The file gives every service a fixed `container_name` (the seed's `docker exec
    dreamscape-kafka ...`), and `compose run` reuses it unless told otherwise: then a
    `dreamscape-topic-init` left behind by a plain `docker compose up -d` would make our run fail
    with a name conflict. `<project>-topic-init-run-<hex>` is compose's own one-off pattern.
    """
    return f"{PROJECT}-{INIT_SERVICE}-run-{secrets.token_hex(6)}"


def no_docker_failure() -> EnvironmentFailure:
    """The error for a machine without a `docker` client on PATH."""
    return EnvironmentFailure(
        "docker not found on PATH",
        hint="install Docker (https://docs.docker.com/get-docker/), or use --runtime local",
    )


def classify_docker_error(
    text: str, *, action: str, return_code: int | None = None
) -> DockerFailure:
    """Turn docker's output of a failed command into one clear line, a hint and the details.

    `text` is the command's stderr (and stdout, when it may hold the cause). Guaranteed to
    return a DockerFailure; its `cause` is "unrecognised" in the generic case, which keeps
    docker's last lines as details. The recognisers are tried in order: no daemon to talk to
    before what the daemon said, so a permission error never reads as a failed pull.
    """
    details = _tail(text)
    for recognise in (_daemon_failure, _port_failure, _pull_failure, _start_failure):
        failure = recognise(text, details)
        if failure is not None:
            return failure
    code = f" (exit {return_code})" if return_code is not None else ""
    return DockerFailure(
        "unrecognised",
        f"docker compose {action} failed{code}",
        hint="see docker's output below; `dreamscape-infra status` shows the services",
        details=details,
    )


def _daemon_failure(text: str, details: list[str]) -> DockerFailure | None:
    """No daemon to talk to: not allowed to, none running, or no compose plugin."""
    if match := _PERMISSION_RE.search(text):
        return DockerFailure(
            "permission",
            f"Docker daemon not reachable: {match.group(0).strip()}",
            hint="add your user to the `docker` group (then log in again), or use --runtime local",
        )
    if match := _DAEMON_RE.search(text):
        reason = match.group(0).replace("Is the docker daemon running?", "").strip(" .")
        return DockerFailure(
            "no-daemon",
            f"Docker daemon not reachable: {reason or 'no Docker daemon is running'}",
            hint=_NO_DAEMON_HINT,
        )
    if _NO_COMPOSE_RE.search(text):
        return DockerFailure(
            "no-compose",
            "docker compose (v2) is not installed: `docker compose` is not a docker command",
            hint=_NO_COMPOSE_HINT,
        )
    return None


def _port_failure(text: str, details: list[str]) -> DockerFailure | None:
    """A host port the stack publishes is taken; names the stack's own port when it is one."""
    match = _PORT_LINE_RE.search(text)
    if match is None:
        return None
    ports = [int(p) for p in _PORT_RE.findall(match.group(0)) if 0 < int(p) < 65536]
    known = [p for p in ports if p in _HOST_PORTS]
    port = (known or ports or [0])[0]
    what = f"port {port} ({_HOST_PORTS[port]})" if port in _HOST_PORTS else f"port {port}"
    if not port:
        what = "a port of the stack"
    return DockerFailure(
        "port-in-use",
        f"{what} is already in use on the host",
        hint=(
            f"stop whatever listens there (`lsof -i :{port or 9092}`; a Kafka started with "
            "--runtime local counts), or publish on another address with DREAMSCAPE_BIND"
        ),
        details=details,
    )


def _pull_failure(text: str, details: list[str]) -> DockerFailure | None:
    """An image could not be pulled; names it when docker did."""
    match = _PULL_LINE_RE.search(text)
    if match is None:
        return None
    image = _IMAGE_RE.search(match.group(0))
    subject = f"image {image.group(1)}" if image else "an image of the stack"
    return DockerFailure(
        "pull",
        f"could not pull {subject}",
        hint=(
            "check the network and `docker login`, and that the tag exists "
            "(CP_VERSION, KAFKA_UI_VERSION)"
        ),
        details=details,
    )


def _start_failure(text: str, details: list[str]) -> DockerFailure | None:
    """The stack did not come up: the image build, a service that failed, or the wait."""
    if _BUILD_RE.search(text):
        return DockerFailure(
            "build",
            "could not build the topic-init image (docker/Dockerfile)",
            hint="see the build output above; `docker compose -f docker/docker-compose.kafka.yml "
            "build topic-init` reproduces it",
            details=details,
        )
    if match := _UNHEALTHY_RE.search(text):
        service = _service_of(match.group(1))
        state = f"exited with code {match.group(2)}" if match.group(2) else "is unhealthy"
        return DockerFailure(
            "service-failed",
            f"{service} did not start: its container {state}",
            hint=f"see `dreamscape-infra logs {service}`",
            details=details,
            service=service,
            container_exit=int(match.group(2)) if match.group(2) else None,
        )
    if _WAIT_TIMEOUT_RE.search(text):
        return DockerFailure(
            "wait-timeout",
            "the stack did not become healthy in time",
            hint="raise --timeout, or see `dreamscape-infra logs` for the slow service",
            details=details,
        )
    return None


@dataclass(frozen=True)
class ContainerLife:
    """Where a container is in its life, as `docker inspect` tells (LIFE_FORMAT)."""

    restarts: int  # RestartCount: the restarts docker's restart policy made
    status: str  # State.Status: running, restarting, exited, ...
    exit_code: int  # State.ExitCode of its last run
    started_at: str  # State.StartedAt: changes with every start, by docker or by compose


LIFE_FORMAT = (
    "{{.Name}} {{.RestartCount}} {{.State.Status}} {{.State.ExitCode}} {{.State.StartedAt}}"
)


def container_lives(text: str) -> dict[str, ContainerLife]:
    """`docker inspect --format LIFE_FORMAT` output: service -> its container's life."""
    lives: dict[str, ContainerLife] = {}
    for line in text.splitlines():
        words = line.strip().lstrip("/").split()
        if len(words) != 5 or not _CONTAINER_NAME_RE.match(words[0]):
            continue
        name, restarts, status, exit_code, started_at = words
        if restarts.isdigit() and exit_code.lstrip("-").isdigit():
            lives[_service_of(name)] = ContainerLife(
                int(restarts), status, int(exit_code), started_at
            )
    return lives


def restarted(before: ContainerLife | None, after: ContainerLife | None) -> bool:
    """Whether a container whose wait failed is in a restart, not plainly unhealthy.

    It is when docker restarted it (its restart count grew), when it started again at all
    (compose starts an exited container itself; docker keeps the last run's `unhealthy` until
    the first healthcheck of the new one), or when it is down and docker will restart it.
    """
    if after is None:
        return False
    if after.status == "restarting" or (after.status == "exited" and after.exit_code != 0):
        return True
    if before is None:
        return False
    return after.restarts > before.restarts or after.started_at != before.started_at


def _topic_init_failure(return_code: int, lines: Iterable[str]) -> EnvironmentFailure:
    try:
        meaning = f": {ExitCode(return_code).name.lower().replace('_', ' ')}"
    except ValueError:
        meaning = ""
    return EnvironmentFailure(
        f"topic-init failed with exit code {return_code}{meaning}; topics.yaml was not applied",
        hint=(
            "fix the cause shown below, then run `dreamscape-infra up` again "
            "(or `dreamscape-infra topics plan` from the host)"
        ),
        details=list(lines),
    )


# ---------------------------------------------------------------------------------------------
# compose ps -> ServiceStatus


def _parse_ps(text: str) -> list[dict[str, Any]]:
    """`compose ps --format json` prints a JSON array (older v2) or one object per line."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        parsed = json.loads(text)
        return [entry for entry in parsed if isinstance(entry, dict)]
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def _state(raw: str) -> ServiceState:
    states: dict[str, ServiceState] = {
        "running": "running",
        "restarting": "starting",
        "created": "stopped",
        "paused": "stopped",
        "removing": "stopped",
        "exited": "exited",
        "dead": "exited",
    }
    return states.get(raw.lower(), "unknown")


def _health(raw: str) -> Health:
    healths: dict[str, Health] = {
        "healthy": "healthy",
        "unhealthy": "unhealthy",
        "starting": "starting",
        "": "none",
    }
    return healths.get(raw.lower(), "unknown")


def _ports(entry: Mapping[str, Any]) -> tuple[str, ...]:
    ports = []
    for pub in entry.get("Publishers") or ():
        published = int(pub.get("PublishedPort") or 0)
        if not published:
            continue  # exposed inside the network only
        host = pub.get("URL") or "0.0.0.0"
        ports.append(f"{host}:{published}->{pub.get('TargetPort')}/{pub.get('Protocol', 'tcp')}")
    return tuple(sorted(set(ports)))


def _role(service: str) -> ServiceRole:
    return _ROLES.get(service, "extra")


def _service_status(entry: Mapping[str, Any]) -> ServiceStatus:
    name = str(entry.get("Service") or _service_of(str(entry.get("Name", ""))))
    role = _role(name)
    return ServiceStatus(
        name=name,
        state=_state(str(entry.get("State", ""))),
        health=_health(str(entry.get("Health", ""))),
        ports=_ports(entry),
        detail=str(entry.get("Status", "")),
        role=role,
        # a created container is part of the stack; topic-init is meant to exit
        expected=role != "one-shot",
    )


def _missing(service: str) -> ServiceStatus:
    if service == INIT_SERVICE:
        detail = "one-shot; runs during `up` and is removed"
    elif service in _SERVICE_PROFILE:
        detail = f"not created (profile {_SERVICE_PROFILE[service]})"
    else:
        detail = "not created"
    # ZooKeeper and Kafka are the stack; an extra nobody created is not missed
    return ServiceStatus(
        name=service,
        state="missing",
        detail=detail,
        role=_role(service),
        expected=service in CORE_SERVICES,
    )


def statuses_from_ps(entries: Iterable[Mapping[str, Any]]) -> tuple[ServiceStatus, ...]:
    """One ServiceStatus per service of the file (in file order), `missing` when absent.

    A running container wins over stopped ones of the same service (e.g. old one-off runs).
    """
    found: dict[str, ServiceStatus] = {}
    for entry in entries:
        status = _service_status(entry)
        current = found.get(status.name)
        if current is None or (current.state != "running" and status.state == "running"):
            found[status.name] = status
    ordered = [found.pop(s) if s in found else _missing(s) for s in ALL_SERVICES]
    ordered.extend(found[name] for name in sorted(found))  # services added to the file later
    return tuple(ordered)


def _urls(services: Iterable[ServiceStatus]) -> tuple[tuple[str, str], ...]:
    urls = []
    for status in services:
        if status.name not in _URLS or status.state != "running":
            continue
        label, port = _URLS[status.name]
        for mapping in status.ports:
            host_port, _, target = mapping.partition("->")
            if target.startswith(f"{port}/"):
                host, _, published = host_port.rpartition(":")
                if host not in ("", "0.0.0.0", "::", "[::]", "127.0.0.1"):
                    urls.append((label, f"http://{host}:{published}"))
                    break
                urls.append((label, f"http://localhost:{published}"))
                break
        else:
            urls.append((label, f"http://localhost:{port}"))
    return tuple(urls)


def _progress_from_line(line: str, progress: ProgressCallback) -> None:
    """Report compose's `Container dreamscape-kafka-1  Healthy` lines per service."""
    if match := _CONTAINER_LINE_RE.match(line):
        progress(_service_of(match.group(1)), match.group(2).lower())
    elif (match := _PULL_PROGRESS_RE.match(line)) and match.group(1) in ALL_SERVICES:
        progress(match.group(1), match.group(2).lower())


# ---------------------------------------------------------------------------------------------
# The runtime


def find_compose_file(env: Mapping[str, str]) -> Path:
    """The stack's compose file: $DREAMSCAPE_COMPOSE_FILE, else docker/ of this checkout or cwd,
    else the copy shipped in the package (no topic-init).

    Raises ConfigError for a bad override and EnvironmentFailure when no file is found.
    """
    override = env.get(COMPOSE_FILE_ENV)
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise ConfigError([f"{COMPOSE_FILE_ENV}: '{override}' is not a file"])
        return path.resolve()
    # dreamscape_infra/runtime/docker.py -> the repository root in a checkout or editable install
    candidates = (
        Path(__file__).resolve().parents[2] / COMPOSE_RELATIVE,
        Path.cwd() / COMPOSE_RELATIVE,
    )
    for candidate in (*candidates, PACKAGED_COMPOSE):
        if candidate.is_file():
            return candidate.resolve()
    raise EnvironmentFailure(
        f"the compose file {COMPOSE_RELATIVE} was not found",
        hint=f"run from a DreamScape checkout, or set {COMPOSE_FILE_ENV}",
    )


def has_topic_init(compose_file: Path) -> bool:
    """True when the file defines the topic-init service (the packaged copy does not)."""
    import yaml

    try:
        loaded = yaml.safe_load(compose_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return True  # compose itself will report what is wrong with the file
    services = loaded.get("services") if isinstance(loaded, dict) else None
    return isinstance(services, dict) and INIT_SERVICE in services


def _check_profiles(profiles: Iterable[str]) -> tuple[str, ...]:
    unknown = [p for p in profiles if p not in PROFILE_SERVICES]
    if unknown:
        raise ConfigError(
            [
                f"--profile: unknown profile '{p}' (expected one of {', '.join(PROFILES)})"
                for p in unknown
            ]
        )
    # keep the file's order and drop repeats, so the command line is stable
    return tuple(p for p in PROFILES if p in profiles)


class DockerComposeRuntime:
    """`StackRuntime` over docker compose. Never prints, prompts or exits.

    `env` is where DREAMSCAPE_COMPOSE_FILE and KAFKA_ADVERTISED_HOST are read (default
    os.environ); the docker processes themselves inherit os.environ, as compose expects.
    """

    name: RuntimeName = "docker"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        compose_file: Path | None = None,
        daemon_timeout_s: float = DAEMON_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._env: Mapping[str, str] = env if env is not None else os.environ
        self._compose_file = compose_file
        self._daemon_timeout_s = daemon_timeout_s
        self._clock = clock
        self._sleep = sleep

    @property
    def compose_file(self) -> Path:
        if self._compose_file is None:
            self._compose_file = find_compose_file(self._env)
        return self._compose_file

    @property
    def bootstrap_servers(self) -> str:
        host = self._env.get("KAFKA_ADVERTISED_HOST") or "localhost"
        return f"{host}:{self._env.get(KAFKA_PORT_ENV) or EXTERNAL_PORT}"

    # -- StackRuntime ---------------------------------------------------------------------

    def up(self, options: UpOptions, progress: ProgressCallback) -> UpResult:
        """Start zookeeper, kafka and the chosen profiles' services, then run topic-init.

        With `options.wait`, returns once every long-running service is healthy and topic-init
        exited 0; a failing topic-init raises EnvironmentFailure with its last output lines.
        Without it, returns once the containers are started and leaves topic-init out.
        """
        profiles = _check_profiles(options.profiles)
        if options.kraft or options.brokers != 1:
            raise ConfigError(
                [
                    "--kraft and --brokers apply to --runtime local only: "
                    "the docker stack runs one broker with ZooKeeper"
                ]
            )
        if options.acls:
            raise ConfigError(
                ["--acls applies to --runtime local only: the docker stack runs no authorizer"]
            )
        compose_file = self.compose_file
        self._preflight()
        client = self._client(compose_file, profiles)
        # compose ps only lists the active profiles' services: ask with all of them
        every_profile = self._client(compose_file, PROFILES)
        services = [*CORE_SERVICES, *(s for p in profiles for s in PROFILE_SERVICES[p])]

        before = {s.name: s for s in self._statuses(every_profile)}
        already_running = all(
            before[s].state == "running" and before[s].health in ("healthy", "none")
            for s in services
        )
        for service in services:
            progress(service, "starting")
        self._start(client, services, options, progress)

        notes: list[str] = []
        has_init = has_topic_init(compose_file)
        if options.wait:
            for service in services:
                progress(service, "healthy")
            if has_init:
                self._run_topic_init(client, options.build, progress)
        else:
            notes.append(
                ("topic-init was not run" if has_init else "topics.yaml was not synced")
                + " (--no-wait): run `dreamscape-infra topics sync` once Kafka is healthy"
            )
        return UpResult(
            status=self._stack_status(every_profile),
            already_running=already_running,
            notes=tuple(notes),
            sync_from_host=not has_init,
        )

    def _start(
        self,
        client: DockerClient,
        services: list[str],
        options: UpOptions,
        progress: ProgressCallback,
    ) -> None:
        """`compose up` (with --wait: until healthy), waiting through docker's own restarts.

        compose fails the wait the moment a container exits, or turns unhealthy, which is what
        docker reports for a container that exited and is being restarted. When the failed
        service's container is in a restart (`restarted`), `up --wait` is repeated within
        `options.timeout_s`, up to RESTARTS_WAITED times. Any other failure is raised as it
        came.
        """
        deadline = self._clock() + options.timeout_s
        waited = 0
        while True:
            before = self._lives(client, services)
            remaining = deadline - self._clock()
            try:
                self._stream(
                    "up",
                    partial(
                        client.compose.up,
                        services,
                        detach=True,
                        wait=options.wait,
                        wait_timeout=max(1, math.ceil(remaining)) if options.wait else None,
                        stream_logs=True,
                    ),
                    progress,
                )
                return
            except DockerFailure as failure:
                service = failure.service
                if service not in RESTARTING_SERVICES or waited >= RESTARTS_WAITED:
                    raise
                if deadline - self._clock() <= RESTART_PAUSE_S:
                    raise
                # docker restarts an exited container within ms; give it that before asking
                self._sleep(RESTART_PAUSE_S)
                after = self._lives(client, [service])
                if not restarted(before.get(service), after.get(service)):
                    raise
                waited += 1
                progress(
                    service,
                    f"exited and started again (restart: on-failure); waiting "
                    f"({waited}/{RESTARTS_WAITED})",
                )

    def down(self, remove_data: bool, progress: ProgressCallback) -> DownResult:
        """Stop and remove the containers of every profile; the volumes only if `remove_data`.

        The caller has already confirmed `remove_data`. ZooKeeper's and Kafka's volumes always
        go together, so a restart never meets InconsistentClusterIdException.
        """
        compose_file = self.compose_file
        self._preflight()
        client = self._client(compose_file, PROFILES)
        before = self._statuses(client)
        stopped = tuple(s.name for s in before if s.state in ("running", "starting"))
        self._stream(
            "down",
            lambda: client.compose.down(remove_orphans=True, volumes=remove_data, stream_logs=True),
            progress,
        )
        notes: list[str] = []
        if remove_data:
            notes.append("removed volumes " + ", ".join(f"{PROJECT}_{v}" for v in _VOLUMES))
        return DownResult(stopped=stopped, removed_data=remove_data, notes=tuple(notes))

    def status(self) -> StackStatus:
        """Every service of every profile with its state, health and published ports."""
        compose_file = self.compose_file
        self._preflight()
        return self._stack_status(self._client(compose_file, PROFILES))

    def logs(self, service: str | None, follow: bool, tail: int | None) -> Iterator[str]:
        """The log lines of `service` (or of every service), checked before the first line."""
        if service is not None and service not in ALL_SERVICES:
            raise ConfigError(
                [f"logs: unknown service '{service}' (expected one of {', '.join(ALL_SERVICES)})"]
            )
        if tail is not None and tail < 0:
            raise ConfigError([f"--tail: {tail} is negative"])
        compose_file = self.compose_file
        self._preflight()
        client = self._client(compose_file, PROFILES)
        return self._log_lines(client, service, follow, tail)

    # -- internals --------------------------------------------------------------------------

    def _preflight(self) -> None:
        """Fail fast, and with the real cause, before compose would hang or mislead."""
        docker = shutil.which("docker")
        if docker is None:
            raise no_docker_failure()
        problem = _probe_daemon(docker, self._daemon_timeout_s)
        if problem is not None:
            failure = classify_docker_error(problem, action="version")
            if failure.cause == "unrecognised":
                # `docker version` failing for a reason we do not know is still no daemon
                failure = DockerFailure(
                    "no-daemon",
                    f"Docker daemon not reachable: {problem.splitlines()[0]}",
                    hint=_NO_DAEMON_HINT,
                    details=_tail(problem),
                )
            raise failure

    def _client(self, compose_file: Path, profiles: Iterable[str]) -> DockerClient:
        from python_on_whales import DockerClient

        return DockerClient(compose_files=[compose_file], compose_profiles=list(profiles))

    def _call(self, action: str, fn: Callable[[], _T]) -> _T:
        from python_on_whales.client_config import ClientNotFoundError
        from python_on_whales.exceptions import DockerException

        try:
            return fn()
        except ClientNotFoundError:
            raise no_docker_failure() from None
        except DockerException as exc:
            text = "\n".join(t for t in (exc.stderr, exc.stdout) if t)
            raise classify_docker_error(text, action=action, return_code=exc.return_code) from None

    def _stream(
        self,
        action: str,
        start: Callable[[], Iterable[tuple[str, bytes]]],
        progress: ProgressCallback,
    ) -> list[str]:
        """Run a streaming compose command, reporting its progress lines; return its output."""
        output: list[str] = []

        def consume() -> None:
            for _source, raw in start():
                line = raw.decode(errors="replace").rstrip("\r\n")
                output.append(line)
                _progress_from_line(line, progress)

        self._call(action, consume)
        return output

    def _lives(self, client: DockerClient, services: Iterable[str]) -> dict[str, ContainerLife]:
        """Each service's container life (container_lives); a missing container is left out."""
        from python_on_whales.exceptions import DockerException
        from python_on_whales.utils import run

        names = [f"{PROJECT}-{service}" for service in services]
        cmd = [*client.docker_cmd, "inspect", "--format", LIFE_FORMAT, *names]
        try:
            text = run(cmd, return_stderr=False)
        except DockerException as exc:
            # `docker inspect` exits 1 when one of the names has no container yet, and still
            # prints the others
            text = exc.stdout or ""
        return container_lives(text)

    def _statuses(self, client: DockerClient) -> tuple[ServiceStatus, ...]:
        from python_on_whales.utils import run

        cmd = [*client.compose.docker_compose_cmd, "ps", "--all", "--format", "json"]
        text = self._call("ps", lambda: run(cmd, return_stderr=False))
        try:
            entries = _parse_ps(text)
        except json.JSONDecodeError:
            raise EnvironmentFailure(
                "docker compose ps printed something that is not JSON",
                hint="upgrade Docker Compose to v2.20 or later",
                details=_tail(text),
            ) from None
        return statuses_from_ps(entries)

    def _stack_status(self, client: DockerClient) -> StackStatus:
        services = self._statuses(client)
        return StackStatus(
            runtime="docker",
            services=services,
            bootstrap_servers=self.bootstrap_servers,
            urls=_urls(services),
        )

    def _run_topic_init(
        self, client: DockerClient, build: bool, progress: ProgressCallback
    ) -> None:
        from python_on_whales.client_config import ClientNotFoundError
        from python_on_whales.exceptions import DockerException

        progress(INIT_SERVICE, "syncing topics")
        lines: deque[str] = deque(maxlen=FAILURE_TAIL_LINES)
        try:
            # stream=True makes compose.run return the (source, line) iterator
            stream = cast(
                "Iterable[tuple[str, bytes]]",
                client.compose.run(
                    INIT_SERVICE,
                    tty=False,
                    stream=True,
                    remove=True,
                    build=build,
                    name=one_off_name(),
                ),
            )
            for _source, raw in stream:
                line = raw.decode(errors="replace").rstrip("\r\n")
                lines.append(line)
                _progress_from_line(line, progress)
        except ClientNotFoundError:
            raise no_docker_failure() from None
        except DockerException as exc:
            # Exit codes 2-7 are the sync's own (errors.ExitCode). Anything else may be docker
            # itself failing (daemon gone, build or pull failure), which is not a sync failure.
            failure = _topic_init_failure(exc.return_code, lines)
            if not ExitCode.USAGE <= exc.return_code <= ExitCode.REFUSED:
                text = "\n".join([*lines, exc.stderr or ""])
                docker_failure = classify_docker_error(
                    text, action="run", return_code=exc.return_code
                )
                if docker_failure.cause != "unrecognised":
                    failure = docker_failure
            raise failure from None
        progress(INIT_SERVICE, "done")

    def _log_lines(
        self, client: DockerClient, service: str | None, follow: bool, tail: int | None
    ) -> Iterator[str]:
        from python_on_whales.client_config import ClientNotFoundError
        from python_on_whales.exceptions import DockerException

        try:
            for _source, raw in client.compose.logs(
                services=[service] if service else [],
                tail=str(tail) if tail is not None else None,
                follow=follow,
                stream=True,
            ):
                yield raw.decode(errors="replace").rstrip("\r\n")
        except ClientNotFoundError:
            raise no_docker_failure() from None
        except DockerException as exc:
            text = "\n".join(t for t in (exc.stderr, exc.stdout) if t)
            raise classify_docker_error(text, action="logs", return_code=exc.return_code) from None


__all__ = [
    "ALL_SERVICES",
    "COMPOSE_FILE_ENV",
    "CORE_SERVICES",
    "INIT_SERVICE",
    "PROFILES",
    "PROFILE_SERVICES",
    "DockerCause",
    "DockerComposeRuntime",
    "DockerFailure",
    "classify_docker_error",
    "docker_daemon_available",
    "find_compose_file",
    "statuses_from_ps",
]
