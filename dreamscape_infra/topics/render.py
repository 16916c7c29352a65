"""Turning values into rich renderables (for people) and plain dicts (for `--output json`).

Nothing here prints or creates a Console: the CLI does. The JSON shapes are documented in
docs/json-output.md and stay stable: add keys, never rename them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from dreamscape_infra.kafka.cluster import TopicState
from dreamscape_infra.topics.apply import ActionReport, Report
from dreamscape_infra.topics.desired import DesiredState, TopicSpec
from dreamscape_infra.topics.plan import Action, Plan

JSON_VERSION = 1

_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Topics to create", ("create",)),
    ("Partitions to add", ("add-partitions",)),
    ("Config changes", ("set-config", "delete-config")),
    ("Topics to delete (--prune)", ("delete-topic",)),
    ("Drift that cannot be fixed", ("unfixable",)),
    ("Under-replicated", ("under-replicated",)),
    ("Undeclared topic-level overrides", ("undeclared-config",)),
    ("Unmanaged topics under the prefix", ("unmanaged",)),
)


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        configs = value.get("configs") or {}
        head = f"{value.get('partitions')} partitions, RF {value.get('replication_factor')}"
        return head + (f", {len(configs)} configs" if configs else "")
    return str(value)


def action_json(action: Action, report: ActionReport | None = None) -> dict[str, Any]:
    """One action as a JSON object: topic, action, key, before, after, ..., result."""
    doc: dict[str, Any] = {
        "topic": action.topic,
        "action": action.kind,
        "key": action.key,
        "before": action.before,
        "after": action.after,
        "source": action.source,
        "reason": action.reason,
        "blocked": action.blocked,
        "result": "pending" if action.applicable else ("blocked" if action.blocked else "report"),
        "message": None,
    }
    if report is not None:
        doc["result"] = report.outcome
        doc["message"] = report.message
    return doc


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as one JSON document (`topics plan --output json`)."""
    return {
        "kind": "plan",
        "version": JSON_VERSION,
        "environment": plan.environment,
        "in_sync": not plan.has_changes and not plan.unfixable,
        "summary": plan.summary(),
        "actions": [action_json(a) for a in plan.actions],
        "topics": [{"name": t.name, "status": t.status} for t in plan.topics],
    }


def report_json(plan: Plan, report: Report) -> dict[str, Any]:
    """A sync's outcome as one JSON document (`topics sync --output json`)."""
    return {
        "kind": "sync",
        "version": JSON_VERSION,
        "environment": plan.environment,
        "dry_run": report.dry_run,
        "exit_code": int(report.exit_code()),
        "summary": plan.summary()
        | {
            "applied": len(report.applied),
            "errors": len(report.errors),
        },
        "actions": [action_json(r.action, r) for r in report.results],
        "topics": [{"name": t.name, "status": t.status} for t in plan.topics],
    }


_OUTCOME_STYLE = {
    "ok": "green",
    "validated": "green",
    "exists": "cyan",
    "error": "red",
    "timeout": "red",
    "blocked": "yellow",
    "reported": "dim",
}


def render_plan(plan: Plan, report: Report | None = None) -> RenderableType:
    """The plan grouped by kind of change; with a report, each row shows its outcome."""
    outcome = {id(r.action): r for r in report.results} if report is not None else {}
    parts: list[RenderableType] = []
    for title, kinds in _SECTIONS:
        rows = [a for a in plan.actions if a.kind in kinds]
        if report is not None:
            rows += [
                r.action for r in report.results if r.action.kind in kinds and r.action not in rows
            ]
        if not rows:
            continue
        table = Table(title=f"{title} ({len(rows)})", title_justify="left", show_edge=False)
        table.add_column("topic", no_wrap=True)
        table.add_column("change")
        table.add_column("note")
        if report is not None:
            table.add_column("result")
        for action in rows:
            cells: list[RenderableType] = [action.topic, _change_text(action), _note(action)]
            if report is not None:
                r = outcome.get(id(action))
                label = r.outcome if r is not None else "-"
                msg = f" {r.message}" if r is not None and r.message else ""
                cells.append(Text(label + msg, style=_OUTCOME_STYLE.get(label, "")))
            table.add_row(*cells)
        parts.append(table)
    if report is not None:
        return Group(*parts)
    summary = plan.summary()
    in_sync = summary.get("in_sync", 0)
    total = summary.get("topics", 0)
    if not plan.has_changes and not plan.unfixable:
        parts.append(Text(f"In sync: {in_sync} of {total} declared topics match.", style="green"))
    else:
        parts.append(Text(f"{in_sync} of {total} declared topics in sync.", style="bold"))
    return Group(*parts)


