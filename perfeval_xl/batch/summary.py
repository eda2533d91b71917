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
- 一级指标小计: per workbook, 得分 and 失分 of each 一级指标 (where each unit loses points);
- 问题透视: problem code × workbook counts of errors and warnings, codes by frequency;
- 指标分布: per indicator the quartiles of 得分 and the units below the 25th percentile;
- 问题清单: every problem, with a link to its cell in the scored workbook;
- 失败清单: files that could not be processed, with the Chinese reason;
- PDF未生成 (only when some PDF is missing): the report whose PDF failed, and why;
- 未处理文件 (only when there are such files): FIFOs, device files, broken links,
  .xls/.et/.ods … named with the reason.

The numbers come from pandas DataFrames built once per run from the records (``Frames``);
pandas is imported here only, inside functions: a worker never loads it. openpyxl does the
styling, links and text-safety.

Text that came from a workbook (unit names, tiers, messages, file names) is always written
as text (``data_type = "s"``), never as a formula, so ``=HYPERLINK(...)`` stays inert.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

SHEET_ROWS, SHEET_GRADES, SHEET_STATS, SHEET_PROBLEMS, SHEET_FAILURES = (
    "汇总", "等级分布", "指标统计", "问题清单", "失败清单")
SHEET_LEVEL1, SHEET_PIVOT, SHEET_SPREAD, SHEET_PDF, SHEET_IGNORED = (
    "一级指标小计", "问题透视", "指标分布", "PDF未生成", "未处理文件")
PIVOT_SEVERITIES = ("error", "warning")   # checks that failed; info is not a failure
MAX_NAMES_SHOWN = 200                      # units named in one 指标分布 cell
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
    import pandas as pd

    totals = pd.Series([r.total for r in records], dtype="float64")
    ranks = totals.rank(method="min", ascending=False)
    for r, k in zip(records, ranks, strict=True):
        r.rank = None if pd.isna(k) else int(k)


# --------------------------------------------------------------------------- frames


def _unit_label(r: WorkbookRecord) -> str:
    return r.unit or Path(r.file).stem


@dataclass
class Frames:
    """The run's numbers as DataFrames, built once from the records.

    ``units``: one row per record (pos = index in ``records``): file, unit, label, total,
    grade. ``inds``: one row per (record, indicator): pos, code, level1, weight, score,
    num (numeric 实际值 or NaN), measure (its unit, "%"…). ``probs``: one row per problem:
    pos, code, severity.
    """

    units: Any
    inds: Any
    probs: Any

    @classmethod
    def build(cls, records: Sequence[WorkbookRecord]) -> Frames:
        import pandas as pd

        units = pd.DataFrame({
            "pos": range(len(records)), "file": [r.file for r in records],
            "unit": [r.unit for r in records], "label": [_unit_label(r) for r in records],
            "total": pd.Series([r.total for r in records], dtype="float64"),
            "grade": [r.grade or NO_GRADE for r in records]})
        rows = []
        for pos, r in enumerate(records):
            for ind in r.indicators:
                v = ind.get("value")
                num = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) \
                    else math.nan
                score = ind.get("score")
                rows.append((pos, ind["code"], ind.get("level1") or "", ind.get("weight"),
                             score if isinstance(score, (int, float)) else math.nan, num,
                             ind.get("unit") or ""))
        inds = pd.DataFrame(rows, columns=["pos", "code", "level1", "weight", "score", "num",
                                           "measure"])
        # Numeric even when no record has an indicator (an empty frame is all object).
        for col in ("weight", "score", "num"):
            inds[col] = pd.to_numeric(inds[col], errors="coerce")
        probs = pd.DataFrame([(pos, p.get("code", ""), p.get("severity", ""))
                              for pos, r in enumerate(records) for p in r.problems],
                             columns=["pos", "code", "severity"])
        return cls(units, inds, probs)

    def level1_order(self, cols: list[Column]) -> list[str]:
        """一级指标 in the order the indicator columns first show them."""
        return list(dict.fromkeys(c.level1 for c in cols if c.level1))

    def level1_subtotals(self):
        """Per (pos, level1): 分值 (weight sum), 得分 (score sum; NaN when no indicator of it
        has a score) and 失分 = 分值 − 得分."""
        g = self.inds.groupby(["pos", "level1"], sort=False)
        out = g.agg(weight=("weight", "sum"), score=("score", lambda x: x.sum(min_count=1)))
        out["lost"] = out["weight"] - out["score"]
        # Sums of two-decimal scores: drop the float noise (3.240000000000002).
        return out.round(6)

    def pivot(self):
        """Problem counts (errors and warnings) per record × code; codes by total count,
        most frequent first (ties by code); records with none left out."""
        import pandas as pd

        p = self.probs[self.probs["severity"].isin(PIVOT_SEVERITIES)]
        if p.empty:
            return pd.DataFrame()
        table = pd.crosstab(p["pos"], p["code"])
        totals = table.sum()
        order = sorted(table.columns, key=lambda c: (-int(totals[c]), c))
        return table[order]

    def spread(self):
        """Per code: count, mean, min, P25, median, P75, max of 得分 (linear interpolation,
        as Excel's QUARTILE.INC)."""
        g = self.inds.dropna(subset=["score"]).groupby("code")["score"]
        out = g.agg(["count", "mean", "min", "max"])
        # No score anywhere gives no quantile columns at all: keep them, empty.
        q = g.quantile([0.25, 0.5, 0.75]).unstack().reindex(columns=[0.25, 0.5, 0.75])
        out["p25"], out["median"], out["p75"] = q[0.25], q[0.5], q[0.75]
        return out


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


