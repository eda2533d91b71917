"""Tests for perfeval_xl.workbook.formula: the safe evaluator of simple Excel formulas."""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal

import pytest

from perfeval_xl.workbook.formula import (
    ERROR_CODES,
    ExcelError,
    UnsupportedFormula,
    evaluate,
    referenced_cells,
)

D = Decimal
CJK = re.compile(r"[\u4e00-\u9fff]")


def book(**sheets: dict[str, object]):
    """A get_cell over {sheet: {address: value}}; sheet names with spaces via ** dicts."""

    def get_cell(sheet: str, address: str) -> object:
        return sheets.get(sheet, {}).get(address)

    return get_cell


def ev(formula: str, cells: dict[str, object] | None = None, sheet: str = "S", **kw):
    """Evaluate against one sheet "S" holding cells."""
    return evaluate(formula, sheet, book(S=cells or {}), **kw)


def unsupported(formula: str, cells: dict[str, object] | None = None, **kw) -> str:
    with pytest.raises(UnsupportedFormula) as info:
        ev(formula, cells, **kw)
    assert CJK.search(info.value.message), info.value.message
    return info.value.message


# --- literals and operators -------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=1", D(1)),
        ("1+2", D(3)),  # leading "=" optional
        ("=1.5E3", D(1500)),
        ("=.5", D("0.5")),
        ("=2.5e-1", D("0.25")),
        ("=7-10", D(-3)),
        ("=2*3.5", D(7)),
        ("=7/2", D("3.5")),
        ("=2^10", D(1024)),
        ("=2^3^2", D(64)),  # Excel: ^ is left-associative
        ("=-2^2", D(4)),  # Excel: negation binds tighter than ^
        ("=1+2*3", D(7)),
        ("=(1+2)*3", D(9)),
        ("=--3", D(3)),
        ("=+5", D(5)),
        ("=50%", D("0.5")),
        ("=10%%", D("0.001")),
        ("=200*5%", D(10)),
        ("=0.1+0.2", D("0.3")),
        ("=1/3*3", D(1)),
        ("=1/3", D("0.333333333333333")),
        ("=  1 +\n 2 ", D(3)),
    ],
)
def test_arithmetic(formula, expected):
    result = ev(formula)
    assert isinstance(result, Decimal)
    assert result == expected


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('="abc"', "abc"),
        ('="say ""hi"""', 'say "hi"'),
        ('=""', ""),
        ('="a"&"b"&1', "ab1"),
        ('=1/4&""', "0.25"),
        ('=1/3&""', "0.333333333333333"),  # 15 significant digits, as Excel
        ('=10^20&""', "1E+20"),
        ('=TRUE&"x"', "TRUEx"),
        ('="预算"&"执行"', "预算执行"),
        ("=TRUE", True),
        ("=false", False),
    ],
)
def test_text_and_logical_literals(formula, expected):
    assert ev(formula) == expected


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=1=1", True),
        ("=1<>1", False),
        ("=1<2", True),
        ("=2>1", True),
        ("=2<=2", True),
        ("=3>=4", False),
        ('="ABC"="abc"', True),  # text comparison ignores case
        ('="a"<"B"', True),
        ('=1<"1"', True),  # numbers sort before text
        ('="z"<TRUE', True),  # text sorts before logicals
        ('=1="1"', False),
        ("=TRUE=1", False),
        ("=A1=0", True),  # blank is 0 against a number
        ('=A1=""', True),  # ... and "" against text
        ("=A1=FALSE", True),
        ("=1+1=2", True),  # comparison binds loosest
        ("=1/3*3=1", True),  # compared at Excel's 15 significant digits
        ('="a"&"b"="ab"', True),
    ],
)
def test_comparisons(formula, expected):
    assert ev(formula) is expected


def test_blank_cells_are_zero_in_arithmetic_and_empty_in_text():
    assert ev("=A1+1") == D(1)
    assert ev('=A1&"x"') == "x"
    assert ev("=A1") == D(0)  # a bare reference to a blank cell shows 0, as in Excel


