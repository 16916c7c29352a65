"""Applying a plan: batched admin calls, one per action kind. Never prompts, never prints.

Order: create topics (then wait until they are visible), add partitions, alter configs
(set and delete together, incrementally, then wait until the brokers answer with them), delete
topics. With `dry_run`, every change is sent
with validate_only so the broker's policy checks run and nothing changes; deletions, which
cannot be validated, are reported as "would delete".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from dreamscape_infra.errors import ExitCode, InfraError
from dreamscape_infra.kafka.cluster import (
    ActionResult,
    ConfigOp,
    KafkaAdmin,
    NewTopicRequest,
    TopicState,
)
from dreamscape_infra.topics.model import DesiredState
from dreamscape_infra.topics.plan import (
    Action,
    ActionRef,
    Plan,
    PlanOptions,
    TopicPlan,
    compute_plan,
)

Outcome = Literal["ok", "validated", "exists", "error", "blocked", "reported", "timeout"]

# Called with (step, done, total) so the CLI can show progress.
ApplyProgress = Callable[[str, int, int], None]


def no_progress(step: str, done: int, total: int) -> None:
    """Ignore progress."""


@dataclass(frozen=True, slots=True)
class ActionReport:
    action: Action
    outcome: Outcome
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """Every action of the plan with its outcome, in plan order."""

    results: tuple[ActionReport, ...]
    dry_run: bool

    @property
    def errors(self) -> tuple[ActionReport, ...]:
        return tuple(r for r in self.results if r.outcome in ("error", "timeout"))

    @property
    def applied(self) -> tuple[ActionReport, ...]:
        return tuple(r for r in self.results if r.outcome in ("ok", "validated", "exists"))

    def exit_code(self) -> ExitCode:
        """Errors beat refusals, refusals beat unfixable drift."""
        if self.errors:
            return ExitCode.ENVIRONMENT
        if any(r.outcome == "blocked" for r in self.results):
            return ExitCode.REFUSED
        if any(r.action.kind == "unfixable" for r in self.results):
            return ExitCode.UNFIXABLE_DRIFT
        return ExitCode.OK


def _result(action: Action, answer: ActionResult | None, dry_run: bool) -> ActionReport:
    if answer is None:
        return ActionReport(action, "error", "no answer from the broker")
    if answer.ok:
        return ActionReport(action, "validated" if dry_run else "ok")
    if answer.error_code == "_TIMED_OUT":
        return ActionReport(action, "timeout", answer.message)
    return ActionReport(action, "error", f"{answer.error_code}: {answer.message}")


def apply_plan(
    plan: Plan,
    admin: KafkaAdmin,
    *,
    dry_run: bool = False,
    desired: DesiredState | None = None,
    options: PlanOptions | None = None,
    wait_timeout_s: float = 30.0,
    progress: ApplyProgress = no_progress,
) -> Report:
    """Apply every applicable action in a constant number of batched calls.

    A topic that someone else created meanwhile (TOPIC_ALREADY_EXISTS) is not an error: when
    `desired` is given it is described again and its remaining changes are applied too.
    Guarantees: internal topics are never in a request; blocked actions are never sent.
    """
    run = _Run(admin, dry_run, progress)
    actions = plan.actions
    raced = run.create([a for a in actions if a.kind == "create" and a.applicable], wait_timeout_s)
    extra: list[Action] = []
    if raced and desired is not None and not dry_run:
        extra = _replan(raced, desired, admin, options)
    pending = [a for a in [*actions, *extra] if a.applicable]
    run.add_partitions([a for a in pending if a.kind == "add-partitions"])
    run.alter_configs(
        [a for a in pending if a.kind in ("set-config", "delete-config")], wait_timeout_s
    )
    run.delete([a for a in pending if a.kind == "delete-topic"])
    return Report(run.in_plan_order(actions, extra), dry_run)


@dataclass(slots=True)
class _Run:
    """One application of a plan: a batched call per step, each action's outcome by its ref
    (`Action.ref`, the one identity of actions)."""

    admin: KafkaAdmin
    dry_run: bool
    progress: ApplyProgress
    results: dict[ActionRef, ActionReport] = field(default_factory=dict)

    def record(self, batch: list[Action], answers: dict[str, ActionResult]) -> None:
        for action in batch:
            self.results[action.ref] = _result(action, answers.get(action.topic), self.dry_run)

    def create(self, creates: list[Action], wait_timeout_s: float) -> list[str]:
        """Create topics and wait until they are usable; the topics someone else created
        meanwhile (their remaining changes still to plan)."""
        if not creates:
            return []
        results = self.results
        self.progress("create topics", 0, len(creates))
        answers = self.admin.create_topics(
            [_new_topic(a) for a in creates], validate_only=self.dry_run
        )
        self.record(creates, answers)
        raced: list[str] = []
        for action in creates:
            answer = answers.get(action.topic)
            if answer is not None and answer.error_code == "TOPIC_ALREADY_EXISTS":
                results[action.ref] = ActionReport(
                    action, "exists", "created concurrently by someone else"
                )
                raced.append(action.topic)
        if not self.dry_run:
            # created from our own request, so nothing is left to apply to them: no replan
            # (which would need the configs from a cluster that is failing right now)
            _created_anyway(creates, results, self.admin)
        # "exists" too: a topic a dead controller registered exists for CreateTopics but has
        # no leaders until the new controller creates its partitions; report it only once usable
        created = [a.topic for a in creates if results[a.ref].outcome in ("ok", "exists")]
        if created and not self.dry_run:
            missing = self.admin.wait_for_topics(created, wait_timeout_s)
            for action in creates:
                if action.topic in missing:
                    results[action.ref] = ActionReport(
                        action, "timeout", f"not visible in metadata after {wait_timeout_s:g}s"
                    )
        self.progress("create topics", len(creates), len(creates))
        return raced

    def add_partitions(self, grow: list[Action]) -> None:
        if not grow:
            return
        self.progress("add partitions", 0, len(grow))
        counts = {a.topic: int(a.after) for a in grow if isinstance(a.after, int)}
        self.record(grow, self.admin.create_partitions(counts, validate_only=self.dry_run))
        self.progress("add partitions", len(grow), len(grow))

    def alter_configs(self, alter: list[Action], wait_timeout_s: float) -> None:
        """Set and delete together, incrementally: undeclared settings are left alone. Then
        wait until DescribeConfigs answers with the changes: under KRaft the controller accepts
        them before the brokers apply them, and a plan right after the sync would show them
        as drift."""
        if not alter:
            return
        self.progress("alter configs", 0, len(alter))
        ops: dict[str, list[ConfigOp]] = {}
        for action in alter:
            assert action.key is not None
            op = (
                ConfigOp(action.key, "set", str(action.after))
                if action.kind == "set-config"
                else ConfigOp(action.key, "delete")
            )
            ops.setdefault(action.topic, []).append(op)
        self.record(alter, self.admin.alter_configs(ops, validate_only=self.dry_run))
        if not self.dry_run:
            applied = [a for a in alter if self.results[a.ref].outcome == "ok"]
            for action in _configs_not_visible(self.admin, applied, wait_timeout_s):
                self.results[action.ref] = ActionReport(
                    action, "timeout", f"not answered by the brokers after {wait_timeout_s:g}s"
                )
        self.progress("alter configs", len(alter), len(alter))

    def delete(self, deletes: list[Action]) -> None:
        if deletes and self.dry_run:  # deletions cannot be validated by the broker
            for action in deletes:
                self.results[action.ref] = ActionReport(action, "validated", "would delete")
        elif deletes:
            self.progress("delete topics", 0, len(deletes))
            self.record(deletes, self.admin.delete_topics([a.topic for a in deletes]))
            self.progress("delete topics", len(deletes), len(deletes))

    def in_plan_order(
        self, actions: tuple[Action, ...], extra: list[Action]
    ) -> tuple[ActionReport, ...]:
        """Every action of the plan with its outcome, then the replanned extras that ran."""
        ordered: list[ActionReport] = []
        for action in actions:
            if action.ref in self.results:
                ordered.append(self.results[action.ref])
            elif action.blocked is not None:
                ordered.append(ActionReport(action, "blocked", action.blocked))
            else:
                ordered.append(ActionReport(action, "reported"))
        ordered.extend(self.results[a.ref] for a in extra if a.ref in self.results)
        return tuple(ordered)


def _configs_not_visible(
    admin: KafkaAdmin, applied: list[Action], timeout_s: float
) -> list[Action]:
    """The config changes DescribeConfigs still does not show after `timeout_s` (one batched
    describe per poll, and none when the first one shows them all)."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    pending = applied
    while pending:
        try:
            topics = admin.snapshot(sorted({a.topic for a in pending})).topics
        except InfraError:
            return []  # the changes were accepted; a plan will tell whether they hold
        pending = [a for a in pending if not _config_shown(a, topics)]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    return pending


