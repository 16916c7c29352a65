"""The command line. The only package that prints, prompts or exits.

`cli/root.py` builds the Typer app from each command module's `register`; `main` is the
console script's entry point (and `python -m dreamscape_infra`'s).
"""

from __future__ import annotations

import os
import sys

from dreamscape_infra.cli.root import PROG_NAME, AppState, app, get_state, report
from dreamscape_infra.errors import InfraError


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name=PROG_NAME)
    except InfraError as exc:  # raised outside a command (should not happen) still gets one line
        report(exc, verbose=os.environ.get("DREAMSCAPE_VERBOSE") == "1", state=None)
        sys.exit(int(exc.exit_code))


__all__ = ["AppState", "app", "get_state", "main"]
