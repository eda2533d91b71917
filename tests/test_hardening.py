"""Hostile-corpus round 2 (issue 12): duplicate rows, legal workbooks near Excel's limits, long
names, runaway used ranges, console streams, symlinks and what messages quote.

Every case builds its own file, runs the real door, and checks the Chinese message with its
location, the exit code, that the input is byte-identical and that nothing lands outside the
output place.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from helpers import (
    build_sample,
    filled,
    reopen,
    save,
    score_row_of,
    set_named,
    set_table,
    table_cells,
)
from openpyxl.styles import PatternFill
from openpyxl.workbook.defined_name import DefinedName

from perfeval_xl import engine
from perfeval_xl.files import (
    OutputError,
    atomic_write,
    backup_copy,
    default_scored_path,
    name_fits,
    safe_filename,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


def cli(*args, env=None, timeout=120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "perfeval_xl", *map(str, args)],
                          capture_output=True, env=env, timeout=timeout, **kw)


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def codes_at(result) -> set[tuple[str, str]]:
    return {(p.code, str(p.location)) for p in result.problems}


def decoded(r: subprocess.CompletedProcess) -> str:
    return r.stderr.decode("utf-8")


# --- item 2: duplicate indicator rows are an error at the copy and are scored once ---------


def test_duplicate_indicator_row_is_reported_at_the_copy_and_scored_once(tmp_path):
    clean = engine.evaluate(save(filled(), tmp_path / "clean.xlsx"))
    wb = filled()
    sheet, cols, _, r1 = table_cells(wb, "tbl_scores")
    ws = wb[sheet]
    original = score_row_of(wb, "budget_completion_rate")
    for letter in cols.values():  # the last (unused 个性指标 mirror) row becomes a copy
        ws[f"{letter}{r1}"].value = ws[f"{letter}{original}"].value
    path = save(wb, tmp_path / "dup.xlsx")
    before = digest(path)

    result = engine.evaluate(path)
    assert ("duplicate-indicator", f"'自评表'!{cols['代码']}{r1}") in codes_at(result)
    dup = next(p for p in result.problems if p.code == "duplicate-indicator")
    assert f"{cols['代码']}{original}" in dup.message and CJK.search(dup.message)
    assert [i.code for i in result.indicators].count("budget_completion_rate") == 1
    assert result.total == clean.total
    assert not any(p.code == "weights-sum" for p in result.problems)

    out = tmp_path / "scored.xlsx"
    r = cli("score", path, "-o", out)
    assert r.returncode == 1, decoded(r)
    assert "duplicate-indicator" in decoded(r)
    ws = reopen(out)[sheet]
    # The original row gets its 实际值 and 得分; the copy is left as it was.
    assert ws[f"{cols['得分']}{original}"].value is not None
    assert ws[f"{cols['实际值']}{original}"].value is not None
    assert ws[f"{cols['得分']}{r1}"].value is None
    assert digest(path) == before


# --- item 2: bomb limits from Excel's own limits --------------------------------------------


def _with_cell_formats(src: Path, dst: Path, count: int) -> Path:
    """Copy ``src`` with its cellXfs list padded to ``count`` identical formats."""
    with zipfile.ZipFile(src) as zin:
        styles = zin.read("xl/styles.xml").decode("utf-8")
        m = re.search(r'<cellXfs count="(\d+)">(.*?)</cellXfs>', styles, re.S)
        first = re.match(r"<xf\b[^>]*/>|<xf\b.*?</xf>", m.group(2), re.S).group(0)
        padded = (styles[: m.start()] + f'<cellXfs count="{count}">' + m.group(2)
                  + first * (count - int(m.group(1))) + "</cellXfs>" + styles[m.end():])
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = padded.encode() if info.filename == "xl/styles.xml" else zin.read(info)
                zout.writestr(info, data)
    return dst


def test_60000_cell_formats_is_a_legal_workbook_not_a_bomb(tmp_path):
    path = _with_cell_formats(save(build_sample(), tmp_path / "s.xlsx"),
                              tmp_path / "formats.xlsx", 60_000)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/styles.xml")
        assert info.file_size > 1 << 20 and info.file_size > 200 * info.compress_size
    before = digest(path)
    r = cli("score", path, "-o", tmp_path / "out.xlsx", "--json")
    assert r.returncode == 0, decoded(r)
    assert "炸弹" not in decoded(r)
    assert json.loads(r.stdout)["grade"]
    assert digest(path) == before


# --- item 4: generated file names fit 255 bytes and leave room for the Windows path ---------


LONG_UNIT = "某某省某某市某某县" + "农业农村和乡村振兴与农村经济经营管理服务中心" * 3


def test_long_unit_name_gives_a_report_whose_name_fits(tmp_path):
    assert len(LONG_UNIT) >= 70
    wb = filled()
    set_named(wb, unit_name=LONG_UNIT)
    path = save(wb, tmp_path / "long.xlsx")
    before = digest(path)
    r = cli("report", path)
    assert r.returncode == 0, decoded(r)
    reports = list(tmp_path.glob("*.docx"))
    assert len(reports) == 1
    name = reports[0].name
    assert name_fits(name) and len(name.encode()) <= 255
    # Unit shortened (with a hash for uniqueness); year and suffix kept.
    assert name.startswith(LONG_UNIT[:20]) and name.endswith("_2021年度部门整体支出绩效自评报告.docx")
    assert len(name) <= 80  # leaves 180 characters of Windows' 260 for the folder
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["long.xlsx", name])


def test_safe_filename_shortens_uniquely_and_keeps_windows_rules():
    a, b = safe_filename(LONG_UNIT + "甲"), safe_filename(LONG_UNIT + "乙")
    assert a != b and len(a) <= 40 and len(a.encode()) <= 120
    assert a[:-7] == b[:-7] and re.fullmatch(r"_[0-9a-f]{6}", a[-7:])
    assert safe_filename(LONG_UNIT + "甲") == a  # stable between runs
    assert safe_filename("𠀀" * 100).encode().__len__() <= 120
    assert safe_filename("CON") == "_CON" and safe_filename("aux.txt") == "_aux.txt"
    assert safe_filename('a<b>c:"d"/e\\f|g?h*') == "a_b_c_d_e_f_g_h_"
    assert safe_filename("短名称") == "短名称"
    assert safe_filename("\ufeff单位\u200b名称\u3000甲") == "单位名称 甲"


def test_a_path_past_windows_limit_is_refused_there_in_chinese(tmp_path, monkeypatch):
    """On Windows a full output path over 259 characters cannot be opened by Word or Excel:
    refused before anything is written, with what to do."""
    from perfeval_xl import files

    monkeypatch.setattr(files, "WINDOWS_PATHS", True)
    deep = tmp_path / ("很深的文件夹" * 10) / ("再深一层" * 10) / ("还有一层" * 10) / ("第四层" * 10)
    deep.mkdir(parents=True)
    target = deep / ("报告" * 20 + ".docx")
    assert len(str(target)) > 259
    with pytest.raises(files.OutputError) as exc:
        files.atomic_write(target, b"x")
    assert "输出路径过长" in exc.value.message and "较浅的位置" in exc.value.message
    assert list(deep.iterdir()) == []
    files.atomic_write(tmp_path / "短.docx", b"x")  # a short path is written as before
    assert (tmp_path / "短.docx").read_bytes() == b"x"


def test_scored_and_backup_names_of_a_long_input_fit(tmp_path):
    stem = "自评表" * 27 + "x"  # 244 bytes + .xlsx = 249: legal, but no room for _已评分
    src = tmp_path / f"{stem}.xlsx"
    src.write_bytes(b"data")
    scored = default_scored_path(src)
    assert name_fits(scored.name) and scored.name.endswith("_已评分.xlsx")
    backup = backup_copy(src)
    assert name_fits(backup.name) and backup.name.endswith(".bak-1.xlsx")
    assert backup.read_bytes() == b"data"
    with pytest.raises(OutputError) as info:
        atomic_write(tmp_path / ("长" * 90 + ".docx"), b"x")
    assert "文件名过长" in info.value.message


# --- item 5: a used range down to row 1,048,576 does not hang ------------------------------


def test_tables_and_used_range_to_the_last_row_finish_quickly(tmp_path):
    wb = build_sample()
    for name in ("tbl_scores", "tbl_checks", "tbl_work"):
        text = wb.defined_names[name].attr_text
        del wb.defined_names[name]
        wb.defined_names[name] = DefinedName(name, attr_text=re.sub(r"\$\d+$", "$1048576", text))
    red = PatternFill("solid", fgColor="FFFF0000")
    for ws in wb.worksheets:  # a formatted cell in the very last row and column
        ws.cell(1_048_576, 16_384).fill = red
    # A whole-column formula over a sheet whose used range now reaches the last row.
    set_named(wb, key_tasks_assigned="=COUNTIF('重点工作'!B:B,\"重点工作\")")
    path = save(wb, tmp_path / "tall.xlsx")
    before = digest(path)
    start = time.monotonic()
    r = cli("score", path, "-o", tmp_path / "out.xlsx", "--json", timeout=60)
    elapsed = time.monotonic() - start
    assert r.returncode == 0, decoded(r)
    assert elapsed < 30
    data = json.loads(r.stdout)
    clean = engine.evaluate(save(build_sample(), tmp_path / "clean.xlsx"))
    assert data["total"] == float(clean.total)
    assert not any(p["code"] == "formula-unevaluated" for p in data["problems"])
    key = next(i for i in data["indicators"] if i["code"] == "key_task_completion_rate")
    assert key["value"] == float(clean.indicator("key_task_completion_rate").value)
    assert digest(path) == before


def test_rows_formatted_down_to_the_last_row_finish_quickly(tmp_path):
    """Whole rows formatted to the end of the sheet: a million cell-less <row> elements,
    which openpyxl alone needs minutes for."""
    src = save(build_sample(), tmp_path / "s.xlsx")
    clean = engine.evaluate(src)
    part = "xl/worksheets/sheet8.xml"  # 自评表, the 8th sheet
    path = tmp_path / "formatted.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        xml = zin.read(part).decode("utf-8")
        last = max(int(n) for n in re.findall(r'<row r="(\d+)"', xml))
        rows = "".join(f'<row r="{r}" s="1" customFormat="1" ht="15" customHeight="1"/>'
                       for r in range(last + 1, 1_048_577))
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                data = xml.replace("</sheetData>", rows + "</sheetData>").encode("utf-8")
            zout.writestr(info, data)
    assert "自评表" in zipfile.ZipFile(path).read("xl/workbook.xml").decode()
    before = digest(path)
    start = time.monotonic()
    r = cli("score", path, "-o", tmp_path / "out.xlsx", "--json", timeout=60)
    assert time.monotonic() - start < 30
    assert r.returncode == 0, decoded(r)
    data = json.loads(r.stdout)
    assert data["total"] == float(clean.total)
    assert digest(path) == before
    # The package reader streams the sheet and the surgical writer keeps every formatted
    # row of the county's sheet in the scored copy.
    with zipfile.ZipFile(tmp_path / "out.xlsx") as z:
        assert z.read(part).count(b"<row ") >= 1_048_576 - last
    # The openpyxl door (other file kinds, Excel-less fallback) hands openpyxl the sheet
    # without the trailing format-only rows and says so at the first one.
    start = time.monotonic()
    result = engine.evaluate(path, wb=engine.open_workbook(path))
    assert time.monotonic() - start < 30
    assert result.total == clean.total
    found = {(p.code, str(p.location)) for p in result.problems if p.location}
    assert ("format-only-rows", f"'自评表'!A{last + 1}") in found
    assert digest(path) == before


# --- item 6: streams ------------------------------------------------------------------------


def test_json_into_a_closed_pipe_ends_quietly_with_the_usual_exit_code(tmp_path):
    wb = filled()
    set_named(wb, spending_basic=1)  # an error: the usual exit code is 1
    path = save(wb, tmp_path / "wb.xlsx")
    usual = cli("check", path, "--json")
    assert usual.returncode == 1
    # A reader that is gone before anything is written: every write hits a closed pipe.
    read_end, write_end = os.pipe()
    os.close(read_end)
    closed = subprocess.run([sys.executable, "-m", "perfeval_xl", "score", str(path), "-o",
                             str(tmp_path / "out.xlsx"), "--json"], stdout=write_end,
                            stderr=subprocess.PIPE, timeout=120)
    os.close(write_end)
    err = closed.stderr.decode("utf-8")
    assert closed.returncode == usual.returncode, err
    assert "Traceback" not in err and "内部错误" not in err and "BrokenPipe" not in err
    assert (tmp_path / "out.xlsx").is_file() and "已写入" in err
    # The shell case: `perfeval-xl check --json | head -1`.
    shell = subprocess.run(
        f'"{sys.executable}" -m perfeval_xl check "{path}" --json | head -1; '
        'echo "status=${PIPESTATUS[0]}"', shell=True, executable="/bin/bash",
        capture_output=True, timeout=120)
    out, err = shell.stdout.decode(), shell.stderr.decode()
    assert out.splitlines()[0] == "{" and "status=1" in out
    assert "Traceback" not in err and "内部错误" not in err


def test_gbk_console_gets_utf8_json_and_readable_messages(tmp_path):
    wb = filled()
    # Characters GBK cannot encode: in the unit name (JSON + summary) and in a message.
    set_named(wb, unit_name="测试单位•☃", budget_initial="388.46\u200b")
    path = save(wb, tmp_path / "wb.xlsx")
    env = dict(os.environ, PYTHONIOENCODING="gbk")
    r = cli("check", path, "--json", env=env)
    assert r.returncode == 0, r.stderr.decode("gbk")
    data = json.loads(r.stdout.decode("utf-8"))
    assert data["unit"] == "测试单位•☃"
    err = r.stderr.decode("gbk")  # strict: the whole stream is valid GBK
    assert "校验完成" in err and "U+200B" in err


# --- item 7: symlinks -------------------------------------------------------------------------


def test_in_place_on_a_link_scores_the_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    target = save(filled(), real / "自评表.xlsx")
    link = tmp_path / "link.xlsx"
    link.symlink_to(target)
    original = target.read_bytes()
    r = cli("score", "--in-place", link)
    assert r.returncode == 0, decoded(r)
    assert link.is_symlink() and link.resolve() == target.resolve()
    backups = list(real.glob("自评表.bak-*.xlsx"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.xlsx", "real"]
    scored = reopen(target)
    sheet, cols, _, _ = table_cells(scored, "tbl_scores")
    row = score_row_of(scored, "budget_completion_rate")
    assert scored[sheet][f"{cols['得分']}{row}"].value is not None


def test_output_link_to_outside_is_refused(tmp_path):
    path = save(filled(), tmp_path / "wb.xlsx")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    victim = outside / "victim.xlsx"
    victim.write_bytes(b"do not touch")
    place = tmp_path / "out"
    place.mkdir()
    link = place / "scored.xlsx"
    link.symlink_to(victim)
    before = digest(path)
    r = cli("score", path, "-o", link)
    assert r.returncode == 2
    err = decoded(r)
    assert "符号链接" in err and "拒绝" in err
    assert victim.read_bytes() == b"do not touch" and link.is_symlink()
    assert [p.name for p in place.iterdir()] == ["scored.xlsx"]
    assert digest(path) == before
    # A link to a file in the same folder is written through, the link kept.
    inside = place / "real.xlsx"
    inside.write_bytes(b"old")
    (place / "alias.xlsx").symlink_to("real.xlsx")
    r = cli("score", path, "-o", place / "alias.xlsx")
    assert r.returncode == 0, decoded(r)
    assert (place / "alias.xlsx").is_symlink() and zipfile.is_zipfile(inside)


# --- item 8: messages -------------------------------------------------------------------------


def test_huge_cell_text_and_deep_formula_are_quoted_short(tmp_path):
    wb = filled()
    nested = "1"
    for _ in range(600):
        nested = f"IF(TRUE,{nested},0)"
    set_named(wb, budget_initial="溢" * 32_767, budget_adjusted="=" + nested + "+NOSUCHFN(1)")
    path = save(wb, tmp_path / "long.xlsx")
    r = cli("check", path)
    assert r.returncode == 1
    lines = decoded(r).splitlines()
    assert max(map(len, lines)) < 400
    budget = next(line for line in lines if "'预算执行'" in line and "溢" in line)
    assert "…" in budget
    formula = next(line for line in lines if "IF(TRUE" in line)
    assert "…" in formula and "formula-unevaluated" in formula


def test_invisible_characters_in_numbers_are_named_and_stripped(tmp_path):
    wb = filled()
    set_named(wb, budget_initial="388.46\u200b", budget_adjusted="\ufeff620.47",
              spending_total="734\u00a0.63", carryover_prior="\u2060")
    path = save(wb, tmp_path / "inv.xlsx")
    result = engine.evaluate(path)
    inv = {str(p.location): p.message for p in result.problems if p.code == "invisible-char"}
    assert "零宽空格 U+200B" in inv["'预算执行'!" + _cell(result, "budget_initial")]
    assert "BOM U+FEFF" in inv["'预算执行'!" + _cell(result, "budget_adjusted")]
    assert "不换行空格 U+00A0" in inv["'预算执行'!" + _cell(result, "spending_total")]
    assert "看似空白" in inv["'预算执行'!" + _cell(result, "carryover_prior")]
    ev = result.evaluation
    assert str(ev.inputs["budget_initial"].value) == "388.46"
    assert str(ev.inputs["budget_adjusted"].value) == "620.47"
    assert str(ev.inputs["spending_total"].value) == "734.63"
    assert not any(p.code == "not-a-number" for p in result.problems)
    # Invisible characters that do not hide a number are named in the error.
    set_named(wb, budget_initial="约\u200b388")
    bad = engine.evaluate(save(wb, tmp_path / "bad.xlsx"))
    msg = next(p.message for p in bad.problems if p.code == "not-a-number")
    assert "零宽空格 U+200B" in msg


def _cell(result, name: str) -> str:
    return result.evaluation.inputs[name].location.cell


def test_overlapping_grade_bands_are_an_error_at_their_cell(tmp_path):
    wb = filled()
    set_table(wb, "tbl_grades", [{"等级": "优", "分数下限": 90}, {"等级": "良", "分数下限": 80},
                                 {"等级": "中", "分数下限": 85}, {"等级": "差", "分数下限": 0}])
    path = save(wb, tmp_path / "bands.xlsx")
    before = digest(path)
    sheet, cols, r0, _ = table_cells(wb, "tbl_grades")
    r = cli("check", path, "--json")
    assert r.returncode == 1
    found = {(p["code"], p["location"]) for p in json.loads(r.stdout)["problems"]}
    assert ("grade-band-overlap", f"'{sheet}'!{cols['分数下限']}{r0 + 3}") in found
    assert "分数段重叠" in decoded(r)
    assert digest(path) == before
    # Repeated labels are an overlap too; a list in consistent ascending order is fine.
    set_table(wb, "tbl_grades", [{"等级": "优", "分数下限": 90}, {"等级": "良", "分数下限": 80},
                                 {"等级": "良", "分数下限": 60}, {"等级": "差", "分数下限": 0}])
    result = engine.evaluate(save(wb, tmp_path / "labels.xlsx"))
    assert ("grade-band-overlap", f"'{sheet}'!{cols['等级']}{r0 + 3}") in codes_at(result)
    set_table(wb, "tbl_grades", [{"等级": "差", "分数下限": 0}, {"等级": "中", "分数下限": 60},
                                 {"等级": "良", "分数下限": 80}, {"等级": "优", "分数下限": 90}])
    result = engine.evaluate(save(wb, tmp_path / "ascending.xlsx"))
    assert not any(p.code.startswith("grade-band") for p in result.problems)
    assert result.grade == "优"
