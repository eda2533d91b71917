"""Batch run over a folder of self-evaluation workbooks (issue #5): each workbook is scored,
checked and reported into one output folder, and 汇总表.xlsx sums them all up.

``run_batch`` goes straight down these steps:

1. discover  — every .xlsx/.xlsm under IN_DIR, as sorted relative paths; Office lock files
               (``~$*``), hidden files and folders and our own outputs are left out;
               FIFOs, device files, broken links and .xls/.et/.ods files are listed by
               name as not processed (never opened: a FIFO would block forever);
2. plan      — hash each input; one whose manifest entry matches (same content hash, tool
               version and options, outputs still there) is skipped unless ``force``;
3. process   — in worker processes (spawn: safe on Windows, nothing inherited), or in this
               process for one job; each input gets its own staging folder, so workers never
               write to the same file; only a few tasks per worker are in flight at a time;
4. commit    — in sorted input order, whatever order workers finish in: pick unique final
               names (``_2``, ``_3`` … for duplicates), move the staged files into OUT_DIR
               (``os.replace``, atomic), append the entry to the manifest's journal;
4b. pdf      — with --pdf: the committed reports converted in chunks, several documents per
               LibreOffice start (report.pdf.convert_many); a document that fails is named;
5. summarise — 汇总表.xlsx from every record, processed now or skipped as up to date.

One failure never stops the others: a file that cannot be used becomes a Failure with the
engine's Chinese message; a worker that dies (out of memory, a crash in a C library) is
retried alone, and only the file that kills it again is marked failed.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from perfeval_xl import __version__
from perfeval_xl.batch.progress import Progress
from perfeval_xl.batch.summary import Failure, WorkbookRecord, rank, write_summary

__all__ = ["BatchError", "BatchResult", "discover", "run_batch"]

SUMMARY_NAME = "汇总表.xlsx"
MANIFEST_NAME = "perfeval-batch.json"
MANIFEST_FORMAT = 1
STAGING_PREFIX = ".perfeval-batch-"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
CONVERT_SUFFIXES = (".xls", ".et", ".ods")   # spreadsheets that need converting first
JOURNAL_SUFFIX = ".journal"
SCORED_MARK = "_已评分"
SCORED_TAIL = "自评表"
REPORT_TAIL = "部门整体支出绩效自评报告"   # as report.default_report_name
_SCORED_STEM = re.compile(re.escape(SCORED_MARK) + r"(_\d+)?$")
POLL_S = 0.25
IN_FLIGHT_PER_WORKER = 2   # queued tasks per worker: enough to keep it busy, no more
# A generated name's unit part: short enough that the longest name (unit + year + report
# tail + "_NNNN" + ".docx") stays within 255 bytes on Linux and leaves room in Windows'
# 260-character path for the output folder.
UNIT_MAX_BYTES = 150
UNIT_MAX_CHARS = 60

CRASH_REASON = ("处理该文件时工作进程意外退出（可能内存不足，或文件触发了程序缺陷），已单独重试仍失败。"
                "请在 Excel/WPS 中打开该文件另存后重试，或把文件发给维护人员。")


class BatchError(Exception):
    """The batch cannot start: IN_DIR missing, OUT_DIR not creatable, jobs < 1, nothing to
    process. ``message`` is Chinese and says what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Options:
    """What each workbook's outputs are; part of the up-to-date key."""

    report: bool = True
    pdf: bool = False

    def key(self) -> dict[str, bool]:
        return {"report": self.report, "pdf": self.pdf}


@dataclass
class Task:
    """One input to process; small and picklable (a worker opens the file itself)."""

    index: int          # position in sorted input order
    rel: str            # path relative to IN_DIR, "/"-separated
    path: str           # absolute path
    size: int
    sha256: str
    staging: str        # this task's own folder for its outputs
    attempts: int = 0


@dataclass
class Outcome:
    """What a worker returns: a record and staged files, or the reason it failed."""

    index: int
    record: WorkbookRecord | None = None
    reason: str = ""
    staged: dict[str, str] = field(default_factory=dict)    # scored / report / pdf -> path
    seconds: dict[str, float] = field(default_factory=dict)  # stage -> wall seconds
    peak_rss_mb: float | None = None
    pid: int = 0
    cpu: float = 0.0          # the process's CPU seconds so far (imports included)
    cpu_stages: dict[str, float] = field(default_factory=dict)  # stage -> CPU seconds
    init_cpu: float = 0.0     # the worker's CPU seconds when its initializer ended


