"""A secured broker for the tests: one JVM (plus ZooKeeper in 3.9) exposing every listener kind.

Started through the local runtime with `--security sasl_ssl` and extra listeners, so the code
under test (certificates, SCRAM bootstrap, JAAS) is the code `up` runs. One broker per Kafka
line serves every protocol and mechanism the seed's variables allow:

    SASL_SSL        PLAIN, SCRAM-SHA-256, SCRAM-SHA-512   (the main listener, inter-broker)
    SSL             server certificate for localhost/127.0.0.1
    SASL_PLAINTEXT  PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
    PLAINTEXT       no security (and the port TLS is wrongly spoken to)
    SCRAMONLY       SASL_PLAINTEXT with SCRAM only (the port PLAIN is wrongly offered to)
    BADHOST         SSL whose certificate names only wrong.example (hostname mismatch)
    MTLS            SSL that requires a client certificate (mutual TLS)

Also an unrelated CA (the "untrusted certificate" case) and the users' passwords.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.runtime.base import UpOptions, no_progress
from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime
from dreamscape_infra.runtime.security import (
    SCRAM_MECHANISMS,
    Listener,
    SecurityConfig,
    ensure_certificates,
    issue_client_certificate,
    read_password,
)
from tests.kafka_support import (
    START_TIMEOUT_S,
    format_failure,
    free_ports,
    require_local_kafka,
    skip_or_fail,
)
from tests.topics_files import write_topics

USER = "alice"
ALL_MECHANISMS = ("PLAIN", *SCRAM_MECHANISMS)
EXTRA = ("SSL", "SASL_PLAINTEXT", "PLAINTEXT", "SCRAMONLY", "BADHOST", "MTLS")


def topics_file(folder: Path, prefix: str) -> Path:
    """A small topics.yaml: two topics under `prefix`."""
    lines = [
        "version: 1",
        f"prefix: {prefix}",
        "defaults: {partitions: 2, replication_factor: 1}",
        "domains:",
        "  user: {owner: user-service}",
        "topics:",
        f"  - name: {prefix}user.created",
        f"  - name: {prefix}user.deleted",
        "    config: {retention.ms: 1d}",
        "",
    ]
    return write_topics(folder, "\n".join(lines), f"{prefix.rstrip('.')}.yaml")


@dataclass(frozen=True)
class SecuredCluster:
    """A running broker with one port per listener (`ports["SASL_SSL"]`, ...)."""

    mode: str  # zookeeper or kraft
    ports: dict[str, int]
    ca_file: Path
    untrusted_ca_file: Path
    passwords: dict[str, str]  # user -> password (admin, alice)
    client_cert: tuple[Path, Path]  # certificate and key of CN=alice, from the broker's CA
    runtime: LocalRuntime | None = None  # the runtime that started it (`up` on it is a no-op)

    def mtls_env(self, *, with_cert: bool = True) -> dict[str, str]:
        """A client of the MTLS listener, with (or without) the client certificate."""
        env = self.env("MTLS")
        if with_cert:
            cert, key = self.client_cert
            env |= {"KAFKA_SSL_CERT_LOCATION": str(cert), "KAFKA_SSL_KEY_LOCATION": str(key)}
        return env

    def bootstrap(self, listener: str) -> str:
        return f"127.0.0.1:{self.ports[listener]}"

    def env(
        self,
        listener: str,
        *,
        ssl: bool | None = None,
        mechanism: str | None = None,
        user: str = USER,
        password: str | None = None,
        ca: Path | None = None,
    ) -> dict[str, str]:
        """The KAFKA_* variables of a client of `listener` (its own protocol unless `ssl`
        says otherwise)."""
        tls = ssl if ssl is not None else listener in ("SASL_SSL", "SSL", "BADHOST", "MTLS")
        env = {"KAFKA_BROKERS": self.bootstrap(listener), "KAFKA_SSL": str(tls).lower()}
        if tls:
            env["KAFKA_SSL_CA_LOCATION"] = str(ca or self.ca_file)
        if mechanism is not None:
            env |= {
                "KAFKA_SASL_MECHANISM": mechanism.lower(),
                "KAFKA_SASL_USERNAME": user,
                "KAFKA_SASL_PASSWORD": password if password is not None else self.passwords[user],
            }
        return env


def _runtime(state_dir: Path, ports: list[int]) -> LocalRuntime:
    zk, kafka, controller, *extra = ports
    listeners = (
        Listener("SSL", "SSL", extra[0]),
        Listener("SASL_PLAINTEXT", "SASL_PLAINTEXT", extra[1]),
        Listener("PLAINTEXT", "PLAINTEXT", extra[2]),
        Listener("SCRAMONLY", "SASL_PLAINTEXT", extra[3], mechanisms=SCRAM_MECHANISMS),
        Listener("BADHOST", "SSL", extra[4], sans=("wrong.example",)),
        Listener("MTLS", "SSL", extra[5], client_auth="required"),
    )
    config = LocalConfig(
        state_dir=state_dir,
        zk_port=zk,
        kafka_port=kafka,
        controller_port=controller,
        heap="384m",
    )
    return LocalRuntime(
        config, env=os.environ, extra_listeners=listeners, sasl_mechanisms=ALL_MECHANISMS
    )


@contextmanager
def secured_cluster(state_dir: Path, *, kraft: bool) -> Iterator[SecuredCluster]:
    """Start the secured broker, yield it, then stop it and remove its data."""
    require_local_kafka(kraft)
    ports = free_ports(3 + len(EXTRA))
    runtime = _runtime(state_dir, ports)
    untrusted = SecurityConfig.for_state("ssl", state_dir / "elsewhere")
    ensure_certificates(untrusted)
    try:
        runtime.up(
            UpOptions(
                kraft=kraft, timeout_s=START_TIMEOUT_S, security="sasl_ssl", service_users=(USER,)
            ),
            no_progress,
        )
        security = runtime.security()
        client_cert = issue_client_certificate(security, USER, state_dir / "client")
        yield SecuredCluster(
            mode="kraft" if kraft else "zookeeper",
            ports={"SASL_SSL": ports[1], **dict(zip(EXTRA, ports[3:], strict=True))},
            ca_file=security.ca_file,
            untrusted_ca_file=untrusted.ca_file,
            passwords={u: read_password(security, u).reveal() for u in security.all_users},
            runtime=runtime,
            client_cert=client_cert,
        )
    finally:
        runtime.down(remove_data=True, progress=no_progress)


def _fixture(tmp_path_factory: pytest.TempPathFactory, *, kraft: bool) -> Iterator[Any]:
    if os.environ.get("DREAMSCAPE_TEST_BROKERS"):
        skip_or_fail("DREAMSCAPE_TEST_BROKERS points at an external cluster without TLS/SASL")
    state = tmp_path_factory.mktemp(f"secured-{'kraft' if kraft else 'zk'}-{secrets.token_hex(2)}")
    try:
        with secured_cluster(state, kraft=kraft) as cluster:
            yield cluster
    except EnvironmentFailure as exc:
        pytest.fail(format_failure(exc), pytrace=False)


@pytest.fixture(scope="session")
def secured_zk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A ZooKeeper-mode (Kafka 3.9) broker with every listener kind, for the session."""
    yield from _fixture(tmp_path_factory, kraft=False)


@pytest.fixture(scope="session")
def secured_kraft(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A KRaft (Kafka 4.x) node with every listener kind, for the session."""
    yield from _fixture(tmp_path_factory, kraft=True)
