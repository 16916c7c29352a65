"""Kafka connection settings, read from the environment exactly as the DreamScape services do.

`load_settings` validates every variable and reports all problems at once, naming the variable.
The SASL password is kept in a `Secret`, whose str/repr never reveal it; only
`ConnectionSettings.client_config()` unwraps it, to hand it to librdkafka.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from dreamscape_infra.errors import ConfigError

DEFAULT_BROKERS = "localhost:9092"
MECHANISMS = {"plain": "PLAIN", "scram-sha-256": "SCRAM-SHA-256", "scram-sha-512": "SCRAM-SHA-512"}
LOG_LEVELS = ("debug", "info", "warn", "warning", "error")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}
_HOST_RE = re.compile(r"^[A-Za-z0-9_.\-]+$|^\[[0-9A-Fa-f:.]+\]$")
# librdkafka's syslog levels for `log_level`
_SYSLOG = {"debug": 7, "info": 6, "warn": 4, "warning": 4, "error": 3}


class Secret:
    """A value that never shows itself in output, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value; call only where it is handed to the Kafka client."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """Resolved, validated connection settings."""

    brokers: tuple[str, ...] = (DEFAULT_BROKERS,)
    ssl: bool = False
    sasl_username: str | None = None
    sasl_password: Secret | None = field(default=None, repr=False)
    sasl_mechanism: str = "plain"
    log_level: str = "info"
    ssl_ca_location: str | None = None
    # mutual TLS: the client's certificate (chain) and key, PEM files; the key's password
    ssl_cert_location: str | None = None
    ssl_key_location: str | None = None
    ssl_key_password: Secret | None = field(default=None, repr=False)
    # off only for a certificate issued to another name: the chain is still verified
    ssl_verify_hostname: bool = True
    # One command's clients (True) connect to newly learned brokers sooner (see client_config);
    # `serve`'s clients live for hours and keep librdkafka's default reconnect pacing.
    short_lived: bool = True

    @classmethod
    def plaintext(cls, bootstrap: str) -> ConnectionSettings:
        """Plaintext, unauthenticated settings for `host:port[,host:port...]`: a stack this
        tool started itself (or a test cluster), whatever KAFKA_* points at elsewhere.

        Blank entries and spaces around commas are dropped; a string naming no broker is a
        bug of the caller (ValueError). The one place that turns a bootstrap string into
        settings; `load_settings` is the one for the environment.
        """
        brokers = tuple(part.strip() for part in bootstrap.split(",") if part.strip())
        if not brokers:
            raise ValueError(f"no broker in bootstrap string {bootstrap!r}")
        return cls(brokers=brokers)

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(self.brokers)

    @property
    def security_protocol(self) -> str:
        sasl = self.sasl_username is not None
        if sasl:
            return "SASL_SSL" if self.ssl else "SASL_PLAINTEXT"
        return "SSL" if self.ssl else "PLAINTEXT"

    def client_config(self) -> dict[str, Any]:
        """The librdkafka configuration. Contains the password: never print it."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "log_level": _SYSLOG.get(self.log_level, 6),
        }
        if self.short_lived:
            # librdkafka spaces its connects to brokers it has just learned by half this
            # backoff (at least 11 ms): with the default 100 ms, the first request of every new
            # client waited ~50 ms after the bootstrap broker had answered (measured:
            # list_topics 54 ms against 15 ms), a fifth of a no-op `topics plan`. Reconnects to
            # a broker that is down still back off exponentially. (enable.sparse.connections=
            # false also removes the wait, but made librdkafka crash on a TLS hostname mismatch.)
            config["reconnect.backoff.ms"] = 20
        if self.sasl_username is not None and self.sasl_password is not None:
            config["sasl.mechanism"] = MECHANISMS[self.sasl_mechanism]
            config["sasl.username"] = self.sasl_username
            config["sasl.password"] = self.sasl_password.reveal()
        if self.ssl:
            if self.ssl_ca_location:
                config["ssl.ca.location"] = self.ssl_ca_location
            if self.ssl_cert_location and self.ssl_key_location:
                config["ssl.certificate.location"] = self.ssl_cert_location
                config["ssl.key.location"] = self.ssl_key_location
                if self.ssl_key_password is not None:
                    config["ssl.key.password"] = self.ssl_key_password.reveal()
            config["ssl.endpoint.identification.algorithm"] = (
                "https" if self.ssl_verify_hostname else "none"
            )
        return config

    def redacted(self) -> dict[str, Any]:
        """A printable view: the password is replaced by `***` (or null when unset)."""
        return {
            "brokers": list(self.brokers),
            "security_protocol": self.security_protocol,
            "ssl": self.ssl,
            "ssl_ca_location": self.ssl_ca_location,
            "ssl_cert_location": self.ssl_cert_location,
            "ssl_key_location": self.ssl_key_location,
            "ssl_key_password": "***" if self.ssl_key_password is not None else None,
            "ssl_verify_hostname": self.ssl_verify_hostname,
            "sasl_mechanism": MECHANISMS[self.sasl_mechanism] if self.sasl_username else None,
            "sasl_username": self.sasl_username,
            "sasl_password": "***" if self.sasl_password is not None else None,
            "log_level": self.log_level,
        }


def _parse_brokers(raw: str, var: str, problems: list[str]) -> tuple[str, ...]:
    brokers = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not brokers:
        problems.append(f"{var}: the broker list is empty (expected host:port[,host:port...])")
        return ()
    for broker in brokers:
        host, sep, port = broker.rpartition(":")
        if not sep or not host:
            problems.append(f"{var}: '{broker}' is not host:port")
            continue
        if not _HOST_RE.fullmatch(host):
            problems.append(f"{var}: '{broker}' has an invalid host '{host}'")
        if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
            problems.append(f"{var}: '{broker}' has an invalid port '{port}' (expected 1-65535)")
    return brokers


