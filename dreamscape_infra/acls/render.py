"""ACL plans and reports as tables (`TableData`) and JSON dicts. Never prints.

The JSON shapes are documented in docs/json-output.md: keys are added, never renamed.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from dreamscape_infra.acls.apply import AclActionReport, AclReport
from dreamscape_infra.acls.desired import DesiredAcls
from dreamscape_infra.acls.model import AclBinding
from dreamscape_infra.acls.plan import AclAction, AclActionKind, AclPlan
from dreamscape_infra.tables import TableData

JSON_VERSION = 1

_SECTIONS: tuple[tuple[str, AclActionKind], ...] = (
    ("ACLs to create", "create"),
    ("ACLs to delete (--prune)", "delete"),
    ("Undeclared ACLs of declared services", "undeclared"),
    ("ACLs of super users (never changed)", "super-user"),
    ("ACLs of other principals (never changed)", "other-principal"),
)
_OUTCOME_STYLE = {"ok": "green", "validated": "green", "error": "red", "timeout": "red"}


def binding_json(binding: AclBinding) -> dict[str, Any]:
    """One binding: principal, resource_type, resource_name, pattern_type, operation, ..."""
    return {
        "principal": binding.principal,
        "resource_type": binding.resource_type,
        "resource_name": binding.resource_name,
        "pattern_type": binding.pattern_type,
        "operation": binding.operation,
        "permission": binding.permission,
        "host": binding.host,
    }


def action_json(action: AclAction, report: AclActionReport | None = None) -> dict[str, Any]:
    """One action: the binding's fields plus action, service, reason, blocked, result."""
    doc: dict[str, Any] = {
        "action": action.kind,
        "service": action.service,
        **binding_json(action.binding),
        "reason": action.reason,
        "blocked": action.blocked,
        "result": "pending" if action.applicable else ("blocked" if action.blocked else "report"),
        "message": None,
    }
    if report is not None:
        doc["result"] = report.outcome
        doc["message"] = report.message
    return doc


def plan_json(plan: AclPlan) -> dict[str, Any]:
    """`acls plan --output json`."""
    return {
        "kind": "acl-plan",
        "version": JSON_VERSION,
        "in_sync": not plan.has_changes,
        "summary": plan.summary(),
        "actions": [action_json(a) for a in plan.actions],
    }


def report_json(plan: AclPlan, report: AclReport) -> dict[str, Any]:
    """`acls sync --output json`."""
    return {
        "kind": "acl-sync",
        "version": JSON_VERSION,
        "dry_run": report.dry_run,
        "exit_code": int(report.exit_code()),
        "summary": plan.summary() | {"applied": len(report.applied), "errors": len(report.errors)},
        "actions": [action_json(r.action, r) for r in report.results],
    }


def _row(action: AclAction) -> list[str | None]:
    b = action.binding
    pattern = "prefix" if b.pattern_type == "prefixed" else b.pattern_type
    note = f"BLOCKED: {action.blocked}" if action.blocked else None
    return [
        action.service,
        b.principal,
        b.permission.upper(),
        b.operation.upper(),
        f"{b.resource_type}:{b.resource_name}",
        pattern,
        note,
    ]


def plan_tables(plan: AclPlan, report: AclReport | None = None) -> list[TableData]:
    """One table per kind of action; with a report, a result column."""
    results = {id(r.action): r for r in report.results} if report is not None else {}
    tables: list[TableData] = []
    for title, kind in _SECTIONS:
        actions = plan.of_kind(kind)
        if not actions:
            continue
        columns = ["service", "principal", "permission", "operation", "resource", "pattern"]
        columns.append("note")
        rows: list[list[str | None]] = []
        styles: list[str] = []
        for action in actions:
            row = _row(action)
            if report is not None:
                r = results.get(id(action))
                label = r.outcome if r is not None else "-"
                row.append(label + (f" {r.message}" if r is not None and r.message else ""))
                styles.append(_OUTCOME_STYLE.get(label, ""))
            rows.append(row)
        if report is not None:
            columns.append("result")
        tables.append(TableData.build(f"{title} ({len(actions)})", columns, rows, styles))
    return tables


def plan_summary(plan: AclPlan) -> Text:
    """One closing line for `acls plan`."""
    undeclared = len(plan.of_kind("undeclared"))
    tail = f" {undeclared} undeclared ACL(s) reported (--prune deletes them)." if undeclared else ""
    if not plan.has_changes:
        return Text(
            f"In sync: {plan.in_sync} of {plan.declared} declared ACLs are on the cluster.{tail}",
            style="green",
        )
    return Text(
        f"{plan.in_sync} of {plan.declared} declared ACLs on the cluster; "
        f"{len(plan.pending)} change(s) pending.{tail}",
        style="bold",
    )


def report_summary(report: AclReport) -> Text:
    """One closing line for `acls sync`."""
    verb = "would be applied (dry run)" if report.dry_run else "applied"
    text = Text(f"{len(report.applied)} ACL change(s) {verb}")
    if report.errors:
        text.append(f", {len(report.errors)} failed", style="red")
    blocked = sum(1 for r in report.results if r.outcome == "blocked")
    if blocked:
        text.append(f", {blocked} blocked", style="yellow")
    return text


def desired_tables(desired: DesiredAcls) -> TableData:
    """The declared bindings (`acls show`)."""
    return TableData.build(
        f"Declared ACLs ({len(desired.bindings)})",
        ["service", "principal", "permission", "operation", "resource", "pattern"],
        [_row(AclAction("create", b, desired.owner.get(b)))[:6] for b in desired.bindings],
    )


def desired_json(desired: DesiredAcls) -> dict[str, Any]:
    """`acls show --output json`."""
    return {
        "kind": "acls",
        "version": JSON_VERSION,
        "acls": [{"service": desired.owner.get(b), **binding_json(b)} for b in desired.bindings],
    }
