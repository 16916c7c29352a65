"""Reading consumer-group lag from the cluster, and what it means against topics.yaml.

`read_group_lags` is the one entry point (also used by `health` and `/metrics`). Whatever the
number of partitions, it costs a fixed number of batched requests: one metadata request, one
ListGroups, one DescribeGroups for all groups, the committed offsets of every group (librdkafka
takes one group per OffsetFetch, so one request per group, all sent at once), and one ListOffsets
each for the earliest and the latest offsets of all partitions.

Lag in seconds (`lag_seconds=True`) adds the reads of `record_timestamps`: the record at each
lagging partition's position, all partitions assigned together (one Fetch per partition leader).
Partitions that several groups lag on at different positions need one such round per distinct
position, so the rounds are at most the number of groups lagging on one same partition, never
the number of partitions.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from dreamscape_infra.errors import UsageError
from dreamscape_infra.groups.client import GroupDescription, GroupsClient, TopicPartition
from dreamscape_infra.groups.model import NOT_STARTED, GroupLag, MemberInfo, PartitionLag

if TYPE_CHECKING:
    from dreamscape_infra.topics.model import DesiredState


def nearest(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The closest names to `word` among `choices`, best first (may be empty)."""
    return difflib.get_close_matches(word, sorted(set(choices)), n=n, cutoff=0.5)


def unknown_group_error(group: str, known: Iterable[str]) -> UsageError:
    """One line naming the nearest known groups (or a few known ones when none is close)."""
    known_sorted = sorted(set(known))
    close = nearest(group, known_sorted)
    if close:
        hint = "nearest known: " + ", ".join(close)
    elif known_sorted:
        more = "" if len(known_sorted) <= 5 else f", ... ({len(known_sorted)} in all)"
        hint = "known groups: " + ", ".join(known_sorted[:5]) + more
    else:
        hint = "the cluster knows no groups and topics.yaml declares none"
    return UsageError(
        f"unknown consumer group '{group}': the cluster does not know it and topics.yaml does "
        f"not declare it ({hint})"
    )


def unknown_topic_error(topic: str, known: Iterable[str]) -> UsageError:
    """One line naming the nearest existing topics."""
    close = nearest(topic, known)
    suffix = f" (did you mean {', '.join(close)}?)" if close else ""
    return UsageError(f"--topic: topic '{topic}' does not exist on the cluster{suffix}")


def _unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(name, None)
    return list(seen)


def select_groups(
    known: Iterable[str],
    desired: DesiredState | None,
    groups: Sequence[str] | None,
    *,
    all_groups: bool,
) -> list[str]:
    """The groups a command covers: those named, else every known and declared group with
    `all_groups` (or without topics.yaml), else the declared ones in file order.

    Raises UsageError for a named group that the cluster does not know and topics.yaml does
    not declare."""
    known_set = set(known)
    declared = [g.name for g in desired.groups] if desired is not None else []
    if groups:
        selected = _unique(groups)
        for name in selected:
            if name not in known_set and name not in declared:
                raise unknown_group_error(name, known_set | set(declared))
        return selected
    if all_groups or desired is None:
        return sorted(known_set | set(declared))
    return declared