@dataclass
class BatchResult:
    """The outcome of ``run_batch``.

    ``records`` are every workbook in the summary (processed now or skipped as up to date),
    in input order, with ``rank`` set; ``failures`` the files that could not be processed.
    """

    in_dir: Path
    out_dir: Path
    records: list[WorkbookRecord]
    failures: list[Failure]
    processed: int
    skipped: int
    summary: Path | None
    summary_error: str = ""
    jobs: int = 1                     # worker processes used (1 = in-process)
    elapsed: float = 0.0
    peak_rss_mb: float | None = None  # highest peak RSS of any worker (or this process)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    stage_cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per stage
    # CPU seconds: this process, all workers, and this process + the busiest worker (what
    # the wall time would be with a free core per worker; benchmarks compare it).
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    ignored: list[Failure] = field(default_factory=list)       # not processed, by name
    pdf_failures: list[Failure] = field(default_factory=list)  # .docx made, PDF not
    pdf_starts: int = 0                                        # LibreOffice starts
    rss_trace: list[tuple[int, float]] = field(default_factory=list)  # (pid, peak MB)/task

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def exit_code(self) -> int:
        """0 when every file was processed (problems inside workbooks allowed), 1 when some
        file failed, a requested PDF is missing or the summary could not be written."""
        return 1 if self.failures or self.pdf_failures or self.summary_error else 0

    def summary_lines(self) -> list[str]:
        """What the CLI prints to stderr at the end (Chinese)."""
        total = len(self.records) + self.failed
        lines = [f"共 {total} 个自评表：处理 {self.processed} 个，跳过（已是最新）{self.skipped} 个，"
                 f"失败 {self.failed} 个；用时 {self.elapsed:.1f} 秒。"]
        if self.failures:
            lines.append("失败的文件见汇总表“失败清单”：" + "、".join(f.file for f in self.failures[:5])
                         + ("等" if self.failed > 5 else "") + "。")
        if self.pdf_failures:
            n = len(self.pdf_failures)
            lines.append(f"{n} 份报告未能导出 PDF（Word 报告已生成），见汇总表“PDF未生成”："
                         + "、".join(f.file for f in self.pdf_failures[:5])
                         + ("等" if n > 5 else "") + "。")
        if self.ignored:
            n = len(self.ignored)
            lines.append(f"{n} 个文件未处理，见汇总表“未处理文件”："
                         + "、".join(f.file for f in self.ignored[:5]) + ("等" if n > 5 else "")
                         + "。")
        if self.summary:
            lines.append(f"汇总表：{self.summary}")
        if self.summary_error:
            lines.append(self.summary_error)
        return lines

    def path(self, name: str) -> str | None:
        return str(self.out_dir / name) if name else None

    def to_json(self) -> dict[str, Any]:
        """The ``batch --json`` document."""
        return {
            "processed": self.processed,
            "skipped": self.skipped,
            "failed": self.failed,
            "rows": [{
                "file": r.file, "unit": r.unit, "year": r.year, "total": r.total,
                "grade": r.grade, "rank": r.rank, "errors": r.errors, "warnings": r.warnings,
                "report": self.path(r.report), "scored": self.path(r.scored),
                "pdf": self.path(r.pdf)}
                for r in self.records],
            "failures": [{"file": f.file, "reason": f.reason} for f in self.failures],
            "pdf_failures": [{"file": f.file, "reason": f.reason} for f in self.pdf_failures],
            "ignored": [{"file": f.file, "reason": f.reason} for f in self.ignored],
            "summary": str(self.summary) if self.summary else None,
        }


# --------------------------------------------------------------------------- discovery


def is_candidate(name: str) -> bool:
    """A file name that may be a department's workbook: .xlsx/.xlsm, not an Office lock
    file (``~$``), not hidden, not one of our outputs (``*_已评分.*``, 汇总表.xlsx)."""
    if name.startswith(("~$", ".")):
        return False
    stem, dot, suffix = name.rpartition(".")
    if not dot or f".{suffix.lower()}" not in WORKBOOK_SUFFIXES:
        return False
    return name.casefold() != SUMMARY_NAME.casefold() and not _SCORED_STEM.search(stem)


def _hidden(path: Path) -> bool:
    """Windows 'hidden' attribute (dot names are handled by name everywhere)."""
    if sys.platform != "win32":
        return False
    try:
        return bool(getattr(os.stat(path), "st_file_attributes", 0) & 2)
    except OSError:
        return False


def needs_conversion_suffix(name: str) -> bool:
    """An .xls/.et/.ods name (not a lock or hidden file): a spreadsheet to convert first."""
    return not name.startswith(("~$", ".")) and name.lower().endswith(CONVERT_SUFFIXES)


def _converter():
    """The spreadsheet converter (``perfeval_xl/convert.py``): .xls/.et/.ods inputs are
    converted into the task's staging folder by ``_prepare_input`` (the single call site, in
    the worker), and discovery passes them on as tasks."""
    from perfeval_xl import convert

    return convert


CONVERT_REASON = "需先转换为 .xlsx：这是 {kind} 文件。请在 Excel/WPS 中打开并另存为 .xlsx 后重新运行。"
_KINDS = {".xls": "Excel 97-2003（.xls）", ".et": "WPS 表格（.et）", ".ods": "OpenDocument 表格（.ods）"}


def _not_regular(p: Path) -> str:
    """Why ``p`` cannot be read as a workbook file ("" when it is a regular file). Checked
    without opening it: opening a FIFO blocks until a writer comes."""
    import stat

    try:
        st = os.stat(p)  # follows a link: what a reader would open
    except FileNotFoundError:
        return "符号链接指向的文件不存在（断开的链接），未处理。"
    except OSError as exc:
        return f"无法读取文件信息（{exc.strerror}），未处理。请检查文件权限。"
    if stat.S_ISREG(st.st_mode):
        return ""
    what = ("命名管道（FIFO）" if stat.S_ISFIFO(st.st_mode) else
            "设备文件" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
            "套接字" if stat.S_ISSOCK(st.st_mode) else "特殊文件")
    return f"不是普通文件，而是{what}，未处理。"


