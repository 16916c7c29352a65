"""Health under faults on a real 3-broker cluster (ZooKeeper mode, through the local runtime).

One cluster for the whole module; the tests run in file order and each leaves the cluster with
three brokers up. Topics are synced with the prod overlay of a small fixture file (RF 3,
min.insync.replicas 2), so one dead broker is survivable by acks=all producers and two are not.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.kafka.admin import ConfluentAdmin
from dreamscape_infra.runtime.base import UpOptions, UpResult, no_progress
from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime, Service
from dreamscape_infra.settings import ConnectionSettings
from tests.health_support import (
    PROD_TOPIC_NAMES,
    generated_topics,
    write_prod_topics,
)
from tests.kafka_support import (
    START_TIMEOUT_S,
    KafkaCluster,
    format_failure,
    free_ports,
    port_block_below_ephemeral,
    require_local_kafka,
)

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
CLI = (sys.executable, "-m", "dreamscape_infra")


@dataclass
class Stack:
    cluster: KafkaCluster
    runtime: LocalRuntime
    folder: Path
    topics_file: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            "KAFKA_BROKERS": self.cluster.bootstrap,
            "DREAMSCAPE_STATE_DIR": str(self.runtime.state_dir),
        }

    def cli(self, *args: str, topics_file: Path | None = None) -> tuple[int, str, str]:
        """The CLI in-process against the real cluster."""
        state = AppState(environ=self.env, interactive=False)
        result = runner.invoke(app, ["-f", str(topics_file or self.topics_file), *args], obj=state)
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        return result.exit_code, result.stdout, result.stderr

    def health(self) -> tuple[int, dict[str, Any]]:
        code, out, _ = self.cli("health", "--env", "prod", "-o", "json")
        return code, json.loads(out)

    def brokers(self) -> list[Service]:
        return [s for s in self.runtime.services() if s.is_broker]

    def kill(self, service: Service) -> None:
        pid = self.runtime.live_pid(service)
        assert pid is not None, f"{service.name} is not running"
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while self.runtime.live_pid(service) is not None and time.monotonic() < deadline:
            time.sleep(0.1)

    def restart(self) -> None:
        """`dreamscape-infra up` in a subprocess, as a user would run it after a crash.

        librdkafka has been seen to abort (`rd_kafka_admin_response_parse: Assertion
        'rko_result' failed`) while `up`'s readiness probe asks brokers that are still
        starting. The probe runs in a child process (`kafka.client_host`) for that reason, so
        `up` itself must exit 0 here, never die of a signal.
        """
        config = self.runtime.config
        env = {
            **self.subprocess_env(),
            "DREAMSCAPE_ZK_PORT": str(config.zk_port),
            "DREAMSCAPE_KAFKA_PORT": str(config.kafka_port),
            "DREAMSCAPE_CONTROLLER_PORT": str(config.controller_port),
            "DREAMSCAPE_KAFKA_HEAP": config.heap,
        }
        argv = [sys.executable, "-m", "dreamscape_infra", "up", "--runtime", "local"]
        argv += ["--brokers", "3", "--no-sync", "--timeout", "180"]
        done = subprocess.run(
            argv, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr

    def admin(self) -> ConfluentAdmin:
        return ConfluentAdmin(self.cluster.settings)

    def subprocess_env(self) -> dict[str, str]:
        return {**os.environ, **self.env, "PYTHONPATH": str(ROOT)}


def wait_for(what: str, probe: Callable[[], tuple[bool, Any]], timeout_s: float = 120.0) -> Any:
    """Poll `probe` until it says done; fail with its last value after the deadline."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        done, last = probe()
        if done:
            return last
        time.sleep(1.0)
    pytest.fail(f"timed out after {timeout_s:g}s waiting for {what}; last: {last}")


