"""`up`'s wait for a ready cluster, with an injected readiness probe, fake processes and a fake
clock: no JVM, no Kafka client, no real waiting.

Ready means DescribeCluster sees every broker id of the layout and a controller, and every
broker JVM this `up` started has logged Kafka's start line (a killed broker's old registration
outlives it in ZooKeeper for the session timeout, so the ids alone say nothing); a JVM that dies
during the wait fails `up` with its log lines (or is restarted when ZooKeeper still held its old
session); the deadline gives up with what it was waiting for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.kafka.cluster import BrokerInfo, ClusterInfo
from dreamscape_infra.runtime.base import UpOptions
from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime
from dreamscape_infra.settings import ConnectionSettings
from tests.fake_processes import FakeProcesses, started_line

# One answer per poll: a ClusterInfo, or None for "nothing answers yet".
Answer = ClusterInfo | None


def registered(count: int, controller: int | None = 1) -> ClusterInfo:
    """Brokers 1..count registered (the layout's ids)."""
    brokers = tuple(BrokerInfo(i, "127.0.0.1", 12091 + i) for i in range(1, count + 1))
    return ClusterInfo("c", controller, brokers)


@dataclass
class ScriptedProbe:
    """A ClusterProbe that answers from a script; the last answer repeats."""

    answers: list[Answer]
    on_poll: Callable[[int], None] = lambda poll: None
    polls: int = 0
    closed: bool = False

    def describe_cluster(self) -> ClusterInfo:
        self.polls += 1
        self.on_poll(self.polls)
        answer = self.answers[min(self.polls, len(self.answers)) - 1]
        if answer is None:
            raise EnvironmentFailure("Kafka is not reachable")
        return answer

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeClock:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Stack:
    runtime: LocalRuntime
    jvms: FakeProcesses
    clock: FakeClock
    probe: ScriptedProbe
    opened: list[ConnectionSettings]
    progress: list[tuple[str, str]]
    state_dir: Path

    def up(self, **options: object) -> None:
        def record(service: str, message: str) -> None:
            self.progress.append((service, message))

        self.runtime.up(UpOptions(brokers=3, **options), record)  # type: ignore[arg-type]


@pytest.fixture
def make_stack(tmp_path: Path) -> Callable[[ScriptedProbe], Stack]:
    home = tmp_path / "kafka-home"
    (home / "libs").mkdir(parents=True)
    (home / "libs" / "kafka_2.13-3.9.1.jar").write_bytes(b"")
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    env = {"KAFKA_HOME": str(home), "JAVA_HOME": str(tmp_path / "jdk"), "PATH": ""}

    def make(probe: ScriptedProbe) -> Stack:
        jvms, clock = FakeProcesses(quiet=False), FakeClock()
        opened: list[ConnectionSettings] = []

        def open_probe(settings: ConnectionSettings) -> ScriptedProbe:
            opened.append(settings)
            return probe

        state_dir = tmp_path / "state"
        runtime = LocalRuntime(
            LocalConfig(state_dir=state_dir, zk_port=12181, kafka_port=12092, start_retry_s=1.0),
            env=env,
            processes=jvms,
            sleep=clock.sleep,
            probe=open_probe,
            clock=clock,
        )
        return Stack(runtime, jvms, clock, probe, opened, [], state_dir)

    return make


def test_ready_after_a_few_polls(make_stack: Callable[[ScriptedProbe], Stack]) -> None:
    stack = make_stack(
        ScriptedProbe([None, None, registered(1), registered(3, None), registered(3)])
    )
    stack.up()
    assert stack.probe.polls == 5
    assert stack.probe.closed
    assert [s.bootstrap_servers for s in stack.opened] == [
        "127.0.0.1:12092,127.0.0.1:12093,127.0.0.1:12094"
    ]
    waits = [m for s, m in stack.progress if s == "kafka"]
    assert "waiting for Kafka at 127.0.0.1:12092,127.0.0.1:12093,127.0.0.1:12094" in waits
    assert "1/3 brokers registered" in waits
    assert "3/3 brokers registered" in waits  # all there, but no controller yet: not ready
    assert stack.clock.sleeps == [0.25] * 4


def test_timeout_says_what_it_waited_for(make_stack: Callable[[ScriptedProbe], Stack]) -> None:
    stack = make_stack(ScriptedProbe([None, registered(2)]))
    with pytest.raises(EnvironmentFailure) as caught:
        stack.up(timeout_s=5.0)
    assert caught.value.message == (
        "Kafka did not become ready within 5s (2/3 brokers registered); it keeps running"
    )
    assert caught.value.details == ["starting", started_line(1)]  # the first broker's log
    assert stack.probe.closed
    assert stack.clock.now >= 1005.0
    assert stack.probe.polls == 21  # one poll per 0.25 s, plus the one at the deadline


def test_a_jvm_dying_during_the_wait_fails_up_with_its_log(
    make_stack: Callable[[ScriptedProbe], Stack],
) -> None:
    def die(poll: int) -> None:
        if poll == 2:
            stack.jvms.kill(
                stack.state_dir, "kafka-2", "ERROR Exiting Kafka due to fatal exception"
            )

    stack = make_stack(ScriptedProbe([None], on_poll=die))
    with pytest.raises(EnvironmentFailure) as caught:
        stack.up()
    assert caught.value.message == "kafka-2 exited during start-up"
    assert caught.value.details[-1] == "ERROR Exiting Kafka due to fatal exception"
    assert "kafka-2.log" in (caught.value.hint or "")
    assert stack.probe.polls == 2, "noticed at the next poll, not at the deadline"
    assert stack.probe.closed


@pytest.mark.parametrize(
    ("status", "said", "hinted"),
    [
        (1, "kafka-2 exited during start-up (exit code 1)", ""),
        (-9, "kafka-2 exited during start-up (killed by SIGKILL)", "out-of-memory killer"),
        (-11, "kafka-2 exited during start-up (killed by SIGSEGV)", ""),
    ],
)
def test_a_jvm_that_died_says_how_it_ended(
    make_stack: Callable[[ScriptedProbe], Stack], status: int, said: str, hinted: str
) -> None:
    def die(poll: int) -> None:
        if poll == 2:
            stack.jvms.kill(stack.state_dir, "kafka-2", status=status)

    stack = make_stack(ScriptedProbe([None], on_poll=die))
    with pytest.raises(EnvironmentFailure) as caught:
        stack.up()
    assert caught.value.message == said
    hint = caught.value.hint or ""
    assert hint.endswith("kafka-2.log")
    assert hinted in hint
    if not hinted:
        assert hint.startswith("full log: ")


def test_a_broker_refused_for_a_stale_session_is_restarted(
    make_stack: Callable[[ScriptedProbe], Stack],
) -> None:
    def refuse_once(poll: int) -> None:
        if poll == 2:
            stack.jvms.kill(
                stack.state_dir,
                "kafka-3",
                "ERROR Error while creating ephemeral at /brokers/ids/3, node already exists "
                "and owner '72' does not match current session '73'",
            )

    stack = make_stack(ScriptedProbe([None, None, None, registered(3)], on_poll=refuse_once))
    stack.up()
    config = str(stack.state_dir / "kafka-3" / "server.properties")
    assert stack.jvms.configs.count(config) == 2, "kafka-3 was started again"
    assert ("kafka-3", "waiting for ZooKeeper to expire the old broker session") in stack.progress
    assert 1.0 in stack.clock.sleeps  # start_retry_s before the new JVM
    assert stack.probe.polls == 4


def test_a_restarted_broker_is_not_ready_on_its_old_registration(
    make_stack: Callable[[ScriptedProbe], Stack],
) -> None:
    """kill -9 of kafka-2, then `up`: ZooKeeper still lists broker 2 (its old session), so
    DescribeCluster shows all three ids while the new JVM starts. Ready only once it says so."""
    stack = make_stack(ScriptedProbe([registered(3)]))
    stack.up()
    stack.jvms.kill(stack.state_dir, "kafka-2", status=-9)
    stack.jvms.quiet = True
    log = stack.state_dir / "kafka-2" / "kafka-2.log"

    def start_at_poll_4(poll: int) -> None:
        if poll == 4:
            stack.jvms.say_started(log)

    stack.probe.polls, stack.probe.on_poll = 0, start_at_poll_4
    stack.progress.clear()
    stack.up()
    assert stack.jvms.configs[-1] == str(stack.state_dir / "kafka-2" / "server.properties")
    assert stack.probe.polls == 4, "it waited for the restarted broker's own start"
    assert ("kafka", "3/3 brokers registered; kafka-2 still starting") in stack.progress


def test_the_layout_s_ids_count_not_the_number_of_brokers(
    make_stack: Callable[[ScriptedProbe], Stack],
) -> None:
    other = ClusterInfo("c", 1, tuple(BrokerInfo(i, "127.0.0.1", i) for i in (1, 2, 7)))
    stack = make_stack(ScriptedProbe([other, other, registered(3)]))
    stack.up()
    assert stack.probe.polls == 3
    assert ("kafka", "2/3 brokers registered") in stack.progress


def test_the_environment_is_recorded_and_kept_by_a_restart(
    make_stack: Callable[[ScriptedProbe], Stack],
) -> None:
    stack = make_stack(ScriptedProbe([registered(3)]))
    stack.up(environment="prod")
    assert stack.runtime.status().environment == "prod"
    stack.jvms.kill(stack.state_dir, "kafka-2", status=-9)
    stack.up()  # a plain `up` after the crash
    assert stack.runtime.status().environment == "prod"
    stack.up(environment="dev")  # running: the stack keeps its own (the CLI says the rest)
    assert stack.runtime.status().environment == "prod"


def test_a_stopped_stack_takes_the_environment_asked_for(
    make_stack: Callable[[ScriptedProbe], Stack],
) -> None:
    from dreamscape_infra.runtime.base import no_progress

    stack = make_stack(ScriptedProbe([registered(3)]))
    stack.up(environment="prod")
    stack.runtime.down(remove_data=False, progress=no_progress)
    stack.up()
    assert stack.runtime.status().environment == "prod", "a plain restart keeps it"
    stack.runtime.down(remove_data=False, progress=no_progress)
    result = stack.runtime.up(UpOptions(brokers=3, environment="dev"), lambda s, m: None)
    assert result.status.environment == "dev"
    assert "this stack was started with --env prod; it now syncs --env dev" in result.notes
