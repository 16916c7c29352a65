"""Turning values into tables (`TableData`) and lines (`Line`) for people, and plain dicts
for `--output json`.

Nothing here prints or creates a Console: the CLI does, with `AppState.print_tables`, which
folds cells on a terminal and prints one tab-separated line per row through a pipe. The JSON
shapes are documented in docs/json-output.md and stay stable: add keys, never rename them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dreamscape_infra.kafka.cluster import TopicState
from dreamscape_infra.tables import Line, TableData
from dreamscape_infra.topics.apply import ActionReport, Report
from dreamscape_infra.topics.model import DesiredState, TopicSpec
from dreamscape_infra.topics.plan import Action, Plan, TopicPlan

if TYPE_CHECKING:
    from rich.text import Text

    from dreamscape_infra.topics.inspect import ImportedTopic, TopicDescription

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


def render_plan(plan: Plan, report: Report | None = None) -> tuple[TableData | Line, ...]:
    """The plan grouped by kind of change, as tables; with a report, each row shows its outcome
    (the report's results, in plan order, are the rows: no lookup by identity).

    Without a report, a closing line says how many declared topics are in sync.
    """
    items: list[TableData | Line] = []
    for title, kinds in _SECTIONS:
        if report is not None:
            results = [r for r in report.results if r.action.kind in kinds]
            if not results:
                continue
            rows = [
                (
                    r.action.topic,
                    _change_text(r.action),
                    _note(r.action),
                    r.outcome + (f" {r.message}" if r.message else ""),
                )
                for r in results
            ]
            styles = [_OUTCOME_STYLE.get(r.outcome, "") for r in results]
            items.append(
                TableData.build(
                    f"{title} ({len(rows)})", ("topic", "change", "note", "result"), rows, styles
                )
            )
            continue
        actions = [a for a in plan.actions if a.kind in kinds]
        if actions:
            items.append(
                TableData.build(
                    f"{title} ({len(actions)})",
                    ("topic", "change", "note"),
                    ((a.topic, _change_text(a), _note(a)) for a in actions),
                    ["yellow" if a.blocked else "" for a in actions],
                )
            )
    if report is not None:
        return tuple(items)
    summary = plan.summary()
    in_sync = summary.get("in_sync", 0)
    total = summary.get("topics", 0)
    if not plan.has_changes and not plan.unfixable:
        items.append(Line(f"In sync: {in_sync} of {total} declared topics match.", "green"))
    else:
        items.append(Line(f"{in_sync} of {total} declared topics in sync.", "bold"))
    return tuple(items)


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


def _report_parts(report: Report) -> list[tuple[str, str]]:
    verb = "validated" if report.dry_run else "applied"
    parts = [(f"{len(report.applied)} change(s) {verb}", "")]
    if report.errors:
        parts.append((f", {len(report.errors)} failed", "red"))
    blocked = sum(1 for r in report.results if r.outcome == "blocked")
    if blocked:
        parts.append((f", {blocked} blocked", "yellow"))
    unfixable = sum(1 for r in report.results if r.action.kind == "unfixable")
    if unfixable:
        parts.append((f", {unfixable} unfixable drift", "red"))
    return parts


def report_summary_line(report: Report) -> Line:
    """One closing line: what was applied, what failed (red when anything did)."""
    parts = _report_parts(report)
    worst = next((style for _, style in parts if style == "red"), "")
    return Line("".join(text for text, _ in parts), worst)


def render_report_summary(report: Report) -> Text:
    """The closing line as rich Text, each part in its colour."""
    from rich.text import Text

    text = Text()
    for part, style in _report_parts(report):
        text.append(part, style=style or None)
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


def render_desired(desired: DesiredState) -> tuple[TableData, ...]:
    """The resolved topics (name, owner, partitions, RF, configs) and the consumer groups."""
    env = desired.environment or "base"
    topics = TableData.build(
        f"Desired topics ({env})",
        ("topic", "owner", "partitions", "RF", "configs"),
        (
            (
                spec.name,
                spec.owner,
                spec.partitions,
                spec.replication_factor,
                ", ".join(f"{k}={v}" for k, v in spec.configs.items()),
            )
            for spec in desired.topics
        ),
    )
    groups = TableData.build(
        "Consumer groups",
        ("group", "service", "reads"),
        ((g.name, g.service, "\n".join(g.topics)) for g in desired.groups),
    )
    return topics, groups


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


def render_rows(title: str, rows: Sequence[dict[str, Any]]) -> TableData | Line:
    """Rows of equal keys (e.g. `topic_list_rows`) as one table; the keys are the columns."""
    if not rows:
        return Line(f"{title}: none")
    return TableData.build(title, tuple(rows[0]), (tuple(row.values()) for row in rows))


def describe_json(description: TopicDescription) -> dict[str, Any]:
    """One topic as one JSON document (`topics describe --output json`)."""
    topic = description.state
    return {
        "kind": "topic",
        "version": JSON_VERSION,
        "name": topic.name,
        "declared": description.spec is not None,
        "partitions": [
            {"id": p.id, "leader": p.leader, "replicas": list(p.replicas), "isr": list(p.isr)}
            for p in topic.partitions
        ],
        "replication_factor": topic.replication_factor,
        "configs": {
            key: {"value": entry.value, "source": entry.source}
            for key, entry in sorted(topic.configs.items())
        },
        "differences": [action_json(a) for a in description.differences],
    }


def render_description(description: TopicDescription) -> tuple[TableData | Line, ...]:
    """Partitions (leader, replicas, ISR), the non-default and declared configs, then the drift
    (or a line saying there is none, or that the topic is not declared)."""
    topic, spec = description.state, description.spec
    partitions = TableData.build(
        f"{topic.name}: {topic.partition_count} partitions, RF {topic.replication_factor}",
        ("partition", "leader", "replicas", "isr"),
        (
            (p.id, p.leader, ",".join(map(str, p.replicas)), ",".join(map(str, p.isr)))
            for p in topic.partitions
        ),
    )
    configs = TableData.build(
        "Configs (non-default, and declared)",
        ("key", "value", "source"),
        (
            (key, entry.value, entry.source)
            for key, entry in sorted(topic.configs.items())
            if entry.source != "default" or (spec is not None and key in spec.configs)
        ),
    )
    if spec is None:
        return partitions, configs, Line("Not declared in topics.yaml.")
    if not description.differences:
        return partitions, configs, Line("Matches its declaration.")
    drift = Plan((TopicPlan(topic.name, "update", description.differences),))
    return partitions, configs, *render_plan(drift)[:-1]  # without the in-sync count line


def import_fragment(imported: Sequence[ImportedTopic]) -> dict[str, Any]:
    """A topics.yaml `topics:` fragment (`topics import`; the same document in JSON mode)."""
    entries = []
    for topic in imported:
        entry: dict[str, Any] = {
            "name": topic.name,
            "partitions": topic.partitions,
            "replication_factor": topic.replication_factor,
        }
        if topic.configs:
            entry["config"] = dict(topic.configs)
        entries.append(entry)
    return {"topics": entries}


def import_yaml(imported: Sequence[ImportedTopic], source: str) -> str:
    """The fragment as YAML, headed by a comment naming where it was read."""
    import yaml  # only `topics import` needs a YAML writer

    text = yaml.safe_dump(import_fragment(imported), sort_keys=False, default_flow_style=False)
    return f"# imported from {source}: {len(imported)} topics\n{text}"
