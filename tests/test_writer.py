"""The surgical writer: scoring a workbook changes only the target cells' XML.

Fixtures decorate a real self-evaluation workbook with what openpyxl would lose or
disturb — a drawing with a 「单位负责人签字…（加盖公章）」 text box and a picture, an Excel 2010
(x14) data validation, a comment (the builder's), a calcChain, VBA + customUI (the .xlsm
sample) — then score it and compare the zip members byte for byte.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import filled, named_value, reopen, save, score_row_of, table_cells
from openpyxl import load_workbook

from perfeval_xl import engine
from perfeval_xl.cli import main
from perfeval_xl.workbook.reader import OpenpyxlSource
from perfeval_xl.workbook.writer import write_scored
from perfeval_xl.workbook.xmlsource import XmlSource

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_XLSM = ROOT / "workbooks" / "sample_quwo_2021.xlsm"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
SIGN_TEXT = "单位负责人签字：            （加盖公章）"

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

DRAWING = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" \
xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
<xdr:twoCellAnchor><xdr:from><xdr:col>1</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>44</xdr:row>\
<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>6</xdr:col><xdr:colOff>0</xdr:colOff>\
<xdr:row>48</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:sp macro="" textlink="">\
<xdr:nvSpPr><xdr:cNvPr id="2" name="文本框 1"/><xdr:cNvSpPr txBox="1"/></xdr:nvSpPr>\
<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="3000000" cy="600000"/></a:xfrm>\
<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr><xdr:txBody><a:bodyPr/><a:lstStyle/>\
<a:p><a:r><a:rPr lang="zh-CN"/><a:t>{SIGN_TEXT}</a:t></a:r></a:p></xdr:txBody></xdr:sp>\
<xdr:clientData/></xdr:twoCellAnchor>\
<xdr:oneCellAnchor><xdr:from><xdr:col>8</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>44</xdr:row>\
<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx="400000" cy="400000"/><xdr:pic><xdr:nvPicPr>\
<xdr:cNvPr id="3" name="公章"/><xdr:cNvPicPr/></xdr:nvPicPr><xdr:blipFill>\
<a:blip r:embed="rIdImg"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill><xdr:spPr>\
<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic><xdr:clientData/>\
</xdr:oneCellAnchor></xdr:wsDr>"""

X14_DV = ('<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
          'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
          '<x14:dataValidations count="1" '
          'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
          '<x14:dataValidation type="list" allowBlank="1" showErrorMessage="1">'
          "<x14:formula1><xm:f>'评分设置'!$A$1:$A$3</xm:f></x14:formula1>"
          "<xm:sqref>L4:L6</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>")


def _members(data: bytes) -> dict[str, bytes]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return {n: z.read(n) for n in z.namelist()}


