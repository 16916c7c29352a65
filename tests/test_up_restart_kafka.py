"""Issue 18, item 9, against real brokers: `up` after `kill -9` of one of three local brokers.

`up` must report ready only once the restarted broker itself has registered (its old
registration lingers in ZooKeeper for the session timeout), so its sync succeeds and `health`
right after it is UP. And it must sync the environment the stack was started with
(DREAMSCAPE_ENV=prod: min.insync.replicas 2), not the base declarations; another `--env` on the
running stack only says what it would change.

Everything runs as a user would: the CLI in subprocesses (this worktree's code on PYTHONPATH),
its own state folder and ports below the ephemeral range, so a killed broker can restart.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dreamscape_infra.kafka.admin import ConfluentAdmin
from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime
from dreamscape_infra.settings import ConnectionSettings
from tests.health_support import PROD_TOPIC_NAMES, write_prod_topics
from tests.kafka_support import port_block_below_ephemeral, require_local_kafka

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Cli:
    env: dict[str, str]
    topics_file: Path

    def run(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "dreamscape_infra", "-f", str(self.topics_file), *args]
        done = subprocess.run(
            argv,
            check=False,
            cwd=ROOT,
            env={**self.env, **extra_env},
            capture_output=True,
            text=True,
            timeout=400,
        )
        assert "Traceback" not in done.stdout + done.stderr, done.stderr
        return done

    @property
    def runtime(self) -> LocalRuntime:
        return LocalRuntime(LocalConfig.from_env(self.env), env=self.env)

    def min_isr(self) -> dict[str, str | None]:
        admin = ConfluentAdmin(ConnectionSettings.plaintext(self.env["KAFKA_BROKERS"]))
        try:
            topics = admin.snapshot(list(PROD_TOPIC_NAMES)).topics
        finally:
            admin.close()
        found = {name: topics[name].configs.get("min.insync.replicas") for name in topics}
        return {name: entry.value if entry else None for name, entry in found.items()}

    def kill(self, name: str) -> None:
        runtime = self.runtime
        service = next(s for s in runtime.services() if s.name == name)
        pid = runtime.live_pid(service)
        assert pid is not None, f"{name} is not running"
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while runtime.live_pid(service) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert runtime.live_pid(service) is None, f"{name} still runs after SIGKILL"


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    require_local_kafka(kraft=False)
    base = port_block_below_ephemeral(5)  # ZooKeeper, 3 brokers, the unused controller port
    env = {k: v for k, v in os.environ.items() if k not in ("DREAMSCAPE_ENV", "DREAMSCAPE_RUNTIME")}
    env.update(
        PYTHONPATH=str(ROOT),
        DREAMSCAPE_STATE_DIR=str(tmp_path / "state"),
        DREAMSCAPE_ZK_PORT=str(base),
        DREAMSCAPE_KAFKA_PORT=str(base + 1),
        DREAMSCAPE_CONTROLLER_PORT=str(base + 4),
        DREAMSCAPE_KAFKA_HEAP="384m",
        KAFKA_BROKERS=",".join(f"127.0.0.1:{base + i}" for i in (1, 2, 3)),
    )
    item = Cli(env, write_prod_topics(tmp_path))
    try:
        yield item
    finally:
        item.run("down", "--runtime", "local", "-v", "--yes")


@pytest.mark.timeout(900)
def test_up_after_a_broker_is_killed_waits_for_it_and_keeps_the_prod_environment(
    cli: Cli,
) -> None:
    first = cli.run(
        "up", "--runtime", "local", "--brokers", "3", "--timeout", "240", DREAMSCAPE_ENV="prod"
    )
    assert first.returncode == 0, first.stderr
    assert cli.min_isr() == dict.fromkeys(PROD_TOPIC_NAMES, "2")

    cli.kill("kafka-2")
    again = cli.run("up", "--runtime", "local", "--timeout", "240", "-o", "json")
    # `health` at once: not after a wait, that is the point
    health = cli.run("health", "--env", "prod", "-o", "json")
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["environment"] == "prod"
    assert [s["state"] for s in doc["status"]["services"]] == ["running"] * 4
    assert (doc["topics"]["environment"], doc["topics"]["exit_code"]) == ("prod", 0), doc
    report = json.loads(health.stdout)
    assert (health.returncode, report["status"]) == (0, "UP"), report
    assert report["components"]["brokers"]["details"]["ids"] == [1, 2, 3]
    assert cli.min_isr() == dict.fromkeys(PROD_TOPIC_NAMES, "2")

    # another --env on the running stack: said, with the command that does it, never applied
    other = cli.run("up", "--runtime", "local", "--env", "dev", "-o", "json")
    assert other.returncode == 0, other.stderr
    change = json.loads(other.stdout)["environment_change"]
    assert (change["stack"], change["requested"]) == ("prod", "dev")
    assert sorted(change["topics"]) == sorted(PROD_TOPIC_NAMES)
    assert change["command"] == "dreamscape-infra topics sync --env dev"
    assert "dreamscape-infra topics sync --env dev" in other.stderr
    assert cli.min_isr() == dict.fromkeys(PROD_TOPIC_NAMES, "2")
