"""What each button of 绩效评价助手 does, without tkinter: every action is a plain function of
paths and options that runs the same engine functions as the CLI and the ribbon macros and
returns an ``Outcome`` (Chinese message, exit status as in DESIGN §4.1, a view of the result
for the window, the files written). Tests drive this module without a display.

The controller owns no evaluation logic of its own; it adds only what a window needs:
refusing a second action while one runs, refusing a workbook that WPS/Excel holds open (its
lock file) before anything is read or written, the remembered recent workbooks, and a log
file in the temp folder for unexpected errors (as the macros keep one).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2
TITLE = "绩效评价助手"
LOG_NAME = "perfeval_xl_gui.log"
RECENT_FILE = "recent.json"
RECENT_MAX = 5

ACTION_LABELS = {
    "score": "计算得分", "check": "数据校验", "report": "生成报告", "pdf": "导出PDF",
    "folder": "打开输出文件夹", "new": "新建自评表", "adopt": "接管县里的表格",
}

HELP_TEXT = """绩效评价助手：没有 Excel 宏（WPS、LibreOffice、银河麒麟/统信 UOS）时使用。

使用步骤：
1. 点击“选择工作簿…”打开自评表（.xlsx/.xlsm），或在“最近使用”中选择；也可以把工作簿拖到桌面上的“绩效评价助手”图标上打开。
2. 在 WPS/Excel 中按“填表说明”逐表填写浅黄色单元格（金额单位：万元），保存并关闭工作簿。
3. 点击“数据校验”：下方列出问题，点击某一条可看到要修改的工作表和单元格。
4. 点击“计算得分”：选择“写入评分副本”（原文件名加“_已评分”，原文件不变）或“直接写回原文件”（先自动备份为 .bak-1 等）。
5. 点击“生成报告”得到 Word 评价报告，“导出PDF”同时得到 PDF（需要 LibreOffice 或 Word）；文件保存在工作簿所在文件夹，或“评分设置”中填写的报告输出文件夹。点击“打开输出文件夹”查看。

没有自评表时点击“新建自评表”；县财政局下发了自己的自评表时点击“接管县里的表格”，程序保留原表格式并加入输入表，然后按上面的步骤填写。
工作簿在 WPS/Excel 中打开时请先保存并关闭，否则程序会提示并且不做任何改动。"""


# --------------------------------------------------------------------------- results as data


@dataclass(frozen=True)
class IndicatorLine:
    """One row of the indicator table: the report's 指标得分情况表 columns."""

    level1: str
    level2: str
    name: str
    weight: str
    value: str
    score: str
    note: str
    location: str


@dataclass(frozen=True)
class ProblemLine:
    """One row of the problems list; ``fix`` says which cell to change."""

    severity: str   # 错误 / 警告 / 提示
    location: str   # 'sheet'!cell (or '' when the problem has no cell)
    message: str
    code: str

    @property
    def fix(self) -> str:
        where = f"请修改 {self.location}：" if self.location else ""
        return f"{where}{self.message}（{self.severity}，{self.code}）"


@dataclass(frozen=True)
class ResultView:
    unit: str
    year: str
    total: str
    grade: str
    indicators: list[IndicatorLine]
    problems: list[ProblemLine]
    errors: int
    warnings: int


@dataclass
class Outcome:
    """What one action did. ``status`` is the CLI's exit code for the same input."""

    action: str
    status: int
    message: str
    view: ResultView | None = None
    outputs: list[Path] = field(default_factory=list)
    workbook: Path | None = None   # the workbook the window should show afterwards
    busy: bool = False
    log: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status == EXIT_OK


class Refused(Exception):
    """The action cannot start (locked, missing, not writable); ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_SEVERITY = {"error": "错误", "warning": "警告", "info": "提示"}


def value_text(i) -> str:
    """An indicator's 实际值 as the report shows it: 98.29%, a tier, a count with its unit."""
    from perfeval_xl.display import fmt_plain, fmt_rate, fmt_score, to_decimal

    v = i.value
    if v is None or v == "":
        return "—"
    d = to_decimal(v)
    if d is None:
        return str(v)
    if i.kind == "rate" or i.unit == "%":
        return fmt_rate(d)
    if i.kind == "qualitative":
        return fmt_score(d) + "分"
    return fmt_plain(d) + (i.unit or "")


