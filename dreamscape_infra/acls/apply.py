"""Applying an ACL plan: one CreateAcls and one DeleteAcls request. Never prompts or prints.

Kafka has no validate-only mode for ACLs, so a dry run sends nothing and reports each change as
"would create" / "would delete".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dreamscape_infra.acls.model import AclAdmin, AclBinding
from dreamscape_infra.acls.plan import AclAction, AclPlan
from dreamscape_infra.errors import ExitCode
from dreamscape_infra.kafka.cluster import ActionResult

AclOutcome = Literal["ok", "validated", "error", "timeout", "blocked", "reported"]


@dataclass(frozen=True, slots=True)
class AclActionReport:
    action: AclAction
    outcome: AclOutcome
    message: str | None = None


@dataclass(frozen=True, slots=True)
class AclReport:
    """Every action of the plan with its outcome, in plan order."""

    results: tuple[AclActionReport, ...]
    dry_run: bool

    @property
    def errors(self) -> tuple[AclActionReport, ...]:
        return tuple(r for r in self.results if r.outcome in ("error", "timeout"))

    @property
    def applied(self) -> tuple[AclActionReport, ...]:
        return tuple(r for r in self.results if r.outcome in ("ok", "validated"))

    def exit_code(self) -> ExitCode:
        """Errors beat refusals."""
        if self.errors:
            return ExitCode.ENVIRONMENT
        if any(r.outcome == "blocked" for r in self.results):
            return ExitCode.REFUSED
        return ExitCode.OK


def _outcome(action: AclAction, answer: ActionResult | None) -> AclActionReport:
    if answer is None:
        return AclActionReport(action, "error", "no answer from the broker")
    if answer.ok:
        return AclActionReport(action, "ok")
    if answer.error_code == "_TIMED_OUT":
        return AclActionReport(action, "timeout", answer.message)
    return AclActionReport(action, "error", f"{answer.error_code}: {answer.message}")


def apply_acl_plan(plan: AclPlan, admin: AclAdmin, *, dry_run: bool = False) -> AclReport:
    """Create the missing bindings, then delete the pruned ones: two requests at most.

    Guarantees: only `create` and `delete` actions that are not blocked are sent; with
    `dry_run` nothing is sent.
    """
    done: dict[AclBinding, AclActionReport] = {}
    creates = [a for a in plan.actions if a.kind == "create" and a.applicable]
    deletes = [a for a in plan.actions if a.kind == "delete" and a.applicable]
    if dry_run:
        for action in creates:
            done[action.binding] = AclActionReport(action, "validated", "would create")
        for action in deletes:
            done[action.binding] = AclActionReport(action, "validated", "would delete")
    else:
        if creates:
            answers = admin.create_acls([a.binding for a in creates])
            for action in creates:
                done[action.binding] = _outcome(action, answers.get(action.binding))
        if deletes:
            answers = admin.delete_acls([a.binding for a in deletes])
            for action in deletes:
                done[action.binding] = _outcome(action, answers.get(action.binding))
    ordered: list[AclActionReport] = []
    for action in plan.actions:
        if action.applicable and action.binding in done:
            ordered.append(done[action.binding])
        elif action.blocked is not None:
            ordered.append(AclActionReport(action, "blocked", action.blocked))
        else:
            ordered.append(AclActionReport(action, "reported"))
    return AclReport(tuple(ordered), dry_run)
