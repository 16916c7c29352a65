"""The shim's canned `compose ps` entries have the shape the real daemon printed.

tests/fixtures/docker/compose-ps.ndjson comes from a real daemon (tests/docker_shapes.py); the
docker tests check the live daemon still prints it. No daemon needed here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dreamscape_infra.runtime.docker import LIFE_FORMAT, container_lives, statuses_from_ps
from tests.docker_shapes import progress_lines, recorded, recorded_up, shape
from tests.test_docker_runtime import SHIM, ps_entry, published


def test_the_recorded_output_is_the_running_stack() -> None:
    statuses = {s.name: s for s in statuses_from_ps(recorded())}
    for service in ("zookeeper", "kafka"):
        assert (statuses[service].state, statuses[service].health) == ("running", "healthy")
        assert statuses[service].ports  # published on 127.0.0.1


def test_the_shims_entries_have_the_real_shape() -> None:
    real = {entry["Service"]: entry for entry in recorded()}
    for service in ("zookeeper", "kafka"):
        canned = ps_entry(service, publishers=published(9092))
        assert shape(canned) == shape(real[service]), service
        # the file's fixed container names, not compose's <project>-<service>-<n>
        assert canned["Name"] == real[service]["Name"]


def test_the_shims_up_lines_have_the_real_form(tmp_path: Path) -> None:
    real = recorded_up()
    assert {name for name, _ in real} == {"dreamscape-zookeeper", "dreamscape-kafka"}
    assert ("dreamscape-kafka", "Healthy") in real
    shim = tmp_path / "docker"
    shim.write_text(SHIM, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(shim), "compose", "up", "--detach", "--wait", "zookeeper", "kafka"],
        env={**os.environ, "DOCKER_SHIM_LOG": str(tmp_path / "log")},
        capture_output=True,
        text=True,
        check=True,
    )
    canned = progress_lines(done.stderr)
    assert canned, done.stderr
    # the same container names, and only states the real daemon printed
    assert {name for name, _ in canned} == {name for name, _ in real}
    assert {state for _, state in canned} <= {state for _, state in real} | {"Started"}


def test_the_shims_inspect_answer_parses_like_the_real_one(tmp_path: Path) -> None:
    # what the real daemon prints for LIFE_FORMAT parses (tests/test_docker_stack.py checks);
    # so does the shim's answer
    shim = tmp_path / "docker"
    shim.write_text(SHIM, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(shim), "inspect", "--format", LIFE_FORMAT, "dreamscape-kafka"],
        env={**os.environ, "DOCKER_SHIM_LOG": str(tmp_path / "log")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert set(container_lives(done.stdout)) == {"kafka"}, done.stdout