def problem_lines(problems) -> list[ProblemLine]:
    return [ProblemLine(_SEVERITY.get(p.severity, p.severity),
                        str(p.location) if p.location else "", p.message, p.code)
            for p in problems]


def result_view(result) -> ResultView:
    """The window's projection of an engine ``Result`` (rounding only for display)."""
    from perfeval_xl.display import fmt_score

    ev = result.evaluation
    rows = [IndicatorLine(str(i.level1 or ""), str(i.level2 or ""), str(i.name or ""),
                          fmt_score(i.weight), value_text(i), fmt_score(i.score) or "—",
                          str(i.note or ""), str(i.location) if i.location else "")
            for i in result.indicators]
    return ResultView(unit=ev.unit_name or "（未填单位名称）",
                      year=str(ev.eval_year or ""),
                      total=fmt_score(result.total) or "—", grade=result.grade or "—",
                      indicators=rows, problems=problem_lines(result.problems),
                      errors=len(result.errors), warnings=len(result.warnings))


# --------------------------------------------------------------------------- open elsewhere


def lock_files(path: Path) -> list[Path]:
    """Lock files that WPS, Excel, Word or LibreOffice keep beside a document they have open."""
    name = path.name
    candidates = [f"~${name}", f".~lock.{name}#"]
    if len(path.stem) > 2:
        candidates.append(f"~${name[2:]}")  # Office may overwrite the first two characters
    return [path.with_name(c) for c in candidates if path.with_name(c).exists()]


def _open_message(path: Path, lock: Path | None, action: str) -> str:
    kind = "Word/WPS" if path.suffix.lower() in (".docx", ".doc", ".pdf") else "WPS/Excel"
    found = f"（发现锁定文件 {lock.name}）" if lock else ""
    tail = (f"如果已经关闭仍有此提示，可删除同一文件夹中的 {lock.name} 后重试。" if lock else
            "如果文件是只读的，请在文件属性中取消“只读”，或另存一份再选择它。")
    return (f"“{path.name}”正在 {kind} 中打开{found}，或不可写入。请先在 {kind} 中保存并关闭它，"
            f"再点击“{action}”。本次未读取或写入任何文件。{tail}")


def ensure_closed(path: Path, action: str) -> None:
    """Refuse a workbook (or an output) that another program holds open: WPS/Excel write a
    ``~$name`` lock file beside it; reading it would miss unsaved edits and writing it would
    fight the other program."""
    locks = lock_files(path)
    if locks:
        raise Refused(_open_message(path, locks[0], action))


def ensure_writable(path: Path, action: str) -> None:
    """Refuse to write ``path`` when it exists but cannot be written (read-only, or held open
    with a sharing lock on Windows). Opening for update changes nothing."""
    ensure_closed(path, action)
    if not path.exists():
        return
    try:
        with open(path, "r+b"):
            pass
    except OSError:
        raise Refused(_open_message(path, None, action)) from None


# --------------------------------------------------------------------------- recent workbooks


def config_dir() -> Path:
    """%APPDATA%\\perfeval-xl on Windows; $XDG_CONFIG_HOME/perfeval-xl or ~/.config/perfeval-xl."""
    if sys.platform.startswith("win") and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "perfeval-xl"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "perfeval-xl"


def load_recent(folder: Path | None = None) -> list[Path]:
    """The remembered workbooks, newest first; a missing or damaged file gives []."""
    file = (folder or config_dir()) / RECENT_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    items = data.get("recent") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    return [Path(x) for x in items if isinstance(x, str) and x][:RECENT_MAX]


