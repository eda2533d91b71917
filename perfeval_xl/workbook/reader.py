"""Reads one of our workbooks into an ``Evaluation``: inputs by defined name, narrative texts,
tables by header text. Every value keeps its ``sheet!cell``; every oddity becomes a Problem.

Reading policy (docs/workbook.md):
- numbers typed as text (``1,234.5``, ``98%``, ``388.46万元``, full-width digits) are
  understood, with a ``text-number`` warning at the cell; ``元`` without ``万`` is an error,
  because a figure in 元 read as 万元 would be 10,000 times too large;
- error values (``#DIV/0!``) are ``excel-error`` problems at their cell;
- a formula without a cached value is evaluated by ``formula.py``; one it cannot evaluate is
  a ``formula-unevaluated`` problem at its cell, never a silent blank;
- a percent input holding a fraction under a real ``%`` number format (0.98 shown as 98%)
  is scaled to percent units (98).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import re
import unicodedata
from decimal import Decimal
from typing import Any

from openpyxl.utils.cell import get_column_letter, range_boundaries

from perfeval_xl import catalogue
from perfeval_xl.display import clip, invisible_chars, strip_invisible
from perfeval_xl.model import Cell, Evaluation, Location, Problem, Row, ScoreRow
from perfeval_xl.workbook import layout
from perfeval_xl.workbook.formula import (
    ERROR_CODES,
    ExcelError,
    UnsupportedFormula,
    evaluate,
    referenced_cells,
)
from perfeval_xl.workbook.source import CellSource


class NotOurWorkbook(Exception):
    """The file is a workbook but not a self-evaluation workbook of ours."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Unevaluated:
    """Marker value: a formula that has no cached value and that we cannot evaluate."""

    def __init__(self, formula: str, message: str):
        self.formula, self.message = formula, message


_REF = re.compile(
    r"^(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)$")


def parse_ref(text: str) -> tuple[str, str] | None:
    """"'预算执行'!$C$5" -> ("预算执行", "C5"); None for #REF!, several areas or junk."""
    m = _REF.match((text or "").strip())
    if not m:
        return None
    sheet = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
    return sheet, m.group(3).replace("$", "").upper()


# --------------------------------------------------------------------------- openpyxl source


class FormulaCells:
    """What a file source gives the formula evaluator: cell values with errors and
    unevaluated formulas as the evaluator expects them, and each sheet's real data extent.
    Subclasses provide ``value`` and ``data_extent``."""

    def _get_for_formula(self, sheet: str, coord: str) -> Any:
        v = self.value(sheet, coord)
        if isinstance(v, Unevaluated):
            raise UnsupportedFormula(v.message, v.formula)
        if isinstance(v, str) and v in ERROR_CODES:
            return ExcelError(v)
        return v

    def _extent(self, sheet: str) -> tuple[int, int]:
        # Whole-column references (E:E) end at the real data, not at the formatted range.
        rows, cols = self.data_extent(sheet)
        return max(rows, 1), max(cols, 1)


class OpenpyxlSource(FormulaCells):
    """CellSource over an openpyxl workbook loaded with formulas (``data_only=False``).

    Formula cells are evaluated by formula.py; only when that fails is the file opened a
    second time for Excel's cached values, so the common case costs one load.
    """

    def __init__(self, wb, path: str = ""):
        self.wb = wb
        self.path = str(path)
        self._values: dict[tuple[str, str], Any] = {}
        self._busy: set[tuple[str, str]] = set()
        self._cached_wb = None
        self._names: dict[str, str] | None = None
        self._sheets = {ws.title: ws for ws in wb.worksheets}
        self._data_extent: dict[str, tuple[int, int]] = {}

    def defined_names(self) -> dict[str, str]:
        if self._names is None:
            self._names = {n: dn.attr_text or "" for n, dn in self.wb.defined_names.items()}
        return self._names

    def sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def _cell(self, sheet: str, coord: str):
        ws = self._sheets.get(sheet)
        return None if ws is None else ws[coord]

    def formula(self, sheet: str, coord: str) -> str | None:
        return self._formula_of(self._cell(sheet, coord))

    @staticmethod
    def _formula_of(c) -> str | None:
        if c is None or c.data_type != "f":
            return None
        v = c.value
        return v if isinstance(v, str) else getattr(v, "text", None)

    def number_format(self, sheet: str, coord: str) -> str:
        c = self._cell(sheet, coord)
        return "General" if c is None else (c.number_format or "General")

    def max_row(self, sheet: str) -> int:
        return self.wb[sheet].max_row if sheet in self.wb.sheetnames else 0

    def data_extent(self, sheet: str) -> tuple[int, int]:
        """(last row, last column) holding a value or formula; (0, 0) for an empty sheet.

        ``max_row``/``max_column`` also count cells that are only formatted, and a county
        that formats whole columns gets a used range down to row 1,048,576: scans stop at
        the real data instead. One pass over the stored cells, cached per sheet.
        """
        if sheet not in self._data_extent:
            ws = self._sheets.get(sheet)
            rows = cols = 0
            # openpyxl keeps a sheet's cells in ``_cells`` ({(row, col): cell}); walking it
            # costs the cells that exist, never the empty grid up to max_row.
            for (r, c), cell in (ws._cells.items() if ws is not None else ()):
                if cell.value is not None and cell.value != "":
                    rows, cols = max(rows, r), max(cols, c)
            self._data_extent[sheet] = (rows, cols)
        return self._data_extent[sheet]

    def value(self, sheet: str, coord: str) -> Any:
        key = (sheet, coord)
        if key in self._values:
            return self._values[key]
        c = self._cell(sheet, coord)
        if c is None:
            return ExcelError("#REF!")
        f = self._formula_of(c)
        v = self._evaluate(sheet, coord, f) if f is not None else c.value
        self._values[key] = v
        return v

    def _evaluate(self, sheet: str, coord: str, f: str) -> Any:
        key = (sheet, coord)
        if key in self._busy:
            raise UnsupportedFormula("公式存在循环引用，无法计算；请检查公式。", f)
        self._busy.add(key)
        try:
            return evaluate(
                f, sheet, self._get_for_formula, resolve_name=self.defined_names().get,
                sheet_extent=self._extent)
        except UnsupportedFormula as exc:
            cached = self._cached(sheet, coord)
            return cached if cached is not None else Unevaluated(f, exc.message)
        finally:
            self._busy.discard(key)

    def _cached(self, sheet: str, coord: str) -> Any:
        """Excel's cached result of a formula, read lazily (a second load) and only once."""
        if not self.path or not self.path.lower().endswith((".xlsx", ".xlsm")):
            return None  # a converted .xls/.et/.ods: no cached values to fall back on
        if self._cached_wb is None:
            self._cached_wb = load_workbook_bounded(self.path, data_only=True)
        wb = self._cached_wb
        return wb[sheet][coord].value if sheet in wb.sheetnames else None


