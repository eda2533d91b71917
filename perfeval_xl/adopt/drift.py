"""County rows changed after adopting (docs/adopt.md §3.2).

``adopt`` records, per county indicator, where its cells are (tbl_targets' positions, as
text), the name its row had and the sheet rows it covers. The department may later insert,
delete, move or rename rows of the county's table. The mapping sheet's formulas follow a
structural edit made in Excel, WPS or LibreOffice (they are references), but the positions
are text and do not: writing there would put a score into another indicator's row.

At ``score``/``check`` time (called by ``workbook.reader``), for each adopted indicator:

- its name is still in its recorded row: nothing to do;
- its name is where the mapping formula now points (rows inserted or deleted above it):
  the positions are moved to that row (``county-row-moved``, info);
- otherwise (renamed, deleted, or moved without the formulas following): one
  ``county-row-changed`` error at the county cell saying what changed; nothing is written
  into that row, nor into the county's total and grade cells, and the workbook must be
  adopted again.

A row with a name and a numeric 分值 inside the table that no indicator covers was added
after adopting: ``county-row-added`` error at its name cell (it is not scored).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

from openpyxl.utils.cell import column_index_from_string as col_index
from openpyxl.utils.cell import coordinate_from_string, get_column_letter

from perfeval_xl.model import Location

__all__ = ["check_county_rows"]

_TOTAL_WORDS = ("合计", "总计", "总分", "小计")
# A section row (“一、投入（20分）”, “（二）预算执行”) may carry its level's points in the
# 分值 column; adopt skipped it, so it is no added indicator.
_SECTION = re.compile(r"^([一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十]+[)）])")
_REF_ROW = re.compile(r"(\$?[A-Za-z]{1,3}\$?)(\d+)")


def _norm(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(v)))


def _cell_of(ref) -> tuple[str, str] | None:
    if not ref:
        return None
    sheet, rng = ref
    return sheet, rng.split(":")[0].replace("$", "")


def _row(coord: str) -> int:
    return coordinate_from_string(coord)[1]


def _shift(ref, delta: int):
    sheet, rng = ref
    return sheet, _REF_ROW.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + delta}", rng)


def _mapped_name_cell(rd, row, names_ref) -> tuple[str, str] | None:
    """The county cell the mapping's 三级指标 formula reads now (Excel moves it with the
    row), or None when the name is not a reference to the county sheet."""
    from perfeval_xl.workbook.reader import source_location

    loc = row.location
    if loc is None or not loc.cell:
        return None
    real = source_location(rd.src, loc)
    if real is None or real.sheet != names_ref[0]:
        return None
    return real.sheet, real.cell.replace("$", "")


def check_county_rows(rd, rows: list, anchors: dict, extras: dict[str, dict]) -> None:
    """Check (and where safe, re-map) the county rows of an adopted workbook.

    Args:
        rd: the reader (``rd.src`` the cell source, ``rd.problem`` to report).
        rows: the ScoreRows read from the mapping (their ``location`` is the name cell the
            mapping formula reads).
        anchors: the reader's anchors; ``anchors["targets"]`` (code -> header -> ref) is
            updated in place.
        extras: code -> tbl_targets' extra columns (指标名称原文, 县表行), from
            ``reader._target_extras``.
    """
    targets = anchors.get("targets") or {}
    by_code = {r.code: r for r in rows}
    known: set[tuple[str, int]] = set()
    name_cols: dict[str, Counter] = {}
    weight_cols: dict[str, Counter] = {}
    table_rows: dict[tuple[str, str], list[int]] = {}  # (sheet, name column) -> rows
    broken = False
    for code, where in list(targets.items()):
        snap = extras.get(code) or {}
        if "指标名称原文" not in snap:
            return  # adopted by an earlier version: nothing recorded to compare with
        name_ref = _cell_of(where.get("指标名称位置"))
        before = _norm(snap.get("指标名称原文"))
        covered = [int(x) for x in str(snap.get("县表行") or "").split(",") if x.strip().isdigit()]
        if name_ref is None or not before:
            known.update((name_ref[0] if name_ref else "", r) for r in covered)
            continue
        sheet, coord = name_ref
        now = _norm(rd.src.value(sheet, coord))
        row = by_code.get(code)
        mapped = _mapped_name_cell(rd, row, name_ref) if row is not None else None
        delta = 0
        if now == before and (mapped is None or mapped == name_ref):
            pass
        elif mapped is not None and mapped != name_ref and \
                _norm(rd.src.value(*mapped)) == before:
            delta = _row(mapped[1]) - _row(coord)
            new = {h: (_shift(ref, delta) if ref else ref) for h, ref in where.items()}
            targets[code] = new
            rd.problem("info", "county-row-moved",
                       f"县表中“{snap.get('指标名称原文')}”已从第{_row(coord)}行移到第"
                       f"{_row(mapped[1])}行（接管后插入或删除了行），已按新位置读取和写入。",
                       Location(*mapped))
            where = new
        else:
            broken = True
            del targets[code]
            label = snap.get("指标名称原文")
            if now:
                what = (f"第{_row(coord)}行的指标接管时为“{label}”，现在是“"
                        f"{rd.src.value(sheet, coord)}”")
            else:
                what = f"接管时第{_row(coord)}行的指标“{label}”已不在该行（已删除或移动）"
            rd.problem("error", "county-row-changed",
                       f"县表在接管后被修改：{what}。为避免把得分写错行，本指标及县表总分、等级"
                       "均未写入。请对县里的原表重新运行“接管县表”（perfeval-xl adopt）后再评分。",
                       Location(sheet, coord))
            continue
        known.update((sheet, r + delta) for r in covered)
        col = re.sub(r"\d+", "", coord)
        name_cols.setdefault(sheet, Counter())[col] += 1
        table_rows.setdefault((sheet, col), []).extend(r + delta for r in covered)
        w = _cell_of(where.get("分值位置"))
        if w:
            weight_cols.setdefault(w[0], Counter())[re.sub(r"\d+", "", w[1])] += 1
    levels = {_norm(x) for r in rows for x in (r.level1, r.level2) if x}
    _added_rows(rd, known, name_cols, weight_cols, levels, table_rows)
    if broken:
        from perfeval_xl.workbook import layout

        anchors.pop(layout.COUNTY_TOTAL, None)
        anchors.pop(layout.COUNTY_GRADE, None)


def _added_rows(rd, known: set[tuple[str, int]], name_cols: dict[str, Counter],
                weight_cols: dict[str, Counter], levels: set[str],
                table_rows: dict[tuple[str, str], list[int]]) -> None:
    """Rows inside the adopted table (between its first and last indicator, and right after
    it) with a name and a numeric 分值 that no adopted indicator covers."""
    from perfeval_xl.workbook.reader import _to_decimal

    for sheet, cols in name_cols.items():
        wcols = weight_cols.get(sheet)
        if not wcols:
            continue  # weights inside the names: no 分值 column to look at
        # The table's own columns (a 预算执行 block above it has its own).
        name_col, weight_col = cols.most_common(1)[0][0], wcols.most_common(1)[0][0]
        rows = sorted(table_rows.get((sheet, name_col), []))
        if not rows:
            continue
        r, last = rows[0], rows[-1] + 3
        while r <= last:
            name = rd.src.value(sheet, f"{name_col}{r}")
            weight = _to_decimal(rd.src.value(sheet, f"{weight_col}{r}"))
            left = [_norm(rd.src.value(sheet, f"{get_column_letter(c)}{r}"))
                    for c in range(1, col_index(name_col) + 1)]
            if any(x.startswith(_TOTAL_WORDS) for x in left):
                break
            text = _norm(name)
            if (sheet, r) not in known and text and weight is not None and \
                    not _SECTION.match(text) and text not in levels:
                rd.problem("error", "county-row-added",
                           f"县表第{r}行的指标“{name}”是接管后新增的，未计分。请对修改后的县表"
                           "重新运行“接管县表”（perfeval-xl adopt），或删除该行。",
                           Location(sheet, f"{name_col}{r}"))
                last = max(last, r + 3)
            r += 1