def _num(x) -> float | None:
    """A DataFrame number as a cell value: NaN/None → blank."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _sheet_grades(wb, records: list[WorkbookRecord], frames: Frames) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.label import DataLabelList

    b = _builder()
    ws = wb.create_sheet(SHEET_GRADES)
    s = _Sheet(ws)
    for c, h in enumerate(("等级", "单位数", "占比"), start=1):
        s.header(1, c, h)
    counts = frames.units["grade"].value_counts()
    labels = grade_order(records) + ([NO_GRADE] if counts.get(NO_GRADE) else [])
    n = len(records)
    for i, g in enumerate(labels, start=2):
        s.put(i, 1, g)
        k = int(counts.get(g, 0))
        s.put(i, 2, k, fmt=b.FMT_COUNT)
        s.put(i, 3, k / n if n else 0, fmt="0.0%")
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


def _sheet_stats(wb, frames: Frames, cols: list[Column]) -> None:
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
    inds = frames.inds
    by_code = inds.groupby("code")
    scores = by_code["score"].agg(["count", "mean", "min", "max"])
    values = by_code["num"].agg(["mean", "min", "max"])
    measured = inds[inds["measure"] != ""].groupby("code")["measure"]
    units = measured.agg(lambda x: x.mode().iloc[0])
    n_units = measured.nunique()
    weights = by_code["weight"].agg(lambda x: x.mode().iloc[0] if x.notna().any() else None)
    for i, col in enumerate(cols, start=1):
        row = i + 2
        unit = units.get(col.code)
        s.put(row, 1, i, b.S_COMPUTED)
        s.put(row, 2, col.level1)
        s.put(row, 3, col.level2)
        s.put(row, 4, col.name if len(col.names) == 1 else f"{col.name}等")
        s.put(row, 5, col.code).font = _grey_font()
        s.put(row, 6, _num(weights.get(col.code)), fmt=b.FMT_SCORE)
        st = scores.loc[col.code] if col.code in scores.index else None
        s.put(row, 7, int(st["count"]) if st is not None else 0, fmt=b.FMT_COUNT)
        for j, k in enumerate(("mean", "min", "max")):
            s.put(row, 8 + j, _num(st[k]) if st is not None else None, fmt=b.FMT_SCORE)
        # 实际值 only when every unit measures it the same way (percent with percent).
        if int(n_units.get(col.code, 0)) <= 1 and col.code in values.index:
            for j, k in enumerate(("mean", "min", "max")):
                s.put(row, 11 + j, _num(values.loc[col.code, k]), fmt=_value_format(unit))
    _widths(ws, {1: 6, 2: 8, 3: _fit(["二级指标"] + [c.level2 for c in cols], 10, 24),
                 4: _fit(["指标"] + [c.name for c in cols], 12, 30),
                 5: _fit([c.code for c in cols], 12, 30), 6: 7, 7: 8,
                 **{c: 9 for c in range(8, 14)}})
    _fit_rows(ws, 3, [2, 3, 4])
    _page(ws, header_rows=2, freeze="E3")


def _sheet_level1(wb, records: list[WorkbookRecord], frames: Frames,
                  cols: list[Column]) -> None:
    """Per workbook, 得分 and 失分 of each 一级指标, the one it loses most on, and the mean
    of every column in the last row."""
    b = _builder()
    ws = wb.create_sheet(SHEET_LEVEL1)
    s = _Sheet(ws)
    levels = frames.level1_order(cols)
    lead = ["序号", "文件", "单位", "总分"]
    for c, h in enumerate(lead, start=1):
        s.header(1, c, h, last_row=2)
    c0 = len(lead) + 1
    for k, level in enumerate(levels):
        s.header(1, c0 + 2 * k, level, last_col=c0 + 2 * k + 1)
        s.header(2, c0 + 2 * k, "得分")
        s.header(2, c0 + 2 * k + 1, "失分")
    worst_col = c0 + 2 * len(levels)
    s.header(1, worst_col, "失分最多的一级指标", last_row=2)
    sub = frames.level1_subtotals()
    score = sub["score"].unstack("level1")
    lost = sub["lost"].unstack("level1")
    for i, r in enumerate(records):
        row = i + 3
        s.put(row, 1, i + 1, b.S_COMPUTED)
        s.put(row, 2, r.file)
        s.put(row, 3, r.unit)
        s.put(row, 4, r.total, fmt=b.FMT_SCORE)
        worst, most = "", 0.0
        for k, level in enumerate(levels):
            sc = _num(score.at[i, level]) if i in score.index and level in score else None
            ls = _num(lost.at[i, level]) if i in lost.index and level in lost else None
            s.put(row, c0 + 2 * k, sc, fmt=b.FMT_SCORE)
            s.put(row, c0 + 2 * k + 1, ls, fmt=b.FMT_SCORE)
            if ls is not None and ls > most + 1e-9:  # ties: the first 一级指标
                worst, most = level, ls
        s.put(row, worst_col, worst)
    if records:
        row = len(records) + 3
        s.put(row, 3, "平均", b.S_COMPUTED)
        s.put(row, 4, _num(frames.units["total"].mean()), b.S_COMPUTED, fmt=b.FMT_SCORE)
        for k, level in enumerate(levels):
            for j, table in enumerate((score, lost)):
                mean = table[level].mean() if level in table else None
                s.put(row, c0 + 2 * k + j, _num(mean), b.S_COMPUTED, fmt=b.FMT_SCORE)
    _widths(ws, {1: 6, 2: _fit(["文件"] + [r.file for r in records], 10, 30),
                 3: _fit(["单位"] + [r.unit for r in records], 10, 24), 4: 8,
                 **{c0 + j: 8 for j in range(2 * len(levels))}, worst_col: 12})
    ws.row_dimensions[1].height = 32
    _fit_rows(ws, 3, [2, 3])
    _page(ws, header_rows=2, freeze="E3")


def _sheet_pivot(wb, records: list[WorkbookRecord], frames: Frames) -> None:
    """Problem code × workbook: how often each check fails (errors and warnings), and
    where. Codes are columns, most frequent first; the first rows total them."""
    b = _builder()
    ws = wb.create_sheet(SHEET_PIVOT)
    s = _Sheet(ws)
    table = frames.pivot()
    codes = list(table.columns)
    lead = ["序号", "文件", "单位"]
    for c, h in enumerate(lead + codes + ["合计"], start=1):
        s.header(1, c, h)
    c0, last = len(lead) + 1, len(lead) + len(codes) + 1
    s.put(2, 3, "问题次数合计", b.S_COMPUTED)
    s.put(3, 3, "涉及单位数", b.S_COMPUTED)
    for j, code in enumerate(codes):
        s.put(2, c0 + j, int(table[code].sum()), b.S_COMPUTED, fmt=b.FMT_COUNT)
        s.put(3, c0 + j, int((table[code] > 0).sum()), b.S_COMPUTED, fmt=b.FMT_COUNT)
    s.put(2, last, int(table.to_numpy().sum()) if codes else 0, b.S_COMPUTED, fmt=b.FMT_COUNT)
    s.put(3, last, len(table.index), b.S_COMPUTED, fmt=b.FMT_COUNT)
    for i, pos in enumerate(table.index):
        row, r = i + 4, records[pos]
        s.put(row, 1, i + 1, b.S_COMPUTED)
        s.put(row, 2, r.file)
        s.put(row, 3, r.unit)
        for j, code in enumerate(codes):
            k = int(table.at[pos, code])
            s.put(row, c0 + j, k or None, fmt=b.FMT_COUNT)
        s.put(row, last, int(table.loc[pos].sum()), b.S_COMPUTED, fmt=b.FMT_COUNT)
    _widths(ws, {1: 6, 2: _fit(["文件"] + [r.file for r in records], 10, 30),
                 3: _fit(["问题次数合计"] + [r.unit for r in records], 12, 24),
                 **{c0 + j: _fit([code], 6, 24) for j, code in enumerate(codes)}, last: 7})
    if len(table.index):
        from openpyxl.utils import get_column_letter

        ws.auto_filter.ref = f"A3:{get_column_letter(last)}{len(table.index) + 3}"
    _fit_rows(ws, 4, [2, 3])
    _page(ws, header_rows=3, freeze="D4")


def below_p25(frames: Frames, code: str, p25: float) -> list[int]:
    """Positions of the records whose 得分 on ``code`` is below ``p25``, lowest first."""
    rows = frames.inds[(frames.inds["code"] == code) & (frames.inds["score"] < p25)]
    return list(rows.sort_values(["score", "pos"], kind="stable")["pos"])


def _sheet_spread(wb, records: list[WorkbookRecord], frames: Frames,
                  cols: list[Column]) -> None:
    """Each indicator's 得分 across units: quartiles, and the units below the 25th
    percentile named (lowest first)."""
    b = _builder()
    ws = wb.create_sheet(SHEET_SPREAD)
    s = _Sheet(ws)
    heads = ["序号", "一级指标", "指标", "代码", "单位数", "平均", "最低", "25%分位",
             "中位数", "75%分位", "最高", "低于25%分位的单位数", "低于25%分位的单位（得分由低到高）"]
    for c, h in enumerate(heads, start=1):
        s.header(1, c, h)
    spread = frames.spread()
    for i, col in enumerate(cols, start=1):
        row = i + 1
        s.put(row, 1, i, b.S_COMPUTED)
        s.put(row, 2, col.level1)
        s.put(row, 3, col.name if len(col.names) == 1 else f"{col.name}等")
        s.put(row, 4, col.code).font = _grey_font()
        if col.code not in spread.index:
            s.put(row, 5, 0, fmt=b.FMT_COUNT)
            continue
        st = spread.loc[col.code]
        s.put(row, 5, int(st["count"]), fmt=b.FMT_COUNT)
        for j, k in enumerate(("mean", "min", "p25", "median", "p75", "max")):
            s.put(row, 6 + j, _num(st[k]), fmt=b.FMT_SCORE)
        low = below_p25(frames, col.code, float(st["p25"]))
        s.put(row, 12, len(low), fmt=b.FMT_COUNT)
        names = [_unit_label(records[pos]) for pos in low[:MAX_NAMES_SHOWN]]
        more = f"……等 {len(low)} 个" if len(low) > MAX_NAMES_SHOWN else ""
        s.put(row, 13, "、".join(names) + more, b.S_COMPUTED_TEXT)
    _widths(ws, {1: 6, 2: 8, 3: _fit(["指标"] + [c.name for c in cols], 12, 30),
                 4: _fit([c.code for c in cols], 12, 30), 5: 7,
                 **{c: 8 for c in range(6, 12)}, 12: 10, 13: 60})
    ws.row_dimensions[1].height = 32
    _fit_rows(ws, 2, [3, 13])
    _page(ws, header_rows=1, freeze="E2")


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


def _sheet_list(wb, title: str, items: Sequence[Failure], *,
                link_from: tuple[Path, Path] | None = None) -> None:
    """A numbered list of files with the reason (失败文件, 未处理文件, PDF未生成). Only the
    failed workbooks are linked (``link_from`` = (input folder, output folder)): a FIFO or
    device file must not be one click away."""
    b = _builder()
    ws = wb.create_sheet(title)
    s = _Sheet(ws)
    for c, h in enumerate(("序号", "文件", "原因"), start=1):
        s.header(1, c, h)
    for i, f in enumerate(items, start=1):
        s.put(i + 1, 1, i, b.S_COMPUTED)
        if link_from is not None:
            in_dir, out_dir = link_from
            s.link(i + 1, 2, f.file, os.path.relpath(in_dir / f.file, out_dir))
        else:
            s.put(i + 1, 2, f.file)
        s.put(i + 1, 3, f.reason, b.S_COMPUTED_TEXT)
    _widths(ws, {1: 6, 2: _fit(["文件"] + [f.file for f in items], 12, 40), 3: 90})
    _fit_rows(ws, 2, [2, 3])
    _page(ws, header_rows=1, freeze="A2")


# --------------------------------------------------------------------------- public API


def summary_bytes(records: list[WorkbookRecord], failures: list[Failure], *,
                  out_dir: Path, in_dir: Path | None = None,
                  pdf_failures: Sequence[Failure] = (), ignored: Sequence[Failure] = (),
                  status: Callable[[str], None] | None = None) -> bytes:
    """The 汇总表.xlsx bytes. ``records`` in input order with ``rank`` set (see rank());
    links are relative to ``out_dir``, where the file is meant to live. ``status`` is told
    (in Chinese) which sheet is being made: at 3,000 workbooks this takes a while."""
    def step(sheet: str) -> None:
        if status is not None:
            status(f"汇总表：正在生成“{sheet}”……")

    wb = _new_workbook()
    frames = Frames.build(records)
    cols = indicator_columns(records)
    step(SHEET_ROWS)
    _sheet_rows(wb, records, cols)
    step(SHEET_GRADES)
    _sheet_grades(wb, records, frames)
    step(SHEET_STATS)
    _sheet_stats(wb, frames, cols)
    step(SHEET_LEVEL1)
    _sheet_level1(wb, records, frames, cols)
    step(SHEET_PIVOT)
    _sheet_pivot(wb, records, frames)
    step(SHEET_SPREAD)
    _sheet_spread(wb, records, frames, cols)
    step(SHEET_PROBLEMS)
    _sheet_problems(wb, records)
    _sheet_list(wb, SHEET_FAILURES, failures,
                link_from=None if in_dir is None else (in_dir, out_dir))
    if pdf_failures:
        _sheet_list(wb, SHEET_PDF, pdf_failures)
    if ignored:
        _sheet_list(wb, SHEET_IGNORED, ignored)
    wb.active = 0
    wb.properties.title = "部门整体支出绩效自评汇总表"
    wb.properties.creator = _builder().CREATOR
    if status is not None:
        status("汇总表：正在保存……")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_summary(path: Path, records: list[WorkbookRecord], failures: list[Failure], *,
                  in_dir: Path | None = None, pdf_failures: Sequence[Failure] = (),
                  ignored: Sequence[Failure] = (),
                  status: Callable[[str], None] | None = None) -> Path:
    """Write 汇总表.xlsx atomically to ``path``.

    Raises:
        files.OutputError: it cannot be written (open in Excel, no permission).
    """
    from perfeval_xl.files import atomic_write

    path = Path(path)
    return atomic_write(path, summary_bytes(records, failures, out_dir=path.parent,
                                            in_dir=in_dir, pdf_failures=pdf_failures,
                                            ignored=ignored, status=status))
