"""A small, safe evaluator for the Excel formulas our workbook builder writes.

Workbooks saved by openpyxl (or by any program that does not calculate) keep formulas but
no cached values. The reader uses this module so that such cells are not read as blank.
Formula text is tokenized and parsed into a tree that is walked; nothing is ever passed
to ``eval``/``exec``. Anything outside the supported subset raises
:class:`UnsupportedFormula` with a Chinese message, and the caller reports it at the cell.

Value model (what ``get_cell`` returns and what :func:`evaluate` gives back):

- Numbers come in as ``int``/``float``/``Decimal`` and are always returned as ``Decimal``
  (normalized: ``Decimal("1500")``, ``Decimal("2.5")``). A float converts through ``repr``,
  so a cell value of 0.1 is exactly ``Decimal("0.1")``. Arithmetic runs with 28 digits
  within Excel's range (1E±308; overflow gives ``#NUM!``); like Excel, the result, number
  comparisons, ROUND* inputs and number-to-text keep 15 significant digits, so 1/3*3 is 1.
  Dates and times become Excel serial numbers (1900 system).
- Text is ``str``, logicals are ``bool``, errors are :class:`ExcelError` values (never
  exceptions), and a blank cell is ``None``. A formula never returns ``None``: a bare
  reference to a blank cell gives ``Decimal(0)``, as in Excel.
- Blanks are 0 in arithmetic and "" in text. Text that is not a number gives ``#VALUE!``
  in arithmetic. Text comparison and criteria matching ignore case (``str.lower``).
- ``""`` (an empty string, which in Excel only a formula can leave in a cell) counts as
  non-empty for COUNTA and for the criterion ``"<>"``, and as blank for COUNTBLANK and the
  criterion ``""``; ISBLANK is TRUE only for ``None``. This is Excel's own behaviour.
- Errors propagate through operators and functions, except IFERROR, the IS- functions
  and COUNT/COUNTA/COUNTIF-style counting.
- Logicals and numeric text count in SUM/COUNT/AND... only when typed as direct
  arguments; inside references they are skipped (Excel, unlike LibreOffice).
- COUNTIF-style criteria: "是", "=是", "<>否" (blanks count as "not 否"), "<>" (non-blank),
  "" (blank or ""), "=" (truly blank only), ">=5", "<>5", "50%", wildcards * ? and ~.
  A numeric criterion also matches numbers stored as text; an empty criteria cell means 0.

Supported: number, string ("" escapes), TRUE/FALSE and error literals; references ``A1``,
``$A$1``, ``Sheet!A1``, ``'带 空格的表'!$B$2``, ranges ``A1:B9``, whole columns ``A:C`` and
rows ``2:5`` (clipped by ``sheet_extent`` when given); defined names (with
``resolve_name``); operators ``+ - * / ^ & = <> < > <= >=``, unary ``-``/``+``, postfix
``%`` and parentheses; functions SUM, COUNT, COUNTA, COUNTBLANK, COUNTIF, COUNTIFS, SUMIF,
SUMIFS, IF, IFERROR, IFS, AND, OR, NOT, ROUND, ROUNDUP, ROUNDDOWN, MIN, MAX, ABS, AVERAGE,
ISBLANK, ISNUMBER, LEN, TRIM, CONCATENATE, CONCAT.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

__all__ = [
    "ERROR_CODES",
    "MAX_CELLS",
    "MAX_FORMULA_LENGTH",
    "ExcelError",
    "UnsupportedFormula",
    "evaluate",
    "referenced_cells",
]

ERROR_CODES: frozenset[str] = frozenset(
    {"#DIV/0!", "#REF!", "#NAME?", "#VALUE!", "#N/A", "#NUM!", "#NULL!"}
)

# Safety limits for hostile input. Excel itself caps a formula at 8,192 characters and a
# text value at 32,767 characters.
MAX_FORMULA_LENGTH = 8192
MAX_CELLS = 100_000
MAX_TEXT_LENGTH = 32767

_MAX_ROW = 1_048_576
_MAX_COL = 16_384

# What the user can do about any formula we cannot evaluate.
_FIX = "请在 Excel 或 WPS 中打开并保存该文件（以写入计算结果），或在该单元格直接填写数值"
_FIX_SYNTAX = "请改正公式，或在该单元格直接填写数值"


@dataclass(frozen=True)
class ExcelError:
    """An Excel error value such as ``#DIV/0!``; a value that flows through formulas."""

    code: str

    def __post_init__(self) -> None:
        if self.code not in ERROR_CODES:
            raise ValueError(f"unknown Excel error code {self.code!r}")

    def __str__(self) -> str:
        return self.code


DIV0 = ExcelError("#DIV/0!")
NA = ExcelError("#N/A")
NAME = ExcelError("#NAME?")
NUM = ExcelError("#NUM!")
REF = ExcelError("#REF!")
VALUE = ExcelError("#VALUE!")


