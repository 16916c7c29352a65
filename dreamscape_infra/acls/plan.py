"""The ACL plan: which bindings `acls sync` creates or deletes. A plain value.

`compute_acl_plan(desired, actual, options)` is pure. Ownership is by principal: the ACLs of a
declared service's principal are managed (missing ones are created; undeclared ones are
reported, and deleted only with `prune`); ACLs of any other principal and of super users are
reported at most, never changed. Right after a successful sync the plan has no changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from dreamscape_infra.acls.desired import DesiredAcls
from dreamscape_infra.acls.model import AclBinding

AclActionKind = Literal[
    "create",
    "delete",
    # reported, never applied:
    "undeclared",
    "other-principal",
    "super-user",
]
APPLICABLE: frozenset[str] = frozenset({"create", "delete"})
DEFAULT_SUPER_USERS = frozenset({"User:admin"})


@dataclass(frozen=True, slots=True)
class AclAction:
    """One change (or one finding) for one binding."""

    kind: AclActionKind
    binding: AclBinding
    service: str | None = None  # the declared service whose principal it is
    reason: str | None = None
    # Set when a deletion was not confirmed: shown, never applied.
    blocked: str | None = None

    @property
    def applicable(self) -> bool:
        return self.kind in APPLICABLE and self.blocked is None

    @property
    def destructive(self) -> bool:
        return self.kind == "delete"


@dataclass(frozen=True, slots=True)
class AclPlanOptions:
    prune: bool = False
    # principals whose ACLs are never changed (the broker's super.users is not readable
    # through the Admin API: it is reported without its value)
    super_users: frozenset[str] = field(default_factory=lambda: DEFAULT_SUPER_USERS)


@dataclass(frozen=True, slots=True)
class AclPlan:
    actions: tuple[AclAction, ...]
    declared: int  # bindings the declared services need
    in_sync: int  # of those, already on the cluster

    @property
    def pending(self) -> tuple[AclAction, ...]:
        """Changes that sync would make."""
        return tuple(a for a in self.actions if a.applicable)

    @property
    def blocked(self) -> tuple[AclAction, ...]:
        return tuple(a for a in self.actions if a.blocked is not None)

    @property
    def has_changes(self) -> bool:
        return bool(self.pending) or bool(self.blocked)

    def of_kind(self, *kinds: AclActionKind) -> tuple[AclAction, ...]:
        return tuple(a for a in self.actions if a.kind in kinds)

    def summary(self) -> dict[str, int]:
        counts = {"declared": self.declared, "in_sync": self.in_sync}
        for action in self.actions:
            key = action.kind.replace("-", "_")
            counts[key] = counts.get(key, 0) + 1
        counts["blocked"] = len(self.blocked)
        return counts


def compute_acl_plan(
    desired: DesiredAcls, actual: Iterable[AclBinding], options: AclPlanOptions | None = None
) -> AclPlan:
    """Compare the declared bindings with the cluster's; every action sorted by binding.

    Guarantees: a binding whose principal is a super user or belongs to no declared service is
    never in a create or delete action; deletions appear only with `prune`.
    """
    opts = options or AclPlanOptions()
    present = set(actual)
    wanted = set(desired.bindings)
    actions: list[AclAction] = []
    in_sync = 0
    for binding in desired.bindings:
        service = desired.owner.get(binding)
        if binding.principal in opts.super_users:
            actions.append(
                AclAction(
                    "super-user",
                    binding,
                    service,
                    "the principal is a super user: it needs no ACLs and they are never changed",
                )
            )
        elif binding in present:
            in_sync += 1
        else:
            actions.append(AclAction("create", binding, service))
    for binding in present - wanted:
        service = desired.principals.get(binding.principal)
        if binding.principal in opts.super_users:
            actions.append(
                AclAction("super-user", binding, service, "a super user's ACL: never changed")
            )
        elif service is None:
            actions.append(
                AclAction(
                    "other-principal",
                    binding,
                    None,
                    "the principal of no declared service: never changed",
                )
            )
        elif opts.prune:
            actions.append(AclAction("delete", binding, service, "not declared in topics.yaml"))
        else:
            actions.append(
                AclAction(
                    "undeclared",
                    binding,
                    service,
                    "not declared in topics.yaml; --prune deletes it",
                )
            )
    actions.sort(key=lambda a: (a.binding, a.kind))
    return AclPlan(tuple(actions), declared=len(desired.bindings), in_sync=in_sync)


def block_unconfirmed(plan: AclPlan, reason: str) -> AclPlan:
    """The same plan with every pending deletion blocked (shown, never applied)."""
    return replace(
        plan,
        actions=tuple(
            replace(a, blocked=reason) if a.applicable and a.destructive else a
            for a in plan.actions
        ),
    )
