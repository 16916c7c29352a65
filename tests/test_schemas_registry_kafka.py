"""`schemas plan/sync` against the real Apicurio Registry started by the local runtime
(`up --profile schema`): register, a compatible change accepted, an incompatible one refused
with exit 6 and the registry's own reason, --prune, a Confluent client reading the subject
back, and a registry killed with SIGKILL (exit 4 naming it, then a rerun that converges).

One registry for the module; each test has its own topics.yaml prefix, so its subjects are its
own."""

from __future__ import annotations

import copy
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import ExitCode
from dreamscape_infra.runtime.base import UpOptions, no_progress
from dreamscape_infra.runtime.local import LocalRuntime
from tests.registry_support import START_TIMEOUT_S, RegistryStack, registry_stack

pytestmark = pytest.mark.kafka
runner = CliRunner()

PAYLOAD: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "userId": {"type": "string"},
        "email": {"type": "string", "format": "email"},
    },
    "required": ["userId", "email"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryStack]:
    with registry_stack(tmp_path_factory.mktemp("registry") / "state") as running:
        yield running


class Project:
    """A topics.yaml with one topic `<name>.user.created` whose payload schema we edit."""

    def __init__(self, root: Path, name: str, stack: RegistryStack) -> None:
        self.root, self.name, self.stack = root, name, stack
        self.topic = f"{name}.user.created"
        self.subject = f"{self.topic}-value"
        (root / "schemas").mkdir(parents=True)
        (root / "topics.yaml").write_text(
            f"version: 1\nprefix: {name}.\n"
            "domains:\n  user:\n    owner: user-service\n"
            f"topics:\n  - name: {self.topic}\n    schema: schemas/user.created.json\n"
        )
        self.write(PAYLOAD)

    def write(self, payload: dict[str, Any]) -> None:
        (self.root / "schemas" / "user.created.json").write_text(json.dumps(payload, indent=2))

    def cli(self, *args: str) -> tuple[int, str, str]:
        env = {**self.stack.env, "SCHEMA_REGISTRY_URL": self.stack.url}
        state = AppState(environ=env, interactive=False, plain_tables=True)
        result = runner.invoke(app, ["-f", str(self.root / "topics.yaml"), *args], obj=state)
        assert "Traceback" not in result.stdout + result.stderr
        return result.exit_code, result.stdout, result.stderr

    def versions(self) -> list[int]:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        return list(SchemaRegistryClient({"url": self.stack.url}).get_versions(self.subject))


def test_sync_registers_and_a_confluent_client_reads_it_back(
    stack: RegistryStack, tmp_path: Path
) -> None:
    from confluent_kafka.schema_registry import SchemaRegistryClient

    project = Project(tmp_path, "reg", stack)
    assert project.cli("schemas", "plan", "--detailed-exitcode")[0] == ExitCode.CHANGES_PENDING
    code, out, err = project.cli("schemas", "sync")
    assert code == 0, err
    assert "applied version 1" in out
    assert project.cli("schemas", "plan", "--detailed-exitcode")[0] == 0

    client = SchemaRegistryClient({"url": stack.url})
    latest = client.get_latest_version(project.subject)
    assert latest.schema.schema_type == "JSON"
    assert latest.schema.schema_str is not None
    registered = json.loads(latest.schema.schema_str)
    assert registered["properties"]["payload"]["properties"] == PAYLOAD["properties"]
    assert registered["required"][-1] == "payload"
    level = client.get_config(project.subject).compatibility_level
    assert level is not None
    assert level.value == "BACKWARD"


def test_a_compatible_change_is_exit_5_and_becomes_version_2(
    stack: RegistryStack, tmp_path: Path
) -> None:
    project = Project(tmp_path, "compat", stack)
    assert project.cli("schemas", "sync")[0] == 0
    # BACKWARD with a closed object: an optional property may be added (docs/schemas.md)
    added = copy.deepcopy(PAYLOAD)
    added["properties"]["locale"] = {"type": "string"}
    project.write(added)
    code, out, _ = project.cli("schemas", "plan", "--detailed-exitcode")
    assert code == ExitCode.CHANGES_PENDING
    assert f"{project.subject}\tupdate\t" in out
    code, out, _ = project.cli("schemas", "sync")
    assert code == 0
    assert "applied version 2" in out
    assert project.versions() == [1, 2]


def test_an_incompatible_change_is_exit_6_with_the_registry_reason_and_never_registered(
    stack: RegistryStack, tmp_path: Path
) -> None:
    project = Project(tmp_path, "incompat", stack)
    assert project.cli("schemas", "sync")[0] == 0
    changed = copy.deepcopy(PAYLOAD)
    changed["properties"]["userId"] = {"type": "integer"}
    project.write(changed)
    code, out, err = project.cli("schemas", "plan")
    assert code == ExitCode.UNFIXABLE_DRIFT
    assert "SUBSCHEMA_TYPE_CHANGED at payload.userId" in out
    assert "SUBSCHEMA_TYPE_CHANGED at payload.userId" in err
    code, out, _ = project.cli("schemas", "sync", "-o", "json")
    assert code == ExitCode.UNFIXABLE_DRIFT
    (action,) = json.loads(out)["actions"]
    assert action["action"] == "incompatible"
    assert action["reasons"] == ["SUBSCHEMA_TYPE_CHANGED at payload.userId"]
    assert project.versions() == [1], "sync registered nothing"


def test_undeclared_subjects_are_listed_and_pruned_with_yes(
    stack: RegistryStack, tmp_path: Path
) -> None:
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    project = Project(tmp_path, "prune", stack)
    client = SchemaRegistryClient({"url": stack.url})
    stray = "prune.user.deleted-value"
    client.register_schema(stray, Schema(json.dumps(PAYLOAD), "JSON"))
    code, out, _ = project.cli("schemas", "plan")
    assert code == 0
    assert f"{stray}\tundeclared\t" in out
    code, _, err = project.cli("schemas", "sync", "--prune")
    assert code == ExitCode.REFUSED, err
    assert stray in client.get_subjects()
    code, out, err = project.cli("schemas", "sync", "--prune", "--yes")
    assert code == 0, err
    assert stray not in client.get_subjects()
    assert project.subject in client.get_subjects()


def test_killed_registry_is_exit_4_in_seconds_and_a_rerun_converges(
    stack: RegistryStack, tmp_path: Path
) -> None:
    project = Project(tmp_path, "kill", stack)
    assert project.cli("schemas", "sync")[0] == 0
    added = copy.deepcopy(PAYLOAD)
    added["properties"]["nickname"] = {"type": "string"}
    project.write(added)

    pid_file = Path(stack.env["DREAMSCAPE_STATE_DIR"]) / "schema-registry" / "schema-registry.pid"
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    started = time.monotonic()
    code, _, err = project.cli("schemas", "sync")
    assert code == ExitCode.ENVIRONMENT
    assert time.monotonic() - started < 15
    assert f"the Schema Registry at {stack.url} is unreachable" in err

    runtime = LocalRuntime(env=stack.env)
    runtime.up(UpOptions(profiles=("schema",), timeout_s=START_TIMEOUT_S), no_progress)
    assert project.cli("schemas", "sync")[0] == 0
    assert project.cli("schemas", "sync")[0] == 0
    assert project.versions() == [1, 2], "no duplicate version"
    assert project.cli("schemas", "plan", "--detailed-exitcode")[0] == 0
