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
_OBJECT_KEYWORDS = frozenset({"required", "properties", "additionalProperties"})
# The same type semantics as jsonschema's draft 2020-12 type checker.
_TYPE_TESTS = {
    "string": "isinstance({v}, str)",
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
    "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))",
    "integer": (
        "((isinstance({v}, int) and not isinstance({v}, bool))"
        " or (isinstance({v}, float) and {v}.is_integer()))"
    ),
}


class UnsupportedSchema(ValueError):
    """The schema uses a keyword the fast test does not implement."""


class _Compiler:
    """Turns a schema into the body of one Python function: straight-line tests, no calls
    per keyword, because the generic interpreter is what makes jsonschema slow."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {"_MISSING": object()}
        self.lines: list[str] = []
        self._counter = 0

    def _fresh(self, stem: str) -> str:
        self._counter += 1
        return f"{stem}{self._counter}"

    def value(self, schema: Mapping[str, Any], var: str, indent: str, where: str) -> None:
        emit = self.lines.append
        # After `if not isinstance(v, str): return False`, string keywords need no guard.
        guard = "" if schema.get("type") == "string" else f"isinstance({var}, str) and "
        for keyword, argument in schema.items():
            if keyword in _ANNOTATIONS or keyword in _OBJECT_KEYWORDS:
                continue  # format is an annotation in 2020-12 unless a checker is asked for
            if keyword == "type":
                names = [argument] if isinstance(argument, str) else list(argument)
                if any(n not in _TYPE_TESTS for n in names):
                    raise UnsupportedSchema(f"{where}: unknown type {argument!r}")
                test = " or ".join(_TYPE_TESTS[n].format(v=var) for n in names)
                emit(f"{indent}if not ({test}): return False")
            elif keyword == "pattern":
                name = self._fresh("_search")
                self.names[name] = re.compile(argument).search  # jsonschema searches too
                emit(f"{indent}if {guard}{name}({var}) is None: return False")
            elif keyword == "minLength":
                emit(f"{indent}if {guard}len({var}) < {int(argument)}: return False")
            else:
                raise UnsupportedSchema(f"{where}: keyword '{keyword}' has no fast implementation")
        if _OBJECT_KEYWORDS & set(schema):
            self._object(schema, var, indent, where)

    def _object(self, schema: Mapping[str, Any], var: str, indent: str, where: str) -> None:
        if schema.get("additionalProperties", True) is not True:
            raise UnsupportedSchema(f"{where}: only additionalProperties true is supported")
        emit = self.lines.append
        if schema.get("type") != "object":
            emit(f"{indent}if isinstance({var}, dict):")  # object keywords ignore other types
            indent += "    "
            emit(f"{indent}pass")
        required = [str(n) for n in schema.get("required", ())]
        if required:
            missing = " or ".join(f"{n!r} not in {var}" for n in required)
            emit(f"{indent}if {missing}: return False")
        for name, sub in schema.get("properties", {}).items():
            item = self._fresh("_v")
            before = len(self.lines)
            if str(name) in required:  # present, checked above
                emit(f"{indent}{item} = {var}[{str(name)!r}]")
                self.value(sub, item, indent, f"{where}.{name}")
            else:
                emit(f"{indent}{item} = {var}.get({str(name)!r}, _MISSING)")
                emit(f"{indent}if {item} is not _MISSING:")
                self.value(sub, item, indent + "    ", f"{where}.{name}")
                if len(self.lines) == before + 2:
                    emit(f"{indent}    pass")


def compile_fast_check(schema: Mapping[str, Any]) -> Callable[[Any], bool]:
    """A function that answers exactly what `Draft202012Validator(schema).is_valid` answers, for
    the keywords the BaseEvent schema uses; raises UnsupportedSchema for any other keyword."""
    compiler = _Compiler()
    compiler.value(schema, "value", "    ", "$")
    source = "def check(value):\n" + "\n".join([*compiler.lines, "    return True"]) + "\n"
    namespace = dict(compiler.names)
    exec(
        compile(source, "<BaseEvent fast check>", "exec"), namespace
    )  # our own code, from the schema
    check: Callable[[Any], bool] = namespace["check"]
    return check


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
    fast test is compiled in the constructor; the jsonschema validator on first need (an
    invalid event, or a schema the fast test cannot compile), so a clean run never pays for
    importing it."""

    def __init__(self, schema: Mapping[str, Any] | None = None) -> None:
        self.schema = dict(schema if schema is not None else event_schema())
        self.known = known_fields(self.schema)
        self._properties: Mapping[str, Any] = self.schema.get("properties", {})
        self._full: Any = None
        try:
            self._fast: Callable[[Any], bool] | None = compile_fast_check(self.schema)
        except UnsupportedSchema:
            self._fast = None  # correct, only slower

    @property
    def validator(self) -> Any:
        """jsonschema's Draft202012Validator for the schema (checked to be a valid schema)."""
        if self._full is None:
            from jsonschema import Draft202012Validator

            Draft202012Validator.check_schema(self.schema)
            self._full = Draft202012Validator(self.schema)
        return self._full

    def is_valid(self, value: Any) -> bool:
        """The schema's verdict (no warnings): the fast test when it compiled, else jsonschema."""
        if self._fast is not None:
            return self._fast(value)
        return bool(self.validator.is_valid(value))

    def field_check(self, name: str) -> Callable[[Any], bool]:
        """The schema's yes/no test for one top-level field's value (compiled like the whole
        envelope's; jsonschema on that field's schema when it does not compile)."""
        schema = self._properties[name]
        try:
            return compile_fast_check(schema)
        except UnsupportedSchema:
            from jsonschema import Draft202012Validator

            return Draft202012Validator(schema).is_valid

    def schema_errors(self, value: Any) -> list[Finding]:
        """Every schema violation as a finding, from jsonschema's own errors."""
        findings: dict[str, Finding] = {}
        for error in sorted(self.validator.iter_errors(value), key=lambda e: list(e.path)):
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
