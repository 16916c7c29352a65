"""The stack's status as a `TableData`, text lines and JSON dicts (for `up` and `status`).

Nothing here prints or creates a Console: the CLI shows the table with `state.print_tables`
(folded on a terminal, never cut; one tab-separated line per row through a pipe). The JSON
shapes are documented in docs/json-output.md: add keys, never rename them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text

from dreamscape_infra.runtime.base import ServiceStatus, StackStatus, UpResult
from dreamscape_infra.runtime.choose import RuntimeChoice
from dreamscape_infra.runtime.probe import BrokerReachability
from dreamscape_infra.runtime.verdict import StackVerdict, why_down
from dreamscape_infra.tables import TableData
from dreamscape_infra.topics.stackcheck import TopicsAfterUp, TopicsSummary


@dataclass(frozen=True, slots=True)
class EnvironmentChange:
    """`up --env X` on a running stack that was started with another environment: the plan of
    X (never applied by `up`) and the command that applies it."""

    stack: str | None  # the recorded environment (None: the base declarations)
    requested: str
    check: TopicsAfterUp  # a read-only plan of topics.yaml under `requested`

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics that `topics sync --env requested` would change."""
        return tuple(dict.fromkeys(a.topic for a in self.check.plan.pending))

    @property
    def command(self) -> str:
        return f"dreamscape-infra topics sync --env {self.requested}"


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
NAMED_TOPICS = 5  # topics named in `up`'s line about another --env (the JSON lists them all)


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


def client_environment_json(status: StackStatus) -> dict[str, Any] | None:
    """The client environment of a secured stack (never the password: its file)."""
    env = status.client_environment
    if env is None:
        return None
    return {
        "variables": dict(env.variables),
        "password_file": str(env.password_file) if env.password_file else None,
        "export": env.shell_lines(),
    }


def client_environment_lines(status: StackStatus) -> list[str]:
    """The KAFKA_* variables a client of a secured stack needs; the password stays in its file."""
    env = status.client_environment
    if env is None:
        return []
    lines = [f"client environment ({status.security}):"]
    lines += [f"  {name}={value}" for name, value in env.variables]
    if env.password_file is not None:
        lines.append(f"  KAFKA_SASL_PASSWORD: in {env.password_file} (never printed)")
    lines.append('  for a shell: eval "$(dreamscape-infra config --export)"')
    return lines


def environment_change_json(change: EnvironmentChange | None) -> dict[str, Any] | None:
    """`up`'s `environment_change`: what another --env than the stack's would change."""
    if change is None:
        return None
    return {
        "stack": change.stack,
        "requested": change.requested,
        "pending": len(change.check.plan.pending),
        "topics": list(change.topics),
        "command": change.command,
    }


def environment_change_line(change: EnvironmentChange) -> str:
    """One line: the stack keeps its environment, and the command that would switch it."""
    stack = change.stack or "(none)"
    if not change.topics:
        return (
            f"note: this stack runs with --env {stack}; --env {change.requested} would change "
            "nothing"
        )
    count = len(change.topics)
    named = ", ".join(change.topics[:NAMED_TOPICS])
    if count > NAMED_TOPICS:
        named += f", and {count - NAMED_TOPICS} more"
    return (
        f"note: this stack runs with --env {stack} and keeps it; --env {change.requested} would "
        f"change {count} topic{'s' if count > 1 else ''} ({named}): "
        f"run `{change.command}` to do that"
    )


def up_document(
    result: UpResult,
    choice: RuntimeChoice,
    ready: bool,
    topics: TopicsAfterUp | None,
    change: EnvironmentChange | None,
) -> dict[str, Any]:
    """`up --output json` (docs/json-output.md)."""
    return {
        "kind": "up",
        "version": JSON_VERSION,
        "runtime": choice.name,
        "reason": choice.reason,
        "already_running": result.already_running,
        "ready": ready,
        "notes": list(result.notes),
        "status": status_json(result.status),
        "environment": result.status.environment,
        "topics": up_topics_json(topics) if topics is not None else None,
        "environment_change": environment_change_json(change),
        "client": client_environment_json(result.status),
    }


def up_headline(result: UpResult, *, ready: bool) -> str:
    """`up`'s line under the status table: already running, ready, or only starting."""
    where = result.status.bootstrap_servers
    if result.already_running:
        return f"Kafka is already running at {where}"
    if ready:
        return f"Kafka is ready at {where}"
    return f"Kafka is starting at {where} (--no-wait)"


__all__ = [
    "EnvironmentChange",
    "client_environment_json",
    "client_environment_lines",
    "environment_change_json",
    "environment_change_line",
    "service_json",
    "stack_lines",
    "status_document",
    "status_json",
    "status_lines",
    "status_table",
    "up_document",
    "up_headline",
    "up_topics_json",
    "up_topics_line",
]
