"""Batch door (issue #5): a folder of workbooks → scored copies, reports, 汇总表.xlsx.

The input folder is built here with tests/helpers: five department workbooks with different
figures (a tie at the top, every grade but one, a duplicate unit name, a hostile unit name),
a damaged file, a foreign workbook, and files that must be left alone.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from helpers import filled, ref_of, save
from openpyxl import Workbook, load_workbook

from perfeval_xl.batch import MANIFEST_NAME, SUMMARY_NAME, BatchError, discover, run_batch
from perfeval_xl.batch.progress import Progress, clip, fmt_duration, text_width
from perfeval_xl.batch.runner import is_candidate
from perfeval_xl.batch.summary import WorkbookRecord, grade_order, indicator_columns, rank

HOSTILE = '=HYPERLINK("http://x","y")/..\\a:b*'
WINDOWS_ILLEGAL = re.compile(r'[\\/:*?"<>|]')

# file -> (unit, expected total, grade, rank)
EXPECTED = {
    "a.xlsx": ("甲单位", 96.76, "优", 1),
    "b.xlsx": ("乙单位", 84.36, "良好", 3),
    "hostile.xlsx": (HOSTILE, 96.76, "优", 1),
    "sub/c.xlsx": ("丙单位", 65.76, "一般", 4),
    "sub/d.xlsx": ("甲单位", 47.96, "差", 5),
}
FAILING = {"broken.xlsx": "不是有效的 Excel", "foreign.xlsx": "不是 perfeval_xl 自评表"}
LOW = dict(tiers="差", tasks_completed=3, tasks_on_time=3, tasks_quality_ok=3,
           key_tasks_completed=1)


def _hostile_workbook():
    wb = filled(unit_name=HOSTILE, spending_basic=100)  # also a sum-mismatch error
    sheet, coord = ref_of(wb, "unit_name")
    wb[sheet][coord].data_type = "s"  # a department typed it as text
    return wb


def make_inputs(folder: Path) -> Path:
    (folder / "sub").mkdir(parents=True)
    save(filled(unit_name="甲单位"), folder / "a.xlsx")
    save(filled(unit_name="乙单位", tiers="中"), folder / "b.xlsx")
    save(_hostile_workbook(), folder / "hostile.xlsx")
    save(filled(unit_name="丙单位", tiers="差"), folder / "sub" / "c.xlsx")
    save(filled(unit_name="甲单位", **LOW), folder / "sub" / "d.xlsx")
    (folder / "broken.xlsx").write_bytes(b"this is not a zip file at all " * 20)
    foreign = Workbook()
    foreign.active["A1"] = "别的表格"
    foreign.save(folder / "foreign.xlsx")
    # Left alone: Office lock file, hidden file, our own outputs, other file types.
    (folder / "~$a.xlsx").write_bytes(b"lock")
    (folder / ".hidden.xlsx").write_bytes(b"hidden")
    (folder / "old_已评分.xlsx").write_bytes(b"ours")
    (folder / SUMMARY_NAME).write_bytes(b"ours")
    (folder / "notes.txt").write_text("x")
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    return make_inputs(tmp_path_factory.mktemp("batch") / "in")


@pytest.fixture(scope="module")
def run1(inputs, tmp_path_factory):
    """One in-process run without reports, shared by the summary assertions."""
    out = tmp_path_factory.mktemp("out1")
    stream = io.StringIO()
    result = run_batch(inputs, out, jobs=1, report=False, stream=stream)
    return result, out, stream.getvalue()


def copy_inputs(inputs: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(inputs, tmp_path / "in"))


def sheet_rows(ws, header_row: int = 1, first: int = 2) -> list[dict]:
    heads = [c.value for c in ws[header_row]]
    return [{h: c.value for h, c in zip(heads, row, strict=False) if h}
            for row in ws.iter_rows(min_row=first) if any(c.value is not None for c in row)]


def all_values(path: Path) -> dict:
    """Every cell value and hyperlink target of every sheet (for run-to-run comparison)."""
    wb = load_workbook(path)
    out = {}
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    out[(ws.title, c.coordinate)] = (c.value, c.data_type,
                                                    c.hyperlink.target if c.hyperlink else None)
    return out


# --------------------------------------------------------------------------- discovery


def test_discover_finds_workbooks_in_sorted_order_and_skips_others(inputs):
    assert discover(inputs) == ["a.xlsx", "b.xlsx", "broken.xlsx", "foreign.xlsx",
                                "hostile.xlsx", "sub/c.xlsx", "sub/d.xlsx"]


def test_discover_skips_output_folder_inside_input(tmp_path):
    folder = tmp_path / "in"
    (folder / "out").mkdir(parents=True)
    save(filled(unit_name="甲单位"), folder / "a.xlsx")
    save(filled(unit_name="甲单位"), folder / "out" / "copy.xlsx")
    assert discover(folder, folder / "out") == ["a.xlsx"]
    assert discover(folder) == ["a.xlsx", "out/copy.xlsx"]


@pytest.mark.parametrize("name, ok", [
    ("a.xlsx", True), ("A.XLSM", True), ("a.xls", False), ("~$a.xlsx", False),
    (".a.xlsx", False), ("a_已评分.xlsx", False), ("a_已评分_2.xlsm", False),
    ("已评分说明.xlsx", True), ("汇总表.xlsx", False), ("a.docx", False)])
def test_candidate_names(name, ok):
    assert is_candidate(name) is ok


# --------------------------------------------------------------------------- summary


def test_counts_and_exit_code(run1):
    result, out, _ = run1
    assert (result.processed, result.skipped, result.failed) == (5, 0, 2)
    assert result.exit_code == 1  # some files failed
    assert result.jobs == 1
    assert (out / SUMMARY_NAME).is_file() and (out / MANIFEST_NAME).is_file()


def test_summary_rows_totals_grades_and_ranks_with_ties(run1):
    _, out, _ = run1
    wb = load_workbook(out / SUMMARY_NAME)
    assert wb.sheetnames == ["汇总", "等级分布", "指标统计", "一级指标小计", "问题透视", "指标分布",
                             "问题清单", "失败清单"]
    rows = sheet_rows(wb["汇总"], header_row=1, first=3)
    got = {r["文件"]: (r["单位"], r["总分"], r["等级"], r["排名"]) for r in rows}
    assert got == EXPECTED
    assert [r["序号"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["文件"] for r in rows] == sorted(EXPECTED)  # stable order: sorted paths
    hostile = next(r for r in rows if r["文件"] == "hostile.xlsx")
    assert (hostile["错误数"], hostile["警告数"]) == (1, 8)


def test_summary_has_indicator_value_and_score_columns(run1):
    _, out, _ = run1
    ws = load_workbook(out / SUMMARY_NAME)["汇总"]
    top = [c.value for c in ws[1]]
    sub = [c.value for c in ws[2]]
    col = top.index("预算完成率")
    assert sub[col:col + 2] == ["实际值", "得分"]
    assert ws.cell(3, col + 1).value == pytest.approx(98.2875, abs=1e-3)  # percent
    assert ws.cell(3, col + 1).number_format == '0.00"%"'
    assert ws.cell(3, col + 2).value == 5
    qual = top.index("绩效目标合理性")
    assert [ws.cell(r, qual + 1).value for r in range(3, 8)] == ["优", "中", "优", "差", "差"]
    assert ws.freeze_panes == "D3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws["A1"].fill.fgColor.rgb.endswith("BDD7EE")  # our header style


def test_grade_distribution_counts_and_chart(run1):
    _, out, _ = run1
    ws = load_workbook(out / SUMMARY_NAME)["等级分布"]
    counts = {r["等级"]: r["单位数"] for r in sheet_rows(ws)}
    assert counts == {"优": 2, "良好": 1, "一般": 1, "差": 1, "合计": 5}
    (chart,) = ws._charts
    assert type(chart).__name__ == "BarChart"
    assert chart.series[0].val.numRef.f == "'等级分布'!$B$2:$B$5"


def two_row_heads(ws) -> list[str]:
    """'得分' over '平均' → '得分平均'; a header spanning both rows stays as it is."""
    heads, group = [], ""
    for top, sub in zip(ws[1], ws[2], strict=True):
        group = top.value or group if sub.value else ""
        heads.append(f"{group}{sub.value}" if sub.value else top.value)
    return heads


def test_indicator_statistics(run1):
    _, out, _ = run1
    ws = load_workbook(out / SUMMARY_NAME)["指标统计"]
    heads = two_row_heads(ws)
    rows = {r[4]: dict(zip(heads, r, strict=True))
            for r in ws.iter_rows(min_row=3, values_only=True)}
    goal = rows["goal_rationality"]
    assert (goal["指标"], goal["单位数"]) == ("绩效目标合理性", 5)
    assert (goal["得分平均"], goal["得分最低"], goal["得分最高"]) == pytest.approx((1.56, 0, 3))  # 优 3, 中 1.8, 优, 差 0, 差 0
    assert goal["实际值平均"] is None  # tiers are not numbers
    task = rows["task_completion_rate"]
    assert (task["实际值最低"], task["实际值最高"]) == (30, 100)  # sub/d.xlsx: 3 of 10 tasks
    assert task["实际值平均"] == pytest.approx(86)


def test_problem_rows_point_at_cells_of_the_scored_copy(run1):
    result, out, _ = run1
    ws = load_workbook(out / SUMMARY_NAME)["问题清单"]
    rows = sheet_rows(ws)
    assert len(rows) == sum(len(r.problems) for r in result.records)
    errors = [(r["文件"], r["问题代码"], r["位置"]) for r in rows if r["严重程度"] == "错误"]
    assert errors == [("hostile.xlsx", "sum-mismatch", "'预算执行'!C13")]
    row = next(i for i in range(2, ws.max_row + 1) if ws.cell(i, 6).value == "错误")
    link = ws.cell(row, 4).hyperlink
    hostile = next(r for r in result.records if r.file == "hostile.xlsx")
    assert link.location == "'预算执行'!C13"
    assert link.target.replace("%20", " ") == hostile.scored


def test_failure_rows_carry_the_chinese_reason(run1):
    result, out, _ = run1
    rows = sheet_rows(load_workbook(out / SUMMARY_NAME)["失败清单"])
    assert [r["文件"] for r in rows] == ["broken.xlsx", "foreign.xlsx"]
    for r in rows:
        assert FAILING[r["文件"]] in r["原因"]
    assert {f.file for f in result.failures} == set(FAILING)


def test_hostile_unit_name_stays_inert_text_everywhere(run1):
    result, out, _ = run1
    wb = load_workbook(out / SUMMARY_NAME)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value == HOSTILE]
    assert len(cells) >= 2  # 汇总 and 问题清单
    for c in cells:
        assert c.data_type == "s"
    assert not any(c.data_type == "f" for ws in wb for row in ws.iter_rows() for c in row)
    hostile = next(r for r in result.records if r.file == "hostile.xlsx")
    assert hostile.unit == HOSTILE
    assert not WINDOWS_ILLEGAL.search(hostile.scored)
    assert (out / hostile.scored).is_file() and (out / hostile.scored).parent == out


def test_duplicate_unit_names_get_numbered_outputs_in_input_order(run1):
    result, out, _ = run1
    by_file = {r.file: r for r in result.records}
    assert by_file["a.xlsx"].scored == "甲单位_2021年度自评表_已评分.xlsx"
    assert by_file["sub/d.xlsx"].scored == "甲单位_2021年度自评表_2_已评分.xlsx"
    wb = load_workbook(out / by_file["sub/d.xlsx"].scored)
    assert wb.defined_names["total_score"]  # it is the scored copy of our workbook


def test_summary_links_to_scored_workbooks(run1):
    _, out, _ = run1
    ws = load_workbook(out / SUMMARY_NAME)["汇总"]
    heads = [c.value for c in ws[1]]
    col = heads.index("已评分工作簿") + 1
    for r in range(3, 8):
        cell = ws.cell(r, col)
        assert cell.hyperlink is not None
        assert (out / cell.value).is_file()
        assert "/" not in cell.hyperlink.target and not cell.hyperlink.target.startswith("/")


def test_progress_lines_when_not_a_terminal(run1):
    _, _, log = run1
    lines = log.splitlines()
    assert "[1/7] a.xlsx 总分 96.76 优" in lines
    assert "[5/7] hostile.xlsx 总分 96.76 优（错误 1 个）" in lines
    assert any(line.startswith("[3/7] broken.xlsx 失败：") for line in lines)
    assert "\r" not in log


# --------------------------------------------------------------------------- re-runs


def test_rerun_skips_up_to_date_and_force_redoes(inputs, tmp_path):
    src = copy_inputs(inputs, tmp_path)
    out = tmp_path / "out"
    first = run_batch(src, out, jobs=1, report=False, progress=False)
    assert (first.processed, first.skipped) == (5, 0)
    before = all_values(out / SUMMARY_NAME)

    again = run_batch(src, out, jobs=1, report=False, progress=False)
    assert (again.processed, again.skipped, again.failed) == (0, 5, 2)  # failures retried
    assert all_values(out / SUMMARY_NAME) == before  # skipped rows come from the manifest

    forced = run_batch(src, out, jobs=1, report=False, force=True, progress=False)
    assert (forced.processed, forced.skipped) == (5, 0)
    assert all_values(out / SUMMARY_NAME) == before  # same names, no _2 from the old run
    assert sorted(p.name for p in out.glob("*_已评分.xlsx")) == sorted(
        r.scored for r in forced.records)


def test_rerun_redoes_changed_input_and_missing_output(inputs, tmp_path):
    src = copy_inputs(inputs, tmp_path)
    out = tmp_path / "out"
    first = run_batch(src, out, jobs=1, report=False, progress=False)
    save(filled(unit_name="乙单位"), src / "b.xlsx")  # now tiers 优
    (out / next(r.scored for r in first.records if r.file == "sub/c.xlsx")).unlink()
    again = run_batch(src, out, jobs=1, report=False, progress=False)
    assert (again.processed, again.skipped) == (2, 3)
    b = next(r for r in again.records if r.file == "b.xlsx")
    assert (b.total, b.grade, b.rank) == (96.76, "优", 1)
    manifest = json.loads((out / MANIFEST_NAME).read_text("utf-8"))
    assert sorted(manifest["entries"]) == sorted(EXPECTED)


def test_options_are_part_of_the_up_to_date_key(inputs, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(inputs / "a.xlsx", src / "a.xlsx")
    out = tmp_path / "out"
    assert run_batch(src, out, jobs=1, report=False, progress=False).processed == 1
    with_report = run_batch(src, out, jobs=1, report=True, progress=False)
    assert (with_report.processed, with_report.skipped) == (1, 0)


def test_output_folder_may_be_the_input_folder(inputs, tmp_path):
    src = copy_inputs(inputs, tmp_path)
    first = run_batch(src, src, jobs=1, report=False, progress=False)
    assert (first.processed, first.failed) == (5, 2)
    again = run_batch(src, src, jobs=1, report=False, progress=False)
    assert (again.processed, again.skipped, again.failed) == (0, 5, 2)  # outputs not inputs


# --------------------------------------------------------------------------- parallel


def test_two_jobs_give_the_same_summary_as_one(inputs, run1, tmp_path_factory):
    _, out1, _ = run1
    out2 = tmp_path_factory.mktemp("out2")  # as deep as out1: same relative links
    result = run_batch(inputs, out2, jobs=2, report=False, progress=False)
    assert result.jobs == 2
    assert all_values(out2 / SUMMARY_NAME) == all_values(out1 / SUMMARY_NAME)
    assert result.peak_rss_mb is None or result.peak_rss_mb < 300


CRASHING_WORKER = """
import os
from perfeval_xl.batch import runner

