"""Security without a broker: certificates, passwords, broker properties, the client
environment, `config --export`, the TLS client settings and the classification of librdkafka's
failure texts. The real listeners are in tests/test_security_kafka.py."""

from __future__ import annotations

import json
import stat
from dataclasses import asdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import ConfigError
from dreamscape_infra.kafka.failures import ClientSecurity, classify
from dreamscape_infra.runtime.local import Layout, server_properties, services_of
from dreamscape_infra.runtime.security import (
    ADMIN_PRINCIPAL,
    ADMIN_USER,
    Listener,
    SecurityConfig,
    admin_settings,
    broker_properties,
    client_environment,
    ensure_certificates,
    ensure_passwords,
    read_password,
    redact,
)
from dreamscape_infra.settings import load_settings
from tests.fake_runtime import FakeRuntime

runner = CliRunner()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_admin_principal_is_user_admin() -> None:
    assert ADMIN_PRINCIPAL == "User:admin"
    assert ADMIN_USER == "admin"


def test_unknown_mode_and_bad_user_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--security: unknown mode 'tls'"):
        SecurityConfig.for_state("tls", tmp_path)
    with pytest.raises(ConfigError, match="service user 'a b'"):
        SecurityConfig.for_state("sasl_scram", tmp_path, ["a b"])


def test_passwords_are_random_private_and_kept(tmp_path: Path) -> None:
    security = SecurityConfig.for_state("sasl_scram", tmp_path, ["auth-service", "admin"])
    assert security.all_users == ("admin", "auth-service")
    assert ensure_passwords(security) == ["admin", "auth-service"]
    first = {u: read_password(security, u).reveal() for u in security.all_users}
    assert len(set(first.values())) == 2
    assert all(len(p) >= 24 for p in first.values())
    for user in security.all_users:
        assert mode_of(security.password_file(user)) == 0o600
    assert mode_of(security.password_file("admin").parent) == 0o700
    assert ensure_passwords(security) == []  # kept: clients configured earlier keep working
    assert {u: read_password(security, u).reveal() for u in security.all_users} == first
    assert "***" in repr(read_password(security, "admin"))


def test_no_passwords_without_sasl(tmp_path: Path) -> None:
    assert ensure_passwords(SecurityConfig.for_state("ssl", tmp_path, ["x"])) == []
    assert not (tmp_path / "security" / "passwords").exists()


