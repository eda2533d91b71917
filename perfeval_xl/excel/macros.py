"""The ribbon buttons of the 绩效评价 tab (``RunPython`` targets): 计算得分, 数据校验,
生成报告, 导出PDF, 打开输出文件夹, 使用说明.

Each macro is thin: take ``xw.Book.caller()``, read it through ``xlsource.XlwingsSource``,
run the same engine as the CLI (``engine.evaluate_source``), write the same ``WritePlan``
(``writer.plan_writes``) through xlwings, and tell the user in Chinese with ``app.alert``.

Every exception ends as a Chinese alert, never a traceback dialog: an exception that
carries a Chinese ``message`` (NotOurWorkbook, OutputError, ExcelWriteError, report errors)
is shown as is; anything else is logged to a file in the temp folder and named in the alert.
A workbook that is not ours is left untouched (the engine refuses before any write).

Every macro can run from Python for debugging: see the ``__main__`` block at the end.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path

import xlwings as xw

from perfeval_xl.excel.xlsource import (
    XlwingsSource,
    apply_plan,
    book_path,
    is_desktop_excel,
    only_sheets,
)

TITLE = "绩效评价"
LOG_NAME = "perfeval_xl_macro.log"

HELP_TEXT = """使用步骤：
1. 按“填表说明”逐表填写浅黄色单元格（金额单位：万元）。
2. 点击“数据校验”，在“校验结果”表中查看问题，点击“位置”跳转到对应单元格修改。
3. 点击“计算得分”，程序写入各指标的实际值、得分、扣分原因、总分和评价等级。
4. 点击“生成报告”得到 Word 评价报告；点击“导出PDF”得到 PDF。
5. 报告保存在本工作簿所在文件夹，或“评分设置”中填写的报告输出文件夹。

“自评表”右侧的“实时实际值/实时得分”两列由 PE_ 工作表函数边填边算，仅供参考；
下方“实时计算”一格显示“正常”时可用，显示错误信息时请按下一行处理后按 Ctrl+Alt+F9。
按钮无反应或提示找不到 Python 时，请在命令行运行：perfeval-xl excel-setup 本工作簿.xlsm
（常见问题见 docs/excel_readme_zh.md）
没有 Excel 时（WPS、LibreOffice）可用命令行：perfeval-xl score / check / report。"""


class MacroError(Exception):
    """A condition the user can fix; ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------- the buttons


def calculate_scores() -> None:
    """计算得分: compute, write scores/total/grade and the 校验结果 table."""
    _run(_calculate)


def validate_data() -> None:
    """数据校验: write only the 校验结果 table and go to the first error."""
    _run(_validate)


def generate_report() -> None:
    """生成报告: write the Word report beside the workbook (or into report_dir), open it."""
    _run(_report)


def export_pdf() -> None:
    """导出PDF: the Word report and its PDF; opens the PDF."""
    _run(lambda book, ui: _report(book, ui, pdf=True))


def open_output_folder() -> None:
    """打开输出文件夹: open the folder reports are written to."""
    _run(_open_folder)


def show_help() -> None:
    """使用说明: short Chinese help, and go to the 填表说明 sheet."""
    _run(_help)


# --------------------------------------------------------------------------- plumbing


class _Ui:
    """Status bar and message boxes of the calling Excel; quiet where unsupported."""

    def __init__(self, book):
        self.book = book
        self._status = False

    def status(self, text: str) -> None:
        if not is_desktop_excel(self.book):
            return
        try:
            self.book.app.status_bar = text
            self._status = True
        except Exception:
            pass

    def restore(self) -> None:
        if self._status:
            try:
                self.book.app.status_bar = False  # back to Excel's own status text
            except Exception:
                pass
            self._status = False

    def alert(self, text: str, *, critical: bool = False) -> None:
        try:
            self.book.app.alert(text, title=TITLE, mode="critical" if critical else "info")
        except Exception:
            print(text, file=sys.stderr)


def _run(action) -> None:
    try:
        book = xw.Book.caller()
    except Exception:
        print("无法连接到调用本程序的 Excel 工作簿。请从工作簿的“绩效评价”选项卡点击按钮运行。",
              file=sys.stderr)
        raise SystemExit(1) from None
    ui = _Ui(book)
    try:
        action(book, ui)
    except Exception as exc:
        ui.restore()
        message = getattr(exc, "message", None)
        if isinstance(message, str) and message:
            ui.alert(message, critical=True)
        else:
            ui.alert(_unexpected(exc), critical=True)
    finally:
        ui.restore()


def _unexpected(exc: BaseException) -> str:
    """Log the traceback to a file; the alert names the file, never shows the traceback."""
    from perfeval_xl.files import log_traceback

    _, where = log_traceback(exc, LOG_NAME)
    return (f"操作未完成：程序内部出错（{type(exc).__name__}）。工作簿未被改动或只写入了部分结果，"
            f"请检查后重试。{where}")


def _evaluate(book, ui):
    from perfeval_xl import engine
    from perfeval_xl.workbook import layout

    ui.status("正在读取工作簿…")
    source = XlwingsSource(book)
    for name in source.sheet_names():
        if name in layout.SHEET_ORDER:
            source.max_row(name)  # one read per sheet, while the status says so
    ui.status("正在计算…")
    try:
        return engine.evaluate_source(source)
    except engine.NotOurWorkbook as exc:
        raise MacroError(f"{exc.message}\n\n本次未写入任何内容。") from None