# --------------------------------------------------------------------------- loading

# Sheets formatted down to row 1,048,576 (whole rows selected and filled, a used range never
# reset) hold a million cell-less <row> elements; openpyxl builds an object per row and needs
# minutes for them. Trailing rows after the last cell with content carry only formatting, so
# they are skipped when there are more of them than any table needs.
TRIM_MIN_ROWS = 10_000
_TRIM_MIN_PART = 1024 * 1024  # smaller sheet parts cannot hold that many rows
_CONTENT = (b"<v>", b"<v ", b"<f>", b"<f ", b"<is>")


def _trim_trailing_rows(xml: bytes) -> tuple[bytes, int, int] | None:
    """Drop the <row> elements after the last one holding a value, formula or inline text.

    Returns (new xml, first dropped row number, rows dropped), or None when fewer than
    TRIM_MIN_ROWS would go (or the part is not plain SpreadsheetML we can cut safely).
    """
    start, end = xml.find(b"<sheetData"), xml.rfind(b"</sheetData>")
    if start < 0 or end < 0:
        return None
    start = xml.find(b">", start) + 1
    last = max(xml.rfind(marker, start, end) for marker in _CONTENT)
    cut = start if last < 0 else xml.find(b"</row>", last, end)
    if cut < 0:
        return None
    cut = cut if last < 0 else cut + len(b"</row>")
    dropped = xml.count(b"<row", cut, end)
    if dropped < TRIM_MIN_ROWS:
        return None
    m = re.search(rb'<row\b[^>]*?\br="(\d+)"', xml[cut : cut + 4096])
    first = int(m.group(1)) if m else 0
    return xml[:cut] + xml[end:], first, dropped


def _sheet_titles(zf) -> dict[str, str]:
    """Worksheet part name -> sheet title, from xl/workbook.xml and its relationships."""
    try:
        book = zf.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}
    targets = {}
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        rid, target = re.search(r'Id="([^"]+)"', rel), re.search(r'Target="([^"]+)"', rel)
        if rid and target:
            t = target.group(1)
            targets[rid.group(1)] = t.lstrip("/") if t.startswith("/") else "xl/" + t
    out = {}
    for sheet in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", book):
        name, rid = re.search(r'\bname="([^"]*)"', sheet), re.search(r'\bid="([^"]+)"', sheet)
        if name and rid and rid.group(1) in targets:
            title = name.group(1).replace("&amp;", "&").replace("&lt;", "<").replace(
                "&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            out[targets[rid.group(1)]] = title
    return out


def load_workbook_bounded(path, *, keep_vba: bool = False, data_only: bool = False):
    """openpyxl's ``load_workbook`` with trailing format-only rows skipped (see above).

    The skipped rows are recorded on the workbook as ``perfeval_trimmed``
    ({sheet title: (first row, count)}) so the reader can say so. The file on disk is
    never touched; only the copy handed to openpyxl is cut.
    """
    import io
    import zipfile

    trimmed: dict[str, tuple[int, int]] = {}
    source: Any = path
    with zipfile.ZipFile(path) as zf:
        big = [i for i in zf.infolist() if i.filename.startswith("xl/worksheets/")
               and i.filename.endswith(".xml") and i.file_size > _TRIM_MIN_PART]
        cut = {}
        for info in big:
            done = _trim_trailing_rows(zf.read(info))
            if done is not None:
                cut[info.filename] = done
        if cut:
            titles = _sheet_titles(zf)
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
                for info in zf.infolist():
                    data = cut[info.filename][0] if info.filename in cut else zf.read(info)
                    out.writestr(info.filename, data)
            source = buf
            for part, (_, first, count) in cut.items():
                trimmed[titles.get(part, part)] = (first, count)
    wb = openpyxl_load(source, keep_vba=keep_vba, data_only=data_only)
    wb.perfeval_trimmed = trimmed
    return wb


def openpyxl_load(source, **options):
    """openpyxl's ``load_workbook`` (same options), closing the VBA zip it opens over its own
    buffer when loading fails: left to the garbage collector, which may finalize the buffer
    first, it prints "Exception ignored in ZipFile.__del__ … Traceback"."""
    from openpyxl.reader.excel import ExcelReader  # what load_workbook runs

    reader = None
    try:
        reader = ExcelReader(source, **options)
        reader.read()
    except BaseException:
        vba = getattr(getattr(reader, "wb", None), "vba_archive", None)
        if vba is not None:
            vba.close()
        raise
    return reader.wb


# --------------------------------------------------------------------------- conversions

# Longest first ("人次" before "次"). Counts as county tables write them ("12个", "3天").
_UNIT_SUFFIXES = ("万元", "人次", "个月", "小时", "平方米", "公里", "人", "项", "家", "个", "件", "次",
                  "户", "年", "天", "日", "月", "条", "份", "名", "座", "处", "台", "套", "场", "篇",
                  "批", "所", "亩", "吨", "%")
_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_MAX_ABS = Decimal("1e12")
_MIN_ABS = Decimal("1e-9")  # smaller magnitudes are 0 (amounts are in 万元)


def _to_decimal(v: Any) -> Decimal | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, Decimal):
        return v if v.is_finite() else None
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else Decimal(repr(v))
    return None


