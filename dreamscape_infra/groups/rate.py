"""Consume and produce rates over a window, and the time a group needs to clear its lag.

Pure. `rates(first, last, elapsed_s)` compares two samples of the same groups: what the group
consumed is how far its position (committed offset, never below the log start) moved, what was
produced is how far the log end moved, both summed over the partitions present in both samples.
The time to clear is the lag at the end divided by the net rate (consumed minus produced); a
group whose producers outpace it is `growing` and has no time to clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dreamscape_infra.groups.model import GroupLag

Trend = Literal["caught-up", "clearing", "growing", "not-moving"]


@dataclass(frozen=True, slots=True)
class GroupRate:
    """A group's rates over the window and its estimated time to clear (None: never at this
    rate, i.e. `growing` or `not-moving`)."""

    group: str
    window_s: float
    consume_per_s: float
    produce_per_s: float
    lag: int
    trend: Trend
    time_to_clear_s: float | None


def group_rate(first: GroupLag, last: GroupLag, elapsed_s: float) -> GroupRate:
    """The rates of one group between two samples `elapsed_s` apart (elapsed_s > 0)."""
    before = {(p.topic, p.partition): p for p in first.partitions}
    consumed = produced = 0
    for p in last.partitions:
        old = before.get((p.topic, p.partition))
        if old is None:
            continue
        consumed += max(p.position - old.position, 0)
        produced += max(p.log_end - old.log_end, 0)
    consume, produce = consumed / elapsed_s, produced / elapsed_s
    lag = last.total_lag
    trend: Trend
    clear: float | None
    if lag == 0:
        trend, clear = "caught-up", 0.0
    elif consume > produce:
        trend, clear = "clearing", lag / (consume - produce)
    elif consume == 0 and produce == 0:
        trend, clear = "not-moving", None
    else:
        trend, clear = "growing", None
    return GroupRate(last.group, elapsed_s, consume, produce, lag, trend, clear)


def rates(
    first: Sequence[GroupLag], last: Sequence[GroupLag], elapsed_s: float
) -> dict[str, GroupRate]:
    """`group_rate` for every group of `last` that `first` has too, by name."""
    if elapsed_s <= 0:
        return {}
    earlier = {g.group: g for g in first}
    return {g.group: group_rate(earlier[g.group], g, elapsed_s) for g in last if g.group in earlier}
