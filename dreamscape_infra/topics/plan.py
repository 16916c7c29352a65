"""The plan: what must change for the cluster to match topics.yaml. A plain value.

`compute_plan(desired, actual, options)` is pure. Every managed topic gets an entry (sorted by
name), and each entry lists its actions. Applying is `dreamscape_infra.topics.apply`; rendering is
`dreamscape_infra.topics.render`. Because declared configs are normalised at load time and compared
with `configs_equal`, a plan computed right after a successful sync is empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from dreamscape_infra.kafka.cluster import ClusterSnapshot, TopicState, is_internal_topic
from dreamscape_infra.topics.configs import configs_equal
from dreamscape_infra.topics.model import DesiredState, TopicSpec

ActionKind = Literal[
    "create",
    "add-partitions",
    "set-config",
    "delete-config",
    "delete-topic",
    # reported, never applied:
    "undeclared-config",
    "unfixable",
    "under-replicated",
    "unmanaged",
]
APPLICABLE: frozenset[str] = frozenset(
    {"create", "add-partitions", "set-config", "delete-config", "delete-topic"}
)
TopicStatus = Literal["create", "update", "in-sync", "unfixable", "unmanaged", "delete"]

ActionRef = tuple[str, str, str | None]

Scalar = str | int | None
Value = Scalar | Mapping[str, "Value"]


@dataclass(frozen=True, slots=True)
class Action:
    """One change (or one finding) for one topic."""

    kind: ActionKind
    topic: str
    key: str | None = None  # the config key, for config actions
    before: Value = None
    after: Value = None
    source: str | None = None  # where `before` comes from: topic, default, broker...
    reason: str | None = None
    # Set when a change is destructive and its flag was not given: shown, never applied.
    blocked: str | None = None
    # Needs confirmation (a deletion, or partitions added to a keyed topic). Set by the planner
    # where it decides the action, so safety never depends on the wording of `reason`.
    destructive: bool = False

    @property
    def applicable(self) -> bool:
        return self.kind in APPLICABLE and self.blocked is None

    @property
    def ref(self) -> ActionRef:
        """The action's identity within a plan and its report: one action per kind, topic and
        config key. Results are matched by this, never by object identity."""
        return (self.kind, self.topic, self.key)


@dataclass(frozen=True, slots=True)
class TopicPlan:
    name: str
    status: TopicStatus
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """How to plan. The prune limits default to topics.yaml's settings (None: use them), so
    their defaults live in one place, `topics/desired.py`."""

    strict_configs: bool = False
    prune: bool = False
    allow_keyed_repartition: bool = False
    force: bool = False  # prune topics with offsets or recent messages
    max_deletes: int | None = None  # None: settings.prune_max_deletes
    min_idle_ms: int | None = None  # None: settings.prune_min_idle
    now_ms: int = 0


@dataclass(frozen=True, slots=True)
class PruneFacts:
    """What --prune needs to know about unmanaged topics before deleting them."""

    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    latest_timestamp_ms: Mapping[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Plan:
    topics: tuple[TopicPlan, ...]
    environment: str | None = None

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(a for t in self.topics for a in t.actions)

    @property
    def pending(self) -> tuple[Action, ...]:
        """Changes that sync would make."""
        return tuple(a for a in self.actions if a.applicable)

    @property
    def blocked(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.blocked is not None)

    @property
    def unfixable(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.kind == "unfixable")

    @property
    def has_changes(self) -> bool:
        return bool(self.pending) or bool(self.blocked)

    def of_kind(self, *kinds: ActionKind) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.kind in kinds)

    def summary(self) -> dict[str, int]:
        """Counts: `topics` is the declared topics (never unmanaged ones or ones planned for
        deletion), `in_sync` how many of them match, then one count per action kind."""
        counts = {
            "topics": len([t for t in self.topics if t.status not in ("unmanaged", "delete")]),
            "in_sync": len([t for t in self.topics if t.status == "in-sync"]),
        }
        for action in self.actions:
            key = action.kind.replace("-", "_")
            counts[key] = counts.get(key, 0) + 1
        counts["blocked"] = len(self.blocked)
        return counts


def compute_plan(
    desired: DesiredState,
    actual: ClusterSnapshot,
    options: PlanOptions | None = None,
    prune_facts: PruneFacts | None = None,
) -> Plan:
    """Compare desired and actual; return every managed topic's actions, sorted by name.

    Never touches internal topics. Only declared config keys are set; undeclared topic-level
    overrides are reported, and deleted only with `strict_configs`. Partitions only grow;
    a decrease and an RF difference are unfixable findings.
    """
    opts = options or PlanOptions()
    limits = _PruneLimits(
        desired.prune_max_deletes if opts.max_deletes is None else opts.max_deletes,
        desired.prune_min_idle_ms if opts.min_idle_ms is None else opts.min_idle_ms,
    )
    strict = opts.strict_configs or desired.strict_configs
    entries: list[TopicPlan] = []
    for spec in desired.topics:
        state = actual.topics.get(spec.name)
        if state is None:
            entries.append(_create(spec))
        else:
            entries.append(_update(spec, state, strict, opts))

    declared = {t.name for t in desired.topics}
    unmanaged = sorted(
        name
        for name in actual.topics
        if name not in declared and desired.is_managed_name(name) and not is_internal_topic(name)
    )
    facts = prune_facts or PruneFacts()
    deletions = 0
    for name in unmanaged:
        action = _unmanaged(name, opts, limits, facts, deletions)
        if action.kind == "delete-topic" and action.blocked is None:
            deletions += 1
        entries.append(
            TopicPlan(name, "delete" if action.kind == "delete-topic" else "unmanaged", (action,))
        )
    return Plan(tuple(sorted(entries, key=lambda e: e.name)), desired.environment)


def _create(spec: TopicSpec) -> TopicPlan:
    after: dict[str, Value] = {
        "partitions": spec.partitions,
        "replication_factor": spec.replication_factor,
        "configs": dict(spec.configs),
    }
    return TopicPlan(spec.name, "create", (Action("create", spec.name, after=after),))


def _update(spec: TopicSpec, state: TopicState, strict: bool, opts: PlanOptions) -> TopicPlan:
    actions = (
        *_partition_actions(spec, state, opts),
        *_replication_findings(spec, state),
        *_config_actions(spec, state, strict),
    )
    if any(a.kind == "unfixable" for a in actions):
        status: TopicStatus = "unfixable"
    elif any(a.kind in APPLICABLE for a in actions):
        status = "update"
    else:
        status = "in-sync"
    return TopicPlan(spec.name, status, actions)


def _partition_actions(spec: TopicSpec, state: TopicState, opts: PlanOptions) -> list[Action]:
    """Partitions only grow; growing a keyed or compacted topic needs its flag."""
    current = state.partition_count
    if spec.partitions > current:
        keyed = spec.keyed or spec.compacted
        reason = (
            "keyed topic: adding partitions changes which partition each key maps to"
            if keyed
            else "adding partitions changes the key-to-partition mapping"
        )
        blocked = (
            "pass --allow-keyed-repartition to add partitions to a keyed or compacted topic"
            if keyed and not opts.allow_keyed_repartition
            else None
        )
        return [
            Action(
                "add-partitions",
                spec.name,
                before=current,
                after=spec.partitions,
                reason=reason,
                blocked=blocked,
                destructive=keyed,
            )
        ]
    if spec.partitions < current:
        return [
            Action(
                "unfixable",
                spec.name,
                key="partitions",
                before=current,
                after=spec.partitions,
                reason="Kafka cannot remove partitions; recreate the topic "
                "or raise the declaration",
            )
        ]
    return []


def _replication_findings(spec: TopicSpec, state: TopicState) -> list[Action]:
    """An RF difference (unfixable here) and under-replicated partitions: reported only."""
    found: list[Action] = []
    rf = state.replication_factor
    if rf != spec.replication_factor:
        found.append(
            Action(
                "unfixable",
                spec.name,
                key="replication_factor",
                before=rf,
                after=spec.replication_factor,
                reason="changing the replication factor needs a partition reassignment "
                "(use --write-reassignment FILE)",
            )
        )
    if state.under_replicated:
        found.append(
            Action(
                "under-replicated",
                spec.name,
                before=len(state.under_replicated),
                reason="partitions whose ISR is smaller than their replica list: "
                + ",".join(str(p) for p in state.under_replicated),
            )
        )
    return found


def _config_actions(spec: TopicSpec, state: TopicState, strict: bool) -> list[Action]:
    """Declared keys that differ are set; undeclared topic-level overrides are reported, and
    deleted (a destructive change) only when `strict`."""
    actions: list[Action] = []
    for key, desired_value in sorted(spec.configs.items()):
        entry = state.configs.get(key)
        current_value = entry.value if entry is not None else None
        if entry is not None and configs_equal(key, current_value, desired_value):
            continue
        actions.append(
            Action(
                "set-config",
                spec.name,
                key=key,
                before=current_value,
                after=desired_value,
                source=entry.source if entry is not None else "absent",
            )
        )
    for key, entry in sorted(state.configs.items()):
        if entry.source != "topic" or key in spec.configs:
            continue
        actions.append(
            Action(
                "delete-config" if strict else "undeclared-config",
                spec.name,
                key=key,
                before=entry.value,
                after=None,
                source="topic",
                reason=None if strict else "not in topics.yaml; --strict-configs removes it",
                destructive=strict,
            )
        )
    return actions


@dataclass(frozen=True, slots=True)
class _PruneLimits:
    max_deletes: int
    min_idle_ms: int


def _unmanaged(
    name: str, opts: PlanOptions, limits: _PruneLimits, facts: PruneFacts, deletions: int
) -> Action:
    if not opts.prune:
        return Action("unmanaged", name, reason="not declared in topics.yaml; --prune deletes it")
    blocked: str | None = None
    groups = facts.groups.get(name, ())
    latest = facts.latest_timestamp_ms.get(name)
    if deletions >= limits.max_deletes:
        blocked = f"over the limit of {limits.max_deletes} deletions per run"
    elif groups and not opts.force:
        blocked = f"consumer groups have offsets on it ({', '.join(groups)}); --force deletes it"
    elif latest is not None and opts.now_ms - latest < limits.min_idle_ms and not opts.force:
        age_s = max(0, (opts.now_ms - latest) // 1000)
        blocked = f"received a message {age_s}s ago; --force deletes it"
    return Action(
        "delete-topic",
        name,
        reason="not declared in topics.yaml",
        blocked=blocked,
        destructive=True,
    )


def block_unconfirmed(plan: Plan, reason: str) -> Plan:
    """The same plan with every pending destructive action blocked (shown, never applied)."""
    topics = tuple(
        replace(
            topic,
            actions=tuple(
                replace(a, blocked=reason) if a.applicable and a.destructive else a
                for a in topic.actions
            ),
        )
        for topic in plan.topics
    )
    return replace(plan, topics=topics)


def reassignment_for_rf(
    desired: DesiredState, actual: ClusterSnapshot, broker_ids: Sequence[int]
) -> dict[str, Any]:
    """A kafka-reassign-partitions JSON that gives each drifted topic its declared RF.

    Existing replicas are kept (the leader first) and brokers are added round-robin, or the
    list is trimmed from the end, so as little data as possible moves.
    """
    brokers = sorted(broker_ids)
    partitions: list[dict[str, Any]] = []
    for spec in desired.topics:
        state = actual.topics.get(spec.name)
        if state is None or state.replication_factor == spec.replication_factor:
            continue
        for offset, part in enumerate(state.partitions):
            replicas = list(part.replicas[: spec.replication_factor])
            candidates = brokers[offset % max(len(brokers), 1) :] + brokers
            for broker in candidates:
                if len(replicas) >= spec.replication_factor:
                    break
                if broker not in replicas:
                    replicas.append(broker)
            partitions.append(
                {
                    "topic": spec.name,
                    "partition": part.id,
                    "replicas": replicas,
                    "log_dirs": ["any"] * len(replicas),
                }
            )
    return {"version": 1, "partitions": partitions}
