"""绩效评价助手: the controller (each button) without a display, then the Tk window itself
under Xvfb (skipped with the reason when Xvfb or Tk is missing)."""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import adopt_fixtures as F
import pytest
from helpers import filled, named_value, reopen, sample_path, save

from perfeval_xl import cli
from perfeval_xl.gui import controller as C
from perfeval_xl.gui.fonts import pick_ui_family
from perfeval_xl.gui.shortcut import create_desktop_shortcut, desktop_entry_text

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "workbooks" / "sample_quwo_2021.xlsx"


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def docx_text(path: Path) -> str:
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def cli_stderr(capsys, *argv) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    return code, capsys.readouterr().err


@pytest.fixture
def ctl(tmp_path):
    return C.Controller(config=tmp_path / "config")


# --------------------------------------------------------------------------- 计算得分


def test_score_writes_a_scored_copy_with_the_cli_wording(tmp_path, ctl, capsys):
    src = sample_path(tmp_path)
    before = sha(src)
    steps = []
    out = ctl.score(src, progress=steps.append)
    assert out.status == C.EXIT_OK and not out.busy
    scored = tmp_path / "sample_已评分.xlsx"
    assert out.outputs == [scored] and out.workbook == src
    wb = reopen(scored)
    assert named_value(wb, "grade") == "优"
    assert round(named_value(wb, "total_score"), 2) == 94.88
    assert sha(src) == before  # the input is only read
    assert steps and all(s.endswith("…") for s in steps)
    # The same summary line and "已写入" line the CLI prints for the same workbook.
    code, err = cli_stderr(capsys, "score", src, "-o", tmp_path / "cli.xlsx")
    assert code == out.status
    assert out.message.splitlines()[0] in err.splitlines()
    assert f"已写入：{scored}" in out.message
    view = out.view
    assert (view.unit, view.year, view.total, view.grade) == (
        "曲沃县中小企业服务中心", "2021", "94.88", "优")
    rows = {r.name: r for r in view.indicators}
    bc = rows["预算完成率"]
    assert (bc.level1, bc.level2, bc.weight, bc.value, bc.score) == ("过程", "预算执行", "5",
                                                                  "98.29%", "5")
    adj = rows["预算调整率"]
    assert adj.score == "0" and "扣3分" in adj.note


def test_score_in_place_backs_up_first(tmp_path, ctl):
    src = sample_path(tmp_path)
    before = src.read_bytes()
    out = ctl.score(src, in_place=True)
    assert out.status == C.EXIT_OK, out.message
    backup = tmp_path / "sample.bak-1.xlsx"
    assert backup.read_bytes() == before
    assert f"已备份原文件：{backup}" in out.message
    assert out.outputs == [src]
    assert named_value(reopen(src), "grade") == "优"
    assert not (tmp_path / "sample_已评分.xlsx").exists()


# --------------------------------------------------------------------------- 数据校验


