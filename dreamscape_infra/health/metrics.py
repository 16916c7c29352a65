"""Prometheus metrics from plain values, through prometheus_client (never hand-written text).

`families` builds the metric families of one cached health read; `exposition` runs them through
a private CollectorRegistry and `generate_latest`. prometheus_client is imported inside the
functions, so `--help` never loads it. Every metric is documented in docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dreamscape_infra.health.checks import HealthReport, partition_facts

if TYPE_CHECKING:
    from dreamscape_infra.groups.model import GroupLag
    from dreamscape_infra.health.sources import Observation

PREFIX = "dreamscape_"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True, slots=True)
class MetricsInput:
    """One cached read: the observation, the lag (None: not read), the verdict, how many
    cluster reads this process has made so far, and how many times the process holding its
    Kafka clients was replaced (None: the clients run in this process)."""

    observation: Observation
    lags: Sequence[GroupLag] | None
    report: HealthReport
    reads_total: int
    client_restarts: int | None = None


def families(data: MetricsInput) -> list[Any]:
    """The metric families for one read (prometheus_client Metric objects)."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    read = data.observation.read
    out: list[Any] = []

    def gauge(name: str, doc: str, labels: Sequence[str] = ()) -> Any:
        family = GaugeMetricFamily(PREFIX + name, doc, labels=list(labels))
        out.append(family)
        return family

    up = gauge("kafka_up", "1 when the last cluster read succeeded, else 0")
    up.add_metric([], 0 if read.snapshot is None else 1)
    status = gauge("health_status", "1 for the current health verdict", ["status"])
    for value in ("UP", "DEGRADED", "DOWN"):
        status.add_metric([value], 1 if data.report.status == value else 0)
    component = gauge(
        "health_component_status",
        "1 for each component's current status (UP, DEGRADED, DOWN, UNKNOWN)",
        ["component", "status"],
    )
    for name, comp in data.report.components.items():
        component.add_metric([name, comp.status], 1)
    gauge("cluster_read_duration_seconds", "Duration of the last cluster read").add_metric(
        [], read.duration_s
    )
    gauge(
        "cluster_read_timestamp_seconds", "When the last cluster read started (Unix time)"
    ).add_metric([], read.read_at)
    reads = CounterMetricFamily(PREFIX + "cluster_reads", "Cluster reads made by this process")
    reads.add_metric([], data.reads_total)
    out.append(reads)
    if data.client_restarts is not None:
        restarts = CounterMetricFamily(
            PREFIX + "client_process_restarts",
            "Times the process holding the Kafka clients died (e.g. a librdkafka abort) or "
            "hung, and a new one was started",
        )
        restarts.add_metric([], data.client_restarts)
        out.append(restarts)

    if read.cluster is not None and read.snapshot is not None:
        _cluster_families(data, gauge)
    if data.lags is not None:
        _lag_families(data.lags, gauge)
    return out


