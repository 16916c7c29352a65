"""`up --acls`: the authorizer settings of the local runtime, and the CLI option reaching it.

That the brokers really start with them and enforce ACLs is tests/test_acls_kafka.py's job.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dreamscape_infra.errors import ConfigError
from dreamscape_infra.runtime.base import UpOptions, no_progress
from dreamscape_infra.runtime.docker import DockerComposeRuntime
from dreamscape_infra.runtime.local import (
    Layout,
    authorizer_properties,
    server_properties,
    services_of,
)
from tests.fake_cluster import FakeCluster
from tests.fake_runtime import FakeRuntime, Harness


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


@pytest.mark.parametrize(
    ("mode", "authorizer"),
    [
        ("zookeeper", "kafka.security.authorizer.AclAuthorizer"),
        ("kraft", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"),
    ],
)
def test_acls_layout_runs_the_authorizer_of_its_mode(
    tmp_path: Path, mode: str, authorizer: str
) -> None:
    layout = Layout(mode, 1, "x", 2181, 9092, 9093, cluster_id="c", acls=True)  # type: ignore[arg-type]
    broker = next(s for s in services_of(layout, tmp_path) if s.is_broker)
    props = _props(server_properties(broker, layout))
    assert props["authorizer.class.name"] == authorizer
    # the plaintext listener's clients (and the brokers themselves) are User:ANONYMOUS
    assert props["super.users"] == "User:admin;User:ANONYMOUS"
    assert props["allow.everyone.if.no.acl.found"] == "false"


def test_no_authorizer_without_acls(tmp_path: Path) -> None:
    layout = Layout("zookeeper", 1, "x", 2181, 9092, 9093)
    broker = services_of(layout, tmp_path)[1]
    assert "authorizer.class.name" not in _props(server_properties(broker, layout))


@pytest.mark.parametrize(
    ("mode", "security", "supers"),
    [
        ("zookeeper", "sasl_scram", "User:admin"),
        ("kraft", "sasl_scram", "User:admin"),  # its controller listener is SASL too
        ("kraft", "sasl_ssl", "User:admin"),
        # SSL without client certificates: clients, and the brokers' own requests, are
        # User:ANONYMOUS (with only User:admin, a 3.9 broker denies its controller's requests)
        ("zookeeper", "ssl", "User:admin;User:ANONYMOUS"),
        ("kraft", "ssl", "User:admin;User:ANONYMOUS"),
    ],
)
def test_super_users_of_a_secured_stack(
    tmp_path: Path, mode: str, security: str, supers: str
) -> None:
    from dreamscape_infra.runtime.security import SecurityConfig, ensure_passwords

    layout = Layout(mode, 1, "x", 2181, 9092, 9093, cluster_id="c", acls=True, security=security)  # type: ignore[arg-type]
    config = SecurityConfig.for_state(security, tmp_path)
    ensure_passwords(config)
    broker = next(s for s in services_of(layout, tmp_path) if s.is_broker)
    assert _props(server_properties(broker, layout, config))["super.users"] == supers


def test_only_the_admin_is_super_user_without_plaintext_listeners() -> None:
    props = authorizer_properties("kraft", plaintext_listeners=False)
    assert props["super.users"] == "User:admin"


def test_layout_files_without_acls_still_read(tmp_path: Path) -> None:
    from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime

    # cluster.json written before --acls existed has no "acls" key
    (tmp_path / "cluster.json").write_text(
        '{"mode": "zookeeper", "brokers": 1, "version": "3.9.1", "zk_port": 1, '
        '"kafka_port": 2, "controller_port": 3}'
    )
    layout = LocalRuntime(LocalConfig(state_dir=tmp_path), env={}).read_layout()
    assert layout is not None
    assert layout.acls is False


def test_cli_up_acls_reaches_the_runtime() -> None:
    harness = Harness(FakeRuntime(), FakeCluster())
    code, _, _ = harness.invoke("up", "-r", "local", "--acls", "--kraft", "--no-sync")
    assert code == 0
    assert harness.runtime.calls[0][1] == UpOptions(kraft=True, acls=True)


def test_docker_runtime_refuses_acls(tmp_path: Path) -> None:
    runtime = DockerComposeRuntime(compose_file=tmp_path / "compose.yaml", env={})
    with pytest.raises(ConfigError, match="--acls applies to --runtime local only"):
        runtime.up(UpOptions(acls=True), no_progress)


def test_which_listeners_are_anonymous(tmp_path: Path) -> None:
    from dreamscape_infra.runtime.security import Listener, SecurityConfig

    def anonymous(mode: str, *extra: Listener) -> bool:
        return SecurityConfig.for_state(mode, tmp_path, extra_listeners=extra).anonymous

    assert anonymous("plaintext")
    assert anonymous("ssl")
    assert not anonymous("sasl_scram")
    assert not anonymous("sasl_ssl")
    assert not anonymous("sasl_ssl", Listener("MTLS", "SSL", 1, client_auth="required"))
    assert anonymous("sasl_ssl", Listener("TLS", "SSL", 1))
    assert anonymous("sasl_scram", Listener("PLAIN", "PLAINTEXT", 1))


@pytest.mark.parametrize(
    ("recorded", "asked", "runs"),
    [
        (True, None, True),  # a restart keeps the authorizer the stack was started with
        (True, False, False),  # --no-acls drops it
        (False, None, False),
        (False, True, True),
        (None, None, False),  # a fresh stack: none unless asked
    ],
)
def test_a_stopped_stack_keeps_its_authorizer_unless_told(
    tmp_path: Path, recorded: bool | None, asked: bool | None, runs: bool
) -> None:
    from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime

    runtime = LocalRuntime(LocalConfig(state_dir=tmp_path), env={})
    layout = Layout("zookeeper", 1, "3.9.1", 2181, 9092, 9093, security="sasl_scram")
    if recorded is not None:  # a stack that was started and stopped (no pid files)
        runtime._write_layout(replace(layout, acls=recorded))
    notes: list[str] = []
    assert runtime._with_authorizer(layout, asked, notes).acls is runs
    assert notes == []
