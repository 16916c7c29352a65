"""The schemas plan: pure. Declared subjects x what the registry holds -> sorted actions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dreamscape_infra.schemas.model import ActionKind, SchemaAction, SchemaPlan, SubjectSpec
from dreamscape_infra.schemas.reconcile import Observed, needs_check


def compute_plan(
    specs: Sequence[SubjectSpec], observed: Observed, registry: str, *, prune: bool = False
) -> SchemaPlan:
    """Every declared subject gets one action (create, update, incompatible or unchanged), a
    second one when its compatibility level differs, then the undeclared subjects (`delete`
    with `prune`, else `undeclared`: listed, never touched)."""
    actions: list[SchemaAction] = []
    for spec in sorted(specs, key=lambda s: s.subject):
        state = observed.states[spec.subject]
        if state.version is None:
            actions.append(
                SchemaAction(
                    spec.subject,
                    "create",
                    spec.topic,
                    compatibility=spec.compatibility,
                    schema_text=spec.text,
                )
            )
            continue
        if state.compatibility != spec.compatibility:
            actions.append(
                SchemaAction(
                    spec.subject,
                    "set-compatibility",
                    spec.topic,
                    compatibility=spec.compatibility,
                    current=state.compatibility,
                )
            )
        current = f"version {state.version}"
        if not needs_check(spec, state):
            actions.append(SchemaAction(spec.subject, "unchanged", spec.topic, current=current))
            continue
        verdict = observed.verdicts[spec.subject]
        kind: ActionKind = "update" if verdict.compatible else "incompatible"
        actions.append(
            SchemaAction(
                spec.subject,
                kind,
                spec.topic,
                compatibility=state.compatibility,
                current=current,
                schema_text=spec.text,
                reasons=verdict.reasons,
            )
        )
    for subject in observed.undeclared:
        actions.append(SchemaAction(subject, "delete" if prune else "undeclared"))
    return SchemaPlan(tuple(actions), registry)


def block_unconfirmed(plan: SchemaPlan, reason: str) -> SchemaPlan:
    """The same plan with its destructive actions blocked (not applied, exit 7)."""
    return replace(
        plan,
        actions=tuple(replace(a, blocked=reason) if a.destructive else a for a in plan.actions),
    )
