"""TLS and SASL against real listeners, on Kafka 3.9 (ZooKeeper) and 4.x (KRaft).

One secured broker per Kafka line (tests/security_support.py) exposes every listener kind. Every
protocol and mechanism the seed's variables allow syncs topics; each failure is one line naming
its cause, exit 4, quickly; no password appears in stdout, stderr, a --verbose traceback or the
JSON. Replaces the SASL/PLAIN-only tests/test_auth_kafka.py.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from tests.security_support import (  # noqa: F401  (session fixtures)
    USER,
    SecuredCluster,
    secured_kraft,
    secured_zk,
    topics_file,
)

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
WRONG = "Wr0ng-" + secrets.token_hex(6)
# a failure is reported after the first refused connection; generous for a loaded machine
FAIL_FAST_S = 10.0


@pytest.fixture(params=["zookeeper", "kraft"])
def secured(request: pytest.FixtureRequest) -> SecuredCluster:
    name = "secured_zk" if request.param == "zookeeper" else "secured_kraft"
    cluster: SecuredCluster = request.getfixturevalue(name)
    return cluster


def secrets_of(cluster: SecuredCluster) -> list[str]:
    return [*cluster.passwords.values(), WRONG]


def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    state = AppState(environ=env, interactive=False)
    result = runner.invoke(app, list(args), obj=state)
    return result.exit_code, result.stdout, result.stderr


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")} | env
    return subprocess.run(
        [sys.executable, "-m", "dreamscape_infra", *args],
        env=full,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


GOOD = [
    pytest.param("PLAINTEXT", None, id="PLAINTEXT"),
    pytest.param("SSL", None, id="SSL"),
    pytest.param("SASL_PLAINTEXT", "PLAIN", id="SASL_PLAINTEXT-PLAIN"),
    pytest.param("SASL_PLAINTEXT", "SCRAM-SHA-256", id="SASL_PLAINTEXT-SCRAM-SHA-256"),
    pytest.param("SASL_PLAINTEXT", "SCRAM-SHA-512", id="SASL_PLAINTEXT-SCRAM-SHA-512"),
    pytest.param("SASL_SSL", "PLAIN", id="SASL_SSL-PLAIN"),
    pytest.param("SASL_SSL", "SCRAM-SHA-256", id="SASL_SSL-SCRAM-SHA-256"),
    pytest.param("SASL_SSL", "SCRAM-SHA-512", id="SASL_SSL-SCRAM-SHA-512"),
]


@pytest.mark.parametrize(("listener", "mechanism"), GOOD)
def test_topics_sync_with_good_credentials(
    secured: SecuredCluster, listener: str, mechanism: str | None, tmp_path: Path
) -> None:
    path = topics_file(tmp_path, f"s{secrets.token_hex(3)}.")
    env = secured.env(listener, mechanism=mechanism)
    code, out, err = cli(env, "--topics-file", str(path), "topics", "sync", "-o", "json")
    assert code == 0, err
    code, out, err = cli(
        env, "--topics-file", str(path), "topics", "plan", "--detailed-exitcode", "-o", "json"
    )
    assert code == 0, err  # in sync after the sync, over the same secured connection
    for secret in secrets_of(secured):
        assert secret not in out + err


def test_topics_sync_with_mutual_tls(secured: SecuredCluster, tmp_path: Path) -> None:
    path = topics_file(tmp_path, f"m{secrets.token_hex(3)}.")
    env = secured.mtls_env()
    code, _, err = cli(env, "--topics-file", str(path), "topics", "sync")
    assert code == 0, err
    code, _, err = cli(env, "--topics-file", str(path), "topics", "plan", "--detailed-exitcode")
    assert code == 0, err


def _foreign_client_certificate(c: SecuredCluster) -> dict[str, str]:
    """A client certificate from a CA the broker does not trust."""
    from dreamscape_infra.runtime.security import SecurityConfig, issue_client_certificate

    folder = c.untrusted_ca_file.parent.parent
    other = SecurityConfig.for_state("ssl", folder)  # the untrusted CA's folder
    cert, key = issue_client_certificate(other, "mallory", folder / "mallory")
    return c.env("MTLS") | {
        "KAFKA_SSL_CERT_LOCATION": str(cert),
        "KAFKA_SSL_KEY_LOCATION": str(key),
    }


def _wrong_password(c: SecuredCluster) -> dict[str, str]:
    return c.env("SASL_SSL", mechanism="SCRAM-SHA-512", password=WRONG)


def _wrong_plain_password(c: SecuredCluster) -> dict[str, str]:
    return c.env("SASL_PLAINTEXT", mechanism="PLAIN", password=WRONG)


FAILURES: list[Any] = [
    pytest.param(
        _wrong_password,
        f"refused the credentials of SASL user '{USER}' (SCRAM-SHA-512): wrong username or "
        "password",
        id="wrong-password-scram",
    ),
    pytest.param(
        _wrong_plain_password,
        f"refused the credentials of SASL user '{USER}' (PLAIN): wrong username or password",
        id="wrong-password-plain",
    ),
    pytest.param(
        lambda c: c.env("SSL", ca=c.untrusted_ca_file),
        "is not trusted: it is not signed by the CA in KAFKA_SSL_CA_LOCATION",
        id="untrusted-ca",
    ),
    pytest.param(
        lambda c: c.env("SASL_SSL", mechanism="SCRAM-SHA-256", ca=c.untrusted_ca_file),
        "is not trusted: it is not signed by the CA in KAFKA_SSL_CA_LOCATION",
        id="untrusted-ca-sasl-ssl",
    ),
    pytest.param(
        lambda c: c.env("BADHOST"),
        "is not issued for '127.0.0.1' (hostname mismatch)",
        id="hostname-mismatch",
    ),
    pytest.param(
        lambda c: c.env("SCRAMONLY", mechanism="PLAIN"),
        "does not accept SASL mechanism PLAIN (it offers SCRAM-SHA-",
        id="wrong-mechanism",
    ),
    pytest.param(
        lambda c: c.env("PLAINTEXT", ssl=True),
        "does not speak TLS on this port (a PLAINTEXT listener?), but KAFKA_SSL=true",
        id="tls-to-plaintext-port",
    ),
    pytest.param(
        lambda c: c.env("SSL", ssl=False),
        "expects TLS on this port, but KAFKA_SSL=false",
        id="plaintext-to-tls-port",
    ),
    pytest.param(
        lambda c: c.env("PLAINTEXT", mechanism="PLAIN"),
        "is not a SASL listener, but SASL PLAIN was configured",
        id="sasl-to-plaintext-port",
    ),
    pytest.param(
        lambda c: c.env("SASL_PLAINTEXT"),
        "expects SASL on this port (it offers ",
        id="plaintext-to-sasl-port",
    ),
    pytest.param(
        lambda c: c.env("SASL_SSL"),
        "expects SASL on this port (it offers ",
        id="ssl-to-sasl-ssl-port",
    ),
    pytest.param(
        lambda c: c.mtls_env(with_cert=False),
        "requires a client certificate (mutual TLS)",
        id="mtls-without-certificate",
    ),
    pytest.param(
        _foreign_client_certificate,
        "rejected the client certificate in KAFKA_SSL_CERT_LOCATION",
        id="mtls-untrusted-client-certificate",
    ),
]


@pytest.mark.parametrize(("make_env", "cause"), FAILURES)
def test_each_failure_is_one_line_naming_its_cause(
    secured: SecuredCluster, make_env: Callable[[SecuredCluster], dict[str, str]], cause: str
) -> None:
    env = make_env(secured)
    started = time.monotonic()
    run = run_cli(env, "topics", "list")
    elapsed = time.monotonic() - started
    assert run.returncode == 4, run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines[0].startswith("error: "), run.stderr
    assert cause in lines[0], lines[0]
    assert len(lines) <= 2, run.stderr  # the cause, then at most a hint
    assert all(line.startswith("hint: ") for line in lines[1:]), run.stderr
    assert "Traceback" not in run.stderr
    assert elapsed < FAIL_FAST_S, f"took {elapsed:.1f}s"
    for secret in secrets_of(secured):
        assert secret not in run.stdout + run.stderr


@pytest.mark.parametrize(("make_env", "cause"), FAILURES[:2])
def test_no_password_in_verbose_traceback_or_json(
    secured: SecuredCluster, make_env: Callable[[SecuredCluster], dict[str, str]], cause: str
) -> None:
    env = make_env(secured)
    run = run_cli(env, "--verbose", "topics", "plan", "-o", "json")
    assert run.returncode == 4
    assert cause in run.stderr
    assert "Traceback" in run.stderr  # --verbose shows it, without local variables
    for secret in secrets_of(secured):
        assert secret not in run.stdout + run.stderr
    run = run_cli(env, "config", "-o", "json")
    assert run.returncode == 0
    assert json.loads(run.stdout)["sasl_password"] == "***"
    for secret in secrets_of(secured):
        assert secret not in run.stdout + run.stderr


def test_up_on_a_secured_stack_syncs_as_admin_and_prints_the_client_environment(
    secured: SecuredCluster, tmp_path: Path
) -> None:
    assert secured.runtime is not None
    path = topics_file(tmp_path, f"u{secrets.token_hex(3)}.")
    state = AppState(
        environ={"KAFKA_BROKERS": "127.0.0.1:1"},  # ignored: up connects to its own stack
        interactive=False,
        runtime_factory=lambda name: secured.runtime,  # type: ignore[arg-type,return-value]
    )
    args = ["--topics-file", str(path), "up", "--runtime", "local"]
    if secured.mode == "kraft":
        args.append("--kraft")
    result = runner.invoke(app, args, obj=state)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Kafka is already running" in out
    assert "2 change(s) applied" in out
    assert "client environment (sasl_ssl):" in out
    assert f"KAFKA_BROKERS={secured.bootstrap('SASL_SSL')}" in out
    assert f"KAFKA_SSL_CA_LOCATION={secured.ca_file}" in out
    assert "KAFKA_SASL_MECHANISM=scram-sha-512" in out
    assert "KAFKA_SASL_USERNAME=admin" in out
    for secret in secrets_of(secured):
        assert secret not in out + result.stderr
    # the printed environment works, with the password read from its file
    env = {
        line.split("=", 1)[0].strip(): line.split("=", 1)[1]
        for line in out.splitlines()
        if line.startswith("  KAFKA_") and "=" in line
    }
    env["KAFKA_SASL_PASSWORD"] = secured.passwords["admin"]
    code, _, err = cli(env, "--topics-file", str(path), "topics", "plan", "--detailed-exitcode")
    assert code == 0, err