def test_numbers_from_cells_come_back_as_decimal():
    cells = {"A1": 1, "A2": 0.1, "A3": D("0.2"), "A4": True}
    assert ev("=A1+A2+A3", cells) == D("1.3")
    assert ev("=A2", cells) == D("0.1")  # float converted through repr, no binary noise
    assert isinstance(ev("=A1", cells), Decimal)
    assert ev("=A4+1", cells) == D(2)
    assert ev("=A4", cells) is True


def test_numeric_text_counts_in_arithmetic_other_text_is_value_error():
    cells = {"A1": "12", "A2": "abc", "A3": " 5% "}
    assert ev("=A1*2", cells) == D(24)
    assert ev("=A3*100", cells) == D(5)
    assert ev("=A2+1", cells) == ExcelError("#VALUE!")
    assert ev('=""+1', cells) == ExcelError("#VALUE!")
    assert ev("=-A2", cells) == ExcelError("#VALUE!")


def test_dates_become_excel_serial_numbers():
    cells = {"A1": dt.datetime(2021, 12, 31), "A2": dt.date(1900, 3, 1), "A3": dt.time(12)}
    assert ev("=A1", cells) == D(44561)
    assert ev("=A2", cells) == D(61)
    assert ev("=A3", cells) == D("0.5")


# --- references ---------------------------------------------------------------------------


def test_reference_forms_and_cross_sheet():
    get = book(
        S={"A1": 1, "B2": 2},
        Data={"C3": 30},
        **{"带 空格的表": {"B2": 200}, "预算执行": {"C7": D("98.5")}, "it's": {"A1": 7}},
    )
    assert evaluate("=$A$1+A$1+$A1", "S", get) == D(3)
    assert evaluate("=b2", "S", get) == D(2)  # lower-case column letters
    assert evaluate("=Data!C3+1", "S", get) == D(31)
    assert evaluate("='带 空格的表'!$B$2/2", "S", get) == D(100)
    assert evaluate("=预算执行!C7", "S", get) == D("98.5")
    assert evaluate("='预算执行'!$C$7", "S", get) == D("98.5")
    assert evaluate("='it''s'!A1", "S", get) == D(7)
    assert evaluate("=B2", "Data", get) is not None  # unqualified refs use the formula's sheet
    assert evaluate("=C3", "Data", get) == D(30)


def test_get_cell_receives_sheet_as_written_and_plain_address():
    calls = []

    def get_cell(sheet, address):
        calls.append((sheet, address))
        return 1

    evaluate("='带 空格的表'!$B$2+Data!c3+A1", "本表", get_cell)
    assert calls == [("带 空格的表", "B2"), ("Data", "C3"), ("本表", "A1")]


def test_ranges_qualified_and_whole_column_clipped():
    get = book(**{"重点 工作": {"E2": "是", "E3": "否", "E4": "是", "F2": 5}})
    assert evaluate("=COUNTIF('重点 工作'!$E$2:$E$9,\"是\")", "S", get) == D(2)
    assert evaluate("=SUM('重点 工作'!E2:F4)", "S", get) == D(5)
    # Whole columns need sheet_extent to be clipped to the used area ...
    extent = {"重点 工作": (4, 6)}
    result = evaluate(
        "=COUNTIF('重点 工作'!E:E,\"是\")", "S", get, sheet_extent=lambda s: extent[s]
    )
    assert result == D(2)
    assert evaluate("=COUNTA('重点 工作'!2:2)", "S", get, sheet_extent=lambda s: extent[s]) == D(2)
    # ... and without it are refused as too large.
    with pytest.raises(UnsupportedFormula, match="超过上限"):
        evaluate("=COUNTIF('重点 工作'!E:E,\"是\")", "S", get)