def remember(path: Path, folder: Path | None = None) -> list[Path]:
    """Put ``path`` first in the recent list and save it (best effort: never fails)."""
    from perfeval_xl.files import OutputError, atomic_write

    folder = folder or config_dir()
    path = Path(path).absolute()
    items = [path] + [p for p in load_recent(folder) if p != path]
    items = items[:RECENT_MAX]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"recent": [str(p) for p in items]}, ensure_ascii=False, indent=1)
        atomic_write(folder / RECENT_FILE, data.encode("utf-8"))
    except (OSError, OutputError):
        pass
    return items


# --------------------------------------------------------------------------- the actions


def log_unexpected(exc: BaseException) -> tuple[str, Path | None]:
    """Append the traceback to the log in the temp folder; the message names the log only."""
    from perfeval_xl.files import log_traceback

    log, where = log_traceback(exc, LOG_NAME)
    return (f"操作未完成：程序内部出错（{type(exc).__name__}）。原文件未被改动。{where}", log)


def _user_message(exc: BaseException) -> str | None:
    """The Chinese message of an error the user can act on (the CLI prints the same)."""
    from perfeval_xl.cli import UsageError

    if isinstance(exc, UsageError):
        return str(exc)
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) and message else None


Progress = Callable[[str], None]


def _quiet(_text: str) -> None:
    pass


