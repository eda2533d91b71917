"""The Excel door, tested up to Excel itself (there is no Excel here):

- the plain functions behind every UDF;
- the built .xlsm, read back with oletools' olevba and as a zip package;
- the macros run through xlwings' own remote engine: a ``xw.Book(json=payload)`` made from
  the committed sample workbook, and the EXACT ``RunPython`` command strings taken from
  the workbook's VBA;
- ``excel-setup`` (its Windows path driven on Linux with the platform check patched).
"""

from __future__ import annotations

import datetime
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import types
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import (
    column_index_from_string,
    coordinate_from_string,
    get_column_letter,
)

from perfeval_xl import engine
from perfeval_xl.excel import macros, setup, udfs, xlsm, xlsource
from perfeval_xl.excel.udfs import (
    BAD_CODE,
    BAD_COUNT,
    BAD_RULE,
    BAD_TIER,
    BAD_TYPE,
    MISSING,
    NO_TARGET,
    PE_GRADE,
    PE_INDICATOR,
    PE_RATE,
    PE_RULE_TEXT,
    PE_SCORE,
    ZERO_DENOMINATOR,
)
from perfeval_xl.workbook import layout
from perfeval_xl.workbook.reader import OpenpyxlSource, Unevaluated, parse_ref
from perfeval_xl.workbook.writer import plan_writes

# oletools 0.60 uses pyparsing names that pyparsing 3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")

ROOT = Path(__file__).resolve().parents[1]
WORKBOOKS = ROOT / "workbooks"
SAMPLE = WORKBOOKS / "sample_quwo_2021.xlsm"
XLSM_ARTIFACTS = ("blank_mof2013.xlsm", "blank_hunan.xlsm", "blank_perf2020.xlsm",
                  "sample_quwo_2021.xlsm")
STEP_RULE = "阶梯扣分(基准=100,方向=低于,步长=5,每步=1)"
TIER_RULE = "人工(优=100%,良=80%,中=60%,差=0%)"

# --------------------------------------------------------------------------- UDFs


def assert_same(got, expected):
    """Floats approximately, markers and text exactly."""
    if isinstance(expected, float):
        assert isinstance(got, float) and got == pytest.approx(expected)
    else:
        assert got == expected


@pytest.mark.parametrize("args, expected", [
    ((1, 4), 25.0),
    ((98.29, 100), 98.29),
    (("98%", 100), 98.0),           # numeric text is understood
    (("１２", 24), 50.0),            # full-width digits
    ((None, 4), MISSING),
    ((1, None), MISSING),
    ((1, ""), MISSING),
    ((1, 0), ZERO_DENOMINATOR),
    ((1, 0.0), ZERO_DENOMINATOR),
    (("abc", 4), BAD_TYPE),
    ((True, 4), BAD_TYPE),
    ((datetime.datetime(2021, 1, 1), 4), BAD_TYPE),
    (([[1, 2]], 4), BAD_TYPE),       # a multi-cell range
    ((float("nan"), 4), BAD_TYPE),
    ((MISSING, 4), MISSING),          # a marker from another PE_ cell propagates
])
def test_pe_rate(args, expected):
    assert_same(PE_RATE(*args), expected)


def test_pe_indicator_follows_input_names_order():
    # budget_adjusted, carryover_prior, other_funds, balance_closing, spending_total
    from perfeval_xl.indicators import input_names

    assert input_names("budget_completion_rate") == [
        "budget_adjusted", "carryover_prior", "other_funds", "balance_closing", "spending_total"]
    # The seed's figures: blank balance_closing is derived from spending (DESIGN §4.4).
    v = PE_INDICATOR("budget_completion_rate", 620.47, 84.62, 42.34, None, 734.63)
    assert v == pytest.approx(734.63 / (620.47 + 84.62 + 42.34) * 100)
    # Optional addends blank count as 0.
    assert PE_INDICATOR("budget_completion_rate", 100, None, None, 5, None) == pytest.approx(95)


@pytest.mark.parametrize("args, expected", [
    (("staff_control_rate", 33, 35), 33 / 35 * 100),
    (("staff_control_rate", None, 35), MISSING),
    (("staff_control_rate", 33, None), MISSING),
    (("staff_control_rate", 33, 0), ZERO_DENOMINATOR),
    (("staff_control_rate", "x", 35), BAD_TYPE),
    (("staff_control_rate", 33), BAD_COUNT),
    (("staff_control_rate", 33, 35, 1), BAD_COUNT),
    (("no_such_rate", 1, 2), BAD_CODE),
    (("goal_rationality",), BAD_CODE),        # qualitative: not a computed rate
    ((None, 1, 2), BAD_CODE),
    ((3.0, 1, 2), BAD_TYPE),
    # 0/0 三公经费 is "no increase" by the catalogue's convention.
    (("three_public_change_rate", 0, 0), 0.0),
])
def test_pe_indicator(args, expected):
    assert_same(PE_INDICATOR(*args), expected)


@pytest.mark.parametrize("args, expected", [
    ((98.29, STEP_RULE, 5), 5.0),        # 1.71 below: no full step
    ((94.9, STEP_RULE, 5), 4.0),
    (("良", TIER_RULE, 3), 2.4),
    ((" 优 ", TIER_RULE, 3), 3.0),
    ((2.5, TIER_RULE, 3), 2.5),          # a typed score
    (("棒", TIER_RULE, 3), BAD_TIER),
    ((4, TIER_RULE, 3), BAD_TIER),       # a score above 分值
    ((None, TIER_RULE, 3), MISSING),
    ((None, STEP_RULE, 5), MISSING),
    ((90, STEP_RULE, None), MISSING),
    ((90, STEP_RULE, "五"), BAD_TYPE),
    ((90, "胡乱写的规则", 5), BAD_RULE),
    ((90, "", 5), BAD_RULE),
    ((90, None, 5), BAD_RULE),
    ((90, 12, 5), BAD_RULE),
    ((50, "按比例()", 3), NO_TARGET),
    ((50, "按比例()", 3, 100), 1.5),
    ((50, "按比例()", 3, 100, "反向"), 3.0),
    ((200, "按比例()", 3, 100, "反向"), 1.5),
    ((ZERO_DENOMINATOR, STEP_RULE, 5), ZERO_DENOMINATOR),
    (("abc", STEP_RULE, 5), BAD_TYPE),
])
def test_pe_score(args, expected):
    assert_same(PE_SCORE(*args), expected)


def test_pe_rule_text():
    assert PE_RULE_TEXT("逐点扣分(基准=100,方向=高于,每点=0.5)", 3) == (
        "以100%为标准，≤100%得满分（3分）；每超过1个百分点扣0.5分，扣完为止。")
    assert "%" not in PE_RULE_TEXT("逐点扣分(基准=10,方向=高于,每点=1)", 3, None)  # blank unit
    assert PE_RULE_TEXT("x", 3) == BAD_RULE
    assert PE_RULE_TEXT("按比例(目标=60)", None) == MISSING
    assert PE_RULE_TEXT("按比例(目标=60)", "三") == BAD_TYPE


GRADES = [["等级", "分数下限"], ["优", 90], ["良好", 80], ["一般", 60], ["差", 0], [None, None]]


@pytest.mark.parametrize("args, expected", [
    ((90,), "优"), ((89.99,), "良"), ((60,), "中"), ((10,), "差"),   # 财预〔2020〕10号 defaults
    ((85.5, GRADES), "良好"), ((90, GRADES), "优"), ((59.9, GRADES), "差"),
    ((70, ["一般", 60]), "一般"),                                      # one row, 1-D
    ((None,), MISSING), (("x",), BAD_TYPE),
    ((70, [["x", "y"]]), BAD_TYPE), ((70, "优"), BAD_TYPE),
])
def test_pe_grade(args, expected):
    assert PE_GRADE(*args) == expected


def test_udfs_never_raise_and_never_return_exception_text(monkeypatch):
    from perfeval_xl import scoring

    def boom(*a):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(scoring, "grade_for", boom)
    assert PE_GRADE(90) == udfs.FAILED
    for name, (func, _, _) in udfs.UDF_SPECS.items():
        for args in [(), (object(),) * 3, ("x",) * 6]:
            try:
                got = func(*args)
            except TypeError:
                continue  # wrong arity is Python's call, Excel always passes the VBA arity
            assert got in udfs.MARKERS or isinstance(got, (float, str)), (name, args)
            assert "Error" not in str(got) and "Traceback" not in str(got)