def test_range_where_single_value_needed_is_unsupported():
    assert "单个值" in unsupported("=A1:A3+1")
    assert ev("=A1:A1+1", {"A1": 4}) == D(5)


def test_defined_names_resolve_through_callback():
    get = book(预算执行={"C7": 80, "C8": 20})
    names = {"budget_adjusted": "'预算执行'!$C$7", "spending": "预算执行!$C$7:$C$8"}
    resolve = names.get
    assert evaluate("=budget_adjusted*2", "S", get, resolve_name=resolve) == D(160)
    assert evaluate("=SUM(spending)", "S", get, resolve_name=resolve) == D(100)
    assert evaluate("=nope", "S", get, resolve_name=resolve) == ExcelError("#NAME?")
    assert evaluate("=IFERROR(nope,0)", "S", get, resolve_name=resolve) == D(0)
    with pytest.raises(UnsupportedFormula, match="budget_adjusted"):
        evaluate("=budget_adjusted", "S", get)  # no resolver: cannot tell what it is
    with pytest.raises(UnsupportedFormula, match="不是单元格或区域"):
        evaluate("=x", "S", get, resolve_name=lambda n: "=1+2")


def test_ref_error_literal_from_deleted_sheet():
    assert ev("=#REF!+1") == ExcelError("#REF!")
    assert ev("=Sheet9!#REF!") == ExcelError("#REF!")
    assert ev("=IFERROR(Sheet9!#REF!,-1)") == D(-1)


def test_referenced_cells_lists_every_branch_in_order():
    refs = referenced_cells("=IF(A1>0,SUM(B1:C2),'表 二'!$D$4)+A1", "S")
    assert refs == [
        ("S", "A1"),
        ("S", "B1"),
        ("S", "C1"),
        ("S", "B2"),
        ("S", "C2"),
        ("表 二", "D4"),
    ]
    names = {"n": "S!$Z$9"}
    assert referenced_cells("=n+missing", "S", resolve_name=names.get) == [("S", "Z9")]
    with pytest.raises(UnsupportedFormula):
        referenced_cells("=SUM(A:A)", "S")


# --- errors -------------------------------------------------------------------------------


def test_excel_error_is_a_value_with_known_codes():
    assert str(ExcelError("#N/A")) == "#N/A"
    assert ExcelError("#N/A") == ExcelError("#N/A")
    assert ERROR_CODES >= {"#DIV/0!", "#REF!", "#NAME?", "#VALUE!", "#N/A", "#NUM!", "#NULL!"}
    with pytest.raises(ValueError):
        ExcelError("#BOGUS!")


def test_division_by_zero_and_blank_divisor():
    assert ev("=1/0") == ExcelError("#DIV/0!")
    assert ev("=A1/A2", {"A1": 5}) == ExcelError("#DIV/0!")
    assert ev("=0^-1") == ExcelError("#DIV/0!")
    assert ev("=0^0") == ExcelError("#NUM!")
    assert ev("=(-8)^(1/3)") == ExcelError("#NUM!")
    assert ev("=10^400") == ExcelError("#NUM!")
    assert ev("=AVERAGE(A1:A3)") == ExcelError("#DIV/0!")


def test_errors_propagate_through_operators_and_functions():
    cells = {"A1": ExcelError("#N/A"), "A2": 3}
    div0 = ExcelError("#DIV/0!")
    assert ev("=A1+1", cells) == ExcelError("#N/A")
    assert ev("=1+1/0*5", cells) == div0
    assert ev("=-(1/0)", cells) == div0
    assert ev("=(1/0)%", cells) == div0
    assert ev('=1/0&"x"', cells) == div0
    assert ev("=1/0=1", cells) == div0
    assert ev("=SUM(A1:A2)", cells) == ExcelError("#N/A")
    assert ev("=ROUND(1/0,2)", cells) == div0
    assert ev("=IF(1/0,1,2)", cells) == div0
    assert ev("=LEN(A1)", cells) == ExcelError("#N/A")
    assert ev("=#N/A", cells) == ExcelError("#N/A")
    # IFERROR stops them; the IS functions and counting do not propagate.
    assert ev("=IFERROR(A1+1,0)", cells) == D(0)
    assert ev("=IFERROR(A2*2,0)", cells) == D(6)
    assert ev("=ISNUMBER(A1)", cells) is False
    assert ev("=COUNT(A1:A2)", cells) == D(1)
    assert ev("=COUNTA(A1:A2)", cells) == D(2)
    assert ev('=COUNTIF(A1:A2,"#N/A")', cells) == D(1)


