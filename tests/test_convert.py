""".xls/.et/.ods in (perfeval_xl/convert.py): detection, refusals with Chinese messages and
exit 2 (password, damaged, newer WPS, no converter), and round trips through LibreOffice:
a county .xls adopted, filled and scored; an adopted workbook saved as .xls scored by the
CLI into an .xlsx. The input file is never modified."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import adopt_fixtures as F
import pytest
from helpers import FULL, set_named, table_cells
from openpyxl import load_workbook

from perfeval_xl import cli, convert, engine
from perfeval_xl.adopt import AdoptError, adopt
from perfeval_xl.report.pdf import find_soffice

needs_soffice = pytest.mark.skipif(find_soffice() is None,
                                   reason="LibreOffice (soffice) not installed")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def soffice_convert(src: Path, fmt: str, outdir: Path) -> Path:
    """Save ``src`` in another format with LibreOffice, as a county's office would."""
    outdir.mkdir(exist_ok=True)
    subprocess.run([find_soffice(), "--headless", "--norestore",
                    f"-env:UserInstallation={(outdir / 'profile').as_uri()}",
                    "--convert-to", fmt, "--outdir", str(outdir), str(src)],
                   check=True, capture_output=True, timeout=180)
    return outdir / f"{src.stem}.{fmt.split(':')[0]}"


@pytest.fixture(scope="module")
def county_xls(tmp_path_factory) -> Path:
    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) not installed")
    d = tmp_path_factory.mktemp("xls")
    src = F.basic().save(d / "县表.xlsx")
    return soffice_convert(src, "xls:MS Excel 97", d / "xls")


