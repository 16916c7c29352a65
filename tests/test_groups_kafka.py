"""Consumer groups against real brokers (Kafka 3.9 ZooKeeper and 4.x KRaft), with real
confluent_kafka producers and consumers, compared with kafka-consumer-groups from the same jars."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.groups.lag import read_group_lags
from dreamscape_infra.kafka.groups import ConfluentGroups
from dreamscape_infra.topics.desired import load_desired
from tests.groups_support import (
    commit_messages,
    kafka_consumer_groups,
    polling_member,
    produce,
    write_topics_file,
)
from tests.kafka_support import KafkaCluster

runner = CliRunner()


@dataclass(frozen=True)
class Setup:
    cluster: KafkaCluster
    file: Path
    prefix: str
    auth: str
    user: str

    def topic(self, name: str) -> str:
        return self.prefix + name

    def cli(self, *args: str) -> tuple[int, str, str]:
        state = AppState(
            environ={"KAFKA_BROKERS": self.cluster.bootstrap},
            interactive=False,
            plain_tables=True,
        )
        result = runner.invoke(app, ["--topics-file", str(self.file), *args], obj=state)
        assert "Traceback" not in result.stdout + result.stderr
        return result.exit_code, result.stdout, result.stderr

    def lag_json(self, *args: str) -> dict[str, dict[str, Any]]:
        code, out, err = self.cli("groups", "lag", *args, "-o", "json")
        assert code == 0, err
        return {g["group"]: g for g in json.loads(out)["groups"]}


@pytest.fixture(params=["zookeeper", "kraft"])
def broker(request: pytest.FixtureRequest) -> KafkaCluster:
    name = "kafka_cluster" if request.param == "zookeeper" else "kafka_kraft"
    cluster: KafkaCluster = request.getfixturevalue(name)
    return cluster


def _setup(cluster: KafkaCluster, tmp_path: Path) -> Iterator[Setup]:
    tag = uuid.uuid4().hex[:8]
    prefix = f"dreamscape{tag}."
    path = write_topics_file(tmp_path, prefix, f"-{tag}")
    setup = Setup(
        cluster,
        path,
        prefix,
        f"dreamscape-auth-service-{tag}-group",
        f"dreamscape-user-service-{tag}-group",
    )
    code, _, err = setup.cli("topics", "sync")
    assert code == 0, err
    yield setup


@pytest.fixture
def both(broker: KafkaCluster, tmp_path: Path) -> Iterator[Setup]:
    """Fresh topics and group names on 3.9 and on 4.x."""
    yield from _setup(broker, tmp_path)


@pytest.fixture
def zk(kafka_cluster: KafkaCluster, tmp_path: Path) -> Iterator[Setup]:
    """Fresh topics and group names on 3.9 only (behaviour that does not differ by version)."""
    yield from _setup(kafka_cluster, tmp_path)


@pytest.mark.kafka
def test_lag_is_produced_minus_committed_and_matches_kafka_consumer_groups(both: Setup) -> None:
    created, login = both.topic("user.created"), both.topic("auth.login")
    produce(both.cluster.settings, created, [34, 33, 33])
    produce(both.cluster.settings, login, [25, 15])
    commit_messages(both.cluster.settings, both.auth, created, {0: 14, 1: 13, 2: 13})
    commit_messages(both.cluster.settings, both.user, login, {0: 20, 1: 0})

    client = ConfluentGroups(both.cluster.settings)
    try:
        auth, user = read_group_lags(client, load_desired(both.file))
    finally:
        client.close()
    assert (auth.group, auth.state, auth.members, auth.declared) == (both.auth, "Empty", 0, True)
    lag = {(p.topic, p.partition): (p.committed, p.log_end, p.lag) for p in auth.partitions}
    assert {k: v for k, v in lag.items() if k[0] == created} == {
        (created, 0): (14, 34, 20),
        (created, 1): (13, 33, 20),
        (created, 2): (13, 33, 20),
    }
    assert auth.total_lag == 60  # the declared user.deleted is empty
    user_lag = {(p.topic, p.partition): (p.committed, p.log_end, p.lag) for p in user.partitions}
    # partition 1: nothing committed, so the lag counts from the log start
    assert user_lag == {(login, 0): (20, 25, 5), (login, 1): (None, 15, 15)}

    for group, ours in ((both.auth, lag), (both.user, user_lag)):
        theirs = kafka_consumer_groups(both.cluster.mode, both.cluster.bootstrap, group)
        committed_ours = {k: v for k, v in ours.items() if v[0] is not None}
        assert theirs == committed_ours, group

    # no members and lag > 0 -> STOPPED, in the CLI too
    groups = both.lag_json()
    assert (groups[both.auth]["status"], groups[both.auth]["total_lag"]) == ("STOPPED", 60)
    assert (groups[both.user]["status"], groups[both.user]["total_lag"]) == ("STOPPED", 20)


@pytest.mark.kafka
def test_max_lag_exit_codes_and_list(zk: Setup) -> None:
    created = zk.topic("user.created")
    produce(zk.cluster.settings, created, [10, 10, 10])
    commit_messages(zk.cluster.settings, zk.auth, created, {0: 5, 1: 5, 2: 5})
    code, _, err = zk.cli("groups", "lag", "--max-lag", "10")
    assert code == 8
    assert f"{zk.auth}: total lag 15 > --max-lag 10" in err
    assert zk.cli("groups", "lag", "--max-lag", "1000")[0] == 0
    assert zk.cli("groups", "lag", "--max-partition-lag", "4")[0] == 8
    assert zk.cli("groups", "lag", "--max-partition-lag", "5")[0] == 0
    code, out, _ = zk.cli("groups", "list", "-o", "json")
    assert code == 0
    listed = {g["group"]: g for g in json.loads(out)["groups"]}
    assert (listed[zk.auth]["state"], listed[zk.auth]["total_lag"]) == ("Empty", 15)
    assert (listed[zk.user]["state"], listed[zk.user]["status"]) == ("not-started", "NOT-STARTED")


@pytest.mark.kafka
def test_polling_without_commits_is_stalled_and_reset_is_refused(both: Setup) -> None:
    created = both.topic("user.created")
    produce(both.cluster.settings, created, [4, 3, 3])
    reset = ["groups", "reset-offsets", both.auth, "--topic", created, "--to-latest"]
    with polling_member(both.cluster.settings, both.auth, [created]):
        groups = both.lag_json(both.auth, "--window", "3s")
        auth = groups[both.auth]
        assert (auth["status"], auth["members"], auth["total_lag"]) == ("STALLED", 1, 10)
        held = [p for p in auth["partitions"] if p["topic"] == created]
        assert all(p["member"] is not None for p in held)
        assert all(p["committed"] is None for p in held)
        code, _, err = both.cli(*reset, "--execute")
        assert code == 7
        assert "active member" in err
    code, _, _ = both.cli(*reset)  # dry run: changes nothing
    assert code == 0
    assert both.lag_json(both.auth)[both.auth]["total_lag"] == 10
    deadline = time.monotonic() + 60
    while True:  # the member's leave may take a moment to reach the coordinator
        code, _, err = both.cli(*reset, "--execute")
        if code != 7 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert code == 0, err
    after = both.lag_json(both.auth)[both.auth]
    assert (after["total_lag"], after["status"]) == (0, "EMPTY")
    code, _, _ = both.cli(
        "groups", "reset-offsets", both.auth, "--topic", created, "--to-earliest", "--execute"
    )
    assert code == 0
    assert both.lag_json(both.auth)[both.auth]["total_lag"] == 10


@pytest.mark.kafka
def test_reset_clamps_and_shifts(zk: Setup) -> None:
    created = zk.topic("user.created")
    produce(zk.cluster.settings, created, [10, 0, 0])
    commit_messages(zk.cluster.settings, zk.auth, created, {0: 6})
    base = ["groups", "reset-offsets", zk.auth, "--topic", created, "--partition", "0"]
    code, out, _ = zk.cli(*base, "--to-offset", "99", "--execute", "-o", "json")
    assert code == 0
    (entry,) = json.loads(out)["partitions"]
    assert (entry["current"], entry["new"], entry["note"]) == (
        6,
        10,
        "99 is past the log end 10: clamped",
    )
    assert zk.cli(*base, "--shift-by", "-3", "--execute")[0] == 0
    partitions = zk.lag_json(zk.auth)[zk.auth]["partitions"]
    assert next(p["committed"] for p in partitions if p["partition"] == 0) == 7


@pytest.mark.kafka
def test_delete(zk: Setup) -> None:
    created = zk.topic("user.created")
    produce(zk.cluster.settings, created, [1, 1, 1])
    with polling_member(zk.cluster.settings, zk.auth, [created]):
        code, _, err = zk.cli("groups", "delete", zk.auth, "--yes")
        assert code == 7
        assert "active member" in err
    commit_messages(zk.cluster.settings, zk.auth, created, {0: 1})
    assert zk.cli("groups", "delete", zk.auth)[0] == 7  # not confirmed
    deadline = time.monotonic() + 60
    while True:
        code, out, err = zk.cli("groups", "delete", zk.auth, "--yes")
        if code != 7 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert code == 0, err
    assert f"deleted consumer group {zk.auth}" in out
    groups = zk.lag_json(zk.auth)  # still declared, so known: now not started again
    assert groups[zk.auth]["status"] == "NOT-STARTED"


def test_no_broker_exit_4_within_seconds(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = write_topics_file(tmp_path)
    state = AppState(environ={"KAFKA_BROKERS": f"127.0.0.1:{port}"}, interactive=False)
    start = time.monotonic()
    result = runner.invoke(app, ["--topics-file", str(path), "groups", "lag"], obj=state)
    assert result.exit_code == 4
    assert "not reachable" in result.stderr
    # Well below the client's 10 s timeout: a refused connection is reported, not waited out.
    assert time.monotonic() - start < 9.5