def _has_percent_format(fmt: str) -> bool:
    # A % outside quotes scales the shown value by 100 (Excel semantics).
    return "%" in re.sub(r'"[^"]*"|\\.', "", fmt or "")


class Reader:
    """Turns raw source values into typed values, collecting problems as it goes."""

    def __init__(self, source: CellSource):
        self.src = source
        self.problems: list[Problem] = []

    def problem(self, severity: str, code: str, message: str, loc: Location | None) -> None:
        self.problems.append(Problem(severity, code, message, loc))

    def raw(self, loc: Location | None) -> Any:
        if loc is None:  # a table column whose header is gone (reported as table-header-missing)
            return None
        v = self.src.value(loc.sheet, loc.cell)
        if isinstance(v, Unevaluated):
            self.problem("error", "formula-unevaluated",
                         f"公式“{clip(v.formula)}”没有计算结果且无法在 Excel 之外计算：{v.message}",
                         loc)
            return None
        if isinstance(v, ExcelError) or (isinstance(v, str) and v.strip() in ERROR_CODES):
            self.problem("error", "excel-error",
                         f"单元格为错误值 {str(v).strip()}，请修正该单元格的公式或直接填写数值。", loc)
            return None
        return v

    def percent_formatted(self, loc: Location) -> bool:
        """Whether the cell shows its number under a real ``%`` format (0.92 shown as 92%):
        its own format, or, for a cell that only refers to a county cell (an adopted row's
        ``='自评表'!$F$7``), the county cell's format."""
        if _has_percent_format(self.src.number_format(loc.sheet, loc.cell)):
            return True
        real = source_location(self.src, loc)
        return real != loc and _has_percent_format(self.src.number_format(real.sheet, real.cell))

    def number(self, loc: Location, label: str, kind: str = "amount") -> Decimal | None:
        """A numeric cell; kind is amount | count | percent | weight | number | rate.

        percent and rate are scaled when the cell shows a real % format (Excel stores 0.92
        for 92%); rate is a value that may be a percent or a count (个性指标, county 实际值/
        目标值), so the % format of the cell it refers to counts too."""
        v = self.raw(loc)
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        d = _to_decimal(v)
        if d is None and isinstance(v, str):
            d = self._text_number(v, loc, label, kind)
            if d is None:
                return None
        elif d is None:
            what = "逻辑值" if isinstance(v, bool) else (
                "日期" if isinstance(v, (_dt.date, _dt.datetime, _dt.time)) else "非数值")
            self.problem("error", "not-a-number",
                         f"“{label}”应填写数字，当前为{what}“{clip(v)}”，请改为数值。", loc)
            return None
        elif (kind == "percent" and _has_percent_format(
                self.src.number_format(loc.sheet, loc.cell))) or (
                kind == "rate" and self.percent_formatted(loc)):
            d = d * 100
        if abs(d) > _MAX_ABS:
            self.problem("error", "absurd-number",
                         f"“{label}”的数值 {clip(v)} 大得不合理（金额单位为万元），请核对。", loc)
            return None
        if abs(d) < _MIN_ABS:
            # Float noise of a formula (=A1-B1 giving 2.8e-14) is 0, as Excel shows it; and
            # 4.9e-324 as a divisor would make a rate of 10^326 %, past any display.
            return Decimal(0)
        return d

    def _text_number(self, text: str, loc: Location, label: str, kind: str) -> Decimal | None:
        # Zero-width spaces, a BOM or NBSP come with text pasted from web pages and other
        # systems; they are invisible in the cell, so the message must name them.
        hidden = invisible_chars(text)
        why = f"（含不可见字符：{'、'.join(hidden)}）" if hidden else ""
        s = unicodedata.normalize("NFKC", strip_invisible(text)).strip()
        s = s.replace(",", "").replace(" ", "")
        if not s:  # only invisible characters: the cell looks blank and is read as blank
            self.problem("warning", "invisible-char",
                         f"“{label}”看似空白，但含不可见字符（{'、'.join(hidden)}），已按空白处理；"
                         "请清除该单元格内容。", loc)
            return None
        shown = clip(text)
        unit = next((u for u in _UNIT_SUFFIXES if s.endswith(u)), "")
        core = s[: len(s) - len(unit)] if unit else s
        if not unit and core.endswith("元"):
            self.problem("error", "not-a-number",
                         f"“{label}”填写为“{shown}”{why}：金额单位应为万元，请换算为万元后只填数字。",
                         loc)
            return None
        if not _NUM.match(core):
            self.problem("error", "not-a-number",
                         f"“{label}”应填写数字，当前为文本“{shown}”{why}，请改为数值。", loc)
            return None
        if unit == "%" and kind not in ("percent", "number", "rate"):
            self.problem("error", "not-a-number",
                         f"“{label}”不是百分比，不应填写“{shown}”{why}，请填写数值。", loc)
            return None
        d = Decimal(core)
        if hidden:
            self.problem("warning", "invisible-char",
                         f"“{label}”含不可见字符（{'、'.join(hidden)}），已去除并按 {d} 读取；"
                         "请删除这些字符并改为数值格式。", loc)
        else:
            self.problem("warning", "text-number",
                         f"“{label}”以文本形式填写（“{shown}”），已按 {d} 读取；建议改为数值格式。",
                         loc)
        return d

    def text(self, loc: Location) -> str | None:
        v = self.raw(loc)
        if v is None:
            return None
        if isinstance(v, Decimal):
            v = format(v.normalize(), "f")
        elif isinstance(v, float) and v.is_integer():
            v = int(v)
        s = str(v).strip()
        return s or None


