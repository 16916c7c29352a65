"""DockerComposeRuntime: the exact `docker compose ...` it runs, and its errors.

A recording `docker` shim is put first on PATH: it appends its argv (one JSON line per call) to a
file and prints plausible output, so these tests pin the argument lists without a daemon. The
real "no daemon" and "no docker" paths run the real docker client (tier 3 of STYLE.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dreamscape_infra.errors import ConfigError, EnvironmentFailure, ExitCode
from dreamscape_infra.runtime.base import UpOptions, no_progress
from dreamscape_infra.runtime.docker import (
    ALL_SERVICES,
    EXTERNAL_PORT,
    LIFE_FORMAT,
    ContainerLife,
    DockerComposeRuntime,
    DockerFailure,
    classify_docker_error,
    container_lives,
    docker_daemon_available,
    find_compose_file,
    restarted,
    statuses_from_ps,
)
from tests.addresses import refused_host
from tests.kafka_support import skip_or_fail

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker" / "docker-compose.kafka.yml"

# The shim: records argv, answers like docker would. Behaviour is steered by environment
# variables so one script serves every test.
SHIM = """\
import json, os, sys

args = sys.argv[1:]
with open(os.environ["DOCKER_SHIM_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")

def fail(message, code=1):
    sys.stderr.write(message + "\\n")
    sys.exit(code)

if args[:1] == ["version"]:
    if os.environ.get("DOCKER_SHIM_NO_DAEMON"):
        fail("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
             "Is the docker daemon running?")
    print("28.2.2")
    sys.exit(0)

# a file: how often kafka's container started again; DOCKER_SHIM_RESTART_KIND says who
# started it (docker: its restart count grows; compose: only its start time changes) or that
# it lies exited, waiting for docker's restart (backoff)
restarts = os.environ.get("DOCKER_SHIM_RESTARTS")
if args[:1] == ["inspect"]:
    starts = int(open(restarts).read()) if restarts else 0
    kind = os.environ.get("DOCKER_SHIM_RESTART_KIND", "docker")
    for name in args[3:]:
        if name != "dreamscape-kafka" or not starts:
            print(f"/{name} 0 running 0 2026-12-03T08:00:00Z")
        elif kind == "backoff":
            print(f"/{name} 0 exited 1 2026-12-03T08:00:00Z")
        else:
            count = starts if kind == "docker" else 0
            print(f"/{name} {count} running 0 2026-12-03T08:00:{starts:02d}Z")
    sys.exit(0)
if args[:1] != ["compose"]:
    sys.exit(0)
if os.environ.get("DOCKER_SHIM_NO_COMPOSE"):
    fail("docker: unknown command: docker compose\\n\\nRun 'docker --help' for more information")

rest = args[1:]
while rest and rest[0] in ("--file", "--profile", "--project-name"):
    rest = rest[2:]
sub, sub_args = rest[0], rest[1:]

failure = os.environ.get("DOCKER_SHIM_FAIL_" + sub.upper())
if failure:
    fail(failure)
# a file holding how many more `up`s fail the way `up --wait` does when kafka's container
# exits; with DOCKER_SHIM_RESTARTS, docker restarts it each time
exits = os.environ.get("DOCKER_SHIM_UP_EXITS")
if sub == "up" and exits:
    left = int(open(exits).read())
    if left:
        open(exits, "w").write(str(left - 1))
        if restarts:
            done = int(open(restarts).read())
            open(restarts, "w").write(str(done + 1))
        fail(os.environ.get("DOCKER_SHIM_EXIT_MESSAGE", "container dreamscape-kafka exited (1)"))

if sub == "ps":
    path = os.environ.get("DOCKER_SHIM_PS")
    print(open(path).read() if path else "[]")
elif sub == "up":
    for service in [a for a in sub_args if not a.startswith("-") and not a.isdigit()]:
        sys.stderr.write(f" Container dreamscape-{service}  Started\\n")
        if "--wait" in sub_args:
            sys.stderr.write(f" Container dreamscape-{service}  Healthy\\n")
elif sub == "down":
    sys.stderr.write(" Container dreamscape-kafka  Removed\\n")
elif sub == "run":
    print("3 topics in sync")
    code = int(os.environ.get("DOCKER_SHIM_RUN_EXIT", "0"))
    if code:
        print("error: orders.events: cannot reduce partitions from 12 to 6")
        sys.exit(code)
elif sub == "logs":
    print("dreamscape-kafka  | started (kafka.server.KafkaServer)")
    print("dreamscape-kafka  | second line")
"""


@dataclass
class Shim:
    """The recording docker on PATH."""

    log: Path
    monkeypatch: pytest.MonkeyPatch
    tmp_path: Path
    # KAFKA_ADVERTISED_HOST: where the CLI looks for the broker, a host whose 9092 refuses,
    # so a stack running on this machine (`make run`) is neither seen nor touched
    broker_host: str

    def calls(self) -> list[list[str]]:
        """Every docker call; topic-init's random one-off name becomes RUN_NAME (checked here)."""
        if not self.log.exists():
            return []
        calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        for call in calls:
            if call[:1] == ["compose"] and "--name" in call:
                index = call.index("--name") + 1
                assert re.fullmatch(r"dreamscape-topic-init-run-[0-9a-f]{12}", call[index])
                call[index] = RUN_NAME
        return calls

    def compose_calls(self) -> list[list[str]]:
        return [call for call in self.calls() if call[:1] == ["compose"]]

    def set(self, name: str, value: str) -> None:
        self.monkeypatch.setenv(name, value)

    def ps_output(self, entries: list[dict[str, Any]], *, ndjson: bool = False) -> None:
        path = self.tmp_path / "ps.json"
        if ndjson:
            path.write_text("\n".join(json.dumps(e) for e in entries))
        else:
            path.write_text(json.dumps(entries))
        self.set("DOCKER_SHIM_PS", str(path))


@pytest.fixture
def shim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shim]:
    bin_dir = tmp_path / "shim-bin"
    bin_dir.mkdir()
    script = bin_dir / "docker"
    script.write_text(f"#!{sys.executable}\n{SHIM}")
    script.chmod(0o755)
    log = tmp_path / "docker-calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("DOCKER_SHIM_LOG", str(log))
    for name in list(os.environ):
        if name.startswith("DOCKER_SHIM_") and name != "DOCKER_SHIM_LOG":
            monkeypatch.delenv(name)
    monkeypatch.delenv("DREAMSCAPE_COMPOSE_FILE", raising=False)
    with refused_host(EXTERNAL_PORT) as host:
        monkeypatch.setenv("KAFKA_ADVERTISED_HOST", host)
        yield Shim(log=log, monkeypatch=monkeypatch, tmp_path=tmp_path, broker_host=host)


