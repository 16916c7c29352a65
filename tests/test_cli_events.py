"""`events tail/produce/validate/schema` through the CLI, with fake readers and writers behind
the events Protocols. Exit codes and the important output are exact; never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.events.schema import EnvelopeChecker, event_schema
from tests.events_support import FakeReader, FakeWriter, encoded, event, topics_file

runner = CliRunner()
UC = "dreamscape.user.created"


def invoke(
    tmp_path: Path,
    *args: str,
    reader: FakeReader | None = None,
    writer: FakeWriter | None = None,
    stdin: str | None = None,
) -> Result:
    path = topics_file(tmp_path)
    state = AppState(
        environ={},
        event_reader_factory=(lambda s: reader) if reader is not None else None,
        event_writer_factory=(lambda s: writer) if writer is not None else None,
        plain_tables=True,
    )
    result = runner.invoke(
        app, ["--topics-file", str(path), *args], obj=state, input=stdin, env={"COLUMNS": "200"}
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def populated() -> FakeReader:
    reader = FakeReader()
    reader.add(UC, 0, encoded(event(payload={"userId": "u-1"})), b"u-1", (("trace", b"t1"),))
    reader.add(UC, 1, encoded(event(payload={"userId": "u-2"}, correlationId="corr-9")), b"u-2")
    reader.add(UC, 1, b"not json")
    reader.add(UC, 2, b"\xff\xfe")
    reader.add("dreamscape.payment.completed", 0, encoded(event("payment.completed")))
    reader.add("dreamscape.payment.failed", 0, encoded(event("payment.failed")))
    reader.partition_counts.update({"dreamscape.user.updated": 1, "dreamscape.legacy.audit": 1})
    return reader


def test_tail_table_shows_every_column(tmp_path: Path) -> None:
    reader = populated()
    result = invoke(tmp_path, "events", "tail", UC, "--from-beginning", reader=reader)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"# {UC} (beginning)"
    assert lines[1].split("\t") == [
        "partition",
        "offset",
        "timestamp",
        "key",
        "eventType",
        "source",
        "correlationId",
        "payload",
    ]
    rows = [line.split("\t") for line in lines[2:]]
    assert len(rows) == 4
    assert rows[0] == [
        "0",
        "0",
        "2024-01-15T10:30:00.000Z",
        "u-1",
        "user.created",
        "user-service",
        "corr-123456",
        '{"userId":"u-1"}',
    ]
    assert rows[1][6] == "corr-9"
    assert rows[2][7] == "(not JSON) not json"
    assert rows[3][7].startswith("(not UTF-8, base64) ")
    assert "4 message(s); 2 not JSON" in result.stderr
    assert reader.closed


def test_tail_json_lines(tmp_path: Path) -> None:
    result = invoke(
        tmp_path, "events", "tail", UC, "--from-beginning", "-o", "json", reader=populated()
    )
    assert result.exit_code == 0
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["value_encoding"] for d in docs] == ["json", "json", "text", "base64"]
    assert docs[0]["headers"] == [{"key": "trace", "value": "t1", "encoding": "text"}]
    assert docs[0]["key"] == "u-1"
    assert docs[2]["value"] == "not json"
    assert result.stderr == ""  # JSON mode is quiet


def test_tail_filters_max_and_globs(tmp_path: Path) -> None:
    reader = populated()
    result = invoke(
        tmp_path, "events", "tail", UC, "--from-beginning", "--key", "u-2", reader=reader
    )
    assert result.stdout.count("\n") == 3
    assert "u-2" in result.stdout
    result = invoke(
        tmp_path, "events", "tail", "dreamscape.payment.*", "--from-beginning", reader=populated()
    )
    assert result.exit_code == 0
    assert "topic[partition]" in result.stdout
    assert "dreamscape.payment.completed[0]" in result.stdout
    assert "dreamscape.payment.failed[0]" in result.stdout
    result = invoke(
        tmp_path,
        "events",
        "tail",
        UC,
        "--from-beginning",
        "-n",
        "1",
        "-o",
        "json",
        reader=populated(),
    )
    assert len(result.stdout.splitlines()) == 1
    result = invoke(
        tmp_path,
        "events",
        "tail",
        UC,
        "--from-beginning",
        "--grep",
        "u-1",
        "-o",
        "json",
        reader=populated(),
    )
    assert [json.loads(x)["key"] for x in result.stdout.splitlines()] == ["u-1"]
    result = invoke(
        tmp_path,
        "events",
        "tail",
        "dreamscape.*",
        "--from-beginning",
        "--type",
        "payment.*",
        "-o",
        "json",
        reader=populated(),
    )
    assert len(result.stdout.splitlines()) == 2
    result = invoke(
        tmp_path,
        "events",
        "tail",
        UC,
        "--partition",
        "1",
        "--offset",
        "1",
        "-o",
        "json",
        reader=populated(),
    )
    assert [json.loads(x)["offset"] for x in result.stdout.splitlines()] == [1]


def test_tail_from_the_end_says_how_to_see_older_messages(tmp_path: Path) -> None:
    result = invoke(tmp_path, "events", "tail", UC, reader=populated())
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no messages (reading from the end: add --from-beginning" in result.stderr


def test_tail_of_an_empty_topic_ends(tmp_path: Path) -> None:
    reader = FakeReader()
    reader.partition_counts[UC] = 3
    result = invoke(tmp_path, "events", "tail", UC, "--from-beginning", reader=reader)
    assert result.exit_code == 0
    assert reader.polls == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["dreamscape.user.crated"],
            "error: unknown topic 'dreamscape.user.crated' (nearest "
            "declared: dreamscape.user.created",
        ),
        (["dreamscape.voyage.*"], "error: no topic matches 'dreamscape.voyage.*'"),
        ([UC, "--since", "yesterday"], "error: --since: cannot read 'yesterday'; use a duration"),
        ([UC, "--since", "1h", "--offset", "3"], "error: --since and --offset cannot be combined"),
        ([UC, "--partition", "7"], "error: --partition 7: no selected topic has it"),
    ],
)
def test_tail_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke(tmp_path, "events", "tail", *args, reader=populated())
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(message), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert result.stdout == ""


def test_a_file_topics_validate_rejects_is_rejected_the_same_way(tmp_path: Path) -> None:
    """One loader: the events commands read topics.yaml as `topics validate` does, so a bad
    value is exit 3 with the same located line, before any connection (the real adapters, at an
    address that is never dialled)."""
    path = topics_file(tmp_path)
    text = path.read_text(encoding="utf-8")
    bad = text.replace("user.updated\n    partitions: 1", "user.updated\n    partitions: three")
    assert bad != text
    path.write_text(bad, encoding="utf-8")

    def run(*args: str) -> Result:
        result = runner.invoke(
            app,
            ["--topics-file", str(path), "--brokers", "127.0.0.1:1", *args],
            obj=AppState(environ={}),
        )
        assert "Traceback" not in result.stderr
        return result

    expected = run("topics", "validate")
    assert expected.exit_code == 3
    first = expected.stderr.splitlines()[0]
    assert first == f"error: {path}:14: topics[1].partitions: expected an integer (got 'three')"
    for args in (
        ("events", "tail", UC),
        ("events", "validate", UC),
        ("events", "produce", UC, "--source", "s", "--payload", "{}"),
        ("events", "produce", "other.topic", "--raw", "x", "--allow-undeclared"),
    ):
        result = run(*args)
        assert result.exit_code == 3, (args, result.stderr)
        assert result.stderr.splitlines()[0] == first, args


def test_reading_needs_no_topics_file_and_producing_does(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")

    def run(
        *args: str, reader: FakeReader | None = None, writer: FakeWriter | None = None
    ) -> Result:
        state = AppState(
            environ={},
            event_reader_factory=(lambda s: reader) if reader is not None else None,
            event_writer_factory=(lambda s: writer) if writer is not None else None,
            plain_tables=True,
        )
        return runner.invoke(app, ["--topics-file", missing, *args], obj=state)

    result = run("events", "tail", UC, "--from-beginning", reader=populated())
    assert result.exit_code == 0, result.stderr
    assert "4 message(s)" in result.stderr
    result = run("events", "validate", UC, reader=populated())
    assert result.exit_code == 8  # still checked: two of its values are not JSON
    result = run("events", "produce", UC, "--raw", "x", writer=FakeWriter({UC: 3}))
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: {missing}: file not found")
    writer = FakeWriter({UC: 3})
    result = run("events", "produce", UC, "--raw", "x", "--allow-undeclared", writer=writer)
    assert result.exit_code == 0, result.stderr


def test_no_broker_exits_4(tmp_path: Path) -> None:
    fail = EnvironmentFailure("Kafka is not reachable at x:1", hint="start it")
    for command in ("tail", "validate"):
        result = invoke(tmp_path, "events", command, UC, reader=FakeReader(fail=fail))
        assert result.exit_code == 4
        assert "error: Kafka is not reachable at x:1" in result.stderr
    result = invoke(
        tmp_path,
        "events",
        "produce",
        UC,
        "--source",
        "s",
        "--payload",
        "{}",
        writer=FakeWriter(fail=fail),
    )
    assert result.exit_code == 4


def test_validate_clean_topic_exits_0(tmp_path: Path) -> None:
    reader = FakeReader()
    for i in range(5):
        reader.add(UC, i % 3, encoded(event()))
    reader.add("dreamscape.legacy.audit", 0, encoded(event("audit.login")))
    result = invoke(tmp_path, "events", "validate", UC, "dreamscape.legacy.audit", reader=reader)
    assert result.exit_code == 0, result.stderr
    assert "OK: 6 message(s) checked, 6 valid, 0 invalid, 0 with warnings" in result.stdout


def test_validate_reports_each_problem_with_partition_and_offset(tmp_path: Path) -> None:
    reader = populated()
    reader.add(UC, 0, encoded(event(eventType="user.deleted")))
    reader.add(UC, 0, encoded(event(extra=1)))
    result = invoke(tmp_path, "events", "validate", UC, reader=reader)
    assert result.exit_code == 8
    assert "dreamscape.user.created[1]@1\tthe value is not JSON: 'not json'" in result.stdout
    assert "not-utf8\terror\t1\tdreamscape.user.created[2]@0" in result.stdout
    assert "event-type-mismatch\terror\t1\tdreamscape.user.created[0]@1" in result.stdout
    assert "unknown-field\twarning\t1\tdreamscape.user.created[0]@2" in result.stdout
    assert "FAILED: 6 message(s) checked, 3 valid, 3 invalid, 1 with warnings" in result.stdout
    assert result.stderr.startswith(
        "error: 3 of 6 message(s) violate the envelope; first: dreamscape.user.created partition"
    )


def test_validate_json(tmp_path: Path) -> None:
    result = invoke(tmp_path, "events", "validate", UC, "-o", "json", reader=populated())
    assert result.exit_code == 8
    doc = json.loads(result.stdout)
    assert doc["kind"] == "event-validation"
    assert doc["valid"] is False
    assert doc["summary"] == {"messages": 4, "valid": 2, "invalid": 2, "with_warnings": 0}
    problems = {p["kind"]: p for p in doc["problems"]}
    assert problems["not-json"]["examples"][0] == {
        "topic": UC,
        "partition": 1,
        "offset": 1,
        "message": "the value is not JSON: 'not json'",
    }
    assert doc["topics"] == [{"name": UC, "messages": 4, "invalid": 2}]


def test_validate_max_messages(tmp_path: Path) -> None:
    result = invoke(tmp_path, "events", "validate", UC, "-n", "2", "-o", "json", reader=populated())
    assert json.loads(result.stdout)["summary"]["messages"] == 2
    assert result.exit_code == 0


def _produce(tmp_path: Path, *args: str, writer: FakeWriter | None = None, **kw: Any) -> Result:
    writer = writer or FakeWriter({UC: 3, "other.topic": 1})
    return invoke(tmp_path, "events", "produce", *args, writer=writer, **kw)


def test_produce_builds_a_valid_envelope(tmp_path: Path) -> None:
    writer = FakeWriter({UC: 3})
    result = _produce(
        tmp_path,
        UC,
        "--type",
        "user.created",
        "--source",
        "user-service",
        "--payload",
        '{"userId":"user-123"}',
        "--key",
        "user-123",
        "--correlation-id",
        "c-1",
        "--causation-id",
        "c-0",
        "--metadata",
        '{"ip":"1.2.3.4"}',
        "--header",
        "trace=abc",
        writer=writer,
    )
    assert result.exit_code == 0, result.stderr
    (sent,) = writer.sent
    envelope = json.loads(sent.value or b"")
    assert EnvelopeChecker().check(envelope) == []
    assert envelope["payload"] == {"userId": "user-123"}
    assert envelope["correlationId"] == "c-1"
    assert envelope["causationId"] == "c-0"
    assert envelope["metadata"] == {"ip": "1.2.3.4"}
    assert envelope["timestamp"].endswith("Z")
    assert len(envelope["timestamp"]) == 24
    assert sent.key == b"user-123"
    assert sent.headers == (("trace", b"abc"),)
    assert result.stdout.startswith(f"produced to {UC} partition ")
    assert f"eventId {envelope['eventId']}" in result.stdout


def test_produce_count_type_default_and_payload_sources(tmp_path: Path) -> None:
    writer = FakeWriter({UC: 3})
    payload = tmp_path / "p.json"
    payload.write_text('{\n  "userId": "u"\n}\n')
    result = _produce(
        tmp_path,
        UC,
        "--source",
        "s",
        "--payload",
        f"@{payload}",
        "--count",
        "25",
        "-o",
        "json",
        writer=writer,
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["count"] == doc["delivered"] == 25
    ids = {json.loads(m.value or b"")["eventId"] for m in writer.sent}
    assert len(ids) == 25  # each event its own eventId
    assert {json.loads(m.value or b"")["eventType"] for m in writer.sent} == {"user.created"}
    result = _produce(tmp_path, UC, "--source", "s", "--payload", "-", stdin='{"a": 1}')
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--source", "s", "--payload", '{"a": }'],
            "error: --payload: invalid JSON at line 1 column 7: Expecting value",
        ),
        (
            ["--source", "s", "--payload", '{\n"a": 1,\n}'],
            "error: --payload: invalid JSON at line 3 column 1",
        ),
        (["--source", "s", "--payload", "@/nope.json"], "error: --payload: file not found"),
        (
            ["--source", "s", "--payload", "{}", "--metadata", "[1"],
            "error: --metadata: invalid JSON at line 1 column 3",
        ),
        (["--payload", "{}"], "error: --source is required"),
        (
            ["--source", "s", "--payload", "{}", "--type", "user.deleted"],
            "error: --type 'user.deleted' does not match topic dreamscape.user.created",
        ),
        (
            ["--source", "s", "--payload", "[1]"],
            "error: the event would not be a valid BaseEvent: payload must be a JSON object",
        ),
        (
            ["--source", "s", "--payload", "{}", "--version", ""],
            "error: the event would not be a valid BaseEvent: version '' must not be empty",
        ),
        (["--source", "s"], "error: give exactly one of --payload"),
        (["--raw", "x", "--payload", "{}"], "error: give exactly one of --payload"),
        (["--raw", "x", "--header", "novalue"], "error: --header 'novalue': expected NAME=VALUE"),
    ],
)
def test_produce_bad_input_is_one_line_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    writer = FakeWriter({UC: 3})
    result = _produce(tmp_path, UC, *args, writer=writer)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines()[0].startswith(message), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert writer.sent == []


def test_produce_refuses_an_undeclared_topic_unless_allowed(tmp_path: Path) -> None:
    writer = FakeWriter({UC: 3, "other.topic": 1})
    result = _produce(tmp_path, "dreamscape.user.craeted", "--raw", "x", writer=writer)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: undeclared topic 'dreamscape.user.craeted' (nearest declared: "
        "dreamscape.user.created"
    )
    result = _produce(tmp_path, "other.topic", "--raw", "x", "--allow-undeclared", writer=writer)
    assert result.exit_code == 0
    assert writer.sent[0].value == b"x"
    result = _produce(tmp_path, "missing.topic", "--raw", "x", "--allow-undeclared", writer=writer)
    assert result.exit_code == 4
    assert "topic 'missing.topic' does not exist" in result.stderr


def test_produce_raw_sends_the_value_unchanged(tmp_path: Path) -> None:
    writer = FakeWriter({UC: 3})
    result = _produce(
        tmp_path, UC, "--raw", "not json", "--key", "k", "--count", "3", writer=writer
    )
    assert result.exit_code == 0
    assert [(m.value, m.key) for m in writer.sent] == [(b"not json", b"k")] * 3


def test_produce_reports_undelivered_records_exit_4(tmp_path: Path) -> None:
    result = _produce(tmp_path, UC, "--raw", "x", writer=FakeWriter({UC: 3}, undeliverable=True))
    assert result.exit_code == 4
    assert "FAILED to produce" in result.stdout
    assert "error: 1 of 1 record(s) were not delivered" in result.stderr


def test_tail_json_replays_through_produce_from_file(tmp_path: Path) -> None:
    reader = populated()
    tailed = invoke(tmp_path, "events", "tail", UC, "--from-beginning", "-o", "json", reader=reader)
    writer = FakeWriter({UC: 3})
    result = _produce(tmp_path, UC, "--from-file", "-", stdin=tailed.stdout, writer=writer)
    assert result.exit_code == 0, result.stderr
    original = reader.logs
    expected = [m for part in sorted(original) if part[0] == UC for m in original[part]]
    assert [(m.partition, m.key, m.value, m.headers) for m in writer.sent] == [
        (m.partition, m.key, m.value, m.headers) for m in expected
    ]


def test_replay_refuses_a_missing_partition_and_bad_lines(tmp_path: Path) -> None:
    lines = tmp_path / "lines.jsonl"
    lines.write_text('{"partition": 5, "value": 1, "value_encoding": "json"}\n')
    result = _produce(tmp_path, UC, "--from-file", str(lines))
    assert result.exit_code == 2
    assert "partition 5 does not exist in dreamscape.user.created (3 partitions)" in result.stderr
    lines.write_text('{"value": 1, "value_encoding": "json"}\n{oops\n')
    result = _produce(tmp_path, UC, "--from-file", str(lines))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {lines}:2: invalid JSON at line 1 column 2")


def test_schema_command_prints_the_schema(tmp_path: Path) -> None:
    result = invoke(tmp_path, "events", "schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == event_schema()


def test_help_has_examples() -> None:
    for command in ("tail", "produce", "validate", "schema"):
        result = runner.invoke(app, ["events", command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert "Example: dreamscape-infra events" in result.stdout


def test_tail_on_a_terminal_is_one_aligned_table(tmp_path: Path) -> None:
    reader = populated()
    reader.batch_limit = 1  # four batches
    state = AppState(environ={}, event_reader_factory=lambda s: reader, plain_tables=False)
    result = runner.invoke(
        app,
        ["--topics-file", str(topics_file(tmp_path)), "events", "tail", UC, "--from-beginning"],
        obj=state,
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0
    assert result.stdout.count("correlationId") == 1  # one header for all batches
    widths = {len(line) for line in result.stdout.splitlines()[1:] if "│" in line}
    assert len(widths) == 1  # every row has the same width: the columns line up