def _cluster_families(data: MetricsInput, gauge: Callable[..., Any]) -> None:
    read = data.observation.read
    assert read.cluster is not None
    assert read.snapshot is not None
    gauge("kafka_brokers", "Brokers the cluster reports").add_metric([], len(read.cluster.brokers))
    expected = data.report.components["brokers"].details.get("expected")
    if expected is not None:
        gauge("kafka_brokers_expected", "Brokers expected").add_metric([], expected)
    gauge("kafka_controller_id", "The controller's broker id (-1: none)").add_metric(
        [], read.cluster.controller_id if read.cluster.controller_id is not None else -1
    )
    replicas: dict[int, int] = {b.id: 0 for b in read.cluster.brokers}
    leaders: dict[int, int] = {b.id: 0 for b in read.cluster.brokers}
    topic_partitions = gauge("kafka_topic_partitions", "Partitions of a topic", ["topic"])
    for name in sorted(read.snapshot.topics):
        topic = read.snapshot.topics[name]
        topic_partitions.add_metric([name], len(topic.partitions))
        for p in topic.partitions:
            for broker in p.replicas:
                replicas[broker] = replicas.get(broker, 0) + 1
            if p.leader >= 0:
                leaders[p.leader] = leaders.get(p.leader, 0) + 1
    per_broker = gauge(
        "kafka_broker_partitions", "Partition replicas hosted by a broker", ["broker"]
    )
    for broker in sorted(replicas):
        per_broker.add_metric([str(broker)], replicas[broker])
    led = gauge("kafka_broker_leader_partitions", "Partitions a broker leads", ["broker"])
    for broker in sorted(leaders):
        led.add_metric([str(broker)], leaders[broker])
    facts = partition_facts(read.snapshot)
    gauge("kafka_partitions", "Partitions of every topic").add_metric([], facts.total)
    for name, found, doc in (
        ("kafka_offline_partitions", facts.offline, "Partitions without a leader"),
        (
            "kafka_under_replicated_partitions",
            facts.under_replicated,
            "Partitions whose ISR is smaller than their replica list",
        ),
        (
            "kafka_under_min_isr_partitions",
            facts.under_min_isr,
            "Partitions whose ISR is smaller than min.insync.replicas (acks=all fails)",
        ),
    ):
        gauge(name, doc).add_metric([], facts.count(found))
    sync = data.observation.sync
    if sync is not None:
        gauge("topics_pending_changes", "Changes `topics sync` would make").add_metric(
            [], sync.pending_changes
        )
        gauge("topics_declared", "Topics declared in topics.yaml").add_metric([], sync.declared)
        in_sync = gauge(
            "topic_in_sync", "1 when a declared topic matches topics.yaml, else 0", ["topic"]
        )
        out_of_sync = set(sync.topics_out_of_sync)
        for name in sync.declared_topics:
            in_sync.add_metric([name], 0 if name in out_of_sync else 1)


def _lag_families(lags: Sequence[GroupLag], gauge: Callable[..., Any]) -> None:
    labels = ["group", "topic", "partition"]
    lag = gauge("consumergroup_lag", "Messages a group has still to read", labels)
    committed = gauge("consumergroup_committed_offset", "A group's committed offset", labels)
    seconds = gauge(
        "consumergroup_lag_seconds",
        "Age of the oldest message a group has not consumed on a partition (0 without lag; "
        "absent when the record has no timestamp)",
        labels,
    )
    lost = gauge(
        "consumergroup_retention_lost_messages",
        "Messages retention deleted before a group read them (committed offset below the "
        "log start)",
        labels,
    )
    total = gauge("consumergroup_total_lag", "A group's lag over all its partitions", ["group"])
    members = gauge("consumergroup_members", "Members of a group", ["group"])
    log_end = gauge(
        "topic_partition_log_end_offset",
        "Log-end offset of a partition a group reads",
        ["topic", "partition"],
    )
    log_start = gauge(
        "topic_partition_log_start_offset",
        "Log-start offset of a partition a group reads",
        ["topic", "partition"],
    )
    seen: set[tuple[str, int]] = set()
    for group in sorted(lags, key=lambda g: g.group):
        total.add_metric([group.group], group.total_lag)
        members.add_metric([group.group], group.members)
        for p in sorted(group.partitions, key=lambda p: (p.topic, p.partition)):
            key = [group.group, p.topic, str(p.partition)]
            lag.add_metric(key, p.lag)
            if p.lag_seconds is not None:
                seconds.add_metric(key, p.lag_seconds)
            if p.lost_to_retention:
                lost.add_metric(key, p.lost_to_retention)
            if p.committed is not None:
                committed.add_metric(key, p.committed)
            if (p.topic, p.partition) not in seen:
                seen.add((p.topic, p.partition))
                log_end.add_metric([p.topic, str(p.partition)], p.log_end)
                log_start.add_metric([p.topic, str(p.partition)], p.log_start)


def exposition(data: MetricsInput) -> bytes:
    """Prometheus text exposition of `families(data)`, via a private registry."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(lambda: families(data)))
    return bytes(generate_latest(registry))


class _Collector:
    """A prometheus_client custom collector over a function returning metric families."""

    def __init__(self, build: Callable[[], list[Any]]) -> None:
        self._build = build

    def collect(self) -> Iterator[Any]:
        yield from self._build()
