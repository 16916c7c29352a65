"""Issue 8, bug 5, against real brokers: a 3-broker local stack, one broker (the controller)
killed with SIGKILL makes `status` exit 8; all three killed, it exits 4."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import ExitCode
from tests.kafka_support import local_cluster
from tests.topics_files import write_topics

TOPICS_YAML = """\
version: 1
prefix: dreamscape.
domains:
  user:
    owner: user-service
topics:
  - name: dreamscape.user.created
"""


def _status(state_dir: Path, topics_file: Path) -> tuple[int, dict[str, Any], str]:
    env = {**os.environ, "DREAMSCAPE_STATE_DIR": str(state_dir)}
    state = AppState(environ=env, interactive=False)
    result = CliRunner().invoke(
        app,
        ["--topics-file", str(topics_file), "status", "--runtime", "local", "-o", "json"],
        obj=state,
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, json.loads(result.stdout), result.stderr


def _kill(state_dir: Path, topics_file: Path, *services: str) -> None:
    """SIGKILL the services' JVMs, then wait until status no longer sees them running."""
    _, doc, _ = _status(state_dir, topics_file)
    pids = {s["name"]: s["pid"] for s in doc["services"]}
    for service in services:
        assert pids[service] is not None, f"{service} should be running"
        os.kill(pids[service], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, doc, _ = _status(state_dir, topics_file)
        states = {s["name"]: s["state"] for s in doc["services"]}
        if all(states[s] == "exited" for s in services):
            return
        time.sleep(0.2)
    raise AssertionError(f"{services} still running after SIGKILL: {states}")


@pytest.mark.kafka
@pytest.mark.timeout(400)
def test_status_exits_8_for_a_dead_broker_and_4_for_none(tmp_path: Path) -> None:
    topics_file = write_topics(tmp_path, TOPICS_YAML)
    state_dir = tmp_path / "state"
    with local_cluster(state_dir, brokers=3):
        code, doc, err = _status(state_dir, topics_file)
        assert code == ExitCode.OK, err
        assert (doc["verdict"], doc["down"]) == ("ok", [])
        assert doc["broker"]["reachable"] is True

        # The controller, on purpose: DescribeCluster goes to the controller librdkafka knew,
        # and status once reported "no broker answers" while the two others were up.
        names = {1: "kafka", 2: "kafka-2", 3: "kafka-3"}
        victim = names[doc["broker"]["controller"]]
        _kill(state_dir, topics_file, victim)
        code, doc, err = _status(state_dir, topics_file)
        assert code == ExitCode.CHECK_FAILED, err
        assert (doc["verdict"], doc["down"], doc["exit_code"]) == ("service-down", [victim], 8)
        assert doc["broker"]["reachable"] is True  # the other two still answer
        assert f"error: 1 service of the stack is down: {victim} (exited)" in err

        _kill(state_dir, topics_file, *(n for n in names.values() if n != victim))
        code, doc, err = _status(state_dir, topics_file)
        assert code == ExitCode.ENVIRONMENT, err
        assert (doc["verdict"], doc["exit_code"]) == ("no-broker", 4)
        assert doc["down"] == ["kafka", "kafka-2", "kafka-3"]
        assert doc["broker"]["reachable"] is False
        assert [s["state"] for s in doc["services"] if s["role"] == "coordinator"] == ["running"]
