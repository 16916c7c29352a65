"""Where health's inputs come from: one batched cluster read, the plan, the local runtime, lag.

Everything here reads through our own adapters (`KafkaAdmin`, the local runtime's cluster.json)
and returns the plain values of `checks.py`. `health_reading` and `serve_reading` are the jobs
the CLI gives a `kafka.client_host.ClientHost`: the real clients run in a child process, so a
librdkafka abort while brokers die costs that child, never `health` or `serve`. It never prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from dreamscape_infra.errors import ConfigError, InfraError
from dreamscape_infra.health.checks import ClusterRead, Expectation, LagLimits, SyncState

if TYPE_CHECKING:
    from dreamscape_infra.groups.client import GroupsClient
    from dreamscape_infra.groups.model import GroupLag
    from dreamscape_infra.health.checks import HealthReport
    from dreamscape_infra.kafka.client_host import ClientCalls
    from dreamscape_infra.kafka.cluster import ClusterSnapshot, ConfigEntryState, KafkaAdmin
    from dreamscape_infra.settings import ConnectionSettings
    from dreamscape_infra.topics.model import DesiredState


@dataclass(frozen=True, slots=True)
class Observation:
    """What one health read learned: the cluster, and the plan against topics.yaml."""

    read: ClusterRead
    sync: SyncState | None


def read_cluster(admin: KafkaAdmin, desired: DesiredState | None) -> Observation:
    """One batched read: metadata (brokers, controller, every partition) plus the declared
    topics' configs in one request per 500 topics. Never per topic. Failures become
    `ClusterRead.error`."""
    return ClusterReader(admin, desired, config_ttl_s=0.0).read()


class ClusterReader:
    """Repeated reads for `serve`: partitions, ISR, leaders and brokers are read every time;
    the declared topics' configs (for the sync status and min.insync.replicas) are read again
    only when older than `config_ttl_s` or when a declared topic has none cached yet.

    Configs change only when someone changes them on purpose, while the ISR changes when a
    broker dies; reading the configs of 400 topics costs ~15 times the metadata, so a scrape
    every few seconds need not pay for them each time. Not thread-safe (serve's cache calls
    it under its lock).
    """

    def __init__(
        self,
        admin: KafkaAdmin,
        desired: DesiredState | None,
        config_ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._admin = admin
        self._desired = desired
        self._ttl = config_ttl_s
        self._clock = clock
        self._configs: dict[str, Mapping[str, ConfigEntryState]] = {}
        self._configs_at: float | None = None
        self.config_reads = 0

    def _snapshot(self) -> ClusterSnapshot:
        declared = [t.name for t in self._desired.topics] if self._desired is not None else []
        fresh = self._configs_at is not None and self._clock() - self._configs_at < self._ttl
        if declared and fresh:
            snapshot = self._admin.snapshot([])  # metadata fails fast when brokers refuse
            if all(n in self._configs for n in declared if n in snapshot.topics):
                topics = {
                    name: replace(state, configs=self._configs[name])
                    if name in self._configs
                    else state
                    for name, state in snapshot.topics.items()
                }
                return replace(snapshot, topics=topics)
        snapshot = self._admin.snapshot(declared)
        if declared:
            self.config_reads += 1
            self._configs = {
                n: snapshot.topics[n].configs for n in declared if n in snapshot.topics
            }
            self._configs_at = self._clock()
        return snapshot

    def read(self) -> Observation:
        """One observation; failures become `ClusterRead.error`, never an exception."""
        from dreamscape_infra.topics.plan import PlanOptions
        from dreamscape_infra.topics.reconcile import Observed, make_plan

        started = time.perf_counter()
        wall = time.time()
        try:
            snapshot = self._snapshot()
            # the metadata response names the brokers and the controller; DescribeCluster is
            # only asked of adapters that do not fill them in
            cluster = snapshot.cluster or self._admin.describe_cluster()
        except InfraError as exc:
            self._configs_at = None
            return Observation(
                ClusterRead(None, None, exc.message, time.perf_counter() - started, wall), None
            )
        duration = time.perf_counter() - started
        sync: SyncState | None = None
        if self._desired is not None:
            plan = make_plan(self._desired, Observed(snapshot, None), PlanOptions())
            pending = plan.pending
            sync = SyncState(
                environment=self._desired.environment,
                declared_topics=tuple(sorted(t.name for t in self._desired.topics)),
                pending_changes=len(pending),
                topics_out_of_sync=tuple(sorted({a.topic for a in pending})),
            )
        return Observation(ClusterRead(cluster, snapshot, None, duration, wall), sync)


def health_reads(
    open_admin: Callable[[], KafkaAdmin],
    lags: Callable[[], Sequence[GroupLag] | None],
    desired: DesiredState | None,
) -> tuple[Observation, Sequence[GroupLag] | None]:
    """`health`'s two reads: the cluster, then, when it answered, the declared groups' lag.
    Lag that cannot be read (`lags` raises, e.g. its client process crashed twice) is None,
    "not checked", like lag the groups client could not read."""
    try:
        admin = open_admin()
    except InfraError as exc:
        return failed_observation(exc.message), None
    try:
        observation = read_cluster(admin, desired)
    finally:
        admin.close()
    if observation.read.snapshot is None:
        return observation, None
    try:
        return observation, lags()
    except InfraError:
        return observation, None


def serve_read(
    reader: ClusterReader, groups: GroupsClient, desired: DesiredState | None
) -> tuple[Observation, Sequence[GroupLag] | None]:
    """One read of `serve`: the cluster, then every group's lag (/metrics shows them all; the
    verdict judges the declared ones). Lag is not asked of a cluster that did not answer."""
    observation = reader.read()
    ok = observation.read.snapshot is not None
    return observation, read_lags(groups, desired, all_groups=True) if ok else None


AdminFactory = Callable[["ConnectionSettings"], "KafkaAdmin"]
GroupsFactory = Callable[["ConnectionSettings"], "GroupsClient"]
Reading = tuple[Observation, "Sequence[GroupLag] | None"]


@contextmanager
def health_reading(
    settings: ConnectionSettings,
    desired: DesiredState | None,
    open_admin: AdminFactory,
    open_groups: GroupsFactory,
) -> Iterator[Callable[[], Reading]]:
    """`health`'s job for a `ClientHost`: `health_reads` of the declared groups, each client
    opened for the read and closed after it."""

    def lags() -> Sequence[GroupLag] | None:
        with closing(open_groups(settings)) as groups:
            return read_lags(groups, desired)

    yield lambda: health_reads(lambda: open_admin(settings), lags, desired)


@contextmanager
def serve_reading(
    settings: ConnectionSettings,
    desired: DesiredState | None,
    config_ttl_s: float,
    open_admin: AdminFactory,
    open_groups: GroupsFactory,
) -> Iterator[Callable[[], Reading]]:
    """`serve`'s job for a `ClientHost`: one admin and one groups client for the server's
    life (closed when it stops), and `serve_read` over them."""
    with closing(open_admin(settings)) as admin, closing(open_groups(settings)) as groups:
        reader = ClusterReader(admin, desired, config_ttl_s)
        yield lambda: serve_read(reader, groups, desired)


def read_or_down(calls: ClientCalls[Reading]) -> Reading:
    """One read through `calls`; one that fails (its client process crashed twice, or gave no
    answer in time) is a DOWN observation, never an exception."""
    try:
        return calls.call()
    except InfraError as exc:
        return failed_observation(exc.message), None


def judge(
    observation: Observation,
    lags: Sequence[GroupLag] | None,
    *,
    env: Mapping[str, str],
    settings: ConnectionSettings,
    desired: DesiredState | None,
    max_lag: int | None,
    expect_brokers: int | None,
    max_lag_seconds: float | None = None,
) -> HealthReport:
    """The verdict of one read: the checks of `health.checks`, against the expected broker
    count (read again each time, so a restarted stack's layout counts) and the lag thresholds
    of --max-lag, --max-lag-seconds and topics.yaml."""
    from dreamscape_infra.health.checks import evaluate

    return evaluate(
        observation.read,
        expected=expected_brokers(env, settings, expect_brokers),
        sync=observation.sync,
        lags=lags,
        max_lag=max_lag,
        declared_groups=[g.name for g in desired.groups] if desired is not None else (),
        max_lag_seconds=max_lag_seconds,
        lag_limits=lag_limits(desired),
    )


def lag_limits(desired: DesiredState | None) -> LagLimits:
    """The `max_lag_seconds` thresholds topics.yaml declares on topics and groups."""
    if desired is None:
        return LagLimits()
    return LagLimits(
        topics={t.name: t.max_lag_seconds for t in desired.topics if t.max_lag_seconds},
        groups={g.name: g.max_lag_seconds for g in desired.groups if g.max_lag_seconds},
    )


def failed_observation(message: str) -> Observation:
    """The observation of a read that could not be made at all (the cluster counts as DOWN)."""
    return Observation(ClusterRead(None, None, message, 0.0, time.time()), None)


def read_lags(
    client: GroupsClient, desired: DesiredState | None, *, all_groups: bool = False
) -> Sequence[GroupLag] | None:
    """The groups' lag through the groups capability (`read_group_lags`): the declared groups,
    or with `all_groups` every group the cluster knows as well. None when it cannot be read,
    so the lag component says "not checked" instead of failing the whole verdict."""
    from dreamscape_infra.groups.lag import read_group_lags

    try:
        return read_group_lags(client, desired, all_groups=all_groups)
    except InfraError:
        return None


def expected_brokers(
    env: Mapping[str, str], settings: ConnectionSettings, override: int | None
) -> Expectation:
    """The broker count to compare with: --expect-brokers, else the local runtime's cluster.json
    when the bootstrap servers point at that stack, else nothing."""
    if override is not None:
        return Expectation(override, "--expect-brokers")
    try:
        from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime

        runtime = LocalRuntime(LocalConfig.from_env(env), env=env)
        layout = runtime.read_layout()
    except (ConfigError, OSError):
        return Expectation(None)
    if layout is None:
        return Expectation(None)
    ports = set(range(layout.kafka_port, layout.kafka_port + layout.brokers))
    if not any(_port(b) in ports for b in settings.brokers):
        return Expectation(None)
    return Expectation(layout.brokers, f"local runtime ({Path(runtime.layout_file)})")


def _port(address: str) -> int | None:
    tail = address.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None