def _counts(result) -> str:
    n = {s: sum(1 for p in result.problems if p.severity == s)
         for s in ("error", "warning", "info")}
    return f"错误 {n['error']} 项，警告 {n['warning']} 项，提示 {n['info']} 项"


def _fmt(d: Decimal | None) -> str:
    return "—" if d is None else f"{d.quantize(Decimal('0.01'))}"


def _calculate(book, ui) -> None:
    from perfeval_xl.excel.xlsource import xl_merges
    from perfeval_xl.workbook.writer import final_plan

    result = _evaluate(book, ui)
    ui.status("正在写入结果…")
    # Targets inside a merge go to its top-left cell, as in the file writers.
    apply_plan(book, final_plan(result, lambda plan: xl_merges(book, plan)))
    ui.restore()
    lines = ["计算完成。",
             f"总分：{_fmt(result.total)} 分    评价等级：{result.grade or '—'}"]
    if result.cap_note:
        lines.append(f"（{result.cap_note}）")
    lines.append(f"校验：{_counts(result)}，详见“校验结果”工作表。")
    if result.errors:
        lines.append("存在错误的指标按 0 分计入总分，请修正后重新计算（已选中第一个错误所在单元格）。")
    ui.alert("\n".join(lines), critical=bool(result.errors))


def _validate(book, ui) -> None:
    from perfeval_xl.workbook import layout
    from perfeval_xl.workbook.writer import plan_writes

    result = _evaluate(book, ui)
    anchor = result.evaluation.anchors.get("tbl_checks") or {}
    sheet = anchor.get("sheet", layout.SHEET_CHECKS)
    plan = only_sheets(plan_writes(result), [sheet])
    ui.status("正在写入校验结果…")
    apply_plan(book, plan)
    if plan.select is None:
        try:
            book.sheets[sheet].activate()
        except Exception:
            pass
    ui.restore()
    if not result.problems:
        ui.alert("数据校验完成：未发现问题。")
        return
    head = f"数据校验完成：{_counts(result)}。问题已列在“{sheet}”工作表，点击“位置”可跳转。"
    first = [str(p) for p in result.errors[:3]]
    ui.alert(head + ("\n\n" + "\n".join(first) if first else ""), critical=bool(result.errors))


def output_folder(book, report_dir) -> Path:
    """Where reports go: ``report_dir`` (评分设置) when filled, else beside the workbook.

    Raises:
        MacroError: the folder does not exist, or the workbook has no local folder.
    """
    text = str(report_dir or "").strip()
    here = book_path(book)
    base = Path(here).parent if here and ("\\" in here or "/" in here) else None
    if base is not None and "://" in here:
        base = None  # OneDrive/SharePoint URL: no local folder
    if text:
        folder = Path(os.path.expandvars(text))
        if not folder.is_absolute():
            if base is None:
                raise MacroError(f"报告输出文件夹“{text}”不是完整路径，请填写如 D:\\绩效评价\\报告 "
                                 "的完整路径（“评分设置”工作表）。")
            folder = base / folder
        if not folder.is_dir():
            raise MacroError(f"报告输出文件夹不存在：{folder}\n请先创建该文件夹，或在“评分设置”中改正"
                             "或清空“报告输出文件夹”。未生成任何文件。")
        return folder
    if base is None or not base.is_dir():
        raise MacroError("无法确定报告保存位置：工作簿尚未保存到本机文件夹（或保存在 OneDrive/SharePoint）。"
                         "请先把工作簿保存到本机，或在“评分设置”中填写“报告输出文件夹”。")
    return base


def _report(book, ui, pdf: bool = False) -> None:
    from perfeval_xl import report
    from perfeval_xl.workbook import layout

    result = _evaluate(book, ui)
    folder = output_folder(book, result.evaluation.anchors.get(layout.REPORT_DIR))
    ui.status("正在生成报告并转换为 PDF…" if pdf else "正在生成报告…")
    out = folder / report.default_report_name(result)
    outcome = report.render_report(result, out, pdf=pdf)
    ui.restore()
    lines = [f"评价报告已生成：\n{outcome.docx}"]
    if pdf and outcome.pdf:
        lines.append(f"PDF：\n{outcome.pdf}")
    lines += report.outcome_notes(outcome, result, pdf=pdf, where_to_fix="请点击“数据校验”查看。")
    _open_path(Path(outcome.pdf if pdf and outcome.pdf else outcome.docx))
    ui.alert("\n".join(lines), critical=pdf and outcome.pdf is None)


def _report_dir_value(book):
    """The 报告输出文件夹 cell, read by its defined name (no full evaluation needed)."""
    from perfeval_xl.workbook import layout
    from perfeval_xl.workbook.reader import parse_ref

    source = XlwingsSource(book)
    ref = parse_ref(source.defined_names().get(layout.REPORT_DIR, ""))
    if ref is None:
        return None
    value = source.value(ref[0], ref[1].split(":")[0])
    return value if isinstance(value, str) else None


def _open_folder(book, ui) -> None:
    folder = output_folder(book, _report_dir_value(book))
    if not _open_path(folder):
        ui.alert(f"报告输出文件夹：\n{folder}")


def _help(book, ui) -> None:
    from perfeval_xl.workbook import layout

    try:
        book.sheets[layout.SHEET_GUIDE].activate()
    except Exception:
        pass
    ui.alert(HELP_TEXT)


def _open_path(path: Path) -> bool:
    from perfeval_xl.files import open_with_system

    return open_with_system(path)


if __name__ == "__main__":
    # Debug from Python on Windows/macOS with the workbook open in Excel.
    xw.Book("sample_quwo_2021.xlsm").set_mock_caller()
    calculate_scores()
