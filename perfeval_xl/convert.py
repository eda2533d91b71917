"""Spreadsheets that are not .xlsx/.xlsm — Excel 97-2003 ``.xls``, WPS ``.et`` and
OpenDocument ``.ods`` — converted to ``.xlsx`` (or ``.xlsm``) before anything reads them.

Many county finance bureaus still send ``.xls``. The conversion keeps the county's styles,
merged cells and formulas, because it is done by a spreadsheet program:

- Microsoft Excel through xlwings, where it is installed (Windows). Excel reads its own old
  format best. This path cannot run on the Linux build machine; it is kept small.
- LibreOffice headless elsewhere (and on Windows without Excel): its own temporary profile
  (two runs sharing one fail silently), and a time limit after which its whole process
  group is killed, as the PDF export does (``report/pdf.py``, whose soffice finder we use).

Neither available: :class:`ConversionError` (exit 2 in the CLI) says how to save the file
as .xlsx in Excel and in WPS. The input is never modified: a copy is converted inside the
caller's working folder. Encrypted (password-protected) files are refused before any
program opens them, since a headless converter would wait for a password or fail vaguely.

Public: :func:`needs_conversion`, :func:`to_xlsx`, :func:`format_label`,
:class:`ConversionError` (``code``, Chinese ``message``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

__all__ = ["CONVERTIBLE", "ConversionError", "format_label", "is_encrypted", "needs_conversion",
           "to_xlsx"]

TIMEOUT_S = 120
MAX_INPUT_BYTES = 64 * 1024 * 1024

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# suffix -> how the format is named to the user
CONVERTIBLE = {
    ".xls": "XLS（Excel 97-2003 工作簿）",
    ".xlt": "XLT（Excel 97-2003 模板）",
    ".et": "ET（WPS 表格文件）",
    ".ett": "ETT（WPS 表格模板）",
    ".ods": "ODS（OpenDocument 电子表格）",
}

HOW_TO_SAVE = ("请在 Excel 中打开该文件，选择“文件→另存为”，保存类型选“Excel 工作簿(*.xlsx)”；"
               "或在 WPS 表格中打开，选择“文件→另存为”，文件类型选“Excel 工作簿(*.xlsx)”，"
               "然后用另存的 .xlsx 文件重试。")


class ConversionError(Exception):
    """The file cannot be converted; ``message`` is Chinese and says what to do.

    ``code``: ``converter-missing`` (neither Excel nor LibreOffice), ``encrypted``
    (password to open), ``convert-failed`` (the program could not read it), ``too-large``.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def format_label(path: str | os.PathLike) -> str:
    """How to name the file's format to the user: "XLS（Excel 97-2003 工作簿）" …"""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in CONVERTIBLE:
        return CONVERTIBLE[suffix]
    return CONVERTIBLE[".ods"] if _is_ods(path) else CONVERTIBLE[".xls"]


