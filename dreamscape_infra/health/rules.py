"""Prometheus recording and alerting rules for the metrics of `serve`, as a plain document.

Pure. `rules_document(desired, ...)` returns the rule file (groups of rules) as a dict; the CLI
prints it as YAML (`dreamscape-infra health rules`). The fixed rules cover what `health` checks;
one lag-seconds alert is added per `max_lag_seconds` topics.yaml declares on a topic (for every
group reading it) or on a consumer group (on all its topics), so the rules change with the file.
docs/prometheus/ holds the rules generated from the shipped topics.yaml and their promtool tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dreamscape_infra.topics.model import DesiredState

DEFAULT_JOB = "dreamscape-infra"
DEFAULT_LAG_FOR = "2m"


def _seconds(value: float) -> str:
    """A threshold as PromQL writes it: 60, 0.5."""
    return f"{value:g}"


def _duration(value: float) -> str:
    """A threshold for people: 1m, 30s, 1h30m."""
    whole = int(value)
    if whole != value or whole < 60:
        return f"{value:g}s"
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{seconds}s" if seconds else "")


def _alert(
    name: str, expr: str, for_: str, severity: str, summary: str, **labels: str
) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if for_ not in ("", "0s"):
        rule["for"] = for_
    rule["labels"] = {"severity": severity, **labels}
    rule["annotations"] = {"summary": summary}
    return rule


def _threshold_alerts(desired: DesiredState | None, for_: str) -> list[dict[str, Any]]:
    if desired is None:
        return []
    alerts = []
    for topic in desired.topics:
        if topic.max_lag_seconds:
            limit = topic.max_lag_seconds
            alerts.append(
                _alert(
                    "DreamscapeConsumerLagSecondsHigh",
                    "max by (job, instance, group, topic) "
                    f'(dreamscape_consumergroup_lag_seconds{{topic="{topic.name}"}}) '
                    f"> {_seconds(limit)}",
                    for_,
                    "warning",
                    "Consumer group {{ $labels.group }} is {{ $value | humanizeDuration }} "
                    f"behind on {{{{ $labels.topic }}}} (topics.yaml allows {_duration(limit)}); "
                    "see `dreamscape-infra groups lag {{ $labels.group }} --topic "
                    "{{ $labels.topic }}`",
                    threshold="topic",
                    limit_seconds=_seconds(limit),
                )
            )
    for group in desired.groups:
        if group.max_lag_seconds:
            limit = group.max_lag_seconds
            alerts.append(
                _alert(
                    "DreamscapeConsumerLagSecondsHigh",
                    "max by (job, instance, group, topic) "
                    f'(dreamscape_consumergroup_lag_seconds{{group="{group.name}"}}) '
                    f"> {_seconds(limit)}",
                    for_,
                    "warning",
                    "Consumer group {{ $labels.group }} is {{ $value | humanizeDuration }} "
                    "behind on {{ $labels.topic }} "
                    f"(topics.yaml allows the group {_duration(limit)}); "
                    "see `dreamscape-infra groups lag {{ $labels.group }} --topic "
                    "{{ $labels.topic }}`",
                    threshold="group",
                    limit_seconds=_seconds(limit),
                )
            )
    return alerts


def rules_document(
    desired: DesiredState | None, *, job: str = DEFAULT_JOB, lag_for: str = DEFAULT_LAG_FOR
) -> dict[str, Any]:
    """The rule file: recording rules, the fixed alerts, and one lag-seconds alert per
    threshold topics.yaml declares (`lag_for`: how long it must hold before firing; `job`:
    the scrape job of `serve`, for the not-scraped alert)."""
    recording = [
        {
            "record": "dreamscape:consumergroup_lag_seconds:max",
            "expr": "max by (job, instance, group, topic) (dreamscape_consumergroup_lag_seconds)",
        },
        {
            "record": "dreamscape:consumergroup_lag:sum_by_topic",
            "expr": "sum by (job, instance, group, topic) (dreamscape_consumergroup_lag)",
        },
        {
            "record": "dreamscape:consumergroup_consumed:rate5m",
            "expr": "sum by (job, instance, group) "
            "(rate(dreamscape_consumergroup_committed_offset[5m]))",
        },
        {
            "record": "dreamscape:topic_produced:rate5m",
            "expr": "sum by (job, instance, topic) "
            "(rate(dreamscape_topic_partition_log_end_offset[5m]))",
        },
    ]
    fixed = [
        _alert(
            "DreamscapeServeNotScraped",
            f'up{{job="{job}"}} == 0 or absent(up{{job="{job}"}})',
            "2m",
            "critical",
            f"Prometheus cannot scrape `dreamscape-infra serve` (job {job}): no Kafka "
            "health or lag is known; check that `dreamscape-infra serve` runs",
        ),
        _alert(
            "DreamscapeKafkaUnreachable",
            "dreamscape_kafka_up == 0",
            "1m",
            "critical",
            "dreamscape-infra serve on {{ $labels.instance }} cannot read the Kafka cluster; "
            "see `dreamscape-infra health`",
        ),
        _alert(
            "DreamscapeOfflinePartitions",
            "dreamscape_kafka_offline_partitions > 0",
            "1m",
            "critical",
            "{{ $value }} partition(s) have no leader: nobody can produce or consume there; "
            "see `dreamscape-infra health`",
        ),
        _alert(
            "DreamscapeUnderMinIsrPartitions",
            "dreamscape_kafka_under_min_isr_partitions > 0",
            "5m",
            "warning",
            "{{ $value }} partition(s) have fewer in-sync replicas than min.insync.replicas: "
            "acks=all producers fail there; see `dreamscape-infra health`",
        ),
        _alert(
            "DreamscapeBrokersMissing",
            "dreamscape_kafka_brokers < dreamscape_kafka_brokers_expected",
            "2m",
            "warning",
            "{{ $value }} broker(s) answer, fewer than expected; see `dreamscape-infra health`",
        ),
        _alert(
            "DreamscapeTopicOutOfSync",
            "dreamscape_topic_in_sync == 0",
            "15m",
            "warning",
            "Topic {{ $labels.topic }} differs from topics.yaml; "
            "`dreamscape-infra topics plan` shows the change, `topics sync` makes it",
        ),
        _alert(
            "DreamscapeConsumerGroupStopped",
            "dreamscape_consumergroup_members == 0 and dreamscape_consumergroup_total_lag > 0",
            "5m",
            "warning",
            "Consumer group {{ $labels.group }} is STOPPED: no members and lag left; "
            "see `dreamscape-infra groups lag {{ $labels.group }}`",
        ),
        _alert(
            "DreamscapeConsumerGroupStalled",
            "(dreamscape_consumergroup_members > 0 and dreamscape_consumergroup_total_lag > 0) "
            "and on (job, instance, group) "
            "sum by (job, instance, group) "
            "(changes(dreamscape_consumergroup_committed_offset[10m])) == 0",
            "5m",
            "warning",
            "Consumer group {{ $labels.group }} is STALLED: it has members and lag but "
            "committed nothing for 10 minutes; "
            "see `dreamscape-infra groups lag {{ $labels.group }} --window 30s`",
        ),
        _alert(
            "DreamscapeConsumerLagGrowing",
            "deriv(dreamscape_consumergroup_total_lag[10m]) > 0 "
            "and dreamscape_consumergroup_total_lag > 0",
            "10m",
            "warning",
            "The lag of consumer group {{ $labels.group }} has been growing for 10 minutes; "
            "see `dreamscape-infra groups lag {{ $labels.group }} --window 1m`",
        ),
    ]
    return {
        "groups": [
            {"name": "dreamscape-infra.recording", "rules": recording},
            {"name": "dreamscape-infra.alerts", "rules": fixed},
            {
                "name": "dreamscape-infra.lag-thresholds",
                "rules": _threshold_alerts(desired, lag_for),
            },
        ]
    }


def rules_yaml(document: dict[str, Any], source: str | None) -> str:
    """The document as a rule file, headed by where it came from."""
    import yaml

    head = (
        "# Prometheus rules for `dreamscape-infra serve`'s /metrics (docs/metrics.md).\n"
        f"# Generated by `dreamscape-infra health rules`{f' from {source}' if source else ''}: "
        "regenerate, do not edit.\n"
    )
    return head + yaml.safe_dump(document, sort_keys=False, width=100, allow_unicode=True)
