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
