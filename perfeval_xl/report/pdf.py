"""PDF export of a rendered report: LibreOffice headless, else Microsoft Word (Windows).

Each LibreOffice run gets its OWN profile directory (two runs sharing one fail silently) and a
fontconfig file that maps the template's GB/T 9704 font names to installed fonts
(see fonts.py). Conversion happens in a temporary folder and the PDF is then written
atomically beside the .docx, so a PDF open in a viewer is never left half-written.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

TIMEOUT_S = 180


class PdfUnavailable(Exception):
    """No PDF could be made; ``message`` is Chinese; the .docx is still there.
    ``code`` is "pdf-unavailable" (no converter) or "pdf-failed" (converter failed)."""

    def __init__(self, message: str, code: str = "pdf-unavailable"):
        super().__init__(message)
        self.message = message
        self.code = code


_CANDIDATES = [
    "/usr/bin/soffice", "/usr/local/bin/soffice", "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice*/program/soffice", "/snap/bin/libreoffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
]


def find_soffice() -> str | None:
    """LibreOffice's soffice: $PERFEVAL_SOFFICE, then PATH, then the usual install places."""
    env = os.environ.get("PERFEVAL_SOFFICE")
    if env and Path(env).is_file():
        return env
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for pattern in _CANDIDATES:
        for hit in sorted(glob.glob(pattern), reverse=True):
            if Path(hit).is_file():
                return hit
    return None


def convert_to_pdf(docx_path, out_dir=None, *, timeout: float = TIMEOUT_S) -> Path:
    """Convert ``docx_path`` to PDF in ``out_dir`` (default: beside it); returns the PDF path.

    Raises:
        PdfUnavailable: neither LibreOffice nor Word is available, or the conversion failed
            or took longer than ``timeout`` seconds.
        files.OutputError: the PDF cannot be written (open in a viewer, no permission).
    """
    src = Path(docx_path).resolve()
    if not src.is_file():
        raise PdfUnavailable(f"找不到要转换的 Word 文件：{src}", "pdf-failed")
    target = Path(out_dir).resolve() if out_dir else src.parent
    target = target / (src.stem + ".pdf")
    soffice = find_soffice()
    if soffice:
        data = _libreoffice(soffice, src, timeout)
    elif sys.platform == "win32" and _word_available():
        data = _word(src)
    else:
        raise PdfUnavailable(
            "未找到 LibreOffice 或 Microsoft Word，无法导出 PDF；Word 报告已生成。"
            "请安装 LibreOffice（Linux：apt-get install libreoffice-writer-nogui），"
            "或在 Word/WPS 中打开报告后“另存为 PDF”。")
    from perfeval_xl.files import atomic_write

    return atomic_write(target, data)


def _libreoffice(soffice: str, src: Path, timeout: float) -> bytes:
    from perfeval_xl.report import fonts

    work = Path(tempfile.mkdtemp(prefix="perfeval-pdf-"))
    try:
        profile, out = work / "profile", work / "out"
        out.mkdir()
        # A plain ASCII copy of the input: some soffice builds mangle non-ASCII argv on Windows.
        inp = work / "report.docx"
        shutil.copyfile(src, inp)
        env = dict(os.environ)
        if sys.platform != "win32":
            env["FONTCONFIG_FILE"] = str(fonts.write_fontconfig(work / "fontconfig"))
        cmd = [soffice, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
               f"-env:UserInstallation={profile.as_uri()}",
               "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(out), str(inp)]
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=(sys.platform != "win32"))
        except OSError as exc:
            raise PdfUnavailable(f"无法启动 LibreOffice（{soffice}）：{exc.strerror}",
                                 "pdf-unavailable") from None
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise PdfUnavailable(
                f"LibreOffice 转换 PDF 超过 {int(timeout)} 秒仍未完成，已终止；Word 报告已生成。",
                "pdf-failed") from None
        pdf = out / "report.pdf"
        if proc.returncode != 0 or not pdf.is_file():
            tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PdfUnavailable(
                f"LibreOffice 转换 PDF 失败（退出码 {proc.returncode}）：{' '.join(tail)}；"
                "Word 报告已生成。", "pdf-failed")
        return pdf.read_bytes()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _kill(proc: subprocess.Popen) -> None:
    try:
        if sys.platform != "win32":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _word_available() -> bool:
    try:
        import win32com.client  # noqa: F401
    except ImportError:
        return False
    return True


def _word(src: Path) -> bytes:
    """Export with Microsoft Word through COM (Windows with Word and pywin32)."""
    import win32com.client

    work = Path(tempfile.mkdtemp(prefix="perfeval-pdf-"))
    word = None
    try:
        pdf = work / (src.stem + ".pdf")
        word = win32com.client.DispatchEx("Word.Application")
        word.Visible = False
        word.DisplayAlerts = 0
        doc = word.Documents.Open(str(src), ReadOnly=True, AddToRecentFiles=False)
        try:
            doc.SaveAs2(str(pdf), FileFormat=17)  # wdFormatPDF
        finally:
            doc.Close(False)
        return pdf.read_bytes()
    except Exception as exc:  # COM errors have many types
        raise PdfUnavailable(f"Microsoft Word 导出 PDF 失败：{exc}；Word 报告已生成。",
                             "pdf-failed") from None
    finally:
        if word is not None:
            try:
                word.Quit()
            except Exception:
                pass
        shutil.rmtree(work, ignore_errors=True)
