"""Why a Kafka connection failed, in one line naming the cause.

librdkafka reports TLS and SASL failures through error_cb with texts such as
"SSL handshake failed: ... certificate verify failed", "Unsupported SASL mechanism" or
"Authentication failed ... invalid credentials". `classify` turns those into one
`EnvironmentFailure` per cause. Two causes librdkafka cannot tell apart are probed with the
standard library, against the broker that failed, without credentials:

- "certificate verify failed" is either an untrusted issuer or a name the certificate does not
  carry: `probe_certificate` verifies the chain and the name separately.
- plaintext spoken to a TLS port is only a dropped connection: `speaks_tls` tries a handshake;
  a client without SASL at a SASL port likewise: `sasl_mechanisms_offered` asks the port with a
  SaslHandshake request.

No secret reaches a message: they are built from the broker address, the username, the
mechanism and the variable names.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dreamscape_infra.errors import EnvironmentFailure

if TYPE_CHECKING:
    # Only the probes, which run after a failure, need these (ssl costs ~5-10 ms to import).
    import socket
    import ssl

PROBE_TIMEOUT_S = 1.0
_ADDRESS = re.compile(r"(?:^|\s)(?:[a-z_]+://)?\[?([A-Za-z0-9_.:\-]+?)\]?:(\d+)/(?:bootstrap|\d+)")
_OFFERED = re.compile(r"supported mechanisms:\s*([A-Z0-9_,\- ]*)")

CertificateProblem = Literal["untrusted", "hostname", "ok", "unknown"]


@dataclass(frozen=True, slots=True)
class ClientSecurity:
    """What the client was told to do: the settings minus every secret."""

    brokers: str
    ssl: bool
    ca_location: str | None
    verify_hostname: bool
    sasl_username: str | None
    sasl_mechanism: str | None  # upper case, e.g. SCRAM-SHA-256
    client_certificate: bool = False  # mutual TLS configured


def _address(text: str, fallback: str) -> tuple[str, int]:
    match = _ADDRESS.search(text)
    if match:
        return match.group(1), int(match.group(2))
    host, _, port = fallback.split(",", maxsplit=1)[0].rpartition(":")
    return host.strip("[]"), int(port) if port.isdigit() else 9092


def _context(ca_location: str | None, *, check_hostname: bool) -> ssl.SSLContext:
    import ssl

    context = ssl.create_default_context(cafile=ca_location)
    context.check_hostname = check_hostname
    return context


def probe_certificate(host: str, port: int, ca_location: str | None) -> CertificateProblem:
    """Verify the broker's certificate chain, then its name, with the client's CA."""
    import socket
    import ssl

    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S) as raw:
            chain_only = _context(ca_location, check_hostname=False)
            with chain_only.wrap_socket(raw, server_hostname=host):
                pass
    except ssl.SSLCertVerificationError:
        return "untrusted"
    except (OSError, ssl.SSLError, ValueError):
        return "unknown"
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S) as raw:
            named = _context(ca_location, check_hostname=True)
            with named.wrap_socket(raw, server_hostname=host):
                pass
    except ssl.SSLCertVerificationError:
        return "hostname"
    except (OSError, ssl.SSLError, ValueError):
        return "unknown"
    return "ok"


def speaks_tls(host: str, port: int) -> bool:
    """True when the port completes a TLS handshake (any certificate accepted)."""
    import socket
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return True
    except (OSError, ssl.SSLError, ValueError):
        return False


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack(">h", len(data)) + data


def _read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def sasl_mechanisms_offered(host: str, port: int, *, tls: bool) -> tuple[str, ...]:
    """The SASL mechanisms the port offers, by a SaslHandshake v1 request (no credentials);
    empty when it is no SASL listener or does not answer."""
    import socket
    import ssl

    request = (
        struct.pack(">hhi", 17, 1, 1)  # api key SaslHandshake, version 1, correlation id
        + _string("dreamscape-infra-probe")
        + _string("PLAIN")
    )
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S) as raw:
            sock: socket.socket = raw
            if tls:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                sock = context.wrap_socket(raw, server_hostname=host)
            sock.sendall(struct.pack(">i", len(request)) + request)
            (size,) = struct.unpack(">i", _read_exactly(sock, 4))
            body = _read_exactly(sock, min(size, 1 << 16))
    except (OSError, ssl.SSLError, ValueError, struct.error):
        return ()
    try:
        _, error_code, count = struct.unpack_from(">ihi", body)
        offset, mechanisms = 10, []
        for _ in range(max(count, 0)):
            (length,) = struct.unpack_from(">h", body, offset)
            mechanisms.append(body[offset + 2 : offset + 2 + length].decode("utf-8"))
            offset += 2 + length
    except (struct.error, UnicodeDecodeError):
        return ()
    # 0: PLAIN is enabled; 33: UNSUPPORTED_SASL_MECHANISM, with the list of those that are
    return tuple(mechanisms) if error_code in (0, 33) else ()


def classify(name: str, text: str, client: ClientSecurity) -> EnvironmentFailure | None:
    """The failure an error_cb error stands for, or None when it is not a TLS/SASL refusal."""
    host, port = _address(text, client.brokers)
    where = f"{host}:{port}"
    lowered = text.lower()
    mechanism = client.sasl_mechanism or "PLAIN"
    if "unsupported sasl mechanism" in lowered:
        offered = _OFFERED.search(text)
        listed = (offered.group(1) if offered else "").split(",")
        names = ", ".join(m.strip() for m in listed if m.strip())
        return EnvironmentFailure(
            f"Kafka at {where} does not accept SASL mechanism {mechanism} "
            f"(it offers {names or 'other mechanisms'})",
            hint="set KAFKA_SASL_MECHANISM to one the listener offers",
        )
    if "not valid in current sasl state" in lowered or (
        "mechanism handshake failed" in lowered and "supported mechanisms:  " in text + " "
    ):
        return EnvironmentFailure(
            f"Kafka at {where} is not a SASL listener, but SASL {mechanism} was configured",
            hint="unset KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD, or use the SASL listener's port",
        )
    if (
        "authentication failed" in lowered
        or "invalid credentials" in lowered
        or ("AUTHENTICATION" in name and "sasl" in lowered)
    ):
        return EnvironmentFailure(
            f"Kafka at {where} refused the credentials of SASL user "
            f"'{client.sasl_username}' ({mechanism}): wrong username or password",
            hint="check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (and the mechanism the "
            "user was created for)",
        )
    closed_in_handshake = "ssl_handshake" in lowered and (
        "disconnected" in lowered or "closed by peer" in lowered
    )
    if "connecting to a plaintext broker listener" in lowered or (
        closed_in_handshake and not speaks_tls(host, port)
    ):
        # librdkafka words this several ways (with or without its PLAINTEXT guess): the
        # probe decides
        return EnvironmentFailure(
            f"Kafka at {where} does not speak TLS on this port (a PLAINTEXT listener?), "
            "but KAFKA_SSL=true",
            hint="set KAFKA_SSL=false, or use the port of the TLS listener",
        )
    if "certificate verify failed" in lowered:
        return _certificate_failure(host, port, client)
    if any(
        f"alert {a}" in lowered
        for a in ("bad certificate", "certificate required", "certificate unknown", "unknown ca")
    ):
        # the broker refused our side of the handshake: mutual TLS
        if not client.client_certificate:
            return EnvironmentFailure(
                f"Kafka at {where} requires a client certificate (mutual TLS)",
                hint="set KAFKA_SSL_CERT_LOCATION and KAFKA_SSL_KEY_LOCATION",
            )
        return EnvironmentFailure(
            f"Kafka at {where} rejected the client certificate in KAFKA_SSL_CERT_LOCATION",
            hint="it must be issued by a CA the broker trusts (its ssl.truststore)",
        )
    if "ssl" in lowered or "tls" in lowered:
        return EnvironmentFailure(
            f"TLS handshake with Kafka at {where} failed: {text}",
            hint="check KAFKA_SSL, KAFKA_SSL_CA_LOCATION and the client certificate settings",
        )
    if "sasl" in lowered or "AUTHENTICATION" in name:
        return EnvironmentFailure(
            f"SASL authentication with Kafka at {where} failed: {text}",
            hint="check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM",
        )
    return None


def _certificate_failure(host: str, port: int, client: ClientSecurity) -> EnvironmentFailure:
    where = f"{host}:{port}"
    trusted_by = (
        f"the CA in KAFKA_SSL_CA_LOCATION ({client.ca_location})"
        if client.ca_location
        else "the system's CAs (KAFKA_SSL_CA_LOCATION is not set)"
    )
    problem = probe_certificate(host, port, client.ca_location)
    if problem == "hostname" and client.verify_hostname:
        return EnvironmentFailure(
            f"the TLS certificate of Kafka at {where} is not issued for '{host}' "
            "(hostname mismatch)",
            hint="connect with a name the certificate carries, or, knowingly, "
            "KAFKA_SSL_VERIFY_HOSTNAME=false",
        )
    return EnvironmentFailure(
        f"the TLS certificate of Kafka at {where} is not trusted: it is not signed by {trusted_by}",
        hint="set KAFKA_SSL_CA_LOCATION to the CA that issued the broker's certificate",
    )


def dropped_connection(client: ClientSecurity) -> EnvironmentFailure | None:
    """Every broker dropped the connection: a TLS port spoken to in plaintext, or a SASL port
    spoken to without SASL?"""
    host, port = _address("", client.brokers)
    if not client.ssl and speaks_tls(host, port):
        return EnvironmentFailure(
            f"Kafka at {host}:{port} expects TLS on this port, but KAFKA_SSL=false",
            hint="set KAFKA_SSL=true (and KAFKA_SSL_CA_LOCATION), or use a plaintext listener",
        )
    if client.sasl_username is None:
        offered = sasl_mechanisms_offered(host, port, tls=client.ssl)
        if offered:
            return EnvironmentFailure(
                f"Kafka at {host}:{port} expects SASL on this port (it offers "
                f"{', '.join(offered)}), but KAFKA_SASL_USERNAME is not set",
                hint="set KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM",
            )
    return None
