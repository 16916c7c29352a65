"""The local runtime: configs, pid handling and errors without a JVM; real JVMs when marked.

Real-Kafka tests share the session brokers (conftest.py) where they only read or write their
own topic; the lifecycle tests that kill and remove brokers start their own on free ports.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import ConfigError, EnvironmentFailure, ExitCode
from dreamscape_infra.runtime import dist
from dreamscape_infra.runtime.base import UpOptions, no_progress
from dreamscape_infra.runtime.local import (
    PORT_RELEASE_GRACE_S,
    ZK_MAIN,
    Layout,
    LocalConfig,
    LocalRuntime,
    new_cluster_id,
    server_properties,
    services_of,
    zoo_cfg,
)
from dreamscape_infra.runtime.process import OsProcesses
from tests.fake_processes import START_LINE, FakeProcesses
from tests.kafka_support import (
    KafkaCluster,
    free_port_block,
    free_ports,
    require_local_kafka,
    skip_or_fail,
)

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


# ---- pure: configuration ---------------------------------------------------------------------


def test_config_from_env_defaults_and_overrides(tmp_path: Path) -> None:
    default = LocalConfig.from_env({})
    assert (default.zk_port, default.kafka_port, default.state_dir) == (
        2181,
        9092,
        Path(".state/local"),
    )
    env = {
        "DREAMSCAPE_ZK_PORT": "12181",
        "DREAMSCAPE_KAFKA_PORT": "19092",
        "DREAMSCAPE_CONTROLLER_PORT": "19093",
        "DREAMSCAPE_KAFKA_HEAP": "1g",
        "DREAMSCAPE_STATE_DIR": str(tmp_path / "env"),
    }
    config = LocalConfig.from_env(env)
    assert (config.zk_port, config.kafka_port, config.controller_port) == (12181, 19092, 19093)
    assert config.heap == "1g"
    assert config.state_dir == tmp_path / "env"
    assert LocalConfig.from_env(env, tmp_path / "opt").state_dir == tmp_path / "opt"


def test_config_reports_every_bad_variable() -> None:
    env = {
        "DREAMSCAPE_ZK_PORT": "70000",
        "DREAMSCAPE_KAFKA_PORT": "x",
        "DREAMSCAPE_KAFKA_HEAP": "lots",
    }
    with pytest.raises(ConfigError) as caught:
        LocalConfig.from_env(env)
    problems = "\n".join(caught.value.problems)
    assert "DREAMSCAPE_ZK_PORT: '70000' is not a port" in problems
    assert "DREAMSCAPE_KAFKA_PORT: 'x' is not a port" in problems
    assert "DREAMSCAPE_KAFKA_HEAP: 'lots'" in problems


def test_cluster_id_is_22_chars_of_urlsafe_base64_of_16_bytes() -> None:
    ids = {new_cluster_id() for _ in range(1000)}
    assert len(ids) == 1000
    for cluster_id in ids:
        # a leading '-' would be read as an option by StorageTool (1 in 64 ids without the check)
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", cluster_id)
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def test_zookeeper_mode_broker_settings(tmp_path: Path) -> None:
    layout = Layout("zookeeper", 3, "3.9.1", 2181, 9092, 9093)
    zk, first, *rest = services_of(layout, tmp_path)
    assert [s.name for s in (zk, first, *rest)] == ["zookeeper", "kafka", "kafka-2", "kafka-3"]
    assert [s.port for s in (first, *rest)] == [9092, 9093, 9094]
    props = _props(server_properties(rest[0], layout))
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9093"
    assert props["zookeeper.connect"] == "127.0.0.1:2181"
    assert props["broker.id"] == "2"
    assert props["log.dirs"] == str(tmp_path / "kafka-2" / "data")
    # the fast single-node settings
    assert props["offsets.topic.num.partitions"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["log.cleaner.dedupe.buffer.size"] == "2097152"
    assert props["offsets.topic.replication.factor"] == "3"
    zk_props = _props(zoo_cfg(zk))
    assert zk_props["clientPortAddress"] == "127.0.0.1"
    assert zk_props["clientPort"] == "2181"


def test_kraft_node_settings(tmp_path: Path) -> None:
    layout = Layout("kraft", 1, "4.1.1", 2181, 9192, 9193, cluster_id=new_cluster_id())
    (node,) = services_of(layout, tmp_path)
    props = _props(server_properties(node, layout))
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9193"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9192,CONTROLLER://127.0.0.1:9193"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9192"
    assert props["offsets.topic.replication.factor"] == "1"
    assert "zookeeper.connect" not in props


def test_pinned_versions_match_the_poms() -> None:
    def version(pom: str) -> str:
        text = (ROOT / "dreamscape_infra" / "data" / "kafka-dist" / pom).read_text()
        match = re.search(r"<kafka.version>([^<]+)</kafka.version>", text)
        assert match, pom
        return match.group(1)

    assert version("pom-3.9.xml") == dist.ZOOKEEPER_VERSION
    assert version("pom-4.1.xml") == dist.KRAFT_VERSION


def test_up_rejects_options_it_cannot_honour(tmp_path: Path) -> None:
    runtime = LocalRuntime(LocalConfig(state_dir=tmp_path), env={})
    for options, message in [
        (UpOptions(profiles=("nope",)), "--profile nope: the local runtime has no such profile"),
        (UpOptions(brokers=4), "--brokers 4: expected 1 to 3"),
        (UpOptions(kraft=True, brokers=2), "--kraft runs one combined"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(message)):
            runtime.up(options, no_progress)


# ---- finding Java and the jars ---------------------------------------------------------------


def test_empty_kafka_home_says_how_to_get_jars(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFailure) as caught:
        dist.find_kafka("zookeeper", {"KAFKA_HOME": str(tmp_path)})
    assert "has no Kafka jars" in caught.value.message
    assert "unset it so `up` fetches the jars" in caught.value.message
    assert caught.value.hint is None  # one line says what to do


def test_missing_cache_says_runtime_fetch(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFailure) as caught:
        dist.find_kafka("kraft", {"DREAMSCAPE_CACHE": str(tmp_path)})
    assert caught.value.message.startswith(f"the Kafka {dist.KRAFT_VERSION} jars are missing")
    assert "`dreamscape-infra runtime fetch --kafka 4.x`" in caught.value.message


def test_kafka_home_4x_cannot_run_zookeeper_mode(tmp_path: Path) -> None:
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "kafka_2.13-4.1.1.jar").write_bytes(b"")
    with pytest.raises(EnvironmentFailure, match="has no ZooKeeper mode"):
        dist.find_kafka("zookeeper", {"KAFKA_HOME": str(tmp_path)})
    found = dist.find_kafka("kraft", {"KAFKA_HOME": str(tmp_path)})
    assert (found.version, found.source, found.major) == ("4.1.1", "KAFKA_HOME", 4)


def _cli(env: Mapping[str, str], *args: str) -> tuple[int, str, str]:
    state = AppState(environ=dict(env), interactive=False)
    result = runner.invoke(app, list(args), obj=state)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_cli_up_with_empty_kafka_home_exits_4(tmp_path: Path) -> None:
    env = {**os.environ, "KAFKA_HOME": str(tmp_path), "DREAMSCAPE_STATE_DIR": str(tmp_path / "s")}
    if not dist.java_available(env):
        skip_or_fail("needs java on PATH to get past the Java check")
    code, _, err = _cli(env, "up", "--runtime", "local", "--no-sync")
    assert code == ExitCode.ENVIRONMENT
    assert "error: KAFKA_HOME=" in err
    assert len(err.strip().splitlines()) == 2, err  # the runtime line, then one error line
    assert not (tmp_path / "s").exists(), "nothing was started or written"


def test_cli_up_without_java_exits_4(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "DREAMSCAPE_STATE_DIR": str(tmp_path)}
    code, _, err = _cli(env, "up", "--runtime", "local")
    assert code == ExitCode.ENVIRONMENT
    assert "error: Java was not found" in err
    assert "install Java 17+" in err.splitlines()[-1]


# ---- pid files, signals and logs, with fake processes ----------------------------------------


def _fake_stack(tmp_path: Path, procs: FakeProcesses) -> LocalRuntime:
    runtime = LocalRuntime(
        LocalConfig(state_dir=tmp_path, stop_timeout_s=0.3), env={}, processes=procs
    )
    layout = Layout("zookeeper", 2, "3.9.1", 2181, 9092, 9093)
    (tmp_path / "cluster.json").write_text(json.dumps(asdict(layout)))
    for pid, service in zip((100, 101, 102), services_of(layout, runtime.state_dir), strict=True):
        service.folder.mkdir(parents=True)
        service.pid_file.write_text(f"{pid}\n")
        procs.argv[pid] = ("java", "-cp", "x", service.main_class, str(service.config_file))
    return runtime


def test_down_stops_brokers_before_zookeeper_and_escalates(tmp_path: Path) -> None:
    procs = FakeProcesses(stubborn={101})
    runtime = _fake_stack(tmp_path, procs)
    result = runtime.down(remove_data=False, progress=no_progress)
    assert procs.signals == [(101, "TERM"), (102, "TERM"), (101, "KILL"), (100, "TERM")]
    assert result.stopped == ("kafka", "kafka-2", "zookeeper")
    assert any("did not stop within 0.3s; sent SIGKILL" in n for n in result.notes)
    assert not list(tmp_path.glob("*/*.pid"))
    assert (tmp_path / "cluster.json").exists(), "data stays without -v"


def test_down_never_signals_a_pid_that_is_not_ours(tmp_path: Path) -> None:
    procs = FakeProcesses()
    runtime = _fake_stack(tmp_path, procs)
    procs.argv[101] = ("bash", "-c", "someone else's process reusing the pid")
    del procs.argv[102]  # died: stale pid file
    result = runtime.down(remove_data=True, progress=no_progress)
    assert procs.signals == [(100, "TERM")]
    assert result.stopped == ("zookeeper",)
    assert sum("stale pid file" in n for n in result.notes) == 2
    assert not tmp_path.exists(), "-v removed the state folder"


def test_status_reports_stale_pid_files(tmp_path: Path) -> None:
    procs = FakeProcesses()
    runtime = _fake_stack(tmp_path, procs)
    del procs.argv[101]
    (tmp_path / "kafka-2" / "kafka-2.pid").write_text("garbage\n")
    states = {s.name: (s.state, s.pid) for s in runtime.status().services}
    assert states == {
        "zookeeper": ("running", 100),
        "kafka": ("exited", None),
        "kafka-2": ("exited", None),
    }
    assert runtime.status().bootstrap_servers == "127.0.0.1:9092,127.0.0.1:9093"


def test_status_of_a_fresh_state_folder(tmp_path: Path) -> None:
    runtime = LocalRuntime(
        LocalConfig(state_dir=tmp_path / "none"), env={}, processes=FakeProcesses()
    )
    status = runtime.status()
    assert [(s.name, s.state) for s in status.services] == [
        ("zookeeper", "missing"),
        ("kafka", "missing"),
    ]
    assert not status.running


def test_stale_pid_of_a_live_foreign_process_is_never_signalled(tmp_path: Path) -> None:
    """A real pid file naming this very test process: down must leave us alive."""
    runtime = LocalRuntime(LocalConfig(state_dir=tmp_path), env={})
    for service in runtime.services():
        service.folder.mkdir(parents=True)
        service.pid_file.write_text(f"{os.getpid()}\n")
    assert {s.state for s in runtime.status().services} == {"exited"}
    result = runtime.down(remove_data=False, progress=no_progress)
    assert result.stopped == ()
    assert not list(tmp_path.glob("*/*.pid"))


def test_logs_tail_prefix_and_follow(tmp_path: Path) -> None:
    appended: list[str] = []

    def sleep(_: float) -> None:
        if not appended:
            with (tmp_path / "kafka" / "kafka.log").open("a") as log:
                log.write("new line\n")
            appended.append("x")

    runtime = LocalRuntime(
        LocalConfig(state_dir=tmp_path), env={}, processes=FakeProcesses(), sleep=sleep
    )
    (tmp_path / "zookeeper").mkdir()
    (tmp_path / "kafka").mkdir()
    (tmp_path / "zookeeper" / "zookeeper.log").write_text("z1\nz2\nz3\n")
    (tmp_path / "kafka" / "kafka.log").write_text("k1\nk2\n")
    assert list(runtime.logs("kafka", follow=False, tail=1)) == ["k2"]
    assert list(runtime.logs(None, follow=False, tail=2)) == [
        "zookeeper | z2",
        "zookeeper | z3",
        "kafka     | k1",
        "kafka     | k2",
    ]
    followed = runtime.logs("kafka", follow=True, tail=0)
    assert next(followed) == "new line"
    with pytest.raises(ConfigError, match="unknown service 'kafka-9'"):
        list(runtime.logs("kafka-9", follow=False, tail=None))


@dataclass
class SlowlyFreedPorts(FakeProcesses):
    """A killed broker's ports: busy for the first `busy_checks` looks, then free."""

    busy_checks: int = 0
    looks: int = 0

    def port_free(self, host: str, port: int) -> bool:
        self.looks += 1
        return self.looks > self.busy_checks


