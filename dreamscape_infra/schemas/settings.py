"""How to reach the Schema Registry, named as Confluent's clients name it.

SCHEMA_REGISTRY_URL                   the Confluent-compatible base URL (default: the local
                                      runtime's, http://127.0.0.1:8081/apis/ccompat/v7)
SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO  user:password, never printed
SCHEMA_REGISTRY_SSL_CA_LOCATION       the CA of an https registry (else KAFKA_SSL_CA_LOCATION)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from dreamscape_infra.errors import ConfigError
from dreamscape_infra.runtime.apicurio import CCOMPAT_PATH, DEFAULT_PORT, PORT_ENV
from dreamscape_infra.settings import Secret

URL_ENV = "SCHEMA_REGISTRY_URL"
AUTH_ENV = "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"
CA_ENV = "SCHEMA_REGISTRY_SSL_CA_LOCATION"


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    url: str  # never with credentials in it (they move to `basic_auth`)
    basic_auth: Secret | None = None
    ca_location: str | None = None


def default_url(env: Mapping[str, str]) -> str:
    """The local runtime's registry (`up --runtime local --profile schema`)."""
    port = (env.get(PORT_ENV) or "").strip() or str(DEFAULT_PORT)
    return f"http://127.0.0.1:{port}{CCOMPAT_PATH}"


def load_registry_settings(env: Mapping[str, str]) -> RegistrySettings:
    """Read the SCHEMA_REGISTRY_* variables; ConfigError naming the bad one (never its secret).
    Credentials written into the URL (http://user:pass@host) move out of it, so no message
    shows them."""
    raw = (env.get(URL_ENV) or "").strip() or default_url(env)
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = urlunsplit(parts._replace(netloc=parts.hostname or "")) if parts.netloc else raw
        raise ConfigError(
            [f"{URL_ENV}: '{shown}' is not an http(s) URL (e.g. http://127.0.0.1:8081)"]
        )
    auth_raw = env.get(AUTH_ENV) or None
    if parts.username is not None:
        if auth_raw is None:
            auth_raw = f"{parts.username}:{parts.password or ''}"
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=host)
    if auth_raw is not None and ":" not in auth_raw:
        raise ConfigError([f"{AUTH_ENV}: expected user:password"])
    ca = env.get(CA_ENV) or env.get("KAFKA_SSL_CA_LOCATION") or None
    return RegistrySettings(
        url=urlunsplit(parts).rstrip("/"),
        basic_auth=Secret(auth_raw) if auth_raw else None,
        ca_location=ca if parts.scheme == "https" else None,
    )