_process_one = runner.process_one


def process_one(task, options):
    if "crash" in task.rel:
        os._exit(13)  # as a worker killed by the OOM killer or a crash in a C library
    return _process_one(task, options)


runner.process_one = process_one
"""


def test_a_dying_worker_costs_only_its_own_file(inputs, tmp_path, monkeypatch):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.xlsx", "crash.xlsx", "d.xlsx"):
        shutil.copy(inputs / "a.xlsx", src / name)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(CRASHING_WORKER)
    # Spawned workers start with it (and with this checkout's package, not an installed one).
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(hook)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    result = run_batch(src, tmp_path / "out", jobs=2, report=False, progress=False)
    assert [r.file for r in result.records] == ["a.xlsx", "d.xlsx"]
    assert [(f.file, "意外退出" in f.reason) for f in result.failures] == [("crash.xlsx", True)]


# --------------------------------------------------------------------------- reports


def test_reports_are_written_and_open(inputs, tmp_path):
    from docx import Document

    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    shutil.copy(inputs / "a.xlsx", src / "a.xlsx")
    shutil.copy(inputs / "hostile.xlsx", src / "sub" / "hostile.xlsx")
    out = tmp_path / "out"
    result = run_batch(src, out, jobs=1, report=True, progress=False)
    assert result.exit_code == 0
    for r in result.records:
        assert r.report.endswith("部门整体支出绩效自评报告.docx")
        assert not WINDOWS_ILLEGAL.search(r.report)
        text = "\n".join(p.text for p in Document(out / r.report).paragraphs)
        assert "评价结论" in text
    ws = load_workbook(out / SUMMARY_NAME)["汇总"]
    col = [c.value for c in ws[1]].index("报告") + 1
    assert [ws.cell(r, col).value for r in (3, 4)] == [r.report for r in result.records]
    assert ws.cell(3, col).hyperlink.target == result.records[0].report
    doc = result.to_json()["rows"][0]["report"]
    assert doc == str(out / result.records[0].report)


# --------------------------------------------------------------------------- API contract


def test_json_shape(run1):
    result, _, _ = run1
    data = json.loads(json.dumps(result.to_json(), ensure_ascii=False))
    assert (data["processed"], data["skipped"], data["failed"]) == (5, 0, 2)
    assert set(data["rows"][0]) >= {"file", "unit", "year", "total", "grade", "rank",
                                    "errors", "warnings", "report"}
    assert [(r["file"], r["rank"]) for r in data["rows"]] == [
        (f, e[3]) for f, e in sorted(EXPECTED.items())]
    assert data["rows"][0]["report"] is None  # report=False
    assert data["failures"] == [{"file": f, "reason": r.reason}
                                for f, r in zip(sorted(FAILING), result.failures, strict=True)]


def test_unusable_arguments(tmp_path):
    with pytest.raises(BatchError, match="找不到输入文件夹"):
        run_batch(tmp_path / "nope", tmp_path / "out")
    (tmp_path / "file").write_text("x")
    (tmp_path / "in").mkdir()
    with pytest.raises(BatchError, match="不是文件夹"):
        run_batch(tmp_path / "in", tmp_path / "file")
    with pytest.raises(BatchError, match="无法创建输出文件夹"):
        run_batch(tmp_path / "in", tmp_path / "file" / "sub")
    with pytest.raises(BatchError, match="--jobs"):
        run_batch(tmp_path / "in", tmp_path / "out", jobs=0)
    with pytest.raises(BatchError, match="没有找到自评表"):
        run_batch(tmp_path / "in", tmp_path / "out")


def test_all_processed_exits_zero(inputs, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(inputs / "hostile.xlsx", src / "h.xlsx")  # errors inside are allowed
    result = run_batch(src, tmp_path / "out", jobs=1, report=False, progress=False)
    assert (result.exit_code, result.failed, result.records[0].errors) == (0, 0, 1)


def test_cli_batch_exit_codes_and_json(inputs, tmp_path, capsys):
    from perfeval_xl import cli

    code = cli.main(["batch", str(inputs), "-o", str(tmp_path / "o"), "--jobs", "1",
                     "--no-report", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert (code, data["processed"], data["failed"]) == (1, 5, 2)
    assert cli.main(["batch", str(tmp_path / "missing"), "-o", str(tmp_path / "o")]) == 2
    assert cli.main(["batch", str(inputs), "-o", str(tmp_path / "o"), "--jobs", "0"]) == 2


# --------------------------------------------------------------------------- units


def test_rank_ties_share_and_missing_total_gets_none():
    recs = [WorkbookRecord(f, "", 2021, "mof2013", t, "") for f, t in
            (("a", 90.0), ("b", 95.5), ("c", 90.0), ("d", None), ("e", 80.0))]
    rank(recs)
    assert [r.rank for r in recs] == [2, 1, 2, None, 4]


def test_grade_order_across_label_sets():
    recs = [WorkbookRecord("a", "", 2021, "p", 1.0, "良", grade_labels=["优", "良", "中", "差"]),
            WorkbookRecord("b", "", 2021, "q", 1.0, "良好",
                           grade_labels=["优", "良好", "一般", "差"])]
    assert grade_order(recs) == ["优", "良", "良好", "中", "一般", "差"]


def test_indicator_columns_keep_each_workbooks_order():
    def rec(codes):
        return WorkbookRecord("f", "", None, "p", None, "", indicators=[
            {"code": c, "name": c.upper()} for c in codes])

    cols = indicator_columns([rec(["a", "c"]), rec(["a", "b", "c", "d"])])
    assert [c.code for c in cols] == ["a", "b", "c", "d"]


def test_progress_terminal_bar_with_count_current_file_and_eta():
    stream = io.StringIO()
    p = Progress(4, stream=stream, tty=True)
    p.working_on("某单位.xlsx")
    p.advance("a.xlsx 总分 92.5 优")
    p.advance("b.xlsx 失败：坏文件", keep=True)
    p.working_on("c.xlsx")
    p._draw(force=True)
    p.close()
    text = stream.getvalue()
    assert "\r" in text and "[2/4] b.xlsx 失败：坏文件\n" in text
    last = text.rstrip("\n").split("\r")[-1]
    assert "2/4" in last and "剩余约" in last and "c.xlsx" in last


def test_progress_helpers():
    assert text_width("ab单位") == 6
    assert text_width(clip("单位" * 50, 10)) <= 10
    assert fmt_duration(7) == "0:07" and fmt_duration(3723) == "1:02:03"


# --------------------------------------------------------------------------- issue 12/13


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs on this system")
def test_non_regular_and_unconverted_files_are_named_and_never_hang(inputs, tmp_path):
    """A FIFO named *.xlsx would block a reader forever; a device file and a broken link are
    no workbooks; .xls/.et/.ods need converting. Each is named, the batch goes on."""
    import os
    import subprocess
    import sys

    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    shutil.copy(inputs / "a.xlsx", src / "a.xlsx")
    os.mkfifo(src / "sub" / "pipe.xlsx")
    (src / "device.xlsx").symlink_to("/dev/zero")
    (src / "dangling.xlsx").symlink_to(tmp_path / "gone.xlsx")
    for name in ("old.xls", "wps.et", "calc.ods"):
        (src / name).write_bytes(b"\xd0\xcf\x11\xe0 not converted")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "perfeval_xl", "batch", str(src), "-o",
                           str(out), "--no-report", "--jobs", "1"],
                          capture_output=True, text=True, timeout=60)
    # The three damaged spreadsheets are converted, fail, and are listed as failed.
    assert proc.returncode == 1, proc.stderr
    for name in ("sub/pipe.xlsx", "device.xlsx", "dangling.xlsx", "old.xls", "wps.et",
                 "calc.ods"):
        assert name in proc.stderr
    wb = load_workbook(out / SUMMARY_NAME)
    listed = {r[1]: r[2] for r in wb["未处理文件"].iter_rows(min_row=2, values_only=True)}
    assert "命名管道" in listed["sub/pipe.xlsx"]
    assert "设备文件" in listed["device.xlsx"]
    assert "断开的链接" in listed["dangling.xlsx"]
    failed = {r[1]: r[2] for r in wb["失败清单"].iter_rows(min_row=2, values_only=True)
              if r[1]}
    assert set(failed) == {"old.xls", "wps.et", "calc.ods"}, failed
    assert ".xls" in failed["old.xls"] and "WPS" in failed["wps.et"]
    assert "ODS" in failed["calc.ods"].upper()
    assert (wb["汇总"]["C3"].value, wb["汇总"]["C4"].value) == ("甲单位", None)


def test_progress_never_passes_the_total_and_a_failed_input_leaves_nothing(inputs, tmp_path):
    """The report's final name is taken by a folder: its workbook fails at commit, after its
    progress line; the scored copy already moved is taken back."""
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.xlsx", "b.xlsx"):
        shutil.copy(inputs / name, src / name)
    out = tmp_path / "out"
    (out / "甲单位_2021年度部门整体支出绩效自评报告.docx").mkdir(parents=True)
    stream = io.StringIO()
    result = run_batch(src, out, jobs=1, report=True, stream=stream)
    counts = [tuple(map(int, m.groups())) for m in
              re.finditer(r"^\[(\d+)/(\d+)\]", stream.getvalue(), re.M)]
    assert counts == [(1, 2), (2, 2)]
    assert [f.file for f in result.failures] == ["a.xlsx"]
    reason = result.failures[0].reason
    assert "甲单位_2021年度部门整体支出绩效自评报告.docx" in reason
    assert "Excel" not in reason and "Word" not in reason  # not the cause here
    assert not list(out.glob("甲单位*自评表*"))  # no scored copy left for the failed input
    rows = sheet_rows(load_workbook(out / SUMMARY_NAME)["失败清单"])
    assert [r["文件"] for r in rows] == ["a.xlsx"]
    assert result.exit_code == 1


def test_long_unit_names_fit_and_stay_unique(inputs, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    stem = "某某市某某区某某街道办事处社区卫生服务中心" * 4  # 84 characters, 252 bytes
    save(filled(unit_name=stem + "甲"), src / "a.xlsx")
    save(filled(unit_name=stem + "乙"), src / "b.xlsx")
    out = tmp_path / "out"
    result = run_batch(src, out, jobs=1, report=True, progress=False)
    assert result.exit_code == 0, result.failures
    names = [n for r in result.records for n in r.outputs()]
    assert len(set(names)) == len(names) == 4
    assert all(len(n.encode("utf-8")) <= 255 and len(n) < 120 for n in names)
    assert all((out / n).is_file() for n in names)
    # The shortened unit part keeps a hash of the full name: 甲 and 乙 stay apart by name.
    assert result.records[0].scored != result.records[1].scored
    assert all(r.scored.endswith("_已评分.xlsx") for r in result.records)


def test_manifest_journal_resumes_a_killed_run(inputs, tmp_path):
    """A run killed after two commits (no final manifest) is resumed: the two are skipped."""
    import subprocess
    import sys

    src = tmp_path / "in"
    src.mkdir()
    for k in range(4):
        save(filled(unit_name=f"单位{k}"), src / f"{k}.xlsx")
    out = tmp_path / "out"
    script = f"""
