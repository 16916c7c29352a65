"""Health without a broker: the verdict from plain values, metrics, the cache, the HTTP app and
the CLI with the fake admin. The real-broker faults are in test_health_kafka.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.groups.client import OffsetRange
from dreamscape_infra.groups.model import NOT_STARTED, GroupLag, PartitionLag
from dreamscape_infra.health.checks import (
    ClusterRead,
    Expectation,
    HealthReport,
    SyncState,
    broker_default_min_isr,
    evaluate,
    partition_facts,
)
from dreamscape_infra.health.metrics import MetricsInput, exposition
from dreamscape_infra.health.server import CachedHealth, make_server
from dreamscape_infra.health.sources import Observation, expected_brokers, health_reads
from dreamscape_infra.kafka.client_host import ClientCrashed
from dreamscape_infra.kafka.cluster import (
    BrokerInfo,
    ClusterInfo,
    ClusterSnapshot,
    ConfigEntryState,
    PartitionInfo,
    TopicState,
)
from dreamscape_infra.settings import ConnectionSettings
from tests.fake_cluster import FakeCluster, FakeGroup, FakeTopic
from tests.health_support import write_prod_topics
from tests.kafka_support import free_ports

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
CLI = (sys.executable, "-m", "dreamscape_infra")

THREE = ClusterInfo("c", 1, tuple(BrokerInfo(i, "h", 9092 + i) for i in (1, 2, 3)))


def part(
    pid: int, leader: int = 1, replicas: Sequence[int] = (1, 2, 3), isr: Sequence[int] = (1, 2, 3)
) -> PartitionInfo:
    return PartitionInfo(pid, leader, tuple(replicas), tuple(isr))


def topic(
    name: str, *parts: PartitionInfo, min_isr: str | None = None, source: str = "topic"
) -> TopicState:
    configs = {}
    if min_isr is not None:
        configs["min.insync.replicas"] = ConfigEntryState(min_isr, source)  # type: ignore[arg-type]
    return TopicState(name, tuple(parts), configs)


def read_of(*topics: TopicState, cluster: ClusterInfo = THREE) -> ClusterRead:
    snapshot = ClusterSnapshot({t.name: t for t in topics}, len(cluster.brokers))
    return ClusterRead(cluster, snapshot, None, 0.01, 1000.0)


def healthy() -> ClusterRead:
    return read_of(topic("a", part(0), part(1), min_isr="2"), topic("b", part(0)))


IN_SYNC = SyncState("prod", ("a",), 0, ())


def verdict_of(read: ClusterRead, **kw: object) -> HealthReport:
    args: dict[str, object] = {
        "expected": Expectation(3, "test"),
        "sync": IN_SYNC,
        "lags": None,
        "max_lag": None,
    }
    args.update(kw)
    return evaluate(read, **args)  # type: ignore[arg-type]


# ---- the verdict -----------------------------------------------------------------------------


def test_all_good_is_up_and_lag_not_read_is_unknown_not_a_failure() -> None:
    report = verdict_of(healthy())
    assert report.status == "UP"
    assert report.components["consumer_lag"].status == "UNKNOWN"
    assert report.components["consumer_lag"].details["checked"] is False
    doc = report.to_json()
    assert doc["status"] == "UP"
    assert set(doc["components"]) == {
        "brokers",
        "controller",
        "offline_partitions",
        "under_replicated_partitions",
        "under_min_isr_partitions",
        "topics_sync",
        "consumer_lag",
    }
    assert all(set(c) == {"status", "details"} for c in doc["components"].values())
    json.dumps(doc)  # serialisable as is


def test_unreadable_cluster_is_down_with_the_error_and_nothing_else_judged() -> None:
    report = verdict_of(ClusterRead(None, None, "Kafka is not reachable", 1.0, 0.0))
    assert report.status == "DOWN"
    assert report.components["brokers"].details["error"] == "Kafka is not reachable"
    others = [c.status for n, c in report.components.items() if n != "brokers"]
    assert others == ["UNKNOWN"] * 6


def test_fewer_brokers_than_expected_is_degraded_and_none_expected_is_not() -> None:
    two = ClusterInfo("c", 1, THREE.brokers[:2])
    read = read_of(topic("a", part(0, replicas=(1, 2), isr=(1, 2))), cluster=two)
    report = verdict_of(read)
    assert report.status == "DEGRADED"
    assert report.components["brokers"].details["missing"] == 1
    assert verdict_of(read, expected=Expectation(None)).status == "UP"


def test_no_controller_is_down() -> None:
    cluster = ClusterInfo("c", None, THREE.brokers)
    report = verdict_of(read_of(topic("a", part(0)), cluster=cluster))
    assert report.status == "DOWN"
    assert report.components["controller"].status == "DOWN"


def test_offline_partition_is_down_and_named() -> None:
    read = read_of(topic("a", part(0), part(1, leader=-1, isr=())))
    report = verdict_of(read)
    assert report.status == "DOWN"
    details = report.components["offline_partitions"].details
    assert (details["count"], details["partitions"]) == (1, ["a-1"])


def test_under_replicated_counts_exactly_and_is_degraded() -> None:
    read = read_of(
        topic("a", part(0, isr=(1, 3)), part(1), part(2, isr=(2,)), min_isr="1"),
        topic("b", part(0, isr=(1, 2))),
    )
    report = verdict_of(read)
    assert report.status == "DEGRADED"
    details = report.components["under_replicated_partitions"].details
    assert details["count"] == 3
    assert details["topics"] == {"a": 2, "b": 1}
    assert report.components["under_min_isr_partitions"].status == "UP"


def test_under_min_isr_uses_the_topic_value_then_the_broker_default() -> None:
    # a overrides min ISR 2; b inherits the broker's 2 (seen through c's inherited entry); d has
    # no configs read and falls back to the broker default too
    read = read_of(
        topic("a", part(0, isr=(1,)), min_isr="2"),
        topic("b", part(0, isr=(1, 2)), min_isr="1"),
        topic("c", part(0), min_isr="2", source="static-broker"),
        topic("d", part(0, isr=(3,))),
    )
    assert broker_default_min_isr(read.snapshot) == 2  # type: ignore[arg-type]
    facts = partition_facts(read.snapshot)  # type: ignore[arg-type]
    assert dict(facts.under_min_isr) == {"a": (0,), "d": (0,)}
    report = verdict_of(read)
    below = report.components["under_min_isr_partitions"]
    assert below.status == "DEGRADED"
    assert below.details["count"] == 2
    assert below.details["min_insync_replicas"] == {"a": 2, "d": 2}


def test_broker_default_min_isr_is_kafkas_1_when_nothing_says_otherwise() -> None:
    read = read_of(topic("a", part(0), min_isr="3"))
    assert broker_default_min_isr(read.snapshot) == 1  # type: ignore[arg-type]


def test_pending_topic_changes_are_degraded_with_the_count() -> None:
    sync = SyncState("prod", ("a", "b"), 4, ("a", "b"))
    report = verdict_of(healthy(), sync=sync)
    assert report.status == "DEGRADED"
    assert report.components["topics_sync"].details["pending_changes"] == 4
    assert verdict_of(healthy(), sync=None).components["topics_sync"].status == "UNKNOWN"


def test_down_beats_degraded() -> None:
    read = read_of(topic("a", part(0, leader=-1, isr=()), part(1, isr=(1,))))
    assert verdict_of(read, sync=SyncState(None, ("a",), 1, ("a",))).status == "DOWN"


# ---- lag (plain GroupLag values; reading them belongs to the groups capability) ---------------


def lags() -> list[GroupLag]:
    return [
        GroupLag(
            "dreamscape-user-service-group",
            "Stable",
            1,
            True,
            (
                PartitionLag("t", 0, committed=10, log_start=0, log_end=15),
                PartitionLag("t", 1, committed=None, log_start=2, log_end=4),
            ),
        ),
        GroupLag("adhoc-cli", "Empty", 0, False, (PartitionLag("u", 0, 0, 0, 1000),)),
        GroupLag("dreamscape-voyage-service-group", NOT_STARTED, 0, True),
    ]


@pytest.mark.parametrize(("max_lag", "status"), [(None, "UP"), (7, "UP"), (6, "DEGRADED")])
def test_lag_of_declared_groups_against_max_lag(max_lag: int | None, status: str) -> None:
    report = verdict_of(healthy(), lags=lags(), max_lag=max_lag)
    component = report.components["consumer_lag"]
    assert component.status == status
    assert report.status == status
    groups = component.details["groups"]
    # undeclared groups (adhoc-cli, lag 1000) never make health DEGRADED
    assert set(groups) == {"dreamscape-user-service-group", "dreamscape-voyage-service-group"}
    assert groups["dreamscape-user-service-group"]["lag"] == 7  # 5 + 2 (from log start)
    assert groups["dreamscape-voyage-service-group"]["state"] == NOT_STARTED


# ---- metrics -----------------------------------------------------------------------------------


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_cover_distribution_problems_sync_and_lag() -> None:
    read = read_of(
        topic("a", part(0, leader=1), part(1, leader=2, isr=(2, 3)), min_isr="2"),
        topic("b", part(0, leader=-1, replicas=(3,), isr=())),
    )
    sync = SyncState("prod", ("a", "c"), 1, ("c",))
    report = verdict_of(read, sync=sync, lags=lags())
    text = exposition(MetricsInput(Observation(read, sync), lags(), report, reads_total=7))
    got = samples(text)
    assert got[("dreamscape_kafka_brokers", ())] == 3
    assert got[("dreamscape_kafka_broker_partitions", (("broker", "1"),))] == 2
    assert got[("dreamscape_kafka_broker_partitions", (("broker", "3"),))] == 3
    assert got[("dreamscape_kafka_broker_leader_partitions", (("broker", "2"),))] == 1
    assert got[("dreamscape_kafka_broker_leader_partitions", (("broker", "3"),))] == 0
    assert got[("dreamscape_kafka_offline_partitions", ())] == 1
    assert got[("dreamscape_kafka_under_replicated_partitions", ())] == 2
    assert got[("dreamscape_kafka_under_min_isr_partitions", ())] == 1  # b-0 (ISR 0 < 1)
    assert got[("dreamscape_topics_pending_changes", ())] == 1
    assert got[("dreamscape_topic_in_sync", (("topic", "a"),))] == 1
    assert got[("dreamscape_topic_in_sync", (("topic", "c"),))] == 0
    assert got[("dreamscape_cluster_reads_total", ())] == 7
    assert got[("dreamscape_cluster_read_duration_seconds", ())] == pytest.approx(0.01)
    assert got[("dreamscape_health_status", (("status", "DOWN"),))] == 1
    key = (("group", "dreamscape-user-service-group"), ("partition", "0"), ("topic", "t"))
    assert got[("dreamscape_consumergroup_lag", key)] == 5
    assert got[("dreamscape_consumergroup_committed_offset", key)] == 10
    assert (
        got[("dreamscape_topic_partition_log_end_offset", (("partition", "0"), ("topic", "t")))]
        == 15
    )
    no_commit = (("group", "dreamscape-user-service-group"), ("partition", "1"), ("topic", "t"))
    assert got[("dreamscape_consumergroup_lag", no_commit)] == 2
    assert ("dreamscape_consumergroup_committed_offset", no_commit) not in got
    assert got[("dreamscape_consumergroup_total_lag", (("group", "adhoc-cli"),))] == 1000


def test_metrics_when_down_say_so_without_cluster_series() -> None:
    read = ClusterRead(None, None, "down", 2.5, 0.0)
    report = verdict_of(read)
    got = samples(exposition(MetricsInput(Observation(read, None), None, report, 1)))
    assert got[("dreamscape_kafka_up", ())] == 0
    assert got[("dreamscape_health_status", (("status", "DOWN"),))] == 1
    assert not any(name.startswith("dreamscape_kafka_broker") for name, _ in got)
    assert not any(name.startswith("dreamscape_consumergroup") for name, _ in got)


def test_every_metric_is_documented() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "metrics.md").read_text()
    read = read_of(topic("a", part(0), min_isr="2"))
    sync = SyncState("prod", ("a",), 0, ())
    report = verdict_of(read, sync=sync, lags=lags())
    text = exposition(MetricsInput(Observation(read, sync), lags(), report, 1, 0))
    names = {f.name for f in text_string_to_metric_families(text.decode())}
    assert len(names) > 20
    missing = sorted(n for n in names if f"`{n}" not in doc)
    assert missing == []


# ---- the cache ---------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def observation() -> Observation:
    return Observation(healthy(), IN_SYNC)


def test_cache_reads_once_per_interval() -> None:
    clock = Clock()
    calls: list[float] = []

    def read() -> tuple[Observation, None]:
        calls.append(clock.now)
        return observation(), None

    cache = CachedHealth(read, lambda o, lg: verdict_of(o.read), 5.0, clock)
    for t in (0.0, 1.0, 4.9, 5.0, 6.0, 9.9, 10.0):
        clock.now = t
        cache.get()
    assert calls == [0.0, 5.0, 10.0]
    assert cache.get().reads_total == 3


def test_client_restarts_are_a_counter_only_when_the_clients_run_in_a_child() -> None:
    restarts = [0]
    clock = Clock()
    cache = CachedHealth(
        lambda: (observation(), None),
        lambda o, lg: verdict_of(o.read),
        5.0,
        clock,
        client_restarts=lambda: restarts[0],
    )
    assert (
        samples(exposition(cache.get().metrics_input()))[
            ("dreamscape_client_process_restarts_total", ())
        ]
        == 0
    )
    restarts[0] = 2  # two children died since
    clock.now = 5.0
    got = samples(exposition(cache.get().metrics_input()))
    assert got[("dreamscape_client_process_restarts_total", ())] == 2
    in_process = CachedHealth(lambda: (observation(), None), lambda o, lg: verdict_of(o.read))
    got = samples(exposition(in_process.get().metrics_input()))
    assert not any(name.startswith("dreamscape_client_process") for name, _ in got)


def test_cache_shares_one_read_between_concurrent_callers() -> None:
    started = threading.Event()
    release = threading.Event()
    calls = []

    def read() -> tuple[Observation, None]:
        calls.append(1)
        started.set()
        release.wait(5)
        return observation(), None

    cache = CachedHealth(read, lambda o, lg: verdict_of(o.read), 60.0)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get())) for _ in range(20)]
    for t in threads:
        t.start()
    started.wait(5)
    time.sleep(0.1)
    release.set()
    for t in threads:
        t.join(5)
    assert len(calls) == 1
    assert len(results) == 20
    assert len({id(r) for r in results}) == 1


def test_a_read_that_raises_is_a_down_sample_not_a_crash() -> None:
    def read() -> tuple[Observation, None]:
        raise RuntimeError("boom")

    def judge(o: Observation, lg: object) -> HealthReport:
        return verdict_of(o.read)

    sample = CachedHealth(read, judge, 0.0).get()
    assert sample.report.status == "DOWN"
    assert "boom" in sample.report.components["brokers"].details["error"]


# ---- the HTTP app (real sockets on loopback, a fake read) -------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[str, dict[str, object]]]:
    box: dict[str, object] = {"read": healthy(), "raise": False}

    def read() -> tuple[Observation, None]:
        return Observation(box["read"], IN_SYNC), None  # type: ignore[arg-type]

    def judge(o: Observation, lg: object) -> HealthReport:
        if box["raise"]:
            raise ValueError("judging failed")
        return verdict_of(o.read)

    server = make_server("127.0.0.1", 0, CachedHealth(read, judge, 0.0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", box
    finally:
        server.shutdown()
        server.server_close()


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def test_http_health_is_200_when_up_and_503_otherwise(
    served: tuple[str, dict[str, object]],
) -> None:
    base, box = served
    code, ctype, body = get(base + "/health/kafka")
    assert (code, ctype, json.loads(body)["status"]) == (200, "application/json", "UP")
    box["read"] = read_of(topic("a", part(0, isr=(1,))))
    code, _, body = get(base + "/health/kafka")
    assert (code, json.loads(body)["status"]) == (503, "DEGRADED")
    box["read"] = ClusterRead(None, None, "unreachable", 0.0, 0.0)
    code, _, body = get(base + "/health/kafka")
    assert (code, json.loads(body)["status"]) == (503, "DOWN")
    code, ctype, body = get(base + "/metrics")
    assert code == 200
    assert ctype.startswith("text/plain; version=0.0.4")
    assert b"dreamscape_kafka_up 0.0" in body


def test_http_unexpected_error_is_503_down_never_500(served: tuple[str, dict[str, object]]) -> None:
    base, box = served
    box["raise"] = True
    for path in ("/health/kafka", "/metrics"):
        code, _, body = get(base + path)
        assert code == 503
        assert json.loads(body)["status"] == "DOWN"
    assert get(base + "/nope")[0] == 404


# ---- expected brokers from the local runtime ---------------------------------------------------


def test_expected_brokers_from_cluster_json_only_when_bootstrap_points_at_it(
    tmp_path: Path,
) -> None:
    layout = {
        "mode": "zookeeper",
        "brokers": 3,
        "version": "3.9.1",
        "zk_port": 30181,
        "kafka_port": 30092,
        "controller_port": 30099,
    }
    (tmp_path / "cluster.json").write_text(json.dumps(layout))
    env = {"DREAMSCAPE_STATE_DIR": str(tmp_path)}
    ours = ConnectionSettings(brokers=("127.0.0.1:30093",))
    other = ConnectionSettings(brokers=("kafka.example:9092",))
    assert expected_brokers(env, ours, None).brokers == 3
    assert expected_brokers(env, other, None).brokers is None
    assert expected_brokers(env, other, 5) == Expectation(5, "--expect-brokers")
    assert (
        expected_brokers({"DREAMSCAPE_STATE_DIR": str(tmp_path / "x")}, ours, None).brokers is None
    )


# ---- the CLI with the fake admin ---------------------------------------------------------------


def invoke_health(cluster: FakeCluster, topics_file: Path, *args: str) -> tuple[int, str, str]:
    state = cluster.app_state(interactive=False)
    result = runner.invoke(app, ["-f", str(topics_file), "health", *args], obj=state)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def prod_cluster(isr_short: bool = False) -> FakeCluster:
    overrides = {"min.insync.replicas": "2"}
    return FakeCluster(
        topics={
            "dreamscape.user.created": FakeTopic(3, 3, dict(overrides), isr_short=isr_short),
            "dreamscape.user.updated": FakeTopic(2, 3, dict(overrides)),
        },
        brokers=3,
    )


def test_cli_health_up_exit_0_json_shape(tmp_path: Path) -> None:
    admin = prod_cluster()
    code, out, _ = invoke_health(admin, write_prod_topics(tmp_path), "--env", "prod", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["status"] == "UP"
    assert doc["components"]["topics_sync"]["details"]["pending_changes"] == 0
    # one batched read: a snapshot and a DescribeCluster, nothing per topic; then the lag
    assert admin.calls[:2] == ["snapshot", "describe_cluster"]
    assert not {"snapshot", "describe_cluster"} & set(admin.calls[2:])


def test_health_reads_lag_that_cannot_be_read_is_not_checked_and_not_asked_when_down() -> None:
    asked: list[str] = []

    def crashed() -> Sequence[GroupLag] | None:
        asked.append("lag")
        raise ClientCrashed("the Kafka client process was killed by SIGABRT, twice in a row")

    observation, lag = health_reads(prod_cluster, crashed, None)
    assert observation.read.snapshot is not None
    assert (lag, asked) == (None, ["lag"])

    def unreachable() -> FakeCluster:
        raise EnvironmentFailure("Kafka is not reachable at 127.0.0.1:1")

    observation, lag = health_reads(unreachable, crashed, None)
    assert observation.read.error == "Kafka is not reachable at 127.0.0.1:1"
    assert (lag, asked) == (None, ["lag"])  # a cluster that did not answer: lag not asked


def test_cli_health_judges_declared_group_lag_read_through_the_groups_capability(
    tmp_path: Path,
) -> None:
    """health's lag component gets its GroupLag values from groups.lag.read_group_lags."""
    topic = "dreamscape.user.created"
    cluster = prod_cluster()  # the topics health checks are the ones whose lag it reads
    cluster.ranges = {(topic, p): OffsetRange(0, 20) for p in range(3)}
    cluster.groups = {"dreamscape-user-service-group": FakeGroup(committed={(topic, 0): 5})}
    args = ("--env", "prod", "-o", "json")
    code, out, _ = invoke_health(cluster, write_prod_topics(tmp_path), *args)
    lag = json.loads(out)["components"]["consumer_lag"]
    assert code == 0
    assert lag["status"] == "UP"
    assert lag["details"]["checked"] is True
    # 15 behind on partition 0, 20 on each of the two never-committed partitions
    code, out, _ = invoke_health(cluster, write_prod_topics(tmp_path), *args, "--max-lag", "50")
    assert code == 8
    assert json.loads(out)["components"]["consumer_lag"]["status"] == "DEGRADED"
    assert "55" in json.dumps(json.loads(out)["components"]["consumer_lag"]["details"])
    code, _, _ = invoke_health(cluster, write_prod_topics(tmp_path), *args, "--max-lag", "55")
    assert code == 0
    assert cluster.closed


