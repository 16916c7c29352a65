"""docker/docker-compose.kafka.yml, as the real docker compose v2 binary resolves it.

`docker compose config` needs no daemon, so these run wherever the binary is: `make compose-bin`
puts it in .tools/bin. Without it they skip with the reason, except in CI (CI=true), where a
missing binary is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from dreamscape_infra.runtime import docker as docker_runtime
from tests.kafka_support import skip_or_fail

pytestmark = pytest.mark.compose

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker" / "docker-compose.kafka.yml"
# Variables the file reads; cleared so a developer's shell cannot change what is asserted.
_FILE_VARS = (
    "CP_VERSION",
    "KAFKA_UI_VERSION",
    "DREAMSCAPE_BIND",
    "KAFKA_ADVERTISED_HOST",
    "COMPOSE_PROJECT_NAME",
    "COMPOSE_PROFILES",
    "COMPOSE_FILE",
    "DREAMSCAPE_KAFKA_PORT",
    "DREAMSCAPE_ZK_PORT",
    "DREAMSCAPE_KAFKA_UI_PORT",
    "DREAMSCAPE_SCHEMA_REGISTRY_PORT",
    "DREAMSCAPE_ZOOKEEPER_IMAGE",
    "DREAMSCAPE_KAFKA_IMAGE",
    "DREAMSCAPE_SCHEMA_REGISTRY_IMAGE",
    "DREAMSCAPE_KAFKA_UI_IMAGE",
    "DREAMSCAPE_TOPIC_INIT_IMAGE",
    "DREAMSCAPE_PYTHON_IMAGE",
)

PROFILE_COMBINATIONS: list[tuple[str, ...]] = [(), ("ui",), ("schema",), ("ui", "schema")]
LONG_RUNNING = {"zookeeper", "kafka", "kafka-ui", "schema-registry"}
HOST_PORTS = {"zookeeper": 2181, "kafka": 9092, "kafka-ui": 8080, "schema-registry": 8081}
# the container port each host port goes to: the broker's EXTERNAL listener is 19092 inside
TARGET_PORTS = {**HOST_PORTS, "kafka": 19092}


def _compose_v2(candidate: list[str]) -> bool:
    try:
        completed = subprocess.run(
            [*candidate, "version", "--short"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0 and completed.stdout.strip().lstrip("v").startswith("2.")


def find_compose() -> list[str] | None:
    """The compose v2 command: .tools/bin first (what `make compose-bin` installs), then PATH."""
    candidates: list[list[str]] = [[str(REPO / ".tools" / "bin" / "docker-compose")]]
    standalone = shutil.which("docker-compose")
    if standalone:
        candidates.append([standalone])
    docker = shutil.which("docker")
    if docker:
        candidates.append([docker, "compose"])
    for candidate in candidates:
        if (len(candidate) > 1 or Path(candidate[0]).is_file()) and _compose_v2(candidate):
            return candidate
    return None


@pytest.fixture(scope="module")
def compose() -> list[str]:
    command = find_compose()
    if command is None:
        skip_or_fail("the docker compose v2 binary is missing: run `make compose-bin`")
    return command


Config = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def config(compose: list[str]) -> Config:
    cache: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], dict[str, Any]] = {}

    def resolve(
        profiles: tuple[str, ...] = (), env: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        key = (profiles, tuple(sorted((env or {}).items())))
        if key not in cache:
            run_env = {k: v for k, v in os.environ.items() if k not in _FILE_VARS}
            run_env.update(env or {})
            args = [*compose, "--file", str(COMPOSE_FILE)]
            for profile in profiles:
                args += ["--profile", profile]
            completed = subprocess.run(
                [*args, "config", "--format", "json"],
                capture_output=True,
                text=True,
                timeout=60,
                env=run_env,
                cwd=REPO,
                check=False,
            )
            assert completed.returncode == 0, completed.stderr
            cache[key] = json.loads(completed.stdout)
        return cache[key]

    return resolve


def _env(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (service.get("environment") or {}).items()}


# -- every profile combination ---------------------------------------------------------------


@pytest.mark.parametrize("profiles", PROFILE_COMBINATIONS, ids=lambda p: "+".join(p) or "default")
def test_services_per_profile_combination(config: Config, profiles: tuple[str, ...]) -> None:
    resolved = config(profiles)
    expected = {"zookeeper", "kafka", "topic-init"}
    if "ui" in profiles:
        expected.add("kafka-ui")
    if "schema" in profiles:
        expected.add("schema-registry")
    assert resolved["name"] == "dreamscape"
    assert set(resolved["services"]) == expected


@pytest.mark.parametrize("profiles", PROFILE_COMBINATIONS, ids=lambda p: "+".join(p) or "default")
def test_ports_bind_to_localhost_by_default(config: Config, profiles: tuple[str, ...]) -> None:
    for name, service in config(profiles)["services"].items():
        ports = service.get("ports", [])
        if name == "topic-init":
            assert ports == []
            continue
        assert [(p["host_ip"], int(p["published"]), p["target"], p["protocol"]) for p in ports] == [
            ("127.0.0.1", HOST_PORTS[name], TARGET_PORTS[name], "tcp")
        ], name


@pytest.mark.parametrize("profiles", PROFILE_COMBINATIONS, ids=lambda p: "+".join(p) or "default")
def test_healthchecks_and_dependencies(config: Config, profiles: tuple[str, ...]) -> None:
    services = config(profiles)["services"]
    for name, service in services.items():
        if name in LONG_RUNNING:
            assert service["healthcheck"]["test"][0] == "CMD-SHELL", name
        else:
            assert "healthcheck" not in service, name
    depends = {
        name: {dep: d["condition"] for dep, d in (service.get("depends_on") or {}).items()}
        for name, service in services.items()
    }
    expected = {
        "zookeeper": {},
        "kafka": {"zookeeper": "service_healthy"},
        "topic-init": {"kafka": "service_healthy"},
        "kafka-ui": {"kafka": "service_healthy"},
        "schema-registry": {"kafka": "service_healthy"},
    }
    assert depends == {name: expected[name] for name in services}


# -- the services' settings (with every profile active) ---------------------------------------


def test_profiles_of_each_service(config: Config) -> None:
    services = config(("ui", "schema"))["services"]
    assert {name: s.get("profiles", []) for name, s in services.items()} == {
        "zookeeper": [],
        "kafka": [],
        "topic-init": [],
        "kafka-ui": ["ui"],
        "schema-registry": ["schema"],
    }


def test_runtime_service_names_match_the_file(config: Config) -> None:
    services = config(("ui", "schema"))["services"]
    assert set(docker_runtime.ALL_SERVICES) == set(services)
    for profile, names in docker_runtime.PROFILE_SERVICES.items():
        for name in names:
            assert services[name]["profiles"] == [profile]


def test_the_services_up_waits_through_restarts_have_a_restart_policy(config: Config) -> None:
    """`up` waits through exits of these (runtime/docker.py): docker must really restart them."""
    services = config(("ui", "schema"))["services"]
    restarting = {name for name, s in services.items() if s.get("restart") == "on-failure"}
    assert restarting == docker_runtime.RESTARTING_SERVICES


def test_kafka_listeners(config: Config) -> None:
    kafka = config(("ui", "schema"))["services"]["kafka"]
    env = _env(kafka)
    assert (
        env["KAFKA_LISTENERS"]
        == "INTERNAL://0.0.0.0:29092,EXTERNAL://0.0.0.0:19092,LOCAL://0.0.0.0:9092"
    )
    assert (
        env["KAFKA_ADVERTISED_LISTENERS"]
        == "INTERNAL://kafka:29092,EXTERNAL://localhost:9092,LOCAL://localhost:9092"
    )
    assert (
        env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
        == "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,LOCAL:PLAINTEXT"
    )
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "INTERNAL"
    assert env["KAFKA_ZOOKEEPER_CONNECT"] == "zookeeper:2181"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "1"
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
    # JMX makes every in-container tool (the healthcheck included) fight over the port.
    assert not [k for k in env if "JMX" in k]
    assert kafka["restart"] == "on-failure"
    healthcheck = " ".join(kafka["healthcheck"]["test"])
    assert "kafka-broker-api-versions" in healthcheck
    assert "kafka:29092" in healthcheck


def test_zookeeper(config: Config) -> None:
    zookeeper = config()["services"]["zookeeper"]
    assert _env(zookeeper)["ZOOKEEPER_CLIENT_PORT"] == "2181"
    assert "srvr" in " ".join(zookeeper["healthcheck"]["test"])
    assert "srvr" in _env(zookeeper)["KAFKA_OPTS"]  # whitelisted four-letter word


def test_named_volumes_for_zookeeper_and_kafka(config: Config) -> None:
    resolved = config(("ui", "schema"))
    assert {k: v["name"] for k, v in resolved["volumes"].items()} == {
        "zookeeper-data": "dreamscape_zookeeper-data",
        "zookeeper-log": "dreamscape_zookeeper-log",
        "kafka-data": "dreamscape_kafka-data",
    }

    def mounts(name: str) -> list[tuple[str, str, str]]:
        return [
            (v["type"], v["source"], v["target"]) for v in resolved["services"][name]["volumes"]
        ]

    assert mounts("zookeeper") == [
        ("volume", "zookeeper-data", "/var/lib/zookeeper/data"),
        ("volume", "zookeeper-log", "/var/lib/zookeeper/log"),
    ]
    assert mounts("kafka") == [("volume", "kafka-data", "/var/lib/kafka/data")]
    assert "volumes" not in resolved["services"]["kafka-ui"]
    assert "volumes" not in resolved["services"]["schema-registry"]


def test_topic_init_runs_our_sync_on_the_mounted_topics_file(config: Config) -> None:
    topic_init = config()["services"]["topic-init"]
    assert topic_init["command"] == ["--topics-file", "/config/topics.yaml", "topics", "sync"]
    assert topic_init.get("entrypoint") is None  # the image's: dreamscape-infra
    assert _env(topic_init) == {"KAFKA_BROKERS": "kafka:29092"}
    assert topic_init["restart"] == "no"
    assert topic_init["build"] == {
        "context": str(REPO),
        "dockerfile": "docker/Dockerfile",
        "args": {"PYTHON_IMAGE": "python:3.11-slim"},
    }
    assert topic_init["image"] == "dreamscape/topic-init:local"
    assert topic_init["volumes"] == [
        {
            "type": "bind",
            "source": str(REPO / "topics.yaml"),
            "target": "/config/topics.yaml",
            "read_only": True,
        }
    ]


def test_kafka_ui_and_schema_registry(config: Config) -> None:
    services = config(("ui", "schema"))["services"]
    ui = _env(services["kafka-ui"])
    assert ui["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"] == "kafka:29092"
    assert ui["KAFKA_CLUSTERS_0_SCHEMAREGISTRY"] == "http://schema-registry:8081"
    assert "8080" in " ".join(services["kafka-ui"]["healthcheck"]["test"])
    registry = _env(services["schema-registry"])
    assert registry["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"] == "PLAINTEXT://kafka:29092"
    assert registry["SCHEMA_REGISTRY_LISTENERS"] == "http://0.0.0.0:8081"
    assert services["schema-registry"]["restart"] == "on-failure"
    assert "8081" in " ".join(services["schema-registry"]["healthcheck"]["test"])


def test_images_are_pinned(config: Config) -> None:
    services = config(("ui", "schema"))["services"]
    cp = {name: services[name]["image"] for name in ("zookeeper", "kafka", "schema-registry")}
    assert cp == {
        "zookeeper": "confluentinc/cp-zookeeper:7.7.1",
        "kafka": "confluentinc/cp-kafka:7.7.1",
        "schema-registry": "confluentinc/cp-schema-registry:7.7.1",
    }
    assert services["kafka-ui"]["image"] == "kafbat/kafka-ui:v1.2.0"


def test_environment_overrides(config: Config) -> None:
    resolved = config(
        ("ui",),
        {
            "DREAMSCAPE_BIND": "0.0.0.0",
            "KAFKA_ADVERTISED_HOST": "devbox.internal",
            "CP_VERSION": "7.8.0",
            "KAFKA_UI_VERSION": "v1.1.0",
        },
    )
    services = resolved["services"]
    assert {p["host_ip"] for s in services.values() for p in s.get("ports", [])} == {"0.0.0.0"}
    assert (
        _env(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
        == "INTERNAL://kafka:29092,EXTERNAL://devbox.internal:9092,LOCAL://localhost:9092"
    )
    assert services["kafka"]["image"] == "confluentinc/cp-kafka:7.8.0"
    assert services["zookeeper"]["image"] == "confluentinc/cp-zookeeper:7.8.0"
    assert services["kafka-ui"]["image"] == "kafbat/kafka-ui:v1.1.0"


def test_host_ports_are_variables_and_the_containers_keep_theirs(config: Config) -> None:
    resolved = config(
        ("ui", "schema"),
        {
            "DREAMSCAPE_KAFKA_PORT": "29999",
            "DREAMSCAPE_ZK_PORT": "22181",
            "DREAMSCAPE_KAFKA_UI_PORT": "28080",
            "DREAMSCAPE_SCHEMA_REGISTRY_PORT": "28081",
        },
    )
    services = resolved["services"]
    published = {
        name: [(int(p["published"]), p["target"]) for p in s.get("ports", [])]
        for name, s in services.items()
    }
    assert published == {
        "zookeeper": [(22181, 2181)],
        "kafka": [(29999, 19092)],
        "kafka-ui": [(28080, 8080)],
        "schema-registry": [(28081, 8081)],
        "topic-init": [],
    }
    # host clients are told the host port; tools inside the container keep localhost:9092
    assert (
        _env(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
        == "INTERNAL://kafka:29092,EXTERNAL://localhost:29999,LOCAL://localhost:9092"
    )


def test_every_image_is_a_variable(config: Config) -> None:
    resolved = config(
        ("ui", "schema"),
        {
            "DREAMSCAPE_ZOOKEEPER_IMAGE": "ci/zookeeper:1",
            "DREAMSCAPE_KAFKA_IMAGE": "ci/kafka:1",
            "DREAMSCAPE_SCHEMA_REGISTRY_IMAGE": "ci/schema-registry:1",
            "DREAMSCAPE_KAFKA_UI_IMAGE": "ci/kafka-ui:1",
            "DREAMSCAPE_TOPIC_INIT_IMAGE": "ci/topic-init:1",
            "DREAMSCAPE_PYTHON_IMAGE": "ci/python:3.11",
        },
    )
    services = resolved["services"]
    assert {name: s["image"] for name, s in services.items()} == {
        "zookeeper": "ci/zookeeper:1",
        "kafka": "ci/kafka:1",
        "schema-registry": "ci/schema-registry:1",
        "kafka-ui": "ci/kafka-ui:1",
        "topic-init": "ci/topic-init:1",
    }
    assert services["topic-init"]["build"]["args"] == {"PYTHON_IMAGE": "ci/python:3.11"}
