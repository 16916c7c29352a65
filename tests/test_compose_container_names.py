"""The compose stack's fixed container names, which the seed's docker commands rely on
(`docker exec dreamscape-kafka kafka-consumer-groups ...`, `docker ps | grep dreamscape`), and the
docker runtime still mapping those names back to services."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from dreamscape_infra.runtime import docker as docker_runtime
from tests.kafka_support import skip_or_fail
from tests.test_compose_file import _FILE_VARS, COMPOSE_FILE, REPO, find_compose

SEED_NAMES = {
    "zookeeper": "dreamscape-zookeeper",
    "kafka": "dreamscape-kafka",
    "kafka-ui": "dreamscape-kafka-ui",
    "schema-registry": "dreamscape-schema-registry",
    "topic-init": "dreamscape-topic-init",
}


@pytest.mark.compose
def test_compose_config_names_the_containers_as_the_seed_does() -> None:
    compose = find_compose()
    if compose is None:
        skip_or_fail("the docker compose v2 binary is missing: run `make compose-bin`")
    env = {k: v for k, v in os.environ.items() if k not in _FILE_VARS}
    profiles = ["--profile", "ui", "--profile", "schema"]
    completed = subprocess.run(
        [*compose, "--file", str(COMPOSE_FILE), *profiles, "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    services = json.loads(completed.stdout)["services"]
    assert {name: s.get("container_name") for name, s in services.items()} == SEED_NAMES


@pytest.mark.parametrize(
    ("container", "service"),
    [
        *((name, service) for service, name in SEED_NAMES.items()),
        ("dreamscape-kafka-1", "kafka"),  # the names compose gave before container_name
        ("dreamscape-topic-init-run-0a1b2c3d", "topic-init"),  # `compose run` one-offs
    ],
)
def test_runtime_maps_container_names_to_services(container: str, service: str) -> None:
    assert docker_runtime._service_of(container) == service


def test_status_from_ps_with_the_fixed_names() -> None:
    entries = [
        {"Name": name, "State": "running", "Health": "healthy"}
        for service, name in SEED_NAMES.items()
        if service != "topic-init"
    ]
    statuses = {s.name: s for s in docker_runtime.statuses_from_ps(entries)}
    assert set(statuses) == set(docker_runtime.ALL_SERVICES)
    for service in ("zookeeper", "kafka", "kafka-ui", "schema-registry"):
        assert statuses[service].state == "running", service
    assert statuses["topic-init"].state == "missing"
