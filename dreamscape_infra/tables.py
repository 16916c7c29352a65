"""Tables as plain values, shown two ways by the CLI.

Render functions of every capability return `TableData` instead of a rich `Table`, so that the
CLI can choose the layout: on a terminal a rich table whose cells fold but are never cut with an
ellipsis, and through a pipe a plain layout (`plain_lines`) with one row per line and cells
separated by tabs, which `grep`, `awk -F'\\t'` and `cut -f` can use. Pure: no Console here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich only when a table is drawn for a terminal
    from rich.table import Table

MISSING = "-"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text shown after or between tables (a summary), with an optional rich
    style for terminals; through a pipe it prints as it is."""

    text: str
    style: str = ""


@dataclass(frozen=True, slots=True)
class TableData:
    """A titled table of text cells; `row_styles` (optional) colours whole rows on a terminal."""

    title: str | None
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    row_styles: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        title: str | None,
        columns: Sequence[str],
        rows: Iterable[Sequence[object]],
        row_styles: Sequence[str] = (),
    ) -> TableData:
        """Cells become strings; None becomes '-'."""
        return cls(
            title,
            tuple(columns),
            tuple(tuple(MISSING if c is None else str(c) for c in row) for row in rows),
            tuple(row_styles),
        )

    def to_rich(self) -> Table:
        """A rich Table whose cells fold instead of being cut: names stay whole."""
        from rich.table import Table
        from rich.text import Text

        table = Table(title=self.title, title_justify="left", show_edge=False)
        for column in self.columns:
            table.add_column(column, overflow="fold")
        for index, row in enumerate(self.rows):
            style = self.row_styles[index] if index < len(self.row_styles) else ""
            table.add_row(*(Text(cell) for cell in row), style=style or None)
        return table

    def plain_lines(self) -> list[str]:
        """`# title`, a header line, then one tab-separated line per row (newlines in a cell
        become '; ', tabs a space), so every row stays one greppable line."""
        lines = [f"# {self.title}"] if self.title else []
        lines.append("\t".join(self.columns))
        for row in self.rows:
            lines.append("\t".join(_flat(cell) for cell in row))
        return lines


def _flat(cell: str) -> str:
    return cell.replace("\t", " ").replace("\r\n", "; ").replace("\n", "; ")
