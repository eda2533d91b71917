"""The batch summary workbook 汇总表.xlsx, and the per-workbook records it is made of.

A :class:`WorkbookRecord` is the JSON-able digest of one evaluated workbook (unit, total,
grade, every indicator's 实际值 and 得分, every problem, the output file names). Workers
build it; the runner keeps it in the manifest, so a re-run that skips an up-to-date
workbook still has its row.

Sheets of 汇总表.xlsx:

- 汇总: one row per workbook (sorted by input path) with 排名, each indicator's 实际值 and
  得分, error and warning counts and links to its report and scored workbook;
- 等级分布: units per grade, with a bar chart;
- 指标统计: per indicator count, mean, min and max of 得分 and of 实际值;
- 问题清单: every problem, with a link to its cell in the scored workbook;
- 失败清单: files that could not be processed, with the Chinese reason.

Text that came from a workbook (unit names, tiers, messages, file names) is always written
as text (``data_type = "s"``), never as a formula, so ``=HYPERLINK(...)`` stays inert.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from statistics import fmean
from typing import Any

SHEET_ROWS, SHEET_GRADES, SHEET_STATS, SHEET_PROBLEMS, SHEET_FAILURES = (
    "汇总", "等级分布", "指标统计", "问题清单", "失败清单")
NO_GRADE = "未评级"
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

# Fixed leading columns of 汇总, before the indicator pairs; after them come 错误数, 警告数
# and the links (报告, PDF when made, 已评分工作簿).
LEAD_HEADERS = ["序号", "文件", "单位", "年度", "预设", "总分", "等级", "排名"]
PAIR = ("实际值", "得分")
# Column-width units across one A4 landscape page at about 70 % scale.
PRINT_UNITS_PER_PAGE = 190


# --------------------------------------------------------------------------- records


@dataclass
class WorkbookRecord:
    """One evaluated workbook, as the summary needs it (JSON-able; floats, no Decimal).

    ``indicators`` items: code, name, level1, level2, kind, unit, weight, value (float
    percent/count, tier text or None), score. ``problems`` items are ``Problem.to_json()``.
    Output names are file names inside OUT_DIR ("" when not produced).
    """

    file: str                      # input path relative to IN_DIR, "/"-separated
    unit: str
    year: int | None
    preset: str
    total: float | None
    grade: str
    grade_labels: list[str] = field(default_factory=list)   # best first
    indicators: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    scored: str = ""
    report: str = ""
    pdf: str = ""
    rank: int | None = None        # set by rank(); not stored

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.get("severity") == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.get("severity") == "warning")

    def outputs(self) -> list[str]:
        return [n for n in (self.scored, self.report, self.pdf) if n]

    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose (asdict deep-copies: 5 ms a record); JSON only reads it.
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "rank"}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WorkbookRecord:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d and k != "rank"}
        return cls(**known)

    @classmethod
    def from_result(cls, file: str, result, extra_problems=()) -> WorkbookRecord:
        """Digest of an engine ``Result`` (plus problems found while reporting)."""
        ev = result.evaluation
        return cls(
            file=file, unit=ev.unit_name, year=ev.eval_year, preset=ev.preset,
            total=_float(result.total), grade=result.grade or "",
            grade_labels=[label for label, _ in ev.grade_bands],
            indicators=[{
                "code": i.code, "name": i.name, "level1": i.level1, "level2": i.level2,
                "kind": i.kind, "unit": i.unit, "weight": _float(i.weight),
                "value": _value(i.value), "score": _float(i.score)} for i in result.indicators],
            problems=[p.to_json() for p in list(result.problems) + list(extra_problems)])


@dataclass
class Failure:
    """A file that could not be processed; ``reason`` is Chinese and says what to do."""

    file: str
    reason: str


def _float(d) -> float | None:
    return None if d is None else float(d)


def _value(v) -> float | str | None:
    if v is None or isinstance(v, float):
        return v
    if isinstance(v, (Decimal, int)) and not isinstance(v, bool):
        return float(v)
    return str(v)


def rank(records: list[WorkbookRecord]) -> None:
    """Set ``rank`` by total, highest first; equal totals share a rank (1, 2, 2, 4).
    A record without a total gets no rank."""
    totals = sorted((r.total for r in records if r.total is not None), reverse=True)
    first = {}
    for i, t in enumerate(totals, start=1):
        first.setdefault(t, i)
    for r in records:
        r.rank = first.get(r.total) if r.total is not None else None


# --------------------------------------------------------------------------- layout data


@dataclass
class Column:
    """One indicator of the union across workbooks."""

    code: str
    name: str
    names: list[str]               # every distinct name seen (custom rows differ per unit)
    level1: str
    level2: str


def indicator_columns(records: list[WorkbookRecord]) -> list[Column]:
    """Union of indicator codes, each workbook's own order kept as far as possible: a code
    not seen before goes right after the code that precedes it in that workbook."""
    order: list[str] = []
    names: dict[str, Counter] = {}
    levels: dict[str, tuple[str, str]] = {}
    for r in records:
        prev = None
        for ind in r.indicators:
            code = ind["code"]
            names.setdefault(code, Counter())[ind.get("name") or code] += 1
            if code not in levels:
                levels[code] = (ind.get("level1", ""), ind.get("level2", ""))
                order.insert(order.index(prev) + 1 if prev is not None else len(order), code)
            prev = code
    cols = []
    for code in order:
        counts = names[code]
        # Most common name; ties go to the first seen (Counter keeps insertion order).
        name = max(counts, key=counts.__getitem__)
        cols.append(Column(code, name, list(counts), *levels[code]))
    return cols


def grade_order(records: list[WorkbookRecord]) -> list[str]:
    """Grade labels best first, across presets whose label sets differ (优/良/中/差 and
    优/良好/一般/差): by band position, then by first appearance."""
    pos: dict[str, int] = {}
    for r in records:
        for i, label in enumerate(r.grade_labels):
            pos[label] = min(pos.get(label, i), i)
        if r.grade and r.grade not in pos:
            pos[r.grade] = len(pos) + 100
    return sorted(pos, key=lambda g: pos[g])  # sorted() is stable: first appearance wins ties


# --------------------------------------------------------------------------- cell helpers

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_CELL_TEXT = 32767
LINK_FONT_COLOR = "FF0563C1"
_URL_UNSAFE = re.compile(r'[%#"<>\[\]`^{}| \\]')


def _text(value: str) -> str:
    """Workbook text made storable: no XML-illegal control characters, Excel's length cap."""
    return _ILLEGAL_XML.sub("", value)[:MAX_CELL_TEXT]


