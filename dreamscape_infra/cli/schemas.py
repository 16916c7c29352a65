"""`dreamscape-infra schemas ...`: event payload schemas as code, against a Schema Registry.

show needs no registry. plan and sync reach it through `AppState.schema_registry()` (tests
replace it with a fake); the logic is in dreamscape_infra/schemas/.
"""

from __future__ import annotations

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
from dreamscape_infra.errors import ExitCode

if TYPE_CHECKING:
    from dreamscape_infra.schemas.model import Registry, SchemaPlan, SubjectSpec

app = typer.Typer(
    help="Event payload schemas as code: show, plan, sync against a Schema Registry "
    "(SCHEMA_REGISTRY_URL; default the local runtime's).",
    no_args_is_help=True,
)


def _subjects(state: AppState, env: str | None) -> tuple[SubjectSpec, ...]:
    from dreamscape_infra.schemas.desired import load_subjects

    return load_subjects(state.desired(env))


def _registry(ctx: typer.Context, state: AppState) -> Registry:
    registry = state.schema_registry()
    ctx.call_on_close(registry.close)
    return registry


def _plan(
    ctx: typer.Context, state: AppState, env: str | None, *, prune: bool
) -> tuple[SchemaPlan, Registry]:
    """topics.yaml's subjects (exit 3 before any request), then the registry read and the
    registry's own verdict on each change."""
    from dreamscape_infra.schemas.plan import compute_plan
    from dreamscape_infra.schemas.reconcile import observe

    specs = _subjects(state, env)
    prefix = state.desired(env).prefix
    registry = _registry(ctx, state)
    observed = observe(registry, specs, prefix)
    return compute_plan(specs, observed, registry.url, prune=prune), registry


@app.command("show")
def show(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    env: str | None = ENV_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Show the declared payload schemas and their subjects (no registry needed).

    A file that is missing, not JSON or not a valid draft-07 JSON Schema is exit 3, with its
    line and the topic that names it.

    Example: dreamscape-infra schemas show -o json
    """
    from dreamscape_infra.schemas.render import show_json, show_table

    state = get_state(ctx)
    specs = _subjects(state, env)
    if state.output_format(output) is OutputFormat.json:
        state.print_json(show_json(specs))
    else:
        state.print_tables(show_table(specs))


@app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    env: str | None = ENV_OPTION,
    detailed_exitcode: bool = typer.Option(
        False,
        "--detailed-exitcode",
        help="Exit 0 when in sync, 5 when changes are pending (6 when incompatible, always).",
    ),
    prune: bool = typer.Option(
        False, "--prune", help="Plan the deletion of undeclared subjects under the prefix."
    ),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Compare the declared schemas with the registry; the registry itself judges each new
    version (its compatibility endpoint). An incompatible one is exit 6, with the registry's
    reason and the field: the CI gate for a change that would break consumers.

    Exit codes: 0 in sync (or pending without --detailed-exitcode), 3 invalid topics.yaml or
    schema file, 4 registry unreachable, 5 pending (--detailed-exitcode), 6 incompatible.

    Example: dreamscape-infra schemas plan --detailed-exitcode
    """
    from dreamscape_infra.schemas.render import plan_json, plan_summary, plan_table

    state = get_state(ctx)
    plan, _ = _plan(ctx, state, env, prune=prune)
    if state.output_format(output) is OutputFormat.json:
        state.print_json(plan_json(plan, detailed=detailed_exitcode))
    else:
        state.print_tables(plan_table(plan), plan_summary(plan))
    code = plan.exit_code(detailed=detailed_exitcode)
    if code == ExitCode.UNFIXABLE_DRIFT:
        _say_incompatible(state, plan)
    if code != ExitCode.OK:
        raise typer.Exit(int(code))


@app.command("sync")
def sync_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    env: str | None = ENV_OPTION,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would be registered; write nothing."
    ),
    prune: bool = typer.Option(
        False, "--prune", help="Delete undeclared subjects under the prefix (confirms; --yes)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm deletions without a prompt."),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Register the declared schemas: new subjects (their compatibility first), new versions
    the registry accepts, compatibility levels. An incompatible version is never registered.

    Exit codes: 0 in sync, 3 invalid topics.yaml or schema file (nothing sent), 4 registry
    unreachable or a write refused, 6 an incompatible change remains, 7 a deletion was not
    confirmed.

    Example: dreamscape-infra schemas sync --dry-run
    """
    from dreamscape_infra.schemas.apply import apply_plan
    from dreamscape_infra.schemas.render import plan_table, report_json, report_summary

    state = get_state(ctx)
    plan, registry = _plan(ctx, state, env, prune=prune)
    json_mode = state.output_format(output) is OutputFormat.json
    if not dry_run and not yes:
        plan = _confirm_deletes(state, plan, json_mode)
    report = apply_plan(plan, registry, dry_run=dry_run)
    if json_mode:
        state.print_json(report_json(report))
    else:
        state.print_tables(plan_table(plan, report), report_summary(report))
    code = report.exit_code()
    err = state.err_console()
    if code == ExitCode.ENVIRONMENT:
        for result in report.failed:
            err.print(f"error: {result.detail}", markup=False, highlight=False)
    elif code == ExitCode.UNFIXABLE_DRIFT:
        _say_incompatible(state, plan)
    elif code == ExitCode.REFUSED:
        err.print(
            "refused: subjects were not deleted without confirmation (pass --yes)",
            markup=False,
            highlight=False,
        )
    if code != ExitCode.OK:
        raise typer.Exit(int(code))


def _say_incompatible(state: AppState, plan: SchemaPlan) -> None:
    err = state.err_console()
    for action in plan.unfixable:
        why = "; ".join(action.reasons) or "the registry gave no reason"
        err.print(
            f"error: {action.subject}: the registry refuses the new version ({why})",
            markup=False,
            highlight=False,
        )


def _confirm_deletes(state: AppState, plan: SchemaPlan, json_mode: bool) -> SchemaPlan:
    """Deletions stay blocked unless a person at a terminal confirms them."""
    from dreamscape_infra.schemas.plan import block_unconfirmed
    from dreamscape_infra.schemas.render import plan_table

    deletes = [a for a in plan.actions if a.destructive]
    if not deletes:
        return plan
    if state.is_interactive() and not json_mode:
        state.print_tables(plan_table(plan))
        if typer.confirm(f"Delete {len(deletes)} subject(s) listed above?", default=False):
            return plan
    return block_unconfirmed(plan, "not confirmed: pass --yes (or answer the prompt)")


def register(root: typer.Typer) -> None:
    """Add the `schemas` group to the root app."""
    root.add_typer(app, name="schemas")


__all__: list[Any] = ["app", "register"]