def needs_conversion(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a spreadsheet to convert first: by suffix (.xls/.et/.ods …), or an
    .xlsx/.xlsm that really is an unencrypted Excel 97-2003 file or an .ods (renamed)."""
    path = Path(path)
    if path.suffix.lower() in CONVERTIBLE:
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    if head == OLE2_SIGNATURE:
        streams = _ole_streams(path) or []
        return any(s in streams for s in ("Workbook", "Book")) and not is_encrypted(path)
    return _is_ods(path)


def to_xlsx(path: str | os.PathLike, workdir: str | os.PathLike, *, macro: bool = False,
            timeout: float = TIMEOUT_S) -> Path:
    """Convert a copy of ``path`` into ``workdir``; returns the .xlsx (.xlsm with ``macro``).

    Args:
        path: the .xls/.et/.ods file (only read).
        workdir: an existing folder owned by the caller (e.g. a TemporaryDirectory).
        macro: produce .xlsm instead of .xlsx.
        timeout: seconds before the converter is killed.

    Raises:
        ConversionError: encrypted, no converter, or the converter failed.
    """
    src = Path(path)
    work = Path(workdir)
    name = src.name
    label = format_label(src)
    try:
        size = src.stat().st_size
    except OSError as exc:
        raise ConversionError("convert-failed",
                              f"无法读取文件「{name}」（{exc.strerror or exc}）。") from None
    if size > MAX_INPUT_BYTES:
        raise ConversionError(
            "too-large", f"文件「{name}」（{label}）超过 {MAX_INPUT_BYTES // 1024 // 1024} MB，"
            f"不转换；{HOW_TO_SAVE}")
    if is_encrypted(src):
        raise ConversionError(
            "encrypted",
            f"文件「{name}」（{label}）有密码保护，无法读取。请在 Excel 或 WPS 中输入密码打开，"
            "在“文件→信息→保护工作簿”（WPS：“文件→文档加密”）中去掉打开密码，再选择“文件→"
            "另存为”，保存为“Excel 工作簿(*.xlsx)”后重试。")
    _check_content(src, name, label)
    # An ASCII-named copy: the input is never touched, and some converters mangle
    # non-ASCII paths (soffice on Windows).
    suffix = src.suffix.lower() if src.suffix.lower() in CONVERTIBLE else (
        ".ods" if _is_ods(src) else ".xls")
    inp = work / f"input{suffix}"
    shutil.copyfile(src, inp)
    out_suffix = ".xlsm" if macro else ".xlsx"
    if _excel_available():
        out = _excel(inp, work / f"converted{out_suffix}", macro, name, label)
    else:
        from perfeval_xl.report.pdf import find_soffice

        soffice = find_soffice()
        if not soffice:
            raise ConversionError(
                "converter-missing",
                f"文件「{name}」是 {label}，需要先转换为 .xlsx，但本机没有安装 Microsoft Excel "
                f"或 LibreOffice，无法自动转换。{HOW_TO_SAVE}（安装 LibreOffice 后本程序可自动"
                "转换。）")
        out = _libreoffice(soffice, inp, work, macro, timeout, name, label)
    with out.open("rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise ConversionError("convert-failed", _failed(name, label, "转换结果不是 .xlsx"))
    return out


# --------------------------------------------------------------------------- detection


def _is_ods(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return z.read("mimetype")[:60].startswith(
                b"application/vnd.oasis.opendocument.spreadsheet")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError):
        return False


def _ole_streams(path: Path) -> list[str] | None:
    """Stream names of an OLE2 compound file: [] when it cannot be read as one, None when
    olefile is not installed (nothing can be said)."""
    try:
        import olefile
    except ImportError:
        return None
    try:
        with olefile.OleFileIO(str(path)) as ole:
            return ["/".join(entry) for entry in ole.listdir()]
    except Exception:  # olefile raises OSError and others for damaged files
        return []


# BIFF record types: BOF, FILEPASS (the workbook is encrypted with a password to open).
_BIFF_BOF = {0x0809, 0x0409, 0x0209, 0x0009}
_BIFF_FILEPASS = 0x002F


def is_encrypted(path: str | os.PathLike) -> bool:
    """A password to open: encrypted OOXML (EncryptionInfo/EncryptedPackage streams, what
    Excel 2007+ writes for a protected .xlsx, whatever its suffix), a FILEPASS record in an
    .xls/.et workbook stream, or an encrypted .ods (encryption-data in its manifest)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    if head != OLE2_SIGNATURE:
        if not _is_ods(path):
            return False
        try:
            with zipfile.ZipFile(path) as z:
                return b"encryption-data" in z.read("META-INF/manifest.xml")[:1_000_000]
        except (zipfile.BadZipFile, KeyError, OSError):
            return False
    streams = _ole_streams(path)
    if not streams:
        # Without olefile (or a damaged directory): the directory names are UTF-16LE in the file.
        data = path.read_bytes()[:MAX_INPUT_BYTES]
        return "EncryptedPackage".encode("utf-16-le") in data
    if "EncryptionInfo" in streams or "EncryptedPackage" in streams:
        return True
    book = next((s for s in ("Workbook", "Book") if s in streams), None)
    if book is None:
        return False
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            data = ole.openstream(book).read(8192)
    except Exception:
        return False
    return _biff_filepass(data)


def _biff_filepass(data: bytes) -> bool:
    """Whether the workbook globals (records up to the first sheet's BOF) hold FILEPASS."""
    pos, seen_bof = 0, False
    for _ in range(200):
        if pos + 4 > len(data):
            return False
        kind = int.from_bytes(data[pos:pos + 2], "little")
        size = int.from_bytes(data[pos + 2:pos + 4], "little")
        if kind == _BIFF_FILEPASS:
            return True
        if kind in _BIFF_BOF:
            if seen_bof:
                return False
            seen_bof = True
        pos += 4 + size
    return False


def _check_content(src: Path, name: str, label: str) -> None:
    """Refuse what is not a spreadsheet of the kind named, before a converter reads it
    (LibreOffice would import any bytes as a text table). Accepted: an OLE2 compound file
    with a workbook stream (.xls/.et), a raw BIFF2-4 .xls, an .ods, an OOXML package given
    an old suffix, and the HTML/XML tables that some government systems save as .xls."""
    with src.open("rb") as fh:
        head = fh.read(512)
    if head[:8] == OLE2_SIGNATURE:
        streams = _ole_streams(src)
        if streams is not None and not any(s in streams for s in ("Workbook", "Book")):
            raise ConversionError("convert-failed", _failed(
                name, label, "文件中没有工作簿数据，已损坏或不是表格文件"))
        return
    if int.from_bytes(head[:2], "little") in _BIFF_BOF or head[:2] == b"PK":
        return
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<") and any(t in head.lower() for t in (b"<html", b"<table", b"<?xml",
                                                                   b"<workbook")):
        return
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 HTML export
        return
    raise ConversionError("convert-failed", _failed(name, label, "文件内容不是表格，可能已损坏"))


