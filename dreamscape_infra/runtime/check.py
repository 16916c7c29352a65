"""Is the stack up? The rule behind `status`'s exit code, as plain values.

The rule, in this order (documented in `status --help`, the README and docs/json-output.md):

1. `no-broker` (exit 4): no broker of the stack answers, because no broker process runs or
   because none accepts an AdminClient connection. An unreachable cluster is an environment
   failure, whatever else is wrong, so this wins.
2. `service-down` (exit 8, "a check failed"): a broker answers, but a service the stack expects
   is down, i.e. not running, or running and reported unhealthy. Which services a stack expects
   is the runtime's call (`ServiceStatus.expected`): every JVM of the local layout; docker's
   ZooKeeper and Kafka plus the extras that were created, never the one-shot topic-init.
3. `ok` (exit 0).

Which services are brokers is also the runtime's call (`ServiceStatus.role`), never a guess from
a name. Nothing here prints; the CLI renders these values and raises `failure()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from dreamscape_infra.errors import CheckFailed, EnvironmentFailure, ExitCode, InfraError
from dreamscape_infra.kafka.cluster import ClusterInfo
from dreamscape_infra.runtime.base import ServiceStatus, StackStatus

if TYPE_CHECKING:
    from dreamscape_infra.settings import ConnectionSettings

Verdict = Literal["ok", "service-down", "no-broker"]


class ClusterProbe(Protocol):
    """The part of a Kafka admin client a liveness or readiness check needs.

    `ConfluentAdmin` (and every `KafkaAdmin`) satisfies it; tests pass a few-line fake.
    """

    def describe_cluster(self) -> ClusterInfo:
        """The registered brokers and the controller; EnvironmentFailure when none answers."""
        ...

    def close(self) -> None:
        """Release the client."""
        ...


# Opens a ClusterProbe for plaintext settings of a stack (injected into LocalRuntime's wait).
ProbeFactory = Callable[["ConnectionSettings"], ClusterProbe]

READINESS_TIMEOUT_S = 2.0  # per DescribeCluster while `up` polls: a starting broker is local


@dataclass(frozen=True, slots=True)
class DescribeClusterJob:
    """DescribeCluster with a confluent-kafka AdminClient, as `kafka.isolated` runs it."""

    settings: ConnectionSettings
    timeout_s: float = READINESS_TIMEOUT_S

    def open(self) -> Callable[[], ClusterInfo]:
        from dreamscape_infra.kafka.admin import ConfluentAdmin

        return ConfluentAdmin(self.settings, timeout_s=self.timeout_s).describe_cluster


class IsolatedProbe:
    """A `ClusterProbe` whose AdminClient lives in a child process (`kafka.isolated`).

    `up` asks brokers that are still starting, which is when librdkafka has been seen to abort
    (`rd_kafka_admin_response_parse: Assertion 'rko_result' failed`). Here that costs the child:
    the call fails like an unreachable broker and the next one starts a new child."""

    def __init__(self, settings: ConnectionSettings) -> None:
        from dreamscape_infra.kafka.isolated import IsolatedClient

        self._client = IsolatedClient(DescribeClusterJob(settings))

    def describe_cluster(self) -> ClusterInfo:
        return self._client.call()

    def close(self) -> None:
        self._client.close()


def admin_probe(settings: ConnectionSettings) -> ClusterProbe:
    """The real probe for `up`'s wait: DescribeCluster in a child process (`IsolatedProbe`)."""
    return IsolatedProbe(settings)


@dataclass(frozen=True, slots=True)
class BrokerReachability:
    """What a stack's brokers answered to one DescribeCluster."""

    reachable: bool
    brokers: int = 0
    controller: int | None = None
    error: str | None = None


NO_BROKER_RUNNING = BrokerReachability(False, error="no broker of the stack is running")


def broker_running(status: StackStatus) -> bool:
    """True when a broker process of the stack runs, so asking Kafka can answer at all."""
    return any(s.is_broker and s.state == "running" for s in status.services)


def probe_broker(
    probe: ClusterProbe, metadata: Callable[[], ClusterInfo | None] | None = None
) -> BrokerReachability:
    """Ask the cluster once; an unreachable cluster is a value, never an exception.

    DescribeCluster goes to the controller the client last knew: with that broker killed it
    fails while the others are up. `metadata` (any live broker answers it) then decides."""
    try:
        found: ClusterInfo | None = probe.describe_cluster()
        error = None
    except EnvironmentFailure as exc:
        found, error = None, exc.message
        if metadata is not None:
            try:
                found = metadata()
            except EnvironmentFailure:
                found = None
    if found is None:
        return BrokerReachability(False, error=error or "Kafka did not answer")
    return BrokerReachability(True, len(found.brokers), found.controller_id)


@dataclass(frozen=True, slots=True)
class StackVerdict:
    """The stack's verdict: which rule applied, and the expected services that are down."""

    verdict: Verdict
    down: tuple[ServiceStatus, ...]
    bootstrap_servers: str
    broker_error: str | None = None

    @property
    def exit_code(self) -> ExitCode:
        return {
            "ok": ExitCode.OK,
            "service-down": ExitCode.CHECK_FAILED,
            "no-broker": ExitCode.ENVIRONMENT,
        }[self.verdict]

    def failure(self) -> InfraError | None:
        """The error the CLI raises after showing the status (None when all is well)."""
        if self.verdict == "no-broker":
            return EnvironmentFailure(
                f"no broker answers at {self.bootstrap_servers} ({self.broker_error})",
                hint="start the stack with `dreamscape-infra up`; `dreamscape-infra logs` "
                "shows why a broker stopped",
            )
        if self.verdict == "service-down":
            names = ", ".join(f"{s.name} ({why_down(s)})" for s in self.down)
            count = len(self.down)
            return CheckFailed(
                f"{count} service{'s' if count > 1 else ''} of the stack "
                f"{'are' if count > 1 else 'is'} down: {names}",
                hint="`dreamscape-infra up` starts what is missing; "
                f"`dreamscape-infra logs {self.down[0].name}` shows why it stopped",
            )
        return None


def why_down(service: ServiceStatus) -> str:
    """A down service's state in one word: its state, or `unhealthy` when it runs."""
    return "unhealthy" if service.state == "running" else service.state


def stack_verdict(status: StackStatus, broker: BrokerReachability) -> StackVerdict:
    """Apply the module's rule: no-broker (4) wins over service-down (8) over ok (0)."""
    down = tuple(s for s in status.services if s.is_down)
    if not broker.reachable:
        return StackVerdict("no-broker", down, status.bootstrap_servers, broker.error)
    if down:
        return StackVerdict("service-down", down, status.bootstrap_servers)
    return StackVerdict("ok", (), status.bootstrap_servers)


__all__ = [
    "NO_BROKER_RUNNING",
    "BrokerReachability",
    "ClusterProbe",
    "ProbeFactory",
    "StackVerdict",
    "Verdict",
    "admin_probe",
    "broker_running",
    "probe_broker",
    "stack_verdict",
    "why_down",
]
