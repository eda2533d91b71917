"""Formula injection out: text a county or department typed, copied into our outputs, stays text.

Every xlsx we write (the scored copy with its 校验结果, the adopted workbook with its
评分标准解读, batch's 汇总表, and the data workbooks embedded in the report's charts) is opened
and each cell holding the hostile text must be a string cell, and no ``<f>`` anywhere may
hold it. Texts start with = + - @ and with tab/CR before "=", as CSV/Excel injection lists
them; "cmd|" marks a DDE payload and "evil.invalid" a HYPERLINK one.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).parent))

import adopt_fixtures as af  # noqa: E402
from helpers import filled, ref_of, save, table_cells  # noqa: E402

from perfeval_xl.cli import main  # noqa: E402

DDE = "cmd|' /C calc'!A0"
PAYLOADS = {
    "eq": "=" + DDE,
    "plus": "+" + DDE,
    "minus": "-2+3+" + DDE,
    "at": "@SUM(" + DDE + ")",
    "tab": "\t=" + DDE,
    "cr": "\r\n=" + DDE,
    "link": '=HYPERLINK("http://evil.invalid/?x=1","点此查看")',
}
MARK = re.compile(r"cmd\||evil\.invalid")
M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _text(cell, value: str) -> None:
    """A department types the text: a string cell, as Excel stores "'=..." typed in."""
    cell.value = value
    cell.data_type = "s"


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv)
    return rc, err.getvalue()


def inert_texts(data: bytes, where: str) -> list[str]:
    """The hostile texts in an xlsx package, after asserting none is live: no ``<f>`` holds a
    payload, and every cell showing one is a string cell."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if not name.endswith(".xml"):
                continue
            root = etree.fromstring(z.read(name))
            for f in root.iter(f"{M}f"):
                assert not MARK.search(f.text or ""), f"{where}:{name}: formula {f.text!r}"
            for dn in root.iter(f"{M}definedName"):
                assert not MARK.search(dn.text or ""), f"{where}: defined name {dn.text!r}"
    wb = load_workbook(io.BytesIO(data))
    found = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and MARK.search(c.value):
                    assert c.data_type == "s", f"{where}: '{ws.title}'!{c.coordinate} " \
                                               f"is {c.data_type}: {c.value!r}"
                    found.append(c.value)
    return found


def embedded_workbooks(docx: Path) -> list[bytes]:
    with zipfile.ZipFile(docx) as z:
        return [z.read(n) for n in z.namelist() if n.endswith(".xlsx")]


def _sheet_texts(path: Path, title: str) -> str:
    wb = load_workbook(path)
    return "\n".join(str(c.value) for row in wb[title].iter_rows() for c in row
                     if c.value is not None)


# --------------------------------------------------------------------------- our workbook


@pytest.fixture(scope="module")
def department(tmp_path_factory):
    """The sample-shaped workbook with hostile text wherever a department types text."""
    folder = tmp_path_factory.mktemp("dept")
    wb = filled()
    sheet, coord = ref_of(wb, "unit_name")
    _text(wb[sheet][coord], PAYLOADS["eq"])
    sheet, coord = ref_of(wb, "budget_initial")  # a number cell: quoted in 校验结果
    _text(wb[sheet][coord], PAYLOADS["plus"])
    sheet, coord = ref_of(wb, "text_overview")
    _text(wb[sheet][coord], PAYLOADS["minus"])
    sheet, cols, r0, r1 = table_cells(wb, "tbl_scores")
    ws = wb[sheet]
    for r in range(r0 + 1, r1 + 1):  # one whole 一级指标: the chart's category name
        if ws[f"{cols['一级指标']}{r}"].value == "投入":
            _text(ws[f"{cols['一级指标']}{r}"], PAYLOADS["eq"])
    _text(ws[f"{cols['三级指标']}{r0 + 1}"], PAYLOADS["link"])
    _text(ws[f"{cols['二级指标']}{r0 + 2}"], PAYLOADS["at"])
    sheet, cols, r0, _ = table_cells(wb, "tbl_custom")
    _text(wb[sheet][f"{cols['三级指标']}{r0 + 1}"], PAYLOADS["tab"])
    sheet, cols, r0, _ = table_cells(wb, "tbl_work")
    _text(wb[sheet][f"{cols['工作事项']}{r0 + 1}"], PAYLOADS["cr"])
    path = save(wb, folder / "单位.xlsx")
    return folder, path


def test_scored_copy_keeps_department_text_inert(department):
    folder, path = department
    out = folder / "scored.xlsx"
    rc, err = _run(["score", str(path), "-o", str(out)])
    assert rc == 1, err  # 年初预算数 is text: an error at its cell
    assert f"“年初预算数”应填写数字，当前为文本“{PAYLOADS['plus']}”" in err
    texts = inert_texts(out.read_bytes(), "scored")
    assert PAYLOADS["plus"] in _sheet_texts(out, "校验结果")  # quoted, as text
    assert PAYLOADS["eq"] in texts and PAYLOADS["link"] in texts


def test_scored_copy_through_the_openpyxl_writer_keeps_text_inert(department, monkeypatch):
    """The fallback writer (a sheet the surgical writer cannot patch) stores text as text too."""
    from perfeval_xl.workbook import xmlwriter

    def refuse(data, plan):
        raise xmlwriter.NotSurgical("自评表", "工作表的行缺少行号属性")

    monkeypatch.setattr(xmlwriter, "apply_plan_xml", refuse)
    folder, path = department
    out = folder / "scored_openpyxl.xlsx"
    rc, err = _run(["score", str(path), "-o", str(out)])
    assert rc == 1, err
    texts = inert_texts(out.read_bytes(), "scored (openpyxl)")
    assert any(PAYLOADS["plus"] in t for t in texts)
    assert PAYLOADS["eq"] in texts