# --------------------------------------------------------------------------- converters


def _failed(name: str, label: str, detail: str) -> str:
    extra = ("可能是新版 WPS 保存的 .et 文件，本机的 LibreOffice 无法读取；" if ".et" in label.lower()
             or label.startswith("ET") else "")
    return (f"文件「{name}」（{label}）无法转换为 .xlsx（{detail}），可能已损坏或有密码保护。"
            f"{extra}{HOW_TO_SAVE}")


def _excel_available() -> bool:
    """Microsoft Excel (and xlwings) on Windows."""
    if sys.platform != "win32":
        return False
    import importlib.util

    if importlib.util.find_spec("xlwings") is None:
        return False
    try:
        import winreg

        winreg.CloseKey(winreg.OpenKey(winreg.HKEY_CLASSES_ROOT, "Excel.Application"))
    except OSError:
        return False
    return True


def _excel(inp: Path, out: Path, macro: bool, name: str, label: str) -> Path:  # pragma: no cover
    """Convert with Excel through xlwings (Windows only; not run on the build machine).

    A hidden, separate Excel instance opens the copy read-only with an empty password (so a
    protected file fails instead of prompting) and saves it as 51 = xlOpenXMLWorkbook or
    52 = xlOpenXMLWorkbookMacroEnabled.
    """
    import xlwings as xw

    app = None
    try:
        app = xw.App(visible=False, add_book=False)
        app.display_alerts = False
        book = app.books.open(str(inp), update_links=False, read_only=True, password="")
        try:
            book.api.SaveAs(str(out), FileFormat=52 if macro else 51)
        finally:
            book.close()
    except Exception as exc:  # COM errors have many types
        raise ConversionError("convert-failed", _failed(name, label, f"Excel：{exc}")) from None
    finally:
        if app is not None:
            try:
                app.quit()
            except Exception:
                pass
    if not out.is_file():
        raise ConversionError("convert-failed", _failed(name, label, "Excel 未生成文件"))
    return out


def _libreoffice(soffice: str, inp: Path, work: Path, macro: bool, timeout: float,
                 name: str, label: str) -> Path:
    profile, outdir = work / "lo-profile", work / "converted"
    outdir.mkdir(exist_ok=True)
    target = ("xlsm:Calc MS Excel 2007 VBA XML" if macro
              else "xlsx:Calc MS Excel 2007 XML")
    cmd = [soffice, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
           f"-env:UserInstallation={profile.resolve().as_uri()}",
           "--convert-to", target, "--outdir", str(outdir), str(inp)]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL,
                                start_new_session=(sys.platform != "win32"))
    except OSError as exc:
        raise ConversionError("converter-missing",
                              f"无法启动 LibreOffice（{soffice}）：{exc.strerror}。{HOW_TO_SAVE}") \
            from None
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise ConversionError("convert-failed", _failed(
            name, label, f"LibreOffice 超过 {int(timeout)} 秒仍未完成，已终止")) from None
    out = outdir / (inp.stem + (".xlsm" if macro else ".xlsx"))
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        # LibreOffice's own stderr is English ("source file could not be loaded"): the
        # user gets the Chinese reason only.
        raise ConversionError("convert-failed", _failed(name, label, "LibreOffice 无法读取该文件"))
    return out


def _kill(proc: subprocess.Popen) -> None:
    """Kill the converter and everything it started (its own process group)."""
    try:
        if sys.platform != "win32":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:
        pass
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        pass