def test_check_lists_problems_with_their_cells(tmp_path, ctl):
    src = save(filled(spending_basic=200), tmp_path / "bad.xlsx")
    before = sha(src)
    out = ctl.check(src)
    assert out.status == C.EXIT_PROBLEMS and out.outputs == []
    sums = [p for p in out.view.problems if p.code == "sum-mismatch"]
    assert sums and sums[0].severity == "错误"
    assert sums[0].location.startswith("'预算执行'!")
    assert sums[0].fix.startswith(f"请修改 {sums[0].location}：")
    assert "基本支出" in sums[0].message
    assert "校验完成：错误" in out.message and sums[0].location in out.message
    assert sha(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.xlsx"]


def test_check_of_the_sample_finds_nothing(tmp_path, ctl):
    out = ctl.check(sample_path(tmp_path))
    assert out.status == C.EXIT_OK and out.view.problems == []
    assert out.message.startswith("校验完成：错误 0 个，警告 0 个。")


# --------------------------------------------------------------------------- 生成报告


def test_report_writes_the_word_report_beside_the_workbook(tmp_path, ctl):
    src = sample_path(tmp_path)
    before = sha(src)
    out = ctl.report(src)
    assert out.status == C.EXIT_OK, out.message
    docx = tmp_path / "曲沃县中小企业服务中心_2021年度部门整体支出绩效自评报告.docx"
    assert out.outputs == [docx] and f"报告：{docx}" in out.message
    text = docx_text(docx)
    assert "曲沃县中小企业服务中心" in text and "94.88" in text
    assert "预算完成率" in text and "98.29%" in text
    assert sha(src) == before


def test_report_into_a_missing_output_folder_is_refused(tmp_path, ctl):
    from helpers import set_named

    wb = filled()
    set_named(wb, report_dir="不存在的文件夹")
    src = save(wb, tmp_path / "wb.xlsx")
    out = ctl.report(src)
    assert out.status == C.EXIT_UNUSABLE
    assert "报告输出文件夹不存在" in out.message and "不存在的文件夹" in out.message
    assert not list(tmp_path.glob("*.docx"))
    folder = ctl.folder(src)
    assert folder.status == C.EXIT_UNUSABLE and "报告输出文件夹不存在" in folder.message
    (tmp_path / "不存在的文件夹").mkdir()
    folder = ctl.folder(src)
    assert folder.ok and folder.outputs == [tmp_path / "不存在的文件夹"]


# --------------------------------------------------------------------------- 新建 / 接管


def test_new_makes_a_blank_workbook(tmp_path, ctl):
    target = tmp_path / "新表.xlsx"
    out = ctl.new(target, preset="hunan", unit="某某局", year=2022)
    assert out.ok and out.workbook == target and "已新建自评表" in out.message
    wb = reopen(target)
    assert named_value(wb, "unit_name") == "某某局" and named_value(wb, "eval_year") == 2022
    bad = ctl.new(tmp_path / "x.xlsx", year=-1)
    assert bad.status == C.EXIT_UNUSABLE and "四位年份" in bad.message
    assert ctl.new(tmp_path / "x.txt").message == "输出文件扩展名应为 .xlsx 或 .xlsm。"
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "x.txt").exists()


def test_adopt_a_county_table_then_score_it(tmp_path, ctl):
    county = F.basic().save(tmp_path / "县表.xlsx")
    before = sha(county)
    out = ctl.adopt(county)
    adopted = tmp_path / "县表_接管.xlsx"
    assert out.status in (C.EXIT_OK, C.EXIT_PROBLEMS), out.message
    assert out.workbook == adopted and adopted.is_file()
    assert "指标表：“自评表”表第3行" in out.message and f"已写入：{adopted}" in out.message
    assert sha(county) == before
    assert "基本情况" in reopen(adopted).sheetnames
    again = ctl.adopt(adopted, tmp_path / "再次.xlsx")
    assert again.ok and "已接管" in again.message
    scored = ctl.score(adopted)
    assert scored.status in (C.EXIT_OK, C.EXIT_PROBLEMS) and scored.view.indicators
    assert scored.outputs == [tmp_path / "县表_接管_已评分.xlsx"]
    none = tmp_path / "none.xlsx"
    F.no_table().save(none)
    refused = ctl.adopt(none)
    assert refused.status == C.EXIT_UNUSABLE and "没有找到绩效指标表" in refused.message


# --------------------------------------------------------------------------- busy, locked, bad


def test_a_second_action_is_refused_while_one_runs(tmp_path, ctl, monkeypatch):
    from perfeval_xl import engine

    src = sample_path(tmp_path)
    started, release = threading.Event(), threading.Event()
    real = engine.evaluate

    def slow(*args, **kwargs):
        started.set()
        assert release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "evaluate", slow)
    results = []
    worker = threading.Thread(target=lambda: results.append(ctl.check(src)))
    worker.start()
    assert started.wait(30)
    assert ctl.busy
    second = ctl.score(src, in_place=True)
    assert second.busy and second.status == C.EXIT_UNUSABLE
    assert second.message == "正在数据校验，请等它完成后再点击“计算得分”。"
    assert not (tmp_path / "sample.bak-1.xlsx").exists()
    release.set()
    worker.join(30)
    assert results and results[0].ok and not ctl.busy
    assert ctl.score(src).ok  # free again