# --------------------------------------------------------------------------- the workbook


_ARITHMETIC = re.compile(r"[-+*/^&]")


def source_location(source, loc: Location | None) -> Location | None:
    """Where a value really lives: a cell holding only references to ONE other sheet (the
    mapping sheet's ``='自评表'!$E$7``, ``=IF('自评表'!G7<>"",…)``) -> the first cell it
    reads; any other cell -> itself. For the reader (see docs/adopt.md): problems about
    an adopted row then point at the county's cell, not at the hidden mapping sheet.

    Args:
        source: a ``CellSource`` (formulas via ``source.formula``).
        loc: the cell that was read.
    """
    if loc is None or not loc.cell:
        return loc
    f = source.formula(loc.sheet, loc.cell)
    if not f:
        return loc
    if _ARITHMETIC.search(re.sub(r"'(?:[^']|'')*'|\"[^\"]*\"", "", f[1:])):
        return loc  # a computed value (a shared 分值's share: ='自评表'!$D$7/2) lives here
    try:
        refs = referenced_cells(f, loc.sheet)
    except UnsupportedFormula:
        return loc
    sheets = {s for s, _ in refs}
    if len(sheets) != 1 or loc.sheet in sheets:
        return loc
    # The entry formula takes the first non-blank of its cells (实际值, then 得分): that
    # cell is where the value lives. A number in 实际值 is a measured value, not a tier
    # label: when 得分 is filled too, the score typed there wins (augment._entry).
    cells = list(dict.fromkeys(refs))
    values = [source.value(sheet, cell) for sheet, cell in cells]
    if len(cells) == 2 and _to_decimal(values[0]) is not None and values[1] not in (None, ""):
        return Location(*cells[1])
    for (sheet, cell), v in zip(cells, values, strict=True):
        if v not in (None, ""):
            return Location(sheet, cell)
    sheet, cell = refs[0]
    return Location(sheet, cell)


def _table_area(names: dict[str, str], name: str) -> tuple[str, int, int, int, int] | None:
    ref = parse_ref(names.get(name, ""))
    if ref is None:
        return None
    sheet, rng = ref
    min_col, min_row, max_col, max_row = range_boundaries(rng)
    return sheet, min_row, min_col, max_row, max_col


def _clip_area(source, area: tuple[str, int, int, int, int]) -> tuple[str, int, int, int, int]:
    """A table area cut at the sheet's real data (a name reaching row 1,048,576 or column
    XFD must not make the reader walk, and create, millions of empty cells)."""
    sheet, r0, c0, r1, c1 = area
    extent = getattr(source, "data_extent", None)
    if extent is not None:
        rows, cols = extent(sheet)
    else:  # a source without it (xlwings): its used range
        rows, cols = source.max_row(sheet), c1
    return sheet, r0, c0, max(r0, min(r1, rows)), max(c0, min(c1, cols))


def read_table(rd: Reader, names: dict[str, str], name: str,
               numeric: tuple[str, ...] = ()) -> tuple[list[Row], dict[str, str], tuple | None]:
    """Rows of table ``name`` (blank rows skipped) and its header -> column letter map."""
    sheet_expected, headers = (layout.TABLES.get(name) or layout.ADOPT_TABLES[name])
    area = _table_area(names, name)
    if area is None:
        rd.problem("error", "name-missing",
                   f"缺少表格区域名称 {name}（“{sheet_expected}”表），请勿删除或改名；"
                   "可用 perfeval-xl new 新建表格对照恢复。", Location(sheet_expected))
        return [], {}, None
    sheet, r0, c0, r1, c1 = area = _clip_area(rd.src, area)
    cols: dict[str, str] = {}
    for c in range(c0, c1 + 1):
        letter = get_column_letter(c)
        h = rd.text(Location(sheet, f"{letter}{r0}"))
        if h in headers:
            cols[h] = letter
    for h in headers:
        if h not in cols:
            rd.problem("error", "table-header-missing",
                       f"表头“{h}”不见了，请勿修改表头文字。", Location(sheet, f"{get_column_letter(c0)}{r0}"))
    rows = []
    for r in range(r0 + 1, r1 + 1):
        cells = {}
        for h, letter in cols.items():
            loc = Location(sheet, f"{letter}{r}")
            n = len(rd.problems)
            v = rd.number(loc, h, "number") if h in numeric else rd.text(loc)
            if sheet == layout.SHEET_MAP or (name == "tbl_custom" and "tbl_targets" in names):
                # An adopted county cell shown through a mapping formula (the hidden sheet,
                # or a grey 个性指标 cell): point problems and locations at the county's own
                # cell, where the department types.
                real = source_location(rd.src, loc)
                rd.problems[n:] = [dataclasses.replace(p, location=real) if p.location == loc
                                   else p for p in rd.problems[n:]]
                loc = real
            cells[h] = Cell(v, loc)
        if any(c.value not in (None, "") for c in cells.values()):
            rows.append(Row(cells, r))
    return rows, cols, area


_NUMERIC_COLS = {
    "tbl_staff": ("人数",),
    "tbl_economy": ("本期累计", "同比增长(%)"),
    "tbl_grades": ("分数下限",),
    "tbl_caps": ("实际值下限", "实际值上限", "总分上限"),
}