class Controller:
    """The window's actions. One action at a time: a second one while the first runs gets a
    'busy' outcome (the window also greys its buttons, but a double click must not start two
    writers of the same file)."""

    def __init__(self, config: Path | None = None):
        self.config = config
        self._lock = threading.Lock()
        self.current: str | None = None

    # -- plumbing

    def recent(self) -> list[Path]:
        return load_recent(self.config)

    def remember(self, path: Path) -> list[Path]:
        return remember(path, self.config)

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def _run(self, action: str, work, progress: Progress | None) -> Outcome:
        if not self._lock.acquire(blocking=False):
            running = ACTION_LABELS.get(self.current or "", "上一项操作")
            return Outcome(action, EXIT_UNUSABLE,
                           f"正在{running}，请等它完成后再点击“{ACTION_LABELS[action]}”。",
                           busy=True)
        self.current = action
        try:
            return work(progress or _quiet)
        except Refused as exc:
            return Outcome(action, EXIT_UNUSABLE, exc.message)
        except Exception as exc:
            message = _user_message(exc)
            if message is not None:
                return Outcome(action, EXIT_UNUSABLE, message)
            message, log = log_unexpected(exc)
            return Outcome(action, EXIT_UNUSABLE, message, log=log)
        finally:
            self.current = None
            self._lock.release()

    @staticmethod
    def _evaluate(path, action: str, progress: Progress):
        from perfeval_xl import engine
        from perfeval_xl.cli import _input_path

        path = _input_path(str(path))
        ensure_closed(path, ACTION_LABELS[action])
        progress("正在读取工作簿…")
        wb = engine.load(path)  # as the CLI opens it: same reader, same messages
        progress("正在计算指标和得分…")
        return path, wb, engine.evaluate(path, wb=wb)

    # -- 计算得分

    def score(self, workbook, *, in_place: bool = False,
              progress: Progress | None = None) -> Outcome:
        """计算得分, as ``perfeval-xl score WB`` (a scored copy ``<name>_已评分``) or
        ``--in-place`` (written into the workbook after a backup copy)."""
        def work(progress):
            from perfeval_xl.cli import _summary
            from perfeval_xl.files import atomic_write, backup_copy, default_scored_path
            from perfeval_xl.workbook.writer import scored_bytes

            path, wb, result = self._evaluate(workbook, "score", progress)
            # As the CLI: a link is written through to its target, which keeps the backup.
            out = (path.resolve() if path.is_symlink() else path) if in_place \
                else default_scored_path(path)
            ensure_writable(out, ACTION_LABELS["score"])
            progress("正在写入得分…")
            data = scored_bytes(wb, result, out, source=path)  # may refuse: before the backup
            lines = []
            if in_place:
                progress("正在备份原文件…")
                lines.append(f"已备份原文件：{backup_copy(out)}")
            atomic_write(out, data)
            lines += [_summary(result), f"已写入：{out}"]
            if result.cap_note:
                lines.append(f"（{result.cap_note}）")
            if result.errors:
                lines.append("存在错误的指标按 0 分计入总分，请按下方问题列表修改后重新计算。")
            return Outcome("score", EXIT_PROBLEMS if result.errors else EXIT_OK,
                           "\n".join(lines), result_view(result), [out], workbook=path)
        return self._run("score", work, progress)

    # -- 数据校验

    def check(self, workbook, *, progress: Progress | None = None) -> Outcome:
        """数据校验, as ``perfeval-xl check WB``: nothing is written."""
        def work(progress):
            path, _, result = self._evaluate(workbook, "check", progress)
            head = f"校验完成：错误 {len(result.errors)} 个，警告 {len(result.warnings)} 个。"
            lines = [head] + [str(p) for p in result.errors[:3]]
            if result.problems:
                lines.append("点击下方问题列表中的一条，可看到要修改的单元格。")
            return Outcome("check", EXIT_PROBLEMS if result.errors else EXIT_OK,
                           "\n".join(lines), result_view(result), workbook=path)
        return self._run("check", work, progress)

    # -- 生成报告 / 导出PDF

    def report(self, workbook, *, pdf: bool = False,
               progress: Progress | None = None) -> Outcome:
        """生成报告 (and 导出PDF): the Word report in the output folder, as the ribbon does."""
        action = "pdf" if pdf else "report"

        def work(progress):
            from perfeval_xl import report
            from perfeval_xl.cli import _summary
            from perfeval_xl.workbook import layout

            path, _, result = self._evaluate(workbook, action, progress)
            folder = output_folder(path, result.evaluation.anchors.get(layout.REPORT_DIR))
            out = folder / report.default_report_name(result)
            ensure_writable(out, ACTION_LABELS[action])
            if pdf:
                ensure_writable(out.with_suffix(".pdf"), ACTION_LABELS[action])
            progress("正在生成报告并转换为 PDF…" if pdf else "正在生成报告…")
            outcome = report.render_report(result, out, pdf=pdf)
            lines = [_summary(result), f"报告：{outcome.docx}"]
            outputs = [outcome.docx]
            if outcome.pdf:
                lines.append(f"PDF：{outcome.pdf}")
                outputs.append(outcome.pdf)
            lines += report.outcome_notes(outcome, result, pdf=pdf,
                                          where_to_fix="请按下方问题列表修改。")
            view = result_view(result)
            view.problems.extend(problem_lines(outcome.problems))
            status = EXIT_PROBLEMS if result.errors else EXIT_OK
            return Outcome(action, status, "\n".join(lines), view, outputs, workbook=path)
        return self._run(action, work, progress)

    # -- 打开输出文件夹

    def folder(self, workbook, *, progress: Progress | None = None) -> Outcome:
        """打开输出文件夹: the folder the reports go to (评分设置's 报告输出文件夹 or beside
        the workbook). Returns it in ``outputs``; the window opens it."""
        def work(progress):
            from perfeval_xl.cli import _input_path

            path = _input_path(str(workbook))
            folder = output_folder(path, report_dir_value(path))
            return Outcome("folder", EXIT_OK, f"输出文件夹：{folder}", outputs=[folder],
                           workbook=path)
        return self._run("folder", work, progress)

    # -- 新建自评表

    def new(self, out, *, preset: str = "mof2013", unit: str = "", year: int | None = None,
            progress: Progress | None = None) -> Outcome:
        """新建自评表, as ``perfeval-xl new OUT`` (.xlsm gives the macro workbook)."""
        def work(progress):
            from perfeval_xl.cli import UsageError, _check_preset

            _check_preset(preset)
            target = Path(out)
            suffix = target.suffix.lower()
            if suffix not in (".xlsx", ".xlsm"):
                raise UsageError("输出文件扩展名应为 .xlsx 或 .xlsm。")
            if year is not None and not 2000 <= year <= 2100:
                raise UsageError("评价年度应为四位年份，如 2021。")
            ensure_writable(target, ACTION_LABELS["new"])
            progress("正在新建自评表…")
            if suffix == ".xlsm":
                from perfeval_xl.excel.xlsm import write_new_xlsm

                write_new_xlsm(target, preset=preset, unit=unit, year=year)
            else:
                from perfeval_xl.workbook.builder import write_new

                write_new(target, preset=preset, unit=unit, year=year)
            return Outcome("new", EXIT_OK,
                           f"已新建自评表：{target}（预设 {preset}）。请在 WPS/Excel 中填写黄色"
                           "单元格，保存并关闭后点击“计算得分”。", outputs=[target],
                           workbook=target)
        return self._run("new", work, progress)

    # -- 接管县里的表格

    def adopt(self, county, out=None, *, progress: Progress | None = None) -> Outcome:
        """接管县里的表格, as ``perfeval-xl adopt WB`` (output ``<name>_接管.xlsx``)."""
        def work(progress):
            from perfeval_xl.adopt import adopt, default_adopted_path
            from perfeval_xl.cli import _input_path

            src = _input_path(str(county))
            ensure_closed(src, ACTION_LABELS["adopt"])
            target = Path(out) if out else default_adopted_path(src)
            ensure_writable(target, ACTION_LABELS["adopt"])
            progress("正在识别县表的指标和评分标准…")
            rep = adopt(src, target)
            lines = rep.summary() + rep.row_lines()[:30]
            if len(rep.rows) > 30:
                lines.append(f"  ……共 {len(rep.rows)} 行")
            lines += [str(p) for p in rep.errors[:5]]
            if not rep.already:
                lines.append(f"已写入：{rep.output}。请填写新增的“基本情况”“预算执行”等表，并在县表中"
                             "填写定性指标的评定等级或得分，保存并关闭后点击“计算得分”。")
            view = ResultView("", "", "—", "—", [], problem_lines(rep.problems),
                              len(rep.errors), len(rep.warnings))
            return Outcome("adopt", EXIT_PROBLEMS if rep.errors else EXIT_OK, "\n".join(lines),
                           view, [rep.output] if rep.output else [], workbook=rep.output)
        return self._run("adopt", work, progress)


