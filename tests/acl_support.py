"""A SASL/PLAIN broker with an ACL authorizer, for the tests that need ACLs to be enforced.

Test-only: the local runtime's `--acls` runs an authorizer on a PLAINTEXT listener, where every
client is User:ANONYMOUS (a super user), so nothing is denied there. Here the only client
listener is SASL_PLAINTEXT with PLAIN users (`admin`, a super user, plus the ones asked for),
so each client is its own principal. ZooKeeper mode (3.9, AclAuthorizer) registers in an
existing ZooKeeper under its own chroot; KRaft (4.x, StandardAuthorizer) is one combined node
whose controller listener stays PLAINTEXT (User:ANONYMOUS is a super user for it).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.kafka.admin import ConfluentAdmin
from dreamscape_infra.runtime.dist import find_java, find_kafka
from dreamscape_infra.runtime.local import (
    KRAFT_AUTHORIZER,
    LOG4J2_PROPERTIES,
    LOG4J_PROPERTIES,
    ZK_AUTHORIZER,
    new_cluster_id,
)
from dreamscape_infra.settings import ConnectionSettings, Secret
from tests.kafka_support import free_ports, require_local_kafka

ADMIN_PASSWORD = "admin-Pa55-acl"


@dataclass(frozen=True)
class SaslBroker:
    """A running SASL/PLAIN broker: `settings(user)` connects as that user."""

    bootstrap: str
    passwords: Mapping[str, str]
    mode: str

    def settings(self, user: str) -> ConnectionSettings:
        return ConnectionSettings(
            brokers=(self.bootstrap,),
            sasl_username=user,
            sasl_password=Secret(self.passwords[user]),
            sasl_mechanism="plain",
        )

    def env(self, user: str) -> dict[str, str]:
        """KAFKA_* variables for the CLI."""
        return {
            "KAFKA_BROKERS": self.bootstrap,
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD": self.passwords[user],
            "KAFKA_SASL_MECHANISM": "plain",
        }


def _jaas(passwords: Mapping[str, str]) -> str:
    users = " ".join(f'user_{name}="{pw}"' for name, pw in passwords.items())
    return (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="admin" password="{passwords["admin"]}" {users};'
    )


@contextmanager
def sasl_acl_broker(
    state: Path, users: Mapping[str, str], *, kraft: bool, zk_connect: str | None = None
) -> Iterator[SaslBroker]:
    """Start the broker in `state`, wait until `admin` can describe the cluster, stop it after."""
    require_local_kafka(kraft)
    java = find_java(os.environ)
    dist = find_kafka("kraft" if kraft else "zookeeper", os.environ)
    passwords = {"admin": ADMIN_PASSWORD, **users}
    sasl_port, controller_port = free_ports(2)
    listener = f"SASL_PLAINTEXT://127.0.0.1:{sasl_port}"
    props: dict[str, object] = {
        "advertised.listeners": listener,
        "inter.broker.listener.name": "SASL_PLAINTEXT",
        "sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": _jaas(passwords),
        "log.dirs": state / "data",
        "allow.everyone.if.no.acl.found": "false",
        "offsets.topic.replication.factor": 1,
        "offsets.topic.num.partitions": 1,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 1,
        "group.initial.rebalance.delay.ms": 0,
        "log.cleaner.dedupe.buffer.size": 2097152,
    }
    if kraft:
        props.update(
            {
                "process.roles": "broker,controller",
                "node.id": 1,
                "listeners": f"{listener},CONTROLLER://127.0.0.1:{controller_port}",
                "controller.listener.names": "CONTROLLER",
                "listener.security.protocol.map": (
                    "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT"
                ),
                "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
                "authorizer.class.name": KRAFT_AUTHORIZER,
                "super.users": "User:admin;User:ANONYMOUS",
                "share.coordinator.state.topic.replication.factor": 1,
                "share.coordinator.state.topic.min.isr": 1,
            }
        )
    else:
        assert zk_connect is not None, "ZooKeeper mode needs a ZooKeeper"
        props.update(
            {
                "broker.id": 0,
                "listeners": listener,
                "zookeeper.connect": f"{zk_connect}/acl-test-{sasl_port}",
                "authorizer.class.name": ZK_AUTHORIZER,
                "super.users": "User:admin",
            }
        )
    state.mkdir(parents=True, exist_ok=True)
    config = state / "server.properties"
    config.write_text("".join(f"{k}={v}\n" for k, v in props.items()), encoding="utf-8")
    (state / "log4j.properties").write_text(LOG4J_PROPERTIES, encoding="utf-8")
    (state / "log4j2.properties").write_text(LOG4J2_PROPERTIES, encoding="utf-8")
    jvm = [
        java,
        "-Xmx384m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        f"-Dlog4j.configuration={(state / 'log4j.properties').as_uri()}",
        f"-Dlog4j2.configurationFile={(state / 'log4j2.properties').as_uri()}",
        "-cp",
        dist.classpath,
    ]
    log_path = state / "broker.log"
    if kraft:
        fmt = subprocess.run(
            [*jvm, "kafka.tools.StorageTool", "format", "-t", new_cluster_id(), "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if fmt.returncode != 0:
            raise EnvironmentFailure(f"formatting failed: {fmt.stdout[-2000:]}{fmt.stderr[-2000:]}")
    with log_path.open("wb") as log:
        process = subprocess.Popen([*jvm, "kafka.Kafka", str(config)], stdout=log, stderr=log)
    broker = SaslBroker(f"127.0.0.1:{sasl_port}", passwords, "kraft" if kraft else "zookeeper")
    try:
        deadline = time.monotonic() + 150
        while True:
            try:
                admin = ConfluentAdmin(broker.settings("admin"), timeout_s=3)
                try:
                    admin.describe_cluster()
                finally:
                    admin.close()
                break
            except EnvironmentFailure as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-3000:]
                    raise EnvironmentFailure(
                        f"the SASL/ACL broker did not start: {exc.message}", details=[tail]
                    ) from None
                time.sleep(0.5)
        yield broker
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
