"""Consumer groups as tables and JSON documents. Pure: returns values, never prints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dreamscape_infra.groups.lag import Breach, CrossCheck, format_seconds
from dreamscape_infra.groups.model import GroupLag, PartitionLag
from dreamscape_infra.groups.rate import GroupRate
from dreamscape_infra.groups.reset import ResetPlan
from dreamscape_infra.groups.status import GroupStatus
from dreamscape_infra.tables import TableData

NO_COMMIT = "none"  # the committed-offset cell of a partition the group never committed

_STATUS_STYLE = {
    GroupStatus.OK: "",
    GroupStatus.EMPTY: "",
    GroupStatus.NOT_STARTED: "dim",
    GroupStatus.LAGGING: "yellow",
    GroupStatus.STALLED: "red",
    GroupStatus.STOPPED: "red",
}


def age(seconds: float | None) -> str | None:
    """A lag in seconds as a table cell: `2m30s`; None (shown `-`) when unknown."""
    return None if seconds is None else format_seconds(seconds)


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def _members(n: int) -> str:
    return f"{n} member" if n == 1 else f"{n} members"


def groups_table(
    title: str, lags: Sequence[GroupLag], statuses: Mapping[str, GroupStatus]
) -> TableData:
    """One row per group: state, members, declared, status, total and max partition lag, and
    the age of its oldest unconsumed message."""
    rows = []
    styles = []
    for lag in lags:
        status = statuses[lag.group]
        rows.append(
            (
                lag.group,
                lag.state,
                lag.members,
                "yes" if lag.declared else "no",
                status.value,
                lag.total_lag,
                lag.max_partition_lag,
                age(lag.max_lag_seconds),
            )
        )
        styles.append(_STATUS_STYLE[status])
    return TableData.build(
        title,
        (
            "group",
            "state",
            "members",
            "declared",
            "status",
            "total lag",
            "max partition lag",
            "oldest unconsumed",
        ),
        rows,
        styles,
    )


def partitions_table(lag: GroupLag, status: GroupStatus) -> TableData:
    """Per partition: committed offset (`none` if never committed), log start and end, lag,
    the age of the oldest unconsumed message, the status (`retention-lost (N)` when retention
    deleted N messages the group never read) and the member that holds it."""
    rows = []
    for p in lag.partitions:
        m = p.member
        rows.append(
            (
                p.topic,
                p.partition,
                p.committed if p.committed is not None else NO_COMMIT,
                p.log_start,
                p.log_end,
                p.lag,
                age(p.lag_seconds),
                p.status if not p.lost_to_retention else f"{p.status} ({p.lost_to_retention})",
                m.consumer_id if m else None,
                m.client_id if m else None,
                m.host if m else None,
            )
        )
    title = (
        f"{lag.group}: {lag.state}, {_members(lag.members)}, "
        f"{'declared' if lag.declared else 'not declared'}, {status.value}; "
        f"total lag {lag.total_lag}, max partition lag {lag.max_partition_lag}, "
        f"oldest unconsumed {age(lag.max_lag_seconds) or 'unknown'}"
    )
    return TableData.build(
        title,
        (
            "topic",
            "partition",
            "committed",
            "log start",
            "log end",
            "lag",
            "lag age",
            "status",
            "consumer id",
            "client id",
            "host",
        ),
        rows,
    )


def topics_table(lags: Sequence[GroupLag]) -> TableData:
    """Lag summed per topic, and its oldest unconsumed message's age, for every group."""
    rows: list[tuple[object, ...]] = []
    for lag in lags:
        ages = lag.topic_lag_seconds()
        rows.extend((lag.group, t, total, age(ages.get(t))) for t, total in lag.topic_lag().items())
    return TableData.build("Lag per topic", ("group", "topic", "lag", "oldest unconsumed"), rows)


def rates_table(found: Mapping[str, GroupRate]) -> TableData:
    """Per group over the window: consume and produce rates, and the time to clear its lag
    (`growing` when producers outpace it)."""
    rows = []
    for rate in found.values():
        clear: str = rate.trend
        if rate.time_to_clear_s is not None:
            clear = format_seconds(rate.time_to_clear_s)
        rows.append(
            (
                rate.group,
                f"{rate.consume_per_s:.1f}/s",
                f"{rate.produce_per_s:.1f}/s",
                rate.lag,
                clear,
            )
        )
    window = next(iter(found.values())).window_s if found else 0.0
    return TableData.build(
        f"Rates over {window:.1f}s",
        ("group", "consumed", "produced", "lag", "time to clear"),
        rows,
    )


def rate_json(rate: GroupRate) -> dict[str, Any]:
    """One group's rates: messages/s and seconds (None: not clearing at this rate)."""
    return {
        "window_s": round(rate.window_s, 3),
        "consume_per_s": round(rate.consume_per_s, 3),
        "produce_per_s": round(rate.produce_per_s, 3),
        "trend": rate.trend,
        "time_to_clear_s": _rounded(rate.time_to_clear_s),
    }