def test_if_evaluates_only_the_chosen_branch():
    def get_cell(sheet, address):
        if address == "Z1":
            raise UnsupportedFormula("不应读取")
        return 1

    assert evaluate('=IF(A1=1,"ok",Z1)', "S", get_cell) == "ok"
    assert evaluate("=IFERROR(A1,Z1)", "S", get_cell) == D(1)


# --- functions ----------------------------------------------------------------------------

CELLS = {
    "A1": 1,
    "A2": 2.5,
    "A3": "是",
    "A4": None,
    "A5": "否",
    "A6": True,
    "A7": "",
    "B1": "是",
    "B2": "是",
    "B3": "否",
    "B4": "是",
    "B5": None,
    "B6": "是",
    "B7": "是",
    "C1": 10,
    "C2": 20,
    "C3": 30,
    "C4": 40,
    "C5": 50,
    "C6": "7",
    "C7": -5,
}


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # SUM: references skip text, logicals and blanks; direct arguments coerce.
        ("=SUM(A1:A7)", D("3.5")),
        ("=SUM(A1,A2,10)", D("13.5")),
        ('=SUM("3",TRUE,1)', D(5)),
        ("=SUM(C1:C7)", D(145)),
        ("=SUM(A1:A2,C1:C2)", D("33.5")),
        ("=AVERAGE(C1:C5)", D(30)),
        ("=AVERAGE(A1:A7)", D("1.75")),
        ("=MIN(C1:C7)", D(-5)),
        ("=MAX(C1:C7)", D(50)),
        ("=MAX(A3:A5)", D(0)),  # no numbers -> 0
        ("=MIN(C1:C5,5)", D(5)),
        ("=ABS(-2.5)", D("2.5")),
        ("=ABS(C7)", D(5)),
        # counting
        ("=COUNT(A1:A7)", D(2)),
        ("=COUNT(C1:C7)", D(6)),  # "7" is text in a cell: not counted
        ('=COUNT(1,"2","x",TRUE)', D(3)),
        ("=COUNTA(A1:A7)", D(6)),  # "" counts (Excel: it came from a formula)
        ('=COUNTA(1,"")', D(2)),
        ("=COUNTBLANK(A1:A7)", D(2)),  # blank and "" both count as blank
        # rounding: half away from zero; digits truncated
        ("=ROUND(2.675,2)", D("2.68")),
        ("=ROUND(-2.5,0)", D(-3)),
        ("=ROUND(1234.5678,-2)", D(1200)),
        ("=ROUND(1.25,1.9)", D("1.3")),
        ("=ROUNDUP(1.21,1)", D("1.3")),
        ("=ROUNDUP(-1.21,1)", D("-1.3")),
        ("=ROUNDDOWN(1.29,1)", D("1.2")),
        ("=ROUNDDOWN(-1.29,1)", D("-1.2")),
        ("=ROUNDUP(1234,-2)", D(1300)),
        ("=ROUND(98.2857142857,2)", D("98.29")),
        ("=ROUNDDOWN(1/3*3,0)", D(1)),
        ("=ROUND(1.5,400)", D("1.5")),
        ("=ROUND(1.5,-400)", D(0)),
        # logic
        ('=IF(C1>5,"高","低")', "高"),
        ('=IF(C1>50,"高")', False),
        ("=IF(C1>50,1,)", D(0)),
        ('=IF("TRUE",1,2)', D(1)),
        ("=IF(A4,1,2)", D(2)),
        ('=IF("x",1,2)', ExcelError("#VALUE!")),
        ('=IFS(C1>20,"a",C1>5,"b")', "b"),
        ('=_xlfn.IFS(C1>20,"a")', ExcelError("#N/A")),
        ("=AND(TRUE,1,C1>5)", True),
        ("=AND(TRUE,0)", False),
        ("=OR(FALSE,C1>5)", True),
        ("=OR(A3:A5)", ExcelError("#VALUE!")),  # no logical values in the range
        ("=AND(A1:A7)", True),  # text and blanks in references are skipped
        ('=AND("x")', ExcelError("#VALUE!")),
        ("=NOT(C1>5)", False),
        ("=NOT(A4)", True),
        # information
        ("=ISBLANK(A4)", True),
        ("=ISBLANK(A7)", False),  # "" is not blank for ISBLANK
        ("=ISBLANK(A1)", False),
        ("=ISNUMBER(A1)", True),
        ("=ISNUMBER(C6)", False),
        ("=ISNUMBER(A4)", False),
        # text
        ('=LEN("预算执行")', D(4)),
        ("=LEN(A1)", D(1)),
        ("=LEN(A4)", D(0)),
        ("=LEN(A2*2)", D(1)),
        ('=TRIM("  a   b  ")', "a b"),
        ('=TRIM("　全角　")', "　全角　"),  # Excel TRIM leaves ideographic spaces
        ('=CONCATENATE("得分",C1,"分")', "得分10分"),
        ("=CONCATENATE(A6,A4,A2)", "TRUE2.5"),
        ("=CONCAT(A1:A3)", "12.5是"),
        ('=_xlfn.CONCAT("x",C1:C2)', "x1020"),
        ("=sum(c1:c2)", D(30)),  # function names are case-insensitive
    ],
)
def test_functions(formula, expected):
    result = ev(formula, CELLS)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ('"是"', 5),
        ('"否"', 1),
        ('"=是"', 5),
        ('"<>否"', 6),  # blanks count as "not 否"
        ('"<>"', 6),  # non-blank
        ('""', 1),  # blank
        ('"是*"', 5),
        ('"?"', 6),
        ('"*"', 6),
        ('"x*"', 0),
        ("B1", 5),  # criteria from a cell
    ],
)
def test_countif_text_criteria(criteria, expected):
    assert ev(f"=COUNTIF(B1:B7,{criteria})", CELLS) == D(expected)


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ('">=30"', 3),
        ('">30"', 2),
        ('"<30"', 3),
        ('"<=-5"', 1),
        ('"<>30"', 6),
        ('"=30"', 1),
        ("30", 1),
        ('"30"', 1),
        ("7", 1),  # text "7" matches the number 7, as in Excel
        ('">"&C2', 3),
        ('">=50%"', 5),
    ],
)
def test_countif_numeric_criteria(criteria, expected):
    assert ev(f"=COUNTIF(C1:C7,{criteria})", CELLS) == D(expected)