def read_evaluation(source: CellSource) -> Evaluation:
    """Read everything the engine needs from one workbook. Raises NotOurWorkbook."""
    names = source.defined_names()
    if layout.WORKBOOK_KIND not in names and not {"unit_name", "tbl_scores"} <= names.keys():
        raise NotOurWorkbook(
            "这不是 perfeval_xl 自评表：找不到定义名称 unit_name、tbl_scores 等。"
            "请用 perfeval-xl new 新建自评表后填写，或用 perfeval-xl adopt 接管本县下发的自评表。")
    rd = Reader(source)
    for title, (first, count) in getattr(getattr(source, "wb", None), "perfeval_trimmed",
                                         {}).items():
        rd.problem("warning", "format-only-rows",
                   f"第 {first} 行起有 {count:,} 个只有格式、没有内容的空行（格式一直延伸到表格末尾），"
                   "读取时已跳过；建议在 Excel 中删除这些空行，文件会更小、打开更快。",
                   Location(title, f"A{first}" if first else ""))

    def locate(name: str, label: str, sheet_hint: str) -> Location | None:
        text = names.get(name)
        if text is None:
            rd.problem("error", "name-missing",
                       f"缺少定义名称 {name}（{label}）：该名称被删除或改名。请在“公式›名称管理器”中"
                       f"重新定义，或用 perfeval-xl new 新建的表格对照恢复。", Location(sheet_hint))
            return None
        ref = parse_ref(text)
        if ref is None:
            rd.problem("error", "name-broken",
                       f"定义名称 {name}（{label}）指向无效区域“{text}”（可能因删除行列变为 #REF!），"
                       "请在“公式›名称管理器”中改为指向一个单元格。", Location(sheet_hint))
            return None
        return Location(ref[0], ref[1].split(":")[0])

    inputs: dict[str, Cell] = {}
    for d in catalogue.inputs().values():
        loc = locate(d.name, d.label, d.sheet)
        if loc is None:
            inputs[d.name] = Cell(None, None)
        elif d.type == "text":
            inputs[d.name] = Cell(rd.text(loc), loc)
        else:
            kind = {"year": "count"}.get(d.type, d.type)
            inputs[d.name] = Cell(rd.number(loc, d.label, kind), loc)

    texts = {}
    for name, (sheet, label, _required) in layout.TEXTS.items():
        loc = locate(name, label, sheet)
        texts[name] = Cell(rd.text(loc) if loc else None, loc)

    tables, anchors = {}, {}
    for name in layout.TABLES:
        rows, cols, area = read_table(rd, names, name, _NUMERIC_COLS.get(name, ()))
        tables[name] = rows
        if area:
            anchors[name] = {"sheet": area[0], "columns": cols, "first": area[1],
                             "last": area[3], "min_col": area[2], "max_col": area[4]}

    # Adopted county workbook: where each result is also written in the county's table.
    if "tbl_targets" in names:
        rows_t, _, _ = read_table(rd, names, "tbl_targets")
        anchors["targets"] = {
            r.get("代码"): {h: parse_ref(r.get(h) or "")
                           for h in layout.ADOPT_TABLES["tbl_targets"][1][1:]}
            for r in rows_t if r.get("代码")}
    for extra in (layout.COUNTY_TOTAL, layout.COUNTY_GRADE):
        if extra in names:
            anchors[extra] = locate(extra, "县表总分/等级", "")

    preset_loc = locate(layout.PRESET_NAME, "评分预设", layout.SHEET_SETTINGS)
    preset_name = (rd.text(preset_loc) if preset_loc else None) or catalogue.DEFAULT_PRESET
    rows = _score_rows(rd, tables["tbl_scores"], anchors) + _custom_rows(rd, tables["tbl_custom"])
    if "targets" in anchors:  # county rows inserted, deleted or renamed after adopting
        from perfeval_xl.adopt.drift import check_county_rows

        check_county_rows(rd, rows, anchors, _target_extras(rd, names))
    # Adopted workbooks: rule problems point at the county's own 评分标准 cell (the rule on
    # the hidden sheet is parsed from it).
    for row in rows:
        ref = anchors.get("targets", {}).get(row.code, {}).get("评分标准位置")
        if ref:
            row.rule_loc = Location(ref[0], ref[1].split(":")[0])
    if "targets" in anchors:
        _reread_county_standards(rd, names, rows, anchors)
        _evaluator_scores(rd, rows, anchors["targets"])
    grade_bands = _grade_bands(rd, tables["tbl_grades"], preset_name)
    caps = _caps(rd, tables["tbl_caps"])
    for out in (layout.OUT_TOTAL, layout.OUT_GRADE):
        loc = locate(out, "总分" if out == layout.OUT_TOTAL else "等级", layout.SHEET_SCORES)
        anchors[out] = loc
    report_loc = names.get(layout.REPORT_DIR) and locate(layout.REPORT_DIR, "报告输出文件夹", "")
    anchors[layout.REPORT_DIR] = rd.text(report_loc) if report_loc else None

    unit = inputs["unit_name"]
    year = inputs["eval_year"]
    return Evaluation(
        path=source.path, unit=unit, year=year, preset=preset_name, inputs=inputs, texts=texts,
        tables=tables, rows=rows, grade_bands=grade_bands, caps=caps, problems=rd.problems,
        anchors=anchors)


def _weight(rd: Reader, r: Row) -> Decimal | None:
    loc = r.loc("分值")
    return rd.number(loc, "分值", "number") if loc else None


def _code(rd: Reader, r: Row, header: str) -> str:
    """An indicator code cell's text; invisible characters pasted with it are dropped (a
    code is a key, not prose) with a warning that names them."""
    code = str(r.get(header) or "").strip()
    hidden = invisible_chars(code)
    if hidden:
        code = strip_invisible(code).strip()
        rd.problem("warning", "invisible-char",
                   f"指标代码“{clip(code)}”含不可见字符（{'、'.join(hidden)}），已去除；"
                   "请删除这些字符。", r.loc(header))
    return code


def _row_loc(r: Row) -> Location | None:
    """Where a user sees an indicator row: its 代码 cell, or on an adopted county table
    (whose codes live on the hidden mapping sheet) its 三级指标 cell."""
    loc = r.loc("代码")
    if loc is None or loc.sheet == layout.SHEET_MAP:
        loc = r.loc("三级指标") or loc
    return loc


