"""The compose stack on a real Docker engine: `--runtime docker` and the seed's own commands.

One stack for the module, driven through this checkout's CLI in fresh processes on free host
ports (tests/docker_support.py); the tests run in the order written, each leaving the stack
up and healthy for the next. In CI the images are the local stand-ins `make docker-images`
builds (docs/docker-stack.md); on a laptop with registry access, whatever the compose file
names. Marked `compose` too: they need the real compose v2, so the unit tier leaves them out.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dreamscape_infra.runtime.docker import LIFE_FORMAT, container_lives
from tests.docker_shapes import (
    RECORDED_PS,
    RECORDED_UP,
    entries,
    progress_lines,
    recorded,
    recorded_up,
    shape,
)
from tests.docker_support import COMPOSE_FILE, REPO, VOLUMES, DockerStack, docker_stack

pytestmark = [pytest.mark.docker, pytest.mark.compose, pytest.mark.timeout(600)]

TOPIC = "dreamscape.user.created"
EXTRA = "dreamscape-test.docker.extra"
REFUSED = "dreamscape.user.refused"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerStack]:
    yield from docker_stack(tmp_path_factory.mktemp("docker-stack"))


def _declared() -> set[str]:
    loaded = yaml.safe_load((REPO / "topics.yaml").read_text(encoding="utf-8"))
    return {str(t["name"]) for t in loaded["topics"]}


def _ok(done: object, what: str) -> None:
    assert getattr(done, "returncode", None) == 0, (
        f"{what}: exit {getattr(done, 'returncode', None)}\n"
        f"stdout:\n{getattr(done, 'stdout', '')}\nstderr:\n{getattr(done, 'stderr', '')}"
    )


def _topics_in_container(stack: DockerStack) -> set[str]:
    """The seed's command, as written (in the container, on its own localhost:9092)."""
    done = stack.docker(
        "exec", "dreamscape-kafka", "kafka-topics", "--list", "--bootstrap-server", "localhost:9092"
    )
    _ok(done, "kafka-topics --list")
    return {line.strip() for line in done.stdout.splitlines() if line.strip()}


def _consume(stack: DockerStack, topic: str, *, timeout_ms: int = 8000) -> str:
    done = stack.docker(
        "exec",
        "dreamscape-kafka",
        "kafka-console-consumer",
        "--bootstrap-server",
        "localhost:9092",
        "--topic",
        topic,
        "--from-beginning",
        "--timeout-ms",
        str(timeout_ms),
    )
    # exits 0 once --timeout-ms passes without a new message
    _ok(done, "kafka-console-consumer")
    return done.stdout


def _produce(stack: DockerStack, marker: str) -> None:
    done = stack.cli(
        "events",
        "produce",
        TOPIC,
        "--source",
        "docker-test",
        "--correlation-id",
        marker,
        "--payload",
        json.dumps(
            {
                "userId": f"user-{marker}",
                "email": f"{marker}@example.test",
                "firstName": "Docker",
                "lastName": "Test",
            }
        ),
    )
    _ok(done, "events produce")


def _status(stack: DockerStack) -> tuple[int, dict[str, dict[str, str]]]:
    done = stack.cli("status", "--runtime", "docker", "--output", "json", timeout=60)
    document = json.loads(done.stdout)
    return done.returncode, {s["name"]: s for s in document["services"]}


def _up(stack: DockerStack, *args: str) -> None:
    done = stack.cli("up", "--runtime", "docker", *args, timeout=420)
    _ok(done, "up --runtime docker")


def test_up_waits_until_healthy_and_topic_init_syncs(stack: DockerStack) -> None:
    assert _topics_in_container_absent(stack)
    done = stack.cli("up", "--runtime", "docker", timeout=420)
    _ok(done, "up --runtime docker")
    # compose's health states, as `up` reported them on its way
    assert re.search(r"kafka: healthy", done.stderr), done.stderr
    assert "topic-init: done" in done.stderr, done.stderr
    assert f"Kafka is ready at {stack.bootstrap}" in done.stdout + done.stderr
    code, services = _status(stack)
    assert code == 0
    assert (services["zookeeper"]["state"], services["zookeeper"]["health"]) == (
        "running",
        "healthy",
    )
    assert (services["kafka"]["state"], services["kafka"]["health"]) == ("running", "healthy")
    # topic-init ran in its own container (removed after), with this project's sync: the host
    # only checked. Every declared topic is there and as declared, seen from the host.
    assert not stack.docker("ps", "-aq", "--filter", "name=topic-init").stdout.strip()
    assert _declared() <= _topics_in_container(stack)
    plan = stack.cli("topics", "plan", "--detailed-exitcode", timeout=120)
    _ok(plan, "topics plan --detailed-exitcode")


