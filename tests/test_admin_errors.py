"""ConfluentAdmin's error reporting without a broker: an error from librdkafka's error_cb
explains one failure, and an unreachable broker is one line, fast.

No broker: the client talks to a socket that accepts connections and never answers, so
librdkafka itself reports nothing while the test runs; the errors are real `KafkaError`s
handed to the adapter's error callback, the way librdkafka hands them.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import ExitCode
from dreamscape_infra.kafka.admin import ConfluentAdmin
from dreamscape_infra.settings import ConnectionSettings

SMALL = str(Path(__file__).resolve().parent / "fixtures" / "topics-small.yaml")


@pytest.fixture
def silent_admin() -> Iterator[ConfluentAdmin]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)  # the kernel accepts; nobody ever answers
        port = server.getsockname()[1]
        yield ConfluentAdmin(ConnectionSettings(brokers=(f"127.0.0.1:{port}",)), timeout_s=30)


def test_an_authentication_error_is_reported_once_not_for_every_later_failure(
    silent_admin: ConfluentAdmin,
) -> None:
    from confluent_kafka import KafkaError

    silent_admin._on_error(KafkaError(KafkaError._AUTHENTICATION, "SASL authentication error"))
    first = silent_admin._refused(0)
    assert first is not None
    assert "refused the credentials" in first.message
    # A later failure of the same client (a timeout, say) is not blamed on the old login error.
    assert silent_admin._refused(0) is None
    assert "not reachable" in silent_admin._unreachable().message


def test_a_tls_error_is_reported_once(silent_admin: ConfluentAdmin) -> None:
    from confluent_kafka import KafkaError

    silent_admin._on_error(KafkaError(KafkaError._SSL, "SSL handshake failed"))
    first = silent_admin._unreachable()
    assert "TLS handshake" in first.message
    assert "not reachable" in silent_admin._unreachable().message


def test_unreachable_broker_is_one_line_within_bounded_time() -> None:
    # Needs no broker (nothing listens on port 1), so it is not marked kafka.
    state = AppState(environ={"KAFKA_BROKERS": "127.0.0.1:1"}, interactive=False)
    started = time.monotonic()
    result = CliRunner().invoke(app, ["--topics-file", SMALL, "topics", "plan"], obj=state)
    elapsed = time.monotonic() - started
    assert result.exit_code == ExitCode.ENVIRONMENT
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: Kafka is not reachable at 127.0.0.1:1")
    assert "KAFKA_BROKERS" in lines[1]
    assert elapsed < 5  # a refused connection fails fast; a silent host waits 10 s at most
