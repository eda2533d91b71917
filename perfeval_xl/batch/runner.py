"""Batch run over a folder of self-evaluation workbooks (issue #5): each workbook is scored,
checked and reported into one output folder, and 汇总表.xlsx sums them all up.

``run_batch`` goes straight down these steps:

1. discover  — every .xlsx/.xlsm under IN_DIR, as sorted relative paths; Office lock files
               (``~$*``), hidden files and folders and our own outputs are left out;
2. plan      — hash each input; one whose manifest entry matches (same content hash, tool
               version and options, outputs still there) is skipped unless ``force``;
3. process   — in worker processes (spawn: safe on Windows, nothing inherited), or in this
               process for one job; each input gets its own staging folder, so workers never
               write to the same file;
4. commit    — in sorted input order, whatever order workers finish in: pick unique final
               names (``_2``, ``_3`` … for duplicates), move the staged files into OUT_DIR
               (``os.replace``, atomic), record the entry in the manifest;
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
SCORED_MARK = "_已评分"
SCORED_TAIL = "自评表"
REPORT_TAIL = "部门整体支出绩效自评报告"   # as report.default_report_name
_SCORED_STEM = re.compile(re.escape(SCORED_MARK) + r"(_\d+)?$")
MANIFEST_SAVE_INTERVAL_S = 5.0
POLL_S = 0.25

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
    # CPU seconds: this process, all workers, and this process + the busiest worker (what
    # the wall time would be with a free core per worker; benchmarks compare it).
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def exit_code(self) -> int:
        """0 when every file was processed (problems inside workbooks allowed), 1 when some
        file failed or the summary could not be written."""
        return 1 if self.failures or self.summary_error else 0

    def summary_lines(self) -> list[str]:
        """What the CLI prints to stderr at the end (Chinese)."""
        total = len(self.records) + self.failed
        lines = [f"共 {total} 个自评表：处理 {self.processed} 个，跳过（已是最新）{self.skipped} 个，"
                 f"失败 {self.failed} 个；用时 {self.elapsed:.1f} 秒。"]
        if self.failures:
            lines.append("失败的文件见汇总表“失败清单”：" + "、".join(f.file for f in self.failures[:5])
                         + ("等" if self.failed > 5 else "") + "。")
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
                "report": self.path(r.report), "scored": self.path(r.scored)}
                for r in self.records],
            "failures": [{"file": f.file, "reason": f.reason} for f in self.failures],
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


def discover(in_dir, out_dir=None, *, exclude: Iterable[Path] = ()) -> list[str]:
    """Workbooks under ``in_dir``, as sorted "/"-separated relative paths.

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
    found = []
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not d.startswith(".") and here / d != skip_tree
                   and not _hidden(here / d)]
        for name in names:
            if not is_candidate(name):
                continue
            p = here / name
            if os.path.normcase(str(p)) in excluded or _hidden(p):
                continue
            found.append(p.relative_to(root).as_posix())
    return sorted(found)


# --------------------------------------------------------------------------- manifest


class Manifest:
    """``perfeval-batch.json`` in OUT_DIR: per input (relative path) the content hash, tool
    version and options it was processed with, and its record (outputs included)."""

    def __init__(self, path: Path, entries: dict[str, dict] | None = None, note: str = ""):
        self.path = path
        self.entries = entries or {}
        self.note = note  # why an existing manifest was ignored

    @classmethod
    def load(cls, out_dir: Path) -> Manifest:
        path = out_dir / MANIFEST_NAME
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("entries"), dict):
                raise ValueError("format")
            return cls(path, data["entries"])
        except (OSError, ValueError, AttributeError):
            return cls(path, note=f"处理记录 {MANIFEST_NAME} 无法读取，本次全部重新处理。")

    def up_to_date(self, rel: str, sha256: str, options: Options,
                   out_dir: Path) -> WorkbookRecord | None:
        """The recorded record when ``rel`` needs no work, else None."""
        e = self.entries.get(rel)
        if not e or e.get("sha256") != sha256 or e.get("version") != __version__ \
                or e.get("options") != options.key():
            return None
        try:
            record = WorkbookRecord.from_dict(e["record"])
        except (KeyError, TypeError):
            return None
        if not record.scored or (options.report and not record.report) \
                or (options.pdf and not record.pdf):
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
        self.entries[record.file] = {"sha256": sha256, "version": __version__,
                                     "options": options.key(), "record": record.to_dict()}

    def save(self) -> None:
        from perfeval_xl.files import atomic_write

        data = {"format": MANIFEST_FORMAT, "tool": "perfeval-xl", "version": __version__,
                "entries": dict(sorted(self.entries.items()))}
        # Compact: json's C encoder does not indent, and with 3000 entries this file is tens
        # of MB, saved every few seconds during the run.
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        atomic_write(self.path, text.encode("utf-8"))


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


