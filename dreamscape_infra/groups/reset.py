"""Offset resets as a value: the plan (old offset -> new offset per partition) is computed
purely, printed, and only applied with --execute.

A target outside [log start, log end] is clamped into it, with a note, as
kafka-consumer-groups --reset-offsets does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from dreamscape_infra.errors import RefusedError, UsageError
from dreamscape_infra.groups.client import GroupsClient, OffsetRange, TopicPartition
from dreamscape_infra.groups.lag import select_groups, unknown_topic_error

if TYPE_CHECKING:
    from dreamscape_infra.topics.model import DesiredState

TargetKind = Literal["earliest", "latest", "datetime", "offset", "shift"]


@dataclass(frozen=True, slots=True)
class ResetTarget:
    """Where to move: `value` is the offset (offset), the delta (shift) or the time in ms
    since the epoch (datetime); None for earliest and latest."""

    kind: TargetKind
    value: int | None = None

    def describe(self) -> str:
        if self.kind in ("earliest", "latest"):
            return f"--to-{self.kind}"
        if self.kind == "shift":
            return f"--shift-by {self.value}"
        if self.kind == "offset":
            return f"--to-offset {self.value}"
        return f"--to-datetime {self.value} ms"


@dataclass(frozen=True, slots=True)
class ResetEntry:
    """One partition of a reset plan."""

    topic: str
    partition: int
    current: int | None  # the committed offset now (None: nothing committed)
    requested: int  # what the target asked for, before clamping
    new: int
    log_start: int
    log_end: int

    @property
    def note(self) -> str | None:
        """Why `new` differs from `requested`, if it does."""
        if self.requested < self.log_start:
            return f"{self.requested} is before the log start {self.log_start}: clamped"
        if self.requested > self.log_end:
            return f"{self.requested} is past the log end {self.log_end}: clamped"
        return None

    @property
    def changes(self) -> bool:
        return self.current != self.new


@dataclass(frozen=True, slots=True)
class ResetPlan:
    """What `groups reset-offsets` would do to one group."""

    group: str
    target: ResetTarget
    members: int
    entries: tuple[ResetEntry, ...]

    @property
    def offsets(self) -> dict[TopicPartition, int]:
        return {(e.topic, e.partition): e.new for e in self.entries}


def compute_reset(
    group: str,
    target: ResetTarget,
    partitions: Sequence[TopicPartition],
    ranges: Mapping[TopicPartition, OffsetRange],
    committed: Mapping[TopicPartition, int],
    *,
    members: int = 0,
    times: Mapping[TopicPartition, int | None] | None = None,
) -> ResetPlan:
    """The new offset of every partition in `partitions`, clamped into [log start, log end].

    `--shift-by` moves from the committed offset, or from the log start where nothing is
    committed (what the group reads with auto.offset.reset=earliest). `--to-datetime` takes
    the first offset at or after the time from `times`; where no message is that recent, the
    log end (as kafka-consumer-groups does).
    """
    entries = []
    for tp in sorted(partitions):
        span = ranges[tp]
        current = committed.get(tp)
        if target.kind == "earliest":
            requested = span.log_start
        elif target.kind == "latest":
            requested = span.log_end
        elif target.kind == "offset":
            requested = int(target.value or 0)
        elif target.kind == "shift":
            base = current if current is not None else span.log_start
            requested = base + int(target.value or 0)
        else:
            found = (times or {}).get(tp)
            requested = found if found is not None else span.log_end
        new = min(max(requested, span.log_start), span.log_end)
        entries.append(
            ResetEntry(tp[0], tp[1], current, requested, new, span.log_start, span.log_end)
        )
    return ResetPlan(group, target, members, tuple(entries))


def parse_datetime_ms(text: str) -> int:
    """Milliseconds since the epoch of an ISO 8601 date-time (`2026-11-27T15:00:00Z`,
    `2026-11-27T16:00:00+01:00`, `2026-11-27`); without an offset it is local time, as in
    kafka-consumer-groups. Raises UsageError for anything else."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--to-datetime: '{text}' is not an ISO 8601 date-time "
            "(e.g. 2026-11-27T15:00:00Z or 2026-11-27T16:00:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time, like kafka-consumer-groups
    return int(moment.timestamp() * 1000)


def read_reset_plan(
    client: GroupsClient,
    desired: DesiredState | None,
    group: str,
    target: ResetTarget,
    *,
    topics: Sequence[str] = (),
    all_topics: bool = False,
    partitions: Sequence[int] = (),
) -> ResetPlan:
    """Read what a reset needs from the cluster (batched) and compute the plan; changes nothing.

    `topics` (every partition of each, or only `partitions`), or with `all_topics` the topics
    the group has committed on plus those topics.yaml lists under it. Raises UsageError for an
    unknown group, topic or partition, or when there is nothing to reset.
    """
    counts = client.partition_counts()
    for name in topics:
        if name not in counts:
            raise unknown_topic_error(name, counts)
    listing = {g.group for g in client.list_groups()}
    select_groups(listing, desired, [group], all_groups=False)  # raises for an unknown group
    known = group in listing
    description = client.describe_groups([group]).get(group) if known else None
    committed = client.committed_offsets([group]).get(group, {}) if known else {}
    chosen = list(dict.fromkeys(topics))
    if all_topics:
        declared = (
            next((g.topics for g in desired.groups if g.name == group), ()) if desired else ()
        )
        chosen = sorted({t for t, _ in committed} | {t for t in declared if t in counts})
        if not chosen:
            raise UsageError(
                f"--all-topics: {group} has no committed offsets and topics.yaml lists no "
                "existing topic under it; name the topics with --topic"
            )
    wanted: list[TopicPartition] = []
    for name in chosen:
        for p in partitions or range(counts[name]):
            if not 0 <= p < counts[name]:
                raise UsageError(
                    f"--partition: {name} has no partition {p} (it has {counts[name]})"
                )
            wanted.append((name, p))
    ranges = client.offset_ranges(wanted)
    times = None
    if target.kind == "datetime":
        times = client.offsets_for_time(wanted, int(target.value or 0))
    members = len(description.members) if description is not None else 0
    return compute_reset(group, target, wanted, ranges, committed, members=members, times=times)


def apply_reset(client: GroupsClient, plan: ResetPlan) -> None:
    """Commit the plan's offsets. Refused (RefusedError, nothing committed) while the group
    has active members: their next commit would overwrite the reset."""
    if plan.members:
        raise RefusedError(
            f"refused: {plan.group} has {plan.members} active member(s); offsets can only be "
            "reset while the group has no members",
            hint="stop the group's consumers, then rerun with --execute",
        )
    client.alter_offsets(plan.group, plan.offsets)