# --------------------------------------------------------------------------- output folder


def report_dir_value(path: Path) -> str | None:
    """The 报告输出文件夹 cell, read by its defined name (no evaluation)."""
    from perfeval_xl import engine
    from perfeval_xl.workbook import layout
    from perfeval_xl.workbook.reader import OpenpyxlSource, parse_ref

    wb = engine.load(path)
    source = getattr(wb, "source", None) or OpenpyxlSource(wb, str(path))
    ref = parse_ref(source.defined_names().get(layout.REPORT_DIR, ""))
    if ref is None:
        return None
    value = source.value(ref[0], ref[1].split(":")[0])
    return value if isinstance(value, str) else None


def output_folder(workbook: Path, report_dir) -> Path:
    """Where reports go: 报告输出文件夹 (评分设置) when filled, else beside the workbook; a
    relative folder is taken from the workbook's folder (as the ribbon does).

    Raises:
        Refused: the folder named in the workbook does not exist.
    """
    text = str(report_dir or "").strip()
    base = Path(workbook).absolute().parent
    if not text:
        return base
    folder = Path(os.path.expandvars(text))
    if not folder.is_absolute():
        folder = base / folder
    if not folder.is_dir():
        raise Refused(f"报告输出文件夹不存在：{folder}\n请先创建该文件夹，或在“评分设置”中改正或清空"
                      "“报告输出文件夹”。未生成任何文件。")
    return folder


def open_path(path: Path) -> bool:
    """Open a file or folder with the system's default program; False if that failed."""
    from perfeval_xl.files import open_with_system

    return open_with_system(path)