@contextmanager
def three_brokers(state_dir: Path) -> Iterator[KafkaCluster]:
    """`local_cluster(brokers=3)`, but on ports below the ephemeral range (5 in a row: ZK, 3
    brokers, the unused controller port), so that a killed broker can always restart."""
    require_local_kafka(kraft=False)
    runtime, result = _start_three(state_dir)
    try:
        bootstrap = result.status.bootstrap_servers
        yield KafkaCluster(
            bootstrap,
            ConnectionSettings(brokers=tuple(bootstrap.split(","))),
            "zookeeper",
            runtime,
        )
    finally:
        runtime.down(remove_data=True, progress=no_progress)


def _start_three(state_dir: Path) -> tuple[LocalRuntime, UpResult]:
    """Start the three brokers; a failure fails the tests with the JVM's log lines."""
    base = port_block_below_ephemeral(5)
    config = LocalConfig(
        state_dir=state_dir,
        zk_port=base,
        kafka_port=base + 1,
        controller_port=base + 4,
        heap="384m",
    )
    runtime = LocalRuntime(config, env=os.environ)
    try:
        return runtime, runtime.up(UpOptions(brokers=3, timeout_s=START_TIMEOUT_S), no_progress)
    except EnvironmentFailure as exc:
        runtime.down(remove_data=True, progress=no_progress)
        pytest.fail(format_failure(exc), pytrace=False)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("health-kafka")
    with three_brokers(folder / "state") as cluster:
        assert cluster.runtime is not None
        topics_file = write_prod_topics(folder)
        item = Stack(cluster, cluster.runtime, folder, topics_file)
        code, _, err = item.cli("topics", "sync", "--env", "prod")
        assert code == 0, err
        yield item


def produce(stack: Stack, topic: str, count: int = 3) -> list[Any]:
    """acks=all, no retries: the delivery errors as the broker gave them (None when stored)."""
    from confluent_kafka import Producer

    producer = Producer(
        {
            "bootstrap.servers": stack.cluster.bootstrap,
            "acks": "all",
            "retries": 0,
            "enable.idempotence": False,
            "message.timeout.ms": 30000,
        }
    )
    errors: list[Any] = []
    for i in range(count):
        producer.produce(
            topic,
            value=f"m{i}".encode(),
            partition=i % 2,
            on_delivery=lambda e, m: errors.append(e),
        )
    producer.flush(40)
    assert len(errors) == count
    return errors


def under_replicated_expected(stack: Stack, dead: set[int]) -> int:
    """Partitions (of every topic) that have a dead broker among their replicas."""
    admin = stack.admin()
    try:
        snapshot = admin.snapshot([])
    finally:
        admin.close()
    return sum(1 for t in snapshot.topics.values() for p in t.partitions if dead & set(p.replicas))


class Serve:
    """`dreamscape-infra serve` as a subprocess on a free loopback port."""

    def __init__(self, stack: Stack, cache_seconds: float) -> None:
        (self.port,) = free_ports(1)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dreamscape_infra",
                "-f",
                str(stack.topics_file),
                "serve",
                "--env",
                "prod",
                "--port",
                str(self.port),
                "--cache-seconds",
                str(cache_seconds),
            ],
            cwd=ROOT,
            env=stack.subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        wait_for("serve to listen", lambda: (self._listening(), self.process.poll()), 30)

    def _listening(self) -> bool:
        try:
            self.get("/metrics")
            return True
        except OSError:
            return False

    def get(self, path: str, timeout: float = 30.0) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def client_children(self) -> set[int]:
        """Pids of serve's children that hold its Kafka clients (multiprocessing's spawn
        children; the resource tracker beside them is not one). Listed per thread, since the
        thread that made the first read started it."""
        pids: set[int] = set()
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            try:
                pids.update(int(p) for p in (task / "children").read_text().split())
            except OSError:
                continue
        return {pid for pid in pids if b"spawn_main" in _cmdline(pid)}

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        return int(line.split()[1])

    def reads(self) -> float:
        _, body = self.get("/metrics")
        line = next(
            x for x in body.decode().splitlines() if x.startswith("dreamscape_cluster_reads_total")
        )
        return float(line.split()[1])

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.fixture(scope="module")
def served(stack: Stack) -> Iterator[Serve]:
    server = Serve(stack, cache_seconds=1.0)
    try:
        yield server
    finally:
        code = server.stop()
        assert code == 0, server.process.stderr.read() if server.process.stderr else ""