def _runtime_with_fake_clock(
    tmp_path: Path, procs: FakeProcesses
) -> tuple[LocalRuntime, list[float]]:
    slept: list[float] = []
    runtime = LocalRuntime(
        LocalConfig(state_dir=tmp_path),
        env={},
        processes=procs,
        sleep=slept.append,
        clock=lambda: sum(slept),
    )
    return runtime, slept


def test_a_port_still_held_by_an_exiting_broker_is_waited_for(tmp_path: Path) -> None:
    procs = SlowlyFreedPorts(busy_checks=4)
    runtime, slept = _runtime_with_fake_clock(tmp_path, procs)
    layout = Layout("kraft", 1, "4.1.1", 2181, 9192, 9193, cluster_id=new_cluster_id())
    runtime._check_ports(services_of(layout, tmp_path), layout)  # no error
    assert slept == [0.1] * 4


def test_a_port_that_stays_taken_fails_after_the_grace_period(tmp_path: Path) -> None:
    procs = SlowlyFreedPorts(busy_checks=10**6)
    runtime, slept = _runtime_with_fake_clock(tmp_path, procs)
    layout = Layout("kraft", 1, "4.1.1", 2181, 9192, 9193, cluster_id=new_cluster_id())
    with pytest.raises(EnvironmentFailure, match=r"port 9192 on 127\.0\.0\.1 is already in use"):
        runtime._check_ports(services_of(layout, tmp_path), layout)
    assert sum(slept) == pytest.approx(PORT_RELEASE_GRACE_S, abs=0.11)


