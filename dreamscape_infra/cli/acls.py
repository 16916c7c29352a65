"""`dreamscape-infra acls ...`: each service's ACLs as code, from topics.yaml's `services:`.

show needs no cluster. plan and sync read the cluster's ACLs through `AppState.acl_admin()`,
which tests replace with a fake; the cluster must run an authorizer.
"""

from __future__ import annotations

from typing import Any

import typer

from dreamscape_infra.cli.state import (
    OUTPUT_OPTION,
    TOPICS_FILE_OPTION,
    AppState,
    OutputFormat,
    get_state,
)
from dreamscape_infra.errors import ExitCode

app = typer.Typer(
    help="ACLs as code: show, plan and sync the ACLs topics.yaml's services need.",
    no_args_is_help=True,
)

SUPER_USERS_ENV = "DREAMSCAPE_SUPER_USERS"
SUPER_USER_OPTION: Any = typer.Option(
    None,
    "--super-user",
    metavar="PRINCIPAL",
    help="A principal whose ACLs are never changed (repeatable; default "
    "DREAMSCAPE_SUPER_USERS as in super.users, 'User:a;User:b', else User:admin).",
    show_default=False,
)
PRUNE_HELP = "Delete ACLs of declared services' principals that topics.yaml does not declare."


def _super_users(state: AppState, option: list[str] | None) -> frozenset[str]:
    from dreamscape_infra.acls.plan import DEFAULT_SUPER_USERS

    if option:
        return frozenset(option)
    raw = state.env.get(SUPER_USERS_ENV)
    if raw:
        return frozenset(p.strip() for p in raw.split(";") if p.strip())
    return DEFAULT_SUPER_USERS


def _desired(state: AppState) -> Any:
    from dreamscape_infra.acls.desired import desired_acls

    return desired_acls(state.desired(None))


def _plan(state: AppState, prune: bool, super_user: list[str] | None) -> tuple[Any, Any]:
    """(plan, admin): the cluster's ACLs read once, compared with the declared ones."""
    from dreamscape_infra.acls.plan import AclPlanOptions, compute_acl_plan

    desired = _desired(state)
    admin = state.acl_admin(state.settings())
    try:
        actual = admin.list_acls()
    except BaseException:
        admin.close()
        raise
    options = AclPlanOptions(prune=prune, super_users=_super_users(state, super_user))
    return compute_acl_plan(desired, actual, options), admin


@app.command("show")
def show(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """The ACLs topics.yaml's services need, without a cluster.

    Example: dreamscape-infra acls show --output json
    """
    from dreamscape_infra.acls.render import desired_json, desired_tables

    state = get_state(ctx)
    desired = _desired(state)
    if state.output_format(output) is OutputFormat.json:
        state.print_json(desired_json(desired))
    else:
        state.print_tables(desired_tables(desired))


@app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    prune: bool = typer.Option(
        False, "--prune", help="Plan " + PRUNE_HELP[0].lower() + PRUNE_HELP[1:]
    ),
    detailed_exitcode: bool = typer.Option(
        False, "--detailed-exitcode", help="Exit 0 when in sync, 5 when changes are pending."
    ),
    super_user: list[str] | None = SUPER_USER_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Compare the declared ACLs with the cluster's and show what sync would change.

    Undeclared ACLs of declared services' principals are listed (--prune plans their
    deletion); ACLs of super users and of other principals are listed and never changed.

    Exit codes: 0 success, 3 invalid topics.yaml, 4 Kafka unreachable or without an
    authorizer, 5 changes pending (with --detailed-exitcode).

    Example: dreamscape-infra acls plan --detailed-exitcode
    """
    from dreamscape_infra.acls.render import plan_json, plan_summary, plan_tables

    state = get_state(ctx)
    plan, admin = _plan(state, prune, super_user)
    admin.close()
    if state.output_format(output) is OutputFormat.json:
        state.print_json(plan_json(plan))
    else:
        state.print_tables(*plan_tables(plan), plan_summary(plan))
    if detailed_exitcode and plan.has_changes:
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))


@app.command("sync")
def sync_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    prune: bool = typer.Option(False, "--prune", help=PRUNE_HELP + " Confirms; see --yes."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm --prune without a prompt."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would change; send nothing to the cluster."
    ),
    super_user: list[str] | None = SUPER_USER_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Create the ACLs the declared services need; with --prune, delete undeclared ones.

    Creations apply without a prompt. Deletions (--prune) confirm on a terminal and need
    --yes otherwise. ACLs of super users and of principals that are no declared service's
    are never changed.

    Exit codes: 0 in sync, 3 invalid topics.yaml (nothing changed), 4 Kafka unreachable,
    without an authorizer, or a broker refused a change, 7 a deletion was refused.

    Example: dreamscape-infra acls sync --prune --yes
    """
    from dreamscape_infra.acls.apply import apply_acl_plan
    from dreamscape_infra.acls.plan import block_unconfirmed
    from dreamscape_infra.acls.render import plan_tables, report_json, report_summary

    state = get_state(ctx)
    json_mode = state.output_format(output) is OutputFormat.json
    plan, admin = _plan(state, prune, super_user)
    try:
        deletions = [a for a in plan.pending if a.destructive]
        if deletions and not dry_run and not yes:
            confirmed = False
            if state.is_interactive() and not json_mode:
                state.print_tables(*plan_tables(plan))
                confirmed = typer.confirm(
                    f"Delete {len(deletions)} ACL(s) listed above?", default=False
                )
            if not confirmed:
                plan = block_unconfirmed(
                    plan, "deletion not confirmed: pass --yes (or answer the prompt)"
                )
        report = apply_acl_plan(plan, admin, dry_run=dry_run)
    finally:
        admin.close()
    if json_mode:
        state.print_json(report_json(plan, report))
    else:
        state.print_tables(*plan_tables(plan, report), report_summary(report))
    code = report.exit_code()
    if code == ExitCode.ENVIRONMENT:
        failed = ", ".join(sorted({r.action.binding.describe() for r in report.errors}))
        state.err_console().print(f"error: the broker refused: {failed}", markup=False)
    elif code == ExitCode.REFUSED:
        state.err_console().print(
            "refused: ACL deletions were not applied (see BLOCKED above)", markup=False
        )
    if code != ExitCode.OK:
        raise typer.Exit(int(code))


__all__ = ["app"]


def register(root: typer.Typer) -> None:
    """Add the `acls` group to the root app."""
    root.add_typer(app, name="acls")
