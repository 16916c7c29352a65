"""The one small interface both stack runtimes implement (docker compose and local JVMs).

The CLI's `up`, `down`, `status` and `logs` talk only to `StackRuntime`. Runtimes never print,
prompt or exit: they report progress through a callback and raise `dreamscape_infra.errors`
types. Everything they return is a plain frozen value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from dreamscape_infra.runtime.security import ClientEnvironment
    from dreamscape_infra.settings import ConnectionSettings

RuntimeName = Literal["docker", "local"]
ServiceState = Literal["running", "exited", "stopped", "starting", "missing", "unknown"]
Health = Literal["healthy", "unhealthy", "starting", "none", "unknown"]
# What a service is to the stack. Decided by the runtime that knows its services, so nothing
# has to guess from a name (`kafka-ui` starts with "kafka" too).
#   broker       answers Kafka clients (a KRaft node that is broker and controller included)
#   coordinator  ZooKeeper
#   extra        Kafka UI, Schema Registry and services added to the compose file later
#   one-shot     topic-init: runs to completion during `up`, never expected to keep running
ServiceRole = Literal["broker", "coordinator", "extra", "one-shot"]

# The label of the Schema Registry's URL in StackStatus.urls, for both runtimes: its
# Confluent-compatible base URL (`up --print-env` prints it as SCHEMA_REGISTRY_URL)
SCHEMA_REGISTRY_LABEL = "Schema Registry"

# Called with (service, message) while a runtime waits; the CLI turns it into a spinner line.
ProgressCallback = Callable[[str, str], None]


def no_progress(service: str, message: str) -> None:
    """A ProgressCallback that ignores everything."""


@dataclass(frozen=True, slots=True)
class UpOptions:
    """What `up` was asked for."""

    profiles: tuple[str, ...] = ()
    wait: bool = True
    timeout_s: float = 120.0
    build: bool = False
    # local runtime only
    kraft: bool = False
    brokers: int = 1
    # run an authorizer (see runtime.local.authorizer_properties); None: what the stack
    # already has, else none
    acls: bool | None = None
    # local runtime only: runtime.security.SecurityMode (None: what the stack already has,
    # else plaintext) and the SASL users to create besides the admin (the declared services)
    security: str | None = None
    service_users: tuple[str, ...] = ()
    # the topics.yaml environment asked for (--env / DREAMSCAPE_ENV; None: not asked). The
    # local runtime records it when the stack starts; a restart without one keeps the record
    environment: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """One service (container or local process) of the stack."""

    name: str
    state: ServiceState
    health: Health = "none"
    ports: tuple[str, ...] = ()
    pid: int | None = None
    detail: str = ""
    role: ServiceRole = "extra"
    # part of the stack as it was brought up, so it must be running (see `is_down`): every
    # local JVM of the recorded layout; docker's core services and the extras that were created
    expected: bool = True

    @property
    def is_broker(self) -> bool:
        return self.role == "broker"

    @property
    def is_down(self) -> bool:
        """Expected to run, and not running, or running but reported unhealthy."""
        return self.expected and (self.state != "running" or self.health == "unhealthy")


@dataclass(frozen=True, slots=True)
class StackStatus:
    """The stack as a runtime sees it."""

    runtime: RuntimeName
    services: tuple[ServiceStatus, ...]
    bootstrap_servers: str
    urls: tuple[tuple[str, str], ...] = ()  # (label, url), e.g. ("Kafka UI", "http://...")
    # the local runtime's security mode and what a client needs to connect (never a secret)
    security: str = "plaintext"
    client_environment: ClientEnvironment | None = None
    # the topics.yaml environment the stack was started with (recorded by the local runtime;
    # None: the base declarations, or a runtime that records none)
    environment: str | None = None

    @property
    def running(self) -> bool:
        return any(s.state == "running" for s in self.services)


@dataclass(frozen=True, slots=True)
class UpResult:
    """What `up` did."""

    status: StackStatus
    already_running: bool = False
    notes: tuple[str, ...] = field(default=())
    # True when the stack has no topic-init of its own (the packaged compose file): the CLI
    # then syncs topics.yaml from the host, as for the local runtime
    sync_from_host: bool = False


@dataclass(frozen=True, slots=True)
class DownResult:
    """What `down` stopped and removed."""

    stopped: tuple[str, ...]
    removed_data: bool
    notes: tuple[str, ...] = ()


class StackRuntime(Protocol):
    """A way to run ZooKeeper/KRaft + Kafka (+ extras). Implemented by docker and local."""

    name: RuntimeName

    def up(self, options: UpOptions, progress: ProgressCallback) -> UpResult:
        """Start the stack and, if `options.wait`, block until the broker is ready."""
        ...

    def down(self, remove_data: bool, progress: ProgressCallback) -> DownResult:
        """Stop everything this runtime started; remove data only if asked (already confirmed)."""
        ...

    def status(self) -> StackStatus:
        """Report every service, running or not."""
        ...

    def logs(self, service: str | None, follow: bool, tail: int | None) -> Iterator[str]:
        """Yield log lines (without trailing newline) of one service or all."""
        ...


@runtime_checkable
class SecuredRuntime(Protocol):
    """A runtime whose stack may be secured: it says how to connect as the stack's admin."""

    def admin_settings(self) -> ConnectionSettings:
        """Connection settings for the stack's admin user (plaintext when unsecured)."""
        ...
