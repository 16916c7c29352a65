"""`status`'s verdict: exit 4 when no broker answers, 8 when a service of the stack is down.

Pure tests of the rule (runtime/verdict.py), the roles the runtimes give their services, the
topic parts `up` and `status` use (topics/stackcheck.py), and the CLI with a fake StackRuntime.
The real 3-broker kill -9 test is in tests/test_stack_status_kafka.py.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import CheckFailed, EnvironmentFailure, ExitCode
from dreamscape_infra.runtime.base import (
    Health,
    ServiceState,
    ServiceStatus,
    StackStatus,
)
from dreamscape_infra.runtime.docker import statuses_from_ps
from dreamscape_infra.runtime.local import Layout, LocalConfig, LocalRuntime
from dreamscape_infra.runtime.probe import (
    NO_BROKER_RUNNING,
    BrokerReachability,
    broker_running,
    probe_broker,
)
from dreamscape_infra.runtime.render import status_table
from dreamscape_infra.runtime.verdict import stack_verdict
from dreamscape_infra.settings import ConnectionSettings
from dreamscape_infra.topics.stackcheck import (
    TopicsSummary,
    check_after_up,
    summarize_declared,
    sync_after_up,
)
from tests.fake_cluster import FakeCluster, FakeTopic
from tests.fake_runtime import FakeRuntime
from tests.topics_files import write_topics

runner = CliRunner()

TOPICS_YAML = """\
version: 1
prefix: dreamscape.
domains:
  user:
    owner: user-service
topics:
  - name: dreamscape.user.created
    keyed: true
  - name: dreamscape.user.updated
  - name: dreamscape.user.deleted
