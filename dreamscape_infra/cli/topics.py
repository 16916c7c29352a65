"""`dreamscape-infra topics ...`: topics as code.

validate, show and schema need no cluster. plan, sync, list, describe and import read the
cluster through `AppState.admin()`, which tests replace with a fake.
"""

from __future__ import annotations

import json
from pathlib import Path
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
from dreamscape_infra.errors import ConfigError, EnvironmentFailure, ExitCode, RefusedError

if TYPE_CHECKING:
    from dreamscape_infra.topics.apply import Report
    from dreamscape_infra.topics.plan import Plan

app = typer.Typer(
    help="Topics as code: validate, show, plan, sync, list, describe, import.",
    no_args_is_help=True,
)


def _load(state: AppState, env: str | None) -> Any:
    return state.desired(env)


def _admin(ctx: typer.Context, state: AppState, settings: Any) -> Any:
    """The command's Kafka client, closed when the command ends, however it ends."""
    admin = state.admin(settings)
    ctx.call_on_close(admin.close)
    return admin


def _admin_then_desired(ctx: typer.Context, state: AppState, env: str | None) -> tuple[Any, Any]:
    """The Kafka client first, then topics.yaml: librdkafka opens its connection in its own
    threads while the file loads, so the first request finds it ready (~0.015 s of a plan or
    sync). A file with problems still fails (exit 3) before any request is sent."""
    admin = _admin(ctx, state, state.settings())
    return admin, _load(state, env)