def scan(in_dir, out_dir=None, *, exclude: Iterable[Path] = ()
         ) -> tuple[list[str], list[Failure]]:
    """Workbooks under ``in_dir`` as sorted "/"-separated relative paths, and the files that
    look like workbooks but are not processed (with the Chinese reason), also sorted.

    Args:
        in_dir: folder searched recursively (symlinked folders are not followed).
        out_dir: our output folder; skipped when it lies inside ``in_dir``.
        exclude: further files to leave out (outputs recorded in the manifest).
    """
    root = Path(in_dir).resolve()
    skip_tree = Path(out_dir).resolve() if out_dir is not None else None
    if skip_tree == root:  # OUT_DIR = IN_DIR: our outputs are known by name and manifest
        skip_tree = None
    excluded = {os.path.normcase(str(Path(p))) for p in exclude}
    converter = _converter()
    found, ignored = [], []
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not d.startswith(".") and here / d != skip_tree
                   and not _hidden(here / d)]
        for name in names:
            convert = needs_conversion_suffix(name)
            if not (convert or is_candidate(name)):
                continue
            p = here / name
            if os.path.normcase(str(p)) in excluded or _hidden(p):
                continue
            rel = p.relative_to(root).as_posix()
            why = _not_regular(p)
            if not why and convert and converter is None:
                why = CONVERT_REASON.format(kind=_KINDS[Path(name).suffix.lower()])
            if why:
                ignored.append(Failure(rel, why))
            else:
                found.append(rel)
    return sorted(found), sorted(ignored, key=lambda f: f.file)


def discover(in_dir, out_dir=None, *, exclude: Iterable[Path] = ()) -> list[str]:
    """Workbooks under ``in_dir``, as sorted "/"-separated relative paths (see ``scan``)."""
    return scan(in_dir, out_dir, exclude=exclude)[0]


# --------------------------------------------------------------------------- manifest


class Manifest:
    """``perfeval-batch.json`` in OUT_DIR: per input (relative path) the content hash, tool
    version and options it was processed with, and its record (outputs included).

    During a run every change is appended to ``perfeval-batch.json.journal`` (one JSON line
    per committed input, flushed at once), so a run that is killed resumes where it stopped
    without rewriting the whole manifest (tens of MB at 3,000 inputs) every few seconds.
    ``save`` folds the journal into the manifest at the end; ``load`` replays it (a line cut
    short by the kill is ignored).
    """

    def __init__(self, path: Path, entries: dict[str, dict] | None = None, note: str = ""):
        self.path = path
        self.entries = entries or {}
        self.note = note  # why an existing manifest was ignored
        self.journal_path = path.with_name(path.name + JOURNAL_SUFFIX)
        self._journal = None
        self.journal_error = ""

    @classmethod
    def load(cls, out_dir: Path) -> Manifest:
        path = out_dir / MANIFEST_NAME
        entries: dict[str, dict] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text("utf-8"))
                if data.get("format") != MANIFEST_FORMAT or not isinstance(
                        data.get("entries"), dict):
                    raise ValueError("format")
                entries = data["entries"]
            except (OSError, ValueError, AttributeError):
                return cls(path, note=f"处理记录 {MANIFEST_NAME} 无法读取，本次全部重新处理。")
        manifest = cls(path, entries)
        manifest._replay()
        return manifest

    def _replay(self) -> None:
        try:
            with open(self.journal_path, "rb") as fh:
                lines = fh.read().splitlines()
        except OSError:
            return
        for line in lines:
            try:
                item = json.loads(line)
                rel = item["rel"]
                if item.get("entry") is None:
                    self.entries.pop(rel, None)
                elif isinstance(item["entry"], dict):
                    self.entries[rel] = item["entry"]
            except (ValueError, KeyError, TypeError):
                continue  # the last line of a killed run may be cut short

    def up_to_date(self, rel: str, sha256: str, options: Options,
                   out_dir: Path) -> WorkbookRecord | None:
        """The recorded record when ``rel`` needs no work, else None. With ``pdf`` a record
        whose PDF is missing still counts (the PDF step makes it again)."""
        e = self.entries.get(rel)
        if not e or e.get("sha256") != sha256 or e.get("version") != __version__ \
                or e.get("options") != options.key():
            return None
        try:
            record = WorkbookRecord.from_dict(e["record"])
        except (KeyError, TypeError):
            return None
        if not record.scored or (options.report and not record.report):
            return None
        if not all((out_dir / n).is_file() for n in record.outputs()):
            return None
        return record

    def output_paths(self, out_dir: Path) -> list[Path]:
        out = []
        for e in self.entries.values():
            rec = e.get("record") if isinstance(e, dict) else None
            if isinstance(rec, dict):
                out += [out_dir / rec[k] for k in ("scored", "report", "pdf")
                        if isinstance(rec.get(k), str) and rec.get(k)]
        return out

    def put(self, record: WorkbookRecord, sha256: str, options: Options) -> None:
        entry = {"sha256": sha256, "version": __version__, "options": options.key(),
                 "record": record.to_dict()}
        self.entries[record.file] = entry
        self._append(record.file, entry)

    def drop(self, rel: str) -> None:
        if self.entries.pop(rel, None) is not None:
            self._append(rel, None)

    def _append(self, rel: str, entry: dict | None) -> None:
        if self.journal_error:
            return
        line = json.dumps({"rel": rel, "entry": entry}, ensure_ascii=False,
                          separators=(",", ":"))
        try:
            if self._journal is None:
                self._journal = open(self.journal_path, "ab")  # noqa: SIM115 (kept open)
            self._journal.write(line.encode("utf-8") + b"\n")
            self._journal.flush()
        except OSError as exc:  # only costs a re-run its skips
            self.journal_error = (f"无法写入处理记录 {self.journal_path.name}（{exc.strerror}）；"
                                  "中断后重新运行将全部重新处理。")

    def close_journal(self) -> None:
        if self._journal is not None:
            try:
                self._journal.close()
            except OSError:
                pass
            self._journal = None

    def save(self) -> None:
        """Write the whole manifest atomically, then drop the journal it now contains."""
        from perfeval_xl.files import atomic_write

        data = {"format": MANIFEST_FORMAT, "tool": "perfeval-xl", "version": __version__,
                "entries": dict(sorted(self.entries.items()))}
        # Compact: json's C encoder does not indent, and with 3000 entries this file is tens
        # of MB.
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        atomic_write(self.path, text.encode("utf-8"))
        self.close_journal()
        try:
            os.remove(self.journal_path)
        except FileNotFoundError:
            pass
        except OSError:
            pass  # replayed entries equal the saved ones: harmless


