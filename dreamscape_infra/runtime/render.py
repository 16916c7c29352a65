"""The stack's status as a `TableData`, text lines and JSON dicts (for `up` and `status`).

Nothing here prints or creates a Console: the CLI shows the table with `state.print_tables`
(folded on a terminal, never cut; one tab-separated line per row through a pipe). The JSON
shapes are documented in docs/json-output.md: add keys, never rename them.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from dreamscape_infra.runtime.base import ServiceStatus, StackStatus
from dreamscape_infra.runtime.probe import BrokerReachability
from dreamscape_infra.runtime.verdict import StackVerdict, why_down
from dreamscape_infra.tables import TableData
from dreamscape_infra.topics.stackcheck import TopicsAfterUp, TopicsSummary

JSON_VERSION = 1
# `role` and `expected` are in the JSON; the table stays narrow enough for 80 columns
STATUS_COLUMNS = ("service", "state", "health", "pid", "ports", "detail")


def service_json(service: ServiceStatus) -> dict[str, Any]:
    """One service: name, state, health, pid, ports, detail, role, expected."""
    return {
        "name": service.name,
        "state": service.state,
        "health": service.health,
        "pid": service.pid,
        "ports": list(service.ports),
        "detail": service.detail,
        "role": service.role,
        "expected": service.expected,
    }


def status_json(status: StackStatus) -> dict[str, Any]:
    """The stack as a runtime sees it (`up`'s `status`, and the base of `status`'s document)."""
    return {
        "runtime": status.runtime,
        "running": status.running,
        "bootstrap_servers": status.bootstrap_servers,
        "services": [service_json(s) for s in status.services],
        "urls": [{"label": label, "url": url} for label, url in status.urls],
    }


def status_table(status: StackStatus) -> TableData:
    """One row per service; a service that is down shows in red on a terminal."""
    return TableData.build(
        f"Kafka stack ({status.runtime} runtime)",
        STATUS_COLUMNS,
        (
            (
                s.name,
                s.state,
                s.health,
                s.pid,
                ", ".join(s.ports) or None,
                s.detail,
            )
            for s in status.services
        ),
        row_styles=["red" if s.is_down else "" for s in status.services],
    )


HEALTH_COMMAND = "dreamscape-infra health"


def status_document(
    status: StackStatus,
    broker: BrokerReachability,
    topics: TopicsSummary | None,
    verdict: StackVerdict,
) -> dict[str, Any]:
    """`status --output json`: the services, the broker, the topics and the verdict."""
    return {
        "kind": "status",
        "version": JSON_VERSION,
        **status_json(status),
        "broker": {
            "reachable": broker.reachable,
            "brokers": broker.brokers,
            "controller": broker.controller,
            "error": broker.error,
        },
        "topics": None
        if topics is None
        else {
            "declared": topics.declared,
            "in_sync": topics.in_sync,
            "pending": topics.pending,
            "unfixable": topics.unfixable,
        },
        "verdict": verdict.verdict,
        "health": {"command": HEALTH_COMMAND},
        "down": [s.name for s in verdict.down],
        "exit_code": int(verdict.exit_code),
    }


def stack_lines(status: StackStatus) -> list[str]:
    """The lines under the status table: bootstrap servers and the extras' URLs."""
    lines = [f"bootstrap servers: {status.bootstrap_servers}"] if status.bootstrap_servers else []
    lines.extend(f"{label}: {url}" for label, url in status.urls)
    return lines


def status_lines(
    broker: BrokerReachability, topics: TopicsSummary | None, verdict: StackVerdict
) -> list[str]:
    """`status`'s lines after the stack's: the broker, the topics, then the verdict."""
    if broker.reachable:
        lines = [f"broker: reachable, {broker.brokers} broker(s), controller {broker.controller}"]
    else:
        lines = [f"broker: not reachable ({broker.error})"]
    if topics is not None:
        lines.append(
            f"topics: {topics.in_sync} of {topics.declared} declared topics in sync, "
            f"{topics.pending} change(s) pending"
        )
    down = ", ".join(f"{s.name} {why_down(s)}" for s in verdict.down)
    lines.append(f"verdict: {verdict.verdict}" + (f" ({down})" if down else ""))
    if broker.reachable:
        # status is the view of the processes; the cluster's own verdict is health's
        lines.append(f"cluster health: `{HEALTH_COMMAND}` (partitions, ISR, topics, group lag)")
    return lines


def up_topics_json(result: TopicsAfterUp) -> dict[str, Any]:
    """`up`'s `topics`: the sync report (local) or the host's plan (docker)."""
    from dreamscape_infra.topics.render import plan_json, report_json

    if result.report is not None:
        return report_json(result.plan, result.report)
    return plan_json(result.plan)


def up_topics_line(result: TopicsAfterUp) -> Text:
    """`up`'s one line about topics.yaml, green when nothing is left to do."""
    from dreamscape_infra.topics.render import render_report_summary

    if result.report is not None:
        return render_report_summary(result.report)
    summary = result.summary
    ok = not result.plan.has_changes
    return Text(
        f"{summary.in_sync} of {summary.declared} declared topics in sync",
        style="green" if ok else "red",
    )


__all__ = [
    "service_json",
    "stack_lines",
    "status_document",
    "status_json",
    "status_lines",
    "status_table",
    "up_topics_json",
    "up_topics_line",
]
