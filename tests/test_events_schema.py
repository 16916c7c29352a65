"""The BaseEvent schema is the one source of truth: the shipped file is current, jsonschema and the
compiled fast check agree on a corpus of good and bad events, and the findings name the problem.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from dreamscape_infra.events.envelope import (
    build_envelope,
    default_event_type,
    encode_event,
    event_type_matches,
    expected_event_type,
    iso_timestamp,
)
from dreamscape_infra.events.schema import (
    EXAMPLE,
    EnvelopeChecker,
    UnsupportedSchema,
    compile_fast_check,
    event_schema,
)
from tests.events_support import event

ROOT = Path(__file__).resolve().parent.parent

GOOD: list[tuple[str, dict[str, Any]]] = [
    ("seed example", dict(EXAMPLE)),
    ("minimal", event(correlationId=None)),
    ("all optional", event(causationId="c-1", metadata={"ip": "10.0.0.1"})),
    ("offset zone", event(timestamp="2024-01-15T10:30:00+02:00")),
    ("no fraction", event(timestamp="2024-01-15T10:30:00Z")),
    ("micro fraction", event(timestamp="2024-01-15T10:30:00.123456Z")),
    ("upper-case uuid", event(eventId="550E8400-E29B-41D4-A716-446655440000")),
    ("empty payload", event(payload={})),
    ("unknown field (a warning)", event(extra=1)),
    ("leap second", event(timestamp="2016-12-31T23:59:60Z")),
    ("nested payload", event(payload={"a": [1, {"b": None}], "c": 1.5})),
    ("empty correlation id", event(correlationId="")),
]

BAD: list[tuple[str, Any, str]] = [
    ("a list", [1, 2], "not-an-object"),
    ("a string", "hello", "not-an-object"),
    ("a number", 42, "not-an-object"),
    ("null", None, "not-an-object"),
    ("no eventId", event(eventId=None), "missing-field:eventId"),
    ("no eventType", event(eventType=None), "missing-field:eventType"),
    ("no timestamp", event(timestamp=None), "missing-field:timestamp"),
    ("no version", event(version=None), "missing-field:version"),
    ("no source", event(source=None), "missing-field:source"),
    ("no payload", event(payload=None), "missing-field:payload"),
    ("eventId not a uuid", event(eventId="evt-1"), "invalid:eventId"),
    (
        "eventId uuid without dashes",
        event(eventId="550e8400e29b41d4a716446655440000"),
        "invalid:eventId",
    ),
    ("eventId a number", event(eventId=12), "wrong-type:eventId"),
    ("eventType a number", event(eventType=3), "wrong-type:eventType"),
    ("eventType empty", event(eventType=""), "invalid:eventType"),
    ("timestamp not ISO", event(timestamp="15/01/2024 10:30"), "invalid:timestamp"),
    ("timestamp without zone", event(timestamp="2024-01-15T10:30:00.000"), "invalid:timestamp"),
    ("timestamp a date", event(timestamp="2024-01-15"), "invalid:timestamp"),
    ("timestamp month 13", event(timestamp="2024-13-15T10:30:00Z"), "invalid:timestamp"),
    ("timestamp epoch millis", event(timestamp=1705314600000), "wrong-type:timestamp"),
    ("version empty", event(version=""), "invalid:version"),
    ("version blank", event(version="   "), "invalid:version"),
    ("version a number", event(version=1.0), "wrong-type:version"),
    ("source empty", event(source=""), "invalid:source"),
    ("source null", event(source=[]), "wrong-type:source"),
    ("payload a string", event(payload="x"), "wrong-type:payload"),
    ("payload a list", event(payload=[1]), "wrong-type:payload"),
    ("metadata a string", event(metadata="m"), "wrong-type:metadata"),
    ("correlationId a number", event(correlationId=7), "wrong-type:correlationId"),
    ("causationId null", event(causationId=False), "wrong-type:causationId"),
]


def test_shipped_schema_is_current() -> None:
    shipped = json.loads((ROOT / "docs" / "event.schema.json").read_text())
    assert shipped == event_schema(), "run: dreamscape-infra events schema > docs/event.schema.json"


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = event_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["required"] == [
        "eventId",
        "eventType",
        "timestamp",
        "version",
        "source",
        "payload",
    ]


@pytest.mark.parametrize(("name", "value"), GOOD, ids=[g[0] for g in GOOD])
def test_good_events_pass_jsonschema_fast_check_and_checker(name: str, value: Any) -> None:
    schema = event_schema()
    assert Draft202012Validator(schema).is_valid(value), name
    assert compile_fast_check(schema)(value), name
    findings = EnvelopeChecker().check(value)
    assert [f for f in findings if f.severity == "error"] == []


@pytest.mark.parametrize(("name", "value", "kind"), BAD, ids=[b[0] for b in BAD])
def test_bad_events_fail_jsonschema_fast_check_and_checker(
    name: str, value: Any, kind: str
) -> None:
    schema = event_schema()
    assert not Draft202012Validator(schema).is_valid(value), name
    assert not compile_fast_check(schema)(value), name
    kinds = [f.kind for f in EnvelopeChecker().check(value) if f.severity == "error"]
    assert kind in kinds, kinds


def test_fast_check_agrees_with_jsonschema_on_every_single_field_mutation() -> None:
    """Every field of a good event replaced by values of every JSON type, or removed."""
    schema = event_schema()
    full = Draft202012Validator(schema)
    fast = compile_fast_check(schema)
    replacements: list[Any] = [
        None,
        True,
        0,
        1.5,
        "",
        " ",
        "x",
        "1.0",
        [],
        {},
        {"a": 1},
        "550e8400-e29b-41d4-a716-446655440000",
        "2024-01-15T10:30:00.000Z",
    ]
    base = event(causationId="c", metadata={})
    checked = 0
    for name in [*base, "unknown"]:
        candidates: list[dict[str, Any]] = [{k: v for k, v in base.items() if k != name}]
        candidates += [{**base, name: r} for r in replacements]
        for candidate in candidates:
            assert fast(candidate) == full.is_valid(candidate), (name, candidate)
            checked += 1
    assert checked > 100


def test_fast_check_refuses_keywords_it_does_not_implement() -> None:
    with pytest.raises(UnsupportedSchema):
        compile_fast_check({"type": "object", "properties": {"a": {"maxLength": 3}}})
    with pytest.raises(UnsupportedSchema):
        compile_fast_check({"type": "object", "additionalProperties": False})
    # A checker over such a schema still works, through jsonschema alone.
    checker = EnvelopeChecker({"type": "object", "properties": {"a": {"maxLength": 3}}})
    assert checker.is_valid({"a": "abc"})
    assert not checker.is_valid({"a": "abcd"})


def test_unknown_fields_are_warnings_only() -> None:
    findings = EnvelopeChecker().check(event(extra=1, other="x"))
    assert {(f.kind, f.severity) for f in findings} == {("unknown-field", "warning")}
    assert len(findings) == 2


def test_findings_say_what_is_wrong() -> None:
    checker = EnvelopeChecker()
    (finding,) = checker.check(event(eventId="evt-1"))
    assert finding.message == "eventId 'evt-1' is not a UUID"
    (finding,) = checker.check(event(version=""))
    assert finding.message == "version '' must not be empty or blank"
    (finding,) = checker.check(event(payload=None))
    assert finding.message == "missing required field 'payload'"


def test_built_envelope_is_valid_and_shaped_like_the_seed() -> None:
    envelope = build_envelope(
        event_type="user.created",
        source="user-service",
        payload={"userId": "user-123"},
        correlation_id="corr-1",
    )
    assert list(envelope) == [
        "eventId",
        "eventType",
        "timestamp",
        "version",
        "source",
        "correlationId",
        "payload",
    ]
    assert EnvelopeChecker().check(envelope) == []
    assert envelope["eventId"][14] == "4"  # a version 4 UUID
    assert envelope["version"] == "1.0"
    assert json.loads(encode_event(envelope)) == envelope


def test_iso_timestamp_has_milliseconds_and_z() -> None:
    import datetime as dt

    moment = dt.datetime(2024, 1, 15, 11, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert iso_timestamp(moment) == "2024-01-15T10:30:00.123Z"
    assert len(iso_timestamp()) == len("2024-01-15T10:30:00.000Z")


def test_event_type_rule() -> None:
    assert default_event_type("dreamscape.user.created", "dreamscape.") == "user.created"
    assert default_event_type("other.topic", "dreamscape.") is None
    overrides = {"dreamscape.legacy.audit": "audit.*", "dreamscape.user.created": None}
    assert expected_event_type("dreamscape.legacy.audit", "dreamscape.", overrides) == "audit.*"
    assert (
        expected_event_type("dreamscape.user.created", "dreamscape.", overrides) == "user.created"
    )
    assert event_type_matches("audit.login", "audit.*")
    assert not event_type_matches("user.created", "audit.*")
    assert event_type_matches("user.created", "user.created")
    assert not event_type_matches("user.created.v2", "user.created")
    assert event_type_matches("anything", "*")


def test_envelope_series_bytes_are_exactly_the_encoded_dict() -> None:
    import uuid

    from dreamscape_infra.events.envelope import EnvelopeSeries, uuid4_strings

    fields: dict[str, Any] = {
        "event_type": "user.created",
        "source": "user-service",
        "payload": {"userId": "user-123", "name": "Zoé", "n": [1, 2.5, None]},
        "correlation_id": "c-1",
        "metadata": {"ip": "1.2.3.4"},
    }
    ids = uuid4_strings(200)
    assert len(set(ids)) == 200
    assert all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in ids)
    series = EnvelopeSeries(**fields)
    checker = EnvelopeChecker()
    for event_id in ids[:50]:
        event, value = series.make(event_id)
        assert value == encode_event(event)
        assert event["eventId"] == event_id
        assert list(event)[:2] == ["eventId", "eventType"]
        assert checker.check(event) == []
    # The marks inside the payload: the splice is not trusted, every event is encoded.
    tricky = EnvelopeSeries(**{**fields, "payload": {"x": "1970-01-01T00:00:00.000Z"}})
    event, value = tricky.make(ids[0])
    assert value == encode_event(event)
    assert json.loads(value)["payload"] == {"x": "1970-01-01T00:00:00.000Z"}
