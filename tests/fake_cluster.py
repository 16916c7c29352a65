"""One in-memory Kafka cluster behind both of our Protocols: `KafkaAdmin` (topics, configs)
and `GroupsClient` (consumer groups, offsets). Records every call.

Topics, configs, groups and offsets live in one model, so what `topics plan` sees and what
`groups lag` reads always agree: a health test gives the same cluster to both factories
(`cluster.app_state()`) instead of keeping two fakes consistent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dreamscape_infra.errors import EnvironmentFailure, RefusedError
from dreamscape_infra.groups.client import (
    GroupDescription,
    GroupListing,
    GroupMember,
    OffsetRange,
    RecordTime,
    TopicPartition,
)
from dreamscape_infra.kafka.cluster import (
    OK,
    ActionResult,
    BrokerInfo,
    ClusterInfo,
    ClusterSnapshot,
    ConfigEntryState,
    ConfigOp,
    NewTopicRequest,
    PartitionInfo,
    TopicState,
)

if TYPE_CHECKING:
    from dreamscape_infra.cli.state import AppState

BROKER_DEFAULTS: dict[str, str] = {
    "cleanup.policy": "delete",
    "compression.type": "producer",
    "retention.ms": "604800000",
    "retention.bytes": "-1",
    "min.insync.replicas": "1",
    "segment.ms": "604800000",
    "segment.bytes": "1073741824",
    "max.message.bytes": "1048588",
}


@dataclass
class FakeTopic:
    partitions: int
    replication_factor: int = 1
    overrides: dict[str, str] = field(default_factory=dict)
    isr_short: bool = False


@dataclass
class FakeGroup:
    state: str = "Empty"
    members: list[GroupMember] = field(default_factory=list)
    committed: dict[TopicPartition, int] = field(default_factory=dict)


def topics_with(partitions: Mapping[str, int]) -> dict[str, FakeTopic]:
    """`{name: FakeTopic(count)}`: topics a test only needs the partition counts of."""
    return {name: FakeTopic(count) for name, count in partitions.items()}


@dataclass
class FakeCluster:
    """A cluster over dicts. `brokers` limits RF like a real cluster does; `reachable=False`
    fails every call like no broker; `fail` makes one topic's actions fail with (code, message);
    `race` topics are created by "someone else" on our create."""

    topics: dict[str, FakeTopic] = field(default_factory=dict)
    brokers: int = 1
    reachable: bool = True
    fail: dict[str, tuple[str, str]] = field(default_factory=dict)
    race: set[str] = field(default_factory=set)
    groups: dict[str, FakeGroup] = field(default_factory=dict)
    # offsets: log start/end per partition (default 0/0), offsets_for_time's answers, and the
    # newest message time per topic
    ranges: dict[TopicPartition, OffsetRange] = field(default_factory=dict)
    times: dict[TopicPartition, int | None] = field(default_factory=dict)
    latest: dict[str, int | None] = field(default_factory=dict)
    # (topic, partition, offset) -> the record's timestamp in ms (-1: none); reading at offset o
    # gives the first record at or after o, as on a compacted log
    records: dict[tuple[str, int, int], int] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    closed: bool = False

    def app_state(self, **kwargs: Any) -> AppState:
        """An AppState whose admin and groups clients are both this cluster, run in this
        process (where the cluster lives)."""
        from dreamscape_infra.cli.state import AppState
        from dreamscape_infra.kafka.client_host import InProcess

        kwargs.setdefault("environ", {})
        kwargs.setdefault("client_host", InProcess())
        return AppState(
            admin_factory=lambda *_a, **_k: self, groups_factory=lambda *_a, **_k: self, **kwargs
        )

    def _check(self, call: str) -> None:
        self.calls.append(call)
        if not self.reachable:
            raise EnvironmentFailure("Kafka is not reachable at fake:9092", hint="fake")

    def _failure(self, name: str) -> ActionResult | None:
        if name in self.fail:
            code, message = self.fail[name]
            return ActionResult(False, code, message)
        return None

    # ---- KafkaAdmin: the cluster, topics and their configs ------------------------------------

    def describe_cluster(self) -> ClusterInfo:
        self._check("describe_cluster")
        return ClusterInfo(
            "fake", 0, tuple(BrokerInfo(i, "fake", 9092) for i in range(self.brokers))
        )

    def _state(self, name: str, with_configs: bool) -> TopicState:
        topic = self.topics[name]
        replicas = tuple(range(topic.replication_factor))
        isr = replicas[:1] if topic.isr_short else replicas
        parts = tuple(PartitionInfo(i, 0, replicas, isr) for i in range(topic.partitions))
        configs: dict[str, ConfigEntryState] = {}
        if with_configs:
            configs = {k: ConfigEntryState(v, "default") for k, v in BROKER_DEFAULTS.items()}
            configs.update({k: ConfigEntryState(v, "topic") for k, v in topic.overrides.items()})
        return TopicState(name, parts, configs)

    def snapshot(self, config_topics: Iterable[str]) -> ClusterSnapshot:
        self._check("snapshot")
        wanted = set(config_topics)
        return ClusterSnapshot(
            {n: self._state(n, n in wanted) for n in self.topics}, broker_count=self.brokers
        )

    def create_topics(
        self, topics: Sequence[NewTopicRequest], *, validate_only: bool
    ) -> dict[str, ActionResult]:
        self._check("create_topics")
        results: dict[str, ActionResult] = {}
        for t in topics:
            failure = self._failure(t.name)
            if failure is None and t.name in self.race:
                self.topics[t.name] = FakeTopic(1, t.replication_factor)
                failure = ActionResult(False, "TOPIC_ALREADY_EXISTS", "exists")
            if failure is None and t.name in self.topics:
                failure = ActionResult(False, "TOPIC_ALREADY_EXISTS", "exists")
            if failure is None and t.replication_factor > self.brokers:
                failure = ActionResult(
                    False, "INVALID_REPLICATION_FACTOR", "Replication factor larger than brokers"
                )
            results[t.name] = failure or OK
            if failure is None and not validate_only:
                # Kafka stores every config given at creation as a topic-level override.
                self.topics[t.name] = FakeTopic(t.partitions, t.replication_factor, dict(t.configs))
        return results

    def create_partitions(
        self, counts: Mapping[str, int], *, validate_only: bool
    ) -> dict[str, ActionResult]:
        self._check("create_partitions")
        results: dict[str, ActionResult] = {}
        for name, count in counts.items():
            failure = self._failure(name)
            if failure is None and count <= self.topics[name].partitions:
                failure = ActionResult(False, "INVALID_PARTITIONS", "can only grow")
            results[name] = failure or OK
            if failure is None and not validate_only:
                self.topics[name].partitions = count
        return results

    def alter_configs(
        self, changes: Mapping[str, Sequence[ConfigOp]], *, validate_only: bool
    ) -> dict[str, ActionResult]:
        self._check("alter_configs")
        results: dict[str, ActionResult] = {}
        for name, ops in changes.items():
            failure = self._failure(name)
            results[name] = failure or OK
            if failure is None and not validate_only:
                for op in ops:
                    if op.op == "set" and op.value is not None:
                        self.topics[name].overrides[op.key] = op.value
                    else:
                        self.topics[name].overrides.pop(op.key, None)
        return results

    def delete_topics(self, names: Sequence[str]) -> dict[str, ActionResult]:
        self._check("delete_topics")
        results: dict[str, ActionResult] = {}
        for name in names:
            failure = self._failure(name)
            results[name] = failure or OK
            if failure is None:
                self.topics.pop(name, None)
        return results

    def wait_for_topics(self, names: Sequence[str], timeout_s: float) -> set[str]:
        self.calls.append("wait_for_topics")
        return {n for n in names if n not in self.topics}

    def groups_with_offsets(self, topics: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The groups with a committed offset on each topic: read from the same groups that
        `committed_offsets` answers from."""
        self.calls.append("groups_with_offsets")
        return {
            t: tuple(
                sorted(n for n, g in self.groups.items() if any(tp[0] == t for tp in g.committed))
            )
            for t in topics
        }

    def latest_timestamps(self, topics: Sequence[str]) -> dict[str, int | None]:
        self.calls.append("latest_timestamps")
        return {t: self.latest.get(t) for t in topics}

    # ---- GroupsClient: consumer groups and offsets --------------------------------------------

    def list_groups(self) -> tuple[GroupListing, ...]:
        self._check("list_groups")
        return tuple(GroupListing(n, g.state) for n, g in sorted(self.groups.items()))

    def describe_groups(self, groups: Sequence[str]) -> dict[str, GroupDescription]:
        self._check("describe_groups")
        return {
            n: GroupDescription(n, self.groups[n].state, tuple(self.groups[n].members))
            for n in groups
            if n in self.groups
        }

    def committed_offsets(self, groups: Sequence[str]) -> dict[str, dict[TopicPartition, int]]:
        self._check("committed_offsets")
        return {n: dict(self.groups[n].committed) for n in groups if n in self.groups}

    def partition_counts(self, topics: Sequence[str] | None = None) -> dict[str, int]:
        self._check("partition_counts")
        return {n: t.partitions for n, t in self.topics.items() if topics is None or n in topics}

    def offset_ranges(
        self, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, OffsetRange]:
        self._check("offset_ranges")
        return {tp: self.ranges.get(tp, OffsetRange(0, 0)) for tp in partitions}

    def record_timestamps(
        self, positions: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, RecordTime]:
        self._check("record_timestamps")
        out: dict[TopicPartition, RecordTime] = {}
        for (t, p), offset in positions.items():
            at = sorted(o for (rt, rp, o) in self.records if (rt, rp) == (t, p) and o >= offset)
            if at and self.records[(t, p, at[0])] >= 0:
                out[(t, p)] = RecordTime(at[0], self.records[(t, p, at[0])], False)
        return out

    def offsets_for_time(
        self, partitions: Sequence[TopicPartition], timestamp_ms: int
    ) -> dict[TopicPartition, int | None]:
        self._check("offsets_for_time")
        return {tp: self.times.get(tp) for tp in partitions}

    def alter_offsets(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        self._check("alter_offsets")
        entry = self.groups.setdefault(group, FakeGroup())
        if entry.members:
            raise RefusedError(f"refused: {group} has members")
        entry.committed.update(offsets)

    def delete_group(self, group: str) -> None:
        self._check("delete_group")
        if self.groups[group].members:
            raise RefusedError(f"refused: {group} has members")
        del self.groups[group]

    def close(self) -> None:
        self.closed = True
