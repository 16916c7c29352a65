"""Where a read starts and where a bounded read stops. Pure.

A bounded read (tail without --follow, validate) stops at the high watermarks that existed when it
started, so it always ends, even on an idle topic or while producers keep writing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from dreamscape_infra.errors import UsageError
from dreamscape_infra.events.model import Partition, Watermarks

SINCE_FORMS = (
    "a duration back from now (500ms, 30s, 10m, 2h, 7d, 1w) or an ISO 8601 time "
    "(2024-01-15, 2024-01-15T10:30:00Z, 2024-01-15T10:30:00.000+02:00; no zone means UTC)"
)
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


@dataclass(frozen=True, slots=True)
class Position:
    """`end` (the default: only new messages), `beginning`, `offset` (absolute when >= 0, the last
    N messages of each partition when negative) or `since` (a timestamp in ms)."""

    kind: Literal["end", "beginning", "offset", "since"] = "end"
    value: int = 0

    def describe(self) -> str:
        if self.kind == "offset":
            return (
                f"offset {self.value}" if self.value >= 0 else f"last {-self.value} per partition"
            )
        if self.kind == "since":
            return "since " + dt.datetime.fromtimestamp(self.value / 1000, dt.UTC).isoformat()
        return self.kind


def parse_since(text: str, now_ms: int) -> int:
    """A --since value as a timestamp in ms. Raises UsageError listing the accepted forms."""
    match = _DURATION_RE.match(text)
    if match:
        return now_ms - int(float(match.group(1)) * _UNIT_MS[match.group(2)])
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise UsageError(f"--since: cannot read '{text}'; use {SINCE_FORMS}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def position_from_options(
    *,
    from_beginning: bool,
    since: str | None,
    offset: int | None,
    now_ms: int,
    default: Literal["end", "beginning"] = "end",
) -> Position:
    """One Position from the mutually exclusive options; UsageError when several are given."""
    given = [
        name
        for name, present in (
            ("--from-beginning", from_beginning),
            ("--since", since is not None),
            ("--offset", offset is not None),
        )
        if present
    ]
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)} cannot be combined; choose one start position")
    if from_beginning:
        return Position("beginning")
    if since is not None:
        return Position("since", parse_since(since, now_ms))
    if offset is not None:
        return Position("offset", offset)
    return Position(default)


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """Absolute start offsets, and the stop offsets (exclusive) of a bounded read."""

    starts: Mapping[Partition, int]
    stops: Mapping[Partition, int]

    @property
    def total(self) -> int:
        """How many records a bounded read can see at most (compaction may make it fewer)."""
        return sum(max(0, self.stops[p] - s) for p, s in self.starts.items())

    def pending(self) -> list[Partition]:
        """Partitions a bounded read still has to read."""
        return sorted(p for p, s in self.starts.items() if s < self.stops[p])


def plan_read(
    partitions: Sequence[Partition],
    marks: Mapping[Partition, Watermarks],
    position: Position,
    time_offsets: Mapping[Partition, int | None] | None = None,
) -> ReadPlan:
    """Start offsets for `position`, clamped into each log; stops at the current high marks."""
    starts: dict[Partition, int] = {}
    stops: dict[Partition, int] = {}
    for part in partitions:
        mark = marks[part]
        if position.kind == "beginning":
            start = mark.low
        elif position.kind == "end":
            start = mark.high
        elif position.kind == "offset":
            start = position.value if position.value >= 0 else mark.high + position.value
        else:
            found = (time_offsets or {}).get(part)
            start = mark.high if found is None or found < 0 else found
        starts[part] = min(max(start, mark.low), mark.high)
        stops[part] = mark.high
    return ReadPlan(starts, stops)
