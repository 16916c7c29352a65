"""The registry's connection settings (SCHEMA_REGISTRY_*), and how its reasons are shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
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


def test_the_secret_is_in_no_output_even_with_verbose(tmp_path: Path) -> None:
    """A real client against a port nothing listens on: exit 4 naming the URL, no secret."""
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "u.json").write_text('{"type": "object"}')
    (tmp_path / "topics.yaml").write_text(
        "version: 1\nprefix: dreamscape.\ndomains:\n  user:\n    owner: user-service\n"
        "topics:\n  - name: dreamscape.user.created\n    schema: schemas/u.json\n"
    )
    env = {
        "SCHEMA_REGISTRY_URL": "http://carol:url-s3cret@127.0.0.1:1/apis/ccompat/v7",
        "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": "bob:env-s3cret",
    }
    result = CliRunner().invoke(
        app,
        ["-v", "-f", str(tmp_path / "topics.yaml"), "schemas", "plan"],
        obj=AppState(environ=env, interactive=False),
    )
    output = result.stdout + result.stderr
    assert result.exit_code == 4, output
    assert "the Schema Registry at http://127.0.0.1:1/apis/ccompat/v7 is unreachable" in output
    assert "s3cret" not in output
