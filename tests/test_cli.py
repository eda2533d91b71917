"""The CLI door: exit codes, JSON shape, Chinese messages with locations, inputs untouched."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import filled, named_value, reopen, sample_path, save

from perfeval_xl import __version__


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "perfeval_xl", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_version_and_help_do_not_import_heavy_modules():
    code = ("import sys; sys.argv=['perfeval-xl','--version'];\n"
            "from perfeval_xl.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy=[m for m in ('pandas','xlwings','docxtpl','matplotlib','openpyxl') "
            "if m in sys.modules]\nprint('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert __version__ in out.stdout
    assert "HEAVY []" in out.stdout
    r = run("--help")
    assert r.returncode == 0 and "score" in r.stdout and "新建" in r.stdout


def test_new_then_score_round_trip(tmp_path):
    out = tmp_path / "自评表.xlsx"
    r = run("new", out, "--unit", "某某单位", "--year", 2021)
    assert r.returncode == 0, r.stderr
    wb = reopen(out)
    assert named_value(wb, "unit_name") == "某某单位"
    assert named_value(wb, "eval_year") == 2021
    r = run("new", out)
    assert r.returncode == 2 and "已存在" in r.stderr


def test_score_json_shape_and_exit_codes(tmp_path):
    src = sample_path(tmp_path)
    before = digest(src)
    r = run("score", src, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) >= {"unit", "year", "preset", "indicators", "total", "grade", "problems"}
    assert data["unit"] == "曲沃县中小企业服务中心" and data["year"] == 2021
    assert data["preset"] == "mof2013" and data["grade"] == "优"
    ind = {i["code"]: i for i in data["indicators"]}
    bc = ind["budget_completion_rate"]
    assert set(bc) >= {"code", "name", "level1", "level2", "value", "unit", "weight", "score",
                       "rule", "note"}
    assert round(bc["value"], 2) == 98.29 and bc["unit"] == "%"
    assert bc["level1"] == "过程" and bc["level2"] == "预算执行"
    assert digest(src) == before  # input untouched
    scored = src.with_name("sample_已评分.xlsx")
    assert scored.exists()
    assert named_value(reopen(scored), "grade") == "优"


def test_score_with_errors_exits_1_and_names_the_cell(tmp_path):
    src = save(filled(spending_basic=200), tmp_path / "bad.xlsx")
    r = run("score", src, "-o", tmp_path / "out.xlsx")
    assert r.returncode == 1
    assert "'预算执行'!" in r.stderr and "基本支出" in r.stderr
    assert "Traceback" not in r.stderr


def test_check_json_and_exit(tmp_path):
    src = save(filled(spending_basic=200), tmp_path / "bad.xlsx")
    r = run("check", src, "--json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert any(p["code"] == "sum-mismatch" and p["location"].startswith("'预算执行'!")
               for p in data["problems"])
    good = sample_path(tmp_path)
    assert run("check", good).returncode == 0


def test_in_place_writes_a_backup_first(tmp_path):
    src = sample_path(tmp_path)
    before = src.read_bytes()
    r = run("score", src, "--in-place")
    assert r.returncode == 0, r.stderr
    backup = tmp_path / "sample.bak-1.xlsx"
    assert backup.read_bytes() == before
    assert named_value(reopen(src), "grade") == "优"


@pytest.mark.parametrize("content, expect", [
    (b"", "空"),
    (b"hello, not a workbook", "不是有效的"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "加密"),
])
def test_unusable_files_exit_2_in_chinese(tmp_path, content, expect):
    p = tmp_path / "坏文件.xlsx"
    p.write_bytes(content)
    r = run("score", p)
    assert r.returncode == 2
    assert expect in r.stderr
    assert "Traceback" not in r.stderr
    assert p.read_bytes() == content


def test_foreign_workbook_exit_2(tmp_path):
    from openpyxl import Workbook

    p = tmp_path / "foreign.xlsx"
    Workbook().save(p)
    r = run("check", p)
    assert r.returncode == 2 and "不是 perfeval_xl 自评表" in r.stderr


def test_zip_bomb_refused_before_parsing(tmp_path):
    p = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    r = run("check", p)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stderr.strip()


def test_bad_arguments_exit_2(tmp_path):
    assert run("score", tmp_path / "missing.xlsx").returncode == 2
    r = run("score", sample_path(tmp_path), "--preset", "nope")
    assert r.returncode == 2 and "未知的评分预设" in r.stderr
    assert run("frobnicate").returncode == 2


def test_scoring_a_macro_workbook_keeps_vba_and_ribbon(tmp_path):
    src = Path(__file__).resolve().parents[1] / "workbooks" / "sample_quwo_2021.xlsm"
    out = tmp_path / "scored.xlsm"
    r = run("score", src, "-o", out)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        rels = z.read("_rels/.rels").decode()
        types = z.read("[Content_Types].xml").decode()
        assert z.read("xl/vbaProject.bin") == zipfile.ZipFile(src).read("xl/vbaProject.bin")
    assert "customUI/customUI14.xml" in names
    assert "customUI/customUI14.xml" in rels and "ui/extensibility" in rels
    assert "macroEnabled" in types
    wb = reopen(out)
    assert named_value(wb, "grade") == "优"
    assert "xlwings.conf" in wb.sheetnames


def test_safe_filename_strips_path_tricks_and_formula_starts():
    from perfeval_xl.files import safe_filename

    assert safe_filename("../a/b:c*") == "_a_b_c_"
    assert safe_filename("=HYPERLINK(1)") == "HYPERLINK(1)"
    assert safe_filename("CON") == "_CON"
    assert safe_filename("..") == "未命名单位"
    assert safe_filename("曲沃县中小企业服务中心") == "曲沃县中小企业服务中心"


def test_argument_errors_and_help_are_chinese():
    r = run("score")
    assert r.returncode == 2
    assert "缺少必填参数：workbook" in r.stderr and "用法：" in r.stderr
    r = run("new", "x.xlsx", "--year", "abc")
    assert r.returncode == 2 and "参数 --year" in r.stderr
    h = run("-h").stdout
    assert "显示本帮助并退出" in h and "显示版本号并退出" in h