def _duplicate(rd: Reader, r: Row, code: str, first: Location | None) -> None:
    """A second row with an indicator code already seen: an error at the copy's cell."""
    name = r.get("三级指标") or code
    rd.problem("error", "duplicate-indicator",
               f"指标“{clip(name)}”（代码 {clip(code)}）重复出现，与 {first} 所在行相同；本行未计分，"
               "请删除重复的行。", _row_loc(r))


def _score_rows(rd: Reader, rows: list[Row], anchors: dict) -> list[ScoreRow]:
    cat = catalogue.indicators()
    out = []
    positions: dict[str, int] = {}
    firsts: dict[str, Location | None] = {}
    for r in rows:
        code = _code(rd, r, "代码")
        if not code:
            continue
        if code in positions:
            # Scored once: the first row keeps its results (the writer writes there); the
            # copy would count its weight and score a second time. 个性指标 mirrors are
            # reported on their own sheet, where the user fixes them (_custom_rows).
            if not code.startswith("custom_"):
                _duplicate(rd, r, code, firsts[code])
            continue
        positions[code], firsts[code] = r.row, _row_loc(r)
        if code.startswith("custom_"):
            continue  # mirrors of the 个性指标 sheet, read there
        ind = cat.get(code)
        if ind is None:
            rd.problem("warning", "unknown-indicator",
                       f"自评表中的指标代码“{code}”不在指标库中，该行未评分。请使用下拉或新建表格中的代码。",
                       r.loc("代码"))
            continue
        entered = None
        if ind.kind == "qualitative":
            raw = rd.raw(r.loc("实际值")) if r.loc("实际值") else None
            entered = _to_decimal(raw) if _to_decimal(raw) is not None else (
                str(raw).strip() if raw not in (None, "") else None)
            if isinstance(entered, Decimal) and rd.percent_formatted(r.loc("实际值")):
                entered *= 100  # 满意度 typed as 92% in a %-formatted cell: 0.92
        out.append(ScoreRow(
            code=code, name=r.get("三级指标") or ind.name, level1=r.get("一级指标") or ind.level1,
            level2=r.get("二级指标") or ind.level2, weight=_weight(rd, r),
            rule_text=r.get("评分规则") or "", kind=ind.kind, explanation=r.get("指标解释") or "",
            entered=entered, unit=ind.unit, location=r.loc("三级指标"), weight_loc=r.loc("分值"),
            rule_loc=r.loc("评分规则"), entered_loc=r.loc("实际值")))
    if "tbl_scores" in anchors:
        anchors["tbl_scores"]["rows"] = positions
    return out


def _custom_rows(rd: Reader, rows: list[Row]) -> list[ScoreRow]:
    out = []
    seen: dict[str, Location | None] = {}
    for r in rows:
        name = r.get("三级指标")
        weight_raw = r.get("分值")
        if not name and not weight_raw:
            continue  # a template row the department did not use
        code = _code(rd, r, "代码") or f"custom_row{r.row}"
        if code in seen:
            _duplicate(rd, r, code, seen[code])
            continue
        seen[code] = _row_loc(r)
        if not name:
            rd.problem("error", "custom-name-missing",
                       "个性指标已填写分值但缺少“三级指标”名称，请填写指标名称或清空分值。", r.loc("三级指标"))
        direction = (r.get("方向") or "正向").strip()
        if direction not in ("正向", "反向", "定性"):
            rd.problem("error", "bad-direction",
                       f"方向“{direction}”无效，请从下拉中选择 正向、反向 或 定性。", r.loc("方向"))
            direction = "正向"
        target = rd.number(r.loc("目标值"), "目标值", "rate") if direction != "定性" else None
        actual_raw = rd.raw(r.loc("实际值"))
        actual, entered = None, None
        if direction == "定性":
            entered = _to_decimal(actual_raw) if _to_decimal(actual_raw) is not None else (
                str(actual_raw).strip() if actual_raw not in (None, "") else None)
        else:
            actual = rd.number(r.loc("实际值"), "实际值", "rate")
        rule_text = r.get("评分规则") or "按比例()"
        if direction != "定性" and target is None and rule_text.replace(" ", "") in (
                "按比例()", "按比例（）", "proportional()"):
            rd.problem("error", "missing-input",
                       f"个性指标“{name or code}”缺少目标值，无法按比例评分，请填写目标值。", r.loc("目标值"))
        out.append(ScoreRow(
            code=code, name=name or code, level1=r.get("一级指标") or "", level2=r.get("二级指标") or "",
            weight=_weight(rd, r), rule_text=rule_text, kind="custom", explanation=r.get("说明") or "",
            entered=entered, target=target, actual=actual, direction=direction,
            unit=r.get("单位") or "", location=r.loc("三级指标"), weight_loc=r.loc("分值"),
            rule_loc=r.loc("评分规则"), entered_loc=r.loc("实际值"), target_loc=r.loc("目标值"),
            actual_loc=r.loc("实际值")))
    return out


def _grade_bands(rd: Reader, rows: list[Row], preset_name: str) -> list[tuple[str, Decimal]]:
    bands = [(r.get("等级"), r.get("分数下限")) for r in rows]
    good = [(str(label), low) for label, low in bands if label and isinstance(low, Decimal)]
    if len(good) != len(bands) or not good:
        loc = rows[0].loc("等级") if rows else Location(layout.SHEET_SETTINGS)
        rd.problem("warning", "grade-bands-invalid",
                   "评分设置中的等级表不完整（每行需有等级名称和分数下限），已改用预设的等级划分。", loc)
        try:
            return catalogue.preset(preset_name).grade_bands
        except KeyError:
            return catalogue.preset(catalogue.DEFAULT_PRESET).grade_bands
    _check_band_order(rd, rows)
    return sorted(good, key=lambda b: b[1], reverse=True)


