"""`up`, `down`, `status`, `logs`: one command surface over the docker and local runtimes.

The commands talk to a `StackRuntime` only. Which one comes from `--runtime` (or
DREAMSCAPE_RUNTIME, default auto; see `runtime.select`) and is said on stderr; tests replace the
construction through `AppState.runtime_factory`. Results go to stdout, progress (a spinner on a
terminal, plain lines otherwise) and notes to stderr.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dreamscape_infra.cli.state import OUTPUT_OPTION, AppState, OutputFormat, get_state
from dreamscape_infra.errors import ExitCode, RefusedError
from dreamscape_infra.runtime.base import (
    ProgressCallback,
    StackRuntime,
    StackStatus,
    UpOptions,
)

if TYPE_CHECKING:
    from rich.table import Table

    from dreamscape_infra.kafka.cluster import KafkaAdmin
    from dreamscape_infra.runtime.select import RuntimeChoice
    from dreamscape_infra.topics.plan import Plan

RUNTIME_OPTION: Any = typer.Option(
    None,
    "--runtime",
    "-r",
    metavar="docker|local|auto",
    help="docker, local or auto (default: DREAMSCAPE_RUNTIME, else auto: docker when a Docker "
    "daemon answers, else local when Java is present).",
    show_default=False,
)
STATE_DIR_OPTION: Any = typer.Option(
    None,
    "--state-dir",
    metavar="DIR",
    help="Local runtime: the state folder (default DREAMSCAPE_STATE_DIR, else ./.state/local).",
    show_default=False,
)


def _runtime(
    state: AppState, option: str | None, state_dir: Path | None
) -> tuple[StackRuntime, RuntimeChoice]:
    from dreamscape_infra.runtime.select import choose_runtime, local_stack_running, make_runtime

    choice = choose_runtime(
        option, state.env, local_probe=lambda: local_stack_running(state.env, state_dir)
    )
    state.err_console().print(
        f"runtime: {choice.name} ({choice.reason})", markup=False, highlight=False
    )
    if state.runtime_factory is not None:
        return state.runtime_factory(choice.name), choice
    return make_runtime(choice.name, state.env, state_dir=state_dir), choice


@contextmanager
def _spinner(state: AppState, first: str) -> Iterator[ProgressCallback]:
    """A ProgressCallback: a spinner on a terminal, deduplicated plain lines otherwise."""
    err = state.err_console()
    if err.is_terminal:
        with err.status(first, spinner="dots") as status:

            def update(service: str, message: str) -> None:
                status.update(f"{service}: {message}")

            yield update
        return
    last: list[str] = []

    def line(service: str, message: str) -> None:
        text = f"{service}: {message}"
        if not last or last[-1] != text:
            last[:] = [text]
            err.print(text, markup=False, highlight=False)

    yield line


def _note(state: AppState, notes: tuple[str, ...] | list[str]) -> None:
    for note in notes:
        state.err_console().print(f"note: {note}", markup=False, highlight=False)


def status_json(status: StackStatus) -> dict[str, Any]:
    """The JSON shape of a stack's status (used by `status` and `up`)."""
    return {
        "runtime": status.runtime,
        "running": status.running,
        "bootstrap_servers": status.bootstrap_servers,
        "services": [
            {
                "name": s.name,
                "state": s.state,
                "health": s.health,
                "pid": s.pid,
                "ports": list(s.ports),
                "detail": s.detail,
            }
            for s in status.services
        ],
        "urls": [{"label": label, "url": url} for label, url in status.urls],
    }


def render_status(status: StackStatus) -> Table:
    """A table of the stack's services."""
    from rich.table import Table  # rich only for a table people read: start-up stays fast

    table = Table(title=f"Kafka stack ({status.runtime} runtime)", show_header=True)
    for column in ("service", "state", "health", "pid", "ports", "detail"):
        table.add_column(column)
    for s in status.services:
        table.add_row(
            s.name,
            s.state,
            s.health,
            "-" if s.pid is None else str(s.pid),
            ", ".join(s.ports) or "-",
            s.detail or "",
        )
    return table


