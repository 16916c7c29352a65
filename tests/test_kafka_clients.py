"""Kafka clients are closed before the interpreter exits (kafka/clients.py)."""

from __future__ import annotations

import pytest

from dreamscape_infra.kafka import clients
from dreamscape_infra.kafka.admin import ConfluentAdmin
from dreamscape_infra.kafka.events import ConfluentEventWriter
from dreamscape_infra.settings import ConnectionSettings


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.closed = 0
        self.fail = fail

    def close(self) -> None:
        self.closed += 1
        if self.fail:
            raise RuntimeError("close failed")


@pytest.fixture(autouse=True)
def _empty() -> None:
    clients.close_all()


def test_close_all_closes_each_open_client_once_even_when_one_fails() -> None:
    first, failing, last = Recorder(), Recorder(fail=True), Recorder()
    for client in (first, failing, last):
        clients.opened(client)
    assert clients.close_all() == 3
    assert (first.closed, failing.closed, last.closed) == (1, 1, 1)
    assert clients.close_all() == 0  # nothing is closed twice


def test_a_collected_client_is_forgotten() -> None:
    clients.opened(Recorder())  # no other reference: gone at once
    assert clients.close_all() == 0


def test_the_adapters_register_their_clients_and_close_is_idempotent() -> None:
    settings = ConnectionSettings.plaintext("127.0.0.1:1")  # nothing listens: no broker needed
    admin = ConfluentAdmin(settings, timeout_s=1.0)
    writer = ConfluentEventWriter(settings, timeout_s=1.0)
    assert clients.close_all() == 2
    with pytest.raises(RuntimeError, match="closed"):
        admin.describe_cluster()
    writer.close()  # already closed by close_all: nothing happens
