"""CLI tests of the commands that need no cluster: topics validate/show/schema, --version.

Each bad topics file of test_desired.BAD_FILES must exit 3 with its location on stderr, one
line per problem, and never a traceback; and a file `topics validate` rejects makes every
command that reads it (groups lag, health, acls plan, topics plan/sync) exit 3 with the same
first line, before any client talks to a cluster.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from dreamscape_infra import __version__
from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from tests.test_desired import BAD_FILES, HEAD, SMALL, TWO_TOPICS, BadFile
from tests.topics_files import write_topics

runner = CliRunner()


def invoke(*args: str, environ: dict[str, str] | None = None) -> Result:
    result = runner.invoke(app, list(args), obj=AppState(environ=environ or {}))
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stdout + result.stderr
    # Our errors are handled: the runner never sees a Python exception escape.
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


@pytest.mark.parametrize("case", BAD_FILES)
def test_validate_bad_file_exits_3_with_location(tmp_path: Path, case: BadFile) -> None:
    path = write_topics(tmp_path, case.text)
    result = invoke("--topics-file", str(path), "topics", "validate")
    assert result.exit_code == 3
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines
    assert lines[0].startswith(f"error: {path}")
    # The location and the message are on one line of stderr.
    assert any(all(e in line for e in case.expected) for line in lines), result.stderr


@pytest.mark.parametrize("case", BAD_FILES[:10])
def test_show_bad_file_exits_3_in_json_mode_too(tmp_path: Path, case: BadFile) -> None:
    path = write_topics(tmp_path, case.text)
    result = invoke("--topics-file", str(path), "topics", "show", "--output", "json")
    assert result.exit_code == 3
    assert result.stdout == ""  # no half JSON document
    assert case.expected[0] in result.stderr


def test_several_problems_are_one_line_each(tmp_path: Path) -> None:
    text = HEAD + "  - name: dreamscape.usr.a\n  - name: Dreamscape.user.b\n"
    path = write_topics(tmp_path, text)
    result = invoke("--topics-file", str(path), "topics", "validate")
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2
    assert "topics.yaml:6: topics[0].name: domain 'usr'" in errors[0]
    assert "topics.yaml:7: topics[1].name: 'Dreamscape.user.b'" in errors[1]


def test_missing_file_hints_at_the_option(tmp_path: Path) -> None:
    result = invoke("--topics-file", str(tmp_path / "nope.yaml"), "topics", "validate")
    assert result.exit_code == 3
    assert f"error: {tmp_path / 'nope.yaml'}: file not found" in result.stderr
    assert "hint: pass --topics-file or set DREAMSCAPE_TOPICS_FILE" in result.stderr


def test_validate_full_file() -> None:
    result = invoke("--topics-file", str(SMALL), "topics", "validate")
    assert result.exit_code == 0
    assert "valid" in result.stdout
    assert "7 topics in 4 domains, 2 consumer groups" in result.stdout
    assert "environments: dev, prod" in result.stdout
    assert result.stderr == ""


def test_validate_full_file_json() -> None:
    for args in (
        ("--topics-file", str(SMALL), "topics", "validate", "--output", "json"),
        ("--topics-file", str(SMALL), "--output", "json", "topics", "validate"),
    ):
        result = invoke(*args)
        assert result.exit_code == 0
        doc = json.loads(result.stdout)
        assert doc == {
            "valid": True,
            "file": str(SMALL),
            "topics": 7,
            "domains": 4,
            "consumer_groups": 2,
            "environments": ["dev", "prod"],
        }


def test_show_prod_json() -> None:
    result = invoke("--topics-file", str(SMALL), "topics", "show", "--env", "prod", "-o", "json")
    assert result.exit_code == 0
    doc: dict[str, Any] = json.loads(result.stdout)
    assert doc["environment"] == "prod"
    assert len(doc["topics"]) == 7
    assert len(doc["consumer_groups"]) == 2
    assert {t["replication_factor"] for t in doc["topics"]} == {3}
    assert json.dumps(doc).count('"min.insync.replicas": "2"') == 7


def test_show_env_from_environment_variable() -> None:
    result = runner.invoke(
        app,
        ["--topics-file", str(SMALL), "topics", "show", "-o", "json"],
        obj=AppState(environ={}),
        env={"DREAMSCAPE_ENV": "prod"},
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["environment"] == "prod"


def test_show_table() -> None:
    # The console is created per run, so it sees the COLUMNS the test sets.
    result = runner.invoke(
        app,
        ["--topics-file", str(SMALL), "topics", "show", "--env", "dev"],
        obj=AppState(environ={}),
        env={"COLUMNS": "400"},
    )
    assert result.exit_code == 0
    assert "Desired topics (dev)" in result.stdout
    assert "dreamscape.user.created" in result.stdout
    assert "dreamscape-user-service-group" in result.stdout


def test_unknown_env_exits_3_naming_it() -> None:
    result = invoke("--topics-file", str(SMALL), "topics", "show", "--env", "nope")
    assert result.exit_code == 3
    assert "unknown environment 'nope'" in result.stderr
    assert "--env/DREAMSCAPE_ENV" in result.stderr
    assert "declared: dev, prod" in result.stderr
    assert result.stdout == ""


def test_schema_is_json_with_topics() -> None:
    result = invoke("topics", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "topics" in schema["properties"]
    assert schema["properties"]["topics"]["type"] == "array"
    assert "domains" in schema["required"]


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"dreamscape-infra {__version__}"


def test_topics_file_from_environment_variable(tmp_path: Path) -> None:
    path = write_topics(tmp_path, HEAD + TWO_TOPICS)
    result = runner.invoke(
        app,
        ["topics", "validate", "-o", "json"],
        obj=AppState(environ={}),
        env={"DREAMSCAPE_TOPICS_FILE": str(path)},
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["topics"] == 2


def test_error_output_shows_user_text_verbatim(tmp_path: Path) -> None:
    path = write_topics(tmp_path, "':smile:': 1\n" + HEAD[len("version: 1\n") :] + TWO_TOPICS)
    result = invoke("--topics-file", str(path), "topics", "validate")
    assert result.exit_code == 3
    assert "unknown key ':smile:'" in result.stderr


SEGMENT_1000 = HEAD + "  - name: dreamscape.user.created\n    config:\n      segment.bytes: 1000\n"


def test_segment_bytes_below_the_brokers_minimum_is_refused_located(tmp_path: Path) -> None:
    # A Kafka 4.1 broker refuses segment.bytes < 1 MiB; a file that names no version must suit it.
    path = write_topics(tmp_path, SEGMENT_1000)
    result = invoke("--topics-file", str(path), "topics", "validate")
    assert result.exit_code == 3
    assert "topics.yaml:8: topics[0].config.segment.bytes: must be >= 1048576" in result.stderr


def test_segment_bytes_1000_is_valid_for_a_3_9_cluster(tmp_path: Path) -> None:
    path = write_topics(tmp_path, "settings: {kafka_version: '3.9'}\n" + SEGMENT_1000)
    result = invoke("--topics-file", str(path), "topics", "validate")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("3.9", "settings.kafka_version: expected a string (got 3.9; put it in quotes)"),
        ("'3.8'", "settings.kafka_version: Kafka 3.8 is not supported"),
    ],
)
def test_bad_kafka_version_is_located(tmp_path: Path, setting: str, message: str) -> None:
    path = write_topics(tmp_path, f"settings:\n  kafka_version: {setting}\n" + HEAD + TWO_TOPICS)
    result = invoke("--topics-file", str(path), "topics", "validate")
    assert result.exit_code == 3
    assert f"topics.yaml:2: {message}" in result.stderr


# ---- every command that reads topics.yaml rejects what `topics validate` rejects --------------

NOTHING_LISTENS = "127.0.0.1:1"  # port 1 (tcpmux) is never a broker: a refused connection
READERS_OF_THE_FILE = [
    ["groups", "lag"],
    ["health"],
    ["acls", "plan"],
    ["topics", "plan"],
    ["topics", "sync", "--yes"],
]


class NoCluster:
    """A client of any kind (admin, groups, ACLs) that records every call and answers none."""

    def __init__(self, calls: list[str]) -> None:
        self._calls = calls

    def close(self) -> None:
        """Closing a client that was opened contacts nobody (topics plan opens it first)."""

    def __getattr__(self, name: str) -> Any:
        self._calls.append(name)
        raise AssertionError(f"the cluster was contacted: {name}")


def bad_partitions_file(tmp_path: Path) -> Path:
    text = SMALL.read_text(encoding="utf-8").replace("partitions: 3\n", "partitions: three\n", 1)
    assert "partitions: three" in text
    return write_topics(tmp_path, text)


@pytest.mark.parametrize("command", READERS_OF_THE_FILE, ids=" ".join)
def test_a_file_validate_rejects_fails_every_reader_alike(
    tmp_path: Path, command: list[str]
) -> None:
    path = bad_partitions_file(tmp_path)
    validate = invoke("-f", str(path), "topics", "validate")
    assert validate.exit_code == 3
    first_line = validate.stderr.splitlines()[0]
    assert "partitions: expected an integer" in first_line

    calls: list[str] = []
    state = AppState(
        environ={},
        admin_factory=lambda _s: NoCluster(calls),
        groups_factory=lambda _s: NoCluster(calls),
        acl_admin_factory=lambda _s: NoCluster(calls),
    )
    args = ["--brokers", NOTHING_LISTENS, "-f", str(path), *command]
    result = runner.invoke(app, args, obj=state)
    assert result.exit_code == 3, result.output
    assert result.stderr.splitlines()[0] == first_line
    assert result.stdout == ""
    assert calls == []


@pytest.mark.parametrize("command", READERS_OF_THE_FILE, ids=" ".join)
def test_with_the_real_clients_too_the_file_fails_first(tmp_path: Path, command: list[str]) -> None:
    """No fake: the real adapters, and an address nothing listens on (exit 4 if it were read)."""
    path = bad_partitions_file(tmp_path)
    first_line = invoke("-f", str(path), "topics", "validate").stderr.splitlines()[0]
    result = invoke("--brokers", NOTHING_LISTENS, "-f", str(path), *command)
    assert result.exit_code == 3, result.output
    assert result.stderr.splitlines()[0] == first_line
