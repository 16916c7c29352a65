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
    # local runtime only: runtime.security.SecurityMode (None: what the stack already has,
    # else plaintext) and the SASL users to create besides the admin (the declared services)
    security: str | None = None
    service_users: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """One service (container or local process) of the stack."""

    name: str
    state: ServiceState
    health: Health = "none"
    ports: tuple[str, ...] = ()
    pid: int | None = None
    detail: str = ""


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

    @property
    def running(self) -> bool:
        return any(s.state == "running" for s in self.services)


@dataclass(frozen=True, slots=True)
class UpResult:
    """What `up` did."""

    status: StackStatus
    already_running: bool = False
    notes: tuple[str, ...] = field(default=())


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