def _parse_bool(raw: str, var: str, problems: list[str]) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    problems.append(f"{var}: '{raw}' is not a boolean (use true or false)")
    return False


def _check_file(var: str, path: str, problems: list[str], *, marker: str, what: str) -> None:
    """A PEM file a variable names must exist, be readable and look like PEM."""
    import os

    if not os.path.isfile(path):
        problems.append(f"{var}: '{path}' does not exist or is not a file")
        return
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError as exc:
        problems.append(f"{var}: '{path}' is not readable ({exc.strerror or 'permission denied'})")
        return
    if b"-----BEGIN " not in head or marker.encode() not in head:
        problems.append(f"{var}: '{path}' holds no PEM {what}")


def load_settings(
    env: Mapping[str, str], brokers_override: str | None = None
) -> ConnectionSettings:
    """Read and validate the KAFKA_* variables from `env`.

    Raises ConfigError listing every invalid variable by name. The password's value is never
    part of a message.
    """
    problems: list[str] = []
    if brokers_override is not None:
        brokers = _parse_brokers(brokers_override, "--brokers", problems)
    else:
        brokers = _parse_brokers(
            env.get("KAFKA_BROKERS", DEFAULT_BROKERS), "KAFKA_BROKERS", problems
        )
    ssl = _parse_bool(env.get("KAFKA_SSL", "false"), "KAFKA_SSL", problems)
    username, password, mechanism = _sasl(env, problems)
    log_level = (env.get("KAFKA_LOG_LEVEL") or "info").strip().lower()
    if log_level not in LOG_LEVELS:
        problems.append(
            f"KAFKA_LOG_LEVEL: unknown level '{log_level}' "
            "(expected one of debug, info, warn, error)"
        )
    tls = _tls(env, ssl, problems)
    if problems:
        raise ConfigError(problems, hint="fix the environment variable(s) named above")
    return ConnectionSettings(
        brokers=brokers,
        ssl=ssl,
        sasl_username=username,
        sasl_password=password,
        sasl_mechanism=mechanism,
        log_level=log_level,
        ssl_ca_location=tls.ca,
        ssl_cert_location=tls.cert,
        ssl_key_location=tls.key,
        ssl_key_password=tls.key_password,
        ssl_verify_hostname=tls.verify,
    )


def _sasl(env: Mapping[str, str], problems: list[str]) -> tuple[str | None, Secret | None, str]:
    """Username, password and mechanism; the username and the password come together."""
    username = env.get("KAFKA_SASL_USERNAME") or None
    password_raw = env.get("KAFKA_SASL_PASSWORD")
    password = Secret(password_raw) if password_raw else None
    if username and password is None:
        problems.append("KAFKA_SASL_USERNAME is set but KAFKA_SASL_PASSWORD is not")
    if password is not None and not username:
        problems.append("KAFKA_SASL_PASSWORD is set but KAFKA_SASL_USERNAME is not")
    mechanism = (env.get("KAFKA_SASL_MECHANISM") or "plain").strip().lower()
    if mechanism not in MECHANISMS:
        problems.append(
            f"KAFKA_SASL_MECHANISM: unknown mechanism '{mechanism}' "
            f"(expected one of {', '.join(MECHANISMS)})"
        )
    return username, password, mechanism


class _Tls(NamedTuple):  # a NamedTuple: every command imports this, a dataclass costs ~1 ms
    ca: str | None
    cert: str | None
    key: str | None
    key_password: Secret | None
    verify: bool


def _tls(env: Mapping[str, str], ssl: bool, problems: list[str]) -> _Tls:
    """The TLS files and options. With `ssl`, each file named must be readable PEM of its
    kind; mutual TLS needs both the certificate and the key, and only with `ssl`."""
    ca = env.get("KAFKA_SSL_CA_LOCATION") or None
    cert = env.get("KAFKA_SSL_CERT_LOCATION") or None
    key = env.get("KAFKA_SSL_KEY_LOCATION") or None
    key_password_raw = env.get("KAFKA_SSL_KEY_PASSWORD")
    key_password = Secret(key_password_raw) if key_password_raw else None
    verify = _parse_bool(
        env.get("KAFKA_SSL_VERIFY_HOSTNAME", "true"), "KAFKA_SSL_VERIFY_HOSTNAME", problems
    )
    if ssl:
        # only files the client will open are checked: a CA left over with KAFKA_SSL=false
        # is harmless
        if ca:
            _check_file(
                "KAFKA_SSL_CA_LOCATION", ca, problems, marker="CERTIFICATE", what="certificate"
            )
        if cert:
            _check_file(
                "KAFKA_SSL_CERT_LOCATION", cert, problems, marker="CERTIFICATE", what="certificate"
            )
        if key:
            _check_file(
                "KAFKA_SSL_KEY_LOCATION", key, problems, marker="PRIVATE KEY", what="private key"
            )
    elif cert or key:
        problems.append(
            "KAFKA_SSL_CERT_LOCATION/KAFKA_SSL_KEY_LOCATION are set but KAFKA_SSL is not true"
        )
    if bool(cert) != bool(key):
        missing = "KAFKA_SSL_KEY_LOCATION" if cert else "KAFKA_SSL_CERT_LOCATION"
        present = "KAFKA_SSL_CERT_LOCATION" if cert else "KAFKA_SSL_KEY_LOCATION"
        problems.append(f"{present} is set but {missing} is not (mutual TLS needs both)")
    if key_password is not None and not key:
        problems.append("KAFKA_SSL_KEY_PASSWORD is set but KAFKA_SSL_KEY_LOCATION is not")
    return _Tls(ca, cert, key, key_password, verify)
