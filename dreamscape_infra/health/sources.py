"""Where health's inputs come from: one batched cluster read, the plan, the local runtime, lag.

Everything here reads through our own adapters (`KafkaAdmin`, the local runtime's cluster.json)
and returns the plain values of `checks.py`. It never prints.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dreamscape_infra.errors import ConfigError, InfraError
from dreamscape_infra.health.checks import ClusterRead, Expectation, SyncState

if TYPE_CHECKING:
    from dreamscape_infra.groups.model import GroupLag
    from dreamscape_infra.kafka.cluster import KafkaAdmin
    from dreamscape_infra.settings import ConnectionSettings
    from dreamscape_infra.topics.desired import DesiredState


@dataclass(frozen=True, slots=True)
class Observation:
    """What one health read learned: the cluster, and the plan against topics.yaml."""

    read: ClusterRead
    sync: SyncState | None


def read_cluster(admin: KafkaAdmin, desired: DesiredState | None) -> Observation:
    """One batched read: metadata (brokers, controller, every partition) plus the declared
    topics' configs in one request per 500 topics. Never per topic. Failures become
    `ClusterRead.error`."""
    from dreamscape_infra.topics.plan import PlanOptions
    from dreamscape_infra.topics.reconcile import make_plan, observe

    started = time.perf_counter()
    wall = time.time()
    try:
        # metadata first: it fails fast when every broker refuses the connection
        if desired is not None:
            observed = observe(admin, desired, prune=False)
            snapshot = observed.snapshot
        else:
            snapshot = admin.snapshot([])
        # the metadata response names the brokers and the controller; DescribeCluster is only
        # asked of adapters that do not fill them in
        cluster = snapshot.cluster or admin.describe_cluster()
    except InfraError as exc:
        return Observation(
            ClusterRead(None, None, exc.message, time.perf_counter() - started, wall), None
        )
    duration = time.perf_counter() - started
    sync: SyncState | None = None
    if desired is not None:
        plan = make_plan(desired, observed, PlanOptions())
        pending = plan.pending
        sync = SyncState(
            environment=desired.environment,
            declared_topics=tuple(sorted(t.name for t in desired.topics)),
            pending_changes=len(pending),
            topics_out_of_sync=tuple(sorted({a.topic for a in pending})),
        )
    return Observation(ClusterRead(cluster, snapshot, None, duration, wall), sync)


def read_lags(
    settings: ConnectionSettings, desired: DesiredState | None
) -> Sequence[GroupLag] | None:
    """The declared groups' lag, or None when it is not read (the lag component then says
    "not checked").

    TODO(groups, issue 9): return
    `dreamscape_infra.groups.lag.read_group_lags(ConfluentGroups(settings), desired)` with
    `dreamscape_infra.kafka.groups.ConfluentGroups(settings, timeout_s=10.0)` once the
    consumer-groups capability is merged; everything downstream already takes GroupLag values.
    """
    del settings, desired
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
