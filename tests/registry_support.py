"""The real Schema Registry for the tests: Apicurio Registry started by the local runtime
(`up --profile schema`), beside a real broker, on free ports in a temporary state folder."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.runtime.apicurio import PORT_ENV, is_complete, version_folder
from dreamscape_infra.runtime.base import UpOptions, no_progress
from dreamscape_infra.runtime.local import LocalRuntime
from tests.kafka_support import free_port_block, free_ports, require_local_kafka, skip_or_fail

START_TIMEOUT_S = 180.0


def require_registry() -> None:
    """Skip (or fail in CI) without Java, the Kafka jars or the fetched registry."""
    require_local_kafka(kraft=False)
    if not is_complete(version_folder(os.environ)):
        skip_or_fail(
            f"Apicurio Registry is not in {version_folder(os.environ)}: run "
            "`dreamscape-infra runtime fetch --schema-registry` (or `make kafka-dist`)"
        )


def stack_env(state_dir: Path) -> dict[str, str]:
    """The environment of a local stack with a registry on free ports in `state_dir`."""
    zk_port, controller_port, registry_port = free_ports(3)
    kafka_port = free_port_block(1)
    while kafka_port in (zk_port, controller_port, registry_port):
        kafka_port = free_port_block(1)
    return {
        **os.environ,
        "DREAMSCAPE_STATE_DIR": str(state_dir),
        "DREAMSCAPE_ZK_PORT": str(zk_port),
        "DREAMSCAPE_KAFKA_PORT": str(kafka_port),
        "DREAMSCAPE_CONTROLLER_PORT": str(controller_port),
        PORT_ENV: str(registry_port),
        "DREAMSCAPE_KAFKA_HEAP": "384m",
    }


@dataclass(frozen=True, slots=True)
class RegistryStack:
    env: Mapping[str, str]
    bootstrap: str
    url: str  # the Confluent-compatible base URL (SCHEMA_REGISTRY_URL)


@contextmanager
def registry_stack(state_dir: Path) -> Iterator[RegistryStack]:
    """Kafka + the registry through the local runtime; stopped and removed afterwards."""
    require_registry()
    env = stack_env(state_dir)
    runtime = LocalRuntime(env=env)
    try:
        try:
            result = runtime.up(
                UpOptions(profiles=("schema",), timeout_s=START_TIMEOUT_S), no_progress
            )
        except EnvironmentFailure as exc:
            import pytest

            pytest.fail(f"{exc.message}: {exc.details}", pytrace=False)
        (url,) = (u for label, u in result.status.urls if label == "Schema Registry")
        yield RegistryStack(env, result.status.bootstrap_servers, url)
    finally:
        runtime.down(remove_data=True, progress=no_progress)
