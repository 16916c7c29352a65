"""Pure tests of lag in seconds, retention loss, rates and time to clear, over the fake client."""

from __future__ import annotations

from pathlib import Path

import pytest

from dreamscape_infra.groups.client import OffsetRange
from dreamscape_infra.groups.lag import breaches, format_seconds, read_group_lags
from dreamscape_infra.groups.model import RETENTION_LOST, GroupLag, PartitionLag
from dreamscape_infra.groups.rate import group_rate, rates
from dreamscape_infra.groups.render import lag_json, partitions_table, rates_table
from dreamscape_infra.groups.status import GroupStatus, judge_all
from dreamscape_infra.topics.desired import load_desired
from tests.fake_cluster import FakeCluster, FakeGroup, topics_with
from tests.groups_support import write_topics_file

AUTH = "dreamscape-auth-service-group"
USER = "dreamscape-user-service-group"
CREATED = "dreamscape.user.created"
NOW = 1_700_000_000.0  # the clock of every read here, in seconds


@pytest.fixture
def topics_file(tmp_path: Path) -> Path:
    return write_topics_file(tmp_path)


def _client(**groups: FakeGroup) -> FakeCluster:
    return FakeCluster(
        topics=topics_with({CREATED: 1}),
        ranges={(CREATED, 0): OffsetRange(0, 100)},
        groups=dict(groups),
        records={(CREATED, 0, o): int(NOW * 1000) - (100 - o) * 1000 for o in range(100)},
    )


def _read(client: FakeCluster, desired: Path | None = None, **kw: object) -> dict[str, GroupLag]:
    lags = read_group_lags(
        client,
        load_desired(desired) if desired else None,
        [AUTH],
        topic=CREATED,
        clock=lambda: NOW,
        **kw,  # type: ignore[arg-type]
    )
    return {g.group: g for g in lags}


def test_age_is_now_minus_the_timestamp_at_the_committed_offset(topics_file: Path) -> None:
    # committed 40 of 100, one message a second, the last one a second ago
    client = _client(**{AUTH: FakeGroup(committed={(CREATED, 0): 40})})
    auth = _read(client, topics_file)[AUTH]
    (p,) = auth.partitions
    assert (p.lag, p.lag_seconds, p.status) == (60, 60.0, "behind")
    assert auth.max_lag_seconds == 60.0
    assert auth.topic_lag_seconds() == {CREATED: 60.0}


def test_caught_up_is_zero_and_asks_for_no_record(topics_file: Path) -> None:
    client = _client(**{AUTH: FakeGroup(committed={(CREATED, 0): 100})})
    auth = _read(client, topics_file)[AUTH]
    assert (auth.total_lag, auth.max_lag_seconds) == (0, 0.0)
    assert "record_timestamps" not in client.calls


def test_below_the_log_start_is_retention_lost_and_aged_from_the_oldest_left(
    topics_file: Path,
) -> None:
    client = _client(**{AUTH: FakeGroup(committed={(CREATED, 0): 10})})
    client.ranges[(CREATED, 0)] = OffsetRange(30, 100)
    (p,) = _read(client, topics_file)[AUTH].partitions
    assert (p.lost_to_retention, p.status, p.lag, p.lag_seconds) == (20, RETENTION_LOST, 70, 70.0)
    table = partitions_table(GroupLag(AUTH, "Empty", 0, True, (p,)), GroupStatus.STOPPED)
    assert table.rows[0][table.columns.index("status")] == "retention-lost (20)"
    doc = lag_json(
        [GroupLag(AUTH, "Empty", 0, True, (p,))], {AUTH: GroupStatus.STOPPED}, {}, [], window_s=0
    )
    assert doc["groups"][0]["lost_to_retention"] == 20
    assert doc["groups"][0]["partitions"][0]["status"] == "retention-lost"


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ({}, None),  # an empty read (nothing came back in time): unknown, not 0 and no crash
        ({(CREATED, 0, 40): -1}, None),  # a record without a timestamp
        ({(CREATED, 0, 40): int(NOW * 1000) + 5000}, 0.0),  # producer clock ahead: never < 0
        ({(CREATED, 0, 55): int(NOW * 1000) - 45_000}, 45.0),  # compacted: the next record
    ],
)
def test_missing_negative_and_compacted_timestamps(
    topics_file: Path, records: dict[tuple[str, int, int], int], expected: float | None
) -> None:
    client = _client(**{AUTH: FakeGroup(committed={(CREATED, 0): 40})})
    client.records = records
    auth = _read(client, topics_file)[AUTH]
    assert auth.partitions[0].lag_seconds == expected
    assert auth.max_lag_seconds == expected
    assert (
        lag_json([auth], judge_all([auth]), {}, [], window_s=0)["groups"][0]["max_lag_seconds"]
        == expected
    )


def test_empty_partition_has_no_lag_and_no_age(topics_file: Path) -> None:
    client = _client(**{AUTH: FakeGroup()})
    client.ranges[(CREATED, 0)] = OffsetRange(0, 0)
    auth = _read(client, topics_file)[AUTH]
    assert (auth.total_lag, auth.max_lag_seconds) == (0, 0.0)


