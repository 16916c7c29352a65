"""topic-init's exact command, from the compose file, run against a real local broker.

The container runs `dreamscape-infra <command>` with topics.yaml bind-mounted read-only; here the
same argv runs on the host with the mount's target rewritten to the repo's topics.yaml, made
read-only, and KAFKA_BROKERS pointed at the test broker instead of kafka:29092.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parent.parent


def test_topic_init_command_syncs_the_mounted_file(kafka_cluster: Any, tmp_path: Path) -> None:
    compose = yaml.safe_load((ROOT / "docker" / "docker-compose.kafka.yml").read_text())
    service = compose["services"]["topic-init"]
    (mount,) = service["volumes"]
    assert mount["read_only"] is True
    mounted = tmp_path / "config" / Path(mount["target"]).name
    mounted.parent.mkdir()
    # The mount's source is the shipped topics.yaml (tests/test_topic_init.py checks that); the
    # small fixture stands in for it here, so editing the shipped file does not break this test.
    shutil.copy(ROOT / "tests" / "fixtures" / "topics-small.yaml", mounted)
    mounted.chmod(stat.S_IRUSR | stat.S_IRGRP)
    argv = [mounted.as_posix() if a == mount["target"] else a for a in service["command"]]

    env = dict(os.environ)
    env.update({k: str(v) for k, v in service["environment"].items()})
    assert env["KAFKA_BROKERS"] == "kafka:29092"
    env["KAFKA_BROKERS"] = kafka_cluster.bootstrap
    env.pop("DREAMSCAPE_TOPICS_FILE", None)

    run = subprocess.run(
        [sys.executable, "-m", "dreamscape_infra", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "dreamscape_infra",
            "--topics-file",
            str(mounted),
            "topics",
            "plan",
            "--detailed-exitcode",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "In sync: 7 of 7" in check.stdout
