"""Families of county 评分标准 phrasing found by the held-out corpus (issue #9), each held to
the grammar by paraphrases with other subjects, numbers and units: never the held-out texts
themselves. Each row: (text, 分值, row 目标值 or None, canonical rule, [(value, score)]); a
(low, high) score is a value the rule leaves to the evaluator within that range."""

from __future__ import annotations

from decimal import Decimal

import pytest

from perfeval_xl.rules import (
    EvaluatorScore,
    Manual,
    format_rule,
    read_standard_text,
    score_rule,
)

TOLERANCE = Decimal("0.005")

FAMILIES = [
    # traditional characters of converted copies, pinyin debris dropped
    ("專項資金到位率達(dá)到100%的得滿分,每低一個百分點(diǎn)扣1分,扣完為止。", 10, None,
     "逐点扣分(基准=100,方向=低于,每点=1)", [(100, 10), (96, 6), (80, 0)]),
    ("每發(fā)現一處違規(guī)扣0.5分。", 3, None, "逐点扣分(基准=0,方向=高于,每点=0.5,单位=处)",
     [(0, 3), (2, 2), (7, 0)]),
    # the item's name and points head the text
    ("信息报送(6分)。未按时报送的每次扣2分。", 6, None,
     "逐点扣分(基准=0,方向=高于,每点=2,单位=次)", [(0, 6), (2, 2), (3, 0)]),
    ("安全生产责任落实（4分）：以检查记录为准，每发现一处隐患扣1分，扣完为止。", 4, None,
     "逐点扣分(基准=0,方向=高于,每点=1,单位=处)", [(0, 4), (3, 1)]),
    # a section's cap above the row's 分值; a delay without 报
    ("每少报一项扣1分,扣完10分为止。", 4, None, "逐点扣分(基准=0,方向=高于,每点=1,单位=项)",
     [(0, 4), (3, 1), (5, 0)]),
    ("报表报送时间以系统提交日期为准,每迟一天,扣0.2分。", 2, None,
     "逐点扣分(基准=0,方向=高于,每点=0.2,单位=天)", [(0, 2), (5, 1)]),
    ("每延误一次扣1分", 3, None, "逐点扣分(基准=0,方向=高于,每点=1,单位=次)", [(0, 3), (2, 1)]),
    # a count cut off at a number of its own
    ("每迟报一天扣0.5分;迟报五天及以上不得分。", 3, None,
     "逐点扣分(基准=0,方向=高于,每点=0.5,单位=天,不得分=≥5)", [(0, 3), (4, 1), (5, 0)]),
    ("每发现一处问题扣1分;发现三处及以上问题的,本项不得分。", 4, None,
     "逐点扣分(基准=0,方向=高于,每点=1,单位=处,不得分=≥3)", [(0, 4), (2, 2), (3, 0)]),
    ("每出现一次差错扣0.5分，超过4次的不得分", 3, None,
     "逐点扣分(基准=0,方向=高于,每点=0.5,单位=次,不得分=>4)", [(4, 1), (5, 0)]),
    # several kinds of one count at one rate: the value is the total
    ("未按规定公开的，每项扣0.2分；公开内容不准确的，每项扣0.2分", 1, None,
     "逐点扣分(基准=0,方向=高于,每点=0.2,单位=项)", [(0, 1), (3, 0.4)]),
    # a clean state with how often, a numbered preamble, a requirement the count misses
    ("每季度至少召开一次工作会议的,得2分,每少一次扣0.5分。", 2, None,
     "逐点扣分(基准=0,方向=高于,每点=0.5,单位=次)", [(0, 2), (1, 1.5), (4, 0)]),
    ("全年下达计划的60%;年底前全部下达。\n每出现一个项目未按进度下达扣1分,扣完为止。", 4, None,
     "逐点扣分(基准=0,方向=高于,每点=1,单位=个)", [(0, 4), (3, 1)]),
    ("每个乡镇配备专职人员不少于2名，得2分；每有1个乡镇配备人数达不到要求的，扣0.5分", 2, None,
     "逐点扣分(基准=0,方向=高于,每点=0.5,单位=个)", [(0, 2), (2, 1)]),
    ("各类报表差错,每一处扣0.2分;一处差错引起多处差错的累计扣分。", 2, None,
     "逐点扣分(基准=0,方向=高于,每点=0.2,单位=处)", [(0, 2), (5, 1)]),
    # one of a count earns points, capped at the 分值
    ("宣传栏、公开栏等(一处可得1分,最高不超过4分)", 4, None, "按比例(目标=4)",
     [(0, 0), (2, 2), (6, 4)]),
    # points glued to the number (also 0 after a percent), per percentage point without 每
    ("≥90%5分，低于90%0分", 5, None, "分档(≥90:5; <90:0)", [(95, 5), (80, 0)]),
    ("1.参保率达95%8分,下降1个百分点扣0.5分;", 8, None, "逐点扣分(基准=95,方向=低于,每点=0.5)",
     [(95, 8), (90, 5.5), (70, 0)]),
    # an age that only says who is counted
    ("党员干部中40岁及以下的不低于总数的30%，得2分；每低1%，扣0.1分", 2, None,
     "逐点扣分(基准=30,方向=低于,每点=0.1)", [(35, 2), (25, 1.5)]),
    # an average held in the row's 目标值, a unit that is not percent
    ("平均办理时长不大于全市平均值的，得3分；每超1天的，扣0.5分", 3, 10,
     "逐点扣分(基准=10,方向=高于,每点=0.5)", [(9, 3), (12, 2)]),
    # bands written as deductions from a band of full marks, with what the value is
    ("根据抽查合格数占抽查总数的比例,100%得满分,95%-99%扣1分,95%以下不得分。", 4, None,
     "分档(其余=人工; =100:4; [95,99]:3; ≤95:0)", [(100, 4), (97, 3), (90, 0), (99.5, (0, 4))]),
    # the whole target met at the head of bands, written with full stops
    ("完成(5分)。完成80%以上(4分)。完成60%以上(3分)", 5, None, "分档(≥100:5; ≥80:4; ≥60:3)",
     [(100, 5), (85, 4), (60, 3), (50, 0)]),
    # a target with a shortfall deduction
    ("全年信息数量,数量100篇得6分,未完成扣3分;", 6, None, "分档(≥100:6; <100:3)",
     [(100, 6), (150, 6), (99, 3), (0, 3)]),
    ("年度宣传数量,数量50篇得4分,未达到扣1分", 4, None, "分档(≥50:4; <50:3)",
     [(50, 4), (49, 3)]),
    # what is counted after the count, before its points; an implied 分值 before "否则"
    ("各乡镇建设2个以上便民服务站点(3分)。", 3, None, "分档(≥2:3)", [(2, 3), (5, 3), (1, 0)]),
    ("至少开展3次宣传活动,否则不得分", 2, None, "分档(≥3:2)", [(3, 2), (2, 0)]),
    ("覆盖率达到90%以上,否则不得分", 3, None, "分档(≥90:3)", [(95, 3), (89, 0)]),
    # the target met or not, nothing else, with the row's 目标值
    ("完成得基本分,未完成的不得分。", 6, 3, "分档(≥3:6)", [(3, 6), (4, 6), (2, 0)]),
    ("达到目标得满分，未达到不得分", 4, 95, "分档(≥95:4)", [(95, 4), (94.9, 0)]),
    # proportional: the formula for the rest in target words, a cap in 指标 words, a rate
    # defined with "(%)"
    ("达到或超过目标值得满分，未达到的按实际完成值/目标值×分值计分", 5, 200, "按比例(目标=200)",
     [(200, 5), (150, 3.75)]),
    ("实际完成值/年度目标值×该指标分值，最高不超过该指标分值", 10, 50, "按比例()", [(25, 5), (60, 10)]),
    ("项目支出执行率(%)=项目实际支出/项目预算×100%；得分=执行率×权重", 20, None, "按比例(目标=100)",
     [(90, 18)]),
    # a rate's or a deviation's definition with an absolute value, beside the rule
    ("部门预算编制准确率=（1-|决算数-预算数|/预算数）×100%，得分=准确率×分值", 5, None,
     "按比例(目标=100)", [(90, 4.5)]),
    ("偏离度=|实际值-目标值|/目标值×100%，偏离度≤5%得满分，每超1个百分点扣0.5分", 4, None,
     "逐点扣分(基准=5,方向=高于,每点=0.5)", [(5, 4), (7, 3)]),
    # bands of conformity under the measure's name, "X:N分" pairs
    ("工程进度与计划的符合程度,100%符合:6分;80-100%符合:4分;60-80%:2分;60%以下:0分", 6, None,
     "分档(=100:6; [80,100]:4; [60,80]:2; ≤60:0)", [(100, 6), (90, 4), (70, 2), (50, 0)]),
    # one minus k times a ratio (or a rate that has one sign): linear from 0 (full marks)
    ("得分=（1-5×调剂金额/年初预算数）×分值；调剂金额/年初预算数>20%的不得分", 5, None,
     "按比例(目标=0,零分=20,方向=越低越好)", [(0, 5), (4, 4), (20, 0), (25, 0)]),
    ("得分=(1-差错率)×分值", 4, None, "按比例(目标=0,零分=100,方向=越低越好)", [(0, 4), (25, 3)]),
    # a factor times the value, reaching the 分值 at the row's target
    ("3×实完成数", 30, 10, "按比例(目标=10)", [(10, 30), (5, 15), (12, 30)]),
    # a score out of 100 scaled to the 分值, OCR'd "=" and "%。"
    ("本项满分10分,按照群众测评平均分进行折算,得分二平均分*10%o", 10, None, "按比例(目标=100)",
     [(100, 10), (85, 8.5)]),
    ("按完成比例计算得分,满分为止.", 6, 100, "按比例()", [(100, 6), (50, 3)]),
]


