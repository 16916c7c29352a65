"""topics.yaml's `schema:` files -> the subjects they declare, each problem located.

A topic's `schema` names a JSON Schema file (relative to topics.yaml) for its events'
`payload`. Its subject is `<topic>-value` (TopicNameStrategy: what Confluent's serializers and
@kafkajs/confluent-schema-registry look up), and the subject's schema is the BaseEvent envelope
(events/schema.py) with `payload` replaced by the file's schema.

The files are draft-07: Apicurio Registry's JSON Schema compatibility checks understand draft-07
and answer "could not determine version" for 2020-12, Confluent's understand both. So the
registered envelope is the same BaseEvent schema under draft-07 (it uses no keyword that differs).

Every problem is collected, then raised as one ConfigError (exit 3): a missing file, invalid
JSON (`schemas/x.json:3: ...`), a file that is not a valid draft-07 schema (checked against its
meta-schema, with the line of the offending keyword), each naming the topic and the line of
topics.yaml that declares it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dreamscape_infra.errors import ConfigError
from dreamscape_infra.schemas.model import SubjectSpec
from dreamscape_infra.topics.model import DesiredState, TopicSpec

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
_DRAFT_07_ALIASES = (
    DRAFT_07,
    "http://json-schema.org/draft-07/schema",
    DRAFT_07.replace("http:", "https:"),
)


def subject_name(topic: str) -> str:
    """TopicNameStrategy's value subject."""
    return f"{topic}-value"


def envelope_with(topic: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The BaseEvent envelope (draft-07) whose `payload` follows `payload`."""
    from dreamscape_infra.events.schema import event_schema

    base = event_schema()
    inner = {k: v for k, v in payload.items() if k not in ("$schema", "$id")}
    properties = dict(base["properties"])
    properties["payload"] = {"description": properties["payload"]["description"], **inner}
    envelope = {k: v for k, v in base.items() if k not in ("$schema", "$id", "examples")}
    return {
        "$schema": DRAFT_07,
        **envelope,
        "title": f"DreamScape BaseEvent: {topic}",
        "properties": properties,
    }


def load_subjects(desired: DesiredState) -> tuple[SubjectSpec, ...]:
    """Every declared subject, sorted by name; ConfigError with every problem at once."""
    base = Path(desired.source).parent
    problems: list[str] = []
    specs: list[SubjectSpec] = []
    for topic in desired.topics:
        if topic.schema is None:
            continue
        payload = _read_payload_schema(topic, base, problems)
        if payload is None:
            continue
        specs.append(
            SubjectSpec(
                subject=subject_name(topic.name),
                topic=topic.name,
                schema=envelope_with(topic.name, payload),
                payload=payload,
                compatibility=topic.schema.compatibility,
                source=topic.schema.path,
                declared_at=topic.schema.declared_at,
            )
        )
    if problems:
        raise ConfigError(problems, hint="fix the schema file(s) named above; nothing was sent")
    return tuple(sorted(specs, key=lambda s: s.subject))


def _read_payload_schema(
    topic: TopicSpec, base: Path, problems: list[str]
) -> dict[str, Any] | None:
    assert topic.schema is not None
    ref = topic.schema
    named = f"(the schema of {topic.name}, {ref.declared_at})"
    path = base / ref.path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(f"{ref.declared_at}: {topic.name}: schema file {ref.path} not found")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{ref.declared_at}: {topic.name}: cannot read {ref.path}: {exc}")
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(f"{ref.path}:{exc.lineno}: invalid JSON: {exc.msg} {named}")
        return None
    if not isinstance(value, dict):
        problems.append(f"{ref.path}:1: a payload schema must be a JSON object {named}")
        return None
    dialect = value.get("$schema")
    if dialect is not None and dialect not in _DRAFT_07_ALIASES:
        problems.append(
            f"{ref.path}:{_line(text, ('$schema',))}: $schema: '{dialect}' is not draft-07 "
            f"(the registry's compatibility checks need {DRAFT_07}) {named}"
        )
        return None
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft7Validator.check_schema(value)
    except SchemaError as exc:
        where = tuple(exc.path)
        shown = "/".join(str(p) for p in where) or "(top level)"
        problems.append(f"{ref.path}:{_line(text, where)}: {shown}: {exc.message} {named}")
        return None
    if value.get("type", "object") != "object":
        problems.append(
            f"{ref.path}:{_line(text, ('type',))}: type: a payload is an object, not "
            f"{value.get('type')!r} {named}"
        )
        return None
    return value


def _line(text: str, path: tuple[Any, ...]) -> int:
    """The line of `path` in a JSON text (JSON is YAML, whose parser keeps lines)."""
    from dreamscape_infra.yamlsource import YamlSyntaxError, parse_yaml

    try:
        return parse_yaml(text).line_of(path) or 1
    except YamlSyntaxError:
        return 1
