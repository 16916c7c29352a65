"""ACLs against real authorizers: AclAuthorizer (Kafka 3.9, ZooKeeper) and StandardAuthorizer
(Kafka 4.x, KRaft).

- CRUD through `up --acls`'s broker (PLAINTEXT, so every client is User:ANONYMOUS, a super
  user): plan lists what is needed, sync creates it, plan is then empty, a dry run changes
  nothing, a removed declaration is deleted only with --prune (and --yes), and the ACLs of a
  super user and of another principal are never touched.
- Enforcement through a SASL/PLAIN broker with the same authorizers (tests/acl_support.py):
  after `acls sync`, auth-service consumes its declared topic and is denied a payment topic, and
  user-service's idempotent producer writes with nothing but WRITE and DESCRIBE on its topics.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dreamscape_infra.acls.model import AclBinding
from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.kafka.acls import ConfluentAcls
from dreamscape_infra.runtime.base import UpOptions, no_progress
from dreamscape_infra.settings import ConnectionSettings
from tests.acl_fixtures import ACL_COUNT, without_payment_consumes, write_acl_topics
from tests.acl_support import SaslBroker, sasl_acl_broker
from tests.kafka_support import (
    START_TIMEOUT_S,
    KafkaCluster,
    format_failure,
    local_runtime,
    require_local_kafka,
    skip_or_fail,
)

pytestmark = pytest.mark.kafka
runner = CliRunner()

FOREIGN = AclBinding("User:someone-else", "topic", "dreamscape.user.created", "literal", "read")
SUPER = AclBinding("User:admin", "topic", "dreamscape.payment.completed", "literal", "write")


@pytest.fixture(scope="module", params=["zookeeper", "kraft"])
def acl_broker(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`up --acls` through the local runtime: a plaintext broker running an authorizer."""
    kraft = request.param == "kraft"
    require_local_kafka(kraft)
    runtime = local_runtime(tmp_path_factory.mktemp(f"acls-{request.param}"), kraft=kraft)
    try:
        result = runtime.up(
            UpOptions(kraft=kraft, acls=True, timeout_s=START_TIMEOUT_S), no_progress
        )
        yield result.status.bootstrap_servers
    except EnvironmentFailure as exc:
        pytest.fail(format_failure(exc), pytrace=False)
    finally:
        runtime.down(remove_data=True, progress=no_progress)


def cli(env: dict[str, str], topics: Path, *args: str) -> tuple[int, str, str]:
    state = AppState(environ=env, interactive=False)
    result = runner.invoke(app, ["--topics-file", str(topics), *args], obj=state)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def acls_at(bootstrap: str) -> set[AclBinding]:
    admin = ConfluentAcls(ConnectionSettings(brokers=(bootstrap,)))
    try:
        return set(admin.list_acls())
    finally:
        admin.close()


def test_plan_sync_dry_run_and_prune(acl_broker: str, tmp_path: Path) -> None:
    env = {"KAFKA_BROKERS": acl_broker}
    admin = ConfluentAcls(ConnectionSettings(brokers=(acl_broker,)))
    try:
        assert all(r.ok for r in admin.create_acls([FOREIGN, SUPER]).values())
    finally:
        admin.close()
    topics = write_acl_topics(tmp_path)

    code, out, err = cli(env, topics, "acls", "plan", "--detailed-exitcode", "-o", "json")
    assert code == 5, err
    plan = json.loads(out)
    assert plan["summary"]["create"] == ACL_COUNT
    assert plan["summary"]["other_principal"] == 1
    assert plan["summary"]["super_user"] == 1

    code, out, err = cli(env, topics, "acls", "sync", "--dry-run")
    assert code == 0, err
    assert acls_at(acl_broker) == {FOREIGN, SUPER}  # the dry run changed nothing

    code, out, err = cli(env, topics, "acls", "sync")
    assert code == 0, err
    assert len(acls_at(acl_broker)) == ACL_COUNT + 2
    code, out, err = cli(env, topics, "acls", "plan", "--detailed-exitcode")
    assert code == 0, out + err
    assert f"In sync: {ACL_COUNT} of {ACL_COUNT}" in out

    # payment-service no longer consumes: its 3 consumer ACLs are undeclared now
    removed = write_acl_topics(tmp_path, without_payment_consumes())
    before = acls_at(acl_broker)
    code, out, err = cli(env, removed, "acls", "sync")
    assert code == 0, err
    assert acls_at(acl_broker) == before
    code, out, err = cli(env, removed, "acls", "sync", "--prune")
    assert code == 7, err
    assert acls_at(acl_broker) == before
    code, out, err = cli(env, removed, "acls", "sync", "--prune", "--yes", "-o", "json")
    assert code == 0, err
    after = acls_at(acl_broker)
    payment = "User:payment-service"
    assert before - after == {
        AclBinding(payment, "topic", "dreamscape.auth.", "prefixed", "read"),
        AclBinding(payment, "topic", "dreamscape.auth.", "prefixed", "describe"),
        AclBinding(payment, "group", "dreamscape-payment-service-group", "literal", "read"),
    }
    assert {FOREIGN, SUPER} <= after
    code, out, err = cli(env, removed, "acls", "plan", "--prune", "--detailed-exitcode")
    assert code == 0, out + err


