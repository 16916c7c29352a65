"""Lag over time: a bounded in-memory history of every group's total lag, one point per read.

`serve` keeps HISTORY_POINTS points per group for at most HISTORY_GROUPS groups (the groups
seen most recently win). A point is a (wall-clock seconds, total lag) pair of two floats in a
tuple, about 72 bytes with the deque slot, so the history holds at most ~240 x 1,000 x 72 B
= ~17 MB, and at the seed's 5 groups ~90 kB. At the default 5 s interval 240 points are
20 minutes. Pure: no I/O, no printing; thread safety is the caller's (serve updates it under
its cache lock).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

HISTORY_POINTS = 240
HISTORY_GROUPS = 1000


@dataclass(frozen=True, slots=True)
class LagPoint:
    at: float  # wall clock, seconds since the epoch
    lag: int


class LagHistory:
    """The last `points` total-lag samples of each group, for at most `groups` groups."""

    def __init__(self, points: int = HISTORY_POINTS, groups: int = HISTORY_GROUPS) -> None:
        if points < 2 or groups < 1:
            raise ValueError("a history needs at least 2 points and 1 group")
        self.points = points
        self.groups = groups
        self._series: OrderedDict[str, deque[tuple[float, int]]] = OrderedDict()

    def add(self, at: float, totals: Mapping[str, int]) -> None:
        """One read's total lag per group; a group over the limit pushes out the one seen
        least recently."""
        for group, lag in totals.items():
            series = self._series.get(group)
            if series is None:
                series = self._series[group] = deque(maxlen=self.points)
            else:
                self._series.move_to_end(group)
            series.append((at, lag))
        while len(self._series) > self.groups:
            self._series.popitem(last=False)

    def series(self, group: str) -> list[LagPoint]:
        """The group's points, oldest first (empty for a group never seen)."""
        return [LagPoint(at, lag) for at, lag in self._series.get(group, ())]

    def __len__(self) -> int:
        return len(self._series)


def clear_estimate_s(points: Iterable[LagPoint], window: int = 12) -> float | None:
    """Seconds until the lag reaches 0 at the rate it fell over the last `window` points;
    None when it is 0 already, or is not falling (no estimate is better than a wrong one)."""
    recent = list(points)[-window:]
    if len(recent) < 2 or recent[-1].lag == 0:
        return None
    first, last = recent[0], recent[-1]
    elapsed = last.at - first.at
    fallen = first.lag - last.lag
    if elapsed <= 0 or fallen <= 0:
        return None
    return last.lag / (fallen / elapsed)


def history_json(history: LagHistory, group: str, interval_s: float) -> dict[str, Any]:
    """`GET /api/groups/<group>/history`: the points, the bounds, and the time-to-clear."""
    points = history.series(group)
    return {
        "kind": "group-lag-history",
        "version": 1,
        "group": group,
        "interval_s": interval_s,
        "capacity": history.points,
        "points": [{"at": p.at, "lag": p.lag} for p in points],
        "clear_estimate_s": clear_estimate_s(points),
    }
