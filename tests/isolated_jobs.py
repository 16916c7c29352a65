"""Jobs for `kafka.isolated`'s child in tests/test_kafka_isolated.py (importable by the child).

Each is a small frozen value, as the real jobs are; none talks to Kafka, so the tests check the
parent's handling of a child that answers, raises, aborts, hangs or prints.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dreamscape_infra.errors import CheckFailed


@dataclass(frozen=True)
class CountingJob:
    """Answers (pid, calls so far in this child), after printing to stdout."""

    def open(self) -> Callable[[], tuple[int, int]]:
        calls = [0]

        def call() -> tuple[int, int]:
            calls[0] += 1
            print("a stray line on stdout", flush=True)
            return os.getpid(), calls[0]

        return call


@dataclass(frozen=True)
class AbortWhileMarked:
    """Aborts (SIGABRT, as a librdkafka assertion does) while `marker` holds a positive count,
    counting it down first; answers "ok" once it is zero or gone."""

    marker: str

    def open(self) -> Callable[[], str]:
        def call() -> str:
            path = Path(self.marker)
            left = int(path.read_text()) if path.exists() else 0
            if left > 0:
                path.write_text(str(left - 1))
                os.abort()
            return "ok"

        return call


@dataclass(frozen=True)
class RaisingJob:
    """Raises our CheckFailed with a hint, or a plain bug."""

    bug: bool = False

    def open(self) -> Callable[[], str]:
        def call() -> str:
            if self.bug:
                raise ValueError("a bug in the job")
            raise CheckFailed("lag over the threshold", hint="look at the consumers")

        return call


@dataclass(frozen=True)
class SleepOnceJob:
    """Sleeps `seconds` on the first call of each child whose marker is missing."""

    marker: str
    seconds: float

    def open(self) -> Callable[[], str]:
        def call() -> str:
            path = Path(self.marker)
            if not path.exists():
                path.write_text("slept")
                time.sleep(self.seconds)
            return "awake"

        return call