def test_port_in_use_is_named_before_anything_starts(tmp_path: Path) -> None:
    require_local_kafka(kraft=False)
    zk_port, kafka_port = free_ports(2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", kafka_port))
        taken.listen()
        env = {
            **os.environ,
            "DREAMSCAPE_STATE_DIR": str(tmp_path),
            "DREAMSCAPE_ZK_PORT": str(zk_port),
            "DREAMSCAPE_KAFKA_PORT": str(kafka_port),
        }
        code, _, err = _cli(env, "up", "--runtime", "local", "--no-sync")
    assert code == ExitCode.ENVIRONMENT
    assert f"error: port {kafka_port} on 127.0.0.1 is already in use (needed by kafka)" in err
    assert "DREAMSCAPE_KAFKA_PORT" in err
    assert not list(tmp_path.glob("*/*.pid")), "nothing was started"


@pytest.mark.slow
def test_jvm_dying_at_start_shows_its_last_log_lines(tmp_path: Path) -> None:
    """A KAFKA_HOME whose jar is empty: the JVMs exit at once, and up says why."""
    if not dist.java_available(os.environ):
        skip_or_fail("needs java")
    home = tmp_path / "kafka-home"
    (home / "libs").mkdir(parents=True)
    (home / "libs" / "kafka_2.13-3.9.1.jar").write_bytes(b"")
    zk_port, kafka_port = free_ports(2)
    config = LocalConfig(state_dir=tmp_path / "state", zk_port=zk_port, kafka_port=kafka_port)
    runtime = LocalRuntime(config, env={**os.environ, "KAFKA_HOME": str(home)})
    try:
        with pytest.raises(EnvironmentFailure) as caught:
            runtime.up(UpOptions(timeout_s=30), no_progress)
        # both JVMs exit; whichever the wait noticed first, the JVM's own exit code is named
        assert re.fullmatch(
            r"(zookeeper|kafka) exited during start-up \(exit code 1\)", caught.value.message
        ), caught.value.message
        assert any("Could not find or load main class" in d for d in caught.value.details)
        assert "full log:" in (caught.value.hint or "")
    finally:
        runtime.down(remove_data=True, progress=no_progress)


# ---- real Kafka ------------------------------------------------------------------------------


class LateZooKeeper(OsProcesses):
    """Real processes, but ZooKeeper's JVM starts `delay_s` after its brokers: the same pid
    sleeps first (`sh` then `exec`), with the JVM's argv already on its command line."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    def spawn(self, argv: Sequence[str], log_file: Path, env: Mapping[str, str]) -> int:
        if ZK_MAIN in argv:
            argv = ["sh", "-c", f'sleep {self.delay_s:g}; exec "$@"', "sh", *argv]
        return super().spawn(argv, log_file, env)


@pytest.mark.kafka
def test_brokers_wait_for_a_zookeeper_that_is_slow_to_start(tmp_path: Path) -> None:
    """Seen in CI: ZooKeeper accepted a broker's connection before it was serving and never
    answered, and the broker gave up after 6 s (the session timeout, which was also its
    connection timeout) and exited. Brokers now wait up to 60 s for ZooKeeper."""
    require_local_kafka(kraft=False)
    zk_port = free_ports(1)[0]
    kafka_port = free_port_block(2)
    while zk_port in (kafka_port, kafka_port + 1):
        kafka_port = free_port_block(2)
    config = LocalConfig(
        state_dir=tmp_path / "state", zk_port=zk_port, kafka_port=kafka_port, heap="384m"
    )
    runtime = LocalRuntime(config, env=os.environ, processes=LateZooKeeper(delay_s=8))
    try:
        started = time.monotonic()
        result = runtime.up(UpOptions(brokers=2, timeout_s=90), no_progress)
        assert time.monotonic() - started > 8, "ZooKeeper really started late"
        assert [s.state for s in result.status.services] == ["running"] * 3
        for broker in ("kafka", "kafka-2"):
            log = (config.state_dir / broker / f"{broker}.log").read_text()
            assert "ZooKeeperClientTimeoutException" not in log
    finally:
        runtime.down(remove_data=True, progress=no_progress)


def round_trip(bootstrap: str, count: int = 3) -> list[bytes]:
    """Create a topic, produce `count` messages, consume them back in a new group."""
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"roundtrip-{secrets.token_hex(4)}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(count):
        producer.produce(topic, key=b"k", value=f"message {i}".encode())
    assert producer.flush(30) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"g-{topic}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    got: list[bytes] = []
    deadline = time.monotonic() + 60
    try:
        while len(got) < count and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                value = message.value()
                assert value is not None
                got.append(value)
    finally:
        consumer.close()
    return got


EXPECTED = [b"message 0", b"message 1", b"message 2"]


@pytest.mark.kafka
def test_round_trip_zookeeper_mode(kafka_cluster: KafkaCluster) -> None:
    assert round_trip(kafka_cluster.bootstrap) == EXPECTED


@pytest.mark.kafka
def test_round_trip_kraft(kafka_kraft: KafkaCluster) -> None:
    assert round_trip(kafka_kraft.bootstrap) == EXPECTED


@pytest.mark.kafka
def test_fixture_cluster_is_ready_and_advertises_loopback(kafka_cluster: KafkaCluster) -> None:
    from dreamscape_infra.kafka.admin import ConfluentAdmin

    admin = ConfluentAdmin(kafka_cluster.settings)
    try:
        info = admin.describe_cluster()
    finally:
        admin.close()
    assert info.controller_id is not None
    assert [(b.host, f"{b.host}:{b.port}") for b in info.brokers] == [
        ("127.0.0.1", kafka_cluster.bootstrap)
    ]


def _our_java_processes(state_dir: Path) -> list[int]:
    """Pids of live processes whose command line mentions the state folder."""
    proc = Path("/proc")
    if not proc.is_dir():
        skip_or_fail("needs /proc to list processes")
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(state_dir).encode() in argv and b"java" in argv:
            found.append(int(entry.name))
    return found


@pytest.fixture
def lifecycle_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    require_local_kafka(kraft=False)
    zk_port, controller_port = free_ports(2)
    kafka_port = free_port_block(2)
    while {zk_port, controller_port} & {kafka_port, kafka_port + 1}:
        kafka_port = free_port_block(2)
    env = {
        **os.environ,
        "DREAMSCAPE_STATE_DIR": str(tmp_path / "state"),
        "DREAMSCAPE_ZK_PORT": str(zk_port),
        "DREAMSCAPE_KAFKA_PORT": str(kafka_port),
        "DREAMSCAPE_CONTROLLER_PORT": str(controller_port),
        "DREAMSCAPE_KAFKA_HEAP": "384m",
    }
    yield env
    LocalRuntime(env=env).down(remove_data=True, progress=no_progress)  # whatever a failure left


def _service_states(env: Mapping[str, str]) -> dict[str, tuple[str, int | None]]:
    code, out, _ = _cli(env, "status", "--runtime", "local", "-o", "json")
    doc = json.loads(out)
    # status exits 4 exactly when no broker answers (e.g. killed from outside)
    assert code == (0 if doc["broker"]["reachable"] else 4)
    return {s["name"]: (s["state"], s["pid"]) for s in doc["services"]}


@pytest.mark.kafka
def test_cli_lifecycle_recovery_and_down_v(lifecycle_env: dict[str, str]) -> None:
    env = lifecycle_env
    state_dir = Path(env["DREAMSCAPE_STATE_DIR"])
    bootstrap = f"127.0.0.1:{env['DREAMSCAPE_KAFKA_PORT']}"

    code, out, err = _cli(env, "up", "--runtime", "local", "--no-sync")
    assert code == 0, err
    assert "runtime: local (requested by --runtime)" in err
    assert f"Kafka is ready at {bootstrap}" in out
    code, out, _ = _cli(env, "up", "--runtime", "local", "--no-sync")
    assert code == 0
    assert "already running" in out

    # recovery: the broker is killed from outside
    states = _service_states(env)
    broker_pid = states["kafka"][1]
    assert broker_pid is not None
    os.kill(broker_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _service_states(env)["kafka"][0] != "exited" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _service_states(env)["kafka"] == ("exited", None)
    assert _service_states(env)["zookeeper"][0] == "running"
    code, out, err = _cli(env, "up", "--runtime", "local", "--no-sync")
    assert code == 0, err
    assert "removed a stale pid file for kafka" in err
    new_state, new_pid = _service_states(env)["kafka"]
    assert new_state == "running"
    assert new_pid not in (None, broker_pid)
    assert round_trip(bootstrap) == EXPECTED

    code, out, _ = _cli(env, "logs", "--runtime", "local", "kafka", "--tail", "5")
    assert code == 0
    assert len(out.splitlines()) == 5

    code, out, err = _cli(env, "down", "--runtime", "local", "-v", "--yes")
    assert code == 0, err
    assert "stopped: kafka, zookeeper" in out
    assert _our_java_processes(state_dir) == []
    assert not state_dir.exists()


@pytest.mark.kafka
def test_kraft_recovery_after_the_node_is_killed(lifecycle_env: dict[str, str]) -> None:
    require_local_kafka(kraft=True)
    env = lifecycle_env
    bootstrap = f"127.0.0.1:{env['DREAMSCAPE_KAFKA_PORT']}"
    code, _, err = _cli(env, "up", "--runtime", "local", "--kraft", "--no-sync")
    assert code == 0, err
    states = _service_states(env)
    assert "zookeeper" not in states
    node_pid = states["kafka"][1]
    assert node_pid is not None
    os.kill(node_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _service_states(env)["kafka"][0] != "exited" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _service_states(env)["kafka"] == ("exited", None)
    code, _, err = _cli(env, "up", "--runtime", "local", "--kraft", "--no-sync")
    assert code == 0, err
    new_state, new_pid = _service_states(env)["kafka"]
    assert new_state == "running"
    assert new_pid not in (None, node_pid)
    assert round_trip(bootstrap) == EXPECTED
    code, _, err = _cli(env, "down", "--runtime", "local", "-v", "--yes")
    assert code == 0, err
    assert _our_java_processes(Path(env["DREAMSCAPE_STATE_DIR"])) == []


@pytest.mark.kafka
def test_two_broker_cluster(lifecycle_env: dict[str, str]) -> None:
    from dreamscape_infra.kafka.admin import ConfluentAdmin
    from dreamscape_infra.settings import ConnectionSettings

    env = lifecycle_env
    code, out, err = _cli(
        env, "up", "--runtime", "local", "--brokers", "2", "--no-sync", "-o", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    bootstrap = doc["status"]["bootstrap_servers"]
    assert [s["name"] for s in doc["status"]["services"]] == ["zookeeper", "kafka", "kafka-2"]
    admin = ConfluentAdmin(ConnectionSettings.plaintext(bootstrap))
    try:
        assert len(admin.describe_cluster().brokers) == 2
    finally:
        admin.close()
    code, _, err = _cli(env, "down", "--runtime", "local", "-v", "--yes")
    assert code == 0, err
    assert _our_java_processes(Path(env["DREAMSCAPE_STATE_DIR"])) == []


# ---- up's orchestration, with fake processes and a fake Java ----------------------------------


def _fake_install(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "kafka-home"
    (home / "libs").mkdir(parents=True)
    (home / "libs" / "kafka_2.13-3.9.1.jar").write_bytes(b"")
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    return {"KAFKA_HOME": str(home), "JAVA_HOME": str(tmp_path / "jdk"), "PATH": ""}


def test_up_spawns_zookeeper_then_brokers_with_our_jvm_command(tmp_path: Path) -> None:
    env = _fake_install(tmp_path)
    procs = FakeProcesses()
    state = tmp_path / "state"
    (port,) = free_ports(1)
    runtime = LocalRuntime(
        LocalConfig(state_dir=state, zk_port=2181, kafka_port=port), env=env, processes=procs
    )
    result = runtime.up(UpOptions(wait=False, brokers=2), no_progress)
    assert not result.already_running
    zk_argv, broker_argv, broker2_argv = procs.spawned
    assert zk_argv[0] == str(tmp_path / "jdk" / "bin" / "java")
    assert zk_argv[-2:] == (
        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
        str(state / "zookeeper" / "zoo.cfg"),
    )
    assert broker_argv[-2:] == ("kafka.Kafka", str(state / "kafka" / "server.properties"))
    assert broker2_argv[-1] == str(state / "kafka-2" / "server.properties")
    assert "-Xmx512m" in broker_argv
    assert "-XX:+UseSerialGC" in broker_argv
    assert f"-Dlog4j.configuration={(state / 'log4j.properties').as_uri()}" in broker_argv
    assert broker_argv[broker_argv.index("-cp") + 1] == str(tmp_path / "kafka-home" / "libs" / "*")
    assert (state / "kafka" / "kafka.pid").read_text() == "502\n"
    assert json.loads((state / "cluster.json").read_text())["brokers"] == 2
    assert [s.state for s in result.status.services] == ["running"] * 3

    again = runtime.up(UpOptions(wait=False), no_progress)
    assert again.already_running
    assert len(procs.spawned) == 3, "nothing started twice"
    assert "this cluster has 2 brokers; starting all of them" in again.notes


def test_up_timeout_says_kafka_keeps_running(tmp_path: Path) -> None:
    env = _fake_install(tmp_path)
    zk_port, kafka_port = free_ports(2)
    runtime = LocalRuntime(
        LocalConfig(state_dir=tmp_path / "s", zk_port=zk_port, kafka_port=kafka_port),
        env=env,
        processes=FakeProcesses(),
    )
    with pytest.raises(EnvironmentFailure) as caught:
        runtime.up(UpOptions(timeout_s=1), no_progress)
    assert caught.value.message.startswith("Kafka did not become ready within 1s")
    assert caught.value.details == [START_LINE]


def test_ci_turns_missing_jars_into_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_HOME", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_local_kafka(kraft=False)
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match=r"KAFKA_HOME|Java"):
        require_local_kafka(kraft=False)
