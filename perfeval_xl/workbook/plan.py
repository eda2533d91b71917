"""What the engine writes back into a workbook, as plain data.

The CLI applies a plan with openpyxl, the Excel macros apply the same plan through xlwings,
so both doors write exactly the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from perfeval_xl.model import Location

# The look both appliers give written cells: 校验结果 rows by severity, links as links.
TONE_FILL = {"error": "FFF4CCCC", "warning": "FFFFF2CC", "info": "FFDDEBF7"}
LINK_RGB = "FF0563C1"


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


def resolve_merges(plan: WritePlan, merges: dict[str, list[tuple[int, int, int, int]]]
                   ) -> tuple[WritePlan, list]:
    """Redirect writes that land inside a merged range to its top-left cell (the only cell
    of a merge that holds a value). Two different target cells in one merge cannot both be
    written: the first keeps the merge, the other becomes a problem at its cell.

    Args:
        plan: the plan as the engine made it.
        merges: sheet -> merged ranges as (min_col, min_row, max_col, max_row).

    Returns:
        (the plan with redirected writes, problems for writes that were dropped).
    """
    from dataclasses import replace

    from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter

    from perfeval_xl.model import Problem

    claimed: dict[tuple[str, str], str] = {}
    writes, problems = [], []
    for w in plan.writes:
        row, col = coordinate_to_tuple(w.cell)
        rng = next(((c0, r0, c1, r1) for c0, r0, c1, r1 in merges.get(w.sheet, ())
                    if c0 <= col <= c1 and r0 <= row <= r1), None)
        if rng is None:
            writes.append(w)
            continue
        top = f"{get_column_letter(rng[0])}{rng[1]}"
        area = f"{top}:{get_column_letter(rng[2])}{rng[3]}"
        first = claimed.setdefault((w.sheet, top), w.cell)
        if first != w.cell:
            problems.append(Problem(
                "error", "merged-target",
                f"结果单元格 {w.cell} 与 {first} 在同一个合并单元格 {area} 中，无法分别写入，"
                f"已只写入 {first} 的结果。请在 Excel 中取消该合并，让每个结果各占一个单元格。",
                Location(w.sheet, w.cell)))
            continue
        writes.append(replace(w, cell=top) if top != w.cell else w)
    return WritePlan(writes=writes, clear=plan.clear, names=plan.names,
                     select=plan.select), problems
