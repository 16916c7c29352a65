"""`dreamscape-infra health` and `serve`: the cluster's verdict, once or over HTTP.

`health` reads the cluster once (one batched read through `AppState.admin()`), evaluates the
checks of `dreamscape_infra.health.checks` and exits 0 UP, 8 DEGRADED, 4 DOWN. `serve` answers
GET /health/kafka and GET /metrics from a read cached for a few seconds.
"""

from __future__ import annotations

import ipaddress
import json
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dreamscape_infra.cli.state import (
    OUTPUT_OPTION,
    TOPICS_FILE_OPTION,
    AppState,
    OutputFormat,
    get_state,
)
from dreamscape_infra.errors import EnvironmentFailure, ExitCode, InfraError

if TYPE_CHECKING:
    from dreamscape_infra.groups.model import GroupLag
    from dreamscape_infra.health.checks import HealthReport
    from dreamscape_infra.health.sources import Observation
    from dreamscape_infra.kafka.isolated import IsolatedClient
    from dreamscape_infra.settings import ConnectionSettings
    from dreamscape_infra.topics.model import DesiredState

ENV_OPTION: Any = typer.Option(
    None, "--env", "-e", envvar="DREAMSCAPE_ENV", help="Environment overlay from topics.yaml."
)
MAX_LAG_OPTION: Any = typer.Option(
    None, "--max-lag", min=0, help="DEGRADED when a declared group's total lag exceeds this."
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


def _evaluate(
    observation: Observation,
    lags: Sequence[GroupLag] | None,
    *,
    state: AppState,
    desired: DesiredState | None,
    max_lag: int | None,
    expect_brokers: int | None,
) -> HealthReport:
    from dreamscape_infra.health.checks import evaluate
    from dreamscape_infra.health.sources import expected_brokers

    return evaluate(
        observation.read,
        expected=expected_brokers(state.env, state.settings(), expect_brokers),
        sync=observation.sync,
        lags=lags,
        max_lag=max_lag,
        declared_groups=[g.name for g in desired.groups] if desired is not None else (),
    )


def health(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    env: str | None = ENV_OPTION,
    max_lag: int | None = MAX_LAG_OPTION,
    expect_brokers: int | None = EXPECT_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """The cluster's verdict, UP, DEGRADED or DOWN, with the checks behind it: brokers and
    controller, offline, under-replicated and under-min-ISR partitions, declared topics in
    sync, declared groups' lag.

    Exit codes: 0 UP, 8 DEGRADED, 4 DOWN (Kafka unreachable, no controller, offline
    partitions), 3 invalid topics.yaml.

    Example: dreamscape-infra health --env prod --expect-brokers 3
    """
    from dreamscape_infra.health.render import render_health, summarize
    from dreamscape_infra.health.sources import health_reads

    state = get_state(ctx)
    desired = _desired(state, env)
    settings = state.settings()
    lag_client = _isolated_lags(state, settings, desired)
    read_lag = lag_client.call if lag_client else _in_process_lags(state, settings, desired)
    try:
        observation, lags = health_reads(lambda: state.admin(settings), read_lag, desired)
    finally:
        if lag_client is not None:
            lag_client.close()
    report = _evaluate(
        observation,
        lags,
        state=state,
        desired=desired,
        max_lag=max_lag,
        expect_brokers=expect_brokers,
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


def _isolated_lags(
    state: AppState, settings: ConnectionSettings, desired: DesiredState | None
) -> IsolatedClient[Sequence[GroupLag] | None] | None:
    """The real clients read lag in a child process (`kafka.isolated`), started now so it
    boots while the cluster is read; None when a test injected its own adapters."""
    if not state.clients_may_be_isolated:
        return None
    from dreamscape_infra.health.sources import LagReadJob
    from dreamscape_infra.kafka.isolated import IsolatedClient

    client: IsolatedClient[Sequence[GroupLag] | None] = IsolatedClient(
        LagReadJob(settings, desired)
    )
    client.start()
    return client


def _in_process_lags(
    state: AppState, settings: ConnectionSettings, desired: DesiredState | None
) -> Callable[[], Sequence[GroupLag] | None]:
    """Lag through the groups client of this process (a test's fake)."""
    from dreamscape_infra.health.sources import read_lags

    def read() -> Sequence[GroupLag] | None:
        groups = state.groups_client(settings)
        try:
            return read_lags(groups, desired)
        finally:
            groups.close()

    return read


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
    from dreamscape_infra.health.server import CachedHealth, make_server

    state = get_state(ctx)
    _check_host(host)
    desired = _desired(state, env)
    from dataclasses import replace

    # a server's clients live for hours: librdkafka's default reconnect pacing for them
    settings = replace(state.settings(), short_lived=False)
    read, close_clients, restarts = _serve_reads(state, settings, desired, config_seconds)

    def evaluate(observation: Observation, lags: Sequence[GroupLag] | None) -> HealthReport:
        return _evaluate(
            observation,
            lags,
            state=state,
            desired=desired,
            max_lag=max_lag,
            expect_brokers=expect_brokers,
        )

    cached = CachedHealth(read, evaluate, cache_seconds, client_restarts=restarts)
    try:
        server = make_server(host, port, cached)
    except OSError as exc:
        close_clients()
        raise EnvironmentFailure(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="pick another --port" if exc.errno == 98 else None,
        ) from None
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    thread = threading.Thread(target=server.serve_forever, name="serve", daemon=True)
    thread.start()
    where = f"[{host}]" if ":" in host else host
    base = f"http://{where}:{server.server_address[1]}"
    if state.output_format(output) is OutputFormat.json:
        # one line, so a script can read it while the server keeps running
        typer.echo(
            json.dumps(
                {
                    "kind": "serve",
                    "version": 1,
                    "health_url": base + "/health/kafka",
                    "metrics_url": base + "/metrics",
                    "bootstrap_servers": settings.bootstrap_servers,
                    "cache_seconds": cache_seconds,
                }
            )
        )
    state.err_console().print(
        f"serving {base}/health/kafka and /metrics "
        f"(cluster {settings.bootstrap_servers}, cache {cache_seconds:g}s); "
        "Ctrl-C or SIGTERM stops",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        close_clients()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    state.err_console().print("stopped", markup=False)


def _serve_reads(
    state: AppState,
    settings: ConnectionSettings,
    desired: DesiredState | None,
    config_seconds: float,
) -> tuple[
    Callable[[], tuple[Observation, Sequence[GroupLag] | None]],
    Callable[[], None],
    Callable[[], int] | None,
]:
    """serve's read function, how to close its clients, and how many times their process was
    replaced (None when they run in this process).

    The real clients run in a child process (`kafka.isolated`), so a librdkafka abort while
    brokers die is a failed read, and the next read starts a new child. Adapters a test
    injects live in this process and are called here directly."""
    from dreamscape_infra.health.sources import ClusterReader, serve_read

    if not state.clients_may_be_isolated:
        admin = state.admin(settings)
        reader = ClusterReader(admin, desired, config_ttl_s=config_seconds)
        groups = state.groups_client(settings)  # one client for the server's life

        def close_injected() -> None:
            admin.close()
            groups.close()

        return lambda: serve_read(reader, groups, desired), close_injected, None

    from dreamscape_infra.health.sources import ServeReadJob, failed_observation
    from dreamscape_infra.kafka.isolated import IsolatedClient

    client = IsolatedClient(ServeReadJob(settings, desired, config_seconds))

    def read() -> tuple[Observation, Sequence[GroupLag] | None]:
        try:
            return client.call()
        except InfraError as exc:
            return failed_observation(exc.message), None

    return read, client.close, lambda: client.restarts


def register(app: typer.Typer) -> None:
    """Add `health` and `serve` to the root app."""
    app.command("health")(health)
    app.command("serve")(serve)


__all__ = ["health", "register", "serve"]