@app.command("validate")
def validate(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Check topics.yaml (every environment) without a cluster.

    Example: dreamscape-infra topics validate
    """
    state = get_state(ctx)
    desired = state.desired(None)
    doc = {
        "valid": True,
        "file": state.topics_file,
        "topics": len(desired.topics),
        "domains": len({t.domain for t in desired.topics}),
        "consumer_groups": len(desired.groups),
        "environments": list(desired.environments),
    }
    if state.output_format(output) is OutputFormat.json:
        state.print_json(doc)
        return
    from dreamscape_infra.tables import Line

    state.print_tables(
        Line(
            f"{state.topics_file}: valid — {doc['topics']} topics in {doc['domains']} domains, "
            f"{doc['consumer_groups']} consumer groups; environments: "
            f"{', '.join(desired.environments) or 'none'}"
        )
    )


@app.command("show")
def show(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    env: str | None = ENV_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Show the resolved desired state: name, partitions, RF, configs, owner.

    Example: dreamscape-infra topics show --env prod --output json
    """
    from dreamscape_infra.topics.render import desired_json, render_desired

    state = get_state(ctx)
    desired = _load(state, env)
    if state.output_format(output) is OutputFormat.json:
        state.print_json(desired_json(desired))
    else:
        state.print_tables(*render_desired(desired))


@app.command("schema")
def schema(
    ctx: typer.Context,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Print the JSON Schema of topics.yaml (for editors and CI checks).

    The schema is a JSON document, so both output formats print it.

    Example: dreamscape-infra topics schema > docs/topics.schema.json
    """
    from dreamscape_infra.topics.filemodel import json_schema

    get_state(ctx).print_json(json_schema())


def _plan_options(
    *,
    strict_configs: bool,
    prune: bool = False,
    allow_keyed_repartition: bool = False,
    force: bool = False,
    max_deletes: int | None = None,
) -> Any:
    from dreamscape_infra.topics.plan import PlanOptions

    return PlanOptions(
        strict_configs=strict_configs,
        prune=prune,
        allow_keyed_repartition=allow_keyed_repartition,
        force=force,
        max_deletes=max_deletes,
    )


@app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    env: str | None = ENV_OPTION,
    detailed_exitcode: bool = typer.Option(
        False,
        "--detailed-exitcode",
        help="Exit 0 when in sync, 5 when changes are pending, 6 when unfixable drift remains.",
    ),
    strict_configs: bool = typer.Option(
        False, "--strict-configs", help="Plan the removal of undeclared topic-level overrides."
    ),
    prune: bool = typer.Option(False, "--prune", help="Plan the deletion of unmanaged topics."),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Compare topics.yaml with the cluster and show what sync would change.

    Example: dreamscape-infra topics plan --env dev --detailed-exitcode
    """
    from dreamscape_infra.topics.reconcile import make_plan, observe
    from dreamscape_infra.topics.render import plan_json, render_plan

    state = get_state(ctx)
    admin, desired = _admin_then_desired(ctx, state, env)
    with _busy(state, output, "reading the cluster"):
        observed = observe(admin, desired, prune=prune)
    plan = make_plan(desired, observed, _plan_options(strict_configs=strict_configs, prune=prune))
    if state.output_format(output) is OutputFormat.json:
        state.print_json(plan_json(plan))
    else:
        state.print_tables(*render_plan(plan))
    if detailed_exitcode:
        if plan.unfixable:
            raise typer.Exit(int(ExitCode.UNFIXABLE_DRIFT))
        if plan.has_changes:
            raise typer.Exit(int(ExitCode.CHANGES_PENDING))


@app.command("sync")
def sync_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    env: str | None = ENV_OPTION,
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Send every change with validate_only: the broker checks, nothing changes.",
    ),
    prune: bool = typer.Option(
        False, "--prune", help="Delete unmanaged topics under the prefix (confirms; see --yes)."
    ),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="Confirm destructive changes without a prompt."
    ),
    force: bool = typer.Option(
        False, "--force", help="Prune even topics with committed offsets or recent messages."
    ),
    strict_configs: bool = typer.Option(
        False,
        "--strict-configs",
        help="Remove topic-level overrides that topics.yaml does not declare.",
    ),
    allow_keyed_repartition: bool = typer.Option(
        False,
        "--allow-keyed-repartition",
        help="Allow adding partitions to keyed or compacted topics (remaps keys).",
    ),
    max_deletes: int | None = typer.Option(
        None, "--max-deletes", min=1, help="Cap on deletions per run (default from topics.yaml)."
    ),
    write_reassignment: Path | None = typer.Option(
        None,
        "--write-reassignment",
        help="Write a kafka-reassign-partitions JSON that fixes replication-factor drift.",
    ),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Make the cluster match topics.yaml: create, add partitions, set configs.

    Non-destructive changes apply without a prompt. Deletions (--prune, --strict-configs) and
    partition changes on keyed topics confirm on a terminal and need --yes otherwise.

    Exit codes: 0 in sync, 3 invalid topics.yaml (nothing changed), 4 Kafka unreachable or a
    broker refused a change, 6 unfixable drift remains, 7 a destructive change was refused.

    Example: dreamscape-infra topics sync --env dev
    """
    from dreamscape_infra.topics.apply import apply_plan
    from dreamscape_infra.topics.reconcile import make_plan, observe
    from dreamscape_infra.topics.render import render_plan, report_json, report_summary_line

    state = get_state(ctx)
    admin, desired = _admin_then_desired(ctx, state, env)
    options = _plan_options(
        strict_configs=strict_configs,
        prune=prune,
        allow_keyed_repartition=allow_keyed_repartition,
        force=force,
        max_deletes=max_deletes,
    )
    with _busy(state, output, "reading the cluster"):
        observed = observe(admin, desired, prune=prune)
    plan = make_plan(desired, observed, options)
    json_mode = state.output_format(output) is OutputFormat.json

    if not dry_run and not yes:
        plan = _confirm_destructive(state, plan, json_mode)
    if write_reassignment is not None:
        _write_reassignment(state, admin, desired, observed, write_reassignment)
    with _busy(state, output, "applying") as progress:
        report = apply_plan(
            plan, admin, dry_run=dry_run, desired=desired, options=options, progress=progress
        )
    if json_mode:
        state.print_json(report_json(plan, report))
    else:
        state.print_tables(*render_plan(plan, report), report_summary_line(report))
    _exit_for(state, report)


def _confirm_destructive(state: AppState, plan: Plan, json_mode: bool) -> Plan:
    """The plan, with its destructive changes blocked unless a person at a terminal confirms
    them (the plan is shown first); without a terminal, or in JSON mode, they stay blocked."""
    from dreamscape_infra.topics.plan import block_unconfirmed
    from dreamscape_infra.topics.render import render_plan

    destructive = [a for a in plan.pending if a.destructive]
    if not destructive:
        return plan
    confirmed = False
    if state.is_interactive() and not json_mode:
        state.print_tables(*render_plan(plan))
        confirmed = typer.confirm(
            f"Apply {len(destructive)} destructive change(s) listed above?", default=False
        )
    if confirmed:
        return plan
    return block_unconfirmed(
        plan, "destructive change not confirmed: pass --yes (or answer the prompt)"
    )


def _exit_for(state: AppState, report: Report) -> None:
    """The sync's exit code, with one line on stderr saying why it is not 0."""
    code = report.exit_code()
    if code == ExitCode.ENVIRONMENT:
        failed = ", ".join(sorted({r.action.topic for r in report.errors}))
        state.err_console().print(f"error: the broker refused changes to: {failed}", markup=False)
    elif code == ExitCode.REFUSED:
        state.err_console().print(
            "refused: some destructive changes were not applied (see BLOCKED above)", markup=False
        )
    elif code == ExitCode.UNFIXABLE_DRIFT:
        state.err_console().print(
            "unfixable drift remains (partition decrease or replication factor)", markup=False
        )
    if code != ExitCode.OK:
        raise typer.Exit(int(code))


