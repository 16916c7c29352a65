"""Applying a plan: batched admin calls, one per action kind. Never prompts, never prints.

Order: create topics (then wait until they are visible), add partitions, alter configs
(set and delete together, incrementally), delete topics. With `dry_run`, every change is sent
with validate_only so the broker's policy checks run and nothing changes; deletions, which
cannot be validated, are reported as "would delete".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from dreamscape_infra.admin import ActionResult, ConfigOp, KafkaAdmin, NewTopicRequest
from dreamscape_infra.desired import DesiredState
from dreamscape_infra.errors import ExitCode
from dreamscape_infra.plan import Action, Plan, PlanOptions, TopicPlan, compute_plan

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
    results: dict[int, ActionReport] = {}
    actions = plan.actions
    index_of = {id(a): i for i, a in enumerate(actions)}

    creates = [a for a in actions if a.kind == "create" and a.applicable]
    raced: list[str] = []
    if creates:
        progress("create topics", 0, len(creates))
        requests = [_new_topic(a) for a in creates]
        answers = admin.create_topics(requests, validate_only=dry_run)
        created: list[str] = []
        for action in creates:
            answer = answers.get(action.topic)
            if answer is not None and answer.error_code == "TOPIC_ALREADY_EXISTS":
                results[index_of[id(action)]] = ActionReport(
                    action, "exists", "created concurrently by someone else"
                )
                raced.append(action.topic)
            else:
                results[index_of[id(action)]] = _result(action, answer, dry_run)
                if answer is not None and answer.ok:
                    created.append(action.topic)
        if created and not dry_run:
            missing = admin.wait_for_topics(created, wait_timeout_s)
            for action in creates:
                if action.topic in missing:
                    results[index_of[id(action)]] = ActionReport(
                        action, "timeout", f"not visible in metadata after {wait_timeout_s:g}s"
                    )
        progress("create topics", len(creates), len(creates))

    extra: list[Action] = []
    if raced and desired is not None and not dry_run:
        extra = _replan(raced, desired, admin, options)

    all_actions = list(actions) + extra
    partitions = [a for a in all_actions if a.kind == "add-partitions" and a.applicable]
    if partitions:
        progress("add partitions", 0, len(partitions))
        answers = admin.create_partitions(
            {a.topic: int(a.after) for a in partitions if isinstance(a.after, int)},
            validate_only=dry_run,
        )
        for action in partitions:
            _store(
                results,
                index_of,
                extra,
                action,
                _result(action, answers.get(action.topic), dry_run),
            )
        progress("add partitions", len(partitions), len(partitions))

    config_actions = [
        a for a in all_actions if a.kind in ("set-config", "delete-config") and a.applicable
    ]
    if config_actions:
        progress("alter configs", 0, len(config_actions))
        ops: dict[str, list[ConfigOp]] = {}
        for action in config_actions:
            assert action.key is not None
            op = (
                ConfigOp(action.key, "set", str(action.after))
                if action.kind == "set-config"
                else ConfigOp(action.key, "delete")
            )
            ops.setdefault(action.topic, []).append(op)
        answers = admin.alter_configs(ops, validate_only=dry_run)
        for action in config_actions:
            _store(
                results,
                index_of,
                extra,
                action,
                _result(action, answers.get(action.topic), dry_run),
            )
        progress("alter configs", len(config_actions), len(config_actions))

    deletes = [a for a in all_actions if a.kind == "delete-topic" and a.applicable]
    if deletes:
        if dry_run:
            for action in deletes:
                _store(
                    results,
                    index_of,
                    extra,
                    action,
                    ActionReport(action, "validated", "would delete"),
                )
        else:
            progress("delete topics", 0, len(deletes))
            answers = admin.delete_topics([a.topic for a in deletes])
            for action in deletes:
                _store(
                    results,
                    index_of,
                    extra,
                    action,
                    _result(action, answers.get(action.topic), False),
                )
            progress("delete topics", len(deletes), len(deletes))

    ordered: list[ActionReport] = []
    for i, action in enumerate(actions):
        if i in results:
            ordered.append(results[i])
        elif action.blocked is not None:
            ordered.append(ActionReport(action, "blocked", action.blocked))
        else:
            ordered.append(ActionReport(action, "reported"))
    extra_results = [r for r in results.values() if r.action in extra]
    return Report(tuple(ordered + extra_results), dry_run)


def _store(
    results: dict[int, ActionReport],
    index_of: dict[int, int],
    extra: list[Action],
    action: Action,
    report: ActionReport,
) -> None:
    key = index_of.get(id(action))
    if key is None:  # an action of a re-planned (raced) topic
        key = -1 - extra.index(action)
    results[key] = report


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
