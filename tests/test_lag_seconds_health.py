"""Lag seconds in `health` (thresholds from --max-lag-seconds and topics.yaml) and `/metrics`."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dreamscape_infra.groups.model import GroupLag, PartitionLag
from dreamscape_infra.health.checks import (
    ClusterRead,
    Expectation,
    HealthReport,
    LagLimits,
    evaluate,
)
from dreamscape_infra.health.metrics import MetricsInput, exposition
from dreamscape_infra.health.render import summarize
from dreamscape_infra.health.sources import Observation
from dreamscape_infra.kafka.cluster import (
    BrokerInfo,
    ClusterInfo,
    ClusterSnapshot,
    PartitionInfo,
    TopicState,
)

GROUP = "dreamscape-payment-service-group"
PAYMENT = "dreamscape.payment.completed"
ANALYTICS = "dreamscape.analytics.page.view"


def _read() -> ClusterRead:
    cluster = ClusterInfo("c", 1, (BrokerInfo(1, "localhost", 9092),))
    topics = {
        name: TopicState(name, (PartitionInfo(0, 1, (1,), (1,)),), {})
        for name in (PAYMENT, ANALYTICS)
    }
    return ClusterRead(cluster, ClusterSnapshot(topics, 1), None, 0.01, 1000.0)


def _lags(payment_age: float, analytics_age: float | None) -> list[GroupLag]:
    parts = (
        PartitionLag(PAYMENT, 0, 40, 0, 100, lag_seconds=payment_age),
        PartitionLag(ANALYTICS, 0, 10, 0, 5000, lag_seconds=analytics_age),
    )
    return [GroupLag(GROUP, "Empty", 0, True, parts)]


def _verdict(lags: list[GroupLag], **kw: object) -> HealthReport:
    return evaluate(
        _read(),
        expected=Expectation(None),
        sync=None,
        lags=lags,
        max_lag=None,
        **kw,  # type: ignore[arg-type]
    )


LIMITS = LagLimits(topics={PAYMENT: 30.0, ANALYTICS: 3600.0})


@pytest.mark.parametrize(
    ("payment", "analytics", "cli", "over"),
    [
        (20.0, 1000.0, None, {}),  # strict payment, relaxed analytics: both within
        (45.0, 1000.0, None, {PAYMENT: 30.0}),  # 5,000 behind on analytics is fine; payment not
        (20.0, 7200.0, None, {ANALYTICS: 3600.0}),
        (20.0, 1000.0, 10.0, {PAYMENT: 10.0, ANALYTICS: 10.0}),  # the stricter one counts
        (20.0, None, 10.0, {PAYMENT: 10.0}),  # an unknown age is never over
    ],
)
def test_declared_thresholds_per_topic_and_the_command_line(
    payment: float, analytics: float | None, cli: float | None, over: dict[str, float]
) -> None:
    report = _verdict(_lags(payment, analytics), max_lag_seconds=cli, lag_limits=LIMITS)
    lag = report.components["consumer_lag"]
    group = lag.details["groups"][GROUP]
    assert {t: v["limit_seconds"] for t, v in group["over_lag_seconds"].items()} == over
    assert lag.status == ("DEGRADED" if over else "UP")
    assert report.status == ("DEGRADED" if over else "UP")
    if over:
        assert "old" in summarize("consumer_lag", lag)


def test_a_group_threshold_covers_all_its_topics() -> None:
    limits = LagLimits(groups={GROUP: 60.0})
    report = _verdict(_lags(20.0, 90.0), lag_limits=limits)
    group = report.components["consumer_lag"].details["groups"][GROUP]
    assert set(group["over_lag_seconds"]) == {ANALYTICS}
    assert group["max_lag_seconds"] == 90.0
    assert LagLimits(topics={PAYMENT: 30.0}, groups={GROUP: 60.0}).limit(GROUP, PAYMENT) == 30.0


def test_metrics_give_lag_seconds_per_partition_and_leave_unknown_ages_out() -> None:
    lags = _lags(45.5, None)
    lost = PartitionLag("dreamscape.payment.audit", 0, 3, 10, 20, lag_seconds=7.0)
    lags = [GroupLag(GROUP, "Empty", 0, True, (*lags[0].partitions, lost))]
    read = _read()
    report = _verdict(lags)
    text = exposition(MetricsInput(Observation(read, None), lags, report, 1)).decode()
    got = {
        (s.name, s.labels.get("topic")): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }
    assert got[("dreamscape_consumergroup_lag_seconds", PAYMENT)] == 45.5
    assert ("dreamscape_consumergroup_lag_seconds", ANALYTICS) not in got
    assert (
        got[("dreamscape_consumergroup_retention_lost_messages", "dreamscape.payment.audit")] == 7
    )
    assert ("dreamscape_consumergroup_retention_lost_messages", PAYMENT) not in got


def test_the_exposition_is_rendered_once_per_cached_read() -> None:
    from dreamscape_infra.health.server import CachedHealth

    lags = _lags(45.5, None)
    reads = iter(range(2))
    clock = [0.0]

    def read() -> tuple[Observation, list[GroupLag]]:
        next(reads)
        return Observation(_read(), None), lags

    cached = CachedHealth(read, lambda o, lg: _verdict(lags), 5.0, clock=lambda: clock[0])
    first = cached.get()
    body = cached.metrics(first)
    assert cached.metrics(cached.get()) is body  # within the interval: the same bytes
    clock[0] = 10.0
    later = cached.get()
    assert later is not first
    assert cached.metrics(later) is not body
    assert b"dreamscape_consumergroup_lag_seconds{" in cached.metrics(later)
