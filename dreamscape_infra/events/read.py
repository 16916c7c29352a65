"""The read loop over an `EventReader`: batches of messages from a plan, bounded or following.

No printing: callers get batches and decide what to show. A bounded read ends when every
partition has reached its stop offset (a message at stop-1 or later, or the end of the log at or
past it), so an idle topic never makes it hang.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from dreamscape_infra.events.model import EventReader, Message, Partition
from dreamscape_infra.events.position import ReadPlan

BATCH = 5000
POLL_S = 0.5
# A bounded read that sees neither a message nor an end-of-log for this long gives up rather
# than hang (a partition without a leader, say); the caller reports the partitions left.
STALL_S = 30.0


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
