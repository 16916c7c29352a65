"""`up`, `down`, `status`, `logs` through CliRunner with a fake StackRuntime (no JVM, no Docker)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.errors import EnvironmentFailure, ExitCode
from dreamscape_infra.runtime.base import (
    UpOptions,
)
from tests.fake_cluster import FakeCluster
from tests.fake_runtime import FakeRuntime, Harness

runner = CliRunner()


@pytest.fixture
def harness() -> Harness:
    return Harness(FakeRuntime(), FakeCluster())


def test_up_local_waits_then_syncs_topics(harness: Harness) -> None:
    code, out, err = harness.invoke("up", "--runtime", "local")
    assert code == 0
    assert harness.chosen == ["local"]
    assert "runtime: local (requested by --runtime)" in err
    assert "kafka: waiting for Kafka at 127.0.0.1:9092" in err  # progress, on stderr
    assert "note: a note" in err
    assert "Kafka is ready at 127.0.0.1:9092" in out
    assert "topics.yaml: 7 change(s) applied" in out
    assert "change(s) applied" in out
    # synced against the started stack, not KAFKA_BROKERS
    assert [s.bootstrap_servers for s in harness.admin_settings] == ["127.0.0.1:9092"]
    assert harness.admin.topics, "up created the topics of topics.yaml"
    assert harness.admin.closed


def test_up_syncs_the_environment_the_local_stack_records() -> None:
    """Started with DREAMSCAPE_ENV=prod, restarted with a plain `up`: prod again."""
    harness = Harness(FakeRuntime(environment="prod"), FakeCluster(brokers=3))
    code, out, err = harness.invoke("up", "-r", "local", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert harness.runtime.calls[0][1] == UpOptions(environment=None)
    assert (doc["environment"], doc["topics"]["environment"]) == ("prod", "prod")
    assert doc["environment_change"] is None
    assert "--env" not in err


def test_another_env_on_a_running_stack_is_said_not_synced() -> None:
    harness = Harness(FakeRuntime(environment="prod"), FakeCluster(brokers=3))
    harness.invoke("up", "-r", "local")  # the stack, synced with prod
    code, out, err = harness.invoke("up", "-r", "local", "--env", "dev", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert harness.runtime.calls[-1][1] == UpOptions(environment="dev")
    assert doc["topics"]["environment"] == "prod", "up kept the stack's environment"
    change = doc["environment_change"]
    assert (change["stack"], change["requested"]) == ("prod", "dev")
    assert change["pending"] > 0
    assert "dreamscape.user.created" in change["topics"]
    assert change["command"] == "dreamscape-infra topics sync --env dev"
    assert "note: this stack runs with --env prod and keeps it; --env dev would change" in err
    assert "run `dreamscape-infra topics sync --env dev` to do that" in err
    assert f", and {len(change['topics']) - 5} more)" in err  # the JSON names them all


def test_docker_syncs_the_environment_asked_for() -> None:
    harness = Harness(FakeRuntime(), FakeCluster(brokers=3))
    code, out, err = harness.invoke(
        "up", "-r", "docker", "-o", "json", environ={"DREAMSCAPE_ENV": "prod"}
    )
    assert code == ExitCode.ENVIRONMENT, err  # the host's check: the fake has no topics
    doc = json.loads(out)
    assert harness.runtime.calls[0][1] == UpOptions(environment="prod")
    assert doc["topics"]["environment"] == "prod"
    assert doc["environment_change"] is None


def test_up_passes_every_option(harness: Harness) -> None:
    code, _, _ = harness.invoke(
        "up", "-r", "local", "--kraft", "--no-wait", "--timeout", "7", "--build", "-p", "ui"
    )
    assert code == 0
    (_, options) = harness.runtime.calls[0]
    assert options == UpOptions(
        profiles=("ui",), wait=False, timeout_s=7.0, build=True, kraft=True, brokers=1
    )
    assert harness.admin_settings == [], "no sync without waiting for a ready broker"


def test_up_brokers_and_no_sync(harness: Harness) -> None:
    code, _, _ = harness.invoke("up", "-r", "local", "--brokers", "3", "--no-sync")
    assert code == 0
    assert harness.runtime.calls[0][1] == UpOptions(brokers=3)
    assert harness.admin_settings == []


@pytest.mark.parametrize("count", ["0", "4"])
def test_up_brokers_out_of_range_is_a_usage_error(harness: Harness, count: str) -> None:
    code, _, _ = harness.invoke("up", "-r", "local", "--brokers", count)
    assert code == ExitCode.USAGE
    assert harness.runtime.calls == []


def test_up_already_running_is_success(harness: Harness) -> None:
    harness.runtime.already_running = True
    code, out, _ = harness.invoke("up", "-r", "local", "--no-sync")
    assert code == 0
    assert "Kafka is already running at 127.0.0.1:9092" in out


def test_up_json_is_one_document(harness: Harness) -> None:
    code, out, _ = harness.invoke("up", "-r", "local", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["runtime"] == "local"
    assert doc["already_running"] is False
    assert doc["status"]["bootstrap_servers"] == "127.0.0.1:9092"
    assert [s["name"] for s in doc["status"]["services"]] == ["zookeeper", "kafka"]
    assert doc["topics"] is not None


def test_up_docker_leaves_the_sync_to_topic_init_then_checks_from_the_host(
    harness: Harness,
) -> None:
    code, out, err = harness.invoke("up", "--runtime", "docker")
    assert code == ExitCode.ENVIRONMENT  # topic-init "ran" but the fake cluster has no topics
    assert harness.chosen == ["docker"]
    assert "runtime: docker" in err
    assert "0 of 7 declared topics in sync" in out
    assert harness.admin.calls == ["snapshot"]  # a plan only: the host never syncs docker's
    harness.admin.calls.clear()
    code, _, _ = harness.invoke("up", "--runtime", "docker", "--no-sync")
    assert code == 0
    assert harness.admin.calls == []


def test_up_failure_shows_log_lines_and_exit_4(harness: Harness) -> None:
    harness.runtime.fail_up = EnvironmentFailure(
        "kafka exited during start-up",
        details=["ERROR boom", "at Kafka.main"],
        hint="full log: /x/kafka.log",
    )
    code, out, err = harness.invoke("up", "-r", "local")
    assert code == ExitCode.ENVIRONMENT
    assert "error: kafka exited during start-up" in err
    assert "  | ERROR boom" in err
    assert "hint: full log: /x/kafka.log" in err
    assert out == ""


def test_runtime_from_environment_variable(harness: Harness) -> None:
    code, _, err = harness.invoke("status", environ={"DREAMSCAPE_RUNTIME": "local"})
    assert code == 0
    assert harness.chosen == ["local"]
    assert "requested by DREAMSCAPE_RUNTIME" in err


def test_unknown_runtime_is_invalid_config(harness: Harness) -> None:
    code, _, err = harness.invoke("status", "--runtime", "podman")
    assert code == ExitCode.INVALID_CONFIG
    assert "--runtime: unknown runtime 'podman'" in err
    code, _, err = harness.invoke("status", environ={"DREAMSCAPE_RUNTIME": "vm"})
    assert code == ExitCode.INVALID_CONFIG
    assert "DREAMSCAPE_RUNTIME: unknown runtime 'vm'" in err


def test_down_volumes_refused_without_terminal_or_yes(harness: Harness) -> None:
    code, out, err = harness.invoke("down", "-r", "local", "-v")
    assert code == ExitCode.REFUSED
    assert "pass --yes" in err
    assert harness.runtime.calls == [], "nothing stopped or removed"
    assert out == ""


@pytest.mark.parametrize(("answer", "removed"), [("n\n", False), ("y\n", True)])
def test_down_volumes_confirms_on_a_terminal(harness: Harness, answer: str, removed: bool) -> None:
    code, _, _ = harness.invoke("down", "-r", "local", "-v", interactive=True, stdin=answer)
    if removed:
        assert code == 0
        assert harness.runtime.calls == [("down", True)]
    else:
        assert code == ExitCode.REFUSED
        assert harness.runtime.calls == []


def test_down_volumes_yes_and_json(harness: Harness) -> None:
    code, out, _ = harness.invoke("down", "-r", "local", "-v", "--yes", "-o", "json")
    assert code == 0
    assert json.loads(out) == {
        "kind": "down",
        "version": 1,
        "runtime": "local",
        "stopped": ["kafka", "zookeeper"],
        "removed_data": True,
        "notes": [],
    }


def test_down_without_volumes_needs_no_confirmation(harness: Harness) -> None:
    code, out, _ = harness.invoke("down", "-r", "local")
    assert code == 0
    assert harness.runtime.calls == [("down", False)]
    assert "stopped: kafka, zookeeper" in out


def test_status_table_and_json(harness: Harness) -> None:
    code, out, _ = harness.invoke("status", "-r", "local")
    assert code == 0
    for word in ("zookeeper", "kafka", "running"):
        assert word in out
    assert "bootstrap servers: 127.0.0.1:9092" in out
    code, out, _ = harness.invoke("status", "-r", "local", "-o", "json")
    doc = json.loads(out)
    assert doc["running"] is True
    assert doc["services"][1] == {
        "name": "kafka",
        "state": "running",
        "health": "healthy",
        "pid": 12,
        "ports": ["127.0.0.1:9092"],
        "detail": "",
        "role": "broker",
        "expected": True,
    }


def test_logs_prints_lines_to_stdout(harness: Harness) -> None:
    code, out, _ = harness.invoke("logs", "-r", "local", "kafka", "-f", "--tail", "5")
    assert code == 0
    assert out == "line 1\nline 2\n"
    assert harness.runtime.calls == [("logs", "kafka", True, 5)]


def test_logs_json_is_one_object_per_line(harness: Harness) -> None:
    code, out, _ = harness.invoke("logs", "-r", "local", "-o", "json")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {"line": "line 1"},
        {"line": "line 2"},
    ]


@pytest.mark.parametrize("command", ["up", "down", "status", "logs"])
def test_every_command_documents_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert f"Example: dreamscape-infra {command}" in result.stdout


def test_status_probes_the_broker_and_summarises_topics(harness: Harness) -> None:
    code, out, _ = harness.invoke("status", "-r", "local", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["broker"] == {"reachable": True, "brokers": 1, "controller": 0, "error": None}
    assert doc["topics"] == {"declared": 7, "in_sync": 0, "pending": 7, "unfixable": 0}
    assert harness.admin.topics == {}  # a plan only, never a change


def test_status_with_an_unreachable_broker_exits_4(harness: Harness) -> None:
    harness.admin.reachable = False
    code, out, _ = harness.invoke("status", "-r", "local")
    assert code == ExitCode.ENVIRONMENT
    assert "broker: not reachable (Kafka is not reachable at fake:9092)" in out
