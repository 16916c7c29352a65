"""cli/roothelp.py renders the root's --help exactly as the Typer app does."""

from __future__ import annotations

import pytest
import typer.main
from typer import _click as click
from typer._click.formatting import wrap_text
from typer._click.utils import make_default_short_help

from dreamscape_infra.cli import LAZY_COMMANDS, app, roothelp


@pytest.mark.parametrize("width", range(50, 79))  # every width click's formatter can take here
def test_render_equals_the_apps_help_at_every_formatter_width(width: int) -> None:
    command = typer.main.get_command(app)
    ctx = click.Context(
        command, info_name="dreamscape-infra", terminal_width=width, **command.context_settings
    )
    assert roothelp.render(width) == command.get_help(ctx)


def test_the_app_declares_its_options_with_the_renderers_help() -> None:
    command = typer.main.get_command(app)
    ctx = click.Context(command, info_name="dreamscape-infra", **command.context_settings)
    records = [param.get_help_record(ctx) for param in command.get_params(ctx)]
    assert records == [
        (names, f"{text}  [{extra}]" if extra else text)
        for names, text, extra in roothelp.ROOT_OPTIONS
    ]
    assert command.help == roothelp.ROOT_HELP


def test_option_help_knows_every_name_and_refuses_others() -> None:
    assert roothelp.option_help("-f") == roothelp.option_help("--topics-file")
    with pytest.raises(KeyError):
        roothelp.option_help("<str>x")


TEXTS = [
    *(line for _, line in LAZY_COMMANDS.values()),
    *(f"{text}  [{extra}]" for _, text, extra in roothelp.ROOT_OPTIONS),
    roothelp.ROOT_HELP,
    "",
    "One. Two three.",
    "a-very-long-hyphenated-word-that-fits-on-no-line-at-all and then some words",
    "First paragraph\ncontinues here.\n\n  An indented paragraph\n  on two lines.\n\n\n\nLast.",
    "\b\nkept   as\n  it is\n\nthen wrapped text that is long enough to be wrapped somewhere",
    "exactly ten",
    "\tTabs\tare\texpanded first.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_helpers_mirror_click(text: str) -> None:
    for width in range(1, 101):
        expected = make_default_short_help(text, width)
        assert roothelp._short_help(text, width) == expected, width
    for width in range(10, 101):
        for indent in ("", "  "):
            expected = wrap_text(
                text,
                width,
                initial_indent=indent,
                subsequent_indent=indent,
                preserve_paragraphs=True,
            )
            assert roothelp._wrap(text, width, indent) == expected, (width, indent)


def test_the_definition_list_mirrors_click() -> None:
    rows = [("a-first-column-longer-than-thirty", "its text"), ("b", ""), ("c", "x " * 40)]
    for width in range(40, 101):
        formatter = click.HelpFormatter(width=width)
        formatter.indent()
        formatter.write_dl(rows)
        assert "\n".join(roothelp._definitions(rows, width)) + "\n" == formatter.getvalue()


def test_help_width_is_the_width_click_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    for columns in ("1", "51", "52", "79", "80", "81", "500"):
        monkeypatch.setenv("COLUMNS", columns)
        assert roothelp.help_width() == click.HelpFormatter().width


def test_typers_variables_send_every_command_line_to_typer() -> None:
    assert roothelp.fast_output(["--help"], {}) is not None
    for name in roothelp.TYPER_ENVIRON:
        assert roothelp.fast_output(["--help"], {name: ""}) is None
    for args in ([], ["--help", "-h"], ["topics", "--help"], ["--version", "--help"], ["-v"]):
        assert roothelp.fast_output(args, {}) is None
