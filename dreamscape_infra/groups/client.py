"""What the groups capability asks of a cluster: the `GroupsClient` Protocol and its values.

Pure: no confluent_kafka here. `dreamscape_infra.kafka.groups.ConfluentGroups` implements the
Protocol against a real cluster; tests implement it with a fake (tests/groups_support.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

TopicPartition = tuple[str, int]


@dataclass(frozen=True, slots=True)
class GroupListing:
    """A consumer group the cluster knows, with its state (Stable, Empty, ...)."""

    group: str
    state: str


@dataclass(frozen=True, slots=True)
class GroupMember:
    """A member of a group and the partitions assigned to it."""

    consumer_id: str
    client_id: str
    host: str
    assignment: tuple[TopicPartition, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupDescription:
    """A group's state and its members, as DescribeGroups reports them."""

    group: str
    state: str
    members: tuple[GroupMember, ...] = ()


@dataclass(frozen=True, slots=True)
class OffsetRange:
    """The first and the next offset of a partition's log (log start, log end)."""

    log_start: int
    log_end: int


@dataclass(frozen=True, slots=True)
class RecordTime:
    """The record found at (or, compacted away, just after) an offset, and its timestamp."""

    offset: int
    timestamp_ms: int
    log_append_time: bool  # the broker's append time (LogAppendTime), else the producer's


class GroupsClient(Protocol):
    """The cluster as the groups capability sees it. Every method is one batched call.

    Methods raise `EnvironmentFailure` when the cluster cannot be reached.
    """

    def list_groups(self) -> tuple[GroupListing, ...]:
        """Every consumer group the cluster knows (one ListGroups)."""
        ...

    def describe_groups(self, groups: Sequence[str]) -> dict[str, GroupDescription]:
        """State and members of each group (one DescribeGroups for all of them)."""
        ...

    def committed_offsets(self, groups: Sequence[str]) -> dict[str, dict[TopicPartition, int]]:
        """Each group's committed offsets; partitions without a commit are left out."""
        ...

    def partition_counts(self, topics: Sequence[str] | None = None) -> dict[str, int]:
        """Partitions per topic (one metadata request); topics that do not exist are left out.
        None: every topic of the cluster."""
        ...

    def offset_ranges(
        self, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, OffsetRange]:
        """Log start and log end of each partition (one ListOffsets each for earliest and
        latest, for all partitions)."""
        ...

    def record_timestamps(
        self, positions: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, RecordTime]:
        """The timestamp of the first record at or after each offset, read by assignment (no
        group joins or commits). Batched: the partitions are fetched together, one Fetch per
        partition leader per round, whatever their number. A partition with no record there
        in time, or whose record has no timestamp (-1), is left out."""
        ...

    def offsets_for_time(
        self, partitions: Sequence[TopicPartition], timestamp_ms: int
    ) -> dict[TopicPartition, int | None]:
        """The first offset at or after `timestamp_ms` per partition; None when no message is
        that recent (one ListOffsets)."""
        ...

    def alter_offsets(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit `offsets` for `group`. Raises RefusedError while the group has members."""
        ...

    def delete_group(self, group: str) -> None:
        """Delete the group and its committed offsets. Raises RefusedError while it has
        members."""
        ...

    def close(self) -> None: ...
