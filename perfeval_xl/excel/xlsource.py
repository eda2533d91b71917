"""The engine's two workbook touch points over an xlwings Book: reading (a ``CellSource``) and
writing (applying a ``WritePlan``), so the ribbon macros share the CLI's reader and writer.

Reading takes each sheet's values in one call (cell-by-cell COM calls are slow). Values are
what Excel shows, so formulas need no evaluation here; engines that cannot give formulas or
number formats synchronously (xlwings' remote engine) answer None / "General".

Writing checks every target sheet first and unprotects sheets protected *without* a
password (our workbooks are built that way), re-protecting them with their original
options afterwards. A sheet with a password stops the macro before anything is written.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from perfeval_xl.workbook.plan import CellWrite, WritePlan

# 校验结果 fills, the same colours as the openpyxl writer (writer.TONE_FILL, ARGB there).
TONE_COLOR = {"error": "#F4CCCC", "warning": "#FFF2CC", "info": "#DDEBF7"}

_COORD = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_NAME_REF = re.compile(
    r"^(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)$")
# A sheet no defined name points into is read only this far (the reader does not need it).
MAX_UNNAMED_ROWS, MAX_UNNAMED_COLS = 2000, 60
# Text Excel would turn into a number, date, time or formula when assigned as a value.
_COERCIBLE = re.compile(r"^[\s\d.,:/%+\-eE年月日]*$")

# Worksheet.Protection flags that Worksheet.Protect takes back as keyword arguments.
_PROTECTION_FLAGS = (
    "AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows",
    "AllowInsertingColumns", "AllowInsertingRows", "AllowInsertingHyperlinks",
    "AllowDeletingColumns", "AllowDeletingRows", "AllowSorting", "AllowFiltering",
    "AllowUsingPivotTables",
)


class ExcelWriteError(Exception):
    """The workbook in Excel cannot take the writes; ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _split(coord: str) -> tuple[int, int]:
    m = _COORD.match(coord.strip())
    if not m:
        raise ValueError(f"not a cell address: {coord!r}")
    return int(m.group(2)), _col_index(m.group(1))


def book_path(book) -> str:
    """The workbook's full path as Excel reports it ("" when unavailable)."""
    try:
        return str(book.fullname or "")
    except Exception:
        return ""


def is_desktop_excel(book) -> bool:
    """True for a desktop Excel (COM/AppleScript); False for the remote engine."""
    try:
        return book.app.engine.name == "excel"
    except Exception:
        return False


class XlwingsSource:
    """``CellSource`` over an open xlwings Book (see perfeval_xl.workbook.source)."""

    def __init__(self, book):
        self.book = book
        self.path = book_path(book)
        self._names: dict[str, str] | None = None
        self._values: dict[str, list[list[Any]]] = {}
        self._formulas: dict[str, Any] = {}
        self._formats: dict[tuple[str, str], str] = {}
        self._sheet_names: list[str] | None = None

    def defined_names(self) -> dict[str, str]:
        if self._names is None:
            out: dict[str, str] = {}
            for n in self.book.names:
                try:
                    name, ref = n.name, n.refers_to
                except Exception:  # a name Excel cannot resolve
                    continue
                if not name or "!" in name or not isinstance(ref, str):
                    continue  # sheet-scoped names are not ours (§4.3: workbook-scoped)
                out[name] = ref[1:] if ref.startswith("=") else ref
            self._names = out
        return self._names

    def sheet_names(self) -> list[str]:
        if self._sheet_names is None:
            self._sheet_names = [s.name for s in self.book.sheets]
        return self._sheet_names

    def _extent(self, sheet: str) -> tuple[int, int] | None:
        """The bottom-right corner of every defined name on ``sheet``: the reader reads only
        through names, and a used range formatted down to row 1048576 must not be read."""
        rows = cols = 0
        for ref in self.defined_names().values():
            m = _NAME_REF.match(ref.strip())
            if not m:
                continue
            name = (m.group(1) or "").replace("''", "'") or m.group(2)
            if name != sheet:
                continue
            for coord in m.group(3).split(":"):
                r, c = _split(coord)
                rows, cols = max(rows, r), max(cols, c)
        return (rows, cols) if rows else None

    def _sheet_values(self, sheet: str) -> list[list[Any]] | None:
        if sheet not in self.sheet_names():
            return None
        if sheet not in self._values:
            sh = self.book.sheets[sheet]
            last = sh.used_range.last_cell
            rows, cols = max(last.row, 1), max(last.column, 1)
            rows, cols = min(rows, MAX_UNNAMED_ROWS), min(cols, MAX_UNNAMED_COLS)
            extent = self._extent(sheet)
            if extent is not None:
                rows, cols = min(max(last.row, 1), extent[0]), min(max(last.column, 1), extent[1])
            vals = sh.range((1, 1), (rows, cols)).options(ndim=2, err_to_str=True).value
            self._values[sheet] = [list(r) for r in (vals or [[None]])]
        return self._values[sheet]

    def value(self, sheet: str, coord: str) -> Any:
        vals = self._sheet_values(sheet)
        if vals is None:
            return "#REF!"
        row, col = _split(coord)
        if row > len(vals) or col > len(vals[0]):
            return None
        v = vals[row - 1][col - 1]
        return None if isinstance(v, str) and v == "" else v

    def formula(self, sheet: str, coord: str) -> str | None:
        if sheet not in self.sheet_names():
            return None
        if sheet not in self._formulas:
            try:
                vals = self._sheet_values(sheet) or [[None]]
                sh = self.book.sheets[sheet]
                f = sh.range((1, 1), (len(vals), len(vals[0]))).formula
                if isinstance(f, str):
                    f = ((f,),)
                self._formulas[sheet] = f
            except NotImplementedError:  # remote engine: formulas are not in the payload
                self._formulas[sheet] = None
        table = self._formulas[sheet]
        if table is None:
            return None
        row, col = _split(coord)
        try:
            f = table[row - 1][col - 1]
        except IndexError:
            return None
        return f if isinstance(f, str) and f.startswith("=") else None

    def number_format(self, sheet: str, coord: str) -> str:
        key = (sheet, coord)
        if key not in self._formats:
            try:
                fmt = self.book.sheets[sheet].range(coord).number_format
            except Exception:  # remote engine: not available synchronously
                fmt = None
            self._formats[key] = fmt or "General"
        return self._formats[key]

    def max_row(self, sheet: str) -> int:
        vals = self._sheet_values(sheet)
        return 0 if vals is None else len(vals)


