"""Consumer groups as tables and JSON documents. Pure: returns values, never prints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dreamscape_infra.groups.lag import Breach, CrossCheck
from dreamscape_infra.groups.model import GroupLag, PartitionLag
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


def _members(n: int) -> str:
    return f"{n} member" if n == 1 else f"{n} members"


def groups_table(
    title: str, lags: Sequence[GroupLag], statuses: Mapping[str, GroupStatus]
) -> TableData:
    """One row per group: state, members, declared, status, total and max partition lag."""
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
            )
        )
        styles.append(_STATUS_STYLE[status])
    return TableData.build(
        title,
        ("group", "state", "members", "declared", "status", "total lag", "max partition lag"),
        rows,
        styles,
    )


def partitions_table(lag: GroupLag, status: GroupStatus) -> TableData:
    """Per partition: committed offset (`none` if never committed), log start and end, lag and
    the member that holds it."""
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
                m.consumer_id if m else None,
                m.client_id if m else None,
                m.host if m else None,
            )
        )
    title = (
        f"{lag.group}: {lag.state}, {_members(lag.members)}, "
        f"{'declared' if lag.declared else 'not declared'}, {status.value}; "
        f"total lag {lag.total_lag}, max partition lag {lag.max_partition_lag}"
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
            "consumer id",
            "client id",
            "host",
        ),
        rows,
    )


def topics_table(lags: Sequence[GroupLag]) -> TableData:
    """Lag summed per topic, for every group."""
    rows = [(lag.group, t, total) for lag in lags for t, total in lag.topic_lag().items()]
    return TableData.build("Lag per topic", ("group", "topic", "lag"), rows)


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
        "member": (
            {"consumer_id": member.consumer_id, "client_id": member.client_id, "host": member.host}
            if member
            else None
        ),
    }


def group_json(
    lag: GroupLag, status: GroupStatus, check: CrossCheck | None, *, partitions: bool = True
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
        "topics": lag.topic_lag(),
    }
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
) -> dict[str, Any]:
    """`groups lag -o json`."""
    return {
        "kind": "group-lag",
        "version": 1,
        "window_s": window_s,
        "groups": [group_json(g, statuses[g.group], checks.get(g.group)) for g in lags],
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
