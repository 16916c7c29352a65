"""`up --runtime local --profile schema` with the real Apicurio Registry: it starts beside Kafka,
shows in `status`, answers Confluent's client, keeps its subjects over `down`/`up`, and loses
them with `down -v`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from tests.registry_support import require_registry, stack_env

runner = CliRunner()
SCHEMA = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"userId": {"type": "string"}},
    }
)


def _cli(env: Mapping[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), obj=AppState(environ=dict(env), interactive=False))
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def _subjects(url: str) -> list[str]:
    from confluent_kafka.schema_registry import SchemaRegistryClient

    return list(SchemaRegistryClient({"url": url}).get_subjects())


@pytest.mark.kafka
def test_registry_lifecycle_survives_down_and_is_wiped_by_down_v(tmp_path: Path) -> None:
    require_registry()
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    env = stack_env(tmp_path / "state")
    port = env["DREAMSCAPE_SCHEMA_REGISTRY_PORT"]
    url = f"http://127.0.0.1:{port}/apis/ccompat/v7"
    try:
        code, out, err = _cli(env, "up", "-r", "local", "-p", "schema", "--no-sync", "--print-env")
        assert code == 0, err
        assert f"SCHEMA_REGISTRY_URL={url}" in out.splitlines()
        code, out, _ = _cli(env, "status", "-r", "local", "-o", "json")
        assert code == 0
        row = next(s for s in json.loads(out)["services"] if s["name"] == "schema-registry")
        assert (row["state"], row["health"]) == ("running", "healthy")

        client = SchemaRegistryClient({"url": url})
        client.register_schema("it.user-value", Schema(SCHEMA, "JSON"))
        code, out, _ = _cli(env, "logs", "-r", "local", "schema-registry", "--tail", "50")
        assert code == 0
        assert "apicurio" in out.lower()

        assert _cli(env, "down", "-r", "local")[0] == 0
        assert _cli(env, "up", "-r", "local", "-p", "schema", "--no-sync")[0] == 0
        assert _subjects(url) == ["it.user-value"], "the subjects survive down/up"
        latest = SchemaRegistryClient({"url": url}).get_latest_version("it.user-value")
        assert latest.schema.schema_str is not None
        assert json.loads(latest.schema.schema_str)["properties"] == {"userId": {"type": "string"}}

        assert _cli(env, "down", "-r", "local", "-v", "--yes")[0] == 0
        assert not (tmp_path / "state").exists()
        assert _cli(env, "up", "-r", "local", "-p", "schema", "--no-sync")[0] == 0
        assert _subjects(url) == [], "down -v removed them"
    finally:
        _cli(env, "down", "-r", "local", "-v", "--yes")
