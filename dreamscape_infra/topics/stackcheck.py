"""topics.yaml against a stack this tool runs: the sync after a local `up`, the host-side check
after the docker stack's topic-init, and the summary `status` shows.

Each returns a value; the CLI renders it. Never prompts, prints or deletes: a stack's own sync
is non-destructive, and the check and the summary only plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dreamscape_infra.errors import ExitCode
from dreamscape_infra.kafka.cluster import KafkaAdmin
from dreamscape_infra.topics.apply import Report
from dreamscape_infra.topics.plan import Plan


@dataclass(frozen=True, slots=True)
class TopicsSummary:
    """How far the cluster is from topics.yaml, in counts."""

    declared: int
    in_sync: int
    pending: int
    unfixable: int

    @classmethod
    def of(cls, plan: Plan) -> TopicsSummary:
        """Counted from a plan (the one place that reads `Plan.summary()` for the stack)."""
        summary = plan.summary()
        return cls(
            declared=summary["topics"],
            in_sync=summary["in_sync"],
            pending=len(plan.pending),
            unfixable=len(plan.unfixable),
        )


@dataclass(frozen=True, slots=True)
class TopicsAfterUp:
    """What `up` did about topics.yaml once the broker was ready.

    `synced` (local runtime): planned and applied here, `report` holds the outcome.
    `checked` (docker runtime): topic-init synced inside the stack; this is the host's plan.
    """

    how: Literal["synced", "checked"]
    plan: Plan
    report: Report | None = None

    @property
    def summary(self) -> TopicsSummary:
        return TopicsSummary.of(self.plan)

    @property
    def exit_code(self) -> ExitCode:
        """The sync's own exit code; for a check, 4 when a declared topic is not in sync
        (topic-init said it synced, so the stack is not what it claims)."""
        if self.report is not None:
            return self.report.exit_code()
        return ExitCode.OK if not self.plan.has_changes else ExitCode.ENVIRONMENT


def plan_declared(admin: KafkaAdmin, topics_file: str, environment: str | None) -> Plan:
    """A read-only plan of `topics_file` (with the `environment` overlay) against `admin`;
    never prunes, so unmanaged topics are only listed."""
    from dreamscape_infra.topics.desired import load_desired
    from dreamscape_infra.topics.plan import PlanOptions
    from dreamscape_infra.topics.reconcile import make_plan, observe

    desired = load_desired(topics_file, environment)
    return make_plan(desired, observe(admin, desired, prune=False), PlanOptions())


def summarize_declared(
    admin: KafkaAdmin, topics_file: str, environment: str | None
) -> TopicsSummary:
    """`status`'s topic line: the counts of a read-only plan, never a change."""
    return TopicsSummary.of(plan_declared(admin, topics_file, environment))


# How long `up` waits for a restarted broker to catch up on the replicas it holds.
REPLICAS_WAIT_S = 60.0


def sync_after_up(admin: KafkaAdmin, topics_file: str, environment: str | None) -> TopicsAfterUp:
    """Sync `topics_file` into a stack that just started, as topic-init does: no deletions.
    Then wait (at most REPLICAS_WAIT_S) until every replica is back in its ISR: a broker that
    `up` restarted is registered before it has caught up, and `health` right after `up` would
    find its partitions under-replicated."""
    from dreamscape_infra.topics.reconcile import sync_from_file

    outcome = sync_from_file(admin, topics_file, environment)
    wait_for_full_isr(admin, REPLICAS_WAIT_S)
    return TopicsAfterUp("synced", outcome.plan, outcome.report)


def wait_for_full_isr(admin: KafkaAdmin, timeout_s: float) -> bool:
    """True once no partition has fewer in-sync replicas than replicas (one metadata read when
    none has); False after `timeout_s` or when the cluster stops answering (health will say)."""
    import time

    from dreamscape_infra.errors import InfraError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            topics = admin.snapshot([]).topics
        except InfraError:
            return False
        short = any(len(p.isr) < len(p.replicas) for t in topics.values() for p in t.partitions)
        if not short:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


def check_after_up(admin: KafkaAdmin, topics_file: str, environment: str | None) -> TopicsAfterUp:
    """After the docker stack's topic-init: plan from the host, so `up` can say whether every
    declared topic really is in sync."""
    return TopicsAfterUp("checked", plan_declared(admin, topics_file, environment))


__all__ = [
    "TopicsAfterUp",
    "TopicsSummary",
    "check_after_up",
    "plan_declared",
    "summarize_declared",
    "sync_after_up",
]
