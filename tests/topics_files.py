"""The one way tests write a topics file: into the test's own folder, never the current
directory's topics.yaml (which is the repository's and must stay untouched)."""

from __future__ import annotations

from pathlib import Path


def write_topics(folder: Path, text: str | bytes | None, name: str = "topics.yaml") -> Path:
    """`folder/name` holding `text` (UTF-8; bytes as given); None creates no file, for the
    tests of a missing one. Returns the path."""
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text, encoding="utf-8")
    return path
