"""The schemas plan, report and declarations as `TableData`/`Line` values and JSON dicts.

Nothing here prints or creates a Console. The JSON shapes are in docs/json-output.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dreamscape_infra.schemas.model import (
    SchemaAction,
    SchemaPlan,
    SchemaReport,
    SchemaResult,
    SubjectSpec,
)
from dreamscape_infra.tables import Line, TableData

JSON_VERSION = 1
_STYLE = {
    "create": "green",
    "update": "yellow",
    "set-compatibility": "yellow",
    "incompatible": "red",
    "delete": "red",
    "undeclared": "dim",
}


def show_table(specs: Sequence[SubjectSpec]) -> TableData:
    """`schemas show`: each declared subject, its file, compatibility and payload fields."""
    return TableData.build(
        "Declared payload schemas",
        ("subject", "schema", "compatibility", "payload fields"),
        (
            (
                s.subject,
                s.source,
                s.compatibility,
                ", ".join(
                    f"{name}{'' if name in s.payload.get('required', ()) else '?'}"
                    for name in s.payload.get("properties", {})
                )
                or None,
            )
            for s in specs
        ),
    )


def show_json(specs: Sequence[SubjectSpec]) -> dict[str, Any]:
    return {
        "kind": "schemas-show",
        "version": JSON_VERSION,
        "subjects": [
            {
                "subject": s.subject,
                "topic": s.topic,
                "file": s.source,
                "declared_at": s.declared_at,
                "compatibility": s.compatibility,
                "schema": s.schema,
            }
            for s in specs
        ],
    }


def _detail(action: SchemaAction) -> str:
    match action.kind:
        case "create":
            return f"version 1, compatibility {action.compatibility}"
        case "update":
            return f"{action.current} -> new version (the registry: compatible)"
        case "incompatible":
            why = "; ".join(action.reasons) or "the registry gave no reason"
            return f"refused by the registry under {action.compatibility or '?'}: {why}"
        case "set-compatibility":
            return (
                f"compatibility {action.current or '(registry default)'} -> {action.compatibility}"
            )
        case "unchanged":
            return action.current or ""
        case "undeclared":
            return "not in topics.yaml (delete with --prune)"
        case "delete":
            return action.blocked or "delete the subject and its versions"
    return ""


def plan_table(plan: SchemaPlan, report: SchemaReport | None = None) -> TableData:
    """One row per action; with a report, what became of it."""
    outcomes: dict[tuple[str, str], SchemaResult] = {}
    if report is not None:  # a subject has at most one action of each kind
        outcomes = {(r.action.subject, r.action.kind): r for r in report.results}
    columns = ("subject", "action", "detail") + (("result",) if report else ())
    rows = []
    for action in plan.actions:
        row: list[object] = [action.subject, action.kind, _detail(action)]
        if report is not None:
            result = outcomes.get((action.subject, action.kind))
            row.append(None if result is None else f"{result.outcome} {result.detail}".strip())
        rows.append(row)
    return TableData.build(
        f"Schema Registry plan ({plan.registry})",
        columns,
        rows,
        row_styles=[_STYLE.get(a.kind, "") for a in plan.actions],
    )


def plan_summary(plan: SchemaPlan) -> Line:
    """`2 to change, 1 incompatible, 3 unchanged, 1 undeclared`."""
    counts = {
        "to change": len(plan.pending),
        "incompatible": len(plan.unfixable),
        "unchanged": sum(a.kind == "unchanged" for a in plan.actions),
        "undeclared": sum(a.kind == "undeclared" for a in plan.actions),
    }
    text = ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "no declared schemas"
    style = "red" if plan.unfixable else ("yellow" if plan.pending else "green")
    return Line(text, style)


def report_summary(report: SchemaReport) -> Line:
    applied = sum(r.outcome == "applied" for r in report.results)
    would = sum(r.outcome == "would-apply" for r in report.results)
    parts = [f"{applied} applied"] if applied or not would else []
    if would:
        parts.append(f"{would} would apply (dry run)")
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.plan.unfixable:
        parts.append(f"{len(report.plan.unfixable)} incompatible, not registered")
    return Line(", ".join(parts), "red" if report.exit_code() else "green")


def action_json(action: SchemaAction) -> dict[str, Any]:
    return {
        "subject": action.subject,
        "topic": action.topic,
        "action": action.kind,
        "compatibility": action.compatibility,
        "current": action.current,
        "reasons": list(action.reasons),
        "blocked": action.blocked,
        "pending": action.pending,
    }


def plan_json(plan: SchemaPlan, *, detailed: bool = False) -> dict[str, Any]:
    return {
        "kind": "schemas-plan",
        "version": JSON_VERSION,
        "registry": plan.registry,
        "actions": [action_json(a) for a in plan.actions],
        "pending": len(plan.pending),
        "incompatible": len(plan.unfixable),
        "exit_code": int(plan.exit_code(detailed=detailed)),
    }


def report_json(report: SchemaReport) -> dict[str, Any]:
    return {
        "kind": "schemas-sync",
        "version": JSON_VERSION,
        "registry": report.plan.registry,
        "results": [
            {**action_json(r.action), "outcome": r.outcome, "detail": r.detail}
            for r in report.results
        ],
        "actions": [action_json(a) for a in report.plan.actions],
        "exit_code": int(report.exit_code()),
    }