def read_group_lags(
    client: GroupsClient,
    desired: DesiredState | None,
    groups: Sequence[str] | None = None,
    *,
    all_groups: bool = False,
    topic: str | None = None,
    lag_seconds: bool = True,
    clock: Callable[[], float] = time.time,
) -> tuple[GroupLag, ...]:
    """Lag of each selected group, per partition, from one batched read of the cluster.

    Groups: those named in `groups`; else every group the cluster knows plus the declared ones
    when `all_groups` (or when `desired` is None); else the groups topics.yaml declares.
    A declared group the cluster does not know gets state NOT_STARTED.

    Partitions of a group: every partition of the topics topics.yaml lists under it, those it
    has committed offsets on and those assigned to its members; only `topic`'s with `topic`.
    A partition without a committed offset has `committed=None` (lag from the log start).

    With `lag_seconds`, each lagging partition's `lag_seconds` is `clock()` (the wall clock)
    minus the timestamp of the record at its position, never negative; None when that record
    has no timestamp or could not be read; 0.0 without lag.

    Raises UsageError for an unknown named group or topic, EnvironmentFailure when the
    cluster cannot be reached (the metadata request comes first, so that fails fast).
    """
    counts = client.partition_counts()
    if topic is not None and topic not in counts:
        raise unknown_topic_error(topic, counts)
    listing = {g.group: g.state for g in client.list_groups()}
    selected = select_groups(listing, desired, groups, all_groups=all_groups)
    on_cluster = [g for g in selected if g in listing]
    descriptions = client.describe_groups(on_cluster) if on_cluster else {}
    committed = client.committed_offsets(on_cluster) if on_cluster else {}
    declared = {g.name: g.topics for g in desired.groups} if desired is not None else {}

    wanted: dict[str, list[TopicPartition]] = {}
    for name in selected:
        tps: set[TopicPartition] = set(committed.get(name, {}))
        description = descriptions.get(name)
        if description is not None:
            tps.update(tp for m in description.members for tp in m.assignment)
        for declared_topic in declared.get(name, ()):
            tps.update((declared_topic, p) for p in range(counts.get(declared_topic, 0)))
        wanted[name] = sorted(
            (t, p)
            for t, p in tps
            if p < counts.get(t, 0) and (topic is None or t == topic)  # deleted topics: no log
        )
    every = sorted({tp for tps in wanted.values() for tp in tps})
    ranges = client.offset_ranges(every) if every else {}

    lags = []
    per_group: dict[str, tuple[PartitionLag, ...]] = {}
    for name in selected:
        holders = _holders(descriptions.get(name))
        group_committed = committed.get(name, {})
        per_group[name] = tuple(
            PartitionLag(
                topic=t,
                partition=p,
                committed=group_committed.get((t, p)),
                log_start=ranges[(t, p)].log_start,
                log_end=ranges[(t, p)].log_end,
                member=holders.get((t, p)),
            )
            for t, p in wanted[name]
            if (t, p) in ranges
        )
    if lag_seconds:
        per_group = _with_ages(client, per_group, clock)
    for name in selected:
        description = descriptions.get(name)
        partitions = per_group[name]
        if name in listing:
            state = description.state if description is not None else listing[name]
            members = len(description.members) if description is not None else 0
        else:
            state, members = NOT_STARTED, 0
        lags.append(GroupLag(name, state, members, name in declared, partitions))
    return tuple(lags)


def _with_ages(
    client: GroupsClient,
    per_group: Mapping[str, tuple[PartitionLag, ...]],
    clock: Callable[[], float],
) -> dict[str, tuple[PartitionLag, ...]]:
    """Each partition with its lag in seconds, from as few `record_timestamps` rounds as the
    distinct positions on one partition need."""
    positions: dict[TopicPartition, set[int]] = {}
    for partitions in per_group.values():
        for p in partitions:
            if p.lag:
                positions.setdefault((p.topic, p.partition), set()).add(p.position)
    stamps: dict[tuple[str, int, int], int] = {}
    rounds = max((len(v) for v in positions.values()), default=0)
    ordered = {tp: sorted(v) for tp, v in positions.items()}
    for index in range(rounds):
        wanted = {tp: offsets[index] for tp, offsets in ordered.items() if index < len(offsets)}
        for tp, found in client.record_timestamps(wanted).items():
            stamps[(tp[0], tp[1], wanted[tp])] = found.timestamp_ms
    now_ms = clock() * 1000
    out: dict[str, tuple[PartitionLag, ...]] = {}
    for name, partitions in per_group.items():
        aged = []
        for p in partitions:
            if not p.lag:
                aged.append(replace(p, lag_seconds=0.0))
                continue
            stamp = stamps.get((p.topic, p.partition, p.position))
            # a producer clock ahead of ours must not make a negative age
            age = None if stamp is None else max(now_ms - stamp, 0.0) / 1000
            aged.append(replace(p, lag_seconds=age))
        out[name] = tuple(aged)
    return out


