"""Reading the actual state for a plan, and the non-interactive sync that `up` and topic-init use.

The CLI's `topics plan` / `topics sync` compose the same pieces with rendering and prompts in
between; `sync_from_file` is the same path without them, so compose-only users (topic-init)
and CLI users get the same topics.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from dreamscape_infra.kafka.cluster import ClusterSnapshot, KafkaAdmin
from dreamscape_infra.topics.apply import ApplyProgress, Report, apply_plan, no_progress
from dreamscape_infra.topics.model import DesiredState
from dreamscape_infra.topics.plan import Plan, PlanOptions, PruneFacts, compute_plan


@dataclass(frozen=True, slots=True)
class Observed:
    """The cluster as read for one plan."""

    snapshot: ClusterSnapshot
    prune_facts: PruneFacts | None


def observe(admin: KafkaAdmin, desired: DesiredState, *, prune: bool) -> Observed:
    """One metadata read plus one batched config read; prune facts only when pruning."""
    snapshot = admin.snapshot([t.name for t in desired.topics])
    facts: PruneFacts | None = None
    if prune:
        declared = {t.name for t in desired.topics}
        candidates = sorted(
            n for n in snapshot.topics if desired.is_managed_name(n) and n not in declared
        )
        if candidates:
            facts = PruneFacts(
                groups=admin.groups_with_offsets(candidates),
                latest_timestamp_ms=admin.latest_timestamps(candidates),
            )
    return Observed(snapshot, facts)


def make_plan(desired: DesiredState, observed: Observed, options: PlanOptions) -> Plan:
    """compute_plan with the current time filled in (the prune limits come from topics.yaml
    unless `options` sets them)."""
    opts = replace(options, now_ms=options.now_ms or int(time.time() * 1000))
    return compute_plan(desired, observed.snapshot, opts, observed.prune_facts)


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    plan: Plan
    report: Report


def sync_desired(
    desired: DesiredState,
    admin: KafkaAdmin,
    options: PlanOptions | None = None,
    *,
    dry_run: bool = False,
    progress: ApplyProgress = no_progress,
) -> SyncOutcome:
    """Plan and apply without prompting: no deletions unless options ask for them."""
    opts = options or PlanOptions()
    observed = observe(admin, desired, prune=opts.prune)
    plan = make_plan(desired, observed, opts)
    report = apply_plan(
        plan, admin, dry_run=dry_run, desired=desired, options=opts, progress=progress
    )
    return SyncOutcome(plan, report)


def sync_from_file(
    admin: KafkaAdmin,
    topics_file: str,
    environment: str | None = None,
    progress: ApplyProgress = no_progress,
) -> SyncOutcome:
    """What topic-init does: load topics.yaml and sync it, non-destructively."""
    from dreamscape_infra.topics.desired import load_desired  # YAML et al.: only when asked

    desired = load_desired(topics_file, environment)
    return sync_desired(desired, admin, progress=progress)
