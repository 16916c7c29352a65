"""Security of the local runtime: listeners, a throwaway CA, broker certificates, SASL users.

`up --runtime local --security MODE` turns the broker's one client listener into

    plaintext   PLAINTEXT
    ssl         SSL                           (server certificate; clients trust ca.pem)
    sasl_plain  SASL_PLAINTEXT, PLAIN         (users in the listener's JAAS config)
    sasl_scram  SASL_PLAINTEXT, SCRAM-SHA-256 and SCRAM-SHA-512
    sasl_ssl    SASL_SSL, SCRAM-SHA-256 and SCRAM-SHA-512

The brokers talk to each other over that same listener as the admin user, so no unsecured
back door stays open. Everything lives in `<state>/security/` (mode 0700):

    ca.pem            the CA certificate clients trust (KAFKA_SSL_CA_LOCATION)
    ca-key.pem        its key (0600), kept so that a new broker certificate can be issued
    broker.pem        the broker's key and certificate chain, a PEM key store (0600)
    <listener>.pem    the same for a listener with its own certificate names (tests)
    passwords/<user>  one random password per SASL user (0600): admin and one per service

Nothing here prints; passwords are only read back by `read_password` and handed to the broker's
config, the SCRAM bootstrap and the admin client. `ADMIN_PRINCIPAL` is the principal a broker
authorizer must treat as a super user.
"""

from __future__ import annotations

import datetime
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from dreamscape_infra.errors import ConfigError, EnvironmentFailure
from dreamscape_infra.settings import ConnectionSettings, Secret

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    from dreamscape_infra.topics.model import DesiredState

SecurityMode = Literal["plaintext", "ssl", "sasl_plain", "sasl_scram", "sasl_ssl"]
SECURITY_MODES: tuple[SecurityMode, ...] = get_args(SecurityMode)
ListenerProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]

ADMIN_USER = "admin"
ADMIN_PRINCIPAL = f"User:{ADMIN_USER}"
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
# Names a broker certificate answers to: what clients of the local stack connect to.
DEFAULT_SANS = ("localhost", "127.0.0.1")
CERT_DAYS = 365
SCRAM_ITERATIONS = 8192

MODE_PROTOCOL: Mapping[SecurityMode, ListenerProtocol] = {
    "plaintext": "PLAINTEXT",
    "ssl": "SSL",
    "sasl_plain": "SASL_PLAINTEXT",
    "sasl_scram": "SASL_PLAINTEXT",
    "sasl_ssl": "SASL_SSL",
}
MODE_MECHANISMS: Mapping[SecurityMode, tuple[str, ...]] = {
    "plaintext": (),
    "ssl": (),
    "sasl_plain": ("PLAIN",),
    "sasl_scram": SCRAM_MECHANISMS,
    "sasl_ssl": SCRAM_MECHANISMS,
}