def _check_band_order(rd: Reader, rows: list[Row]) -> None:
    """Bands are listed best first and each runs from its 分数下限 up to the row above's: a
    bound equal to or above an earlier row's makes two bands overlap (which grade would a
    total of 90 get?), and a repeated label makes one grade two bands. A list consistently
    in the other order (差 0, 中 60, …) is unambiguous and accepted."""
    lows = [r.get("分数下限") for r in rows]
    ordered = all(a > b for a, b in zip(lows, lows[1:], strict=False)) or all(
        a < b for a, b in zip(lows, lows[1:], strict=False))
    prev: Row | None = None
    labels: dict[str, Location | None] = {}
    for r in rows:
        label, low = str(r.get("等级")).strip(), r.get("分数下限")
        if label in labels:
            rd.problem("error", "grade-band-overlap",
                       f"等级“{clip(label)}”在等级表中出现两次（另一处在 {labels[label]}），"
                       "请每个等级只保留一行。", r.loc("等级"))
        labels.setdefault(label, r.loc("等级"))
        if not ordered and prev is not None and low >= prev.get("分数下限"):
            rd.problem("error", "grade-band-overlap",
                       f"等级“{clip(label)}”的分数下限 {low} 不低于上一行“{clip(prev.get('等级'))}”的"
                       f"分数下限 {prev.get('分数下限')}，两个等级的分数段重叠；请按分数从高到低排列，"
                       "每行的分数下限都低于上一行。", r.loc("分数下限"))
        else:
            prev = r


def _caps(rd: Reader, rows: list[Row]) -> list[tuple[str, Decimal | None, Decimal | None, Decimal]]:
    out = []
    for r in rows:
        code, top = r.get("指标代码"), r.get("总分上限")
        if not code or not isinstance(top, Decimal):
            rd.problem("warning", "cap-invalid",
                       "总分封顶规则需要填写指标代码和总分上限，本行已忽略。", r.loc("指标代码"))
            continue
        out.append((str(code).strip(), r.get("实际值下限"), r.get("实际值上限"), top))
    return out


# --------------------------------------------------------------------------- adopted tables
# A county table taken over by ``perfeval-xl adopt`` (docs/adopt.md): its cells stay the
# county's, so what the county or the department edits there after adopting counts.


def _target_extras(rd: Reader, names: dict[str, str]) -> dict[str, dict[str, Any]]:
    """code -> the county's 评分标准 text and 分值 as adopted (tbl_targets' extra columns)."""
    area = _table_area(names, "tbl_targets")
    if area is None:
        return {}
    sheet, r0, c0, r1, c1 = area
    cols = {rd.src.value(sheet, f"{get_column_letter(c)}{r0}"): get_column_letter(c)
            for c in range(c0, c1 + 1)}
    if "代码" not in cols or "评分标准原文" not in cols:
        return {}  # adopted by an earlier version: no snapshot, the rules stay as they are
    out = {}
    for r in range(r0 + 1, r1 + 1):
        code = rd.src.value(sheet, f"{cols['代码']}{r}")
        if isinstance(code, str) and code.strip():
            out[code.strip()] = {h: rd.src.value(sheet, f"{cols[h]}{r}")
                                 for h in ("评分标准原文", "原分值", "指标名称原文", "县表行")
                                 if h in cols}
    return out


def _cell_text(v: Any) -> str:
    if v is None or isinstance(v, (Unevaluated, ExcelError)):
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


# Put before a 解读 on the 评分标准解读 sheet that ``score`` read again after a county edit.
REREAD_MARK = "（评分时重新识别）"
_READING_COLS = ("序号", "县表单元格", "分值", "原文", "解读", "生成的评分标准")


def _reading_rows(rd: Reader, names: dict[str, str], targets: dict) -> dict | None:
    """The 评分标准解读 sheet's rows, by tbl_targets code (both list the county rows in the
    order adopt planned them), or None when the sheet cannot be matched row by row: no
    ``tbl_reading`` name (adopted by an earlier version), a header changed, a different row
    count, or a row whose 县表单元格 is not that code's county cell. Never guessed."""
    area = _table_area(names, layout.READING_TABLE)
    if area is None:
        return None
    sheet, r0, c0, r1, c1 = area
    if sheet not in rd.src.sheet_names():
        return None
    cols = {_cell_text(rd.src.value(sheet, f"{get_column_letter(c)}{r0}")): get_column_letter(c)
            for c in range(c0, c1 + 1)}
    if any(h not in cols for h in _READING_COLS):
        return None
    lines = [r for r in range(r0 + 1, r1 + 1)
             if _cell_text(rd.src.value(sheet, f"{cols['序号']}{r}"))]
    codes = list(targets)
    if len(lines) != len(codes):
        return None
    rows, marked = {}, {}
    for code, r in zip(codes, lines, strict=True):
        where = targets[code] or {}
        ref = where.get("评分标准位置") or where.get("指标名称位置")
        cell = f"{ref[0]}!{ref[1].split(':')[0]}" if ref else ""
        if _cell_text(rd.src.value(sheet, f"{cols['县表单元格']}{r}")) != cell:
            return None
        rows[code] = r
        marked[code] = rd.src.value(sheet, f"{cols['解读']}{r}")
    return {"sheet": sheet, "columns": cols, "rows": rows, "marked": marked, "new": {}}


