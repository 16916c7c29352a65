"""Topic reconciliation against a real Kafka broker started by the tests (local runtime).

Each test declares its own prefix, so tests sharing a broker never see each other's topics as
unmanaged. The core tests run on both Kafka 3.9 (ZooKeeper) and 4.x (KRaft).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import ExitCode
from dreamscape_infra.kafka.admin import ConfluentAdmin
from dreamscape_infra.kafka.cluster import ConfigOp, NewTopicRequest
from dreamscape_infra.topics.desired import load_desired
from dreamscape_infra.topics.reconcile import sync_desired
from tests.topics_files import write_topics

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture(params=["zookeeper", "kraft"])
def any_cluster(request: pytest.FixtureRequest) -> Any:
    name = "kafka_cluster" if request.param == "zookeeper" else "kafka_kraft"
    return request.getfixturevalue(name)


def topics_file(
    tmp_path: Path,
    topics: list[dict[str, Any]],
    *,
    prefix: str | None = None,
    extra: str = "",
) -> tuple[Path, str]:
    prefix = prefix or f"t{secrets.token_hex(4)}."
    lines = [
        "version: 1",
        f"prefix: {prefix}",
        "defaults:",
        "  partitions: 2",
        "  replication_factor: 1",
        "  config:",
        "    retention.ms: 7d",
        "domains:",
        "  user: {owner: user-service}",
        "  pay: {owner: payment-service}",
        "topics:",
    ]
    for t in topics:
        lines.append(f"  - name: {prefix}{t['name']}")
        for key in ("partitions", "replication_factor", "keyed"):
            if key in t:
                lines.append(f"    {key}: {json.dumps(t[key])}")
        if "config" in t:
            lines.append("    config:")
            lines.extend(f"      {k}: {json.dumps(v)}" for k, v in t["config"].items())
    return write_topics(tmp_path, "\n".join(lines) + "\n" + extra), prefix


def cli(cluster: Any, path: Path, *args: str) -> tuple[int, str, str]:
    state = AppState(environ={"KAFKA_BROKERS": cluster.bootstrap}, interactive=False)
    result = runner.invoke(app, ["--topics-file", str(path), *args], obj=state)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result.exit_code, result.stdout, result.stderr


def plan_json(cluster: Any, path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = cli(cluster, path, "topics", "plan", "--detailed-exitcode", "-o", "json", *args)
    return code, json.loads(out)


def admin_for(cluster: Any) -> ConfluentAdmin:
    return ConfluentAdmin(cluster.settings)


SEED: list[dict[str, Any]] = [
    {"name": "user.created", "keyed": True},
    {"name": "user.deleted", "config": {"retention.ms": "30d", "cleanup.policy": "delete"}},
    {"name": "pay.done", "partitions": 3, "config": {"compression.type": "lz4"}},
]


# ---- core tests, on ZooKeeper and KRaft ------------------------------------------------


def test_create_then_plan_is_empty_and_second_sync_is_noop(
    any_cluster: Any, tmp_path: Path
) -> None:
    path, prefix = topics_file(tmp_path, SEED)
    code, out, _ = cli(any_cluster, path, "topics", "sync")
    assert code == 0, out
    snapshot = admin_for(any_cluster).snapshot([f"{prefix}{t['name']}" for t in SEED])
    assert snapshot.topics[f"{prefix}pay.done"].partition_count == 3
    assert snapshot.topics[f"{prefix}user.deleted"].configs["retention.ms"].value == "2592000000"
    assert snapshot.topics[f"{prefix}pay.done"].configs["compression.type"].value == "lz4"
    code, doc = plan_json(any_cluster, path)
    assert code == 0
    assert doc["in_sync"] is True
    code, out, _ = cli(any_cluster, path, "topics", "sync", "-o", "json")
    assert code == 0
    assert [a for a in json.loads(out)["actions"] if a["result"] != "report"] == []


def test_config_drift_restored_and_partitions_added(any_cluster: Any, tmp_path: Path) -> None:
    path, prefix = topics_file(tmp_path, SEED)
    assert cli(any_cluster, path, "topics", "sync")[0] == 0
    admin = admin_for(any_cluster)
    name = f"{prefix}user.deleted"
    altered = admin.alter_configs(
        {name: [ConfigOp("retention.ms", "set", "1000")]},
        validate_only=False,
    )
    assert altered[name].ok
    # KRaft: the controller has the change, the broker that answers DescribeConfigs applies it
    # a moment later; the drift this test plans against exists only from then on.
    _until(lambda: _retention(admin, name) == "1000")
    path, _ = topics_file(
        tmp_path,
        [*SEED[:2], {**SEED[2], "partitions": 5}],
        prefix=prefix,
    )
    code, doc = plan_json(any_cluster, path)
    assert code == ExitCode.CHANGES_PENDING
    pending = sorted(
        (a["topic"], a["action"], a["key"]) for a in doc["actions"] if a["result"] == "pending"
    )
    assert pending == [
        (f"{prefix}pay.done", "add-partitions", None),
        (name, "set-config", "retention.ms"),
    ]
    assert cli(any_cluster, path, "topics", "sync")[0] == 0
    _until(lambda: _retention(admin, name) == "2592000000")
    snapshot = admin.snapshot([name, f"{prefix}pay.done"])
    assert snapshot.topics[f"{prefix}pay.done"].partition_count == 5
    assert plan_json(any_cluster, path)[0] == 0


def _retention(admin: Any, name: str) -> str | None:
    return cast(str | None, admin.snapshot([name]).topics[name].configs["retention.ms"].value)


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a config change to reach the broker that answers (KRaft applies it shortly after
    the controller accepted it)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the broker never showed the change"
        time.sleep(0.1)


def test_dry_run_catches_policy_violation_and_changes_nothing(
    any_cluster: Any, tmp_path: Path
) -> None:
    path, prefix = topics_file(
        tmp_path, [{"name": "user.ok"}, {"name": "user.rf3", "replication_factor": 3}]
    )
    code, out, err = cli(any_cluster, path, "topics", "sync", "--dry-run", "-o", "json")
    assert code == ExitCode.ENVIRONMENT
    results = {a["topic"]: a for a in json.loads(out)["actions"]}
    assert results[f"{prefix}user.ok"]["result"] == "validated"
    assert results[f"{prefix}user.rf3"]["result"] == "error"
    assert "REPLICATION" in results[f"{prefix}user.rf3"]["message"].upper()
    assert f"{prefix}user.rf3" in err
    existing = admin_for(any_cluster).snapshot([]).topics
    assert not [n for n in existing if n.startswith(prefix)]


# ---- the rest, on ZooKeeper ------------------------------------------------------------


def test_strict_configs_deletes_undeclared_override(kafka_cluster: Any, tmp_path: Path) -> None:
    path, prefix = topics_file(tmp_path, SEED)
    assert cli(kafka_cluster, path, "topics", "sync")[0] == 0
    name = f"{prefix}user.created"
    admin = admin_for(kafka_cluster)
    admin.alter_configs({name: [ConfigOp("segment.ms", "set", "600000")]}, validate_only=False)
    code, doc = plan_json(kafka_cluster, path)
    assert code == 0  # reported, not pending
    assert [(a["action"], a["key"]) for a in doc["actions"] if a["topic"] == name] == [
        ("undeclared-config", "segment.ms")
    ]
    code, _, _ = cli(kafka_cluster, path, "topics", "sync", "--strict-configs", "--yes")
    assert code == 0
    configs = admin.snapshot([name]).topics[name].configs
    assert configs["segment.ms"].source != "topic"
    assert configs["retention.ms"].value == "604800000"  # declared keys stay


def test_decrease_refused_and_rf_drift_reported(kafka_cluster: Any, tmp_path: Path) -> None:
    path, prefix = topics_file(tmp_path, SEED)
    assert cli(kafka_cluster, path, "topics", "sync")[0] == 0
    path, _ = topics_file(
        tmp_path,
        [
            {**SEED[0], "partitions": 1},
            {**SEED[1], "replication_factor": 2},
            {**SEED[2], "config": {"compression.type": "zstd"}},
        ],
        prefix=prefix,
    )
    code, out, _err = cli(kafka_cluster, path, "topics", "sync", "-o", "json")
    assert code == ExitCode.UNFIXABLE_DRIFT
    doc = json.loads(out)
    unfixable = sorted((a["topic"], a["key"]) for a in doc["actions"] if a["action"] == "unfixable")
    assert unfixable == [
        (f"{prefix}user.created", "partitions"),
        (f"{prefix}user.deleted", "replication_factor"),
    ]
    snapshot = admin_for(kafka_cluster).snapshot([f"{prefix}pay.done"])
    assert snapshot.topics[f"{prefix}pay.done"].configs["compression.type"].value == "zstd"
    assert snapshot.topics[f"{prefix}user.created"].partition_count == 2


def test_unmanaged_listed_and_prune_needs_yes(kafka_cluster: Any, tmp_path: Path) -> None:
    path, prefix = topics_file(tmp_path, SEED)
    assert cli(kafka_cluster, path, "topics", "sync")[0] == 0
    admin = admin_for(kafka_cluster)
    stray = f"{prefix}user.legacy"
    admin.create_topics([NewTopicRequest(stray, 1, 1, {})], validate_only=False)
    assert admin.wait_for_topics([stray], 10) == set()
    code, doc = plan_json(kafka_cluster, path)
    assert code == 0
    assert {"name": stray, "status": "unmanaged"} in doc["topics"]
    code, _, err = cli(kafka_cluster, path, "topics", "sync", "--prune")
    assert code == ExitCode.REFUSED
    assert "refused" in err
    assert stray in admin.snapshot([]).topics
    # prune_min_idle defaults to 1h; the stray is empty so no recent message blocks it
    code, out, _ = cli(kafka_cluster, path, "topics", "sync", "--prune", "--yes")
    assert code == 0, out
    deadline = time.monotonic() + 15
    while stray in admin.snapshot([]).topics and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stray not in admin.snapshot([]).topics


def test_prune_refuses_topics_in_use_and_internal_topics_survive(
    kafka_cluster: Any, tmp_path: Path
) -> None:
    from confluent_kafka import Consumer, Producer

    path, prefix = topics_file(tmp_path, SEED)
    assert cli(kafka_cluster, path, "topics", "sync")[0] == 0
    busy = f"{prefix}user.busy"
    config = {"bootstrap.servers": kafka_cluster.bootstrap}
    producer = Producer(config)
    producer.produce(busy, b"hello")  # auto-creates the topic on a default broker
    assert producer.flush(15) == 0
    consumer = Consumer(config | {"group.id": f"{prefix}group", "auto.offset.reset": "earliest"})
    consumer.subscribe([busy])
    message = None
    deadline = time.monotonic() + 20
    while message is None and time.monotonic() < deadline:
        message = consumer.poll(0.5)
    assert message is not None
    consumer.commit(asynchronous=False)
    consumer.close()
    code, out, _ = cli(kafka_cluster, path, "topics", "sync", "--prune", "--yes", "-o", "json")
    assert code == ExitCode.REFUSED
    (delete,) = [a for a in json.loads(out)["actions"] if a["topic"] == busy]
    assert delete["result"] == "blocked"
    assert f"{prefix}group" in delete["blocked"]
    topics = admin_for(kafka_cluster).snapshot([]).topics
    assert busy in topics
    assert "__consumer_offsets" in topics
    code, _, _ = cli(kafka_cluster, path, "topics", "sync", "--prune", "--yes", "--force")
    assert code == 0
    assert "__consumer_offsets" in admin_for(kafka_cluster).snapshot([]).topics


def test_two_syncs_in_parallel_both_succeed(kafka_cluster: Any, tmp_path: Path) -> None:
    many = [{"name": f"user.t{i}", "config": {"retention.ms": "1d"}} for i in range(20)]
    path, _prefix = topics_file(tmp_path, many)
    desired = load_desired(path)
    codes: list[int] = []

    def run() -> None:
        outcome = sync_desired(desired, ConfluentAdmin(kafka_cluster.settings))
        codes.append(int(outcome.report.exit_code()))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [0, 0]
    assert plan_json(kafka_cluster, path)[0] == 0


def test_shipped_topics_yaml_acceptance(kafka_kraft: Any, tmp_path: Path) -> None:
    """The issue's acceptance run: sync 32, plan 0, one retention edit -> 5 with one change,
    and `topics list | grep -c payment` finds the 5 payment topics through a pipe at 80 columns.

    The one test that checks the shipped topics.yaml; every other test uses a fixture file.

    Runs on the KRaft broker, whose other tests use their own prefixes, so nothing else lives
    under dreamscape. there.
    """
    shipped = (ROOT / "topics.yaml").read_text()
    # editors find the schema through the first line
    assert shipped.splitlines()[0] == "# yaml-language-server: $schema=./docs/topics.schema.json"
    path = write_topics(tmp_path, shipped)
    code, out, _ = cli(kafka_kraft, path, "topics", "sync", "-o", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert len([a for a in doc["actions"] if a["action"] == "create"]) == 32
    assert plan_json(kafka_kraft, path)[0] == 0
    path.write_text(
        shipped.replace(
            "  - name: dreamscape.auth.logout\n",
            "  - name: dreamscape.auth.logout\n    config:\n      retention.ms: 2d\n",
        )
    )
    code, doc = plan_json(kafka_kraft, path)
    assert code == ExitCode.CHANGES_PENDING
    pending = [a for a in doc["actions"] if a["result"] == "pending"]
    assert [(a["topic"], a["key"], a["before"], a["after"]) for a in pending] == [
        ("dreamscape.auth.logout", "retention.ms", "604800000", "172800000")
    ]
    # Through a pipe at 80 columns, every name is whole and greppable: the 5 payment topics.
    listed = subprocess.run(
        f"{shlex.quote(sys.executable)} -m dreamscape_infra --topics-file {shlex.quote(str(path))}"
        f" --brokers {kafka_kraft.bootstrap} topics list | grep -c payment",
        shell=True,
        env={**os.environ, "COLUMNS": "80", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listed.stdout.strip() == "5", listed.stderr
