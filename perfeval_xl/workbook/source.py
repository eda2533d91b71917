"""The one interface the reader reads through, so the CLI (openpyxl file) and the Excel
macros (xlwings Book) share one parser instead of two.

A source answers: which workbook-scoped defined names exist and where they point, and what a
cell holds (value, formula, number format). Values are raw Python values (int, float, str,
bool, datetime, None); the reader turns them into Decimal and problems.
"""

from __future__ import annotations

from typing import Any, Protocol


class CellSource(Protocol):
    path: str

    def defined_names(self) -> dict[str, str]:
        """Workbook-scoped names -> reference text as stored, e.g. "'预算执行'!$C$5"."""

    def sheet_names(self) -> list[str]: ...

    def value(self, sheet: str, coord: str) -> Any:
        """The cell's value as Excel shows it (a formula's result), None when blank or when a
        formula has no cached result (then ``formula`` tells)."""

    def formula(self, sheet: str, coord: str) -> str | None:
        """The cell's formula text with leading "=", or None for a constant."""

    def number_format(self, sheet: str, coord: str) -> str: ...

    def max_row(self, sheet: str) -> int: ...
