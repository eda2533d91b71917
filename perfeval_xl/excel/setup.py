"""``perfeval-xl excel-setup [WB]``: tell Excel which Python to run, and check that xlwings
can be reached from it.

On Windows:
- with a workbook: refuse (Chinese message, nothing written) when it is open in Excel (its
  ``~$`` owner file), read-only or inside a OneDrive folder; otherwise write
  ``sys.executable`` into its ``xlwings.conf`` sheet (Interpreter_Win) after a backup copy,
  atomically, by editing that one cell in the file (no openpyxl round trip, which would drop
  the ribbon); and drop ``<stem>.py`` beside it for the standard xlwings add-in's "Run main"
  button (the second route, DESIGN §7), with the workbook folder in PYTHONPATH because
  ADD_WORKBOOK_TO_PYTHONPATH is false;
- without: write the interpreter into the user's ``%USERPROFILE%\\.xlwings\\xlwings.conf``
  and create the desktop shortcut when ``perfeval_xl.gui`` is installed;
- either way check: xlwings (pinned version) and pywin32; the ``xlwings32/64-<version>.dll``
  matching **Excel's** bitness (Python is always 64-bit: the win_amd64 wheel ships both DLLs
  and xlwings runs Python out of process) where the VBA looks for it, and whether pip left
  it in the user install instead; that the interpreter imports perfeval_xl from another
  folder (the "ModuleNotFoundError: perfeval_xl" of a wrong interpreter); that its path
  fits the ANSI code page (xlwings' DLL and VBA take ANSI paths); and Defender's ASR rule
  that blocks Office from starting child processes, where the registry shows it.

Elsewhere it explains, in Chinese, what it would do: Excel integration needs Excel on
Windows (buttons and PE_ functions) or macOS (buttons only).

Exit codes: 0 done (or explained), 1 done with problems to fix (or refused), 2 unusable
arguments.
"""

from __future__ import annotations

import importlib.util
import keyword
import locale
import os
import re
import shutil
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


# --------------------------------------------------------------------------- Windows facts
# Each reader takes the registry/code-page answer as an argument so that the decisions
# below are tested with injected values off Windows.

# "Block all Office applications from creating child processes" (Defender ASR). When it
# blocks, Excel cannot start python.exe: RunPython and the PE_ functions fail silently.
ASR_OFFICE_CHILD = "d4f940ab-401b-4efc-aadc-ad5f3c50688a"
ASR_KEYS = (r"SOFTWARE\Policies\Microsoft\Windows Defender\Windows Defender Exploit Guard\ASR\Rules",
            r"SOFTWARE\Microsoft\Windows Defender\Windows Defender Exploit Guard\ASR\Rules")
OFFICE_BITNESS_KEYS = (
    (r"SOFTWARE\Microsoft\Office\ClickToRun\Configuration", "Platform"),
    *((rf"SOFTWARE\{wow}Microsoft\Office\{ver}\Outlook", "Bitness")
      for ver in ("16.0", "15.0", "14.0") for wow in ("", "WOW6432Node\\")),
)


def read_hklm(key: str, value: str) -> str | None:
    """A value under HKEY_LOCAL_MACHINE as text, None when absent or not on Windows."""
    if not _is_windows():
        return None
    try:
        import winreg

        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as k:
            return str(winreg.QueryValueEx(k, value)[0])
    except (ImportError, OSError):
        return None


def excel_bitness(read=read_hklm) -> int | None:
    """32 or 64 for the installed Office (Click-to-Run ``Platform`` or MSI Outlook
    ``Bitness``: x86/x64), None when the registry does not say."""
    for key, value in OFFICE_BITNESS_KEYS:
        answer = (read(key, value) or "").strip().lower()
        if answer in ("x86", "x64"):
            return 32 if answer == "x86" else 64
    return None


