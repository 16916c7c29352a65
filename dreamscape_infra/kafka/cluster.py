"""The Kafka cluster as plain values, and the `KafkaAdmin` Protocol the topics code asks it through.

Pure: no confluent_kafka here. `dreamscape_infra.kafka.admin.ConfluentAdmin` implements the
Protocol against a real cluster; tests implement it with a fake.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol

ConfigSourceName = Literal[
    "topic", "broker", "broker-default", "static-broker", "default", "unknown"
]

INTERNAL_PREFIXES = ("__", "_confluent")
INTERNAL_NAMES = ("_schemas",)


# The records the adapter copies out of Kafka's answers (brokers, partitions, config entries,
# requests and per-topic results) are NamedTuples; the topic and cluster views built from
# them are frozen dataclasses. Every command that talks to Kafka imports this module, and on
# Python 3.11 a frozen dataclass costs ~0.8 ms to create, a NamedTuple ~0.1 ms (~5 ms of
# start-up for these seven). They are immutable values all the same; being tuples, compare
# them only with their own kind.


def is_internal_topic(name: str) -> bool:
    """Topics we never touch, whatever the flags: `__*`, `_schemas`, `_confluent*`."""
    return name.startswith(INTERNAL_PREFIXES) or name in INTERNAL_NAMES


class BrokerInfo(NamedTuple):
    id: int
    host: str
    port: int


class ClusterInfo(NamedTuple):
    cluster_id: str | None
    controller_id: int | None
    brokers: tuple[BrokerInfo, ...]


class PartitionInfo(NamedTuple):
    id: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


class ConfigEntryState(NamedTuple):
    """One effective config value of a topic and where it comes from."""

    value: str | None
    source: ConfigSourceName
    sensitive: bool = False
    read_only: bool = False

    @property
    def is_override(self) -> bool:
        """Set on the topic itself (not inherited from the broker or Kafka's default)."""
        return self.source == "topic"


@dataclass(frozen=True, slots=True)
class TopicState:
    """A topic as the cluster reports it."""

    name: str
    partitions: tuple[PartitionInfo, ...]
    configs: Mapping[str, ConfigEntryState] = field(default_factory=dict)

    @property
    def partition_count(self) -> int:
        return len(self.partitions)

    @property
    def replication_factor(self) -> int:
        """Measured from the replica lists (not the ISR): the most common length."""
        lengths = [len(p.replicas) for p in self.partitions]
        if not lengths:
            return 0
        return max(set(lengths), key=lambda n: (lengths.count(n), n))

    @property
    def under_replicated(self) -> tuple[int, ...]:
        return tuple(p.id for p in self.partitions if len(p.isr) < len(p.replicas))

    @property
    def internal(self) -> bool:
        return is_internal_topic(self.name)


@dataclass(frozen=True, slots=True)
class ClusterSnapshot:
    """All topic names with partitions, and configs for the topics that were asked for."""

    topics: Mapping[str, TopicState]
    broker_count: int
    # The brokers and controller the same metadata response named (None from adapters that do
    # not say): health reads them from here instead of a second request.
    cluster: ClusterInfo | None = None


class NewTopicRequest(NamedTuple):
    name: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str]


class ConfigOp(NamedTuple):
    key: str
    op: Literal["set", "delete"]
    value: str | None = None


class ActionResult(NamedTuple):
    """The broker's answer for one topic: ok, or an error code and message."""

    ok: bool
    error_code: str | None = None
    message: str | None = None


OK = ActionResult(ok=True)


class KafkaAdmin(Protocol):
    """What the rest of the code may ask of a Kafka cluster. Fakes implement this too."""

    def describe_cluster(self) -> ClusterInfo:
        """Brokers and controller; raises EnvironmentFailure when unreachable."""
        ...

    def snapshot(self, config_topics: Iterable[str]) -> ClusterSnapshot:
        """Every topic with its partitions; configs for those of `config_topics` that exist."""
        ...

    def create_topics(
        self, topics: Sequence[NewTopicRequest], *, validate_only: bool
    ) -> dict[str, ActionResult]: ...

    def create_partitions(
        self, counts: Mapping[str, int], *, validate_only: bool
    ) -> dict[str, ActionResult]: ...

    def alter_configs(
        self, changes: Mapping[str, Sequence[ConfigOp]], *, validate_only: bool
    ) -> dict[str, ActionResult]: ...

    def delete_topics(self, names: Sequence[str]) -> dict[str, ActionResult]: ...

    def wait_for_topics(self, names: Sequence[str], timeout_s: float) -> set[str]:
        """Block until `names` show in metadata with leaders; returns those still missing."""
        ...

    def groups_with_offsets(self, topics: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """For each topic, the consumer groups that have committed offsets on it."""
        ...

    def latest_timestamps(self, topics: Sequence[str]) -> dict[str, int | None]:
        """For each topic, the newest message timestamp in ms (None when empty)."""
        ...

    def close(self) -> None: ...
