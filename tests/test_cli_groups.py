"""CLI tests for `groups list/lag/reset-offsets/delete`, with a fake GroupsClient."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.groups.client import GroupMember, OffsetRange
from dreamscape_infra.settings import ConnectionSettings
from tests.fake_cluster import FakeCluster, FakeGroup, topics_with
from tests.groups_support import write_topics_file

AUTH = "dreamscape-auth-service-group"
USER = "dreamscape-user-service-group"
CREATED = "dreamscape.user.created"
runner = CliRunner()


@pytest.fixture
def topics_file(tmp_path: Path) -> Path:
    return write_topics_file(tmp_path)


def fake(members: int = 0) -> FakeCluster:
    """100 messages on user.created (34/33/33); the auth group committed 40 (14/13/13)."""
    return FakeCluster(
        topics=topics_with({CREATED: 3, "dreamscape.user.deleted": 3, "dreamscape.auth.login": 2}),
        ranges={
            (CREATED, 0): OffsetRange(0, 34),
            (CREATED, 1): OffsetRange(0, 33),
            (CREATED, 2): OffsetRange(0, 33),
        },
        groups={
            AUTH: FakeGroup(
                "Stable" if members else "Empty",
                [
                    GroupMember(f"c-{i}", f"auth-{i}", "10.0.0.1", ((CREATED, i),))
                    for i in range(members)
                ],
                {(CREATED, 0): 14, (CREATED, 1): 13, (CREATED, 2): 13},
            )
        },
    )


def invoke(
    client: FakeCluster,
    topics_file: Path,
    *args: str,
    interactive: bool = False,
    stdin: str | None = None,
) -> tuple[int, str, str]:
    def factory(settings: ConnectionSettings) -> FakeCluster:
        return client

    state = AppState(groups_factory=factory, environ={}, interactive=interactive, plain_tables=True)
    result = runner.invoke(app, ["--topics-file", str(topics_file), *args], obj=state, input=stdin)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_lag_of_one_group(topics_file: Path) -> None:
    client = fake()
    code, out, _ = invoke(client, topics_file, "groups", "lag", AUTH)
    assert code == 0
    assert f"{AUTH}: Empty, 0 members, declared, STOPPED; total lag 60" in out
    rows = [line.split("\t") for line in out.splitlines() if line.startswith(CREATED + "\t")]
    assert [(r[1], r[2], r[4], r[5]) for r in rows] == [
        ("0", "14", "34", "20"),
        ("1", "13", "33", "20"),
        ("2", "13", "33", "20"),
    ]
    assert f"{AUTH}\t{CREATED}\t60" in out  # per topic
    assert "dreamscape.user.deleted\t0\tnone\t" in out  # never committed: marked
    assert "never committed on dreamscape.user.deleted" in out
    assert client.closed


def test_lag_json(topics_file: Path) -> None:
    code, out, _ = invoke(fake(members=1), topics_file, "groups", "lag", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["kind"], doc["version"], doc["ok"], doc["window_s"]) == ("group-lag", 1, True, 0)
    auth, user = doc["groups"]
    assert (auth["group"], auth["status"], auth["total_lag"], auth["members"]) == (
        AUTH,
        "OK",
        60,
        1,
    )
    assert auth["topics"][CREATED] == 60
    first = auth["partitions"][0]
    assert first == {
        "topic": CREATED,
        "partition": 0,
        "committed": 14,
        "log_start": 0,
        "log_end": 34,
        "lag": 20,
        "lag_seconds": None,  # the fake cluster holds no records
        "status": "behind",
        "lost_to_retention": 0,
        "member": {"consumer_id": "c-0", "client_id": "auth-0", "host": "10.0.0.1"},
    }
    assert auth["never_committed_topics"] == ["dreamscape.user.deleted"]
    assert (user["status"], user["state"]) == ("NOT-STARTED", "not-started")


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        (["--max-lag", "10"], 8),
        (["--max-lag", "1000"], 0),
        (["--max-lag", "60"], 0),
        (["--max-partition-lag", "19"], 8),
        (["--max-partition-lag", "20"], 0),
    ],
)
def test_thresholds_exit_8(topics_file: Path, flags: list[str], code: int) -> None:
    got, _, err = invoke(fake(), topics_file, "groups", "lag", *flags)
    assert got == code
    assert ("check failed:" in err) is (code == 8)


def test_threshold_json_still_one_document(topics_file: Path) -> None:
    code, out, err = invoke(fake(), topics_file, "groups", "lag", "--max-lag", "10", "-o", "json")
    assert code == 8
    doc = json.loads(out)
    assert doc["ok"] is False
    assert doc["breaches"] == [
        {"group": AUTH, "check": "max-lag", "value": 60, "limit": 10, "where": None}
    ]
    assert f"check failed: {AUTH}: total lag 60 > --max-lag 10" in err


def test_list_shows_declared_groups_not_started(topics_file: Path) -> None:
    client = fake()
    client.groups["someone-else"] = FakeGroup("Empty", [], {})
    code, out, _ = invoke(client, topics_file, "groups", "list")
    assert code == 0
    assert f"{AUTH}\tEmpty\t0\tyes\tSTOPPED\t60\t20" in out
    assert f"{USER}\tnot-started\t0\tyes\tNOT-STARTED\t0\t0" in out
    assert "someone-else\tEmpty\t0\tno\tEMPTY\t0\t0" in out
    code, out, _ = invoke(client, topics_file, "groups", "list", "-o", "json")
    doc = json.loads(out)
    assert doc["kind"] == "groups"
    assert [g["group"] for g in doc["groups"]] == [AUTH, USER, "someone-else"]
    assert "partitions" not in doc["groups"][0]


def test_unknown_group_is_one_line_exit_2(topics_file: Path) -> None:
    code, out, err = invoke(fake(), topics_file, "groups", "lag", "dreamscape-auth-group")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "unknown consumer group 'dreamscape-auth-group'" in lines[0]
    assert AUTH in lines[0]


def test_unknown_topic_exit_2(topics_file: Path) -> None:
    code, _, err = invoke(fake(), topics_file, "groups", "lag", "--topic", "nope")
    assert code == 2
    assert "topic 'nope' does not exist" in err


def test_bad_window_exit_2(topics_file: Path) -> None:
    code, _, err = invoke(fake(), topics_file, "groups", "lag", "--window", "soon")
    assert code == 2
    assert "--window" in err


def test_no_broker_exit_4(topics_file: Path) -> None:
    client = fake()
    client.reachable = False
    for args in (
        ["groups", "list"],
        ["groups", "lag"],
        ["groups", "reset-offsets", AUTH, "--all-topics", "--to-earliest"],
        ["groups", "delete", AUTH, "--yes"],
    ):
        code, _, err = invoke(client, topics_file, *args)
        assert code == 4, args
        assert "not reachable" in err


def test_reset_dry_run_changes_nothing(topics_file: Path) -> None:
    client = fake()
    code, out, _ = invoke(
        client, topics_file, "groups", "reset-offsets", AUTH, "--topic", CREATED, "--to-earliest"
    )
    assert code == 0
    assert "dry run" in out
    assert f"{CREATED}\t0\t14\t0\t0\t34\t-" in out
    assert "alter_offsets" not in client.calls
    assert client.groups[AUTH].committed[(CREATED, 0)] == 14


def test_reset_execute_moves_offsets(topics_file: Path) -> None:
    client = fake()
    code, out, _ = invoke(
        client,
        topics_file,
        "groups",
        "reset-offsets",
        AUTH,
        "--topic",
        CREATED,
        "--to-offset",
        "50",
        "--execute",
        "-o",
        "json",
    )
    assert code == 0
    doc = json.loads(out)
    assert (doc["kind"], doc["executed"], doc["dry_run"]) == ("reset-offsets", True, False)
    assert [(p["new"], p["note"]) for p in doc["partitions"]] == [
        (34, "50 is past the log end 34: clamped"),
        (33, "50 is past the log end 33: clamped"),
        (33, "50 is past the log end 33: clamped"),
    ]
    assert client.groups[AUTH].committed == {(CREATED, 0): 34, (CREATED, 1): 33, (CREATED, 2): 33}


def test_reset_refused_with_members(topics_file: Path) -> None:
    client = fake(members=1)
    args = ["groups", "reset-offsets", AUTH, "--topic", CREATED, "--to-earliest"]
    code, out, err = invoke(client, topics_file, *args, "--execute")
    assert code == 7
    assert "1 active member(s)" in err
    assert "alter_offsets" not in client.calls
    code, out, err = invoke(client, topics_file, *args)  # the dry run still shows the plan
    assert code == 0
    assert "would move" in out
    assert "--execute would be refused" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--topic", CREATED], "exactly one target"),
        (["--topic", CREATED, "--to-earliest", "--to-latest"], "exactly one target"),
        (["--to-earliest"], "--topic T"),
        (["--topic", CREATED, "--all-topics", "--to-earliest"], "--topic T"),
        (["--topic", CREATED, "--to-offset", "-1"], "--to-offset: -1 is negative"),
        (["--topic", CREATED, "--to-datetime", "tomorrow"], "--to-datetime"),
        (["--topic", "dreamscape.user.creatd", "--to-earliest"], "did you mean"),
        (["--topic", CREATED, "--partition", "9", "--to-earliest"], "has no partition 9"),
    ],
)
def test_reset_bad_input_exit_2(topics_file: Path, args: list[str], message: str) -> None:
    client = fake()
    code, _, err = invoke(client, topics_file, "groups", "reset-offsets", AUTH, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "alter_offsets" not in client.calls


def test_delete_needs_yes_off_a_terminal(topics_file: Path) -> None:
    client = fake()
    code, _, err = invoke(client, topics_file, "groups", "delete", AUTH)
    assert code == 7
    assert "not confirmed" in err
    assert AUTH in client.groups
    code, out, _ = invoke(client, topics_file, "groups", "delete", AUTH, "--yes")
    assert code == 0
    assert f"deleted consumer group {AUTH}" in out
    assert AUTH not in client.groups


def test_delete_confirms_on_a_terminal(topics_file: Path) -> None:
    client = fake()
    code, _, _ = invoke(
        client, topics_file, "groups", "delete", AUTH, interactive=True, stdin="n\n"
    )
    assert code == 7
    assert AUTH in client.groups
    code, _, _ = invoke(
        client, topics_file, "groups", "delete", AUTH, interactive=True, stdin="y\n"
    )
    assert code == 0
    assert AUTH not in client.groups


def test_delete_refused_with_members(topics_file: Path) -> None:
    client = fake(members=2)
    code, _, err = invoke(client, topics_file, "groups", "delete", AUTH, "--yes")
    assert code == 7
    assert "2 active member(s)" in err
    assert "delete_group" not in client.calls


def test_delete_unknown_and_not_started(topics_file: Path) -> None:
    code, _, err = invoke(fake(), topics_file, "groups", "delete", "nope", "--yes")
    assert code == 2
    assert "unknown consumer group 'nope'" in err
    code, out, _ = invoke(fake(), topics_file, "groups", "delete", USER, "--yes", "-o", "json")
    assert code == 0
    assert json.loads(out) == {
        "kind": "group-delete",
        "version": 1,
        "group": USER,
        "deleted": False,
        "message": f"{USER} is declared but not on the cluster (not-started): nothing to delete",
    }


@pytest.mark.parametrize("command", ["list", "lag", "reset-offsets", "delete"])
def test_help_has_an_example(command: str) -> None:
    result = runner.invoke(app, ["groups", command, "--help"])
    assert result.exit_code == 0
    assert "Example: dreamscape-infra groups" in result.stdout
    assert "--output" in result.stdout
