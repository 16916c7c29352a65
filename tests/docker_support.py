"""A real Docker engine for the `docker` tests: the daemon, compose v2, the images, free ports.

The tests run the repository's own docker/docker-compose.kafka.yml on whatever daemon answers
(DOCKER_HOST, else the default socket): CI starts one with `make docker-engine` and builds the
local stand-in images with `make docker-images` (.ci/run). Without a daemon, compose or the
images the tests are skipped with the reason; with CI=true they fail instead (skip_or_fail).

The stack's container names are fixed (`dreamscape-kafka`: the seed's `docker exec` commands),
so one daemon runs one such stack. A `dreamscape` stack or its volumes already there belong to
someone: the tests refuse to replace them unless DREAMSCAPE_DOCKER_TESTS_MAY_RESET=1 says that
the daemon is a scratch one (CI's own engine).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.kafka_support import free_ports, skip_or_fail

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker" / "docker-compose.kafka.yml"
COMPOSE_BIN = REPO / ".tools" / "bin" / "docker-compose"
MAY_RESET_ENV = "DREAMSCAPE_DOCKER_TESTS_MAY_RESET"
PROJECT = "dreamscape"
VOLUMES = ("dreamscape_zookeeper-data", "dreamscape_zookeeper-log", "dreamscape_kafka-data")
# Variables of the compose file a developer's shell might set; the tests choose their own.
_PORT_VARS = (
    "DREAMSCAPE_KAFKA_PORT",
    "DREAMSCAPE_ZK_PORT",
    "DREAMSCAPE_KAFKA_UI_PORT",
    "DREAMSCAPE_SCHEMA_REGISTRY_PORT",
)
_CLEARED = (
    *_PORT_VARS,
    "DREAMSCAPE_BIND",
    "KAFKA_ADVERTISED_HOST",
    "KAFKA_BROKERS",
    "DREAMSCAPE_RUNTIME",
    "DREAMSCAPE_COMPOSE_FILE",
    "DREAMSCAPE_TOPICS_FILE",
    "DREAMSCAPE_ENV",
    "COMPOSE_PROJECT_NAME",
    "COMPOSE_PROFILES",
    "COMPOSE_FILE",
)


@dataclass(frozen=True)
class DockerStack:
    """Where the tests' stack runs: the environment every docker and CLI call gets."""

    env: Mapping[str, str]
    kafka_port: int
    state_dir: Path
    images: Mapping[str, str] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return f"localhost:{self.kafka_port}"

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 120,
        env: Mapping[str, str] | None = None,
        cwd: Path = REPO,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**self.env, **(env or {})},
            cwd=cwd,
            check=False,
        )

    def cli(
        self, *args: str, timeout: float = 300, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """This checkout's CLI (PYTHONPATH is the repository) in a fresh process."""
        return self.run([sys.executable, "-m", "dreamscape_infra", *args], timeout=timeout, env=env)

    def docker(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.run(["docker", *args], timeout=timeout)

    def compose(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return self.docker("compose", "--file", str(COMPOSE_FILE), *args, timeout=timeout)


def _answers(env: Mapping[str, str]) -> str | None:
    """None when the daemon answers, else what the client said."""
    try:
        done = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=15,
            env=dict(env),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0 and done.stdout.strip():
        return None
    said = (done.stderr or done.stdout).strip().splitlines()
    return said[0] if said else f"docker version: exit {done.returncode}"


def _with_compose(env: dict[str, str], config_dir: Path) -> None:
    """Make `docker compose` work: the client's own plugin, else .tools/bin's binary linked in a
    DOCKER_CONFIG of the tests' own (never the user's ~/.docker)."""
    probe = subprocess.run(
        ["docker", "compose", "version", "--short"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    if probe.returncode == 0 and probe.stdout.strip().lstrip("v").startswith("2."):
        return
    if not COMPOSE_BIN.is_file():
        skip_or_fail("docker compose v2 is missing: run `make compose-bin`")
    plugins = config_dir / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    (plugins / "docker-compose").symlink_to(COMPOSE_BIN)
    env["DOCKER_CONFIG"] = str(config_dir)


def _resolved_images(env: Mapping[str, str]) -> dict[str, str]:
    done = subprocess.run(
        ["docker", "compose", "--file", str(COMPOSE_FILE), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(env),
        cwd=REPO,
        check=False,
    )
    if done.returncode != 0:
        skip_or_fail(f"docker compose config failed: {done.stderr.strip()[-500:]}")
    services = json.loads(done.stdout)["services"]
    return {name: str(service["image"]) for name, service in services.items()}


def _leftovers(env: Mapping[str, str]) -> list[str]:
    """The containers and volumes of a `dreamscape` stack already on this daemon."""
    found: list[str] = []
    for args in (
        [
            "ps",
            "-a",
            "--filter",
            f"label=com.docker.compose.project={PROJECT}",
            "--format",
            "{{.Names}}",
        ],
        [
            "volume",
            "ls",
            "--filter",
            f"label=com.docker.compose.project={PROJECT}",
            "--format",
            "{{.Name}}",
        ],
    ):
        done = subprocess.run(
            ["docker", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(env),
            check=False,
        )
        found += [line for line in done.stdout.splitlines() if line.strip()]
    return found


def remove_stack(stack: DockerStack) -> None:
    """Containers (one-off topic-init runs too), network and volumes of the tests' stack."""
    stack.compose("--profile", "ui", "--profile", "schema", "down", "-v", "--remove-orphans")
    names = stack.docker(
        "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}"
    ).stdout.split()
    if names:
        stack.docker("rm", "-f", *names)
    stack.docker("volume", "rm", "-f", *VOLUMES)


def docker_stack(tmp: Path) -> Iterator[DockerStack]:
    """The module fixture's body: checks, an environment on free ports, and a clean teardown."""
    if shutil.which("docker") is None:
        skip_or_fail("no docker client on PATH (apt-get install docker.io)")
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
    )
    problem = _answers(env)
    if problem is not None:
        skip_or_fail(f'no Docker daemon answers ({problem}): run `eval "$(make -s docker-engine)"`')
    _with_compose(env, tmp / "docker-config")
    ports = free_ports(len(_PORT_VARS))
    env.update({var: str(port) for var, port in zip(_PORT_VARS, ports, strict=True)})
    kafka_port = ports[0]
    env["KAFKA_BROKERS"] = f"localhost:{kafka_port}"
    state_dir = tmp / "local-state"  # empty: --runtime auto finds no local stack here
    state_dir.mkdir()
    env["DREAMSCAPE_STATE_DIR"] = str(state_dir)
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"

    images = _resolved_images(env)
    missing = [
        image
        for service, image in images.items()
        if service in ("zookeeper", "kafka", "topic-init")
        and image.startswith("dreamscape-ci/")
        and subprocess.run(
            ["docker", "image", "inspect", image], capture_output=True, env=env, check=False
        ).returncode
        != 0
    ]
    if missing:
        skip_or_fail(
            f'the images {", ".join(missing)} are not built: run `eval "$(make -s docker-images)"`'
        )
    leftovers = _leftovers(env)
    stack = DockerStack(env=env, kafka_port=kafka_port, state_dir=state_dir, images=images)
    if leftovers:
        if env.get(MAY_RESET_ENV) != "1":
            skip_or_fail(
                "a dreamscape stack is already on this Docker daemon ("
                + ", ".join(leftovers[:6])
                + f"): the tests would replace it; set {MAY_RESET_ENV}=1 if it may go"
            )
        remove_stack(stack)
    try:
        yield stack
    finally:
        remove_stack(stack)