# --------------------------------------------------------------------------- worker side


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process in MB (None where unknown, e.g. Windows).

    Linux: VmHWM of /proc/self/status. Not getrusage's ru_maxrss: Linux carries it over
    exec, so a spawned worker would report at least its parent's size at spawn time.
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes vs KB


def _init_worker(report: bool) -> None:
    """Runs once per worker process: import the heavy modules and load the catalogue, so
    each workbook pays only for its own work."""
    import signal

    # Ctrl-C goes to the whole process group; the parent alone handles it and stops the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not os.environ.get("PERFEVAL_DEBUG"):  # as in cli.main: no English library warnings
        import warnings

        warnings.simplefilter("ignore")
    os.environ.setdefault("MPLBACKEND", "Agg")
    from perfeval_xl import catalogue, engine  # noqa: F401
    from perfeval_xl.workbook import writer  # noqa: F401

    for name in catalogue.PRESETS:
        catalogue.preset(name)
    catalogue.indicators()
    if report:
        from perfeval_xl.report import preload

        preload()
    _freeze_heap()
    global _INIT_CPU
    _INIT_CPU = time.process_time()


_INIT_CPU = 0.0  # set in a worker by _init_worker


def _freeze_heap() -> None:
    """Move every object alive now (modules, caches) out of the collector's sight, so the
    full collection after each workbook scans only that workbook's objects (~1 ms instead
    of 40–130 ms with the report layer loaded)."""
    gc.collect()
    gc.freeze()


@contextmanager
def _timed(out: Outcome, stage: str):
    """Wall and CPU seconds of one stage (CPU: a shared machine inflates wall time)."""
    t, c = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        out.seconds[stage] = out.seconds.get(stage, 0.0) + time.perf_counter() - t
        out.cpu_stages[stage] = out.cpu_stages.get(stage, 0.0) + time.process_time() - c


def _reason(exc: BaseException) -> str:
    """The Chinese reason shown in 失败清单 for an exception while processing one file."""
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        if type(exc).__name__ == "ReportError":
            return f"评价报告未生成：{message}"
        return message
    if isinstance(exc, MemoryError):
        return "内存不足，无法处理该文件（文件可能过大）。请关闭其他程序或减少 --jobs 后重试。"
    return (f"内部错误（{type(exc).__name__}: {exc}）。其他文件不受影响；"
            "请把此文件发给维护人员。")


def _prepare_input(path: Path, staging: Path) -> Path:
    """The workbook to open for ``path``: itself, or (.xls/.et/.ods, once ``_converter`` is
    wired) its .xlsx conversion in the task's staging folder. The single converter call site."""
    conv = _converter()
    if conv is not None and conv.needs_conversion(path):
        return Path(conv.to_xlsx(path, staging))
    return path


def process_one(task: Task, options: Options) -> Outcome:
    """Score, check and report one workbook into ``task.staging``. Never raises: every
    failure comes back as ``Outcome.reason``. Holds one workbook in memory at a time."""
    from perfeval_xl import engine
    from perfeval_xl.model import Problem
    from perfeval_xl.workbook.writer import write_scored

    out = Outcome(task.index)
    path, staging = Path(task.path), Path(task.staging)
    try:
        staging.mkdir(parents=True, exist_ok=True)
        path = _prepare_input(path, staging)
        with _timed(out, "open"):
            wb = engine.load(path)  # package XML for .xlsx/.xlsm: only what the engine reads
        with _timed(out, "evaluate"):
            result = engine.evaluate(path, wb=wb)
        scored = staging / f"scored{path.suffix.lower()}"
        with _timed(out, "write"):
            write_scored(wb, result, scored, source=path)
        out.staged["scored"] = str(scored)
        del wb
        extra: list[Problem] = []
        if options.report:
            from perfeval_xl import report

            with _timed(out, "report"):
                outcome = report.render_report(result, staging / "report.docx")
            out.staged["report"] = str(outcome.docx)
            extra += outcome.problems
            # PDFs are made after commit, many per LibreOffice start (_Batch.pdfs).
        out.record = WorkbookRecord.from_result(task.rel, result, extra)
    except Exception as exc:  # one file's failure is a value, never the batch's end
        out.reason = _reason(exc)
        out.staged.clear()
    finally:
        gc.collect()  # openpyxl workbooks are cyclic: free this one before the next
        out.peak_rss_mb = peak_rss_mb()
        out.pid, out.cpu, out.init_cpu = os.getpid(), time.process_time(), _INIT_CPU
    return out


