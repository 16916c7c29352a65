"""Reading consumer-group lag from the cluster, and what it means against topics.yaml.

`read_group_lags` is the one entry point (also used by `health` and `/metrics`). Whatever the
number of partitions, it costs a fixed number of batched requests: one metadata request, one
ListGroups, one DescribeGroups for all groups, the committed offsets of every group (librdkafka
takes one group per OffsetFetch, so one request per group, all sent at once), and one ListOffsets
each for the earliest and the latest offsets of all partitions.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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
) -> tuple[GroupLag, ...]:
    """Lag of each selected group, per partition, from one batched read of the cluster.

    Groups: those named in `groups`; else every group the cluster knows plus the declared ones
    when `all_groups` (or when `desired` is None); else the groups topics.yaml declares.
    A declared group the cluster does not know gets state NOT_STARTED.

    Partitions of a group: every partition of the topics topics.yaml lists under it, those it
    has committed offsets on and those assigned to its members; only `topic`'s with `topic`.
    A partition without a committed offset has `committed=None` (lag from the log start).

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
    for name in selected:
        description = descriptions.get(name)
        holders = _holders(description)
        group_committed = committed.get(name, {})
        partitions = tuple(
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
        if name in listing:
            state = description.state if description is not None else listing[name]
            members = len(description.members) if description is not None else 0
        else:
            state, members = NOT_STARTED, 0
        lags.append(GroupLag(name, state, members, name in declared, partitions))
    return tuple(lags)


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
    kind: Literal["max-lag", "max-partition-lag"]
    value: int
    limit: int
    where: str | None = None  # topic-partition for max-partition-lag

    def describe(self) -> str:
        if self.kind == "max-lag":
            return f"{self.group}: total lag {self.value} > --max-lag {self.limit}"
        return f"{self.group}: lag {self.value} on {self.where} > --max-partition-lag {self.limit}"


def breaches(
    lags: Sequence[GroupLag], *, max_lag: int | None, max_partition_lag: int | None
) -> tuple[Breach, ...]:
    """Every group over `max_lag` (total) or `max_partition_lag` (any one partition)."""
    found: list[Breach] = []
    for lag in lags:
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