def test_countif_blank_and_empty_string_criteria():
    cells = {"A1": None, "A2": "", "A3": "x", "A4": 0}
    assert ev('=COUNTIF(A1:A4,"")', cells) == D(2)  # blank and ""
    assert ev('=COUNTIF(A1:A4,"=")', cells) == D(1)  # only truly blank
    assert ev('=COUNTIF(A1:A4,"<>")', cells) == D(3)  # "" counts as non-blank
    assert ev("=COUNTIF(A1:A4,B9)", cells) == D(1)  # an empty criteria cell means 0


def test_countif_case_wildcards_and_escapes():
    cells = {"A1": "Apple", "A2": "apple pie", "A3": "a*b", "A4": "axb", "A5": "是否?"}
    assert ev('=COUNTIF(A1:A5,"APPLE")', cells) == D(1)
    assert ev('=COUNTIF(A1:A5,"app*")', cells) == D(2)
    assert ev('=COUNTIF(A1:A5,"a?b")', cells) == D(2)
    assert ev('=COUNTIF(A1:A5,"a~*b")', cells) == D(1)
    assert ev('=COUNTIF(A1:A5,"*~?")', cells) == D(1)
    assert ev('=COUNTIF(A1:A5,"*p*e*")', cells) == D(2)
    assert ev('=COUNTIF(A1:A5,">b")', cells) == D(1)  # text order, only text cells