@pytest.mark.parametrize("action", ["score", "score_in_place", "check", "report", "adopt"])
@pytest.mark.parametrize("lock", ["~$sample.xlsx", "~$mple.xlsx", ".~lock.sample.xlsx#"])
def test_a_workbook_open_in_wps_is_refused_untouched(tmp_path, ctl, action, lock):
    src = sample_path(tmp_path)
    (tmp_path / lock).write_bytes(b"owner")
    before = sha(src)
    run = {"score": lambda: ctl.score(src), "score_in_place": lambda: ctl.score(src, in_place=True),
           "check": lambda: ctl.check(src), "report": lambda: ctl.report(src),
           "adopt": lambda: ctl.adopt(src)}[action]
    out = run()
    assert out.status == C.EXIT_UNUSABLE
    assert "“sample.xlsx”正在 WPS/Excel 中打开" in out.message
    assert "保存并关闭" in out.message and lock in out.message
    assert sha(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["sample.xlsx", lock])


def test_an_open_output_is_refused_before_anything_is_written(tmp_path, ctl):
    src = sample_path(tmp_path)
    # The scored copy is open in WPS: nothing is written, not even a backup.
    (tmp_path / ".~lock.sample_已评分.xlsx#").write_text("lo")
    out = ctl.score(src)
    assert out.status == C.EXIT_UNUSABLE and "sample_已评分.xlsx" in out.message
    assert not (tmp_path / "sample_已评分.xlsx").exists()
    # The report is open in Word (its owner file overwrites the name's first two characters).
    name = "曲沃县中小企业服务中心_2021年度部门整体支出绩效自评报告.docx"
    (tmp_path / ("~$" + name[2:])).write_text("w")
    out = ctl.report(src)
    assert out.status == C.EXIT_UNUSABLE and "Word/WPS" in out.message
    assert not (tmp_path / name).exists()


def test_a_workbook_that_cannot_be_written_is_not_written_in_place(tmp_path, ctl, monkeypatch):
    src = sample_path(tmp_path)
    if sys.platform.startswith("win") or os.geteuid() == 0:
        # Root writes read-only files: simulate what Windows reports for a file that Excel
        # holds open (a sharing violation when opened for update).
        real_open = open

        def sharing_violation(path, mode="r", *a, **k):
            if Path(path) == src and "+" in mode:
                raise PermissionError(13, "sharing violation")
            return real_open(path, mode, *a, **k)

        monkeypatch.setattr(C, "open", sharing_violation, raising=False)
    else:
        src.chmod(0o444)
    before = sha(src)
    out = ctl.score(src, in_place=True)
    assert out.status == C.EXIT_UNUSABLE and "只读" in out.message and "保存并关闭" in out.message
    assert not (tmp_path / "sample.bak-1.xlsx").exists() and sha(src) == before
    assert ctl.check(src).ok  # reading is fine


def _bomb() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    return buf.getvalue()


def _foreign() -> bytes:
    import io

    from openpyxl import Workbook

    buf = io.BytesIO()
    Workbook().save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("make", [
    lambda: b"",
    lambda: b"hello, not a workbook",
    lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,  # encrypted (OLE)
    lambda: b"PK\x03\x04" + b"\0" * 100,                          # truncated zip
    _bomb,
    _foreign,                                                       # not our workbook
], ids=["empty", "text", "encrypted", "truncated", "bomb", "foreign"])
def test_a_bad_workbook_gives_the_cli_message_and_stays_unchanged(tmp_path, ctl, capsys, make):
    content = make()
    p = tmp_path / "坏文件.xlsx"
    p.write_bytes(content)
    code, err = cli_stderr(capsys, "score", p)
    for out in (ctl.score(p), ctl.score(p, in_place=True), ctl.check(p), ctl.report(p)):
        assert out.status == code == C.EXIT_UNUSABLE
        assert out.message == err.strip()
        assert "Traceback" not in out.message
        assert p.read_bytes() == content
    assert sorted(x.name for x in tmp_path.iterdir()) == ["坏文件.xlsx"]
    missing = ctl.check(tmp_path / "没有.xlsx")
    assert missing.status == C.EXIT_UNUSABLE and missing.message.startswith("找不到文件：")


def test_an_unexpected_error_is_logged_not_shown(tmp_path, ctl, monkeypatch):
    from perfeval_xl import engine

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    def boom(*a, **k):
        raise RuntimeError("boom inside")

    monkeypatch.setattr(engine, "evaluate", boom)
    src = sample_path(tmp_path)
    out = ctl.check(src)
    log = tmp_path / C.LOG_NAME
    assert out.status == C.EXIT_UNUSABLE and out.log == log
    assert "程序内部出错（RuntimeError）" in out.message and str(log) in out.message
    assert "Traceback" not in out.message and "boom" not in out.message
    assert "Traceback" in log.read_text(encoding="utf-8") and "boom inside" in log.read_text(
        encoding="utf-8")


