"""Session fixtures: one real ZooKeeper-mode cluster (Kafka 3.9) and one KRaft node (Kafka 4.x).

Both are started lazily, only when a test asks for them, and shared by every test of the run;
tests isolate themselves by topic prefix. See tests/kafka_support.py for the skip/fail rules and
the DREAMSCAPE_TEST_BROKERS override.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from dreamscape_infra.errors import EnvironmentFailure
from tests.kafka_support import (
    EXTERNAL_ENV,
    EXTERNAL_KRAFT_ENV,
    KafkaCluster,
    external_cluster,
    format_failure,
    local_cluster,
)


def _cluster(
    tmp_path_factory: pytest.TempPathFactory, *, kraft: bool, external: str | None
) -> Iterator[KafkaCluster]:
    if external:
        yield external_cluster(external)
        return
    state_dir = tmp_path_factory.mktemp("kafka-kraft" if kraft else "kafka-zk")
    try:
        with local_cluster(state_dir, kraft=kraft) as cluster:
            yield cluster
    except EnvironmentFailure as exc:
        pytest.fail(format_failure(exc), pytrace=False)


@pytest.fixture(scope="session")
def kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """A ZooKeeper-mode broker (Kafka 3.9) on free ports, shared by the whole session."""
    yield from _cluster(tmp_path_factory, kraft=False, external=os.environ.get(EXTERNAL_ENV))


@pytest.fixture(scope="session")
def kafka_kraft(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """A combined KRaft broker+controller (Kafka 4.x) on free ports, shared by the session."""
    external = os.environ.get(EXTERNAL_KRAFT_ENV) or os.environ.get(EXTERNAL_ENV)
    yield from _cluster(tmp_path_factory, kraft=True, external=external)
