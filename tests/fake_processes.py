"""One `Processes` fake for the local runtime's tests: no process is ever started.

Pids map to argv; a spawned "JVM" lives (has its command line) until it is terminated or the
test kills it, and writes one start line to its log. SIGTERM is ignored by pids in `stubborn`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

START_LINE = "starting"  # what every spawned process writes to its log


@dataclass
class FakeProcesses:
    argv: dict[int, tuple[str, ...]] = field(default_factory=dict)
    stubborn: set[int] = field(default_factory=set)
    signals: list[tuple[int, str]] = field(default_factory=list)
    busy_ports: set[int] = field(default_factory=set)
    spawned: list[tuple[str, ...]] = field(default_factory=list)  # argv of each spawn, in order
    ended: dict[int, int] = field(default_factory=dict)  # exit status of the killed ones
    next_pid: int = 500

    def spawn(self, argv: Sequence[str], log_file: Path, env: Mapping[str, str]) -> int:
        self.next_pid += 1
        self.argv[self.next_pid] = tuple(argv)
        self.spawned.append(tuple(argv))
        with log_file.open("a") as log:
            log.write(START_LINE + "\n")
        return self.next_pid

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
