"""The BaseEvent envelope: its JSON Schema (draft 2020-12) and the validator built from it.

`event_schema()` is the one source of truth. `events schema` prints it, docs/event.schema.json
is it (a test keeps the file current), and `EnvelopeChecker` validates with the `jsonschema`
library against it. The topic <-> eventType rule is the only check outside the schema, because
JSON Schema cannot see the topic a message came from.

jsonschema takes ~100 µs per event, too slow for 50,000 events/s. So the checker also compiles
the schema into a fast yes/no test (`compile_fast_check`) that understands only the keywords the
schema uses and refuses to compile anything else. It is derived from the schema at run time, so
the rules cannot drift; only an event the fast test rejects goes through jsonschema, whose errors
make the report. Tests prove the two agree on a corpus of good and bad events.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# ISO 8601 date-time with a zone (Z or ±hh:mm), as RFC 3339 profiles it; fractions optional.
TIMESTAMP_PATTERN = (
    "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    "T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?"
    "(Z|z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
NON_BLANK = "\\S"
REQUIRED = ("eventId", "eventType", "timestamp", "version", "source", "payload")
OPTIONAL = ("correlationId", "causationId", "metadata")

EXAMPLE = {
    "eventId": "550e8400-e29b-41d4-a716-446655440000",
    "eventType": "user.created",
    "timestamp": "2024-01-15T10:30:00.000Z",
    "version": "1.0",
    "source": "user-service",
    "correlationId": "corr-123456",
    "payload": {
        "userId": "user-123",
        "email": "john@example.com",
        "firstName": "John",
        "lastName": "Doe",
    },
}


def event_schema() -> dict[str, Any]:
    """The BaseEvent JSON Schema. Unknown top-level fields are allowed by the schema (services
    may add some) and reported as warnings by the checker."""
    text = {"type": "string", "minLength": 1, "pattern": NON_BLANK}
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": "https://dreamscape.dev/schemas/base-event.schema.json",
        "title": "DreamScape BaseEvent",
        "description": (
            "The envelope every DreamScape event follows. The topic dreamscape.<domain>.<event> "
            "carries eventType <domain>.<event> unless topics.yaml declares `event_type` for it."
        ),
        "type": "object",
        "required": list(REQUIRED),
        "properties": {
            "eventId": {
                "description": "Unique event ID (a UUID, e.g. a UUIDv4).",
                "type": "string",
                "format": "uuid",
                "pattern": UUID_PATTERN,
            },
            "eventType": {
                "description": "Event type, e.g. user.created.",
                **text,
            },
            "timestamp": {
                "description": "ISO 8601 date-time with a zone, e.g. 2024-01-15T10:30:00.000Z.",
                "type": "string",
                "format": "date-time",
                "pattern": TIMESTAMP_PATTERN,
            },
            "version": {"description": "Schema version of the payload, e.g. 1.0.", **text},
            "source": {"description": "The service that produced it, e.g. user-service.", **text},
            "correlationId": {"description": "For distributed tracing.", "type": "string"},
            "causationId": {"description": "The eventId of the causing event.", "type": "string"},
            "metadata": {"description": "Additional metadata.", "type": "object"},
            "payload": {"description": "Event-specific data.", "type": "object"},
        },
        "additionalProperties": True,
        "examples": [EXAMPLE],
    }


def known_fields(schema: Mapping[str, Any]) -> frozenset[str]:
    """The top-level fields the schema declares; any other is a warning."""
    return frozenset(schema.get("properties", {}))


# --- the fast yes/no test, compiled from the schema ------------------------------------------

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "examples", "default", "format"}
)
_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
}


class UnsupportedSchema(ValueError):
    """The schema uses a keyword the fast test does not implement."""


def _type_check(tests: tuple[Callable[[Any], bool], ...]) -> Callable[[Any], bool]:
    return lambda v: any(t(v) for t in tests)


def _pattern_check(regex: re.Pattern[str]) -> Callable[[Any], bool]:
    search = regex.search  # jsonschema searches, it does not match from the start
    return lambda v: not isinstance(v, str) or search(v) is not None


def _min_length_check(minimum: int) -> Callable[[Any], bool]:
    return lambda v: not isinstance(v, str) or len(v) >= minimum


def _compile_value(schema: Mapping[str, Any], where: str) -> Callable[[Any], bool]:
    checks: list[Callable[[Any], bool]] = []
    for keyword, argument in schema.items():
        if keyword in _ANNOTATIONS:
            continue  # format is an annotation in 2020-12 unless a format checker is asked for
        if keyword == "type":
            names = [argument] if isinstance(argument, str) else list(argument)
            checks.append(_type_check(tuple(_TYPES[name] for name in names)))
        elif keyword == "pattern":
            checks.append(_pattern_check(re.compile(argument)))
        elif keyword == "minLength":
            checks.append(_min_length_check(int(argument)))
        elif keyword in ("required", "properties", "additionalProperties"):
            continue  # handled by the object compiler below
        else:
            raise UnsupportedSchema(f"{where}: keyword '{keyword}' has no fast implementation")
    if "required" in schema or "properties" in schema or "additionalProperties" in schema:
        checks.append(_compile_object(schema, where))
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


def _compile_object(schema: Mapping[str, Any], where: str) -> Callable[[Any], bool]:
    if schema.get("additionalProperties", True) is not True:
        raise UnsupportedSchema(f"{where}: only additionalProperties true is supported")
    required = tuple(schema.get("required", ()))
    properties = tuple(
        (name, _compile_value(sub, f"{where}.{name}"))
        for name, sub in schema.get("properties", {}).items()
    )

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True  # like jsonschema: object keywords ignore other types
        for name in required:
            if name not in value:
                return False
        return all(name not in value or test(value[name]) for name, test in properties)

    return check


def compile_fast_check(schema: Mapping[str, Any]) -> Callable[[Any], bool]:
    """A function that answers exactly what `Draft202012Validator(schema).is_valid` answers, for
    the keywords the BaseEvent schema uses; raises UnsupportedSchema for any other keyword."""
    return _compile_value(schema, "$")


# --- findings --------------------------------------------------------------------------------

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem with one message. `kind` groups findings in the report, e.g.
    `missing-field:eventId`, `invalid:timestamp`, `event-type-mismatch`, `unknown-field`."""

    kind: str
    severity: Severity
    message: str


