"""The events commands against a real broker (the session's Kafka 3.9 cluster).

Each test gets its own prefix and a small topics file (tests/events_support.topics_file), synced
with the project's own reconciler. What is checked here needs Kafka itself: the round trip is
exact, reading creates no consumer group, validate finds each violation written with --raw, the
producer is idempotent with acks=all, and --follow ends on SIGINT with exit 0.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.events.model import Outgoing
from dreamscape_infra.kafka.admin import ConfluentAdmin
from dreamscape_infra.kafka.events import (
    READER_GROUP_ID,
    ConfluentEventReader,
    ConfluentEventWriter,
)
from dreamscape_infra.topics.desired import load_desired
from dreamscape_infra.topics.reconcile import sync_desired
from tests.events_support import encoded, event, topics_file
from tests.kafka_support import KafkaCluster, free_ports

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@dataclass(frozen=True)
class Topics:
    cluster: KafkaCluster
    path: Path
    prefix: str

    def name(self, rest: str) -> str:
        return self.prefix + rest

    def cli(self, *args: str, stdin: str | None = None) -> Result:
        state = AppState(environ={"KAFKA_BROKERS": self.cluster.bootstrap}, plain_tables=True)
        result = runner.invoke(
            app, ["--topics-file", str(self.path), *args], obj=state, input=stdin
        )
        assert "Traceback" not in result.stdout + result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result

    def tail_json(self, topic: str, *args: str) -> list[dict[str, Any]]:
        positioned = {"--offset", "--since"} & set(args)
        start = () if positioned else ("--from-beginning",)
        result = self.cli("events", "tail", topic, *start, "-o", "json", *args)
        assert result.exit_code == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def topics(kafka_cluster: KafkaCluster, tmp_path: Path) -> Iterator[Topics]:
    prefix = f"ev{secrets.token_hex(3)}."
    path = topics_file(tmp_path, prefix)
    admin = ConfluentAdmin(kafka_cluster.settings, timeout_s=30)
    outcome = sync_desired(load_desired(path), admin)
    assert int(outcome.report.exit_code()) == 0
    yield Topics(kafka_cluster, path, prefix)
    names = [t.name for t in load_desired(path).topics]
    admin.delete_topics(names)


def groups(cluster: KafkaCluster) -> set[str]:
    from confluent_kafka.admin import AdminClient

    client = AdminClient({"bootstrap.servers": cluster.bootstrap})
    listing = client.list_consumer_groups(request_timeout=15).result(timeout=20)
    return {g.group_id for g in listing.valid}


@pytest.mark.kafka
def test_produce_then_tail_round_trip_is_exact(topics: Topics) -> None:
    topic = topics.name("user.created")
    produced = []
    for i in range(6):
        result = topics.cli(
            "events",
            "produce",
            topic,
            "--type",
            "user.created",
            "--source",
            "user-service",
            "--payload",
            json.dumps({"userId": f"user-{i}", "name": "Zoé"}),
            "--key",
            f"user-{i}",
            "--header",
            f"trace=t-{i}",
            "--header",
            "tenant=acme",
            "-o",
            "json",
        )
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["delivered"] == 1
        produced.append((doc["events"][0], f"user-{i}", i))
    lines = topics.tail_json(topic)
    assert len(lines) == 6
    by_id = {line["value"]["eventId"]: line for line in lines}
    for delivery, key, i in produced:
        line = by_id[delivery["eventId"]]
        assert (line["partition"], line["offset"]) == (delivery["partition"], delivery["offset"])
        assert line["key"] == key
        assert line["headers"] == [
            {"key": "trace", "value": f"t-{i}", "encoding": "text"},
            {"key": "tenant", "value": "acme", "encoding": "text"},
        ]
        assert line["value"]["payload"] == {"userId": key, "name": "Zoé"}
        assert line["value_encoding"] == "json"
        assert "value_base64" not in line  # what produce writes is compact JSON
    # One key always lands on the same partition (the partitioner hashes keys).
    result = topics.cli(
        "events",
        "produce",
        topic,
        "--source",
        "s",
        "--payload",
        "{}",
        "--key",
        "user-0",
        "--count",
        "3",
        "-o",
        "json",
    )
    assert {e["partition"] for e in json.loads(result.stdout)["events"]} == {
        by_id[produced[0][0]["eventId"]]["partition"]
    }


@pytest.mark.kafka
def test_tail_json_replays_into_another_topic_byte_for_byte(topics: Topics) -> None:
    source, target = topics.name("payment.completed"), topics.name("payment.failed")
    writer = ConfluentEventWriter(topics.cluster.settings)
    records = [
        Outgoing(source, encoded(event("payment.completed")), b"k1", (("h", b"v"),), 0),
        Outgoing(source, b'{ "spaced": 1.0E2 }', b"k2", (), 1),
        Outgoing(source, b"\xff\xfe binary", b"\x00\x01", (("bin", b"\xff"), ("n", None)), 2),
        Outgoing(source, None, b"tombstone", (), 2),
        Outgoing(source, "texte non JSON é".encode(), None, (), 1),
    ]
    for record in records:
        writer.send(record)
    assert all(d.ok for d in writer.flush(30))
    writer.close()
    tailed = topics.cli("events", "tail", source, "--from-beginning", "-o", "json")
    assert tailed.exit_code == 0
    replay = topics.cli("events", "produce", target, "--from-file", "-", stdin=tailed.stdout)
    assert replay.exit_code == 0, replay.stderr
    again = topics.tail_json(target)

    def shape(line: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            line.get(k)
            for k in (
                "partition",
                "key",
                "key_encoding",
                "headers",
                "value",
                "value_encoding",
                "value_base64",
            )
        )

    before = [json.loads(x) for x in tailed.stdout.splitlines()]
    assert sorted(map(repr, map(shape, again))) == sorted(map(repr, map(shape, before)))
    assert len(again) == len(records)
    # ... and with the raw bytes, straight from the adapter.
    reader = ConfluentEventReader(topics.cluster.settings)
    parts = [(target, p) for p in range(3)]
    reader.assign(dict.fromkeys(parts, 0))
    got: list[tuple[int, bytes | None, bytes | None, tuple[Any, ...]]] = []
    deadline = time.monotonic() + 30
    while len(got) < len(records) and time.monotonic() < deadline:
        for m in reader.poll(100, 0.5).messages:
            got.append((m.partition, m.key, m.value, m.headers))
    reader.close()
    expected = [(r.partition, r.key, r.value, r.headers) for r in records]
    assert sorted(got, key=repr) == sorted(expected, key=repr)


@pytest.mark.kafka
def test_reading_creates_no_consumer_group(topics: Topics) -> None:
    topic = topics.name("user.created")
    before = groups(topics.cluster)
    assert topics.cli("events", "produce", topic, "--source", "s", "--payload", "{}").exit_code == 0
    assert topics.cli("events", "tail", topic, "--from-beginning").exit_code == 0
    assert topics.cli("events", "tail", topic, "--since", "1h", "-o", "json").exit_code == 0
    assert topics.cli("events", "validate", topics.prefix + "*").exit_code == 0
    tailed = topics.cli("events", "tail", topic, "--from-beginning", "-o", "json")
    assert (
        topics.cli("events", "produce", topic, "--from-file", "-", stdin=tailed.stdout).exit_code
        == 0
    )
    time.sleep(1)
    after = groups(topics.cluster)
    assert after == before
    assert READER_GROUP_ID not in after


@pytest.mark.kafka
def test_validate_finds_each_kind_of_violation_written_with_raw(topics: Topics) -> None:
    topic = topics.name("user.created")
    good = event()
    cases = {
        "not-json": "not json",
        "not-an-object": "[1, 2, 3]",
        "missing-field:payload": json.dumps(event(payload=None)),
        "missing-field:eventId": json.dumps(event(eventId=None)),
        "invalid:eventId": json.dumps(event(eventId="evt-1")),
        "invalid:timestamp": json.dumps(event(timestamp="15/01/2024")),
        "invalid:version": json.dumps(event(version="")),
        "wrong-type:payload": json.dumps(event(payload="text")),
        "wrong-type:timestamp": json.dumps(event(timestamp=1705314600000)),
        "event-type-mismatch": json.dumps(event(eventType="user.deleted")),
        "unknown-field": json.dumps(event(surprise=True)),
    }
    where: dict[str, tuple[int, int]] = {}
    assert topics.cli("events", "produce", topic, "--raw", json.dumps(good)).exit_code == 0
    for kind, raw in cases.items():
        result = topics.cli("events", "produce", topic, "--raw", raw, "-o", "json")
        assert result.exit_code == 0, result.stderr
        delivery = json.loads(result.stdout)["events"][0]
        where[kind] = (delivery["partition"], delivery["offset"])
    writer = ConfluentEventWriter(topics.cluster.settings)
    writer.send(Outgoing(topic, b"\xff\xfe\xfd"))
    writer.send(Outgoing(topic, None, b"k"))
    (bad_utf8, tombstone) = writer.flush(30)
    writer.close()
    where["not-utf8"] = (bad_utf8.partition, bad_utf8.offset)
    where["null-value"] = (tombstone.partition, tombstone.offset)

    result = topics.cli("events", "validate", topic, "--from-beginning", "-o", "json")
    assert result.exit_code == 8
    doc = json.loads(result.stdout)
    problems = {p["kind"]: p for p in doc["problems"]}
    assert set(problems) == set(where)
    for kind, (partition, offset) in where.items():
        example = problems[kind]["examples"][0]
        assert (example["partition"], example["offset"]) == (partition, offset), kind
        assert problems[kind]["severity"] == ("warning" if kind == "unknown-field" else "error")
    assert doc["summary"] == {
        "messages": len(where) + 1,
        "valid": 2,  # the good one, and the one with an unknown field (a warning)
        "invalid": len(where) - 1,
        "with_warnings": 1,
    }
    table = topics.cli("events", "validate", topic)
    assert table.exit_code == 8
    partition, offset = where["not-json"]
    assert f"{topic}[{partition}]@{offset}\tthe value is not JSON: 'not json'" in table.stdout


@pytest.mark.kafka
def test_validate_honours_event_type_from_topics_yaml(topics: Topics) -> None:
    topic = topics.name("legacy.audit")
    for event_type in ("audit.login", "audit.logout"):
        raw = json.dumps(event(event_type))
        assert topics.cli("events", "produce", topic, "--raw", raw).exit_code == 0
    assert topics.cli("events", "validate", topic).exit_code == 0
    assert topics.cli("events", "produce", topic, "--raw", json.dumps(event())).exit_code == 0
    result = topics.cli("events", "validate", topic, "-o", "json")
    assert result.exit_code == 8
    assert json.loads(result.stdout)["problems"][0]["kind"] == "event-type-mismatch"


@pytest.mark.kafka
def test_producer_is_idempotent_with_acks_all(topics: Topics) -> None:
    writer = ConfluentEventWriter(topics.cluster.settings)
    config = writer.effective_config()
    assert config["enable.idempotence"] == "true"
    assert config["acks"] == "all"
    assert "sasl.password" not in config
    assert "bootstrap.servers" not in config
    writer.send(Outgoing(topics.name("user.updated"), b"x"))
    (delivery,) = writer.flush(30)
    writer.close()
    assert delivery.ok
    assert delivery.partition == 0


@pytest.mark.kafka
def test_tail_stops_at_the_end_of_an_idle_topic_and_honours_positions(topics: Topics) -> None:
    topic = topics.name("user.updated")
    start = time.monotonic()
    result = topics.cli("events", "tail", topic, "--from-beginning")
    assert result.exit_code == 0
    assert time.monotonic() - start < 20
    assert "no messages" in result.stderr
    for i in range(5):
        raw = json.dumps(event("user.updated", payload={"n": i}))
        assert topics.cli("events", "produce", topic, "--raw", raw).exit_code == 0
    assert [x["offset"] for x in topics.tail_json(topic)] == [0, 1, 2, 3, 4]
    assert [x["offset"] for x in topics.tail_json(topic, "--offset", "-2")] == [3, 4]
    assert [x["offset"] for x in topics.tail_json(topic, "--offset", "1", "-n", "2")] == [1, 2]
    assert len(topics.tail_json(topic, "--since", "10m")) == 5
    assert topics.tail_json(topic, "--since", "2999-01-01T00:00:00Z") == []
    found = topics.tail_json(topic, "--grep", '"n": 3')
    assert [x["value"]["payload"] for x in found] == [{"n": 3}]


@pytest.mark.kafka
def test_follow_ends_on_sigint_with_exit_0(topics: Topics) -> None:
    topic = topics.name("user.updated")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KAFKA_BROKERS": topics.cluster.bootstrap,
        "DREAMSCAPE_TOPICS_FILE": str(topics.path),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "dreamscape_infra", "events", "tail", topic, "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    try:
        # Keep producing until the follower shows a message: it is assigned and reading.
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        seen = b""
        deadline = time.monotonic() + 60
        while b"user.updated" not in seen and time.monotonic() < deadline:
            topics.cli("events", "produce", topic, "--source", "s", "--payload", '{"p":1}')
            time.sleep(1)
            with contextlib.suppress(BlockingIOError):
                seen += os.read(proc.stdout.fileno(), 65536)
        assert b"user.updated" in seen, seen
        proc.send_signal(signal.SIGINT)
        _out, err_bytes = proc.communicate(timeout=30)
        err = err_bytes.decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err


def test_no_broker_exits_4_within_seconds(tmp_path: Path) -> None:
    """The real adapters against a port nothing listens on (no broker needed)."""
    (port,) = free_ports(1)
    path = topics_file(tmp_path)
    state_env = {"KAFKA_BROKERS": f"127.0.0.1:{port}"}
    for args in (
        ["events", "tail", "dreamscape.user.created"],
        ["events", "validate", "dreamscape.user.created"],
        ["events", "produce", "dreamscape.user.created", "--source", "s", "--payload", "{}"],
    ):
        start = time.monotonic()
        result = runner.invoke(
            app, ["--topics-file", str(path), *args], obj=AppState(environ=state_env)
        )
        assert result.exit_code == 4, result.stderr
        assert time.monotonic() - start < 15
        assert result.stderr.startswith(f"error: Kafka is not reachable at 127.0.0.1:{port}")
        assert "Traceback" not in result.stderr
