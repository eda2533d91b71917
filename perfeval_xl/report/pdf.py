"""PDF export of a rendered report: LibreOffice headless, else Microsoft Word (Windows).

Each LibreOffice run gets its OWN profile directory (two runs sharing one fail silently) and a
fontconfig file that maps the template's GB/T 9704 font names to installed fonts
(see fonts.py). Conversion happens in a temporary folder and the PDF is then written
atomically beside the .docx, so a PDF open in a viewer is never left half-written.

Two entry points:

- ``convert_to_pdf``: one document, one LibreOffice start (``report --pdf``);
- ``convert_many``: many documents (``batch --pdf``): each converter thread owns one
  LibreOffice profile and converts chunks of documents per start (a start costs seconds;
  converting one more document in the same start costs a fraction of that). A chunk that
  crashes or hangs is killed (whole process group) and only the documents whose PDF is
  missing are retried: the first missing one alone (LibreOffice converts in argument order,
  so it is the likely culprit), the rest again as a chunk. A document that fails alone is
  reported by name; it never takes the rest of its chunk down.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT_S = 180            # one document (report --pdf, and a document retried alone)
CHUNK_SIZE = 20            # documents per LibreOffice start in convert_many
CHUNK_BASE_S = 90          # a chunk's timeout: start-up allowance ...
CHUNK_PER_DOC_S = 20       # ... plus this per document (a loaded machine is slow)
GIVE_UP_AFTER = 3          # single-document failures in a row, none converted: stop trying


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


def _soffice_cmd(soffice: str, profile: Path, out: Path, inputs: Sequence[Path]) -> list[str]:
    return [soffice, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(out),
            *(str(p) for p in inputs)]


def _soffice_env(work: Path) -> dict[str, str]:
    from perfeval_xl.report import fonts

    env = dict(os.environ)
    if sys.platform != "win32":
        env["FONTCONFIG_FILE"] = str(fonts.write_fontconfig(work / "fontconfig"))
    return env


_LIVE: set[subprocess.Popen] = set()   # running soffice processes (killed on interruption)
_LIVE_LOCK = threading.Lock()


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """Run soffice in its own process group; returns (exit code, stderr tail), exit code
    None when it ran past ``timeout`` (the whole group is then killed: soffice.bin and any
    helper it started).

    Raises:
        PdfUnavailable: soffice cannot be started at all.
    """
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=env,
                                start_new_session=(sys.platform != "win32"))
    except OSError as exc:
        raise PdfUnavailable(f"无法启动 LibreOffice（{cmd[0]}）：{exc.strerror}",
                             "pdf-unavailable") from None
    with _LIVE_LOCK:
        _LIVE.add(proc)
    try:
        _, err = proc.communicate(timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        _kill(proc)
        err, code = b"", None
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(proc)
    # javaldx's warning comes with every start of a build without Java: not a reason.
    lines = [ln for ln in err.decode("utf-8", "replace").strip().splitlines()
             if ln.strip() and "javaldx" not in ln]
    return code, " ".join(lines[-3:])


def kill_all() -> None:
    """Kill every soffice this process started and is still waiting for (Ctrl-C)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        _kill(proc)


def _failure_text(code: int | None, tail: str, timeout: float) -> str:
    if code is None:
        return f"LibreOffice 转换 PDF 超过 {int(timeout)} 秒仍未完成，已终止"
    text = f"LibreOffice 转换 PDF 失败（退出码 {code}）"
    return f"{text}：{tail}" if tail else text


def _is_pdf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(5) == b"%PDF-"
    except OSError:
        return False


