"""CLI tests for `acls show/plan/sync`, with the fake AclAdmin behind the AclAdmin Protocol."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dreamscape_infra.acls.model import AclBinding
from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.settings import ConnectionSettings
from tests.acl_fixtures import ACL_COUNT, without_payment_consumes, write_acl_topics
from tests.fake_acls import FakeAclAdmin

runner = CliRunner()
FOREIGN = AclBinding("User:someone-else", "topic", "dreamscape.user.created", "literal", "read")
SUPER = AclBinding("User:admin", "topic", "dreamscape.user.created", "literal", "write")


def invoke(
    admin: FakeAclAdmin, topics: Path, *args: str, interactive: bool = False, stdin: str = ""
) -> tuple[int, str, str]:
    def factory(settings: ConnectionSettings) -> FakeAclAdmin:
        return admin

    state = AppState(acl_admin_factory=factory, environ={}, interactive=interactive)
    result = runner.invoke(app, ["--topics-file", str(topics), *args], obj=state, input=stdin)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_show_needs_no_cluster(tmp_path: Path) -> None:
    admin = FakeAclAdmin(unreachable=True)
    code, out, _ = invoke(admin, write_acl_topics(tmp_path), "acls", "show", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["kind"] == "acls"
    assert len(doc["acls"]) == ACL_COUNT


def test_plan_detailed_exitcode_then_sync_then_in_sync(tmp_path: Path) -> None:
    topics = write_acl_topics(tmp_path)
    admin = FakeAclAdmin()
    code, out, _ = invoke(admin, topics, "acls", "plan", "--detailed-exitcode")
    assert code == 5
    assert f"ACLs to create ({ACL_COUNT})" in out
    assert admin.acls == set()  # plan changes nothing
    code, out, _ = invoke(admin, topics, "acls", "sync")
    assert code == 0
    assert f"{ACL_COUNT} ACL change(s) applied" in out
    code, out, _ = invoke(admin, topics, "acls", "plan", "--detailed-exitcode")
    assert code == 0
    assert f"In sync: {ACL_COUNT} of {ACL_COUNT}" in out
    assert admin.closed


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    admin = FakeAclAdmin()
    code, out, _ = invoke(
        admin, write_acl_topics(tmp_path), "acls", "sync", "--dry-run", "-o", "json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["kind"] == "acl-sync"
    assert doc["dry_run"] is True
    assert {a["result"] for a in doc["actions"]} == {"validated"}
    assert admin.acls == set()
    assert [kind for kind, _ in admin.requests] == ["describe"]


def _synced_then_removed(tmp_path: Path) -> tuple[FakeAclAdmin, Path]:
    admin = FakeAclAdmin(acls={FOREIGN, SUPER})
    assert invoke(admin, write_acl_topics(tmp_path), "acls", "sync")[0] == 0
    return admin, write_acl_topics(tmp_path, without_payment_consumes())


def test_removed_declaration_is_only_reported_without_prune(tmp_path: Path) -> None:
    admin, topics = _synced_then_removed(tmp_path)
    before = set(admin.acls)
    code, out, _ = invoke(admin, topics, "acls", "sync")
    assert code == 0
    assert "Undeclared ACLs of declared services (3)" in out
    assert admin.acls == before
    code, out, _ = invoke(admin, topics, "acls", "plan")
    assert "3 undeclared ACL(s) reported (--prune deletes them)" in out


def test_prune_without_yes_is_refused_exit_7(tmp_path: Path) -> None:
    admin, topics = _synced_then_removed(tmp_path)
    before = set(admin.acls)
    code, out, err = invoke(admin, topics, "acls", "sync", "--prune")
    assert code == 7
    assert "BLOCKED" in out
    assert "refused" in err
    assert admin.acls == before


def test_prune_confirmed_on_a_terminal(tmp_path: Path) -> None:
    admin, topics = _synced_then_removed(tmp_path)
    code, out, _ = invoke(admin, topics, "acls", "sync", "--prune", interactive=True, stdin="n\n")
    assert code == 7
    code, out, _ = invoke(admin, topics, "acls", "sync", "--prune", interactive=True, stdin="y\n")
    assert code == 0
    assert "Delete 3 ACL(s) listed above?" in out


def test_prune_yes_deletes_only_the_removed_declaration(tmp_path: Path) -> None:
    admin, topics = _synced_then_removed(tmp_path)
    code, out, _ = invoke(admin, topics, "acls", "sync", "--prune", "--yes", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    deleted = [a for a in doc["actions"] if a["action"] == "delete"]
    assert {(a["resource_type"], a["resource_name"], a["operation"]) for a in deleted} == {
        ("topic", "dreamscape.auth.", "read"),
        ("topic", "dreamscape.auth.", "describe"),
        ("group", "dreamscape-payment-service-group", "read"),
    }
    assert {a["result"] for a in deleted} == {"ok"}
    assert FOREIGN in admin.acls  # another principal's ACL: never touched
    assert SUPER in admin.acls  # a super user's ACL: never touched
    assert invoke(admin, topics, "acls", "plan", "--prune", "--detailed-exitcode")[0] == 0


def test_super_user_option_and_environment(tmp_path: Path) -> None:
    topics = write_acl_topics(tmp_path)
    admin = FakeAclAdmin()
    _code, out, _ = invoke(
        admin, topics, "acls", "plan", "--super-user", "User:auth-service", "-o", "json"
    )
    doc = json.loads(out)
    kinds = {a["action"] for a in doc["actions"] if a["principal"] == "User:auth-service"}
    assert kinds == {"super-user"}

    state = AppState(
        acl_admin_factory=lambda s: admin,
        environ={"DREAMSCAPE_SUPER_USERS": "User:admin;User:user-service"},
    )
    result = runner.invoke(
        app, ["--topics-file", str(topics), "acls", "plan", "-o", "json"], obj=state
    )
    doc = json.loads(result.stdout)
    kinds = {a["action"] for a in doc["actions"] if a["principal"] == "User:user-service"}
    assert kinds == {"super-user"}


def test_unreachable_is_exit_4_one_line(tmp_path: Path) -> None:
    code, _, err = invoke(
        FakeAclAdmin(unreachable=True), write_acl_topics(tmp_path), "acls", "plan"
    )
    assert code == 4
    assert err.strip().splitlines()[0].startswith("error: Kafka is not reachable")


def test_bad_services_are_exit_3_before_the_cluster_is_asked(tmp_path: Path) -> None:
    text = (
        write_acl_topics(tmp_path)
        .read_text()
        .replace("principal: User:payment-service", "principal: payment-service")
    )
    admin = FakeAclAdmin()
    code, _, err = invoke(admin, write_acl_topics(tmp_path, text), "acls", "sync")
    assert code == 3
    assert "services.payment-service.principal: malformed principal" in err
    assert admin.requests == []


def test_help_has_an_example() -> None:
    for command in ("show", "plan", "sync"):
        result = runner.invoke(app, ["acls", command, "--help"])
        assert result.exit_code == 0
        assert "Example: dreamscape-infra acls" in result.stdout