def _change_text(action: Action) -> str:
    if action.kind in ("set-config", "delete-config", "undeclared-config"):
        source = f" ({action.source})" if action.source else ""
        return f"{action.key}: {_show(action.before)}{source} → {_show(action.after)}"
    if action.kind == "unfixable":
        return f"{action.key}: {_show(action.before)} → {_show(action.after)}"
    if action.kind == "create":
        return _show(action.after)
    if action.kind == "add-partitions":
        return f"partitions: {action.before} → {action.after}"
    return ""


def _note(action: Action) -> str:
    if action.blocked:
        return f"BLOCKED: {action.blocked}"
    return action.reason or ""


def render_report_summary(report: Report) -> Text:
    """One closing line: what was applied, what failed."""
    verb = "validated" if report.dry_run else "applied"
    text = Text(f"{len(report.applied)} change(s) {verb}")
    if report.errors:
        text.append(f", {len(report.errors)} failed", style="red")
    blocked = sum(1 for r in report.results if r.outcome == "blocked")
    if blocked:
        text.append(f", {blocked} blocked", style="yellow")
    unfixable = sum(1 for r in report.results if r.action.kind == "unfixable")
    if unfixable:
        text.append(f", {unfixable} unfixable drift", style="red")
    return text


def spec_json(spec: TopicSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "domain": spec.domain,
        "owner": spec.owner,
        "partitions": spec.partitions,
        "replication_factor": spec.replication_factor,
        "keyed": spec.keyed or spec.compacted,
        "configs": dict(spec.configs),
    }


def desired_json(desired: DesiredState) -> dict[str, Any]:
    """The resolved desired state (`topics show --output json`)."""
    return {
        "kind": "desired",
        "version": JSON_VERSION,
        "environment": desired.environment,
        "prefix": desired.prefix,
        "domains": dict(desired.domains),
        "topics": [spec_json(t) for t in desired.topics],
        "consumer_groups": [
            {"name": g.name, "service": g.service, "topics": list(g.topics)} for g in desired.groups
        ],
    }


def render_desired(desired: DesiredState) -> RenderableType:
    env = desired.environment or "base"
    table = Table(title=f"Desired topics ({env})", title_justify="left")
    for column in ("topic", "owner", "partitions", "RF", "configs"):
        table.add_column(column)
    for spec in desired.topics:
        configs = ", ".join(f"{k}={v}" for k, v in spec.configs.items())
        table.add_row(
            spec.name, spec.owner, str(spec.partitions), str(spec.replication_factor), configs
        )
    groups = Table(title="Consumer groups", title_justify="left")
    groups.add_column("group")
    groups.add_column("service")
    groups.add_column("reads")
    for g in desired.groups:
        groups.add_row(g.name, g.service, "\n".join(g.topics))
    return Group(table, groups)


def topic_list_rows(
    states: Sequence[TopicState], desired: DesiredState, plan: Plan
) -> list[dict[str, Any]]:
    """Rows for `topics list`: partitions, RF, managed/unmanaged/internal, in sync."""
    status = {t.name: t.status for t in plan.topics}
    rows = []
    for state in sorted(states, key=lambda s: s.name):
        if state.internal:
            kind = "internal"
        elif desired.topic(state.name) is not None:
            kind = "managed"
        elif desired.is_managed_name(state.name):
            kind = "unmanaged"
        else:
            kind = "other"
        rows.append(
            {
                "name": state.name,
                "partitions": state.partition_count,
                "replication_factor": state.replication_factor,
                "kind": kind,
                "in_sync": status.get(state.name) == "in-sync" if kind == "managed" else None,
                "status": status.get(state.name),
            }
        )
    return rows


def render_rows(title: str, rows: Sequence[dict[str, Any]]) -> RenderableType:
    table = Table(title=title, title_justify="left")
    if not rows:
        return Text(f"{title}: none")
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*("-" if v is None else str(v) for v in row.values()))
    return table
