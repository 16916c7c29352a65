"""CLI tests for `topics plan/sync/list/describe/import`, with the fake admin behind KafkaAdmin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.settings import ConnectionSettings
from dreamscape_infra.topics.desired import load_desired
from tests.fake_cluster import FakeCluster, FakeGroup, FakeTopic
from tests.topics_files import write_topics

ROOT = Path(__file__).resolve().parent.parent
TOPICS = str(ROOT / "tests" / "fixtures" / "topics-small.yaml")
runner = CliRunner()


def invoke(
    admin: FakeCluster, *args: str, interactive: bool = False, stdin: str | None = None
) -> tuple[int, str, str]:
    seen: list[ConnectionSettings] = []

    def factory(settings: ConnectionSettings) -> FakeCluster:
        seen.append(settings)
        return admin

    state = AppState(admin_factory=factory, environ={}, interactive=interactive)
    result = runner.invoke(app, ["--topics-file", TOPICS, *args], obj=state, input=stdin)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def synced_admin() -> FakeCluster:
    desired = load_desired(TOPICS)
    return FakeCluster(
        topics={
            t.name: FakeTopic(t.partitions, t.replication_factor, dict(t.configs))
            for t in desired.topics
        }
    )


def test_plan_detailed_exitcode_in_sync_is_0() -> None:
    code, out, _ = invoke(synced_admin(), "topics", "plan", "--detailed-exitcode")
    assert code == 0
    assert "In sync: 7 of 7" in out


def test_plan_detailed_exitcode_changes_pending_is_5() -> None:
    admin = synced_admin()
    del admin.topics["dreamscape.payment.failed"]
    code, out, _ = invoke(admin, "topics", "plan", "--detailed-exitcode")
    assert code == 5
    assert "dreamscape.payment.failed" in out
    assert "dreamscape.payment.failed" not in admin.topics  # plan never changes anything


def test_plan_detailed_exitcode_unfixable_is_6() -> None:
    admin = synced_admin()
    admin.topics["dreamscape.user.created"].partitions = 12
    code, out, _ = invoke(admin, "topics", "plan", "--detailed-exitcode")
    assert code == 6
    assert "cannot remove partitions" in out


def test_plan_without_detailed_exitcode_is_0_even_with_changes() -> None:
    code, _, _ = invoke(FakeCluster(), "topics", "plan")
    assert code == 0


def test_plan_json_is_one_document_with_stable_shape() -> None:
    admin = synced_admin()
    admin.topics["dreamscape.user.created"].overrides["retention.ms"] = "1"
    code, out, _ = invoke(admin, "topics", "plan", "--output", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["kind"] == "plan"
    assert doc["in_sync"] is False
    (action,) = [a for a in doc["actions"] if a["action"] == "set-config"]
    assert action == {
        "topic": "dreamscape.user.created",
        "action": "set-config",
        "key": "retention.ms",
        "before": "1",
        "after": "604800000",
        "source": "topic",
        "reason": None,
        "blocked": None,
        "result": "pending",
        "message": None,
    }
    assert len(doc["topics"]) == 7


def test_sync_creates_everything_and_a_second_plan_is_empty() -> None:
    admin = FakeCluster()
    code, out, _ = invoke(admin, "topics", "sync")
    assert code == 0
    assert len(admin.topics) == 7
    assert "7 change(s) applied" in out
    code, _, _ = invoke(admin, "topics", "plan", "--detailed-exitcode")
    assert code == 0


def test_sync_json_reports_each_action_with_its_result() -> None:
    admin = FakeCluster()
    code, out, _ = invoke(admin, "topics", "sync", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["kind"] == "sync"
    assert doc["exit_code"] == 0
    assert {a["result"] for a in doc["actions"]} == {"ok"}
    first = doc["actions"][0]
    assert first["before"] is None
    assert first["after"]["partitions"] >= 1


def test_sync_env_prod_on_one_broker_fails_per_topic_and_names_them() -> None:
    admin = FakeCluster(brokers=1)
    code, _out, err = invoke(admin, "topics", "sync", "--env", "prod")
    assert code == 4
    assert "dreamscape.user.created" in err
    assert admin.topics == {}


def test_dry_run_changes_nothing() -> None:
    admin = FakeCluster(brokers=1)
    code, out, _ = invoke(admin, "topics", "sync", "--dry-run")
    assert code == 0
    assert admin.topics == {}
    assert "validated" in out


@pytest.mark.parametrize("extra", [[], ["--force"]])
def test_prune_without_yes_and_without_terminal_deletes_nothing_exit_7(extra: list[str]) -> None:
    admin = synced_admin()
    admin.topics["dreamscape.legacy.thing"] = FakeTopic(1)
    code, _out, err = invoke(admin, "topics", "sync", "--prune", *extra)
    assert code == 7
    assert "dreamscape.legacy.thing" in admin.topics
    assert "delete_topics" not in admin.calls
    assert "refused" in err


def test_prune_with_yes_deletes_unmanaged_but_never_internal() -> None:
    admin = synced_admin()
    admin.topics["dreamscape.legacy.thing"] = FakeTopic(1)
    admin.topics["__consumer_offsets"] = FakeTopic(1)
    admin.topics["_schemas"] = FakeTopic(1)
    code, _, _ = invoke(admin, "topics", "sync", "--prune", "--yes")
    assert code == 0
    assert "dreamscape.legacy.thing" not in admin.topics
    assert {"__consumer_offsets", "_schemas"} <= set(admin.topics)


@pytest.mark.parametrize(("answer", "code", "deleted"), [("y\n", 0, True), ("n\n", 7, False)])
def test_prune_on_a_terminal_asks(answer: str, code: int, deleted: bool) -> None:
    admin = synced_admin()
    admin.topics["dreamscape.legacy.thing"] = FakeTopic(1)
    got, out, _ = invoke(admin, "topics", "sync", "--prune", interactive=True, stdin=answer)
    assert got == code
    assert "destructive change" in out
    assert ("dreamscape.legacy.thing" not in admin.topics) is deleted


def test_prune_refuses_topics_with_consumer_offsets_unless_forced() -> None:
    admin = synced_admin()
    admin.topics["dreamscape.legacy.thing"] = FakeTopic(1)
    admin.groups["legacy-group"] = FakeGroup(committed={("dreamscape.legacy.thing", 0): 1})
    code, out, _ = invoke(admin, "topics", "sync", "--prune", "--yes")
    assert code == 7
    assert "legacy-group" in out
    assert "dreamscape.legacy.thing" in admin.topics
    code, _, _ = invoke(admin, "topics", "sync", "--prune", "--yes", "--force")
    assert code == 0
    assert "dreamscape.legacy.thing" not in admin.topics


def test_keyed_partition_growth_needs_flag_and_confirmation() -> None:
    admin = synced_admin()
    admin.topics["dreamscape.user.created"].partitions = 1  # keyed in topics.yaml
    code, _, _ = invoke(admin, "topics", "sync")
    assert code == 7
    assert admin.topics["dreamscape.user.created"].partitions == 1
    code, _, _ = invoke(admin, "topics", "sync", "--allow-keyed-repartition")
    assert code == 7  # still destructive: needs --yes without a terminal
    code, _, _ = invoke(admin, "topics", "sync", "--allow-keyed-repartition", "--yes")
    assert code == 0
    assert admin.topics["dreamscape.user.created"].partitions == 3


def test_strict_configs_removes_undeclared_overrides_with_yes() -> None:
    admin = synced_admin()
    admin.topics["dreamscape.user.created"].overrides["segment.ms"] = "600000"
    code, _, _ = invoke(admin, "topics", "sync")
    assert code == 0
    assert "segment.ms" in admin.topics["dreamscape.user.created"].overrides
    code, _, _ = invoke(admin, "topics", "sync", "--strict-configs", "--yes")
    assert code == 0
    assert "segment.ms" not in admin.topics["dreamscape.user.created"].overrides


def test_write_reassignment_for_rf_drift(tmp_path: Path) -> None:
    admin = synced_admin()
    admin.brokers = 3
    target = tmp_path / "reassign.json"
    code, _, err = invoke(
        admin, "topics", "sync", "--env", "prod", "--write-reassignment", str(target)
    )
    assert code == 6
    doc = json.loads(target.read_text())
    assert doc["version"] == 1
    assert {p["topic"] for p in doc["partitions"]} == set(admin.topics)
    assert all(len(p["replicas"]) == 3 for p in doc["partitions"])
    assert "reassignment" in err


def test_unreachable_kafka_is_one_line_exit_4() -> None:
    code, out, err = invoke(FakeCluster(reachable=False), "topics", "plan")
    assert code == 4
    assert out == ""
    assert err.splitlines()[0] == "error: Kafka is not reachable at fake:9092"


def test_bad_topics_file_exits_3_and_never_touches_the_cluster(tmp_path: Path) -> None:
    bad = write_topics(tmp_path, "version: 1\ndomains: {}\ntopics:\n  - name: Bad Name\n")
    admin = FakeCluster()
    state = AppState(admin_factory=lambda s: admin, environ={}, interactive=False)
    result = runner.invoke(
        app, ["--topics-file", str(bad), "topics", "sync", "--prune", "--yes"], obj=state
    )
    assert result.exit_code == 3
    assert "topics[0].name" in result.stderr
    assert admin.calls == []


def test_list_shows_managed_unmanaged_and_internal_with_all() -> None:
    admin = synced_admin()
    admin.topics["dreamscape.legacy.thing"] = FakeTopic(1)
    admin.topics["__consumer_offsets"] = FakeTopic(1)
    code, out, _ = invoke(admin, "topics", "list", "-o", "json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)["topics"]}
    assert rows["dreamscape.legacy.thing"]["kind"] == "unmanaged"
    assert rows["dreamscape.user.created"]["in_sync"] is True
    assert "__consumer_offsets" not in rows
    code, out, _ = invoke(admin, "topics", "list", "--all", "-o", "json")
    rows = {r["name"]: r for r in json.loads(out)["topics"]}
    assert rows["__consumer_offsets"]["kind"] == "internal"


def test_describe_shows_partitions_configs_and_differences() -> None:
    admin = synced_admin()
    admin.topics["dreamscape.user.created"].overrides["retention.ms"] = "5"
    code, out, _ = invoke(admin, "topics", "describe", "dreamscape.user.created", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert len(doc["partitions"]) == 3
    assert doc["configs"]["retention.ms"] == {"value": "5", "source": "topic"}
    assert [d["key"] for d in doc["differences"]] == ["retention.ms"]


def test_describe_missing_topic_exit_4() -> None:
    code, _, err = invoke(FakeCluster(), "topics", "describe", "dreamscape.nope.x")
    assert code == 4
    assert "dreamscape.nope.x" in err


def test_import_writes_a_loadable_fragment_with_overrides_only() -> None:
    admin = FakeCluster(
        topics={
            "dreamscape.user.created": FakeTopic(6, 1, {"retention.ms": "86400000"}),
            "dreamscape.user.deleted": FakeTopic(3),
            "other.topic": FakeTopic(1),
        }
    )
    code, out, _ = invoke(admin, "topics", "import")
    assert code == 0
    assert "other.topic" not in out
    import yaml

    doc = yaml.safe_load(out)
    assert doc["topics"] == [
        {
            "name": "dreamscape.user.created",
            "partitions": 6,
            "replication_factor": 1,
            "config": {"retention.ms": 86400000},
        },
        {"name": "dreamscape.user.deleted", "partitions": 3, "replication_factor": 1},
    ]


def test_environment_failure_message_carries_no_secret() -> None:
    secret = "hunter2-very-secret"

    def factory(settings: ConnectionSettings) -> FakeCluster:
        raise EnvironmentFailure(f"cannot connect with {settings!r}")

    state = AppState(
        admin_factory=factory,
        environ={"KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": secret},
        interactive=False,
    )
    result = runner.invoke(app, ["--verbose", "--topics-file", TOPICS, "topics", "plan"], obj=state)
    assert result.exit_code == 4
    assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize("verbose", [False, True])
def test_a_bug_is_one_line_exit_1_and_traceback_only_with_verbose(verbose: bool) -> None:
    def factory(settings: ConnectionSettings) -> FakeCluster:
        raise RuntimeError("boom")

    state = AppState(admin_factory=factory, environ={}, interactive=False)
    args = ["--verbose"] if verbose else []
    result = runner.invoke(app, [*args, "--topics-file", TOPICS, "topics", "plan"], obj=state)
    assert result.exit_code == 1
    assert "internal error: RuntimeError: boom" in result.stderr
    assert ("Traceback" in result.stderr) is verbose