def _evaluator_scores(rd: Reader, rows: list[ScoreRow], targets: dict) -> None:
    """Adopted workbooks: a 分档 rule with score-range bands (“75%以上(10分到13分)”) leaves the
    score of a value in such a band to the evaluator, who types it into the county's 得分
    cell; scoring checks it against the range (scoring._evaluator_score)."""
    from perfeval_xl.rules import Bands, RuleError, parse_rule

    for row in rows:
        ref = (targets.get(row.code) or {}).get("得分位置")
        if not ref:
            continue
        try:
            rule = parse_rule(row.rule_text)
        except RuleError:
            continue  # bad-rule is reported when scoring
        if isinstance(rule, Bands) and (
                rule.rest_manual or any(b.points_low is not None for b in rule.bands)):
            loc = Location(ref[0], ref[1].split(":")[0])
            raw = rd.raw(loc)
            row.hand_score = _to_decimal(raw) if _to_decimal(raw) is not None else (
                _cell_text(raw) or None)
            row.hand_score_loc = loc


def _reread_county_standards(rd: Reader, names: dict[str, str], rows: list[ScoreRow],
                             anchors: dict) -> None:
    """Read a county 评分标准 again when its text or its row's 分值 changed after adopting.

    The rule stored on the mapping sheet is kept while the county cells are as adopted (it
    may carry adopt-time choices: a preset rule for a blank text, a hand edit); once they
    differ, the county's current text is read with ``rules.read_standard_text`` at the
    current 分值, exactly as ``adopt`` reads it, and the change is reported at the cell.
    The reading used is also put in ``anchors[layout.READING_TABLE]["new"]`` for the writer
    to show on the 评分标准解读 sheet (``_reading_rows``).
    """
    from perfeval_xl.adopt.matcher import describe_reading, read_county_standard
    from perfeval_xl.rules import (
        Manual,
        Proportional,
        RuleError,
        format_rule,
        parse_rule,
        read_standard_text,
        tier_labels,
    )

    extras = _target_extras(rd, names)
    targets = anchors["targets"]
    shown = _reading_rows(rd, names, targets)
    if shown is not None:
        anchors[layout.READING_TABLE] = shown

    def show(code: str, rule, text: str, weight: Decimal, reason: str, unit: str,
             target, mark: str) -> None:
        """What the 评分标准解读 row of ``code`` shows: the reading used for this score."""
        if shown is None or code not in shown["rows"]:
            return
        reading, generated = describe_reading(rule, weight, reason=reason, has_text=bool(text),
                                              unit=unit, target=target)
        shown["new"][code] = {"分值": int(weight) if weight == int(weight) else float(weight),
                              "原文": text or "（无）",
                              "解读": mark + reading, "生成的评分标准": generated}

    for row in rows:
        code = row.code
        where = targets.get(code) or {}
        snap = extras.get(code)
        ref = where.get("评分标准位置")
        if snap is None or not ref:
            continue
        target = row.target if row.kind == "custom" else None
        loc = Location(ref[0], ref[1].split(":")[0])
        # As adopt read it: the cell as written ("=0计8分…" is text a county typed, which
        # Excel keeps as a formula).
        text = (rd.src.formula(loc.sheet, loc.cell) or _cell_text(
            rd.src.value(loc.sheet, loc.cell))).strip()
        before = _cell_text(snap.get("评分标准原文"))
        old_weight = _to_decimal(snap.get("原分值"))
        if text == before and (row.weight is None or old_weight is None
                               or abs(row.weight - old_weight) < Decimal("1e-9")):
            # (a shared 分值's share is a float division: compare loosely). Edited back as
            # adopted after an earlier score showed a new reading: show the adopted one.
            if shown is not None and code in shown["rows"] and row.weight is not None and \
                    _cell_text(shown["marked"].get(code)).startswith(REREAD_MARK):
                try:
                    rule = parse_rule(row.rule_text)
                except RuleError:
                    continue
                reason = read_standard_text(text, row.weight, target=target).reason \
                    if text else ""
                show(code, rule, text, row.weight, reason, row.unit, target, "")
            continue
        if row.weight is None:
            continue  # the 分值 problem says what to fix
        reason = ""
        if not text:
            rule, reason = Manual(), "县表中的评分标准已被清空"
            rd.problem("warning", "standard-missing",
                       f"县表中“{row.name}”的评分标准已被清空，按人工评分处理：请评价人在“得分”栏"
                       "直接填写得分。", loc)
        else:
            rule, reading, found = read_county_standard(text, row.weight, name=row.name,
                                                        loc=loc, target=target)
            reason = reading.reason or ""
            rd.problems.extend(found)
        if row.kind == "rate" and isinstance(rule, Proportional) and rule.target is None:
            rule = dataclasses.replace(rule, target=Decimal(100))
        show(code, rule, text, row.weight, reason, row.unit, target, REREAD_MARK)
        manual = isinstance(rule, Manual) and not tier_labels(rule)
        changed = "评分标准" if text != before else "分值"
        rd.problem("info", "standard-reread",
                   f"县表中“{row.name}”的{changed}在接管后已修改，已按现在的内容重新识别：“{text[:80]}”"
                   f" → {'人工评分' if manual else format_rule(rule)}（分值 {row.weight}）。", loc)
        row.rule_text = format_rule(rule)
        if isinstance(rule, Manual) and row.kind != "qualitative":
            # Scored by hand now: the evaluator's score is the county's 得分 cell.
            score_ref = where.get("得分位置")
            raw = rd.raw(Location(score_ref[0], score_ref[1])) if score_ref else None
            row.entered = _to_decimal(raw) if _to_decimal(raw) is not None else (
                _cell_text(raw) or None)
            row.entered_loc = Location(score_ref[0], score_ref[1]) if score_ref else loc
            if row.kind == "rate":  # no longer computed: a 个性指标 under its own code
                targets[f"custom_{row.code}"] = where
                row.code, row.kind = f"custom_{row.code}", "custom"
            row.direction = "定性"
        elif row.kind == "custom" and row.direction == "定性":
            row.direction = "反向" if isinstance(rule, Proportional) and rule.lower_is_better \
                else "正向"
            row.actual = row.entered if isinstance(row.entered, Decimal) else None
            row.actual_loc = row.entered_loc
