"""What `events produce` sends: envelopes built from the command's options, each checked against
the schema before anything is sent, and the sending itself through an `EventWriter`.

Pure apart from the writer, the clock and the random eventIds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from dreamscape_infra.errors import EnvironmentFailure, UsageError
from dreamscape_infra.events.envelope import EnvelopeSeries, event_type_matches, uuid4_strings
from dreamscape_infra.events.model import (
    KEEP_DELIVERIES,
    DeliveryReport,
    EventWriter,
    Header,
    Outgoing,
)
from dreamscape_infra.events.schema import EnvelopeChecker

FLUSH_S = 60.0
PROGRESS_EVERY = 5000


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
    keep: int = KEEP_DELIVERIES,
) -> tuple[Iterator[Outgoing], list[str | None]]:
    """`count` envelopes for `topic` (options as `checked_for` returns them), each checked as
    it is built: the first in full against the schema, now, so a bad option is a UsageError
    (exit 2) before anything is sent; every later one differs from it only in eventId and
    timestamp, and those two fields are checked against their own compiled schema rules. The
    eventIds list holds the first `keep` ids and fills up as the iterator is consumed."""
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
    first_event, first_value = series.make(uuid4_strings(1)[0])
    if not checker.is_valid(first_event):
        problems = checker.schema_errors(first_event)
        raise UsageError(
            "the event would not be a valid BaseEvent: " + "; ".join(p.message for p in problems)
        )
    id_ok = checker.field_check("eventId")
    time_ok = checker.field_check("timestamp")
    first = Outgoing(topic, first_value, key, headers)
    event_ids: list[str | None] = [str(first_event["eventId"])]

    def stream() -> Iterator[Outgoing]:
        yield first
        made = 1
        checked_time = ""  # the timestamp changes once a millisecond: each new one is checked
        while made < count:
            chunk = min(count - made, 10_000)  # ids drawn in chunks: memory stays flat
            for event_id in uuid4_strings(chunk):
                value, timestamp = series.value(event_id)
                fresh = timestamp != checked_time
                if not id_ok(event_id) or (fresh and not time_ok(timestamp)):
                    raise UsageError(f"the event would not be a valid BaseEvent: {value!r}")
                checked_time = timestamp
                if len(event_ids) < keep:
                    event_ids.append(event_id)
                yield Outgoing(topic, value, key, headers)
            made += chunk

    return stream(), event_ids


class ReplayLines:
    """The records of a --from-file stream (JSON Lines of `events tail -o json`), read one
    line at a time: memory does not grow with the input. Blank lines are skipped; `line` is the
    number of the line last read. A bad line raises UsageError naming `name:line`."""

    def __init__(self, lines: Iterable[bytes], name: str, topic: str) -> None:
        self._lines = lines
        self.name = name
        self.topic = topic
        self.line = 0
        self.event_ids: list[str | None] = []
        self.records = 0

    def __iter__(self) -> Iterator[Outgoing]:
        from dreamscape_infra.events.fastjson import event_id_of, replay_record

        name, topic, ids = self.name, self.topic, self.event_ids
        for number, line in enumerate(self._lines, start=1):
            self.line = number
            if not line.strip():
                continue
            record = replay_record(line, f"{name}:{number}", topic)
            self.records += 1
            if len(ids) < KEEP_DELIVERIES:
                ids.append(event_id_of(record.value))
            yield record
        if not self.records:
            raise UsageError(f"--from-file {name}: no JSON Lines to replay")

    def where(self) -> str:
        return f"{self.name}:{self.line}"


def send_records(
    writer: EventWriter,
    topic: str,
    records: Iterable[Outgoing],
    *,
    where: Callable[[int], str],
    bootstrap: str,
    timeout_s: float = FLUSH_S,
    progress: Callable[[int], None] | None = None,
) -> DeliveryReport:
    """Send the records as they come (streamed: nothing is held but librdkafka's bounded
    queue) and wait for the broker's answers, counted in a DeliveryReport.

    Nothing is sent when `topic` does not exist at `bootstrap` (EnvironmentFailure). A record
    that names a partition the topic lacks, or a bad record from the iterator, is a UsageError
    naming `where(n)` (n: the record's number) that stops the run: nothing after it is sent,
    what was sent before it is waited for, and the error says how much of that was delivered.
    `progress` is called with the number of records sent since its last call.
    """
    existing = writer.topics()
    if topic not in existing:
        raise EnvironmentFailure(
            f"topic '{topic}' does not exist at {bootstrap}",
            hint="create it with `dreamscape-infra topics sync`",
        )
    partitions = existing[topic]
    send = writer.send
    sent = 0
    try:
        for record in records:
            if record.partition is not None and record.partition >= partitions:
                raise UsageError(
                    f"{where(sent + 1)}: partition {record.partition} "
                    f"does not exist in {topic} ({partitions} partitions)"
                )
            send(record)
            sent += 1
            if progress is not None and sent % PROGRESS_EVERY == 0:
                progress(PROGRESS_EVERY)
    except UsageError as exc:
        before = writer.finish(timeout_s)
        raise UsageError(f"{exc.message}; {_sent_before(topic, before)}", hint=exc.hint) from None
    report = writer.finish(timeout_s)
    if progress is not None:
        progress(sent % PROGRESS_EVERY)
    return report


def _sent_before(topic: str, report: DeliveryReport) -> str:
    if report.sent == 0:
        return "nothing was sent"
    if report.failed == 0:
        return (
            f"nothing after it was sent; the {report.sent} record(s) before it were delivered "
            f"to {topic}"
        )
    return (
        f"nothing after it was sent; of the {report.sent} record(s) before it, "
        f"{report.delivered} were delivered to {topic} and {report.failed} not: "
        f"{report.first_error}"
    )


def check_delivered(topic: str, report: DeliveryReport) -> None:
    """EnvironmentFailure (exit 4) when a record was not delivered, with the first error."""
    if report.failed:
        raise EnvironmentFailure(
            f"{report.failed} of {report.sent} record(s) were not delivered to {topic}: "
            f"{report.first_error}"
        )