def _print_status(state: AppState, status: StackStatus) -> None:
    out = state.out_console()
    out.print(render_status(status))
    if status.bootstrap_servers:
        out.print(f"bootstrap servers: {status.bootstrap_servers}", markup=False, highlight=False)
    for label, url in status.urls:
        out.print(f"{label}: {url}", markup=False, highlight=False)


def _sync_topics(state: AppState, bootstrap: str) -> tuple[dict[str, Any], Any, ExitCode] | None:
    """THE single place where `up` syncs topics.yaml, as the compose stack's topic-init does.

    Non-destructive (no deletions). Returns (report JSON, summary renderable, exit code), or
    None when there is no topics file to sync.
    """
    if not Path(state.topics_file).is_file():
        _note(state, (f"no {state.topics_file} here: topics not synced",))
        return None
    from dreamscape_infra.settings import ConnectionSettings
    from dreamscape_infra.topics.reconcile import sync_from_file
    from dreamscape_infra.topics.render import render_report_summary, report_json

    # the stack we just started: plaintext, whatever KAFKA_* points at elsewhere
    admin = state.admin(ConnectionSettings(brokers=tuple(bootstrap.split(","))))
    try:
        outcome = sync_from_file(admin, state.topics_file, state.env.get("DREAMSCAPE_ENV") or None)
    finally:
        admin.close()
    return (
        report_json(outcome.plan, outcome.report),
        render_report_summary(outcome.report),
        outcome.report.exit_code(),
    )


def _plan_here(state: AppState, admin: KafkaAdmin) -> Plan:
    """A read-only plan of topics.yaml (DREAMSCAPE_ENV overlay) against `admin`."""
    from dreamscape_infra.topics.desired import load_desired
    from dreamscape_infra.topics.plan import PlanOptions
    from dreamscape_infra.topics.reconcile import make_plan, observe

    desired = load_desired(state.topics_file, state.env.get("DREAMSCAPE_ENV") or None)
    return make_plan(desired, observe(admin, desired, prune=False), PlanOptions())


def _check_topics(state: AppState, bootstrap: str) -> tuple[dict[str, Any], Any, ExitCode] | None:
    """After the docker stack's topic-init: plan from the host; every declared topic in sync?"""
    if not Path(state.topics_file).is_file():
        return None
    from rich.text import Text

    from dreamscape_infra.settings import ConnectionSettings
    from dreamscape_infra.topics.render import plan_json

    admin = state.admin(ConnectionSettings(brokers=tuple(bootstrap.split(","))))
    try:
        plan = _plan_here(state, admin)
    finally:
        admin.close()
    summary = plan.summary()
    line = f"{summary['in_sync']} of {summary['topics']} declared topics in sync"
    code = ExitCode.OK if not plan.has_changes else ExitCode.ENVIRONMENT
    return plan_json(plan), Text(line, style="green" if code == ExitCode.OK else "red"), code