def _freeze_heap() -> None:
    """Move every object alive now (modules, caches) out of the collector's sight, so the
    full collection after each workbook scans only that workbook's objects (~1 ms instead
    of 40–130 ms with the report layer loaded)."""
    gc.collect()
    gc.freeze()


@contextmanager
def _timed(seconds: dict[str, float], stage: str):
    t = time.perf_counter()
    try:
        yield
    finally:
        seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - t


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
        with _timed(out.seconds, "open"):
            wb = engine.open_workbook(path)
        with _timed(out.seconds, "evaluate"):
            result = engine.evaluate(path, wb=wb)
        scored = staging / f"scored{path.suffix.lower()}"
        with _timed(out.seconds, "write"):
            write_scored(wb, result, scored, source=path)
        out.staged["scored"] = str(scored)
        del wb
        extra: list[Problem] = []
        if options.report:
            from perfeval_xl import report

            with _timed(out.seconds, "report"):
                outcome = report.render_report(result, staging / "report.docx")
            out.staged["report"] = str(outcome.docx)
            extra += outcome.problems
            if options.pdf:
                # Each call converts with its own LibreOffice profile (report.pdf), so
                # parallel workers never share one.
                with _timed(out.seconds, "pdf"):
                    try:
                        out.staged["pdf"] = str(report.convert_to_pdf(outcome.docx, staging))
                    except report.PdfUnavailable as exc:
                        extra.append(Problem("warning", exc.code, exc.message))
        out.record = WorkbookRecord.from_result(task.rel, result, extra)
    except Exception as exc:  # one file's failure is a value, never the batch's end
        out.reason = _reason(exc)
        out.staged.clear()
    finally:
        gc.collect()  # openpyxl workbooks are cyclic: free this one before the next
        out.peak_rss_mb = peak_rss_mb()
        out.pid, out.cpu = os.getpid(), time.process_time()
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
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def base_name(record: WorkbookRecord) -> str:
    """"<单位>_<年度>年度" (the report's naming), made safe; the input's file name stands in
    for a blank unit name."""
    from perfeval_xl.files import safe_filename

    unit = safe_filename(record.unit or Path(record.file).stem)
    return f"{unit}_{record.year}年度" if record.year else f"{unit}_"


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