@dataclass(frozen=True, slots=True)
class Listener:
    """An additional client listener of a single broker (tests expose several protocols at
    once). `sans` other than DEFAULT_SANS give it a certificate of its own."""

    name: str
    protocol: ListenerProtocol
    port: int
    sans: tuple[str, ...] = DEFAULT_SANS
    mechanisms: tuple[str, ...] | None = None  # None: the config's enabled mechanisms
    client_auth: Literal["none", "required"] = "none"  # "required": mutual TLS


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    """How the local brokers are secured, and where the secrets of that live.

    `mechanisms` are the SASL mechanisms every SASL listener enables (the mode's by default);
    `users` are the SASL users besides the admin (one per declared service).
    """

    mode: SecurityMode
    folder: Path
    users: tuple[str, ...] = ()
    mechanisms: tuple[str, ...] | None = None
    extra_listeners: tuple[Listener, ...] = ()

    @classmethod
    def for_state(
        cls,
        mode: str,
        state_dir: Path,
        users: Iterable[str] = (),
        *,
        mechanisms: Sequence[str] | None = None,
        extra_listeners: Sequence[Listener] = (),
    ) -> SecurityConfig:
        """The config of a state folder; raises ConfigError for an unknown mode or user name."""
        if mode not in SECURITY_MODES:
            raise ConfigError(
                [f"--security: unknown mode '{mode}' (expected one of {', '.join(SECURITY_MODES)})"]
            )
        names = sorted({u for u in users if u != ADMIN_USER})
        bad = [u for u in names if not _valid_user(u)]
        if bad:
            raise ConfigError(
                [f"service user '{u}': use letters, digits, '.', '_' and '-' only" for u in bad]
            )
        return cls(
            mode=mode,  # checked against SECURITY_MODES above
            folder=state_dir / "security",
            users=tuple(names),
            mechanisms=tuple(mechanisms) if mechanisms is not None else None,
            extra_listeners=tuple(extra_listeners),
        )

    @property
    def protocol(self) -> ListenerProtocol:
        return MODE_PROTOCOL[self.mode]

    @property
    def enabled_mechanisms(self) -> tuple[str, ...]:
        if self.mechanisms is not None:
            return self.mechanisms
        return MODE_MECHANISMS[self.mode]

    @property
    def client_mechanism(self) -> str | None:
        """The mechanism the admin (and `up`'s client environment) logs in with."""
        own = MODE_MECHANISMS[self.mode]
        return own[-1] if own else None

    @property
    def secured(self) -> bool:
        return self.mode != "plaintext" or bool(self.extra_listeners)

    @property
    def tls(self) -> bool:
        return self.protocol.endswith("SSL") or any(
            listener.protocol.endswith("SSL") for listener in self.extra_listeners
        )

    @property
    def sasl(self) -> bool:
        return bool(self.enabled_mechanisms)

    @property
    def scram(self) -> bool:
        return any(m.startswith("SCRAM") for m in self.enabled_mechanisms)

    @property
    def anonymous(self) -> bool:
        """A client listener lets clients in unauthenticated: PLAINTEXT, or SSL without client
        certificates. Kafka calls them all User:ANONYMOUS, and so the brokers too when it is
        their inter-broker listener."""
        return self.protocol in ("PLAINTEXT", "SSL") or any(
            x.protocol == "PLAINTEXT" or (x.protocol == "SSL" and x.client_auth != "required")
            for x in self.extra_listeners
        )

    @property
    def all_users(self) -> tuple[str, ...]:
        return (ADMIN_USER, *self.users)

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key_file(self) -> Path:
        return self.folder / "ca-key.pem"

    def keystore_file(self, listener: Listener | None = None) -> Path:
        """The PEM key store (key + chain) of the main listener, or of `listener` when it has
        certificate names of its own."""
        if listener is None or listener.sans == DEFAULT_SANS:
            return self.folder / "broker.pem"
        return self.folder / f"{listener.name.lower()}.pem"

    def password_file(self, user: str) -> Path:
        return self.folder / "passwords" / user


def _valid_user(name: str) -> bool:
    # JAAS option names (user_<name>) and file names: keep to a safe alphabet
    return bool(name) and all(c.isalnum() or c in "._-" for c in name) and name[0] != "."


def sasl_user_of(principal: str) -> str | None:
    """The SASL username a principal authenticates as (`User:auth-service` -> `auth-service`);
    None for a principal no SASL user can be (a TLS subject such as `User:CN=x,O=y`)."""
    kind, _, name = principal.partition(":")
    return name if kind == "User" and _valid_user(name) else None


def service_users(desired: DesiredState) -> tuple[str, ...]:
    """The SASL users a secured local stack creates for topics.yaml (besides the admin).

    A service of `services:` logs in as its principal's name, so the principal its ACLs name
    is the one the broker sees: `User:auth-service` -> user `auth-service`. The other services
    topics.yaml names (consumer groups, domain and topic owners) log in under their own name.
    Retired services get no user; principals no SASL user can be (TLS subjects) are skipped.
    """
    declared = {s.name: s for s in desired.services}
    names = {g.service for g in desired.groups} | set(desired.domains.values())
    names |= {t.owner for t in desired.topics if t.owner}
    users = {n for n in names if n and n not in declared and _valid_user(n)}
    for service in desired.services:
        user = sasl_user_of(service.principal)
        if user is not None and not service.retired:
            users.add(user)
    users.discard(ADMIN_USER)  # the admin's own user exists anyway, as the super user
    return tuple(sorted(users))


