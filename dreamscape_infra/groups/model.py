"""Consumer-group lag as plain values: what `groups lag`, `health` and `/metrics` all read.

Pure. The groups capability fills these from the cluster; health and metrics only consume them.
"""

from __future__ import annotations

from dataclasses import dataclass

NOT_STARTED = "not-started"  # a declared group the cluster does not know yet (nothing committed)


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """The group member that holds a partition."""

    consumer_id: str
    client_id: str
    host: str


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """One partition as one group sees it.

    `committed` is None when the group has no committed offset there; the lag then counts from
    `log_start`, which is what the group would read with `auto.offset.reset=earliest`.
    """

    topic: str
    partition: int
    committed: int | None
    log_start: int
    log_end: int
    member: MemberInfo | None = None

    @property
    def lag(self) -> int:
        """Messages the group has still to read here; never negative."""
        position = self.committed if self.committed is not None else self.log_start
        return max(self.log_end - max(position, self.log_start), 0)


@dataclass(frozen=True, slots=True)
class GroupLag:
    """One group: its state on the cluster, whether topics.yaml declares it, and its lag."""

    group: str
    state: str  # Stable, Empty, PreparingRebalance, ... or NOT_STARTED
    members: int
    declared: bool
    partitions: tuple[PartitionLag, ...] = ()

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def max_partition_lag(self) -> int:
        return max((p.lag for p in self.partitions), default=0)

    def topic_lag(self) -> dict[str, int]:
        """Lag summed per topic, sorted by topic name."""
        totals: dict[str, int] = {}
        for p in sorted(self.partitions, key=lambda p: (p.topic, p.partition)):
            totals[p.topic] = totals.get(p.topic, 0) + p.lag
        return totals
