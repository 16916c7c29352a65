"""Fakes of the events Protocols (`EventReader`, `EventWriter`) and a small topics file.

The fake reader is a set of in-memory partition logs; it serves polls in batches and reports the
end of each log like librdkafka's partition EOF, so the bounded read logic runs for real.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.events.model import (
    KEEP_DELIVERIES,
    Batch,
    Delivery,
    DeliveryReport,
    Message,
    Outgoing,
    Partition,
    Watermarks,
)
from tests.topics_files import write_topics


def topics_file(tmp_path: Path, prefix: str = "dreamscape.", partitions: int = 3) -> Path:
    """A small topics file: user.created (keyed), user.updated, payment.completed,
    payment.failed, and legacy.audit whose event_type is overridden to the glob 'audit.*'."""
    text = f"""\
version: 1
prefix: {prefix}
defaults:
  partitions: {partitions}
  replication_factor: 1
domains:
  user: {{owner: user-service}}
  payment: {{owner: payment-service}}
  legacy: {{owner: legacy-service}}
topics:
  - name: {prefix}user.created
    keyed: true
  - name: {prefix}user.updated
    partitions: 1
  - name: {prefix}payment.completed
  - name: {prefix}payment.failed
  - name: {prefix}legacy.audit
    partitions: 1
    event_type: "audit.*"
"""
    return write_topics(tmp_path, text)


def event(event_type: str = "user.created", **fields: Any) -> dict[str, Any]:
    """A valid BaseEvent; keyword arguments replace or add fields (None removes one)."""
    base: dict[str, Any] = {
        "eventId": str(uuid.uuid4()),
        "eventType": event_type,
        "timestamp": "2024-01-15T10:30:00.000Z",
        "version": "1.0",
        "source": "user-service",
        "correlationId": "corr-123456",
        "payload": {"userId": "user-123"},
    }
    for name, value in fields.items():
        if value is None:
            base.pop(name, None)
        else:
            base[name] = value
    return base


def encoded(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


@dataclass
class FakeReader:
    """EventReader over in-memory logs: {(topic, partition): [Message, ...]} from offset `low`."""

    logs: dict[Partition, list[Message]] = field(default_factory=dict)
    lows: dict[Partition, int] = field(default_factory=dict)
    partition_counts: dict[str, int] = field(default_factory=dict)
    fail: EnvironmentFailure | None = None
    batch_limit: int = 2
    assigned: dict[Partition, int] = field(default_factory=dict)
    polls: int = 0
    closed: bool = False
    # Messages appended to logs while reading (what producers write during a tail).
    arrivals: list[Message] = field(default_factory=list)

    def add(
        self,
        topic: str,
        partition: int,
        value: bytes | None,
        key: bytes | None = None,
        headers: tuple[tuple[str, bytes | None], ...] = (),
        timestamp_ms: int = 1_705_314_600_000,
    ) -> Message:
        log = self.logs.setdefault((topic, partition), [])
        low = self.lows.get((topic, partition), 0)
        message = Message(topic, partition, low + len(log), timestamp_ms, key, value, headers)
        log.append(message)
        self.partition_counts[topic] = max(self.partition_counts.get(topic, 0), partition + 1)
        return message

    def topics(self) -> dict[str, int]:
        if self.fail is not None:
            raise self.fail
        return dict(self.partition_counts)

    def _high(self, part: Partition) -> int:
        return self.lows.get(part, 0) + len(self.logs.get(part, []))

    def watermarks(self, partitions: Sequence[Partition]) -> dict[Partition, Watermarks]:
        return {p: Watermarks(self.lows.get(p, 0), self._high(p)) for p in partitions}

    def offsets_for_time(
        self, partitions: Sequence[Partition], timestamp_ms: int
    ) -> dict[Partition, int | None]:
        found: dict[Partition, int | None] = {}
        for part in partitions:
            found[part] = next(
                (
                    m.offset
                    for m in self.logs.get(part, [])
                    if (m.timestamp_ms or 0) >= timestamp_ms
                ),
                None,
            )
        return found

    def assign(self, starts: Mapping[Partition, int]) -> None:
        self.assigned = dict(starts)
        self._next = dict(starts)
        self._eof_sent: set[Partition] = set()

    def poll(self, max_messages: int, timeout_s: float) -> Batch:
        self.polls += 1
        if self.arrivals:
            for message in self.arrivals:
                self.add(message.topic, message.partition, message.value, message.key)
            self.arrivals = []
        out: list[Message] = []
        ends: list[tuple[Partition, int]] = []
        limit = min(max_messages, self.batch_limit)
        for part in sorted(self._next):
            low = self.lows.get(part, 0)
            log = self.logs.get(part, [])
            while len(out) < limit and self._next[part] < low + len(log):
                out.append(log[self._next[part] - low])
                self._next[part] += 1
            if self._next[part] >= low + len(log) and part not in self._eof_sent:
                ends.append((part, self._next[part]))
                self._eof_sent.add(part)
        return Batch(out, tuple(ends))

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeWriter:
    """EventWriter that records what it was asked to send and assigns offsets per partition."""

    partition_counts: dict[str, int] = field(default_factory=dict)
    fail: EnvironmentFailure | None = None
    undeliverable: bool = False
    sent: list[Outgoing] = field(default_factory=list)
    next_offsets: dict[Partition, int] = field(default_factory=dict)
    _pending: list[Outgoing] = field(default_factory=list)
    closed: bool = False

    def topics(self) -> dict[str, int]:
        if self.fail is not None:
            raise self.fail
        return dict(self.partition_counts)

    def send(self, message: Outgoing) -> None:
        self._pending.append(message)

    def flush(self, timeout_s: float) -> list[Delivery]:
        results = []
        for message in self._pending:
            if self.undeliverable:
                results.append(Delivery(-1, -1, "Local: Message timed out"))
                continue
            count = self.partition_counts.get(message.topic, 1)
            partition = (
                message.partition
                if message.partition is not None
                else (hash(message.key) % count if message.key is not None else 0)
            )
            offset = self.next_offsets.get((message.topic, partition), 0)
            self.next_offsets[(message.topic, partition)] = offset + 1
            results.append(Delivery(partition, offset))
            self.sent.append(message)
        self._pending = []
        return results

    def finish(self, timeout_s: float) -> DeliveryReport:
        report = DeliveryReport(KEEP_DELIVERIES)
        for delivery in self.flush(timeout_s):
            report.add(delivery)
        return report

    def effective_config(self) -> dict[str, str]:
        return {"enable.idempotence": "true", "acks": "all"}

    def close(self) -> None:
        self.closed = True