def _holders(description: GroupDescription | None) -> dict[TopicPartition, MemberInfo]:
    if description is None:
        return {}
    return {
        tp: MemberInfo(m.consumer_id, m.client_id, m.host)
        for m in description.members
        for tp in m.assignment
    }


# ---- cross-checks against topics.yaml ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CrossCheck:
    """Where a declared group's commits and its declaration in topics.yaml disagree."""

    group: str
    undeclared: tuple[str, ...]  # topics it has committed on that topics.yaml does not list
    never_committed: tuple[str, ...]  # topics topics.yaml lists that it has never committed on

    @property
    def clean(self) -> bool:
        return not self.undeclared and not self.never_committed


def cross_check(lag: GroupLag, desired: DesiredState | None) -> CrossCheck | None:
    """Compare a group's commits with topics.yaml; None for a group topics.yaml does not
    declare. A declared topic missing from the cluster counts as never committed."""
    if desired is None:
        return None
    spec = next((g for g in desired.groups if g.name == lag.group), None)
    if spec is None:
        return None
    committed_topics = {p.topic for p in lag.partitions if p.committed is not None}
    return CrossCheck(
        group=lag.group,
        undeclared=tuple(sorted(committed_topics - set(spec.topics))),
        never_committed=tuple(t for t in spec.topics if t not in committed_topics),
    )


# ---- thresholds -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Breach:
    """A group over a lag threshold: `kind` says which one."""

    group: str
    kind: Literal["max-lag", "max-partition-lag", "max-lag-seconds"]
    value: int | float
    limit: int | float
    where: str | None = None  # topic-partition for max-partition-lag and max-lag-seconds

    def describe(self) -> str:
        if self.kind == "max-lag":
            return f"{self.group}: total lag {self.value} > --max-lag {self.limit}"
        if self.kind == "max-lag-seconds":
            return (
                f"{self.group}: oldest unconsumed message on {self.where} is "
                f"{format_seconds(self.value)} old > --max-lag-seconds {self.limit:g}"
            )
        return f"{self.group}: lag {self.value} on {self.where} > --max-partition-lag {self.limit}"


def breaches(
    lags: Sequence[GroupLag],
    *,
    max_lag: int | None,
    max_partition_lag: int | None,
    max_lag_seconds: float | None = None,
) -> tuple[Breach, ...]:
    """Every group over `max_lag` (total), `max_partition_lag` (any one partition) or
    `max_lag_seconds` (the age of its oldest unconsumed message)."""
    found: list[Breach] = []
    for lag in lags:
        oldest = lag.max_lag_seconds
        if max_lag_seconds is not None and oldest is not None and oldest > max_lag_seconds:
            worst = max(
                (p for p in lag.partitions if p.lag_seconds is not None),
                key=lambda p: p.lag_seconds or 0.0,
            )
            found.append(
                Breach(
                    lag.group,
                    "max-lag-seconds",
                    round(oldest, 3),
                    max_lag_seconds,
                    f"{worst.topic}-{worst.partition}",
                )
            )
        if max_lag is not None and lag.total_lag > max_lag:
            found.append(Breach(lag.group, "max-lag", lag.total_lag, max_lag))
        if max_partition_lag is not None and lag.max_partition_lag > max_partition_lag:
            worst = max(lag.partitions, key=lambda p: p.lag)
            found.append(
                Breach(
                    lag.group,
                    "max-partition-lag",
                    worst.lag,
                    max_partition_lag,
                    f"{worst.topic}-{worst.partition}",
                )
            )
    return tuple(found)


def committed_positions(lag: GroupLag) -> Mapping[TopicPartition, int]:
    """The group's committed offsets, partitions without one left out."""
    return {(p.topic, p.partition): p.committed for p in lag.partitions if p.committed is not None}


def format_seconds(seconds: float) -> str:
    """A duration for people: `0s`, `850ms`, `42s`, `2m30s`, `3h05m`, `2d04h`."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"
