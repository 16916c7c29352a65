"""Pure planner and apply tests over many desired x actual cases, with the fake admin."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dreamscape_infra.errors import ExitCode
from dreamscape_infra.tables import TableData
from dreamscape_infra.topics.apply import apply_plan
from dreamscape_infra.topics.desired import DesiredState, TopicSpec
from dreamscape_infra.topics.plan import (
    Action,
    Plan,
    PlanOptions,
    PruneFacts,
    TopicPlan,
    block_unconfirmed,
    compute_plan,
    reassignment_for_rf,
)
from dreamscape_infra.topics.reconcile import Observed, make_plan, observe, sync_desired
from dreamscape_infra.topics.render import render_plan
from tests.fake_cluster import FakeCluster, FakeTopic

NOW = 10_000_000_000


def spec(
    name: str = "dreamscape.user.created",
    partitions: int = 3,
    rf: int = 1,
    configs: dict[str, str] | None = None,
    keyed: bool = False,
) -> TopicSpec:
    domain = name.split(".")[1]
    return TopicSpec(name, partitions, rf, dict(configs or {}), domain, f"{domain}-service", keyed)


def desired_of(*specs: TopicSpec, strict: bool = False) -> DesiredState:
    return DesiredState(
        topics=tuple(sorted(specs, key=lambda s: s.name)),
        groups=(),
        domains={s.domain: s.owner for s in specs},
        prefix="dreamscape.",
        environment=None,
        environments=(),
        strict_configs=strict,
        topic_index={s.name: s for s in specs},
    )


def kinds(plan_actions: object) -> list[tuple[str, str | None]]:
    assert isinstance(plan_actions, tuple)
    return [(a.kind, a.key) for a in plan_actions]


# (id, desired spec, actual topic or None, options, expected [(kind, key)], expected status)
CASES = [
    ("missing", spec(), None, PlanOptions(), [("create", None)], "create"),
    ("in-sync", spec(), FakeTopic(3), PlanOptions(), [], "in-sync"),
    ("grow", spec(partitions=6), FakeTopic(3), PlanOptions(), [("add-partitions", None)], "update"),
    (
        "shrink",
        spec(partitions=2),
        FakeTopic(3),
        PlanOptions(),
        [("unfixable", "partitions")],
        "unfixable",
    ),
    (
        "rf-up",
        spec(rf=3),
        FakeTopic(3, 1),
        PlanOptions(),
        [("unfixable", "replication_factor")],
        "unfixable",
    ),
    (
        "rf-down",
        spec(rf=1),
        FakeTopic(3, 2),
        PlanOptions(),
        [("unfixable", "replication_factor")],
        "unfixable",
    ),
    (
        "config-differs",
        spec(configs={"retention.ms": "86400000"}),
        FakeTopic(3),
        PlanOptions(),
        [("set-config", "retention.ms")],
        "update",
    ),
    (
        "config-equals-broker-default",
        spec(configs={"retention.ms": "604800000", "cleanup.policy": "delete"}),
        FakeTopic(3),
        PlanOptions(),
        [],
        "in-sync",
    ),
    (
        "list-order-ignored",
        spec(configs={"cleanup.policy": "compact,delete"}),
        FakeTopic(3, overrides={"cleanup.policy": "delete,compact"}),
        PlanOptions(),
        [],
        "in-sync",
    ),
    (
        "override-equal",
        spec(configs={"retention.ms": "86400000"}),
        FakeTopic(3, overrides={"retention.ms": "86400000"}),
        PlanOptions(),
        [],
        "in-sync",
    ),
    (
        "undeclared-override-reported",
        spec(),
        FakeTopic(3, overrides={"segment.ms": "600000"}),
        PlanOptions(),
        [("undeclared-config", "segment.ms")],
        "in-sync",
    ),
    (
        "undeclared-override-strict",
        spec(),
        FakeTopic(3, overrides={"segment.ms": "600000"}),
        PlanOptions(strict_configs=True),
        [("delete-config", "segment.ms")],
        "update",
    ),
    (
        "several-at-once",
        spec(partitions=6, configs={"retention.ms": "1000", "min.insync.replicas": "1"}),
        FakeTopic(3, overrides={"retention.ms": "2000"}),
        PlanOptions(),
        [("add-partitions", None), ("set-config", "retention.ms")],
        "update",
    ),
    (
        "unknown-key-on-broker-is-set",
        spec(configs={"message.timestamp.type": "LogAppendTime"}),
        FakeTopic(3),
        PlanOptions(),
        [("set-config", "message.timestamp.type")],
        "update",
    ),
]


@pytest.mark.parametrize(
    ("desired_spec", "actual", "options", "expected", "status"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_plan_cases(
    desired_spec: TopicSpec,
    actual: FakeTopic | None,
    options: PlanOptions,
    expected: list[tuple[str, str | None]],
    status: str,
) -> None:
    admin = FakeCluster(topics={desired_spec.name: actual} if actual else {}, brokers=3)
    desired = desired_of(desired_spec)
    plan = compute_plan(desired, admin.snapshot([desired_spec.name]), options)
    assert len(plan.topics) == 1
    assert plan.topics[0].status == status
    assert kinds(plan.actions) == expected


@pytest.mark.parametrize(
    ("keyed", "configs", "allow", "blocked"),
    [
        (False, {}, False, False),
        (True, {}, False, True),
        (True, {}, True, False),
        (False, {"cleanup.policy": "compact"}, False, True),
        (False, {"cleanup.policy": "compact,delete"}, True, False),
    ],
)
def test_partition_growth_on_keyed_topics_needs_a_flag(
    keyed: bool, configs: dict[str, str], allow: bool, blocked: bool
) -> None:
    s = spec(partitions=6, keyed=keyed, configs=configs)
    admin = FakeCluster(topics={s.name: FakeTopic(3, overrides=dict(configs))})
    plan = compute_plan(
        desired_of(s), admin.snapshot([s.name]), PlanOptions(allow_keyed_repartition=allow)
    )
    (grow,) = plan.of_kind("add-partitions")
    assert (grow.blocked is not None) is blocked
    assert grow.applicable is not blocked
    assert grow.before == 3
    assert grow.after == 6


def test_config_change_shows_current_source_and_desired() -> None:
    s = spec(configs={"retention.ms": "86400000", "cleanup.policy": "compact"})
    admin = FakeCluster(topics={s.name: FakeTopic(3, overrides={"retention.ms": "1000"})})
    plan = compute_plan(desired_of(s), admin.snapshot([s.name]))
    changes = {a.key: (a.before, a.source, a.after) for a in plan.of_kind("set-config")}
    assert changes == {
        "cleanup.policy": ("delete", "default", "compact"),
        "retention.ms": ("1000", "topic", "86400000"),
    }


def test_strict_configs_from_topics_yaml_setting() -> None:
    s = spec()
    admin = FakeCluster(topics={s.name: FakeTopic(3, overrides={"segment.ms": "1"})})
    plan = compute_plan(desired_of(s, strict=True), admin.snapshot([s.name]))
    assert kinds(plan.actions) == [("delete-config", "segment.ms")]


def test_every_declared_topic_has_an_entry_sorted_and_unmanaged_listed() -> None:
    specs = [spec("dreamscape.user.b"), spec("dreamscape.user.a"), spec("dreamscape.auth.c")]
    admin = FakeCluster(
        topics={
            "dreamscape.user.a": FakeTopic(3),
            "dreamscape.old.topic": FakeTopic(1),
            "other.team.topic": FakeTopic(1),
            "__consumer_offsets": FakeTopic(1),
            "_schemas": FakeTopic(1),
            "dreamscape._confluent-x": FakeTopic(1),
        }
    )
    plan = compute_plan(desired_of(*specs), admin.snapshot([s.name for s in specs]))
    names = [t.name for t in plan.topics]
    assert names == sorted(names)
    assert [(t.name, t.status) for t in plan.topics] == [
        ("dreamscape._confluent-x", "unmanaged"),
        ("dreamscape.auth.c", "create"),
        ("dreamscape.old.topic", "unmanaged"),
        ("dreamscape.user.a", "in-sync"),
        ("dreamscape.user.b", "create"),
    ]


def test_internal_topics_are_never_touched_even_with_prune_and_force() -> None:
    admin = FakeCluster(
        topics={
            "__consumer_offsets": FakeTopic(1),
            "_schemas": FakeTopic(1),
            "_confluent-metrics": FakeTopic(1),
            "dreamscape.old.topic": FakeTopic(1),
        }
    )
    # A prefix that would match internal names too, to prove the internal rule wins.
    desired = replace(desired_of(spec()), prefix="_")
    plan = compute_plan(desired, admin.snapshot([]), PlanOptions(prune=True, force=True))
    touched = {a.topic for a in plan.actions}
    assert not touched & {"__consumer_offsets", "_schemas", "_confluent-metrics"}


@pytest.mark.parametrize(
    ("facts", "options", "blocked_reason"),
    [
        (PruneFacts(), PlanOptions(prune=True, now_ms=NOW), None),
        (
            PruneFacts(groups={"dreamscape.old.topic": ("g1",)}),
            PlanOptions(prune=True, now_ms=NOW),
            "g1",
        ),
        (
            PruneFacts(groups={"dreamscape.old.topic": ("g1",)}),
            PlanOptions(prune=True, force=True, now_ms=NOW),
            None,
        ),
        (
            PruneFacts(latest_timestamp_ms={"dreamscape.old.topic": NOW - 1000}),
            PlanOptions(prune=True, now_ms=NOW, min_idle_ms=3_600_000),
            "1s ago",
        ),
        (
            PruneFacts(latest_timestamp_ms={"dreamscape.old.topic": NOW - 7_200_000}),
            PlanOptions(prune=True, now_ms=NOW, min_idle_ms=3_600_000),
            None,
        ),
    ],
)
def test_prune_safety(facts: PruneFacts, options: PlanOptions, blocked_reason: str | None) -> None:
    admin = FakeCluster(topics={"dreamscape.old.topic": FakeTopic(1)})
    plan = compute_plan(desired_of(spec()), admin.snapshot([]), options, facts)
    (delete,) = plan.of_kind("delete-topic")
    if blocked_reason is None:
        assert delete.blocked is None
    else:
        assert delete.blocked is not None
        assert blocked_reason in delete.blocked


def test_prune_caps_deletions_per_run() -> None:
    admin = FakeCluster(topics={f"dreamscape.old.t{i}": FakeTopic(1) for i in range(5)})
    plan = compute_plan(
        desired_of(spec()), admin.snapshot([]), PlanOptions(prune=True, max_deletes=2)
    )
    deletes = plan.of_kind("delete-topic")
    assert len(deletes) == 5
    assert len([a for a in deletes if a.applicable]) == 2
    assert all("limit of 2" in (a.blocked or "") for a in deletes if not a.applicable)


def test_without_prune_unmanaged_topics_are_only_listed() -> None:
    admin = FakeCluster(topics={"dreamscape.old.topic": FakeTopic(1)})
    plan = compute_plan(desired_of(spec()), admin.snapshot([]))
    assert kinds(plan.of_kind("unmanaged", "delete-topic")) == [("unmanaged", None)]
    assert not any(a.kind == "delete-topic" for a in plan.pending)


def test_under_replicated_partitions_reported_separately_from_rf() -> None:
    s = spec(rf=3)
    admin = FakeCluster(topics={s.name: FakeTopic(3, 3, isr_short=True)}, brokers=3)
    plan = compute_plan(desired_of(s), admin.snapshot([s.name]))
    assert kinds(plan.actions) == [("under-replicated", None)]
    assert plan.topics[0].status == "in-sync"


def test_block_unconfirmed_blocks_only_destructive_actions() -> None:
    s = spec(partitions=6, configs={"retention.ms": "1000"})
    admin = FakeCluster(
        topics={s.name: FakeTopic(3, overrides={"segment.ms": "1"}), "dreamscape.x.y": FakeTopic(1)}
    )
    plan = compute_plan(
        desired_of(s), admin.snapshot([s.name]), PlanOptions(strict_configs=True, prune=True)
    )
    blocked = block_unconfirmed(plan, "not confirmed")
    still = {(a.kind, a.key) for a in blocked.pending}
    assert still == {("add-partitions", None), ("set-config", "retention.ms")}
    assert {(a.kind, a.key) for a in blocked.blocked} == {
        ("delete-config", "segment.ms"),
        ("delete-topic", None),
    }


# ---- applying --------------------------------------------------------------------------


def many(n: int) -> list[TopicSpec]:
    return [spec(f"dreamscape.load.t{i:04d}", configs={"retention.ms": "1000"}) for i in range(n)]


@pytest.mark.parametrize("n", [3, 40, 1200])
def test_round_trips_do_not_grow_with_the_number_of_topics(n: int) -> None:
    specs = many(n)
    admin = FakeCluster(
        topics={s.name: FakeTopic(1) for s in specs[: n // 2]}  # half exist, too small
    )
    desired = desired_of(*[replace(s, partitions=2) for s in specs])
    outcome = sync_desired(desired, admin)
    assert outcome.report.exit_code() == ExitCode.OK
    assert admin.calls == [
        "snapshot",
        "create_topics",
        "wait_for_topics",
        "create_partitions",
        "alter_configs",
        "snapshot",  # the altered configs, read back once
    ]


class LaggingConfigs(FakeCluster):
    """A KRaft-like cluster: DescribeConfigs shows an accepted change only `lag` reads later."""

    def __init__(self, lag: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.lag = lag
        self.shown: dict[str, dict[str, str]] = {}

    def alter_configs(self, changes, *, validate_only):  # type: ignore[no-untyped-def]
        self.shown = {n: dict(t.overrides) for n, t in self.topics.items()}
        return super().alter_configs(changes, validate_only=validate_only)

    def snapshot(self, config_topics):  # type: ignore[no-untyped-def]
        current = super().snapshot(config_topics)
        if self.lag <= 0 or not self.shown:
            return current
        self.lag -= 1
        saved = {n: t.overrides for n, t in self.topics.items()}
        for name, overrides in self.shown.items():
            self.topics[name].overrides = overrides
        try:
            return super().snapshot(config_topics)
        finally:
            for name, overrides in saved.items():
                self.topics[name].overrides = overrides


def test_sync_returns_once_the_brokers_answer_with_the_new_configs() -> None:
    admin = LaggingConfigs(
        lag=3, topics={"dreamscape.user.created": FakeTopic(3, overrides={"retention.ms": "5"})}
    )
    desired = desired_of(spec(configs={"retention.ms": "604800000"}))
    outcome = sync_desired(desired, admin)
    assert outcome.report.exit_code() == ExitCode.OK
    assert admin.lag == 0  # it read until the change showed
    again = make_plan(desired, observe(admin, desired, prune=False), PlanOptions())
    assert again.pending == ()


def test_a_config_change_never_answered_is_a_timeout_not_a_success() -> None:
    admin = LaggingConfigs(
        lag=10**6, topics={"dreamscape.user.created": FakeTopic(3, overrides={"retention.ms": "5"})}
    )
    desired = desired_of(spec(configs={"retention.ms": "604800000"}))
    plan = make_plan(desired, observe(admin, desired, prune=False), PlanOptions())
    report = apply_plan(plan, admin, wait_timeout_s=0.2)
    assert [(r.action.key, r.outcome) for r in report.results if r.action.key] == [
        ("retention.ms", "timeout")
    ]
    assert report.exit_code() == ExitCode.ENVIRONMENT


@pytest.mark.parametrize(
    "actual",
    [
        {},
        {"dreamscape.user.created": FakeTopic(1, overrides={"retention.ms": "5"})},
        {
            "dreamscape.user.created": FakeTopic(
                2, overrides={"segment.ms": "5", "cleanup.policy": "compact"}
            )
        },
    ],
)
@pytest.mark.parametrize("strict", [False, True])
def test_a_plan_right_after_a_sync_is_empty(actual: dict[str, FakeTopic], strict: bool) -> None:
    s = spec(partitions=3, configs={"retention.ms": "604800000", "cleanup.policy": "delete"})
    other = spec("dreamscape.user.deleted", configs={"compression.type": "lz4"})
    admin = FakeCluster(topics=dict(actual))
    desired = desired_of(s, other, strict=strict)
    first = sync_desired(desired, admin, PlanOptions(strict_configs=strict))
    assert not first.report.errors
    again = compute_plan(
        desired, admin.snapshot([s.name, other.name]), PlanOptions(strict_configs=strict)
    )
    assert again.pending == ()
    assert [t.status for t in again.topics] == ["in-sync", "in-sync"]


def test_dry_run_validates_and_changes_nothing() -> None:
    s = spec(rf=3)  # RF 3 on one broker: the broker's policy refuses it
    ok = spec("dreamscape.user.deleted")
    admin = FakeCluster(topics={}, brokers=1)
    plan = compute_plan(desired_of(s, ok), admin.snapshot([]))
    report = apply_plan(plan, admin, dry_run=True)
    assert admin.topics == {}
    outcomes = {r.action.topic: r.outcome for r in report.results}
    assert outcomes == {s.name: "error", ok.name: "validated"}
    assert report.exit_code() == ExitCode.ENVIRONMENT


def test_per_topic_error_is_named_and_others_still_apply() -> None:
    a, b = spec("dreamscape.user.a"), spec("dreamscape.user.b")
    admin = FakeCluster(fail={a.name: ("POLICY_VIOLATION", "no thanks")})
    outcome = sync_desired(desired_of(a, b), admin)
    by_topic = {r.action.topic: r for r in outcome.report.results}
    assert by_topic[a.name].outcome == "error"
    assert "POLICY_VIOLATION" in (by_topic[a.name].message or "")
    assert by_topic[b.name].outcome == "ok"
    assert b.name in admin.topics
    assert outcome.report.exit_code() == ExitCode.ENVIRONMENT


def test_topic_created_concurrently_is_not_an_error_and_is_completed() -> None:
    s = spec(partitions=4, configs={"retention.ms": "1000"})
    admin = FakeCluster(race={s.name})
    outcome = sync_desired(desired_of(s), admin)
    assert outcome.report.exit_code() == ExitCode.OK
    outcomes = [(r.action.kind, r.outcome) for r in outcome.report.results]
    assert outcomes == [("create", "exists"), ("add-partitions", "ok"), ("set-config", "ok")]
    assert admin.topics[s.name].partitions == 4
    assert admin.topics[s.name].overrides["retention.ms"] == "1000"


def test_unfixable_drift_applies_the_rest_and_says_so() -> None:
    shrink = spec("dreamscape.user.a", partitions=1)
    fixable = spec("dreamscape.user.b", configs={"retention.ms": "1000"})
    admin = FakeCluster(topics={shrink.name: FakeTopic(3), fixable.name: FakeTopic(3)})
    outcome = sync_desired(desired_of(shrink, fixable), admin)
    assert admin.topics[fixable.name].overrides == {"retention.ms": "1000"}
    assert admin.topics[shrink.name].partitions == 3
    assert outcome.report.exit_code() == ExitCode.UNFIXABLE_DRIFT


def test_blocked_actions_are_never_sent() -> None:
    s = spec(partitions=6, keyed=True)
    admin = FakeCluster(topics={s.name: FakeTopic(3)})
    outcome = sync_desired(desired_of(s), admin)
    assert "create_partitions" not in admin.calls
    assert outcome.report.exit_code() == ExitCode.REFUSED
    assert admin.topics[s.name].partitions == 3


def test_reassignment_keeps_existing_replicas_and_adds_brokers() -> None:
    s = spec(rf=3)
    admin = FakeCluster(topics={s.name: FakeTopic(2, 1)}, brokers=3)
    doc = reassignment_for_rf(desired_of(s), admin.snapshot([]), [0, 1, 2])
    parts = doc["partitions"]
    assert [p["partition"] for p in parts] == [0, 1]
    for p in parts:
        assert p["replicas"][0] == 0
        assert sorted(p["replicas"]) == [0, 1, 2]
        assert p["log_dirs"] == ["any", "any", "any"]


def test_reassignment_shrinks_rf_from_the_end() -> None:
    s = spec(rf=1)
    admin = FakeCluster(topics={s.name: FakeTopic(1, 3)}, brokers=3)
    doc = reassignment_for_rf(desired_of(s), admin.snapshot([]), [0, 1, 2])
    assert doc["partitions"] == [
        {"topic": s.name, "partition": 0, "replicas": [0], "log_dirs": ["any"]}
    ]


# --- issue 8: summary, safety as fields, one identity, one default ---------------------------


def test_summary_counts_only_declared_topics_when_pruning() -> None:
    # One declared topic in sync, two unmanaged ones planned for deletion: "1 of 1", not "1 of 3".
    admin = FakeCluster(
        topics={
            "dreamscape.user.created": FakeTopic(3),
            "dreamscape.old.a": FakeTopic(1),
            "dreamscape.old.b": FakeTopic(1),
        }
    )
    plan = compute_plan(
        desired_of(spec()), admin.snapshot(["dreamscape.user.created"]), PlanOptions(prune=True)
    )
    assert len(plan.of_kind("delete-topic")) == 2
    summary = plan.summary()
    assert (summary["in_sync"], summary["topics"]) == (1, 1)


@pytest.mark.parametrize(("keyed", "destructive"), [(True, True), (False, False)])
def test_partition_growth_is_destructive_exactly_on_keyed_topics(
    keyed: bool, destructive: bool
) -> None:
    s = spec(partitions=6, keyed=keyed)
    admin = FakeCluster(topics={s.name: FakeTopic(3)})
    plan = compute_plan(
        desired_of(s), admin.snapshot([s.name]), PlanOptions(allow_keyed_repartition=True)
    )
    (grow,) = plan.of_kind("add-partitions")
    assert grow.destructive is destructive


def test_destructive_does_not_depend_on_the_wording_of_the_reason() -> None:
    # A reason that mentions "keyed" does not make an action destructive; the planner's field does.
    worded = Action("add-partitions", "dreamscape.a.b", before=1, after=2, reason="keyed topic")
    assert worded.destructive is False
    assert (
        block_unconfirmed(Plan((TopicPlan("dreamscape.a.b", "update", (worded,)),)), "no").blocked
        == ()
    )


def test_prune_limit_defaults_to_the_topics_file_setting() -> None:
    admin = FakeCluster(topics={f"dreamscape.old.t{i}": FakeTopic(1) for i in range(3)})
    desired = replace(desired_of(spec()), prune_max_deletes=1)
    plan = compute_plan(desired, admin.snapshot([]), PlanOptions(prune=True))
    assert len([a for a in plan.of_kind("delete-topic") if a.applicable]) == 1


def test_make_plan_keeps_every_option_it_is_given() -> None:
    # A message 1 s old blocks pruning under topics.yaml's 1 h, but the caller asked for 0.
    admin = FakeCluster(topics={"dreamscape.old.topic": FakeTopic(1)})
    desired = desired_of(spec())
    observed = Observed(
        admin.snapshot([]), PruneFacts(latest_timestamp_ms={"dreamscape.old.topic": NOW - 1000})
    )
    plan = make_plan(desired, observed, PlanOptions(prune=True, min_idle_ms=0, now_ms=NOW))
    (delete,) = plan.of_kind("delete-topic")
    assert delete.blocked is None


def test_rendering_a_report_matches_results_by_value_not_object_identity() -> None:
    admin = FakeCluster()
    desired = desired_of(spec())
    report = apply_plan(compute_plan(desired, admin.snapshot([])), admin)
    # The same plan computed again: equal actions, different objects.
    replanned = compute_plan(desired, FakeCluster().snapshot([]))
    (table,) = [t for t in render_plan(replanned, report) if isinstance(t, TableData)]
    assert table.rows == (("dreamscape.user.created", "3 partitions, RF 1", "", "ok"),)


def test_up_waits_for_a_restarted_brokers_replicas_and_gives_up_at_its_deadline() -> None:
    from dreamscape_infra.topics.stackcheck import wait_for_full_isr

    whole = FakeCluster(topics={"dreamscape.user.created": FakeTopic(3, 3)}, brokers=3)
    assert wait_for_full_isr(whole, 5.0) is True
    assert whole.calls == ["snapshot"]  # one read when every replica is in sync
    short = FakeCluster(
        topics={"dreamscape.user.created": FakeTopic(3, 3, isr_short=True)}, brokers=3
    )
    assert wait_for_full_isr(short, 0.6) is False
    assert len(short.calls) >= 2  # it read again before giving up
