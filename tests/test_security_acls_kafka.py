"""Issue 12's combined recipe on real brokers, through the CLI, on Kafka 3.9 (ZooKeeper,
AclAuthorizer) and 4.x (KRaft, StandardAuthorizer):

    dreamscape-infra up --runtime local --security sasl_scram --acls [--kraft]
    eval "$(dreamscape-infra config --export)"      # the admin, a super user
    dreamscape-infra acls sync
    eval "$(dreamscape-infra config --export --user auth-service)"

auth-service then reads what user-service wrote to dreamscape.user.created and is denied
dreamscape.payment.completed (TOPIC_AUTHORIZATION_FAILED). A service whose principal is not its
name (payment-service as User:payments) logs in under its principal's name, which its ACLs
name. KRaft's controller listener takes SASL too, so the admin is the only super user. One
stack per Kafka line (module scope); no password appears in any CLI output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.runtime.base import no_progress
from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime
from dreamscape_infra.settings import ConnectionSettings, load_settings
from tests.kafka_support import START_TIMEOUT_S, free_ports, require_local_kafka, skip_or_fail
from tests.topics_files import write_topics

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

TOPICS = """\
version: 1
domains:
  user: {owner: user-service}
  auth: {owner: auth-service}
  payment: {owner: payment-service}
topics:
  - name: dreamscape.user.created
    partitions: 1
  - name: dreamscape.auth.login
    partitions: 1
  - name: dreamscape.payment.completed
    partitions: 1
consumer_groups:
  - name: dreamscape-auth-service-group
    service: auth-service
    topics: [dreamscape.user.created]
services:
  auth-service:
    principal: User:auth-service
    produces: ['dreamscape.auth.*']
  user-service:
    produces: ['dreamscape.user.*']
  payment-service:
    principal: User:payments
    produces: [dreamscape.payment.completed]
