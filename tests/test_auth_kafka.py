"""Authentication against a real broker with a SASL/PLAIN listener.

The broker is started here (test-only), as a second broker registered in the session's
ZooKeeper under its own chroot, so it costs one JVM. Good credentials work; a wrong password is
one line with exit 4, in bounded time, and the password never appears in any output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.kafka.admin import ConfluentAdmin
from dreamscape_infra.runtime.dist import find_java, find_kafka
from dreamscape_infra.settings import load_settings
from tests.kafka_support import free_ports, skip_or_fail

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "alice", "alice-s3cret-Pa55"


@pytest.fixture(scope="module")
def sasl_broker(kafka_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    runtime = kafka_cluster.runtime
    if runtime is None:
        skip_or_fail("DREAMSCAPE_TEST_BROKERS points at an external cluster without SASL")
    java = find_java(os.environ)
    dist = find_kafka("zookeeper", os.environ)
    state = tmp_path_factory.mktemp("sasl-broker")
    plain_port, sasl_port = free_ports(2)
    jaas = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'user_admin="admin-pw" user_{USER}="{PASSWORD}";'
    )
    (state / "server.properties").write_text(
        "\n".join(
            [
                "broker.id=0",
                f"listeners=PLAINTEXT://127.0.0.1:{plain_port},SASL_PLAINTEXT://127.0.0.1:{sasl_port}",
                "inter.broker.listener.name=PLAINTEXT",
                "sasl.enabled.mechanisms=PLAIN",
                f"listener.name.sasl_plaintext.plain.sasl.jaas.config={jaas}",
                f"log.dirs={state / 'data'}",
                f"zookeeper.connect=127.0.0.1:{runtime.config.zk_port}/sasl-test",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "log.cleaner.dedupe.buffer.size=2097152",
            ]
        )
        + "\n"
    )
    log = (state / "broker.log").open("wb")
    process = subprocess.Popen(
        [
            java,
            "-Xmx384m",
            "-XX:+UseSerialGC",
            f"-Dlog4j.configuration={(runtime.state_dir / 'log4j.properties').as_uri()}",
            "-cp",
            dist.classpath,
            "kafka.Kafka",
            str(state / "server.properties"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    bootstrap = f"127.0.0.1:{sasl_port}"
    good = {
        "KAFKA_BROKERS": bootstrap,
        "KAFKA_SASL_USERNAME": USER,
        "KAFKA_SASL_PASSWORD": PASSWORD,
    }
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                ConfluentAdmin(load_settings(good), timeout_s=3).describe_cluster()
                break
            except EnvironmentFailure:
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = (state / "broker.log").read_text(errors="replace")[-3000:]
                    pytest.fail(f"SASL broker did not start:\n{tail}", pytrace=False)
                time.sleep(0.5)
        yield bootstrap
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def run_cli(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
    env.update(env_extra)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "dreamscape_infra",
            "--topics-file",
            str(ROOT / "tests" / "fixtures" / "topics-small.yaml"),
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_good_credentials_connect(sasl_broker: str) -> None:
    run = run_cli(
        {
            "KAFKA_BROKERS": sasl_broker,
            "KAFKA_SASL_USERNAME": USER,
            "KAFKA_SASL_PASSWORD": PASSWORD,
        },
        "topics",
        "plan",
        "--detailed-exitcode",
        "-o",
        "json",
    )
    assert run.returncode == 5, run.stderr  # reachable and authenticated; topics not created
    assert PASSWORD not in run.stdout + run.stderr


@pytest.mark.parametrize("verbose", [False, True])
def test_wrong_password_is_one_line_exit_4_without_the_secret(
    sasl_broker: str, verbose: bool
) -> None:
    wrong = "not-the-Pa55word-xyz"
    started = time.monotonic()
    args = ["--verbose"] if verbose else []
    run = run_cli(
        {"KAFKA_BROKERS": sasl_broker, "KAFKA_SASL_USERNAME": USER, "KAFKA_SASL_PASSWORD": wrong},
        *args,
        "topics",
        "plan",
    )
    assert run.returncode == 4
    assert time.monotonic() - started < 6  # a refused login fails fast, not after 10 s
    first = run.stderr.strip().splitlines()[0]
    assert first.startswith(f"error: Kafka refused authentication at {sasl_broker}")
    assert "KAFKA_SASL_PASSWORD" in run.stderr  # the hint names the variable, not its value
    assert wrong not in run.stdout + run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    if not verbose:
        assert "Traceback" not in run.stderr