def _probe(state: AppState, current: StackStatus) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Broker reachability and, when reachable, a topic sync summary (a plan, never a change)."""
    from dreamscape_infra.errors import InfraError
    from dreamscape_infra.settings import ConnectionSettings

    broker: dict[str, Any] = {"reachable": False, "brokers": 0, "controller": None, "error": None}
    if not any(s.state == "running" for s in current.services if s.name.startswith("kafka")):
        broker["error"] = "the broker is not running"
        return broker, None
    settings = ConnectionSettings(brokers=tuple(current.bootstrap_servers.split(",")))
    admin = state.admin(settings, timeout_s=3.0)  # a status check should answer quickly
    try:
        cluster = admin.describe_cluster()
        broker.update(
            reachable=True, brokers=len(cluster.brokers), controller=cluster.controller_id
        )
        if not Path(state.topics_file).is_file():
            return broker, None
        plan = _plan_here(state, admin)
        summary = plan.summary()
        return broker, {
            "declared": summary["topics"],
            "in_sync": summary["in_sync"],
            "pending": len(plan.pending),
            "unfixable": len(plan.unfixable),
        }
    except InfraError as exc:
        if not broker["reachable"]:
            broker["error"] = exc.message
            return broker, None
        raise
    finally:
        admin.close()


def up(
    ctx: typer.Context,
    runtime: str | None = RUNTIME_OPTION,
    profile: list[str] = typer.Option(
        [],
        "--profile",
        "-p",
        metavar="PROFILE",
        help="Docker extras: ui (Kafka UI), schema (Schema Registry).",
    ),
    no_wait: bool = typer.Option(False, "--no-wait", help="Return once started, not ready."),
    timeout: float = typer.Option(
        120.0, "--timeout", min=1.0, help="Seconds to wait for a ready broker."
    ),
    build: bool = typer.Option(False, "--build", help="Docker: build images before starting."),
    kraft: bool = typer.Option(
        False,
        "--kraft",
        help="Local: one combined KRaft node (Kafka 4.x) instead of ZooKeeper.",
    ),
    brokers: int = typer.Option(
        1, "--brokers", min=1, max=3, help="Local: number of brokers in ZooKeeper mode (1-3)."
    ),
    no_sync: bool = typer.Option(
        False,
        "--no-sync",
        help="Do not sync (local) or check (docker) topics.yaml once the broker is ready.",
    ),
    state_dir: Path | None = STATE_DIR_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Start Kafka (ZooKeeper + broker), wait until it is ready, then sync topics.yaml.

    "already running" is success (exit 0). The local runtime needs Java and the jars from
    `make kafka-dist`; its ports come from DREAMSCAPE_ZK_PORT / DREAMSCAPE_KAFKA_PORT.

    Example: dreamscape-infra up --runtime local
    """
    state = get_state(ctx)
    json_mode = state.output_format(output) is OutputFormat.json
    stack, choice = _runtime(state, runtime, state_dir)
    options = UpOptions(
        profiles=tuple(profile),
        wait=not no_wait,
        timeout_s=timeout,
        build=build,
        kraft=kraft,
        brokers=brokers,
    )
    with _spinner(state, f"starting Kafka ({choice.name} runtime)") as progress:
        result = stack.up(options, progress)
    _note(state, result.notes)

    synced: tuple[dict[str, Any], Any, ExitCode] | None = None
    # the docker stack runs its own topic-init container, then we check from the host;
    # the local one syncs here
    if choice.name == "local" and options.wait and not no_sync:
        with _spinner(state, "syncing topics.yaml") as progress:
            progress("topics", f"syncing {state.topics_file}")
            synced = _sync_topics(state, result.status.bootstrap_servers)
    elif choice.name == "docker" and options.wait and not no_sync:
        with _spinner(state, "checking topics from the host") as progress:
            progress("topics", f"planning {state.topics_file}")
            synced = _check_topics(state, result.status.bootstrap_servers)

    code = synced[2] if synced is not None else ExitCode.OK
    if json_mode:
        state.print_json(
            {
                "runtime": choice.name,
                "reason": choice.reason,
                "already_running": result.already_running,
                "ready": options.wait,
                "notes": list(result.notes),
                "status": status_json(result.status),
                "topics": synced[0] if synced is not None else None,
            }
        )
    else:
        _print_status(state, result.status)
        out = state.out_console()
        where = result.status.bootstrap_servers
        if result.already_running:
            out.print(f"Kafka is already running at {where}", markup=False, highlight=False)
        elif options.wait:
            out.print(f"Kafka is ready at {where}", markup=False, highlight=False)
        else:
            out.print(f"Kafka is starting at {where} (--no-wait)", markup=False)
        if synced is not None:
            out.print("topics.yaml: ", end="", markup=False)
            out.print(synced[1])
    if code != ExitCode.OK:
        state.err_console().print(
            f"error: syncing {state.topics_file} did not fully succeed "
            "(see `dreamscape-infra topics plan`)",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(int(code))


def down(
    ctx: typer.Context,
    runtime: str | None = RUNTIME_OPTION,
    volumes: bool = typer.Option(
        False, "--volumes", "-v", help="Also delete the data (topics, messages, offsets)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm -v without a prompt."),
    state_dir: Path | None = STATE_DIR_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Stop the stack: brokers first, then ZooKeeper. -v also deletes its data (confirms).

    Without a terminal, -v needs --yes; otherwise nothing is stopped or removed (exit 7).

    Example: dreamscape-infra down --runtime local -v --yes
    """
    state = get_state(ctx)
    json_mode = state.output_format(output) is OutputFormat.json
    stack, choice = _runtime(state, runtime, state_dir)
    if volumes and not yes:
        if not state.is_interactive() or json_mode:
            raise RefusedError(
                "down -v deletes all Kafka data; nothing was stopped or removed",
                hint="pass --yes to confirm",
            )
        if not typer.confirm(
            f"Stop the {choice.name} stack and delete its data (topics, messages, offsets)?",
            default=False,
            err=True,
        ):
            raise RefusedError("not confirmed; nothing was stopped or removed")
    with _spinner(state, f"stopping Kafka ({choice.name} runtime)") as progress:
        result = stack.down(volumes, progress)
    _note(state, result.notes)
    if json_mode:
        state.print_json(
            {
                "runtime": choice.name,
                "stopped": list(result.stopped),
                "removed_data": result.removed_data,
                "notes": list(result.notes),
            }
        )
        return
    out = state.out_console()
    stopped = ", ".join(result.stopped) if result.stopped else "nothing was running"
    out.print(f"stopped: {stopped}", markup=False, highlight=False)
    if result.removed_data:
        out.print("data removed", markup=False)


def status(
    ctx: typer.Context,
    runtime: str | None = RUNTIME_OPTION,
    state_dir: Path | None = STATE_DIR_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Show every service of the stack with its state, health, pid and ports.

    Example: dreamscape-infra status --runtime local --output json
    """
    state = get_state(ctx)
    stack, _ = _runtime(state, runtime, state_dir)
    current = stack.status()
    broker, topics = _probe(state, current)
    if state.output_format(output) is OutputFormat.json:
        state.print_json(status_json(current) | {"broker": broker, "topics": topics})
    else:
        _print_status(state, current)
        out = state.out_console()
        if broker["reachable"]:
            out.print(
                f"broker: reachable, {broker['brokers']} broker(s), "
                f"controller {broker['controller']}",
                markup=False,
                highlight=False,
            )
        else:
            out.print(f"broker: not reachable ({broker['error']})", markup=False)
        if topics is not None:
            out.print(
                f"topics: {topics['in_sync']} of {topics['declared']} declared topics in "
                f"sync, {topics['pending']} change(s) pending",
                markup=False,
                highlight=False,
            )
    if not broker["reachable"]:
        raise typer.Exit(int(ExitCode.ENVIRONMENT))


def logs(
    ctx: typer.Context,
    service: str | None = typer.Argument(
        None, help="zookeeper, kafka, kafka-2, ... (default: all, prefixed)."
    ),
    runtime: str | None = RUNTIME_OPTION,
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines."),
    tail: int | None = typer.Option(
        None, "--tail", "-n", min=0, help="Only the last N lines of each log."
    ),
    state_dir: Path | None = STATE_DIR_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Print the stack's logs (local: the JVM log files); -f follows them until Ctrl-C.

    With --output json, JSON Lines: one {"line": ...} object per log line.

    Example: dreamscape-infra logs --runtime local kafka -f --tail 50
    """
    state = get_state(ctx)
    stack, _ = _runtime(state, runtime, state_dir)
    json_lines = state.output_format(output) is OutputFormat.json
    try:
        for line in stack.logs(service, follow, tail):
            typer.echo(json.dumps({"line": line}) if json_lines else line)
    except KeyboardInterrupt:  # the way out of --follow: not an error
        return


def register(app: typer.Typer) -> None:
    """Add the stack commands to the root app."""
    app.command("up")(up)
    app.command("down")(down)
    app.command("status")(status)
    app.command("logs")(logs)


__all__ = ["down", "logs", "register", "render_status", "status", "status_json", "up"]
