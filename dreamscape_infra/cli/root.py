"""The Typer application: the root group, its options and the lazy loading of its commands.

Errors from core code arrive as `InfraError` subclasses; `_ErrorHandlingGroup.invoke` turns
them into one line on stderr and the exit code they carry. `--verbose` adds the traceback
(never with local variables, which could hold SASL secrets).
"""

from __future__ import annotations

import copy
import functools
import traceback
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, cast

import typer
import typer.core
import typer.main
from typer import _click as click
from typer._click.utils import make_default_short_help
from typer.models import CommandInfo, TyperInfo

from dreamscape_infra.cli import LAZY_COMMANDS
from dreamscape_infra.cli.roothelp import PROG_NAME, ROOT_HELP, VERSION_LINE, option_help
from dreamscape_infra.cli.state import AppState, OutputFormat, get_state
from dreamscape_infra.errors import (
    ConfigError,
    EnvironmentFailure,
    ExitCode,
    InfraError,
)

__all__ = ["AppState", "app", "get_state"]


class _ErrorHandlingGroup(typer.core.TyperGroup):
    """Catches our errors once, for every command below the root."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except InfraError as exc:
            state = ctx.find_object(AppState)
            verbose = state.verbose if state is not None else False
            _report(exc, verbose=verbose, state=state)
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


def _report(exc: InfraError, *, verbose: bool, state: AppState | None) -> None:
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


def _load_module_commands(module_name: str) -> _Subcommands:
    """Import one command module: the click commands it registers, each built on first lookup."""
    import importlib

    module = importlib.import_module(f"dreamscape_infra.cli.{module_name}")
    holder = typer.Typer(rich_markup_mode=None)
    module.register(holder)
    return _Subcommands(holder, holder)


class _Subcommands(MutableMapping[str, click.Command]):
    """A Typer app's commands and groups by name, each built by Typer on its first lookup.

    `typer.main.get_group` builds every command of a group (0.5-1 ms each, their options
    included) though a run uses one: `topics sync` builds only `sync` here. The names and their
    order are those `typer.main.get_group_from_info` gives its dict, and the building is its
    own (`get_command_from_info`, `get_group_from_info`) with the settings `get_group(top)`
    passes down, so a group's listing (its --help, completion), which looks up every command,
    shows what Typer's eager group shows.
    """

    def __init__(self, typer_app: typer.Typer, top: typer.Typer) -> None:
        self._entries: dict[str, click.Command | Callable[[], click.Command]] = {}
        for command_info in typer_app.registered_commands:
            assert command_info.callback is not None, "A command must have a callback function"
            name = command_info.name or typer.main.get_command_name(command_info.callback.__name__)
            if name:
                self._entries[name] = functools.partial(_build_command, command_info, top)
        for group_info in typer_app.registered_groups:
            group_name = typer.main.solve_typer_info_defaults(group_info).name
            if group_name:
                self._entries[group_name] = functools.partial(_build_group, group_info, top)
            else:  # Typer adds a nameless group's commands to its parent: built as Typer does
                self._entries.update(_typer_group(group_info, top).commands)

    def built(self) -> list[str]:
        """The names whose command has been built, in order."""
        return [name for name, entry in self._entries.items() if isinstance(entry, click.Command)]

    def __getitem__(self, name: str) -> click.Command:
        entry = self._entries[name]
        if not isinstance(entry, click.Command):
            entry = self._entries[name] = entry()
        return entry

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._entries[name] = command

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries  # a name's presence builds nothing


def _build_command(command_info: CommandInfo, top: typer.Typer) -> click.Command:
    return typer.main.get_command_from_info(
        command_info,
        pretty_exceptions_short=top.pretty_exceptions_short,
        rich_markup_mode=top.rich_markup_mode,
    )


def _typer_group(group_info: TyperInfo, top: typer.Typer) -> typer.core.TyperGroup:
    return typer.main.get_group_from_info(
        group_info,
        pretty_exceptions_short=top.pretty_exceptions_short,
        rich_markup_mode=top.rich_markup_mode,
        suggest_commands=top.suggest_commands,
    )


def _build_group(group_info: TyperInfo, top: typer.Typer) -> click.Command:
    """Typer's group for `add_typer`'s info, its commands left to `_Subcommands`."""
    sub_app = group_info.typer_instance
    assert sub_app is not None, "A Typer instance is needed to generate a Click Group"
    # Typer builds the group from a copy of the sub-app without commands: the group's own
    # settings, help and callback are resolved as usual, and no command is built.
    empty_app = copy.copy(sub_app)
    empty_app.registered_commands = []
    empty_app.registered_groups = []
    empty_info = copy.copy(group_info)
    empty_info.typer_instance = empty_app
    group = _typer_group(empty_info, top)
    group.commands = _Subcommands(sub_app, top)
    return group


class _LazyCommands(MutableMapping[str, click.Command]):
    """The root's commands by name: every name is known, a module is imported on first lookup
    and a command is built on its own (`up` builds neither `down` nor `status`)."""

    def __init__(self, loaded: MutableMapping[str, click.Command]) -> None:
        self._loaded = dict(loaded)
        self._modules: dict[str, _Subcommands] = {}

    def loaded(self, name: str) -> click.Command | None:
        return self._loaded.get(name)

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded and name in LAZY_COMMANDS:
            module_name = LAZY_COMMANDS[name][0]
            if module_name not in self._modules:
                self._modules[module_name] = _load_module_commands(module_name)
            self._loaded[name] = self._modules[module_name][name]
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        # The table's order, whatever was loaded first; a snapshot, as a lookup adds to _loaded
        names = [*LAZY_COMMANDS, *(name for name in self._loaded if name not in LAZY_COMMANDS)]
        return iter(names)

    def __len__(self) -> int:
        return len(self._loaded.keys() | LAZY_COMMANDS.keys())

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in LAZY_COMMANDS


class _RootGroup(_ErrorHandlingGroup):
    """The root: commands load lazily; its `--help` lists them without importing them."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(self.commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # names only: Typer's own version loads every command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands = cast(_LazyCommands, self.commands)
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = commands.loaded(name)
            if command is None:
                short = LAZY_COMMANDS[name][1]
                rows.append((name, make_default_short_help(short, limit)))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name=PROG_NAME,
    cls=_RootGroup,
    help=ROOT_HELP,  # main() prints roothelp.render's copy of this app's --help
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(VERSION_LINE)
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    topics_file: str = typer.Option(
        "topics.yaml",
        "--topics-file",
        "-f",
        envvar="DREAMSCAPE_TOPICS_FILE",
        help=option_help("--topics-file"),
    ),
    output: OutputFormat = typer.Option(
        OutputFormat.table, "--output", "-o", help=option_help("--output")
    ),
    brokers: str | None = typer.Option(None, "--brokers", help=option_help("--brokers")),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=option_help("--verbose")),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help=option_help("--version")
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