import os
from perfeval_xl.batch import runner
real = runner.process_one
def process_one(task, options):
    if task.index == 2:
        os._exit(9)  # killed mid-run: no final manifest is written
    return real(task, options)
runner.process_one = process_one
runner.run_batch({str(src)!r}, {str(out)!r}, jobs=1, report=False, progress=False)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == 9
    assert not (out / MANIFEST_NAME).exists()
    journal = out / (MANIFEST_NAME + ".journal")
    assert len(journal.read_text("utf-8").splitlines()) == 2
    again = run_batch(src, out, jobs=1, report=False, progress=False)
    assert (again.processed, again.skipped) == (2, 2)
    assert not journal.exists() and (out / MANIFEST_NAME).exists()
    third = run_batch(src, out, jobs=1, report=False, progress=False)
    assert (third.processed, third.skipped) == (0, 4)


def test_tasks_in_flight_are_bounded(inputs, tmp_path, monkeypatch):
    from perfeval_xl.batch import runner

    src = tmp_path / "in"
    src.mkdir()
    for k in range(9):
        shutil.copy(inputs / "a.xlsx", src / f"{k}.xlsx")
    seen = []
    real = runner.ProcessPoolExecutor

    class Counting(real):
        def submit(self, fn, *args, **kwargs):
            fut = super().submit(fn, *args, **kwargs)
            seen.append(fut)
            seen_open = [f for f in seen if not f.done()]
            peak.append(len(seen_open))
            return fut

    peak: list[int] = []
    monkeypatch.setattr(runner, "ProcessPoolExecutor", Counting)
    result = run_batch(src, tmp_path / "out", jobs=2, report=False, progress=False)
    assert result.processed == 9 and len(seen) == 9
    assert max(peak) <= 2 * runner.IN_FLIGHT_PER_WORKER


