"""The registry's connection settings (SCHEMA_REGISTRY_*), and how its reasons are shown."""

from __future__ import annotations

import pytest

from dreamscape_infra.errors import ConfigError
from dreamscape_infra.schemas.registry import _pointer_to_field
from dreamscape_infra.schemas.settings import load_registry_settings


def test_default_is_the_local_runtime_registry() -> None:
    assert load_registry_settings({}).url == "http://127.0.0.1:8081/apis/ccompat/v7"
    env = {"DREAMSCAPE_SCHEMA_REGISTRY_PORT": "18081"}
    assert load_registry_settings(env).url == "http://127.0.0.1:18081/apis/ccompat/v7"


def test_credentials_never_stay_in_the_url() -> None:
    settings = load_registry_settings({"SCHEMA_REGISTRY_URL": "https://bob:s3cret@sr.test:8081/"})
    assert settings.url == "https://sr.test:8081"
    assert settings.basic_auth is not None
    assert settings.basic_auth.reveal() == "bob:s3cret"
    assert "s3cret" not in repr(settings)


def test_basic_auth_and_ca() -> None:
    settings = load_registry_settings(
        {
            "SCHEMA_REGISTRY_URL": "https://sr.test",
            "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": "key:secret",
            "KAFKA_SSL_CA_LOCATION": "/ca.pem",
        }
    )
    assert settings.ca_location == "/ca.pem"
    assert "secret" not in repr(settings)
    with pytest.raises(ConfigError, match="expected user:password"):
        load_registry_settings({"SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": "justakey"})


def test_a_bad_url_is_named_without_its_credentials() -> None:
    with pytest.raises(ConfigError) as caught:
        load_registry_settings({"SCHEMA_REGISTRY_URL": "ftp://bob:s3cret@sr.test"})
    (problem,) = caught.value.problems
    assert problem.startswith("SCHEMA_REGISTRY_URL: 'ftp://sr.test' is not an http(s) URL")


def test_apicurio_pointers_become_event_fields() -> None:
    assert (
        _pointer_to_field("SUBSCHEMA_TYPE_CHANGED at /properties/payload/properties/userId")
        == "SUBSCHEMA_TYPE_CHANGED at payload.userId"
    )
    assert _pointer_to_field("X at /definitions/a") == "X at /definitions/a"