def _config_shown(action: Action, topics: Mapping[str, TopicState]) -> bool:
    topic = topics.get(action.topic)
    entry = topic.configs.get(action.key or "") if topic is not None else None
    if action.kind == "set-config":
        return entry is not None and entry.value == str(action.after)
    return entry is None or not entry.is_override


def _created_anyway(
    creates: list[Action], results: dict[ActionRef, ActionReport], admin: KafkaAdmin
) -> list[str]:
    """Failed creations whose topic exists after all: the broker (say a controller killed
    mid-request) created it but its answer was lost, or a retried request was refused. They
    are reported as existing, not as failed, so the report says what was really done."""
    failed = [a for a in creates if results[a.ref].outcome in ("error", "timeout")]
    if not failed:
        return []
    try:
        present = admin.snapshot([]).topics
    except InfraError:
        return []  # cannot tell: leave them reported as failed
    found = []
    for action in failed:
        if action.topic in present:
            lost = results[action.ref].message
            results[action.ref] = ActionReport(
                action, "exists", f"created, though the broker's answer was lost ({lost})"
            )
            found.append(action.topic)
    return found


def _new_topic(action: Action) -> NewTopicRequest:
    after = action.after
    assert isinstance(after, dict)
    partitions, rf, configs = after["partitions"], after["replication_factor"], after["configs"]
    assert isinstance(partitions, int)
    assert isinstance(rf, int)
    assert isinstance(configs, dict)
    return NewTopicRequest(
        action.topic, partitions, rf, {str(k): str(v) for k, v in configs.items()}
    )


def _replan(
    names: list[str], desired: DesiredState, admin: KafkaAdmin, options: PlanOptions | None
) -> list[Action]:
    """Describe topics created concurrently and return their remaining actions."""
    snapshot = admin.snapshot(names)
    subset = replace(
        desired,
        topics=tuple(t for t in desired.topics if t.name in names),
        topic_index={n: t for n, t in desired.topic_index.items() if n in names},
    )
    sub_plan = compute_plan(subset, snapshot, replace(options or PlanOptions(), prune=False))
    keep: list[TopicPlan] = [t for t in sub_plan.topics if t.name in names]
    return [a for t in keep for a in t.actions if a.applicable]
