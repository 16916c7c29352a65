"""Real Kafka for the tests: brokers started through the local runtime, on free ports.

Used by the session fixtures in conftest.py (`kafka_cluster`, `kafka_kraft`). Without Java or
the jars the real-Kafka tests are skipped with the reason; with CI=true they fail instead, so
CI never passes by skipping. DREAMSCAPE_TEST_BROKERS (and DREAMSCAPE_TEST_KRAFT_BROKERS for the
KRaft fixture) points the tests at an existing cluster instead of starting one.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.runtime.base import UpOptions, no_progress
from dreamscape_infra.runtime.dist import find_java, find_kafka
from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime
from dreamscape_infra.settings import ConnectionSettings

EXTERNAL_ENV = "DREAMSCAPE_TEST_BROKERS"
EXTERNAL_KRAFT_ENV = "DREAMSCAPE_TEST_KRAFT_BROKERS"
START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class KafkaCluster:
    """A reachable cluster: `bootstrap` is host:port[,host:port], `settings` connects to it."""

    bootstrap: str
    settings: ConnectionSettings
    mode: str  # "zookeeper", "kraft" or "external"
    runtime: LocalRuntime | None = None


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip on a laptop; fail in CI, where a skipped real-Kafka test would hide a broken setup."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: real-Kafka tests must run)", pytrace=False)
    pytest.skip(reason)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def port_block_below_ephemeral(count: int, attempts: int = 200) -> int:
    """A first port of `count` free ports below the kernel's ephemeral range.

    A broker port from the ephemeral range can become the local end of an outgoing
    connection: on Linux, a client that keeps reconnecting to a killed broker's port picks
    consecutive local ports for that destination and, reaching the port itself, connects to
    itself (TCP simultaneous open). The restart then fails with "port in use" (seen in
    test_kraft_recovery_after_the_node_is_killed and the health fault tests).
    """
    import random

    low = 20000
    high = max(low + 1000, _ephemeral_low()) - count
    for _ in range(attempts):
        base = random.randrange(low, high)
        try:
            with ExitStack() as stack:
                for port in range(base, base + count):
                    sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no block of {count} free ports below the ephemeral range")


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports below the ephemeral range (see port_block_below_ephemeral)."""
    ports: list[int] = []
    while len(ports) < count:
        port = port_block_below_ephemeral(1)
        if port not in ports:
            ports.append(port)
    return ports


def free_port_block(count: int, attempts: int = 200) -> int:
    """A first port such that port .. port+count-1 are all free (for multi-broker clusters)."""
    return port_block_below_ephemeral(count, attempts)


def require_local_kafka(kraft: bool) -> None:
    """Skip (or fail in CI) when Java or the needed jars are missing, saying which."""
    try:
        find_java(os.environ)
        find_kafka("kraft" if kraft else "zookeeper", os.environ)
    except EnvironmentFailure as exc:
        skip_or_fail(f"{exc.message}; {exc.hint}" if exc.hint else exc.message)


def local_runtime(state_dir: Path, *, kraft: bool = False, brokers: int = 1) -> LocalRuntime:
    """A LocalRuntime on free ports in `state_dir` (nothing started yet)."""
    zk_port, controller_port = free_ports(2)
    kafka_port = free_port_block(brokers)
    while {zk_port, controller_port} & set(range(kafka_port, kafka_port + brokers)):
        kafka_port = free_port_block(brokers)
    config = LocalConfig(
        state_dir=state_dir,
        zk_port=zk_port,
        kafka_port=kafka_port,
        controller_port=controller_port,
        heap="384m",
    )
    return LocalRuntime(config, env=os.environ)


@contextmanager
def local_cluster(
    state_dir: Path, *, kraft: bool = False, brokers: int = 1
) -> Iterator[KafkaCluster]:
    """Start a cluster through the local runtime, yield it, then stop it and remove its data."""
    require_local_kafka(kraft)
    runtime = local_runtime(state_dir, kraft=kraft, brokers=brokers)
    try:
        try:
            result = runtime.up(
                UpOptions(kraft=kraft, brokers=brokers, timeout_s=START_TIMEOUT_S), no_progress
            )
        except EnvironmentFailure as exc:
            # the logs go with the cluster's folder: say what the JVMs said first
            pytest.fail(format_failure(exc), pytrace=False)
        bootstrap = result.status.bootstrap_servers
        yield KafkaCluster(
            bootstrap=bootstrap,
            settings=ConnectionSettings.plaintext(bootstrap),
            mode="kraft" if kraft else "zookeeper",
            runtime=runtime,
        )
    finally:
        runtime.down(remove_data=True, progress=no_progress)


def external_cluster(bootstrap: str) -> KafkaCluster:
    """An existing cluster named by DREAMSCAPE_TEST_BROKERS (plaintext, no authentication)."""
    settings = ConnectionSettings.plaintext(bootstrap)
    return KafkaCluster(settings.bootstrap_servers, settings, "external")


def format_failure(exc: EnvironmentFailure) -> str:
    """An EnvironmentFailure with its log lines, for pytest.fail."""
    lines = [exc.message, *("  | " + d for d in exc.details)]
    if exc.hint:
        lines.append(f"hint: {exc.hint}")
    return "\n".join(lines)
