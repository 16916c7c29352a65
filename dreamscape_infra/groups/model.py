"""Consumer-group lag as plain values: what `groups lag`, `health` and `/metrics` all read.

Pure. The groups capability fills these from the cluster; health and metrics only consume them.
"""

from __future__ import annotations

from dataclasses import dataclass

NOT_STARTED = "not-started"  # a declared group the cluster does not know yet (nothing committed)
RETENTION_LOST = "retention-lost"  # a partition whose committed offset is below the log start


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
    # The age in seconds of the oldest message the group has not read here (now minus the
    # timestamp of the record at max(committed, log_start)): 0.0 without lag, None when it was
    # not read or the record carries no timestamp (-1).
    lag_seconds: float | None = None

    @property
    def position(self) -> int:
        """Where the group would read next: its committed offset, but never below the log
        start (retention deleted what lies below)."""
        position = self.committed if self.committed is not None else self.log_start
        return max(position, self.log_start)

    @property
    def lag(self) -> int:
        """Messages the group has still to read here; never negative."""
        return max(self.log_end - self.position, 0)

    @property
    def lost_to_retention(self) -> int:
        """Messages retention deleted before the group read them: a committed offset below
        the log start."""
        if self.committed is None:
            return 0
        return max(self.log_start - self.committed, 0)

    @property
    def status(self) -> str:
        """`retention-lost` (a distinct state: messages were lost), `behind` or `caught-up`."""
        if self.lost_to_retention:
            return RETENTION_LOST
        return "behind" if self.lag else "caught-up"


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

    @property
    def lost_to_retention(self) -> int:
        return sum(p.lost_to_retention for p in self.partitions)

    @property
    def max_lag_seconds(self) -> float | None:
        """The oldest unconsumed message's age over all partitions; None when some lagging
        partition's age is unknown and no other is known either."""
        known = [p.lag_seconds for p in self.partitions if p.lag_seconds is not None]
        return max(known) if known else (None if self.total_lag else 0.0)

    def topic_lag_seconds(self) -> dict[str, float | None]:
        """The maximum lag in seconds per topic, sorted by topic name (None: not known)."""
        out: dict[str, float | None] = {}
        for p in sorted(self.partitions, key=lambda p: (p.topic, p.partition)):
            seen = out.get(p.topic)
            value = p.lag_seconds
            later = value is not None and (seen is None or value > seen)
            if p.topic not in out or later:
                out[p.topic] = value
        return out

    def topic_lag(self) -> dict[str, int]:
        """Lag summed per topic, sorted by topic name."""
        totals: dict[str, int] = {}
        for p in sorted(self.partitions, key=lambda p: (p.topic, p.partition)):
            totals[p.topic] = totals.get(p.topic, 0) + p.lag
        return totals