class UnsupportedFormula(Exception):
    """A formula this module cannot evaluate; ``message`` is Chinese and says what to do."""

    def __init__(self, message: str, formula: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.formula = formula


GetCell = Callable[[str, str], object]
ResolveName = Callable[[str], "str | None"]
SheetExtent = Callable[[str], "tuple[int, int]"]

# Decimal arithmetic limited to Excel's number range; traps turn into error values.
_CTX = Context(prec=28, Emax=308, Emin=-308, traps=[InvalidOperation, DivisionByZero, Overflow])
# Excel keeps 15 significant digits; results and comparisons are rounded to that.
_CTX15 = Context(prec=15, Emax=308, Emin=-308, rounding=ROUND_HALF_UP, traps=[])
_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def evaluate(
    formula: str,
    sheet: str,
    get_cell: GetCell,
    max_depth: int = 50,
    *,
    resolve_name: ResolveName | None = None,
    sheet_extent: SheetExtent | None = None,
    max_cells: int = MAX_CELLS,
) -> object:
    """Evaluate one formula.

    Args:
        formula: formula text, with or without the leading "=".
        sheet: title of the sheet the formula lives in (for unqualified references).
        get_cell: ``get_cell(sheet_title, "B7")`` returns that cell's value: None for blank,
            int/float/Decimal, str, bool, datetime or ExcelError (convert openpyxl's error
            cells, which it reads as str with data_type "e"; return ExcelError("#REF!")
            for an unknown sheet). Sheet titles are passed as written in the formula
            (quotes removed; Excel matches them case-insensitively). It may evaluate nested
            formulas itself, bounding its own recursion, and may raise UnsupportedFormula,
            which propagates.
        max_depth: deepest nesting of parentheses and function calls accepted.
        resolve_name: optional; maps a defined name to its reference text such as
            ``'预算执行'!$C$7``, or None when undefined (the name then gives ``#NAME?``).
            Without it any name in the formula raises UnsupportedFormula.
        sheet_extent: optional; maps a sheet title to (max_row, max_column) so that whole
            columns/rows such as ``C:C`` are clipped to the used area.
        max_cells: most cells all ranges of this formula may cover together.

    Returns:
        Decimal, str, bool or ExcelError (never None; see the module docstring).

    Raises:
        UnsupportedFormula: malformed or unsupported formula, or a safety limit exceeded.
    """
    try:
        root = _parse(formula, max_depth)
        ev = _Evaluator(sheet, get_cell, resolve_name, sheet_extent, max_cells, max_depth)
        result = ev.value(root)
        if result is None:
            return _ZERO
        return _tidy(_p15(result)) if isinstance(result, Decimal) else result
    except UnsupportedFormula as exc:
        if exc.formula is None:
            exc.formula = formula
        raise
    except RecursionError:
        raise UnsupportedFormula(
            f"公式或其引用的公式嵌套过深，无法计算；请简化公式。{_FIX}", formula
        ) from None


def referenced_cells(
    formula: str,
    sheet: str,
    *,
    resolve_name: ResolveName | None = None,
    sheet_extent: SheetExtent | None = None,
    max_cells: int = MAX_CELLS,
    max_depth: int = 50,
) -> list[tuple[str, str]]:
    """List every cell a formula may read, for dependency and cycle detection.

    Args:
        formula, sheet, resolve_name, sheet_extent, max_cells, max_depth: as for
            :func:`evaluate`. Undefined names are skipped (they read no cell).

    Returns:
        ``[(sheet_title, "B7"), ...]`` in order of first appearance, without duplicates,
        including cells in branches that evaluation might skip.

    Raises:
        UnsupportedFormula: as for :func:`evaluate`, and when the ranges exceed max_cells.
    """
    try:
        root = _parse(formula, max_depth)
    except RecursionError:
        raise UnsupportedFormula(f"公式嵌套过深，无法计算。{_FIX}", formula) from None
    ev = _Evaluator(sheet, lambda s, a: None, resolve_name, sheet_extent, max_cells, max_depth)
    seen: dict[tuple[str, str], None] = {}
    stack = [root]
    try:
        while stack:
            node = stack.pop()
            kind = node[0]
            if kind == "name":
                target = ev.resolve(node, strict=True)
                if target[0] != "lit":
                    stack.append(target)
            elif kind in ("ref", "range"):
                sh, c1, r1, c2, r2 = ev.bounds(node)
                for r in range(r1, r2 + 1):
                    for c in range(c1, c2 + 1):
                        seen.setdefault((sh, _address(c, r)), None)
            elif kind == "chain":
                stack.extend(n for _, n in reversed(node[2]))
                stack.append(node[1])
            elif kind == "unary":
                stack.append(node[3])
            elif kind == "call":
                stack.extend(reversed(node[2]))
    except UnsupportedFormula as exc:
        if exc.formula is None:
            exc.formula = formula
        raise
    return list(seen)


# ---------------------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------------------

_SHEET_QUOTED = re.compile(r"'((?:[^']|'')+)'!")
_SHEET_PLAIN = re.compile(r"([^\W\d][\w.]*)!")
_END_OF_REF = r"(?![\w.(!])"
_CELL_RANGE = re.compile(
    r"\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?" + _END_OF_REF
)
_COL_RANGE = re.compile(r"\$?([A-Za-z]{1,3}):\$?([A-Za-z]{1,3})" + _END_OF_REF)
_ROW_RANGE = re.compile(r"\$?(\d+):\$?(\d+)" + _END_OF_REF)
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[^\W\d][\w.]*")
_STRING = re.compile(r'"((?:[^"]|"")*)"')
_ERROR = re.compile(r"#(?:DIV/0!|REF!|NAME\?|VALUE!|N/A|NUM!|NULL!)", re.IGNORECASE)
_OPERATORS = tuple("<> <= >= + - * / ^ & = < > % ( ) , :".split())  # two-char ops first
_SPACE = " \t\r\n"


@dataclass(frozen=True)
class _Tok:
    kind: str  # NUM STR ERR REF IDENT OP END
    value: object
    pos: int
    text: str


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _col_letters(index: int) -> str:
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _address(col: int, row: int) -> str:
    return f"{_col_letters(col)}{row}"


def _quote_sheet(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _match_ref(text: str, pos: int, sheet: str | None) -> tuple[object, int] | None:
    """Match a cell, range, whole-column or whole-row reference at pos."""
    m = _CELL_RANGE.match(text, pos)
    if m:
        c1, r1 = _col_index(m.group(1)), int(m.group(2))
        c2, r2 = c1, r1
        if m.group(3):
            c2, r2 = _col_index(m.group(3)), int(m.group(4))
        if max(c1, c2) <= _MAX_COL and 1 <= min(r1, r2) and max(r1, r2) <= _MAX_ROW:
            if m.group(3) is None:
                return ("ref", sheet, c1, r1), m.end()
            return _range_node(sheet, c1, r1, c2, r2, None), m.end()
    m = _COL_RANGE.match(text, pos)
    if m:
        c1, c2 = _col_index(m.group(1)), _col_index(m.group(2))
        if max(c1, c2) <= _MAX_COL:
            return _range_node(sheet, c1, 1, c2, _MAX_ROW, "col"), m.end()
    m = _ROW_RANGE.match(text, pos)
    if m:
        r1, r2 = int(m.group(1)), int(m.group(2))
        if 1 <= min(r1, r2) and max(r1, r2) <= _MAX_ROW:
            return _range_node(sheet, 1, r1, _MAX_COL, r2, "row"), m.end()
    return None


def _range_node(sheet, c1, r1, c2, r2, whole):
    return ("range", sheet, min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2), whole)


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos, n = 0, len(text)
    while pos < n:
        ch = text[pos]
        if ch in _SPACE:
            pos += 1
            continue
        start = pos
        sheet = None
        m = _SHEET_QUOTED.match(text, pos) or _SHEET_PLAIN.match(text, pos)
        if m:
            sheet = m.group(1).replace("''", "'")
            pos = m.end()
            err = _ERROR.match(text, pos)
            if err and err.group(0).upper() == "#REF!":
                toks.append(_Tok("ERR", REF, start, text[start : err.end()]))
                pos = err.end()
                continue
            found = _match_ref(text, pos, sheet)
            if found is None:
                raise UnsupportedFormula(
                    f"公式中「{text[start : pos + 20]}」不是可识别的单元格引用"
                    f"（不支持跨表名称、三维引用或结构化引用）。{_FIX}"
                )
            node, pos = found
            toks.append(_Tok("REF", node, start, text[start:pos]))
            continue
        found = _match_ref(text, pos, None)
        if found is not None:
            node, pos = found
            toks.append(_Tok("REF", node, start, text[start:pos]))
            continue
        m = _NUMBER.match(text, pos)
        if m:
            toks.append(_Tok("NUM", m.group(0), start, m.group(0)))
            pos = m.end()
            continue
        m = _IDENT.match(text, pos)
        if m:
            toks.append(_Tok("IDENT", m.group(0), start, m.group(0)))
            pos = m.end()
            continue
        if ch == '"':
            m = _STRING.match(text, pos)
            if not m:
                raise UnsupportedFormula(f'公式中的文本缺少结尾的英文双引号 "，{_FIX_SYNTAX}')
            toks.append(_Tok("STR", m.group(1).replace('""', '"'), start, m.group(0)))
            pos = m.end()
            continue
        m = _ERROR.match(text, pos)
        if m:
            code = m.group(0).upper()
            toks.append(_Tok("ERR", ExcelError(code), start, code))
            pos = m.end()
            continue
        for op in _OPERATORS:
            if text.startswith(op, pos):
                toks.append(_Tok("OP", op, start, op))
                pos += len(op)
                break
        else:
            raise UnsupportedFormula(
                f"公式第 {pos + 1} 个字符「{ch}」无法识别（数组常量、分号分隔等写法不受支持）。"
                f"{_FIX}"
            )
    toks.append(_Tok("END", None, n, ""))
    return toks


# ---------------------------------------------------------------------------------------
# Parser: builds tuples; binary operators at one level form a flat "chain" so that long
# sums such as A1+A2+...+A500 do not deepen the tree (and Python's stack).
#   ("lit", value) ("ref", sheet, col, row) ("range", sheet, c1, r1, c2, r2, whole)
#   ("name", text) ("chain", first, ((op, node), ...)) ("unary", negate, pct, node)
#   ("call", NAME, (args...)) ("missing",)
# ---------------------------------------------------------------------------------------

_LEVELS = (
    ("=", "<>", "<", ">", "<=", ">="),
    ("&",),
    ("+", "-"),
    ("*", "/"),
    ("^",),
)
_MISSING = ("missing",)


def _parse(formula: str, max_depth: int):
    if not isinstance(formula, str):
        raise UnsupportedFormula(f"公式必须是文本。{_FIX}")
    if len(formula) > MAX_FORMULA_LENGTH:
        raise UnsupportedFormula(
            f"公式长度 {len(formula)} 个字符，超过上限 {MAX_FORMULA_LENGTH}；请简化公式。{_FIX}"
        )
    text = formula.strip()
    if text.startswith("="):
        text = text[1:]
    if not text.strip():
        raise UnsupportedFormula("公式为空，请填写公式或数值")
    return _Parser(_tokenize(text), max_depth).parse()


class _Parser:
    def __init__(self, toks: list[_Tok], max_depth: int) -> None:
        self.toks = toks
        self.i = 0
        self.depth = 0
        self.max_depth = max_depth

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def is_op(self, *ops: str) -> bool:
        tok = self.toks[self.i]
        return tok.kind == "OP" and tok.value in ops

    def advance(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, tok: _Tok):
        if tok.kind == "END":
            raise UnsupportedFormula(f"公式不完整（末尾缺少运算对象或右括号），{_FIX_SYNTAX}")
        if tok.kind == "OP" and tok.value == ")":
            raise UnsupportedFormula(f"公式中的括号不配对（多了右括号），{_FIX_SYNTAX}")
        if tok.kind == "OP" and tok.value == ":":
            raise UnsupportedFormula(f"公式中只支持「A1:B9」这样的单元格区域写法，{_FIX_SYNTAX}")
        raise UnsupportedFormula(
            f"公式第 {tok.pos + 1} 个字符附近的「{tok.text}」无法识别，{_FIX_SYNTAX}"
        )

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise UnsupportedFormula(
                f"公式的括号或函数嵌套超过 {self.max_depth} 层，无法计算；请简化公式。{_FIX}"
            )

    def parse(self):
        node = self.expr()
        if self.peek().kind != "END":
            self.fail(self.peek())
        return node

    def expr(self, level: int = 0):
        if level == len(_LEVELS):
            return self.unary()
        first = self.expr(level + 1)
        rest = []
        while self.is_op(*_LEVELS[level]):
            op = self.advance().value
            rest.append((op, self.expr(level + 1)))
        return ("chain", first, tuple(rest)) if rest else first

    def unary(self):
        negate = False
        while self.is_op("+", "-"):
            negate ^= self.advance().value == "-"
        node = self.primary()
        pct = 0
        while self.is_op("%"):
            self.advance()
            pct += 1
        if negate or pct:
            return ("unary", negate, pct, node)
        return node

    def primary(self):
        tok = self.advance()
        if tok.kind == "NUM":
            try:
                return ("lit", _CTX.create_decimal(tok.value))
            except (Overflow, InvalidOperation):
                raise UnsupportedFormula(
                    f"公式中的数字 {tok.text} 超出 Excel 的数值范围。{_FIX}"
                ) from None
        if tok.kind in ("STR", "ERR"):
            return ("lit", tok.value)
        if tok.kind == "REF":
            return tok.value
        if tok.kind == "IDENT":
            if self.is_op("("):
                return self.call(tok)
            upper = tok.value.upper()
            if upper in ("TRUE", "FALSE"):
                return ("lit", upper == "TRUE")
            return ("name", tok.value)
        if tok.kind == "OP" and tok.value == "(":
            self.enter()
            node = self.expr()
            if not self.is_op(")"):
                self.fail(self.peek())
            self.advance()
            self.depth -= 1
            return node
        self.fail(tok)

    def call(self, tok: _Tok):
        name = tok.value.upper()
        for prefix in ("_XLFN.", "_XLWS."):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        spec = _FUNCTIONS.get(name)
        if spec is None:
            raise UnsupportedFormula(f"公式中的函数 {name} 无法在 Excel 之外计算。{_FIX}")
        self.enter()
        self.advance()  # "("
        args = []
        if self.is_op(")"):
            self.advance()
        else:
            while True:
                args.append(_MISSING if self.is_op(",", ")") else self.expr())
                if self.is_op(","):
                    self.advance()
                    continue
                if self.is_op(")"):
                    self.advance()
                    break
                self.fail(self.peek())
        self.depth -= 1
        low, high, step, _ = spec
        if len(args) < low or (high is not None and len(args) > high) or ((len(args) - low) % step):
            raise UnsupportedFormula(
                f"函数 {name} 的参数个数不对（{_arity_text(low, high, step)}，"
                f"实际 {len(args)} 个），{_FIX_SYNTAX}"
            )
        return ("call", name, tuple(args))


def _arity_text(low: int, high: int | None, step: int) -> str:
    if high == low:
        return f"应为 {low} 个"
    if high is None:
        return f"至少 {low} 个" + ("，且成对出现" if step == 2 else "")
    return f"应为 {low}～{high} 个"


# ---------------------------------------------------------------------------------------
# Values and coercions
# ---------------------------------------------------------------------------------------

_EPOCH = _dt.datetime(1899, 12, 30)
_NUMERIC_TEXT = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(%?)\s*")


def _clean(d: Decimal) -> Decimal:
    # Drop underflow leftovers such as 0E-335 and negative zero.
    return _ZERO if d.is_zero() else d


def _p15(d: Decimal) -> Decimal:
    """Round to Excel's 15 significant digits, so that e.g. 1/3*3 is 1 as in Excel."""
    return _clean(_CTX15.plus(d))


def _tidy(d: Decimal) -> Decimal:
    """Drop exponent and trailing zeros (1.5E+3 -> 1500, 2.50 -> 2.5) for readable values."""
    d = d.normalize(_CTX)
    if d.as_tuple().exponent > 0:
        try:
            return d.quantize(_ONE, context=_CTX)
        except InvalidOperation:
            return d
    return d


def _from_cell(value: object) -> object:
    """Normalize what get_cell returned into the evaluator's value model."""
    if value is None or isinstance(value, (bool, str, ExcelError)):
        return value
    try:
        if isinstance(value, int):
            return _CTX.create_decimal(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                return NUM
            return _clean(_CTX.create_decimal(repr(value)))
        if isinstance(value, Decimal):
            return _clean(_CTX.plus(value)) if value.is_finite() else NUM
        if isinstance(value, _dt.datetime):
            delta = value.replace(tzinfo=None) - _EPOCH
        elif isinstance(value, _dt.date):
            delta = _dt.datetime(value.year, value.month, value.day) - _EPOCH
        elif isinstance(value, _dt.time):
            delta = _dt.datetime.combine(_EPOCH.date(), value) - _EPOCH
        elif isinstance(value, _dt.timedelta):
            delta = value
        else:
            raise UnsupportedFormula(
                f"单元格中的值类型（{type(value).__name__}）无法参与计算。{_FIX}"
            )
        seconds = Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / (
            Decimal(10) ** 6
        )
        return _clean(_CTX.divide(seconds, Decimal(86400)))
    except (Overflow, InvalidOperation):
        return NUM


def _numeric_text(text: str) -> Decimal | None:
    m = _NUMERIC_TEXT.fullmatch(text)
    if not m:
        return None
    try:
        d = _CTX.create_decimal(m.group(1))
        return _clean(_CTX.divide(d, _HUNDRED) if m.group(2) else d)
    except (Overflow, InvalidOperation):
        return None


def _to_number(v: object) -> Decimal | ExcelError:
    if v is None:
        return _ZERO
    if isinstance(v, bool):
        return _ONE if v else _ZERO
    if isinstance(v, (Decimal, ExcelError)):
        return v
    if isinstance(v, str):
        d = _numeric_text(v)
        return VALUE if d is None else d
    return VALUE


def _to_bool(v: object) -> bool | ExcelError:
    if v is None:
        return False
    if isinstance(v, (bool, ExcelError)):
        return v
    if isinstance(v, Decimal):
        return not v.is_zero()
    if isinstance(v, str):
        upper = v.strip().upper()
        if upper in ("TRUE", "FALSE"):
            return upper == "TRUE"
    return VALUE


def _number_text(d: Decimal) -> str:
    """Excel's General text of a number: 15 significant digits, exponent when huge/tiny."""
    if d.is_zero():
        return "0"
    d15 = _p15(d)
    if Decimal("1E-9") <= abs(d15) < Decimal("1E15"):
        text = format(d15, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    return format(d15.normalize(), "E")


def _to_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, Decimal):
        return _number_text(v)
    return str(v)


def _rank(v: object) -> int:
    # Excel orders numbers < text < logicals when types differ.
    if isinstance(v, bool):
        return 2
    if isinstance(v, str):
        return 1
    return 0


def _blank_like(v: object) -> object:
    if isinstance(v, bool):
        return False
    if isinstance(v, str):
        return ""
    return _ZERO


def _compare(a: object, b: object) -> int:
    if a is None:
        a = _blank_like(b)
    if b is None:
        b = _blank_like(a)
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 1:
        a, b = a.lower(), b.lower()
    elif ra == 0:
        a, b = _p15(a), _p15(b)
    return (a > b) - (a < b)


_COMPARISONS = {
    "=": lambda c: c == 0,
    "<>": lambda c: c != 0,
    "<": lambda c: c < 0,
    ">": lambda c: c > 0,
    "<=": lambda c: c <= 0,
    ">=": lambda c: c >= 0,
}


def _arith(op: str, x: Decimal, y: Decimal) -> Decimal | ExcelError:
    try:
        if op == "+":
            r = _CTX.add(x, y)
        elif op == "-":
            r = _CTX.subtract(x, y)
        elif op == "*":
            r = _CTX.multiply(x, y)
        elif op == "/":
            if y.is_zero():
                return DIV0
            r = _CTX.divide(x, y)
        else:  # "^"
            if x.is_zero():
                if y.is_zero():
                    return NUM
                if y < 0:
                    return DIV0
            r = _CTX.power(x, y)
    except DivisionByZero:
        return DIV0
    except (Overflow, InvalidOperation):
        return NUM
    return _clean(r) if r.is_finite() else NUM


def _binary(op: str, a: object, b: object) -> object:
    if isinstance(a, ExcelError):
        return a
    if isinstance(b, ExcelError):
        return b
    if op == "&":
        text = _to_text(a) + _to_text(b)
        return VALUE if len(text) > MAX_TEXT_LENGTH else text
    if op in _COMPARISONS:
        return _COMPARISONS[op](_compare(a, b))
    x, y = _to_number(a), _to_number(b)
    if isinstance(x, ExcelError):
        return x
    if isinstance(y, ExcelError):
        return y
    return _arith(op, x, y)


# ---------------------------------------------------------------------------------------
# Criteria (COUNTIF, COUNTIFS, SUMIF, SUMIFS)
# ---------------------------------------------------------------------------------------

_CRITERIA_OPS = ("<>", ">=", "<=", "=", "<", ">")


def _wildcard(pattern: str) -> list[tuple[str, str]]:
    """Split an Excel wildcard pattern: * any run, ? one char, ~ escapes the next."""
    items: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "~" and i + 1 < len(pattern) and pattern[i + 1] in "*?~":
            items.append(("lit", pattern[i + 1].lower()))
            i += 2
            continue
        if ch == "*":
            if not items or items[-1][0] != "star":  # "**" == "*"
                items.append(("star", ""))
        elif ch == "?":
            items.append(("one", ""))
        else:
            items.append(("lit", ch.lower()))
        i += 1
    return items


def _glob_match(items: list[tuple[str, str]], text: str) -> bool:
    # Greedy match with one backtrack point per star: O(len(text) * len(items)), so a
    # hostile pattern cannot blow up the way a backtracking regex can.
    text = text.lower()
    ti = pi = 0
    star_pi, star_ti = -1, 0
    while ti < len(text):
        if pi < len(items) and (
            items[pi][0] == "one" or (items[pi][0] == "lit" and items[pi][1] == text[ti])
        ):
            ti += 1
            pi += 1
        elif pi < len(items) and items[pi][0] == "star":
            star_pi, star_ti = pi, ti
            pi += 1
        elif star_pi >= 0:
            star_ti += 1
            ti = star_ti
            pi = star_pi + 1
        else:
            return False
    while pi < len(items) and items[pi][0] == "star":
        pi += 1
    return pi == len(items)


def _equals_matcher(text: str, explicit: bool) -> Callable[[object], bool]:
    if text == "":
        # "" matches blank cells and empty strings; "=" only truly blank cells.
        if explicit:
            return lambda v: v is None
        return lambda v: v is None or v == ""
    number = _numeric_text(text)
    if number is not None:
        return lambda v: _number_equals(v, number)
    upper = text.upper()
    if upper in ("TRUE", "FALSE"):
        flag = upper == "TRUE"
        return lambda v: isinstance(v, bool) and v == flag
    if upper in ERROR_CODES:
        return lambda v: isinstance(v, ExcelError) and v.code == upper
    items = _wildcard(text)
    if all(kind == "lit" for kind, _ in items):
        folded = "".join(ch for _, ch in items)
        return lambda v: isinstance(v, str) and v.lower() == folded
    return lambda v: isinstance(v, str) and _glob_match(items, v)


def _number_equals(v: object, number: Decimal) -> bool:
    if isinstance(v, str):  # COUNTIF also matches numbers stored as text
        v = _numeric_text(v)
    return isinstance(v, Decimal) and _p15(v) == _p15(number)


def _criterion(crit: object) -> Callable[[object], bool]:
    """Turn a criteria argument into a cell predicate, following Excel's COUNTIF rules."""
    if isinstance(crit, ExcelError):
        return lambda v: v == crit
    if isinstance(crit, bool):
        return lambda v: isinstance(v, bool) and v == crit
    if crit is None:
        crit = _ZERO  # an empty criteria cell behaves as 0
    if isinstance(crit, Decimal):
        return lambda v: _number_equals(v, crit)
    text = str(crit)
    op = ""
    for candidate in _CRITERIA_OPS:
        if text.startswith(candidate):
            op, text = candidate, text[len(candidate) :]
            break
    if op in ("", "="):
        return _equals_matcher(text, op == "=")
    if op == "<>":
        if text == "":
            return lambda v: v is not None
        equal = _equals_matcher(text, False)
        return lambda v: not equal(v)
    test = _COMPARISONS[op]
    number = _numeric_text(text)
    if number is not None:
        number = _p15(number)
        return lambda v: isinstance(v, Decimal) and test(_compare(v, number))
    upper = text.upper()
    if upper in ("TRUE", "FALSE"):
        flag = upper == "TRUE"
        return lambda v: isinstance(v, bool) and test((v > flag) - (v < flag))
    folded = text.lower()
    return lambda v: isinstance(v, str) and test((v.lower() > folded) - (v.lower() < folded))


# ---------------------------------------------------------------------------------------
# Evaluator
# ---------------------------------------------------------------------------------------


@dataclass
class _Range:
    sheet: str
    rows: int
    cols: int
    values: list


class _Evaluator:
    def __init__(self, sheet, get_cell, resolve_name, sheet_extent, max_cells, max_depth):
        self.sheet = sheet
        self.get_cell = get_cell
        self.resolve_name = resolve_name
        self.sheet_extent = sheet_extent
        self.cells_left = max_cells
        self.max_cells = max_cells
        self.max_depth = max_depth
        self.names: dict[str, tuple] = {}

    # -- references -------------------------------------------------------------------

    def cell(self, sheet: str, col: int, row: int) -> object:
        return _from_cell(self.get_cell(sheet, _address(col, row)))

    def resolve(self, node, strict: bool = False):
        """Replace a defined name by the reference it points to (or #NAME?)."""
        name = node[1]
        key = name.upper()
        if key in self.names:
            return self.names[key]
        if self.resolve_name is None:
            raise UnsupportedFormula(f"公式中的名称「{name}」无法解析。{_FIX}")
        target_text = self.resolve_name(name)
        if target_text is None:
            target = ("lit", NAME)
        else:
            text = str(target_text).strip().lstrip("=")
            try:
                toks = _tokenize(text)
            except UnsupportedFormula:
                toks = []
            if len(toks) != 2 or toks[0].kind != "REF":
                raise UnsupportedFormula(
                    f"名称「{name}」指向「{target_text}」，不是单元格或区域，无法计算。{_FIX}"
                )
            target = toks[0].value
        self.names[key] = target
        return target

    def bounds(self, node) -> tuple[str, int, int, int, int]:
        """Sheet and corners of a ref/range node, clipped and checked against the cap."""
        if node[0] == "ref":
            _, sheet, col, row = node
            return sheet or self.sheet, col, row, col, row
        _, sheet, c1, r1, c2, r2, whole = node
        sheet = sheet or self.sheet
        if whole and self.sheet_extent is not None:
            max_row, max_col = self.sheet_extent(sheet)
            if whole == "col":
                r2 = max(r1, min(r2, int(max_row)))
            else:
                c2 = max(c1, min(c2, int(max_col)))
        size = (r2 - r1 + 1) * (c2 - c1 + 1)
        if size > self.cells_left:
            label = f"{_quote_sheet(sheet)}!{_address(c1, r1)}:{_address(c2, r2)}"
            raise UnsupportedFormula(
                f"公式中的区域 {label} 共 {size} 个单元格，连同其他区域超过上限 "
                f"{self.max_cells} 个；请把区域缩小到实际数据所在的行列（例如 C2:C200）。{_FIX}"
            )
        self.cells_left -= size
        return sheet, c1, r1, c2, r2

    def fetch(self, sheet: str, c1: int, r1: int, rows: int, cols: int) -> _Range:
        values = [
            self.cell(sheet, c, r) for r in range(r1, r1 + rows) for c in range(c1, c1 + cols)
        ]
        return _Range(sheet, rows, cols, values)

    def range_arg(self, node, func: str, index: int):
        """The reference argument of COUNTIF-like functions, as (sheet, c1, r1, rows, cols)."""
        if node[0] == "name":
            node = self.resolve(node)
        if node[0] not in ("ref", "range"):
            raise UnsupportedFormula(
                f"函数 {func} 的第 {index} 个参数必须是单元格区域（如 C2:C20），{_FIX_SYNTAX}"
            )
        sheet, c1, r1, c2, r2 = self.bounds(node)
        return sheet, c1, r1, r2 - r1 + 1, c2 - c1 + 1

    def items(self, node) -> tuple[bool, list]:
        """Values of one function argument and whether they came from a reference."""
        if node[0] == "name":
            node = self.resolve(node)
        if node[0] in ("ref", "range"):
            sheet, c1, r1, c2, r2 = self.bounds(node)
            return True, self.fetch(sheet, c1, r1, r2 - r1 + 1, c2 - c1 + 1).values
        return False, [self.value(node)]

    # -- scalar evaluation ------------------------------------------------------------

    def value(self, node) -> object:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "missing":
            return None
        if kind == "name":
            return self.value(self.resolve(node))
        if kind in ("ref", "range"):
            sheet, c1, r1, c2, r2 = self.bounds(node)
            if (c1, r1) != (c2, r2):
                label = f"{_address(c1, r1)}:{_address(c2, r2)}"
                raise UnsupportedFormula(
                    f"区域 {label} 不能用在需要单个值的位置（不支持隐式交集和数组运算），"
                    f"请改为引用单个单元格或用 SUM 等函数汇总。"
                )
            return self.cell(sheet, c1, r1)
        if kind == "chain":
            left = self.value(node[1])
            for op, operand in node[2]:
                left = _binary(op, left, self.value(operand))
            return left
        if kind == "unary":
            _, negate, pct, operand = node
            v = self.value(operand)
            if isinstance(v, ExcelError):
                return v
            x = _to_number(v)
            if isinstance(x, ExcelError):
                return x
            for _ in range(pct):
                x = _arith("/", x, _HUNDRED)
            return _clean(-x) if negate and isinstance(x, Decimal) else x
        if kind == "call":
            return _FUNCTIONS[node[1]][3](self, node[2])
        raise AssertionError(kind)  # pragma: no cover

    def numbers(self, args) -> list[Decimal] | ExcelError:
        """Numbers for SUM/AVERAGE/MIN/MAX: references skip text, logicals and blanks."""
        out: list[Decimal] = []
        for node in args:
            from_ref, values = self.items(node)
            for v in values:
                if isinstance(v, ExcelError):
                    return v
                if from_ref:
                    if isinstance(v, Decimal):
                        out.append(v)
                    continue
                x = _to_number(v)
                if isinstance(x, ExcelError):
                    return x
                out.append(x)
        return out

    def logicals(self, args) -> list[bool] | ExcelError:
        out: list[bool] = []
        for node in args:
            from_ref, values = self.items(node)
            for v in values:
                if isinstance(v, ExcelError):
                    return v
                if from_ref:
                    if isinstance(v, (bool, Decimal)):
                        out.append(bool(v))
                    continue
                b = _to_bool(v)
                if isinstance(b, ExcelError):
                    return b
                out.append(b)
        return out

    def scalar_text(self, node) -> str | ExcelError:
        v = self.value(node)
        return v if isinstance(v, ExcelError) else _to_text(v)

    def match_positions(self, func: str, args, first: int, shape=None):
        """Which positions match every (range, criteria) pair in args[first:].

        Returns:
            (hits, (rows, cols)) or ExcelError #VALUE! when the ranges differ in size.
        """
        hits: list[bool] | None = None
        for i in range(first, len(args), 2):
            sheet, c1, r1, rows, cols = self.range_arg(args[i], func, i + 1)
            if shape is not None and (rows, cols) != shape:
                return VALUE  # Excel: all ranges of COUNTIFS/SUMIFS must be the same size
            shape = (rows, cols)
            test = _criterion(self.value(args[i + 1]))
            now = [test(v) for v in self.fetch(sheet, c1, r1, rows, cols).values]
            hits = now if hits is None else [a and b for a, b in zip(hits, now, strict=True)]
        return hits or [], shape


# ---------------------------------------------------------------------------------------
# Functions: name -> (min args, max args or None, step for repeated groups, implementation)
# ---------------------------------------------------------------------------------------


def _total(nums) -> Decimal | ExcelError:
    total = _ZERO
    for x in nums:
        total = _arith("+", total, x)
        if isinstance(total, ExcelError):
            return total
    return total


def _sum(ev: _Evaluator, args):
    nums = ev.numbers(args)
    return nums if isinstance(nums, ExcelError) else _total(nums)


def _average(ev: _Evaluator, args):
    nums = ev.numbers(args)
    if isinstance(nums, ExcelError):
        return nums
    if not nums:
        return DIV0
    total = _total(nums)
    return total if isinstance(total, ExcelError) else _arith("/", total, Decimal(len(nums)))


def _min_max(pick):
    def impl(ev: _Evaluator, args):
        nums = ev.numbers(args)
        if isinstance(nums, ExcelError):
            return nums
        return pick(nums) if nums else _ZERO

    return impl


def _count(ev: _Evaluator, args):
    n = 0
    for node in args:
        from_ref, values = ev.items(node)
        for v in values:
            # Direct arguments also count logicals and numeric text, as in Excel.
            n += isinstance(v if from_ref else _to_number(v), Decimal)
    return Decimal(n)


def _counta(ev: _Evaluator, args):
    n = 0
    for node in args:
        from_ref, values = ev.items(node)
        n += sum(1 for v in values if v is not None) if from_ref else len(values)
    return Decimal(n)


def _countblank(ev: _Evaluator, args):
    sheet, c1, r1, rows, cols = ev.range_arg(args[0], "COUNTBLANK", 1)
    values = ev.fetch(sheet, c1, r1, rows, cols).values
    return Decimal(sum(1 for v in values if v is None or v == ""))


def _countifs(name: str):
    def impl(ev: _Evaluator, args):
        found = ev.match_positions(name, args, 0)
        return found if isinstance(found, ExcelError) else Decimal(sum(found[0]))

    return impl


def _sum_where(hits, sum_values) -> Decimal | ExcelError:
    picked = []
    for hit, v in zip(hits, sum_values, strict=True):
        if hit and isinstance(v, ExcelError):
            return v
        if hit and isinstance(v, Decimal):
            picked.append(v)
    return _total(picked)


def _sumif(ev: _Evaluator, args):
    found = ev.match_positions("SUMIF", args[:2], 0)
    if isinstance(found, ExcelError):
        return found
    hits, (rows, cols) = found
    # Excel sizes sum_range like range, starting from sum_range's top-left cell.
    source = args[2] if len(args) == 3 and args[2] is not _MISSING else args[0]
    if source[0] == "name":
        source = ev.resolve(source)
    if source[0] not in ("ref", "range"):
        ev.range_arg(source, "SUMIF", 3)  # raises the Chinese message
    sheet = source[1] or ev.sheet
    return _sum_where(hits, ev.fetch(sheet, source[2], source[3], rows, cols).values)


def _sumifs(ev: _Evaluator, args):
    sheet, c1, r1, rows, cols = ev.range_arg(args[0], "SUMIFS", 1)
    found = ev.match_positions("SUMIFS", args, 1, (rows, cols))
    if isinstance(found, ExcelError):
        return found
    return _sum_where(found[0], ev.fetch(sheet, c1, r1, rows, cols).values)


def _if(ev: _Evaluator, args):
    cond = _to_bool(ev.value(args[0]))
    if isinstance(cond, ExcelError):
        return cond
    if cond:
        return ev.value(args[1])
    return ev.value(args[2]) if len(args) == 3 else False


def _iferror(ev: _Evaluator, args):
    v = ev.value(args[0])
    return ev.value(args[1]) if isinstance(v, ExcelError) else v


def _ifs(ev: _Evaluator, args):
    for i in range(0, len(args), 2):
        cond = _to_bool(ev.value(args[i]))
        if isinstance(cond, ExcelError):
            return cond
        if cond:
            return ev.value(args[i + 1])
    return NA


def _and_or(combine):
    def impl(ev: _Evaluator, args):
        flags = ev.logicals(args)
        if isinstance(flags, ExcelError):
            return flags
        return combine(flags) if flags else VALUE

    return impl


def _not(ev: _Evaluator, args):
    b = _to_bool(ev.value(args[0]))
    return b if isinstance(b, ExcelError) else not b


def _round(mode):
    def impl(ev: _Evaluator, args):
        x = _to_number(ev.value(args[0]))
        digits = _to_number(ev.value(args[1]))
        if isinstance(x, ExcelError):
            return x
        if isinstance(digits, ExcelError):
            return digits
        n = int(digits)  # Excel truncates the digits argument
        x = _p15(x)  # so that ROUNDDOWN(1/3*3,0) is 1, as in Excel
        try:
            if n >= 0:
                if n > 30:
                    return x
                return _clean(x.quantize(Decimal(1).scaleb(-n), rounding=mode, context=_CTX))
            if n < -330:
                return _ZERO
            scale = _CTX.power(Decimal(10), Decimal(-n))
            q = _CTX.divide(x, scale).quantize(_ONE, rounding=mode, context=_CTX)
            r = _CTX.multiply(q, scale)
        except InvalidOperation:
            return x  # already fewer digits than requested
        except Overflow:
            return NUM
        try:
            return _clean(r.quantize(_ONE, context=_CTX))  # 1.2E+3 -> 1200
        except InvalidOperation:
            return _clean(r)

    return impl


def _abs(ev: _Evaluator, args):
    x = _to_number(ev.value(args[0]))
    return x if isinstance(x, ExcelError) else abs(x)


def _isblank(ev: _Evaluator, args):
    return ev.value(args[0]) is None and args[0] is not _MISSING


def _isnumber(ev: _Evaluator, args):
    return isinstance(ev.value(args[0]), Decimal)


def _len(ev: _Evaluator, args):
    text = ev.scalar_text(args[0])
    return text if isinstance(text, ExcelError) else Decimal(len(text))


def _trim(ev: _Evaluator, args):
    text = ev.scalar_text(args[0])
    if isinstance(text, ExcelError):
        return text
    return re.sub(" {2,}", " ", text.strip(" "))  # Excel TRIM only touches ASCII spaces


def _join(parts) -> str | ExcelError:
    out = []
    size = 0
    for v in parts:
        if isinstance(v, ExcelError):
            return v
        text = _to_text(v)
        size += len(text)
        if size > MAX_TEXT_LENGTH:
            return VALUE
        out.append(text)
    return "".join(out)


def _concatenate(ev: _Evaluator, args):
    return _join(ev.value(node) for node in args)


def _concat(ev: _Evaluator, args):
    return _join(v for node in args for v in ev.items(node)[1])


_FUNCTIONS: dict[str, tuple[int, int | None, int, Callable]] = {
    "SUM": (1, None, 1, _sum),
    "AVERAGE": (1, None, 1, _average),
    "MIN": (1, None, 1, _min_max(min)),
    "MAX": (1, None, 1, _min_max(max)),
    "COUNT": (1, None, 1, _count),
    "COUNTA": (1, None, 1, _counta),
    "COUNTBLANK": (1, 1, 1, _countblank),
    "COUNTIF": (2, 2, 1, _countifs("COUNTIF")),
    "COUNTIFS": (2, None, 2, _countifs("COUNTIFS")),
    "SUMIF": (2, 3, 1, _sumif),
    "SUMIFS": (3, None, 2, _sumifs),
    "IF": (2, 3, 1, _if),
    "IFERROR": (2, 2, 1, _iferror),
    "IFS": (2, None, 2, _ifs),
    "AND": (1, None, 1, _and_or(all)),
    "OR": (1, None, 1, _and_or(any)),
    "NOT": (1, 1, 1, _not),
    "ROUND": (2, 2, 1, _round(ROUND_HALF_UP)),
    "ROUNDUP": (2, 2, 1, _round(ROUND_UP)),
    "ROUNDDOWN": (2, 2, 1, _round(ROUND_DOWN)),
    "ABS": (1, 1, 1, _abs),
    "ISBLANK": (1, 1, 1, _isblank),
    "ISNUMBER": (1, 1, 1, _isnumber),
    "LEN": (1, 1, 1, _len),
    "TRIM": (1, 1, 1, _trim),
    "CONCATENATE": (1, None, 1, _concatenate),
    "CONCAT": (1, None, 1, _concat),
}