@pytest.mark.parametrize("text, weight, target, canonical, cases", FAMILIES)
def test_families_read_as_their_rule(text, weight, target, canonical, cases):
    weight = Decimal(weight)
    target = None if target is None else Decimal(target)
    reading = read_standard_text(text, weight, target=target)
    assert reading.rule is not None and format_rule(reading.rule) == canonical, reading
    assert reading.reason == "" and reading.stated_weight is None
    for value, score in cases:
        value = Decimal(str(value))
        if isinstance(score, tuple):
            with pytest.raises(EvaluatorScore) as left:
                score_rule(reading.rule, value, weight, target=target)
            assert (left.value.low, left.value.high) == tuple(Decimal(x) for x in score)
            continue
        got = score_rule(reading.rule, value, weight, target=target)
        assert abs(got - Decimal(str(score))) <= TOLERANCE, (text, value, got)


# Close to a family but not in it: a literal reading is open, so they stay manual.
STAY_MANUAL = [
    ("2×实完成数", 30, 10),  # 2 × 10 = 20 of 30: not full marks at the target
    # deductions with no band of full marks: the 分值 is never reached (a contradiction)
    ("根据抽查不合格数占抽查总数的比例,2%以内扣1分,2%-5%之间扣2分,5%以上不得分。", 4, None),
    ("每个乡镇至少配备2名，每少1人扣1分，超过3个乡镇未配备的不得分", 4, None),  # two counts
    ("每发现一处问题扣1分;发现三例及以上投诉的,本项不得分。", 4, None),  # floor on another count
    ("资金到位率100%得5分，每发现一处问题扣1分", 5, None),  # a rate and a count
    ("总量200条得8分,未完成扣10分", 8, None),  # takes more than the 分值
    ("完成率90%-99%扣1分", 3, None),  # takes from nothing stated
    ("覆盖率90%,否则不得分", 3, None),  # 90 % exactly, or at least?
    ("有1项未完成扣1分，完成3个项目得满分", 3, None),  # two counts
    ("完成3项得满分，有1项未完成的得0分", 3, None),  # done and not done: two counts
    ("完成3个项目得满分，完成2个项目得2分", 3, None),  # is 4 "完成3个"? (anchors)
    ("按完成比例得分，最高4分", 6, 100),  # the text's own full marks are 4, not the 分值
    ("得分=(1-|实际值-目标值|/目标值)×分值", 4, 100),  # a score by absolute deviation
    ("得分=(1-预算调整率)×分值", 5, None),  # an adjustment may be negative: above 分值?
    # the cut-off is not where the formula reaches 0
    ("得分=（1-5×调剂金额/年初预算数）×分值；调剂金额/年初预算数>30%的不得分", 5, None),
    ("预算执行率在90%—100%之间得满分，低于90%的按执行率×分值计算", 5, None),  # jumps at 90
]


