"""The compose file shipped in the package: the repository's stack without topic-init, kept in
step by scripts/package-compose.py; `up --runtime docker` from it syncs topics from the host."""

from __future__ import annotations

import json
import runpy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dreamscape_infra.runtime.base import UpOptions, no_progress
from dreamscape_infra.runtime.docker import (
    PACKAGED_COMPOSE,
    DockerComposeRuntime,
    has_topic_init,
)
from tests.kafka_support import skip_or_fail
from tests.test_compose_file import find_compose
from tests.test_docker_runtime import Shim, shim  # noqa: F401 - the recording docker fixture

REPO = Path(__file__).resolve().parent.parent
REPO_COMPOSE = REPO / "docker" / "docker-compose.kafka.yml"
STALE = "the packaged compose file is stale: run `python scripts/package-compose.py`"


def test_packaged_file_is_generated_from_the_repository_file() -> None:
    script = runpy.run_path(str(REPO / "scripts" / "package-compose.py"))
    assert Path(script["TARGET"]) == PACKAGED_COMPOSE
    expected = script["packaged"](REPO_COMPOSE.read_text(encoding="utf-8"))
    assert PACKAGED_COMPOSE.read_text(encoding="utf-8") == expected, STALE


def test_packaged_file_is_the_repository_stack_minus_topic_init() -> None:
    repo = yaml.safe_load(REPO_COMPOSE.read_text(encoding="utf-8"))
    packaged = yaml.safe_load(PACKAGED_COMPOSE.read_text(encoding="utf-8"))
    del repo["services"]["topic-init"]
    assert packaged == repo, STALE
    assert has_topic_init(REPO_COMPOSE)
    assert not has_topic_init(PACKAGED_COMPOSE)


def _config(compose: list[str], file: Path) -> dict[str, Any]:
    done = subprocess.run(
        [
            *compose,
            "--file",
            str(file),
            "--profile",
            "ui",
            "--profile",
            "schema",
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


@pytest.mark.compose
def test_real_compose_resolves_the_same_services(tmp_path: Path) -> None:
    compose = find_compose()
    if compose is None:
        skip_or_fail("the docker compose v2 binary is missing: run `make compose-bin`")
    # a copy far from any checkout, as in site-packages
    copy = tmp_path / "site-packages" / "dreamscape_infra" / "data" / "docker-compose.kafka.yml"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(PACKAGED_COMPOSE.read_bytes())
    repo = _config(compose, REPO_COMPOSE)
    packaged = _config(compose, copy)
    del repo["services"]["topic-init"]
    assert packaged["services"] == repo["services"]
    assert packaged["name"] == repo["name"] == "dreamscape"


def test_up_from_the_packaged_file_runs_no_topic_init(shim: Shim) -> None:  # noqa: F811
    shim.set("DREAMSCAPE_COMPOSE_FILE", str(PACKAGED_COMPOSE))
    result = DockerComposeRuntime(env={"DREAMSCAPE_COMPOSE_FILE": str(PACKAGED_COMPOSE)}).up(
        UpOptions(), no_progress
    )
    calls = shim.compose_calls()
    assert not [c for c in calls if "run" in c], "no topic-init run"
    assert any("up" in c and "kafka" in c for c in calls)
    assert result.sync_from_host
    assert result.status.bootstrap_servers == "localhost:9092"
