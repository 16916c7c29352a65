"""The values of `schemas`, and the `Registry` Protocol the plan reads and the apply writes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from dreamscape_infra.errors import EnvironmentFailure, ExitCode


class RegistryRefused(EnvironmentFailure):
    """The registry answered a write with a 4xx: that action failed, the others may go on.
    (Unreachable, or a 5xx, is a plain EnvironmentFailure: the run stops.)"""


@dataclass(frozen=True, slots=True)
class SubjectSpec:
    """One declared subject: `<topic>-value`, the envelope with the topic's payload schema."""

    subject: str
    topic: str
    schema: dict[str, Any]  # the JSON Schema registered under the subject
    payload: dict[str, Any]  # the payload schema as its file holds it
    compatibility: str
    source: str  # the schema file, as topics.yaml names it
    declared_at: str  # `topics.yaml:61`

    @property
    def text(self) -> str:
        """The schema as registered: canonical JSON, so equal schemas are equal strings."""
        return canonical(self.schema)


def canonical(schema: Any) -> str:
    """Sorted keys, no spaces: two registrations of one schema send the same bytes."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class SubjectState:
    """A subject as the registry holds it."""

    subject: str
    version: int | None  # the latest version; None: no such subject
    schema: Any = None  # the latest version's schema, parsed (None when it is not JSON)
    compatibility: str | None = None  # the subject's level, as the registry reports it


@dataclass(frozen=True, slots=True)
class Verdict:
    """The registry's answer to "is this schema compatible with the subject's latest?"."""

    compatible: bool
    # why not, in the registry's own words (Apicurio: `SUBSCHEMA_TYPE_CHANGED at
    # payload.userId`; Confluent: its verbose messages)
    reasons: tuple[str, ...] = ()


ActionKind = Literal[
    "create",  # a new subject: version 1 (its compatibility set first)
    "update",  # a new version the registry says is compatible
    "incompatible",  # a new version the registry refuses: unfixable, never registered
    "set-compatibility",
    "unchanged",
    "undeclared",  # under the prefix, not in topics.yaml: listed; deleted only with --prune
    "delete",
]


@dataclass(frozen=True, slots=True)
class SchemaAction:
    """One line of the plan."""

    subject: str
    kind: ActionKind
    topic: str | None = None
    compatibility: str | None = None  # the level it gets (create, set-compatibility)
    current: str | None = None  # what the registry has: its level, or `version 3`
    schema_text: str | None = None  # what create/update register
    reasons: tuple[str, ...] = ()  # incompatible: the registry's reasons
    blocked: str | None = None  # why a destructive action will not be applied

    @property
    def pending(self) -> bool:
        """A change sync would make."""
        return self.kind in ("create", "update", "set-compatibility", "delete") and not (
            self.blocked
        )

    @property
    def destructive(self) -> bool:
        return self.kind == "delete"


@dataclass(frozen=True, slots=True)
class SchemaPlan:
    """Every declared subject gets an entry (sorted), then the undeclared ones."""

    actions: tuple[SchemaAction, ...]
    registry: str  # its URL, for the headline

    @property
    def pending(self) -> tuple[SchemaAction, ...]:
        return tuple(a for a in self.actions if a.pending)

    @property
    def unfixable(self) -> tuple[SchemaAction, ...]:
        return tuple(a for a in self.actions if a.kind == "incompatible")

    @property
    def blocked(self) -> tuple[SchemaAction, ...]:
        return tuple(a for a in self.actions if a.blocked)

    def exit_code(self, *, detailed: bool) -> ExitCode:
        """6 when the registry refuses a change (always: it is the CI gate), else with
        `detailed` 5 when changes are pending; 0 otherwise."""
        if self.unfixable:
            return ExitCode.UNFIXABLE_DRIFT
        if detailed and self.pending:
            return ExitCode.CHANGES_PENDING
        return ExitCode.OK


Outcome = Literal["applied", "would-apply", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class SchemaResult:
    action: SchemaAction
    outcome: Outcome
    detail: str = ""  # the registry's error, or what was registered (`version 2`)


@dataclass(frozen=True, slots=True)
class SchemaReport:
    """What `apply_plan` did, in the plan's order."""

    results: tuple[SchemaResult, ...]
    plan: SchemaPlan

    @property
    def failed(self) -> tuple[SchemaResult, ...]:
        return tuple(r for r in self.results if r.outcome == "failed")

    def exit_code(self) -> ExitCode:
        """4 a registry refused a write > 6 an incompatible change remains > 7 a destructive
        change was not confirmed > 0."""
        if self.failed:
            return ExitCode.ENVIRONMENT
        if self.plan.unfixable:
            return ExitCode.UNFIXABLE_DRIFT
        if self.plan.blocked:
            return ExitCode.REFUSED
        return ExitCode.OK


class Registry(Protocol):
    """What `schemas` needs from a Schema Registry (Confluent's API). Methods raise
    `EnvironmentFailure` (exit 4, naming the URL) when it is unreachable or answers 5xx, and
    `RegistryRefused` when it refuses a request (4xx)."""

    url: str  # for messages (never with credentials)

    def subjects(self) -> tuple[str, ...]:
        """Every subject the registry holds."""
        ...

    def subject_state(self, subject: str) -> SubjectState:
        """The subject's latest version and level (version None when there is no subject)."""
        ...

    def check(self, subject: str, schema_text: str) -> Verdict:
        """Ask the registry whether `schema_text` may become the subject's next version."""
        ...

    def set_compatibility(self, subject: str, level: str) -> None: ...

    def register(self, subject: str, schema_text: str) -> int:
        """Register (idempotent for a schema it already holds); returns its version."""
        ...

    def delete_subject(self, subject: str) -> None: ...

    def close(self) -> None: ...
