"""Which SASL users a secured local stack creates for topics.yaml, without a broker.

The ACLs `acls sync` creates name each service's principal (`services:`); the SCRAM users
`up --security` creates must be exactly those principals' names, or no ACL ever applies to
the user a service logs in as. The real broker is in tests/test_security_acls_kafka.py.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.runtime.base import (
    StackStatus,
)
from dreamscape_infra.runtime.security import (
    SecurityConfig,
    ensure_passwords,
    sasl_user_of,
    service_users,
)
from dreamscape_infra.topics.desired import load_desired
from tests.addresses import closed_port
from tests.fake_runtime import FakeRuntime
from tests.topics_files import write_topics

runner = CliRunner()

TOPICS = """\
version: 1
domains:
  user: {owner: user-service}
  auth: {owner: auth-service}
  payment: {owner: payment-service}
topics:
  - name: dreamscape.user.created
  - name: dreamscape.auth.login
  - name: dreamscape.payment.completed
consumer_groups:
  - name: dreamscape-search-service-group
    service: search-service
    topics: [dreamscape.user.created]
services:
  auth-service:
    produces: ['dreamscape.auth.*']
  payment-service:
    principal: User:payments
    produces: [dreamscape.payment.completed]
  audit-service:
    principal: User:auditor
    consumes: ['dreamscape.*']
  reporter:
    principal: User:CN=reporter,O=dreamscape
    consumes: [dreamscape.payment.completed]
  legacy-service:
    principal: User:legacy
    retired: true
"""


def test_sasl_user_of_a_principal() -> None:
    assert sasl_user_of("User:auth-service") == "auth-service"
    assert sasl_user_of("User:CN=reporter,O=dreamscape") is None  # a TLS subject
    assert sasl_user_of("Group:ops") is None
    assert sasl_user_of("auth-service") is None


def test_service_users_are_the_principals_names(tmp_path: Path) -> None:
    users = service_users(load_desired(write_topics(tmp_path, TOPICS)))
    assert users == (
        "auditor",  # declared only in services:, under its own principal
        "auth-service",
        "payments",  # payment-service's principal, not its (domain owner) name
        "search-service",  # a consumer group's service that services: does not declare
        "user-service",  # a domain owner that services: does not declare
    )
    # and each is a name the local runtime accepts as a SASL user
    assert SecurityConfig.for_state("sasl_scram", tmp_path, users).users == users


def test_an_admin_principal_is_not_a_second_admin(tmp_path: Path) -> None:
    path = write_topics(
        tmp_path,
        "version: 1\ndomains:\n  user: {owner: user-service}\n"
        "topics:\n  - name: dreamscape.user.created\n"
        "services:\n  ops:\n    principal: User:admin\n    produces: [dreamscape.user.created]\n",
    )
    assert service_users(load_desired(path)) == ("user-service",)


def test_up_with_security_asks_for_the_principals_users(tmp_path: Path) -> None:
    runtime = FakeRuntime(current=StackStatus("local", (), f"127.0.0.1:{closed_port()}"))

    def up(*extra: str) -> None:
        obj = AppState(environ={}, runtime_factory=lambda name: runtime)
        args = ["--topics-file", str(write_topics(tmp_path, TOPICS)), "up", "--runtime", "local"]
        result = runner.invoke(app, [*args, *extra, "--no-wait"], obj=obj)
        assert result.exit_code == 0, result.stderr

    up("--security", "sasl_scram", "--acls")
    assert runtime.ups[0].acls
    assert runtime.ups[0].service_users == (
        "auditor",
        "auth-service",
        "payments",
        "search-service",
        "user-service",
    )
    # without --security, a plain `up` reads nothing more than before
    up()
    assert runtime.ups[1].service_users == ()


def test_config_export_of_an_unknown_user_names_the_users(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "cluster.json").write_text(
        '{"mode": "zookeeper", "brokers": 1, "version": "3.9.1", "zk_port": 2181,'
        ' "kafka_port": 19092, "controller_port": 19093, "acls": true,'
        ' "security": "sasl_scram"}\n',
        encoding="utf-8",
    )
    ensure_passwords(SecurityConfig.for_state("sasl_scram", state, ["payments"]))
    obj = AppState(environ={"DREAMSCAPE_STATE_DIR": str(state)})
    result = runner.invoke(app, ["config", "--export", "--user", "payment-service"], obj=obj)
    assert result.exit_code == 4
    assert "has no SASL user 'payment-service'" in result.stderr
    assert "its users: admin, payments" in result.stderr