def _libreoffice(soffice: str, src: Path, timeout: float) -> bytes:
    work = Path(tempfile.mkdtemp(prefix="perfeval-pdf-"))
    try:
        profile, out = work / "profile", work / "out"
        out.mkdir()
        # A plain ASCII copy of the input: some soffice builds mangle non-ASCII argv on Windows.
        inp = work / "report.docx"
        shutil.copyfile(src, inp)
        code, tail = _run(_soffice_cmd(soffice, profile, out, [inp]), _soffice_env(work),
                          timeout)
        pdf = out / "report.pdf"
        if code != 0 or not pdf.is_file():
            raise PdfUnavailable(_failure_text(code, tail, timeout) + "；Word 报告已生成。",
                                 "pdf-failed")
        return pdf.read_bytes()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _kill(proc: subprocess.Popen) -> None:
    """Kill soffice and everything it started (oosplash, soffice.bin): its process group on
    POSIX, its process tree on Windows."""
    try:
        if sys.platform != "win32":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)],
                           capture_output=True, timeout=30, check=False)
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError, subprocess.TimeoutExpired):
        pass
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        pass


# --------------------------------------------------------------------------- many documents


@dataclass
class BulkResult:
    """What ``convert_many`` did: ``made`` PDF paths written, ``failed`` target PDF path →
    Chinese reason (the .docx is untouched), ``starts`` LibreOffice starts used."""

    made: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)
    starts: int = 0


class _Converter:
    """One LibreOffice profile (one per converter thread), reused across its chunks; replaced
    after a kill or crash, which may leave the profile locked or damaged."""

    def __init__(self, soffice: str, root: Path, n: int):
        self.soffice, self.root, self.n, self.gen = soffice, root, n, 0
        self.work = root / f"w{n}"
        self.work.mkdir()
        self.env = _soffice_env(self.work)
        self.profile = self.work / "profile0"

    def reset(self) -> None:
        shutil.rmtree(self.profile, ignore_errors=True)
        self.gen += 1
        self.profile = self.work / f"profile{self.gen}"


class _Bulk:
    def __init__(self, soffice: str, root: Path, workers: int, chunk_size: int,
                 on_done: Callable[[int], None] | None):
        self.soffice, self.root, self.chunk_size = soffice, root, chunk_size
        self.on_done = on_done
        self.result = BulkResult()
        self.lock = threading.Lock()
        self.converters = [_Converter(soffice, root, n) for n in range(workers)]
        self.free = list(self.converters)
        self.sem = threading.Semaphore(workers)
        self.alone_failures = 0      # single-document failures in a row
        self.last_reason = ""
        self.seq = 0

    def _take(self) -> _Converter:
        self.sem.acquire()
        with self.lock:
            return self.free.pop()

    def _give(self, conv: _Converter) -> None:
        with self.lock:
            self.free.append(conv)
        self.sem.release()

    def chunk(self, items: list[tuple[Path, Path]]) -> None:
        """Convert ``items`` (docx, target pdf) with one start; retry what is missing."""
        if not items:
            return
        with self.lock:
            hopeless = self.alone_failures >= GIVE_UP_AFTER and not self.result.made
            reason = self.last_reason if hopeless else ""
        if hopeless:
            self._failed(items, reason + "（LibreOffice 连续多次失败，其余报告未再尝试）")
            return
        conv = self._take()
        try:
            missing, reason = self._convert(conv, items)
        finally:
            self._give(conv)
        if not missing:
            return
        if len(items) == 1:
            with self.lock:
                self.alone_failures += 1
                self.last_reason = reason
            self._failed(missing, reason)
            return
        # LibreOffice converts in argument order: the first missing document is the likely
        # cause. Alone it gets the single-document timeout; the rest go on as a chunk.
        self.chunk(missing[:1])
        self.chunk(missing[1:])

    def _failed(self, items: list[tuple[Path, Path]], reason: str) -> None:
        with self.lock:
            for _, target in items:
                self.result.failed[target] = reason
        if self.on_done:
            self.on_done(len(items))

    def _convert(self, conv: _Converter, items: list[tuple[Path, Path]]
                 ) -> tuple[list[tuple[Path, Path]], str]:
        from perfeval_xl.files import OutputError, atomic_write

        with self.lock:
            self.seq += 1
            job = self.root / f"c{self.seq}"
            self.result.starts += 1
        src, out = job / "in", job / "out"
        src.mkdir(parents=True)
        out.mkdir()
        try:
            inputs = []
            for k, (docx, _) in enumerate(items):
                # ASCII names (Windows argv) that are unique within the chunk.
                inp = src / f"d{k:04d}.docx"
                try:
                    shutil.copyfile(docx, inp)
                except OSError:
                    pass        # missing input: reported as missing below
                inputs.append(inp)
            timeout = (TIMEOUT_S if len(items) == 1
                       else CHUNK_BASE_S + CHUNK_PER_DOC_S * len(items))
            code, tail = _run(_soffice_cmd(self.soffice, conv.profile, out, inputs), conv.env,
                              timeout)
            if code != 0:
                conv.reset()
            missing, done = [], 0
            for inp, (docx, target) in zip(inputs, items, strict=True):
                pdf = out / (inp.stem + ".pdf")
                if not _is_pdf(pdf):
                    missing.append((docx, target))
                    continue
                try:
                    atomic_write(target, pdf.read_bytes())
                except OutputError as exc:
                    with self.lock:
                        self.result.failed[target] = exc.message
                else:
                    with self.lock:
                        self.result.made.append(target)
                        self.alone_failures = 0
                done += 1
            if done and self.on_done:
                self.on_done(done)
            if code == 0:  # LibreOffice went on but could not load or export these
                why = "LibreOffice 未能转换该文件（文件可能已损坏）"
                return missing, f"{why}：{tail}" if tail else why
            return missing, _failure_text(code, tail, timeout)
        finally:
            shutil.rmtree(job, ignore_errors=True)


