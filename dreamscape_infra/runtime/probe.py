"""Asking a stack's brokers whether they answer: `up`'s readiness probe and `status`'s reach.

`admin_probe` is the real probe `LocalRuntime` is given for `up`'s wait: DescribeCluster in a
child process (`kafka.client_host.ChildProcess`), because `up` asks brokers that are still
starting, which is when librdkafka has been seen to abort (`rd_kafka_admin_response_parse:
Assertion 'rko_result' failed`); an abort then fails one call like an unreachable broker, and
the next call starts a new child. `probe_broker` turns one answer into a value. Never prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.kafka.cluster import ClusterInfo

if TYPE_CHECKING:
    from dreamscape_infra.runtime.base import StackStatus
    from dreamscape_infra.settings import ConnectionSettings


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


@contextmanager
def describing_cluster(
    settings: ConnectionSettings, timeout_s: float = READINESS_TIMEOUT_S
) -> Iterator[Callable[[], ClusterInfo]]:
    """DescribeCluster over one AdminClient, closed on exit (the job the child runs)."""
    from dreamscape_infra.kafka.admin import ConfluentAdmin

    with closing(ConfluentAdmin(settings, timeout_s=timeout_s)) as admin:
        yield admin.describe_cluster


class ChildProbe:
    """A `ClusterProbe` whose AdminClient lives in a child process."""

    def __init__(self, settings: ConnectionSettings) -> None:
        from dreamscape_infra.kafka.client_host import ChildProcess

        self._calls = ChildProcess().run(partial(describing_cluster, settings))

    def describe_cluster(self) -> ClusterInfo:
        return self._calls.call()

    def close(self) -> None:
        self._calls.close()


def admin_probe(settings: ConnectionSettings) -> ClusterProbe:
    """The real probe for `up`'s wait: DescribeCluster in a child process (`ChildProbe`)."""
    return ChildProbe(settings)


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


__all__ = [
    "NO_BROKER_RUNNING",
    "BrokerReachability",
    "ChildProbe",
    "ClusterProbe",
    "ProbeFactory",
    "admin_probe",
    "broker_running",
    "probe_broker",
]
