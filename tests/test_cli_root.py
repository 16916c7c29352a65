"""The root command: its --help lists every command, --version, usage errors, completion, and
the one place that turns errors into a line and an exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamscape_infra import __version__
from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.settings import ConnectionSettings

ROOT = Path(__file__).resolve().parent.parent
TOPICS = str(ROOT / "tests" / "fixtures" / "topics-small.yaml")
COMMANDS = [
    "config",
    "up",
    "down",
    "status",
    "logs",
    "serve",
    "health",  # a group (health rules): Typer lists groups after plain commands
    "runtime",
    "topics",
    "schemas",
    "groups",
    "events",
    "acls",
]
runner = CliRunner()


def help_rows(text: str, section: str) -> dict[str, str]:
    """The name -> text rows of one section of a --help, continuation lines joined."""
    rows: dict[str, str] = {}
    lines = text.split(f"\n{section}:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    name = ""
    for line in lines:
        first, _, rest = line.strip().partition("  ")
        if line.startswith("  ") and not line.startswith("   "):
            name = first
            rows[name] = rest.strip()
        else:
            rows[name] = f"{rows[name]} {line.strip()}".strip()
    return rows


def first_paragraph(help_text: str) -> str:
    """The description a command's own --help starts with, on one line."""
    description = help_text.split("\n\n", 2)[1]
    return " ".join(description.split())


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_root_help_lists_every_command_with_the_start_of_its_help(flag: str) -> None:
    result = runner.invoke(app, [flag], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: dreamscape-infra [OPTIONS] COMMAND [ARGS]...")
    assert "Exit codes:" in result.stdout
    rows = help_rows(result.stdout, "Commands")
    assert list(rows) == COMMANDS
    for name, short in rows.items():
        own = runner.invoke(app, [name, "--help"], env={"COLUMNS": "80"})
        assert own.exit_code == 0, name
        assert short, name
        assert first_paragraph(own.stdout).startswith(short.removesuffix("...")), name


def test_root_help_shows_the_global_options() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "100"})
    options = help_rows(result.stdout, "Options")
    assert options["-f, --topics-file <str>"].startswith("The topics file (desired state).")
    assert "env var: DREAMSCAPE_TOPICS_FILE" in options["-f, --topics-file <str>"]
    assert {"-o, --output <table|json>", "--brokers <str>", "-v, --verbose", "--version"} <= set(
        options
    )


def test_no_command_shows_the_help() -> None:
    result = runner.invoke(app, [])
    assert result.exit_code == 2
    assert "Usage: dreamscape-infra [OPTIONS] COMMAND" in result.output


def test_version_through_the_console_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dreamscape_infra", "--version"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == (f"dreamscape-infra {__version__}\n", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["topcs"], "No such command 'topcs'. Did you mean 'topics'?"),
        (["topics", "synk"], "No such command 'synk'. Did you mean 'sync'?"),
        (["topics", "sync", "--bogus"], "No such option: --bogus"),
    ],
)
def test_usage_errors_exit_2_with_a_suggestion(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("dreamscape-infra to", "1", {"topics"}),
        ("dreamscape-infra topics s", "2", {"show", "schema", "sync"}),
    ],
)
def test_shell_completion_names_the_commands(words: str, cword: str, expected: set[str]) -> None:
    env = {"_DREAMSCAPE_INFRA_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword}
    result = runner.invoke(app, [], env=env)
    assert set(result.stdout.split()) == expected


def test_ctrl_c_in_a_command_prints_aborted_and_exits_130() -> None:
    def interrupted(settings: ConnectionSettings) -> object:
        raise KeyboardInterrupt

    state = AppState(admin_factory=interrupted, environ={}, interactive=False)  # type: ignore[arg-type]
    result = runner.invoke(app, ["--topics-file", TOPICS, "topics", "plan"], obj=state)
    assert result.exit_code == 130
    assert result.stderr == "Aborted.\n"
