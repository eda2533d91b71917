"""``perfeval-xl excel-setup``: the Chinese messages and the files it writes, on Linux with the
Windows facts (platform, registry, code page, installed packages) injected.

tests/test_excel.py covers the main paths (workbook written, open/read-only/OneDrive refused,
DLL by Excel bitness, ASR, ANSI code page, import check); this file covers every remaining
message and the user-level xlwings.conf in the code pages of a county PC.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest

from perfeval_xl.excel import setup, xlsm

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "workbooks" / "sample_quwo_2021.xlsm"
PIN = xlsm.XLWINGS_VERSION


def _windows(monkeypatch, problems=None, importable=None):
    monkeypatch.setattr(setup, "_is_windows", lambda: True)
    monkeypatch.setattr(setup, "check_environment", lambda exe, **kw: list(problems or []))
    monkeypatch.setattr(setup, "check_importable", lambda exe: importable)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


# --------------------------------------------------------------------------- environment


def _installed(monkeypatch, version):
    from importlib import metadata

    def fake(name):
        if name == "xlwings" and version is None:
            raise metadata.PackageNotFoundError(name)
        return version if name == "xlwings" else "1.0"

    monkeypatch.setattr(metadata, "version", fake)


def test_missing_xlwings_is_named_with_the_command_that_fixes_it(monkeypatch):
    monkeypatch.setattr(setup, "_is_windows", lambda: False)
    _installed(monkeypatch, None)
    exe = r"C:\Users\张三\AppData\Local\perfeval-xl\venv\Scripts\python.exe"
    assert setup.check_environment(exe) == [
        f'未安装 xlwings。请运行："{exe}" -m pip install xlwings=={PIN}']


def test_other_xlwings_version_is_named(monkeypatch):
    monkeypatch.setattr(setup, "_is_windows", lambda: False)
    _installed(monkeypatch, "0.30.0")
    problems = setup.check_environment(r"C:\Python311\python.exe")
    assert problems == [f"xlwings 版本为 0.30.0，工作簿中的宏需要 {PIN}。"
                        f'请运行："C:\\Python311\\python.exe" -m pip install xlwings=={PIN}']


def test_missing_pywin32_on_windows(monkeypatch, tmp_path):
    monkeypatch.setattr(setup, "_is_windows", lambda: True)
    _installed(monkeypatch, PIN)
    monkeypatch.setattr(setup.importlib.util, "find_spec",
                        lambda name: None if name == "pythoncom" else object())
    exe = tmp_path / "Scripts" / "python.exe"
    for bits in (32, 64):
        (tmp_path / setup.dll_name(bits)).write_bytes(b"")
    problems = setup.check_environment(str(exe))
    assert problems == [f'缺少 pywin32（xlwings 在 Windows 上依赖它）。请运行："{exe}" -m pip '
                        f"install --force-reinstall xlwings=={PIN}"]


def test_interpreter_that_fails_for_another_reason(monkeypatch):
    class Failed:
        returncode = 1
        stderr = "Traceback (most recent call last):\n  ...\nImportError: DLL load failed\n"

    why = setup.check_importable(r"C:\Python311\python.exe", run=lambda cmd, **kw: Failed())
    assert why == (r"C:\Python311\python.exe 无法加载本软件（ImportError: DLL load failed）。"
                   "请重新安装后再运行 excel-setup。")


def test_all_problems_are_listed_after_the_write_and_exit_1(tmp_path, capsys, monkeypatch):
    _windows(monkeypatch, problems=["问题甲"], importable="问题乙")
    monkeypatch.setattr(setup.sys, "executable", r"C:\Python311\python.exe")
    wb = tmp_path / "自评表.xlsm"
    shutil.copy(SAMPLE, wb)
    assert setup.run_setup(str(wb)) == 1
    cap = capsys.readouterr()
    assert "已把 Python 解释器 C:\\Python311\\python.exe 写入 自评表.xlsm" in cap.out
    assert cap.err.splitlines() == ["还需处理以下问题，Excel 才能调用 Python：",
                                    "  · 问题甲", "  · 问题乙"]
    assert "设置完成" not in cap.out


def test_success_message(tmp_path, capsys, monkeypatch):
    _windows(monkeypatch)
    wb = tmp_path / "自评表.xlsm"
    shutil.copy(SAMPLE, wb)
    assert setup.run_setup(str(wb)) == 0
    out = capsys.readouterr().out
    assert "设置完成。打开工作簿时请“启用宏”" in out and "Ctrl+Alt+F9" in out


# --------------------------------------------------------------------------- the workbook


def test_workbook_folder_not_writable_is_refused(tmp_path, capsys, monkeypatch):
    _windows(monkeypatch)
    wb = tmp_path / "自评表.xlsm"
    shutil.copy(SAMPLE, wb)
    real = setup.os.access
    monkeypatch.setattr(setup.os, "access", lambda p, mode: False if Path(p) == tmp_path
                        else real(p, mode))
    before = _files(tmp_path)
    assert setup.run_setup(str(wb)) == 1
    err = capsys.readouterr().err
    assert f"没有在 {tmp_path} 中写入文件的权限" in err and "未做任何改动" in err
    assert _files(tmp_path) == before


def test_workbook_without_an_interpreter_row(tmp_path, capsys, monkeypatch):
    _windows(monkeypatch)
    wb = tmp_path / "自评表.xlsm"
    src = zipfile.ZipFile(SAMPLE)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, src.read(info).replace(b"Interpreter_Win", b"Interpreter_Old"))
    wb.write_bytes(buf.getvalue())
    assert "Interpreter_Win" not in xlsm.read_conf(wb.read_bytes())
    before = _files(tmp_path)
    assert setup.run_setup(str(wb)) == 1
    assert capsys.readouterr().err.strip() == (
        "自评表.xlsm 的“xlwings.conf”工作表中没有 Interpreter_Win 一行，请在 A 列补上后重试。")
    assert _files(tmp_path) == before


def test_macros_of_another_xlwings_version(tmp_path, capsys, monkeypatch):
    _windows(monkeypatch)
    monkeypatch.setattr(setup, "_declared_version", lambda path: "0.30.0")
    wb = tmp_path / "自评表.xlsm"
    shutil.copy(SAMPLE, wb)
    assert setup.run_setup(str(wb)) == 1
    assert (f"工作簿中的宏来自 xlwings 0.30.0，与 {PIN} 不一致。请用 perfeval-xl new 重新生成工作簿，"
            "或安装 xlwings==0.30.0。") in capsys.readouterr().err


def test_declared_version_of_the_committed_workbook_is_the_pin():
    pytest.importorskip("pyopenvba")
    assert setup._declared_version(SAMPLE) == PIN


def test_run_main_module_is_not_written_over_a_foreign_file_or_a_module(tmp_path, capsys,
                                                                       monkeypatch):
    _windows(monkeypatch)
    wb = tmp_path / "自评表.xlsm"
    shutil.copy(SAMPLE, wb)
    (tmp_path / "自评表.py").write_text("print('mine')\n", "utf-8")
    assert setup.run_setup(str(wb)) == 0
    assert "自评表.py 已存在且不是本程序生成的，未覆盖。" in capsys.readouterr().out
    assert (tmp_path / "自评表.py").read_text("utf-8") == "print('mine')\n"
    # A workbook named like an installed module would shadow it.
    json_wb = tmp_path / "json.xlsm"
    shutil.copy(SAMPLE, json_wb)
    assert setup.run_setup(str(json_wb)) == 0
    assert "工作簿名“json”与已安装的 Python 模块同名" in capsys.readouterr().out
    assert not (tmp_path / "json.py").exists()
    # No Run main module: PYTHONPATH stays as it was (blank).
    assert xlsm.read_conf(json_wb.read_bytes())["PYTHONPATH"] in (None, "")


def test_a_damaged_xlsm_is_refused(tmp_path, capsys):
    bad = tmp_path / "坏.xlsm"
    bad.write_bytes(SAMPLE.read_bytes()[:5000])
    assert setup.run_setup(str(bad)) == 2
    assert capsys.readouterr().err.strip() == "无法读取 坏.xlsm：文件已损坏或不是有效的 Excel 文件。"


# --------------------------------------------------------------------------- user xlwings.conf


@pytest.fixture
def user_home(tmp_path, monkeypatch):
    _windows(monkeypatch)
    monkeypatch.setattr(setup.Path, "home", classmethod(lambda cls: tmp_path))
    monkeypatch.setattr(setup, "_desktop_shortcut", lambda: None)
    return tmp_path


def test_user_conf_with_a_chinese_path_in_the_gbk_code_page(user_home, monkeypatch):
    # xlwings' VBA reads the file in the ANSI code page: 936 on a Chinese Windows.
    exe = r"C:\Users\张三\AppData\Local\perfeval-xl\venv\Scripts\python.exe"
    monkeypatch.setattr(setup.sys, "executable", exe)
    monkeypatch.setattr(setup.locale, "getpreferredencoding", lambda do_setlocale=True: "cp936")
    assert setup.run_setup(None) == 0
    data = (user_home / ".xlwings" / "xlwings.conf").read_bytes()
    assert data == (f'"INTERPRETER_WIN","{exe}"\r\n"INTERPRETER","{exe}"\r\n').encode("gbk")


def test_user_conf_follows_the_ansi_code_page_also_in_python_utf8_mode(user_home, monkeypatch):
    exe = r"C:\Users\张三\AppData\Local\perfeval-xl\python\python.exe"
    monkeypatch.setattr(setup.sys, "executable", exe)
    monkeypatch.setattr(setup.locale, "getpreferredencoding", lambda do_setlocale=True: "utf-8")
    monkeypatch.setattr(setup, "ansi_codepage", lambda: 936)
    assert setup.run_setup(None) == 0
    assert (user_home / ".xlwings" / "xlwings.conf").read_bytes().decode("gbk").splitlines() \
        == [f'"INTERPRETER_WIN","{exe}"', f'"INTERPRETER","{exe}"']


def test_user_conf_refused_when_the_code_page_cannot_hold_the_path(user_home, capsys,
                                                                   monkeypatch):
    exe = r"C:\Users\张三\AppData\Local\perfeval-xl\venv\Scripts\python.exe"
    monkeypatch.setattr(setup.sys, "executable", exe)
    monkeypatch.setattr(setup.locale, "getpreferredencoding", lambda do_setlocale=True: "cp1252")
    conf = user_home / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir()
    conf.write_bytes(b'"INTERPRETER_WIN","C:\\old\\python.exe"\r\n')
    assert setup.run_setup(None) == 1
    err = capsys.readouterr().err
    assert f"Python 路径 {exe} 含有系统代码页无法表示的字符" in err
    assert "perfeval-xl excel-setup 工作簿.xlsm" in err
    assert _files(conf.parent) == {"xlwings.conf": b'"INTERPRETER_WIN","C:\\old\\python.exe"\r\n'}


def test_user_conf_folder_not_writable(user_home, capsys, monkeypatch):
    monkeypatch.setattr(setup.sys, "executable", r"C:\Python311\python.exe")

    def denied(self, *a, **kw):
        raise PermissionError(13, "拒绝访问。")

    monkeypatch.setattr(setup.Path, "mkdir", denied)
    assert setup.run_setup(None) == 1
    assert f"无法写入 {user_home / '.xlwings'}（拒绝访问。）。" in capsys.readouterr().err
    assert not (user_home / ".xlwings").exists()
