"""An in-memory KafkaAdmin for planner, apply and CLI tests. Records every call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dreamscape_infra.errors import EnvironmentFailure
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
class FakeAdmin:
    """KafkaAdmin over a dict. `brokers` limits RF like a real cluster does."""

    topics: dict[str, FakeTopic] = field(default_factory=dict)
    brokers: int = 1
    reachable: bool = True
    fail: dict[str, tuple[str, str]] = field(default_factory=dict)  # topic -> (code, message)
    race: set[str] = field(default_factory=set)  # created by "someone else" on our create
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    latest: dict[str, int | None] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    closed: bool = False

    def _check(self) -> None:
        if not self.reachable:
            raise EnvironmentFailure("Kafka is not reachable at fake:9092", hint="fake")

    def describe_cluster(self) -> ClusterInfo:
        self.calls.append("describe_cluster")
        self._check()
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
        self.calls.append("snapshot")
        self._check()
        wanted = set(config_topics)
        return ClusterSnapshot(
            {n: self._state(n, n in wanted) for n in self.topics}, broker_count=self.brokers
        )

    def _failure(self, name: str) -> ActionResult | None:
        if name in self.fail:
            code, message = self.fail[name]
            return ActionResult(False, code, message)
        return None

    def create_topics(
        self, topics: Sequence[NewTopicRequest], *, validate_only: bool
    ) -> dict[str, ActionResult]:
        self.calls.append("create_topics")
        self._check()
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
        self.calls.append("create_partitions")
        self._check()
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
        self.calls.append("alter_configs")
        self._check()
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
        self.calls.append("delete_topics")
        self._check()
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
        self.calls.append("groups_with_offsets")
        return {t: self.groups.get(t, ()) for t in topics}

    def latest_timestamps(self, topics: Sequence[str]) -> dict[str, int | None]:
        self.calls.append("latest_timestamps")
        return {t: self.latest.get(t) for t in topics}

    def close(self) -> None:
        self.closed = True