def test_certificates_ca_and_broker_with_sans(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    security = SecurityConfig.for_state(
        "sasl_ssl",
        tmp_path,
        extra_listeners=[Listener("BADHOST", "SSL", 1, sans=("wrong.example",))],
    )
    written = ensure_certificates(security)
    badhost = security.keystore_file(security.extra_listeners[0])
    assert set(written) == {
        security.ca_file,
        security.ca_key_file,
        security.keystore_file(),
        badhost,
    }
    assert mode_of(security.ca_key_file) == 0o600
    assert mode_of(security.keystore_file()) == 0o600
    assert mode_of(badhost) == 0o600
    assert mode_of(security.folder) == 0o700
    ca = x509.load_pem_x509_certificate(security.ca_file.read_bytes())
    store = security.keystore_file().read_bytes()
    assert store.startswith(b"-----BEGIN PRIVATE KEY-----")  # unencrypted PKCS#8 + chain
    cert = x509.load_pem_x509_certificate(store[store.index(b"-----BEGIN CERTIFICATE") :])
    cert.verify_directly_issued_by(ca)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    other = x509.load_pem_x509_certificate(
        badhost.read_bytes()[badhost.read_bytes().index(b"-----BEGIN CERTIFICATE") :]
    )
    other_sans = other.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert other_sans.get_values_for_type(x509.DNSName) == ["wrong.example"]
    assert ensure_certificates(security) == []  # issued once per state folder


def test_no_certificates_without_tls(tmp_path: Path) -> None:
    assert ensure_certificates(SecurityConfig.for_state("sasl_scram", tmp_path)) == []


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def test_sasl_ssl_broker_properties(tmp_path: Path) -> None:
    security = SecurityConfig.for_state("sasl_ssl", tmp_path, ["auth-service"])
    ensure_passwords(security)
    values = {k: str(v) for k, v in broker_properties(security, "127.0.0.1", 9092).items()}
    assert values["listeners"] == "SASL_SSL://127.0.0.1:9092"
    assert values["inter.broker.listener.name"] == "SASL_SSL"
    assert values["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    assert values["listener.name.sasl_ssl.sasl.enabled.mechanisms"] == (
        "SCRAM-SHA-256,SCRAM-SHA-512"
    )
    assert values["listener.name.sasl_ssl.ssl.keystore.type"] == "PEM"
    assert values["listener.name.sasl_ssl.ssl.keystore.location"].endswith("broker.pem")
    assert values["listener.name.sasl_ssl.ssl.truststore.location"].endswith("ca.pem")
    jaas = values["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"]
    assert "ScramLoginModule required" in jaas
    assert read_password(security, "admin").reveal() in jaas  # the broker's own login


def test_sasl_plain_broker_properties_list_every_user(tmp_path: Path) -> None:
    security = SecurityConfig.for_state("sasl_plain", tmp_path, ["auth-service"])
    ensure_passwords(security)
    values = broker_properties(security, "127.0.0.1", 9092)
    jaas = str(values["listener.name.sasl_plaintext.plain.sasl.jaas.config"])
    assert "PlainLoginModule required" in jaas
    secret = read_password(security, "auth-service").reveal()
    assert f'user_auth-service="{secret}"' in jaas
    assert "ssl.keystore.location" not in " ".join(values)


def test_kraft_controller_listener_is_sasl_plain_for_the_admin_alone(tmp_path: Path) -> None:
    layout = Layout("kraft", 1, "4.1.1", 2181, 9192, 9193, cluster_id="x", security="sasl_ssl")
    security = SecurityConfig.for_state("sasl_ssl", tmp_path, ["auth-service"])
    ensure_passwords(security)
    (node,) = services_of(layout, tmp_path)
    props = _props(server_properties(node, layout, security))
    assert props["listeners"] == "SASL_SSL://127.0.0.1:9192,CONTROLLER://127.0.0.1:9193"
    assert props["advertised.listeners"] == "SASL_SSL://127.0.0.1:9192"
    assert props["listener.security.protocol.map"] == "SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT"
    assert props["controller.listener.names"] == "CONTROLLER"
    # PLAIN: KRaft cannot check SCRAM on the listener that serves the SCRAM credentials
    assert props["sasl.mechanism.controller.protocol"] == "PLAIN"
    assert props["listener.name.controller.sasl.enabled.mechanisms"] == "PLAIN"
    jaas = props["listener.name.controller.plain.sasl.jaas.config"]
    admin = read_password(security, ADMIN_USER).reveal()
    assert f'username="admin" password="{admin}" user_admin="{admin}";' in jaas
    assert read_password(security, "auth-service").reveal() not in jaas  # the admin's alone


def test_kraft_controller_listener_stays_plaintext_without_sasl(tmp_path: Path) -> None:
    layout = Layout("kraft", 1, "4.1.1", 2181, 9192, 9193, cluster_id="x", security="ssl")
    security = SecurityConfig.for_state("ssl", tmp_path)
    (node,) = services_of(layout, tmp_path)
    props = _props(server_properties(node, layout, security))
    assert props["listener.security.protocol.map"] == "SSL:SSL,CONTROLLER:PLAINTEXT"
    assert "sasl.mechanism.controller.protocol" not in props


def test_plaintext_properties_unchanged(tmp_path: Path) -> None:
    layout = Layout("zookeeper", 1, "3.9.1", 2181, 9092, 9093)
    _, broker = services_of(layout, tmp_path)
    plain = SecurityConfig.for_state("plaintext", tmp_path)
    assert server_properties(broker, layout, plain) == server_properties(broker, layout)


def test_client_environment_never_holds_the_password(tmp_path: Path) -> None:
    security = SecurityConfig.for_state("sasl_ssl", tmp_path, ["auth-service"])
    ensure_passwords(security)
    env = client_environment(security, "127.0.0.1:9092", "auth-service")
    assert dict(env.variables) == {
        "KAFKA_BROKERS": "127.0.0.1:9092",
        "KAFKA_SSL": "true",
        "KAFKA_SSL_CA_LOCATION": str(security.ca_file),
        "KAFKA_SASL_MECHANISM": "scram-sha-512",
        "KAFKA_SASL_USERNAME": "auth-service",
    }
    assert env.password_file == security.password_file("auth-service")
    lines = env.shell_lines()
    assert lines[-1] == f'export KAFKA_SASL_PASSWORD="$(cat {env.password_file})"'
    for user in security.all_users:
        assert read_password(security, user).reveal() not in "\n".join(lines)
    settings = admin_settings(security, "127.0.0.1:9092")
    assert settings.security_protocol == "SASL_SSL"
    assert settings.sasl_username == "admin"
    assert settings.client_config()["sasl.mechanism"] == "SCRAM-SHA-512"


def test_redact_replaces_every_stored_password(tmp_path: Path) -> None:
    security = SecurityConfig.for_state("sasl_scram", tmp_path, ["svc"])
    ensure_passwords(security)
    secret = read_password(security, "svc").reveal()
    assert redact([f"Invalid credential property SCRAM=password={secret}"], security) == [
        "Invalid credential property SCRAM=password=***"
    ]


def _stack(tmp_path: Path, mode: str = "sasl_ssl") -> Path:
    state = tmp_path / "state"
    state.mkdir()
    layout = Layout("zookeeper", 1, "3.9.1", 17181, 17092, 17099, security=mode)
    (state / "cluster.json").write_text(json.dumps(asdict(layout)))
    security = SecurityConfig.for_state(mode, state, ["auth-service"])
    ensure_passwords(security)
    return state


def test_config_export_prints_shell_lines_without_the_password(tmp_path: Path) -> None:
    state = _stack(tmp_path)
    obj = AppState(environ={"DREAMSCAPE_STATE_DIR": str(state)})
    result = runner.invoke(app, ["config", "--export", "--user", "auth-service"], obj=obj)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "export KAFKA_BROKERS=127.0.0.1:17092",
        "export KAFKA_SSL=true",
        f"export KAFKA_SSL_CA_LOCATION={state / 'security' / 'ca.pem'}",
        "export KAFKA_SASL_MECHANISM=scram-sha-512",
        "export KAFKA_SASL_USERNAME=auth-service",
        f'export KAFKA_SASL_PASSWORD="$(cat {state / "security" / "passwords" / "auth-service"})"',
    ]
    for path in (state / "security" / "passwords").iterdir():
        assert path.read_text() not in result.stdout + result.stderr
    as_json = runner.invoke(app, ["config", "--export", "-o", "json"], obj=obj)
    assert json.loads(as_json.stdout)["variables"]["KAFKA_SASL_USERNAME"] == "admin"