def _write_reassignment(
    state: AppState, admin: Any, desired: Any, observed: Any, path: Path
) -> None:
    from dreamscape_infra.topics.plan import reassignment_for_rf

    cluster = admin.describe_cluster()
    document = reassignment_for_rf(desired, observed.snapshot, [b.id for b in cluster.brokers])
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write {path}: {exc.strerror}") from None
    state.err_console().print(
        f"wrote {len(document['partitions'])} partition reassignment(s) to {path}; apply with "
        f"kafka-reassign-partitions --execute --reassignment-json-file {path}",
        markup=False,
    )


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    env: str | None = ENV_OPTION,
    all_topics: bool = typer.Option(
        False, "--all", "-a", help="Include internal topics and topics outside the prefix."
    ),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """List the cluster's topics: partitions, RF, managed/unmanaged/internal, in sync.

    Example: dreamscape-infra topics list --all
    """
    from dreamscape_infra.topics.reconcile import make_plan, observe
    from dreamscape_infra.topics.render import render_rows, topic_list_rows

    state = get_state(ctx)
    admin, desired = _admin_then_desired(ctx, state, env)
    with _busy(state, output, "reading the cluster"):
        observed = observe(admin, desired, prune=False)
    plan = make_plan(desired, observed, _plan_options(strict_configs=False))
    rows = topic_list_rows(list(observed.snapshot.topics.values()), desired, plan)
    if not all_topics:
        rows = [r for r in rows if r["kind"] in ("managed", "unmanaged")]
    if state.output_format(output) is OutputFormat.json:
        state.print_json({"kind": "topics", "version": 1, "topics": rows})
    else:
        state.print_tables(render_rows(f"Topics at {state.settings().bootstrap_servers}", rows))


