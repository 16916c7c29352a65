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

if TYPE_CHECKING:
    # rich costs ~25 ms to import: only the commands that draw for a terminal pay for it.
    from rich.console import Console, RenderableType

    from dreamscape_infra.acls.model import AclAdmin
    from dreamscape_infra.events.model import EventReader, EventWriter
    from dreamscape_infra.groups.client import GroupsClient
    from dreamscape_infra.kafka.client_host import ClientHost
    from dreamscape_infra.kafka.cluster import KafkaAdmin
    from dreamscape_infra.runtime.base import StackRuntime
    from dreamscape_infra.runtime.fetch import Maven
    from dreamscape_infra.schemas.model import Registry
    from dreamscape_infra.settings import ConnectionSettings
    from dreamscape_infra.tables import Line, TableData
    from dreamscape_infra.topics.model import DesiredState


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def _child_process() -> ClientHost:
    from dreamscape_infra.kafka.client_host import ChildProcess

    return ChildProcess()


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
    groups_factory: Callable[[ConnectionSettings], GroupsClient] | None = None
    # `runtime fetch`: Maven (runtime.fetch.Maven) for an environment; tests give a fake
    maven_factory: Callable[[Mapping[str, str]], Maven] | None = None
    acl_admin_factory: Callable[[ConnectionSettings], AclAdmin] | None = None
    event_reader_factory: Callable[[ConnectionSettings], EventReader] | None = None
    event_writer_factory: Callable[[ConnectionSettings], EventWriter] | None = None
    # `schemas plan/sync`: the Schema Registry (schemas.model.Registry); tests give a fake
    registry_factory: Callable[[], Registry] | None = None
    # where health's and serve's clients run: a child process a librdkafka abort may kill;
    # tests whose fakes live in this process give kafka.client_host.InProcess()
    client_host: ClientHost = field(default_factory=_child_process)
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
            from rich.console import Console

            self._out = Console(file=sys.stdout, soft_wrap=True, emoji=False)
        return self._out

    def err_console(self) -> Console:
        if self._err is None:
            from rich.console import Console

            self._err = Console(file=sys.stderr, soft_wrap=True, emoji=False)
        return self._err

    def err_is_terminal(self) -> bool:
        """Whether stderr is a terminal (for spinners), without building a Console for it."""
        return self._err.is_terminal if self._err is not None else sys.stderr.isatty()

    def is_interactive(self) -> bool:
        """A terminal is attached to stdin, so we may prompt."""
        if self.interactive is not None:
            return self.interactive
        return sys.stdin.isatty()

    def print_tables(self, *items: TableData | Line | RenderableType) -> None:
        """Show tables on stdout: rich tables on a terminal (cells fold, never cut), one
        tab-separated line per row through a pipe. `Line`s print as they are (styled on a
        terminal); other renderables through rich. Through a pipe, tables and lines never
        import rich: a piped `topics plan` starts faster."""
        from dreamscape_infra.tables import Line, TableData

        plain = self.plain_tables if self.plain_tables is not None else not sys.stdout.isatty()
        for item in items:
            if plain and isinstance(item, TableData | Line):
                # Straight to the file: rich would expand the tabs into spaces.
                lines = item.plain_lines() if isinstance(item, TableData) else [item.text]
                file = self._out.file if self._out is not None else sys.stdout
                file.write("".join(line + "\n" for line in lines))
                file.flush()
            elif isinstance(item, TableData):
                self.out_console().print(item.to_rich())
            elif isinstance(item, Line):
                self.out_console().print(
                    item.text, style=item.style or None, markup=False, highlight=False
                )
            else:
                self.out_console().print(item)

    def output_format(self, override: OutputFormat | None) -> OutputFormat:
        return override if override is not None else self.output

    def settings(self) -> ConnectionSettings:
        from dreamscape_infra.settings import load_settings

        return load_settings(self.env, brokers_override=self.brokers)

    def desired(self, environment: str | None) -> DesiredState:
        """topics.yaml resolved for `environment`, through the one loader (topics/desired.py)."""
        from dreamscape_infra.topics.desired import load_desired

        return load_desired(self.topics_file, environment)

    def admin(self, settings: ConnectionSettings, timeout_s: float = 10.0) -> KafkaAdmin:
        if self.admin_factory is not None:
            return self.admin_factory(settings)
        from dreamscape_infra.kafka.admin import ConfluentAdmin

        return ConfluentAdmin(settings, timeout_s=timeout_s)

    def groups_client(self, settings: ConnectionSettings, timeout_s: float = 10.0) -> GroupsClient:
        if self.groups_factory is not None:
            return self.groups_factory(settings)
        from dreamscape_infra.kafka.groups import ConfluentGroups

        return ConfluentGroups(settings, timeout_s=timeout_s)

    def acl_admin(self, settings: ConnectionSettings, timeout_s: float = 10.0) -> AclAdmin:
        if self.acl_admin_factory is not None:
            return self.acl_admin_factory(settings)
        from dreamscape_infra.kafka.acls import ConfluentAcls

        return ConfluentAcls(settings, timeout_s=timeout_s)

    def schema_registry(self) -> Registry:
        """The Schema Registry of SCHEMA_REGISTRY_URL (default: the local runtime's)."""
        if self.registry_factory is not None:
            return self.registry_factory()
        from dreamscape_infra.schemas.registry import ConfluentRegistry
        from dreamscape_infra.schemas.settings import load_registry_settings

        return ConfluentRegistry(load_registry_settings(self.env))

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


# --env/-e of every command that resolves topics.yaml for an environment overlay.
ENV_OPTION: Any = typer.Option(
    None, "--env", "-e", envvar="DREAMSCAPE_ENV", help="Environment overlay from topics.yaml."
)

# Per-command --output, which overrides the global one.
OUTPUT_OPTION: Any = typer.Option(
    None, "--output", "-o", help="table for people, json for machines (overrides the global)."
)


def _topics_file_here(ctx: typer.Context, value: str | None) -> None:
    if value is not None:
        get_state(ctx).topics_file = value


# Per-command --topics-file/-f: `topics sync -f services/topics.yaml` as well as the global
# `-f FILE topics sync`; it overrides the global option and DREAMSCAPE_TOPICS_FILE.
TOPICS_FILE_OPTION: Any = typer.Option(
    None,
    "--topics-file",
    "-f",
    metavar="FILE",
    help="The topics file for this command (overrides the global -f and DREAMSCAPE_TOPICS_FILE).",
    callback=_topics_file_here,
    expose_value=False,
    show_default=False,
)