# ---- the tests, in order -----------------------------------------------------------------------


def test_prod_topics_on_three_brokers_are_up_and_expected_count_comes_from_the_runtime(
    stack: Stack, served: Serve
) -> None:
    code, doc = stack.health()
    assert (code, doc["status"]) == (0, "UP"), doc
    brokers = doc["components"]["brokers"]["details"]
    assert (brokers["count"], brokers["expected"]) == (3, 3)
    assert "cluster.json" in brokers["expected_from"]
    assert doc["components"]["topics_sync"]["details"] == {
        "environment": "prod",
        "declared_topics": 2,
        "pending_changes": 0,
        "topics": [],
    }
    assert served.get("/health/kafka")[0] == 200
    _, metrics = served.get("/metrics")
    for broker in (1, 2, 3):
        assert f'dreamscape_kafka_broker_partitions{{broker="{broker}"}}'.encode() in metrics


def test_a_group_that_consumed_shows_its_lag_in_health_and_metrics(
    stack: Stack, served: Serve
) -> None:
    """Real consumer commits: health judges the declared group's lag, /metrics exposes it."""
    from tests.groups_support import commit_messages
    from tests.groups_support import produce as produce_exact

    group, topic = "dreamscape-user-service-group", "dreamscape.user.created"
    produce_exact(stack.cluster.settings, topic, [4, 4, 4])
    commit_messages(stack.cluster.settings, group, topic, {0: 4, 1: 1, 2: 0})
    # 0 + 3 + 4 behind on the three partitions
    code, out, _ = stack.cli("health", "--env", "prod", "--max-lag", "6", "-o", "json")
    lag = json.loads(out)["components"]["consumer_lag"]
    assert (code, lag["status"]) == (8, "DEGRADED"), lag
    assert lag["details"]["groups"][group]["lag"] == 7
    code, _, _ = stack.cli("health", "--env", "prod", "--max-lag", "7")
    assert code == 0

    def lag_metric() -> tuple[bool, str]:
        _, body = served.get("/metrics")
        lines = [
            x
            for x in body.decode().splitlines()
            if x.startswith("dreamscape_consumergroup_total_lag") and group in x
        ]
        return bool(lines) and lines[0].endswith(" 7.0"), "\n".join(lines)

    wait_for("the group's lag in /metrics", lag_metric, 30)