class _Batch:
    """State of one run: plan, execute, commit in order, summarise."""

    def __init__(self, in_dir: Path, out_dir: Path, shown_out: Path, options: Options,
                 force: bool, jobs: int, progress: Progress):
        self.in_dir, self.out_dir, self.shown_out = in_dir, out_dir, shown_out
        self.options, self.force, self.jobs, self.progress = options, force, jobs, progress
        self.manifest = Manifest.load(out_dir)
        self.records: dict[int, WorkbookRecord] = {}
        self.failures: dict[int, Failure] = {}
        self.rels: list[str] = []
        self.todo: list[Task] = []
        self.skipped = self.processed = 0
        self.taken: set[str] = {SUMMARY_NAME.casefold(), MANIFEST_NAME.casefold()}
        self.ready: dict[int, tuple[Task, Outcome]] = {}
        self.commit_pos = 0
        self.last_save = time.monotonic()
        self.save_interval = MANIFEST_SAVE_INTERVAL_S
        self.staging: Path | None = None
        self.peak: float | None = None
        self.stage_seconds: dict[str, float] = {}
        self.worker_cpu: dict[int, float] = {}
        self.cpu0 = time.process_time()
        self.workers = 1

    # ----------------------------------------------------------------- plan

    def plan(self) -> None:
        exclude = self.manifest.output_paths(self.out_dir)
        self.rels = discover(self.in_dir, self.out_dir, exclude=exclude)
        if not self.rels:
            raise BatchError(f"在 {self.in_dir} 中没有找到自评表（.xlsx/.xlsm）。请检查输入文件夹。")
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
            record = None if self.force else self.manifest.up_to_date(
                rel, sha, self.options, self.out_dir)
            if record is not None:
                self.records[index] = record
                self.taken.update(n.casefold() for n in record.outputs())
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
        lost = self._pool(self.todo, self.workers)
        if lost:
            self.progress.message(f"有 {len(lost)} 个文件处理时工作进程意外退出，逐个重试……")
        for task in sorted(lost, key=lambda t: t.index):
            if self._pool([task], 1):  # killed its worker again, alone
                self._done(task, Outcome(task.index, reason=CRASH_REASON))

    def _pool(self, tasks: list[Task], workers: int) -> list[Task]:
        """Run ``tasks`` on ``workers`` spawned processes; returns the tasks lost to a
        worker that died (the pool is then broken and every unfinished task is lost)."""
        # Not max_tasks_per_child: on Python 3.11–3.13 it can deadlock the pool
        # (cpython gh-115634). A worker frees each workbook before the next instead.
        ex = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(
            "spawn"), initializer=_init_worker, initargs=(self.options.report,))
        lost: list[Task] = []
        try:
            # Largest first: a big file started last would leave one worker busy alone.
            order = sorted(tasks, key=lambda t: (-t.size, t.index))
            futures = {ex.submit(process_one, t, self.options): t for t in order}
            submitted = list(futures)
            first_open = 0
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: futures[f].index):
                    task = futures[fut]
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool:
                        task.attempts += 1
                        lost.append(task)
                        continue
                    except Exception as exc:  # e.g. a result that cannot be unpickled
                        outcome = Outcome(task.index, reason=_reason(exc))
                    self._done(task, outcome)
                while first_open < len(submitted) and submitted[first_open].done():
                    first_open += 1
                if first_open < len(submitted):
                    self.progress.working_on(futures[submitted[first_open]].rel)
        finally:
            ex.shutdown(wait=True, cancel_futures=True)
        return lost

    # ----------------------------------------------------------------- commit

    def _done(self, task: Task, outcome: Outcome) -> None:
        """A task finished (in any order): show it, then commit what is next in order."""
        for stage, s in outcome.seconds.items():
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + s
        if outcome.peak_rss_mb is not None:
            self.peak = max(self.peak or 0.0, outcome.peak_rss_mb)
        if outcome.pid and outcome.pid != os.getpid():
            self.worker_cpu[outcome.pid] = max(self.worker_cpu.get(outcome.pid, 0.0),
                                               outcome.cpu)
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
        if time.monotonic() - self.last_save > self.save_interval:
            self._save_manifest()

    def _commit(self, task: Task, outcome: Outcome) -> None:
        record = outcome.record
        if record is None:
            self._fail(task.index, task.rel, outcome.reason, shown=True)
            return
        base = base_name(record)
        ext = Path(outcome.staged.get("scored", ".xlsx")).suffix
        n = 1
        while True:
            names = output_names(base, "" if n == 1 else f"_{n}", outcome.staged, ext)
            if not any(name.casefold() in self.taken for name in names.values()):
                break
            n += 1
        for kind, name in names.items():
            try:
                os.replace(outcome.staged[kind], self.out_dir / name)
            except OSError as exc:
                self._fail(task.index, task.rel,
                           f"无法写入 {name}（{exc.strerror}）：文件可能正在 Excel/Word 中打开，"
                           "请关闭后重新运行。")
                return
        self.taken.update(name.casefold() for name in names.values())
        record.scored = names.get("scored", "")
        record.report = names.get("report", "")
        record.pdf = names.get("pdf", "")
        self.records[task.index] = record
        self.manifest.put(record, task.sha256, self.options)
        self.processed += 1

    def _fail(self, index: int, rel: str, reason: str, *, timed: bool = True,
              shown: bool = False) -> None:
        self.failures[index] = Failure(rel, reason)
        self.manifest.entries.pop(rel, None)
        if not shown:
            self.progress.advance(f"{rel} 失败：{reason}", timed=timed, keep=True)

    def _save_manifest(self) -> None:
        from perfeval_xl.files import OutputError

        t = time.monotonic()
        try:
            self.manifest.save()
        except OutputError as exc:  # only costs a re-run its skips
            self.progress.message(exc.message)
        self.last_save = time.monotonic()
        # A big manifest takes a while to write: keep saving under ~5 % of the run.
        self.save_interval = max(MANIFEST_SAVE_INTERVAL_S, 20 * (self.last_save - t))

    # ----------------------------------------------------------------- summarise

    def finish(self, t0: float) -> BatchResult:
        from perfeval_xl.files import OutputError

        self._commit_ready(all_ready=True)
        self._save_manifest()
        records = [self.records[i] for i in sorted(self.records)]
        failures = [self.failures[i] for i in sorted(self.failures)]
        rank(records)
        summary, error = None, ""
        try:
            summary = write_summary(self.out_dir / SUMMARY_NAME, records, failures,
                                    in_dir=self.in_dir)
        except OutputError as exc:
            error = exc.message
        return BatchResult(
            in_dir=self.in_dir, out_dir=self.shown_out, records=records, failures=failures,
            processed=self.processed, skipped=self.skipped,
            summary=self.shown_out / SUMMARY_NAME if summary else None, summary_error=error,
            jobs=self.workers, elapsed=time.monotonic() - t0, peak_rss_mb=self.peak,
            stage_seconds=dict(self.stage_seconds), cpu_seconds=self._cpu())

    def _cpu(self) -> dict[str, float]:
        own = time.process_time() - self.cpu0
        workers = sum(self.worker_cpu.values())
        return {"parent": own, "workers": workers,
                "critical": own + max(self.worker_cpu.values(), default=0.0)}

    def cleanup(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)


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
        pdf: also export each report to PDF (LibreOffice or Word); ignored without report.
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
        batch._commit_ready(all_ready=True)
        batch._save_manifest()
        raise
    finally:
        prog.close()
        batch.cleanup()