def compose(*args: str, profiles: tuple[str, ...] = ()) -> list[str]:
    """The argv python-on-whales gives docker for a compose subcommand."""
    head = ["compose", "--file", str(COMPOSE_FILE)]
    for profile in profiles:
        head += ["--profile", profile]
    return [*head, *args]


ALL = ("ui", "schema")
RUN_NAME = "dreamscape-topic-init-run-ID"  # see Shim.compose_calls
PS = ("ps", "--all", "--format", "json")
VERSION = ["version", "--format", "{{.Server.Version}}"]


def runtime() -> DockerComposeRuntime:
    return DockerComposeRuntime(env={})


class Progress:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def __call__(self, service: str, message: str) -> None:
        self.events.append((service, message))


def ps_entry(
    service: str,
    state: str = "running",
    health: str = "healthy",
    publishers: list[dict[str, Any]] | None = None,
    status: str = "Up 2 minutes (healthy)",
) -> dict[str, Any]:
    return {
        "Name": f"dreamscape-{service}",  # the file's container_name (as the daemon prints)
        "Service": service,
        "State": state,
        "Health": health,
        "Status": status,
        "Publishers": publishers or [],
    }


def published(port: int, host: str = "127.0.0.1") -> list[dict[str, Any]]:
    return [{"URL": host, "TargetPort": port, "PublishedPort": port, "Protocol": "tcp"}]


# -- (b) the argument lists ------------------------------------------------------------------


def test_up_with_ui_profile(shim: Shim) -> None:
    progress = Progress()
    result = runtime().up(UpOptions(profiles=("ui",)), progress)
    assert shim.calls() == [
        VERSION,
        compose(*PS, profiles=ALL),
        # where each container is in its life (`up` waits through restarts)
        [
            "inspect",
            "--format",
            LIFE_FORMAT,
            *(f"dreamscape-{s}" for s in ("zookeeper", "kafka", "kafka-ui")),
        ],
        compose(
            "up",
            "--detach",
            "--wait",
            "--wait-timeout",
            "120",
            "zookeeper",
            "kafka",
            "kafka-ui",
            profiles=("ui",),
        ),
        compose("run", "--name", RUN_NAME, "--no-TTY", "--rm", "topic-init", profiles=("ui",)),
        compose(*PS, profiles=ALL),
    ]
    assert ("kafka", "healthy") in progress.events
    assert ("kafka-ui", "started") in progress.events
    assert progress.events[-2:] == [("topic-init", "syncing topics"), ("topic-init", "done")]
    assert result.status.runtime == "docker"
    assert result.status.bootstrap_servers == "localhost:9092"
    assert [s.name for s in result.status.services] == list(ALL_SERVICES)
    assert not result.already_running


