"""`dreamscape-infra topics ...`: topics as code."""

from __future__ import annotations

import typer

app = typer.Typer(help="Topics as code: validate, show, plan, sync, list, describe, import.",
                  no_args_is_help=True)