def test_countif_logical_criteria():
    cells = {"A1": True, "A2": False, "A3": "TRUE", "A4": 1}
    assert ev("=COUNTIF(A1:A4,TRUE)", cells) == D(1)
    assert ev('=COUNTIF(A1:A4,"FALSE")', cells) == D(1)


def test_countifs_sumif_sumifs():
    cells = {
        "A2": "重点工作",
        "A3": "其他工作",
        "A4": "重点工作",
        "A5": "重点工作",
        "B2": "是",
        "B3": "是",
        "B4": "否",
        "B5": "是",
        "C2": 10,
        "C3": 20,
        "C4": 30,
        "C5": "n/a",
    }
    assert ev('=COUNTIFS(A2:A5,"重点工作",B2:B5,"是")', cells) == D(2)
    assert ev('=COUNTIFS(A2:A5,"重点工作",B2:B4,"是")', cells) == ExcelError("#VALUE!")
    assert ev('=SUMIF(B2:B5,"是",C2:C5)', cells) == D(30)  # text in sum range skipped
    assert ev('=SUMIF(C2:C5,">15")', cells) == D(50)
    assert ev('=SUMIF(B2:B5,"是",C2)', cells) == D(30)  # sum_range sized like range
    assert ev('=SUMIFS(C2:C5,A2:A5,"重点工作",B2:B5,"是")', cells) == D(10)
    assert ev('=SUMIFS(C2:C5,A2:A5,"重点工作",B2:B4,"是")', cells) == ExcelError("#VALUE!")
    err = dict(cells, C2=ExcelError("#DIV/0!"))
    assert ev('=SUMIF(B2:B5,"是",C2:C5)', err) == ExcelError("#DIV/0!")
    assert ev('=SUMIF(B2:B5,"否",C2:C5)', err) == D(30)  # unmatched errors are ignored


def test_countif_range_argument_must_be_a_reference():
    assert "区域" in unsupported('=COUNTIF(1,"是")')


def test_wildcard_matching_is_linear_on_hostile_patterns():
    cells = {"A1": "a" * 30000}
    start = time.perf_counter()
    assert ev('=COUNTIF(A1,"' + "*a" * 200 + '*b")', cells) == D(0)
    assert time.perf_counter() - start < 5


# --- unsupported and malformed ------------------------------------------------------------


@pytest.mark.parametrize(
    "formula",
    ["=VLOOKUP(A1,B1:C9,2,FALSE)", '=INDIRECT("A1")', "=SUMPRODUCT(A1:A3)", "=NOW()"],
)
def test_unsupported_function_names_it(formula):
    name = formula[1 : formula.index("(")]
    message = unsupported(formula)
    assert f"函数 {name} 无法在 Excel 之外计算" in message


@pytest.mark.parametrize(
    ("formula", "hint"),
    [
        ("=(1+2", "不完整"),
        ("=SUM(1,2", "不完整"),
        ("=1+2)", "括号不配对"),
        ("=1+", "不完整"),
        ("=1*", "不完整"),
        ("=*1", "无法识别"),
        ("=1 2", "无法识别"),
        ('="abc', "双引号"),
        ("=", "为空"),
        ("=A1:SUM(B1)", "区域"),
        ("={1,2}", "无法识别"),
        ("=SUM(A1;A2)", "无法识别"),
        ("=ROUND(1)", "参数个数"),
        ("=IF(1,2,3,4)", "参数个数"),
        ("=COUNTIFS(A1:A2,1,A1:A2)", "参数个数"),
        ("=Sheet1:Sheet3!A1", "区域"),
        ("=Table1[Col]", "无法识别"),
        ("=1E999", "超出"),
    ],
)
def test_malformed_formulas_are_refused_with_a_hint(formula, hint):
    assert hint in unsupported(formula)