def test_up_with_schema_profile(shim: Shim) -> None:
    runtime().up(UpOptions(profiles=("schema",), timeout_s=45), no_progress)
    assert shim.compose_calls()[1] == compose(
        "up",
        "--detach",
        "--wait",
        "--wait-timeout",
        "45",
        "zookeeper",
        "kafka",
        "schema-registry",
        profiles=("schema",),
    )


def test_up_with_both_profiles_in_file_order_and_build(shim: Shim) -> None:
    runtime().up(UpOptions(profiles=("schema", "ui", "schema"), build=True), no_progress)
    calls = shim.compose_calls()
    assert calls[1] == compose(
        "up",
        "--detach",
        "--wait",
        "--wait-timeout",
        "120",
        "zookeeper",
        "kafka",
        "kafka-ui",
        "schema-registry",
        profiles=ALL,
    )
    assert calls[2] == compose(
        "run", "--build", "--name", RUN_NAME, "--no-TTY", "--rm", "topic-init", profiles=ALL
    )


def test_up_default_profile(shim: Shim) -> None:
    runtime().up(UpOptions(), no_progress)
    calls = shim.compose_calls()
    assert calls[1] == compose(
        "up", "--detach", "--wait", "--wait-timeout", "120", "zookeeper", "kafka"
    )
    assert calls[2] == compose("run", "--name", RUN_NAME, "--no-TTY", "--rm", "topic-init")


def test_up_no_wait_starts_containers_and_skips_topic_init(shim: Shim) -> None:
    result = runtime().up(UpOptions(profiles=("ui",), wait=False), no_progress)
    calls = shim.compose_calls()
    assert calls[1] == compose("up", "--detach", "zookeeper", "kafka", "kafka-ui", profiles=("ui",))
    assert not [c for c in calls if "run" in c]
    assert any("topic-init was not run" in note for note in result.notes)


def test_up_reports_already_running(shim: Shim) -> None:
    shim.ps_output([ps_entry("zookeeper"), ps_entry("kafka", publishers=published(9092))])
    assert runtime().up(UpOptions(), no_progress).already_running


def test_up_rejects_unknown_profile_before_calling_docker(shim: Shim) -> None:
    with pytest.raises(ConfigError, match="unknown profile 'grafana'"):
        runtime().up(UpOptions(profiles=("grafana",)), no_progress)
    assert shim.calls() == []


@pytest.mark.parametrize("options", [UpOptions(kraft=True), UpOptions(brokers=3)])
def test_up_rejects_local_only_options(shim: Shim, options: UpOptions) -> None:
    with pytest.raises(ConfigError, match="apply to --runtime local only"):
        runtime().up(options, no_progress)
    assert shim.calls() == []


def test_down_reaches_every_profile_and_keeps_volumes(shim: Shim) -> None:
    shim.ps_output([ps_entry("kafka"), ps_entry("kafka-ui"), ps_entry("zookeeper", "exited", "")])
    progress = Progress()
    result = runtime().down(remove_data=False, progress=progress)
    assert shim.calls() == [
        VERSION,
        compose(*PS, profiles=ALL),
        compose("down", "--remove-orphans", profiles=ALL),
    ]
    assert result.stopped == ("kafka", "kafka-ui")
    assert not result.removed_data
    assert ("kafka", "removed") in progress.events


def test_down_removes_volumes_only_when_asked(shim: Shim) -> None:
    result = runtime().down(remove_data=True, progress=no_progress)
    assert shim.compose_calls()[-1] == compose(
        "down", "--remove-orphans", "--volumes", profiles=ALL
    )
    assert result.removed_data
    assert result.notes == (
        "removed volumes dreamscape_zookeeper-data, dreamscape_zookeeper-log, "
        "dreamscape_kafka-data",
    )


@pytest.mark.parametrize("ndjson", [False, True], ids=["json-array", "ndjson"])
def test_status_lists_every_service_of_every_profile(shim: Shim, ndjson: bool) -> None:
    shim.ps_output(
        [
            ps_entry("zookeeper", publishers=published(2181)),
            ps_entry("kafka", publishers=published(9092)),
            ps_entry("kafka-ui", health="starting", publishers=published(8080)),
            ps_entry("topic-init", "exited", "", status="Exited (0) 1 minute ago"),
        ],
        ndjson=ndjson,
    )
    status = runtime().status()
    assert shim.calls() == [VERSION, compose(*PS, profiles=ALL)]
    by_name = {s.name: s for s in status.services}
    assert list(by_name) == list(ALL_SERVICES)
    assert (by_name["kafka"].state, by_name["kafka"].health) == ("running", "healthy")
    assert by_name["kafka"].ports == ("127.0.0.1:9092->9092/tcp",)
    assert by_name["kafka-ui"].health == "starting"
    assert by_name["schema-registry"].state == "missing"
    assert by_name["schema-registry"].detail == "not created (profile schema)"
    assert by_name["topic-init"].state == "exited"
    assert status.urls == (("Kafka UI", "http://localhost:8080"),)
    assert status.running