def test_config_export_unknown_user_or_no_stack_exit_4(tmp_path: Path) -> None:
    state = _stack(tmp_path)
    obj = AppState(environ={"DREAMSCAPE_STATE_DIR": str(state)})
    result = runner.invoke(app, ["config", "--export", "--user", "nobody"], obj=obj)
    assert result.exit_code == 4
    assert "has no SASL user 'nobody'" in result.stderr
    empty = AppState(environ={"DREAMSCAPE_STATE_DIR": str(tmp_path / "none")})
    result = runner.invoke(app, ["config", "--export"], obj=empty)
    assert result.exit_code == 4
    assert "no local stack was started from" in result.stderr


def test_up_refuses_an_unknown_security_mode() -> None:
    runtime = FakeRuntime()
    obj = AppState(environ={}, runtime_factory=lambda name: runtime)
    result = runner.invoke(app, ["up", "--runtime", "local", "--security", "tls"], obj=obj)
    assert result.exit_code == 2
    assert "--security" in result.stderr
    result = runner.invoke(app, ["up", "--runtime", "docker", "--security", "ssl"], obj=obj)
    assert result.exit_code == 2
    assert "only the local runtime" in result.stderr
    assert runtime.calls == [], "the runtime was never used"


# ---- client settings ---------------------------------------------------------------------


def _pem(tmp_path: Path, name: str, kind: str) -> str:
    path = tmp_path / name
    path.write_text(f"-----BEGIN {kind}-----\nMIIB\n-----END {kind}-----\n")
    return str(path)