def read_password(security: SecurityConfig, user: str) -> Secret:
    """The stored password of `user`, as a Secret. Raises EnvironmentFailure when missing."""
    path = security.password_file(user)
    try:
        return Secret(path.read_text(encoding="utf-8").strip())
    except OSError:
        raise EnvironmentFailure(
            f"the password file of SASL user '{user}' is missing: {path}",
            hint="run `dreamscape-infra up --runtime local --security ...` to create it",
        ) from None


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (0600), replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o600)  # whatever the umask said
    tmp.replace(path)


def ensure_passwords(security: SecurityConfig) -> list[str]:
    """Create a random password for every SASL user that has none yet; return their names.

    Existing passwords are kept, so clients configured earlier keep working.
    """
    if not security.sasl:
        return []
    created = []
    for user in security.all_users:
        path = security.password_file(user)
        if path.is_file():
            continue
        write_private(path, secrets.token_urlsafe(24).encode("ascii"))
        created.append(user)
    os.chmod(security.folder / "passwords", 0o700)
    return created


def ensure_certificates(security: SecurityConfig) -> list[Path]:
    """Create the CA and the broker key stores that are missing; return what was written.

    The CA is created once per state folder; a key store is (re)issued when it is missing or
    expires within a day. Private keys are written 0600.
    """
    if not security.tls:
        return []
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    security.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(security.folder, 0o700)
    written: list[Path] = []
    if security.ca_file.is_file() and security.ca_key_file.is_file():
        ca_cert = x509.load_pem_x509_certificate(security.ca_file.read_bytes())
        ca_key = serialization.load_pem_private_key(security.ca_key_file.read_bytes(), None)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _ca_certificate(ca_key)
        write_private(security.ca_key_file, _key_pem(ca_key))
        security.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        written += [security.ca_file, security.ca_key_file]
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise EnvironmentFailure(f"{security.ca_key_file} is not the key this tool generated")
    stores: dict[Path, tuple[str, ...]] = {security.keystore_file(): DEFAULT_SANS}
    for listener in security.extra_listeners:
        stores[security.keystore_file(listener)] = listener.sans
    for path, sans in stores.items():
        if _valid_keystore(path, ca_cert, sans):
            continue
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _server_certificate(key, sans, ca_cert, ca_key)
        chain = cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(
            serialization.Encoding.PEM
        )
        write_private(path, _key_pem(key) + chain)
        written.append(path)
    return written


