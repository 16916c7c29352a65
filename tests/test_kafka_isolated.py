"""`kafka.isolated`: client calls in a child process that may die, as librdkafka's aborts do.

Real child processes (plain Python, no Kafka): the jobs in tests/isolated_jobs.py answer,
raise, abort with SIGABRT, hang or print, and the parent must turn each into the right value
or error and keep working. serve's use of it against a real broker is in test_health_kafka.py.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamscape_infra.errors import CheckFailed, EnvironmentFailure
from dreamscape_infra.kafka.isolated import ClientCrashed, IsolatedClient, describe_exit
from tests.isolated_jobs import AbortWhileMarked, CountingJob, RaisingJob, SleepOnceJob


@pytest.fixture
def clients() -> Iterator[list[IsolatedClient[object]]]:
    made: list[IsolatedClient[object]] = []
    yield made
    for client in made:
        client.close()


def _client(made: list[IsolatedClient[object]], job: object, **kw: float) -> IsolatedClient[object]:
    client: IsolatedClient[object] = IsolatedClient(job, **kw)  # type: ignore[arg-type]
    made.append(client)
    return client


def test_one_child_holds_its_state_across_calls_and_stray_prints_do_not_corrupt_replies(
    clients: list[IsolatedClient[object]],
) -> None:
    client = _client(clients, CountingJob())
    first = client.call()
    second = client.call()
    assert isinstance(first, tuple)
    assert isinstance(second, tuple)
    assert first[0] == second[0] != os.getpid()  # the same child, not this process
    assert (first[1], second[1]) == (1, 2)
    assert client.starts == 1


def test_a_child_killed_by_sigabrt_is_replaced_and_the_call_answered(
    clients: list[IsolatedClient[object]], tmp_path: Path
) -> None:
    marker = tmp_path / "aborts"
    marker.write_text("1")
    client = _client(clients, AbortWhileMarked(str(marker)))
    assert client.call() == "ok"
    assert (client.starts, client.restarts) == (2, 1)
    assert client.last_exit == "was killed by SIGABRT (a librdkafka assertion)"
    assert client.call() == "ok"  # the new child stays
    assert client.starts == 2


def test_two_deaths_in_one_call_raise_client_crashed_and_the_next_call_starts_afresh(
    clients: list[IsolatedClient[object]], tmp_path: Path
) -> None:
    marker = tmp_path / "aborts"
    marker.write_text("2")
    client = _client(clients, AbortWhileMarked(str(marker)))
    with pytest.raises(ClientCrashed) as caught:
        client.call()
    assert caught.value.message == (
        "the Kafka client process was killed by SIGABRT (a librdkafka assertion), twice in a row"
    )
    assert isinstance(caught.value, EnvironmentFailure)  # exit 4 where it reaches the CLI
    assert client.pid() is None
    assert client.call() == "ok"
    assert client.starts == 3


def test_a_child_killed_from_outside_between_calls_is_replaced(
    clients: list[IsolatedClient[object]],
) -> None:
    client = _client(clients, CountingJob())
    first = client.call()
    assert isinstance(first, tuple)
    os.kill(first[0], signal.SIGKILL)
    time.sleep(0.2)
    second = client.call()
    assert isinstance(second, tuple)
    assert second[0] != first[0]
    assert second[1] == 1
    assert client.last_exit == "was killed by SIGKILL"


def test_our_errors_cross_with_their_class_message_and_hint(
    clients: list[IsolatedClient[object]],
) -> None:
    client = _client(clients, RaisingJob())
    with pytest.raises(CheckFailed) as caught:
        client.call()
    assert (caught.value.message, caught.value.hint) == (
        "lag over the threshold",
        "look at the consumers",
    )
    assert client.starts == 1  # an error is an answer, not a death


def test_a_bug_in_the_child_is_a_runtime_error_with_its_type_and_message(
    clients: list[IsolatedClient[object]],
) -> None:
    client = _client(clients, RaisingJob(bug=True))
    with pytest.raises(RuntimeError, match="ValueError: a bug in the job"):
        client.call()


def test_a_child_that_does_not_answer_in_time_is_stopped_and_replaced(
    clients: list[IsolatedClient[object]], tmp_path: Path
) -> None:
    client = _client(clients, SleepOnceJob(str(tmp_path / "slept"), 30.0), reply_timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(EnvironmentFailure, match=r"gave no answer within 0.5s"):
        client.call()
    assert time.monotonic() - started < 10
    assert client.call() == "awake"
    assert client.starts == 2


def test_ctrl_c_in_the_terminal_does_not_reach_the_child(
    clients: list[IsolatedClient[object]],
) -> None:
    client = _client(clients, CountingJob())
    first = client.call()
    assert isinstance(first, tuple)
    os.kill(first[0], signal.SIGINT)  # what a terminal's Ctrl-C sends the whole group
    time.sleep(0.2)
    assert client.call() == (first[0], 2)


def test_close_stops_the_child(clients: list[IsolatedClient[object]]) -> None:
    client = _client(clients, CountingJob())
    pid = client.call()[0]  # type: ignore[index]
    client.close()
    assert client.pid() is None
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (-6, "was killed by SIGABRT (a librdkafka assertion)"),
        (-9, "was killed by SIGKILL"),
        (1, "exited with code 1"),
        (None, "stopped answering"),
    ],
)
def test_describe_exit(code: int | None, words: str) -> None:
    assert describe_exit(code) == words