def test_mutual_tls_and_hostname_verification(tmp_path: Path) -> None:
    env = {
        "KAFKA_SSL": "true",
        "KAFKA_SSL_CA_LOCATION": _pem(tmp_path, "ca.pem", "CERTIFICATE"),
        "KAFKA_SSL_CERT_LOCATION": _pem(tmp_path, "client.pem", "CERTIFICATE"),
        "KAFKA_SSL_KEY_LOCATION": _pem(tmp_path, "client.key", "PRIVATE KEY"),
        "KAFKA_SSL_KEY_PASSWORD": "key-Pa55-xyz",
    }
    settings = load_settings(env)
    config = settings.client_config()
    assert config["ssl.certificate.location"] == env["KAFKA_SSL_CERT_LOCATION"]
    assert config["ssl.key.location"] == env["KAFKA_SSL_KEY_LOCATION"]
    assert config["ssl.key.password"] == "key-Pa55-xyz"
    assert config["ssl.endpoint.identification.algorithm"] == "https"
    view = settings.redacted()
    assert view["ssl_key_password"] == "***"
    assert view["ssl_verify_hostname"] is True
    assert "key-Pa55-xyz" not in json.dumps(view) + repr(settings)
    off = load_settings(env | {"KAFKA_SSL_VERIFY_HOSTNAME": "false"}).client_config()
    assert off["ssl.endpoint.identification.algorithm"] == "none"
    result = runner.invoke(app, ["config"], obj=AppState(environ=env))
    assert result.exit_code == 0
    assert "ssl_key_password" in result.stdout
    assert "key-Pa55-xyz" not in result.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"KAFKA_SSL_CA_LOCATION": "/nonexistent/ca.pem"}, "KAFKA_SSL_CA_LOCATION: '/nonexistent"),
        ({"KAFKA_SSL_CA_LOCATION": "."}, "KAFKA_SSL_CA_LOCATION: '.' does not exist or is not"),
        ({"KAFKA_SSL_CA_LOCATION": "PLAIN"}, "KAFKA_SSL_CA_LOCATION: "),
        ({"KAFKA_SSL_CERT_LOCATION": "CERT"}, "KAFKA_SSL_KEY_LOCATION is not"),
        ({"KAFKA_SSL_VERIFY_HOSTNAME": "maybe"}, "KAFKA_SSL_VERIFY_HOSTNAME: 'maybe'"),
        ({"KAFKA_SSL_KEY_PASSWORD": "x"}, "KAFKA_SSL_KEY_PASSWORD is set but"),
    ],
)
def test_bad_tls_files_exit_3_naming_the_variable(
    tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("not a certificate\n")
    cert = _pem(tmp_path, "c.pem", "CERTIFICATE")
    env = {"KAFKA_SSL": "true"} | {
        k: str(plain) if v == "PLAIN" else cert if v == "CERT" else v for k, v in extra.items()
    }
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert any(message in problem for problem in info.value.problems), info.value.problems
    result = runner.invoke(app, ["config"], obj=AppState(environ=env))
    assert result.exit_code == 3
    assert "Traceback" not in result.stderr


# ---- librdkafka's failure texts ----------------------------------------------------------

CLIENT = ClientSecurity("127.0.0.1:9092", True, None, True, "alice", "SCRAM-SHA-256")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "sasl_ssl://127.0.0.1:36413/bootstrap: SASL authentication error: Authentication "
            "failed during authentication due to invalid credentials with SASL mechanism "
            "SCRAM-SHA-256 (after 317ms in state AUTH_REQ)",
            "Kafka at 127.0.0.1:36413 refused the credentials of SASL user 'alice' "
            "(SCRAM-SHA-256): wrong username or password",
        ),
        (
            "sasl_plaintext://127.0.0.1:5/bootstrap: SASL authentication error: Authentication "
            "failed: Invalid username or password (after 301ms in state AUTH_REQ)",
            "Kafka at 127.0.0.1:5 refused the credentials of SASL user 'alice' (SCRAM-SHA-256)",
        ),
        (
            "sasl_plaintext://127.0.0.1:7/bootstrap: SASL PLAIN mechanism handshake failed: "
            "Broker: Unsupported SASL mechanism: broker's supported mechanisms: "
            "SCRAM-SHA-512,SCRAM-SHA-256 (after 302ms in state AUTH_HANDSHAKE)",
            "Kafka at 127.0.0.1:7 does not accept SASL mechanism SCRAM-SHA-256 "
            "(it offers SCRAM-SHA-512, SCRAM-SHA-256)",
        ),
        (
            "sasl_plaintext://127.0.0.1:8/bootstrap: SASL PLAIN mechanism handshake failed: "
            "Broker: Request not valid in current SASL state: broker's supported mechanisms:  "
            "(after 0ms in state AUTH_HANDSHAKE)",
            "Kafka at 127.0.0.1:8 is not a SASL listener",
        ),
        (
            "ssl://127.0.0.1:9/bootstrap: SSL handshake failed: Disconnected: SSL connection "
            "closed by peer: connecting to a PLAINTEXT broker listener? (after 1ms in state "
            "SSL_HANDSHAKE)",
            "Kafka at 127.0.0.1:9 does not speak TLS on this port",
        ),
    ],
)
def test_classify_names_the_cause(text: str, expected: str) -> None:
    failure = classify("_AUTHENTICATION", text, CLIENT)
    assert failure is not None
    assert failure.message.startswith(expected)
    assert failure.exit_code == 4


def test_a_handshake_closed_by_a_plaintext_port_is_probed() -> None:
    import socket

    with socket.socket() as server:  # a port that accepts and never speaks TLS
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        port = server.getsockname()[1]
        text = (
            f"ssl://127.0.0.1:{port}/bootstrap: Disconnected: SSL connection closed by peer "
            "(after 0ms in state SSL_HANDSHAKE)"
        )
        failure = classify("_TRANSPORT", text, CLIENT)
    assert failure is not None
    assert "does not speak TLS on this port" in failure.message


def test_classify_ignores_other_errors() -> None:
    assert classify("_TRANSPORT", "127.0.0.1:9092/bootstrap: Connection refused", CLIENT) is None