def test_serve_under_50_concurrent_scrapers(served: Serve) -> None:
    for _ in range(20):  # warm up: threads, buffers, the first reads
        served.get("/metrics")
    rss_before = served.rss_kib()
    reads_before = served.reads()
    codes: dict[int, int] = {}
    lock = threading.Lock()
    failures: list[str] = []
    started = time.monotonic()
    deadline = started + 10.0
    budget = [20000]  # bounded: at most this many requests in all

    def scrape(index: int) -> None:
        path = "/metrics" if index % 2 else "/health/kafka"
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            try:
                code, _ = served.get(path, timeout=20)
            except OSError as exc:
                failures.append(repr(exc))
                continue
            with lock:
                codes[code] = codes.get(code, 0) + 1

    threads = [threading.Thread(target=scrape, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - started
    reads = served.reads() - reads_before
    rss_after = served.rss_kib()
    if os.environ.get("HEALTH_TEST_DEBUG"):
        print(codes, reads, elapsed, rss_before, rss_after)
    assert failures == []
    assert set(codes) <= {200, 503}, codes
    assert sum(codes.values()) >= 50
    # one read per cache interval (1 s) at most, plus the one in flight at either end
    assert reads <= elapsed / 1.0 + 2, (reads, elapsed)
    assert rss_after - rss_before < 20 * 1024, (rss_before, rss_after)


def test_serve_outlives_an_abort_of_its_kafka_clients(served: Serve) -> None:
    """librdkafka aborts the process it runs in on some assertions while brokers die (the
    CI run that failed: `rd_kafka_enq_once_del_source_return: Assertion 'eonce->refcnt > 0'`
    in DescribeConsumerGroups). serve's clients run in a child; a SIGABRT of it must cost
    one read at most, never the server."""
    wait_for("/health/kafka 200", lambda: (served.get("/health/kafka")[0] == 200, None), 30)
    (child,) = served.client_children()
    os.kill(child, signal.SIGABRT)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}/status").exists() and time.monotonic() < deadline:
        if "zombie" in Path(f"/proc/{child}/status").read_text():
            break
        time.sleep(0.05)
    time.sleep(1.1)  # past the 1 s cache, so the next request reads the cluster again
    code, body = served.get("/health/kafka")
    assert code == 200, body
    assert served.process.poll() is None
    (replacement,) = served.client_children()
    assert replacement != child
    _, metrics = served.get("/metrics")
    assert "dreamscape_client_process_restarts_total 1.0" in metrics.decode()


def test_one_broker_killed_is_degraded_with_the_exact_under_replicated_count(
    stack: Stack, served: Serve
) -> None:
    victim = stack.brokers()[1]
    expected = under_replicated_expected(stack, {victim.node_id})
    assert expected >= 5  # the prod topics' 5 partitions all have a replica everywhere
    stack.kill(victim)

    def degraded() -> tuple[bool, object]:
        code, doc = stack.health()
        count = doc["components"]["under_replicated_partitions"]["details"].get("count")
        return code == 8 and count == expected, (code, doc)

    _, doc = wait_for("DEGRADED with every replica on the dead broker counted", degraded)
    assert doc["status"] == "DEGRADED"
    assert doc["components"]["brokers"]["details"]["missing"] == 1
    assert doc["components"]["under_min_isr_partitions"]["details"]["count"] == 0
    assert doc["components"]["offline_partitions"]["details"]["count"] == 0
    _, _, err = stack.cli("health", "--env", "prod")
    assert f"DEGRADED: under_replicated_partitions: {expected} partition(s)" in err
    wait_for("/health/kafka 503", lambda: (served.get("/health/kafka")[0] == 503, None), 30)
    assert produce(stack, PROD_TOPIC_NAMES[0]) == [None, None, None]  # min ISR 2 still met

    stack.restart()

    def up() -> tuple[bool, object]:
        code, doc = stack.health()
        return code == 0, doc

    wait_for("UP again once the ISR caught up", up)
    wait_for("/health/kafka 200", lambda: (served.get("/health/kafka")[0] == 200, None), 30)


def test_two_brokers_killed_reports_under_min_isr_and_acks_all_fails(stack: Stack) -> None:
    from confluent_kafka import KafkaError

    victims = stack.brokers()[1:]
    for victim in victims:
        stack.kill(victim)

    def below() -> tuple[bool, object]:
        code, doc = stack.health()
        topics = doc["components"]["under_min_isr_partitions"]["details"].get("topics", {})
        return code == 8 and all(t in topics for t in PROD_TOPIC_NAMES), doc

    doc = wait_for("under-min-ISR partitions of the prod topics", below)
    details = doc["components"]["under_min_isr_partitions"]["details"]
    assert details["topics"]["dreamscape.user.created"] == 3
    assert details["topics"]["dreamscape.user.updated"] == 2
    assert details["min_insync_replicas"]["dreamscape.user.created"] == 2
    errors = produce(stack, PROD_TOPIC_NAMES[0], count=2)
    assert all(e is not None for e in errors), errors
    assert {e.code() for e in errors} == {KafkaError.NOT_ENOUGH_REPLICAS}, errors

    stack.restart()
    wait_for("UP again", lambda: (stack.health()[0] == 0, None))


def test_four_parallel_syncs_of_the_same_file_all_succeed(stack: Stack) -> None:
    topics_file = generated_topics(stack.folder, 60, domain="parallel")
    argv = [sys.executable, "-m", "dreamscape_infra", "-f", str(topics_file), "topics", "sync"]
    processes = [
        subprocess.Popen(
            argv,
            cwd=ROOT,
            env=stack.subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [(p.wait(300), p.stderr.read() if p.stderr else "") for p in processes]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    code, _, err = stack.cli("topics", "plan", "--detailed-exitcode", topics_file=topics_file)
    assert code == 0, err


def test_controller_killed_during_a_500_topic_sync_then_a_second_sync_converges(
    stack: Stack,
) -> None:
    topics_file = generated_topics(stack.folder, 500, domain="load")
    names = {f"dreamscape.load.topic-{i:04d}" for i in range(500)}
    admin = stack.admin()
    try:
        controller = admin.describe_cluster().controller_id
        sync = subprocess.Popen(
            [*CLI, "-f", str(topics_file), "topics", "sync", "-o", "json"],
            cwd=ROOT,
            env=stack.subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # kill the controller as soon as the creation has begun: the first topic is visible
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and sync.poll() is None:
            if names & set(admin.snapshot([]).topics):
                break
            time.sleep(0.05)
    finally:
        admin.close()
    victim = next(s for s in stack.brokers() if s.node_id == controller)
    stack.kill(victim)
    out, err = sync.communicate(timeout=600)
    assert "Traceback" not in out + err
    assert sync.returncode == 4, (out, err)
    # it says what was done and what was not: every topic is either created (possibly with the
    # broker's answer lost) or failed, and the failed ones are named on stderr
    report = json.loads(out)
    outcomes = {a["topic"]: a["result"] for a in report["actions"] if a["action"] == "create"}
    assert len(outcomes) == 500
    failed = {t for t, r in outcomes.items() if r in ("error", "timeout")}
    if os.environ.get("HEALTH_TEST_DEBUG"):
        messages = {a["result"]: a["message"] for a in report["actions"]}
        print(sorted(collections.Counter(outcomes.values()).items()), messages, err[:300])
    assert failed, outcomes
    assert set(outcomes.values()) <= {"ok", "exists", "error", "timeout"}
    assert "error: the broker refused changes to:" in err
    assert all(t in err for t in sorted(failed)[:5])
    stack.restart()

    code, out, err = stack.cli("topics", "sync", "-o", "json", topics_file=topics_file)
    assert code == 0, err
    second = collections.Counter(a["result"] for a in json.loads(out)["actions"])

    def in_sync() -> tuple[bool, Any]:
        # each broker's metadata cache is updated by the controller asynchronously, so a plan
        # read right after the sync may ask a broker that has not heard of the newest topics
        code, out, _ = stack.cli(
            "topics", "plan", "--detailed-exitcode", "-o", "json", topics_file=topics_file
        )
        return code == 0, (second, json.loads(out)["summary"])

    wait_for("the plan to be empty after the second sync", in_sync, 60)

    def every_topic_listed() -> tuple[bool, Any]:
        # the same asynchrony for this admin, which may ask another broker than the plan did
        admin = stack.admin()
        try:
            snapshot = admin.snapshot([])
        finally:
            admin.close()
        load = {n: t for n, t in snapshot.topics.items() if n.startswith("dreamscape.load.")}
        return set(load) == names, load

    load = wait_for("every topic in the metadata of the broker asked", every_topic_listed, 60)
    assert set(load) == names  # none lost, none extra
    assert {(t.partition_count, t.replication_factor) for t in load.values()} == {(1, 3)}
