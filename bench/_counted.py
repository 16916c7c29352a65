"""The real CLI app in a child process, with the Kafka adapter wrapped to count and time its calls.

sync_bench.py runs `python -c "...; _counted.main(args)"` to see where a sync's or a plan's time
goes. This module is kept small and imports only what the CLI itself imports, so that the
child's whole-process time is the CLI's own: the bench script (a thousand lines compiled from
source on every run, plus argparse, statistics, sockets ...) used to start the child, and
added ~0.03 s to every profiled run. The adapter is imported when the app asks for it, as the
CLI does. The counts go to $BENCH_COUNTS_OUT as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

# From this module's import, right after interpreter start-up, to the command's end.
_T0 = time.perf_counter()
_WALL = time.time()
COUNTS_ENV = "BENCH_COUNTS_OUT"
SPAWN_ENV = "BENCH_SPAWNED_AT"  # the parent's time.time() right before it starts the child


class CallCounts:
    """Calls to our KafkaAdmin methods, and the AdminClient requests they made."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.seconds: dict[str, float] = {}

    def timed(self, name: str, since: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - since

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "requests": dict(self.requests),
            "seconds": self.seconds,
            "in_process": time.perf_counter() - _T0,
            "startup": _WALL - float(os.environ.get(SPAWN_ENV, _WALL)),
        }


class CountingClient:
    """Wraps confluent_kafka's AdminClient: every method call is one batched request."""

    def __init__(self, client: Any, requests: Counter[str]) -> None:
        self._client = client
        self._requests = requests

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._requests[name] += 1
            return attr(*args, **kwargs)

        return counted


def counting_admin(settings: Any, counts: CallCounts) -> Any:
    """The real ConfluentAdmin, counting its calls (outside) and its client requests (inside)."""
    since = time.perf_counter()
    from dreamscape_infra.kafka.admin import ConfluentAdmin

    class CountingAdmin(ConfluentAdmin):
        def _timed(self, name: str, call: Any, *args: Any, **kwargs: Any) -> Any:
            counts.calls[name] += 1
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                counts.timed(name, started)

        def snapshot(self, config_topics: Any) -> Any:
            return self._timed("snapshot", super().snapshot, config_topics)

        def create_topics(self, topics: Sequence[Any], *, validate_only: bool) -> Any:
            return self._timed(
                "create_topics", super().create_topics, topics, validate_only=validate_only
            )

        def create_partitions(self, counts_: Mapping[str, int], *, validate_only: bool) -> Any:
            return self._timed(
                "create_partitions",
                super().create_partitions,
                counts_,
                validate_only=validate_only,
            )

        def alter_configs(self, changes: Mapping[str, Any], *, validate_only: bool) -> Any:
            return self._timed(
                "alter_configs", super().alter_configs, changes, validate_only=validate_only
            )

        def wait_for_topics(self, names: Sequence[str], timeout_s: float) -> Any:
            return self._timed("wait_for_topics", super().wait_for_topics, names, timeout_s)

    admin = CountingAdmin(settings)
    counts.timed("adapter import + AdminClient()", since)
    admin._client = CountingClient(admin._client, counts.requests)
    return admin


def main(args: list[str]) -> int:
    """Run the CLI app on `args` with the counting adapter; returns its exit code."""
    from dreamscape_infra.cli import app
    from dreamscape_infra.cli.state import AppState

    counts = CallCounts()
    counts.seconds["import_cli"] = time.perf_counter() - _T0
    state = AppState(admin_factory=lambda s: counting_admin(s, counts), interactive=False)
    code = 0
    try:
        app(args, obj=state, prog_name="dreamscape-infra")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        out = os.environ.get(COUNTS_ENV)
        if out:
            with open(out, "w") as f:
                f.write(json.dumps(counts.as_dict()))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
