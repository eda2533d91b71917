"""Write-back: the engine's results as a WritePlan, and applying it with openpyxl.

Only computed cells are written (实际值 of computed rows, 评分标准, 得分, 扣分原因, the total,
the grade, the 校验结果 table); input cells never are. Text that came from a workbook is
written as text, never as a formula (formula injection).
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

from openpyxl.styles import Font, PatternFill
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.hyperlink import Hyperlink

from perfeval_xl.model import Location, Result
from perfeval_xl.workbook import layout
from perfeval_xl.workbook.plan import CellWrite, WritePlan

SEVERITY_LABEL = {"error": "错误", "warning": "警告", "info": "提示"}
PERCENT_FORMAT = '0.00"%"'
SCORE_FORMAT = "0.00"
TONE_FILL = {"error": "FFF4CCCC", "warning": "FFFFF2CC", "info": "FFDDEBF7"}
CHECKS_MIN_ROWS = 5


def _num(d) -> float | None:
    return None if d is None else float(d)


def _display_value(r) -> tuple[object, str | None]:
    if isinstance(r.value, Decimal):
        return float(r.value), PERCENT_FORMAT if r.unit == "%" else "0.00"
    return r.value, None


def plan_writes(result: Result) -> WritePlan:
    """Everything the engine writes into the workbook, as data."""
    ev = result.evaluation
    plan = WritePlan()
    a = ev.anchors.get("tbl_scores")
    if a:
        cols, rows, sheet = a["columns"], a.get("rows", {}), a["sheet"]
        for r in result.indicators:
            row = rows.get(r.code)
            if row is None:
                continue

            def put(header, value, fmt=None, row=row):
                if header in cols:
                    plan.writes.append(CellWrite(sheet, f"{cols[header]}{row}", value, fmt))

            put("评分标准", r.standard)
            if r.kind != "qualitative":  # a qualitative 实际值 is the evaluator's input
                put("实际值", *_display_value(r))
            put("得分", _num(r.score), SCORE_FORMAT)
            put("扣分原因", r.note)
    _plan_targets(result, plan)
    for name, value, fmt in ((layout.OUT_TOTAL, _num(result.total), SCORE_FORMAT),
                             (layout.OUT_GRADE, result.grade, None),
                             (layout.COUNTY_TOTAL, _num(result.total), SCORE_FORMAT),
                             (layout.COUNTY_GRADE, result.grade, None)):
        loc = ev.anchors.get(name)
        if loc:
            plan.writes.append(CellWrite(loc.sheet, loc.cell, value, fmt))
    _plan_checks(result, plan)
    return plan


def _plan_targets(result: Result, plan: WritePlan) -> None:
    """Adopted workbooks: also write into the county's own 实际值/得分/扣分原因 cells."""
    targets = result.evaluation.anchors.get("targets") or {}
    for r in result.indicators:
        t = targets.get(r.code)
        if not t:
            continue
        value, fmt = _display_value(r)
        for header, v, f in (("实际值位置", value, fmt), ("得分位置", _num(r.score), None),
                             ("扣分原因位置", r.note, None)):
            ref = t.get(header)
            if ref and not (header == "实际值位置" and r.kind == "qualitative"):
                plan.writes.append(CellWrite(ref[0], ref[1].split(":")[0], v, f))


def _plan_checks(result: Result, plan: WritePlan) -> None:
    a = result.evaluation.anchors.get("tbl_checks")
    if not a:
        return
    sheet, first, cols = a["sheet"], a["first"], a["columns"]
    lo, hi = get_column_letter(a["min_col"]), get_column_letter(a["max_col"])
    n = max(len(result.problems), CHECKS_MIN_ROWS)
    plan.clear.append((sheet, first + 1, max(a["last"], first + n), lo, hi))
    for i, p in enumerate(result.problems):
        row = first + 1 + i

        def put(header, value, link=None, row=row, tone=p.severity):
            if header in cols:
                plan.writes.append(CellWrite(sheet, f"{cols[header]}{row}", value, link=link,
                                             tone=tone))

        put("严重程度", SEVERITY_LABEL[p.severity])
        put("问题代码", p.code)
        put("位置", str(p.location) if p.location else "",
            link=_link(p.location) if p.location and p.location.cell else None)
        put("说明", p.message)
    plan.names["tbl_checks"] = f"{_quote(sheet)}!${lo}${first}:${hi}${first + n}"
    plan.select = next((p.location for p in result.problems
                        if p.severity == "error" and p.location and p.location.cell), None)


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _link(loc: Location) -> str:
    return f"#{_quote(loc.sheet)}!{loc.cell}"


def apply_plan_openpyxl(wb, plan: WritePlan) -> None:
    """Apply a WritePlan to an openpyxl workbook (in memory)."""
    for sheet, r0, r1, lo, hi in plan.clear:
        ws = wb[sheet]
        for r in range(r0, r1 + 1):
            for c in range(column_index_from_string(lo), column_index_from_string(hi) + 1):
                cell = ws.cell(r, c)
                cell.value = None
                cell.hyperlink = None
                cell.fill = PatternFill()
    for w in plan.writes:
        if w.sheet not in wb.sheetnames:
            continue
        cell = wb[w.sheet][w.cell]
        cell.value = w.value
        if isinstance(w.value, str) and w.value.startswith("="):
            cell.data_type = "s"  # text from a workbook stays inert, never a formula
        if w.number_format:
            cell.number_format = w.number_format
        if w.link:
            cell.hyperlink = Hyperlink(ref=w.cell, location=w.link.lstrip("#"),
                                       display=str(w.value))
            cell.font = Font(color="FF0563C1", underline="single")
        if w.tone:
            cell.fill = PatternFill("solid", fgColor=TONE_FILL.get(w.tone, "FFFFFFFF"))
    for name, ref in plan.names.items():
        if name in wb.defined_names:
            del wb.defined_names[name]
        wb.defined_names[name] = DefinedName(name, attr_text=ref)


def workbook_to_bytes(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_scored(wb, result: Result, out: Path, source: Path | None = None) -> Path:
    """Apply the result to ``wb`` and save it atomically to ``out``. For a macro workbook the
    ribbon of ``source`` is carried over (openpyxl drops its relationship)."""
    from perfeval_xl.files import atomic_write, keep_ribbon

    apply_plan_openpyxl(wb, plan_writes(result))
    data = workbook_to_bytes(wb)
    if source is not None and Path(source).suffix.lower() == ".xlsm":
        data = keep_ribbon(Path(source).read_bytes(), data)
    return atomic_write(out, data)
