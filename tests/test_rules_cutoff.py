"""``不得分=``: a deduction cut off at a floor before it has taken everything (“每低1个百分点
扣0.2分，低于80%不得分”): syntax, scoring, texts, and the county phrasings it reads."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from perfeval_xl.rules import (
    DeductPerPoint,
    RuleError,
    deduction_text,
    describe_rule,
    format_rule,
    parse_rule,
    read_standard_text,
    score_rule,
)

POINT = "逐点扣分(基准=100,方向=低于,每点=0.2,不得分=<80)"
STEP = "阶梯扣分(基准=100,方向=低于,步长=5,每步=1,不得分=≤60)"
DAYS = "逐点扣分(基准=15,方向=高于,每点=0.5,单位=天,不得分=>30)"


def test_cutoff_parses_and_round_trips():
    rule = parse_rule(POINT)
    assert rule == DeductPerPoint(D(100), "below", D("0.2"), cutoff=D(80))
    for text in (POINT, STEP, DAYS, "逐点扣分(基准=0,方向=高于,每点=1,不得分=≥10)"):
        assert format_rule(parse_rule(text)) == text
    assert parse_rule("deduct_per_point(base=100,direction=below,per_point=0.2,cutoff=<=80)") \
        == parse_rule("逐点扣分(基准=100,方向=低于,每点=0.2,不得分=≤80)")
    # rules without it parse and format exactly as before
    old = "逐点扣分(基准=100,方向=高于,每点=0.5)"
    assert format_rule(parse_rule(old)) == old and parse_rule(old).cutoff is None


@pytest.mark.parametrize("text, words", [
    ("逐点扣分(基准=100,方向=低于,每点=0.2,不得分=>80)", "不得分”应写成 <数字 或 ≤数字"),
    ("逐点扣分(基准=100,方向=低于,每点=0.2,不得分=80)", "不得分”应写成"),
    ("逐点扣分(基准=100,方向=低于,每点=0.2,不得分=<100)", "应在基准100之外"),
    ("阶梯扣分(基准=10,方向=高于,步长=1,每步=1,不得分=<20)", "应写成 >数字 或 ≥数字"),
])
def test_bad_cutoffs_are_rule_errors(text, words):
    with pytest.raises(RuleError) as err:
        parse_rule(text)
    assert words in err.value.message


def test_scores_with_a_cutoff():
    rule = parse_rule(POINT)
    assert [score_rule(rule, v, D(5)) for v in (100, 90, 80, D("79.99"), 0)] == [5, 3, 1, 0, 0]
    rule = parse_rule(STEP)
    assert [score_rule(rule, v, D(10)) for v in (100, D("60.01"), 60)] == [10, 3, 0]
    rule = parse_rule(DAYS)
    assert [score_rule(rule, v, D(10)) for v in (15, 30, D("30.5"))] == [10, D("2.5"), 0]


def test_texts_say_the_cutoff_and_read_back():
    # (a unit is read only for counts from 0: 以15天为标准 reads as the rule without it)
    cases = ((POINT, 5, "%"), (STEP, 10, "%"),
             ("逐点扣分(基准=15,方向=高于,每点=0.5,不得分=>30)", 10, "天"),
             ("逐点扣分(基准=90,方向=低于,每点=0.5,点=2,不得分=<80)", 5, "%"))
    for canonical, weight, unit in cases:
        rule = parse_rule(canonical)
        text = describe_rule(rule, D(weight), unit)
        assert read_standard_text(text, D(weight)).rule == rule, text
    assert describe_rule(parse_rule(POINT), D(5)) == \
        "以100%为标准，≥100%得满分（5分）；每低于1个百分点扣0.2分，扣完为止；<80%不得分。"
    assert describe_rule(parse_rule(DAYS), D(10)) == \
        "以15天为标准，≤15天得满分（10分）；每超过1天扣0.5分，扣完为止；>30天不得分。"
    assert deduction_text(parse_rule(POINT), 75, D(5), D(0)) == "实际值75.00%，<80%，不得分，扣5分"
    assert deduction_text(parse_rule(POINT), 90, D(5), D(3)) == \
        "实际值90.00%，低于100%共10个百分点，扣2分"


@pytest.mark.parametrize("text, weight, canonical", [
    ("资金支付率达到100%得满分，每低1个百分点扣0.1分，支付率低于70%的不得分", 6,
     "逐点扣分(基准=100,方向=低于,每点=0.1,不得分=<70)"),
    ("项目完工率≥95%得8分；每降低1%扣0.2分；完工率85%以下不得分", 8,
     "逐点扣分(基准=95,方向=低于,每点=0.2,不得分=≤85)"),
    ("审批时限不超过10个工作日得满分，每超过1个工作日扣1分，超过15个工作日不得分", 8,
     "逐点扣分(基准=10,方向=高于,每点=1,不得分=>15)"),
    ("覆盖率100%得满分，每降低10个百分点扣1分，低于50%不得分", 6,
     "阶梯扣分(基准=100,方向=低于,步长=10,每步=1,不得分=<50)"),
])
def test_county_floors_read_as_cutoffs(text, weight, canonical):
    reading = read_standard_text(text, D(weight))
    assert reading.rule is not None and format_rule(reading.rule) == canonical, reading


def test_a_floor_where_everything_is_taken_adds_no_cutoff():
    rule = read_standard_text("预算执行率≥90%，得10分；每降低1%，扣0.5分；低于70%不得分", D(10)).rule
    assert format_rule(rule) == "逐点扣分(基准=90,方向=低于,每点=0.5)"


def test_linear_rule_with_full_marks_at_zero():
    # 按比例 with 零分 may start at 0 ("得分=(1-10×调剂率)×分值"); without 零分 it divides by it
    rule = parse_rule("按比例(目标=0,零分=10)")
    assert format_rule(rule) == "按比例(目标=0,零分=10,方向=越低越好)"
    assert [score_rule(rule, v, D(10)) for v in (-1, 0, 2, 10, 12)] == [10, 10, 8, 0, 0]
    assert describe_rule(rule, D(10)) == "≤0得满分（10分），≥10%不得分，0至10%之间按比例计分。"
    assert read_standard_text(describe_rule(rule, D(10)), D(10)).rule == rule
    for bad in ("按比例(目标=0)", "按比例(目标=-1,零分=10)"):
        with pytest.raises(RuleError):
            parse_rule(bad)
