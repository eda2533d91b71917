"""The last steps of install.bat, in Python so that Chinese file names and user folders
do not pass through cmd.exe's code page:

- a blank macro workbook 部门整体支出绩效自评表.xlsm on the desktop with Interpreter_Win
  already set (never overwritten: a re-run must not touch the user's workbook). A desktop
  inside OneDrive gets the workbook in ``%USERPROFILE%\\绩效评价`` instead (macros cannot
  use a OneDrive path);
- ``perfeval-xl.bat`` on the desktop, a wrapper for ``python -m perfeval_xl``;
- the downloaded-file mark (the ``Zone.Identifier`` stream) removed from the files this
  installation wrote, and only from those.

    python -m perfeval_xl.bundle.desktop --root %LOCALAPPDATA%\\perfeval-xl
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from perfeval_xl import files

BLANK_NAME = "部门整体支出绩效自评表.xlsm"
WRAPPER_NAME = "perfeval-xl.bat"
WRAPPER_MARK = "rem perfeval-xl wrapper written by install.bat"
FALLBACK_FOLDER = "绩效评价"


def _is_windows() -> bool:
    return sys.platform.startswith("win")


def desktop_dir() -> Path:
    """The user's desktop (a redirected one too, via the shell's known folder on Windows)."""
    if _is_windows():
        try:
            import ctypes
            import uuid
            from ctypes import wintypes

            # FOLDERID_Desktop
            guid = uuid.UUID("{B4BFCC3A-DB2C-424C-B029-7FE99A87C641}")
            buf = (ctypes.c_byte * 16).from_buffer_copy(guid.bytes_le)
            out = ctypes.c_wchar_p()
            shell32 = ctypes.windll.shell32
            shell32.SHGetKnownFolderPath.argtypes = [ctypes.c_void_p, wintypes.DWORD,
                                                     wintypes.HANDLE,
                                                     ctypes.POINTER(ctypes.c_wchar_p)]
            if shell32.SHGetKnownFolderPath(ctypes.byref(buf), 0, None, ctypes.byref(out)) == 0:
                path = Path(out.value)
                ctypes.windll.ole32.CoTaskMemFree(out)
                return path
        except Exception:
            pass
    return Path.home() / "Desktop"


def _under_onedrive(path: Path) -> bool:
    from perfeval_xl.excel.setup import onedrive_roots

    for root in onedrive_roots():
        try:
            path.resolve().relative_to(root.resolve())
            return True
        except (ValueError, OSError):
            continue
    return False


def workbook_folder(desktop: Path) -> Path:
    """Where the blank workbook goes: the desktop, unless OneDrive syncs it."""
    if _under_onedrive(desktop):
        return Path.home() / FALLBACK_FOLDER
    return desktop


def place_blank_workbook(folder: Path, interpreter: str) -> tuple[Path, bool]:
    """(path, written): the blank .xlsm with Interpreter_Win = ``interpreter``; an existing
    file is left as it is (it may hold the user's data)."""
    from perfeval_xl.excel import xlsm
    from perfeval_xl.workbook.builder import build

    target = folder / BLANK_NAME
    if target.exists():
        return target, False
    folder.mkdir(parents=True, exist_ok=True)
    data = xlsm.set_conf_value(xlsm.xlsm_bytes(build()), "Interpreter_Win", interpreter)
    files.atomic_write(target, data)
    return target, True


def wrapper_text(interpreter: str, local_app_data: str | None) -> str:
    """perfeval-xl.bat: ``%LOCALAPPDATA%`` stands for that folder so the file stays ASCII
    whatever the user's name is."""
    # A % in a folder name must be doubled in a batch file, or cmd expands it.
    exe = interpreter.replace("%", "%%")
    if local_app_data and interpreter.lower().startswith(local_app_data.rstrip("\\").lower()
                                                         + "\\"):
        exe = "%LOCALAPPDATA%" + exe[len(local_app_data.rstrip("\\").replace("%", "%%")):]
    return "\r\n".join([
        "@echo off",
        WRAPPER_MARK,
        "setlocal DisableDelayedExpansion",
        'if "%~1"=="" goto :usage',
        f'"{exe}" -m perfeval_xl %*',
        "exit /b %errorlevel%",
        ":usage",
        f'"{exe}" -m perfeval_xl --help',
        "pause",
        "",
    ])


def _oem_encoding() -> str:
    if _is_windows():
        try:
            import ctypes

            return f"cp{ctypes.windll.kernel32.GetOEMCP()}"
        except Exception:
            pass
    return "ascii"


def place_wrapper(folder: Path, interpreter: str) -> tuple[Path, bool]:
    """(path, written): perfeval-xl.bat in ``folder``; a foreign file of that name is kept.

    Raises:
        files.OutputError: the interpreter path cannot be written in the console code page.
    """
    target = folder / WRAPPER_NAME
    if target.exists() and WRAPPER_MARK not in target.read_text("latin-1", errors="replace"):
        return target, False
    text = wrapper_text(interpreter, os.environ.get("LOCALAPPDATA"))
    try:
        data = text.encode("ascii" if text.isascii() else _oem_encoding())
    except UnicodeEncodeError:
        raise files.OutputError(
            f"Python 路径 {interpreter} 含有命令行代码页无法表示的字符，未生成 {WRAPPER_NAME}。"
            "可运行 install.bat D:\\perfeval-xl 安装到纯英文路径。") from None
    folder.mkdir(parents=True, exist_ok=True)
    files.atomic_write(target, data)
    return target, True


def clear_download_mark(paths: Iterable[Path],
                        remove: Callable[[str], None] = os.remove) -> int:
    """Delete the ``Zone.Identifier`` stream (Mark of the Web) of each given file; returns
    how many had one. Only the files passed in are touched."""
    cleared = 0
    for p in paths:
        try:
            remove(f"{p}:Zone.Identifier")
            cleared += 1
        except OSError:
            pass
    return cleared


def installed_files(root: Path) -> list[Path]:
    """The files this installation wrote under ``root`` (its python/ and venv/ folders)."""
    out = []
    for sub in ("python", "venv"):
        base = root / sub
        if base.is_dir():
            out += [p for p in base.rglob("*") if p.is_file()]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perfeval_xl.bundle.desktop")
    parser.add_argument("--root", required=True, type=Path, help="the install folder")
    args = parser.parse_args(argv)
    exe = sys.executable
    desktop = desktop_dir()
    code = 0
    ours: list[Path] = []
    try:
        blank, written = place_blank_workbook(workbook_folder(desktop), exe)
        print(f"已放置空白自评表：{blank}" if written else f"{blank} 已存在，未改动。")
        ours += [blank] if written else []
        wrapper, written = place_wrapper(desktop, exe)
        print(f"已放置命令行入口：{wrapper}" if written else f"{wrapper} 不是本程序生成的，未覆盖。")
        ours += [wrapper] if written else []
    except files.OutputError as exc:
        print(exc.message, file=sys.stderr)
        code = 1
    if _is_windows():
        n = clear_download_mark(installed_files(args.root) + ours)
        if n:
            print(f"已解除 {n} 个已安装文件的“来自网络”标记。")
    return code

if __name__ == "__main__":
    sys.exit(main())
