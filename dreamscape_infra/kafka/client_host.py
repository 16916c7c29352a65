"""Where the Kafka clients of `serve`, `health` and `up`'s readiness probe run.

librdkafka 2.15/2.16 can abort the whole process on an assertion while brokers die and come
back: `rd_kafka_enq_once_del_source_return: Assertion 'eonce->refcnt > 0'` in coordinator
requests (DescribeConsumerGroups, ListConsumerGroupOffsets; librdkafka PR #5397) and
`rd_kafka_admin_response_parse: Assertion 'rko_result'` while a starting broker answers. That
is a SIGABRT, which no Python code can catch. A one-shot command can be run again, but a
long-lived `serve` must keep answering, and `up`'s wait must not die just as the brokers come
up. So their clients run in a `ChildProcess` (multiprocessing's spawn context, one `Pipe`),
which a dead child costs one replacement; tests give `InProcess` instead, since their fakes
live in this process.

A job is a picklable callable (a module-level function, or a `functools.partial` of one) that
opens the clients as a context manager and yields the call to repeat; the host closes it.
Never prints.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from dreamscape_infra.errors import EnvironmentFailure, InfraError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# Opens the clients (entering it) and yields the call each `ClientCalls.call` makes.
ClientJob = Callable[[], AbstractContextManager[Callable[[], T]]]

REPLY_TIMEOUT_S = 120.0  # one call's whole work; the clients' own request timeouts are shorter


class ClientCalls(Protocol[T_co]):
    """A job's clients, opened on the first call and kept until `close`."""

    def call(self) -> T_co:
        """One call; the job's own `InfraError` is raised as it was."""
        ...

    def close(self) -> None:
        """Close the clients (and stop their process); a later call opens them again."""
        ...

    @property
    def restarts(self) -> int:
        """Processes started to replace one that died or hung (0 in this process)."""
        ...


class ClientHost(Protocol):
    """Where a job's clients run."""

    def run(self, job: ClientJob[T]) -> ClientCalls[T]:
        """The job's calls; nothing is opened before the first call."""
        ...


class ClientCrashed(EnvironmentFailure):
    """The child holding the Kafka clients died twice in a row during one call."""


def describe_exit(exitcode: int | None) -> str:
    """How the child ended, in words: `was killed by SIGABRT (a librdkafka assertion)`."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        why = " (a librdkafka assertion)" if -exitcode == signal.SIGABRT else ""
        return f"was killed by {name}{why}"
    return f"exited with code {exitcode}"


class InProcess:
    """The clients in this process: for tests, whose fakes a child could not reach."""

    def run(self, job: ClientJob[T]) -> ClientCalls[T]:
        return _InProcessCalls(job)


class _InProcessCalls(Generic[T]):
    restarts = 0

    def __init__(self, job: ClientJob[T]) -> None:
        self._job = job
        self._opened = contextlib.ExitStack()
        self._call: Callable[[], T] | None = None

    def call(self) -> T:
        if self._call is None:
            self._call = self._opened.enter_context(self._job())
        return self._call()

    def close(self) -> None:
        self._call = None
        self._opened.close()


@dataclass(frozen=True, slots=True)
class ChildProcess:
    """The clients in a spawned child that keeps them between calls; a child that dies (an
    abort) or gives no answer within `reply_timeout_s` is replaced."""

    reply_timeout_s: float = REPLY_TIMEOUT_S

    def run(self, job: ClientJob[T]) -> ClientCalls[T]:
        return _ChildCalls(job, self.reply_timeout_s)


class _ChildCalls(Generic[T]):
    """Thread-safe: calls are serialised."""

    def __init__(self, job: ClientJob[T], reply_timeout_s: float) -> None:
        self._job = job
        self._timeout = reply_timeout_s
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self.starts = 0  # children started so far (the first and every replacement)
        self.last_exit: str | None = None  # how the last child that died ended

    @property
    def restarts(self) -> int:
        return max(self.starts - 1, 0)

    def call(self) -> T:
        """A child that dies during the call is replaced and the call made once more;
        `ClientCrashed` when the new one dies too."""
        with self._lock:
            for attempt in range(2):
                conn = self._running()
                try:
                    conn.send(None)
                    answered = conn.poll(self._timeout)  # also True at end of file
                    outcome = conn.recv() if answered else None
                except (EOFError, OSError):
                    self.last_exit = describe_exit(self._stop())
                    if attempt:
                        raise ClientCrashed(
                            f"the Kafka client process {self.last_exit}, twice in a row"
                        ) from None
                    continue
                if outcome is None:
                    self._stop(kill=True)
                    raise EnvironmentFailure(
                        f"the Kafka client process gave no answer within {self._timeout:g}s; "
                        "it was stopped and a new one starts with the next call"
                    )
                answer: T = _answer(outcome)
                return answer
            raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """The child sees its end of the pipe close, closes its clients and exits."""
        with self._lock:
            self._stop()

    def _running(self) -> Connection:
        if self._conn is None:
            import multiprocessing

            spawn = multiprocessing.get_context("spawn")  # never fork librdkafka's threads
            ours, theirs = spawn.Pipe()
            process = spawn.Process(
                target=_answer_calls, args=(self._job, theirs), name="kafka-clients", daemon=True
            )
            process.start()
            theirs.close()  # the child holds its end: its death is our end of file
            self._process, self._conn = process, ours
            self.starts += 1
        return self._conn

    def _stop(self, *, kill: bool = False) -> int | None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        if kill:
            process.kill()
        process.join(5)
        if process.exitcode is None:
            process.kill()
            process.join()
        code = process.exitcode
        process.close()
        return code


def _answer(outcome: tuple[Any, ...]) -> Any:
    if outcome[0] == "ok":
        return outcome[1]
    if outcome[0] == "error":
        cls, message, hint = outcome[1:]
        try:  # the child's InfraError again, by its class when that takes (message, hint)
            error: InfraError = cls(message, hint=hint)
        except TypeError:
            error = EnvironmentFailure(message, hint=hint)
        raise error
    raise RuntimeError(f"the Kafka client process failed: {outcome[1]}")


def _answer_calls(job: ClientJob[Any], conn: Connection) -> None:
    """The child: one outcome per request, until the parent closes its end (or dies)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C in the terminal is the parent's
    os.dup2(2, 1)  # a stray print must not land in the parent's stdout (`-o json`)
    with contextlib.ExitStack() as opened:
        call: Callable[[], Any] | None = None
        while True:
            try:
                conn.recv()
            except EOFError:
                return
            outcome: tuple[Any, ...]
            try:
                if call is None:  # opened by the first call, so its failure is that answer
                    call = opened.enter_context(job())
                outcome = ("ok", call())
            except InfraError as exc:
                outcome = ("error", type(exc), exc.message, exc.hint)
            except Exception as exc:  # a bug: its type and message, never its locals
                outcome = ("bug", f"{type(exc).__name__}: {exc}")
            conn.send(outcome)


__all__ = [
    "ChildProcess",
    "ClientCalls",
    "ClientCrashed",
    "ClientHost",
    "ClientJob",
    "InProcess",
    "describe_exit",
]
