"""The root's `--help` and `--version` without Typer: their text, and a renderer for the help.

Importing typer costs about as much as Python's own start, and these two answers need none of
it. `main()` prints `fast_output`'s text when there is one; every other command line goes
through the Typer app (`cli/root.py`), which takes its help text, its options' help and its
version line from here. `render` does what click's `HelpFormatter` does with the root
(typer/_click/formatting.py; `make_default_short_help` in typer/_click/utils.py), for just the
parts the root uses; tests/test_cli_roothelp.py holds it to the app's own `--help`, byte for
byte, at many terminal widths.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Mapping, Sequence

from dreamscape_infra import __version__
from dreamscape_infra.cli import LAZY_COMMANDS
from dreamscape_infra.errors import EXIT_CODE_HELP

PROG_NAME = "dreamscape-infra"
VERSION_LINE = f"{PROG_NAME} {__version__}"
ROOT_HELP = (
    "Kafka for the DreamScape microservices: run the stack, keep topics as code.\n\n"
    "Example: dreamscape-infra up --runtime local && dreamscape-infra topics plan\n\n"
    + EXIT_CODE_HELP
)
USAGE = "[OPTIONS] COMMAND [ARGS]..."

# The root's options as Typer lists them: names and metavar, help, and what Typer adds in
# brackets. root.py declares the first five with `option_help`; Typer adds the two completion
# options, click the help option.
ROOT_OPTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "-f, --topics-file <str>",
        "The topics file (desired state).",
        "env var: DREAMSCAPE_TOPICS_FILE; default: topics.yaml",
    ),
    ("-o, --output <table|json>", "table for people, json for machines.", "default: table"),
    ("--brokers <str>", "Bootstrap servers; overrides KAFKA_BROKERS.", ""),
    ("-v, --verbose", "Show tracebacks on errors.", ""),
    ("--version", "Print the version.", ""),
    ("--install-completion", "Install completion for the current shell.", ""),
    (
        "--show-completion",
        "Show completion for the current shell, to copy it or customize the installation.",
        "",
    ),
    ("-h, --help", "Show this message and exit.", ""),
)

# Typer answers a completion request (this variable holds it) before it reads any option, and
# its test switch changes the completion options' help: with either set, only Typer answers.
TYPER_ENVIRON = (
    f"_{PROG_NAME}_COMPLETE".replace("-", "_").upper(),
    "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION",
)


def option_help(name: str) -> str:
    """The help of the root option called `name`, as `--help` shows it."""
    for names, help_text, _ in ROOT_OPTIONS:
        if name in names.replace(",", "").split():
            return help_text
    raise KeyError(name)


def fast_output(args: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """What the root prints for exactly `--help`, `-h` or `--version`; None: ask Typer."""
    if any(name in environ for name in TYPER_ENVIRON):
        return None
    if list(args) in (["--help"], ["-h"]):
        return render(help_width())
    if list(args) == ["--version"]:
        return VERSION_LINE
    return None


def help_width() -> int:
    """The width click's HelpFormatter takes when nothing forces one (max_width 80)."""
    return max(min(shutil.get_terminal_size().columns, 80) - 2, 50)


def render(width: int) -> str:
    """The root's help at a formatter width, as click formats it (without the final newline)."""
    usage_prefix = f"Usage: {PROG_NAME} "  # always fits beside the usage: width >= 50
    usage = _Wrapper(
        width,
        initial_indent=usage_prefix,
        subsequent_indent=" " * len(usage_prefix),
        replace_whitespace=False,
    ).fill(USAGE)
    options = [
        (names, f"{text}  [{extra}]" if extra else text) for names, text, extra in ROOT_OPTIONS
    ]
    limit = width - 6 - max(len(name) for name in LAZY_COMMANDS)
    commands = [(name, _short_help(line, limit)) for name, (_, line) in LAZY_COMMANDS.items()]
    return "\n".join(
        [
            usage,
            "",
            _wrap(ROOT_HELP, width, "  "),
            "",
            "Options:",
            *_definitions(options, width),
            "",
            "Commands:",
            *_definitions(commands, width),
        ]
    )


class _Wrapper(textwrap.TextWrapper):
    """click's TextWrapper: a word longer than a line is cut where the line ends."""

    def _handle_long_word(
        self, reversed_chunks: list[str], cur_line: list[str], cur_len: int, width: int
    ) -> None:
        space_left = max(width - cur_len, 1)
        cur_line.append(reversed_chunks[-1][:space_left])
        reversed_chunks[-1] = reversed_chunks[-1][space_left:]


def _wrap(text: str, width: int, indent: str = "") -> str:
    """click's wrap_text with preserve_paragraphs: paragraphs end at empty lines."""
    paragraphs: list[list[str]] = [[]]
    for line in text.expandtabs().splitlines():
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    wrapped = []
    for lines in filter(None, paragraphs):
        first = lines[0].lstrip()
        own = indent + " " * (len(lines[0]) - len(first))
        if first.rstrip() == "\b":  # click's mark for a paragraph that is not rewrapped
            wrapped.append("\n".join(own + line for line in lines[1:]))
        else:
            wrapper = _Wrapper(
                width, initial_indent=own, subsequent_indent=own, replace_whitespace=False
            )
            wrapped.append(wrapper.fill(" ".join([first, *lines[1:]])))
    return "\n\n".join(wrapped)


def _definitions(rows: list[tuple[str, str]], width: int) -> list[str]:
    """click's HelpFormatter.write_dl at indent 2 (col_max 30, col_spacing 2), as lines."""
    indent = 2
    first_col = min(max(len(first) for first, _ in rows), 30) + 2
    text_width = max(width - first_col - 2, 10)
    out = []
    for first, second in rows:
        head = " " * indent + first
        if not second:
            out.append(head)
            continue
        if len(first) <= first_col - 2:
            head += " " * (first_col - len(first))
        else:  # too long for the column: the text starts on the next line
            out.append(head)
            head = " " * (first_col + indent)
        lines = _wrap(second, text_width).splitlines() or [""]
        out.append(head + lines[0])
        out.extend(" " * (first_col + indent) + line for line in lines[1:])
    return out


def _short_help(text: str, limit: int) -> str:
    """click's make_default_short_help: the first paragraph, cut to `limit` with '...'."""
    words = text.partition("\n\n")[0].split()
    if words[:1] == ["\b"]:
        words = words[1:]
    total = 0
    for i, word in enumerate(words):
        total += len(word) + (i > 0)
        if total > limit:
            break
        if word[-1] == ".":  # a sentence ends within the limit: cut there, without "..."
            return " ".join(words[: i + 1])
        if total == limit and i != len(words) - 1:
            break
    else:
        return " ".join(words)
    total += len("...")
    while i > 0:
        total -= len(words[i]) + (i > 0)
        if total <= limit:
            break
        i -= 1
    return " ".join(words[:i]) + "..."
