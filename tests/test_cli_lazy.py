"""The root loads each command module on first use, and its --help matches the loaded commands."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import typer.main
from typer import _click as click
from typer._click.utils import make_default_short_help
from typer.testing import CliRunner

from dreamscape_infra import cli
from dreamscape_infra.cli import LAZY_COMMANDS, app

runner = CliRunner()


def _root_help(root: Any, columns: int) -> str:
    ctx = click.Context(root, info_name="dreamscape-infra", terminal_width=columns)
    return str(root.get_help(ctx))


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_root_help_from_the_table_equals_the_help_of_the_loaded_commands(columns: int) -> None:
    lazy = _root_help(typer.main.get_command(app), columns)
    loaded_root = typer.main.get_command(app)
    for name in LAZY_COMMANDS:  # load every module, as the first use of each command does
        command = loaded_root.commands[name]  # type: ignore[attr-defined]
        assert make_default_short_help(command.help or "", 10**6) == LAZY_COMMANDS[name][1]
    assert "topics" in lazy
    assert lazy == _root_help(loaded_root, columns)


def test_every_table_entry_is_a_command_of_its_module() -> None:
    for name, (module_name, _) in LAZY_COMMANDS.items():
        commands = cli._load_module_commands(module_name)
        assert name in commands, f"{module_name} does not register {name}"


def test_every_registered_command_is_in_the_table() -> None:
    modules = {module for module, _ in LAZY_COMMANDS.values()}
    registered = {name for m in modules for name in cli._load_module_commands(m)}
    assert registered == set(LAZY_COMMANDS)


def test_help_and_one_command_import_only_what_they_use() -> None:
    code = (
        "import sys\n"
        "from dreamscape_infra.cli import main\n"
        "sys.argv = ['dreamscape-infra', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('dreamscape_infra.cli.'))))\n"
        "print('typer' in sys.modules, 'pydantic' in sys.modules, 'rich' in sys.modules)\n"
    )

    def modules(*args: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
        )
        return done.stdout.strip().splitlines()[-2:]

    # the root's --help needs no command module, not even the Typer app (cli/roothelp.py)
    assert modules("--help") == ["dreamscape_infra.cli.roothelp", "False False False"]
    root = "dreamscape_infra.cli.root dreamscape_infra.cli.roothelp dreamscape_infra.cli.state"
    assert modules("topics", "--help") == [
        f"{root} dreamscape_infra.cli.topics",
        "True False False",
    ]


def test_an_unknown_command_still_suggests_the_lazy_ones() -> None:
    result = runner.invoke(app, ["topcs"])
    assert result.exit_code == 2
    assert "topics" in result.output
