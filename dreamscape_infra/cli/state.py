"""Per-run CLI state: global options, consoles and the adapter factories tests can replace."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.console import RenderableType

    from dreamscape_infra.kafka.cluster import KafkaAdmin
    from dreamscape_infra.runtime.base import StackRuntime
    from dreamscape_infra.settings import ConnectionSettings
    from dreamscape_infra.tables import TableData


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


@dataclass
class AppState:
    """Everything a command needs besides its own arguments.

    Tests pass an AppState as `obj=` to CliRunner.invoke to provide fake adapters and a fixed
    environment; the root callback fills in the global options.
    """

    topics_file: str = "topics.yaml"
    output: OutputFormat = OutputFormat.table
    brokers: str | None = None
    verbose: bool = False
    environ: Mapping[str, str] | None = field(default=None, repr=False)
    admin_factory: Callable[[ConnectionSettings], KafkaAdmin] | None = None
    runtime_factory: Callable[[str], StackRuntime] | None = None
    interactive: bool | None = None
    # None: plain tab-separated tables when stdout is not a terminal; tests may force either.
    plain_tables: bool | None = None
    _out: Console | None = field(default=None, repr=False)
    _err: Console | None = field(default=None, repr=False)

    @property
    def env(self) -> Mapping[str, str]:
        return self.environ if self.environ is not None else os.environ

    def out_console(self) -> Console:
        if self._out is None:
            self._out = Console(file=sys.stdout, soft_wrap=True, emoji=False)
        return self._out

    def err_console(self) -> Console:
        if self._err is None:
            self._err = Console(file=sys.stderr, soft_wrap=True, emoji=False)
        return self._err

    def is_interactive(self) -> bool:
        """A terminal is attached to stdin, so we may prompt."""
        if self.interactive is not None:
            return self.interactive
        return sys.stdin.isatty()

    def print_tables(self, *items: TableData | RenderableType) -> None:
        """Show tables on stdout: rich tables on a terminal (cells fold, never cut), one
        tab-separated line per row through a pipe. Other renderables print as they are."""
        from dreamscape_infra.tables import TableData

        plain = self.plain_tables if self.plain_tables is not None else not sys.stdout.isatty()
        out = self.out_console()
        for item in items:
            if isinstance(item, TableData):
                if plain:
                    # Straight to the file: rich would expand the tabs into spaces.
                    out.file.write("".join(line + "\n" for line in item.plain_lines()))
                    out.file.flush()
                else:
                    out.print(item.to_rich())
            else:
                out.print(item)

    def output_format(self, override: OutputFormat | None) -> OutputFormat:
        return override if override is not None else self.output

    def settings(self) -> ConnectionSettings:
        from dreamscape_infra.settings import load_settings

        return load_settings(self.env, brokers_override=self.brokers)

    def admin(self, settings: ConnectionSettings, timeout_s: float = 10.0) -> KafkaAdmin:
        if self.admin_factory is not None:
            return self.admin_factory(settings)
        from dreamscape_infra.kafka.admin import ConfluentAdmin

        return ConfluentAdmin(settings, timeout_s=timeout_s)

    def print_json(self, document: Any) -> None:
        """Exactly one JSON document on stdout."""
        sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
        sys.stdout.flush()


def get_state(ctx: typer.Context) -> AppState:
    state = ctx.find_object(AppState)
    if state is None:
        state = AppState()
        ctx.obj = state
    return state


# Per-command --output, which overrides the global one.
OUTPUT_OPTION: Any = typer.Option(
    None, "--output", "-o", help="table for people, json for machines (overrides the global)."
)
