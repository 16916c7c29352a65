"""Pure tests of the ACL capability: desired bindings, the plan, apply (with a fake), JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from dreamscape_infra.acls.apply import apply_acl_plan
from dreamscape_infra.acls.desired import DesiredAcls, desired_acls
from dreamscape_infra.acls.model import AclBinding
from dreamscape_infra.acls.plan import AclPlanOptions, block_unconfirmed, compute_acl_plan
from dreamscape_infra.acls.render import plan_json, plan_tables, report_json
from dreamscape_infra.errors import ExitCode
from dreamscape_infra.topics.desired import load_desired
from tests.acl_fixtures import ACL_COUNT, write_acl_topics
from tests.fake_acls import FakeAclAdmin

AUTH = "User:auth-service"


def desired(tmp_path: Path) -> DesiredAcls:
    return desired_acls(load_desired(write_acl_topics(tmp_path)))


def topic(principal: str, name: str, op: str, pattern: str = "literal") -> AclBinding:
    return AclBinding(principal, "topic", name, pattern, op)  # type: ignore[arg-type]


def test_bindings_per_service(tmp_path: Path) -> None:
    acls = desired(tmp_path)
    assert len(acls.bindings) == ACL_COUNT
    auth = {b for b in acls.bindings if b.principal == AUTH}
    assert auth == {
        topic(AUTH, "dreamscape.auth.login", "write"),
        topic(AUTH, "dreamscape.auth.login", "describe"),
        topic(AUTH, "dreamscape.user.created", "read"),
        topic(AUTH, "dreamscape.user.created", "describe"),
        topic(AUTH, "dreamscape.user.deleted", "read"),
        topic(AUTH, "dreamscape.user.deleted", "describe"),
        AclBinding(AUTH, "group", "dreamscape-auth-service-group", "literal", "read"),
    }
    payment = {b for b in acls.bindings if b.principal == "User:payment-service"}
    assert topic("User:payment-service", "dreamscape.auth.", "read", "prefixed") in payment
    assert all(b.permission == "allow" and b.host == "*" for b in acls.bindings)
    # nothing on the cluster: since Kafka 3.0 WRITE on a topic covers the idempotent producer
    assert not [b for b in acls.bindings if b.resource_type == "cluster"]
    assert acls.owner[topic(AUTH, "dreamscape.auth.login", "write")] == "auth-service"


def test_topic_both_produced_and_consumed_gets_one_describe(tmp_path: Path) -> None:
    text = (
        write_acl_topics(tmp_path)
        .read_text()
        .replace(
            "    produces: ['dreamscape.auth.*']\n",
            "    produces: ['dreamscape.auth.*']\n    consumes: [dreamscape.auth.login]\n",
        )
    )
    acls = desired_acls(load_desired(write_acl_topics(tmp_path, text)))
    describes = [b for b in acls.bindings if b == topic(AUTH, "dreamscape.auth.login", "describe")]
    assert len(describes) == 1


def test_empty_cluster_plans_every_binding(tmp_path: Path) -> None:
    plan = compute_acl_plan(desired(tmp_path), [])
    assert [a.kind for a in plan.actions] == ["create"] * ACL_COUNT
    assert plan.has_changes
    assert plan.actions == tuple(sorted(plan.actions, key=lambda a: a.binding))


def test_synced_cluster_plans_nothing(tmp_path: Path) -> None:
    acls = desired(tmp_path)
    plan = compute_acl_plan(acls, acls.bindings)
    assert plan.actions == ()
    assert not plan.has_changes
    assert plan.summary() == {"declared": ACL_COUNT, "in_sync": ACL_COUNT, "blocked": 0}


EXTRA = topic(AUTH, "dreamscape.payment.completed", "read")
FOREIGN = topic("User:someone-else", "dreamscape.user.created", "read")
SUPER = topic("User:admin", "dreamscape.user.created", "write")
WILDCARD = topic("User:*", "dreamscape.user.created", "describe")
DENY = AclBinding(AUTH, "topic", "dreamscape.user.created", "literal", "write", "deny")


@pytest.mark.parametrize(
    ("extra", "prune", "kind"),
    [
        (EXTRA, False, "undeclared"),
        (EXTRA, True, "delete"),
        (DENY, True, "delete"),  # a managed principal's undeclared DENY too
        (FOREIGN, False, "other-principal"),
        (FOREIGN, True, "other-principal"),
        (WILDCARD, True, "other-principal"),
        (SUPER, False, "super-user"),
        (SUPER, True, "super-user"),
    ],
)
def test_undeclared_acls(tmp_path: Path, extra: AclBinding, prune: bool, kind: str) -> None:
    acls = desired(tmp_path)
    plan = compute_acl_plan(acls, [*acls.bindings, extra], AclPlanOptions(prune=prune))
    assert [(a.kind, a.binding) for a in plan.actions] == [(kind, extra)]
    assert plan.has_changes is (kind == "delete")


def test_declared_super_user_principal_is_never_changed(tmp_path: Path) -> None:
    acls = desired(tmp_path)
    options = AclPlanOptions(prune=True, super_users=frozenset({AUTH}))
    extra = topic(AUTH, "dreamscape.payment.completed", "read")
    plan = compute_acl_plan(acls, [extra], options)
    auth = [a for a in plan.actions if a.binding.principal == AUTH]
    assert auth
    assert {a.kind for a in auth} == {"super-user"}
    assert not [a for a in plan.pending if a.binding.principal == AUTH]


def test_unconfirmed_deletions_are_blocked_and_not_sent(tmp_path: Path) -> None:
    acls = desired(tmp_path)
    admin = FakeAclAdmin(acls={*acls.bindings, EXTRA})
    plan = block_unconfirmed(
        compute_acl_plan(acls, admin.list_acls(), AclPlanOptions(prune=True)), "not confirmed"
    )
    report = apply_acl_plan(plan, admin)
    assert report.exit_code() == ExitCode.REFUSED
    assert EXTRA in admin.acls
    assert [kind for kind, _ in admin.requests] == ["describe"]


def test_apply_creates_and_deletes_in_one_request_each(tmp_path: Path) -> None:
    acls = desired(tmp_path)
    admin = FakeAclAdmin(acls={EXTRA, FOREIGN, SUPER})
    plan = compute_acl_plan(acls, admin.list_acls(), AclPlanOptions(prune=True))
    report = apply_acl_plan(plan, admin)
    assert report.exit_code() == ExitCode.OK
    assert [kind for kind, _ in admin.requests] == ["describe", "create", "delete"]
    assert admin.acls == {*acls.bindings, FOREIGN, SUPER}
    assert compute_acl_plan(acls, admin.list_acls(), AclPlanOptions(prune=True)).actions == (
        plan.of_kind("other-principal", "super-user")
    )


def test_dry_run_sends_nothing(tmp_path: Path) -> None:
    acls = desired(tmp_path)
    admin = FakeAclAdmin(acls={EXTRA})
    plan = compute_acl_plan(acls, admin.list_acls(), AclPlanOptions(prune=True))
    report = apply_acl_plan(plan, admin, dry_run=True)
    assert admin.acls == {EXTRA}
    assert [kind for kind, _ in admin.requests] == ["describe"]
    assert {r.message for r in report.results} == {"would create", "would delete"}
    assert report_json(plan, report)["dry_run"] is True


def test_broker_refusal_is_exit_4_with_the_message(tmp_path: Path) -> None:
    acls = desired(tmp_path)
    refused = acls.bindings[0]
    admin = FakeAclAdmin(refuse={refused})
    report = apply_acl_plan(compute_acl_plan(acls, []), admin)
    assert report.exit_code() == ExitCode.ENVIRONMENT
    (error,) = report.errors
    assert error.action.binding == refused
    assert error.message == "INVALID_REQUEST: refused by the fake"


def test_plan_json_shape(tmp_path: Path) -> None:
    acls = desired(tmp_path)
    doc = plan_json(compute_acl_plan(acls, [EXTRA]))
    assert doc["kind"] == "acl-plan"
    assert doc["version"] == 1
    assert doc["in_sync"] is False
    assert doc["summary"]["create"] == ACL_COUNT
    assert doc["summary"]["undeclared"] == 1
    first = doc["actions"][0]
    assert set(first) == {
        "action", "service", "principal", "resource_type", "resource_name", "pattern_type",
        "operation", "permission", "host", "reason", "blocked", "result", "message",
    }  # fmt: skip
    undeclared = [a for a in doc["actions"] if a["action"] == "undeclared"]
    assert undeclared[0]["result"] == "report"
    assert undeclared[0]["service"] == "auth-service"


def test_tables_name_every_binding_whole(tmp_path: Path) -> None:
    acls = desired(tmp_path)
    (table,) = plan_tables(compute_acl_plan(acls, []))
    lines = table.plain_lines()
    assert lines[0] == f"# ACLs to create ({ACL_COUNT})"
    assert any("topic:dreamscape.auth.\tprefix" in line for line in lines)