_FORMAT_WORDS = {
    "uuid": "is not a UUID",
    "date-time": "is not an ISO 8601 date-time with a zone (e.g. 2024-01-15T10:30:00.000Z)",
}
_TYPE_WORDS = {"string": "a string", "object": "a JSON object", "array": "an array"}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class EnvelopeChecker:
    """Checks decoded JSON values against the BaseEvent schema. Build it once and reuse it: the
    jsonschema validator and the fast test are compiled in the constructor."""

    def __init__(self, schema: Mapping[str, Any] | None = None) -> None:
        from jsonschema import Draft202012Validator

        self.schema = dict(schema if schema is not None else event_schema())
        Draft202012Validator.check_schema(self.schema)
        self._validator = Draft202012Validator(self.schema)
        self.known = known_fields(self.schema)
        self._properties: Mapping[str, Any] = self.schema.get("properties", {})
        try:
            self._fast: Callable[[Any], bool] | None = compile_fast_check(self.schema)
        except UnsupportedSchema:
            self._fast = None  # correct, only slower

    def is_valid(self, value: Any) -> bool:
        """The schema's verdict (no warnings): the fast test when it compiled, else jsonschema."""
        if self._fast is not None:
            return self._fast(value)
        return bool(self._validator.is_valid(value))

    def schema_errors(self, value: Any) -> list[Finding]:
        """Every schema violation as a finding, from jsonschema's own errors."""
        findings: dict[str, Finding] = {}
        for error in sorted(self._validator.iter_errors(value), key=lambda e: list(e.path)):
            finding = self._finding(error, value)
            # '' breaks both minLength and the pattern: one problem, reported once
            findings.setdefault(finding.kind, finding)
        return list(findings.values())

    def check(self, value: Any) -> list[Finding]:
        """Schema errors (if any) followed by unknown-field warnings."""
        findings = [] if self.is_valid(value) else self.schema_errors(value)
        if isinstance(value, dict):
            for name in value:
                if name not in self.known:
                    findings.append(
                        Finding("unknown-field", "warning", f"unknown top-level field '{name}'")
                    )
        return findings

    def _finding(self, error: Any, value: Any) -> Finding:
        path = [str(p) for p in error.path]
        field = path[0] if path else None
        keyword = str(error.validator)
        if keyword == "required" and not path:
            missing = next((n for n in self.schema["required"] if n not in value), "?")
            return Finding(
                f"missing-field:{missing}", "error", f"missing required field '{missing}'"
            )
        if keyword == "type":
            expected = error.validator_value
            if field is None:
                return Finding(
                    "not-an-object",
                    "error",
                    f"the value is JSON but not an object: {_short(error.instance)}",
                )
            words = _TYPE_WORDS.get(expected, str(expected))
            return Finding(
                f"wrong-type:{field}",
                "error",
                f"{field} must be {words}, got {_short(error.instance)}",
            )
        if field is not None and keyword in ("pattern", "minLength"):
            fmt = self._properties.get(field, {}).get("format")
            if fmt in _FORMAT_WORDS:
                words = _FORMAT_WORDS[fmt]
            elif error.instance == "" or (isinstance(error.instance, str)):
                words = "must not be empty or blank"
            else:
                words = str(error.message)
            return Finding(f"invalid:{field}", "error", f"{field} {_short(error.instance)} {words}")
        where = ".".join(path) or "the event"
        return Finding(f"schema:{keyword}", "error", f"{where}: {error.message}")
