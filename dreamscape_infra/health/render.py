"""Health as a table: one row per component with a one-line summary of its details. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dreamscape_infra.groups.lag import format_seconds
from dreamscape_infra.health.checks import Component, HealthReport
from dreamscape_infra.tables import TableData

SHOWN_TOPICS = 5  # per component in the table; the JSON has them all
_STYLES = {"UP": "green", "DEGRADED": "yellow", "DOWN": "red", "UNKNOWN": "dim"}


def render_health(report: HealthReport, where: str) -> TableData:
    """Component, status and summary rows under a title carrying the verdict."""
    rows = []
    styles = []
    for name, component in report.components.items():
        rows.append((name, component.status, summarize(name, component)))
        styles.append(_STYLES.get(component.status, ""))
    return TableData.build(
        f"Kafka health at {where}: {report.status}",
        ("component", "status", "details"),
        rows,
        styles,
    )


def summarize(name: str, component: Component) -> str:
    """One line saying what a component found."""
    d: Mapping[str, Any] = component.details
    if d.get("checked") is False:
        return f"not checked: {d.get('reason')}"
    if name == "brokers":
        if "error" in d:
            return str(d["error"])
        expected = d.get("expected")
        text = f"{d['count']} broker(s) {_ids(d.get('ids'))}".rstrip()
        if expected is not None:
            text += f", expected {expected} (from {d.get('expected_from')})"
        return text
    if name == "controller":
        return f"broker {d['id']}" if d.get("id") is not None else "no controller"
    if name.endswith("_partitions"):
        count = int(d.get("count", 0))
        text = f"{count} partition(s)"
        if name == "offline_partitions":
            text += f" of {d.get('total_partitions')}"
        topics: Mapping[str, int] = d.get("topics", {})
        if topics:
            shown = list(topics.items())[:SHOWN_TOPICS]
            text += " in " + ", ".join(f"{t} ({n})" for t, n in shown)
            if len(topics) > SHOWN_TOPICS:
                text += f" and {len(topics) - SHOWN_TOPICS} more topics (-o json lists them)"
        return text
    if name == "topics_sync":
        pending = d.get("pending_changes", 0)
        env = d.get("environment") or "no environment"
        text = f"{pending} pending change(s) for {d.get('declared_topics')} declared topics ({env})"
        if d.get("topics"):
            text += ": " + ", ".join(d["topics"])
        return text
    if name == "consumer_lag":
        groups: Mapping[str, Any] = d.get("groups", {})
        limit = d.get("max_lag")
        parts = []
        for g, v in groups.items():
            part = f"{g} {v['lag']}"
            if v.get("max_lag_seconds"):
                part += f" ({format_seconds(v['max_lag_seconds'])} old)"
            for topic, late in v.get("over_lag_seconds", {}).items():
                part += (
                    f" [{topic} {format_seconds(late['lag_seconds'])} > "
                    f"{format_seconds(late['limit_seconds'])}]"
                )
            parts.append(part)
        text = ", ".join(parts) or "no declared groups"
        return text + (f" (max {limit})" if limit is not None else "")
    return ", ".join(f"{k}={v}" for k, v in d.items())


def _ids(ids: Any) -> str:
    return "(" + ", ".join(str(i) for i in ids) + ")" if ids else ""