def asr_blocks_child_processes(read=read_hklm) -> bool:
    """True when a policy sets the ASR rule above to block (1) or warn (6)."""
    return any((read(key, ASR_OFFICE_CHILD) or "").strip() in ("1", "6") for key in ASR_KEYS)


def ansi_codepage() -> int | None:
    """The Windows ANSI code page (936 on Chinese systems), None elsewhere."""
    if not _is_windows():
        return None
    try:
        import ctypes

        return int(ctypes.windll.kernel32.GetACP())
    except Exception:
        return None


def ansi_unsafe(paths, codepage: int | None) -> list[str]:
    """The paths the ANSI code page cannot represent (xlwings' DLL and VBA take ANSI paths)."""
    if codepage is None:
        return []
    bad = []
    for p in paths:
        try:
            str(p).encode(f"cp{codepage}")
        except UnicodeEncodeError:
            bad.append(str(p))
        except LookupError:
            return []
    return bad


def dll_name(bits: int = 64) -> str:
    """xlwings' DLL for an Excel of ``bits``: the win_amd64 wheel ships both, and xlwings
    runs Python out of process, so a 32-bit Excel works with a 64-bit Python."""
    return f"xlwings{bits}-{xlsm.XLWINGS_VERSION}.dll"


def dll_candidates(executable: str, bits: int = 64) -> list[Path]:
    """Where xlwings' VBA loads the DLL from (XLPyLoadDLL): beside the interpreter, then one
    folder up (a virtualenv's Scripts\\python.exe)."""
    exe = Path(executable)
    return [exe.parent / dll_name(bits), exe.parent.parent / dll_name(bits)]


def _user_base() -> Path | None:
    import site

    try:
        return Path(site.getuserbase())
    except Exception:
        return None


def check_dlls(executable: str, excel_bits: int | None) -> list[str]:
    """Chinese problems with the xlwings DLL for Excel's bitness (both when unknown)."""
    out = []
    pin = xlsm.XLWINGS_VERSION
    for bits in (excel_bits,) if excel_bits else (64, 32):
        if any(p.is_file() for p in dll_candidates(executable, bits)):
            continue
        where = "、".join(str(p.parent) for p in dll_candidates(executable, bits))
        user = _user_base()
        # pip --user puts a wheel's data files under the user base (nt_user scheme).
        tag = f"Python{sys.version_info.major}{sys.version_info.minor}"
        if user is not None and any((d / dll_name(bits)).is_file() for d in (user, user / tag)):
            out.append(f"{dll_name(bits)} 被 pip 装到了用户目录 {user}（Python 安装目录不可写时 pip 会"
                       f"“Defaulting to user installation”），Excel 在 {where} 中找不到它。请用离线安装包的 "
                       "install.bat 安装（装在本人目录下的独立环境中），或把 Python 装在本人可写的位置后运行"
                       f"“{executable} -m pip install --force-reinstall xlwings=={pin}”（不要加 --user）。")
            continue
        which = f"{bits} 位 Excel" if excel_bits else f"{bits} 位 Excel（未能读出本机 Excel 的位数）"
        out.append(f"找不到 {which}所需的 {dll_name(bits)}（应在 {where} 中）。请运行：\"{executable}\" "
                   f"-m pip install --force-reinstall xlwings=={pin}。Python 始终用 64 位，"
                   "32 位 Excel 也一样。")
    return out


