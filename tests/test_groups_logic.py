"""Pure tests of the groups capability: status rules, lag reading over a fake client, cross-checks,
thresholds and reset plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from dreamscape_infra.errors import UsageError
from dreamscape_infra.groups.client import GroupMember, OffsetRange
from dreamscape_infra.groups.lag import breaches, cross_check, read_group_lags, select_groups
from dreamscape_infra.groups.model import NOT_STARTED, GroupLag, MemberInfo, PartitionLag
from dreamscape_infra.groups.reset import (
    ResetTarget,
    compute_reset,
    parse_datetime_ms,
    read_reset_plan,
)
from dreamscape_infra.groups.status import GroupStatus, judge, judge_all
from dreamscape_infra.topics.desired import load_desired
from tests.fake_cluster import FakeCluster, FakeGroup, topics_with
from tests.groups_support import write_topics_file

AUTH = "dreamscape-auth-service-group"
USER = "dreamscape-user-service-group"


def group(
    members: int = 1,
    committed: tuple[int | None, ...] = (5,),
    log_end: int = 10,
    state: str = "Stable",
    log_start: int = 0,
) -> GroupLag:
    parts = tuple(PartitionLag("t", i, c, log_start, log_end) for i, c in enumerate(committed))
    return GroupLag("g", state, members, True, parts)


# ---- status rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (group(state=NOT_STARTED, members=0, committed=(None,)), None, GroupStatus.NOT_STARTED),
        (group(members=0, committed=(5,)), None, GroupStatus.STOPPED),
        (group(members=0, committed=(10,)), None, GroupStatus.EMPTY),
        (group(members=0, committed=()), None, GroupStatus.EMPTY),
        (group(members=2, committed=(5,)), None, GroupStatus.OK),  # one sample: no movement
        # over a window: committed offsets did not move while lag > 0 -> STALLED
        (group(committed=(5,)), group(committed=(5,), log_end=10), GroupStatus.STALLED),
        (group(committed=(None,)), group(committed=(None,)), GroupStatus.STALLED),
        # committed moved but lag grew -> LAGGING
        (group(committed=(5,)), group(committed=(6,), log_end=20), GroupStatus.LAGGING),
        # committed moved and lag shrank -> OK
        (group(committed=(5,)), group(committed=(9,), log_end=12), GroupStatus.OK),
        # caught up and nothing moved: no lag, so not stalled
        (group(committed=(10,)), group(committed=(10,)), GroupStatus.OK),
        # members left during the window: the end decides
        (group(committed=(5,)), group(members=0, committed=(5,)), GroupStatus.STOPPED),
        (group(committed=(5,)), group(members=0, committed=(10,)), GroupStatus.EMPTY),
    ],
)
def test_status_rules(first: GroupLag, last: GroupLag | None, expected: GroupStatus) -> None:
    assert judge(first, last) is expected


def test_judge_all_pairs_groups_by_name() -> None:
    a = GroupLag("a", "Stable", 1, True, (PartitionLag("t", 0, 1, 0, 5),))
    b = GroupLag("b", "Stable", 1, True, (PartitionLag("t", 0, 1, 0, 5),))
    b_later = GroupLag("b", "Stable", 1, True, (PartitionLag("t", 0, 3, 0, 9),))
    assert judge_all([a, b], [b_later, a]) == {"a": GroupStatus.STALLED, "b": GroupStatus.LAGGING}
    assert judge_all([a, b]) == {"a": GroupStatus.OK, "b": GroupStatus.OK}


def test_lag_counts_from_log_start_without_a_commit_and_never_negative() -> None:
    assert PartitionLag("t", 0, None, 40, 100).lag == 60
    assert PartitionLag("t", 0, 10, 40, 100).lag == 60  # committed before the log start
    assert PartitionLag("t", 0, 120, 0, 100).lag == 0


# ---- reading lag over a fake client -----------------------------------------------------------


@pytest.fixture
def topics_file(tmp_path: Path) -> Path:
    return write_topics_file(tmp_path)


def cluster() -> FakeCluster:
    member = GroupMember("consumer-1-abc", "auth-1", "10.0.0.7", (("dreamscape.user.created", 0),))
    return FakeCluster(
        topics=topics_with(
            {
                "dreamscape.user.created": 3,
                "dreamscape.user.deleted": 3,
                "dreamscape.auth.login": 2,
                "other.topic": 1,
            }
        ),
        ranges={
            ("dreamscape.user.created", 0): OffsetRange(0, 34),
            ("dreamscape.user.created", 1): OffsetRange(0, 33),
            ("dreamscape.user.created", 2): OffsetRange(0, 33),
            ("dreamscape.user.deleted", 0): OffsetRange(5, 9),
            ("other.topic", 0): OffsetRange(0, 7),
        },
        groups={
            AUTH: FakeGroup(
                "Stable",
                [member],
                {("dreamscape.user.created", 0): 14, ("other.topic", 0): 7},
            ),
            "someone-else": FakeGroup("Empty", [], {("other.topic", 0): 2}),
        },
    )


def test_declared_groups_by_default_with_not_started(topics_file: Path) -> None:
    desired = load_desired(topics_file)
    client = cluster()
    lags = read_group_lags(client, desired)
    assert [g.group for g in lags] == [AUTH, USER]
    auth, user = lags
    assert (auth.state, auth.members, auth.declared) == ("Stable", 1, True)
    by_tp = {(p.topic, p.partition): p for p in auth.partitions}
    # declared topics: every partition; plus the committed undeclared topic
    assert set(by_tp) == {
        *(("dreamscape.user.created", p) for p in range(3)),
        *(("dreamscape.user.deleted", p) for p in range(3)),
        ("other.topic", 0),
    }
    assert by_tp[("dreamscape.user.created", 0)].lag == 20
    assert by_tp[("dreamscape.user.created", 0)].member == MemberInfo(
        "consumer-1-abc", "auth-1", "10.0.0.7"
    )
    assert by_tp[("dreamscape.user.created", 1)].committed is None
    assert by_tp[("dreamscape.user.created", 1)].lag == 33  # from the log start
    assert by_tp[("dreamscape.user.deleted", 0)].lag == 4  # log start 5, end 9
    assert auth.topic_lag() == {
        "dreamscape.user.created": 86,
        "dreamscape.user.deleted": 4,
        "other.topic": 0,
    }
    assert (user.state, user.members, user.declared) == (NOT_STARTED, 0, True)
    assert [(p.topic, p.committed) for p in user.partitions] == [
        ("dreamscape.auth.login", None),
        ("dreamscape.auth.login", None),
    ]
    assert "someone-else" not in {g.group for g in lags}


def test_round_trips_do_not_depend_on_partitions(topics_file: Path) -> None:
    client = cluster()
    read_group_lags(client, load_desired(topics_file), all_groups=True)
    assert client.calls == [
        "partition_counts",  # first: fails fast without a broker
        "list_groups",
        "describe_groups",
        "committed_offsets",
        "offset_ranges",
        "record_timestamps",  # one round: no partition has two lagging groups at two positions
    ]
    client = cluster()
    read_group_lags(client, load_desired(topics_file), all_groups=True, lag_seconds=False)
    assert "record_timestamps" not in client.calls


def test_all_groups_and_topic_filter(topics_file: Path) -> None:
    lags = read_group_lags(
        cluster(), load_desired(topics_file), all_groups=True, topic="other.topic"
    )
    assert [g.group for g in lags] == [AUTH, USER, "someone-else"]
    assert {(g.group, g.total_lag) for g in lags} == {(AUTH, 0), (USER, 0), ("someone-else", 5)}
    assert all(p.topic == "other.topic" for g in lags for p in g.partitions)
    other = lags[2]
    assert (other.declared, other.state) == (False, "Empty")


def test_without_topics_file_every_cluster_group() -> None:
    lags = read_group_lags(cluster(), None)
    assert [g.group for g in lags] == [AUTH, "someone-else"]
    assert not any(g.declared for g in lags)


def test_unknown_group_names_the_nearest(topics_file: Path) -> None:
    with pytest.raises(UsageError) as info:
        read_group_lags(cluster(), load_desired(topics_file), ["dreamscape-auth-servce-group"])
    assert info.value.exit_code == 2
    assert "nearest known: dreamscape-auth-service-group" in info.value.message
    assert "\n" not in info.value.message


def test_unknown_topic(topics_file: Path) -> None:
    with pytest.raises(UsageError, match=r"did you mean dreamscape\.user\.created"):
        read_group_lags(cluster(), load_desired(topics_file), topic="dreamscape.user.creatd")


def test_select_groups_keeps_the_named_order_once() -> None:
    assert select_groups({"a", "b"}, None, ["b", "a", "b"], all_groups=False) == ["b", "a"]


def test_cross_check(topics_file: Path) -> None:
    desired = load_desired(topics_file)
    auth, user = read_group_lags(cluster(), desired)
    check = cross_check(auth, desired)
    assert check is not None
    assert check.undeclared == ("other.topic",)
    assert check.never_committed == ("dreamscape.user.deleted",)
    user_check = cross_check(user, desired)
    assert user_check is not None
    assert user_check.never_committed == ("dreamscape.auth.login",)
    undeclared = GroupLag("x", "Empty", 0, False)
    assert cross_check(undeclared, desired) is None


def test_breaches() -> None:
    g = GroupLag(
        "g",
        "Stable",
        1,
        True,
        (PartitionLag("t", 0, 0, 0, 30), PartitionLag("t", 1, 0, 0, 30)),
    )
    assert breaches([g], max_lag=None, max_partition_lag=None) == ()
    assert breaches([g], max_lag=60, max_partition_lag=30) == ()  # equal is not over
    found = breaches([g], max_lag=59, max_partition_lag=29)
    assert [(b.kind, b.value, b.limit) for b in found] == [
        ("max-lag", 60, 59),
        ("max-partition-lag", 30, 29),
    ]
    assert found[1].describe() == "g: lag 30 on t-0 > --max-partition-lag 29"


# ---- reset plans ------------------------------------------------------------------------------

RANGES = {("t", 0): OffsetRange(10, 50), ("t", 1): OffsetRange(0, 5)}


@pytest.mark.parametrize(
    ("target", "expected", "notes"),
    [
        (ResetTarget("earliest"), {0: 10, 1: 0}, (None, None)),
        (ResetTarget("latest"), {0: 50, 1: 5}, (None, None)),
        (ResetTarget("offset", 20), {0: 20, 1: 5}, (None, "20 is past the log end 5: clamped")),
        (
            ResetTarget("offset", 3),
            {0: 10, 1: 3},
            ("3 is before the log start 10: clamped", None),
        ),
        # shift from the committed offset (30), or from the log start without one (partition 1)
        (ResetTarget("shift", -5), {0: 25, 1: 0}, (None, "-5 is before the log start 0: clamped")),
        (ResetTarget("shift", 2), {0: 32, 1: 2}, (None, None)),
        # datetime: the offset found, or the log end where no message is that recent
        (ResetTarget("datetime", 1), {0: 40, 1: 5}, (None, None)),
    ],
)
def test_compute_reset(
    target: ResetTarget, expected: dict[int, int], notes: tuple[str | None, ...]
) -> None:
    plan = compute_reset(
        "g",
        target,
        [("t", 1), ("t", 0)],
        RANGES,
        {("t", 0): 30},
        times={("t", 0): 40, ("t", 1): None},
    )
    assert {e.partition: e.new for e in plan.entries} == expected
    assert tuple(e.note for e in plan.entries) == notes
    assert [e.current for e in plan.entries] == [30, None]


def test_read_reset_plan_validates_and_reads(topics_file: Path) -> None:
    desired = load_desired(topics_file)
    client = cluster()
    plan = read_reset_plan(
        client, desired, AUTH, ResetTarget("earliest"), topics=["dreamscape.user.created"]
    )
    assert plan.members == 1
    assert [(e.partition, e.current, e.new) for e in plan.entries] == [
        (0, 14, 0),
        (1, None, 0),
        (2, None, 0),
    ]
    assert "alter_offsets" not in client.calls  # planning changes nothing
    plan = read_reset_plan(client, desired, AUTH, ResetTarget("latest"), all_topics=True)
    assert {e.topic for e in plan.entries} == {
        "dreamscape.user.created",
        "dreamscape.user.deleted",
        "other.topic",
    }
    plan = read_reset_plan(
        client, desired, USER, ResetTarget("latest"), all_topics=True, partitions=[1]
    )
    assert [(e.topic, e.partition) for e in plan.entries] == [("dreamscape.auth.login", 1)]
    with pytest.raises(UsageError, match="has no partition 7"):
        read_reset_plan(
            client, desired, AUTH, ResetTarget("earliest"), topics=["other.topic"], partitions=[7]
        )
    with pytest.raises(UsageError, match="does not exist"):
        read_reset_plan(client, desired, AUTH, ResetTarget("earliest"), topics=["nope"])
    with pytest.raises(UsageError, match="unknown consumer group"):
        read_reset_plan(client, desired, "nope", ResetTarget("earliest"), topics=["other.topic"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T15:00:00Z", 1795791600000),
        ("2026-11-27T16:00:00+01:00", 1795791600000),
        ("2026-11-27T15:00:00.250+00:00", 1795791600250),
    ],
)
def test_parse_datetime(text: str, expected: int) -> None:
    assert parse_datetime_ms(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "", "15:00"])
def test_parse_datetime_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="--to-datetime"):
        parse_datetime_ms(text)