def test_unsupported_keeps_the_formula_text():
    with pytest.raises(UnsupportedFormula) as info:
        ev("=VLOOKUP(1,A1:B2,2)")
    assert info.value.formula == "=VLOOKUP(1,A1:B2,2)"


def test_errors_raised_by_get_cell_propagate():
    def get_cell(sheet, address):
        raise UnsupportedFormula("嵌套公式无法计算", "=OFFSET(A1,1,1)")

    with pytest.raises(UnsupportedFormula) as info:
        evaluate("=A1+1", "S", get_cell)
    assert info.value.formula == "=OFFSET(A1,1,1)"


# --- hostile input ------------------------------------------------------------------------


def test_deep_parentheses_are_refused_not_recursion_error():
    formula = "=" + "(" * 4000 + "1" + ")" * 4000
    assert "嵌套" in unsupported(formula)
    # Even when the caller allows more nesting than Python's stack, no RecursionError leaks.
    assert "嵌套" in unsupported(formula, max_depth=100_000)
    assert "嵌套" in unsupported("=" + "(" * 51 + "1" + ")" * 51)
    assert ev("=" + "(" * 50 + "1" + ")" * 50) == D(1)


def test_deep_function_nesting_is_refused():
    formula = "=" + "ABS(" * 60 + "1" + ")" * 60
    assert "嵌套" in unsupported(formula)
    assert "嵌套" in unsupported("=" + "ABS(" * 11 + "1" + ")" * 11, max_depth=10)


def test_long_flat_chains_do_not_exhaust_the_stack():
    assert ev("=" + "+".join(["1"] * 4000)) == D(4000)
    assert ev("=" + "-" * 4000 + "1") == D(1)
    assert ev("=1" + "%" * 3) == D("0.000001")


def test_over_long_formula_is_refused():
    assert "长度" in unsupported("=" + "1+" * 5000 + "1")


def test_huge_range_is_capped_without_reading_cells():
    calls = []

    def get_cell(sheet, address):
        calls.append(address)
        return 1

    with pytest.raises(UnsupportedFormula, match="超过上限 100000"):
        evaluate("=SUM(A1:Z100000)", "S", get_cell)
    assert calls == []
    with pytest.raises(UnsupportedFormula, match="超过上限 100"):
        evaluate("=SUM(A1:A60)+SUM(B1:B60)", "S", get_cell, max_cells=100)
    assert evaluate("=SUM(A1:A100)", "S", get_cell, max_cells=100) == D(100)
    with pytest.raises(UnsupportedFormula):
        evaluate("=SUM(1:1048576)", "S", get_cell)


def test_huge_values_give_num_error_not_a_hang():
    assert ev("=2^1E9") == ExcelError("#NUM!")
    assert ev("=A1*A1", {"A1": 1e300}) == ExcelError("#NUM!")
    assert ev("=A1", {"A1": float("nan")}) == ExcelError("#NUM!")
    assert ev("=A1", {"A1": 10**400}) == ExcelError("#NUM!")


def test_long_text_is_capped():
    cells = {"A1": "x" * 20000}
    assert ev("=A1&A1", cells) == ExcelError("#VALUE!")
    assert ev("=CONCATENATE(A1,A1)", cells) == ExcelError("#VALUE!")


def test_unknown_cell_value_type_is_unsupported():
    assert "类型" in unsupported("=A1+1", {"A1": object()})