def check_importable(executable: str, run=None) -> str | None:
    """Run ``executable`` as Excel will (another folder, no PYTHONPATH) and import our
    macros; a Chinese problem, or None. Catches 'ModuleNotFoundError: perfeval_xl' when
    the package is only reachable from the current folder or another Python is configured."""
    import subprocess
    import tempfile

    env = {k: v for k, v in os.environ.items() if k.upper() != "PYTHONPATH"}
    cmd = [executable, "-c", "import perfeval_xl.excel.macros"]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            proc = (run or subprocess.run)(cmd, cwd=tmp, env=env, capture_output=True,
                                           text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"无法运行 {executable}（{exc}）。"
    if proc.returncode == 0:
        return None
    if "No module named" in (proc.stderr or ""):
        return (f"{executable} 找不到 perfeval_xl（ModuleNotFoundError）：本软件没有安装到这个 "
                f"Python 中。请运行“{executable} -m pip install perfeval-xl”（离线安装包：重新运行 "
                "install.bat），再运行 perfeval-xl excel-setup。")
    last = (proc.stderr or "").strip().splitlines()[-1:] or [""]
    return f"{executable} 无法加载本软件（{last[0][:200]}）。请重新安装后再运行 excel-setup。"


def check_environment(executable: str, *, excel_bits: int | None = None,
                      codepage: int | None = None, asr: bool = False) -> list[str]:
    """Chinese descriptions of what keeps Excel from using ``executable``; [] when fine.

    Args:
        excel_bits: Excel's bitness (32/64) when known; None checks for both DLLs.
        codepage: the Windows ANSI code page; None skips the path check.
        asr: whether the Office child-process ASR rule blocks.
    """
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
        out += check_dlls(executable, excel_bits)
    bad = ansi_unsafe([executable], codepage)
    if bad:
        out.append(f"Python 路径 {bad[0]} 含有系统代码页（{codepage}）无法表示的字符（常见于中文用户名而"
                   "“非 Unicode 程序的语言”不是中文），Excel 的实时 PE_ 函数无法加载 xlwings。请把本软件"
                   "安装到纯英文路径（如运行 install.bat D:\\perfeval-xl），或在“控制面板 › 区域 › 管理 › "
                   "更改系统区域设置”中选择“中文(简体，中国)”后重启。")
    if asr:
        out.append("本机的安全策略（Microsoft Defender 攻击面减少规则“阻止所有 Office 应用程序创建子进程”）"
                   "禁止 Excel 启动 Python，按钮和 PE_ 函数都无法工作。请联系单位信息化管理员为 Excel 调用 "
                   "python.exe 设置例外；在此之前可用命令行 perfeval-xl score / check / report。")
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
    # xlwings' VBA reads this file with VBA's Input #, i.e. in the ANSI code page; asked of
    # Windows itself, because Python's preferred encoding is UTF-8 under PYTHONUTF8=1.
    codepage = ansi_codepage()
    encoding = f"cp{codepage}" if codepage else locale.getpreferredencoding(False)
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
    steps.append(f"检查 xlwings {xlsm.XLWINGS_VERSION}，以及与 Excel 位数相同的 {dll_name(64)} 或 "
                 f"{dll_name(32)} 是否安装在 Excel 能找到的位置（Python 始终用 64 位）；检查路径编码、"
                 "Office 安全策略和本软件能否被该 Python 加载。")
    for i, step in enumerate(steps, start=1):
        _say(f"  {i}. {step}")
    _say("没有 Excel 时，可直接用命令行：perfeval-xl score / check / report 工作簿。")
    return 0


def onedrive_roots() -> list[Path]:
    """The OneDrive folders Windows announces in the environment."""
    return [Path(v) for k in ("OneDrive", "OneDriveCommercial", "OneDriveConsumer")
            if (v := os.environ.get(k))]


def workbook_problem(path: Path) -> str | None:
    """Why ``path`` must not be edited now (Chinese), or None. Checked before anything is
    written, so a refusal leaves no backup and no temp file behind."""
    # Excel keeps an owner file "~$<name>" beside a workbook it has open (long names may
    # lose their first two characters).
    owners = {path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:])}
    if any(o.exists() for o in owners):
        return (f"{path.name} 正在 Excel 中打开（发现锁定文件 ~${path.name}）。请先在 Excel 中关闭该工作簿，"
                "再运行 excel-setup；如果 Excel 已关闭，可删除该锁定文件后重试。")
    resolved = path.resolve()
    for root in onedrive_roots():
        try:
            resolved.relative_to(root.resolve())
        except (ValueError, OSError):
            continue
        return (f"{path.name} 位于 OneDrive 同步文件夹（{root}）中：同步时文件可能被占用或只在云端，"
                "Excel 中的宏也拿不到它的本地路径。请把工作簿复制到本机文件夹（如 D:\\绩效评价）后，"
                "对复制的文件运行 excel-setup。")
    if not os.access(path, os.W_OK):
        return (f"{path.name} 是只读文件。请在文件“属性”中取消“只读”（或复制一份到有写入权限的文件夹）"
                "后重试。")
    if not os.access(path.parent, os.W_OK):
        return f"没有在 {path.parent} 中写入文件的权限。请把工作簿复制到有写入权限的文件夹后重试。"
    return None


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