@pytest.mark.parametrize("text, weight, target", STAY_MANUAL)
def test_near_families_stay_manual(text, weight, target):
    reading = read_standard_text(text, Decimal(weight),
                                 target=None if target is None else Decimal(target))
    rule = reading.rule
    assert rule is None or (isinstance(rule, Manual) and not rule.tiers), (text, rule)
    assert reading.reason.startswith("评分标准“")


def test_target_met_by_words_needs_the_target():
    reading = read_standard_text("完成得基本分,未完成的不得分。", Decimal(6))
    assert reading.rule is None and "需要目标值" in reading.reason
    # without a target the usual tiers stay: the evaluator says whether it is done
    tiers = read_standard_text("完成目标得满分，未完成不得分", Decimal(4)).rule
    assert isinstance(tiers, Manual) and [t.label for t in tiers.tiers] == ["完成目标", "未完成"]


def test_a_gap_with_no_side_says_so_whether_or_not_a_target_is_given():
    without = read_standard_text("每相差3%扣1分", Decimal(5)).reason
    assert "需要目标值" in without
    given = read_standard_text("每相差3%扣1分", Decimal(5), target=Decimal(100)).reason
    assert "向哪一侧扣" in given and "需要目标值" not in given


def test_bands_of_deductions_without_full_marks_say_why():
    reason = read_standard_text("根据抽查不合格数占抽查总数的比例,2%以内扣1分,2%-5%之间扣2分,"
                                "5%以上不得分。", Decimal(4)).reason
    assert "没有得满分的一档" in reason


