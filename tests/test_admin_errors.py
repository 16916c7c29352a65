"""ConfluentAdmin's error reporting: an error from librdkafka's error_cb explains one failure.

No broker: the client talks to a socket that accepts connections and never answers, so
librdkafka itself reports nothing while the test runs; the errors are real `KafkaError`s
handed to the adapter's error callback, the way librdkafka hands them.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from dreamscape_infra.kafka.admin import ConfluentAdmin
from dreamscape_infra.settings import ConnectionSettings


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
    assert "refused authentication" in first.message
    # A later failure of the same client (a timeout, say) is not blamed on the old login error.
    assert silent_admin._refused(0) is None
    assert "not reachable" in silent_admin._unreachable().message


def test_a_tls_error_is_reported_once(silent_admin: ConfluentAdmin) -> None:
    from confluent_kafka import KafkaError

    silent_admin._on_error(KafkaError(KafkaError._SSL, "SSL handshake failed"))
    first = silent_admin._unreachable()
    assert "TLS handshake" in first.message
    assert "not reachable" in silent_admin._unreachable().message
