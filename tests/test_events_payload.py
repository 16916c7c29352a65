"""Declared payload schemas in `events validate` and `events produce`: the failing path is
named, produce refuses a violating payload (exit 3) unless --raw, validate flags what --raw
wrote. Fake reader and writer (tests/events_support.py)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.schemas.desired import load_subjects
from dreamscape_infra.schemas.payload import PayloadChecker, payload_checker
from dreamscape_infra.topics.desired import load_desired
from tests.events_support import FakeReader, FakeWriter, encoded, event, topics_file

runner = CliRunner()
UC = "dreamscape.user.created"
PAYLOAD = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"userId": {"type": "string"}, "email": {"type": "string", "format": "email"}},
    "required": ["userId", "email"],
}


def _project(tmp_path: Path) -> Path:
    path = topics_file(tmp_path)
    text = path.read_text().replace(
        f"  - name: {UC}\n    keyed: true\n",
        f"  - name: {UC}\n    keyed: true\n    schema: schemas/user.created.json\n",
    )
    path.write_text(text)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "user.created.json").write_text(json.dumps(PAYLOAD))
    return path


def _invoke(
    path: Path, *args: str, reader: FakeReader | None = None, writer: FakeWriter | None = None
) -> Result:
    state = AppState(
        environ={},
        event_reader_factory=(lambda s: reader) if reader is not None else None,
        event_writer_factory=(lambda s: writer) if writer is not None else None,
        plain_tables=True,
    )
    result = runner.invoke(app, ["--topics-file", str(path), *args], obj=state)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_errors_name_the_path_in_jsonschema_words(tmp_path: Path) -> None:
    checker = PayloadChecker(load_subjects(load_desired(_project(tmp_path))))
    assert checker.errors(UC, {"userId": "u", "email": "x"}) == [
        "payload.email: 'x' is not a 'email'"
    ]
    assert checker.errors(UC, {"userId": 1}) == [
        "payload: 'email' is a required property",
        "payload.userId: 1 is not of type 'string'",
    ]
    assert checker.errors("dreamscape.user.updated", {"anything": 1}) == []


def test_no_declared_schema_reads_no_file(tmp_path: Path) -> None:
    assert payload_checker(load_desired(topics_file(tmp_path))) is None


def test_produce_refuses_a_violating_payload_with_exit_3_unless_raw(tmp_path: Path) -> None:
    path = _project(tmp_path)
    writer = FakeWriter({UC: 3})
    args = ("events", "produce", UC, "--source", "user-service")
    result = _invoke(path, *args, "--payload", '{"userId": 1, "email": "a@b.c"}', writer=writer)
    assert result.exit_code == 3
    assert "--payload: payload.userId: 1 is not of type 'string'" in result.stderr
    assert "schemas/user.created.json" in result.stderr
    assert writer.sent == []

    good = '{"userId": "u-1", "email": "a@b.c"}'
    assert _invoke(path, *args, "--payload", good, writer=writer).exit_code == 0
    assert len(writer.sent) == 1
    raw = encoded(event(payload={"userId": 1}))
    assert (
        _invoke(path, "events", "produce", UC, "--raw", raw.decode(), writer=writer).exit_code == 0
    )
    assert len(writer.sent) == 2


def test_validate_flags_a_payload_written_with_raw(tmp_path: Path) -> None:
    path = _project(tmp_path)
    reader = FakeReader()
    reader.add(UC, 0, encoded(event(payload={"userId": "u-1", "email": "a@b.c"})))
    reader.add(UC, 1, encoded(event(payload={"userId": 1, "email": "x"})))
    reader.add("dreamscape.user.updated", 0, encoded(event("user.updated", payload={"a": 1})))
    result = _invoke(path, "events", "validate", UC, "dreamscape.user.updated", reader=reader)
    assert result.exit_code == 8
    assert "payload.userId: 1 is not of type 'string'" in result.stdout
    assert "payload.email: 'x' is not a 'email'" in result.stdout
    doc = json.loads(_invoke(path, "events", "validate", UC, "-o", "json", reader=reader).stdout)
    assert doc["summary"]["invalid"] == 1
    assert {p["kind"] for p in doc["problems"]} == {
        "payload:payload.userId",
        "payload:payload.email",
    }
