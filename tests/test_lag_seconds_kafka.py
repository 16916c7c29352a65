"""Lag in seconds against real brokers (Kafka 3.9 and 4.x): ages checked against the CreateTime
the producer set, LogAppendTime topics, retention loss (DeleteRecords), and the exit codes of
--max-lag-seconds on `groups lag` and `health`."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from dreamscape_infra.groups.lag import read_group_lags
from dreamscape_infra.kafka.groups import ConfluentGroups
from dreamscape_infra.topics.desired import load_desired
from tests.groups_support import commit_messages
from tests.kafka_support import KafkaCluster
from tests.lag_support import Cli, produce_at, write_lag_topics


@pytest.fixture(params=["zookeeper", "kraft"])
def broker(request: pytest.FixtureRequest) -> KafkaCluster:
    name = "kafka_cluster" if request.param == "zookeeper" else "kafka_kraft"
    cluster: KafkaCluster = request.getfixturevalue(name)
    return cluster


@pytest.fixture
def setup(broker: KafkaCluster, tmp_path: Path) -> tuple[KafkaCluster, Cli, str, str]:
    tag = uuid.uuid4().hex[:8]
    prefix = f"dreamscape{tag}."
    cli = Cli(broker.bootstrap, write_lag_topics(tmp_path, prefix, f"-{tag}"))
    code, _, err = cli.run("topics", "sync")
    assert code == 0, err
    return broker, cli, prefix, f"dreamscape-payment-service-{tag}-group"


@pytest.mark.kafka
def test_age_matches_the_create_time_of_the_first_unconsumed_event(
    setup: tuple[KafkaCluster, Cli, str, str],
) -> None:
    cluster, cli, prefix, group = setup
    topic = prefix + "payment.completed"
    # 100 events whose CreateTime spans the last minute (one every 0.6 s), the last one now
    now_ms = int(time.time() * 1000)
    stamps = [now_ms - 60_000 + i * 600 for i in range(100)]
    produce_at(cluster.settings, topic, stamps)
    commit_messages(cluster.settings, group, topic, {0: 40})  # then it stops

    code, doc = cli.json("groups", "lag", group, "--topic", topic)
    read_at = time.time()
    assert code == 0
    (g,) = doc["groups"]
    (p,) = g["partitions"]
    assert (p["committed"], p["lag"], g["total_lag"], g["status"]) == (40, 60, 60, "STOPPED")
    expected = read_at - stamps[40] / 1000  # the first unconsumed event: offset 40
    assert abs(p["lag_seconds"] - expected) < 1.0, (p["lag_seconds"], expected)
    assert g["max_lag_seconds"] == p["lag_seconds"]
    assert g["topics_lag_seconds"][topic] == p["lag_seconds"]

    time.sleep(1.5)  # a stopped group's age grows with the wall clock
    code, later = cli.json("groups", "lag", group, "--topic", topic)
    assert later["groups"][0]["max_lag_seconds"] >= p["lag_seconds"] + 1.0

    code, out, err = cli.run("groups", "lag", group, "--max-lag-seconds", "10")
    assert code == 8
    assert "> --max-lag-seconds 10" in err
    assert "oldest unconsumed" in out
    assert cli.run("groups", "lag", group, "--max-lag-seconds", "3600")[0] == 0
    code, listed = cli.json("groups", "list")
    entry = next(x for x in listed["groups"] if x["group"] == group)
    assert entry["max_lag_seconds"] >= later["groups"][0]["max_lag_seconds"]

    # health: over topics.yaml's max_lag_seconds (10s) for this topic -> DEGRADED, exit 8
    code, report = cli.json("health")
    lag = report["components"]["consumer_lag"]
    assert (code, lag["status"]) == (8, "DEGRADED"), report
    assert topic in lag["details"]["groups"][group]["over_lag_seconds"]

    # caught up (its offsets moved to the end, the group has no members): 0
    assert (
        cli.run("groups", "reset-offsets", group, "-t", topic, "--to-latest", "--execute")[0] == 0
    )
    code, doc = cli.json("groups", "lag", group, "--topic", topic, "--max-lag-seconds", "10")
    assert (code, doc["groups"][0]["max_lag_seconds"], doc["groups"][0]["total_lag"]) == (
        0,
        0.0,
        0,
    )


@pytest.mark.kafka
def test_log_append_time_topics_age_from_when_the_broker_appended(
    setup: tuple[KafkaCluster, Cli, str, str],
) -> None:
    cluster, cli, prefix, group = setup
    topic = prefix + "payment.audit"
    an_hour_ago = int(time.time() * 1000) - 3_600_000
    before = time.time()
    produce_at(cluster.settings, topic, [an_hour_ago] * 10)
    commit_messages(cluster.settings, group, topic, {0: 3})
    _, doc = cli.json("groups", "lag", group, "--topic", topic)
    (p,) = doc["groups"][0]["partitions"]
    # The broker replaced the producer's CreateTime with its own append time: the age is since
    # the append (a few seconds at most here), not the hour the producer claimed.
    assert p["lag"] == 7
    assert 0 <= p["lag_seconds"] <= time.time() - before + 1.0


@pytest.mark.kafka
def test_retention_loss_is_counted_and_aged_from_the_oldest_message_left(
    setup: tuple[KafkaCluster, Cli, str, str],
) -> None:
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    cluster, cli, prefix, group = setup
    topic = prefix + "payment.completed"
    now_ms = int(time.time() * 1000)
    stamps = [now_ms - 100_000 + i * 1000 for i in range(100)]
    produce_at(cluster.settings, topic, stamps)
    commit_messages(cluster.settings, group, topic, {0: 40})
    admin = AdminClient(cluster.settings.client_config())
    for future in admin.delete_records([TopicPartition(topic, 0, 55)]).values():
        future.result(30)  # what retention does: the log now starts at 55

    client = ConfluentGroups(cluster.settings)
    try:
        (lag,) = read_group_lags(client, load_desired(cli.file), [group], topic=topic)
    finally:
        client.close()
    read_at = time.time()
    (p,) = lag.partitions
    assert (p.committed, p.log_start, p.lost_to_retention, p.status) == (
        40,
        55,
        15,
        "retention-lost",
    )
    assert p.lag == 45
    assert p.lag_seconds is not None
    assert abs(p.lag_seconds - (read_at - stamps[55] / 1000)) < 1.0
    _, out, _ = cli.run("groups", "lag", group, "--topic", topic)
    assert "retention-lost (15)" in out
    assert "lost 15 message(s) to retention" in out


@pytest.mark.kafka
def test_one_client_reading_again_and_again_gets_the_age_every_time(
    setup: tuple[KafkaCluster, Cli, str, str],
) -> None:
    """serve keeps one groups client for hours: its record reader must not keep the
    partitions it paused in one read paused for the next (it did, and the age went missing)."""
    cluster, cli, prefix, group = setup
    topic = prefix + "payment.completed"
    now_ms = int(time.time() * 1000)
    produce_at(cluster.settings, topic, [now_ms - 30_000 + i * 100 for i in range(100)])
    commit_messages(cluster.settings, group, topic, {0: 50})
    client = ConfluentGroups(cluster.settings)
    try:
        ages = [
            read_group_lags(client, load_desired(cli.file), [group], topic=topic)[0]
            .partitions[0]
            .lag_seconds
            for _ in range(3)
        ]
    finally:
        client.close()
    known = [age for age in ages if age is not None]
    assert len(known) == 3, ages
    assert all(24 < age < 40 for age in known), ages
    assert known == sorted(known)  # and it grows with the wall clock