def test_rounds_grow_with_positions_per_partition_not_with_partitions(tmp_path: Path) -> None:
    path = write_topics_file(tmp_path)
    calls = []
    for partitions in (3, 300):
        client = FakeCluster(
            topics=topics_with({CREATED: partitions}),
            ranges={(CREATED, p): OffsetRange(0, 10) for p in range(partitions)},
            groups={
                AUTH: FakeGroup(committed={(CREATED, p): 2 for p in range(partitions)}),
                USER: FakeGroup(committed={(CREATED, p): 5 for p in range(partitions)}),
            },
        )
        read_group_lags(client, load_desired(path), [AUTH, USER], clock=lambda: NOW)
        calls.append(client.calls.count("record_timestamps"))
    assert calls == [2, 2]  # two groups at two positions on the same partitions: two rounds


def test_max_lag_seconds_breach() -> None:
    p = PartitionLag(CREATED, 0, 40, 0, 100, lag_seconds=61.5)
    lag = GroupLag(AUTH, "Empty", 0, True, (p,))
    (found,) = breaches([lag], max_lag=None, max_partition_lag=None, max_lag_seconds=10)
    assert (found.kind, found.value, found.limit, found.where) == (
        "max-lag-seconds",
        61.5,
        10,
        f"{CREATED}-0",
    )
    assert "1m01s old > --max-lag-seconds 10" in found.describe()
    assert not breaches([lag], max_lag=None, max_partition_lag=None, max_lag_seconds=62)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.25, "250ms"),
        (4.25, "4.2s"),
        (42, "42s"),
        (150, "2m30s"),
        (3900, "1h05m"),
        (200_000, "2d07h"),
    ],
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


def _sample(committed: int, log_end: int) -> GroupLag:
    return GroupLag(AUTH, "Stable", 1, True, (PartitionLag(CREATED, 0, committed, 0, log_end),))


def test_time_to_clear_when_consumers_outpace_producers() -> None:
    rate = group_rate(_sample(100, 400), _sample(300, 500), 10.0)
    # consumed 20/s, produced 10/s, lag 200 -> 200 / 10 = 20 s
    assert (rate.consume_per_s, rate.produce_per_s, rate.trend) == (20.0, 10.0, "clearing")
    assert rate.time_to_clear_s == 20.0
    table = rates_table({AUTH: rate})
    assert table.rows[0] == (AUTH, "20.0/s", "10.0/s", "200", "20s")


@pytest.mark.parametrize(
    ("first", "last", "trend"),
    [
        ((100, 400), (150, 600), "growing"),
        ((100, 400), (100, 400), "not-moving"),
        ((100, 400), (400, 400), "caught-up"),
    ],
)
def test_growing_not_moving_caught_up(
    first: tuple[int, int], last: tuple[int, int], trend: str
) -> None:
    rate = group_rate(_sample(*first), _sample(*last), 10.0)
    assert rate.trend == trend
    assert rate.time_to_clear_s == (0.0 if trend == "caught-up" else None)
    doc = lag_json(
        [_sample(*last)], judge_all([_sample(*last)]), {}, [], window_s=10, rates={AUTH: rate}
    )
    assert doc["groups"][0]["rate"]["trend"] == trend
    assert rates([_sample(*first)], [_sample(*last)], 0) == {}


# ---- thresholds in topics.yaml ----------------------------------------------------------------


def _thresholds(tmp_path: Path, topic_limit: str, group_limit: str) -> Path:
    text = write_topics_file(tmp_path).read_text()
    text = text.replace(
        "  - name: dreamscape.user.created\n",
        f"  - name: dreamscape.user.created\n    max_lag_seconds: {topic_limit}\n",
    )
    text = text.replace(
        "    service: auth-service\n",
        f"    service: auth-service\n    max_lag_seconds: {group_limit}\n",
    )
    path = tmp_path / "topics.yaml"
    path.write_text(text)
    return path


def test_thresholds_are_durations_or_seconds(tmp_path: Path) -> None:
    desired = load_desired(_thresholds(tmp_path, "30s", "600"))
    topic = desired.topic(CREATED)
    assert topic is not None
    assert topic.max_lag_seconds == 30.0
    assert desired.groups[0].max_lag_seconds == 600.0
    assert desired.groups[1].max_lag_seconds is None


def test_thresholds_that_are_not_durations_exit_3_with_their_location(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dreamscape_infra.cli import app
    from dreamscape_infra.cli.state import AppState

    path = _thresholds(tmp_path, "soon", "-5")
    result = CliRunner().invoke(
        app,
        ["--topics-file", str(path), "groups", "lag"],
        obj=AppState(environ={"KAFKA_BROKERS": "127.0.0.1:1"}, interactive=False),
    )
    assert result.exit_code == 3
    assert f"{path}:11: topics[0].max_lag_seconds: expected a duration" in result.stderr
    assert "(got 'soon')" in result.stderr
    assert f"{path}:20: consumer_groups[0].max_lag_seconds: must be more than 0 seconds" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