def test_summary_write_is_announced(run1):
    _, _, log = run1
    assert "正在写入汇总表（5 个单位）" in log
    assert "汇总表：正在生成“指标分布”……" in log


def test_worker_path_never_imports_pandas(inputs, tmp_path):
    import subprocess
    import sys

    script = f"""
import sys
from perfeval_xl.batch.runner import Options, Task, _init_worker, process_one
_init_worker(True)
out = process_one(Task(0, "a.xlsx", {str(inputs / "a.xlsx")!r}, 1, "x",
                       {str(tmp_path / "stage")!r}), Options(report=True))
assert out.record is not None and out.staged["report"], out.reason
print("pandas" in sys.modules, "numpy" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "False"


# --------------------------------------------------------------------------- pandas sheets


def _records_by_file(result):
    return {r.file: r for r in result.records}


def test_level1_subtotals_per_department(run1):
    result, out, _ = run1
    ws = load_workbook(out / SUMMARY_NAME)["一级指标小计"]
    heads = two_row_heads(ws)
    rows = [dict(zip(heads, r, strict=True)) for r in ws.iter_rows(min_row=3, values_only=True)]
    by_file = _records_by_file(result)
    levels = list(dict.fromkeys(i["level1"] for r in result.records for i in r.indicators))
    assert heads[4:-1] == [f"{lv}{h}" for lv in levels for h in ("得分", "失分")]
    assert [r["文件"] for r in rows[:-1]] == [r.file for r in result.records]
    for row in rows[:-1]:
        rec = by_file[row["文件"]]
        worst, most = "", 0.0
        for lv in levels:
            inds = [i for i in rec.indicators if i["level1"] == lv]
            score = sum(i["score"] for i in inds if i["score"] is not None)
            lost = sum(i["weight"] for i in inds) - score
            assert row[f"{lv}得分"] == pytest.approx(score)
            assert row[f"{lv}失分"] == pytest.approx(lost)
            if lost > most + 1e-9:
                worst, most = lv, lost
        assert (row["失分最多的一级指标"] or "") == worst
    mean_row = rows[-1]
    assert mean_row["单位"] == "平均"
    lv = levels[0]
    assert mean_row[f"{lv}失分"] == pytest.approx(
        sum(r[f"{lv}失分"] for r in rows[:-1]) / len(result.records))


def test_problem_pivot_counts_codes_by_department(run1):
    result, out, _ = run1
    ws = load_workbook(out / SUMMARY_NAME)["问题透视"]
    heads = [c.value for c in ws[1]]
    codes = heads[3:-1]
    expected: dict[str, dict[str, int]] = {}
    for r in result.records:
        for p in r.problems:
            if p["severity"] in ("error", "warning"):
                expected.setdefault(r.file, {}).setdefault(p["code"], 0)
                expected[r.file][p["code"]] += 1
    totals = {}
    for per in expected.values():
        for code, k in per.items():
            totals[code] = totals.get(code, 0) + k
    assert codes == sorted(totals, key=lambda c: (-totals[c], c))  # most frequent first
    total_row = [c.value for c in ws[2]]
    assert total_row[2] == "问题次数合计"
    assert dict(zip(codes, total_row[3:-1], strict=True)) == totals
    units_row = [c.value for c in ws[3]]
    assert units_row[3:-1] == [sum(1 for per in expected.values() if c in per) for c in codes]
    got = {}
    for row in ws.iter_rows(min_row=4, values_only=True):
        got[row[1]] = {c: k for c, k in zip(codes, row[3:-1], strict=True) if k}
        assert row[-1] == sum(got[row[1]].values())
    assert got == expected


def test_indicator_spread_names_departments_below_p25(run1):
    from statistics import quantiles

    result, out, _ = run1
    ws = load_workbook(out / SUMMARY_NAME)["指标分布"]
    heads = [c.value for c in ws[1]]
    rows = {r[3]: dict(zip(heads, r, strict=True))
            for r in ws.iter_rows(min_row=2, values_only=True)}
    named_any = False
    for code, row in rows.items():
        scored = [(i["score"], r) for r in result.records for i in r.indicators
                  if i["code"] == code and i["score"] is not None]
        scores = [s for s, _ in scored]
        assert row["单位数"] == len(scores)
        p25, med, p75 = quantiles(scores, n=4, method="inclusive")
        assert (row["25%分位"], row["中位数"], row["75%分位"]) == pytest.approx((p25, med, p75))
        assert (row["最低"], row["最高"]) == (min(scores), max(scores))
        below = sorted(((s, k) for k, (s, _) in enumerate(scored) if s < p25))
        names = [scored[k][1].unit for _, k in below]
        assert row["低于25%分位的单位数"] == len(names)
        assert (row["低于25%分位的单位（得分由低到高）"] or "") == "、".join(names)
        named_any = named_any or bool(names)
    assert named_any


def test_converter_wiring_point_processes_xls_once_wired(inputs, tmp_path, monkeypatch):
    """What the lead wires in runner._converter (perfeval_xl/convert.py of the adopt
    issue): discovery then passes .xls/.et/.ods on, and the worker converts them at the
    single call site into the task's staging folder."""
    from types import SimpleNamespace

    from perfeval_xl.batch import runner

    calls = []

    def to_xlsx(path, workdir):
        calls.append((Path(path).name, Path(workdir).parent.name.startswith(".perfeval-")))
        return shutil.copy(inputs / "a.xlsx", Path(workdir) / "converted.xlsx")

    fake = SimpleNamespace(needs_conversion=lambda p: Path(p).suffix.lower() in (".xls", ".et"),
                           to_xlsx=to_xlsx)
    monkeypatch.setattr(runner, "_converter", lambda: fake)
    src = tmp_path / "in"
    src.mkdir()
    (src / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0 an old workbook")
    result = run_batch(src, tmp_path / "out", jobs=1, report=False, progress=False)
    assert calls == [("old.xls", True)]
    assert [(r.file, r.unit) for r in result.records] == [("old.xls", "甲单位")]
    assert result.records[0].scored.endswith("_已评分.xlsx") and not result.ignored
