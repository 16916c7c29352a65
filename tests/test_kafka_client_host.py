"""`kafka.client_host`: jobs in a real spawned child that may abort, as librdkafka does, and the
same jobs in this process. The jobs are plain Python (no Kafka) and live here at module level,
where the child can import them. serve's use of it on a real broker is in test_health_kafka.py.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from dreamscape_infra.errors import CheckFailed, EnvironmentFailure
from dreamscape_infra.kafka.client_host import (
    ChildProcess,
    ClientCalls,
    ClientCrashed,
    ClientJob,
    InProcess,
    describe_exit,
)


@contextmanager
def counting(closed_marker: str) -> Iterator[Callable[[], tuple[int, int]]]:
    """Answers (pid, calls so far), printing a stray line each time; marks its closing."""
    calls = [0]

    def call() -> tuple[int, int]:
        calls[0] += 1
        print("a stray line", flush=True)
        return os.getpid(), calls[0]

    try:
        yield call
    finally:
        Path(closed_marker).write_text("closed")


@contextmanager
def aborting_while_marked(marker: str) -> Iterator[Callable[[], str]]:
    """Aborts (SIGABRT, as a librdkafka assertion does) while `marker` holds a positive count,
    counting it down first; answers "ok" once it is zero."""

    def call() -> str:
        path = Path(marker)
        left = int(path.read_text())
        if left > 0:
            path.write_text(str(left - 1))
            os.abort()
        return "ok"

    yield call


@contextmanager
def raising(bug: bool) -> Iterator[Callable[[], str]]:
    def call() -> str:
        if bug:
            raise ValueError("a bug in the job")
        raise CheckFailed("lag over the threshold", hint="look at the consumers")

    yield call


@contextmanager
def sleeping_once(marker: str, seconds: float) -> Iterator[Callable[[], str]]:
    def call() -> str:
        path = Path(marker)
        if not path.exists():
            path.write_text("slept")
            time.sleep(seconds)
        return "awake"

    yield call


@pytest.fixture
def opened() -> Iterator[list[ClientCalls[Any]]]:
    made: list[ClientCalls[Any]] = []
    yield made
    for calls in made:
        calls.close()


def in_child(made: list[ClientCalls[Any]], job: ClientJob[Any], timeout_s: float = 60.0) -> Any:
    calls = ChildProcess(timeout_s).run(job)
    made.append(calls)
    return calls


def test_one_child_keeps_its_clients_across_calls_and_closing_closes_them(
    opened: list[ClientCalls[Any]], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    closed = tmp_path / "closed"
    calls = ChildProcess().run(partial(counting, str(closed)))
    opened.append(calls)
    first, second = calls.call(), calls.call()
    assert first[0] == second[0] != os.getpid()  # the same child, not this process
    assert (first[1], second[1], calls.restarts) == (1, 2, 0)
    out, err = capfd.readouterr()
    assert "a stray line" not in out  # stdout stays ours (`-o json`)
    assert "a stray line" in err
    calls.close()
    assert closed.read_text() == "closed"  # the child left the job's context
    assert not Path(f"/proc/{first[0]}").exists()


def test_a_child_killed_by_an_abort_is_replaced_and_the_call_answered(
    opened: list[ClientCalls[Any]], tmp_path: Path
) -> None:
    marker = tmp_path / "aborts"
    marker.write_text("1")
    calls = in_child(opened, partial(aborting_while_marked, str(marker)))
    assert calls.call() == "ok"
    assert calls.restarts == 1
    assert calls.call() == "ok"
    assert calls.restarts == 1  # the new child stays


def test_two_aborts_in_one_call_are_an_error_and_the_next_call_starts_afresh(
    opened: list[ClientCalls[Any]], tmp_path: Path
) -> None:
    marker = tmp_path / "aborts"
    marker.write_text("2")
    calls: ClientCalls[str] = ChildProcess().run(partial(aborting_while_marked, str(marker)))
    opened.append(calls)
    with pytest.raises(ClientCrashed) as caught:
        calls.call()
    assert caught.value.message == (
        "the Kafka client process was killed by SIGABRT (a librdkafka assertion), twice in a row"
    )
    assert isinstance(caught.value, EnvironmentFailure)  # exit 4 where it reaches the CLI
    assert calls.call() == "ok"
    assert calls.restarts == 2


def test_a_child_killed_from_outside_between_calls_is_replaced(
    opened: list[ClientCalls[Any]], tmp_path: Path
) -> None:
    calls: ClientCalls[tuple[int, int]] = ChildProcess().run(
        partial(counting, str(tmp_path / "closed"))
    )
    opened.append(calls)
    pid, _ = calls.call()
    os.kill(pid, signal.SIGINT)  # a terminal's Ctrl-C goes to the whole group: ignored
    time.sleep(0.2)
    assert calls.call() == (pid, 2)
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    new_pid, count = calls.call()
    assert (new_pid != pid, count, calls.restarts) == (True, 1, 1)


@pytest.mark.parametrize("host", [ChildProcess(), InProcess()], ids=["child", "in-process"])
def test_our_errors_cross_with_their_class_message_and_hint_and_bugs_are_runtime_errors(
    host: ChildProcess | InProcess,
) -> None:
    calls = host.run(partial(raising, False))
    try:
        with pytest.raises(CheckFailed) as caught:
            calls.call()
        assert (caught.value.message, caught.value.hint) == (
            "lag over the threshold",
            "look at the consumers",
        )
        assert calls.restarts == 0  # an error is an answer, not a death
    finally:
        calls.close()
    calls = host.run(partial(raising, True))
    try:
        expected = RuntimeError if isinstance(host, ChildProcess) else ValueError
        with pytest.raises(expected, match="a bug in the job"):
            calls.call()
    finally:
        calls.close()


def test_a_call_past_its_deadline_stops_the_child_and_the_next_call_gets_a_new_one(
    opened: list[ClientCalls[Any]], tmp_path: Path
) -> None:
    # the deadline counts the child's start-up too: long enough for a loaded machine
    calls = in_child(opened, partial(sleeping_once, str(tmp_path / "slept"), 120.0), 5.0)
    started = time.monotonic()
    with pytest.raises(EnvironmentFailure, match=r"gave no answer within 5s"):
        calls.call()
    assert time.monotonic() - started < 15
    assert calls.call() == "awake"
    assert calls.restarts == 1


def test_in_process_opens_on_the_first_call_and_closes_on_close(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    calls = InProcess().run(partial(counting, str(closed)))
    assert not closed.exists()
    assert calls.call() == (os.getpid(), 1)
    assert calls.call() == (os.getpid(), 2)
    calls.close()
    assert closed.exists()
    assert calls.call() == (os.getpid(), 1)  # opened again
    calls.close()


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
