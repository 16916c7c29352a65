"""`dreamscape-infra groups ...`: consumer groups, their lag and status, offset resets.

Reads the cluster through `AppState.groups_client()`, which tests replace with a fake.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer

from dreamscape_infra.cli.state import (
    ENV_OPTION,
    OUTPUT_OPTION,
    TOPICS_FILE_OPTION,
    AppState,
    OutputFormat,
    get_state,
)
from dreamscape_infra.errors import ExitCode, RefusedError, UsageError

if TYPE_CHECKING:
    from dreamscape_infra.groups.client import GroupsClient
    from dreamscape_infra.groups.reset import ResetTarget
    from dreamscape_infra.topics.model import DesiredState

app = typer.Typer(
    help="Consumer groups: list, lag and status, offset resets, delete.",
    no_args_is_help=True,
)


def _desired(state: AppState, env: str | None) -> DesiredState:
    return state.desired(env)


def _client(state: AppState) -> GroupsClient:
    return state.groups_client(state.settings())


def _window_seconds(text: str) -> float:
    """`10s`, `1m`, `500ms`; a plain number is seconds."""
    from dreamscape_infra.topics.configs import ConfigValueError, parse_duration_ms

    stripped = text.strip()
    try:
        seconds = float(stripped) if stripped.replace(".", "", 1).isdigit() else None
        if seconds is None:
            seconds = parse_duration_ms(stripped) / 1000
    except ConfigValueError:
        raise UsageError(f"--window: '{text}' is not a duration (e.g. 10s, 1m, 500ms)") from None
    if seconds < 0:
        raise UsageError(f"--window: '{text}' is negative")
    return seconds


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    env: str | None = ENV_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Every group on the cluster, and every group topics.yaml declares: state, members,
    declared, status and total lag. A declared group with nothing committed is `not-started`.

    Example: dreamscape-infra groups list
    """
    from dreamscape_infra.groups.lag import read_group_lags
    from dreamscape_infra.groups.render import groups_table, list_json
    from dreamscape_infra.groups.status import judge_all

    state = get_state(ctx)
    desired = _desired(state, env)
    client = _client(state)
    try:
        lags = read_group_lags(client, desired, all_groups=True)
    finally:
        client.close()
    statuses = judge_all(lags)
    if state.output_format(output) is OutputFormat.json:
        state.print_json(list_json(lags, statuses))
        return
    title = f"Consumer groups at {state.settings().bootstrap_servers}"
    state.print_tables(groups_table(title, lags, statuses))