def test_status_urls_for_both_extras_and_advertised_host(shim: Shim) -> None:
    shim.ps_output(
        [
            ps_entry("kafka-ui", publishers=published(8080, "0.0.0.0")),
            ps_entry("schema-registry", publishers=published(8081)),
        ]
    )
    status = DockerComposeRuntime(env={"KAFKA_ADVERTISED_HOST": "devbox"}).status()
    assert status.urls == (
        ("Kafka UI", "http://localhost:8080"),
        ("Schema Registry", "http://localhost:8081"),
    )
    assert status.bootstrap_servers == "devbox:9092"


def test_logs_of_one_service_follow_and_tail(shim: Shim) -> None:
    lines = list(runtime().logs("kafka", follow=True, tail=50))
    assert shim.compose_calls() == [
        compose("logs", "--no-color", "--tail", "50", "--follow", "kafka", profiles=ALL)
    ]
    assert lines == [
        "dreamscape-kafka  | started (kafka.server.KafkaServer)",
        "dreamscape-kafka  | second line",
    ]


def test_logs_of_all_services(shim: Shim) -> None:
    list(runtime().logs(None, follow=False, tail=None))
    assert shim.compose_calls() == [compose("logs", "--no-color", profiles=ALL)]


def test_logs_checks_before_the_first_line(shim: Shim) -> None:
    with pytest.raises(ConfigError, match="unknown service 'kafak'"):
        runtime().logs("kafak", follow=False, tail=None)
    shim.set("DOCKER_SHIM_NO_DAEMON", "1")
    with pytest.raises(EnvironmentFailure, match="Docker daemon not reachable"):
        runtime().logs("kafka", follow=False, tail=None)  # raised on the call, not on next()


def test_compose_file_override(shim: Shim, tmp_path: Path) -> None:
    other = tmp_path / "other-compose.yml"
    other.write_text("services: {}\n")
    DockerComposeRuntime(env={"DREAMSCAPE_COMPOSE_FILE": str(other)}).status()
    assert shim.compose_calls()[0][:3] == ["compose", "--file", str(other)]
    with pytest.raises(
        ConfigError, match=r"DREAMSCAPE_COMPOSE_FILE: '/nowhere\.yml' is not a file"
    ):
        find_compose_file({"DREAMSCAPE_COMPOSE_FILE": "/nowhere.yml"})


# -- errors through the shim -----------------------------------------------------------------


def test_topic_init_failure_carries_its_exit_code_and_last_lines(shim: Shim) -> None:
    shim.set("DOCKER_SHIM_RUN_EXIT", str(int(ExitCode.UNFIXABLE_DRIFT)))
    with pytest.raises(EnvironmentFailure) as raised:
        runtime().up(UpOptions(), no_progress)
    failure = raised.value
    assert failure.exit_code == ExitCode.ENVIRONMENT
    assert failure.message == (
        "topic-init failed with exit code 6: unfixable drift; topics.yaml was not applied"
    )
    assert failure.details == [
        "3 topics in sync",
        "error: orders.events: cannot reduce partitions from 12 to 6",
    ]
    assert failure.hint


@pytest.mark.parametrize(
    ("stderr", "message"),
    [
        # docker itself failed while running topic-init: its recognised cause wins
        (
            "target topic-init: failed to solve: process did not complete",
            "could not build the topic-init image (docker/Dockerfile)",
        ),
        # nothing docker-specific recognised: it stays a topic-init failure with its exit code
        (
            "docker compose failed in a way nobody expected",
            "topic-init failed with exit code 1: internal; topics.yaml was not applied",
        ),
    ],
)
def test_topic_init_docker_failure_is_told_apart_by_cause(
    shim: Shim, stderr: str, message: str
) -> None:
    shim.set("DOCKER_SHIM_FAIL_RUN", stderr)
    with pytest.raises(EnvironmentFailure) as raised:
        runtime().up(UpOptions(), no_progress)
    assert raised.value.message == message


