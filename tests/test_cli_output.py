"""Every command takes `--output/-o`, and tables survive a pipe whole.

The walk covers every command of every sub-app registered in `dreamscape_infra.cli`, including
ones added later, so a new command cannot forget the option.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from tests.fake_cluster import FakeCluster, FakeTopic
from tests.topics_files import write_topics

ROOT = Path(__file__).resolve().parent.parent
SMALL = str(ROOT / "tests" / "fixtures" / "topics-small.yaml")
runner = CliRunner()


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield path, command
        return
    for name, sub in sorted(subcommands.items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_the_walk_finds_the_known_commands() -> None:
    paths = {" ".join(p) for p, _ in COMMANDS}
    assert {"config", "status", "topics import", "topics schema", "topics list"} <= paths


@pytest.mark.parametrize(
    "command", [c for _, c in COMMANDS], ids=[" ".join(p) for p, _ in COMMANDS]
)
def test_every_command_accepts_output_and_o(command: Any) -> None:
    names = {opt for param in command.params for opt in getattr(param, "opts", ())}
    assert {"--output", "-o"} <= names


def invoke(admin: FakeCluster, *args: str, env: dict[str, str] | None = None) -> Any:
    state = AppState(admin_factory=lambda _settings: admin, environ={}, interactive=False)
    return runner.invoke(app, ["--topics-file", SMALL, *args], obj=state, env=env)


def admin_with_overrides() -> FakeCluster:
    return FakeCluster(
        topics={
            "dreamscape.user.created": FakeTopic(6, 1, {"retention.ms": "86400000"}),
            "dreamscape.user.deleted": FakeTopic(3),
        }
    )


@pytest.mark.parametrize(
    "args",
    [("topics", "import", "-o", "json"), ("-o", "json", "topics", "import")],
    ids=["command-option", "global-option"],
)
def test_import_json_is_one_document(args: tuple[str, ...]) -> None:
    result = invoke(admin_with_overrides(), *args)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [t["name"] for t in doc["topics"]] == [
        "dreamscape.user.created",
        "dreamscape.user.deleted",
    ]
    assert doc["topics"][0]["config"] == {"retention.ms": 86400000}


def test_prune_summary_counts_declared_topics_only(tmp_path: Path) -> None:
    one = write_topics(
        tmp_path,
        "version: 1\ndomains: {user: {owner: user-service}}\n"
        "topics:\n  - name: dreamscape.user.created\n",
        "one.yaml",
    )
    admin = FakeCluster(
        topics={
            "dreamscape.user.created": FakeTopic(3),
            "dreamscape.old.a": FakeTopic(1),
            "dreamscape.old.b": FakeTopic(1),
        }
    )
    state = AppState(admin_factory=lambda _settings: admin, environ={}, interactive=False)
    result = runner.invoke(app, ["--topics-file", str(one), "topics", "plan", "--prune"], obj=state)
    assert result.exit_code == 0
    assert "1 of 1 declared topics in sync" in result.stdout
    result = runner.invoke(
        app,
        ["--topics-file", str(one), "topics", "sync", "--prune", "--yes", "-o", "json"],
        obj=state,
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert (summary["in_sync"], summary["topics"], summary["delete_topic"]) == (1, 1, 2)


LONG = "dreamscape.payment.partial.refund"


def test_list_through_a_pipe_at_80_columns_keeps_whole_names_one_row_per_line() -> None:
    # CliRunner's stdout is not a terminal: the plain layout, whatever COLUMNS says.
    admin = FakeCluster(
        topics={f"dreamscape.payment.{i}.{'x' * 60}": FakeTopic(1) for i in range(3)}
    )
    admin.topics[LONG] = FakeTopic(3, 1, {"retention.ms": "2592000000"})
    result = invoke(admin, "topics", "list", env={"COLUMNS": "80"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "…" not in result.stdout
    assert len([line for line in lines if "payment" in line]) == 4
    rows = {line.split("\t")[0]: line.split("\t") for line in lines if "\t" in line}
    assert rows[LONG][1:4] == ["3", "1", "managed"]
    assert rows["name"] == ["name", "partitions", "replication_factor", "kind", "in_sync", "status"]


@pytest.mark.parametrize(
    "args",
    [
        ("topics", "plan"),
        ("topics", "show"),
        ("topics", "describe", LONG),
        ("topics", "sync", "--dry-run"),
    ],
)
def test_topics_tables_never_cut_names_through_a_pipe(args: tuple[str, ...]) -> None:
    admin = FakeCluster(topics={LONG: FakeTopic(3, 1, {"retention.ms": "1"})})
    result = invoke(admin, *args, env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.stderr
    assert "…" not in result.stdout
    assert LONG in result.stdout
    assert any(line.startswith(LONG + "\t") for line in result.stdout.splitlines())


def test_on_a_terminal_names_fold_instead_of_being_cut() -> None:
    admin = FakeCluster(topics={LONG: FakeTopic(3, 1, {"retention.ms": "1"})})
    state = AppState(
        admin_factory=lambda _settings: admin, environ={}, interactive=False, plain_tables=False
    )
    result = runner.invoke(
        app, ["--topics-file", SMALL, "topics", "plan"], obj=state, env={"COLUMNS": "30"}
    )
    assert result.exit_code == 0
    assert "…" not in result.stdout
    assert "\t" not in result.stdout  # the rich layout, not the piped one
    # Folded over lines, the name is still all there: read the topic column back.
    topic_column = "".join(
        line.split("│")[0].strip() for line in result.stdout.splitlines() if "│" in line
    )
    assert LONG in topic_column
    assert "declared topics in sync" in result.stdout


@pytest.mark.parametrize(
    "path",
    [
        ("topics", "validate"),
        ("topics", "show"),
        ("topics", "plan"),
        ("topics", "sync"),
        ("topics", "list"),
        ("groups", "list"),
        ("groups", "lag"),
        ("events", "tail"),
        ("events", "validate"),
        ("acls", "plan"),
        ("acls", "sync"),
        ("health", "rules"),
        ("serve",),
    ],
    ids=" ".join,
)
def test_commands_that_read_topics_yaml_take_topics_file_after_the_command(
    path: tuple[str, ...],
) -> None:
    """`topics sync -f FILE` (the CI recipe's form) as well as the global `-f FILE topics sync`."""
    command = dict(COMMANDS)[path]
    names = {opt for param in command.params for opt in getattr(param, "opts", ())}
    assert {"--topics-file", "-f"} <= names


def test_topics_file_after_the_command_is_the_one_read(tmp_path: Path) -> None:
    """The per-command -f wins over the global one, which names a file that does not exist."""
    missing = str(tmp_path / "missing.yaml")
    result = runner.invoke(
        app, ["-f", missing, "topics", "validate", "-f", SMALL, "-o", "json"], obj=AppState()
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["file"] == SMALL
    result = runner.invoke(app, ["topics", "validate", "-f", missing], obj=AppState())
    assert result.exit_code == 3
    assert "missing.yaml" in result.output
