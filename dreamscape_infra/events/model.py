"""Messages as plain values, and the two small Protocols the events capability reads and writes
Kafka through.

The records that flow one per message (`Message`, `Outgoing`) are NamedTuples: immutable
values like the frozen dataclasses elsewhere, but built in about a third of the time (a frozen
dataclass sets each field through `object.__setattr__`), which counts at 100,000 records a
second.

Pure: no confluent_kafka here. `dreamscape_infra.kafka.events` implements `EventReader` (by
partition assignment, never through a consumer group) and `EventWriter` (idempotent, acks=all)
against a real cluster; tests implement them with fakes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

# How many records' Deliveries a DeliveryReport keeps one by one (`produce -o json` lists them).
KEEP_DELIVERIES = 1000
Partition = tuple[str, int]  # (topic, partition id)
Header = tuple[str, bytes | None]


class Message(NamedTuple):
    """One record as read from a partition, bytes untouched."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()


@dataclass(frozen=True, slots=True)
class Batch:
    """What one poll returned: messages, and the partitions that reached the end of their log
    (with the next offset there), so a bounded read knows when to stop on an idle topic."""

    messages: Sequence[Message]
    ends: tuple[tuple[Partition, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Watermarks:
    """The first offset still in a partition's log and the offset the next record will get."""

    low: int
    high: int


class EventReader(Protocol):
    """Reads partitions by assignment. Implementations never join, create or commit to a
    consumer group, so they cannot move a service's offsets."""

    def topics(self) -> dict[str, int]:
        """Every topic of the cluster with its partition count. Raises EnvironmentFailure when
        no broker answers (within seconds)."""
        ...

    def watermarks(self, partitions: Sequence[Partition]) -> dict[Partition, Watermarks]:
        """Low and high watermarks of each partition, in as few requests as possible."""
        ...

    def offsets_for_time(
        self, partitions: Sequence[Partition], timestamp_ms: int
    ) -> dict[Partition, int | None]:
        """The first offset whose timestamp is >= timestamp_ms; None when there is none."""
        ...

    def assign(self, starts: Mapping[Partition, int]) -> None:
        """Start reading each partition at its absolute offset."""
        ...

    def poll(self, max_messages: int, timeout_s: float) -> Batch:
        """Up to max_messages, waiting at most timeout_s for the first one."""
        ...

    def close(self) -> None: ...


class Outgoing(NamedTuple):
    """One record to produce. `partition` None lets the partitioner choose (by key)."""

    topic: str
    value: bytes | None
    key: bytes | None = None
    headers: tuple[Header, ...] = ()
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """The broker's answer for one record: where it was written, or why not."""

    partition: int
    offset: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class DeliveryReport:
    """The broker's answers for a stream of records, counted rather than stored: how many were
    sent and delivered, the first error, each partition's count and offset range, and the
    Delivery of the first `keep` records in send order (the rest are only counted)."""

    keep: int
    sent: int = 0
    delivered: int = 0
    first_error: str | None = None
    # partition -> [count, first offset, last offset]
    partitions: dict[int, list[int]] = field(default_factory=dict)
    detail: list[Delivery] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.sent - self.delivered

    def count(self, partition: int, offset: int, error: str | None) -> None:
        """Count one answer (delivered when `error` is None)."""
        if error is not None:
            if self.first_error is None:
                self.first_error = error
            return
        self.delivered += 1
        entry = self.partitions.get(partition)
        if entry is None:
            self.partitions[partition] = [1, offset, offset]
        else:
            entry[0] += 1
            if offset < entry[1]:
                entry[1] = offset
            elif offset > entry[2]:
                entry[2] = offset

    def add(self, delivery: Delivery) -> None:
        """One more record sent and answered, kept in `detail` while there is room."""
        self.sent += 1
        self.count(delivery.partition, delivery.offset, delivery.error)
        if len(self.detail) < self.keep:
            self.detail.append(delivery)


class EventWriter(Protocol):
    """Produces with idempotence and acks=all."""

    def topics(self) -> dict[str, int]:
        """Every topic of the cluster with its partition count; EnvironmentFailure when no
        broker answers (within seconds)."""
        ...

    def send(self, message: Outgoing) -> None:
        """Queue one record (it waits while the local queue is full); its answer is counted
        in finish()."""
        ...

    def finish(self, timeout_s: float) -> DeliveryReport:
        """Wait for every record sent so far; their answers counted (`DeliveryReport`), the
        first KEEP_DELIVERIES kept in send order. A record without an answer in time counts as
        failed. Memory does not grow with the number of records."""
        ...

    def effective_config(self) -> dict[str, str]:
        """The producer settings that decide durability (enable.idempotence, acks, ...), as
        the client reports them, without any secret."""
        ...

    def close(self) -> None: ...
