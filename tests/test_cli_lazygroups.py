"""A command group builds only the subcommand a run uses; it still shows what the eager one did.

The reference is the old way: each command module's commands built up front by
`typer.main.get_group`, put in place of `root._load_module_commands`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.core
import typer.main
from typer import _click as click
from typer.models import CommandInfo
from typer.testing import CliRunner

from dreamscape_infra.cli import LAZY_COMMANDS, app, root
from dreamscape_infra.cli.state import AppState
from tests.fake_cluster import FakeCluster

ROOT = Path(__file__).resolve().parent.parent
TOPICS = str(ROOT / "tests" / "fixtures" / "topics-small.yaml")
MODULES = sorted({module for module, _ in LAZY_COMMANDS.values()})
runner = CliRunner()


def eager_module_commands(module_name: str) -> dict[str, click.Command]:
    """`root._load_module_commands` as it was: every command of every group built at once."""
    module = importlib.import_module(f"dreamscape_infra.cli.{module_name}")
    holder = typer.Typer(rich_markup_mode=None)
    module.register(holder)
    return dict(typer.main.get_group(holder).commands)


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group below the root, groups of groups included."""

    def walk(path: tuple[str, ...], command: click.Command) -> Iterator[tuple[str, ...]]:
        yield path
        if isinstance(command, typer.core.TyperGroup):
            for name, sub in command.commands.items():
                yield from walk((*path, name), sub)

    return [
        path
        for module in MODULES
        for name, command in eager_module_commands(module).items()
        for path in walk((name,), command)
    ]


def run(
    args: list[str], *, eager: bool, monkeypatch: pytest.MonkeyPatch, **env: str
) -> tuple[int, str, str]:
    with monkeypatch.context() as patch:
        if eager:
            patch.setattr(root, "_load_module_commands", eager_module_commands)
        result = runner.invoke(app, args, env=env)
    return result.exit_code, result.stdout, result.stderr


def fingerprint(value: Any) -> Any:
    """A command's whole make-up (its options, their settings and types, its subcommands),
    comparable between two builds: functions by name and closure, as each build wraps anew."""
    if isinstance(value, click.Command | click.Parameter):
        return type(value).__name__, {k: fingerprint(v) for k, v in vars(value).items()}
    if isinstance(value, list | tuple):
        return [fingerprint(v) for v in value]
    if isinstance(value, dict | root._Subcommands):
        return [(k, fingerprint(v)) for k, v in value.items()]  # in order
    if callable(value) and hasattr(value, "__qualname__"):  # and what a wrapper holds
        cells = getattr(value, "__closure__", None) or ()
        name = f"{value.__module__}.{value.__qualname__}"
        return name, [fingerprint(cell.cell_contents) for cell in cells]
    if " object at 0x" in repr(value):  # a type such as TyperPath: by its attributes
        return type(value).__name__, {k: fingerprint(v) for k, v in vars(value).items()}
    return repr(value)


def test_the_commands_are_every_command_of_the_groups() -> None:
    paths = command_paths()
    assert ("topics", "sync") in paths
    assert ("groups", "reset-offsets") in paths
    assert len([p for p in paths if len(p) > 1]) >= 20


