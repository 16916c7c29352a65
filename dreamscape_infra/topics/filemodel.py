"""topics.yaml's structure: the models `load_desired` reads, their validator and their JSON Schema.

The dataclasses below are the one description of the file. A field's annotation says what it
accepts and `about(...)` adds its bounds and its description; `validate` checks a parsed
document against that and builds the models, and `json_schema` describes the same thing to
editors. Validation is strict, as it was under pydantic: nothing is coerced ('3' is not an
integer, 1 is not true), unknown keys are errors, and every problem is collected.

Plain dataclasses rather than pydantic: every command that reads topics.yaml paid ~0.1 s to
import pydantic and build its models, against a start-up budget of 0.25 s for a no-op plan.
"""

from __future__ import annotations

import difflib
import inspect
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from typing import Annotated, Any, Literal, NamedTuple, TypeVar, Union

from dreamscape_infra.topics.model import DEFAULT_PRUNE_MAX_DELETES
from dreamscape_infra.yamlsource import Path

# The prune limits' defaults (PlanOptions and the CLI defer to these). The max-deletes one is
# defined in topics/model.py, which DesiredState's defaults need without this module; the
# min-idle one is the file's own "1h", which model.DEFAULT_PRUNE_MIN_IDLE_MS must equal.
DEFAULT_PRUNE_MIN_IDLE = "1h"

_ABOUT = "dreamscape_infra.about"  # the dataclass field metadata key of `About`


class About(NamedTuple):
    """A field's description and bounds (ge/le for integers, min_length for strings)."""

    description: str | None = None
    ge: int | None = None
    le: int | None = None
    min_length: int | None = None


def about(
    description: str | None = None,
    *,
    ge: int | None = None,
    le: int | None = None,
    min_length: int | None = None,
) -> Mapping[str, About]:
    """Field metadata: `field(default=None, metadata=about("...", ge=1))`."""
    return {_ABOUT: About(description, ge, le, min_length)}


class Expected(NamedTuple):
    """`Annotated` marker: what to call a union's accepted values in a type error."""

    what: str


