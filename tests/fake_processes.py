"""One `Processes` fake for the local runtime's tests: no process is ever started.

Pids map to argv; a spawned "JVM" lives (has its command line) until it is terminated or the
test kills it, and writes one start line to its log. SIGTERM is ignored by pids in `stubborn`.
Unless `quiet`, a spawned broker also logs Kafka's "started" line, as a real one does once it
runs (`say_started` writes it later).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

START_LINE = "starting"  # what every spawned process writes to its log


def started_line(node_id: int) -> str:
    """The line a Kafka broker logs once it runs."""
    return f"[2026-01-01] INFO [KafkaServer id={node_id}] started (kafka.server.KafkaServer)"


@dataclass
class FakeProcesses:
    argv: dict[int, tuple[str, ...]] = field(default_factory=dict)
    stubborn: set[int] = field(default_factory=set)
    signals: list[tuple[int, str]] = field(default_factory=list)
    busy_ports: set[int] = field(default_factory=set)
    spawned: list[tuple[str, ...]] = field(default_factory=list)  # argv of each spawn, in order
    ended: dict[int, int] = field(default_factory=dict)  # exit status of the killed ones
    next_pid: int = 500
    quiet: bool = True

    @property
    def configs(self) -> list[str]:
        """The config file (last argument) of each spawn, in order."""
        return [argv[-1] for argv in self.spawned]

    def spawn(self, argv: Sequence[str], log_file: Path, env: Mapping[str, str]) -> int:
        self.next_pid += 1
        self.argv[self.next_pid] = tuple(argv)
        self.spawned.append(tuple(argv))
        with log_file.open("a") as log:
            log.write(START_LINE + "\n")
        if argv[-1].endswith("server.properties") and not self.quiet:
            self.say_started(log_file)
        return self.next_pid

    def say_started(self, log_file: Path) -> None:
        node_id = {"kafka": 1, "kafka-2": 2, "kafka-3": 3}[log_file.stem]
        with log_file.open("a") as log:
            log.write(started_line(node_id) + "\n")

    def run(
        self, argv: Sequence[str], log_file: Path, env: Mapping[str, str], timeout_s: float
    ) -> int:
        return 0

    def command_line(self, pid: int) -> tuple[str, ...] | None:
        return self.argv.get(pid)

    def exit_status(self, pid: int) -> int | None:
        return self.ended.get(pid)

    def terminate(self, pid: int, *, kill: bool = False) -> None:
        self.signals.append((pid, "KILL" if kill else "TERM"))
        if kill or pid not in self.stubborn:
            self.argv.pop(pid, None)

    def port_free(self, host: str, port: int) -> bool:
        return port not in self.busy_ports

    def port_open(self, host: str, port: int, timeout_s: float = 0.3) -> bool:
        return True

    def kill(
        self, state_dir: Path, service: str, log_line: str = "", status: int | None = None
    ) -> None:
        """The service's JVM dies (exit `status`, when known), writing `log_line` last."""
        pid = int((state_dir / service / f"{service}.pid").read_text())
        self.argv.pop(pid)
        if status is not None:
            self.ended[pid] = status
        if log_line:
            with (state_dir / service / f"{service}.log").open("a") as log:
                log.write(log_line + "\n")
