"""What the engine writes back into a workbook, as plain data.

The CLI applies a plan with openpyxl, the Excel macros apply the same plan through xlwings,
so both doors write exactly the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from perfeval_xl.model import Location


@dataclass(frozen=True)
class CellWrite:
    """Write ``value`` into one cell. ``link`` is an in-workbook target like "#'预算执行'!C7";
    ``tone`` ("error" | "warning" | "info" | "") selects a fill on the 校验结果 sheet."""

    sheet: str
    cell: str
    value: Any
    number_format: str | None = None
    link: str | None = None
    tone: str = ""


@dataclass
class WritePlan:
    writes: list[CellWrite] = field(default_factory=list)
    # Rows of the 校验结果 table to blank before writing (sheet, first data row, last row,
    # first column letter, last column letter).
    clear: list[tuple[str, int, int, str, str]] = field(default_factory=list)
    # Defined names whose reference changes (the 校验结果 table grows with the problems).
    names: dict[str, str] = field(default_factory=dict)
    # The cell to select after writing (the first error), for the Excel door.
    select: Location | None = None
