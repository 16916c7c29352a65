"""`up`, `down`, `status`, `logs`: one command surface over the docker and local runtimes.

The commands talk to a `StackRuntime` only. Which one comes from `--runtime` (or
DREAMSCAPE_RUNTIME, default auto; see `runtime.choose`) and is said on stderr; tests replace the
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

from dreamscape_infra.cli.state import (
    ENV_OPTION,
    OUTPUT_OPTION,
    AppState,
    OutputFormat,
    get_state,
)
from dreamscape_infra.errors import ExitCode, RefusedError
from dreamscape_infra.runtime.base import (
    SCHEMA_REGISTRY_LABEL,
    ProgressCallback,
    SecuredRuntime,
    StackRuntime,
    StackStatus,
    UpOptions,
    UpResult,
)

if TYPE_CHECKING:
    from dreamscape_infra.runtime.choose import RuntimeChoice
    from dreamscape_infra.runtime.probe import BrokerReachability
    from dreamscape_infra.runtime.render import EnvironmentChange
    from dreamscape_infra.settings import ConnectionSettings
    from dreamscape_infra.topics.stackcheck import TopicsAfterUp, TopicsSummary

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
    from dreamscape_infra.runtime.choose import choose_runtime, local_stack_running, make_runtime

    choice = choose_runtime(
        option, state.env, local_probe=lambda: local_stack_running(state.env, state_dir)
    )
    state.err_console().print(
        f"runtime: {choice.name} ({choice.reason})", markup=False, highlight=False
    )
    if state.runtime_factory is not None:
        return state.runtime_factory(choice.name), choice
    env = state.env
    if choice.name == "local":
        # the console (`--profile ui`) runs in the state folder: it reads the file `up` read
        env = {**env, "DREAMSCAPE_TOPICS_FILE": str(Path(state.topics_file).resolve())}
    return make_runtime(choice.name, env, state_dir=state_dir), choice


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


def _print_status(state: AppState, status: StackStatus) -> None:
    from dreamscape_infra.runtime.render import stack_lines, status_table

    state.print_tables(status_table(status))
    out = state.out_console()
    for line in stack_lines(status):
        out.print(line, markup=False, highlight=False)


def _environment(state: AppState) -> str | None:
    return state.env.get("DREAMSCAPE_ENV") or None


def _stack_settings(stack: StackRuntime, bootstrap: str) -> ConnectionSettings:
    """How `up` and `status` connect to the stack: as its admin when the runtime secures it,
    else plaintext, whatever KAFKA_* points at elsewhere."""
    from dreamscape_infra.settings import ConnectionSettings

    if isinstance(stack, SecuredRuntime):
        return stack.admin_settings()
    return ConnectionSettings.plaintext(bootstrap)


def _declared_services(state: AppState, environment: str | None) -> tuple[str, ...]:
    """The SASL users topics.yaml asks for on a secured local stack (see
    `runtime.security.service_users`: a `services:` entry logs in as its principal's name).
    None when there is no (valid) topics file: `up` reports a broken file when it syncs."""
    if not Path(state.topics_file).is_file():
        return ()
    from dreamscape_infra.errors import ConfigError
    from dreamscape_infra.runtime.security import service_users

    try:
        desired = state.desired(environment)
    except ConfigError:
        return ()
    return service_users(desired)


def _topics_after_up(
    state: AppState, settings: ConnectionSettings, environment: str | None, *, sync_here: bool
) -> TopicsAfterUp | None:
    """Sync topics.yaml here (local stack, packaged compose file), or only check it (the docker
    stack ran topic-init). None when there is no topics file to sync or check."""
    if not Path(state.topics_file).is_file():
        if sync_here:
            _note(state, (f"no {state.topics_file} here: topics not synced",))
        return None
    from dreamscape_infra.topics.stackcheck import check_after_up, sync_after_up

    # the stack we just started (as its admin when secured), whatever KAFKA_* points at
    admin = state.admin(settings)
    try:
        after_up = sync_after_up if sync_here else check_after_up
        return after_up(admin, state.topics_file, environment)
    finally:
        admin.close()


def _reach(
    state: AppState, current: StackStatus, stack: StackRuntime
) -> tuple[BrokerReachability, TopicsSummary | None]:
    """Ask the stack's brokers (only when one runs) and, when they answer, plan topics.yaml."""
    from dreamscape_infra.runtime.probe import NO_BROKER_RUNNING, broker_running, probe_broker
    from dreamscape_infra.topics.stackcheck import summarize_declared

    if not broker_running(current):
        return NO_BROKER_RUNNING, None
    settings = _stack_settings(stack, current.bootstrap_servers)
    # quick, yet long enough for a cluster in a controller fail-over to answer; a stack whose
    # brokers all refuse the connection fails at once whatever this says
    admin = state.admin(settings, timeout_s=5.0)
    try:
        broker = probe_broker(admin, metadata=lambda: admin.snapshot([]).cluster)
        if not broker.reachable or not Path(state.topics_file).is_file():
            return broker, None
        # the stack's own environment (recorded by the local runtime) unless one is asked for
        environment = _environment(state) or current.environment
        return broker, summarize_declared(admin, state.topics_file, environment)
    finally:
        admin.close()


PROFILE_OPTION: Any = typer.Option(
    [],
    "--profile",
    "-p",
    metavar="PROFILE",
    help="Extras: ui (docker: Kafka UI; local: the console of `serve` on "
    "127.0.0.1:${DREAMSCAPE_UI_PORT:-8080}), schema (Schema Registry; local: Apicurio Registry "
    "on 127.0.0.1:${DREAMSCAPE_SCHEMA_REGISTRY_PORT:-8081}).",
)
NO_WAIT_OPTION: Any = typer.Option(False, "--no-wait", help="Return once started, not ready.")
TIMEOUT_OPTION: Any = typer.Option(
    120.0, "--timeout", min=1.0, help="Seconds to wait for a ready broker."
)
BUILD_OPTION: Any = typer.Option(False, "--build", help="Docker: build images before starting.")
KRAFT_OPTION: Any = typer.Option(
    False, "--kraft", help="Local: one combined KRaft node (Kafka 4.x) instead of ZooKeeper."
)
BROKERS_OPTION: Any = typer.Option(
    1, "--brokers", min=1, max=3, help="Local: number of brokers in ZooKeeper mode (1-3)."
)
NO_SYNC_OPTION: Any = typer.Option(
    False,
    "--no-sync",
    help="Do not sync (local) or check (docker) topics.yaml once the broker is ready.",
)
ACLS_OPTION: Any = typer.Option(
    None,
    "--acls/--no-acls",
    help="Local: run an authorizer (AclAuthorizer; StandardAuthorizer with --kraft); "
    "default: what the stack has, else none. User:admin is a super user; without SASL "
    "(plaintext, ssl) so is everyone: use --security sasl_scram --acls to hold services "
    "to their ACLs (docs/acls.md).",
    show_default=False,
)
SECURITY_OPTION: Any = typer.Option(
    None,
    "--security",
    metavar="plaintext|ssl|sasl_plain|sasl_scram|sasl_ssl",
    help="Local: secure the client listener (default: what the stack has, else plaintext). "
    "Prints the KAFKA_* environment a client needs; see docs/security.md.",
    show_default=False,
)
PRINT_ENV_OPTION: Any = typer.Option(
    False,
    "--print-env",
    help="Print only KEY=value lines (KAFKA_BROKERS, DREAMSCAPE_RUNTIME, SCHEMA_REGISTRY_URL "
    "with --profile schema) on stdout, for a "
    'CI env file: `dreamscape-infra up --print-env >> "$GITHUB_ENV"`.',
)
ENV_FILE_OPTION: Any = typer.Option(
    None,
    "--env-file",
    metavar="FILE",
    help="Also append those KEY=value lines to FILE (GitHub's $GITHUB_ENV, a GitLab "
    "dotenv report).",
)


def up(
    ctx: typer.Context,
    runtime: str | None = RUNTIME_OPTION,
    profile: list[str] = PROFILE_OPTION,
    no_wait: bool = NO_WAIT_OPTION,
    timeout: float = TIMEOUT_OPTION,
    build: bool = BUILD_OPTION,
    kraft: bool = KRAFT_OPTION,
    brokers: int = BROKERS_OPTION,
    no_sync: bool = NO_SYNC_OPTION,
    acls: bool | None = ACLS_OPTION,
    security: str | None = SECURITY_OPTION,
    env: str | None = ENV_OPTION,
    state_dir: Path | None = STATE_DIR_OPTION,
    print_env: bool = PRINT_ENV_OPTION,
    env_file: Path | None = ENV_FILE_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Start Kafka (ZooKeeper + broker), wait until it is ready, then sync topics.yaml.

    "already running" is success (exit 0). Ready means every broker of the stack is
    registered (after a crash too: the restarted broker has started, not only its old
    registration). The local runtime needs Java 17+; it fetches the Kafka jars with Maven on
    first use (see `runtime fetch`), and its ports come from DREAMSCAPE_ZK_PORT /
    DREAMSCAPE_KAFKA_PORT. It records the --env it started with and syncs that one again on a
    plain `up`; another --env on a running stack only says what it would change. With
    --security it issues a local CA and SASL users (admin + one per declared service) and
    prints the client environment; passwords stay in files under the state folder.

    Example: dreamscape-infra up --runtime local --print-env >> "$GITHUB_ENV"
    """
    state = get_state(ctx)
    json_mode = state.output_format(output) is OutputFormat.json
    if print_env and json_mode:
        raise typer.BadParameter(
            "--print-env prints KEY=value lines, not JSON", param_hint="--print-env"
        )
    mode = _security_mode(security)
    stack, choice = _runtime(state, runtime, state_dir)
    if choice.name != "local" and mode not in (None, "plaintext"):
        raise typer.BadParameter(
            "only the local runtime can secure its listener (use --runtime local)",
            param_hint="--security",
        )
    requested = env or _environment(state)
    options = UpOptions(
        profiles=tuple(profile),
        wait=not no_wait,
        timeout_s=timeout,
        build=build,
        kraft=kraft,
        brokers=brokers,
        acls=acls,
        security=mode,
        # asked only with --security, so a plain `up` reads nothing more than before
        service_users=_declared_services(state, requested) if security is not None else (),
        environment=requested,
    )
    with _spinner(state, f"starting Kafka ({choice.name} runtime)") as progress:
        result = stack.up(options, progress)
    _note(state, result.notes)
    topics, change = None, None
    if options.wait and not no_sync:
        topics, change = _topics_once_ready(state, stack, choice, result, requested)
    _write_ci_env(choice.name, result.status, state_dir, print_env=print_env, env_file=env_file)
    if json_mode:
        from dreamscape_infra.runtime.render import up_document

        state.print_json(up_document(result, choice, options.wait, topics, change))
    elif not print_env:
        _print_up(state, result, ready=options.wait, topics=topics)
    _fail_unless_synced(state, topics)


def _write_ci_env(
    runtime: str,
    status: StackStatus,
    state_dir: Path | None,
    *,
    print_env: bool,
    env_file: Path | None,
) -> None:
    """--env-file appends the CI env lines to a file, --print-env prints them (alone)."""
    lines = ci_env_lines(runtime, status, state_dir)
    if env_file is not None:
        _append_env_file(env_file, lines)
    if print_env:
        for line in lines:
            typer.echo(line)


def _topics_once_ready(
    state: AppState,
    stack: StackRuntime,
    choice: RuntimeChoice,
    result: UpResult,
    requested: str | None,
) -> tuple[TopicsAfterUp | None, EnvironmentChange | None]:
    """Sync (or check) topics.yaml under the stack's environment, and plan the asked-for one
    when it differs from what the local stack was started with (never applied here)."""
    # the repository's docker stack ran its own topic-init, so the host only checks; the
    # local one, and the packaged compose file (no topic-init), sync from here
    sync_here = choice.name == "local" or result.sync_from_host
    # the local runtime records its environment; docker's is whatever is asked now
    environment = result.status.environment if choice.name == "local" else requested
    settings = _stack_settings(stack, result.status.bootstrap_servers)
    doing = "syncing topics.yaml" if sync_here else "checking topics from the host"
    with _spinner(state, doing) as progress:
        progress("topics", f"{'syncing' if sync_here else 'planning'} {state.topics_file}")
        topics = _topics_after_up(state, settings, environment, sync_here=sync_here)
    if topics is None or requested is None or requested == environment:
        return topics, None
    from dreamscape_infra.runtime.render import environment_change_line

    change = _environment_change(state, settings, environment, requested)
    state.err_console().print(environment_change_line(change), markup=False, highlight=False)
    return topics, change


def _environment_change(
    state: AppState, settings: ConnectionSettings, stack_env: str | None, requested: str
) -> EnvironmentChange:
    from dreamscape_infra.runtime.render import EnvironmentChange
    from dreamscape_infra.topics.stackcheck import check_after_up

    admin = state.admin(settings)
    try:
        check = check_after_up(admin, state.topics_file, requested)
    finally:
        admin.close()
    return EnvironmentChange(stack_env, requested, check)


def _print_up(
    state: AppState, result: UpResult, *, ready: bool, topics: TopicsAfterUp | None
) -> None:
    """The status table, the headline, the topics line and the client environment."""
    from dreamscape_infra.runtime.render import (
        client_environment_lines,
        up_headline,
        up_topics_line,
    )

    _print_status(state, result.status)
    out = state.out_console()
    out.print(up_headline(result, ready=ready), markup=False, highlight=False)
    if topics is not None:
        out.print("topics.yaml: ", end="", markup=False)
        out.print(up_topics_line(topics))
    for line in client_environment_lines(result.status):
        out.print(line, markup=False, highlight=False)


def _fail_unless_synced(state: AppState, topics: TopicsAfterUp | None) -> None:
    code = topics.exit_code if topics is not None else ExitCode.OK
    if code != ExitCode.OK:
        state.err_console().print(
            f"error: syncing {state.topics_file} did not fully succeed "
            "(see `dreamscape-infra topics plan`)",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(int(code))


def ci_env_lines(runtime: str, status: StackStatus, state_dir: Path | None) -> list[str]:
    """The KEY=value lines a CI env file takes ($GITHUB_ENV, a GitLab dotenv report), so the
    job's later steps reach this broker and `down` finds this stack."""
    lines = [f"KAFKA_BROKERS={status.bootstrap_servers}", f"DREAMSCAPE_RUNTIME={runtime}"]
    if status.client_environment is not None:  # a secured stack: never the password itself
        lines += [
            f"{k}={v}" for k, v in status.client_environment.variables if k != "KAFKA_BROKERS"
        ]
    # the Confluent-compatible base URL, as Confluent's clients name it (never credentials)
    lines += [
        f"SCHEMA_REGISTRY_URL={url}" for label, url in status.urls if label == SCHEMA_REGISTRY_LABEL
    ]
    if runtime == "local" and state_dir is not None:
        lines.append(f"DREAMSCAPE_STATE_DIR={state_dir.absolute()}")
    return lines


def _append_env_file(path: Path, lines: list[str]) -> None:
    from dreamscape_infra.errors import EnvironmentFailure

    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write("".join(f"{line}\n" for line in lines))
    except OSError as exc:
        raise EnvironmentFailure(
            f"--env-file {path}: cannot append ({exc.strerror or exc})"
        ) from None


def _security_mode(option: str | None) -> str | None:
    from dreamscape_infra.runtime.security import SECURITY_MODES

    if option is None:
        return None
    mode = option.strip().lower().replace("-", "_")
    if mode not in SECURITY_MODES:
        raise typer.BadParameter(
            f"'{option}' is not one of {', '.join(SECURITY_MODES)}", param_hint="--security"
        )
    return mode


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
                "kind": "down",
                "version": 1,
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
    """Show every service of the stack (state, health, pid, ports), whether a broker answers,
    how many declared topics are in sync, and a verdict that sets the exit code:

    exit 4 (no-broker) when no broker of the stack answers, whatever else is wrong; else
    exit 8 (service-down) when a service the stack expects is not running or is unhealthy
    (every local JVM: ZooKeeper and each broker; docker's zookeeper and kafka, and Kafka UI or
    Schema Registry once created; never the one-shot topic-init); else exit 0 (ok). Topics
    out of sync do not fail it (see `topics plan --detailed-exitcode`).

    Example: dreamscape-infra status --runtime local --output json
    """
    from dreamscape_infra.runtime.render import status_document, status_lines
    from dreamscape_infra.runtime.verdict import stack_verdict

    state = get_state(ctx)
    stack, _ = _runtime(state, runtime, state_dir)
    current = stack.status()
    broker, topics = _reach(state, current, stack)
    verdict = stack_verdict(current, broker)
    if state.output_format(output) is OutputFormat.json:
        state.print_json(status_document(current, broker, topics, verdict))
    else:
        _print_status(state, current)
        out = state.out_console()
        for line in status_lines(broker, topics, verdict):
            out.print(line, markup=False, highlight=False)
    failure = verdict.failure()
    if failure is not None:
        raise failure


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


__all__ = ["down", "logs", "register", "status", "up"]
