"""Kafka client calls in a child process, so a librdkafka abort cannot take ours down.

librdkafka 2.15/2.16 can abort the whole process on an assertion while brokers die and come
back: `rd_kafka_enq_once_del_source_return: Assertion 'eonce->refcnt > 0'` in coordinator
requests (DescribeConsumerGroups, ListConsumerGroupOffsets; librdkafka PR #5397) and
`rd_kafka_admin_response_parse: Assertion 'rko_result'` while a starting broker answers. That
is a SIGABRT, which no Python code can catch. A one-shot command can be run again, but a
long-lived `serve` must keep answering, and `up`'s wait must not die just as the brokers
come up. Those two run their client calls here: in a child process (`python -m
dreamscape_infra.kafka.isolated`) that holds the clients between calls and is started again
when it dies.

The parent sends the child one pickled `IsolatedJob` (a small frozen value: settings and what
to read), then one byte per call; the child answers each with a pickled outcome. Frames are a
4-byte length and a pickle, on the child's stdin and on a copy of its stdout (the child's own
stdout goes to stderr, so a stray print cannot corrupt a frame). Both ends are this package,
run by the same user. The child ignores SIGINT (a Ctrl-C in the terminal is the parent's to
handle) and exits when its stdin closes, which is also what happens when the parent dies.
Never prints.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Generic, Protocol, TypeVar

from dreamscape_infra.errors import EnvironmentFailure, InfraError

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

REPLY_TIMEOUT_S = 120.0  # one call's whole work; the clients' own request timeouts are shorter
_HEADER = struct.Struct(">I")
_CALL = b"c"
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class IsolatedJob(Protocol[T_co]):
    """What the child runs: picklable (a frozen dataclass at module level), with `open`
    building the clients once, in the child, and returning the call to repeat."""

    def open(self) -> Callable[[], T_co]:
        """Build the clients; return the function each call runs."""
        ...


class ClientCrashed(EnvironmentFailure):
    """The child holding the Kafka clients died twice in a row during one call."""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def describe_exit(returncode: int | None) -> str:
    """How the child ended, in words: `killed by SIGABRT (a librdkafka assertion)`."""
    if returncode is None:
        return "stopped answering"
    if returncode < 0:
        name = _signal_name(-returncode)
        why = " (a librdkafka assertion)" if -returncode == signal.SIGABRT else ""
        return f"was killed by {name}{why}"
    return f"exited with code {returncode}"


def _write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_exact_blocking(stream: IO[bytes], size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_exact(fd: int, size: int, deadline: float) -> bytes | None:
    """`size` bytes from `fd` before `deadline` (monotonic); None at end of file.

    Raises TimeoutError when the deadline passes first."""
    chunks: list[bytes] = []
    while size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class _Died(Exception):
    pass


class IsolatedClient(Generic[T]):
    """Runs `job`'s call in a child process; a child that dies is started again, once per call.

    Thread-safe: calls are serialised. `close` stops the child; the next call starts one again.
    """

    def __init__(
        self,
        job: IsolatedJob[T],
        *,
        reply_timeout_s: float = REPLY_TIMEOUT_S,
        argv: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._job = pickle.dumps(job)
        self._timeout = reply_timeout_s
        self._argv = list(argv or (sys.executable, "-m", "dreamscape_infra.kafka.isolated"))
        base = dict(os.environ if env is None else env)
        path = base.get("PYTHONPATH")
        base["PYTHONPATH"] = _PACKAGE_ROOT + (os.pathsep + path if path else "")
        self._env = base
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self.starts = 0  # children started so far (the first and every restart)
        self.last_exit: str | None = None  # how the last child that died ended

    def call(self) -> T:
        """One call in the child. A child that dies is replaced and the call made once more;
        `ClientCrashed` when the new one dies too; the call's own `InfraError` is re-raised."""
        with self._lock:
            for attempt in range(2):
                try:
                    return self._ask(self._running())
                except _Died:
                    self.last_exit = describe_exit(self._reap())
                    if attempt:
                        raise ClientCrashed(
                            f"the Kafka client process {self.last_exit}, twice in a row"
                        ) from None
            raise AssertionError("unreachable")  # pragma: no cover

    def start(self) -> None:
        """Start the child now, so its start-up (~0.1 s) overlaps the caller's other work."""
        with self._lock:
            try:
                self._running()
            except _Died:
                self.last_exit = describe_exit(self._reap())

    def _running(self) -> subprocess.Popen[bytes]:
        if self._child is not None:
            return self._child
        child = subprocess.Popen(
            self._argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self._env,
            close_fds=True,
        )
        self.starts += 1
        self._child = child
        stdin = child.stdin
        assert stdin is not None
        try:
            _write_frame(stdin, self._job)
        except OSError:
            raise _Died from None
        return child

    def _ask(self, child: subprocess.Popen[bytes]) -> T:
        stdin, stdout = child.stdin, child.stdout
        assert stdin is not None
        assert stdout is not None
        try:
            stdin.write(_CALL)
            stdin.flush()
        except OSError:
            raise _Died from None
        deadline = time.monotonic() + self._timeout
        fd = stdout.fileno()
        try:
            header = _read_exact(fd, _HEADER.size, deadline)
            body = None if header is None else _read_exact(fd, _HEADER.unpack(header)[0], deadline)
        except TimeoutError:
            self._reap(kill=True)
            raise EnvironmentFailure(
                f"the Kafka client process gave no answer within {self._timeout:g}s; "
                "it was stopped and a new one starts with the next call"
            ) from None
        if body is None:
            raise _Died
        outcome: tuple[Any, ...] = pickle.loads(body)
        if outcome[0] == "ok":
            result: T = outcome[1]
            return result
        if outcome[0] == "error":
            raise _rebuild(outcome[1], outcome[2], outcome[3])
        raise RuntimeError(f"the Kafka client process failed: {outcome[1]}")

    def _reap(self, *, kill: bool = False) -> int | None:
        child, self._child = self._child, None
        if child is None:
            return None
        if kill and child.poll() is None:
            child.kill()
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            return child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            return child.wait()

    def close(self) -> None:
        """Stop the child: its stdin closes, so it exits; killed after 5 s."""
        with self._lock:
            child, self._child = self._child, None
            if child is None:
                return
            if child.stdin is not None:
                with contextlib.suppress(OSError):
                    child.stdin.close()
            try:
                child.wait(5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()

    @property
    def restarts(self) -> int:
        """Children started to replace one that died or hung."""
        return max(self.starts - 1, 0)

    def pid(self) -> int | None:
        """The running child's pid (None before the first call or after it died)."""
        child = self._child
        return child.pid if child is not None and child.poll() is None else None


def _rebuild(cls: type[InfraError], message: str, hint: str | None) -> InfraError:
    """The child's InfraError again, by its class when that takes (message, hint)."""
    try:
        return cls(message, hint=hint)
    except TypeError:
        return EnvironmentFailure(message, hint=hint)


def child_main(requests: IO[bytes], replies: IO[bytes]) -> int:
    """The child's loop: one job, then one outcome frame per call byte, until end of input."""
    raw = _read_exact_blocking(requests, _HEADER.size)
    if raw is None:
        return 0
    body = _read_exact_blocking(requests, _HEADER.unpack(raw)[0])
    if body is None:
        return 0
    job: IsolatedJob[Any] = pickle.loads(body)
    call: Callable[[], Any] | None = None
    while requests.read(1):
        outcome: tuple[Any, ...]
        try:
            if call is None:  # built on the first call, so its failure is that call's answer
                call = job.open()
            outcome = ("ok", call())
        except InfraError as exc:
            outcome = ("error", type(exc), exc.message, exc.hint)
        except Exception as exc:  # a bug: its type and message, never its locals
            outcome = ("bug", f"{type(exc).__name__}: {exc}")
        try:
            _write_frame(replies, pickle.dumps(outcome))
        except BrokenPipeError:
            return 0
    return 0


def _main() -> int:  # pragma: no cover - runs in the child (tests/test_kafka_isolated.py)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not land inside a frame
    return child_main(sys.stdin.buffer, replies)


if __name__ == "__main__":  # pragma: no cover
    code = _main()
    # Every reply is flushed; skip destroying the clients (librdkafka's threads), so a parent
    # waiting in `close` waits for nothing.
    os._exit(code)
