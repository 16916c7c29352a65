"""Compile the package's bytecode before any timing, as installing the wheel with pip does.

An editable install leaves the compiling to the first import of each module. Where
PYTHONDONTWRITEBYTECODE=1 is set (it is on the machine the benchmarks were written on), nothing
is ever written, so every run would compile every module it imports from source: ~0.05 s that
no pip-installed CLI pays. The benchmarks measure the CLI as users install it.
"""

from __future__ import annotations

import compileall
import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dreamscape_infra"
COUNTED = Path(__file__).resolve().parent / "_counted.py"


def ensure_bytecode() -> str:
    """Write the package's .pyc files; returns a sentence for the doc saying so."""
    if not compileall.compile_dir(str(PACKAGE), quiet=1):
        raise SystemExit(f"bench: compileall failed for {PACKAGE}")
    # the child that runs the CLI with the counting adapter is imported, like the package
    if not compileall.compile_file(str(COUNTED), quiet=1):
        raise SystemExit(f"bench: compileall failed for {COUNTED}")
    note = "bytecode compiled first, as `pip install` does"
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        note += " (PYTHONDONTWRITEBYTECODE is set here, so Python would not cache it itself)"
    return note