def notes(lags: Sequence[GroupLag], checks: Mapping[str, CrossCheck | None]) -> list[str]:
    """One line per finding: uncommitted partitions, and where commits and topics.yaml
    disagree."""
    lines = []
    for lag in lags:
        uncommitted = [p for p in lag.partitions if p.committed is None]
        if uncommitted and lag.partitions and lag.state != "not-started":
            lines.append(
                f"{lag.group}: {len(uncommitted)} partition(s) without a committed offset "
                "(committed 'none'): lag counted from the log start"
            )
        lost = [p for p in lag.partitions if p.lost_to_retention]
        if lost:
            lines.append(
                f"{lag.group}: lost {lag.lost_to_retention} message(s) to retention on "
                f"{', '.join(f'{p.topic}-{p.partition}' for p in lost)}: its committed offset "
                "is below the log start (the age shown is of the oldest message still there)"
            )
        check = checks.get(lag.group)
        if check is None:
            continue
        if check.undeclared:
            lines.append(
                f"{lag.group}: commits on {', '.join(check.undeclared)}, which topics.yaml does "
                "not list under this group"
            )
        if check.never_committed:
            lines.append(
                f"{lag.group}: never committed on {', '.join(check.never_committed)}, which "
                "topics.yaml lists under this group"
            )
    return lines


def _partition_json(p: PartitionLag) -> dict[str, Any]:
    member = p.member
    return {
        "topic": p.topic,
        "partition": p.partition,
        "committed": p.committed,
        "log_start": p.log_start,
        "log_end": p.log_end,
        "lag": p.lag,
        "lag_seconds": _rounded(p.lag_seconds),
        "status": p.status,
        "lost_to_retention": p.lost_to_retention,
        "member": (
            {"consumer_id": member.consumer_id, "client_id": member.client_id, "host": member.host}
            if member
            else None
        ),
    }


def group_json(
    lag: GroupLag,
    status: GroupStatus,
    check: CrossCheck | None,
    *,
    partitions: bool = True,
    rate: GroupRate | None = None,
) -> dict[str, Any]:
    """One group's document (see docs/json-output.md)."""
    doc: dict[str, Any] = {
        "group": lag.group,
        "state": lag.state,
        "members": lag.members,
        "declared": lag.declared,
        "status": status.value,
        "total_lag": lag.total_lag,
        "max_partition_lag": lag.max_partition_lag,
        "max_lag_seconds": _rounded(lag.max_lag_seconds),
        "lost_to_retention": lag.lost_to_retention,
        "topics": lag.topic_lag(),
        "topics_lag_seconds": {t: _rounded(v) for t, v in lag.topic_lag_seconds().items()},
    }
    if rate is not None:
        doc["rate"] = rate_json(rate)
    if partitions:
        doc["partitions"] = [_partition_json(p) for p in lag.partitions]
        doc["undeclared_topics"] = list(check.undeclared) if check else []
        doc["never_committed_topics"] = list(check.never_committed) if check else []
    return doc


def lag_json(
    lags: Sequence[GroupLag],
    statuses: Mapping[str, GroupStatus],
    checks: Mapping[str, CrossCheck | None],
    found: Sequence[Breach],
    *,
    window_s: float,
    rates: Mapping[str, GroupRate] | None = None,
) -> dict[str, Any]:
    """`groups lag -o json`; each group has a `rate` when a window was sampled."""
    given = rates or {}
    return {
        "kind": "group-lag",
        "version": 1,
        "window_s": window_s,
        "groups": [
            group_json(g, statuses[g.group], checks.get(g.group), rate=given.get(g.group))
            for g in lags
        ],
        "breaches": [
            {
                "group": b.group,
                "check": b.kind,
                "value": b.value,
                "limit": b.limit,
                "where": b.where,
            }
            for b in found
        ],
        "ok": not found,
    }


def list_json(lags: Sequence[GroupLag], statuses: Mapping[str, GroupStatus]) -> dict[str, Any]:
    """`groups list -o json`."""
    return {
        "kind": "groups",
        "version": 1,
        "groups": [group_json(g, statuses[g.group], None, partitions=False) for g in lags],
    }


def reset_table(plan: ResetPlan, *, executed: bool) -> TableData:
    """Old offset -> new offset per partition, with the clamping note."""
    verb = "moved" if executed else "would move (dry run: pass --execute to apply)"
    title = f"{plan.group}: {plan.target.describe()}, {verb}"
    rows = [
        (
            e.topic,
            e.partition,
            e.current if e.current is not None else NO_COMMIT,
            e.new,
            e.log_start,
            e.log_end,
            e.note,
        )
        for e in plan.entries
    ]
    return TableData.build(
        title, ("topic", "partition", "current", "new", "log start", "log end", "note"), rows
    )


def reset_json(plan: ResetPlan, *, executed: bool) -> dict[str, Any]:
    """`groups reset-offsets -o json`."""
    return {
        "kind": "reset-offsets",
        "version": 1,
        "group": plan.group,
        "target": plan.target.describe(),
        "members": plan.members,
        "dry_run": not executed,
        "executed": executed,
        "partitions": [
            {
                "topic": e.topic,
                "partition": e.partition,
                "current": e.current,
                "requested": e.requested,
                "new": e.new,
                "log_start": e.log_start,
                "log_end": e.log_end,
                "note": e.note,
            }
            for e in plan.entries
        ],
    }
