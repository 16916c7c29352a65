"""Operating-system processes for the local runtime, behind the small `Processes` Protocol.

`OsProcesses` is the only code in the package that starts, inspects or signals the local JVMs
(`subprocess.Popen`, `os.kill`); `LocalRuntime` sees pids and tuples of strings only, and tests
can hand it a fake.

Two rules the JVMs need:
- Their output goes to a log file, never a pipe: a pipe nobody reads fills up and blocks the JVM.
- They run in their own session (`start_new_session`), so they outlive the CLI process and a
  Ctrl-C in the terminal does not reach them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol


class Processes(Protocol):
    """What the local runtime needs from the operating system."""

    def spawn(self, argv: Sequence[str], log_file: Path, env: Mapping[str, str]) -> int:
        """Start `argv` in the background (new session, output appended to `log_file`).

        Returns its pid without waiting.
        """
        ...

    def run(
        self, argv: Sequence[str], log_file: Path, env: Mapping[str, str], timeout_s: float
    ) -> int:
        """Run `argv` to completion with output appended to `log_file`; return its exit code.

        Returns -1 when it did not finish within `timeout_s` (it is killed then).
        """
        ...

    def command_line(self, pid: int) -> tuple[str, ...] | None:
        """The argv of a live process, or None when there is no such (live) process.

        A child this object started is live until it has ended and been reaped, even while
        the kernel shows no command line for it (inside its exec, or finishing its exit).
        """
        ...

    def exit_status(self, pid: int) -> int | None:
        """How a child this object started ended: its exit code, or minus the signal that
        killed it. None while it runs, or for a process it did not start."""
        ...

    def terminate(self, pid: int, *, kill: bool = False) -> None:
        """Send SIGTERM (or SIGKILL with `kill`); a vanished process is not an error."""
        ...

    def port_free(self, host: str, port: int) -> bool:
        """True when nothing listens on host:port, so a server could bind it now."""
        ...

    def port_open(self, host: str, port: int, timeout_s: float = 0.3) -> bool:
        """True when something accepts TCP connections on host:port."""
        ...


class OsProcesses:
    """`Processes` over subprocess, os.kill and /proc (or `ps` where there is no /proc)."""

    def __init__(self) -> None:
        # Popen objects of the children we started: polling them reaps the zombies a killed
        # child leaves behind while we live on (a test session), so a dead pid looks dead.
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._argv: dict[int, tuple[str, ...]] = {}  # what each running child was started with
        self._exited: dict[int, int] = {}

    def spawn(self, argv: Sequence[str], log_file: Path, env: Mapping[str, str]) -> int:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            child = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=str(log_file.parent),
                start_new_session=True,
                close_fds=True,
            )
        self._children[child.pid] = child
        self._argv[child.pid] = tuple(argv)
        self._exited.pop(child.pid, None)  # a reused pid
        return child.pid

    def run(
        self, argv: Sequence[str], log_file: Path, env: Mapping[str, str], timeout_s: float
    ) -> int:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            try:
                done = subprocess.run(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=dict(env),
                    cwd=str(log_file.parent),
                    timeout=timeout_s,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return -1
        return done.returncode

    def _reap(self, pid: int) -> None:
        child = self._children.get(pid)
        if child is not None and child.poll() is not None:
            self._exited[pid] = child.returncode
            del self._children[pid]
            del self._argv[pid]

    def exit_status(self, pid: int) -> int | None:
        self._reap(pid)
        return self._exited.get(pid)

    def command_line(self, pid: int) -> tuple[str, ...] | None:
        if pid <= 0:
            return None
        self._reap(pid)
        argv = self._read_command_line(pid)
        if argv is None and pid in self._children:
            # Our own child that has not ended (it was just polled) but shows no command line:
            # the kernel is still inside its exec (Popen returns before the new program's
            # arguments are in place, often for a few ms) or finishing its exit. It still
            # holds its pid and ports, so it is alive, with the argv we started it with.
            return self._argv[pid]
        return argv

    def _read_command_line(self, pid: int) -> tuple[str, ...] | None:
        """What /proc (or `ps`) says: None for no process, a zombie, or no arguments shown."""
        proc = Path("/proc") / str(pid)
        if Path("/proc/self").exists():
            try:
                stat = (proc / "stat").read_text()
                raw = (proc / "cmdline").read_bytes()
            except OSError:
                return None
            # the state letter follows the parenthesised command name; Z/X are dead
            if stat.rpartition(")")[2].split()[:1] in (["Z"], ["X"]):
                return None
            parts = tuple(p.decode(errors="replace") for p in raw.split(b"\0") if p)
            return parts or None
        return _ps_command_line(pid)

    def terminate(self, pid: int, *, kill: bool = False) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
        self._reap(pid)

    def port_free(self, host: str, port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # the JVM servers set SO_REUSEADDR too, so TIME_WAIT leftovers do not count
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                return False
        return True

    def port_open(self, host: str, port: int, timeout_s: float = 0.3) -> bool:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return True
        except OSError:
            return False


def run_streaming(
    argv: Sequence[str],
    log_file: Path,
    env: Mapping[str, str],
    on_line: Callable[[str], None],
    *,
    cwd: Path,
) -> int:
    """Run `argv` to completion, appending its output to `log_file` and handing each line to
    `on_line` as it comes (a tool's progress, e.g. Maven's downloads); return its exit code.

    The child stays in our process group, so Ctrl-C reaches it too; on Linux it also gets
    SIGKILL when we die (a CI job killed midway must not leave Maven writing into the cache).
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=str(cwd),
            close_fds=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        lines = child.stdout
        if lines is None:  # pragma: no cover - stdout=PIPE always gives one
            raise RuntimeError("no pipe from the child")
        try:
            for raw in lines:
                log.write(raw)
                on_line(raw.decode(errors="replace").rstrip("\r\n"))
        except BaseException:
            child.kill()
            child.wait()
            raise
        return child.wait()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _ps_command_line(pid: int) -> tuple[str, ...] | None:
    """macOS and other systems without /proc: ask ps (arguments are space-joined there)."""
    try:
        done = subprocess.run(
            ["ps", "-ww", "-o", "stat=", "-o", "args=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    line = done.stdout.strip()
    if done.returncode != 0 or not line:
        return None
    state, _, args = line.partition(" ")
    if state.startswith("Z"):
        return None
    return tuple(args.split()) or None


def default_processes() -> Processes:
    """The real operating system (one instance per runtime)."""
    if sys.platform == "win32":  # pragma: no cover - the local runtime needs POSIX sessions
        from dreamscape_infra.errors import EnvironmentFailure

        raise EnvironmentFailure(
            "the local runtime needs Linux or macOS", hint="use --runtime docker on Windows"
        )
    return OsProcesses()


def port_holder(port: int, proc: Path = Path("/proc")) -> str | None:
    """Which process listens on TCP `port` (any address), as `pid 123 (python3 -m ...)`; None
    when it cannot be told (not Linux, or the process belongs to another user)."""
    inodes: set[str] = set()
    for table in ("net/tcp", "net/tcp6"):
        try:
            lines = (proc / table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local address HEX_IP:HEX_PORT, state 0A = LISTEN, inode in column 10
            if (
                len(fields) > 9
                and fields[3] == "0A"
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                inodes.add(fields[9])
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            held = any(os.readlink(fd) in wanted for fd in (entry / "fd").iterdir())
        except OSError:
            continue
        if held:
            try:
                raw = (entry / "cmdline").read_bytes()
            except OSError:
                raw = b""
            command = " ".join(p.decode("utf-8", "replace") for p in raw.split(b"\0") if p)
            shown = command if len(command) <= 120 else command[:117] + "..."
            return f"pid {entry.name} ({shown or '?'})"
    return None
