"""Connection settings from KAFKA_* variables, `dreamscape-infra config`, and the secret.

Bad settings exit 3 naming the variable; the SASL password appears in no output, repr or
error; `--help` imports neither confluent_kafka nor python_on_whales.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import ConfigError, ExitCode
from dreamscape_infra.settings import ConnectionSettings, Secret, load_settings

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def bad(env: dict[str, str], brokers: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(env, brokers_override=brokers)
    assert info.value.exit_code == ExitCode.INVALID_CONFIG
    return info.value.problems


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KAFKA_", "DREAMSCAPE_")) and k != "PYTHONWARNINGS"
    }
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- load_settings -----------------------------------------------------------------------


def test_defaults() -> None:
    settings = load_settings({})
    assert settings == ConnectionSettings()
    assert settings.brokers == ("localhost:9092",)
    assert settings.security_protocol == "PLAINTEXT"
    assert settings.sasl_username is None
    assert settings.sasl_password is None
    assert settings.log_level == "info"
    assert settings.client_config() == {
        "bootstrap.servers": "localhost:9092",
        "security.protocol": "PLAINTEXT",
        "log_level": 6,
        "reconnect.backoff.ms": 20,
    }


@pytest.mark.parametrize(
    ("ssl", "sasl", "protocol"),
    [
        ("false", False, "PLAINTEXT"),
        ("true", False, "SSL"),
        ("false", True, "SASL_PLAINTEXT"),
        ("true", True, "SASL_SSL"),
    ],
)
def test_security_protocol(ssl: str, sasl: bool, protocol: str) -> None:
    env = {"KAFKA_SSL": ssl}
    if sasl:
        env |= {"KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"}
    settings = load_settings(env)
    assert settings.security_protocol == protocol
    config = settings.client_config()
    assert config["security.protocol"] == protocol
    assert ("sasl.username" in config) is sasl


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("plain", "PLAIN"), ("scram-sha-256", "SCRAM-SHA-256"), ("SCRAM-SHA-512", "SCRAM-SHA-512")],
)
def test_sasl_mechanism_upper_cased(raw: str, expected: str) -> None:
    settings = load_settings(
        {"KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p", "KAFKA_SASL_MECHANISM": raw}
    )
    assert settings.client_config()["sasl.mechanism"] == expected
    assert settings.redacted()["sasl_mechanism"] == expected
    assert settings.client_config()["sasl.password"] == "p"


def test_brokers_list_and_override() -> None:
    env = {"KAFKA_BROKERS": " a:1 , b:2 ,"}
    assert load_settings(env).brokers == ("a:1", "b:2")
    assert load_settings(env).bootstrap_servers == "a:1,b:2"
    assert load_settings(env, brokers_override="c:3").brokers == ("c:3",)
    # The override replaces the variable entirely, so a bad variable does not matter.
    assert load_settings({"KAFKA_BROKERS": "bad"}, brokers_override="[::1]:9092").brokers == (
        "[::1]:9092",
    )


def test_ssl_ca_location_only_with_ssl(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    env = {"KAFKA_SSL_CA_LOCATION": str(ca)}
    assert "ssl.ca.location" not in load_settings(env).client_config()
    assert load_settings(env | {"KAFKA_SSL": "yes"}).client_config()["ssl.ca.location"] == (str(ca))


BAD_SETTINGS = [
    pytest.param({"KAFKA_SSL": "maybe"}, "KAFKA_SSL: 'maybe' is not a boolean", id="ssl-maybe"),
    pytest.param(
        {"KAFKA_SASL_MECHANISM": "gssapi"},
        "KAFKA_SASL_MECHANISM: unknown mechanism 'gssapi'",
        id="mechanism",
    ),
    pytest.param(
        {"KAFKA_SASL_USERNAME": "u"},
        "KAFKA_SASL_USERNAME is set but KAFKA_SASL_PASSWORD is not",
        id="username-only",
    ),
    pytest.param(
        {"KAFKA_SASL_PASSWORD": "p"},
        "KAFKA_SASL_PASSWORD is set but KAFKA_SASL_USERNAME is not",
        id="password-only",
    ),
    pytest.param(
        {"KAFKA_BROKERS": " , "}, "KAFKA_BROKERS: the broker list is empty", id="empty-brokers"
    ),
    pytest.param(
        {"KAFKA_BROKERS": "host:notaport"},
        "KAFKA_BROKERS: 'host:notaport' has an invalid port 'notaport'",
        id="port-not-a-number",
    ),
    pytest.param(
        {"KAFKA_BROKERS": "host:0"}, "KAFKA_BROKERS: 'host:0' has an invalid port", id="port-0"
    ),
    pytest.param(
        {"KAFKA_BROKERS": "a:1,host:70000"},
        "KAFKA_BROKERS: 'host:70000' has an invalid port '70000' (expected 1-65535)",
        id="port-70000",
    ),
    pytest.param(
        {"KAFKA_BROKERS": "localhost"},
        "KAFKA_BROKERS: 'localhost' is not host:port",
        id="missing-port",
    ),
    pytest.param(
        {"KAFKA_BROKERS": ":9092"}, "KAFKA_BROKERS: ':9092' is not host:port", id="missing-host"
    ),
    pytest.param(
        {"KAFKA_BROKERS": "ho st:9092"},
        "KAFKA_BROKERS: 'ho st:9092' has an invalid host 'ho st'",
        id="bad-host",
    ),
    pytest.param(
        {"KAFKA_LOG_LEVEL": "chatty"},
        "KAFKA_LOG_LEVEL: unknown level 'chatty'",
        id="log-level",
    ),
]


@pytest.mark.parametrize(("env", "expected"), BAD_SETTINGS)
def test_bad_setting_is_named(env: dict[str, str], expected: str) -> None:
    problems = bad(env)
    assert len(problems) == 1
    assert expected in problems[0]


@pytest.mark.parametrize(("env", "expected"), BAD_SETTINGS)
def test_config_command_bad_setting_exits_3(env: dict[str, str], expected: str) -> None:
    result = runner.invoke(app, ["config"], obj=AppState(environ=env))
    assert result.exit_code == 3
    assert f"error: {expected}" in result.stderr
    assert "hint: fix the environment variable(s) named above" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_brokers_option_names_itself() -> None:
    problems = bad({}, brokers=",")
    assert problems == ["--brokers: the broker list is empty (expected host:port[,host:port...])"]
    result = runner.invoke(app, ["--brokers", "x", "config"], obj=AppState(environ={}))
    assert result.exit_code == 3
    assert "--brokers: 'x' is not host:port" in result.stderr


def test_several_bad_settings_are_all_reported() -> None:
    env = {
        "KAFKA_SSL": "maybe",
        "KAFKA_BROKERS": "h:0",
        "KAFKA_SASL_USERNAME": "u",
        "KAFKA_SASL_MECHANISM": "nope",
        "KAFKA_LOG_LEVEL": "loud",
    }
    problems = bad(env)
    names = ["KAFKA_BROKERS", "KAFKA_SSL", "KAFKA_SASL_USERNAME", "KAFKA_SASL_MECHANISM"]
    names.append("KAFKA_LOG_LEVEL")
    assert len(problems) == len(names)
    for name, problem in zip(names, problems, strict=True):
        assert problem.startswith(name), (name, problem)
    result = runner.invoke(app, ["config"], obj=AppState(environ=env))
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(names)


def test_unicode_digit_port_is_a_config_error() -> None:
    result = runner.invoke(app, ["config"], obj=AppState(environ={"KAFKA_BROKERS": "h:9²"}))
    assert result.exit_code == 3
    assert "KAFKA_BROKERS" in result.stderr


def test_newline_in_host_is_refused() -> None:
    assert "KAFKA_BROKERS" in bad({"KAFKA_BROKERS": "localhost\n:9092"})[0]


# --- the secret ----------------------------------------------------------------------------


def test_secret_never_shows() -> None:
    secret = secrets.token_urlsafe(24)
    settings = load_settings({"KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": secret})
    assert settings.sasl_password == Secret(secret)
    for text in (repr(settings), str(settings), repr(settings.sasl_password)):
        assert secret not in text
    assert str(settings.sasl_password) == "Secret('***')"
    assert secret not in json.dumps(settings.redacted())
    assert settings.redacted()["sasl_password"] == "***"
    assert settings.client_config()["sasl.password"] == secret  # only here


def test_secret_absent_from_bad_settings_errors() -> None:
    secret = secrets.token_urlsafe(24)
    with pytest.raises(ConfigError) as info:
        load_settings({"KAFKA_SASL_PASSWORD": secret, "KAFKA_LOG_LEVEL": "x"})
    assert secret not in "\n".join(info.value.problems) + str(info.value) + repr(info.value)
    assert "KAFKA_SASL_PASSWORD is set" in info.value.problems[0]


def test_config_json_subprocess_hides_the_secret(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(24)
    env = subprocess_env(KAFKA_SASL_USERNAME="u", KAFKA_SASL_PASSWORD=secret)
    proc = run_cli("-m", "dreamscape_infra", "config", "--output", "json", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["sasl_username"] == "u"
    assert doc["sasl_password"] == "***"
    assert doc["security_protocol"] == "SASL_PLAINTEXT"
    assert doc["sasl_mechanism"] == "PLAIN"
    assert secret not in proc.stdout
    assert secret not in proc.stderr


def test_config_table_subprocess_hides_the_secret(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(24)
    env = subprocess_env(KAFKA_SASL_USERNAME="u", KAFKA_SASL_PASSWORD=secret, COLUMNS="200")
    proc = run_cli("-m", "dreamscape_infra", "config", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "sasl_password" in proc.stdout
    assert "***" in proc.stdout
    assert secret not in proc.stdout + proc.stderr


def test_verbose_error_subprocess_hides_the_secret(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(24)
    env = subprocess_env(KAFKA_SASL_USERNAME="u", KAFKA_SASL_PASSWORD=secret, KAFKA_SSL="maybe")
    proc = run_cli(
        "-m", "dreamscape_infra", "--verbose", "config", "-o", "json", env=env, cwd=tmp_path
    )
    assert proc.returncode == 3
    assert "KAFKA_SSL: 'maybe' is not a boolean" in proc.stderr
    assert "Traceback" in proc.stderr  # --verbose did show the traceback ...
    assert secret not in proc.stderr  # ... without the secret
    assert secret not in proc.stdout
    assert proc.stdout == ""


def test_help_imports_no_heavy_modules(tmp_path: Path) -> None:
    proc = run_cli(
        "-X", "importtime", "-m", "dreamscape_infra", "--help", env=subprocess_env(), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "Exit codes:" in proc.stdout
    log = proc.stderr
    assert "dreamscape_infra.cli.root" in log  # the import log is really there
    assert "confluent_kafka" not in log
    assert "python_on_whales" not in log


def test_importtime_check_can_fail(tmp_path: Path) -> None:
    # The same log does name both modules when they are imported.
    code = "import confluent_kafka, python_on_whales"
    proc = run_cli("-X", "importtime", "-c", code, env=subprocess_env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "confluent_kafka" in proc.stderr
    assert "python_on_whales" in proc.stderr


def test_only_short_lived_clients_reconnect_faster() -> None:
    fast = ConnectionSettings()
    assert fast.client_config()["reconnect.backoff.ms"] == 20
    server = ConnectionSettings(short_lived=False)
    assert "reconnect.backoff.ms" not in server.client_config()  # librdkafka's default


def test_plaintext_settings_from_a_bootstrap_string() -> None:
    settings = ConnectionSettings.plaintext(" 127.0.0.1:13092, 127.0.0.1:13093,,")
    assert settings.brokers == ("127.0.0.1:13092", "127.0.0.1:13093")
    assert settings.client_config()["security.protocol"] == "PLAINTEXT"
    assert settings.sasl_username is None
    with pytest.raises(ValueError, match="no broker"):
        ConnectionSettings.plaintext(" , ")
