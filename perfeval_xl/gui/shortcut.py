"""The desktop shortcut 「绩效评价助手」 that starts the window.

- Windows: ``绩效评价助手.lnk`` made through PowerShell's WScript.Shell COM object, pointing
  at the console-less ``perfeval-xl-gui.exe`` launcher (or ``pythonw.exe -m perfeval_xl.gui``);
  when PowerShell is unavailable, a ``绩效评价助手.bat`` that starts the same program.
- Linux (Kylin/UOS and other XDG desktops): ``perfeval-xl-gui.desktop`` in the desktop folder
  (``xdg-user-dir DESKTOP``, else ~/Desktop or ~/桌面), marked executable and trusted.

Both take a workbook dropped on the icon as the argument (``%f`` / the .lnk's default).
Called by ``perfeval-xl gui --create-shortcut`` (install.bat) and by ``excel-setup``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

NAME = "绩效评价助手"
COMMENT = "部门整体支出绩效自评：计算得分、数据校验、生成报告"
DESKTOP_FILE = "perfeval-xl-gui.desktop"


class ShortcutError(Exception):
    """The shortcut cannot be made; ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def launcher() -> list[str]:
    """The command that starts the window: the installed ``perfeval-xl-gui`` launcher beside
    this Python (a venv's Scripts/bin folder), else this Python with ``-m perfeval_xl.gui``."""
    exe = Path(sys.executable)
    win = sys.platform.startswith("win")
    names = ["perfeval-xl-gui.exe"] if win else ["perfeval-xl-gui"]
    for folder in (exe.parent, exe.parent / "Scripts", exe.parent / "bin"):
        for n in names:
            if (folder / n).is_file():
                return [str(folder / n)]
    found = shutil.which(names[0])
    if found:
        return [found]
    python = exe
    if win and (exe.parent / "pythonw.exe").is_file():
        python = exe.parent / "pythonw.exe"  # no console window behind the GUI
    return [str(python), "-m", "perfeval_xl.gui"]


def desktop_folder() -> Path:
    """The user's desktop folder (it may have a Chinese name on Kylin/UOS: 桌面)."""
    if sys.platform.startswith("win"):
        # The shell knows the real folder (it may be redirected, e.g. to OneDrive).
        try:
            import ctypes

            buf = ctypes.create_unicode_buffer(32768)
            csidl_desktopdirectory = 0x10
            if ctypes.windll.shell32.SHGetFolderPathW(None, csidl_desktopdirectory, None, 0,
                                                      buf) == 0 and buf.value:
                return Path(buf.value)
        except Exception:
            pass
        return Path(os.environ.get("USERPROFILE") or Path.home()) / "Desktop"
    try:
        out = subprocess.run(["xdg-user-dir", "DESKTOP"], capture_output=True, text=True,
                             timeout=10)
        text = out.stdout.strip()
        if out.returncode == 0 and text and Path(text) != Path.home() and Path(text).is_dir():
            return Path(text)
    except (OSError, subprocess.SubprocessError):
        pass
    for name in ("Desktop", "桌面"):
        if (Path.home() / name).is_dir():
            return Path.home() / name
    return Path.home() / "Desktop"


def create_desktop_shortcut(desktop: Path | None = None) -> Path:
    """Put 「绩效评价助手」 on the desktop (``desktop`` overrides the folder, for tests).

    Returns:
        The shortcut file written.

    Raises:
        ShortcutError: the desktop folder cannot be created or written.
    """
    folder = Path(desktop) if desktop else desktop_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ShortcutError(f"无法创建桌面文件夹 {folder}（{exc.strerror}）。") from None
    command = launcher()
    if sys.platform.startswith("win"):
        return _windows_shortcut(folder, command)
    return _desktop_entry(folder, command)


# --------------------------------------------------------------------------- Linux