def link_target(rel_path: str) -> str:
    """A relative file path as a hyperlink target: '/' separators, and the characters that
    would break a link (space, '#', '%' …) percent-encoded; CJK stays as is, as Excel
    writes it."""
    return _URL_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", rel_path.replace(os.sep, "/"))


class _Sheet:
    """Writes cells of one worksheet with our named styles."""

    def __init__(self, ws):
        self.ws = ws

    def put(self, row: int, col: int, value: Any = None, style: str = "绩效_固定",
            fmt: str | None = None, fill: str | None = None):
        from openpyxl.styles import PatternFill

        cell = self.ws.cell(row=row, column=col)
        cell.style = style
        if isinstance(value, str):
            cell.value = _text(value)
            cell.data_type = "s"  # text from a workbook stays inert, never a formula
        elif value is not None:
            cell.value = value
        if fmt:
            cell.number_format = fmt
        if fill:
            cell.fill = PatternFill("solid", fgColor=fill)
        return cell

    def link(self, row: int, col: int, text: str, target: str, location: str | None = None):
        """A cell showing ``text`` that opens ``target`` (a path relative to 汇总表.xlsx),
        optionally at ``location`` ("'预算执行'!C7") inside it."""
        from openpyxl.styles import Font
        from openpyxl.worksheet.hyperlink import Hyperlink

        cell = self.put(row, col, text)
        if target:
            cell.hyperlink = Hyperlink(ref=cell.coordinate, target=link_target(target),
                                       location=location, display=_text(text))
            cell.font = Font(name=_builder().FONT, sz=11, color=LINK_FONT_COLOR,
                             underline="single")
        return cell

    def header(self, row: int, col: int, text: str, *, last_col: int | None = None,
               last_row: int | None = None):
        cell = self.put(row, col, text, "绩效_表头")
        last_col, last_row = last_col or col, last_row or row
        if (last_col, last_row) != (col, row):
            for r in range(row, last_row + 1):
                for c in range(col, last_col + 1):
                    self.ws.cell(r, c).style = "绩效_表头"
            self.ws.merge_cells(start_row=row, start_column=col, end_row=last_row,
                                end_column=last_col)
        return cell