@pytest.mark.parametrize(
    ("stderr", "cause"),
    [
        ("Cannot connect to the Docker daemon at unix:///x.sock", "no-daemon"),
        ("permission denied while connecting to docker.sock", "permission"),
        ("unknown flag: --file", "no-compose"),
        ("Bind for 127.0.0.1:9092 failed: port is already allocated", "port-in-use"),
        ("pull access denied for x/y", "pull"),
        ("failed to solve: boom", "build"),
        ("container dreamscape-kafka-1 exited (1)", "service-failed"),
        ("container dreamscape-kafka-1 not healthy after 30s", "wait-timeout"),
        # a message that merely looks like the generic one is still recognised by its cause
        ("docker compose up failed: failed to solve", "build"),
        ("something nobody expected", "unrecognised"),
    ],
)
def test_docker_failures_carry_a_typed_cause(stderr: str, cause: str) -> None:
    failure = classify_docker_error(stderr, action="up")
    assert isinstance(failure, DockerFailure)
    assert failure.cause == cause
    assert failure.exit_code == ExitCode.ENVIRONMENT


class FakeTime:
    """The runtime's clock and sleep: sleeping moves the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _exits(
    shim: Shim, times: int, *, restarted: bool = True, message: str = "", kind: str = "docker"
) -> None:
    path = shim.tmp_path / "up-exits"
    path.write_text(str(times))
    shim.set("DOCKER_SHIM_UP_EXITS", str(path))
    if restarted:
        counts = shim.tmp_path / "restarts"
        counts.write_text("0")
        shim.set("DOCKER_SHIM_RESTARTS", str(counts))
        shim.set("DOCKER_SHIM_RESTART_KIND", kind)
    if message:
        shim.set("DOCKER_SHIM_EXIT_MESSAGE", message)


def _ups(shim: Shim) -> list[list[str]]:
    return [c for c in shim.compose_calls() if "up" in c]


def _fake_runtime(fake: FakeTime) -> DockerComposeRuntime:
    return DockerComposeRuntime(env={}, clock=fake.clock, sleep=fake.sleep)


# what compose says when a container it waits for exits: the exit, or (docker marks an exited
# container unhealthy when its healthcheck stops) the health the real daemon showed in CI
@pytest.mark.parametrize(
    "message", ["container dreamscape-kafka exited (1)", "container dreamscape-kafka is unhealthy"]
)
def test_up_waits_through_a_service_docker_restarts(shim: Shim, message: str) -> None:
    # a killed broker exits a few times (its old ZooKeeper registration) before it registers
    _exits(shim, 2, message=message)
    fake = FakeTime()
    progress = Progress()
    _fake_runtime(fake).up(UpOptions(), progress)
    ups = _ups(shim)
    assert len(ups) == 3
    # each repeat waits only for what is left of the one timeout
    assert [u[u.index("--wait-timeout") + 1] for u in ups] == ["120", "118", "116"]
    assert fake.slept == [2.0, 2.0]
    assert (
        "kafka",
        "exited and started again (restart: on-failure); waiting (1/8)",
    ) in progress.events
    assert [c for c in shim.compose_calls() if "run" in c]  # topic-init ran once it was healthy


def test_up_reports_a_service_that_keeps_exiting(shim: Shim) -> None:
    _exits(shim, 100)
    with pytest.raises(DockerFailure) as raised:
        _fake_runtime(FakeTime()).up(UpOptions(), no_progress)
    assert raised.value.message == "kafka did not start: its container exited with code 1"
    assert (raised.value.service, raised.value.container_exit) == ("kafka", 1)
    assert len(_ups(shim)) == 9  # the first try and eight waited restarts
    assert not [c for c in shim.compose_calls() if "run" in c]


def test_up_gives_up_on_restarts_at_its_timeout(shim: Shim) -> None:
    _exits(shim, 100)
    with pytest.raises(DockerFailure, match="exited with code 1"):
        _fake_runtime(FakeTime()).up(UpOptions(timeout_s=5), no_progress)
    # 5 s: two pauses of 2 s, then too little left for a third
    assert [u[u.index("--wait-timeout") + 1] for u in _ups(shim)] == ["5", "3", "1"]


def test_an_unhealthy_service_docker_did_not_restart_fails_up(shim: Shim) -> None:
    _exits(shim, 1, restarted=False, message="container dreamscape-kafka is unhealthy")
    fake = FakeTime()
    with pytest.raises(DockerFailure) as raised:
        _fake_runtime(fake).up(UpOptions(), no_progress)
    assert raised.value.message == "kafka did not start: its container is unhealthy"
    assert len(_ups(shim)) == 1
    assert fake.slept == [2.0]  # the one look whether docker restarted it


@pytest.mark.parametrize("kind", ["compose", "backoff"])
def test_up_waits_when_compose_started_it_or_docker_is_about_to(shim: Shim, kind: str) -> None:
    # compose starts an exited container itself (no restart counted, but a new start time), and
    # docker keeps the last run's `unhealthy` until the new run's first healthcheck; or the
    # container lies exited non-zero, in docker's back-off before its next restart
    _exits(shim, 2, message="container dreamscape-kafka is unhealthy", kind=kind)
    _fake_runtime(FakeTime()).up(UpOptions(), no_progress)
    assert len(_ups(shim)) == 3


def test_container_lives_from_docker_inspect() -> None:
    text = (
        "/dreamscape-zookeeper 0 running 0 2026-12-03T08:59:01.1Z\n"
        "/dreamscape-kafka 3 exited 1 2026-12-03T08:59:11.6Z\n/other-thing 9 running 0 x\n\n"
    )
    assert container_lives(text) == {
        "zookeeper": ContainerLife(0, "running", 0, "2026-12-03T08:59:01.1Z"),
        "kafka": ContainerLife(3, "exited", 1, "2026-12-03T08:59:11.6Z"),
    }


def test_restarted_tells_a_restart_from_a_plainly_unhealthy_container() -> None:
    up = ContainerLife(0, "running", 0, "t1")
    assert not restarted(up, up)  # running all along: the healthcheck failed for real
    assert not restarted(None, None)
    assert not restarted(None, up)
    assert restarted(up, ContainerLife(1, "running", 0, "t2"))  # docker restarted it
    assert restarted(up, ContainerLife(0, "running", 0, "t2"))  # compose started it again
    assert restarted(up, ContainerLife(1, "restarting", 1, "t1"))
    assert restarted(None, ContainerLife(0, "exited", 1, "t1"))  # docker restarts it next
    assert not restarted(up, ContainerLife(0, "exited", 0, "t1"))  # stopped cleanly


def test_port_taken(shim: Shim) -> None:
    shim.set(
        "DOCKER_SHIM_FAIL_UP",
        "Error response from daemon: driver failed programming external connectivity on "
        "endpoint dreamscape-kafka-1: Bind for 127.0.0.1:9092 failed: port is already allocated",
    )
    with pytest.raises(EnvironmentFailure) as raised:
        runtime().up(UpOptions(), no_progress)
    assert raised.value.message == "port 9092 (kafka) is already in use on the host"
    assert "lsof -i :9092" in (raised.value.hint or "")
    assert not [c for c in shim.compose_calls() if "run" in c]  # topic-init never started


def test_image_pull_failure(shim: Shim) -> None:
    shim.set(
        "DOCKER_SHIM_FAIL_UP",
        " kafka Error manifest for confluentinc/cp-kafka:7.99.0 not found: manifest unknown\n"
        "Error response from daemon: manifest for confluentinc/cp-kafka:7.99.0 not found: "
        "manifest unknown: manifest unknown",
    )
    with pytest.raises(EnvironmentFailure) as raised:
        runtime().up(UpOptions(), no_progress)
    assert raised.value.message == "could not pull image confluentinc/cp-kafka:7.99.0"
    assert "CP_VERSION" in (raised.value.hint or "")


def test_no_compose_plugin(shim: Shim) -> None:
    shim.set("DOCKER_SHIM_NO_COMPOSE", "1")
    with pytest.raises(EnvironmentFailure) as raised:
        runtime().status()
    assert raised.value.message.startswith("docker compose (v2) is not installed")
    assert "make compose-bin" in (raised.value.hint or "")


def test_no_daemon_stops_before_any_compose_call(shim: Shim) -> None:
    shim.set("DOCKER_SHIM_NO_DAEMON", "1")
    for call in (
        lambda: runtime().up(UpOptions(profiles=("ui",)), no_progress),
        lambda: runtime().down(remove_data=True, progress=no_progress),
        runtime().status,
    ):
        with pytest.raises(EnvironmentFailure, match=r"^Docker daemon not reachable"):
            call()
    assert shim.compose_calls() == []


# -- (c) the real docker client ------------------------------------------------------------


def _real_docker() -> str:
    docker = shutil.which("docker")
    if docker is None:
        skip_or_fail("no docker client on PATH")
    return docker


@pytest.fixture
def no_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real client, pointed at a socket nobody listens on (so a local daemon can't answer)."""
    _real_docker()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)