# --------------------------------------------------------------------------- recent, fonts


def test_recent_workbooks_keep_the_last_five_and_survive_a_corrupt_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("APPDATA", raising=False)
    if not sys.platform.startswith("win"):
        assert C.config_dir() == tmp_path / "xdg" / "perfeval-xl"
    folder = tmp_path / "cfg"
    assert C.load_recent(folder) == []
    for n in range(7):
        C.remember(tmp_path / f"{n}.xlsx", folder)
    C.remember(tmp_path / "3.xlsx", folder)
    assert [p.name for p in C.load_recent(folder)] == ["3.xlsx", "6.xlsx", "5.xlsx", "4.xlsx",
                                                       "2.xlsx"]
    for junk in (b"{not json", b"[1, 2]", b'{"recent": "x"}', b"\xff\xfe"):
        (folder / C.RECENT_FILE).write_bytes(junk)
        assert C.load_recent(folder) == []
    assert [p.name for p in C.remember(tmp_path / "a.xlsx", folder)] == ["a.xlsx"]
    assert [p.name for p in C.load_recent(folder)] == ["a.xlsx"]


def test_the_font_is_a_chinese_ui_font():
    assert pick_ui_family(["Arial", "微软雅黑", "Microsoft YaHei UI"], "win32") == \
        "Microsoft YaHei UI"
    assert pick_ui_family(["DejaVu Sans", "WenQuanYi Micro Hei", "Noto Sans CJK SC"],
                          "linux") == "Noto Sans CJK SC"
    assert pick_ui_family(["DejaVu Sans", "WenQuanYi Zen Hei"], "linux") == "WenQuanYi Zen Hei"
    assert pick_ui_family(["DejaVu Sans", "Some Font SC"], "linux") == "Some Font SC"
    assert pick_ui_family(["DejaVu Sans", "Courier"], "linux") is None


# --------------------------------------------------------------------------- shortcut, CLI


@pytest.mark.skipif(sys.platform.startswith("win"), reason="the .desktop entry is for Linux")
def test_desktop_shortcut_on_linux(tmp_path):
    desktop = tmp_path / "桌面"
    path = create_desktop_shortcut(desktop)
    assert path == desktop / "perfeval-xl-gui.desktop"
    text = path.read_text(encoding="utf-8")
    assert "Name=绩效评价助手" in text and "Type=Application" in text
    assert "Terminal=false" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert exec_line.endswith(" %f") and ("perfeval-xl-gui" in exec_line
                                          or "perfeval_xl.gui" in exec_line)
    assert os.access(path, os.X_OK)
    # Arguments with spaces, quotes, $ and % are quoted per the Desktop Entry spec.
    odd = desktop_entry_text(["/opt/my apps/py$thon", "-m", "100%"])
    assert 'Exec="/opt/my apps/py\\\\$thon" -m "100%%" %f' in odd


@pytest.mark.skipif(sys.platform.startswith("win") or shutil.which("powershell") is not None,
                    reason="checks the fallback taken when PowerShell is missing")
def test_windows_shortcut_falls_back_to_a_bat_without_powershell(tmp_path):
    from perfeval_xl.gui import shortcut

    target = shortcut._windows_shortcut(
        tmp_path, [r"C:\Users\张三\py env\Scripts\pythonw.exe", "-m", "perfeval_xl.gui"])
    assert target == tmp_path / "绩效评价助手.bat"
    text = target.read_bytes().decode("utf-8")
    assert text == ('@echo off\r\nstart "" "C:\\Users\\张三\\py env\\Scripts\\pythonw.exe" '
                    "-m perfeval_xl.gui %*\r\n")


def test_gui_script_entry_point():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    from perfeval_xl import gui

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["gui-scripts"] == {"perfeval-xl-gui": "perfeval_xl.gui:main"}
    assert callable(gui.main)