def test_cli_health_degraded_exit_8_names_the_count(tmp_path: Path) -> None:
    code, out, err = invoke_health(
        prod_cluster(isr_short=True), write_prod_topics(tmp_path), "--env", "prod"
    )
    assert code == 8
    assert "DEGRADED" in out
    assert "DEGRADED: under_replicated_partitions: 3 partition(s)" in err
    assert "DEGRADED: under_min_isr_partitions: 3 partition(s)" in err


def test_cli_health_expect_more_brokers_is_degraded(tmp_path: Path) -> None:
    code, _, err = invoke_health(
        prod_cluster(), write_prod_topics(tmp_path), "--env", "prod", "--expect-brokers", "4"
    )
    assert code == 8
    assert "brokers" in err


def test_cli_health_pending_changes_is_degraded(tmp_path: Path) -> None:
    admin = prod_cluster()
    del admin.topics["dreamscape.user.updated"]
    code, out, _ = invoke_health(admin, write_prod_topics(tmp_path), "--env", "prod", "-o", "json")
    assert code == 8
    assert json.loads(out)["components"]["topics_sync"]["details"]["pending_changes"] == 1


def test_cli_health_unreachable_is_down_exit_4_with_one_document(tmp_path: Path) -> None:
    admin = prod_cluster()
    admin.reachable = False
    code, out, err = invoke_health(admin, write_prod_topics(tmp_path), "-o", "json")
    assert code == 4
    assert json.loads(out)["status"] == "DOWN"
    assert "DOWN: brokers" in err