"""
# auth: 2 produce + 2 consume + 1 group; user: 2; payments: 2
ACL_COUNT = 9


@dataclass
class SecuredAclStack:
    """A `up --security sasl_scram --acls` stack and the environment its CLI runs with."""

    mode: str
    env: dict[str, str]  # DREAMSCAPE_* (state folder, ports); no KAFKA_* variables
    topics: Path
    state_dir: Path
    outputs: list[str] = field(default_factory=list)  # every CLI output so far

    def passwords(self) -> dict[str, str]:
        folder = self.state_dir / "security" / "passwords"
        return {p.name: p.read_text().strip() for p in folder.iterdir() if p.is_file()}

    def cli(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        """The CLI in-process; its output is checked for passwords before it is returned."""
        state = AppState(environ=self.env | (env or {}), interactive=False)
        result = runner.invoke(app, ["--topics-file", str(self.topics), *args], obj=state)
        self.check_no_password(result.stdout + result.stderr, args)
        return result.exit_code, result.stdout, result.stderr

    def shell(self, script: str) -> subprocess.CompletedProcess[str]:
        """`script` in bash, with `dreamscape-infra` the CLI of this checkout."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
        cli = f"{sys.executable} -m dreamscape_infra --topics-file {self.topics}"
        result = subprocess.run(
            ["bash", "-c", f'set -e\ndreamscape-infra() {{ {cli} "$@"; }}\n{script}'],
            env=base | self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        self.check_no_password(result.stdout + result.stderr, (script,))
        return result

    def check_no_password(self, text: str, what: tuple[str, ...]) -> None:
        self.outputs.append(text)
        for user, password in self.passwords().items():
            assert password not in text, f"{user}'s password in the output of {what}"

    def settings_of(self, user: str) -> ConnectionSettings:
        """What `config --export --user USER` gives a client, with the password it reads."""
        code, out, err = self.cli("config", "--export", "--user", user, "-o", "json")
        assert code == 0, err
        exported = json.loads(out)
        password = Path(exported["password_file"]).read_text().strip()
        return load_settings(exported["variables"] | {"KAFKA_SASL_PASSWORD": password})


@pytest.fixture(scope="module", params=["zookeeper", "kraft"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SecuredAclStack]:
    kraft = request.param == "kraft"
    if os.environ.get("DREAMSCAPE_TEST_BROKERS"):
        skip_or_fail("DREAMSCAPE_TEST_BROKERS points at an external cluster: this starts its own")
    require_local_kafka(kraft)
    folder = tmp_path_factory.mktemp(f"scram-acls-{request.param}")
    topics = write_topics(folder, TOPICS)
    zk, kafka, controller = free_ports(3)
    env = {
        "DREAMSCAPE_STATE_DIR": str(folder / "state"),
        "DREAMSCAPE_ZK_PORT": str(zk),
        "DREAMSCAPE_KAFKA_PORT": str(kafka),
        "DREAMSCAPE_CONTROLLER_PORT": str(controller),
        "DREAMSCAPE_KAFKA_HEAP": "384m",
    }
    # the runtime finds Java and the jars through PATH, JAVA_HOME, HOME...; never KAFKA_*
    full = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")} | env
    stack = SecuredAclStack(request.param, full, topics, folder / "state")
    try:
        up = ["up", "--runtime", "local", "--security", "sasl_scram", "--acls"]
        up += ["--timeout", str(START_TIMEOUT_S), *(["--kraft"] if kraft else [])]
        code, out, err = stack.cli(*up)
        if code != 0:
            pytest.fail(f"up failed (exit {code}):\n{out}\n{err}", pytrace=False)
        assert "KAFKA_SASL_USERNAME=admin" in out
        yield stack
    finally:
        runtime = LocalRuntime(LocalConfig.from_env(full), env=full)
        runtime.down(remove_data=True, progress=no_progress)


def test_up_creates_a_user_per_principal(stack: SecuredAclStack) -> None:
    assert set(stack.passwords()) == {"admin", "auth-service", "payments", "user-service"}
    props = (stack.state_dir / "kafka" / "server.properties").read_text()
    # no listener is PLAINTEXT, not even KRaft's controller listener (SASL/PLAIN as the admin),
    # so User:ANONYMOUS is no super user and the admin is the only one: the stack running at
    # all shows that the node authenticates to its own controller
    assert "super.users=User:admin\n" in props
    assert ":PLAINTEXT" not in props
    if stack.mode == "kraft":
        assert "CONTROLLER:SASL_PLAINTEXT" in props


def test_acls_sync_as_the_admin_then_in_sync(stack: SecuredAclStack) -> None:
    # the recipe of docs/acls.md, word for word: the admin's environment from `config --export`
    synced = stack.shell('eval "$(dreamscape-infra config --export)"\ndreamscape-infra acls sync')
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert f"{ACL_COUNT} ACL change(s) applied" in synced.stdout
    admin = stack.settings_of("admin")
    code, out, err = stack.cli("acls", "plan", "--detailed-exitcode", env=_env(admin))
    assert code == 0, out + err
    assert f"In sync: {ACL_COUNT} of {ACL_COUNT}" in out
    code, out, err = stack.cli("topics", "plan", "--detailed-exitcode", env=_env(admin))
    assert code == 0, out + err


def _env(settings: ConnectionSettings) -> dict[str, str]:
    """KAFKA_* variables for the in-process CLI (the password in the environment, as a user
    who ran `eval "$(config --export)"` has it)."""
    assert settings.sasl_username is not None
    assert settings.sasl_password is not None
    return {
        "KAFKA_BROKERS": settings.bootstrap_servers,
        "KAFKA_SASL_MECHANISM": settings.sasl_mechanism,
        "KAFKA_SASL_USERNAME": settings.sasl_username,
        "KAFKA_SASL_PASSWORD": settings.sasl_password.reveal(),
    }


def _produce(settings: ConnectionSettings, topic: str, value: bytes) -> Any:
    """Produce one message with the idempotent producer; the delivery error (None: written)."""
    from confluent_kafka import Producer

    producer = Producer(settings.client_config() | {"enable.idempotence": True})
    delivered: list[Any] = []
    deadline = time.monotonic() + 60
    producer.produce(topic, value, key=b"u-1", on_delivery=lambda e, m: delivered.append(e))
    while not delivered and time.monotonic() < deadline:
        producer.poll(0.5)
    producer.flush(10)
    assert delivered, f"no delivery report for {topic} within 60 s"
    return delivered[0]


def _consume_one(settings: ConnectionSettings, topic: str) -> Any:
    """Subscribe as dreamscape-auth-service-group and return the first message or error."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        settings.client_config()
        | {"group.id": "dreamscape-auth-service-group", "auto.offset.reset": "earliest"}
    )
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error() is None:
                consumer.commit(asynchronous=False)  # READ on its group
            return msg
        return None
    finally:
        consumer.close()


def test_auth_service_reads_user_created_and_is_denied_payments(stack: SecuredAclStack) -> None:
    from confluent_kafka import KafkaError

    code, out, err = stack.cli("acls", "sync", env=_env(stack.settings_of("admin")))
    assert code == 0, out + err  # in sync already when the test above ran: a no-op
    time.sleep(1)  # ACL changes reach the brokers' caches asynchronously

    marker = uuid.uuid4().hex.encode()
    # user-service writes with nothing but WRITE and DESCRIBE on its topics
    assert _produce(stack.settings_of("user-service"), "dreamscape.user.created", marker) is None

    auth = stack.settings_of("auth-service")
    assert auth.sasl_username == "auth-service"
    assert auth.sasl_mechanism.startswith("scram-sha-")
    msg = _consume_one(auth, "dreamscape.user.created")
    assert msg is not None, "auth-service read nothing from dreamscape.user.created in 60 s"
    assert msg.error() is None, msg.error()
    assert msg.value() == marker

    denied = _consume_one(auth, "dreamscape.payment.completed")
    assert denied is not None, "auth-service got neither a message nor an error in 60 s"
    assert denied.error() is not None, "auth-service read a payment"
    assert denied.error().code() == KafkaError.TOPIC_AUTHORIZATION_FAILED

    error = _produce(auth, "dreamscape.payment.completed", b"x")
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_a_principal_other_than_the_service_name_logs_in_as_itself(
    stack: SecuredAclStack,
) -> None:
    from confluent_kafka import KafkaError

    code, out, err = stack.cli("acls", "sync", env=_env(stack.settings_of("admin")))
    assert code == 0, out + err
    payments = stack.settings_of("payments")  # payment-service's principal: User:payments
    assert _produce(payments, "dreamscape.payment.completed", b"paid") is None
    error = _produce(payments, "dreamscape.user.created", b"x")
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    code, _, err = stack.cli("config", "--export", "--user", "payment-service")
    assert code == 4
    assert "its users: admin, auth-service, payments, user-service" in err


def test_a_service_may_not_read_or_change_acls(stack: SecuredAclStack) -> None:
    code, _, err = stack.cli("acls", "plan", env=_env(stack.settings_of("auth-service")))
    assert code == 4
    assert "CLUSTER_AUTHORIZATION_FAILED" in err.splitlines()[0]