@app.command("describe")
def describe_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    name: str = typer.Argument(..., help="The topic's name."),
    env: str | None = ENV_OPTION,
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """One topic: leader, replicas and ISR per partition; configs with their source; drift.

    Example: dreamscape-infra topics describe dreamscape.user.created
    """
    from dreamscape_infra.topics.inspect import describe_topic
    from dreamscape_infra.topics.render import describe_json, render_description

    state = get_state(ctx)
    desired = _load(state, env)
    settings = state.settings()
    description = describe_topic(_admin(ctx, state, settings), desired, name)
    if description is None:
        raise EnvironmentFailure(
            f"topic '{name}' does not exist at {settings.bootstrap_servers}",
            hint="`dreamscape-infra topics list` shows what exists",
        )
    if state.output_format(output) is OutputFormat.json:
        state.print_json(describe_json(description))
    else:
        state.print_tables(*render_description(description))


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    prefix: str = typer.Option("dreamscape.", "--prefix", help="Only topics with this prefix."),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Write a topics.yaml `topics:` fragment from the live cluster (non-default configs only).

    With --output json, the same fragment as one JSON document.

    Example: dreamscape-infra topics import --prefix dreamscape. > imported.yaml
    """
    from dreamscape_infra.topics.inspect import import_topics
    from dreamscape_infra.topics.render import import_fragment, import_yaml

    state = get_state(ctx)
    settings = state.settings()
    imported = import_topics(_admin(ctx, state, settings), prefix)
    if state.output_format(output) is OutputFormat.json:
        state.print_json(import_fragment(imported))
    else:
        typer.echo(import_yaml(imported, settings.bootstrap_servers), nl=False)


class _Busy:
    """A spinner on stderr for people; silent in JSON mode. Also an ApplyProgress callback."""

    def __init__(self, state: AppState, enabled: bool, message: str) -> None:
        self._status = state.err_console().status(message) if enabled else None
        self._message = message

    def __enter__(self) -> _Busy:
        if self._status is not None:
            self._status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(None, None, None)

    def __call__(self, step: str, done: int, total: int) -> None:
        if self._status is not None:
            self._status.update(f"{step}: {done}/{total}")


def _busy(state: AppState, output: OutputFormat | None, message: str) -> _Busy:
    enabled = state.output_format(output) is OutputFormat.table and state.err_is_terminal()
    return _Busy(state, enabled, message)


# --- topics export (Strimzi custom resources) -----------------------------------------------


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    _topics_file: str | None = TOPICS_FILE_OPTION,
    export_format: str = typer.Option(
        ..., "--format", metavar="strimzi", help="The manifest format: strimzi."
    ),
    env: str | None = ENV_OPTION,
    cluster: str = typer.Option(
        "dreamscape",
        "--cluster",
        envvar="DREAMSCAPE_STRIMZI_CLUSTER",
        help="The Strimzi Kafka cluster: the strimzi.io/cluster label of every resource.",
    ),
    users: bool = typer.Option(
        True, "--users/--no-users", help="Also a KafkaUser (with its ACLs) per service."
    ),
    output_dir: Path | None = typer.Option(
        None, "--output-dir", help="Write one file per resource here instead of stdout."
    ),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Write topics.yaml as Strimzi KafkaTopic resources, and a KafkaUser carrying its ACLs
    per declared service: multi-document YAML on stdout, or one file per resource.

    Example: dreamscape-infra topics export --format strimzi --env prod --cluster my-cluster
    """
    from dreamscape_infra.topics.strimzi import manifest_file_name, strimzi_manifests

    if export_format != "strimzi":
        raise typer.BadParameter(f"'{export_format}' (supported: strimzi)", param_hint="--format")
    import yaml

    state = get_state(ctx)
    manifests = strimzi_manifests(_load(state, env), cluster, users=users)
    json_mode = state.output_format(output) is OutputFormat.json
    if output_dir is None:
        if json_mode:
            state.print_json(
                {
                    "kind": "strimzi-export",
                    "version": 1,
                    "cluster": cluster,
                    "environment": env,
                    "manifests": manifests,
                }
            )
        else:
            typer.echo(
                yaml.safe_dump_all(manifests, sort_keys=False, explicit_start=True), nl=False
            )
        return
    files = []
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for manifest in manifests:
            path = output_dir / manifest_file_name(manifest)
            path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
            files.append(str(path))
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write to {output_dir}: {exc.strerror}") from None
    if json_mode:
        state.print_json(
            {"kind": "strimzi-export", "version": 1, "cluster": cluster, "files": files}
        )
    else:
        state.out_console().print(
            f"wrote {len(files)} resource(s) to {output_dir}", markup=False, highlight=False
        )


__all__ = ["ConfigError", "RefusedError", "app"]


def register(root: typer.Typer) -> None:
    """Add the `topics` group to the root app."""
    root.add_typer(app, name="topics")