def test_cli_health_without_topics_file_still_judges_the_cluster(tmp_path: Path) -> None:
    code, out, _ = invoke_health(prod_cluster(), tmp_path / "absent.yaml", "-o", "json")
    assert code == 0
    assert json.loads(out)["components"]["topics_sync"]["status"] == "UNKNOWN"


def test_cli_health_with_its_real_clients_in_a_child_and_no_broker_is_down_exit_4(
    tmp_path: Path,
) -> None:
    """AppState's default ClientHost: the real adapters, in a spawned child."""
    (dead,) = free_ports(1)
    state = AppState(environ={"KAFKA_BROKERS": f"127.0.0.1:{dead}"}, interactive=False)
    args = ["-f", str(tmp_path / "absent.yaml"), "health", "-o", "json"]
    result = runner.invoke(app, args, obj=state)
    assert result.exit_code == 4, result.output
    error = json.loads(result.stdout)["components"]["brokers"]["details"]["error"]
    assert f"Kafka is not reachable at 127.0.0.1:{dead}" in error


@pytest.mark.parametrize(
    "args",
    [
        ["health", "--expect-brokers", "0"],
        ["health", "--max-lag", "-1"],
        ["serve", "--port", "0"],
        ["serve", "--port", "65536"],
        ["serve", "--port", "http"],
        ["serve", "--host", "not a host!"],
    ],
)
def test_bad_input_is_exit_2(args: list[str]) -> None:
    state = AppState(admin_factory=lambda s: prod_cluster(), environ={})
    result = runner.invoke(app, args, obj=state)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


