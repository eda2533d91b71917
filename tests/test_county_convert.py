"""County files in old formats (#9 “Bad input”, docs/adopt.md §6): what LibreOffice's
conversion keeps, and files it cannot open — Chinese message, exit 2, nothing written."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import adopt_fixtures as F
import pytest
from openpyxl import load_workbook

from perfeval_xl import cli, convert
from perfeval_xl.adopt import AdoptError, adopt
from perfeval_xl.report.pdf import find_soffice

pytestmark = pytest.mark.skipif(find_soffice() is None, reason="LibreOffice (soffice) not installed")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def county_xls(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("xls")
    src = F.basic().save(d / "县表.xlsx")
    subprocess.run([find_soffice(), "--headless", "--norestore",
                    f"-env:UserInstallation={(d / 'profile').as_uri()}",
                    "--convert-to", "xls:MS Excel 97", "--outdir", str(d / "out"), str(src)],
                   check=True, capture_output=True, timeout=180)
    return d / "out" / "县表.xls"


def test_conversion_keeps_computed_formula_values(tmp_path, county_xls):
    """LibreOffice recalculates and stores each formula's value when it saves .xlsx: the
    county's =SUM(D4:D17) in the 合计 row arrives with its value 100."""
    out = convert.to_xlsx(county_xls, tmp_path)
    ws = load_workbook(out, data_only=True)["自评表"]
    assert ws["D18"].value == 100
    assert load_workbook(out)["自评表"]["D18"].value == "=SUM(D4:D17)"


def _garbled(src: Path, dst: Path) -> Path:
    """A real OLE compound file whose workbook stream is not BIFF: passes our content checks,
    and LibreOffice cannot load it (as with a damaged file or an .et from a newer WPS)."""
    import olefile

    shutil.copyfile(src, dst)
    with olefile.OleFileIO(str(dst), write_mode=True) as ole:
        n = len(ole.openstream("Workbook").read())
        ole.write_stream("Workbook", bytes((i * 37 + 11) % 256 for i in range(n)))
    return dst


@pytest.mark.parametrize("name, words", [("损坏的县表.xls", ("XLS",)),
                                         ("新版.et", ("ET", "新版 WPS"))])
def test_file_libreoffice_cannot_open(tmp_path, capsys, county_xls, name, words):
    src = _garbled(county_xls, tmp_path / name)
    before = sha(src)
    with pytest.raises(AdoptError) as exc:
        adopt(src, tmp_path / "out.xlsx")
    msg = exc.value.message
    for w in (*words, "无法转换", "另存为", "Excel 工作簿(*.xlsx)"):
        assert w in msg
    assert "Error" not in msg and "source file" not in msg  # no English from LibreOffice
    assert cli.main(["adopt", str(src), "-o", str(tmp_path / "out.xlsx")]) == 2
    err = capsys.readouterr().err
    assert words[0] in err and "Traceback" not in err
    assert cli.main(["score", str(src)]) == 2
    assert "无法转换" in capsys.readouterr().err
    assert sha(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_password_protected_xls_through_the_cli(tmp_path, capsys, county_xls):
    """A BIFF .xls with FILEPASS (a password to open): adopt and score exit 2 with the
    Chinese message, nothing is written, the file is unchanged."""
    import olefile

    src = tmp_path / "加密.xls"
    shutil.copyfile(county_xls, src)
    with olefile.OleFileIO(str(src), write_mode=True) as ole:
        data = bytearray(ole.openstream("Workbook").read())
        size = int.from_bytes(data[2:4], "little")
        data[4 + size:4 + size + 2] = (0x002F).to_bytes(2, "little")
        ole.write_stream("Workbook", bytes(data))
    before = sha(src)
    for args in (["adopt", str(src), "-o", str(tmp_path / "out.xlsx")], ["score", str(src)],
                 ["check", str(src)]):
        assert cli.main(args) == 2, args
        err = capsys.readouterr().err
        assert "有密码保护" in err and "Traceback" not in err
    assert sha(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["加密.xls"]