def _setup_workbook(path: Path, exe: str, problems: list[str]) -> None:
    """Interpreter (and, for Run main, the workbook folder) into the workbook's conf sheet."""
    data = path.read_bytes()
    new = xlsm.set_conf_value(data, "Interpreter_Win", exe)
    target, why = runmain_target(path)
    if target is not None:
        # ADD_WORKBOOK_TO_PYTHONPATH is false (it triggers OneDrive popups); Run main
        # imports <stem>.py, so its folder goes into PYTHONPATH explicitly.
        try:
            new = xlsm.set_conf_value(new, "PYTHONPATH", str(path.parent.resolve()))
        except KeyError:
            pass
    backup = files.backup_copy(path)
    files.atomic_write(path, new)
    _say(f"已把 Python 解释器 {exe} 写入 {path.name} 的“xlwings.conf”工作表（原文件备份为 "
         f"{backup.name}）。")
    declared = _declared_version(path)
    if declared and declared != xlsm.XLWINGS_VERSION:
        problems.append(f"工作簿中的宏来自 xlwings {declared}，与 {xlsm.XLWINGS_VERSION} 不一致。"
                        f"请用 perfeval-xl new 重新生成工作簿，或安装 xlwings=={declared}。")
    if target is not None:
        files.atomic_write(target, RUNMAIN_TEXT.encode("utf-8"))
        _say(f"已生成 {target.name}：也可用 xlwings 加载项的“Run main”按钮计算得分。")
    else:
        _say(why)


def _desktop_shortcut() -> None:
    """The desktop shortcut 绩效评价助手 (perfeval_xl.gui, when installed); never fatal."""
    try:
        from perfeval_xl.gui.shortcut import create_desktop_shortcut
    except ImportError:
        _say("（本版本不含图形界面，未创建桌面快捷方式。）")
        return
    try:
        where = create_desktop_shortcut()
    except Exception as exc:  # a shortcut is a convenience; setup itself succeeded
        _say(f"提示：未能创建桌面快捷方式“绩效评价助手”（{exc}），不影响 Excel 中使用。")
        return
    _say(f"已创建桌面快捷方式“绩效评价助手”{f'：{where}' if where else ''}。")


def run_setup(workbook: str | None) -> int:
    """Configure Excel's Python for ``workbook`` (or for the user). Returns the exit code."""
    path, code = _check_args(workbook)
    if code:
        return code
    if not _is_windows():
        return _explain(path)
    if path is not None:
        why = workbook_problem(path)
        if why:
            _err(why + "（未做任何改动。）")
            return 1
    exe = sys.executable
    problems = check_environment(exe, excel_bits=excel_bitness(), codepage=ansi_codepage(),
                                 asr=asr_blocks_child_processes())
    not_importable = check_importable(exe)
    if not_importable:
        problems.append(not_importable)
    try:
        if path is not None:
            _setup_workbook(path, exe, problems)
        else:
            conf = _write_user_config(exe)
            _say(f"已把 Python 解释器 {exe} 写入 {conf}。")
            _desktop_shortcut()
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
         "然后使用“绩效评价”选项卡。若“实时计算”一格仍显示错误，请按 Ctrl+Alt+F9 重新计算。")
    return 0
