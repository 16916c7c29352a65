"""The health verdict as a pure function of plain values.

`ClusterRead` is what one batched read of the cluster returned (or the error it failed with);
`evaluate` turns it, the pending topic changes and the consumer lag into a `HealthReport` whose
shape is the one service health endpoints use: a `status` and `components` with their own
`status` and `details`. No I/O here: `sources.py` reads, the CLI and `server.py` serve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from dreamscape_infra.groups.model import GroupLag
from dreamscape_infra.kafka.cluster import ClusterInfo, ClusterSnapshot

Status = Literal["UP", "DEGRADED", "DOWN", "UNKNOWN"]
Verdict = Literal["UP", "DEGRADED", "DOWN"]

MIN_ISR_KEY = "min.insync.replicas"
KAFKA_DEFAULT_MIN_ISR = 1
# Lists of partitions in details are capped so a broken 2,000-partition cluster stays readable.
MAX_LISTED = 50

COMPONENTS = (
    "brokers",
    "controller",
    "offline_partitions",
    "under_replicated_partitions",
    "under_min_isr_partitions",
    "topics_sync",
    "consumer_lag",
)


@dataclass(frozen=True, slots=True)
class ClusterRead:
    """One read of the cluster: `cluster` and `snapshot` are None when it failed (`error`)."""

    cluster: ClusterInfo | None
    snapshot: ClusterSnapshot | None
    error: str | None
    duration_s: float
    read_at: float  # wall clock, seconds since the epoch


@dataclass(frozen=True, slots=True)
class SyncState:
    """How far the cluster is from topics.yaml: the plan's pending changes."""

    environment: str | None
    declared_topics: tuple[str, ...]
    pending_changes: int
    topics_out_of_sync: tuple[str, ...]

    @property
    def declared(self) -> int:
        return len(self.declared_topics)


@dataclass(frozen=True, slots=True)
class Expectation:
    """How many brokers there should be, and who says so (None: nothing to compare with)."""

    brokers: int | None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class LagLimits:
    """The lag-seconds thresholds topics.yaml declares: per topic (for every group reading
    it) and per group (on every topic it reads)."""

    topics: Mapping[str, float] = field(default_factory=dict)
    groups: Mapping[str, float] = field(default_factory=dict)

    def limit(self, group: str, topic: str, cli: float | None = None) -> float | None:
        """The strictest of the topic's, the group's and the command line's threshold."""
        found = [v for v in (self.topics.get(topic), self.groups.get(group), cli) if v is not None]
        return min(found) if found else None


@dataclass(frozen=True, slots=True)
class Component:
    status: Status
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HealthReport:
    status: Verdict
    components: Mapping[str, Component]

    def to_json(self) -> dict[str, Any]:
        """The document of `health -o json` and `GET /health/kafka`."""
        return {
            "kind": "health",
            "version": 1,
            "status": self.status,
            "components": {
                name: {"status": c.status, "details": dict(c.details)}
                for name, c in self.components.items()
            },
        }


@dataclass(frozen=True, slots=True)
class PartitionFacts:
    """Partition problems across every topic (internal ones included: they fail producers too).

    Each mapping is topic -> sorted partition ids.
    """

    total: int
    offline: Mapping[str, tuple[int, ...]]
    under_replicated: Mapping[str, tuple[int, ...]]
    under_min_isr: Mapping[str, tuple[int, ...]]
    min_isr: Mapping[str, int]  # the effective min.insync.replicas of the topics in under_min_isr

    @staticmethod
    def count(found: Mapping[str, tuple[int, ...]]) -> int:
        return sum(len(v) for v in found.values())


def broker_default_min_isr(snapshot: ClusterSnapshot) -> int:
    """The brokers' min.insync.replicas, as seen through a topic that does not override it.

    A config entry whose source is not `topic` carries the value the broker applies to every
    topic without an override, so no separate broker-config request is needed. Kafka's own
    default (1) when no such topic was described.
    """
    for topic in snapshot.topics.values():
        entry = topic.configs.get(MIN_ISR_KEY)
        if entry is not None and not entry.is_override and entry.value is not None:
            parsed = _int(entry.value)
            if parsed is not None:
                return parsed
    return KAFKA_DEFAULT_MIN_ISR


def partition_facts(snapshot: ClusterSnapshot) -> PartitionFacts:
    """Offline, under-replicated and under-min-ISR partitions of every topic.

    min.insync.replicas is the topic's own value when its configs were read (the declared
    topics), else the broker default (`broker_default_min_isr`).
    """
    default = broker_default_min_isr(snapshot)
    offline: dict[str, tuple[int, ...]] = {}
    under: dict[str, tuple[int, ...]] = {}
    below: dict[str, tuple[int, ...]] = {}
    min_isr: dict[str, int] = {}
    total = 0
    for name in sorted(snapshot.topics):
        topic = snapshot.topics[name]
        total += len(topic.partitions)
        entry = topic.configs.get(MIN_ISR_KEY)
        wanted = _int(entry.value) if entry is not None and entry.value is not None else None
        wanted = wanted if wanted is not None else default
        off = tuple(p.id for p in topic.partitions if p.leader < 0)
        short = tuple(p.id for p in topic.partitions if len(p.isr) < len(p.replicas))
        low = tuple(p.id for p in topic.partitions if len(p.isr) < wanted)
        if off:
            offline[name] = off
        if short:
            under[name] = short
        if low:
            below[name] = low
            min_isr[name] = wanted
    return PartitionFacts(total, offline, under, below, min_isr)


