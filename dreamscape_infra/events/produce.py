"""What `events produce` sends: envelopes built from the command's options, each checked against
the schema before anything is sent, and the sending itself through an `EventWriter`.

Pure apart from the writer, the clock and the random eventIds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dreamscape_infra.errors import EnvironmentFailure, UsageError
from dreamscape_infra.events.envelope import EnvelopeSeries, event_type_matches, uuid4_strings
from dreamscape_infra.events.model import Delivery, EventWriter, Header, Outgoing
from dreamscape_infra.events.schema import EnvelopeChecker

FLUSH_S = 60.0


@dataclass(frozen=True, slots=True)
class EventOptions:
    """The envelope fields given on the command line besides the payload and metadata."""

    event_type: str | None
    source: str | None
    version: str
    correlation_id: str | None = None
    causation_id: str | None = None

    def checked_for(self, topic: str, expected: str | None) -> EventOptions:
        """These options with the eventType filled in from the topic's `expected` one (when
        it names a single type). UsageError when there is no eventType or source, or when the
        eventType does not match the topic's (`events validate` would reject it)."""
        event_type = self.event_type
        if event_type is None:
            if expected is None or any(c in expected for c in "*?["):
                raise UsageError(f"--type is required for {topic} (no single default eventType)")
            event_type = expected
        if self.source is None:
            raise UsageError("--source is required with --payload (e.g. --source user-service)")
        if expected is not None and not event_type_matches(event_type, expected):
            raise UsageError(
                f"--type '{event_type}' does not match topic {topic} (expected '{expected}'; "
                "`events validate` would reject it; use --raw to send it anyway)"
            )
        return replace(self, event_type=event_type)


def envelope_records(
    topic: str,
    options: EventOptions,
    payload: Any,
    metadata: Any,
    *,
    key: bytes | None,
    headers: tuple[Header, ...],
    count: int,
) -> tuple[Iterator[Outgoing], list[str | None]]:
    """`count` envelopes for `topic` (options as `checked_for` returns them), each validated as
    it is built. The first is built and validated now, so a bad option is a UsageError (exit 2)
    before anything is sent. The eventIds list fills up as the iterator is consumed."""
    checker = EnvelopeChecker()
    series = EnvelopeSeries(
        event_type=options.event_type,
        source=options.source,
        payload=payload,
        version=options.version,
        correlation_id=options.correlation_id,
        causation_id=options.causation_id,
        metadata=metadata,
    )
    ids = iter(uuid4_strings(count))

    def make() -> tuple[Outgoing, str]:
        event_id = next(ids)
        event, value = series.make(event_id)
        if not checker.is_valid(event):
            problems = checker.schema_errors(event)
            raise UsageError(
                "the event would not be a valid BaseEvent: "
                + "; ".join(p.message for p in problems)
            )
        return Outgoing(topic, value, key, headers), event_id

    first, first_id = make()  # a problem shows before any record is sent
    event_ids: list[str | None] = [first_id]

    def stream() -> Iterator[Outgoing]:
        yield first
        for _ in range(count - 1):
            record, event_id = make()
            event_ids.append(event_id)
            yield record

    return stream(), event_ids


def send_records(
    writer: EventWriter,
    topic: str,
    records: Sequence[Outgoing],
    *,
    where: str,
    bootstrap: str,
    timeout_s: float = FLUSH_S,
) -> list[Delivery]:
    """Send every record and wait for the broker's answers: one Delivery per record, in order.

    Nothing is sent when `topic` does not exist at `bootstrap` (EnvironmentFailure) or when a
    record names a partition the topic lacks (UsageError naming `where` and the record's line).
    """
    existing = writer.topics()
    if topic not in existing:
        raise EnvironmentFailure(
            f"topic '{topic}' does not exist at {bootstrap}",
            hint="create it with `dreamscape-infra topics sync`",
        )
    partitions = existing[topic]
    for index, record in enumerate(records):
        if record.partition is not None and record.partition >= partitions:
            raise UsageError(
                f"{where}: line {index + 1}: partition {record.partition} "
                f"does not exist in {topic} ({partitions} partitions)"
            )
    send = writer.send
    for record in records:
        send(record)
    return writer.flush(timeout_s)


def check_delivered(topic: str, deliveries: Sequence[Delivery]) -> None:
    """EnvironmentFailure (exit 4) when a record was not delivered, with the first error."""
    failed = [d for d in deliveries if not d.ok]
    if failed:
        raise EnvironmentFailure(
            f"{len(failed)} of {len(deliveries)} record(s) were not delivered to {topic}: "
            f"{failed[0].error}"
        )