def test_kinds_of_one_count_say_the_value_is_their_total():
    reading = read_standard_text("未按规定公开的，每项扣0.2分；公开内容不准确的，每项扣0.2分", Decimal(1))
    assert reading.note == "评分标准列出的各种扣分情形按同一标准扣分：实际值填写各种情形合计的项数。"
    # one kind, a cap or a cut-off: nothing to say
    for text in ("每发现1处扣1分，最多扣5分", "每迟报一天扣1分;迟报四天及以上不得分。"):
        assert read_standard_text(text, Decimal(5)).note == ""


def test_adopt_reports_the_total_at_the_standard_cell():
    from perfeval_xl.adopt.matcher import read_county_standard
    from perfeval_xl.model import Location

    loc = Location("自评表", "E7")
    rule, _, problems = read_county_standard(
        "未按规定公开的，每项扣0.2分；公开内容不准确的，每项扣0.2分", Decimal(1), name="政务公开",
        loc=loc)
    assert format_rule(rule) == "逐点扣分(基准=0,方向=高于,每点=0.2,单位=项)"
    assert [(p.severity, p.code, str(p.location)) for p in problems] == [
        ("info", "standard-total", "'自评表'!E7")]
    assert "合计的项数" in problems[0].message and "政务公开" in problems[0].message