def _topics_in_container_absent(stack: DockerStack) -> bool:
    """Before the first `up`: no kafka container yet (the fixture removed any stack)."""
    return not stack.docker("ps", "-aq", "--filter", "name=dreamscape-kafka").stdout.strip()


def test_status_and_logs_on_the_real_daemon(stack: DockerStack) -> None:
    done = stack.cli("status", "--runtime", "docker", timeout=60)
    _ok(done, "status")
    rows = {line.split("\t")[0]: line.split("\t") for line in done.stdout.splitlines()}
    assert rows["zookeeper"][1:3] == ["running", "healthy"], done.stdout
    assert rows["kafka"][1:3] == ["running", "healthy"], done.stdout
    assert f"127.0.0.1:{stack.kafka_port}->19092/tcp" in rows["kafka"][4]
    assert f"bootstrap servers: {stack.bootstrap}" in done.stdout
    logs = stack.cli("logs", "kafka", "--runtime", "docker", timeout=60)
    _ok(logs, "logs kafka")
    lines = logs.stdout.splitlines()
    assert lines, logs.stderr
    assert all(line.startswith("dreamscape-kafka") for line in lines), lines[:5]
    started = [line for line in lines if "started (kafka.server.KafkaServer)" in line]
    assert started, "\n".join(lines[:40])
    tail = stack.cli("logs", "kafka", "--runtime", "docker", "--tail", "5", timeout=60)
    _ok(tail, "logs kafka --tail 5")
    assert len(tail.stdout.splitlines()) == 5


def test_compose_ps_has_the_recorded_shape(stack: DockerStack) -> None:
    """What the shim answers (tests/test_docker_shim_shapes.py) is what this daemon prints."""
    done = stack.compose("ps", "--all", "--format", "json")
    _ok(done, "compose ps")
    live = {entry["Service"]: entry for entry in entries(done.stdout)}
    if os.environ.get("DREAMSCAPE_RECORD_COMPOSE_PS") == "1":
        RECORDED_PS.parent.mkdir(parents=True, exist_ok=True)
        RECORDED_PS.write_text(done.stdout, encoding="utf-8")
    known = {entry["Service"]: entry for entry in recorded()}
    assert set(live) == set(known) == {"zookeeper", "kafka"}
    for service, entry in live.items():
        assert shape(entry) == shape(known[service]), service
        assert entry["Name"] == known[service]["Name"] == f"dreamscape-{service}"


def test_compose_up_progress_has_the_recorded_shape(stack: DockerStack) -> None:
    """The lines `up` reports its progress from, as this daemon prints them for the stack."""
    done = stack.compose("up", "--detach", "--wait", "zookeeper", "kafka")
    _ok(done, "compose up --wait")
    live = progress_lines(done.stderr)
    if os.environ.get("DREAMSCAPE_RECORD_COMPOSE_PS") == "1":
        RECORDED_UP.write_text(done.stderr, encoding="utf-8")
    assert set(live) == set(recorded_up()), done.stderr
    assert {name for name, _ in live} == {"dreamscape-zookeeper", "dreamscape-kafka"}


def test_the_seeds_docker_commands_as_written(stack: DockerStack) -> None:
    ps = stack.run(["bash", "-c", "docker ps | grep dreamscape"])
    _ok(ps, "docker ps | grep dreamscape")
    assert "dreamscape-kafka" in ps.stdout
    assert "dreamscape-zookeeper" in ps.stdout
    topics = _topics_in_container(stack)
    assert topics >= _declared()
    assert len(_declared()) == 32
    groups = stack.docker(
        "exec",
        "dreamscape-kafka",
        "kafka-consumer-groups",
        "--bootstrap-server",
        "localhost:9092",
        "--list",
    )
    _ok(groups, "kafka-consumer-groups --list")
    marker = secrets.token_hex(6)
    _produce(stack, marker)
    assert marker in _consume(stack, TOPIC)


