"""`dreamscape-infra health` and `serve`: the cluster's verdict, once or over HTTP.

`health` reads the cluster once (one batched read, then the declared groups' lag), evaluates
the checks of `dreamscape_infra.health.checks` and exits 0 UP, 8 DEGRADED, 4 DOWN. `serve`
answers GET /health/kafka and GET /metrics from a read cached for a few seconds. Both read
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
    from dreamscape_infra.health.sources import AdminFactory, GroupsFactory
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
    env: str | None = ENV_OPTION,
    max_lag: int | None = MAX_LAG_OPTION,
    max_lag_seconds: float | None = MAX_LAG_SECONDS_OPTION,
    expect_brokers: int | None = EXPECT_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Serve GET /health/kafka (the health JSON; 200 when UP, 503 otherwise) and GET /metrics
    (Prometheus text, documented in docs/metrics.md). Cluster reads are cached, so concurrent
    scrapes make at most one read per --cache-seconds. SIGTERM or Ctrl-C stops it (exit 0).

    Exit codes: 0 stopped by a signal, 2 invalid --host/--port, 3 invalid topics.yaml,
    4 the port is in use or cannot be bound.

    Example: dreamscape-infra serve --env prod --port 9308
    """
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
    settings = replace(state.settings(), short_lived=False)
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
    try:
        with serving(make_server(host, port, cached)) as base:
            _announce(
                state, state.output_format(output), base, settings.bootstrap_servers, cache_seconds
            )
            wait_for_stop_signal()
    finally:
        calls.close()
    state.err_console().print("stopped", markup=False)


def _announce(
    state: AppState, output: OutputFormat, base: str, bootstrap: str, cache_seconds: float
) -> None:
    """Where serve answers: one JSON line on stdout (a script reads it while the server runs)
    with -o json, and one line on stderr."""
    if output is OutputFormat.json:
        document = {
            "kind": "serve",
            "version": 1,
            "health_url": base + "/health/kafka",
            "metrics_url": base + "/metrics",
            "bootstrap_servers": bootstrap,
            "cache_seconds": cache_seconds,
        }
        typer.echo(json.dumps(document))
    state.err_console().print(
        f"serving {base}/health/kafka and /metrics "
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