def test_udf_module_stays_light():
    """Calling every UDF imports nothing heavy beyond what ``import xlwings`` already did."""
    code = (
        "import sys, time; import xlwings\n"
        "before = set(sys.modules); t = time.perf_counter()\n"
        "import perfeval_xl.excel.udfs as u\n"
        "u.PE_RATE(1, 2); u.PE_INDICATOR('staff_control_rate', 1, 2)\n"
        "u.PE_SCORE(1, '按比例(目标=2)', 3); u.PE_RULE_TEXT('按比例(目标=2)', 3)\n"
        "u.PE_GRADE(90)\n"
        "new = sorted(set(sys.modules) - before)\n"
        "bad = [m for m in new if m.split('.')[0] in ('pandas', 'docxtpl', 'docx', 'matplotlib',"
        " 'openpyxl', 'numpy', 'PIL', 'lxml')]\n"
        "print(bad)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- xlsource


@pytest.mark.parametrize("value, expected", [
    ("优", "优"), ("=1+1", "'=1+1"), ("+86 123", "'+86 123"), ("-abc", "'-abc"),
    ("'预算执行'!C7", "''预算执行'!C7"), ("2021-1", "'2021-1"), ("1,234", "'1,234"),
    ("98%", "'98%"), ("missing-input", "missing-input"), ("", ""), (None, None),
    (Decimal("1.5"), 1.5), (3, 3),
])
def test_excel_text_keeps_text_inert(value, expected):
    assert xlsource.excel_text(value) == expected


class _FakeRange:
    def __init__(self, sheet, a, b=None):
        self.sheet, self.a, self.b = sheet, a, b

    def options(self, **kw):
        return self

    @property
    def value(self):
        self.sheet.reads.append(self.b)
        rows, cols = self.b
        return [[self.sheet.cells.get((r, c)) for c in range(1, cols + 1)]
                for r in range(1, rows + 1)]

    @property
    def formula(self):
        raise NotImplementedError

    @property
    def number_format(self):
        raise NotImplementedError


class _FakeSheet:
    def __init__(self, name, cells, last):
        self.name, self.cells, self.reads = name, cells, []
        self.used_range = type("U", (), {"last_cell": type("C", (), {
            "row": last[0], "column": last[1]})()})()

    def range(self, a, b=None):
        return _FakeRange(self, a, b)


class _FakeName:
    def __init__(self, name, refers_to):
        self.name, self.refers_to = name, refers_to


class _FakeBook:
    fullname = r"C:\自评\自评表.xlsm"

    def __init__(self, sheets, names):
        self.sheets = _FakeSheets(sheets)
        self.names = names


class _FakeSheets(list):
    def __getitem__(self, key):
        if isinstance(key, str):
            return next(s for s in self if s.name == key)
        return list.__getitem__(self, key)


def test_xlwings_source_reads_each_sheet_once_within_its_names():
    budget = _FakeSheet("预算执行", {(5, 3): 388.46, (6, 3): "#DIV/0!", (7, 3): ""},
                        last=(1_048_576, 16_384))   # a used range formatted to the end
    other = _FakeSheet("说明", {(1, 1): "x"}, last=(1_048_576, 3))
    book = _FakeBook([budget, other], [
        _FakeName("budget_initial", "='预算执行'!$C$5"),
        _FakeName("tbl_x", "=预算执行!$A$4:$D$9"),
        _FakeName("'预算执行'!Print_Area", "='预算执行'!$A$1:$H$40"),   # sheet-scoped: not ours
        _FakeName("broken", "=#REF!"),
    ])
    src = xlsource.XlwingsSource(book)
    assert src.path == book.fullname
    assert src.defined_names() == {"budget_initial": "'预算执行'!$C$5",
                                   "tbl_x": "预算执行!$A$4:$D$9", "broken": "#REF!"}
    assert src.value("预算执行", "C5") == 388.46
    assert src.value("预算执行", "$C$6") == "#DIV/0!"
    assert src.value("预算执行", "C7") is None            # "" is blank
    assert src.value("预算执行", "Z99") is None
    assert src.value("没有的表", "A1") == "#REF!"
    assert budget.reads == [(9, 4)]                       # one read, bounded by the names
    assert src.value("说明", "A1") == "x"
    assert other.reads == [(xlsource.MAX_UNNAMED_ROWS, 3)]
    assert src.formula("预算执行", "C5") is None           # remote engine: not available
    assert src.number_format("预算执行", "C5") == "General"
    assert src.max_row("预算执行") == 9


def test_only_sheets_keeps_the_checks_part():
    from perfeval_xl.model import Location
    from perfeval_xl.workbook.plan import CellWrite, WritePlan

    plan = WritePlan(writes=[CellWrite("自评表", "J5", 3.0), CellWrite("校验结果", "A5", "错误")],
                     clear=[("校验结果", 5, 9, "A", "D")],
                     names={"tbl_checks": "'校验结果'!$A$4:$D$9"},
                     select=Location("预算执行", "C7"))
    part = xlsource.only_sheets(plan, ["校验结果"])
    assert [w.cell for w in part.writes] == ["A5"] and part.clear == plan.clear
    assert part.names == plan.names and part.select == plan.select


# --------------------------------------------------------------------------- the .xlsm


@pytest.fixture(scope="module")
def built() -> bytes:
    from perfeval_xl.workbook.builder import build_sample

    return xlsm.xlsm_bytes(build_sample("quwo2021"))


@pytest.fixture(scope="module")
def vba(built) -> dict[str, str]:
    """Module name -> source, as oletools' olevba extracts it from the built workbook."""
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser("built.xlsm", data=built)
    try:
        return {Path(name).stem: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_vba_modules_present(vba):
    assert {"xlwings", "Dictionary", "xlwings_udfs", "PerfevalRibbon", "ThisWorkbook"} <= set(vba)


def test_vba_is_ascii(vba):
    for name, code in vba.items():
        assert code.isascii(), name


def test_vba_xlwings_version_is_pinned(vba):
    import xlwings

    declared = xlsm.declared_xlwings_version(vba["xlwings"])
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pinned = re.search(r'"xlwings==([^"]+)"', pyproject).group(1)
    assert declared == xlwings.__version__ == pinned == xlsm.XLWINGS_VERSION
    assert f'"xlwings64-{declared}.dll"' in vba["xlwings"]


def _ribbon_xml(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read(xlsm.CUSTOMUI_PART).decode("utf-8")


_CALLBACK = re.compile(
    r'Public Sub (\w+)\(control As IRibbonControl\)\s*\r?\n\s*PerfevalRun "([0-9A-F]*)", "([^"]*)"')


def _callbacks(vba: dict[str, str]) -> dict[str, str]:
    """Sub name -> the Python part of its RunPython call."""
    return {m.group(1): m.group(3) for m in _CALLBACK.finditer(vba["PerfevalRibbon"])}


def _pe_text(hex_digits: str) -> str:
    """What the VBA PeText function returns: ChrW of each 4-hex-digit UTF-16 unit."""
    units = b"".join(int(hex_digits[i:i + 4], 16).to_bytes(2, "little")
                     for i in range(0, len(hex_digits), 4))
    return units.decode("utf-16-le")


def test_every_ribbon_button_has_its_callback(built, vba):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(_ribbon_xml(built))
    ns = {"c": xlsm.CUSTOMUI_NS}
    tab = root.find("c:ribbon/c:tabs/c:tab", ns)
    assert tab.get("label") == "绩效评价"
    buttons = tab.findall(".//c:button", ns)
    assert [b.get("label") for b in buttons] == [
        "计算得分", "数据校验", "生成报告", "导出PDF", "打开输出文件夹", "使用说明"]
    callbacks = _callbacks(vba)
    for b in buttons:
        assert b.get("onAction") in callbacks, b.get("label")
        assert b.get("imageMso") and b.get("screentip") and b.get("supertip")
    assert len(callbacks) == len(buttons)


def test_each_click_shows_its_status_bar_text_before_python_starts(vba):
    ribbon = vba["PerfevalRibbon"]
    busy = {m.group(1): _pe_text(m.group(2)) for m in _CALLBACK.finditer(ribbon)}
    assert busy == {b.callback: b.busy for b in xlsm.BUTTONS}
    assert busy["PerfevalCalculateScores"].startswith("正在计算…")
    run = re.search(r"Private Sub PerfevalRun\(.*?End Sub", ribbon, flags=re.S).group(0)
    # The status text is set before RunPython and cleared after it, even when it fails.
    assert run.index("Application.StatusBar = PeText(busy)") < run.index("RunPython pythonCode") \
        < run.index("Application.StatusBar = False")
    assert "On Error Resume Next" in run


def test_pe_text_round_trips_chinese_through_ascii():
    for text in ("正在计算…", "需Excel+Python", "绩效评价 PE_SCORE(L5, G5)", "𠀀"):
        hexes = xlsm.vba_text(text)
        assert hexes.isascii() and _pe_text(hexes) == text


def test_function_descriptions_for_insert_function(vba):
    import inspect

    helps = xlsm.udf_help()
    assert set(helps) == set(udfs.UDF_SPECS)
    for name, (desc, category, args) in helps.items():
        func = udfs.UDF_SPECS[name][0]
        assert desc and len(desc) <= 255 and category == "绩效评价"
        assert len(args) == len(inspect.signature(func).parameters), name
        assert all(a and not a.startswith("Positional argument") for a in args), name
    ribbon = vba["PerfevalRibbon"]
    register = re.search(r"Public Sub PerfevalRegisterFunctions\(\).*?End Sub", ribbon,
                         flags=re.S).group(0)
    # Run the generated statements as VBA would: assignments of PeText pieces, ReDim, and
    # one MacroOptions call per UDF with the current description and argument texts.
    values: dict[str, str] = {}
    registered = {}
    for line in register.splitlines():
        line = line.strip()
        if m := re.fullmatch(r'(\w+(?:\(\d+\))?) = (\1 & )?PeText\("([0-9A-F]*)"\)', line):
            values[m.group(1)] = (values.get(m.group(1), "") if m.group(2) else "") \
                + _pe_text(m.group(3))
        elif line.startswith("ReDim a("):
            values = {k: v for k, v in values.items() if not k.startswith("a(")}
        elif m := re.match(r'Application\.MacroOptions Macro:="(\w+)"', line):
            assert "ArgumentDescriptions:=a" in line
            n = len([k for k in values if k.startswith("a(")])
            registered[m.group(1)] = (values["d"], values["c"], [values[f"a({k})"] for k in range(n)])
    assert registered == helps
    assert all(len(line) < 1024 for line in ribbon.splitlines())
    this = vba["ThisWorkbook"]
    assert re.search(r"Private Sub Workbook_Open\(\)\s+PerfevalRegisterFunctions\s+"
                     r"PerfevalRefreshLiveStatus\s+End Sub", this)


def test_every_runpython_command_calls_a_real_function(vba):
    import ast
    import importlib

    commands = list(_callbacks(vba).values())
    assert commands
    for cmd in commands:
        tree = ast.parse(cmd)
        imp, call = tree.body
        module = importlib.import_module(imp.names[0].name)
        func = getattr(module, call.value.func.attr)
        assert callable(func) and call.value.args == []


def test_every_calludf_target_is_importable(vba):
    import importlib

    targets = set(re.findall(r'XLPy\.CallUDF\("([\w.]+)", "(\w+)"', vba["xlwings_udfs"]))
    assert {t[1] for t in targets} == set(udfs.UDF_SPECS)
    for module, name in targets:
        assert callable(getattr(importlib.import_module(module), name)), (module, name)
    assert xlsm.read_conf(SAMPLE.read_bytes())["UDF Modules"] == "perfeval_xl.excel.udfs"


def test_udf_wrappers_match_the_decorated_functions(vba):
    import inspect

    wrappers = {m.group(1): m.group(2) for m in re.finditer(
        r"^Function (PE_\w+)\((.*)\)\r?$", vba["xlwings_udfs"], flags=re.M)}
    assert set(wrappers) == set(udfs.UDF_SPECS)
    for name, (func, _, _) in udfs.UDF_SPECS.items():
        params = list(inspect.signature(func).parameters.values())
        vba_args = [a.strip() for a in wrappers[name].split(",") if a.strip()]
        assert len(vba_args) == len(params), name
        for p, a in zip(params, vba_args, strict=True):
            if p.kind is inspect.Parameter.VAR_POSITIONAL:
                assert a == f"ParamArray {p.name}()"
            elif p.default is not inspect.Parameter.empty:
                assert a == f"Optional {p.name}"
            else:
                assert a == p.name
        assert f'XLPy.CallUDF("{xlsm.UDF_MODULE}", "{name}"' in vba["xlwings_udfs"]


DATA = Path(__file__).resolve().parent / "data"


def _customui_schema():
    """Microsoft's customUI14 schema (tests/data/customui14.xsd, unmodified) as lxml compiles
    it: libxml2 rejects ten attribute uses the schema restates in derived types ("Duplicate
    attribute use"); those restated copies are dropped in memory (the base types declare the
    same attributes), nothing else."""
    import copy as copy_

    from lxml import etree

    xs = "http://www.w3.org/2001/XMLSchema"
    doc = etree.parse(str(DATA / "customui14.xsd"))
    groups = {g.get("name"): g for g in doc.getroot().iterfind(f"{{{xs}}}attributeGroup")}

    def attributes(group: str) -> list:
        out = []
        for child in groups[group]:
            if child.tag == f"{{{xs}}}attribute":
                out.append(child)
            elif child.tag == f"{{{xs}}}attributeGroup":
                out += attributes(child.get("ref"))
        return out

    for _ in range(5):
        try:
            return etree.XMLSchema(doc)
        except etree.XMLSchemaParseError as exc:
            dups: dict[str, set[str]] = {}
            for e in exc.error_log:
                m = re.search(r"complex type '(\w+)': Duplicate attribute use '(\w+)'", e.message)
                assert m, e.message            # only the known defect may be worked around
                dups.setdefault(m.group(1), set()).add(m.group(2))
            for ctype, names in dups.items():
                ext = doc.getroot().find(f"{{{xs}}}complexType[@name='{ctype}']//{{{xs}}}extension")
                for child in list(ext):
                    if child.tag == f"{{{xs}}}attribute" and child.get("name") in names:
                        ext.remove(child)
                    elif child.tag == f"{{{xs}}}attributeGroup":
                        attrs = attributes(child.get("ref"))
                        if any(a.get("name") in names for a in attrs):
                            # inline the group without the restated attributes
                            at = list(ext).index(child)
                            ext.remove(child)
                            for k, a in enumerate(x for x in attrs if x.get("name") not in names):
                                ext.insert(at + k, copy_.deepcopy(a))
    raise AssertionError("customui14.xsd does not compile")


def test_ribbon_xml_is_valid_customui14(built):
    from lxml import etree

    schema = _customui_schema()
    doc = etree.fromstring(_ribbon_xml(built).encode("utf-8"))
    assert schema.validate(doc), schema.error_log
    broken = etree.fromstring(_ribbon_xml(built).replace('size="large"', 'size="huge"')
                              .encode("utf-8"))
    assert not schema.validate(broken)       # the schema really checks our attributes


def test_ribbon_uses_only_excel_control_ids(built):
    known = {line.strip() for line in (DATA / "excel_control_ids.txt").read_text("utf-8")
             .splitlines() if line.strip() and not line.startswith("#")}
    assert len(known) > 2000 and "ExportWord" not in known   # an Access icon, not Excel's
    xml = _ribbon_xml(built)
    used = re.findall(r'\b(?:imageMso|idMso|insertAfterMso|insertBeforeMso)="([^"]+)"', xml)
    assert len(used) == len(xlsm.BUTTONS) + 1
    assert [u for u in used if u not in known] == []


def _vba_bin(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read("xl/vbaProject.bin")


def test_vba_project_is_in_the_interoperable_form(built):
    import olefile

    ole = olefile.OleFileIO(_vba_bin(built))
    try:
        stream = ole.openstream("VBA/_VBA_PROJECT").read()
        project = ole.openstream("PROJECT").read().decode("latin-1")
    finally:
        ole.close()
    # [MS-OVBA] 2.3.4.1: 0x61CC, version 0xFFFF, 0x00, reserved; no performance cache.
    assert len(stream) == 7 and stream[:2] == b"\xcc\x61" and stream[2:4] == b"\xff\xff"
    assert stream[4] == 0
    pid = re.search(r'^ID="(\{[0-9A-F-]{36}\})"\r$', project, flags=re.M).group(1)
    # CMG/DPB/GC decrypt with this project's key: unprotected, no password, visible.
    key = sum(pid.encode("ascii")) & 0xFF
    records = dict(re.findall(r'^(CMG|DPB|GC)="([0-9A-F]+)"\r$', project, flags=re.M))
    assert {k: xlsm.decrypt_project_data(v) for k, v in records.items()} == {
        "CMG": (key, bytes(4)), "DPB": (key, b"\x00"), "GC": (key, b"\xff")}


def test_each_workbook_has_its_own_project_id():
    ids = {}
    for name in XLSM_ARTIFACTS:
        text = _vba_bin((WORKBOOKS / name).read_bytes())
        from pyopenvba.cfb import CFB

        project = CFB.from_bytes(text).get_stream("PROJECT").decode("latin-1")
        ids[name] = re.search(r'ID="([^"]+)"', project).group(1)
    assert len(set(ids.values())) == len(ids)
    assert "{E73B243E-09A5-4CB0-B261-A37357B461D3}" not in ids.values()   # pyopenvba's template


def test_project_data_encryption_matches_the_spec_example():
    # [MS-OVBA] 3.1.6 example project: its DPB decrypts to a one-byte 0x00 password hash
    # with the key of its ID.
    pid = "{917DED54-440B-4FD1-A5C1-74ACF261E600}"
    key, data = xlsm.decrypt_project_data("0E0CD1ECDFF4E7F5E7F5E7")
    assert key == sum(pid.encode()) & 0xFF and data == b"\x00"
    seed, _, plain = xlsm.decrypt_project_bytes("0E0CD1ECDFF4E7F5E7F5E7")
    ignored = plain[:(seed & 6) // 2]
    assert xlsm.encrypt_project_data(b"\x00", pid, seed, ignored) == "0E0CD1ECDFF4E7F5E7F5E7"


def test_wrapper_generation_leaves_no_pywin32_stand_ins():
    xlsm.udf_wrappers_vba()
    for name in xlsm._NoWindowsModules.NAMES:
        assert name not in sys.modules or getattr(sys.modules[name], "__file__", None)


def test_package_parts(built):
    z = zipfile.ZipFile(io.BytesIO(built))
    rels = z.read("_rels/.rels").decode("utf-8")
    assert re.search(rf'Type="{re.escape(xlsm.CUSTOMUI_REL)}" Target="customUI/customUI14.xml"',
                     rels)
    types_ = z.read("[Content_Types].xml").decode("utf-8")
    assert 'PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.' \
           'macroEnabled.main+xml"' in types_
    assert xlsm.MAIN_XLSX not in types_
    assert 'Extension="bin" ContentType="application/vnd.ms-office.vbaProject"' in types_
    wb_rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    assert 'relationships/vbaProject" Target="vbaProject.bin"' in wb_rels
    assert "xl/vbaProject.bin" in z.namelist()
    assert {i.date_time for i in z.infolist()} == {(2021, 1, 1, 0, 0, 0)}
    assert z.namelist()[0] == "[Content_Types].xml"


def test_build_is_deterministic(built):
    from perfeval_xl.workbook.builder import build_sample

    assert xlsm.xlsm_bytes(build_sample("quwo2021")) == built


def test_artifacts_up_to_date():
    from perfeval_xl.excel import artifacts

    assert artifacts.stale() == []
    assert sorted(artifacts.ARTIFACTS) == sorted(XLSM_ARTIFACTS)


def test_conf_sheet_and_live_columns(built):
    wb = load_workbook(io.BytesIO(built))
    assert wb.sheetnames[-1] == xlsm.CONF_SHEET
    assert wb.sheetnames[:-1] == layout.SHEET_ORDER
    conf = wb[xlsm.CONF_SHEET]
    assert conf["A1"].value == "Interpreter_Win" and conf["B1"].value is None
    assert xlsm.read_conf(built) == {
        "Interpreter_Win": None, "Interpreter_Mac": None, "PYTHONPATH": None,
        "ADD_WORKBOOK_TO_PYTHONPATH": "0",
        "UDF Modules": "perfeval_xl.excel.udfs", "Debug UDFs": "0", "Use UDF Server": "0",
        "Show Console": "0"}
    ws = wb[layout.SHEET_SCORES]
    assert (ws["L3"].value, ws["M3"].value) == ("实时实际值", "实时得分")
    assert ws["L3"].protection.locked and ws["M3"].protection.locked
    rows = {ws[f"D{r}"].value: r for r in range(4, 42) if ws[f"D{r}"].value}
    r = rows["budget_completion_rate"]
    wait = '=IF($M$44<>"正常","需Excel+Python",'
    assert ws[f"L{r}"].value == (wait + 'PE_INDICATOR("budget_completion_rate",budget_adjusted,'
                                 "carryover_prior,other_funds,balance_closing,spending_total))")
    assert ws[f"M{r}"].value == wait + f"PE_SCORE(L{r},G{r},E{r}))"
    q = rows["goal_rationality"]
    assert ws[f"M{q}"].value == wait + f"PE_SCORE(I{q},G{q},E{q}))"
    assert ws["M32"].value.startswith('=IF(D32="","",IF($M$44<>"正常","需Excel+Python",'
                                      "PE_SCORE('个性指标'!G5")
    # Engine columns stay plain values (the file is right without Python).
    assert ws["J42"].value is None and not str(ws["K42"].value or "").startswith("=")
    assert ws["M42"].value == wait + "SUM(M4:M41))"
    assert ws["M43"].value == wait + "PE_GRADE(M42,tbl_grades))"
    assert ws["L44"].value == "实时计算" and "PE_RATE(1,1)=100" in ws["M44"].value
    # Every formula in the live columns waits for the status cell.
    live = [ws[f"{c}{r}"].value for c in "LM" for r in range(4, 44)]
    assert all(wait[1:] in v for v in live if isinstance(v, str) and v.startswith("="))
    assert xlsm.live_status_cell(wb) == (layout.SHEET_SCORES, "M44")
    # tbl_scores still ends at K: the reader never sees the live columns.
    assert wb.defined_names["tbl_scores"].attr_text.endswith("$K$41")


def test_adopted_county_workbook_gets_the_door_but_no_live_columns(tmp_path):
    import adopt_fixtures

    from perfeval_xl.adopt import adopt

    adopt_fixtures.basic().save(tmp_path / "county.xlsx")
    adopt(tmp_path / "county.xlsx", tmp_path / "adopted.xlsm")
    data = (tmp_path / "adopted.xlsm").read_bytes()
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames[-1] == xlsm.CONF_SHEET
    formulas = [c.value for ws in wb for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=PE_")]
    assert formulas == []     # tbl_scores is on the hidden mapping sheet: nothing to show
    z = zipfile.ZipFile(io.BytesIO(data))
    assert {"xl/vbaProject.bin", xlsm.CUSTOMUI_PART} <= set(z.namelist())
    assert xlsm.CUSTOMUI_REL in z.read("_rels/.rels").decode("utf-8")


def test_live_columns_never_overwrite(tmp_path):
    from perfeval_xl.workbook.builder import build

    wb = build()
    wb[layout.SHEET_SCORES]["M20"] = "用户自己的备注"
    assert xlsm.add_live_columns(wb) is False
    assert wb[layout.SHEET_SCORES]["L5"].value is None
    wb = build()
    del wb.defined_names["tbl_custom"]
    assert xlsm.add_live_columns(wb) is True        # custom mirror rows just stay blank


def test_built_xlsm_reads_like_the_xlsx():
    r1 = engine.evaluate(SAMPLE)
    r2 = engine.evaluate(WORKBOOKS / "sample_quwo_2021.xlsx")
    assert r1.total == r2.total and r1.grade == r2.grade
    assert [p.code for p in r1.problems] == [p.code for p in r2.problems]


def test_write_new_xlsm(tmp_path):
    out = xlsm.write_new_xlsm(tmp_path / "新表.xlsm", preset="hunan", unit="测试单位", year=2022)
    wb = load_workbook(out, keep_vba=True)
    assert wb.sheetnames[-1] == xlsm.CONF_SHEET
    with pytest.raises(Exception) as exc:
        xlsm.write_new_xlsm(tmp_path / "x.xlsx")
    assert "xlsm" in exc.value.message


def test_write_new_xlsm_without_pyopenvba(tmp_path, monkeypatch):
    from perfeval_xl import files

    real = xlsm.importlib.util.find_spec
    monkeypatch.setattr(xlsm.importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyopenvba" else real(name, *a))
    with pytest.raises(files.OutputError, match="pip install pyopenvba"):
        xlsm.write_new_xlsm(tmp_path / "新表.xlsm")
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_libreoffice_opens_the_xlsm(tmp_path):
    soffice = shutil.which("soffice")
    if not soffice:
        pytest.skip("LibreOffice not installed")
    src = tmp_path / "sample.xlsm"
    shutil.copy(SAMPLE, src)
    profile = (tmp_path / "profile").as_uri()
    proc = subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile}",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)],
        capture_output=True, text=True, timeout=180)
    pdf = tmp_path / "sample.pdf"
    assert proc.returncode == 0 and pdf.is_file() and pdf.stat().st_size > 10_000, proc.stderr


# --------------------------------------------------------------------------- remote engine


_MACROS_ON = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">\
<prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">\
<prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


@pytest.mark.slow
@pytest.mark.parametrize("macros_enabled", [False, True],
                         ids=["default-profile", "macro-security-low"])
def test_libreoffice_never_shows_a_live_number_it_did_not_compute(tmp_path, macros_enabled):
    """Each committed .xlsm opened headless in LibreOffice, recalculated (converted to
    .xlsx) and read back: the live cells show the unavailable text, blank or a label.

    The second profile sets macro security to low, as a user who allows macros would
    (whether headless conversion then runs document Basic is LibreOffice's business; the
    guard must hold either way: a PE_ error and a blank PE_ result both leave the status
    cell at 需Excel+Python)."""
    soffice = shutil.which("soffice")
    if not soffice:
        pytest.skip("LibreOffice not installed")
    profile = tmp_path / "profile"
    if macros_enabled:
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_MACROS_ON, "utf-8")
    src = []
    for name in XLSM_ARTIFACTS:
        shutil.copy(WORKBOOKS / name, tmp_path / name)
        src.append(str(tmp_path / name))
    out = tmp_path / "out"
    proc = subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
         "--convert-to", "xlsx", "--outdir", str(out), *src],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    labels = {xlsm.LIVE_VALUE_HEADER, xlsm.LIVE_SCORE_HEADER, "实时总分", "实时等级",
              xlsm.LIVE_STATUS_LABEL}
    for name in XLSM_ARTIFACTS:
        ours = load_workbook(WORKBOOKS / name)
        sheet, status = xlsm.live_status_cell(ours)
        back = load_workbook(out / name.replace(".xlsm", ".xlsx"), data_only=True)[sheet]
        assert back[status].value == xlsm.LIVE_UNAVAILABLE, name
        seen = 0
        for row in ours[sheet].iter_rows(min_col=12, max_col=13):
            for c in row:
                if not isinstance(c.value, str) or not c.value.startswith("="):
                    continue
                shown = back[c.coordinate].value
                assert shown in (None, "", xlsm.LIVE_UNAVAILABLE) or shown in labels, \
                    (name, c.coordinate, shown)
                if c.value.startswith(f"=IF(${status[0]}${status[1:]}<>"):  # not a blank mirror row
                    assert shown == xlsm.LIVE_UNAVAILABLE, (name, c.coordinate, shown)
                    seen += 1
        assert seen >= 3, name        # at least one indicator row, the total and the grade


def _plain(v):
    if isinstance(v, Unevaluated):
        return None  # e.g. a PE_ formula: Excel without Python shows an error there
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if v is not None and not isinstance(v, (str, int, float, bool)):
        return str(v)  # ExcelError
    return v


def payload_from(path: Path) -> dict:
    """The JSON xlwings' VBA client (addin/Remote.bas) would send for this workbook: every
    sheet's values from A1 (formula results as Excel shows them, here from our own formula
    evaluator) and the workbook-scoped names."""
    import xlwings as xw

    wb = load_workbook(path)
    src = OpenpyxlSource(wb, str(path))
    sheets = []
    for ws in wb.worksheets:
        values = [[_plain(src.value(ws.title, f"{get_column_letter(c)}{r}"))
                   for c in range(1, ws.max_column + 1)] for r in range(1, ws.max_row + 1)]
        sheets.append({"name": ws.title, "values": values, "pictures": [], "tables": []})
    names = []
    for name, dn in wb.defined_names.items():
        ref = parse_ref(dn.attr_text)
        if ref:
            names.append({"name": name, "sheet_index": wb.sheetnames.index(ref[0]),
                          "address": ref[1], "book_scope": True, "scope_sheet_name": None,
                          "scope_sheet_index": None})
    return {"client": "VBA", "version": xw.__version__,
            "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
            "names": names, "sheets": sheets}


def set_named(payload: dict, name: str, value) -> None:
    n = next(n for n in payload["names"] if n["name"] == name)
    col, row = coordinate_from_string(n["address"].split(":")[0])
    payload["sheets"][n["sheet_index"]]["values"][row - 1][
        column_index_from_string(col) - 1] = value


@pytest.fixture(scope="module")
def sample_payload() -> str:
    return json.dumps(payload_from(SAMPLE))


@pytest.fixture
def remote(monkeypatch):
    """xlwings' remote engine, licensed (noncommercial) for this test process only."""
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw

    added = None
    if "remote" not in xw.engines.engines_by_name:
        from xlwings.pro import _xlremote

        added = xw.Engine(impl=_xlremote.engine)
        xw.engines.add(added)

    def open_book(payload: dict):
        book = xw.Book(json=payload)
        book.set_mock_caller()
        return book

    opened: list = []
    monkeypatch.setattr(macros, "_open_path", lambda p: opened.append(Path(p)) or True)
    open_book.opened = opened
    yield open_book
    if hasattr(xw.Book, "_mock_caller"):
        del xw.Book._mock_caller
    if added is not None:
        xw.engines.engines.remove(added)
        del xw.engines.engines_by_name["remote"]


@pytest.fixture(scope="module")
def commands(vba) -> dict[str, str]:
    """Python function name -> the exact RunPython command string from the workbook's VBA."""
    return {re.search(r"m\.(\w+)\(\)", c).group(1): c for c in _callbacks(vba).values()}


def run_button(book, commands, function: str) -> list[dict]:
    """Run a ribbon button's RunPython command as Excel would (after prepare_sys_path)."""
    exec(compile(commands[function], "<RunPython>", "exec"), {})
    return book.json()["actions"]


def grid(book, actions) -> dict[tuple[str, str], object]:
    """(sheet, cell) -> value written by the setValues actions."""
    names = [s.name for s in book.sheets]
    out = {}
    for a in actions:
        if a["func"] == "setValues":
            for i, row in enumerate(a["values"]):
                for j, v in enumerate(row):
                    cell = f"{get_column_letter(a['start_column'] + j + 1)}{a['start_row'] + i + 1}"
                    out[(names[a["sheet_position"]], cell)] = v
    return out


def alerts(actions) -> list[tuple[str, str]]:
    return [(a["args"][0], a["args"][3]) for a in actions if a["func"] == "alert"]


def test_calculate_scores_through_xlwings(remote, sample_payload, commands):
    book = remote(json.loads(sample_payload))
    actions = run_button(book, commands, "calculate_scores")
    written = grid(book, actions)
    # The same cells and values as the CLI's openpyxl path (one engine, one plan).
    expected = plan_writes(engine.evaluate(SAMPLE))
    for w in expected.writes:
        assert_same(written[(w.sheet, w.cell)], xlsource.excel_text(w.value))
    assert written[(layout.SHEET_SCORES, "J42")] == pytest.approx(94.8787, abs=1e-4)
    assert written[(layout.SHEET_SCORES, "K42")] == "优"
    row = next(r for r in range(4, 42)
               if book.sheets[layout.SHEET_SCORES][f"D{r}"].value == "budget_completion_rate")
    assert written[(layout.SHEET_SCORES, f"I{row}")] == pytest.approx(98.2875, abs=1e-4)
    assert written[(layout.SHEET_SCORES, f"J{row}")] == 5.0
    [(text, mode)] = alerts(actions)
    assert "总分：94.88 分" in text and "评价等级：优" in text and "错误 0 项" in text
    assert mode == "info"
    # Nothing is ever written to input cells or to the live UDF columns.
    assert not [k for k in written if k[0] == layout.SHEET_SCORES and k[1][0] in "ABCDEFGLM"]


def cli_plan(tmp_path: Path, **named):
    """The CLI's plan for the sample with some named cells changed (openpyxl path)."""
    wb = load_workbook(SAMPLE, keep_vba=True)
    for name, value in named.items():
        sheet, coord = parse_ref(wb.defined_names[name].attr_text)
        wb[sheet][coord].value = value
    path = tmp_path / "changed.xlsm"
    wb.save(path)
    result = engine.evaluate(path)
    return result, plan_writes(result)


def test_validate_data_lists_problems_with_links(remote, sample_payload, commands, tmp_path):
    changes = {"budget_adjusted": None, "staff_actual": "33人"}
    result, plan = cli_plan(tmp_path, **changes)
    assert result.errors and result.warnings
    payload = json.loads(sample_payload)
    for name, value in changes.items():
        set_named(payload, name, value)
    book = remote(payload)
    actions = run_button(book, commands, "validate_data")
    written = grid(book, actions)
    assert {k[0] for k in written} == {layout.SHEET_CHECKS}   # 数据校验 writes no scores
    checks = [w for w in plan.writes if w.sheet == layout.SHEET_CHECKS]
    assert {(w.cell): xlsource.excel_text(w.value) for w in checks} == {
        k[1]: v for k, v in written.items()}
    rows = {(r[0], r[1]) for r in _table(written, len(result.problems))}
    assert ("警告", "text-number") in rows and ("错误", "missing-input") in rows
    links = [a["args"][0] for a in actions if a["func"] == "addHyperlink"]
    assert links == [w.link for w in checks if w.link]
    assert "#'预算执行'!C7" in links and "#'基本情况'!C9" in links
    colors = {a["args"][0] for a in actions if a["func"] == "setRangeColor"}
    assert {"#F4CCCC", "#FFF2CC"} <= colors
    assert any(a["func"] == "setNameRefersTo" and a["args"][0] == "tbl_checks" for a in actions)
    select = next(a for a in actions if a["func"] == "rangeSelect")
    col, row = coordinate_from_string(plan.select.cell)
    assert (book.sheets[select["sheet_position"]].name, select["start_row"] + 1,
            select["start_column"] + 1) == (plan.select.sheet, row, column_index_from_string(col))
    [(text, mode)] = alerts(actions)
    assert f"错误 {len(result.errors)} 项，警告 {len(result.warnings)} 项" in text
    assert mode == "critical"


def _table(written, n: int) -> list[list]:
    """The first ``n`` 校验结果 rows (严重程度, 问题代码, 位置, 说明) as written."""
    return [[written.get((layout.SHEET_CHECKS, f"{c}{r}")) for c in "ABCD"]
            for r in range(5, 5 + n)]


def test_foreign_workbook_is_left_untouched(remote, commands):
    import xlwings as xw

    payload = {"client": "VBA", "version": xw.__version__,
               "book": {"name": "别人的表.xlsm", "active_sheet_index": 0, "selection": "A1"},
               "names": [], "sheets": [{"name": "Sheet1", "values": [["预算", 100]],
                                        "pictures": [], "tables": []}]}
    for function in ("calculate_scores", "validate_data", "generate_report"):
        book = remote(payload)
        actions = run_button(book, commands, function)
        assert [a["func"] for a in actions] == ["alert"], function
        [(text, mode)] = alerts(actions)
        assert "不是 perfeval_xl 自评表" in text and "未写入任何内容" in text and mode == "critical"


def test_password_protected_sheet_stops_before_any_write(remote, sample_payload, commands,
                                                         monkeypatch):
    monkeypatch.setattr(xlsource, "protection_of",
                        lambda sheet: {"AllowFormattingColumns": True}
                        if sheet.name == layout.SHEET_CHECKS else None)
    monkeypatch.setattr(xlsource, "unprotect_sheet", lambda sheet: False)
    book = remote(json.loads(sample_payload))
    actions = run_button(book, commands, "calculate_scores")
    assert [a["func"] for a in actions] == ["alert"]
    [(text, _)] = alerts(actions)
    assert "“校验结果”设置了密码保护" in text and "未写入任何内容" in text


def test_protected_sheets_are_lifted_and_restored(remote, sample_payload, commands, monkeypatch):
    events = []
    monkeypatch.setattr(xlsource, "protection_of",
                        lambda sheet: {"AllowFormattingColumns": True, "sheet": sheet.name})
    monkeypatch.setattr(xlsource, "unprotect_sheet",
                        lambda sheet: events.append(("unprotect", sheet.name)) or True)
    monkeypatch.setattr(xlsource, "protect_sheet",
                        lambda sheet, opts: events.append(("protect", opts["sheet"])))
    book = remote(json.loads(sample_payload))
    actions = run_button(book, commands, "calculate_scores")
    assert any(a["func"] == "setValues" for a in actions)
    touched = [layout.SHEET_CHECKS, layout.SHEET_SCORES]
    assert sorted(n for e, n in events if e == "unprotect") == sorted(touched)
    assert sorted(n for e, n in events if e == "protect") == sorted(touched)


def test_unexpected_error_is_a_chinese_alert_with_a_log(remote, sample_payload, commands,
                                                        monkeypatch, tmp_path):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    def boom(*a, **k):
        raise ZeroDivisionError("deep inside")

    monkeypatch.setattr(engine, "evaluate_source", boom)
    book = remote(json.loads(sample_payload))
    actions = run_button(book, commands, "calculate_scores")
    [(text, mode)] = alerts(actions)
    assert "程序内部出错（ZeroDivisionError）" in text and str(tmp_path) in text
    assert "Traceback" not in text and "deep inside" not in text and mode == "critical"
    assert "deep inside" in (tmp_path / macros.LOG_NAME).read_text(encoding="utf-8")


def test_generate_report_into_report_dir(remote, sample_payload, commands, tmp_path):
    payload = json.loads(sample_payload)
    set_named(payload, layout.REPORT_DIR, str(tmp_path))
    book = remote(payload)
    actions = run_button(book, commands, "generate_report")
    docs = list(tmp_path.glob("*.docx"))
    assert len(docs) == 1 and docs[0].name.startswith("曲沃县中小企业服务中心_2021年度")
    assert remote.opened == [docs[0]]
    [(text, mode)] = alerts(actions)
    assert str(docs[0]) in text and mode == "info"
    assert not [a for a in actions if a["func"] == "setValues"]   # the workbook is not changed


def test_generate_report_folder_problems(remote, sample_payload, commands, tmp_path):
    payload = json.loads(sample_payload)
    set_named(payload, layout.REPORT_DIR, str(tmp_path / "没有这个文件夹"))
    book = remote(payload)
    [(text, _)] = alerts(run_button(book, commands, "generate_report"))
    assert "报告输出文件夹不存在" in text
    # No report_dir and a workbook without a local folder (the remote book has no path).
    book = remote(json.loads(sample_payload))
    [(text, _)] = alerts(run_button(book, commands, "generate_report"))
    assert "无法确定报告保存位置" in text


def test_report_target_locked_leaves_nothing_half_written(remote, sample_payload, commands,
                                                          tmp_path, monkeypatch):
    from perfeval_xl import files

    payload = json.loads(sample_payload)
    set_named(payload, layout.REPORT_DIR, str(tmp_path))

    def locked(src, dst):  # what Windows does when Word holds the target open
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "replace", locked)
    book = remote(payload)
    [(text, mode)] = alerts(run_button(book, commands, "generate_report"))
    assert "正在 Word/Excel 中打开" in text and mode == "critical"
    assert list(tmp_path.iterdir()) == []     # neither the report nor a temp file is left


def test_report_folder_not_writable(remote, sample_payload, commands, tmp_path, monkeypatch):
    from perfeval_xl import files

    payload = json.loads(sample_payload)
    set_named(payload, layout.REPORT_DIR, str(tmp_path))

    def read_only(*a, **k):  # a read-only share (tests run as root, so chmod cannot show it)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    book = remote(payload)
    actions = run_button(book, commands, "generate_report")
    [(text, mode)] = alerts(actions)
    assert f"无法在文件夹 {tmp_path} 中写入文件" in text and mode == "critical"
    assert list(tmp_path.iterdir()) == [] and remote.opened == []


def test_export_pdf(remote, sample_payload, commands, tmp_path, monkeypatch):
    from perfeval_xl.report import pdf

    payload = json.loads(sample_payload)
    set_named(payload, layout.REPORT_DIR, str(tmp_path))

    def fake_pdf(docx, out_dir=None, **kw):
        target = Path(out_dir or Path(docx).parent) / (Path(docx).stem + ".pdf")
        target.write_bytes(b"%PDF-1.4 fake")
        return target

    from perfeval_xl.report import render

    monkeypatch.setattr(render, "convert_to_pdf", fake_pdf)
    book = remote(payload)
    [(text, mode)] = alerts(run_button(book, commands, "export_pdf"))
    assert "PDF：" in text and mode == "info"
    assert remote.opened[0].suffix == ".pdf"

    def no_pdf(docx, out_dir=None, **kw):
        raise pdf.PdfUnavailable("未找到 LibreOffice 或 Microsoft Word，无法导出 PDF。")

    monkeypatch.setattr(render, "convert_to_pdf", no_pdf)
    book = remote(payload)
    [(text, mode)] = alerts(run_button(book, commands, "export_pdf"))
    assert "未能导出 PDF：未找到 LibreOffice" in text and mode == "critical"


def test_open_output_folder_and_help(remote, sample_payload, commands, tmp_path):
    payload = json.loads(sample_payload)
    set_named(payload, layout.REPORT_DIR, str(tmp_path))
    book = remote(payload)
    assert run_button(book, commands, "open_output_folder") == []
    assert remote.opened == [tmp_path]
    book = remote(json.loads(sample_payload))
    actions = run_button(book, commands, "show_help")
    assert actions[0]["func"] == "activateSheet" and actions[0]["args"] == [0]   # 填表说明
    [(text, _)] = alerts(actions)
    assert "使用步骤" in text


def test_macro_without_excel_exits_with_chinese_message(capsys):
    import xlwings as xw

    assert not hasattr(xw.Book, "_mock_caller")
    with pytest.raises(SystemExit):
        macros.calculate_scores()
    assert "无法连接到调用本程序的 Excel 工作簿" in capsys.readouterr().err


def _as_excel_runs_it(workbook: Path, python_command: str) -> subprocess.CompletedProcess:
    """``python -B -c`` as xlwings' ExecuteWindows composes it (minus cmd.exe): the
    prepare_sys_path prologue with the workbook's own xlwings.conf settings, then the
    RunPython command."""
    conf = xlsm.read_conf(workbook.read_bytes())
    add = "true" if conf.get("ADD_WORKBOOK_TO_PYTHONPATH") in (None, "1", "TRUE") else "false"
    pythonpath = f"{add};{workbook};{workbook};;;;{conf.get('PYTHONPATH') or ''}"
    code = (f'import xlwings.utils;xlwings.utils.prepare_sys_path(r"{pythonpath}"); '
            f"{python_command}")
    return subprocess.run([sys.executable, "-B", "-c", code, f"--wb={workbook.name}"],
                          capture_output=True, text=True, cwd=workbook.parent, timeout=120)


def test_runpython_command_line_runs_outside_excel(commands, tmp_path):
    wb = tmp_path / "自评表.xlsm"
    shutil.copy(SAMPLE, wb)
    proc = _as_excel_runs_it(wb, commands["calculate_scores"])
    # No Excel to attach to: a Chinese line on stderr (shown by xlwings) and exit 1.
    assert proc.returncode == 1
    assert "无法连接到调用本程序的 Excel 工作簿" in proc.stderr and "Traceback" not in proc.stderr


def test_run_main_route_imports_the_workbook_module(tmp_path, monkeypatch):
    monkeypatch.setattr(setup, "_is_windows", lambda: True)
    monkeypatch.setattr(setup, "check_environment", lambda exe, **kw: [])
    monkeypatch.setattr(setup, "check_importable", lambda exe: None)
    wb = tmp_path / "部门整体支出绩效自评表.xlsm"
    shutil.copy(SAMPLE, wb)
    assert setup.run_setup(str(wb)) == 0
    # What the xlwings add-in's "Run main" runs: import <workbook name>; <name>.main()
    proc = _as_excel_runs_it(wb, "import 部门整体支出绩效自评表; 部门整体支出绩效自评表.main()")
    assert proc.returncode == 1 and "无法连接到调用本程序的 Excel 工作簿" in proc.stderr


def test_output_folder_rules(tmp_path):
    class B:
        fullname = str(tmp_path / "自评表.xlsm")

    assert macros.output_folder(B, None) == tmp_path
    assert macros.output_folder(B, "  ") == tmp_path
    (tmp_path / "报告").mkdir()
    assert macros.output_folder(B, "报告") == tmp_path / "报告"      # relative to the workbook

    class Cloud:
        fullname = "https://contoso.sharepoint.com/sites/x/自评表.xlsm"

    with pytest.raises(macros.MacroError, match="OneDrive"):
        macros.output_folder(Cloud, None)


# --------------------------------------------------------------------------- excel-setup


def test_setup_explains_off_windows(tmp_path, capsys):
    wb = tmp_path / "部门整体支出绩效自评表.xlsm"
    shutil.copy(SAMPLE, wb)
    assert setup.run_setup(str(wb)) == 0
    out = capsys.readouterr().out
    assert "本机不是 Windows，未做任何改动" in out and "部门整体支出绩效自评表.py" in out
    assert wb.read_bytes() == SAMPLE.read_bytes() and not list(tmp_path.glob("*.py"))
    assert setup.run_setup(None) == 0
    assert "INTERPRETER_WIN" in capsys.readouterr().out


@pytest.mark.parametrize("make, needle", [
    (lambda d: d / "missing.xlsm", "找不到工作簿"),
    (lambda d: shutil.copy(WORKBOOKS / "sample_quwo_2021.xlsx", d / "a.xlsx") and d / "a.xlsx",
     "不是带宏的 .xlsm"),
    (lambda d: (d / "bad.xlsm").write_bytes(b"not a zip") and d / "bad.xlsm", "无法读取"),
])
def test_setup_rejects_unusable_arguments(tmp_path, capsys, make, needle):
    assert setup.run_setup(str(make(tmp_path))) == 2
    assert needle in capsys.readouterr().err


def test_setup_rejects_xlsm_without_conf_sheet(tmp_path, capsys):
    from openpyxl import Workbook

    wb = Workbook()
    wb.save(tmp_path / "plain.xlsm")
    assert setup.run_setup(str(tmp_path / "plain.xlsm")) == 2
    assert "没有“xlwings.conf”工作表" in capsys.readouterr().err


def test_setup_on_windows_writes_the_workbook(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(setup, "_is_windows", lambda: True)
    monkeypatch.setattr(setup, "check_environment", lambda exe, **kw: [])
    monkeypatch.setattr(setup, "check_importable", lambda exe: None)
    exe = r"C:\Users\张三\perfeval\.venv\Scripts\python.exe"
    monkeypatch.setattr(setup.sys, "executable", exe)
    wb = tmp_path / "部门整体支出绩效自评表.xlsm"
    shutil.copy(SAMPLE, wb)
    assert setup.run_setup(str(wb)) == 0
    data = wb.read_bytes()
    assert xlsm.read_conf(data)["Interpreter_Win"] == exe
    assert load_workbook(wb)[xlsm.CONF_SHEET]["B1"].value == exe
    # Only the conf sheet changed: the ribbon, its relationship and the VBA are intact.
    old, new = zipfile.ZipFile(SAMPLE), zipfile.ZipFile(wb)
    changed = [n for n in old.namelist() if old.read(n) != new.read(n)]
    assert changed == ["xl/worksheets/sheet12.xml"]
    assert (tmp_path / "部门整体支出绩效自评表.bak-1.xlsm").read_bytes() == SAMPLE.read_bytes()
    module = tmp_path / "部门整体支出绩效自评表.py"
    assert module.read_text(encoding="utf-8").startswith(setup.RUNMAIN_MARK)
    ns: dict = {}
    exec(compile(module.read_text(encoding="utf-8"), str(module), "exec"), ns)
    assert ns["calculate_scores"] is macros.calculate_scores
    # Run again: the value is replaced, not duplicated; our own .py is refreshed.
    assert setup.run_setup(str(wb)) == 0
    assert xlsm.read_conf(wb.read_bytes())["Interpreter_Win"] == exe


def test_setup_on_windows_reports_problems(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(setup, "_is_windows", lambda: True)
    monkeypatch.setattr(setup, "check_importable", lambda exe: None)
    wb = tmp_path / "2021自评.xlsm"          # not an identifier: no Run main module
    shutil.copy(SAMPLE, wb)
    assert setup.run_setup(str(wb)) == 1      # no pywin32 / DLL here
    cap = capsys.readouterr()
    assert "不是合法的 Python 模块名" in cap.out
    assert "xlwings64-0.37.8.dll" in cap.err or "xlwings32-0.37.8.dll" in cap.err
    assert not list(tmp_path.glob("*.py"))


def test_setup_workbook_open_in_excel(tmp_path, capsys, monkeypatch):
    from perfeval_xl import files

    monkeypatch.setattr(setup, "_is_windows", lambda: True)
    monkeypatch.setattr(setup, "check_environment", lambda exe, **kw: [])
    monkeypatch.setattr(setup, "check_importable", lambda exe: None)
    wb = tmp_path / "自评表.xlsm"
    shutil.copy(SAMPLE, wb)

    def locked(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "replace", locked)
    assert setup.run_setup(str(wb)) == 1
    assert "正在 Word/Excel 中打开" in capsys.readouterr().err
    assert wb.read_bytes() == SAMPLE.read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~")]


def test_setup_user_config(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(setup, "_is_windows", lambda: True)
    monkeypatch.setattr(setup, "check_environment", lambda exe, **kw: [])
    monkeypatch.setattr(setup, "check_importable", lambda exe: None)
    monkeypatch.setattr(setup.Path, "home", classmethod(lambda cls: tmp_path))
    monkeypatch.setattr(setup.sys, "executable", r"C:\Python311\python.exe")
    conf = tmp_path / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir()
    conf.write_text('"INTERPRETER_WIN","C:\\old\\python.exe"\r\n"CONDA PATH","C:\\conda"\r\n',
                    encoding="ascii")
    assert setup.run_setup(None) == 0
    text = conf.read_text(encoding="ascii")
    assert text.splitlines() == ['"CONDA PATH","C:\\conda"',
                                 '"INTERPRETER_WIN","C:\\Python311\\python.exe"',
                                 '"INTERPRETER","C:\\Python311\\python.exe"']
    assert (conf.parent / "xlwings.conf.bak").is_file()


def test_check_environment_finds_the_dll_where_vba_looks(tmp_path, monkeypatch):
    monkeypatch.setattr(setup, "_is_windows", lambda: False)  # skip the pywin32 check
    assert setup.check_environment(str(tmp_path / "Scripts" / "python.exe")) == []
    monkeypatch.setattr(setup, "_is_windows", lambda: True)
    monkeypatch.setattr(setup.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(setup, "_user_base", lambda: tmp_path / "nowhere")
    exe = tmp_path / "Scripts" / "python.exe"
    # 32-bit Excel needs xlwings32 (64-bit Python, out of process), 64-bit Excel xlwings64.
    problems = setup.check_environment(str(exe), excel_bits=32)
    assert len(problems) == 1 and "xlwings32-0.37.8.dll" in problems[0]
    assert "Python 始终用 64 位" in problems[0]
    (tmp_path / setup.dll_name(32)).write_bytes(b"")   # venv root, one folder up
    assert setup.check_environment(str(exe), excel_bits=32) == []
    problems = setup.check_environment(str(exe), excel_bits=64)
    assert len(problems) == 1 and "xlwings64-0.37.8.dll" in problems[0]
    # Excel's bitness unknown: both DLLs must be there.
    problems = setup.check_environment(str(exe))
    assert len(problems) == 1 and "xlwings64" in problems[0] and "未能读出" in problems[0]
    (tmp_path / setup.dll_name(64)).write_bytes(b"")
    assert setup.check_environment(str(exe)) == []


def test_dll_left_in_the_user_install_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(setup, "_is_windows", lambda: True)
    monkeypatch.setattr(setup.importlib.util, "find_spec", lambda name: object())
    user = tmp_path / "AppData" / "Roaming" / "Python"
    tag = f"Python{sys.version_info.major}{sys.version_info.minor}"
    (user / tag).mkdir(parents=True)
    (user / tag / setup.dll_name(64)).write_bytes(b"")
    monkeypatch.setattr(setup, "_user_base", lambda: user)
    problems = setup.check_environment(str(tmp_path / "Python311" / "python.exe"), excel_bits=64)
    assert len(problems) == 1 and "用户目录" in problems[0] and "install.bat" in problems[0]
    assert "不要加 --user" in problems[0]


@pytest.mark.parametrize("answers, bits", [
    ({("ClickToRun", "Platform"): "x86"}, 32),
    ({("ClickToRun", "Platform"): "x64"}, 64),
    ({("16.0\\Outlook", "Bitness"): "x86"}, 32),
    ({("WOW6432Node\\Microsoft\\Office\\15.0\\Outlook", "Bitness"): "x64"}, 64),
    ({("ClickToRun", "Platform"): "arm64"}, None),
    ({}, None),
])
def test_excel_bitness_from_the_registry(answers, bits):
    def read(key, value):
        return next((v for (k, name), v in answers.items() if k in key and name == value), None)

    assert setup.excel_bitness(read) == bits


def test_asr_rule_blocking_office_child_processes():
    def policy(state):
        return lambda key, value: state if value == setup.ASR_OFFICE_CHILD else None

    assert setup.asr_blocks_child_processes(policy("1")) is True
    assert setup.asr_blocks_child_processes(policy("6")) is True     # warn mode also stops it
    assert setup.asr_blocks_child_processes(policy("2")) is False    # audit only
    assert setup.asr_blocks_child_processes(policy(None)) is False
    assert setup.asr_blocks_child_processes() is False               # not Windows: unknown
    problems = setup.check_environment(sys.executable, asr=True)
    assert any("阻止所有 Office 应用程序创建子进程" in p for p in problems)


def test_ansi_unsafe_interpreter_path():
    exe = r"C:\Users\张三\AppData\Local\perfeval-xl\python\python.exe"
    assert setup.ansi_unsafe([exe], 1252) == [exe]       # a Western code page
    assert setup.ansi_unsafe([exe], 936) == []           # GBK holds 张三
    assert setup.ansi_unsafe([exe], None) == []          # unknown: no claim
    problems = setup.check_environment(exe, codepage=1252)
    assert any("系统代码页（1252）" in p and "D:\\perfeval-xl" in p for p in problems)
    assert not any("代码页" in p for p in setup.check_environment(exe, codepage=936))


def test_check_importable_runs_the_interpreter_elsewhere(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/nonexistent")
    assert setup.check_importable(sys.executable) is None   # this install works from anywhere

    class Failed:
        returncode = 1
        stderr = "Traceback...\nModuleNotFoundError: No module named 'perfeval_xl'\n"

    seen = {}

    def run(cmd, **kw):
        seen.update(kw, cmd=cmd)
        return Failed()

    why = setup.check_importable(r"C:\Python312\python.exe", run=run)
    assert "找不到 perfeval_xl" in why and "ModuleNotFoundError" in why
    assert "PYTHONPATH" not in seen["env"] and seen["cwd"] != str(Path.cwd())
    assert seen["cmd"][1:] == ["-c", "import perfeval_xl.excel.macros"]
    assert "无法运行" in setup.check_importable(str(Path("/nonexistent/python.exe")))


def _windows_setup(monkeypatch):
    monkeypatch.setattr(setup, "_is_windows", lambda: True)
    monkeypatch.setattr(setup, "check_environment", lambda exe, **kw: [])
    monkeypatch.setattr(setup, "check_importable", lambda exe: None)


@pytest.mark.parametrize("make, needle", [
    (lambda wb: (wb.parent / ("~$" + wb.name)).write_bytes(b"owner"), "正在 Excel 中打开"),
    (lambda wb: wb.chmod(0o444), "只读"),
])
def test_setup_refuses_a_workbook_in_use_or_read_only(tmp_path, capsys, monkeypatch, make,
                                                      needle):
    import os

    _windows_setup(monkeypatch)
    wb = tmp_path / "自评表.xlsm"
    shutil.copy(SAMPLE, wb)
    make(wb)
    if needle == "只读" and os.access(wb, os.W_OK):
        # root may write a 0444 file; answer as the OS does for an ordinary user.
        real_access = os.access
        monkeypatch.setattr(setup.os, "access", lambda p, mode: False if Path(p) == wb
                            and mode == os.W_OK else real_access(p, mode))
    before = sorted(p.name for p in tmp_path.iterdir())
    assert setup.run_setup(str(wb)) == 1
    err = capsys.readouterr().err
    assert needle in err and "未做任何改动" in err
    assert wb.read_bytes() == SAMPLE.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == before   # no backup, no temp, no .py


def test_setup_refuses_a_workbook_on_onedrive(tmp_path, capsys, monkeypatch):
    _windows_setup(monkeypatch)
    cloud = tmp_path / "OneDrive - 某某县财政局"
    (cloud / "绩效").mkdir(parents=True)
    wb = cloud / "绩效" / "自评表.xlsm"
    shutil.copy(SAMPLE, wb)
    monkeypatch.setenv("OneDriveCommercial", str(cloud))
    assert setup.run_setup(str(wb)) == 1
    err = capsys.readouterr().err
    assert "OneDrive" in err and "复制到本机文件夹" in err
    assert sorted(p.name for p in wb.parent.iterdir()) == ["自评表.xlsm"]
    assert wb.read_bytes() == SAMPLE.read_bytes()


def test_setup_readonly_detection_without_root(tmp_path, monkeypatch):
    # The read-only branch by its own check (root may write read-only files).
    wb = tmp_path / "a.xlsm"
    wb.write_bytes(b"x")
    monkeypatch.setattr(setup.os, "access", lambda p, mode: Path(p) != wb)
    assert "只读" in setup.workbook_problem(wb)


def test_setup_workbook_writes_pythonpath_for_run_main(tmp_path, capsys, monkeypatch):
    _windows_setup(monkeypatch)
    wb = tmp_path / "部门整体支出绩效自评表.xlsm"
    shutil.copy(SAMPLE, wb)
    assert setup.run_setup(str(wb)) == 0
    conf = xlsm.read_conf(wb.read_bytes())
    assert conf["PYTHONPATH"] == str(tmp_path.resolve())
    assert conf["ADD_WORKBOOK_TO_PYTHONPATH"] == "0"
    wb2 = tmp_path / "2021自评.xlsm"           # no Run main module: no PYTHONPATH either
    shutil.copy(SAMPLE, wb2)
    assert setup.run_setup(str(wb2)) == 0
    assert xlsm.read_conf(wb2.read_bytes())["PYTHONPATH"] is None


def test_setup_user_level_creates_the_shortcut_or_says_why(tmp_path, capsys, monkeypatch):
    _windows_setup(monkeypatch)
    monkeypatch.setattr(setup.Path, "home", classmethod(lambda cls: tmp_path))
    monkeypatch.setattr(setup.sys, "executable", r"C:\Python311\python.exe")
    gui = types.ModuleType("perfeval_xl.gui")
    shortcut = types.ModuleType("perfeval_xl.gui.shortcut")
    made = []
    shortcut.create_desktop_shortcut = lambda: made.append(1) or tmp_path / "绩效评价助手.lnk"
    monkeypatch.setitem(sys.modules, "perfeval_xl.gui", gui)
    monkeypatch.setitem(sys.modules, "perfeval_xl.gui.shortcut", shortcut)
    assert setup.run_setup(None) == 0
    assert made == [1] and "已创建桌面快捷方式“绩效评价助手”" in capsys.readouterr().out

    def broken():
        raise OSError("桌面不可写")

    shortcut.create_desktop_shortcut = broken
    assert setup.run_setup(None) == 0                    # a warning, not a failure
    assert "未能创建桌面快捷方式" in capsys.readouterr().out


def test_runmain_target_rules(tmp_path):
    assert setup.runmain_target(tmp_path / "部门整体支出绩效自评表.xlsm")[0] == \
        tmp_path / "部门整体支出绩效自评表.py"
    assert setup.runmain_target(tmp_path / "2021 自评.xlsm")[0] is None
    assert setup.runmain_target(tmp_path / "class.xlsm")[0] is None
    assert setup.runmain_target(tmp_path / "openpyxl.xlsm")[0] is None    # would shadow it
    (tmp_path / "mine.py").write_text("print('user code')\n", encoding="utf-8")
    target, why = setup.runmain_target(tmp_path / "mine.xlsm")
    assert target is None and "未覆盖" in why


def test_set_conf_value_is_surgical():
    data = SAMPLE.read_bytes()
    new = xlsm.set_conf_value(data, "pythonpath", r"D:\代码 & <工具>")
    assert xlsm.read_conf(new)["PYTHONPATH"] == r"D:\代码 & <工具>"
    with pytest.raises(KeyError):
        xlsm.set_conf_value(data, "No Such Key", "x")


def test_tmp_dirs_are_not_leaked():
    # _with_vba works in its own TemporaryDirectory; nothing named perfeval-xlsm-* remains.
    before = set(Path(tempfile.gettempdir()).glob("perfeval-xlsm-*"))
    xlsm._with_vba((WORKBOOKS / "blank_mof2013.xlsx").read_bytes())
    assert set(Path(tempfile.gettempdir()).glob("perfeval-xlsm-*")) == before


class _MergedRange:
    """What xl_merges asks of an xlwings Range: merge_cells and merge_area's corners."""

    def __init__(self, coord: str, merges: list[str]):
        from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries

        col, row = coordinate_to_tuple(coord)[::-1]
        self.merge_cells = False
        for ref in merges:
            c0, r0, c1, r1 = range_boundaries(ref)
            if c0 <= col <= c1 and r0 <= row <= r1:
                self.merge_cells = True
                self.column, self.row = c0, r0
                self.last_cell = types.SimpleNamespace(column=c1, row=r1)
        self.merge_area = self


def test_excel_door_writes_merged_targets_into_the_top_left(tmp_path):
    """The ribbon's 计算得分 resolves merges as the file writers do: a target inside a merge
    goes to its top-left cell; a second target in the same merge is an error at its cell."""
    from perfeval_xl.workbook.plan import CellWrite, WritePlan, resolve_merges

    merges = {"自评表": ["F7:H7", "J9:K10"]}
    sheets = {name: types.SimpleNamespace(range=lambda c, m=m: _MergedRange(c, m))
              for name, m in merges.items()}
    book = types.SimpleNamespace(sheets=sheets)
    plan = WritePlan(writes=[CellWrite("自评表", "F7", 59.73), CellWrite("自评表", "G7", 0),
                             CellWrite("自评表", "K10", "优"), CellWrite("自评表", "B2", 1),
                             CellWrite("没有的表", "A1", 1)])
    found = xlsource.xl_merges(book, plan)
    assert found == {"自评表": [(6, 7, 8, 7), (10, 9, 11, 10)]}
    resolved, problems = resolve_merges(plan, found)
    assert [(w.cell, w.value) for w in resolved.writes] == [
        ("F7", 59.73), ("J9", "优"), ("B2", 1), ("A1", 1)]
    assert [(p.code, str(p.location)) for p in problems] == [("merged-target", "'自评表'!G7")]
    # An engine that cannot read merges (xlwings' remote engine) gives none: plan unchanged.
    broken = types.SimpleNamespace(sheets={"自评表": types.SimpleNamespace(
        range=lambda c: (_ for _ in ()).throw(NotImplementedError()))})
    assert xlsource.xl_merges(broken, plan) == {}
