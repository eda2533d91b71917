"""Tests for perfeval_xl.workbook.safety: refusing unsafe or unusable files early."""

from __future__ import annotations

import contextlib
import re
import struct
import sys
import zipfile
from pathlib import Path

import defusedxml
import docx
import openpyxl
import pytest

from perfeval_xl.workbook import safety
from perfeval_xl.workbook.safety import (
    UnsafeXmlParser,
    UnusableFile,
    check_docx_file,
    check_workbook_file,
    ensure_defused,
)

CJK = re.compile(r"[\u4e00-\u9fff]")

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n'
    '<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    "</sheetData></worksheet>"
)


# --- helpers ------------------------------------------------------------------------------


def make_xlsx(path: Path, rows: int = 3) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "预算执行"
    ws["A1"] = "调整后全年预算数"
    for r in range(2, rows + 2):
        ws.cell(r, 1, f"项目{r}")
        ws.cell(r, 2, r * 1.5)
    ws["C2"] = "=SUM(B2:B4)"
    wb.save(path)
    return path


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("部门整体支出绩效自评报告")
    document.save(path)
    return path


def rewrite(src: Path, dst: Path, replace: dict[str, bytes | None], add=None) -> Path:
    """Copy a zip, replacing (or with None dropping) members and adding others."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in replace:
                if replace[info.filename] is not None:
                    zout.writestr(info.filename, replace[info.filename])
            else:
                zout.writestr(info, zin.read(info))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def patch_central(path: Path, member: str, **fields: int) -> None:
    """Overwrite fields of a member's central directory header in place.

    Fields: flags (offset 8), compress_size (20), file_size (24), header_offset (42).
    """
    offsets = {
        "flags": (8, "<H"),
        "compress_size": (20, "<I"),
        "file_size": (24, "<I"),
        "header_offset": (42, "<I"),
    }
    data = bytearray(path.read_bytes())
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        (name_len,) = struct.unpack_from("<H", data, pos + 28)
        if data[pos + 46 : pos + 46 + name_len].decode() == member:
            for field, value in fields.items():
                offset, fmt = offsets[field]
                struct.pack_into(fmt, data, pos + offset, value)
            path.write_bytes(bytes(data))
            return
        pos = data.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(f"{member} not in central directory")


def refused(check, path: Path, code: str, **kw) -> UnusableFile:
    with pytest.raises(UnusableFile) as info:
        check(path, **kw)
    exc = info.value
    assert exc.code == code, exc.message
    assert CJK.search(exc.message)
    assert path.name in exc.message
    assert exc.path == path
    return exc


@pytest.fixture
def no_decompression(monkeypatch):
    """Call as a context manager: inside it, opening (decompressing) any member fails."""

    @contextlib.contextmanager
    def forbid():
        def forbidden(self, *args, **kwargs):
            raise AssertionError("member decompressed")

        with monkeypatch.context() as m:
            m.setattr(zipfile.ZipFile, "open", forbidden)
            yield

    return forbid


# --- files that pass ----------------------------------------------------------------------


def test_openpyxl_workbook_passes(tmp_path):
    check_workbook_file(make_xlsx(tmp_path / "自评表.xlsx"))


def test_large_regular_workbook_passes_the_ratio_check(tmp_path):
    check_workbook_file(make_xlsx(tmp_path / "big.xlsx", rows=20_000))


def test_python_docx_document_passes(tmp_path):
    check_docx_file(make_docx(tmp_path / "模板.docx"))


def test_workbook_part_found_through_rels(tmp_path):
    src = make_xlsx(tmp_path / "src.xlsx")
    with zipfile.ZipFile(src) as zf:
        rels = zf.read("_rels/.rels").replace(b"xl/workbook.xml", b"xl/book1.xml")
        book = zf.read("xl/workbook.xml")
    dst = rewrite(
        src,
        tmp_path / "moved.xlsx",
        {"xl/workbook.xml": None, "_rels/.rels": rels},
        add={"xl/book1.xml": book},
    )
    check_workbook_file(dst)


# --- the file itself ----------------------------------------------------------------------


def test_missing_file(tmp_path):
    exc = refused(check_workbook_file, tmp_path / "没有这个文件.xlsx", "file-missing")
    assert "找不到文件" in exc.message


def test_directory_is_not_a_file(tmp_path):
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    refused(check_workbook_file, folder, "not-a-file")


def test_empty_file(tmp_path):
    path = tmp_path / "空.xlsx"
    path.write_bytes(b"")
    assert "0 字节" in refused(check_workbook_file, path, "file-empty").message


def test_ole2_file_is_encrypted_or_legacy(tmp_path):
    path = tmp_path / "加密.xlsx"
    path.write_bytes(safety.OLE2_SIGNATURE + b"\x00" * 504)
    exc = refused(check_workbook_file, path, "encrypted-or-legacy")
    assert "已加密（设置了打开密码）或为旧版 .xls 格式" in exc.message
    assert "请在 Excel 中去掉密码并另存为 .xlsx/.xlsm" in exc.message
    doc = tmp_path / "old.docx"
    doc.write_bytes(safety.OLE2_SIGNATURE + b"\x00" * 504)
    assert ".docx" in refused(check_docx_file, doc, "encrypted-or-legacy").message


def test_text_file_renamed_xlsx(tmp_path):
    path = tmp_path / "renamed.xlsx"
    path.write_text("单位名称,预算数\n县中小企业服务中心,100\n", encoding="utf-8")
    exc = refused(check_workbook_file, path, "not-ooxml")
    assert "不是有效的 Excel 2007+ 工作簿 (.xlsx/.xlsm)" in exc.message


# --- broken zips --------------------------------------------------------------------------


def test_truncated_zip(tmp_path):
    data = make_xlsx(tmp_path / "src.xlsx").read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert "已损坏" in refused(check_workbook_file, path, "corrupt-zip").message


def test_bad_crc(tmp_path):
    src = make_xlsx(tmp_path / "src.xlsx")
    path = tmp_path / "crc.xlsx"
    marker = b"PAYLOAD-PAYLOAD-PAYLOAD"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info), compress_type=zipfile.ZIP_DEFLATED)
        zout.writestr("docProps/custom.bin", marker, compress_type=zipfile.ZIP_STORED)
    data = path.read_bytes()
    path.write_bytes(data.replace(marker, marker.lower()))
    assert "CRC" in refused(check_workbook_file, path, "corrupt-zip").message


def test_encrypted_zip_entry(tmp_path):
    path = make_xlsx(tmp_path / "entry.xlsx")
    patch_central(path, "xl/workbook.xml", flags=0x1)
    refused(check_workbook_file, path, "encrypted-entry")


def test_missing_content_types(tmp_path):
    src = make_xlsx(tmp_path / "src.xlsx")
    path = rewrite(src, tmp_path / "noct.xlsx", {"[Content_Types].xml": None})
    assert "[Content_Types].xml" in refused(check_workbook_file, path, "missing-part").message


def test_missing_workbook_part(tmp_path):
    src = make_xlsx(tmp_path / "src.xlsx")
    path = rewrite(src, tmp_path / "nowb.xlsx", {"xl/workbook.xml": None})
    assert "xl/workbook.xml" in refused(check_workbook_file, path, "missing-part").message


def test_missing_document_part(tmp_path):
    src = make_docx(tmp_path / "src.docx")
    path = rewrite(src, tmp_path / "nodoc.docx", {"word/document.xml": None})
    assert "word/document.xml" in refused(check_docx_file, path, "missing-part").message


def test_wrong_kind_of_office_file(tmp_path):
    doc = make_docx(tmp_path / "报告.docx")
    book = make_xlsx(tmp_path / "自评表.xlsx")
    assert "Word 文档" in refused(check_workbook_file, doc, "wrong-kind").message
    assert "Excel 工作簿" in refused(check_docx_file, book, "wrong-kind").message
    xlsb = tmp_path / "binary.xlsb"
    with zipfile.ZipFile(xlsb, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
    assert ".xlsb" in refused(check_workbook_file, xlsb, "wrong-kind").message


# --- zip bombs: refused from the directory, without decompressing --------------------------


def test_declared_huge_size_refused_without_decompressing(tmp_path, no_decompression):
    path = make_xlsx(tmp_path / "bomb.xlsx")
    patch_central(path, "xl/worksheets/sheet1.xml", file_size=0xFFFF0000)
    with no_decompression():
        exc = refused(check_workbook_file, path, "too-large")
        assert "压缩炸弹" in exc.message


def test_declared_huge_ratio_refused_without_decompressing(tmp_path, no_decompression):
    path = make_xlsx(tmp_path / "ratio.xlsx")
    patch_central(path, "xl/worksheets/sheet1.xml", file_size=100 * 1024 * 1024)
    with no_decompression():
        exc = refused(check_workbook_file, path, "zip-bomb")
        assert "xl/worksheets/sheet1.xml" in exc.message


def test_highly_compressible_member(tmp_path, no_decompression):
    src = make_xlsx(tmp_path / "src.xlsx")
    path = rewrite(src, tmp_path / "zeros.xlsx", {}, add={"xl/media/zeros.bin": bytes(20 << 20)})
    with no_decompression():
        refused(check_workbook_file, path, "zip-bomb")


def test_total_size_limit(tmp_path, no_decompression):
    path = make_xlsx(tmp_path / "limit.xlsx")
    with no_decompression():
        exc = refused(check_workbook_file, path, "too-large", max_uncompressed=1000)
    # An ordinary ratio over the budget is a big file, not an attack: say what to do.
    assert "炸弹" not in exc.message and "处理上限" in exc.message


def test_limits_follow_excel_and_deflate():
    # Excel's 64,000 cell formats compress ~300:1: below the XML limit, which is deflate's
    # own maximum (1032:1) with headroom; binary parts keep the tighter limit.
    assert safety.MAX_RATIO >= 1032 and safety.MAX_BINARY_RATIO == 200
    assert safety.MAX_ENTRIES >= 65_535 and safety.MAX_UNCOMPRESSED >= 64 * 1024 * 1024


def test_repetitive_legal_xml_passes(tmp_path):
    # 64,000 identical cell formats: the most repetitive styles part Excel can save.
    xf = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    styles = (f'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              f'<cellXfs count="64000">{xf * 64000}</cellXfs></styleSheet>').encode()
    src = make_xlsx(tmp_path / "src.xlsx")
    path = rewrite(src, tmp_path / "styles.xlsx", {"xl/styles.xml": styles})
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/styles.xml")
    assert info.file_size > 200 * info.compress_size  # refused as a bomb before
    check_workbook_file(path)


def test_xml_member_beyond_what_deflate_can_do_is_a_bomb(tmp_path, no_decompression):
    # bzip2 (which Office never writes) packs repetitive XML far beyond deflate's 1032:1.
    src = make_xlsx(tmp_path / "src.xlsx")
    path = tmp_path / "bz.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("xl/worksheets/sheet2.xml", b"<row/>" * (4 << 20),
                      compress_type=zipfile.ZIP_BZIP2)
    with no_decompression():
        exc = refused(check_workbook_file, path, "zip-bomb")
    assert "xl/worksheets/sheet2.xml" in exc.message and "炸弹" in exc.message


def test_too_many_entries(tmp_path, no_decompression):
    src = make_xlsx(tmp_path / "src.xlsx")
    extra = {f"xl/media/image{i}.png": b"x" for i in range(20)}
    path = rewrite(src, tmp_path / "many.xlsx", {}, add=extra)
    with no_decompression():
        refused(check_workbook_file, path, "too-many-entries", max_entries=20)
    check_workbook_file(path, max_entries=100)


def test_overlapping_entries(tmp_path, no_decompression):
    path = make_xlsx(tmp_path / "overlap.xlsx")
    with zipfile.ZipFile(path) as zf:
        first = zf.getinfo("[Content_Types].xml").header_offset
    patch_central(path, "xl/worksheets/sheet1.xml", header_offset=first)
    with no_decompression():
        assert "重叠" in refused(check_workbook_file, path, "zip-bomb").message


# --- XML entity bombs ---------------------------------------------------------------------


def test_billion_laughs_in_sheet(tmp_path):
    src = make_xlsx(tmp_path / "src.xlsx")
    path = rewrite(
        src, tmp_path / "laughs.xlsx", {"xl/worksheets/sheet1.xml": BILLION_LAUGHS.encode()}
    )
    exc = refused(check_workbook_file, path, "xml-dtd")
    assert "xl/worksheets/sheet1.xml" in exc.message


@pytest.mark.parametrize(
    "payload",
    [
        BILLION_LAUGHS.encode("utf-16"),  # with BOM
        BILLION_LAUGHS.encode("utf-16-be"),  # no BOM
        b"\xef\xbb\xbf" + BILLION_LAUGHS.encode(),
        ("<!-- harmless -->\n<?pi x?>\n" + BILLION_LAUGHS.split("\n", 1)[1]).encode(),
        b'<!DOCTYPE sst SYSTEM "http://example.invalid/x.dtd"><sst/>',
        b" " * (20 * 1024) + BILLION_LAUGHS.encode(),  # prolog too long to be real
    ],
    ids=["utf16-bom", "utf16be", "utf8-bom", "after-comment", "external", "long-prolog"],
)
def test_dtd_variants_in_styles(tmp_path, payload):
    src = make_xlsx(tmp_path / "src.xlsx")
    path = rewrite(src, tmp_path / "styles.xlsx", {"xl/styles.xml": payload})
    refused(check_workbook_file, path, "xml-dtd")


def test_dtd_in_member_with_unusual_name(tmp_path):
    src = make_xlsx(tmp_path / "src.xlsx")
    path = rewrite(
        src, tmp_path / "odd.xlsx", {}, add={"xl/worksheets/sheet9.dat": BILLION_LAUGHS.encode()}
    )
    refused(check_workbook_file, path, "xml-dtd")


def test_entity_in_docx_template(tmp_path):
    src = make_docx(tmp_path / "src.docx")
    path = rewrite(src, tmp_path / "template.docx", {"word/document.xml": BILLION_LAUGHS.encode()})
    refused(check_docx_file, path, "xml-dtd")


def test_openpyxl_with_defusedxml_refuses_entities_too(tmp_path):
    """The second line of defence: even without our check, openpyxl refuses the bomb."""
    ensure_defused()
    src = make_xlsx(tmp_path / "src.xlsx")
    path = rewrite(
        src, tmp_path / "laughs.xlsx", {"xl/worksheets/sheet1.xml": BILLION_LAUGHS.encode()}
    )
    with pytest.raises(ValueError) as info:  # openpyxl wraps the parser's exception
        openpyxl.load_workbook(path)
    assert isinstance(info.value.__cause__, defusedxml.EntitiesForbidden)


def test_ensure_defused_raises_without_defusedxml(monkeypatch):
    monkeypatch.setitem(sys.modules, "defusedxml.ElementTree", None)
    with pytest.raises(UnsafeXmlParser) as info:
        ensure_defused()
    assert "pip install defusedxml" in info.value.message


def test_ensure_defused_raises_when_openpyxl_does_not_use_it(monkeypatch):
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(UnsafeXmlParser) as info:
        ensure_defused()
    assert "OPENPYXL_DEFUSEDXML" in info.value.message