def evaluate(
    read: ClusterRead,
    *,
    expected: Expectation,
    sync: SyncState | None,
    lags: Sequence[GroupLag] | None,
    max_lag: int | None,
    declared_groups: Sequence[str] = (),
    max_lag_seconds: float | None = None,
    lag_limits: LagLimits | None = None,
) -> HealthReport:
    """The verdict: DOWN if any component is DOWN, else DEGRADED if any is, else UP.

    Consumer lag is DEGRADED when a declared group's total lag exceeds `max_lag`, or the age of
    its oldest unconsumed message on a topic exceeds `max_lag_seconds` or the threshold
    topics.yaml declares for that group or topic (`lag_limits`; the stricter one counts).

    UNKNOWN components (not checked: the cluster could not be read, no topics file, lag not
    read) never change the verdict on their own.
    """
    components: dict[str, Component] = {}
    if read.cluster is None or read.snapshot is None:
        components["brokers"] = Component(
            "DOWN",
            {
                "count": 0,
                "expected": expected.brokers,
                "expected_from": expected.source,
                "error": read.error or "the cluster could not be read",
            },
        )
        reason = {"checked": False, "reason": "the cluster could not be read"}
        for name in COMPONENTS[1:]:
            components[name] = Component("UNKNOWN", reason)
        return HealthReport("DOWN", components)

    components["brokers"] = _brokers(read.cluster, expected)
    components["controller"] = _controller(read.cluster)
    facts = partition_facts(read.snapshot)
    components.update(_partitions(facts))
    components["topics_sync"] = _sync(sync)
    components["consumer_lag"] = _lag(
        lags, max_lag, declared_groups, max_lag_seconds, lag_limits or LagLimits()
    )
    return HealthReport(verdict(c.status for c in components.values()), components)


def verdict(statuses: Any) -> Verdict:
    """The worst of the component statuses; UNKNOWN counts as UP."""
    seen = set(statuses)
    if "DOWN" in seen:
        return "DOWN"
    if "DEGRADED" in seen:
        return "DEGRADED"
    return "UP"


def _brokers(cluster: ClusterInfo, expected: Expectation) -> Component:
    count = len(cluster.brokers)
    details: dict[str, Any] = {
        "count": count,
        "expected": expected.brokers,
        "expected_from": expected.source,
        "ids": [b.id for b in cluster.brokers],
    }
    if count == 0:
        return Component("DOWN", details)
    if expected.brokers is not None and count < expected.brokers:
        details["missing"] = expected.brokers - count
        return Component("DEGRADED", details)
    return Component("UP", details)


def _controller(cluster: ClusterInfo) -> Component:
    controller = cluster.controller_id
    if controller is None or controller < 0:
        return Component("DOWN", {"id": None})
    return Component("UP", {"id": controller})


def _listing(found: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    """Counts per topic, and the first MAX_LISTED partitions as `topic-partition` names."""
    names = [f"{t}-{p}" for t in sorted(found) for p in found[t]]
    return {
        "count": len(names),
        "topics": {t: len(found[t]) for t in sorted(found)},
        "partitions": names[:MAX_LISTED],
        "truncated": len(names) > MAX_LISTED,
    }


def _partitions(facts: PartitionFacts) -> dict[str, Component]:
    offline = _listing(facts.offline) | {"total_partitions": facts.total}
    under = _listing(facts.under_replicated)
    below = _listing(facts.under_min_isr) | {
        "min_insync_replicas": {t: facts.min_isr[t] for t in sorted(facts.min_isr)}
    }
    return {
        "offline_partitions": Component("DOWN" if offline["count"] else "UP", offline),
        "under_replicated_partitions": Component("DEGRADED" if under["count"] else "UP", under),
        "under_min_isr_partitions": Component("DEGRADED" if below["count"] else "UP", below),
    }


def _sync(sync: SyncState | None) -> Component:
    if sync is None:
        return Component("UNKNOWN", {"checked": False, "reason": "no topics file"})
    details = {
        "environment": sync.environment,
        "declared_topics": sync.declared,
        "pending_changes": sync.pending_changes,
        "topics": list(sync.topics_out_of_sync[:MAX_LISTED]),
    }
    return Component("DEGRADED" if sync.pending_changes else "UP", details)


def _lag(
    lags: Sequence[GroupLag] | None,
    max_lag: int | None,
    declared_groups: Sequence[str],
    max_lag_seconds: float | None,
    limits: LagLimits,
) -> Component:
    if lags is None:
        return Component("UNKNOWN", {"checked": False, "reason": "consumer lag not read"})
    declared = set(declared_groups)
    groups: dict[str, Any] = {}
    over: list[str] = []
    for group in sorted(lags, key=lambda g: g.group):
        if not (group.declared or group.group in declared):
            continue
        total = group.total_lag
        exceeded = max_lag is not None and total > max_lag
        late: dict[str, Any] = {}
        for topic, age in group.topic_lag_seconds().items():
            limit = limits.limit(group.group, topic, max_lag_seconds)
            if age is not None and limit is not None and age > limit:
                late[topic] = {"lag_seconds": round(age, 3), "limit_seconds": limit}
        if exceeded or late:
            over.append(group.group)
        oldest = group.max_lag_seconds
        groups[group.group] = {
            "state": group.state,
            "members": group.members,
            "lag": total,
            "max_partition_lag": group.max_partition_lag,
            "max_lag_seconds": None if oldest is None else round(oldest, 3),
            "lost_to_retention": group.lost_to_retention,
            "over_lag_seconds": late,
            "over_threshold": exceeded or bool(late),
        }
    details = {
        "checked": True,
        "max_lag": max_lag,
        "max_lag_seconds": max_lag_seconds,
        "groups": groups,
        "over_threshold": over,
    }
    return Component("DEGRADED" if over else "UP", details)


def _int(text: str) -> int | None:
    stripped = text.strip()
    return int(stripped) if stripped.lstrip("-").isdigit() else None
