"""`dreamscape-infra health` and `serve`: the cluster's verdict, once or over HTTP.

`health` reads the cluster once (one batched read, then the declared groups' lag), evaluates
the checks of `dreamscape_infra.health.checks` and exits 0 UP, 8 DEGRADED, 4 DOWN. `serve`
answers GET /health/kafka, GET /metrics and the read-only console (the page at / and its JSON
under /api/, see dreamscape_infra/console) from a read cached for a few seconds. Both read
through `AppState.client_host` (a child process for the real clients, see kafka/client_host.py).
"""

from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dreamscape_infra.cli.state import (
    ENV_OPTION,
    OUTPUT_OPTION,
    TOPICS_FILE_OPTION,
    AppState,
    OutputFormat,
    get_state,
)
from dreamscape_infra.errors import ExitCode

if TYPE_CHECKING:
    from dreamscape_infra.console.messages import MessageQuery
    from dreamscape_infra.health.sources import AdminFactory, GroupsFactory
    from dreamscape_infra.settings import ConnectionSettings
    from dreamscape_infra.topics.model import DesiredState

MAX_LAG_OPTION: Any = typer.Option(
    None, "--max-lag", min=0, help="DEGRADED when a declared group's total lag exceeds this."
)
MAX_LAG_SECONDS_OPTION: Any = typer.Option(
    None,
    "--max-lag-seconds",
    min=0,
    help="DEGRADED when a declared group's oldest unconsumed message is older than this "
    "(seconds); topics.yaml's max_lag_seconds apply too, the stricter one counts.",
)
EXPECT_OPTION: Any = typer.Option(
    None,
    "--expect-brokers",
    min=1,
    help="Brokers there should be (default: the local runtime's count when it runs the stack).",
)

_EXIT = {"UP": ExitCode.OK, "DEGRADED": ExitCode.CHECK_FAILED, "DOWN": ExitCode.ENVIRONMENT}


def _desired(state: AppState, env: str | None) -> DesiredState | None:
    """topics.yaml for the sync and lag checks; None when there is no such file (those checks
    are then reported as not checked). An invalid file is still exit 3."""
    if not Path(state.topics_file).exists():
        return None
    return state.desired(env)


def _factories(state: AppState) -> tuple[AdminFactory, GroupsFactory]:
    """How a job opens its clients: the ones a test injected, else the real adapters (classes,
    which a child process can be given)."""
    from dreamscape_infra.kafka.admin import ConfluentAdmin
    from dreamscape_infra.kafka.groups import ConfluentGroups

    return state.admin_factory or ConfluentAdmin, state.groups_factory or ConfluentGroups


