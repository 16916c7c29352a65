"""Payload schemas as code: topics.yaml's `schema`/`compatibility`, the schema files, and the
subjects built from them. Pure: files in a temporary folder, no registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dreamscape_infra.errors import ConfigError
from dreamscape_infra.schemas.desired import DRAFT_07, envelope_with, load_subjects
from dreamscape_infra.topics.desired import load_desired

PAYLOAD: dict[str, Any] = {
    "$schema": DRAFT_07,
    "type": "object",
    "properties": {"userId": {"type": "string"}, "email": {"type": "string", "format": "email"}},
    "required": ["userId"],
    "additionalProperties": False,
}


def _topics(tmp_path: Path, topics: str, settings: str = "") -> Path:
    path = tmp_path / "topics.yaml"
    path.write_text(
        "version: 1\nprefix: dreamscape.\n"
        f"settings:\n  strict_configs: false\n{settings}"
        "domains:\n  user:\n    owner: user-service\n"
        f"topics:\n{topics}",
        encoding="utf-8",
    )
    return path


def _schema_file(tmp_path: Path, name: str, content: Any) -> None:
    path = tmp_path / "schemas" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))


TWO_TOPICS = """\
  - name: dreamscape.user.created
    schema: schemas/user.created.json
  - name: dreamscape.user.deleted
    schema: schemas/user.deleted.json
    compatibility: FULL
  - name: dreamscape.user.updated
"""


def test_subjects_are_topic_value_with_the_envelope_and_the_levels(tmp_path: Path) -> None:
    _schema_file(tmp_path, "user.created.json", PAYLOAD)
    _schema_file(tmp_path, "user.deleted.json", {"type": "object"})
    desired = load_desired(_topics(tmp_path, TWO_TOPICS))
    created = desired.topic("dreamscape.user.created")
    assert created is not None
    assert created.schema is not None
    assert created.schema.declared_at == f"{tmp_path / 'topics.yaml'}:10"
    assert desired.topic("dreamscape.user.updated").schema is None  # type: ignore[union-attr]

    specs = load_subjects(desired)
    assert [(s.subject, s.compatibility) for s in specs] == [
        ("dreamscape.user.created-value", "BACKWARD"),  # the settings' default
        ("dreamscape.user.deleted-value", "FULL"),  # the topic's own
    ]
    envelope = specs[0].schema
    assert envelope["$schema"] == DRAFT_07
    assert envelope["required"] == [
        "eventId",
        "eventType",
        "timestamp",
        "version",
        "source",
        "payload",
    ]
    payload = envelope["properties"]["payload"]
    assert payload["properties"] == PAYLOAD["properties"]
    assert payload["additionalProperties"] is False
    assert "$schema" not in payload
    assert "examples" not in envelope
    assert json.loads(specs[0].text) == envelope


def test_settings_default_level_applies(tmp_path: Path) -> None:
    _schema_file(tmp_path, "user.created.json", PAYLOAD)
    path = _topics(
        tmp_path,
        "  - name: dreamscape.user.created\n    schema: schemas/user.created.json\n",
        settings="  schema_compatibility: FORWARD_TRANSITIVE\n",
    )
    (spec,) = load_subjects(load_desired(path))
    assert spec.compatibility == "FORWARD_TRANSITIVE"


def test_unknown_levels_and_a_level_without_schema_are_located(tmp_path: Path) -> None:
    path = _topics(
        tmp_path,
        "  - name: dreamscape.user.created\n    schema: schemas/x.json\n"
        "    compatibility: BACKWARDS\n"
        "  - name: dreamscape.user.updated\n    compatibility: FULL\n",
        settings="  schema_compatibility: full\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_desired(path)
    problems = caught.value.problems
    assert any(
        p.endswith(
            ":5: settings.schema_compatibility: unknown compatibility 'full' "
            "(expected one of BACKWARD, BACKWARD_TRANSITIVE, FORWARD, "
            "FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE)"
        )
        for p in problems
    ), problems
    assert any(
        ":12: topics[0].compatibility: unknown compatibility 'BACKWARDS' (did you mean "
        "'BACKWARD'?)" in p
        for p in problems
    ), problems
    assert any(
        "topics[1].compatibility: has no effect without a `schema`" in p for p in problems
    ), problems


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"type": "object",\n  "properties": {\n', "schemas/user.created.json:3: invalid JSON"),
        ("[1, 2]", "schemas/user.created.json:1: a payload schema must be a JSON object"),
        (
            {"type": "object", "properties": {"userId": {"type": "strin"}}},
            "schemas/user.created.json:5: properties/userId/type: 'strin' is not valid",
        ),
        (
            {"type": "object", "required": "userId"},
            "schemas/user.created.json:3: required: 'userId' is not of type 'array'",
        ),
        (
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"},
            "schemas/user.created.json:2: $schema: 'https://json-schema.org/draft/2020-12/"
            "schema' is not draft-07",
        ),
        ({"type": "string"}, "schemas/user.created.json:2: type: a payload is an object"),
    ],
)
def test_a_bad_schema_file_is_exit_3_with_its_line_and_the_topic(
    tmp_path: Path, content: Any, expected: str
) -> None:
    _schema_file(tmp_path, "user.created.json", content)
    path = _topics(
        tmp_path, "  - name: dreamscape.user.created\n    schema: schemas/user.created.json\n"
    )
    desired = load_desired(path)  # topics commands never read the schema files
    with pytest.raises(ConfigError) as caught:
        load_subjects(desired)
    (problem,) = caught.value.problems
    assert problem.startswith(expected), problem
    assert problem.endswith(f"(the schema of dreamscape.user.created, {path}:10)")
    assert caught.value.exit_code == 3


def test_every_missing_file_is_reported_at_once(tmp_path: Path) -> None:
    path = _topics(tmp_path, TWO_TOPICS)
    with pytest.raises(ConfigError) as caught:
        load_subjects(load_desired(path))
    assert caught.value.problems == [
        f"{path}:10: dreamscape.user.created: schema file schemas/user.created.json not found",
        f"{path}:12: dreamscape.user.deleted: schema file schemas/user.deleted.json not found",
    ]


def test_envelope_keeps_the_base_event_rules() -> None:
    envelope = envelope_with("dreamscape.user.created", {"type": "object", "$id": "x"})
    assert envelope["title"] == "DreamScape BaseEvent: dreamscape.user.created"
    assert envelope["properties"]["eventId"]["format"] == "uuid"
    assert envelope["properties"]["payload"] == {
        "description": "Event-specific data.",
        "type": "object",
    }


def test_the_shipped_example_is_a_valid_subject() -> None:
    root = Path(__file__).resolve().parent.parent
    (spec,) = [
        s
        for s in load_subjects(load_desired(root / "topics.yaml"))
        if s.topic == "dreamscape.user.created"
    ]
    assert set(spec.payload["properties"]) == {"userId", "email", "firstName", "lastName"}
