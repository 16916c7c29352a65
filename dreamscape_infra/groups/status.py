"""A status for each group, judged over a window of two samples (Burrow's idea, simplified).

Pure. `judge(first, last)` compares a group at the start and at the end of the window; with
one sample (`last` is None, the default of `groups lag`) nothing can be said about movement, so
a group with members is OK. The rules, in order (docs/groups.md):

| status | rule |
|---|---|
| NOT-STARTED | declared in topics.yaml, but the cluster does not know it (nothing committed) |
| STOPPED | no members, lag > 0 |
| EMPTY | no members, no lag |
| STALLED | members present, lag > 0, and no committed offset moved across the window |
| LAGGING | members present and the total lag grew across the window |
| OK | anything else |
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from dreamscape_infra.groups.lag import committed_positions
from dreamscape_infra.groups.model import NOT_STARTED, GroupLag


class GroupStatus(StrEnum):
    OK = "OK"
    LAGGING = "LAGGING"
    STALLED = "STALLED"
    STOPPED = "STOPPED"
    EMPTY = "EMPTY"
    NOT_STARTED = "NOT-STARTED"


def judge(first: GroupLag, last: GroupLag | None = None) -> GroupStatus:
    """The status of one group from its sample at the start and at the end of the window.

    The end decides membership and lag; movement (STALLED, LAGGING) needs two samples.
    """
    end = last if last is not None else first
    if end.state == NOT_STARTED:
        return GroupStatus.NOT_STARTED
    if end.members == 0:
        return GroupStatus.STOPPED if end.total_lag > 0 else GroupStatus.EMPTY
    if last is None:
        return GroupStatus.OK
    if end.total_lag > 0 and committed_positions(first) == committed_positions(last):
        return GroupStatus.STALLED
    if end.total_lag > first.total_lag:
        return GroupStatus.LAGGING
    return GroupStatus.OK


def judge_all(
    first: Sequence[GroupLag], last: Sequence[GroupLag] | None = None
) -> dict[str, GroupStatus]:
    """`judge` for every group of `first`, paired with the same group in `last` by name."""
    later = {g.group: g for g in last} if last is not None else {}
    return {g.group: judge(g, later.get(g.group, g) if last is not None else None) for g in first}
