"""``perfeval-xl excel-setup [WB]``: tell Excel which Python to run, and check that xlwings
can be reached from it.

On Windows:
- with a workbook: write ``sys.executable`` into its ``xlwings.conf`` sheet (Interpreter_Win)
  after a backup copy, atomically, by editing that one cell in the file (no openpyxl round
  trip, which would drop the ribbon); and drop ``<stem>.py`` beside it for the standard
  xlwings add-in's "Run main" button (the second route, DESIGN §7);
- without: write the interpreter into the user's ``%USERPROFILE%\\.xlwings\\xlwings.conf``;
- either way check xlwings (pinned version) and its ``xlwings64-<version>.dll`` where the
  VBA looks for it (beside python.exe, or one folder up in a virtualenv).

Elsewhere it explains, in Chinese, what it would do: Excel integration needs Excel on
Windows (buttons and PE_ functions) or macOS (buttons only).

Exit codes: 0 done (or explained), 1 done with problems to fix, 2 unusable arguments.
"""

from __future__ import annotations

import importlib.util
import keyword
import locale
import re
import shutil
import struct
import sys
from pathlib import Path

from perfeval_xl import files
from perfeval_xl.excel import xlsm

RUNMAIN_MARK = "# perfeval_xl excel-setup: Run main"
RUNMAIN_TEXT = f'''{RUNMAIN_MARK}
"""由 perfeval-xl excel-setup 生成：xlwings 加载项的“Run main”按钮会导入与工作簿同名的
本文件并调用 main()，效果与“绩效评价”选项卡的“计算得分”相同。可以删除本文件。"""

from perfeval_xl.excel.macros import calculate_scores


def main():
    calculate_scores()
'''


def _is_windows() -> bool:
    return sys.platform.startswith("win")


def _say(text: str = "") -> None:
    print(text)


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def dll_name() -> str:
    bits = 64 if struct.calcsize("P") == 8 else 32
    return f"xlwings{bits}-{xlsm.XLWINGS_VERSION}.dll"


def dll_candidates(executable: str) -> list[Path]:
    """Where xlwings' VBA loads the DLL from (XLPyLoadDLL): beside the interpreter, then one
    folder up (a virtualenv's Scripts\\python.exe)."""
    exe = Path(executable)
    return [exe.parent / dll_name(), exe.parent.parent / dll_name()]


def check_environment(executable: str) -> list[str]:
    """Chinese descriptions of what keeps Excel from using ``executable``; [] when fine."""
    from importlib import metadata

    out = []
    pin = xlsm.XLWINGS_VERSION
    try:
        installed = metadata.version("xlwings")
    except metadata.PackageNotFoundError:
        installed = None
    if installed is None:
        out.append(f"未安装 xlwings。请运行：\"{executable}\" -m pip install xlwings=={pin}")
    elif installed != pin:
        out.append(f"xlwings 版本为 {installed}，工作簿中的宏需要 {pin}。"
                   f"请运行：\"{executable}\" -m pip install xlwings=={pin}")
    if _is_windows():
        if importlib.util.find_spec("pythoncom") is None:
            out.append(f"缺少 pywin32（xlwings 在 Windows 上依赖它）。请运行：\"{executable}\" -m pip "
                       f"install --force-reinstall xlwings=={pin}")
        if not any(p.is_file() for p in dll_candidates(executable)):
            where = "、".join(str(p.parent) for p in dll_candidates(executable))
            out.append(f"找不到 {dll_name()}（应在 {where} 中）。请运行：\"{executable}\" -m pip "
                       f"install --force-reinstall xlwings=={pin}；并确认 Python 与 Excel 同为 64 位"
                       "（或同为 32 位）。")
    return out


def _declared_version(path: Path) -> str | None:
    """The xlwings version the workbook's VBA declares (needs pyopenvba; None if unknown)."""
    try:
        from pyopenvba import ExcelFile
    except ImportError:
        return None
    try:
        with ExcelFile(path) as book:
            return xlsm.declared_xlwings_version(book.get_module("xlwings"))
    except Exception:
        return None


def runmain_target(workbook: Path) -> tuple[Path | None, str]:
    """The ``<stem>.py`` for "Run main", or (None, why not)."""
    stem = workbook.stem
    if not stem.isidentifier() or keyword.iskeyword(stem):
        return None, (f"工作簿名“{stem}”不是合法的 Python 模块名（只能含汉字、字母、数字和下划线，"
                      "且不以数字开头），因此不生成 Run main 所需的同名 .py 文件。")
    if importlib.util.find_spec(stem) is not None:
        return None, (f"工作簿名“{stem}”与已安装的 Python 模块同名，生成同名 .py 会遮蔽该模块，"
                      "因此不生成。可将工作簿改名后重试。")
    target = workbook.with_name(stem + ".py")
    if target.exists():
        head = target.read_text(encoding="utf-8", errors="replace")[:len(RUNMAIN_MARK)]
        if head != RUNMAIN_MARK:
            return None, f"{target.name} 已存在且不是本程序生成的，未覆盖。"
    return target, ""