def _builder():
    from perfeval_xl.workbook import builder

    return builder


def _new_workbook():
    """A workbook carrying the named styles of our self-evaluation workbooks, so the
    summary looks like the rest (header fill, borders, 等线)."""
    from openpyxl import Workbook

    wb = Workbook()
    # The builder's style list; see the reply of issue #5 about making it public.
    for style in _builder().named_styles():
        wb.add_named_style(style)
    wb.remove(wb.active)
    return wb


def _page(ws, *, header_rows: int, freeze: str, pages_wide: int = 1,
          title_cols: str | None = None) -> None:
    """A4 landscape like our other landscape sheets, header rows repeated on every page.
    Unlike the input sheets the summary is not protected: reviewers sort and filter it."""
    b = _builder()
    b.WorkbookBuilder.page(ws, landscape=True, title_rows=f"1:{header_rows}", freeze=freeze,
                           tab=b.TAB_SCORES, pages_wide=pages_wide, title_cols=title_cols,
                           protect=False)


def _widths(ws, widths: dict[int, float]) -> None:
    from openpyxl.utils import get_column_letter

    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = w


def _fit_rows(ws, first_row: int, cols: list[int]) -> None:
    """Row heights for wrapped text (openpyxl does not measure; Excel keeps the default
    height for rows it did not lay out itself, which hides the second line)."""
    from openpyxl.utils import get_column_letter

    from perfeval_xl.batch.progress import text_width

    widths = {c: (ws.column_dimensions[get_column_letter(c)].width or 8.43) for c in cols}
    for row in range(first_row, ws.max_row + 1):
        lines = 1
        for c in cols:
            v = ws.cell(row, c).value
            if isinstance(v, str) and v:
                per_line = max(1, int(widths[c] - 1))
                lines = max(lines, sum(-(-max(1, text_width(part)) // per_line)
                                       for part in v.split("\n")))
        if lines > 1:
            ws.row_dimensions[row].height = min(409, 15 * lines + 2)


def _fit(texts, minimum: float = 6, maximum: float = 40) -> float:
    from perfeval_xl.batch.progress import text_width

    longest = max((text_width(str(t)) for t in texts if t is not None), default=0)
    return max(minimum, min(maximum, longest + 2))


def _value_format(unit: str | None) -> str:
    return _builder().FMT_PERCENT if unit == "%" else "General"


# --------------------------------------------------------------------------- sheets


def _sheet_rows(wb, records: list[WorkbookRecord], cols: list[Column]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter

    from perfeval_xl.workbook.writer import TONE_FILL

    b = _builder()
    ws = wb.create_sheet(SHEET_ROWS)
    s = _Sheet(ws)
    # Two header rows: fixed columns span both; each indicator spans its 实际值 and 得分.
    for c, h in enumerate(LEAD_HEADERS, start=1):
        s.header(1, c, h, last_row=2)
    first_ind = len(LEAD_HEADERS) + 1
    for k, col in enumerate(cols):
        c = first_ind + 2 * k
        label = col.name if len(col.names) == 1 else f"{col.name}等"
        cell = s.header(1, c, label, last_col=c + 1)
        if len(col.names) > 1:  # 个性指标 are named by each unit
            shown = "、".join(col.names[:10]) + ("……" if len(col.names) > 10 else "")
            cell.comment = Comment(f"代码 {col.code}，各单位名称：{shown}", b.CREATOR)
        s.header(2, c, PAIR[0])
        s.header(2, c + 1, PAIR[1])
    first_tail = first_ind + 2 * len(cols)
    links = [("报告", "report"), ("已评分工作簿", "scored")]
    if any(r.pdf for r in records):
        links.insert(1, ("PDF", "pdf"))
    tail = ["错误数", "警告数"] + [h for h, _ in links]
    for j, h in enumerate(tail):
        s.header(1, first_tail + j, h, last_row=2)

    for i, r in enumerate(records, start=1):
        row = i + 2
        by_code = {ind["code"]: ind for ind in r.indicators}
        s.put(row, 1, i, b.S_COMPUTED)
        s.put(row, 2, r.file)
        s.put(row, 3, r.unit)
        s.put(row, 4, r.year, fmt=b.FMT_YEAR)
        s.put(row, 5, r.preset)
        s.put(row, 6, r.total, fmt=b.FMT_SCORE)
        s.put(row, 7, r.grade)
        s.put(row, 8, r.rank, fmt=b.FMT_COUNT)
        for k, col in enumerate(cols):
            ind = by_code.get(col.code)
            if ind is None:
                continue
            c = first_ind + 2 * k
            s.put(row, c, ind.get("value"), fmt=_value_format(ind.get("unit")))
            s.put(row, c + 1, ind.get("score"), fmt=b.FMT_SCORE)
        c = first_tail
        s.put(row, c, r.errors, fmt=b.FMT_COUNT, fill=TONE_FILL["error"] if r.errors else None)
        s.put(row, c + 1, r.warnings, fmt=b.FMT_COUNT,
              fill=TONE_FILL["warning"] if r.warnings else None)
        for j, (_, attr) in enumerate(links, start=2):
            name = getattr(r, attr)
            if name:
                s.link(row, c + j, name, name)
            else:
                s.put(row, c + j, "")
        # Blank indicator cells still get the grid.
        for k in range(len(cols)):
            for cc in (first_ind + 2 * k, first_ind + 2 * k + 1):
                if ws.cell(row, cc).style != "绩效_固定":
                    ws.cell(row, cc).style = "绩效_固定"

    last_col = first_tail + len(tail) - 1
    widths = {1: 6, 2: _fit([LEAD_HEADERS[1]] + [r.file for r in records], 10, 36),
              3: _fit([LEAD_HEADERS[2]] + [r.unit for r in records], 10, 30), 4: 7, 5: 10,
              6: 8, 7: 7, 8: 7}
    for k in range(len(cols)):
        widths[first_ind + 2 * k] = 10
        widths[first_ind + 2 * k + 1] = 8
    widths.update({first_tail: 8, first_tail + 1: 8})
    for j, (h, attr) in enumerate(links, start=2):
        widths[first_tail + j] = _fit([h] + [getattr(r, attr) for r in records], 10, 40)
    _widths(ws, widths)
    ws.row_dimensions[1].height = 32
    if records:
        ws.auto_filter.ref = f"A2:{get_column_letter(last_col)}{len(records) + 2}"
    _fit_rows(ws, 3, [2, 3])
    # Too wide for one page: print a few pages wide (about 70 % scale), with 序号/文件/单位
    # repeated on each.
    total_width = sum(widths.values())
    _page(ws, header_rows=2, freeze="D3", title_cols="A:C",
          pages_wide=max(1, math.ceil(total_width / PRINT_UNITS_PER_PAGE)))


def _sheet_grades(wb, records: list[WorkbookRecord]) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.label import DataLabelList

    b = _builder()
    ws = wb.create_sheet(SHEET_GRADES)
    s = _Sheet(ws)
    for c, h in enumerate(("等级", "单位数", "占比"), start=1):
        s.header(1, c, h)
    counts = Counter(r.grade or NO_GRADE for r in records)
    labels = grade_order(records) + ([NO_GRADE] if counts.get(NO_GRADE) else [])
    n = len(records)
    for i, g in enumerate(labels, start=2):
        s.put(i, 1, g)
        s.put(i, 2, counts.get(g, 0), fmt=b.FMT_COUNT)
        s.put(i, 3, counts.get(g, 0) / n if n else 0, fmt="0.0%")
    total_row = len(labels) + 2
    s.put(total_row, 1, "合计", b.S_COMPUTED)
    s.put(total_row, 2, n, b.S_COMPUTED, fmt=b.FMT_COUNT)
    s.put(total_row, 3, 1 if n else 0, b.S_COMPUTED, fmt="0.0%")
    _widths(ws, {1: 12, 2: 10, 3: 10})
    if labels:
        chart = BarChart()
        chart.type = "col"
        chart.title = "等级分布"
        chart.y_axis.title = "单位数"
        chart.x_axis.title = "等级"
        chart.legend = None
        chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=len(labels) + 1),
                       titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(labels) + 1))
        # Only the count on each bar (LibreOffice otherwise adds series and category).
        chart.dataLabels = DataLabelList(showVal=True, showSerName=False, showCatName=False,
                                         showLegendKey=False, showPercent=False)
        # openpyxl ≥3.1 hides axes unless told otherwise (delete=True by default).
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.y_axis.majorGridlines = None
        chart.width, chart.height = 16, 9
        ws.add_chart(chart, "E2")
    _page(ws, header_rows=1, freeze="A2")


