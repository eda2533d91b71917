"""Write-back: the engine's results as a WritePlan, and applying it to a file.

``write_scored`` applies the plan surgically (``xmlwriter``: only the target cells' XML
changes, every other part stays byte for byte). Only when a target sheet cannot be patched
that way does it fall back to an openpyxl round trip, after naming at each sheet what the
round trip loses; writing back into the user's own file (``--in-place``) is then refused
instead. Merged target cells are written into the merge's top-left cell (plan.py).

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

from perfeval_xl.model import Location, Problem, Result
from perfeval_xl.workbook import layout
from perfeval_xl.workbook.plan import LINK_RGB, TONE_FILL, CellWrite, WritePlan, resolve_merges

SEVERITY_LABEL = {"error": "错误", "warning": "警告", "info": "提示"}
PERCENT_FORMAT = '0.00"%"'
SCORE_FORMAT = "0.00"
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
    _plan_reading(result, plan)
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


def _plan_reading(result: Result, plan: WritePlan) -> None:
    """Adopted workbooks: the 评分标准解读 rows of county texts read again at this score
    (reader._reread_county_standards) show the reading that was used."""
    shown = result.evaluation.anchors.get(layout.READING_TABLE)
    if not shown:
        return
    cols, sheet = shown["columns"], shown["sheet"]
    for code, values in shown["new"].items():
        row = shown["rows"][code]
        for header, value in values.items():
            plan.writes.append(CellWrite(sheet, f"{cols[header]}{row}", value))


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
    """Apply a WritePlan to an openpyxl workbook (in memory). Writes inside a merge go to
    its top-left cell; see ``openpyxl_merges`` and ``resolve_merges``."""
    from openpyxl.cell.cell import MergedCell

    plan, _ = resolve_merges(plan, openpyxl_merges(wb, plan))
    for sheet, r0, r1, lo, hi in plan.clear:
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        # Rows past the last used one hold nothing to clear (and a table name reaching row
        # 1,048,576 must not create a million cells).
        for r in range(r0, min(r1, ws.max_row) + 1):
            for c in range(column_index_from_string(lo), column_index_from_string(hi) + 1):
                cell = ws.cell(r, c)
                if isinstance(cell, MergedCell):
                    continue  # only a merge's top-left cell holds a value
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
            cell.font = Font(color=LINK_RGB, underline="single")
        if w.tone:
            cell.fill = PatternFill("solid", fgColor=TONE_FILL.get(w.tone, "FFFFFFFF"))
    for name, ref in plan.names.items():
        if name in wb.defined_names:
            del wb.defined_names[name]
        wb.defined_names[name] = DefinedName(name, attr_text=ref)


def openpyxl_merges(wb, plan: WritePlan) -> dict[str, list[tuple[int, int, int, int]]]:
    """Merged ranges of the sheets ``plan`` writes to, from an openpyxl workbook."""
    sheets = {w.sheet for w in plan.writes} & set(wb.sheetnames)
    return {s: [r.bounds for r in wb[s].merged_cells.ranges] for s in sheets}


def workbook_to_bytes(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def final_plan(result: Result, merges_of) -> WritePlan:
    """The plan with merged targets resolved; a merge conflict becomes a problem of the
    result (so the CLI, the batch summary and the 校验结果 sheet all list it)."""
    plan = plan_writes(result)
    plan, problems = resolve_merges(plan, merges_of(plan))
    if problems:
        _add_problems(result, problems)
        plan, _ = resolve_merges(plan_writes(result), merges_of(plan))
    return plan


def _add_problems(result: Result, problems: list[Problem]) -> None:
    """Add problems found while writing, errors before warnings as the engine orders them."""
    result.problems.extend(p for p in problems if p not in result.problems)
    rank = {"error": 0, "warning": 1, "info": 2}
    result.problems.sort(key=lambda p: rank.get(p.severity, 3))  # stable: keeps the order


def _package_bytes(wb, source) -> bytes | None:
    """The original package, when the surgical writer can work from it."""
    from perfeval_xl.workbook.xmlsource import WorkbookFile

    if isinstance(wb, WorkbookFile):
        return wb.data
    if source is not None and Path(source).suffix.lower() in (".xlsx", ".xlsm"):
        try:
            return Path(source).read_bytes()
        except OSError:
            return None
    return None


def scored_bytes(wb, result: Result, out: Path, source: Path | None = None) -> bytes:
    """The scored workbook as bytes (nothing is written yet).

    Args:
        wb: a ``WorkbookFile`` (engine.load) or an openpyxl workbook.
        result: the evaluation; problems found while writing (merged targets, content an
            openpyxl fallback drops) are appended to ``result.problems``.
        out: where it will be written; equal to ``source`` means in place.
        source: the workbook file ``wb`` was read from.

    Raises:
        files.OutputError: writing in place would lose content (Chinese, names the sheet).
    """
    from perfeval_xl.files import OutputError, keep_ribbon
    from perfeval_xl.workbook import ooxml, xmlwriter
    from perfeval_xl.workbook.xmlsource import WorkbookFile

    data = _package_bytes(wb, source)
    src_path = Path(source) if source is not None else (
        Path(wb.path) if isinstance(wb, WorkbookFile) else None)
    in_place = src_path is not None and _same_file(src_path, Path(out))
    if data is not None:
        try:
            plan = final_plan(result, lambda p: xmlwriter.merged_ranges(
                data, {w.sheet for w in p.writes}))
            return xmlwriter.apply_plan_xml(data, plan)
        except xmlwriter.NotSurgical as exc:
            losses = xmlwriter.openpyxl_losses(data)
            where = exc.sheet or "styles.xml"
            if in_place and losses:
                lost = "；".join(f"“{s}”表的{what}" for _, s, what in losses)
                raise OutputError(
                    f"无法直接写回 {src_path.name}：“{where}”{exc.reason}，只能整体重写工作簿，"
                    f"而那样会丢失{lost}。原文件未做任何改动。请改用 -o 输出评分副本，"
                    "或在 Excel 中处理该表后重试。") from None
            _add_problems(result, [Problem(
                "warning", code,
                f"“{where}”{exc.reason}，评分结果改为整体重写工作簿写入，该表的{what}不会保留"
                "（单元格内容不受影响）；如有需要请在 Excel 中对照原件补回。",
                Location(sheet)) for code, sheet, what in losses])
        except ooxml.PackageError:
            pass  # a damaged part: let openpyxl try (it raises its own clear error)
    if isinstance(wb, WorkbookFile):
        wb = wb.openpyxl()
    plan = final_plan(result, lambda p: openpyxl_merges(wb, p))
    apply_plan_openpyxl(wb, plan)
    saved = workbook_to_bytes(wb)
    if data is not None and src_path is not None and src_path.suffix.lower() == ".xlsm":
        saved = keep_ribbon(data, saved)
    return saved


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def write_scored(wb, result: Result, out: Path, source: Path | None = None) -> Path:
    """Write the result into a copy of the workbook at ``out`` (atomically), or into the
    workbook itself when ``out`` is ``source``. See ``scored_bytes``."""
    from perfeval_xl.files import atomic_write

    return atomic_write(out, scored_bytes(wb, result, out, source))