# --------------------------------------------------------------------------- parent side


def default_jobs() -> int:
    """CPUs this process may use."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _sha256(path: Path) -> str:
    """Content hash. Opened non-blocking and checked to be a regular file, so a FIFO that
    replaced a file after discovery cannot hang the run."""
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "不是普通文件")
        h = hashlib.sha256()
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def base_name(record: WorkbookRecord) -> str:
    """"<单位>_<年度>年度" (the report's naming), made safe; the input's file name stands in
    for a blank unit name."""
    from perfeval_xl.files import safe_filename

    unit = _shorten(safe_filename(record.unit or Path(record.file).stem))
    return f"{unit}_{record.year}年度" if record.year else f"{unit}_"


def _shorten(unit: str) -> str:
    """The unit part cut to UNIT_MAX_CHARS characters and UNIT_MAX_BYTES UTF-8 bytes (at a
    character boundary). Two long names that agree up to the cut then get _2, _3 … like any
    other duplicate, because uniqueness is decided on the final names."""
    unit = unit[:UNIT_MAX_CHARS]
    while len(unit.encode("utf-8")) > UNIT_MAX_BYTES:
        unit = unit[:-1]
    return unit.rstrip(" .") or "_"


def output_names(base: str, suffix: str, kinds: Iterable[str], ext: str) -> dict[str, str]:
    """Final file names of one workbook's outputs; ``suffix`` is "" or "_2", "_3" …"""
    names = {"scored": f"{base}{SCORED_TAIL}{suffix}{SCORED_MARK}{ext}",
             "report": f"{base}{REPORT_TAIL}{suffix}.docx",
             "pdf": f"{base}{REPORT_TAIL}{suffix}.pdf"}
    return {k: names[k] for k in kinds}


def _fmt_row(record: WorkbookRecord) -> str:
    from perfeval_xl.display import fmt_score

    line = f"总分 {fmt_score(None if record.total is None else _dec(record.total))} " \
           f"{record.grade or '—'}"
    if record.errors:
        line += f"（错误 {record.errors} 个）"
    return line


def _dec(x: float):
    from decimal import Decimal

    return Decimal(repr(x))


def pdf_name(record: WorkbookRecord) -> str:
    """The PDF's file name: the report's, with .pdf."""
    return str(Path(record.report).with_suffix(".pdf"))


def _move_reason(name: str, exc: OSError) -> str:
    """Why a finished output could not be put in place. "Open in Excel/Word" only when the
    system says the file is in use (Windows sharing violation)."""
    import errno

    if getattr(exc, "winerror", None) in (32, 33):
        return f"无法写入 {name}：该文件正在 Excel/Word 中打开。请关闭该文件后重新运行。"
    if isinstance(exc, PermissionError):
        return f"无法写入 {name}：没有写入输出文件夹的权限（{exc.strerror}）。请检查权限或换一个输出文件夹。"
    if exc.errno == errno.ENAMETOOLONG:
        return f"无法写入 {name}：文件名或路径过长。请换一个路径较短的输出文件夹。"
    if exc.errno == errno.ENOSPC:
        return f"无法写入 {name}：磁盘空间不足。请清理磁盘后重新运行。"
    return f"无法写入 {name}（{exc.strerror}）。请检查输出文件夹后重新运行。"


class _Batch:
    """State of one run: plan, execute, commit in order, PDFs, summarise."""

    def __init__(self, in_dir: Path, out_dir: Path, shown_out: Path, options: Options,
                 force: bool, jobs: int, progress: Progress):
        self.in_dir, self.out_dir, self.shown_out = in_dir, out_dir, shown_out
        self.options, self.force, self.jobs, self.progress = options, force, jobs, progress
        self.manifest = Manifest.load(out_dir)
        self.records: dict[int, WorkbookRecord] = {}
        self.failures: dict[int, Failure] = {}
        self.ignored: list[Failure] = []
        self.pdf_failures: dict[int, Failure] = {}
        self.pdf_starts = 0
        self.sha: dict[int, str] = {}
        self.rels: list[str] = []
        self.todo: list[Task] = []
        self.skipped = self.processed = 0
        self.taken: set[str] = {SUMMARY_NAME.casefold(), MANIFEST_NAME.casefold(),
                                self.manifest.journal_path.name.casefold()}
        self.ready: dict[int, tuple[Task, Outcome]] = {}
        self.commit_pos = 0
        self.staging: Path | None = None
        self.peak: float | None = None
        self.stage_seconds: dict[str, float] = {}
        self.stage_cpu: dict[str, float] = {}
        self.worker_cpu: dict[int, float] = {}
        self.cpu0 = time.process_time()
        self.children_cpu = 0.0
        self.workers = 1
        self.rss_trace: list[tuple[int, float]] = []
        self.worker_start: dict[int, float] = {}

    # ----------------------------------------------------------------- plan

    def plan(self) -> None:
        exclude = self.manifest.output_paths(self.out_dir)
        self.rels, self.ignored = scan(self.in_dir, self.out_dir, exclude=exclude)
        for f in self.ignored:
            self.progress.message(f"未处理 {f.file}：{f.reason}")
        if not self.rels:
            more = "（上面列出的文件未处理）" if self.ignored else ""
            raise BatchError(f"在 {self.in_dir} 中没有找到自评表（.xlsx/.xlsm）{more}。请检查输入文件夹。")
        self.progress.total = len(self.rels)
        if self.manifest.note:
            self.progress.message(self.manifest.note)
        # Inputs inside OUT_DIR itself keep their names (OUT_DIR = IN_DIR is allowed).
        for rel in self.rels:
            if (self.in_dir / rel).parent == self.out_dir:
                self.taken.add(Path(rel).name.casefold())
        self.staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.out_dir))
        for index, rel in enumerate(self.rels):
            path = self.in_dir / rel
            try:
                size, sha = path.stat().st_size, _sha256(path)
            except OSError as exc:
                self._fail(index, rel, f"无法读取文件（{exc.strerror}）。请检查文件权限。",
                           timed=False)
                continue
            self.sha[index] = sha
            record = None if self.force else self.manifest.up_to_date(
                rel, sha, self.options, self.out_dir)
            if record is not None:
                self.records[index] = record
                self.taken.update(n.casefold() for n in record.outputs())
                if self.options.pdf and not record.pdf:  # made again by the PDF step
                    self.taken.add(pdf_name(record).casefold())
                self.skipped += 1
                self.progress.advance(f"{rel} 已是最新，跳过（{_fmt_row(record)}）", timed=False)
            else:
                self.todo.append(Task(index, rel, str(path), size, sha,
                                      str(self.staging / str(index))))
        # Drop entries of inputs that are gone; those being redone are replaced on commit.
        keep = {self.rels[i] for i in self.records} | {t.rel for t in self.todo}
        self.manifest.entries = {k: v for k, v in self.manifest.entries.items() if k in keep}

    # ----------------------------------------------------------------- execute

    def execute(self) -> None:
        self.workers = max(1, min(self.jobs, len(self.todo)))
        if self.workers == 1:
            _freeze_heap()
            try:
                for task in self.todo:
                    self.progress.working_on(task.rel)
                    self._done(task, process_one(task, self.options))
            finally:
                gc.unfreeze()
            return
        # Largest first: a big file started last would leave one worker busy alone.
        queue = sorted(self.todo, key=lambda t: (-t.size, t.index))
        lost: list[Task] = []
        while queue:  # a broken pool loses its tasks in flight; the rest go on in a new one
            lost_now, queue = self._pool(queue, self.workers)
            lost += lost_now
        if lost:
            self.progress.message(f"有 {len(lost)} 个文件处理时工作进程意外退出，逐个重试……")
        for task in sorted(lost, key=lambda t: t.index):
            again, _ = self._pool([task], 1)
            if again:  # killed its worker again, alone
                self._done(task, Outcome(task.index, reason=CRASH_REASON))

    def _pool(self, tasks: list[Task], workers: int) -> tuple[list[Task], list[Task]]:
        """Run ``tasks`` (in this order) on ``workers`` spawned processes, with at most
        IN_FLIGHT_PER_WORKER tasks per worker submitted at a time (3,000 futures and their
        pickled tasks are not queued up front). Returns the tasks lost to a worker that died
        (the pool is then broken) and the tasks not yet submitted."""
        # Not max_tasks_per_child: on Python 3.11–3.13 it can deadlock the pool
        # (cpython gh-115634). A worker frees each workbook before the next instead.
        ex = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(
            "spawn"), initializer=_init_worker, initargs=(self.options.report,))
        lost: list[Task] = []
        futures: dict = {}      # future -> task, in submission order
        pos, broken = 0, False
        limit = workers * IN_FLIGHT_PER_WORKER
        try:
            while True:
                while not broken and pos < len(tasks) and len(futures) < limit:
                    try:
                        futures[ex.submit(process_one, tasks[pos], self.options)] = tasks[pos]
                    except BrokenProcessPool:
                        broken = True
                        break
                    pos += 1
                if not futures:
                    break
                done, _ = wait(list(futures), timeout=POLL_S, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: futures[f].index):
                    task = futures.pop(fut)
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool:
                        task.attempts += 1
                        lost.append(task)
                        broken = True
                        continue
                    except Exception as exc:  # e.g. a result that cannot be unpickled
                        outcome = Outcome(task.index, reason=_reason(exc))
                    self._done(task, outcome)
                if futures:  # the oldest unfinished one
                    self.progress.working_on(next(iter(futures.values())).rel)
        finally:
            ex.shutdown(wait=True, cancel_futures=True)
        return lost, tasks[pos:]

    # ----------------------------------------------------------------- commit

    def _done(self, task: Task, outcome: Outcome) -> None:
        """A task finished (in any order): show it, then commit what is next in order."""
        for stage, s in outcome.seconds.items():
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + s
        for stage, s in outcome.cpu_stages.items():
            self.stage_cpu[stage] = self.stage_cpu.get(stage, 0.0) + s
        if outcome.peak_rss_mb is not None:
            self.peak = max(self.peak or 0.0, outcome.peak_rss_mb)
            self.rss_trace.append((outcome.pid, outcome.peak_rss_mb))
        if outcome.pid and outcome.pid != os.getpid():
            self.worker_cpu[outcome.pid] = max(self.worker_cpu.get(outcome.pid, 0.0),
                                               outcome.cpu)
            # Its CPU before its first workbook: spawn, imports, catalogue (paid once).
            self.worker_start[outcome.pid] = outcome.init_cpu
        if outcome.record is not None:
            self.progress.advance(f"{task.rel} {_fmt_row(outcome.record)}")
        else:
            self.progress.advance(f"{task.rel} 失败：{outcome.reason}", keep=True)
        self.ready[task.index] = (task, outcome)
        self._commit_ready()

    def _commit_ready(self, *, all_ready: bool = False) -> None:
        """Commit in sorted input order, so duplicate names get _2, _3 … in input order
        however the workers finish. ``all_ready`` (on interruption) commits whatever is
        finished, still in input order."""
        order = [t.index for t in self.todo]
        while self.commit_pos < len(order):
            index = order[self.commit_pos]
            if index not in self.ready:
                if not all_ready:
                    break
                self.commit_pos += 1
                continue
            self._commit(*self.ready.pop(index))
            self.commit_pos += 1

    def _commit(self, task: Task, outcome: Outcome) -> None:
        record = outcome.record
        if record is None:
            self._fail(task.index, task.rel, outcome.reason, shown=True)
            return
        base = base_name(record)
        ext = Path(outcome.staged.get("scored", ".xlsx")).suffix
        kinds = list(outcome.staged)
        if self.options.pdf and "report" in outcome.staged:
            kinds.append("pdf")  # name reserved now, file made by the PDF step
        n = 1
        while True:
            names = output_names(base, "" if n == 1 else f"_{n}", kinds, ext)
            if not any(name.casefold() in self.taken for name in names.values()):
                break
            n += 1
        moved: list[Path] = []
        for kind, name in names.items():
            if kind not in outcome.staged:
                continue
            try:
                os.replace(outcome.staged[kind], self.out_dir / name)
                moved.append(self.out_dir / name)
            except OSError as exc:
                for done in moved:  # a failed input leaves no output behind
                    try:
                        os.remove(done)
                    except OSError:
                        pass
                reason = _move_reason(name, exc)
                # Its progress line is out already: say it failed without counting it again.
                self.progress.message(f"{task.rel} 失败：{reason}")
                self._fail(task.index, task.rel, reason, shown=True)
                return
        self.taken.update(name.casefold() for name in names.values())
        record.scored = names.get("scored", "")
        record.report = names.get("report", "")
        record.pdf = ""
        self.records[task.index] = record
        self.manifest.put(record, task.sha256, self.options)
        self.processed += 1

    def _fail(self, index: int, rel: str, reason: str, *, timed: bool = True,
              shown: bool = False) -> None:
        self.failures[index] = Failure(rel, reason)
        self.manifest.drop(rel)
        if not shown:
            self.progress.advance(f"{rel} 失败：{reason}", timed=timed, keep=True)

    def _save_manifest(self) -> None:
        from perfeval_xl.files import OutputError

        try:
            self.manifest.save()
        except OutputError as exc:  # only costs a re-run its skips
            self.progress.message(exc.message)
        if self.manifest.journal_error:
            self.progress.message(self.manifest.journal_error)

    # ----------------------------------------------------------------- PDFs

    def pdfs(self) -> None:
        """Convert every report without its PDF, several per LibreOffice start; a report
        that cannot be converted is named in 汇总表 (PDF未生成) and keeps its .docx."""
        import threading

        from perfeval_xl.report.pdf import convert_many

        todo = [i for i in sorted(self.records)
                if self.records[i].report and not self.records[i].pdf]
        if not todo:
            return
        n = len(todo)
        items = [(self.out_dir / self.records[i].report, self.out_dir / pdf_name(self.records[i]))
                 for i in todo]
        self.progress.message(f"正在导出 PDF：共 {n} 份报告（LibreOffice 每次启动转换多份）……")
        lock = threading.Lock()
        state = {"done": 0, "shown": time.monotonic()}

        def on_done(k: int) -> None:
            with lock:
                state["done"] = min(n, state["done"] + k)
                now = time.monotonic()
                if state["done"] == n or now - state["shown"] >= 2.0:
                    state["shown"] = now
                    self.progress.message(f"PDF 导出 {state['done']}/{n}")

        t, cpu = time.perf_counter(), _children_cpu()
        result = convert_many(items, workers=self.jobs, on_done=on_done)
        self.stage_seconds["pdf"] = self.stage_seconds.get("pdf", 0.0) + time.perf_counter() - t
        self.children_cpu += _children_cpu() - cpu
        self.stage_cpu["pdf"] = self.children_cpu  # LibreOffice's CPU, not this process's
        self.pdf_starts = result.starts
        for i, (_, target) in zip(todo, items, strict=True):
            record = self.records[i]
            if target in result.failed:
                self.pdf_failures[i] = Failure(
                    record.file, f"{result.failed[target]}；Word 报告已生成：{record.report}")
            else:
                record.pdf = target.name
                self.manifest.put(record, self.sha[i], self.options)
        if self.pdf_failures:
            self.progress.message(f"{len(self.pdf_failures)} 份报告未能导出 PDF（Word 报告已保留）：" +
                                  "、".join(f.file for f in list(self.pdf_failures.values())[:5]))

    # ----------------------------------------------------------------- summarise

    def finish(self, t0: float) -> BatchResult:
        from perfeval_xl.files import OutputError

        self._commit_ready(all_ready=True)
        if self.options.pdf:
            self.pdfs()
        self._save_manifest()
        records = [self.records[i] for i in sorted(self.records)]
        failures = [self.failures[i] for i in sorted(self.failures)]
        pdf_failures = [self.pdf_failures[i] for i in sorted(self.pdf_failures)]
        rank(records)
        summary, error = None, ""
        t = time.perf_counter()
        self.progress.message(f"正在写入汇总表（{len(records)} 个单位）……")
        try:
            summary = write_summary(self.out_dir / SUMMARY_NAME, records, failures,
                                    in_dir=self.in_dir, pdf_failures=pdf_failures,
                                    ignored=self.ignored, status=self.progress.message)
        except OutputError as exc:
            error = exc.message
        self.stage_seconds["summary"] = time.perf_counter() - t
        return BatchResult(
            in_dir=self.in_dir, out_dir=self.shown_out, records=records, failures=failures,
            processed=self.processed, skipped=self.skipped,
            summary=self.shown_out / SUMMARY_NAME if summary else None, summary_error=error,
            jobs=self.workers, elapsed=time.monotonic() - t0, peak_rss_mb=self.peak,
            stage_seconds=dict(self.stage_seconds), cpu_seconds=self._cpu(),
            stage_cpu=dict(self.stage_cpu),
            ignored=list(self.ignored), pdf_failures=pdf_failures, pdf_starts=self.pdf_starts,
            rss_trace=list(self.rss_trace))

    def _cpu(self) -> dict[str, float]:
        own = time.process_time() - self.cpu0
        workers = sum(self.worker_cpu.values())
        return {"parent": own, "workers": workers, "pdf": self.children_cpu,
                "critical": own + max(self.worker_cpu.values(), default=0.0),
                "startup": max(self.worker_start.values(), default=0.0)}

    def cleanup(self) -> None:
        self.manifest.close_journal()
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (LibreOffice runs), where known."""
    try:
        import resource
    except ImportError:
        return 0.0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _check_arguments(in_dir, out_dir, jobs) -> tuple[Path, Path, int]:
    if jobs is None:
        jobs = default_jobs()
    elif isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise BatchError("--jobs 应为不小于 1 的整数（同时处理的文件数）。")
    src = Path(in_dir)
    if not src.exists():
        raise BatchError(f"找不到输入文件夹：{in_dir}")
    if not src.is_dir():
        raise BatchError(f"{in_dir} 不是文件夹。请指定存放各单位自评表的文件夹。")
    dst = Path(out_dir)
    if dst.exists() and not dst.is_dir():
        raise BatchError(f"输出位置 {out_dir} 已存在且不是文件夹。请换一个输出文件夹。")
    try:
        dst.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"无法创建输出文件夹 {out_dir}（{exc.strerror}）。请检查路径和权限。") from None
    if not os.access(dst, os.W_OK | os.X_OK):
        raise BatchError(f"没有写入输出文件夹 {out_dir} 的权限。请换一个输出文件夹。")
    return src.resolve(), dst.resolve(), jobs


def run_batch(in_dir, out_dir, *, jobs: int | None = None, pdf: bool = False,
              report: bool = True, force: bool = False, progress: bool = True,
              stream: TextIO | None = None) -> BatchResult:
    """Score, check and report every workbook under ``in_dir`` into ``out_dir``, and write
    ``out_dir/汇总表.xlsx``.

    Args:
        in_dir: folder searched recursively for .xlsx/.xlsm.
        out_dir: output folder (created); may be ``in_dir`` or inside it.
        jobs: worker processes (default: CPUs available); 1 runs in this process.
        pdf: also export each report to PDF (LibreOffice or Word), many per LibreOffice
            start; ignored without report.
        report: write each workbook's Word report.
        force: process every input even when its outputs are up to date.
        progress: show progress on ``stream`` (default stderr): a bar in a terminal, else
            one line per file.

    Returns:
        BatchResult; its ``exit_code`` is 0 when every file was processed, else 1.

    Raises:
        BatchError: unusable arguments or no workbook found (exit code 2).
        KeyboardInterrupt: after finished files are committed and the manifest saved.
    """
    t0 = time.monotonic()
    src, dst, jobs = _check_arguments(in_dir, out_dir, jobs)
    options = Options(report=bool(report), pdf=bool(pdf and report))
    prog = Progress(0, stream=stream, enabled=progress)
    batch = _Batch(src, dst, Path(out_dir), options, force, jobs, prog)
    try:
        batch.plan()
        batch.execute()
        return batch.finish(t0)
    except KeyboardInterrupt:
        from perfeval_xl.report.pdf import kill_all

        kill_all()
        batch._commit_ready(all_ready=True)
        batch._save_manifest()
        raise
    finally:
        prog.close()
        batch.cleanup()