# --------------------------------------------------------------------------- protection
# Module-level functions so tests can stand in for a protected sheet on the remote engine,
# which has no protection API.


def protection_of(sheet) -> dict | None:
    """The protection options of a protected sheet, or None (not protected, or unknown)."""
    try:
        api = sheet.api
        if not bool(api.ProtectContents):
            return None
        p = api.Protection
        opts = {flag: bool(getattr(p, flag)) for flag in _PROTECTION_FLAGS}
        opts["DrawingObjects"] = bool(api.ProtectDrawingObjects)
        opts["Scenarios"] = bool(api.ProtectScenarios)
        return opts
    except Exception:  # remote engine (api is a dict) or an engine without the COM API
        return None


def unprotect_sheet(sheet) -> bool:
    """Lift a protection that has no password; False when a password is set."""
    try:
        sheet.api.Unprotect("")
        return not bool(sheet.api.ProtectContents)
    except Exception:
        return False


def protect_sheet(sheet, options: dict) -> None:
    """Protect ``sheet`` again with the options it had."""
    try:
        sheet.api.Protect(Contents=True, **options)
    except Exception:  # never fail the macro over re-protection; the data is written
        pass


# --------------------------------------------------------------------------- writing


def excel_text(value: Any) -> Any:
    """A value as Excel should store it: Decimal as float, and text that Excel would turn
    into a formula, number or date (or whose leading apostrophe it would eat) kept as text
    with Excel's text prefix "'". Text from a workbook is never a formula."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str) and value:
        if value[0] in "=+-@'" or (_COERCIBLE.match(value) and any(c.isdigit() for c in value)):
            return "'" + value
    return value


def _sheets_of(plan: WritePlan) -> list[str]:
    seen: dict[str, None] = {}
    for s, *_ in plan.clear:
        seen.setdefault(s)
    for w in plan.writes:
        seen.setdefault(w.sheet)
    if plan.select is not None:
        seen.setdefault(plan.select.sheet)
    return list(seen)


@contextmanager
def _quiet(book):
    """Screen updating off during the writes (desktop Excel only)."""
    app = book.app if is_desktop_excel(book) else None
    if app is not None:
        try:
            app.screen_updating = False
        except Exception:
            app = None
    try:
        yield
    finally:
        if app is not None:
            try:
                app.screen_updating = True
            except Exception:
                pass


def _clear(sheet, first: int, last: int, lo: str, hi: str) -> None:
    rng = sheet.range(f"{lo}{first}:{hi}{last}")
    if is_desktop_excel(sheet.book) and sys.platform.startswith("win"):
        try:
            rng.api.Hyperlinks.Delete()
            rng.api.Font.Underline = -4142    # xlUnderlineStyleNone
            rng.api.Font.ColorIndex = -4105   # xlColorIndexAutomatic
        except Exception:
            pass
    rng.clear_contents()
    rng.color = None


def _link(sheet, rng, link: str, text: str) -> None:
    if is_desktop_excel(sheet.book) and sys.platform.startswith("win"):
        # An in-workbook target is a SubAddress; "#..." as Address is not reliable.
        sheet.api.Hyperlinks.Add(Anchor=rng.api, Address="", SubAddress=link.lstrip("#"),
                                 TextToDisplay=text)
    else:
        rng.add_hyperlink(link, text)


def _write(sheet, w: CellWrite) -> None:
    rng = sheet.range(w.cell)
    if w.link:
        # Link first, value second: assigning the value keeps the link and is the one place
        # where the text-prefix rule (excel_text) applies to what the cell shows.
        _link(sheet, rng, w.link, "" if w.value is None else str(w.value))
    rng.value = excel_text(w.value)
    if w.number_format:
        rng.number_format = w.number_format
    if w.tone:
        rng.color = TONE_COLOR.get(w.tone)


def _set_name(book, name: str, ref: str) -> None:
    refers_to = ref if ref.startswith("=") else "=" + ref
    if name in [n.name for n in book.names]:
        book.names[name].refers_to = refers_to
    else:
        book.names.add(name, refers_to)


def xl_merges(book, plan: WritePlan) -> dict[str, list[tuple[int, int, int, int]]]:
    """Merged ranges around the plan's target cells, as ``plan.resolve_merges`` takes them
    ((min_col, min_row, max_col, max_row) per sheet). Asked only for target cells (one COM
    call each); an engine that cannot tell (xlwings' remote engine) gives none."""
    merges: dict[str, list[tuple[int, int, int, int]]] = {}
    for w in plan.writes:
        try:
            rng = book.sheets[w.sheet].range(w.cell)
            if not rng.merge_cells:
                continue
            area = rng.merge_area
            bounds = (area.column, area.row, area.last_cell.column, area.last_cell.row)
        except Exception:  # no sheet, or the engine cannot read merges
            continue
        if bounds not in merges.setdefault(w.sheet, []):
            merges[w.sheet].append(bounds)
    return merges


def apply_plan(book, plan: WritePlan) -> None:
    """Write ``plan`` into the open ``book`` through xlwings.

    Raises:
        ExcelWriteError: a target sheet is missing or protected with a password; raised
            before the first write, so nothing is half-written.
    """
    present = {s.name for s in book.sheets}
    targets = _sheets_of(plan)
    missing = [s for s in targets if s not in present]
    if missing:
        raise ExcelWriteError(
            f"工作表“{missing[0]}”不存在（可能被删除或改名），未写入任何内容。"
            "请恢复该工作表，或用 perfeval-xl new 新建自评表后把数据复制过去。")
    lifted: list[tuple[Any, dict]] = []
    try:
        for name in targets:
            sheet = book.sheets[name]
            options = protection_of(sheet)
            if options is None:
                continue
            if not unprotect_sheet(sheet):
                raise ExcelWriteError(
                    f"工作表“{name}”设置了密码保护，程序无法写入，未写入任何内容。"
                    "请先在“审阅 › 撤销工作表保护”中输入密码撤销保护，再重新运行。")
            lifted.append((sheet, options))
        with _quiet(book):
            for name, first, last, lo, hi in plan.clear:
                _clear(book.sheets[name], first, last, lo, hi)
            for w in plan.writes:
                _write(book.sheets[w.sheet], w)
            for name, ref in plan.names.items():
                _set_name(book, name, ref)
    finally:
        for sheet, options in lifted:
            protect_sheet(sheet, options)
    if plan.select is not None and plan.select.cell:
        try:
            sheet = book.sheets[plan.select.sheet]
            sheet.activate()
            sheet.range(plan.select.cell).select()
        except Exception:  # selecting is a convenience only
            pass


def only_sheets(plan: WritePlan, sheets: Iterable[str]) -> WritePlan:
    """The part of ``plan`` that touches ``sheets`` (e.g. only 校验结果 for 数据校验)."""
    keep = set(sheets)
    return WritePlan(
        writes=[w for w in plan.writes if w.sheet in keep],
        clear=[c for c in plan.clear if c[0] in keep],
        names={k: v for k, v in plan.names.items() if _ref_sheet(v) in keep},
        select=plan.select)


def _ref_sheet(ref: str) -> str:
    head = ref.lstrip("=").rsplit("!", 1)[0]
    return head[1:-1].replace("''", "'") if head.startswith("'") else head