def _sheet_part(members: dict[str, bytes], title: str) -> str:
    wbxml = members["xl/workbook.xml"].decode()
    rid = re.search(r'<sheet [^>]*name="' + re.escape(title) + r'"[^>]*r:id="(\w+)"', wbxml)
    rels = members["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(r'<Relationship [^>]*Target="([^"]+)"[^>]*Id="' + rid.group(1) + '"',
                       rels) or re.search(r'<Relationship [^>]*Id="' + rid.group(1)
                                          + r'"[^>]*Target="([^"]+)"', rels)
    t = target.group(1)
    return t.lstrip("/") if t.startswith("/") else "xl/" + t


def decorate(data: bytes, *, calc_chain: bool = False, shared_total: bool = False) -> bytes:
    """Add a drawing (text box + picture) and an x14 validation to 自评表, optionally a
    calcChain and a shared formula from the total cell J42 to L42."""
    m = _members(data)
    part = _sheet_part(m, "自评表")
    rels_name = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    sheet = m[part].decode()
    drawing_tag = ('<drawing xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships" r:id="rIdTB"/>')
    anchor = "<legacyDrawing" if "<legacyDrawing" in sheet else "</worksheet>"
    sheet = sheet.replace(anchor, drawing_tag + anchor, 1)
    sheet = sheet.replace("</worksheet>", X14_DV + "</worksheet>")
    if shared_total:
        sheet = re.sub(r'<c r="J42"([^>]*?)(/>|>.*?</c>)',
                       r'<c r="J42"\1><f t="shared" ref="J42:L42" si="7">SUM(J4:J41)</f>'
                       r"<v>1</v></c>", sheet, count=1)
        sheet = re.sub(r'(<c r="K42"[^>]*?(?:/>|>.*?</c>))',
                       r'\1<c r="L42"><f t="shared" si="7"/><v>1</v></c>', sheet, count=1)
        assert 'si="7"/>' in sheet
    m[part] = sheet.encode()
    rel = ('<Relationship Id="rIdTB" Type="http://schemas.openxmlformats.org/officeDocument/'
           '2006/relationships/drawing" Target="../drawings/drawing99.xml"/>')
    if rels_name in m:
        m[rels_name] = m[rels_name].replace(b"</Relationships>", rel.encode()
                                            + b"</Relationships>")
    else:
        m[rels_name] = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                        f'relationships">{rel}</Relationships>').encode()
    m["xl/drawings/drawing99.xml"] = DRAWING.encode()
    m["xl/drawings/_rels/drawing99.xml.rels"] = (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rIdImg" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/image" Target="../media/image99.png"/></Relationships>')
    m["xl/media/image99.png"] = PNG
    types = m["[Content_Types].xml"].decode()
    extra = ('<Override PartName="/xl/drawings/drawing99.xml" ContentType="application/'
             'vnd.openxmlformats-officedocument.drawing+xml"/>')
    if 'Extension="png"' not in types:
        extra += '<Default Extension="png" ContentType="image/png"/>'
    if calc_chain:
        extra += ('<Override PartName="/xl/calcChain.xml" ContentType="application/'
                  'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/>')
        m["xl/calcChain.xml"] = (
            b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<c r="J42" i="8"/></calcChain>')
        m["xl/_rels/workbook.xml.rels"] = m["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>",
            b'<Relationship Id="rIdCC" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>')
    m["[Content_Types].xml"] = types.replace("</Types>", extra + "</Types>").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in m.items():
            z.writestr(name, body)
    return out.getvalue()


def _with_error(tmp_path: Path, name: str = "in.xlsx", **kw) -> Path:
    """A filled workbook with one error (basic spending does not add up), decorated."""
    wb = filled(spending_basic=200)
    for r in (4, 5, 6):  # summed by the shared formula's copy in L42
        wb["自评表"][f"L{r}"] = r
    src = save(wb, tmp_path / "plain.xlsx")
    path = tmp_path / name
    path.write_bytes(decorate(src.read_bytes(), **kw))
    return path


def _changed(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    assert set(after) <= set(before)
    return {n for n in before if n in after and before[n] != after[n]}


def _untouched_pieces(part_xml: bytes) -> list[bytes]:
    """The pieces of a sheet part the writer must carry over verbatim."""
    out = []
    for pat in (rb"<drawing [^>]*/>", rb"<extLst>.*</extLst>", rb"<legacyDrawing [^>]*/>",
                rb"<dataValidations.*</dataValidations>", rb"<sheetViews>.*</sheetViews>",
                rb"<cols>.*</cols>", rb"<mergeCells.*</mergeCells>"):
        hit = re.search(pat, part_xml, re.DOTALL)
        if hit:
            out.append(hit.group(0))
    return out


# --------------------------------------------------------------------------- score (copy)


def test_score_copy_changes_only_target_cells(tmp_path, capsys):
    src = _with_error(tmp_path)
    before = _members(src.read_bytes())
    out = tmp_path / "out.xlsx"
    assert main(["score", str(src), "-o", str(out)]) == 1  # the error is reported
    assert "shapes-dropped" not in capsys.readouterr().err
    after = _members(out.read_bytes())
    scores_part = _sheet_part(before, "自评表")
    checks_part = _sheet_part(before, "校验结果")
    # Everything but the two target sheets and the styles they needed is byte-identical:
    # drawing with the text box, picture, comments, rels, content types, theme, docProps.
    assert _changed(before, after) <= {scores_part, checks_part, "xl/styles.xml",
                                       "xl/workbook.xml"}
    assert set(after) == set(before)
    assert SIGN_TEXT.encode() in after["xl/drawings/drawing99.xml"]
    # Inside the scored sheet, the drawing reference, the x14 validation and the rest stay.
    pieces = _untouched_pieces(before[scores_part])
    assert len(pieces) >= 5
    for piece in pieces:
        assert piece in after[scores_part]
    # The target cells hold the results (read back with formulas kept).
    result = engine.evaluate(src)
    back = reopen(out)
    assert named_value(back, "total_score") == pytest.approx(float(result.total))
    assert named_value(back, "grade") == result.grade
    sheet, cols, _, _ = table_cells(back, "tbl_scores")
    row = score_row_of(back, "budget_completion_rate")
    assert back[sheet][f"{cols['得分']}{row}"].value == 5
    assert back[sheet][f"{cols['得分']}{row}"].number_format == "0.00"
    assert back[sheet][f"{cols['实际值']}{row}"].value == pytest.approx(98.2874650, abs=1e-6)
    assert back[sheet][f"{cols['实际值']}{row}"].number_format == '0.00"%"'
    # 校验结果 lists the error with a working internal link (no relationship needed).
    csheet, ccols, r0, r1 = table_cells(back, "tbl_checks")
    rows = {back[csheet][f"{ccols['问题代码']}{r}"].value: r for r in range(r0 + 1, r1 + 1)}
    assert "sum-mismatch" in rows
    cell = back[csheet][f"{ccols['位置']}{rows['sum-mismatch']}"]
    assert cell.hyperlink is not None and cell.hyperlink.location.startswith("'预算执行'!")
    assert cell.hyperlink.id is None and cell.font.u == "single"
    assert back[csheet][f"{ccols['严重程度']}{rows['sum-mismatch']}"].fill.fgColor.rgb \
        == "FFF4CCCC"
    # Excel recalculates on open.
    assert b'fullCalcOnLoad="1"' in after["xl/workbook.xml"]


def test_in_place_xlsm_keeps_vba_ribbon_and_shapes(tmp_path):
    path = tmp_path / "自评表.xlsm"
    path.write_bytes(decorate(SAMPLE_XLSM.read_bytes()))
    before = _members(path.read_bytes())
    assert main(["score", str(path), "--in-place"]) == 0
    backups = list(tmp_path.glob("自评表.bak-*.xlsm"))
    assert len(backups) == 1 and _members(backups[0].read_bytes()) == before
    after = _members(path.read_bytes())
    changed = _changed(before, after)
    assert changed <= {_sheet_part(before, "自评表"), _sheet_part(before, "校验结果"),
                       "xl/styles.xml", "xl/workbook.xml"}
    for part in ("xl/vbaProject.bin", "customUI/customUI14.xml", "_rels/.rels",
                 "[Content_Types].xml", "xl/drawings/drawing99.xml", "xl/media/image99.png"):
        assert after[part] == before[part], part
    back = load_workbook(path, keep_vba=True)
    assert named_value(back, "total_score") == pytest.approx(94.88, abs=0.01)


def test_shared_formula_and_calc_chain(tmp_path):
    """Overwriting the master of a shared formula writes the formula out in the cell that
    shared it; the now stale calcChain goes, with its content type and relationship."""
    src = _with_error(tmp_path, calc_chain=True, shared_total=True)
    wb = engine.load(src)
    result = engine.evaluate(src, wb=wb)
    out = write_scored(wb, result, tmp_path / "out.xlsx", source=src)
    after = _members(out.read_bytes())
    assert "xl/calcChain.xml" not in after
    assert b"calcChain" not in after["[Content_Types].xml"]
    assert b"calcChain" not in after["xl/_rels/workbook.xml.rels"]
    back = load_workbook(out)
    assert back["自评表"]["L42"].value == "=SUM(L4:L41)"
    assert back["自评表"]["J42"].value == pytest.approx(float(result.total))


# --------------------------------------------------------------------------- merged targets


def _merged(tmp_path: Path) -> Path:
    """得分 of two indicator rows merged into one cell (a conflict), and the total cell
    named at the lower cell of a vertical merge (written into the top-left)."""
    wb = filled()
    ws = wb["自评表"]
    sheet, cols, _, _ = table_cells(wb, "tbl_scores")
    a, b = score_row_of(wb, "budget_completion_rate"), score_row_of(wb, "budget_adjustment_rate")
    assert b == a + 1
    ws.merge_cells(f"{cols['得分']}{a}:{cols['得分']}{b}")
    from openpyxl.workbook.defined_name import DefinedName

    del wb.defined_names["total_score"]
    wb.defined_names["total_score"] = DefinedName("total_score", attr_text="'自评表'!$M$3")
    ws.merge_cells("M2:M3")
    return save(wb, tmp_path / "merged.xlsx")


def _check_merged(out: Path, total: float) -> None:
    back = load_workbook(out)
    ws = back["自评表"]
    _, cols, _, _ = table_cells(back, "tbl_scores")
    a = score_row_of(back, "budget_completion_rate")
    assert ws[f"{cols['得分']}{a}"].value == 5  # the first target keeps the merge
    assert ws["M2"].value == pytest.approx(total)  # top-left of M2:M3
    assert ws["M3"].value is None
    # The dropped write is listed on 校验结果 at its own cell.
    csheet, ccols, r0, r1 = table_cells(back, "tbl_checks")
    listed = [(back[csheet][f"{ccols['问题代码']}{r}"].value,
               back[csheet][f"{ccols['位置']}{r}"].value) for r in range(r0 + 1, r1 + 1)]
    assert ("merged-target", f"'自评表'!{cols['得分']}{a + 1}") in listed


def _problem_at(result) -> list[str]:
    return [str(p.location) for p in result.problems if p.code == "merged-target"]


def test_merged_targets_score_copy(tmp_path, capsys):
    src = _merged(tmp_path)
    out = tmp_path / "out.xlsx"
    assert main(["score", str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "merged-target" in err and "合并单元格" in err and "Traceback" not in err
    total = float(engine.evaluate(src).total)
    _check_merged(out, total)


def test_merged_targets_in_place(tmp_path, capsys):
    src = _merged(tmp_path)
    total = float(engine.evaluate(src).total)
    assert main(["score", str(src), "--in-place"]) == 1
    assert "merged-target" in capsys.readouterr().err
    _check_merged(src, total)


def test_merged_targets_batch_writer_and_openpyxl_fallback(tmp_path):
    """The batch path (openpyxl workbook + source file) and the openpyxl applier alone."""
    src = _merged(tmp_path)
    wb = engine.open_workbook(src)
    result = engine.evaluate(src, wb=wb)
    out = write_scored(wb, result, tmp_path / "batch.xlsx", source=src)
    _check_merged(out, float(result.total))
    row = score_row_of(wb, "budget_completion_rate") + 1
    assert _problem_at(result) == [f"'自评表'!J{row}"]
    wb2 = engine.open_workbook(src)
    result2 = engine.evaluate(src, wb=wb2)
    out2 = write_scored(wb2, result2, tmp_path / "openpyxl.xlsx")  # no source: openpyxl
    _check_merged(out2, float(result2.total))
    assert _problem_at(result2) == _problem_at(result)


# --------------------------------------------------------------------------- fallback


def _unpatchable(tmp_path: Path) -> Path:
    """自评表 with rows lacking their r attribute (legal, but not patched in place)."""
    src = _with_error(tmp_path)
    m = _members(src.read_bytes())
    part = _sheet_part(m, "自评表")
    m[part] = re.sub(rb'<row r="\d+"', b"<row", m[part])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in m.items():
            z.writestr(name, body)
    path = tmp_path / "odd.xlsx"
    path.write_bytes(out.getvalue())
    return path


def test_fallback_copy_warns_what_is_lost_at_the_sheet(tmp_path, capsys):
    src = _unpatchable(tmp_path)
    out = tmp_path / "out.xlsx"
    assert main(["score", str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "shapes-dropped" in err and "'自评表'" in err and "文本框或形状" in err
    assert "validation-dropped" in err
    back = reopen(out)
    assert named_value(back, "grade") is not None


def test_fallback_in_place_is_refused_and_file_untouched(tmp_path, capsys):
    src = _unpatchable(tmp_path)
    before = src.read_bytes()
    assert main(["score", str(src), "--in-place"]) == 2
    err = capsys.readouterr().err
    assert "自评表" in err and "文本框或形状" in err and "未做任何改动" in err
    assert "Traceback" not in err
    assert src.read_bytes() == before
    assert not list(tmp_path.glob("odd.bak-*"))


# --------------------------------------------------------------------------- reading


def test_xml_source_reads_like_openpyxl(tmp_path):
    """Shared formulas, dates, booleans, errors, % formats and shared strings: the XML
    source answers as the openpyxl source does (LibreOffice-saved files use all of them)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "表"
    ws["A1"], ws["A2"], ws["A3"] = 1, 2.5, "文本"
    ws["B1"] = "=A1*2"
    ws["C1"], ws["D1"] = True, "#DIV/0!"
    ws["E1"] = 0.985
    ws["E1"].number_format = "0.0%"
    import datetime as dt

    ws["F1"] = dt.datetime(2021, 12, 31)
    path = tmp_path / "s.xlsx"
    wb.save(path)
    m = _members(path.read_bytes())
    # Make B1 the master of a shared formula over B1:B2.
    m["xl/worksheets/sheet1.xml"] = m["xl/worksheets/sheet1.xml"].replace(
        b"<f>A1*2</f>", b'<f t="shared" ref="B1:B2" si="0">A1*2</f>').replace(
        b'<c r="A2" t="n"><v>2.5</v></c>',
        b'<c r="A2" t="n"><v>2.5</v></c><c r="B2"><f t="shared" si="0"/><v>5</v></c>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in m.items():
            z.writestr(name, body)
    path.write_bytes(buf.getvalue())
    xs = XmlSource(path.read_bytes(), str(path))
    ops = OpenpyxlSource(load_workbook(path), str(path))
    # (before reading Z9: openpyxl creates the cells it is asked for)
    assert xs.max_row("表") == ops.max_row("表") == 3
    assert xs.formula("表", "B2") == ops.formula("表", "B2") == "=A2*2"
    for coord in ("A1", "A2", "A3", "B1", "B2", "C1", "D1", "E1", "F1", "Z9"):
        assert xs.value("表", coord) == ops.value("表", coord), coord
        assert xs.number_format("表", coord) == ops.number_format("表", coord), coord
    assert xs.value("无此表", "A1") == ops.value("无此表", "A1")


def test_engine_results_identical_through_both_sources(tmp_path):
    src = _with_error(tmp_path)
    a = engine.evaluate(src)  # package XML
    b = engine.evaluate(src, wb=engine.open_workbook(src))  # openpyxl
    assert a.to_json() == b.to_json()


# --------------------------------------------------------------------------- LibreOffice


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_scored_file_opens_and_recalculates_in_libreoffice(tmp_path):
    src = _with_error(tmp_path, calc_chain=True, shared_total=True)
    out = tmp_path / "scored.xlsx"
    assert main(["score", str(src), "-o", str(out)]) == 1
    lo = tmp_path / "lo"
    lo.mkdir()
    subprocess.run(
        [SOFFICE, "--headless", "--norestore",
         f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--convert-to", "xlsx",
         "--outdir", str(lo), str(out)], check=True, capture_output=True, timeout=240)
    back = load_workbook(lo / out.name, data_only=True)
    result = engine.evaluate(src)
    assert named_value(back, "total_score") == pytest.approx(float(result.total))
    assert named_value(back, "grade") == result.grade
    # LibreOffice reads the shared formula written out in L42 (it keeps Excel's cached
    # values on load, so the formula text is what shows that it understood the cell).
    formulas = load_workbook(lo / out.name)
    assert formulas["自评表"]["L42"].value == "=SUM(L4:L41)"
    csheet, ccols, r0, r1 = table_cells(formulas, "tbl_checks")
    assert "sum-mismatch" in [back[csheet][f"{ccols['问题代码']}{r}"].value
                              for r in range(r0 + 1, r1 + 1)]


def test_rescoring_replaces_links_and_reuses_styles(tmp_path):
    """Scoring a scored workbook again (after fixing inputs) leaves one link per listed
    problem, blanks the rows no longer needed, and appends no further styles."""
    from helpers import set_named

    first = tmp_path / "1.xlsx"
    src = save(filled(spending_basic=200, budget_initial="abc"), tmp_path / "in.xlsx")
    assert main(["score", str(src), "-o", str(first)]) == 1
    wb = load_workbook(first)
    set_named(wb, spending_basic=207.77, budget_initial=388.46)
    fixed = save(wb, tmp_path / "fixed.xlsx")
    outs = []
    for i in range(3):
        outs.append(tmp_path / f"{i + 2}.xlsx")
        assert main(["score", str(outs[-2] if i else fixed), "-o", str(outs[-1])]) == 0
    result = engine.evaluate(fixed)
    back = load_workbook(outs[-1])
    csheet, ccols, r0, r1 = table_cells(back, "tbl_checks")
    codes = [back[csheet][f"{ccols['问题代码']}{r}"].value for r in range(r0 + 1, r1 + 1)]
    assert [c for c in codes if c] == [p.code for p in result.problems]
    ws = back[csheet]
    links = [c.coordinate for row in ws.iter_rows() for c in row if c.hyperlink]
    assert len(links) == len([p for p in result.problems if p.location and p.location.cell])
    below = r0 + 1 + len(result.problems)
    assert all(ws[f"{ccols[h]}{below}"].value is None for h in ccols)
    styles = [_members(p.read_bytes())["xl/styles.xml"] for p in outs[-2:]]
    assert styles[0] == styles[1]


def test_clear_range_to_the_last_row_does_not_hang(tmp_path):
    """A 校验结果 table name reaching row 1,048,576: clearing matches existing cells only
    (XML writer) or stops at the last used row (openpyxl); run under a timeout."""
    src = _with_error(tmp_path)
    code = f"""
import sys
from pathlib import Path
from perfeval_xl import engine
from perfeval_xl.workbook import writer, xmlwriter
src = Path({str(src)!r})
wb = engine.load(src)
result = engine.evaluate(src, wb=wb)
plan = writer.plan_writes(result)
sheet, r0, r1, lo, hi = plan.clear[0]
plan.clear[0] = (sheet, r0, 1048576, lo, hi)
xmlwriter.apply_plan_xml(wb.data, plan)
writer.apply_plan_openpyxl(engine.open_workbook(src), plan)
print("done")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip() == "done", out.stderr[-2000:]


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_saved_workbook_is_patched_surgically(tmp_path):
    """A file saved by another program (shared strings, its own styles and part names):
    the shared-string table stays as it was, target cells become inline strings."""
    src = save(filled(spending_basic=200), tmp_path / "src.xlsx")
    lo = tmp_path / "lo"
    lo.mkdir()
    subprocess.run(
        [SOFFICE, "--headless", "--norestore",
         f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--convert-to", "xlsx",
         "--outdir", str(lo), str(src)], check=True, capture_output=True, timeout=240)
    theirs = lo / "src.xlsx"
    before = _members(theirs.read_bytes())
    assert "xl/sharedStrings.xml" in before
    out = tmp_path / "out.xlsx"
    assert main(["score", str(theirs), "-o", str(out)]) == 1
    after = _members(out.read_bytes())
    assert _changed(before, after) <= {_sheet_part(before, "自评表"),
                                       _sheet_part(before, "校验结果"), "xl/styles.xml",
                                       "xl/workbook.xml"}
    result = engine.evaluate(theirs)
    back = reopen(out)
    assert named_value(back, "total_score") == pytest.approx(float(result.total))
    csheet, ccols, r0, r1 = table_cells(back, "tbl_checks")
    assert "sum-mismatch" in [back[csheet][f"{ccols['问题代码']}{r}"].value
                              for r in range(r0 + 1, r1 + 1)]