def issue_client_certificate(
    security: SecurityConfig, name: str, folder: Path
) -> tuple[Path, Path]:
    """A client certificate (CN=`name`) from the local CA, for mutual TLS: returns the
    certificate and key files written to `folder` (the key 0600). The broker sees the
    principal `User:CN=<name>`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ensure_certificates(security)
    ca_cert = x509.load_pem_x509_certificate(security.ca_file.read_bytes())
    ca_key = serialization.load_pem_private_key(security.ca_key_file.read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / f"{name}.pem", folder / f"{name}-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    write_private(key_file, _key_pem(key))
    return cert_file, key_file


def _key_pem(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    assert isinstance(key, ec.EllipticCurvePrivateKey)
    # unencrypted PKCS#8 ("BEGIN PRIVATE KEY"): what Kafka's PEM key store reads without a
    # ssl.key.password; the file mode protects it
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    assert isinstance(key, ec.EllipticCurvePrivateKey)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dreamscape-infra local CA")])
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    sans: Sequence[str],
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
) -> x509.Certificate:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    assert isinstance(ca_cert, x509.Certificate)
    names: list[x509.GeneralName] = []
    for san in sans:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            names.append(x509.DNSName(san))
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, sans[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _valid_keystore(path: Path, ca_cert: object, sans: Sequence[str]) -> bool:
    """The key store exists, was issued by this CA for these names and is not about to expire."""
    from cryptography import x509

    assert isinstance(ca_cert, x509.Certificate)
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    if cert.issuer != ca_cert.subject:
        return False
    if cert.not_valid_after_utc < _now() + datetime.timedelta(days=1):
        return False
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have = {str(v) for v in ext.get_values_for_type(x509.DNSName)}
    have |= {str(v) for v in ext.get_values_for_type(x509.IPAddress)}
    return have == set(sans)


# ---- broker configuration --------------------------------------------------------------------


def _jaas_value(text: str) -> str:
    # JAAS quoted strings: our passwords are URL-safe base64, but escape anyway
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def listener_properties(
    security: SecurityConfig,
    name: str,
    protocol: ListenerProtocol,
    keystore: Path,
    mechanisms: Sequence[str] | None = None,
    client_auth: str = "none",
) -> dict[str, object]:
    """The listener-scoped settings (`listener.name.<name>.*`) of one secured listener."""
    prefix = f"listener.name.{name.lower()}."
    values: dict[str, object] = {}
    if protocol.endswith("SSL"):
        values.update(
            {
                f"{prefix}ssl.keystore.type": "PEM",
                f"{prefix}ssl.keystore.location": keystore,
                f"{prefix}ssl.truststore.type": "PEM",
                f"{prefix}ssl.truststore.location": security.ca_file,
                f"{prefix}ssl.client.auth": client_auth,
                # the broker's own connections (inter-broker) verify the name: localhost/127.0.0.1
                f"{prefix}ssl.endpoint.identification.algorithm": "https",
            }
        )
    if protocol.startswith("SASL"):
        mechanisms = mechanisms or security.enabled_mechanisms
        values[f"{prefix}sasl.enabled.mechanisms"] = ",".join(mechanisms)
        admin = read_password(security, ADMIN_USER).reveal()
        for mechanism in mechanisms:
            key = f"{prefix}{mechanism.lower()}.sasl.jaas.config"
            if mechanism == "PLAIN":
                users = " ".join(
                    f"user_{user}={_jaas_value(read_password(security, user).reveal())}"
                    for user in security.all_users
                )
                values[key] = (
                    "org.apache.kafka.common.security.plain.PlainLoginModule required "
                    f"username={_jaas_value(ADMIN_USER)} password={_jaas_value(admin)} {users};"
                )
            else:
                values[key] = (
                    "org.apache.kafka.common.security.scram.ScramLoginModule required "
                    f"username={_jaas_value(ADMIN_USER)} password={_jaas_value(admin)};"
                )
    return values


def broker_properties(
    security: SecurityConfig, host: str, port: int, *, extra_protocols: Mapping[str, str] = {}
) -> dict[str, object]:
    """The security part of a broker's server.properties, for its client listener on `port`.

    Returns `listeners`, `advertised.listeners`, the inter-broker settings and every
    listener-scoped TLS/SASL setting. `extra_protocols` are further listener-name→protocol
    pairs (the KRaft CONTROLLER) for `listener.security.protocol.map`. The result holds
    passwords when SASL is on: write it to a 0600 file.
    """
    main = security.protocol
    listeners = [Listener(main, main, port), *security.extra_listeners]
    protocol_map = {x.name: x.protocol for x in listeners} | dict(extra_protocols)
    values: dict[str, object] = {
        "listeners": ",".join(f"{x.name}://{host}:{x.port}" for x in listeners),
        "advertised.listeners": ",".join(f"{x.name}://{host}:{x.port}" for x in listeners),
        "listener.security.protocol.map": ",".join(f"{k}:{v}" for k, v in protocol_map.items()),
        "inter.broker.listener.name": main,
    }
    if main.startswith("SASL"):
        mechanism = security.client_mechanism
        assert mechanism is not None
        values["sasl.mechanism.inter.broker.protocol"] = mechanism
    for x in listeners:
        values.update(
            listener_properties(
                security, x.name, x.protocol, security.keystore_file(x), x.mechanisms, x.client_auth
            )
        )
    return values


CONTROLLER_LISTENER = "CONTROLLER"


def controller_properties(security: SecurityConfig) -> dict[str, object]:
    """KRaft: the CONTROLLER listener's settings when the stack uses SASL (else {}: PLAINTEXT).

    A PLAINTEXT controller listener would make every connection to it User:ANONYMOUS, which an
    authorizer must then treat as a super user, so any local process could administer the
    cluster through it (AdminClient's bootstrap.controllers, KIP-919) without a password. With
    SASL the node logs in to its own controller as the admin. PLAIN, because KRaft keeps SCRAM
    credentials in the metadata log the controller serves, so a controller listener cannot
    use them; the admin is the listener's only user. Holds a password: write it 0600.
    """
    if not security.sasl:
        return {}
    prefix = f"listener.name.{CONTROLLER_LISTENER.lower()}."
    admin = _jaas_value(read_password(security, ADMIN_USER).reveal())
    return {
        "sasl.mechanism.controller.protocol": "PLAIN",
        f"{prefix}sasl.enabled.mechanisms": "PLAIN",
        f"{prefix}plain.sasl.jaas.config": (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f"username={_jaas_value(ADMIN_USER)} password={admin} user_{ADMIN_USER}={admin};"
        ),
    }


def scram_config_file(security: SecurityConfig, user: str) -> str:
    """`SCRAM-SHA-256=[iterations=...,password=...]` lines for `kafka-configs
    --add-config-file`. Contains the password: write it to a 0600 file, never an argument."""
    password = read_password(security, user).reveal()
    return "".join(
        f"{m}=iterations={SCRAM_ITERATIONS},password={password}\n"
        for m in security.enabled_mechanisms
        if m.startswith("SCRAM")
    )


def redact(lines: Iterable[str], security: SecurityConfig) -> list[str]:
    """`lines` with every stored password replaced by ***: tools we run may echo them."""
    secrets_ = []
    for user in security.all_users:
        try:
            secrets_.append(read_password(security, user).reveal())
        except EnvironmentFailure:
            continue
    out = []
    for line in lines:
        clean = line
        for secret in secrets_:
            if secret:
                clean = clean.replace(secret, "***")
        out.append(clean)
    return out


def redact_file(path: Path, security: SecurityConfig) -> None:
    """Rewrite a tool's log with every stored password replaced by ***."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    clean = "\n".join(redact(text.split("\n"), security))
    if clean != text:
        path.write_text(clean, encoding="utf-8")


def admin_settings(security: SecurityConfig, bootstrap: str) -> ConnectionSettings:
    """How the runtime itself (readiness, SCRAM users, `up`'s topic sync) connects: as admin,
    over the main listener, trusting the local CA."""
    brokers = tuple(b for b in bootstrap.split(",") if b)
    mechanism = security.client_mechanism
    tls = security.protocol.endswith("SSL")
    return ConnectionSettings(
        brokers=brokers,
        ssl=tls,
        sasl_username=ADMIN_USER if mechanism else None,
        sasl_password=read_password(security, ADMIN_USER) if mechanism else None,
        sasl_mechanism=mechanism.lower() if mechanism else "plain",
        ssl_ca_location=str(security.ca_file) if tls else None,
    )


@dataclass(frozen=True, slots=True)
class ClientEnvironment:
    """What a client of the local stack needs, as KAFKA_* variables, and where the password
    is. Holds no secret: the password stays in `password_file`."""

    variables: tuple[tuple[str, str], ...]
    password_file: Path | None

    def shell_lines(self) -> list[str]:
        """`export NAME=value` lines; the password is read from its file when evaluated."""
        import shlex

        lines = [f"export {name}={shlex.quote(value)}" for name, value in self.variables]
        if self.password_file is not None:
            quoted = shlex.quote(str(self.password_file))
            lines.append(f'export KAFKA_SASL_PASSWORD="$(cat {quoted})"')
        return lines


def client_environment(
    security: SecurityConfig, bootstrap: str, user: str = ADMIN_USER
) -> ClientEnvironment:
    """The client environment of the local stack for `user` (the admin by default)."""
    tls = security.protocol.endswith("SSL")
    variables: list[tuple[str, str]] = [
        ("KAFKA_BROKERS", bootstrap),
        ("KAFKA_SSL", "true" if tls else "false"),
    ]
    if tls:
        variables.append(("KAFKA_SSL_CA_LOCATION", str(security.ca_file)))
    mechanism = security.client_mechanism
    password_file = None
    if mechanism is not None:
        variables += [
            ("KAFKA_SASL_MECHANISM", mechanism.lower()),
            ("KAFKA_SASL_USERNAME", user),
        ]
        password_file = security.password_file(user)
    return ClientEnvironment(tuple(variables), password_file)