"""
BOOTSTRAP = "127.0.0.1:13092,127.0.0.1:13093,127.0.0.1:13094"


def zookeeper(state: ServiceState = "running") -> ServiceStatus:
    pid = 10 if state == "running" else None
    return ServiceStatus("zookeeper", state, pid=pid, role="coordinator")


def broker(name: str, state: ServiceState = "running", health: Health = "healthy") -> ServiceStatus:
    pid = 20 if state == "running" else None
    return ServiceStatus(name, state, health, ("127.0.0.1:1",), pid, role="broker")


def three_brokers(*dead: str) -> StackStatus:
    names = ("kafka", "kafka-2", "kafka-3")
    return StackStatus(
        "local",
        (zookeeper(), *(broker(n, "exited" if n in dead else "running") for n in names)),
        BOOTSTRAP,
    )


REACHABLE = BrokerReachability(True, 3, 1)


# ---- the rule ---------------------------------------------------------------------------------


def test_every_service_up_is_ok() -> None:
    verdict = stack_verdict(three_brokers(), REACHABLE)
    assert (verdict.verdict, verdict.exit_code, verdict.down) == ("ok", ExitCode.OK, ())
    assert verdict.failure() is None


def test_one_dead_broker_fails_the_check_with_8() -> None:
    verdict = stack_verdict(three_brokers("kafka-2"), REACHABLE)
    assert verdict.verdict == "service-down"
    assert int(verdict.exit_code) == 8
    assert [s.name for s in verdict.down] == ["kafka-2"]
    failure = verdict.failure()
    assert isinstance(failure, CheckFailed)
    assert failure.message == "1 service of the stack is down: kafka-2 (exited)"
    assert "dreamscape-infra logs kafka-2" in (failure.hint or "")


def test_a_dead_zookeeper_fails_the_check_too() -> None:
    status = StackStatus("local", (zookeeper("exited"), broker("kafka")), "127.0.0.1:1")
    verdict = stack_verdict(status, BrokerReachability(True, 1, 0))
    assert verdict.verdict == "service-down"
    assert [s.name for s in verdict.down] == ["zookeeper"]


def test_no_broker_answering_wins_with_4() -> None:
    status = three_brokers("kafka", "kafka-2", "kafka-3")
    verdict = stack_verdict(status, NO_BROKER_RUNNING)
    assert (verdict.verdict, verdict.exit_code) == ("no-broker", ExitCode.ENVIRONMENT)
    assert len(verdict.down) == 3  # still listed, but the unreachable cluster decides the code
    failure = verdict.failure()
    assert isinstance(failure, EnvironmentFailure)
    assert failure.message == (
        f"no broker answers at {BOOTSTRAP} (no broker of the stack is running)"
    )


def test_an_unreachable_cluster_is_4_even_when_every_process_runs() -> None:
    verdict = stack_verdict(three_brokers(), BrokerReachability(False, error="refused"))
    assert verdict.exit_code == ExitCode.ENVIRONMENT
    assert verdict.down == ()


def test_running_but_unhealthy_is_down_and_starting_is_not() -> None:
    status = StackStatus(
        "docker",
        (zookeeper(), broker("kafka", health="starting"), broker("kafka-2", health="unhealthy")),
        "localhost:9092",
    )
    verdict = stack_verdict(status, REACHABLE)
    assert [s.name for s in verdict.down] == ["kafka-2"]
    failure = verdict.failure()
    assert failure is not None
    assert "kafka-2 (unhealthy)" in failure.message


def test_two_down_services_are_named_together() -> None:
    verdict = stack_verdict(three_brokers("kafka-2", "kafka-3"), REACHABLE)
    failure = verdict.failure()
    assert failure is not None
    assert failure.message == "2 services of the stack are down: kafka-2 (exited), kafka-3 (exited)"


# ---- brokers by role, never by name -----------------------------------------------------------


def test_kafka_ui_is_not_a_broker() -> None:
    """`kafka-ui` starts with "kafka": a running UI must not count as a running broker."""
    status = StackStatus(
        "docker",
        (
            zookeeper(),
            broker("kafka", "exited"),
            ServiceStatus("kafka-ui", "running", role="extra"),
        ),
        "localhost:9092",
    )
    assert not broker_running(status)
    status_with_broker = StackStatus("docker", (*status.services, broker("kafka-2")), "x:1")
    assert broker_running(status_with_broker)


def test_docker_services_carry_their_role_and_whether_they_are_expected() -> None:
    def entry(service: str, state: str) -> dict[str, str]:
        return {"Service": service, "State": state, "Health": "", "Status": state}

    statuses = statuses_from_ps(
        [entry("kafka", "running"), entry("kafka-ui", "running"), entry("topic-init", "exited")]
    )
    by_name = {s.name: (s.role, s.expected, s.is_down) for s in statuses}
    assert by_name == {
        "zookeeper": ("coordinator", True, True),  # not created: the core stack misses it
        "kafka": ("broker", True, False),
        "kafka-ui": ("extra", True, False),
        "schema-registry": ("extra", False, False),  # its profile was never asked for
        "topic-init": ("one-shot", False, False),  # exits by design
    }
    stopped_ui = statuses_from_ps([entry("kafka-ui", "exited")])
    assert {s.name: s.is_down for s in stopped_ui}["kafka-ui"], "a created extra that stopped"


def test_local_services_carry_their_role(tmp_path: Path) -> None:
    runtime = LocalRuntime(LocalConfig(state_dir=tmp_path), env={})
    for layout in (
        Layout("zookeeper", 3, "3.9.1", 2181, 9092, 9093),
        Layout("kraft", 1, "4.1.1", 2181, 9092, 9093, cluster_id="x"),
    ):
        (tmp_path / "cluster.json").write_text(json.dumps(asdict(layout)))
        roles = {s.name: (s.role, s.expected) for s in runtime.status().services}
        if layout.mode == "kraft":  # the combined node answers clients: a broker
            assert roles == {"kafka": ("broker", True)}
        else:
            assert roles == {
                "zookeeper": ("coordinator", True),
                "kafka": ("broker", True),
                "kafka-2": ("broker", True),
                "kafka-3": ("broker", True),
            }


# ---- probing ------------------------------------------------------------------------------------


def test_probe_turns_an_unreachable_cluster_into_a_value() -> None:
    assert probe_broker(FakeCluster(brokers=3)) == BrokerReachability(True, 3, 0)
    assert probe_broker(FakeCluster(reachable=False)) == BrokerReachability(
        False, error="Kafka is not reachable at fake:9092"
    )


# ---- the topic parts ---------------------------------------------------------------------------


@pytest.fixture
def topics_file(tmp_path: Path) -> str:
    return str(write_topics(tmp_path, TOPICS_YAML))


def test_sync_after_up_creates_and_reports(topics_file: str) -> None:
    admin = FakeCluster()
    result = sync_after_up(admin, topics_file, None)
    assert result.how == "synced"
    assert result.report is not None
    assert result.exit_code == ExitCode.OK
    assert sorted(admin.topics) == [
        "dreamscape.user.created",
        "dreamscape.user.deleted",
        "dreamscape.user.updated",
    ]


def test_check_after_up_only_plans(topics_file: str) -> None:
    admin = FakeCluster(topics={"dreamscape.user.created": FakeTopic(3)})
    result = check_after_up(admin, topics_file, None)
    assert result.how == "checked"
    assert result.report is None
    assert result.exit_code == ExitCode.ENVIRONMENT  # topic-init claimed a sync it did not do
    assert result.summary == TopicsSummary(declared=3, in_sync=1, pending=2, unfixable=0)
    assert admin.calls == ["snapshot"]
    assert sync_after_up(admin, topics_file, None).exit_code == ExitCode.OK
    assert check_after_up(admin, topics_file, None).exit_code == ExitCode.OK


def test_summarize_declared(topics_file: str) -> None:
    summary = summarize_declared(FakeCluster(), topics_file, None)
    assert summary == TopicsSummary(declared=3, in_sync=0, pending=3, unfixable=0)


# ---- the CLI with a fake runtime -----------------------------------------------------------------


@dataclass
class Run:
    code: int
    out: str
    err: str
    admins: list[ConnectionSettings]


def run_status(
    current: StackStatus, topics_file: str, *args: str, admin: FakeCluster | None = None
) -> Run:
    admins: list[ConnectionSettings] = []
    fake = admin if admin is not None else FakeCluster(brokers=3)

    def admin_factory(settings: ConnectionSettings) -> FakeCluster:
        admins.append(settings)
        return fake

    state = AppState(
        environ={},
        runtime_factory=lambda _name: FakeRuntime(current=current),
        admin_factory=admin_factory,
        interactive=False,
        plain_tables=True,
    )
    result = runner.invoke(
        app, ["--topics-file", topics_file, "status", "-r", "local", *args], obj=state
    )
    assert "Traceback" not in result.stdout + result.stderr
    return Run(result.exit_code, result.stdout, result.stderr, admins)


def test_cli_status_ok(topics_file: str) -> None:
    run = run_status(three_brokers(), topics_file)
    assert run.code == 0
    assert "verdict: ok" in run.out
    assert "topics: 0 of 3 declared topics in sync, 3 change(s) pending" in run.out
    assert [s.bootstrap_servers for s in run.admins] == [BOOTSTRAP]


def test_cli_status_with_a_dead_broker_exits_8(topics_file: str) -> None:
    run = run_status(three_brokers("kafka-2"), topics_file)
    assert run.code == ExitCode.CHECK_FAILED
    assert "broker: reachable, 3 broker(s), controller 0" in run.out
    assert "verdict: service-down (kafka-2 exited)" in run.out
    assert "error: 1 service of the stack is down: kafka-2 (exited)" in run.err
    # the table through a pipe: one tab-separated line per service, names whole
    rows = [line.split("\t") for line in run.out.splitlines() if "\t" in line]
    assert rows[0] == ["service", "state", "health", "pid", "ports", "detail"]
    assert [r[:2] for r in rows[1:]] == [
        ["zookeeper", "running"],
        ["kafka", "running"],
        ["kafka-2", "exited"],
        ["kafka-3", "running"],
    ]


def test_cli_status_json_says_which_services_are_down(topics_file: str) -> None:
    run = run_status(three_brokers("kafka-3"), topics_file, "-o", "json")
    assert run.code == ExitCode.CHECK_FAILED
    doc = json.loads(run.out)
    assert (doc["kind"], doc["version"]) == ("status", 1)
    assert (doc["verdict"], doc["down"], doc["exit_code"]) == ("service-down", ["kafka-3"], 8)
    assert doc["broker"]["reachable"] is True
    assert doc["services"][3]["role"] == "broker"
    assert doc["topics"] == {"declared": 3, "in_sync": 0, "pending": 3, "unfixable": 0}


def test_cli_status_with_every_broker_dead_exits_4_without_asking_kafka(topics_file: str) -> None:
    run = run_status(three_brokers("kafka", "kafka-2", "kafka-3"), topics_file, "-o", "json")
    assert run.code == ExitCode.ENVIRONMENT
    assert run.admins == [], "no broker process runs: no client is even created"
    doc = json.loads(run.out)
    assert (doc["verdict"], doc["exit_code"]) == ("no-broker", 4)
    assert doc["down"] == ["kafka", "kafka-2", "kafka-3"]
    assert doc["topics"] is None
    assert f"error: no broker answers at {BOOTSTRAP}" in run.err


def test_cli_status_with_only_kafka_ui_running_never_asks_kafka(topics_file: str) -> None:
    current = StackStatus(
        "docker",
        (zookeeper(), broker("kafka", "exited"), ServiceStatus("kafka-ui", "running")),
        "localhost:9092",
    )
    run = run_status(current, topics_file)
    assert run.code == ExitCode.ENVIRONMENT
    assert run.admins == []
    assert "broker: not reachable (no broker of the stack is running)" in run.out


def test_cli_status_unreachable_cluster_exits_4(topics_file: str) -> None:
    run = run_status(three_brokers(), topics_file, admin=FakeCluster(reachable=False))
    assert run.code == ExitCode.ENVIRONMENT
    assert "broker: not reachable (Kafka is not reachable at fake:9092)" in run.out
    assert "verdict: no-broker" in run.out


def test_status_table_never_cuts_names() -> None:
    long = "kafka-with-a-name-much-longer-than-any-column-would-allow-at-80-columns"
    table = status_table(StackStatus("local", (zookeeper(), broker(long, "exited")), "x:1"))
    assert any(line.startswith(long + "\t") for line in table.plain_lines())
    assert table.row_styles == ("", "red")


def test_status_help_documents_the_rule() -> None:
    result = runner.invoke(app, ["status", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "exit 4 (no-broker)" in text
    assert "exit 8 (service-down)" in text


def test_status_table_on_an_80_column_terminal_folds_and_never_cuts() -> None:
    import io

    from rich.console import Console

    current = StackStatus(
        "docker",
        (
            ServiceStatus(
                "schema-registry",
                "running",
                "healthy",
                ("0.0.0.0:8081->8081/tcp",),
                detail="Up 3 minutes (healthy)",
            ),
            broker("kafka", "exited"),
        ),
        "localhost:9092",
    )
    buffer = io.StringIO()
    Console(file=buffer, width=80, force_terminal=True, color_system=None).print(
        status_table(current).to_rich()
    )
    lines = buffer.getvalue().splitlines()
    assert not [line for line in lines if "…" in line], "cells fold, they are never cut"
    assert max(len(line) for line in lines) <= 80
    # the ports cell is folded over two lines, its characters all there
    assert "0.0.0.0:8081->8081/tcp" in "".join(line.split("│")[4].strip() for line in lines[3:])