@pytest.mark.timeout(60)
def test_real_client_without_daemon(no_daemon: None) -> None:
    started = time.monotonic()
    with pytest.raises(EnvironmentFailure) as raised:
        DockerComposeRuntime(env={}).up(UpOptions(profiles=("ui",)), no_progress)
    elapsed = time.monotonic() - started
    failure = raised.value
    assert failure.message.startswith(
        "Docker daemon not reachable: Cannot connect to the Docker daemon at unix://"
    )
    assert failure.hint == "start Docker (or Docker Desktop) and retry, or use --runtime local"
    assert failure.exit_code == ExitCode.ENVIRONMENT
    assert elapsed < 10, f"took {elapsed:.1f}s"
    assert docker_daemon_available(timeout_s=5) is False


@pytest.mark.timeout(60)
def test_real_no_docker_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for call in (
        lambda: DockerComposeRuntime(env={}).up(UpOptions(), no_progress),
        DockerComposeRuntime(env={}).status,
        lambda: DockerComposeRuntime(env={}).logs(None, follow=False, tail=None),
    ):
        with pytest.raises(EnvironmentFailure) as raised:
            call()
        assert raised.value.message == "docker not found on PATH"
        assert "--runtime local" in (raised.value.hint or "")
    assert docker_daemon_available() is False