@pytest.mark.parametrize("columns", ["60", "80", "200"])
def test_every_help_is_the_help_of_the_eagerly_built_commands(
    columns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in command_paths():
        args = [*path, "--help"]
        eager = run(args, eager=True, monkeypatch=monkeypatch, COLUMNS=columns)
        assert eager[0] == 0, (path, eager)
        assert eager[1].startswith("Usage: "), (path, eager)
        assert run(args, eager=False, monkeypatch=monkeypatch, COLUMNS=columns) == eager, path


@pytest.mark.parametrize("module_name", MODULES)
def test_each_command_is_made_as_the_eager_one(module_name: str) -> None:
    lazy = root._load_module_commands(module_name)
    eager = eager_module_commands(module_name)
    assert list(lazy) == list(eager)
    for name, command in eager.items():
        assert fingerprint(lazy[name]) == fingerprint(command), name


@pytest.mark.parametrize(
    "args",
    [
        ["topics", "synk"],
        ["topics"],
        ["topics", "--bogus"],
        ["topics", "sync", "--bogus"],
        ["groups", "lagg"],
        ["events", "tial"],
        ["acls", "nothing-like-it"],
        ["runtime", "fech"],
    ],
)
def test_usage_errors_and_a_bare_group_answer_as_before(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    eager = run(args, eager=True, monkeypatch=monkeypatch, COLUMNS="80")
    assert eager[0] != 0
    assert run(args, eager=False, monkeypatch=monkeypatch, COLUMNS="80") == eager


def test_the_unknown_subcommand_error_suggests_the_lazy_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = run(["topics", "synk"], eager=False, monkeypatch=monkeypatch)
    assert code == 2
    assert "No such command 'synk'. Did you mean 'sync'?" in err


@pytest.mark.parametrize(
    ("words", "cword"),
    [
        ("dreamscape-infra topics ", "2"),
        ("dreamscape-infra topics s", "2"),
        ("dreamscape-infra groups ", "2"),
        ("dreamscape-infra topics sync --", "3"),
    ],
)
def test_completion_answers_as_before(
    words: str, cword: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"_DREAMSCAPE_INFRA_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword}
    eager = run([], eager=True, monkeypatch=monkeypatch, **env)
    assert eager[1].strip(), eager
    assert run([], eager=False, monkeypatch=monkeypatch, **env) == eager


def built_during(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    """The exit code of a run, and the commands Typer built for it, by name."""
    built: list[str] = []
    build = typer.main.get_command_from_info

    def spy(command_info: CommandInfo, **settings: Any) -> click.Command:
        command = build(command_info, **settings)
        built.append(str(command.name))
        return command

    state = AppState(admin_factory=lambda settings: FakeCluster(brokers=1), environ={})
    with monkeypatch.context() as patch:
        patch.setattr(typer.main, "get_command_from_info", spy)
        result = runner.invoke(app, ["--topics-file", TOPICS, *args], obj=state)
    return result.exit_code, built


def test_a_run_builds_only_the_subcommand_it_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    assert built_during(["topics", "sync", "--dry-run"], monkeypatch) == (0, ["sync"])
    assert built_during(["topics", "validate"], monkeypatch) == (0, ["validate"])
    assert built_during(["groups", "list", "--help"], monkeypatch) == (0, ["list"])
    # the root's commands too: a module with several (stack, health) builds the one used
    assert built_during(["up", "--help"], monkeypatch) == (0, ["up"])
    assert built_during(["serve", "--help"], monkeypatch) == (0, ["serve"])


def test_a_groups_help_builds_all_its_subcommands(monkeypatch: pytest.MonkeyPatch) -> None:
    code, built = built_during(["topics", "--help"], monkeypatch)
    assert code == 0
    assert built == list(eager_module_commands("topics")["topics"].commands)  # type: ignore[attr-defined]


def test_the_lazy_commands_follow_typer_for_what_this_cli_does_not_use_yet() -> None:
    """Hidden and deprecated commands, names from functions, a group in a group, a nameless
    group, a name given twice: the same commands, order and help as Typer's own group."""
    inner = typer.Typer(help="Inner group.")
    inner.command()(lambda: None)  # named "<lambda>"

    @inner.command("deep")
    def deep(count: int = typer.Option(1, "--count", "-c", help="How many.")) -> None:
        """Deep command."""

    nameless = typer.Typer()

    @nameless.command("flat")
    def flat() -> None:
        """From a nameless group."""

    outer = typer.Typer(help="Outer group.", no_args_is_help=True)

    @outer.command()
    def made_from_function_name(value: str = typer.Argument(..., help="A value.")) -> None:
        """Named by its function."""

    @outer.command("secret", hidden=True)
    def secret() -> None:
        """Hidden."""

    @outer.command("old", deprecated=True, short_help="Old one.")
    def old() -> None:
        """Deprecated."""

    @outer.command("old")
    def old_again() -> None:
        """The second command named old."""

    outer.add_typer(inner, name="inner")
    outer.add_typer(nameless)
    holder = typer.Typer(rich_markup_mode=None)
    holder.add_typer(outer, name="outer")

    eager = typer.main.get_group(holder).commands
    lazy = root._Subcommands(holder, holder)
    assert lazy.built() == []
    assert fingerprint(lazy) == fingerprint(eager)
    for columns in (60, 200):
        for path in [["outer"], ["outer", "inner"], ["outer", "inner", "deep"]]:
            helps = []
            for commands in (eager, lazy):
                command = commands[path[0]]
                for name in path[1:]:
                    command = command.commands[name]  # type: ignore[attr-defined]
                ctx = click.Context(command, info_name=path[-1], terminal_width=columns)
                helps.append(command.get_help(ctx))
            assert helps[0] == helps[1], path
