"""Score ranges in 分档 (``[75,100):10~13``) and gaps between bands (``其余=人工``): the rule
syntax, scoring (a value in a range band is the evaluator's, never a guessed score), the
generated 评分标准, the reading of county texts, and the engine with an adopted county
table whose evaluator types the score in the county's own 得分 cell."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import adopt_fixtures as F
import pytest
from helpers import FULL, set_named
from openpyxl import load_workbook

from perfeval_xl import engine, scoring
from perfeval_xl.adopt import adopt
from perfeval_xl.model import Location, ScoreRow
from perfeval_xl.rules import (
    Band,
    Bands,
    EvaluatorScore,
    RuleError,
    deduction_text,
    describe_rule,
    evaluator_range,
    format_rule,
    full_marks,
    parse_rule,
    read_standard_text,
    score_rule,
)
from perfeval_xl.workbook.writer import write_scored

FUNDS = "分档(≥100:14; [75,100):10~13; [50,75):7~9; <50:0~6)"
PROFIT = "分档(其余=人工; ≥100:5; ≥80:4; ≥60:3; ≤50:0~2)"


def test_range_points_parse_and_round_trip():
    rule = parse_rule(FUNDS)
    assert rule.bands[1] == Band(D(75), D(100), True, False, D(13), points_low=D(10))
    assert rule.bands[0].points_low is None and rule.rest_manual is False
    assert format_rule(rule) == FUNDS
    # written high to low, with 至, with 分 or full-width: the same band
    assert parse_rule("分档(≥100:14; [75,100):13至10分; [50,75):7分~9分; <50:6～0)") == rule
    assert format_rule(parse_rule("分档(=100:100%; [80,100):80%~50%)")) == \
        "分档(=100:100%; [80,100):50%~80%)"
    # an empty range is a fixed score, and is written as one
    assert format_rule(parse_rule("分档(=100:5~5)")) == "分档(=100:5)"


def test_rest_manual_option_round_trips_and_old_texts_are_unchanged():
    rule = parse_rule(PROFIT)
    assert rule.rest_manual and format_rule(rule) == PROFIT
    assert parse_rule("分档(rest=manual; 绝对值; =0:2)") == Bands(
        (Band(D(0), D(0), True, True, D(2)),), use_abs=True, rest_manual=True)
    old = "分档(=0:8; (0,10]:6; (10,20]:4; (20,30]:2; >30:0)"
    assert format_rule(parse_rule(old)) == old
    assert all(b.points_low is None for b in parse_rule(old).bands)
    assert not parse_rule(old).rest_manual


@pytest.mark.parametrize("text, words", [
    ("分档(=1:5%~3分)", "混用了“%”和“分”"),
    ("分档(=1:-1~3)", "不能为负"),
    ("分档(=1:3~x)", "不是数字"),
    ("分档(=1:3; 其余=人工)", "应写在最前面"),
])
def test_bad_range_bands_are_rule_errors(text, words):
    with pytest.raises(RuleError) as err:
        parse_rule(text)
    assert words in err.value.message and text in err.value.message


def test_a_value_in_a_range_band_is_left_to_the_evaluator():
    rule = parse_rule(FUNDS)
    assert score_rule(rule, 100, D(14)) == 14
    assert score_rule(rule, D("120.5"), D(14)) == 14
    for value, low, high in ((80, 10, 13), (75, 10, 13), (D("74.99"), 7, 9), (0, 0, 6)):
        with pytest.raises(EvaluatorScore) as left:
            score_rule(rule, value, D(14))
        assert (left.value.low, left.value.high) == (low, high)
        assert isinstance(left.value, RuleError)  # callers that do not know it: no score
        assert "由评价人在区间内评定" in left.value.message
    assert evaluator_range(rule, 80, 14) == (
        10, 13, "实际值80.00%属于“75%（含）-100%”档：10分至13分，由评价人在区间内评定")
    assert evaluator_range(rule, 100, 14) is None
    assert evaluator_range(parse_rule("按比例(目标=100)"), 80, 10) is None
    # in a count's own unit
    count = parse_rule("分档(单位=次; =0:5; [1,3]:2~4; >3:0)")
    assert evaluator_range(count, 2, 5)[2] == "实际值2次属于“1-3次（含两端）”档：2分至4分，由评价人在区间内评定"
    assert full_marks(rule, D(14)) == 14


def test_percent_ranges_and_clamping():
    rule = parse_rule("分档(=100:100%; [80,100):50%~80%; <80:0%~40%)")
    with pytest.raises(EvaluatorScore) as left:
        score_rule(rule, 90, D(10))
    assert (left.value.low, left.value.high) == (5, 8)
    with pytest.raises(EvaluatorScore) as left:
        score_rule(parse_rule("分档(=100:8; <100:5~12)"), 90, D(8))
    assert (left.value.low, left.value.high) == (5, 8)  # never more than the 分值


def test_gap_between_bands():
    rule = parse_rule(PROFIT)
    assert [score_rule(rule, v, D(5)) for v in (100, 85, 60)] == [5, 4, 3]
    with pytest.raises(EvaluatorScore) as left:
        score_rule(rule, 55, D(5))
    assert (left.value.low, left.value.high, left.value.band) == (0, 5, None)
    assert "不在评分标准所列的任何档位内" in left.value.message
    # without the option a value in no band scores 0, as it always has
    assert score_rule(parse_rule("分档(≥100:5; ≥80:4; ≥60:3; ≤50:0)"), 55, D(5)) == 0


def test_generated_standard_says_the_ranges_and_reads_back():
    rule = parse_rule(FUNDS)
    text = describe_rule(rule, D(14))
    assert text == ("≥100%得14分；75%（含）-100%得10至13分（由评价人在区间内评定）；"
                    "50%（含）-75%得7至9分（由评价人在区间内评定）；<50%得0至6分（由评价人在区间内评定）。")
    assert describe_rule(parse_rule(PROFIT), D(5)).endswith(
        "≤50%得0至2分（由评价人在区间内评定）；其余情况由评价人在0至5分之间评定。")
    # a gap that scores 0 is said too, so the text is the rule
    assert describe_rule(parse_rule("分档(≥90:5; [60,80):3)"), D(5)) == \
        "≥90%得5分；60%（含）-80%得3分；其余情况不得分。"
    for canonical, weight, unit in (
        (FUNDS, 14, "%"), (PROFIT, 5, "%"), ("分档(其余=人工; ≥90:10; [60,80):5)", 10, "%"),
        ("分档(≥90:5; [60,80):3)", 5, "%"),
        ("分档(其余=人工; >100:3~5; =100:3; [80,99]:0~2; ≤80:0)", 5, "%"),
        ("分档(≤15:6; (15,30]:3~5; >30:0)", 6, "天"),
    ):
        rule = parse_rule(canonical)
        back = read_standard_text(describe_rule(rule, D(weight), unit), D(weight))
        assert back.rule == rule, (canonical, back)


def test_deduction_text_names_the_evaluators_score():
    rule = parse_rule(FUNDS)
    assert deduction_text(rule, 80, D(14), D(12)) == \
        "实际值80.00%，属于“75%（含）-100%”档（10分至13分），评价人评定12分，扣2分"
    assert deduction_text(parse_rule(PROFIT), 55, D(5), D(3)) == \
        "实际值55.00%，不在任何档位内（0分至5分），评价人评定3分，扣2分"


# ----------------------------------------------------------------------- county texts


@pytest.mark.parametrize("text, weight, canonical", [
    # the dev corpus family with other subjects, numbers and layouts
    ("项目资金全部到位(20分)到位率在85%以上(15分到19分)到位率60%以上(8分到14分)到位率不足60%(7分到0分)",
     20, "分档(≥100:20; ≥85:15~19; ≥60:8~14; <60:0~7)"),
    ("完成(4分)完成85%以上(3分)完成70%以上(2分)完成60%及以下(1分到0分)", 4,
     "分档(其余=人工; ≥100:4; ≥85:3; ≥70:2; ≤60:0~1)"),
    ("超额完成种植任务>100%\n8-6\n完成种植任务100%\n6\n完成种植任务99%-85%\n5-3\n完成种植任务85%以下\n0",
     8, "分档(其余=人工; >100:6~8; =100:6; [85,99]:3~5; ≤85:0)"),
    ("满意度95%以上得10分；满意度85%（含）-95%得7至9分；满意度85%以下得0至6分", 10,
     "分档(≥95:10; [85,95):7~9; ≤85:0~6)"),
    # the range after a comma, as its own clause
    ("执行率100%，得5分；执行率90%(含)至100%，得3至4分；执行率90%以下，得0至2分", 5,
     "分档(=100:5; [90,100):3~4; ≤90:0~2)"),
    ("完成率100%得10分；90%-99%得7-9分；80%-89%得4-6分；80%以下得0-3分", 10,
     "分档(其余=人工; =100:10; [90,99]:7~9; [80,89]:4~6; ≤80:0~3)"),
])
def test_county_range_texts(text, weight, canonical):
    reading = read_standard_text(text, D(weight))
    assert reading.rule is not None and format_rule(reading.rule) == canonical, reading
    assert reading.reason == "" and reading.stated_weight is None


@pytest.mark.parametrize("text, weight", [
    ("基本完成(5分)完成80%以上(4分)", 5),  # 基本完成 is no 100 %
    ("完成(5分)完成80%以上(4分)，项目验收合格率60%以上(3分)", 5),  # another measure
    ("资金全部到位(14分)资金到位率75%以上(10分)，项目完成率50%以上(7分)", 14),
    ("完成率90%以上得8-10分，其余酌情扣分", 10),
    ("超额完成(6分)完成80%以上(4分)", 6),
])
def test_range_and_whole_texts_that_stay_manual(text, weight):
    reading = read_standard_text(text, D(weight))
    assert reading.rule is None, (text, reading.rule)
    assert reading.reason.startswith("评分标准“")


def test_counts_have_no_gap_between_whole_numbers():
    rule = read_standard_text("0个得3分，1-2个得2分，3个及以上不得分", D(3)).rule
    assert rule == parse_rule("分档(=0:3; [1,2]:2; ≥3:0)") and not rule.rest_manual
    rule = read_standard_text("差错率0得3分，1-2%得2分，3%以上不得分", D(3)).rule
    assert rule.rest_manual  # 2.5 % is in no band


def test_an_else_clause_closes_the_gap():
    rule = read_standard_text("完成率90%以上得5分，60%-80%得3分，否则不得分", D(5)).rule
    assert rule == parse_rule("分档(≥90:5; [60,80]:3)")
    assert score_rule(rule, 85, D(5)) == 0


# ----------------------------------------------------------------------- engine


def _row(rule_text: str, value, hand=None, adopted=True) -> ScoreRow:
    return ScoreRow(code="custom_01", name="资金到位率", level1="", level2="", weight=D(14),
                    rule_text=rule_text, kind="custom", actual=D(value), target=D(100),
                    direction="正向", unit="%", actual_loc=Location("个性指标", "F5"),
                    rule_loc=Location("个性指标", "H5"), hand_score=hand,
                    hand_score_loc=Location("自评表", "G9") if adopted else None)


def test_score_row_takes_the_evaluators_score_within_the_range():
    res, problems = scoring.score_row(_row(FUNDS, 80, D(12)), {})
    assert (res.score, problems) == (D(12), [])
    assert res.note == "实际值80.00%，属于“75%（含）-100%”档（10分至13分），评价人评定12分，扣2分"
    res, problems = scoring.score_row(_row(FUNDS, 100, D(3)), {})
    assert (res.score, problems) == (D(14), [])  # a fixed band is scored, whatever is typed


def test_score_row_outside_the_range_is_an_error_at_the_score_cell():
    res, problems = scoring.score_row(_row(FUNDS, 80, D(14)), {})
    assert res.score is None
    assert [(p.severity, p.code, str(p.location)) for p in problems] == [
        ("error", "score-out-of-range", "'自评表'!G9")]
    assert "得分“14”不在评分标准允许的区间内" in problems[0].message
    assert "请改为10–13分之间的得分" in problems[0].message
    res, problems = scoring.score_row(_row(FUNDS, 80, "很好"), {})
    assert res.score is None and problems[0].code == "score-out-of-range"


def test_score_row_without_a_typed_score_says_the_range():
    res, problems = scoring.score_row(_row(FUNDS, 60), {})
    assert res.score is None and res.note.startswith("实际值60.00%属于“50%（含）-75%”档")
    assert [(p.severity, p.code, str(p.location)) for p in problems] == [
        ("warning", "band-score-needed", "'自评表'!G9")]
    assert "请评价人在“得分”栏填写7–9分之间的得分" in problems[0].message


def test_score_row_of_our_own_workbook_says_to_change_the_rule():
    # our own 自评表 computes every 得分: no cell takes the evaluator's pick
    res, problems = scoring.score_row(_row(FUNDS, 80, adopted=False), {})
    assert res.score is None
    assert [(p.severity, p.code, str(p.location)) for p in problems] == [
        ("warning", "band-score-needed", "'个性指标'!H5")]
    assert "没有可填写区间内得分的单元格" in problems[0].message
    assert "10分至13分" in problems[0].message


def _fill(path: Path, county: F.County, out: Path, actual, score) -> Path:
    wb = load_workbook(path)
    set_named(wb, **FULL)
    ws = wb[county.sheet]
    for key, (role, value) in F.ENTRIES.items():
        ws[county.cell(key, role)] = value
    ws[county.cell(F.SATISFACTION, "actual")] = actual
    ws[county.cell(F.SATISFACTION, "score")] = score
    wb.save(out)
    return out


def test_adopted_county_table_with_score_ranges(tmp_path):
    county = F.basic()
    text = "满意度90%以上(5分)满意度80%以上(3分到4分)满意度不足80%(0分到2分)"
    county.wb[county.sheet][county.cell(F.SATISFACTION, "standard")] = text
    src = county.save(tmp_path / "county.xlsx")
    report = adopt(src, tmp_path / "adopted.xlsx")
    row = next(r for r in report.rows if r.row.row == county.rows[F.SATISFACTION])
    assert row.rule_text == "分档(≥90:5; ≥80:3~4; <80:0~2)"
    said = [(p.severity, p.code, p.message) for p in report.problems
            if p.location and p.location.cell == county.cell(F.SATISFACTION, "standard")]
    assert [x[:2] for x in said] == [("info", "standard-range")]
    assert text in said[0][2] and "请评价人在“得分”栏填写评分标准允许区间内的得分" in said[0][2]
    score_cell = county.cell(F.SATISFACTION, "score")
    for actual, typed, want, problem in (
        (92, None, 5, None),                                   # a fixed band: scored
        (85, 4, 4, None),                                      # the evaluator's, in range
        (85, None, None, ("warning", "band-score-needed")),    # not typed yet
        (85, 5, None, ("error", "score-out-of-range")),        # outside 3–4
    ):
        filled = _fill(report.output, county, tmp_path / "filled.xlsx", actual, typed)
        result = engine.evaluate(filled)
        ours = [(p.severity, p.code) for p in result.problems
                if p.code in ("band-score-needed", "score-out-of-range")]
        assert ours == ([problem] if problem else []), (actual, typed)
        if problem:
            where = next(p.location for p in result.problems if p.code == problem[1])
            assert (where.sheet, where.cell) == (county.sheet, score_cell)
        out = write_scored(engine.open_workbook(filled), result, tmp_path / "scored.xlsx",
                           source=filled) or tmp_path / "scored.xlsx"
        written = load_workbook(tmp_path / "scored.xlsx")[county.sheet][score_cell].value
        assert written == want, (actual, typed, written, out)


def test_excel_udf_says_the_evaluator_scores():
    pytest.importorskip("xlwings")
    from perfeval_xl.excel import udfs

    assert udfs.PE_SCORE(100, FUNDS, 14) == 14
    assert udfs.PE_SCORE(80, FUNDS, 14) == udfs.EVALUATOR == "需评价人评定"
    assert udfs.PE_SCORE(55, PROFIT, 5) == udfs.EVALUATOR
    assert udfs.EVALUATOR in udfs.MARKERS
