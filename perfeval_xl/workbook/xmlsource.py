"""A CellSource read straight from the package XML: defined names from workbook.xml, and
only the sheets the engine asks for, each parsed once (defusedxml) into plain values.

It answers exactly what ``OpenpyxlSource`` answers for the same file (the same value types,
shared formulas translated per cell, dates under date formats, ``%`` formats, Excel's
cached results as the fallback of the formula evaluator), at a fraction of the cost of
building openpyxl's workbook model (see benchmarks/bench_io.py).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from perfeval_xl.workbook import ooxml
from perfeval_xl.workbook.formula import (
    ExcelError,
    UnsupportedFormula,
    evaluate,
)
from perfeval_xl.workbook.reader import FormulaCells, Unevaluated

_M = "{" + ooxml.MAIN_NS + "}"
_ROW, _C, _V, _F, _IS = _M + "row", _M + "c", _M + "v", _M + "f", _M + "is"
_T, _R, _RPH, _SI = _M + "t", _M + "r", _M + "rPh", _M + "si"


def _text_of(node) -> str:
    """Plain text of a shared/inline string: <t>, or the <t> of each run; phonetic runs out."""
    t = node.find(_T)
    if t is not None:
        return t.text or ""
    return "".join(r.findtext(_T) or "" for r in node.findall(_R))


def _cast_number(text: str) -> int | float:
    return float(text) if ("." in text or "e" in text or "E" in text) else int(text)


def _col_row(coord: str) -> tuple[int, int]:
    i = 0
    col = 0
    while i < len(coord) and coord[i].isalpha():
        col = col * 26 + (ord(coord[i].upper()) - 64)
        i += 1
    return col, int(coord[i:])


class _Sheet:
    __slots__ = ("cells", "max_row", "max_col", "data_row", "data_col")

    def __init__(self):
        # coord -> (value as openpyxl gives it with formulas kept, formula text or None,
        #           style index, cached value as data_only gives it)
        self.cells: dict[str, tuple[Any, str | None, int, Any]] = {}
        self.max_row = 1
        self.max_col = 1
        # Last row/column holding a value or formula: formatted-only cells (a county that
        # formats whole columns down to row 1,048,576) must not stretch the scans.
        self.data_row = 0
        self.data_col = 0


class XmlSource(FormulaCells):
    """CellSource over the bytes of an .xlsx/.xlsm package (already safety-checked)."""

    def __init__(self, data: bytes, path: str = ""):
        self.path = str(path)
        self.data = data
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        self.book = ooxml.read_book(self._zip)
        self._strings: list[str] | None = None
        self._formats: list[str] | None = None
        self._date_styles: set[int] = set()
        self._sheets: dict[str, _Sheet | None] = {}
        self._values: dict[tuple[str, str], Any] = {}
        self._busy: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ CellSource

    def defined_names(self) -> dict[str, str]:
        return self.book.names

    def sheet_names(self) -> list[str]:
        return list(self.book.sheets)

    def formula(self, sheet: str, coord: str) -> str | None:
        ws = self._sheet(sheet)
        c = ws.cells.get(coord) if ws else None
        return c[1] if c else None

    def number_format(self, sheet: str, coord: str) -> str:
        ws = self._sheet(sheet)
        c = ws.cells.get(coord) if ws else None
        return self._format(c[2]) if c else "General"

    def max_row(self, sheet: str) -> int:
        ws = self._sheet(sheet)
        return ws.max_row if ws else 0

    def data_extent(self, sheet: str) -> tuple[int, int]:
        """(last row, last column) holding a value or formula; (0, 0) for an empty sheet."""
        ws = self._sheet(sheet)
        return (ws.data_row, ws.data_col) if ws else (0, 0)

    def value(self, sheet: str, coord: str) -> Any:
        key = (sheet, coord)
        if key in self._values:
            return self._values[key]
        ws = self._sheet(sheet)
        if ws is None:
            return ExcelError("#REF!")
        c = ws.cells.get(coord)
        if c is None:
            v = None
        elif c[1] is not None:
            v = self._evaluate(sheet, coord, c[1], c[3])
        else:
            v = c[0]
        self._values[key] = v
        return v

    def parse_sheets(self, titles=None) -> None:
        """Parse these sheets now (default: every sheet a defined name points to), e.g. to
        time opening apart from evaluating."""
        from perfeval_xl.workbook.reader import parse_ref

        if titles is None:
            titles = {ref[0] for ref in map(parse_ref, self.book.names.values()) if ref}
        for title in titles:
            self._sheet(title)

    # ------------------------------------------------------------------ formulas

    def _evaluate(self, sheet: str, coord: str, f: str, cached: Any) -> Any:
        key = (sheet, coord)
        if key in self._busy:
            raise UnsupportedFormula("公式存在循环引用，无法计算；请检查公式。", f)
        self._busy.add(key)
        try:
            return evaluate(f, sheet, self._get_for_formula, resolve_name=self.book.names.get,
                            sheet_extent=self._extent)
        except UnsupportedFormula as exc:
            return cached if cached is not None else Unevaluated(f, exc.message)
        finally:
            self._busy.discard(key)

    # ------------------------------------------------------------------ parts

    def _shared_strings(self) -> list[str]:
        if self._strings is None:
            self._strings = []
            part = self.book.shared_strings
            if part and part in self._zip.namelist():
                root = ooxml.parse_xml(self._zip.read(part), part)
                self._strings = [_text_of(si).replace("x005F_", "") for si in root.iter(_SI)]
        return self._strings

    def _format(self, style: int) -> str:
        if self._formats is None:
            self._load_styles()
        return self._formats[style] if 0 <= style < len(self._formats) else "General"

    def _load_styles(self) -> None:
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        self._formats = []
        part = self.book.styles
        if not part or part not in self._zip.namelist():
            return
        root = ooxml.parse_xml(self._zip.read(part), part)
        custom = {}
        fmts = root.find(_M + "numFmts")
        for nf in fmts if fmts is not None else ():
            try:
                custom[int(nf.get("numFmtId", ""))] = nf.get("formatCode", "")
            except ValueError:
                continue
        xfs = root.find(_M + "cellXfs")
        for i, xf in enumerate(xfs if xfs is not None else ()):
            try:
                fid = int(xf.get("numFmtId", "0"))
            except ValueError:
                fid = 0
            fmt = custom.get(fid) or BUILTIN_FORMATS.get(fid) or "General"
            self._formats.append(fmt)
            if is_date_format(fmt):
                self._date_styles.add(i)

    def _sheet(self, title: str) -> _Sheet | None:
        if title in self._sheets:
            return self._sheets[title]
        part = self.book.parts.get(title)
        ws = None
        if title in self.book.parts and (not part or part not in self._zip.namelist()):
            # Listed in workbook.xml, but its relationship or part is gone: a damaged file
            # (Excel offers to repair it), not a sheet of #REF! cells.
            raise ooxml.PackageError(
                f"工作表“{title}”在文件中找不到内容（缺少 {part or 'xl/_rels/workbook.xml.rels 中的关系'}），"
                "文件已损坏。请在 Excel/WPS 中打开（按提示修复）后另存为 .xlsx 再试。")
        if self.book.kinds.get(title) == ooxml.WORKSHEET_REL:
            ws = self._parse_sheet(part)
        self._sheets[title] = ws
        return ws

    def _parse_sheet(self, part: str) -> _Sheet:
        """Cells of one sheet part, streamed row by row (each row freed once read, so a
        large sheet costs its values, not its element tree)."""
        import defusedxml.ElementTree as DET
        from openpyxl.formula.translate import Translator
        from openpyxl.utils.cell import get_column_letter

        if self._formats is None:
            self._load_styles()
        ws = _Sheet()
        shared: dict[str, Translator] = {}
        row_no = 0
        max_r = max_c = 0
        try:
            with self._zip.open(part) as fh:
                for _event, row in DET.iterparse(fh, events=("end",)):
                    if row.tag != _ROW:
                        continue
                    r = row.get("r")
                    row_no = int(r) if r and r.isdigit() else row_no + 1
                    col_no = 0
                    for c in row:
                        if c.tag != _C:
                            continue
                        coord = c.get("r")
                        if coord:
                            col_no, rr = _col_row(coord)
                        else:
                            col_no, rr = col_no + 1, row_no
                            coord = f"{get_column_letter(col_no)}{rr}"
                        max_r, max_c = max(max_r, rr), max(max_c, col_no)
                        cell = ws.cells[coord] = self._cell(c, coord, shared, Translator)
                        if cell[1] is not None or cell[0] not in (None, ""):
                            ws.data_row = max(ws.data_row, rr)
                            ws.data_col = max(ws.data_col, col_no)
                    row.clear()
        except ooxml.PackageError:
            raise
        except Exception as exc:  # ParseError, DTDForbidden, a bad cell reference …
            raise ooxml.PackageError(
                f"工作簿中的 {part} 已损坏，无法读取（{type(exc).__name__}）。"
                "请在 Excel/WPS 中打开后另存为 .xlsx 再试。") from None
        if ws.cells:
            ws.max_row, ws.max_col = max_r, max_c
        return ws

    def _cell(self, c, coord, shared, Translator) -> tuple[Any, str | None, int, Any]:
        t = c.get("t", "n")
        s = c.get("s")
        style = int(s) if s and s.isdigit() else 0
        cached = self._cached_value(c, t, style)
        f = c.find(_F)
        formula = None
        if f is not None:
            kind = f.get("t")
            text = "=" + (f.text or "")
            if kind == "shared":
                si = f.get("si")
                if si in shared:
                    text = shared[si].translate_formula(coord)
                elif text != "=":
                    shared[si] = Translator(text, coord)
            if kind != "dataTable":
                formula = text
        value = formula if formula is not None else cached
        return value, formula, style, cached

    def _cached_value(self, c, t: str, style: int) -> Any:
        if t == "inlineStr":
            node = c.find(_IS)
            return _text_of(node) if node is not None else None
        v = c.findtext(_V)
        if not v:
            return None
        if t == "n":
            try:
                num = _cast_number(v)
            except ValueError:
                return "#VALUE!"
            if style in self._date_styles:
                from openpyxl.styles.numbers import is_timedelta_format
                from openpyxl.utils.datetime import (
                    CALENDAR_MAC_1904,
                    CALENDAR_WINDOWS_1900,
                    from_excel,
                )

                try:
                    return from_excel(num, CALENDAR_MAC_1904 if self.book.date1904
                                      else CALENDAR_WINDOWS_1900,
                                      timedelta=is_timedelta_format(self._format(style)))
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return num
        if t == "s":
            strings = self._shared_strings()
            try:
                return strings[int(v)]
            except (ValueError, IndexError):
                return None
        if t == "b":
            return v.strip() in ("1", "true")
        if t == "d":
            from openpyxl.utils.datetime import from_ISO8601

            try:
                return from_ISO8601(v)
            except ValueError:
                return v
        return v  # "str" (a formula's text result) and "e" (an error value)


class WorkbookFile:
    """A workbook file as the score/check/report/batch paths open it: its bytes (read once,
    after the safety check), an ``XmlSource`` over them, and an openpyxl model only if a
    fallback needs one."""

    def __init__(self, path, data: bytes):
        self.path = str(path)
        self.data = data
        self.source = XmlSource(data, self.path)
        self._wb = None

    def openpyxl(self):
        """The openpyxl workbook of the same bytes (loaded on first use)."""
        if self._wb is None:
            from perfeval_xl.workbook.reader import openpyxl_load

            try:
                self._wb = openpyxl_load(io.BytesIO(self.data),
                                         keep_vba=self.path.lower().endswith(".xlsm"))
            except Exception as exc:  # openpyxl raises many types for damaged parts
                from perfeval_xl.engine import UnusableWorkbook

                raise UnusableWorkbook(
                    f"无法读取工作簿 {Path(self.path).name}：文件已损坏或不是有效的 Excel 文件"
                    f"（{type(exc).__name__}）。请在 Excel/WPS 中打开后另存为 .xlsx 再试。") from None
        return self._wb
