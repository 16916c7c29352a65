"""The payload check of `events validate` and `events produce`: each topic's declared payload
schema (topics.yaml `schema:`), with jsonschema's own messages and the failing path
(`payload.email: 'x' is not a 'email'`). Formats are checked (email, date-time, uuid ...), as
a consumer that relies on them would. Topics without a schema keep the envelope's rule: any
object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dreamscape_infra.events.schema import Finding
from dreamscape_infra.schemas.model import SubjectSpec
from dreamscape_infra.topics.model import DesiredState


class PayloadChecker:
    """Validators per topic, each built on first use (jsonschema costs ~50 ms to import)."""

    def __init__(self, specs: Sequence[SubjectSpec]) -> None:
        self._specs = {s.topic: s for s in specs}
        self._validators: dict[str, Any] = {}

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._specs)

    def source(self, topic: str) -> str | None:
        spec = self._specs.get(topic)
        return spec.source if spec is not None else None

    def _validator(self, topic: str) -> Any:
        validator = self._validators.get(topic)
        if validator is None:
            from jsonschema import Draft7Validator, FormatChecker

            validator = Draft7Validator(self._specs[topic].payload, format_checker=FormatChecker())
            self._validators[topic] = validator
        return validator

    def errors(self, topic: str, payload: Any) -> list[str]:
        """Every violation of the topic's payload schema, `payload.<path>: <message>`, in path
        order; none for a topic without one."""
        if topic not in self._specs:
            return []
        found = sorted(
            self._validator(topic).iter_errors(payload), key=lambda e: [str(p) for p in e.path]
        )
        return [f"{'.'.join(['payload', *(str(p) for p in e.path)])}: {e.message}" for e in found]

    def findings(self, topic: str, event: Mapping[str, Any]) -> list[Finding]:
        """The payload errors of a decoded event as findings of `events validate` (kind
        `payload:<path>`); none when its payload is not an object (the envelope says so)."""
        payload = event.get("payload")
        if topic not in self._specs or not isinstance(payload, dict):
            return []
        return [
            Finding(f"payload:{message.split(':', 1)[0]}", "error", message)
            for message in self.errors(topic, payload)
        ]


def payload_checker(desired: DesiredState | None) -> PayloadChecker | None:
    """The checker of the declared payload schemas, or None when no topic declares one (no
    file is read then). ConfigError (exit 3) when a declared file is bad."""
    if desired is None or not any(t.schema is not None for t in desired.topics):
        return None
    from dreamscape_infra.schemas.desired import load_subjects

    return PayloadChecker(load_subjects(desired))