def fake_ods(path: Path) -> Path:
    """The start of an OpenDocument spreadsheet (enough to be recognised as one)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    return path


# --------------------------------------------------------------------------- detection


def test_needs_conversion_by_suffix_and_content(tmp_path):
    for name in ("a.xls", "a.et", "a.ods", "a.XLS"):
        (tmp_path / name).write_bytes(b"x")
        assert convert.needs_conversion(tmp_path / name), name
    assert convert.needs_conversion(fake_ods(tmp_path / "renamed.xlsx"))
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(convert.OLE2_SIGNATURE + b"\0" * 504)
    assert not convert.needs_conversion(junk)  # left to the safety check's message
    real = F.basic().save(tmp_path / "real.xlsx")
    assert not convert.needs_conversion(real)


def test_format_labels_name_the_format(tmp_path):
    assert convert.format_label(tmp_path / "a.xls").startswith("XLS")
    assert convert.format_label(tmp_path / "a.et").startswith("ET")
    assert convert.format_label(tmp_path / "a.ods").startswith("ODS")


def test_biff_filepass_is_found_in_the_workbook_globals():
    bof = (0x0809).to_bytes(2, "little") + (16).to_bytes(2, "little") + b"\0" * 16
    rec = (0x00E1).to_bytes(2, "little") + (2).to_bytes(2, "little") + b"\0\0"
    filepass = (0x002F).to_bytes(2, "little") + (2).to_bytes(2, "little") + b"\0\0"
    assert convert._biff_filepass(bof + filepass + rec)
    assert not convert._biff_filepass(bof + rec + rec)
    assert not convert._biff_filepass(bof + rec + bof + filepass)  # in a sheet, not the book


# --------------------------------------------------------------------------- bad input


def encrypted_workbook(path: Path) -> Path:
    """An Excel workbook with a password to open, as Excel writes it (an OLE file holding
    EncryptionInfo/EncryptedPackage), named as the county sent it."""
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml",
                                reason="msoffcrypto-tool (oletools' dependency) missing")
    plain = F.basic().save(path.with_name("plain.xlsx"))
    with plain.open("rb") as f, path.open("wb") as out:
        ooxml.OOXMLFile(f).encrypt("county", out)
    return path


@pytest.mark.parametrize("name", ["县表.xls", "县表.xlsx"])
def test_password_protected_file_is_refused(tmp_path, capsys, name):
    src = encrypted_workbook(tmp_path / name)
    before = sha(src)
    assert convert.is_encrypted(src)
    with pytest.raises(AdoptError) as exc:
        adopt(src, tmp_path / "out.xlsx")
    assert "有密码保护" in exc.value.message and "另存为" in exc.value.message
    assert cli.main(["adopt", str(src), "-o", str(tmp_path / "out.xlsx")]) == 2
    assert "有密码保护" in capsys.readouterr().err
    assert cli.main(["score", str(src)]) == 2
    assert "有密码保护" in capsys.readouterr().err
    assert sha(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "plain.xlsx"])


@needs_soffice
def test_password_protected_xls_is_refused(tmp_path, county_xls):
    """A BIFF .xls whose workbook globals hold FILEPASS (a password to open)."""
    import olefile

    src = tmp_path / "加密.xls"
    shutil.copyfile(county_xls, src)
    with olefile.OleFileIO(str(src), write_mode=True) as ole:
        data = bytearray(ole.openstream("Workbook").read())
        size = int.from_bytes(data[2:4], "little")
        data[4 + size:4 + size + 2] = (0x002F).to_bytes(2, "little")  # record after BOF
        ole.write_stream("Workbook", bytes(data))
    assert convert.is_encrypted(src)
    with pytest.raises(AdoptError) as exc:
        adopt(src, tmp_path / "out.xlsx")
    assert "有密码保护" in exc.value.message and "XLS" in exc.value.message
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("name, content, words", [
    ("损坏.xls", convert.OLE2_SIGNATURE + b"\0" * 1000, ("XLS", "已损坏")),
    ("乱码.xls", b"this is not a spreadsheet at all\n" * 20, ("XLS", "不是表格")),
    ("新版.et", b"\x00\x01WPS-NEXT" + b"\x07" * 500, ("ET", "新版 WPS")),
])
def test_damaged_or_unknown_files_are_refused(tmp_path, capsys, name, content, words):
    src = tmp_path / name
    src.write_bytes(content)
    with pytest.raises(AdoptError) as exc:
        adopt(src, tmp_path / "out.xlsx")
    for w in words:
        assert w in exc.value.message
    assert "Excel 工作簿(*.xlsx)" in exc.value.message and "WPS" in exc.value.message
    assert cli.main(["check", str(src)]) == 2
    assert words[0] in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_no_converter_says_how_to_save_as_xlsx(tmp_path, capsys, monkeypatch):
    import perfeval_xl.report.pdf as pdf

    monkeypatch.setattr(pdf, "find_soffice", lambda: None)
    monkeypatch.setattr(convert, "_excel_available", lambda: False)
    src = fake_ods(tmp_path / "县表.ods")
    with pytest.raises(convert.ConversionError) as exc:
        convert.to_xlsx(src, tmp_path)
    msg = exc.value.message
    assert exc.value.code == "converter-missing"
    assert "ODS" in msg and "Excel" in msg and "WPS" in msg and "文件→另存为" in msg
    assert cli.main(["adopt", str(src)]) == 2
    assert "LibreOffice" in capsys.readouterr().err
    assert not (tmp_path / "县表_接管.xlsx").exists()


def test_in_place_on_an_xls_is_refused(tmp_path, capsys):
    src = tmp_path / "县表.xls"
    src.write_bytes(b"x")
    assert cli.main(["score", str(src), "--in-place"]) == 2
    err = capsys.readouterr().err
    assert "无法写回原文件" in err and "-o" in err
    assert src.read_bytes() == b"x" and sorted(p.name for p in tmp_path.iterdir()) == [src.name]


# --------------------------------------------------------------------------- round trips


@needs_soffice
@pytest.mark.slow
def test_county_xls_adopted_filled_scored(tmp_path, county_xls):
    src = tmp_path / "县表.xls"
    shutil.copyfile(county_xls, src)
    before = sha(src)
    report = adopt(src, None)
    assert sha(src) == before
    assert report.output == tmp_path / "县表_接管.xlsx"
    assert any("XLS" in line and "转换" in line for line in report.summary())
    assert not report.errors, [str(p) for p in report.errors]
    county = F.basic()
    wb = load_workbook(report.output)
    assert wb["自评表"].merged_cells.ranges  # the county's merges came through
    set_named(wb, **FULL)
    ws = wb["自评表"]
    for key, (role, value) in F.ENTRIES.items():
        ws[county.cell(key, role)] = value
    sheet, cols, r0, r1 = table_cells(wb, "tbl_custom")
    for r in range(r0 + 1, r1 + 1):
        cell = wb[sheet][f"{cols['目标值']}{r}"]
        if wb[sheet][f"{cols['代码']}{r}"].value == "custom_01" and cell.value is None:
            cell.value = F.TRAINING_TARGET
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    result = engine.evaluate(filled)
    assert float(result.total) == pytest.approx(F.EXPECTED_TOTAL)

    # The department's office saves the adopted workbook as .xls again; score reads it
    # and writes an .xlsx beside it.
    xls = soffice_convert(filled, "xls:MS Excel 97", tmp_path / "again")
    assert cli.main(["score", str(xls)]) == 0
    out = xls.with_name(f"{xls.stem}_已评分.xlsx")
    got = load_workbook(out)["自评表"]
    assert got[county.total].value == pytest.approx(F.EXPECTED_TOTAL)
    assert got[county.cell(F.PROCURE, "score")].value == pytest.approx(5.76)


@needs_soffice
@pytest.mark.slow
@pytest.mark.parametrize("fmt, suffix", [("ods", ".ods"), ("xls:MS Excel 97", ".et")])
def test_ods_and_et_are_adopted(tmp_path, fmt, suffix):
    src = F.basic().save(tmp_path / "county.xlsx")
    converted = soffice_convert(src, fmt, tmp_path / "c")
    county = converted.rename(converted.with_suffix(suffix))
    report = adopt(county, tmp_path / "out.xlsm")
    assert report.output.suffix == ".xlsm"
    assert [r.code for r in report.rows][:3] == [
        "staff_control_rate", "three_public_change_rate", "budget_completion_rate"]
    label = "ODS" if suffix == ".ods" else "ET"
    assert any(label in line for line in report.summary())


@needs_soffice
@pytest.mark.slow
def test_batch_converts_an_xls_and_scores_it_like_the_xlsx(tmp_path):
    from perfeval_xl.batch.runner import run_batch

    sample = Path(__file__).resolve().parent.parent / "workbooks" / "sample_quwo_2021.xlsx"
    src = tmp_path / "in"
    src.mkdir()
    xls = soffice_convert(sample, "xls:MS Excel 97", src)
    before = sha(xls)
    result = run_batch(src, tmp_path / "out", jobs=1, report=False, progress=False)
    assert result.exit_code == 0, result.failures
    assert sha(xls) == before
    (rec,) = result.records
    assert rec.file == xls.name and rec.scored.endswith("_已评分.xlsx")
    expected = engine.evaluate(sample).total
    assert float(rec.total) == pytest.approx(float(expected))
    # The scored copy is an .xlsx that reads back with the same total.
    again = engine.evaluate(tmp_path / "out" / rec.scored)
    assert float(again.total) == pytest.approx(float(expected))
