"""The Typer application: the root group, its global options and every command group.

Errors from core code arrive as `InfraError` subclasses; `_ErrorHandlingGroup.invoke` turns
them into one line on stderr and the exit code they carry. `--verbose` adds the traceback
(never with local variables, which could hold SASL secrets).
"""

from __future__ import annotations

import traceback
from typing import Any

import typer
import typer.core

from dreamscape_infra import __version__
from dreamscape_infra.cli import (
    acls,
    config_cmd,
    events,
    groups,
    health,
    runtime_cmd,
    schemas,
    stack,
    topics,
)
from dreamscape_infra.cli.state import AppState, OutputFormat, get_state
from dreamscape_infra.errors import (
    EXIT_CODE_HELP,
    ConfigError,
    EnvironmentFailure,
    ExitCode,
    InfraError,
)

__all__ = ["PROG_NAME", "AppState", "app", "get_state", "report"]

PROG_NAME = "dreamscape-infra"


class _ErrorHandlingGroup(typer.core.TyperGroup):
    """Catches our errors once, for the root callback and every command below it."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except InfraError as exc:
            state = ctx.find_object(AppState)
            verbose = state.verbose if state is not None else False
            report(exc, verbose=verbose, state=state)
            raise typer.Exit(int(exc.exit_code)) from None
        except (KeyboardInterrupt, typer.Abort):
            typer.echo("Aborted.", err=True)
            raise typer.Exit(130) from None
        except Exception as exc:
            if type(exc).__module__.startswith(("click", "typer")):
                raise  # Exit, usage errors: Typer's own handling and exit codes
            state = ctx.find_object(AppState)
            if state is not None and state.verbose:
                typer.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
            typer.echo(
                f"internal error: {type(exc).__name__}: {exc} "
                "(a bug; rerun with --verbose and report it)",
                err=True,
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None


def report(exc: InfraError, *, verbose: bool, state: AppState | None) -> None:
    """Print `exc` as the CLI reports every error: `error:` lines, details, hint on stderr."""
    err = state.err_console() if state is not None else None
    lines = [f"error: {exc.message}"]
    if isinstance(exc, ConfigError) and len(exc.problems) > 1:
        lines = ["error: " + p for p in exc.problems]
    if isinstance(exc, EnvironmentFailure) and exc.details:
        lines.extend("  | " + d for d in exc.details)
    if exc.hint:
        lines.append(f"hint: {exc.hint}")
    if verbose:
        lines.append("".join(traceback.format_exception(exc)).rstrip())
    for line in lines:
        if err is not None:
            err.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            typer.echo(line, err=True)


app = typer.Typer(
    name=PROG_NAME,
    cls=_ErrorHandlingGroup,
    help=(
        "Kafka for the DreamScape microservices: run the stack, keep topics as code.\n\n"
        "Example: dreamscape-infra up --runtime local && dreamscape-infra topics plan\n\n"
        + EXIT_CODE_HELP
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"{PROG_NAME} {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    topics_file: str = typer.Option(
        "topics.yaml",
        "--topics-file",
        "-f",
        envvar="DREAMSCAPE_TOPICS_FILE",
        help="The topics file (desired state).",
    ),
    output: OutputFormat = typer.Option(
        OutputFormat.table, "--output", "-o", help="table for people, json for machines."
    ),
    brokers: str | None = typer.Option(
        None, "--brokers", help="Bootstrap servers; overrides KAFKA_BROKERS."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    state = ctx.find_object(AppState)
    if state is None:
        state = AppState()
        ctx.obj = state
    state.topics_file = topics_file
    state.output = output
    state.brokers = brokers
    state.verbose = verbose


# In the order the root's --help lists them: its own commands, then the groups.
for _module in (config_cmd, stack, health, runtime_cmd, topics, schemas, groups, events, acls):
    _module.register(app)