def test_no_authorizer_is_one_line_exit_4(kafka_cluster: KafkaCluster, tmp_path: Path) -> None:
    started = time.monotonic()
    code, _, err = cli(
        {"KAFKA_BROKERS": kafka_cluster.bootstrap}, write_acl_topics(tmp_path), "acls", "plan"
    )
    assert code == 4
    assert err.splitlines()[0].endswith("runs no authorizer: it has no ACLs to plan")
    assert "--acls" in err
    assert time.monotonic() - started < 15


# --- enforcement over SASL/PLAIN ------------------------------------------------------------

USERS = {
    "auth-service": "auth-Pa55-word",
    "user-service": "user-Pa55-word",
    "payment-service": "payment-Pa55-word",
}


@pytest.fixture(scope="module", params=["zookeeper", "kraft"])
def sasl_broker(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SaslBroker]:
    kraft = request.param == "kraft"
    zk_connect = None
    if not kraft:
        # the ZooKeeper of the session's 3.9 cluster (the broker registers under a chroot)
        cluster: KafkaCluster = request.getfixturevalue("kafka_cluster")
        if cluster.runtime is None:
            skip_or_fail("DREAMSCAPE_TEST_BROKERS names an external cluster: no ZooKeeper to use")
        zk_connect = f"127.0.0.1:{cluster.runtime.config.zk_port}"
    state = tmp_path_factory.mktemp(f"sasl-acl-{request.param}")
    try:
        with sasl_acl_broker(state, USERS, kraft=kraft, zk_connect=zk_connect) as broker:
            yield broker
    except EnvironmentFailure as exc:
        pytest.fail(format_failure(exc), pytrace=False)


def _client(broker: SaslBroker, user: str, **extra: Any) -> dict[str, Any]:
    return broker.settings(user).client_config() | extra


def test_auth_service_reads_its_topics_and_is_denied_payment(
    sasl_broker: SaslBroker, tmp_path: Path
) -> None:
    from confluent_kafka import Consumer, KafkaError, Producer

    topics = write_acl_topics(tmp_path)
    admin_env = sasl_broker.env("admin")
    code, out, err = cli(admin_env, topics, "topics", "sync")
    assert code == 0, out + err
    code, out, err = cli(admin_env, topics, "acls", "sync")
    assert code == 0, out + err
    time.sleep(1)  # ACL changes reach every broker's cache asynchronously

    # user-service holds only WRITE and DESCRIBE on its topics: enough for the idempotent
    # producer on 3.9 and 4.x (no IDEMPOTENT_WRITE on the cluster)
    marker = uuid.uuid4().hex.encode()
    producer = Producer(_client(sasl_broker, "user-service", **{"enable.idempotence": True}))
    delivered: list[Any] = []
    producer.produce(
        "dreamscape.user.created", marker, on_delivery=lambda e, m: delivered.append(e)
    )
    producer.flush(30)
    assert delivered == [None]

    consumer = Consumer(
        _client(
            sasl_broker,
            "auth-service",
            **{"group.id": "dreamscape-auth-service-group", "auto.offset.reset": "earliest"},
        )
    )
    try:
        consumer.subscribe(["dreamscape.user.created"])
        got = None
        deadline = time.monotonic() + 60
        while got is None and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None:
                assert msg.error() is None, msg.error()
                got = msg.value()
        assert got == marker
        consumer.commit(asynchronous=False)  # READ on its group
    finally:
        consumer.close()

    denied = Consumer(
        _client(
            sasl_broker,
            "auth-service",
            **{"group.id": "dreamscape-auth-service-group", "auto.offset.reset": "earliest"},
        )
    )
    try:
        denied.subscribe(["dreamscape.payment.completed"])
        error = None
        deadline = time.monotonic() + 60
        while error is None and time.monotonic() < deadline:
            msg = denied.poll(1.0)
            if msg is not None and msg.error() is not None:
                error = msg.error()
            assert msg is None or msg.error() is not None, "auth-service read a payment"
        assert error is not None
        assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    finally:
        denied.close()

    # and it may not write there either
    producer = Producer(_client(sasl_broker, "auth-service"))
    results: list[Any] = []
    producer.produce(
        "dreamscape.payment.completed", b"x", on_delivery=lambda e, m: results.append(e)
    )
    producer.flush(30)
    assert results
    assert results[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_a_service_may_not_change_acls(sasl_broker: SaslBroker, tmp_path: Path) -> None:
    code, _, err = cli(sasl_broker.env("auth-service"), write_acl_topics(tmp_path), "acls", "plan")
    assert code == 4
    assert "CLUSTER_AUTHORIZATION_FAILED" in err.splitlines()[0]
    assert USERS["auth-service"] not in err
