"""The command line. The only package that prints, prompts or exits.

This module stays light (no typer, rich, click or YAML): `main` is every run's entry point.
The Typer app lives in `cli/root.py`; `app`, `AppState` and the root's helpers are still
importable from here, loaded on first access (PEP 562).
"""

from __future__ import annotations

import os
import sys

from dreamscape_infra.errors import InfraError

# mypy reads the imports below; at run time they come from `__getattr__`, and importing
# `typing` for its TYPE_CHECKING would cost a start-up that does not need it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from dreamscape_infra.cli.root import AppState, app, get_state
    from dreamscape_infra.cli.root import _load_module_commands as _load_module_commands

# Each command group is imported when it is used, not at start-up: importing all eight modules
# and building Typer's tree of ~30 commands cost more than Python's own start. The table holds
# what the root `--help` shows without importing them (a test checks it against the commands).
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    # name: (module under dreamscape_infra.cli, the first paragraph of the command's help)
    "config": (
        "config_cmd",
        "Show the Kafka connection settings resolved from KAFKA_* variables (password redacted).",
    ),
    "up": (
        "stack",
        "Start Kafka (ZooKeeper + broker), wait until it is ready, then sync topics.yaml.",
    ),
    "down": ("stack", "Stop the stack: brokers first, then ZooKeeper."),
    "status": (
        "stack",
        "Show every service of the stack (state, health, pid, ports), whether a broker answers, "
        "how many declared topics are in sync, and a verdict that sets the exit code:",
    ),
    "logs": (
        "stack",
        "Print the stack's logs (local: the JVM log files); -f follows them until Ctrl-C.",
    ),
    "health": (
        "health",
        "The cluster's verdict, UP, DEGRADED or DOWN, with the checks behind it: brokers and "
        "controller, offline, under-replicated and under-min-ISR partitions, declared topics in "
        "sync, declared groups' lag.",
    ),
    "serve": (
        "health",
        "Serve GET /health/kafka (the health JSON; 200 when UP, 503 otherwise) and GET /metrics "
        "(Prometheus text, documented in docs/metrics.md).",
    ),
    "runtime": ("runtime_cmd", "The local runtime's Kafka jars."),
    "topics": ("topics", "Topics as code: validate, show, plan, sync, list, describe, import."),
    "groups": ("groups", "Consumer groups: list, lag and status, offset resets, delete."),
    "events": ("events", "Events in the BaseEvent envelope: tail, produce, validate, schema."),
    "acls": ("acls", "ACLs as code: show, plan and sync the ACLs topics.yaml's services need."),
}

# What `__getattr__` takes from cli/root.py (importing it imports typer).
_FROM_ROOT = frozenset({"AppState", "app", "get_state", "_load_module_commands"})


def __getattr__(name: str) -> object:
    """`app` and the root's other names, from cli/root.py on first access."""
    if name not in _FROM_ROOT:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from dreamscape_infra.cli import root

    value: object = getattr(root, name)
    globals()[name] = value
    return value


def main() -> None:
    """Console-script entry point."""
    from dreamscape_infra.cli.roothelp import PROG_NAME, fast_output

    text = fast_output(sys.argv[1:], os.environ)
    if text is not None:  # the root's --help, -h or --version: no Typer needed
        _print_and_exit(text)
    from dreamscape_infra.cli.root import _report, app

    try:
        app(prog_name=PROG_NAME)
    except InfraError as exc:  # raised outside a command (should not happen) still gets one line
        _report(exc, verbose=os.environ.get("DREAMSCAPE_VERBOSE") == "1", state=None)
        sys.exit(int(exc.exit_code))
    finally:
        # The interpreter's last garbage collection walks every object the imports made
        # (typer, confluent_kafka, ...): ~0.07 s of CPU at exit. Frozen objects are
        # skipped by it. Nothing else changes: output is flushed, atexit handlers and
        # destructors run as usual (unlike os._exit).
        import gc

        gc.freeze()


def _print_and_exit(text: str) -> None:
    """Print as click's echo does and exit 0; a closed pipe exits 1 in silence, as click's does."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush
        sys.exit(1)
    sys.exit(0)


__all__ = ["LAZY_COMMANDS", "AppState", "app", "get_state", "main"]