# -- pure: error translation and ps parsing ---------------------------------------------------


@pytest.mark.parametrize(
    ("stderr", "message"),
    [
        (
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
            "Is the docker daemon running?",
            "Docker daemon not reachable: Cannot connect to the Docker daemon at "
            "unix:///var/run/docker.sock",
        ),
        (
            "permission denied while trying to connect to the Docker daemon socket at "
            "unix:///var/run/docker.sock: Get ...: dial unix /var/run/docker.sock: connect: "
            "permission denied",
            "Docker daemon not reachable: permission denied while trying to connect to the "
            "Docker daemon socket at unix:///var/run/docker.sock: Get ...: dial unix "
            "/var/run/docker.sock",
        ),
        ("unknown flag: --file\n\nUsage:  docker [OPTIONS] COMMAND", None),
        (
            "Error response from daemon: Ports are not available: exposing port TCP "
            "127.0.0.1:8080 -> 0.0.0.0:0: listen tcp 127.0.0.1:8080: bind: address already in use",
            "port 8080 (kafka-ui) is already in use on the host",
        ),
        (
            "Error response from daemon: pull access denied for kafbat/kafka-ui, repository "
            "does not exist or may require 'docker login'",
            "could not pull an image of the stack",
        ),
        (
            'failed to resolve reference "docker.io/kafbat/kafka-ui:v9.9.9": not found',
            "could not pull image docker.io/kafbat/kafka-ui:v9.9.9",
        ),
        (
            "dependency failed to start: container dreamscape-kafka-1 is unhealthy",
            "kafka did not start: its container is unhealthy",
        ),
        (
            "target schema-registry: failed to solve: process did not complete",
            "could not build the topic-init image (docker/Dockerfile)",
        ),
        ("something nobody expected", "docker compose up failed (exit 17)"),
    ],
)
def test_classify_docker_error(stderr: str, message: str | None) -> None:
    failure = classify_docker_error(stderr, action="up", return_code=17)
    if message is None:
        assert failure.message.startswith("docker compose (v2) is not installed")
    else:
        assert failure.message == message
    assert failure.hint
    assert failure.exit_code == ExitCode.ENVIRONMENT


def test_statuses_prefer_the_running_container_and_keep_unknown_services() -> None:
    statuses = statuses_from_ps(
        [
            ps_entry("topic-init", "exited", "", status="Exited (1) 1 hour ago"),
            ps_entry("kafka", "restarting", ""),
            {"Name": "dreamscape-topic-init-run-0a1b2c3d", "State": "running", "Health": ""},
            ps_entry("connect", "running", "weird"),
        ]
    )
    by_name = {s.name: s for s in statuses}
    assert list(by_name) == [*ALL_SERVICES, "connect"]
    assert by_name["topic-init"].state == "running"
    assert (by_name["kafka"].state, by_name["kafka"].health) == ("starting", "none")
    assert by_name["zookeeper"].state == "missing"
    assert by_name["connect"].health == "unknown"


# -- the CLI over the docker runtime, with the shim on PATH -----------------------------------


def run_cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from dreamscape_infra.cli import AppState, app

    state = AppState(interactive=False)  # os.environ, with the shim's PATH
    return CliRunner().invoke(app, list(args), obj=state)


def test_cli_up_with_ui_profile_reaches_compose(shim: Shim) -> None:
    # --no-sync: no broker answers behind the shim, so skip the host-side topic check
    result = run_cli("up", "--runtime", "docker", "--profile", "ui", "--no-sync")
    assert result.exit_code == 0, result.output
    calls = shim.compose_calls()
    assert (
        compose(
            "up",
            "--detach",
            "--wait",
            "--wait-timeout",
            "120",
            "zookeeper",
            "kafka",
            "kafka-ui",
            profiles=("ui",),
        )
        in calls
    )
    assert (
        compose("run", "--name", RUN_NAME, "--no-TTY", "--rm", "topic-init", profiles=("ui",))
        in calls
    )
    assert f"Kafka is ready at {shim.broker_host}:9092" in result.stdout


