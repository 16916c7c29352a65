"""The local runtime's extra managed processes (runtime.extras): `up --profile` starts one beside
Kafka, waits for its readiness URL, shows it in `status`, tails it in `logs`, stops it first in
`down` and removes its folder with `down -v`. Fake processes, a fake profile and a fake
readiness check: no JVM.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from dreamscape_infra.errors import ConfigError, EnvironmentFailure
from dreamscape_infra.kafka.cluster import BrokerInfo, ClusterInfo
from dreamscape_infra.runtime.base import ProgressCallback, UpOptions, no_progress
from dreamscape_infra.runtime.extras import (
    ExtraProfile,
    Launch,
    ManagedProcess,
    http_ready,
    port_from_env,
)
from dreamscape_infra.runtime.local import Layout, LocalConfig, LocalRuntime, services_of
from dreamscape_infra.settings import ConnectionSettings


def _describe(state_dir: Path, port: int) -> ManagedProcess:
    folder = state_dir / "echo"
    return ManagedProcess(
        name="echo",
        profile="echo",
        port=port,
        folder=folder,
        ready_path="/ready",
        identity=(f"--data={folder / 'data'}",),
        urls=(("Echo", f"http://127.0.0.1:{port}/"),),
    )


def _launch(process: ManagedProcess, env: Mapping[str, str], progress: ProgressCallback) -> Launch:
    return Launch(("echo-server", f"--port={process.port}", *process.identity), {"X": "1"})


ECHO = ExtraProfile("echo", "ECHO_PORT", 18999, _describe, _launch)


@dataclass
class Procs:
    """Pids map to argv; spawned ones live until terminated (or `die` is set)."""

    argv: dict[int, tuple[str, ...]] = field(default_factory=dict)
    spawned: list[tuple[tuple[str, ...], Mapping[str, str]]] = field(default_factory=list)
    signals: list[tuple[int, str]] = field(default_factory=list)
    busy_ports: set[int] = field(default_factory=set)
    die: bool = False
    next_pid: int = 900

    def spawn(self, argv: Sequence[str], log_file: Path, env: Mapping[str, str]) -> int:
        self.next_pid += 1
        if not self.die:
            self.argv[self.next_pid] = tuple(argv)
        self.spawned.append((tuple(argv), env))
        with log_file.open("a") as log:
            log.write("echo starting\n")
        return self.next_pid

    def run(
        self, argv: Sequence[str], log_file: Path, env: Mapping[str, str], timeout_s: float
    ) -> int:
        raise AssertionError("not used")

    def command_line(self, pid: int) -> tuple[str, ...] | None:
        return self.argv.get(pid)

    def exit_status(self, pid: int) -> int | None:
        return 1 if self.die else None

    def terminate(self, pid: int, *, kill: bool = False) -> None:
        self.signals.append((pid, "KILL" if kill else "TERM"))
        self.argv.pop(pid, None)

    def port_free(self, host: str, port: int) -> bool:
        return port not in self.busy_ports

    def port_open(self, host: str, port: int, timeout_s: float = 0.3) -> bool:
        return True


@dataclass
class ReadyProbe:
    def describe_cluster(self) -> ClusterInfo:
        return ClusterInfo("c", 1, (BrokerInfo(1, "127.0.0.1", 9092),))

    def close(self) -> None:
        pass


def _probe(settings: ConnectionSettings) -> ReadyProbe:
    return ReadyProbe()


def _running_kafka(
    tmp_path: Path, procs: Procs, *, ready: bool = True, env: Mapping[str, str] | None = None
) -> LocalRuntime:
    """A runtime whose ZooKeeper and broker already run (fake pids), with the echo profile."""
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    home = tmp_path / "kafka-home" / "libs"
    home.mkdir(parents=True)
    (home / "kafka_2.13-3.9.1.jar").write_bytes(b"")
    state = tmp_path / "state"
    runtime = LocalRuntime(
        LocalConfig(state_dir=state, stop_timeout_s=0.3),
        env={
            "JAVA_HOME": str(tmp_path / "jdk"),
            "KAFKA_HOME": str(home.parent),
            "PATH": "",
            **(env or {}),
        },
        processes=procs,
        probe=_probe,
        profiles={"echo": ECHO},
        http_check=lambda url: ready,
        sleep=lambda s: None,
    )
    layout = Layout("zookeeper", 1, "3.9.1", 2181, 9092, 9093)
    state.mkdir()
    (state / "cluster.json").write_text(json.dumps(asdict(layout)))
    for pid, service in zip((100, 101), services_of(layout, runtime.state_dir), strict=True):
        service.folder.mkdir(parents=True)
        service.pid_file.write_text(f"{pid}\n")
        procs.argv[pid] = ("java", "-cp", "x", service.main_class, str(service.config_file))
    return runtime


def test_up_with_a_profile_starts_its_process_waits_and_records_its_port(tmp_path: Path) -> None:
    procs = Procs()
    runtime = _running_kafka(tmp_path, procs, env={"ECHO_PORT": "18123"})
    result = runtime.up(UpOptions(profiles=("echo",)), no_progress)
    assert not result.already_running, "the extra was started"
    ((argv, env),) = procs.spawned  # Kafka already ran: only the extra
    assert argv[:2] == ("echo-server", "--port=18123")
    assert env["X"] == "1"
    state = runtime.state_dir
    assert (state / "echo" / "echo.pid").read_text() == "901\n"
    assert json.loads((state / "cluster.json").read_text())["extras"] == {"echo": 18123}
    rows = {s.name: s for s in result.status.services}
    assert (rows["echo"].state, rows["echo"].health, rows["echo"].role) == (
        "running",
        "healthy",
        "extra",
    )
    assert rows["echo"].ports == ("127.0.0.1:18123",)
    assert ("Echo", "http://127.0.0.1:18123/") in result.status.urls

    # a plain `up` leaves the running extra alone, on its recorded port, even if the variable
    # now says otherwise (another shell)
    runtime._env = {**runtime._env, "ECHO_PORT": "18124"}
    again = runtime.up(UpOptions(), no_progress)
    assert again.already_running
    assert len(procs.spawned) == 1
    assert runtime.status().services[-1].ports == ("127.0.0.1:18123",)


def test_down_stops_the_extra_first_and_down_v_removes_its_folder(tmp_path: Path) -> None:
    procs = Procs()
    runtime = _running_kafka(tmp_path, procs)
    runtime.up(UpOptions(profiles=("echo",)), no_progress)
    (runtime.state_dir / "echo" / "data").mkdir()
    result = runtime.down(remove_data=False, progress=no_progress)
    assert result.stopped == ("echo", "kafka", "zookeeper")
    assert procs.signals[0] == (901, "TERM")
    assert (runtime.state_dir / "echo" / "data").is_dir(), "its data survives down"
    status = {s.name: s.state for s in runtime.status().services}
    assert status["echo"] == "stopped"
    runtime.down(remove_data=True, progress=no_progress)
    assert not runtime.state_dir.exists()


def test_logs_of_the_extra_by_name(tmp_path: Path) -> None:
    procs = Procs()
    runtime = _running_kafka(tmp_path, procs)
    runtime.up(UpOptions(profiles=("echo",)), no_progress)
    assert list(runtime.logs("echo", follow=False, tail=None)) == ["echo starting"]
    with pytest.raises(ConfigError, match="zookeeper, kafka, echo"):
        list(runtime.logs("nope", follow=False, tail=None))


def test_unknown_profile_names_the_known_ones(tmp_path: Path) -> None:
    runtime = _running_kafka(tmp_path, Procs())
    with pytest.raises(ConfigError) as caught:
        runtime.up(UpOptions(profiles=("ui", "echo")), no_progress)
    assert caught.value.problems == [
        "--profile ui: the local runtime has no such profile (expected one of echo)"
    ]


def test_a_taken_port_names_the_variable_before_anything_starts(tmp_path: Path) -> None:
    procs = Procs(busy_ports={18999})
    runtime = _running_kafka(tmp_path, procs)
    with pytest.raises(EnvironmentFailure) as caught:
        runtime.up(UpOptions(profiles=("echo",)), no_progress)
    assert caught.value.message == "port 18999 on 127.0.0.1 is already in use (needed by echo)"
    assert "ECHO_PORT" in (caught.value.hint or "")
    assert procs.spawned == []


def test_an_extra_that_dies_at_start_fails_up_with_its_log(tmp_path: Path) -> None:
    procs = Procs(die=True)
    runtime = _running_kafka(tmp_path, procs, ready=False)
    with pytest.raises(EnvironmentFailure) as caught:
        runtime.up(UpOptions(profiles=("echo",)), no_progress)
    assert caught.value.message == "echo exited during start-up (exit code 1)"
    assert caught.value.details == ["echo starting"]


def test_an_extra_that_never_answers_times_out_and_keeps_running(tmp_path: Path) -> None:
    procs = Procs()
    clock = iter(float(i) for i in range(10_000))
    runtime = _running_kafka(tmp_path, procs, ready=False)
    runtime._clock = lambda: next(clock)
    with pytest.raises(EnvironmentFailure) as caught:
        runtime.up(UpOptions(profiles=("echo",), timeout_s=5), no_progress)
    assert caught.value.message == (
        "echo did not become ready within 5s (no answer from http://127.0.0.1:18999/ready); "
        "it keeps running"
    )
    assert runtime.status().services[-1].health == "starting"


def test_a_recycled_pid_is_not_the_extra(tmp_path: Path) -> None:
    procs = Procs()
    runtime = _running_kafka(tmp_path, procs)
    runtime.up(UpOptions(profiles=("echo",)), no_progress)
    procs.argv[901] = ("echo-server", "--data=/some/other/state/echo/data")
    row = runtime.status().services[-1]
    assert (row.state, row.pid) == ("exited", None)
    assert runtime.down(remove_data=False, progress=no_progress).stopped == ("kafka", "zookeeper")
    assert (901, "TERM") not in procs.signals


def test_port_from_env() -> None:
    assert port_from_env({}, "P", 8081) == 8081
    assert port_from_env({"P": " 9000 "}, "P", 8081) == 9000
    with pytest.raises(ConfigError, match=re.escape("P: 'x' is not a port (expected 1-65535)")):
        port_from_env({"P": "x"}, "P", 8081)


def test_http_ready_is_false_when_nothing_answers() -> None:
    assert not http_ready("http://127.0.0.1:1/health/ready", timeout_s=0.2)


def test_stop_extras_leaves_kafka_running(tmp_path: Path) -> None:
    procs = Procs()
    runtime = _running_kafka(tmp_path, procs)
    runtime.up(UpOptions(profiles=("echo",)), no_progress)
    assert runtime.stop_extras(no_progress) == ("echo",)
    assert [s.state for s in runtime.status().services] == ["running", "running", "stopped"]