def _stats(values: list[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    return fmean(values), min(values), max(values)


def _sheet_stats(wb, records: list[WorkbookRecord], cols: list[Column]) -> None:
    b = _builder()
    ws = wb.create_sheet(SHEET_STATS)
    s = _Sheet(ws)
    lead = ["序号", "一级指标", "二级指标", "指标", "代码", "分值", "单位数"]
    for c, h in enumerate(lead, start=1):
        s.header(1, c, h, last_row=2)
    for title, c0 in (("得分", 8), ("实际值", 11)):
        s.header(1, c0, title, last_col=c0 + 2)
        for j, h in enumerate(("平均", "最低", "最高")):
            s.header(2, c0 + j, h)
    by_code: dict[str, list[dict]] = {}
    for r in records:
        for ind in r.indicators:
            by_code.setdefault(ind["code"], []).append(ind)
    for i, col in enumerate(cols, start=1):
        row = i + 2
        inds = by_code.get(col.code, [])
        scores = [ind["score"] for ind in inds if isinstance(ind.get("score"), (int, float))]
        values = [ind["value"] for ind in inds
                  if isinstance(ind.get("value"), (int, float))
                  and not isinstance(ind.get("value"), bool)]
        weights = Counter(ind.get("weight") for ind in inds if ind.get("weight") is not None)
        units = Counter(ind.get("unit") for ind in inds if ind.get("unit"))
        unit = units.most_common(1)[0][0] if units else None
        s.put(row, 1, i, b.S_COMPUTED)
        s.put(row, 2, col.level1)
        s.put(row, 3, col.level2)
        s.put(row, 4, col.name if len(col.names) == 1 else f"{col.name}等")
        s.put(row, 5, col.code).font = _grey_font()
        s.put(row, 6, weights.most_common(1)[0][0] if weights else None, fmt=b.FMT_SCORE)
        s.put(row, 7, len(scores), fmt=b.FMT_COUNT)
        for j, v in enumerate(_stats(scores)):
            s.put(row, 8 + j, v, fmt=b.FMT_SCORE)
        # 实际值 only when every unit measures it the same way (percent with percent).
        same_unit = len(units) <= 1
        for j, v in enumerate(_stats(values) if same_unit else (None, None, None)):
            s.put(row, 11 + j, v, fmt=_value_format(unit))
    _widths(ws, {1: 6, 2: 8, 3: _fit(["二级指标"] + [c.level2 for c in cols], 10, 24),
                 4: _fit(["指标"] + [c.name for c in cols], 12, 30),
                 5: _fit([c.code for c in cols], 12, 30), 6: 7, 7: 8,
                 **{c: 9 for c in range(8, 14)}})
    _fit_rows(ws, 3, [2, 3, 4])
    _page(ws, header_rows=2, freeze="E3")


def _grey_font():
    from openpyxl.styles import Font

    b = _builder()
    return Font(name=b.FONT, sz=9, color=b.GREY)


def _sheet_problems(wb, records: list[WorkbookRecord]) -> None:
    from perfeval_xl.workbook.writer import SEVERITY_LABEL, TONE_FILL

    b = _builder()
    ws = wb.create_sheet(SHEET_PROBLEMS)
    s = _Sheet(ws)
    heads = ["序号", "文件", "单位", "位置", "问题代码", "严重程度", "说明"]
    for c, h in enumerate(heads, start=1):
        s.header(1, c, h)
    row = 1
    for r in records:
        ordered = sorted(r.problems, key=lambda p: SEVERITY_ORDER.get(p.get("severity"), 9))
        for p in ordered:
            row += 1
            sev = p.get("severity", "")
            s.put(row, 1, row - 1, b.S_COMPUTED)
            s.put(row, 2, r.file)
            s.put(row, 3, r.unit)
            loc = p.get("location") or ""
            if loc and "!" in loc and r.scored:
                s.link(row, 4, loc, r.scored, location=loc)
            else:
                s.put(row, 4, loc)
            s.put(row, 5, p.get("code", ""))
            s.put(row, 6, SEVERITY_LABEL.get(sev, sev), fill=TONE_FILL.get(sev))
            s.put(row, 7, p.get("message", ""), b.S_COMPUTED_TEXT)
    _widths(ws, {1: 6, 2: _fit(["文件"] + [r.file for r in records], 10, 30),
                 3: _fit(["单位"] + [r.unit for r in records], 10, 24), 4: 16, 5: 22, 6: 9,
                 7: 70})
    _fit_rows(ws, 2, [2, 3, 7])
    if row > 1:
        ws.auto_filter.ref = f"A1:G{row}"
    _page(ws, header_rows=1, freeze="A2")


def _sheet_failures(wb, failures: list[Failure], in_dir: Path | None, out_dir: Path) -> None:
    b = _builder()
    ws = wb.create_sheet(SHEET_FAILURES)
    s = _Sheet(ws)
    for c, h in enumerate(("序号", "文件", "原因"), start=1):
        s.header(1, c, h)
    for i, f in enumerate(failures, start=1):
        s.put(i + 1, 1, i, b.S_COMPUTED)
        if in_dir is not None:
            s.link(i + 1, 2, f.file, os.path.relpath(in_dir / f.file, out_dir))
        else:
            s.put(i + 1, 2, f.file)
        s.put(i + 1, 3, f.reason, b.S_COMPUTED_TEXT)
    _widths(ws, {1: 6, 2: _fit(["文件"] + [f.file for f in failures], 12, 40), 3: 90})
    _fit_rows(ws, 2, [2, 3])
    _page(ws, header_rows=1, freeze="A2")


# --------------------------------------------------------------------------- public API


def summary_bytes(records: list[WorkbookRecord], failures: list[Failure], *,
                  out_dir: Path, in_dir: Path | None = None) -> bytes:
    """The 汇总表.xlsx bytes. ``records`` in input order with ``rank`` set (see rank());
    links are relative to ``out_dir``, where the file is meant to live."""
    wb = _new_workbook()
    cols = indicator_columns(records)
    _sheet_rows(wb, records, cols)
    _sheet_grades(wb, records)
    _sheet_stats(wb, records, cols)
    _sheet_problems(wb, records)
    _sheet_failures(wb, failures, in_dir, out_dir)
    wb.active = 0
    wb.properties.title = "部门整体支出绩效自评汇总表"
    wb.properties.creator = _builder().CREATOR
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_summary(path: Path, records: list[WorkbookRecord], failures: list[Failure], *,
                  in_dir: Path | None = None) -> Path:
    """Write 汇总表.xlsx atomically to ``path``.

    Raises:
        files.OutputError: it cannot be written (open in Excel, no permission).
    """
    from perfeval_xl.files import atomic_write

    path = Path(path)
    return atomic_write(path, summary_bytes(records, failures, out_dir=path.parent,
                                            in_dir=in_dir))
