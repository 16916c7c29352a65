"""`OsProcesses` with real (tiny, non-JVM) children: how a child ended is known to the runtime."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from dreamscape_infra.runtime.process import OsProcesses


def _wait_gone(procs: OsProcesses, pid: int) -> None:
    deadline = time.monotonic() + 10
    while procs.command_line(pid) is not None:
        assert time.monotonic() < deadline, f"pid {pid} did not end"
        time.sleep(0.02)


def test_the_exit_code_of_a_child_that_failed(tmp_path: Path) -> None:
    procs = OsProcesses()
    pid = procs.spawn([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "a.log", os.environ)
    _wait_gone(procs, pid)
    assert procs.exit_status(pid) == 3


def test_the_signal_that_killed_a_child(tmp_path: Path) -> None:
    procs = OsProcesses()
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    pid = procs.spawn(argv, tmp_path / "b.log", os.environ)
    assert procs.exit_status(pid) is None, "still running"
    os.kill(pid, signal.SIGKILL)
    _wait_gone(procs, pid)
    assert procs.exit_status(pid) == -signal.SIGKILL


def test_no_status_for_a_process_it_did_not_start() -> None:
    assert OsProcesses().exit_status(os.getpid()) is None


def test_a_child_is_alive_from_the_moment_spawn_returns(tmp_path: Path) -> None:
    """Popen returns while the kernel is still inside the child's exec; /proc then shows no
    command line for a few ms (a third of `sleep` spawns here). `up` checks its JVMs right
    after starting them and took such a child for one that had died at start-up."""
    procs = OsProcesses()
    argv = ("sleep", "60")
    pids: list[int] = []
    seen: list[tuple[str, ...] | None] = []
    try:
        for i in range(40):
            pids.append(procs.spawn(argv, tmp_path / f"{i}.log", os.environ))
            seen.append(procs.command_line(pids[-1]))  # at once, as up's first check does
        assert seen == [argv] * len(pids)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        _wait_gone(procs, pid)
        assert procs.exit_status(pid) == -signal.SIGKILL