def _exec_quote(arg: str) -> str:
    """Quote one argument for a desktop entry's Exec key (freedesktop Desktop Entry spec)."""
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`%'):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return '"' + escaped.replace("%", "%%") + '"'


def desktop_entry_text(command: list[str]) -> str:
    exec_line = " ".join(_exec_quote(a) for a in command) + " %f"
    # The Exec value is itself a string value: backslashes are escaped once more.
    exec_line = exec_line.replace("\\", "\\\\")
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.0",
        f"Name={NAME}",
        f"Name[zh_CN]={NAME}",
        f"Comment={COMMENT}",
        f"Exec={exec_line}",
        "Icon=x-office-spreadsheet",
        "Terminal=false",
        "Categories=Office;",
        "MimeType=application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;"
        "application/vnd.ms-excel.sheet.macroEnabled.12;",
        "StartupNotify=true",
        "",
    ])


def _desktop_entry(folder: Path, command: list[str]) -> Path:
    from perfeval_xl.files import OutputError, atomic_write

    target = folder / DESKTOP_FILE
    try:
        atomic_write(target, desktop_entry_text(command).encode("utf-8"))
        target.chmod(0o755)  # desktops only launch executable .desktop files
    except (OutputError, OSError) as exc:
        raise ShortcutError(f"无法在桌面写入快捷方式 {target}："
                            f"{getattr(exc, 'message', None) or exc}") from None
    # GNOME-based desktops (UOS, Kylin) also want the file marked trusted; best effort.
    if shutil.which("gio"):
        try:
            subprocess.run(["gio", "set", str(target), "metadata::trusted", "true"],
                           capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            pass
    return target


# --------------------------------------------------------------------------- Windows


def _no_window() -> int:
    return getattr(subprocess, "CREATE_NO_WINDOW", 0)


_PS_LNK = (
    "$s = (New-Object -ComObject WScript.Shell).CreateShortcut($env:PERFEVAL_LNK);"
    "$s.TargetPath = $env:PERFEVAL_TARGET;"
    "$s.Arguments = $env:PERFEVAL_ARGS;"
    "$s.WorkingDirectory = $env:PERFEVAL_WORKDIR;"
    "$s.Description = $env:PERFEVAL_DESC;"
    "$s.Save()"
)


def _windows_args(args: list[str]) -> str:
    return subprocess.list2cmdline(args)


def _windows_shortcut(folder: Path, command: list[str]) -> Path:
    lnk = folder / f"{NAME}.lnk"
    # Paths travel in environment variables, never spliced into the script: no quoting bugs
    # and no injection through a user or folder name.
    env = dict(os.environ, PERFEVAL_LNK=str(lnk), PERFEVAL_TARGET=command[0],
               PERFEVAL_ARGS=_windows_args(command[1:]),
               PERFEVAL_WORKDIR=str(Path.home()), PERFEVAL_DESC=COMMENT)
    try:
        out = subprocess.run(["powershell", "-NoProfile", "-NonInteractive",
                              "-ExecutionPolicy", "Bypass", "-Command", _PS_LNK],
                             capture_output=True, timeout=60, env=env, creationflags=_no_window())
        if out.returncode == 0 and lnk.is_file():
            return lnk
    except (OSError, subprocess.SubprocessError):
        pass
    return _windows_bat(folder, command)


def _windows_bat(folder: Path, command: list[str]) -> Path:
    from perfeval_xl.files import OutputError, atomic_write

    bat = folder / f"{NAME}.bat"
    text = "@echo off\r\nstart \"\" " + subprocess.list2cmdline(command) + " %*\r\n"
    try:
        data = text.encode("mbcs" if sys.platform.startswith("win") else "utf-8")
        atomic_write(bat, data)
    except (OutputError, OSError, UnicodeEncodeError) as exc:
        raise ShortcutError(f"无法在桌面写入快捷方式 {bat}："
                            f"{getattr(exc, 'message', None) or exc}") from None
    return bat
