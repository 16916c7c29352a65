"""Applying a schemas plan: never prompts, never prints. Sync is the plan plus this."""

from __future__ import annotations

from dreamscape_infra.schemas.model import (
    Registry,
    RegistryRefused,
    SchemaAction,
    SchemaPlan,
    SchemaReport,
    SchemaResult,
)


def apply_plan(plan: SchemaPlan, registry: Registry, *, dry_run: bool = False) -> SchemaReport:
    """Make each pending action, in the plan's order: for a new subject its level first (so
    version 1 is already held to it), then its schema. An incompatible version is never
    registered; blocked actions are skipped. A write the registry refuses is recorded as
    `failed` and the rest still go; an unreachable registry ends the run (EnvironmentFailure).
    Idempotent: registering a schema the subject holds creates no version, so a sync killed
    midway converges when rerun."""
    results: list[SchemaResult] = []
    for action in plan.actions:
        if not action.pending:
            if action.blocked:
                results.append(SchemaResult(action, "skipped", action.blocked))
            continue
        if dry_run:
            results.append(SchemaResult(action, "would-apply"))
            continue
        results.append(_apply_one(action, registry))
    return SchemaReport(tuple(results), plan)


def _apply_one(action: SchemaAction, registry: Registry) -> SchemaResult:
    try:
        if action.kind in ("create", "set-compatibility") and action.compatibility:
            registry.set_compatibility(action.subject, action.compatibility)
        if action.kind in ("create", "update") and action.schema_text is not None:
            version = registry.register(action.subject, action.schema_text)
            return SchemaResult(action, "applied", f"version {version}")
        if action.kind == "delete":
            registry.delete_subject(action.subject)
        return SchemaResult(action, "applied")
    except RegistryRefused as exc:
        return SchemaResult(action, "failed", exc.message)