@app.command("lag")
def lag_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    groups: list[str] | None = typer.Argument(
        None, help="Groups to show (default: those topics.yaml declares)."
    ),
    topic: str | None = typer.Option(None, "--topic", "-t", help="Only this topic."),
    all_groups: bool = typer.Option(
        False, "--all", "-a", help="Every group on the cluster, declared or not."
    ),
    window: str = typer.Option(
        "0",
        "--window",
        "-w",
        help="Judge the status over this window (e.g. 10s): two samples, this far apart. "
        "Default: one sample, no waiting.",
    ),
    max_lag: int | None = typer.Option(
        None, "--max-lag", min=0, help="Exit 8 when a group's total lag exceeds this."
    ),
    max_partition_lag: int | None = typer.Option(
        None,
        "--max-partition-lag",
        min=0,
        help="Exit 8 when any one partition's lag exceeds this.",
    ),
    max_lag_seconds: float | None = typer.Option(
        None,
        "--max-lag-seconds",
        min=0,
        help="Exit 8 when a group's oldest unconsumed message is older than this (seconds).",
    ),
    env: str | None = ENV_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Lag per partition (committed, log end, lag, the age of the oldest unconsumed message,
    member), per topic and per group, and each group's status: OK, LAGGING, STALLED, STOPPED,
    EMPTY or NOT-STARTED (rules in docs/groups.md). With --window, also the consume and produce
    rates and the time to clear the lag. Also cross-checks commits against the topics
    topics.yaml lists per group.

    Exit codes: 0 fine, 2 unknown group or topic, 4 Kafka unreachable, 8 a group is over
    --max-lag, --max-partition-lag or --max-lag-seconds.

    Example: dreamscape-infra groups lag dreamscape-auth-service-group --window 10s --max-lag 1000
    """
    from dreamscape_infra.groups.lag import breaches, cross_check, read_group_lags
    from dreamscape_infra.groups.rate import rates
    from dreamscape_infra.groups.render import (
        lag_json,
        notes,
        partitions_table,
        rates_table,
        topics_table,
    )
    from dreamscape_infra.groups.status import judge_all

    state = get_state(ctx)
    seconds = _window_seconds(window)
    desired = _desired(state, env)
    client = _client(state)
    try:
        started, elapsed = time.monotonic(), 0.0
        first = read_group_lags(client, desired, groups, all_groups=all_groups, topic=topic)
        last = None
        if seconds > 0:
            if state.output_format(output) is OutputFormat.table:
                state.err_console().print(
                    f"sampling again in {seconds:g}s to judge the status ...", markup=False
                )
            time.sleep(seconds)
            elapsed = time.monotonic() - started  # between the starts of the two reads
            last = read_group_lags(client, desired, [g.group for g in first], topic=topic)
    finally:
        client.close()
    statuses = judge_all(first, last)
    shown = last if last is not None else first
    found_rates = rates(first, last, elapsed) if last is not None else {}
    checks = {g.group: cross_check(g, desired) for g in shown}
    found = breaches(
        shown,
        max_lag=max_lag,
        max_partition_lag=max_partition_lag,
        max_lag_seconds=max_lag_seconds,
    )
    if state.output_format(output) is OutputFormat.json:
        state.print_json(
            lag_json(shown, statuses, checks, found, window_s=seconds, rates=found_rates)
        )
    else:
        tables = [partitions_table(g, statuses[g.group]) for g in shown]
        extra = [rates_table(found_rates)] if found_rates else []
        state.print_tables(*tables, topics_table(shown), *extra)
        out = state.out_console()
        for line in notes(shown, checks):
            out.print(f"note: {line}", markup=False, highlight=False, soft_wrap=True)
    if found:
        for breach in found:
            state.err_console().print(
                f"check failed: {breach.describe()}", markup=False, highlight=False
            )
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


@app.command("reset-offsets")
def reset_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    group: str = typer.Argument(..., help="The consumer group."),
    topics: list[str] | None = typer.Option(
        None, "--topic", "-t", help="A topic to reset (repeatable)."
    ),
    all_topics: bool = typer.Option(
        False,
        "--all-topics",
        help="Every topic the group has committed on or topics.yaml lists under it.",
    ),
    partitions: list[int] | None = typer.Option(
        None, "--partition", "-p", help="Only this partition of each topic (repeatable)."
    ),
    to_earliest: bool = typer.Option(False, "--to-earliest", help="To the log start."),
    to_latest: bool = typer.Option(False, "--to-latest", help="To the log end (skip all)."),
    to_datetime: str | None = typer.Option(
        None,
        "--to-datetime",
        help="To the first message at or after this ISO 8601 time (local time without an offset).",
    ),
    to_offset: int | None = typer.Option(None, "--to-offset", help="To this offset."),
    shift_by: int | None = typer.Option(
        None, "--shift-by", help="Move by N (negative: back) from the committed offset."
    ),
    execute: bool = typer.Option(
        False, "--execute", help="Apply the plan. Without it, only print it."
    ),
    env: str | None = ENV_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Plan (and with --execute apply) new committed offsets for a group: old -> new per
    partition. A target outside [log start, log end] is clamped, with a note. Refused (exit 7)
    while the group has active members.

    Exit codes: 0 done (or planned), 2 bad input, 4 Kafka unreachable, 7 refused.

    Example: dreamscape-infra groups reset-offsets dreamscape-auth-service-group
    --topic dreamscape.user.created --to-earliest --execute
    """
    from dreamscape_infra.groups.render import reset_json, reset_table
    from dreamscape_infra.groups.reset import apply_reset, read_reset_plan

    state = get_state(ctx)
    target = _reset_target(
        to_earliest,
        to_latest,
        to_datetime,
        to_offset,
        shift_by,
        topics_unclear=bool(topics) == all_topics,
        partitions=partitions or (),
    )
    desired = _desired(state, env)
    client = _client(state)
    try:
        plan = read_reset_plan(
            client,
            desired,
            group,
            target,
            topics=topics or (),
            all_topics=all_topics,
            partitions=partitions or (),
        )
        if execute:
            apply_reset(client, plan)
    finally:
        client.close()
    if state.output_format(output) is OutputFormat.json:
        state.print_json(reset_json(plan, executed=execute))
    else:
        state.print_tables(reset_table(plan, executed=execute))
    if not execute and plan.members:
        state.err_console().print(
            f"note: {group} has {plan.members} active member(s): --execute would be refused "
            "until they stop",
            markup=False,
        )