def test_a_killed_broker_is_seen_and_up_brings_it_back(stack: DockerStack) -> None:
    _ok(stack.docker("kill", "dreamscape-kafka"), "docker kill")
    started = time.monotonic()
    code, services = _status(stack)
    elapsed = time.monotonic() - started
    assert code == 4, services
    assert services["kafka"]["state"] == "exited"
    assert elapsed < 15, f"status took {elapsed:.1f}s"
    _up(stack)
    # what `up` told docker's restarts by, as this daemon answers it
    inspect = stack.docker(
        "inspect", "--format", LIFE_FORMAT, "dreamscape-zookeeper", "dreamscape-kafka"
    )
    _ok(inspect, "docker inspect")
    lives = container_lives(inspect.stdout)
    assert set(lives) == {"zookeeper", "kafka"}, inspect.stdout
    assert lives["kafka"].status == "running", inspect.stdout
    health = stack.cli("health", timeout=120)
    _ok(health, "health")
    assert "UP" in health.stdout, health.stdout


def test_down_then_up_keeps_topics_and_events(stack: DockerStack) -> None:
    create = stack.docker(
        "exec",
        "dreamscape-kafka",
        "kafka-topics",
        "--create",
        "--topic",
        EXTRA,
        "--partitions",
        "1",
        "--bootstrap-server",
        "localhost:9092",
    )
    _ok(create, "kafka-topics --create")
    marker = secrets.token_hex(6)
    _produce(stack, marker)
    down = stack.cli("down", "--runtime", "docker", timeout=180)
    _ok(down, "down")
    assert not stack.docker("ps", "-aq", "--filter", "name=dreamscape-").stdout.strip()
    volumes = set(stack.docker("volume", "ls", "--format", "{{.Name}}").stdout.split())
    assert set(VOLUMES) <= volumes
    _up(stack)
    assert EXTRA in _topics_in_container(stack)
    assert marker in _consume(stack, TOPIC)


def test_runtime_auto_picks_the_answering_daemon(stack: DockerStack) -> None:
    done = stack.cli("status", timeout=60)  # no --runtime, no DREAMSCAPE_RUNTIME: auto
    _ok(done, "status (auto)")
    assert "runtime: docker (auto: a Docker daemon answers)" in done.stderr, done.stderr
    assert "kafka\trunning\thealthy" in done.stdout


def test_down_v_wipes_topics_and_events(stack: DockerStack) -> None:
    marker = secrets.token_hex(6)
    _produce(stack, marker)
    down = stack.cli("down", "-v", "--yes", "--runtime", "docker", timeout=180)
    _ok(down, "down -v --yes")
    volumes = set(stack.docker("volume", "ls", "--format", "{{.Name}}").stdout.split())
    assert not set(VOLUMES) & volumes, volumes
    _up(stack)
    topics = _topics_in_container(stack)
    assert EXTRA not in topics  # gone with the data; topic-init made the declared ones anew
    assert topics >= _declared()
    assert marker not in _consume(stack, TOPIC, timeout_ms=5000)


def test_a_failing_topic_init_fails_up_with_its_lines(stack: DockerStack, tmp_path: Path) -> None:
    # the same stack from a copy of the compose file whose ../topics.yaml the broker refuses:
    # replication factor 3 on a single broker passes validation and fails at the broker
    copy = tmp_path / "docker" / COMPOSE_FILE.name
    copy.parent.mkdir()
    shutil.copy(COMPOSE_FILE, copy)
    bad = tmp_path / "topics.yaml"
    bad.write_text(
        "version: 1\nprefix: dreamscape.\n"
        "domains:\n  user:\n    owner: user-service\n    description: accounts\n"
        f"topics:\n  - name: {REFUSED}\n    replication_factor: 3\n",
        encoding="utf-8",
    )
    assert stack.cli("-f", str(bad), "topics", "validate").returncode == 0
    done = stack.cli(
        "-f",
        str(bad),
        "up",
        "--runtime",
        "docker",
        timeout=420,
        env={"DREAMSCAPE_COMPOSE_FILE": str(copy)},
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "topic-init failed with exit code" in done.stderr, done.stderr
    # topic-init's own output comes with it
    assert REFUSED in done.stderr, done.stderr
    _code, services = _status(stack)
    assert services["kafka"]["health"] == "healthy"  # the broker is fine: only the sync failed
