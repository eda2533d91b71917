"""绩效评价助手: a small Tk window with the ribbon's buttons, for staff without Excel macros
(WPS, LibreOffice, Kylin/UOS). A thin door: ``controller`` runs the engine functions the CLI
and the macros call; ``app`` only shows; ``shortcut`` puts 「绩效评价助手」 on the desktop.

Entry points: ``perfeval-xl gui [WB] [--create-shortcut]`` and the gui-script
``perfeval-xl-gui [WB]`` (``main``; a console-less .exe launcher on Windows).
"""

from __future__ import annotations

import os
import sys

EXIT_OK, EXIT_UNUSABLE = 0, 2

NO_DISPLAY = ("无法打开“绩效评价助手”窗口：没有可用的图形桌面（{why}）。请在桌面环境中运行，"
              "或使用命令行：perfeval-xl score / check / report 工作簿.xlsx")
NO_TK = ("无法打开“绩效评价助手”窗口：本机的 Python 缺少 Tk 图形组件。"
         "银河麒麟/统信 UOS/Debian 请安装 python3-tk（sudo apt install python3-tk）；"
         "Windows 请重新安装 Python 并勾选“tcl/tk and IDLE”。")


def _say(text: str) -> None:
    if sys.stderr is not None:
        print(text, file=sys.stderr)
    elif sys.platform.startswith("win"):
        # pythonw (the console-less launcher) has no stderr: a Windows message box instead.
        try:
            import ctypes

            ctypes.windll.user32.MessageBoxW(None, text, "绩效评价助手", 0x10)
        except Exception:
            pass


def run_gui(workbook: str | None = None, *, screen: str | None = None) -> int:
    """Open the window (optionally on a workbook) and run until it is closed.

    Returns:
        0 when the window was closed, 2 when no window could be opened (message on stderr).
    """
    if (screen is None and sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
            and not os.environ.get("WAYLAND_DISPLAY")):
        _say(NO_DISPLAY.format(why="未设置 DISPLAY"))
        return EXIT_UNUSABLE
    try:
        import tkinter as tk
    except ImportError:
        _say(NO_TK)
        return EXIT_UNUSABLE
    try:
        root = tk.Tk(screenName=screen, className="perfeval-xl")
    except tk.TclError as exc:
        _say(NO_DISPLAY.format(why=str(exc)))
        return EXIT_UNUSABLE
    from perfeval_xl.gui.app import App

    App(root, workbook=workbook)
    root.mainloop()
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """``perfeval-xl-gui [WB]``: the launcher the desktop shortcut starts (a workbook dropped
    on the shortcut arrives as the argument)."""
    args = list(sys.argv[1:] if argv is None else argv)
    workbook = next((a for a in args if not a.startswith("-")), None)
    return run_gui(workbook)