def health(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    env: str | None = ENV_OPTION,
    max_lag: int | None = MAX_LAG_OPTION,
    max_lag_seconds: float | None = MAX_LAG_SECONDS_OPTION,
    expect_brokers: int | None = EXPECT_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """The cluster's verdict, UP, DEGRADED or DOWN, with the checks behind it: brokers and
    controller, offline, under-replicated and under-min-ISR partitions, declared topics in
    sync, declared groups' lag (messages, and the age of the oldest unconsumed one against
    --max-lag-seconds and topics.yaml's max_lag_seconds).

    Exit codes: 0 UP, 8 DEGRADED, 4 DOWN (Kafka unreachable, no controller, offline
    partitions), 3 invalid topics.yaml.

    `dreamscape-infra health rules` prints Prometheus rules for `serve`'s metrics.

    Example: dreamscape-infra health --env prod --expect-brokers 3
    """
    from dreamscape_infra.health.render import render_health, summarize
    from dreamscape_infra.health.sources import health_reading, judge, read_or_down

    if ctx.invoked_subcommand is not None:
        return  # `health rules`: the options above belong to the check
    state = get_state(ctx)
    desired = _desired(state, env)
    settings = state.settings()
    calls = state.client_host.run(partial(health_reading, settings, desired, *_factories(state)))
    try:
        observation, lags = read_or_down(calls)
    finally:
        calls.close()
    report = judge(
        observation,
        lags,
        env=state.env,
        settings=settings,
        desired=desired,
        max_lag=max_lag,
        expect_brokers=expect_brokers,
        max_lag_seconds=max_lag_seconds,
    )
    if state.output_format(output) is OutputFormat.json:
        state.print_json(report.to_json())
    else:
        state.print_tables(render_health(report, settings.bootstrap_servers))
    if report.status != "UP":
        err = state.err_console()
        for name, component in report.components.items():
            if component.status in ("DEGRADED", "DOWN"):
                err.print(
                    f"{component.status}: {name}: {summarize(name, component)}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
        raise typer.Exit(int(_EXIT[report.status]))


def _check_host(host: str) -> str:
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        raise typer.BadParameter(
            f"'{host}' is neither an IP address nor a resolvable host name", param_hint="--host"
        ) from None
    return host


def serve(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind (loopback by default; 0.0.0.0 exposes it)."
    ),
    port: int = typer.Option(9308, "--port", "-p", min=1, max=65535, help="Port to bind."),
    cache_seconds: float = typer.Option(
        5.0,
        "--cache-seconds",
        min=0.0,
        help="Answer from the last cluster read while it is younger than this.",
    ),
    config_seconds: float = typer.Option(
        60.0,
        "--config-seconds",
        min=0.0,
        help="Read the declared topics' configs again after this long (partitions and ISR are "
        "read on every cluster read).",
    ),
    local_state: Path | None = typer.Option(
        None,
        "--local-state",
        metavar="DIR",
        help="Read the local runtime's stack in this state folder, as its admin, instead of "
        "the KAFKA_* settings (what `up --runtime local --profile ui` starts serve with).",
    ),
    env: str | None = ENV_OPTION,
    max_lag: int | None = MAX_LAG_OPTION,
    max_lag_seconds: float | None = MAX_LAG_SECONDS_OPTION,
    expect_brokers: int | None = EXPECT_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Serve GET /health/kafka (the health JSON; 200 when UP, 503 otherwise), GET /metrics
    (Prometheus text, documented in docs/metrics.md) and a read-only web console at / with its
    JSON under /api/ (docs/console.md). Cluster reads are cached, so concurrent scrapes and
    pages make at most one read per --cache-seconds. On an address other than loopback the
    console needs the token in DREAMSCAPE_UI_TOKEN; /health/kafka and /metrics stay open.
    SIGTERM or Ctrl-C stops it (exit 0).

    Exit codes: 0 stopped by a signal, 2 invalid --host/--port, 3 invalid topics.yaml,
    4 the port is in use or cannot be bound.

    Example: dreamscape-infra serve --env prod --port 9308
    """
    from dreamscape_infra.console.app import Access, ConsoleApp
    from dreamscape_infra.console.views import ConsoleContext
    from dreamscape_infra.health.server import (
        CachedHealth,
        make_server,
        serving,
        wait_for_stop_signal,
    )
    from dreamscape_infra.health.sources import judge, read_or_down, serve_reading

    state = get_state(ctx)
    _check_host(host)
    desired = _desired(state, env)
    # a server's clients live for hours: librdkafka's default reconnect pacing for them
    settings = replace(_serve_settings(state, local_state), short_lived=False)
    job = partial(serve_reading, settings, desired, config_seconds, *_factories(state))
    calls = state.client_host.run(job)
    evaluate = partial(
        judge,
        env=state.env,
        settings=settings,
        desired=desired,
        max_lag=max_lag,
        expect_brokers=expect_brokers,
        max_lag_seconds=max_lag_seconds,
    )
    cached = CachedHealth(
        lambda: read_or_down(calls), evaluate, cache_seconds, client_restarts=lambda: calls.restarts
    )
    access = Access.for_host(host, state.env)
    console = ConsoleApp(
        cached,
        ConsoleContext(desired, settings.bootstrap_servers, cache_seconds, state.topics_file),
        access,
        messages=partial(_read_messages, state, settings, desired),
        acls=partial(_read_acls, state, settings),
        schemas=partial(_read_schemas, state, desired),
    )
    try:
        with serving(make_server(host, port, cached, console)) as base, console.sampling():
            _announce(
                state, state.output_format(output), base, settings.bootstrap_servers, cache_seconds
            )
            state.err_console().print(access.describe(), markup=False, highlight=False)
            wait_for_stop_signal()
    finally:
        calls.close()
    state.err_console().print("stopped", markup=False)


def _serve_settings(state: AppState, local_state: Path | None) -> ConnectionSettings:
    """KAFKA_* (the default), or the admin settings of the local stack in `local_state`."""
    if local_state is None:
        return state.settings()
    from dreamscape_infra.errors import EnvironmentFailure
    from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime

    runtime = LocalRuntime(LocalConfig.from_env(state.env, local_state), env=state.env)
    if runtime.read_layout() is None:
        raise EnvironmentFailure(
            f"--local-state: no local stack was started in {local_state}",
            hint="`dreamscape-infra up --runtime local` starts one",
        )
    return runtime.admin_settings()


def _read_messages(
    state: AppState,
    settings: ConnectionSettings,
    desired: DesiredState | None,
    topic: str,
    query: MessageQuery,
) -> dict[str, Any]:
    """The console's message browser: one reader per request, by assignment (events tail's),
    closed after it. It runs in serve's process: it asks no group coordinator, the requests
    behind librdkafka's aborts (kafka/client_host.py)."""
    from dreamscape_infra.console.messages import read_messages

    if state.event_reader_factory is not None:
        reader = state.event_reader_factory(settings)
    else:
        from dreamscape_infra.kafka.events import ConfluentEventReader

        reader = ConfluentEventReader(settings)
    try:
        return read_messages(reader, desired, topic, query)
    finally:
        reader.close()


def _read_acls(state: AppState, settings: ConnectionSettings) -> dict[str, Any]:
    """`acls plan -o json`, or why there is none (no topics.yaml, no authorizer, no access)."""
    from dreamscape_infra.acls.desired import desired_acls
    from dreamscape_infra.acls.plan import DEFAULT_SUPER_USERS, AclPlanOptions, compute_acl_plan
    from dreamscape_infra.acls.render import plan_json
    from dreamscape_infra.errors import InfraError

    try:
        if not Path(state.topics_file).exists():
            raise FileNotFoundError(state.topics_file)
        declared = desired_acls(state.desired(None))
        admin = state.acl_admin(settings)
        try:
            actual = admin.list_acls()
        finally:
            admin.close()
    except (InfraError, FileNotFoundError) as exc:
        reason = exc.message if isinstance(exc, InfraError) else f"no {exc}"
        return {"kind": "acl-plan", "version": 1, "available": False, "reason": reason}
    doc = plan_json(
        compute_acl_plan(declared, actual, AclPlanOptions(super_users=DEFAULT_SUPER_USERS))
    )
    doc["available"] = True
    return doc


def _read_schemas(state: AppState, desired: DesiredState | None) -> dict[str, Any]:
    """`schemas plan -o json` against SCHEMA_REGISTRY_URL (default: the local runtime's), or
    why there is none. The registry's URL carries no credentials (schemas/settings.py)."""
    from dreamscape_infra.errors import InfraError
    from dreamscape_infra.schemas.desired import load_subjects
    from dreamscape_infra.schemas.plan import compute_plan
    from dreamscape_infra.schemas.reconcile import observe
    from dreamscape_infra.schemas.render import plan_json

    if desired is None:
        return {"kind": "schemas", "version": 1, "configured": False, "reason": "no topics.yaml"}
    try:
        specs = load_subjects(desired)
        registry = state.schema_registry()
        try:
            observed = observe(registry, specs, desired.prefix)
            plan = compute_plan(specs, observed, registry.url, prune=False)
        finally:
            registry.close()
    except InfraError as exc:
        return {"kind": "schemas", "version": 1, "configured": False, "reason": exc.message}
    doc = plan_json(plan)
    doc["configured"] = True
    return doc


def _announce(
    state: AppState, output: OutputFormat, base: str, bootstrap: str, cache_seconds: float
) -> None:
    """Where serve answers: one JSON line on stdout (a script reads it while the server runs)
    with -o json, and one line on stderr."""
    if output is OutputFormat.json:
        document = {
            "kind": "serve",
            "version": 1,
            "console_url": base + "/",
            "health_url": base + "/health/kafka",
            "metrics_url": base + "/metrics",
            "bootstrap_servers": bootstrap,
            "cache_seconds": cache_seconds,
        }
        typer.echo(json.dumps(document))
    state.err_console().print(
        f"serving the console at {base}/, {base}/health/kafka and /metrics "
        f"(cluster {bootstrap}, cache {cache_seconds:g}s); Ctrl-C or SIGTERM stops",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def rules(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    env: str | None = ENV_OPTION,
    job: str = typer.Option(
        "dreamscape-infra", "--job", help="The Prometheus scrape job of `serve` (for `up`)."
    ),
    lag_for: str = typer.Option(
        "2m",
        "--for",
        help="How long a lag-seconds threshold must be exceeded before its alert fires "
        "(a Prometheus duration: 30s, 2m, 1h).",
    ),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Prometheus recording and alerting rules for `serve`'s /metrics, as a rule file on
    stdout: lag seconds over the max_lag_seconds topics.yaml declares, lag growing for 10
    minutes, groups STOPPED or STALLED, offline and under-min-ISR partitions, missing brokers,
    topics out of sync, and `serve` not scraped. Generated from topics.yaml, so they change with
    it (docs/prometheus/ has them for the shipped file, with their promtool tests).

    Exit codes: 0 printed, 2 bad --for, 3 invalid topics.yaml.

    Example: dreamscape-infra health rules > /etc/prometheus/rules/dreamscape.yml
    """
    import re

    from dreamscape_infra.errors import UsageError
    from dreamscape_infra.health.rules import rules_document, rules_yaml

    state = get_state(ctx)
    if not re.fullmatch(r"(\d+(ms|s|m|h|d|w|y))+", lag_for):
        raise UsageError(f"--for: '{lag_for}' is not a Prometheus duration (e.g. 30s, 2m, 1h)")
    desired = _desired(state, env)
    document = rules_document(desired, job=job, lag_for=lag_for)
    if state.output_format(output) is OutputFormat.json:
        state.print_json(document)
        return
    source = desired.source if desired is not None else None
    typer.echo(rules_yaml(document, source), nl=False)


def register(app: typer.Typer) -> None:
    """Add `health` (with `health rules`) and `serve` to the root app."""
    group = typer.Typer()
    group.callback(invoke_without_command=True)(health)
    group.command("rules")(rules)
    app.add_typer(group, name="health")
    app.command("serve")(serve)


__all__ = ["health", "register", "rules", "serve"]
