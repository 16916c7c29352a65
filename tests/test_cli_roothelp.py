"""The root's --help, -h and --version without Typer print exactly what the Typer app prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer import _click as click
from typer._click.formatting import wrap_text
from typer._click.utils import make_default_short_help

from dreamscape_infra.cli import LAZY_COMMANDS, app, main, root, roothelp

ROOT = Path(__file__).resolve().parent.parent


def full_output(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[str, object]:
    """The Typer app's answer, as main() gave it before the fast path."""
    with pytest.raises(SystemExit) as exc:
        app(args, prog_name="dreamscape-infra")
    return capsys.readouterr().out, exc.value.code


def fast_output(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[str, object]:
    """main()'s answer, which must not reach the Typer app."""

    def no_typer(*args: object, **kwargs: object) -> None:
        raise AssertionError("main() went to the Typer app")

    with monkeypatch.context() as patch:
        patch.setattr(root, "app", no_typer)
        patch.setattr(sys, "argv", ["dreamscape-infra", *args])
        with pytest.raises(SystemExit) as exc:
            main()
    return capsys.readouterr().out, exc.value.code


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"]])
@pytest.mark.parametrize("columns", [None, "1", "40", "50", "60", "79", "80", "81", "100", "200"])
def test_main_answers_the_root_help_and_version_as_the_typer_app_does(
    args: list[str],
    columns: str | None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in roothelp.TYPER_ENVIRON:
        monkeypatch.delenv(name, raising=False)
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    fast = fast_output(args, capsys, monkeypatch)
    assert fast == full_output(args, capsys)
    assert fast[1] == 0
    assert fast[0].startswith(("Usage: dreamscape-infra [OPTIONS]", "dreamscape-infra "))


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


PROBE = (
    "import sys\n"
    "from dreamscape_infra.cli import main\n"
    "sys.argv = ['dreamscape-infra', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
    "heavy = ('typer', 'click', 'rich', 'yaml', 'confluent_kafka')\n"
    "print('loaded:', *sorted(m for m in heavy if m in sys.modules))\n"
    "print('exit:', code)\n"
)


def run_probe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for name in roothelp.TYPER_ENVIRON:
        if name not in (env or {}):
            environ.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=environ,
    )


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"]])
def test_the_root_help_imports_no_typer(args: list[str]) -> None:
    out = run_probe(*args).stdout.splitlines()
    assert out[-2:] == ["loaded:", "exit: 0"]
    assert out[0].startswith(("Usage: dreamscape-infra [OPTIONS] COMMAND", "dreamscape-infra "))


def test_a_groups_help_still_goes_through_typer() -> None:
    out = run_probe("topics", "--help").stdout.splitlines()
    assert out[0].startswith("Usage: dreamscape-infra topics [OPTIONS] COMMAND")
    assert out[-2:] == ["loaded: typer", "exit: 0"]


def test_a_completion_request_goes_through_typer() -> None:
    completion = {
        "_DREAMSCAPE_INFRA_COMPLETE": "complete_bash",
        "COMP_WORDS": "dreamscape-infra to",
        "COMP_CWORD": "1",
    }
    out = run_probe("--help", env=completion).stdout.splitlines()
    assert out == ["topics", "loaded: typer", "exit: 0"]