_PARTITIONS = about(ge=1, le=100_000)
_MAX_LAG_SECONDS = about(
    "The oldest unconsumed message may be at most this old (e.g. 30s, 5m, 1h, or seconds as a "
    "number): `health` is DEGRADED over it and `health rules` alerts on it."
)
_REPLICATION = about(ge=1, le=32)


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultsModel:
    """Partitions, replication factor and topic configs applied unless a topic overrides them."""

    partitions: int | None = field(default=None, metadata=_PARTITIONS)
    replication_factor: int | None = field(default=None, metadata=_REPLICATION)
    config: dict[str, Any] = field(
        default_factory=dict,
        metadata=about("Kafka topic-level configs, e.g. retention.ms (7d or 604800000)."),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainModel:
    """A business domain: the second segment of its topics' names."""

    owner: str = field(metadata=about("The service that owns (produces) the domain's topics."))
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicModel:
    """One topic, named dreamscape.<domain>.<event>[.<sub-event>]."""

    name: str
    partitions: int | None = field(default=None, metadata=_PARTITIONS)
    replication_factor: int | None = field(default=None, metadata=_REPLICATION)
    config: dict[str, Any] = field(default_factory=dict)
    keyed: bool = field(
        default=False,
        metadata=about("Messages are keyed, so adding partitions remaps keys (needs a flag)."),
    )
    owner: str | None = field(default=None, metadata=about("Overrides the domain's owner."))
    description: str | None = None
    event_type: str | None = field(
        default=None,
        metadata=about(
            "The eventType its messages carry, checked by `events validate`; a glob such as "
            "'payment.*', or '*' for any. Default: the name without the prefix "
            "(dreamscape.user.created carries user.created).",
            min_length=1,
        ),
    )
    schema: str | None = field(
        default=None,
        metadata=about(
            "A JSON Schema file (draft-07, relative to this file) that its events' payload "
            "follows, e.g. schemas/user.created.json: checked by `events validate`/`produce`, "
            "registered as subject <topic>-value by `schemas sync`. Unset: any object.",
            min_length=1,
        ),
    )
    compatibility: str | None = field(
        default=None,
        metadata=about(
            "The Schema Registry compatibility of its subject (BACKWARD, FORWARD, FULL, their "
            "_TRANSITIVE forms, NONE). Default: settings.schema_compatibility."
        ),
    )
    max_lag_seconds: str | int | None = field(default=None, metadata=_MAX_LAG_SECONDS)


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicOverrideModel:
    """An environment's override for one topic."""

    partitions: int | None = field(default=None, metadata=_PARTITIONS)
    replication_factor: int | None = field(default=None, metadata=_REPLICATION)
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvironmentModel:
    """A named overlay, selected with --env or DREAMSCAPE_ENV."""

    description: str | None = None
    defaults: DefaultsModel = field(default_factory=DefaultsModel)
    topics: dict[str, TopicOverrideModel] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupModel:
    """A consumer group, named dreamscape-<service>-group."""

    name: str
    service: str
    topics: list[str] = field(default_factory=list)
    description: str | None = None
    max_lag_seconds: str | int | None = field(default=None, metadata=_MAX_LAG_SECONDS)


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsModel:
    """How sync behaves."""

    strict_configs: bool = field(
        default=False,
        metadata=about("Delete topic-level overrides that topics.yaml does not declare."),
    )
    prune_max_deletes: int = field(
        default=DEFAULT_PRUNE_MAX_DELETES,
        metadata=about("At most this many deletions per run.", ge=1),
    )
    kafka_version: str | None = field(
        default=None,
        metadata=about(
            "The Kafka version of the cluster this file targets, quoted (e.g. '3.9' or '4.1'): "
            "configs are checked against it. Unset: valid on every supported version."
        ),
    )
    prune_min_idle: str | int = field(
        default=DEFAULT_PRUNE_MIN_IDLE,
        metadata=about("--prune refuses topics with messages newer than this (e.g. 1h, 7d)."),
    )
    schema_compatibility: str = field(
        default="BACKWARD",
        metadata=about(
            "The Schema Registry compatibility of every subject `schemas sync` manages, unless "
            "a topic sets its own `compatibility`."
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PrefixModel:
    """Every topic whose name starts with `prefix`, now and later (a PREFIXED ACL)."""

    prefix: str = field(metadata=about("A name prefix, e.g. dreamscape.analytics."))


TopicPatternModel = Annotated[str | PrefixModel, Expected("a topic name, a glob or {prefix: ...}")]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceModel:
    """A service (a Kafka client): its principal and the access it needs, for ACLs.

    `produces` and `consumes` list topic names, globs (`dreamscape.auth.*`, expanded against
    the declared topics) or `{prefix: ...}` entries (one PREFIXED ACL).
    """

    principal: str | None = field(
        default=None,
        metadata=about("The Kafka principal, e.g. User:auth-service (default User:<name>)."),
    )
    produces: list[TopicPatternModel] = field(
        default_factory=list,
        metadata=about("Topics it writes: names, globs or {prefix: ...}."),
    )
    consumes: list[TopicPatternModel] | None = field(
        default=None,
        metadata=about("Topics it reads (default: the topics of its consumer group)."),
    )
    group: str | None = field(
        default=None,
        metadata=about(
            "Its consumer group, dreamscape-<service>-group (default: the consumer_groups "
            "entry of this service, if any)."
        ),
    )
    retired: bool = field(
        default=False,
        metadata=about(
            "No access: its principal's ACLs stay managed, so `acls sync --prune` removes them."
        ),
    )
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicsFileModel:
    """The whole of topics.yaml."""

    version: Literal[1] = 1
    prefix: str = field(
        default="dreamscape.",
        metadata=about("The managed prefix; others are ignored."),
    )
    defaults: DefaultsModel = field(default_factory=DefaultsModel)
    settings: SettingsModel = field(default_factory=SettingsModel)
    domains: dict[str, DomainModel]
    topics: list[TopicModel]
    consumer_groups: list[GroupModel] = field(default_factory=list)
    environments: dict[str, EnvironmentModel] = field(default_factory=dict)
    services: dict[str, ServiceModel] = field(
        default_factory=dict,
        metadata=about("Kafka clients by name, for `acls plan/sync` and the Strimzi export."),
    )


# --- what the annotations mean: kinds -------------------------------------------------------
# The validator's own descriptors (these kinds, FieldSpec, About, Expected) are NamedTuples, not
# frozen dataclasses like the models: they never leave this module, and a frozen dataclass
# costs ~0.8 ms to create on Python 3.11 against ~0.1 ms, which every command that reads a
# changed topics.yaml pays at start-up (~9 ms for the eleven of them). Never compare two kinds:
# as tuples, ListOf(x) == MapOf(x).


class Scalar(NamedTuple):
    """A string, an integer (never a bool) or a bool, with the field's bounds."""

    type: type[str] | type[int] | type[bool]
    ge: int | None = None
    le: int | None = None
    min_length: int | None = None


class Const(NamedTuple):
    """Exactly this value (and of its type: true is not 1)."""

    value: int


class AnyValue(NamedTuple):
    """Anything (topic config values: their own checker knows each one)."""


class Nullable(NamedTuple):
    """`inner`, or null."""

    inner: Kind


class ListOf(NamedTuple):
    """A list of `item`."""

    item: Kind


class MapOf(NamedTuple):
    """A mapping from strings to `value`."""

    value: Kind


class Record(NamedTuple):
    """A mapping with the fields of `model`, and no others."""

    model: type[Any]


class OneOf(NamedTuple):
    """The first option that takes a value of this shape (a string, a mapping ...) decides."""

    options: tuple[Kind, ...]
    expected: str | None = None  # how a type error names the options; None: list them


Kind = Scalar | Const | AnyValue | Nullable | ListOf | MapOf | Record | OneOf


class FieldSpec(NamedTuple):
    """One key of a record: what it accepts, whether it must be there, and its docs."""

    name: str
    kind: Kind
    required: bool
    default: Any  # MISSING when required or built by a factory
    description: str | None


_FIELDS: dict[type[Any], dict[str, FieldSpec]] = {}


def fields_of(model: type[Any]) -> dict[str, FieldSpec]:
    """The fields of a model dataclass, in declaration order, read from their annotations."""
    specs = _FIELDS.get(model)
    if specs is None:
        hints = typing.get_type_hints(model, include_extras=True)
        specs = {}
        for f in fields(model):
            meta = f.metadata.get(_ABOUT, About())
            specs[f.name] = FieldSpec(
                name=f.name,
                kind=_kind(hints[f.name], meta),
                required=f.default is MISSING and f.default_factory is MISSING,
                default=f.default,
                description=meta.description,
            )
        _FIELDS[model] = specs
    return specs


def _kind(annotation: Any, meta: About, expected: str | None = None) -> Kind:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        marks = [m.what for m in annotation.__metadata__ if isinstance(m, Expected)]
        return _kind(args[0], meta, marks[0] if marks else expected)
    if annotation is Any:
        return AnyValue()
    if annotation in (str, int, bool):
        return Scalar(annotation, meta.ge, meta.le, meta.min_length)
    if origin is Literal and len(args) == 1 and type(args[0]) is int:
        return Const(args[0])
    if origin in (Union, types.UnionType):
        options = tuple(_kind(a, meta) for a in args if a is not type(None))
        kind: Kind = options[0] if len(options) == 1 else OneOf(options, expected)
        return Nullable(kind) if type(None) in args else kind
    if origin is list:
        return ListOf(_kind(args[0], About()))
    if origin is dict and args[0] is str:
        return MapOf(_kind(args[1], About()))
    if isinstance(annotation, type) and is_dataclass(annotation):
        return Record(annotation)
    raise TypeError(f"topics.yaml's models cannot declare a field of type {annotation!r}")


# --- validation -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """A structural problem at `path` of the document."""

    path: Path
    message: str


M = TypeVar("M")
_INVALID: Any = object()  # what a value with problems turns into


def validate(model: type[M], data: Any) -> tuple[M | None, tuple[Problem, ...]]:
    """Check `data` (a parsed document) against `model` and build it.

    Returns the model and no problems, or None and every problem found, in document order.
    Guarantees for a model returned: every field has its annotated type (bools are not
    integers, numbers are not strings), every bound holds, no key is unknown.
    """
    problems: list[Problem] = []
    value = _check(Record(model), data, (), problems)
    return (None if problems else value), tuple(problems)


def _check(kind: Kind, value: Any, path: Path, problems: list[Problem]) -> Any:
    """`value` as the model holds it, or _INVALID once its problems are added."""
    match kind:
        case AnyValue():
            return value
        case Nullable(inner):
            return None if value is None else _check(inner, value, path, problems)
        case Scalar():
            return _scalar(kind, value, path, problems)
        case Const(expected):
            if type(value) is type(expected) and value == expected:
                return value
            return _wrong(kind, value, path, problems)
        case ListOf(item):
            if not isinstance(value, list):
                return _wrong(kind, value, path, problems)
            items = [_check(item, v, (*path, i), problems) for i, v in enumerate(value)]
            return _INVALID if any(v is _INVALID for v in items) else items
        case MapOf(item):
            if not isinstance(value, dict):
                return _wrong(kind, value, path, problems)
            entries = {k: _check(item, v, (*path, k), problems) for k, v in value.items()}
            return _INVALID if any(v is _INVALID for v in entries.values()) else entries
        case Record(model):
            return _record(model, value, path, problems)
        case OneOf(options):
            for option in options:
                if _takes_shape(option, value):
                    return _check(option, value, path, problems)
            return _wrong(kind, value, path, problems)
    raise AssertionError(f"unreachable: {kind!r}")


def _record(model: type[Any], value: Any, path: Path, problems: list[Problem]) -> Any:
    if not isinstance(value, dict):
        return _wrong(Record(model), value, path, problems)
    specs = fields_of(model)
    before = len(problems)
    given: dict[str, Any] = {}
    for key, item in value.items():
        spec = specs.get(key)
        if spec is None:
            problems.append(
                Problem(path, f"unknown key '{key}'{did_you_mean(str(key), list(specs))}")
            )
            continue
        given[key] = _check(spec.kind, item, (*path, key), problems)
    for name, spec in specs.items():
        if spec.required and name not in value:
            problems.append(Problem(path, f"missing required key '{name}'"))
    return model(**given) if len(problems) == before else _INVALID


def _scalar(kind: Scalar, value: Any, path: Path, problems: list[Problem]) -> Any:
    if not _takes_shape(kind, value):
        return _wrong(kind, value, path, problems)
    before = len(problems)
    if kind.ge is not None and value < kind.ge:
        problems.append(Problem(path, f"must be at least {kind.ge} (got {value})"))
    if kind.le is not None and value > kind.le:
        problems.append(Problem(path, f"must be at most {kind.le} (got {value})"))
    if kind.min_length is not None and len(value) < kind.min_length:
        problems.append(
            Problem(
                path,
                "must not be empty"
                if kind.min_length == 1
                else f"must be at least {kind.min_length} characters long",
            )
        )
    return value if len(problems) == before else _INVALID


def _takes_shape(kind: Kind, value: Any) -> bool:
    """Whether `value` is of the basic type `kind` takes (a OneOf hands it to that option)."""
    match kind:
        case Scalar(type=t):
            # bool is a subclass of int, but YAML's true is not a count
            return type(value) is int if t is int else isinstance(value, t)
        case Const(expected):
            return type(value) is type(expected)
        case ListOf():
            return isinstance(value, list)
        case MapOf() | Record():
            return isinstance(value, dict)
        case Nullable(inner):
            return value is None or _takes_shape(inner, value)
        case OneOf(options):
            return any(_takes_shape(o, value) for o in options)
    return True  # AnyValue


def _wrong(kind: Kind, value: Any, path: Path, problems: list[Problem]) -> Any:
    hint = ""
    if _expects_string(kind) and type(value) in (int, float):
        hint = "; put it in quotes"
    problems.append(Problem(path, f"expected {_expected(kind)} (got {_shown(value)}{hint})"))
    return _INVALID


def _expects_string(kind: Kind) -> bool:
    inner = kind.inner if isinstance(kind, Nullable) else kind
    return isinstance(inner, Scalar) and inner.type is str


def _expected(kind: Kind) -> str:
    match kind:
        case Scalar(type=t):
            return {str: "a string", int: "an integer", bool: "true or false"}[t]
        case Const(value):
            return repr(value)
        case ListOf():
            return "a list"
        case MapOf() | Record():
            return "a mapping"
        case Nullable(inner):
            return _expected(inner)
        case OneOf(options, expected):
            return expected or " or ".join(_expected(o) for o in options)
    return "a value"  # AnyValue takes anything


def _shown(value: Any) -> str:
    """A value as the YAML it came from: 'text', 3, true, null, or its kind for the others."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"  # YAML dates and timestamps


def did_you_mean(word: str, choices: list[str]) -> str:
    """ " (did you mean 'x'?)" for the choice closest to `word`, or "" when none is close."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --- the JSON Schema ----------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of topics.yaml, for editors (yaml-language-server).

    Made from the same field descriptions as `validate`, so the two accept the same documents;
    the one difference is JSON's: a whole float such as 3.0 is an integer to JSON Schema.
    """
    defs: dict[str, Any] = {}
    root = _record_schema(TopicsFileModel, defs)
    del defs[TopicsFileModel.__name__]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "dreamscape-infra topics.yaml",
        **root,
        "$defs": dict(sorted(defs.items())),
    }


def _record_schema(model: type[Any], defs: dict[str, Any]) -> dict[str, Any]:
    if model.__name__ in defs:
        return defs[model.__name__]  # type: ignore[no-any-return]
    schema: dict[str, Any] = {}
    defs[model.__name__] = schema  # before its fields, which may refer to it
    if model.__doc__:
        schema["description"] = inspect.cleandoc(model.__doc__)
    schema["type"] = "object"
    specs = fields_of(model).values()
    schema["properties"] = {spec.name: _field_schema(spec, defs) for spec in specs}
    required = [spec.name for spec in specs if spec.required]
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def _field_schema(spec: FieldSpec, defs: dict[str, Any]) -> dict[str, Any]:
    described = {"description": spec.description} if spec.description else {}
    default = {"default": spec.default} if spec.default is not MISSING else {}
    return described | _schema(spec.kind, defs) | default


def _schema(kind: Kind, defs: dict[str, Any]) -> dict[str, Any]:
    match kind:
        case Scalar(type=t, ge=ge, le=le, min_length=min_length):
            out: dict[str, Any] = {"type": {str: "string", int: "integer", bool: "boolean"}[t]}
            bounds = {"minimum": ge, "maximum": le, "minLength": min_length}
            return out | {k: v for k, v in bounds.items() if v is not None}
        case Const(value):
            return {"type": "integer", "const": value}
        case AnyValue():
            return {}
        case Nullable(inner):
            schema = _schema(inner, defs)
            if isinstance(schema.get("type"), str):
                return schema | {"type": [schema["type"], "null"]}
            return {"anyOf": [schema, {"type": "null"}]}
        case ListOf(item):
            return {"type": "array", "items": _schema(item, defs)}
        case MapOf(value):
            return {"type": "object", "additionalProperties": _schema(value, defs)}
        case Record(model):
            _record_schema(model, defs)
            return {"$ref": f"#/$defs/{model.__name__}"}
        case OneOf(options):
            return {"anyOf": [_schema(o, defs) for o in options]}
    raise AssertionError(f"unreachable: {kind!r}")