def test_cli_up_with_schema_profile_no_wait_and_timeout(shim: Shim) -> None:
    result = run_cli("up", "--runtime", "docker", "--profile", "schema", "--no-wait")
    assert result.exit_code == 0, result.output
    assert (
        compose("up", "--detach", "zookeeper", "kafka", "schema-registry", profiles=("schema",))
        in shim.compose_calls()
    )
    result = run_cli(
        "up", "--runtime", "docker", "-p", "ui", "-p", "schema", "--timeout", "30", "--no-sync"
    )
    assert result.exit_code == 0, result.output
    assert shim.compose_calls()[-3][-9:] == [
        "up",
        "--detach",
        "--wait",
        "--wait-timeout",
        "30",
        "zookeeper",
        "kafka",
        "kafka-ui",
        "schema-registry",
    ]


def test_cli_up_topic_init_failure_exits_4_with_its_lines(shim: Shim) -> None:
    shim.set("DOCKER_SHIM_RUN_EXIT", "3")
    result = run_cli("up", "--runtime", "docker")
    assert result.exit_code == ExitCode.ENVIRONMENT
    assert "error: topic-init failed with exit code 3: invalid config" in result.stderr
    assert "  | error: orders.events: cannot reduce partitions from 12 to 6" in result.stderr
    assert "Traceback" not in result.output


def test_cli_down_reaches_every_profile(shim: Shim) -> None:
    result = run_cli("down", "--runtime", "docker")
    assert result.exit_code == 0, result.output
    assert shim.compose_calls()[-1] == compose("down", "--remove-orphans", profiles=ALL)
    result = run_cli("down", "--runtime", "docker", "-v", "--yes")
    assert result.exit_code == 0, result.output
    assert shim.compose_calls()[-1] == compose(
        "down", "--remove-orphans", "--volumes", profiles=ALL
    )


def test_cli_down_v_without_yes_or_terminal_removes_nothing(shim: Shim) -> None:
    result = run_cli("down", "--runtime", "docker", "-v")
    assert result.exit_code == ExitCode.REFUSED
    assert "nothing was stopped or removed" in result.stderr
    assert shim.calls() == []  # not even a docker version: nothing reached docker


@pytest.mark.timeout(120)
def test_cli_down_v_in_a_real_process_without_terminal(shim: Shim) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "dreamscape_infra", "down", "--runtime", "docker", "-v"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert completed.returncode == ExitCode.REFUSED, completed.stderr
    assert "Traceback" not in completed.stderr
    assert [c for c in shim.compose_calls() if "down" in c] == []


def test_cli_status_json_and_logs(shim: Shim) -> None:
    shim.ps_output([ps_entry("kafka", publishers=published(9092))])
    result = run_cli("status", "--runtime", "docker", "-o", "json")
    # the shim says kafka runs, but no broker answers at the advertised host: status says so
    assert result.exit_code == 4, result.output
    document = json.loads(result.stdout)
    assert document["broker"]["reachable"] is False
    assert document["topics"] is None
    assert [s["name"] for s in document["services"]] == list(ALL_SERVICES)
    assert document["services"][1]["ports"] == ["127.0.0.1:9092->9092/tcp"]
    assert shim.compose_calls()[-1] == compose(*PS, profiles=ALL)

    result = run_cli("logs", "kafka", "--runtime", "docker", "--tail", "5")
    assert result.exit_code == 0, result.output
    assert shim.compose_calls()[-1] == compose(
        "logs", "--no-color", "--tail", "5", "kafka", profiles=ALL
    )
    assert "dreamscape-kafka  | second line" in result.stdout


@pytest.mark.timeout(120)
def test_cli_up_real_client_without_daemon(no_daemon: None) -> None:
    """The acceptance line: exits within seconds, one line + hint, code 4, no traceback."""
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "dreamscape_infra", "up", "--runtime", "docker", "--profile", "ui"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert completed.returncode == ExitCode.ENVIRONMENT, completed.stderr
    lines = completed.stderr.splitlines()
    assert [line for line in lines if line.startswith("error:")] == [
        f"error: Docker daemon not reachable: Cannot connect to the Docker daemon at "
        f"{os.environ['DOCKER_HOST']}"
    ]
    assert "hint: start Docker (or Docker Desktop) and retry, or use --runtime local" in lines
    assert "Traceback" not in completed.stderr
    assert completed.stdout == ""
    assert elapsed < 15, f"took {elapsed:.1f}s"
