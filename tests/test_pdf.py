"""PDFs in bulk (issue 13 item 1; issue 12 item 5): several reports per LibreOffice start,
a document that makes LibreOffice crash or hang retried alone and named, the whole process
group killed on a timeout, the .docx reports kept whatever LibreOffice does.

Most tests use a stub ``soffice`` (a small Python script, through $PERFEVAL_SOFFICE) that
converts, crashes or hangs depending on the unit name inside each document, so the timeout
and crash paths run deterministically without LibreOffice. One test runs the real
LibreOffice and skips with its reason where it is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from helpers import filled, save
from openpyxl import load_workbook

from perfeval_xl.batch import SUMMARY_NAME, run_batch
from perfeval_xl.report import pdf

GOOD = ["甲单位", "乙单位", "丙单位"]
HANG, CRASH = "挂起单位", "崩溃单位"

# Converts like soffice (--outdir D a.docx b.docx …, in argument order), except: a document
# whose text holds 挂起单位 makes it start a helper child and hang (the child must die with
# it: process group); 崩溃单位 makes it exit 77 with the earlier documents converted. Every
# start is logged (the document count per start) to $STUB_LOG.
STUB = r'''#!{python}
import json, os, subprocess, sys, time, zipfile
args = sys.argv[1:]
out = args[args.index("--outdir") + 1]
docs = [a for a in args if a.endswith(".docx")]
with open(os.environ["STUB_LOG"], "a") as fh:
    fh.write(json.dumps(len(docs)) + "\n")
if os.environ.get("STUB_BROKEN"):
    print("soffice: cannot open display", file=sys.stderr)
    sys.exit(1)
for d in docs:
    try:
        text = zipfile.ZipFile(d).read("word/document.xml").decode("utf-8")
    except Exception:
        print("Error: source file could not be loaded", file=sys.stderr)
        continue
    if "挂起单位" in text:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
        with open(os.environ["STUB_LOG"] + ".child", "w") as fh:
            fh.write(str(child.pid))
        time.sleep(3600)
    if "崩溃单位" in text:
        print("soffice.bin crashed", file=sys.stderr)
        sys.exit(77)
    name = os.path.splitext(os.path.basename(d))[0] + ".pdf"
    with open(os.path.join(out, name), "wb") as fh:
        fh.write(b"%PDF-1.4 stub\n" + text.encode("utf-8"))
'''


@pytest.fixture
def stub(tmp_path, monkeypatch):
    """$PERFEVAL_SOFFICE = the stub; short timeouts; returns the start log path."""
    script = tmp_path / "stub" / "soffice"
    script.parent.mkdir()
    script.write_text(STUB.replace("{python}", sys.executable), encoding="utf-8")
    script.chmod(0o755)
    log = tmp_path / "stub" / "starts.log"
    monkeypatch.setenv("PERFEVAL_SOFFICE", str(script))
    monkeypatch.setenv("STUB_LOG", str(log))
    monkeypatch.setattr(pdf, "TIMEOUT_S", 4)
    monkeypatch.setattr(pdf, "CHUNK_BASE_S", 4)
    monkeypatch.setattr(pdf, "CHUNK_PER_DOC_S", 1)
    return log


def starts(log: Path) -> list[int]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def make_folder(folder: Path, units: list[str]) -> Path:
    folder.mkdir(parents=True)
    for i, unit in enumerate(units):
        save(filled(unit_name=unit), folder / f"{i:02d}.xlsx")
    return folder


def sheet_list(path: Path, title: str) -> dict[str, str]:
    wb = load_workbook(path)
    if title not in wb.sheetnames:
        return {}
    return {r[1]: r[2] for r in wb[title].iter_rows(min_row=2, values_only=True)}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (killed, not yet reaped by its parent init) is dead for our purpose.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


# --------------------------------------------------------------------------- stub soffice


@pytest.mark.skipif(sys.platform == "win32", reason="the stub soffice is a POSIX script")
def test_chunk_converts_many_documents_per_start(tmp_path, stub):
    src = make_folder(tmp_path / "in", GOOD)
    result = run_batch(src, tmp_path / "out", jobs=1, pdf=True, progress=False)
    assert result.exit_code == 0 and not result.pdf_failures
    assert starts(stub) == [3]  # one start for the three reports
    for r in result.records:
        data = (tmp_path / "out" / r.pdf).read_bytes()
        assert data.startswith(b"%PDF-") and r.unit.encode() in data
        assert r.pdf == Path(r.report).with_suffix(".pdf").name
    ws = load_workbook(tmp_path / "out" / SUMMARY_NAME)["汇总"]
    col = next(c.column for c in ws[1] if c.value == "PDF")
    cells = [ws.cell(row, col) for row in range(3, 3 + len(result.records))]
    assert [c.value for c in cells] == [r.pdf for r in result.records]
    assert all(c.hyperlink is not None for c in cells)

    again = run_batch(src, tmp_path / "out", jobs=1, pdf=True, progress=False)
    assert (again.processed, again.skipped, again.exit_code) == (0, 3, 0)
    assert starts(stub) == [3]  # an unchanged folder: no work, no LibreOffice start


@pytest.mark.skipif(sys.platform == "win32", reason="the stub soffice is a POSIX script")
def test_hanging_and_crashing_documents_are_named_and_the_rest_convert(tmp_path, stub):
    units = ["甲单位", HANG, "乙单位", CRASH, "丙单位"]
    src = make_folder(tmp_path / "in", units)
    out = tmp_path / "out"
    t = time.monotonic()
    result = run_batch(src, out, jobs=1, pdf=True, progress=False)
    assert time.monotonic() - t < 90
    made = {r.unit: r.pdf for r in result.records}
    assert all(made[u] for u in GOOD)
    assert not made[HANG] and not made[CRASH]
    for r in result.records:  # every .docx report stays
        assert (out / r.report).is_file()
    assert sorted(p.name for p in out.glob("*.pdf")) == sorted(made[u] for u in GOOD)
    # One start for the chunk, then the culprit alone and the rest as a chunk, and so on;
    # never one start per document for the good ones.
    assert starts(stub)[0] == 5 and len(starts(stub)) < 2 * len(units)
    assert result.exit_code == 1
    listed = sheet_list(out / SUMMARY_NAME, "PDF未生成")
    assert set(listed) == {"01.xlsx", "03.xlsx"}
    assert "超过 4 秒" in listed["01.xlsx"] and "已终止" in listed["01.xlsx"]
    assert "退出码 77" in listed["03.xlsx"]
    assert all("Word 报告已生成" in reason for reason in listed.values())
    # The hanging soffice's helper child died with it (the whole process group is killed).
    child = int(Path(str(stub) + ".child").read_text())
    assert not alive(child)
    assert any("PDF" in line for line in result.summary_lines())

    # LibreOffice fixed: a re-run converts only the two missing PDFs, nothing else.
    n = len(starts(stub))
    os.environ["STUB_LOG"] = str(stub)
    good_stub = Path(os.environ["PERFEVAL_SOFFICE"])
    good_stub.write_text(good_stub.read_text().replace('"挂起单位" in text', "False")
                         .replace('"崩溃单位" in text', "False"))
    again = run_batch(src, out, jobs=1, pdf=True, progress=False)
    assert (again.processed, again.skipped, again.exit_code) == (0, 5, 0)
    assert starts(stub)[n:] == [2]
    assert all(r.pdf and (out / r.pdf).is_file() for r in again.records)


@pytest.mark.skipif(sys.platform == "win32", reason="the stub soffice is a POSIX script")
def test_bulk_converter_directly_with_two_instances(tmp_path, stub):
    docs = []
    for unit in ["甲单位", "乙单位", CRASH, "丙单位", "丁单位"]:
        docx = tmp_path / f"{unit}.docx"
        with zipfile.ZipFile(docx, "w") as z:
            z.writestr("word/document.xml", f"<w:t>{unit}</w:t>")
        docs.append((docx, tmp_path / f"{unit}.pdf"))
    done = []
    result = pdf.convert_many(docs, workers=2, on_done=done.append)
    assert sorted(p.name for p in result.made) == sorted(
        f"{u}.pdf" for u in ["甲单位", "乙单位", "丙单位", "丁单位"])
    assert list(result.failed) == [tmp_path / f"{CRASH}.pdf"]
    assert sum(done) == 5  # progress counts every document once, never more
    assert result.starts == len(starts(stub)) and result.starts < 5


@pytest.mark.skipif(sys.platform == "win32", reason="the stub soffice is a POSIX script")
def test_a_broken_libreoffice_is_given_up_on_without_one_start_per_document(
        tmp_path, stub, monkeypatch):
    monkeypatch.setenv("STUB_BROKEN", "1")
    docs = []
    for k in range(12):
        docx = tmp_path / f"{k}.docx"
        with zipfile.ZipFile(docx, "w") as z:
            z.writestr("word/document.xml", f"<w:t>单位{k}</w:t>")
        docs.append((docx, tmp_path / f"{k}.pdf"))
    result = pdf.convert_many(docs, workers=1)
    assert not result.made and len(result.failed) == 12
    assert result.starts == len(starts(stub)) < 12
    assert all("退出码 1" in r and "cannot open display" in r for r in result.failed.values())
    assert sum("连续多次失败" in r for r in result.failed.values()) >= 6


def test_missing_libreoffice_keeps_reports_and_names_every_pdf(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "find_soffice", lambda: None)
    monkeypatch.setattr(pdf, "_word_available", lambda: False)
    src = make_folder(tmp_path / "in", GOOD[:2])
    out = tmp_path / "out"
    result = run_batch(src, out, jobs=1, pdf=True, progress=False)
    assert result.exit_code == 1 and not result.failures
    assert all((out / r.report).is_file() and not r.pdf for r in result.records)
    listed = sheet_list(out / SUMMARY_NAME, "PDF未生成")
    assert set(listed) == {"00.xlsx", "01.xlsx"}
    assert all("未找到 LibreOffice" in reason for reason in listed.values())
    assert not list(out.glob("*.pdf"))


@pytest.mark.skipif(sys.platform == "win32", reason="the stub soffice is a POSIX script")
def test_single_report_pdf_has_a_timeout_and_kills_the_group(tmp_path, stub):
    out = tmp_path / "r"
    out.mkdir()
    docx = tmp_path / "挂起.docx"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", f"<w:t>{HANG}</w:t>")
    t = time.monotonic()
    with pytest.raises(pdf.PdfUnavailable) as exc:
        pdf.convert_to_pdf(docx, out, timeout=3)
    assert time.monotonic() - t < 30
    assert "超过 3 秒" in exc.value.message and "Word 报告已生成" in exc.value.message
    assert not alive(int(Path(str(stub) + ".child").read_text()))
    assert not list(out.iterdir())


# --------------------------------------------------------------------------- real LibreOffice

needs_soffice = pytest.mark.skipif(
    pdf.find_soffice() is None or not shutil.which("pdfinfo") or not shutil.which("pdftotext"),
    reason="LibreOffice (soffice) and poppler-utils (pdfinfo, pdftotext) not installed")


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(next(ln for ln in info.stdout.splitlines() if ln.startswith("Pages:")).split()[1])


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@needs_soffice
def test_real_libreoffice_bulk_conversion(tmp_path, monkeypatch):
    monkeypatch.delenv("PERFEVAL_SOFFICE", raising=False)
    src = make_folder(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    result = run_batch(src, out, jobs=1, pdf=True, progress=False)
    assert result.exit_code == 0, result.pdf_failures
    assert result.pdf_starts == 1  # three reports, one LibreOffice start
    # The same document converted alone (report --pdf's path) gives the same page count.
    alone = tmp_path / "alone"
    alone.mkdir()
    first = result.records[0]
    single = pdf.convert_to_pdf(out / first.report, alone)
    for r in result.records:
        path = out / r.pdf
        assert path.read_bytes().startswith(b"%PDF-")
        assert pdf_pages(path) == pdf_pages(single) >= 2
        assert r.unit in pdf_text(path).replace(" ", "")

    # A damaged .docx in the middle of a chunk: LibreOffice cannot load it; the others
    # still convert and the damaged one is named.
    good = [(out / r.report, tmp_path / f"{k}.pdf") for k, r in enumerate(result.records)]
    bad = tmp_path / "damaged.docx"
    data = (out / first.report).read_bytes()
    bad.write_bytes(data[:len(data) // 2])
    items = [good[0], (bad, tmp_path / "damaged.pdf"), good[1], good[2]]
    bulk = pdf.convert_many(items, workers=1)
    assert sorted(bulk.made) == sorted(t for _, t in good)
    assert list(bulk.failed) == [tmp_path / "damaged.pdf"]
    assert "未能转换" in bulk.failed[tmp_path / "damaged.pdf"]
    assert bulk.starts == 2  # the chunk, then the damaged document alone
