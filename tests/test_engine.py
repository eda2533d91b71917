"""Reader → scoring → validation on tiny workbooks built in the test, in pipeline order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from helpers import (
    D,
    filled,
    named_value,
    ref_of,
    reopen,
    sample_path,
    save,
    score_row_of,
    set_named,
    set_score_cell,
    set_table,
    table_cells,
)

from perfeval_xl import engine
from perfeval_xl.workbook.builder import build
from perfeval_xl.workbook.writer import write_scored


def evaluate(wb, tmp_path, name="wb.xlsx", preset=None):
    path = save(wb, tmp_path / name)
    return engine.evaluate(path, preset)


def codes(result, severity=None):
    return [(p.code, str(p.location)) for p in result.problems
            if severity is None or p.severity == severity]


# --------------------------------------------------------------------------- reading


def test_reader_keeps_locations_and_values(tmp_path):
    r = evaluate(filled(), tmp_path)
    ev = r.evaluation
    assert ev.inputs["budget_initial"].value == D("388.46")
    loc = ev.inputs["budget_initial"].location
    assert loc.sheet == "预算执行" and loc.cell
    assert ev.unit_name == "测试单位" and ev.eval_year == 2021
    assert ev.preset == "mof2013"


def test_text_numbers_are_understood_with_a_warning(tmp_path):
    wb = filled(budget_initial="388.46万元", spending_basic="207.77", public_funds_budget="1,30")
    r = evaluate(wb, tmp_path)
    assert r.evaluation.inputs["budget_initial"].value == D("388.46")
    assert r.evaluation.inputs["spending_basic"].value == D("207.77")
    assert r.evaluation.inputs["public_funds_budget"].value == D("130")
    warned = [c for c, _ in codes(r, "warning")]
    assert warned.count("text-number") == 3


def test_percent_text_and_real_percent_format(tmp_path):
    wb = filled(payment_progress_actual="98%")
    r = evaluate(wb, tmp_path)
    assert r.evaluation.inputs["payment_progress_actual"].value == D(98)
    wb = filled(payment_progress_actual=0.98)
    s, c = ref_of(wb, "payment_progress_actual")
    wb[s][c].number_format = "0.00%"
    r = evaluate(wb, tmp_path, "b.xlsx")
    assert r.evaluation.inputs["payment_progress_actual"].value == D(98)


@pytest.mark.parametrize("bad, code", [
    ("abc", "not-a-number"), ("3884600元", "not-a-number"), ("#DIV/0!", "excel-error"),
    (True, "not-a-number"), (1e15, "absurd-number"),
])
def test_bad_numbers_are_errors_at_the_cell(tmp_path, bad, code):
    wb = filled(budget_initial=bad)
    r = evaluate(wb, tmp_path)
    loc = str(r.evaluation.inputs["budget_initial"].location)
    assert (code, loc) in codes(r, "error")
    assert r.evaluation.inputs["budget_initial"].value is None


def test_negative_amount_is_an_error(tmp_path):
    r = evaluate(filled(other_funds=-3), tmp_path)
    assert ("negative-number", str(r.evaluation.inputs["other_funds"].location)) in codes(r)


def test_deleted_and_broken_names(tmp_path):
    wb = filled()
    del wb.defined_names["budget_initial"]
    wb.defined_names["spending_total"].attr_text = "#REF!"
    r = evaluate(wb, tmp_path)
    found = {c for c, _ in codes(r, "error")}
    assert {"name-missing", "name-broken"} <= found
    msgs = " ".join(p.message for p in r.problems)
    assert "budget_initial" in msgs and "spending_total" in msgs
    assert r.indicator("budget_adjustment_rate").value is None


def test_foreign_workbook_is_refused(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "别人的表"
    path = tmp_path / "foreign.xlsx"
    wb.save(path)
    with pytest.raises(engine.NotOurWorkbook) as exc:
        engine.evaluate(path)
    assert "perfeval-xl new" in exc.value.message


def test_formulas_without_cached_values_are_evaluated(tmp_path):
    # The builder writes COUNTIF formulas for the task counts; openpyxl stores no results.
    wb = build()
    from helpers import FULL
    values = {k: v for k, v in FULL.items() if not k.startswith(("tasks_", "key_tasks"))}
    set_named(wb, **values)
    set_table(wb, "tbl_work", [
        {"序号": 1, "类别": "重点工作", "工作事项": "甲", "是否完成": "是", "是否按时": "是", "质量达标": "是"},
        {"序号": 2, "类别": "其他工作", "工作事项": "乙", "是否完成": "是", "是否按时": "否", "质量达标": "是"},
        {"序号": 3, "类别": "重点工作", "工作事项": "丙", "是否完成": "否", "是否按时": "否", "质量达标": "否"},
    ])
    r = evaluate(wb, tmp_path)
    v = {k: r.evaluation.inputs[k].value for k in (
        "tasks_planned", "tasks_completed", "tasks_on_time", "tasks_quality_ok",
        "key_tasks_assigned", "key_tasks_completed")}
    assert v == {"tasks_planned": 3, "tasks_completed": 2, "tasks_on_time": 1,
                 "tasks_quality_ok": 2, "key_tasks_assigned": 2, "key_tasks_completed": 1}
    assert round(r.indicator("task_completion_rate").value, 2) == D("66.67")


def test_unsupported_formula_without_cache_is_reported(tmp_path):
    wb = filled()
    set_named(wb, staff_authorized="=VLOOKUP(1,A1:B2,2,FALSE)")
    r = evaluate(wb, tmp_path)
    loc = str(r.evaluation.inputs["staff_authorized"].location)
    assert ("formula-unevaluated", loc) in codes(r, "error")


# --------------------------------------------------------------------------- scoring


def test_full_workbook_scores_and_grades(tmp_path):
    r = evaluate(filled(), tmp_path)
    assert r.total is not None
    bc = r.indicator("budget_completion_rate")
    assert round(bc.value, 2) == D("98.29") and bc.score == bc.weight == 5
    adj = r.indicator("budget_adjustment_rate")
    assert adj.score == 0
    assert "59.73" in adj.note
    # Qualitative rows scored from the tier typed in 实际值.
    assert r.indicator("goal_rationality").score == r.indicator("goal_rationality").weight
    assert r.grade in ("优", "良好", "一般", "差")
    assert sum(i.score for i in r.indicators if i.score is not None) >= r.total


def test_qualitative_tier_and_missing_assessment(tmp_path):
    wb = filled(tiers="良")
    set_score_cell(wb, "satisfaction", "实际值", None)
    r = evaluate(wb, tmp_path)
    g = r.indicator("goal_rationality")
    assert g.score == g.weight * Decimal("0.8")
    s = r.indicator("satisfaction")
    assert s.score is None
    assert "missing-assessment" in [c for c, _ in codes(r, "error")]


def test_malformed_rule_is_a_problem_at_its_cell(tmp_path):
    wb = filled()
    set_score_cell(wb, "payment_progress_rate", "评分规则", "按比例(目标=abc")
    r = evaluate(wb, tmp_path)
    sheet, cols, _, _ = table_cells(wb, "tbl_scores")
    loc = f"'{sheet}'!{cols['评分规则']}{score_row_of(wb, 'payment_progress_rate')}"
    assert ("bad-rule", loc) in codes(r, "error")
    assert r.indicator("payment_progress_rate").score is None


def test_weights_not_summing_to_100(tmp_path):
    wb = filled()
    set_score_cell(wb, "budget_completion_rate", "分值", 15)
    r = evaluate(wb, tmp_path)
    assert "weights-sum" in [c for c, _ in codes(r, "error")]
    assert any("110" in p.message for p in r.problems if p.code == "weights-sum")


def test_weight_as_text_is_an_error(tmp_path):
    wb = filled()
    set_score_cell(wb, "budget_completion_rate", "分值", "五分")
    r = evaluate(wb, tmp_path)
    assert "not-a-number" in [c for c, _ in codes(r, "error")]


def test_custom_indicators_proportional_with_direction(tmp_path):
    wb = filled()
    set_table(wb, "tbl_custom", [
        {"三级指标": "小升规净增企业数", "单位": "家", "目标值": 8, "实际值": 6, "方向": "正向"},
        {"三级指标": "投诉件数", "单位": "件", "目标值": 2, "实际值": 4, "方向": "反向"},
    ])
    r = evaluate(wb, tmp_path)
    a, b = r.indicator("custom_01"), r.indicator("custom_02")
    assert a.name == "小升规净增企业数" and a.score == a.weight * Decimal("0.75")
    assert b.score == b.weight * Decimal("0.5")
    j = r.to_json()
    assert {"custom_01", "custom_02"} <= {i["code"] for i in j["indicators"]}


def test_custom_row_missing_target_and_name(tmp_path):
    wb = filled()
    set_table(wb, "tbl_custom", [{"三级指标": "融资额", "目标值": None, "实际值": 3060.9, "方向": "正向"},
                                 {"三级指标": None, "实际值": 1}])
    r = evaluate(wb, tmp_path)
    found = [c for c, _ in codes(r, "error")]
    assert "missing-input" in found and "custom-name-missing" in found


def test_grade_bands_and_caps_from_the_workbook(tmp_path):
    wb = filled()
    set_table(wb, "tbl_caps", [{"指标代码": "budget_completion_rate", "实际值下限": 0,
                                "实际值上限": 99, "总分上限": 60}])
    r = evaluate(wb, tmp_path)
    assert r.total == 60 and "总分上限" in r.cap_note


@pytest.mark.parametrize("preset", ["mof2013", "hunan", "perf2020"])
def test_preset_override(tmp_path, preset):
    r = evaluate(filled(), tmp_path, preset=preset)
    assert r.evaluation.preset == preset
    weights = sum(i.weight for i in r.indicators if i.weight is not None)
    if weights != 100:  # the workbook has fewer 个性指标 rows than the preset wants
        assert {"custom-under-preset", "weights-sum"} <= {p.code for p in r.errors}


# --------------------------------------------------------------------------- validation


CHECK_CASES = [
    # (code, overrides that break it)
    ("sum-mismatch", dict(spending_basic=200)),
    ("overspend", dict(spending_total=800, spending_project=592.23)),
    ("balance-mismatch", dict(balance_closing=20)),
    ("staff-mismatch", dict(staff_actual=30)),
    ("count-exceeds", dict(tasks_completed=12)),
    ("negative-number", dict(three_public_actual=-1)),
    ("year-invalid", dict(eval_year=21)),
    ("unit-missing", dict(unit_name=None)),
    ("missing-input", dict(budget_initial=None)),
    ("zero-denominator", dict(staff_authorized=0)),
    ("implausible-rate", dict(procurement_actual=500)),
]


@pytest.mark.parametrize("code, overrides", CHECK_CASES, ids=[c for c, _ in CHECK_CASES])
def test_each_check_passes_then_fails(tmp_path, code, overrides):
    good = evaluate(filled(), tmp_path, "good.xlsx")
    assert code not in [c for c, _ in codes(good)]
    bad = evaluate(filled(**overrides), tmp_path, "bad.xlsx")
    hits = [p for p in bad.problems if p.code == code]
    assert hits, codes(bad)
    assert all(p.location is not None for p in hits)
    name = next(iter(overrides))
    if name in bad.evaluation.inputs and code not in ("implausible-rate",):
        assert bad.evaluation.inputs[name].location in {p.location for p in hits} or \
            code in ("overspend", "staff-mismatch", "zero-denominator", "sum-mismatch")


def test_good_workbook_has_no_errors(tmp_path):
    r = evaluate(filled(), tmp_path)
    assert r.errors == [], codes(r, "error")


def test_narrative_missing_is_a_warning(tmp_path):
    r = evaluate(filled(), tmp_path)
    assert "narrative-missing" in [c for c, _ in codes(r, "warning")]
    assert not r.errors


# --------------------------------------------------------------------------- write-back


def test_round_trip_writes_scores_and_checks(tmp_path):
    wb = filled(spending_basic=200)  # one error to list
    path = save(wb, tmp_path / "in.xlsx")
    wb2 = engine.open_workbook(path)
    result = engine.evaluate(path, wb=wb2)
    out = write_scored(wb2, result, tmp_path / "out.xlsx")
    back = reopen(out)
    assert named_value(back, "total_score") == pytest.approx(float(result.total))
    assert named_value(back, "grade") == result.grade
    sheet, cols, _, _ = table_cells(back, "tbl_scores")
    row = score_row_of(back, "budget_completion_rate")
    assert back[sheet][f"{cols['得分']}{row}"].value == 5
    assert back[sheet][f"{cols['实际值']}{row}"].value == pytest.approx(98.2874650, abs=1e-6)
    assert "每低于5个百分点" in back[sheet][f"{cols['评分标准']}{row}"].value
    # 校验结果 lists the error with a link to its cell.
    csheet, ccols, r0, r1 = table_cells(back, "tbl_checks")
    rows = [[back[csheet][f"{ccols[h]}{r}"].value for h in ("严重程度", "问题代码", "位置")]
            for r in range(r0 + 1, r1 + 1)]
    hit = [r for r in rows if r[1] == "sum-mismatch"]
    assert hit and hit[0][0] == "错误"
    link_row = r0 + 1 + rows.index(hit[0])
    cell = back[csheet][f"{ccols['位置']}{link_row}"]
    assert cell.hyperlink is not None and cell.hyperlink.location.startswith("'预算执行'!")
    # Input cells untouched.
    assert named_value(back, "spending_basic") == 200


def test_text_from_workbook_is_written_inert(tmp_path):
    wb = filled()
    set_score_cell(wb, "payment_progress_rate", "评分规则", "=HYPERLINK(\"http://x\")")
    path = save(wb, tmp_path / "in.xlsx")
    wb2 = engine.open_workbook(path)
    result = engine.evaluate(path, wb=wb2)
    out = write_scored(wb2, result, tmp_path / "out.xlsx")
    back = reopen(out)
    csheet, ccols, r0, r1 = table_cells(back, "tbl_checks")
    for r in range(r0 + 1, r1 + 1):
        c = back[csheet][f"{ccols['说明']}{r}"]
        assert c.data_type != "f"


def test_sample_comes_out_excellent(tmp_path):
    r = engine.evaluate(sample_path(tmp_path))
    assert r.evaluation.unit_name == "曲沃县中小企业服务中心"
    assert r.grade == "优"
    assert r.total >= 90
    assert round(r.indicator("budget_completion_rate").value, 2) == D("98.29")
    assert r.errors == [], codes(r, "error")


def test_rejected_cell_is_not_also_reported_blank(tmp_path):
    r = evaluate(filled(budget_initial="#DIV/0!"), tmp_path)
    loc = str(r.evaluation.inputs["budget_initial"].location)
    at_cell = [c for c, where in codes(r) if where == loc]
    assert at_cell == ["excel-error"]


def test_duplicate_custom_indicator_code_is_reported_once_on_its_own_sheet(tmp_path):
    wb = filled()
    sheet, cols, r0, _ = table_cells(wb, "tbl_custom")
    wb[sheet][f"{cols['代码']}{r0 + 2}"].value = "custom_01"  # the second row copies the first's
    result = evaluate(wb, tmp_path)
    dups = [(p.code, str(p.location)) for p in result.problems if p.code == "duplicate-indicator"]
    assert dups == [("duplicate-indicator", f"'{sheet}'!{cols['代码']}{r0 + 2}")]
    assert [i.code for i in result.indicators].count("custom_01") == 1