# ---- serve's reader: configs on their own, longer interval -------------------------------------


def test_reader_reads_configs_once_per_ttl_and_partitions_every_time(tmp_path: Path) -> None:
    from dreamscape_infra.health.sources import ClusterReader
    from dreamscape_infra.topics.desired import load_desired

    desired = load_desired(str(write_prod_topics(tmp_path)), "prod")
    admin = prod_cluster()
    clock = Clock()
    reader = ClusterReader(admin, desired, config_ttl_s=60.0, clock=clock)
    first = reader.read()
    assert first.sync is not None
    assert first.sync.pending_changes == 0
    admin.topics["dreamscape.user.created"].isr_short = True
    clock.now = 10.0
    second = reader.read()
    assert reader.config_reads == 1
    # partitions are fresh, configs come from the cache and the plan still sees them
    assert second.read.snapshot is not None
    created = second.read.snapshot.topics["dreamscape.user.created"]
    assert created.configs["min.insync.replicas"].value == "2"
    assert created.under_replicated == (0, 1, 2)
    assert second.sync is not None
    assert second.sync.pending_changes == 0
    clock.now = 61.0
    reader.read()
    assert reader.config_reads == 2


def test_reader_reads_configs_again_when_a_declared_topic_appears(tmp_path: Path) -> None:
    from dreamscape_infra.health.sources import ClusterReader
    from dreamscape_infra.topics.desired import load_desired

    desired = load_desired(str(write_prod_topics(tmp_path)), "prod")
    admin = prod_cluster()
    updated = admin.topics.pop("dreamscape.user.updated")
    reader = ClusterReader(admin, desired, config_ttl_s=60.0, clock=Clock())
    assert reader.read().sync.pending_changes == 1  # type: ignore[union-attr]
    admin.topics["dreamscape.user.updated"] = updated
    assert reader.read().sync.pending_changes == 0  # type: ignore[union-attr]
    assert reader.config_reads == 2


# ---- serve as a process, without a broker ------------------------------------------------------


def _serve(port: int, brokers: str) -> subprocess.Popen[str]:
    env = {**os.environ, "KAFKA_BROKERS": brokers, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [*CLI, "-f", str(ROOT / "absent.yaml"), "serve", "--port", str(port), "-o", "json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_without_a_cluster_answers_503_down_and_stops_on_sigterm() -> None:
    port, dead = free_ports(2)
    proc = _serve(port, f"127.0.0.1:{dead}")
    try:
        assert proc.stdout is not None
        started = json.loads(proc.stdout.readline())
        assert started["health_url"] == f"http://127.0.0.1:{port}/health/kafka"
        code, _, body = get(started["health_url"])
        assert code == 503
        doc = json.loads(body)
        assert doc["status"] == "DOWN"
        assert "not reachable" in doc["components"]["brokers"]["details"]["error"]
        code, _, body = get(started["metrics_url"])
        assert code == 200
        assert b"dreamscape_kafka_up 0.0" in body
        # a second server on the same port: one line, exit 4
        second = _serve(port, f"127.0.0.1:{dead}")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 4
        assert err.strip().splitlines()[0] == (
            f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
