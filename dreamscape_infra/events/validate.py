"""Checking messages against the BaseEvent envelope and tallying the problems. Pure.

Per message: the value must be UTF-8 JSON, an object, valid against the schema
(`EnvelopeChecker`), and its eventType must match the topic (`envelope.expected_event_type`).
Unknown top-level fields are warnings. The tally keeps counts per kind of problem and the first
few examples of each, with topic, partition and offset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dreamscape_infra.errors import CheckFailed
from dreamscape_infra.events.decode import Decoded, decode_value
from dreamscape_infra.events.envelope import event_type_matches
from dreamscape_infra.events.fastjson import loads_or_none
from dreamscape_infra.events.model import Message
from dreamscape_infra.events.schema import EnvelopeChecker, Finding

MAX_EXAMPLES = 3
# (topic, event) -> the payload's findings against the topic's declared schema (schemas/payload)
PayloadCheck = Callable[[str, Mapping[str, Any]], list[Finding]]


@dataclass(frozen=True, slots=True)
class Example:
    topic: str
    partition: int
    offset: int
    message: str


@dataclass(slots=True)
class ProblemCount:
    kind: str
    severity: str
    count: int = 0
    examples: list[Example] = field(default_factory=list)


def message_findings(
    checker: EnvelopeChecker, message: Message, decoded: Decoded, expected_type: str | None
) -> list[Finding]:
    """Every finding for one message (empty when it is a clean envelope)."""
    if decoded.encoding == "null":
        return [Finding("null-value", "error", "the value is null (a tombstone), not an event")]
    if decoded.encoding == "base64":
        return [Finding("not-utf8", "error", "the value is not UTF-8 text (shown as base64)")]
    if decoded.encoding == "text":
        text = str(decoded.data)
        shown = text if len(text) <= 40 else text[:37] + "..."
        return [Finding("not-json", "error", f"the value is not JSON: {shown!r}")]
    findings = checker.check(decoded.data)
    event = decoded.event
    if expected_type is not None and event is not None:
        found = event.get("eventType")
        if isinstance(found, str) and found and not event_type_matches(found, expected_type):
            findings.append(
                Finding(
                    "event-type-mismatch",
                    "error",
                    f"eventType '{found}' does not match topic {message.topic} "
                    f"(expected '{expected_type}')",
                )
            )
    return findings


class ValidationTally:
    """Accumulates a validation run. `add` is the hot path: a clean event costs one decode, one
    fast schema test and one set comparison."""

    def __init__(
        self,
        checker: EnvelopeChecker,
        expected_types: Mapping[str, str | None],
        max_examples: int = MAX_EXAMPLES,
        payload_check: PayloadCheck | None = None,
        payload_topics: frozenset[str] = frozenset(),
    ) -> None:
        self.checker = checker
        # topics with a declared payload schema skip the fast path: their payloads are checked
        self._payload_check = payload_check
        self._payload_topics = payload_topics
        self.expected_types = dict(expected_types)
        self.max_examples = max_examples
        self.messages = 0
        self.invalid = 0
        self.warned = 0
        self.per_topic: dict[str, list[int]] = {}  # topic -> [messages, invalid]
        self.problems: dict[str, ProblemCount] = {}
        self._known = checker.known
        self._fast_valid = checker.is_valid

    def add(self, message: Message) -> bool:
        """Tally one message; True when it has no error (warnings allowed)."""
        self.messages += 1
        counts = self.per_topic.get(message.topic)
        if counts is None:
            counts = self.per_topic[message.topic] = [0, 0]
        counts[0] += 1
        raw = message.value
        if raw is not None:
            # orjson first: a verdict of "clean" depends only on the top-level fields' types
            # and strings, which orjson reads as Python's json does (it differs only in floats
            # and big integers). Every finding comes from the exact path below.
            data = loads_or_none(raw)
            if type(data) is dict and self._fast_valid(data):
                expected = self.expected_types.get(message.topic)
                event_type = data["eventType"]
                type_ok = expected is None or event_type == expected
                if (
                    type_ok
                    and data.keys() <= self._known
                    and message.topic not in self._payload_topics
                ):
                    return True  # the common case: nothing to record
        decoded = decode_value(raw)
        findings = message_findings(
            self.checker, message, decoded, self.expected_types.get(message.topic)
        )
        if self._payload_check is not None and decoded.event is not None:
            findings += self._payload_check(message.topic, decoded.event)
        errors = False
        warned = False
        for finding in findings:
            if finding.severity == "error":
                errors = True
            else:
                warned = True
            self._record(finding, message)
        if errors:
            self.invalid += 1
            counts[1] += 1
        if warned:
            self.warned += 1
        return not errors

    def _record(self, finding: Finding, message: Message) -> None:
        problem = self.problems.get(finding.kind)
        if problem is None:
            problem = self.problems[finding.kind] = ProblemCount(finding.kind, finding.severity)
        problem.count += 1
        if len(problem.examples) < self.max_examples:
            problem.examples.append(
                Example(message.topic, message.partition, message.offset, finding.message)
            )

    @property
    def valid(self) -> int:
        return self.messages - self.invalid

    @property
    def failed(self) -> bool:
        return self.invalid > 0

    def sorted_problems(self) -> list[ProblemCount]:
        """Errors first, then by count (largest first), then by kind."""
        return sorted(
            self.problems.values(),
            key=lambda p: (p.severity != "error", -p.count, p.kind),
        )

    def tally_batches(
        self, batches: Iterable[Sequence[Message]], max_messages: int | None = None
    ) -> Iterator[int]:
        """Tally the messages of each batch, up to `max_messages` in all (then it stops),
        yielding how many of the batch were tallied."""
        add = self.add
        for batch in batches:
            chunk = batch if max_messages is None else batch[: max_messages - self.messages]
            for message in chunk:
                add(message)
            yield len(chunk)
            if max_messages is not None and self.messages >= max_messages:
                return

    def raise_if_failed(self) -> None:
        """CheckFailed (exit 8) naming how many messages violate the envelope and where the
        first (most frequent) problem is; nothing when every message is valid."""
        if not self.failed:
            return
        example = self.sorted_problems()[0].examples[0]
        raise CheckFailed(
            f"{self.invalid} of {self.messages} message(s) violate the envelope; first: "
            f"{example.topic} partition {example.partition} offset {example.offset}: "
            f"{example.message}"
        )