def _write_user_config(executable: str) -> Path:
    """Set INTERPRETER_WIN and INTERPRETER in %USERPROFILE%\\.xlwings\\xlwings.conf.

    Both keys: a workbook whose xlwings.conf sheet has a blank Interpreter_Win masks the
    file's INTERPRETER_WIN (xlwings reads the sheet first), and then falls back to the
    legacy INTERPRETER key, which the sheet does not have.
    """
    path = Path.home() / ".xlwings" / "xlwings.conf"
    # xlwings' VBA reads this file with VBA's Input #, i.e. in the ANSI code page.
    encoding = locale.getpreferredencoding(False)
    lines: list[str] = []
    if path.is_file():
        text = path.read_text(encoding=encoding, errors="replace")
        lines = [ln for ln in text.splitlines()
                 if not re.match(r'\s*"(INTERPRETER_WIN|INTERPRETER)"\s*,', ln, flags=re.I)]
    lines += [f'"INTERPRETER_WIN","{executable}"', f'"INTERPRETER","{executable}"']
    try:
        data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    except UnicodeEncodeError:
        raise files.OutputError(
            f"Python 路径 {executable} 含有系统代码页无法表示的字符，xlwings 无法从配置文件读取。"
            "请改用：perfeval-xl excel-setup 工作簿.xlsm（写入工作簿的 xlwings.conf 表）。") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            shutil.copy2(path, path.with_name(path.name + ".bak"))
    except OSError as exc:
        raise files.OutputError(f"无法写入 {path.parent}（{exc.strerror}）。") from None
    return files.atomic_write(path, data)


def _explain(workbook: Path | None) -> int:
    _say("perfeval-xl excel-setup：Excel 集成（“绩效评价”选项卡按钮和 PE_ 工作表函数）需要 "
         "Windows 上的 Microsoft Excel；macOS 版 Excel 只支持按钮。本机不是 Windows，未做任何改动。")
    _say("在 Windows 上运行本命令时，将：")
    steps = []
    if workbook is not None:
        steps.append(f"备份 {workbook.name}，再把当前 Python 解释器（python.exe）的完整路径写入其"
                     "“xlwings.conf”工作表的 Interpreter_Win；")
        target, why = runmain_target(workbook)
        steps.append(f"在工作簿旁生成 {target.name}，供 xlwings 加载项的“Run main”按钮调用“计算得分”；"
                     if target is not None else why)
    else:
        steps.append("把当前 Python 解释器的完整路径写入用户配置文件 "
                     "%USERPROFILE%\\.xlwings\\xlwings.conf（INTERPRETER_WIN 和 INTERPRETER）；")
    steps.append(f"检查 xlwings {xlsm.XLWINGS_VERSION} 及其 {dll_name()} 是否安装在 Excel 能找到的位置。")
    for i, step in enumerate(steps, start=1):
        _say(f"  {i}. {step}")
    _say("没有 Excel 时，可直接用命令行：perfeval-xl score / check / report 工作簿。")
    return 0


def _check_args(workbook: str | None) -> tuple[Path | None, int]:
    if workbook is None:
        return None, 0
    path = Path(workbook)
    if not path.is_file():
        _err(f"找不到工作簿 {workbook}，请检查路径。")
        return None, 2
    if path.suffix.lower() != ".xlsm":
        _err(f"{path.name} 不是带宏的 .xlsm 工作簿。excel-setup 只适用于 perfeval-xl new 自评表.xlsm "
             "生成的工作簿；.xlsx 文件请直接用 perfeval-xl score 处理。")
        return None, 2
    try:
        xlsm.read_conf(path.read_bytes())
    except KeyError:
        _err(f"{path.name} 中没有“xlwings.conf”工作表，不是 perfeval_xl 的宏工作簿。"
             "可用 perfeval-xl adopt 或 perfeval-xl new 自评表.xlsm 生成。")
        return None, 2
    except Exception:
        _err(f"无法读取 {path.name}：文件已损坏或不是有效的 Excel 文件。")
        return None, 2
    return path, 0


def run_setup(workbook: str | None) -> int:
    """Configure Excel's Python for ``workbook`` (or for the user). Returns the exit code."""
    path, code = _check_args(workbook)
    if code:
        return code
    if not _is_windows():
        return _explain(path)
    exe = sys.executable
    problems = check_environment(exe)
    try:
        if path is not None:
            data = path.read_bytes()
            new = xlsm.set_conf_value(data, "Interpreter_Win", exe)
            backup = files.backup_copy(path)
            files.atomic_write(path, new)
            _say(f"已把 Python 解释器 {exe} 写入 {path.name} 的“xlwings.conf”工作表（原文件备份为 "
                 f"{backup.name}）。")
            declared = _declared_version(path)
            if declared and declared != xlsm.XLWINGS_VERSION:
                problems.append(f"工作簿中的宏来自 xlwings {declared}，与 {xlsm.XLWINGS_VERSION} 不一致。"
                                f"请用 perfeval-xl new 重新生成工作簿，或安装 xlwings=={declared}。")
            target, why = runmain_target(path)
            if target is not None:
                files.atomic_write(target, RUNMAIN_TEXT.encode("utf-8"))
                _say(f"已生成 {target.name}：也可用 xlwings 加载项的“Run main”按钮计算得分。")
            else:
                _say(why)
        else:
            conf = _write_user_config(exe)
            _say(f"已把 Python 解释器 {exe} 写入 {conf}。")
    except files.OutputError as exc:
        _err(exc.message)
        return 1
    except KeyError:
        _err(f"{path.name} 的“xlwings.conf”工作表中没有 Interpreter_Win 一行，请在 A 列补上后重试。")
        return 1
    if problems:
        _err("还需处理以下问题，Excel 才能调用 Python：")
        for p in problems:
            _err(f"  · {p}")
        return 1
    _say("设置完成。打开工作簿时请“启用宏”（或把工作簿所在文件夹加入 Excel 的受信任位置），"
         "然后使用“绩效评价”选项卡。")
    return 0