def test_report_charts_keep_category_text_inert(department):
    folder, path = department
    out = folder / "report.docx"
    rc, err = _run(["report", str(path), "-o", str(out)])
    assert rc == 1, err
    books = embedded_workbooks(out)
    assert len(books) == 2
    categories = [t for i, b in enumerate(books) for t in inert_texts(b, f"chart{i + 1}")]
    # The score chart's first category is the hostile 一级指标 (with its score rate below).
    assert any(t.startswith(PAYLOADS["eq"] + "\n得分率") for t in categories), categories
    with zipfile.ZipFile(out) as z:
        body = z.read("word/document.xml").decode("utf-8")
    fields = re.findall(r"<w:instrText[^>]*>([^<]*)<|w:instr=\"([^\"]*)\"", body)
    assert not any(MARK.search("".join(f)) for f in fields)  # no DDE/HYPERLINK field


def test_batch_summary_keeps_department_text_inert(department, tmp_path):
    folder, path = department
    in_dir = tmp_path / "in"
    in_dir.mkdir()
    (in_dir / path.name).write_bytes(path.read_bytes())
    out_dir = tmp_path / "out"
    rc, err = _run(["batch", str(in_dir), "-o", str(out_dir), "--jobs", "1"])
    assert rc == 0, err  # batch exits 1 only for files it could not process
    texts = inert_texts((out_dir / "汇总表.xlsx").read_bytes(), "汇总表")
    assert PAYLOADS["eq"] in texts  # the unit name
    assert any(PAYLOADS["plus"] in t for t in texts)  # the problem message quoting it
    reports = list(out_dir.glob("*.docx"))
    assert len(reports) == 1
    for i, book in enumerate(embedded_workbooks(reports[0])):
        inert_texts(book, f"batch chart{i + 1}")


# --------------------------------------------------------------------------- county table


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    folder = tmp_path_factory.mktemp("county")
    c = af.basic()
    ws = c.wb[c.sheet]
    _text(ws[c.cell(af.TRAINING, "name")], PAYLOADS["eq"])
    _text(ws[c.cell(af.COMPLIANCE, "standard")],
          '=HYPERLINK("http://evil.invalid","根据实际情况酌情扣分")')
    _text(ws[c.cell(af.SOCIAL, "standard")], "+" + DDE + " 好（7-8分）")
    _text(ws[f"{c.columns['level1']}{c.rows[af.STAFF]}"], PAYLOADS["minus"])
    _text(ws[c.cell(af.SATISFACTION, "standard")], PAYLOADS["at"])
    path = folder / "县表.xlsx"
    c.save(path)
    adopted = folder / "接管.xlsx"
    rc, err = _run(["adopt", str(path), "-o", str(adopted)])
    assert rc == 0, err
    return folder, adopted


def test_adopted_workbook_keeps_county_text_inert(county):
    _, adopted = county
    texts = inert_texts(adopted.read_bytes(), "adopted")
    reading = _sheet_texts(adopted, "评分标准解读")
    assert "evil.invalid" in reading and PAYLOADS["at"] in reading  # 原文 shown, as text
    assert PAYLOADS["eq"] in texts


def test_scored_adopted_workbook_and_its_report_keep_county_text_inert(county):
    folder, adopted = county
    scored = folder / "接管_已评分.xlsx"
    rc, err = _run(["score", str(adopted), "-o", str(scored)])
    assert rc in (0, 1), err
    assert any("evil.invalid" in t for t in inert_texts(scored.read_bytes(), "scored county"))
    report = folder / "县表报告.docx"
    rc, err = _run(["report", str(adopted), "-o", str(report)])
    assert rc in (0, 1), err
    for i, book in enumerate(embedded_workbooks(report)):
        inert_texts(book, f"county chart{i + 1}")


def test_batch_over_adopted_county_keeps_text_inert(county, tmp_path):
    _, adopted = county
    in_dir = tmp_path / "in"
    in_dir.mkdir()
    (in_dir / adopted.name).write_bytes(adopted.read_bytes())
    out_dir = tmp_path / "out"
    rc, err = _run(["batch", str(in_dir), "-o", str(out_dir), "--jobs", "1", "--no-report"])
    assert rc in (0, 1), err
    texts = inert_texts((out_dir / "汇总表.xlsx").read_bytes(), "county 汇总表")
    assert PAYLOADS["eq"] in texts  # the 个性指标 name as a column header


# --------------------------------------------------------------------------- the chart writer


@pytest.mark.parametrize("key", sorted(PAYLOADS))
def test_chart_workbook_writes_every_category_as_text(key):
    from perfeval_xl.report.charts import ChartSpec, Series, chart_xml

    text = PAYLOADS[key]
    spec = ChartSpec("column", "各一级指标分值与得分", [text, "http://evil.invalid/a"],
                     [Series("分值", [1, 2], "B9D0E8")], axis_title="分")
    _, xlsx = chart_xml(spec, "SimSun")
    texts = inert_texts(xlsx, key)
    assert texts[:1] == [text.replace("\r\n", "\n")] or text.strip() in texts[0]
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        assert b"hyperlink" not in z.read("xl/worksheets/sheet1.xml")