def convert_many(items: Sequence[tuple[Path, Path]], *, workers: int = 1,
                 chunk_size: int = CHUNK_SIZE,
                 on_done: Callable[[int], None] | None = None) -> BulkResult:
    """Convert many .docx files to PDF with few LibreOffice starts.

    Args:
        items: (docx path, target pdf path) pairs; targets are written atomically.
        workers: LibreOffice instances at a time, each with its own profile.
        chunk_size: documents per start (smaller when there are few per worker).
        on_done: called with a count each time documents are finished (made or failed).

    Returns:
        BulkResult. Never raises for a document's failure; when no converter exists every
        target is in ``failed`` with the reason.
    """
    items = list(items)
    result = BulkResult()
    if not items:
        return result
    soffice = find_soffice()
    if soffice is None:
        if sys.platform == "win32" and _word_available():
            for docx, target in items:  # Word through COM: one document at a time
                try:
                    convert_to_pdf(docx, target.parent)
                    made = target.parent / (Path(docx).stem + ".pdf")
                    if made != target:
                        os.replace(made, target)
                    result.made.append(target)
                except PdfUnavailable as exc:
                    result.failed[target] = exc.message
                if on_done:
                    on_done(1)
            return result
        reason = ("未找到 LibreOffice 或 Microsoft Word，无法导出 PDF；请安装 LibreOffice"
                  "（Linux：apt-get install libreoffice-writer-nogui）后重新运行")
        result.failed = {target: reason for _, target in items}
        if on_done:
            on_done(len(items))
        return result
    workers = max(1, min(workers, len(items)))
    # Even shares when there are few documents, so every instance has work.
    size = max(1, min(chunk_size, -(-len(items) // workers)))
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    root = Path(tempfile.mkdtemp(prefix="perfeval-pdfs-"))
    try:
        bulk = _Bulk(soffice, root, workers, size, on_done)
        with ThreadPoolExecutor(max_workers=workers) as ex:
            try:
                for fut in [ex.submit(bulk.chunk, c) for c in chunks]:
                    fut.result()
            except BaseException:
                ex.shutdown(wait=False, cancel_futures=True)
                kill_all()
                raise
        return bulk.result
    finally:
        shutil.rmtree(root, ignore_errors=True)


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
