"""Reading through an `EventReader`: which partitions from where (`plan_scan`), then the read
loop, batches of messages from that plan, bounded or following.

No printing: callers get batches and decide what to show. A bounded read ends when every
partition has reached its stop offset (a message at stop-1 or later, or the end of the log at or
past it), so an idle topic never makes it hang.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from dreamscape_infra.events.model import EventReader, Message, Partition
from dreamscape_infra.events.position import Position, ReadPlan, plan_read
from dreamscape_infra.events.selection import resolve_topics, select_partitions

BATCH = 5000
POLL_S = 0.5
# A bounded read that sees neither a message nor an end-of-log for this long gives up rather
# than hang (a partition without a leader, say); the caller reports the partitions left.
STALL_S = 30.0


@dataclass(frozen=True, slots=True)
class Scan:
    """The topics a command reads (sorted) and where each of their partitions starts and stops."""

    topics: list[str]
    plan: ReadPlan


def plan_scan(
    reader: EventReader,
    declared: Sequence[str],
    patterns: Sequence[str],
    position: Position,
    partition: int | None,
) -> Scan:
    """The topics the command line's names and globs select (`resolve_topics`), their
    partitions (all, or only `partition`) and each one's start and stop offsets for `position`,
    asked of the cluster in as few requests as the reader allows."""
    existing = reader.topics()
    topics = resolve_topics(patterns, declared, existing)
    parts = select_partitions(topics, existing, partition)
    marks = reader.watermarks(parts)
    time_offsets = None
    if position.kind == "since":
        time_offsets = reader.offsets_for_time(parts, position.value)
    return Scan(topics, plan_read(parts, marks, position, time_offsets))


def read_batches(
    reader: EventReader,
    plan: ReadPlan,
    *,
    follow: bool = False,
    batch_size: int = BATCH,
    poll_s: float = POLL_S,
    stall_s: float = STALL_S,
    clock: Callable[[], float] = time.monotonic,
    left: set[Partition] | None = None,
) -> Iterator[list[Message]]:
    """Yield lists of messages in partition order as they arrive.

    Bounded (follow=False): only messages below each partition's stop offset, ending once all
    partitions are done; the ones never finished (a stall) are left in `left`. Following: every
    message, until the caller stops iterating.
    """
    pending = set(plan.starts) if follow else set(plan.pending())
    if left is not None:
        left.clear()
    if not pending:
        return
    reader.assign({p: plan.starts[p] for p in sorted(pending)})
    stops = plan.stops
    last_progress = clock()
    while follow or pending:
        batch = reader.poll(batch_size, poll_s)
        if batch.messages or batch.ends:
            last_progress = clock()
        if follow:
            if batch.messages:
                yield list(batch.messages)
            continue
        keep: list[Message] = []
        for message in batch.messages:
            part = (message.topic, message.partition)
            stop = stops.get(part)
            if stop is None or part not in pending:
                continue
            if message.offset < stop:
                keep.append(message)
            if message.offset >= stop - 1:
                pending.discard(part)
        for part, next_offset in batch.ends:
            if next_offset >= stops.get(part, 0):
                pending.discard(part)
        if keep:
            yield keep
        if pending and clock() - last_progress > stall_s:
            if left is not None:
                left.update(pending)
            return