def test_cli_gui_without_a_display_exits_2_in_chinese(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run([sys.executable, "-m", "perfeval_xl", "gui"], capture_output=True,
                       text=True, env=env, timeout=120)
    if sys.platform.startswith("linux"):
        assert r.returncode == 2
        assert "无法打开“绩效评价助手”窗口" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(sys.platform.startswith("win"), reason="writes to the real desktop")
def test_cli_create_shortcut(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".config"))
    r = subprocess.run([sys.executable, "-m", "perfeval_xl", "gui", "--create-shortcut"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    made = list(tmp_path.rglob("perfeval-xl-gui.desktop"))
    assert len(made) == 1 and f"已在桌面创建快捷方式：{made[0]}" in r.stderr


# --------------------------------------------------------------------------- the window (Xvfb)


class Recorder:
    """Stands in for the message boxes (a modal dialog would wait for a click)."""

    def __init__(self):
        self.shown: list[tuple[str, str]] = []

    def info(self, text):
        self.shown.append(("info", text))

    def warning(self, text):
        self.shown.append(("warning", text))

    def error(self, text):
        self.shown.append(("error", text))

    def ask(self, text):
        self.shown.append(("ask", text))
        return True


@pytest.fixture(scope="module")
def xvfb():
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed (Debian: apt-get install xvfb)")
    try:
        import tkinter  # noqa: F401
    except ImportError:
        pytest.skip("tkinter is missing (Debian: apt-get install python3-tk)")
    # -displayfd: Xvfb picks a free display number and writes it to our pipe when ready.
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x900x24",
                             "-nolisten", "tcp"], pass_fds=(w,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as fh:
        number = fh.readline().strip()
    if not number:
        proc.kill()
        pytest.skip("Xvfb did not start")
    yield f":{number}"
    proc.terminate()
    proc.wait(10)


def pump(app, root, seconds=180):
    deadline = time.monotonic() + seconds
    while not app.idle:
        root.update()
        assert time.monotonic() < deadline, "the worker did not finish in time"
        time.sleep(0.02)
    root.update()


def screenshot(display: str, name: str) -> Path | None:
    folder = ROOT / "ci-artifacts" / "gui"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / name
    if shutil.which("xwd") and shutil.which("convert"):
        cmd = f"xwd -root -display {display} | convert xwd:- png:'{out}'"
    elif shutil.which("import"):
        cmd = f"import -display {display} -window root '{out}'"
    else:
        return None
    subprocess.run(cmd, shell=True, timeout=60, check=False)
    return out if out.is_file() else None


@pytest.fixture
def window(xvfb, tmp_path):
    import tkinter as tk

    from perfeval_xl.gui.app import App

    root = tk.Tk(screenName=xvfb)
    dialogs = Recorder()
    src = tmp_path / SAMPLE.name
    shutil.copy(SAMPLE, src)
    app = App(root, C.Controller(config=tmp_path / "config"), dialogs, workbook=src)
    root.update()
    yield app, root, dialogs, src
    root.destroy()
    # Collect the window's tk Variables here, on the Tk thread, not later on a worker thread.
    del app
    gc.collect()


def test_window_scores_and_reports_the_sample(window, xvfb, tmp_path):
    app, root, dialogs, src = window
    before = sha(src)
    assert app.font_family and ("CJK" in app.font_family or "Hei" in app.font_family
                                or "雅黑" in app.font_family or "YaHei" in app.font_family)
    assert app.path_var.get() == str(src)
    assert str(src) in [app.recent_menu.entrycget(i, "label") for i in range(1)]

    app.buttons["score"].invoke()
    pump(app, root)
    assert app.total_label.cget("text") == "94.88"
    assert app.grade_label.cget("text") == "优"
    assert app.unit_label.cget("text") == "单位：曲沃县中小企业服务中心（2021 年度）"
    rows = [app.tree.item(i, "values") for i in app.tree.get_children()]
    by_name = {r[2]: r for r in rows}
    assert tuple(by_name["预算完成率"][:6]) == ("过程", "预算执行", "预算完成率", "5", "98.29%", "5")
    assert "扣3分" in by_name["预算调整率"][6]
    assert len(rows) == len(app.last_outcome.view.indicators) >= 20
    scored = tmp_path / "sample_quwo_2021_已评分.xlsx"
    assert dialogs.shown[-1] == ("info", app.last_outcome.message)
    assert f"已写入：{scored}" in dialogs.shown[-1][1]
    assert named_value(reopen(scored), "grade") == "优" and sha(src) == before
    assert app.progress_var.get() == "计算得分：完成。"

    app.buttons["report"].invoke()
    pump(app, root)
    docx = tmp_path / "曲沃县中小企业服务中心_2021年度部门整体支出绩效自评报告.docx"
    assert dialogs.shown[-1][0] == "info" and f"报告：{docx}" in dialogs.shown[-1][1]
    assert "94.88" in docx_text(docx)

    first = app.tree.get_children()[5]
    app.tree.selection_set(first)
    root.update()
    assert app.detail_var.get().startswith("预算完成率（'自评表'!")
    shot = screenshot(xvfb, "gui_sample_scored.png")
    if shot is None:
        warnings.warn("xwd/ImageMagick missing: widgets asserted, no screenshot saved",
                      stacklevel=1)
    else:
        assert shot.stat().st_size > 20_000  # a real picture, not an empty screen


def test_window_stays_responsive_and_refuses_a_second_action(window, monkeypatch):
    from perfeval_xl import engine

    app, root, dialogs, src = window
    release = threading.Event()
    real = engine.evaluate

    def slow(*args, **kwargs):
        assert release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "evaluate", slow)
    app.buttons["check"].invoke()
    deadline = time.monotonic() + 30
    while app.progress_var.get() != "正在计算指标和得分…":
        root.update()  # returns at once: the worker holds the engine, not the Tk thread
        assert time.monotonic() < deadline
        time.sleep(0.02)
    app.buttons["score"].invoke()
    root.update()
    assert dialogs.shown == [("info", "正在数据校验，请等它完成后再点击“计算得分”。")]
    assert app.close() is False and root.winfo_exists()
    assert dialogs.shown[-1] == ("info", "正在数据校验，请等它完成后再关闭窗口。")
    release.set()
    pump(app, root)
    assert dialogs.shown[-1][0] == "info" and "校验完成" in dialogs.shown[-1][1]
    assert not (src.parent / "sample_quwo_2021_已评分.xlsx").exists()


def test_window_shows_problems_and_the_cell_to_fix(window, xvfb, tmp_path):
    app, root, dialogs, _ = window
    bad = save(filled(spending_basic=200), tmp_path / "有错误.xlsx")
    app.set_workbook(bad)
    assert app.total_label.cget("text") == "—"
    app.buttons["check"].invoke()
    pump(app, root)
    assert dialogs.shown[-1][0] == "warning"
    items = app.problems.get_children()
    values = [app.problems.item(i, "values") for i in items]
    n = next(k for k, v in enumerate(values) if v[0] == "错误" and v[1].startswith("'预算执行'!"))
    app.problems.selection_set(items[n])
    root.update()
    assert app.fix_var.get().startswith(f"请修改 {values[n][1]}：")
    screenshot(xvfb, "gui_check_problems.png")

    corrupt = tmp_path / "坏文件.xlsx"
    corrupt.write_bytes(b"hello, not a workbook")
    app.set_workbook(corrupt)
    app.buttons["score"].invoke()
    pump(app, root)
    kind, text = dialogs.shown[-1]
    assert kind == "error" and "不是有效的" in text and "Traceback" not in text
    assert corrupt.read_bytes() == b"hello, not a workbook"
    help_window = app.show_help()
    root.update()
    assert "计算得分" in help_window.winfo_children()[0].get("1.0", "end")


def test_window_new_workbook_dialog(window, tmp_path):
    app, root, dialogs, _ = window
    dialog = app.do_new()
    dialog.unit.insert(0, "某某局")
    dialog.year.insert(0, "2022")
    from perfeval_xl.gui.app import PRESET_NAMES

    dialog.preset.set(PRESET_NAMES["hunan"])
    assert dialog.options() == {"preset": "hunan", "unit": "某某局", "year": 2022}
    target = tmp_path / "新表.xlsx"
    dialog.create(target)
    pump(app, root)
    assert dialogs.shown[-1][0] == "info" and "已新建自评表" in dialogs.shown[-1][1]
    assert app.workbook == target and app.path_var.get() == str(target)
    wb = reopen(target)
    assert named_value(wb, "unit_name") == "某某局" and named_value(wb, "eval_year") == 2022
    dialog = app.do_new()
    dialog.year.insert(0, "二〇二二")
    dialog.create(tmp_path / "坏年份.xlsx")
    pump(app, root)
    assert dialogs.shown[-1][0] == "error" and "四位年份" in dialogs.shown[-1][1]
    assert not (tmp_path / "坏年份.xlsx").exists()
