"""`up`, `down`, `status`, `logs`: one command surface over the docker and local runtimes."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the stack commands to the root app."""