def _reset_target(
    to_earliest: bool,
    to_latest: bool,
    to_datetime: str | None,
    to_offset: int | None,
    shift_by: int | None,
    *,
    topics_unclear: bool,
    partitions: Sequence[int],
) -> ResetTarget:
    """The one target the reset options name. UsageError, in this order, for none or several
    targets, both or neither of --topic and --all-topics (`topics_unclear`), a negative
    offset or partition, and a date-time that is not one."""
    from dreamscape_infra.groups.reset import ResetTarget, parse_datetime_ms

    chosen = [
        name
        for name, given in (
            ("--to-earliest", to_earliest),
            ("--to-latest", to_latest),
            ("--to-datetime", to_datetime is not None),
            ("--to-offset", to_offset is not None),
            ("--shift-by", shift_by is not None),
        )
        if given
    ]
    if len(chosen) != 1:
        raise UsageError(
            "reset-offsets: give exactly one target of --to-earliest, --to-latest, "
            f"--to-datetime, --to-offset, --shift-by (got {', '.join(chosen) or 'none'})"
        )
    if topics_unclear:
        raise UsageError("reset-offsets: give --topic T (repeatable) or --all-topics, not both")
    if to_offset is not None and to_offset < 0:
        raise UsageError(f"--to-offset: {to_offset} is negative; offsets start at 0")
    for p in partitions:
        if p < 0:
            raise UsageError(f"--partition: {p} is negative")
    if to_earliest:
        return ResetTarget("earliest")
    if to_latest:
        return ResetTarget("latest")
    if to_datetime is not None:
        return ResetTarget("datetime", parse_datetime_ms(to_datetime))
    if to_offset is not None:
        return ResetTarget("offset", to_offset)
    return ResetTarget("shift", shift_by)


@app.command("delete")
def delete_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    group: str = typer.Argument(..., help="The consumer group."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete without a prompt."),
    env: str | None = ENV_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Delete a consumer group and its committed offsets. Refused for a group with members;
    confirms on a terminal and needs --yes otherwise.

    Exit codes: 0 deleted (or nothing to delete), 2 unknown group, 4 Kafka unreachable,
    7 refused (members, or not confirmed).

    Example: dreamscape-infra groups delete dreamscape-analytics-service-group --yes
    """
    from dreamscape_infra.groups.lag import select_groups

    state = get_state(ctx)
    json_mode = state.output_format(output) is OutputFormat.json
    desired = _desired(state, env)
    client = _client(state)
    try:
        client.partition_counts([])  # fails fast when no broker answers
        listing = {g.group for g in client.list_groups()}
        select_groups(listing, desired, [group], all_groups=False)
        if group not in listing:
            message = f"{group} is declared but not on the cluster (not-started): nothing to delete"
            if json_mode:
                state.print_json(_delete_doc(group, deleted=False, message=message))
            else:
                state.out_console().print(message, markup=False)
            return
        description = client.describe_groups([group]).get(group)
        members = len(description.members) if description is not None else 0
        if members:
            raise RefusedError(
                f"refused: {group} has {members} active member(s); only a group without "
                "members can be deleted",
                hint="stop the group's consumers first",
            )
        if not yes:
            confirmed = (
                state.is_interactive()
                and not json_mode
                and typer.confirm(f"Delete consumer group {group} and its offsets?", default=False)
            )
            if not confirmed:
                raise RefusedError(
                    f"refused: deleting {group} was not confirmed",
                    hint="pass --yes (or answer the prompt on a terminal)",
                )
        client.delete_group(group)
    finally:
        client.close()
    message = f"deleted consumer group {group}"
    if json_mode:
        state.print_json(_delete_doc(group, deleted=True, message=message))
    else:
        state.out_console().print(message, markup=False)


def _delete_doc(group: str, *, deleted: bool, message: str) -> dict[str, Any]:
    return {
        "kind": "group-delete",
        "version": 1,
        "group": group,
        "deleted": deleted,
        "message": message,
    }


def register(root: typer.Typer) -> None:
    """Add the `groups` group to the root app."""
    root.add_typer(app, name="groups")
