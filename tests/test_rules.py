"""Scoring rules: parse, format, score, describe (perfeval_xl.rules)."""

import re
from decimal import Decimal as D

import pytest

from perfeval_xl.rules import (
    Band,
    Bands,
    DeductPerPoint,
    DeductPerStep,
    Manual,
    Proportional,
    RuleError,
    Tier,
    deduction_text,
    describe_rule,
    format_rule,
    full_marks,
    parse_rule,
    parse_standard_text,
    rule_kind,
    score_rule,
    tier_labels,
)

HUNAN_BANDS = "分档(=0:8; (0,10]:6; (10,20]:4; (20,30]:2; >30:0)"
ABS_BANDS = "分档(绝对值; =0:100%; (0,10]:75%; (10,20]:50%; (20,30]:25%; >30:0)"
STEP = "阶梯扣分(基准=100,方向=低于,步长=5,每步=2)"
PER_POINT = "逐点扣分(基准=100,方向=高于,每点=0.5)"
TIERS = "人工(优=100%,良=80%,中=60%,差=0%)"
RANGE_TIERS = "人工(好=80%~100%,较好=60%~80%,一般=0%~60%)"


def score(text, value, weight, target=None):
    value = D(value) if isinstance(value, (int, str)) and not _is_label(value) else value
    return score_rule(parse_rule(text), value, D(weight), target)


def _is_label(value):
    return isinstance(value, str) and not re.fullmatch(r"-?[\d.]+", value)


def chinese(message):
    return re.search(r"[\u4e00-\u9fff]", message) is not None


# --------------------------------------------------------------------------- parsing


def test_parse_gives_typed_objects():
    assert parse_rule("按比例(目标=100)") == Proportional(target=D(100))
    assert parse_rule("按比例()") == Proportional()
    assert parse_rule("按比例(方向=越低越好,目标=5)") == Proportional(D(5), lower_is_better=True)
    assert parse_rule(PER_POINT) == DeductPerPoint(D(100), "above", D("0.5"), D(1))
    assert parse_rule("逐点扣分(基准=90,方向=低于,每点=1,点=2)") == DeductPerPoint(
        D(90), "below", D(1), D(2)
    )
    assert parse_rule(STEP) == DeductPerStep(D(100), "below", D(5), D(2))
    assert parse_rule(HUNAN_BANDS) == Bands(
        (
            Band(D(0), D(0), True, True, D(8)),
            Band(D(0), D(10), False, True, D(6)),
            Band(D(10), D(20), False, True, D(4)),
            Band(D(20), D(30), False, True, D(2)),
            Band(D(30), None, False, False, D(0)),
        )
    )
    assert parse_rule(ABS_BANDS).use_abs is True
    assert parse_rule(ABS_BANDS).bands[1] == Band(D(0), D(10), False, True, D(75), percent=True)
    assert parse_rule(TIERS) == Manual(
        (Tier("优", D(100)), Tier("良", D(80)), Tier("中", D(60)), Tier("差", D(0)))
    )
    assert parse_rule(RANGE_TIERS).tiers[1] == Tier("较好", D(80), D(60))
    assert parse_rule("人工()") == Manual()
    assert parse_rule("人工") == Manual()
    assert parse_rule("人工(健全=3,基本健全=2分,不健全=0)").tiers == (
        Tier("健全", D(3), None, True),
        Tier("基本健全", D(2), None, True),
        Tier("不健全", D(0), None, True),
    )


@pytest.mark.parametrize(
    "variant, canonical",
    [
        ("按比例（目标＝１００）", "按比例(目标=100)"),
        ("按比例(目标=100%)", "按比例(目标=100)"),
        ("按比例( 目标 = 100.00 )", "按比例(目标=100)"),
        ("proportional(target=100)", "按比例(目标=100)"),
        ("Proportional(target=5, direction=lower)", "按比例(目标=5,方向=越低越好)"),
        ("按比例()", "按比例()"),
        ("逐点扣分（基准＝100，方向＝高于，每点＝0.5）", PER_POINT),
        ("deduct_per_point(base=100,direction=above,per_point=0.5)", PER_POINT),
        ("deduct_per_point(base=100,direction=above,per_point=0.5,point=1)", PER_POINT),
        ("逐点扣分(基准=0,方向=高于,每点=0.8,点=2)", "逐点扣分(基准=0,方向=高于,每点=0.8,点=2)"),
        ("阶梯扣分（基准＝100％，方向＝低于，步长＝5％，每步＝2）", STEP),
        ("deduct_per_step(base=100, direction=below, step=5, per_step=2)", STEP),
        ("分档(=0:8；(0,10]:6；(10,20]:4；(20,30]:2；＞30:0)", HUNAN_BANDS),
        ("分档（=0：8；（0,10]：6；（10，20]：4；（20,30]：2；>30：0）", HUNAN_BANDS),
        ("bands(=0:8;(0%,10%]:6;(10,20]:4;(20,30]:2;>30%:0)", HUNAN_BANDS),
        ("分档(>=90:5;<=60:0)", "分档(≥90:5; ≤60:0)"),
        ("分档(≥90:5;＜60:0;[60,90):3)", "分档(≥90:5; <60:0; [60,90):3)"),
        ("分档([5,5]:1;[0,3):2;(3,4):3)", "分档(=5:1; [0,3):2; (3,4):3)"),
        ("分档(ABS;=0:100%;>0:6分)", "分档(绝对值; =0:100%; >0:6)"),
        (ABS_BANDS, ABS_BANDS),
        ("人工（优＝100％，良＝80％，中＝60％，差＝0％）", TIERS),
        ("manual(优=100%,良=80%,中=60%,差=0%)", TIERS),
        ("人工(好=100%~80%,较好=60~80%,一般=0%-60%)", RANGE_TIERS),
        ("人工(较好=60％～80％)", "人工(较好=60%~80%)"),
        ("人工(健全=3分,基本健全=1.5~2分)", "人工(健全=3,基本健全=1.5~2)"),
        ("manual()", "人工()"),
    ],
)
def test_variants_parse_to_the_canonical_rule(variant, canonical):
    rule = parse_rule(variant)
    assert rule == parse_rule(canonical)
    assert format_rule(rule) == canonical
    assert parse_rule(format_rule(rule)) == rule


@pytest.mark.parametrize(
    "rule",
    [
        Proportional(),
        Proportional(D("98.5")),
        Proportional(D(10), lower_is_better=True),
        Proportional(None, lower_is_better=True),
        DeductPerPoint(D(0), "above", D("0.8")),
        DeductPerPoint(D("-2.5"), "below", D("0.25"), D("0.5")),
        DeductPerStep(D(100), "above", D("2.5"), D(1)),
        Bands((Band(None, D(-5), False, True, D(1)), Band(D(-5), D(5), True, False, D(50), True))),
        Bands((Band(D(1), D(2), True, True, D(3)),), use_abs=True),
        Manual((Tier("A", D("33.33")), Tier("B", D(2), D(1), True))),
        Manual(),
    ],
)
def test_format_parse_round_trip(rule):
    assert parse_rule(format_rule(rule)) == rule


@pytest.mark.parametrize(
    "text, words",
    [
        ("", ["为空"]),
        ("   ", ["为空"]),
        (None, ["为空"]),
        ("按率(目标=100)", ["无法识别", "按率"]),
        ("打分", ["无法识别"]),
        ("阶梯扣分(基准=100)", ["缺少参数", "步长", "每步", "方向"]),
        ("逐点扣分(基准=100,方向=高于)", ["缺少参数", "每点"]),
        ("按比例(目标=abc)", ["目标", "abc", "不是数字"]),
        ("阶梯扣分(基准=100,方向=低于,步长=五,每步=2)", ["步长", "不是数字"]),
        ("按比例(目标=0)", ["大于0"]),
        ("逐点扣分(基准=100,方向=高于,每点=-1)", ["每点", "大于0"]),
        ("按比例(目标=100", ["括号不配对"]),
        ("按比例目标=100)", ["括号不配对"]),
        ("按比例((目标=100)", ["括号不配对"]),
        ("逐点扣分(基准=100,方向=高于,每点=0.5))", ["括号不配对"]),
        ("分档(=0:8;(0,10]:6", ["括号不配对"]),
        ("按比例(颜色=红)", ["颜色", "无法识别"]),
        ("按比例(目标=100,目标=90)", ["重复"]),
        ("按比例(目标)", ["缺少“=”"]),
        ("按比例(目标=)", ["没有值"]),
        ("按比例(方向=向上)", ["方向", "越低越好"]),
        ("逐点扣分(基准=100,方向=左,每点=0.5)", ["方向", "高于"]),
        ("分档(=0)", ["缺少得分"]),
        ("分档(=0:)", ["缺少得分"]),
        ("分档(=0:8;(0,10]:六)", ["不是数字"]),
        ("分档(=0:-1)", ["不能为负"]),
        ("分档()", ["没有任何档位"]),
        ("分档(绝对值)", ["没有任何档位"]),
        ("分档(=0:8;绝对值)", ["最前面"]),
        ("分档((10,0]:5)", ["区间为空"]),
        ("分档((5,5]:5)", ["区间为空"]),
        ("分档(~5:3)", ["无法识别"]),
        ("分档(5:3)", ["无法识别"]),
        ("人工(优)", ["缺少“=”"]),
        ("人工(优=100%,优=80%)", ["重复"]),
        ("人工(优=很多)", ["不是数字"]),
        ("人工(1=100%)", ["名称"]),
        ("人工(=100%)", ["名称"]),
        ("人工(优=50%~3分)", ["混用"]),
    ],
)
def test_malformed_rules_raise_chinese_messages(text, words):
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    message = info.value.message
    assert str(info.value) == message
    assert chinese(message)
    assert "示例" in message
    for word in words:
        assert word in message


def test_missing_parameter_message_names_parameter_and_example():
    with pytest.raises(RuleError) as info:
        parse_rule("阶梯扣分(基准=100,方向=低于,每步=2)")
    assert info.value.message == (
        "评分规则“阶梯扣分(基准=100,方向=低于,每步=2)”缺少参数“步长”，"
        "示例：阶梯扣分(基准=100,方向=低于,步长=5,每步=2)"
    )


def test_rule_error_is_a_value_error():
    assert issubclass(RuleError, ValueError)


# --------------------------------------------------------------------------- scoring


@pytest.mark.parametrize(
    "value, expected",
    [("100", "10"), ("98.29", "9.829"), ("120", "10"), ("0", "0"), ("-5", "0"), ("50", "5")],
)
def test_proportional_to_own_target(value, expected):
    assert score("按比例(目标=100)", value, 10) == D(expected)


@pytest.mark.parametrize(
    "value, expected",
    [("5", "10"), ("10", "10"), ("20", "5"), ("40", "2.5"), ("0", "10"), ("-3", "10")],
)
def test_proportional_lower_is_better(value, expected):
    assert score("按比例(目标=10,方向=越低越好)", value, 10) == D(expected)


def test_proportional_target_from_the_row():
    assert score("按比例()", "45", 20, target=D(50)) == D(18)
    assert score("按比例()", "60", 20, target=D(50)) == D(20)
    assert score("按比例()", "45", 20, target="50") == D(18)
    # The rule's own target wins: the 评分标准 text generated from the rule shows it.
    assert score("按比例(目标=100)", "90", 10, target=D(90)) == D(9)


@pytest.mark.parametrize("target", [None, D(0), D(-10), "abc"])
def test_proportional_without_usable_target_raises(target):
    with pytest.raises(RuleError) as info:
        score("按比例()", "45", 20, target=target)
    assert chinese(info.value.message)


def test_proportional_error_message_tells_how_to_fix():
    with pytest.raises(RuleError) as info:
        score("按比例()", "45", 20)
    assert "目标值" in info.value.message and "按比例(目标=100)" in info.value.message


@pytest.mark.parametrize(
    "value, expected",
    [
        ("100", "3"), ("99", "3"), ("0", "3"), ("100.01", "2.995"), ("101.5", "2.25"),
        ("104", "1"), ("106", "0"), ("106.5", "0"), ("200", "0"),
    ],
)
def test_deduct_per_point_above(value, expected):
    assert score(PER_POINT, value, 3) == D(expected)


@pytest.mark.parametrize(
    "value, expected",
    [("90", "5"), ("95", "5"), ("88.5", "3.5"), ("85", "0"), ("80", "0")],
)
def test_deduct_per_point_below(value, expected):
    assert score("逐点扣分(基准=90,方向=低于,每点=1)", value, 5) == D(expected)


def test_deduct_per_point_point_size_is_continuous():
    rule = "逐点扣分(基准=100,方向=高于,每点=0.5,点=2)"
    assert score(rule, "101", 3) == D("2.75")
    assert score(rule, "104", 3) == D("2")


@pytest.mark.parametrize(
    "value, expected",
    [("-10", "8"), ("0", "8"), ("2.5", "6"), ("10", "0"), ("12", "0")],
)
def test_three_public_change_rate_rule(value, expected):
    assert score("逐点扣分(基准=0,方向=高于,每点=0.8)", value, 8) == D(expected)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("100", "8"), ("120", "8"), ("99.27", "8"), ("95.01", "8"), ("95", "6"),
        ("95.00", "6"), ("94.99", "6"), ("90", "4"), ("85.01", "4"), ("85", "2"),
        ("80", "0"), ("70", "0"), ("0", "0"),
    ],
)
def test_deduct_per_step_counts_full_steps_only(value, expected):
    assert score(STEP, value, 8) == D(expected)


@pytest.mark.parametrize(
    "value, expected",
    [("100", "4"), ("102.4", "4"), ("102.5", "3"), ("107.6", "1"), ("110", "0")],
)
def test_deduct_per_step_above(value, expected):
    assert score("阶梯扣分(基准=100,方向=高于,步长=2.5,每步=1)", value, 4) == D(expected)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0", "8"), ("0.0001", "6"), ("10", "6"), ("10.0001", "4"), ("20", "4"),
        ("20.0001", "2"), ("30", "2"), ("30.0001", "0"), ("500", "0"), ("-5", "0"),
        ("-0.0001", "0"),
    ],
)
def test_bands_at_each_edge(value, expected):
    assert score(HUNAN_BANDS, value, 8) == D(expected)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0", "4"), ("-0", "4"), ("5", "3"), ("-5", "3"), ("-10", "3"), ("-10.0001", "2"),
        ("-30", "1"), ("-30.0001", "0"), ("30.0001", "0"),
    ],
)
def test_bands_absolute_value_and_percent_points(value, expected):
    assert score(ABS_BANDS, value, 4) == D(expected)


def test_bands_bracket_edges_as_written_and_first_match_wins():
    rule = "分档([0,10):5; =10:4; (10,20):3; [20,30]:2; ≥90:9; >80:8; <0:1; ≤-10:7)"
    assert score(rule, "0", 10) == D(5)
    assert score(rule, "9.99", 10) == D(5)
    assert score(rule, "10", 10) == D(4)
    assert score(rule, "15", 10) == D(3)
    assert score(rule, "20", 10) == D(2)
    assert score(rule, "30", 10) == D(2)
    assert score(rule, "50", 10) == D(0)  # no band
    assert score(rule, "80", 10) == D(0)
    assert score(rule, "80.5", 10) == D(8)
    assert score(rule, "90", 10) == D(9)
    assert score(rule, "-20", 10) == D(1)  # <0 comes before ≤-10


def test_manual_tiers_and_numbers():
    assert score(TIERS, "优", 3) == D(3)
    assert score(TIERS, "良", 3) == D("2.4")
    assert score(TIERS, " 中 ", 3) == D("1.8")
    assert score(TIERS, "差", 3) == D(0)
    assert score(TIERS, D("2.5"), 3) == D("2.5")
    assert score(TIERS, "2.5", 3) == D("2.5")
    assert score(TIERS, "2.5分", 3) == D("2.5")
    assert score(TIERS, D(0), 3) == D(0)
    assert score(TIERS, D(3), 3) == D(3)
    # A range tier entered by label gets the range's upper bound.
    assert score(RANGE_TIERS, "好", 15) == D(15)
    assert score(RANGE_TIERS, "较好", 15) == D(12)
    assert score(RANGE_TIERS, "一般", 15) == D(9)
    assert score("人工()", D("1.25"), 2) == D("1.25")
    assert score("人工(健全=3,基本健全=2,不健全=0)", "基本健全", 3) == D(2)


@pytest.mark.parametrize(
    "text, value, words",
    [
        (TIERS, "很好", ["很好", "优、良、中、差", "0-3"]),
        (TIERS, D("3.5"), ["超出分值范围"]),
        (TIERS, D("-0.5"), ["超出分值范围"]),
        (TIERS, "4", ["超出分值范围"]),
        ("人工()", "优", ["优", "0-3"]),
        (TIERS, None, ["为空"]),
    ],
)
def test_manual_bad_input_raises(text, value, words):
    with pytest.raises(RuleError) as info:
        score_rule(parse_rule(text), value, D(3))
    for word in words:
        assert word in info.value.message


@pytest.mark.parametrize("value", ["abc", None, True, "", [1], D("NaN"), D("Infinity")])
@pytest.mark.parametrize("text", ["按比例(目标=100)", PER_POINT, STEP, HUNAN_BANDS])
def test_numeric_rules_reject_non_numbers(text, value):
    with pytest.raises(RuleError) as info:
        score_rule(parse_rule(text), value, D(8))
    assert chinese(info.value.message)


def test_numeric_rules_accept_int_float_and_text():
    rule = parse_rule(PER_POINT)
    assert score_rule(rule, 101, D(3)) == D("2.5")
    assert score_rule(rule, 101.5, D(3)) == D("2.25")
    assert score_rule(rule, "１０１.５％", D(3)) == D("2.25")
    assert score_rule(rule, D("101.5"), 3) == D("2.25")


def test_scores_are_clamped_to_weight():
    assert score("分档(>0:10)", "5", 8) == D(8)
    assert score("分档(>0:150%)", "5", 8) == D(8)
    assert score("人工(优=120%)", "优", 5) == D(5)
    assert score("人工(优=7)", "优", 5) == D(5)
    assert score("逐点扣分(基准=0,方向=高于,每点=100)", "50", 8) == D(0)
    assert score("按比例(目标=50)", "500", 8) == D(8)
    assert score("按比例(目标=50)", "-500", 8) == D(0)


def test_weight_zero_and_negative():
    assert score(PER_POINT, "90", 0) == D(0)
    with pytest.raises(RuleError):
        score(PER_POINT, "90", -1)


def test_full_precision_is_kept():
    assert score("按比例(目标=3)", "1", 1) == D(1) / D(3)
    assert score(PER_POINT, "100.001", 3) == D("2.9995")


# --------------------------------------------------------------------------- texts


@pytest.mark.parametrize(
    "text, weight, unit, expected",
    [
        (PER_POINT, 3, "%", "以100%为标准，≤100%得满分（3分）；每超过1个百分点扣0.5分，扣完为止。"),
        (
            "逐点扣分(基准=0,方向=高于,每点=0.8)", 8, "%",
            "以0为标准，≤0得满分（8分）；每超过1个百分点扣0.8分，扣完为止。",
        ),
        (
            "逐点扣分(基准=90,方向=低于,每点=0.50,点=2)", 5, "%",
            "以90%为标准，≥90%得满分（5分）；每低于2个百分点扣0.5分，不足2个百分点按比例扣分，"
            "扣完为止。",
        ),
        (
            "逐点扣分(基准=10,方向=高于,每点=1)", 4, "",
            "以10为标准，≤10得满分（4分）；每超过1个单位扣1分，扣完为止。",
        ),
        (
            STEP, 8, "%",
            "100%得满分（8分），每低于5个百分点扣2分，扣完为止（不足5个百分点不扣分）。",
        ),
        (
            "阶梯扣分(基准=100,方向=高于,步长=2.5,每步=1)", 4, "%",
            "≤100%得满分（4分），每超过2.5个百分点扣1分，扣完为止（不足2.5个百分点不扣分）。",
        ),
        (
            HUNAN_BANDS, D("8.00"), "%",
            "=0得8分；0-10%（含）得6分；10-20%（含）得4分；20-30%（含）得2分；>30%不得分。",
        ),
        (
            ABS_BANDS, 4, "%",
            "按绝对值计：=0得4分；0-10%（含）得3分；10-20%（含）得2分；20-30%（含）得1分；"
            ">30%不得分。",
        ),
        (
            "分档([0,10):5; =10:4; (10,20):3; [20,30]:2; ≥90:9; <-5:1; (-5,0):0)", 10, "%",
            "0（含）-10%得5分；=10%得4分；10-20%（不含两端）得3分；20-30%（含两端）得2分；"
            "≥90%得9分；<-5%得1分；-5%至0（不含两端）不得分；其余情况不得分。",
        ),
        ("分档(≤3:2; >3:0)", 2, "", "≤3得2分；>3不得分。"),
        (
            TIERS, 3, "%",
            "评价人按等级评定：优得100%（3分），良得80%（2.4分），中得60%（1.8分），差得0%（0分）。",
        ),
        (
            RANGE_TIERS, 15, "",
            "评价人按等级评定：好得80%-100%（12-15分），较好得60%-80%（9-12分），"
            "一般得0%-60%（0-9分）。",
        ),
        (
            "人工(健全=3,基本健全=1~2,不健全=0)", 3, "",
            "评价人按等级评定：健全得3分，基本健全得1-2分，不健全得0分。",
        ),
        ("人工()", D("2.50"), "", "由评价人直接评分（0-2.5分）。"),
        ("按比例(目标=100)", 3, "%", "得分=分值×实际值/目标值（目标值100%），最高3分。"),
        ("按比例()", 20, "%", "得分=分值×实际值/目标值，最高20分。"),
        (
            "按比例(目标=5,方向=越低越好)", 4, "",
            "得分=分值×目标值/实际值（目标值5），实际值≤0得满分，最高4分。",
        ),
    ],
)
def test_describe_rule(text, weight, unit, expected):
    assert describe_rule(parse_rule(text), D(weight), unit) == expected


def test_describe_proportional_shows_row_target():
    text = describe_rule(parse_rule("按比例()"), D(20), "%", target=D("95.5"))
    assert text == "得分=分值×实际值/目标值（目标值95.5%），最高20分。"


@pytest.mark.parametrize(
    "text, value, weight, expected",
    [
        (PER_POINT, D("101.50"), 3, "实际值101.50%，超过100%共1.5个百分点，扣0.75分"),
        (PER_POINT, D("101.5"), 3, "实际值101.50%，超过100%共1.5个百分点，扣0.75分"),
        (PER_POINT, D("120"), 3, "实际值120.00%，超过100%共20个百分点，应扣10分，扣完为止"),
        (PER_POINT, D("99"), 3, ""),
        (STEP, D("94.99"), 8, "实际值94.99%，低于100%共5.01个百分点，满5个百分点1次，扣2分"),
        (STEP, D("99.27"), 8, ""),
        (HUNAN_BANDS, D("15"), 8, "实际值15.00%，属于“10-20%（含）”档，得4分，扣4分"),
        (HUNAN_BANDS, D("-1"), 8, "实际值-1.00%，不在任何档位内，不得分"),
        (
            ABS_BANDS, D("-5"), 4,
            "实际值-5.00%（绝对值5.00%），属于“0-10%（含）”档，得3分，扣1分",
        ),
        ("按比例(目标=100)", D("90"), 10, "实际值90.00%，为目标值100%的90%，得9分，扣1分"),
        (
            "按比例(目标=10,方向=越低越好)", D("40"), 10,
            "实际值40.00%，高于目标值10%，按目标值/实际值计得2.5分，扣7.5分",
        ),
        (TIERS, "良", 3, "评定为“良”，得2.4分，扣0.6分"),
        (TIERS, "优", 3, ""),
        (TIERS, D("2.5"), 3, "评价人评分2.5分，扣0.5分"),
        (RANGE_TIERS, "较好", 15, "评定为“较好”（60%-80%（9-12分），取上限），得12分，扣3分"),
    ],
)
def test_deduction_text(text, value, weight, expected):
    rule = parse_rule(text)
    got = score_rule(rule, value, D(weight))
    assert deduction_text(rule, value, D(weight), got) == expected


def test_deduction_text_plain_unit():
    rule = parse_rule("逐点扣分(基准=10,方向=高于,每点=1)")
    got = score_rule(rule, D(12), D(4))
    assert deduction_text(rule, D(12), D(4), got, unit="") == "实际值12，超过10共2个单位，扣2分"


# --------------------------------------------------------------------------- introspection


@pytest.mark.parametrize(
    "text, weight, expected",
    [
        (HUNAN_BANDS, 8, "8"),
        (ABS_BANDS, 4, "4"),
        ("分档(=0:10; >0:5)", 8, "10"),
        ("分档(=0:6; >0:5)", 8, "6"),
        ("分档(=0:80%; >0:5)", 10, "8"),
        (TIERS, 3, "3"),
        (RANGE_TIERS, 15, "15"),
        ("人工(优=90%,良=80%)", 10, "9"),
        ("人工(健全=3,不健全=0)", 4, "3"),
        ("人工()", 4, "4"),
        (PER_POINT, 3, "3"),
        (STEP, 8, "8"),
        ("按比例()", 10, "10"),
    ],
)
def test_full_marks(text, weight, expected):
    assert full_marks(parse_rule(text), D(weight)) == D(expected)


def test_rule_kind_and_tier_labels():
    kinds = [rule_kind(parse_rule(t)) for t in ("按比例()", PER_POINT, STEP, HUNAN_BANDS, TIERS)]
    assert kinds == ["proportional", "deduct_per_point", "deduct_per_step", "bands", "manual"]
    assert tier_labels(parse_rule(TIERS)) == ["优", "良", "中", "差"]
    assert tier_labels(parse_rule(RANGE_TIERS)) == ["好", "较好", "一般"]
    assert tier_labels(parse_rule("人工()")) == []
    assert tier_labels(parse_rule(STEP)) == []


def test_rules_are_frozen_and_hashable():
    rule = parse_rule(HUNAN_BANDS)
    with pytest.raises(AttributeError):
        rule.use_abs = True
    assert len({parse_rule(PER_POINT), parse_rule(PER_POINT.replace("100", "100.0"))}) == 1


def test_module_imports_only_the_standard_library():
    import ast
    import subprocess
    import sys
    from pathlib import Path

    import perfeval_xl.rules as rules
    import perfeval_xl.rules_text as rules_text

    for module in (rules, rules_text):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        own = {x for x in names if x.startswith("perfeval_xl")}
        assert {x.split(".")[0] for x in names - own} <= set(sys.stdlib_module_names) | {
            "__future__"
        }
        # The pair only import each other, so the UDF import chain stays standard library.
        assert own <= {"perfeval_xl", "perfeval_xl.rules", "perfeval_xl.rules_text"}
    # The free-text reader is imported lazily: importing rules does not load it.
    code = "import sys, perfeval_xl.rules; print('perfeval_xl.rules_text' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


# --------------------------------------------------------------------------- free text

HUNAN_PER_POINT = "逐点扣分(基准=100,方向=高于,每点=0.5)"
HUNAN_STEP = "阶梯扣分(基准=100,方向=低于,步长=5,每步=2)"

# (county 评分标准 text, 分值, the rule it must give in canonical syntax)
STANDARD_TEXTS = [
    # deduct per point
    ("以100%为标准，≤100%计8分；每超过一个百分点扣0.5分，扣完为止", 8, HUNAN_PER_POINT),
    (
        "以１００％为标准，≤１００％计８分；每超过一个百分点扣０.５分，扣完为止。", 8,
        HUNAN_PER_POINT,
    ),
    ("以100%为标准，<=100%计8分;每超过1个百分点扣0.5分,扣完为止", 8, HUNAN_PER_POINT),
    ("≤0计8分；>0每超过一个百分点扣0.8分", 8, "逐点扣分(基准=0,方向=高于,每点=0.8)"),
    ("在职人员控制率≤100%得满分，每超过1个百分点扣0.5分，扣完为止", 4, HUNAN_PER_POINT),
    ("控制在100%以内得满分；每超出1个百分点扣1分", 5, "逐点扣分(基准=100,方向=高于,每点=1)"),
    (
        "“三公经费”变动率≤0得满分；每增加1个百分点扣0.8分，扣完为止", 8,
        "逐点扣分(基准=0,方向=高于,每点=0.8)",
    ),
    ("≥90%得满分，每低于1个百分点扣0.5分，扣完为止", 5, "逐点扣分(基准=90,方向=低于,每点=0.5)"),
    (
        "满意度达到90%（含）以上得满分，每降低一个百分点扣0.2分", 10,
        "逐点扣分(基准=90,方向=低于,每点=0.2)",
    ),
    ("以0为基准，每超过一个百分点扣0.3分，扣完为止", 3, "逐点扣分(基准=0,方向=高于,每点=0.3)"),
    ("超过100%的，每超过1个百分点扣0.5分，扣完为止", 4, HUNAN_PER_POINT),
    ("低于100%的，每低于1个百分点扣1分，扣完为止", 6, "逐点扣分(基准=100,方向=低于,每点=1)"),
    (
        "100%得满分，每低于1%扣0.5分，不足1个百分点的按比例扣分", 5,
        "逐点扣分(基准=100,方向=低于,每点=0.5)",
    ),
    (
        "≤5%计3分，每超过0.5个百分点扣0.3分，扣完为止", 3,
        "逐点扣分(基准=5,方向=高于,每点=0.3,点=0.5)",
    ),
    ("≤100%计满分；超过部分每1个百分点扣0.5分", 4, HUNAN_PER_POINT),
    (
        "以100%为标准，≤100%计8分；每超过两个百分点扣1分，不足两个百分点按比例扣分", 8,
        "逐点扣分(基准=100,方向=高于,每点=1,点=2)",
    ),
    (
        "执行率100%的得8分，每下降1个百分点扣0.5分，扣完为止", 8,
        "逐点扣分(基准=100,方向=低于,每点=0.5)",
    ),
    ("≤100%得8分。每超过1个百分点，扣0.5分。", 8, HUNAN_PER_POINT),
    ("以100%为标准，≤100%计8分；每超过一个百分点扣零点五分", 8, None),
    # deduct per step
    ("100%计满分，每低于5%扣2分，扣完为止", 8, HUNAN_STEP),
    ("１００％计满分，每低于５％扣２分，扣完为止", 8, HUNAN_STEP),
    ("预算完成率100%计8分，每低于5个百分点扣2分，扣完为止", 8, HUNAN_STEP),
    (
        "完成率达到100%得满分，每降低5个百分点扣1分，不足5个百分点不扣分", 4,
        "阶梯扣分(基准=100,方向=低于,步长=5,每步=1)",
    ),
    (
        "≤100%得满分，每超过10个百分点扣2分，扣完为止", 6,
        "阶梯扣分(基准=100,方向=高于,步长=10,每步=2)",
    ),
    (
        "以100%为标准，每低于1个百分点扣1分，不足1个百分点不扣分", 5,
        "阶梯扣分(基准=100,方向=低于,步长=1,每步=1)",
    ),
    ("执行率≥95%得满分，每低于五个百分点扣一分", 3, "阶梯扣分(基准=95,方向=低于,步长=5,每步=1)"),
    # bands
    ("=0计8分；0-10%(含)6分；10-20%(含)4分；20-30%(含)2分；>30%不得分", 8, HUNAN_BANDS),
    (
        "＝0计8分；0－10％（含）6分；10－20％（含）4分；20－30％（含）2分；＞30％不得分", 8,
        HUNAN_BANDS,
    ),
    (
        "预算调整率为0得8分，0-10%（含10%）得6分，10%-20%（含20%）得4分，"
        "20%-30%（含30%）得2分，超过30%不得分", 8, HUNAN_BANDS,
    ),
    (
        "调整率=0的，计8分；0<调整率≤10%，计6分；10%<调整率≤20%，计4分；"
        "20%<调整率≤30%，计2分；调整率>30%，不得分", 8, HUNAN_BANDS,
    ),
    (
        "≥90%得5分；80%（含）-90%得3分；60%（含）-80%得1分；60%以下不得分", 5,
        "分档(≥90:5; [80,90):3; [60,80):1; ≤60:0)",
    ),
    (
        "90%以上（含90%）得满分，80%-90%得3分，80%以下不得分", 5,
        "分档(≥90:5; [80,90]:3; ≤80:0)",
    ),
    (
        "偏差率≤5%得4分；5%＜偏差率≤10%得2分；偏差率＞10%不得分", 4,
        "分档(≤5:4; (5,10]:2; >10:0)",
    ),
    ("0个得3分，1-2个得2分，3个及以上不得分", 3, "分档(=0:3; [1,2]:2; ≥3:0)"),
    (
        "调整率绝对值为0得8分；绝对值在0-10%（含）得6分；10%-20%（含）得4分；20%以上不得分", 8,
        "分档(绝对值; =0:8; (0,10]:6; (10,20]:4; ≥20:0)",
    ),
    (
        "低于60%不得分，60%（含）-80%得2分，80%（含）以上得4分", 4,
        "分档(<60:0; [60,80):2; ≥80:4)",
    ),
    (
        "100%得满分；90%（含）-100%得3分；90%以下不得分", 4,
        "分档(=100:4; [90,100):3; ≤90:0)",
    ),
    (
        "执行率在90%以上的得10分，80%-90%的得8分，70%-80%的得6分，70%以下的不得分", 10,
        "分档(≥90:10; [80,90]:8; [70,80]:6; ≤70:0)",
    ),
    (
        "10%（不含）以上不得分；5%-10%（含）得1分；5%（含）以下得2分", 2,
        "分档(>10:0; (5,10]:1; ≤5:2)",
    ),
    ("未超过10%得满分，超过10%不得分", 4, "分档(≤10:4; >10:0)"),
    (
        "满意度≥90%计10分，80%≤满意度<90%计8分，满意度<80%计5分", 10,
        "分档(≥90:10; [80,90):8; <80:5)",
    ),
    # proportional
    ("实际完成率/计划完成率×分值", 5, "按比例()"),
    ("完成目标得满分，未完成按比例得分", 10, "按比例()"),
    ("预算执行率×分值", 10, "按比例(目标=100)"),
    ("预算执行率*10", 10, "按比例(目标=100)"),
    ("分值×预算执行率", 10, "按比例(目标=100)"),
    ("得分=实际完成值/目标值×分值", 20, "按比例()"),
    ("得分＝实际完成值÷目标值×分值", 20, "按比例()"),
    ("按实际完成比例计分", 15, "按比例()"),
    ("完成率≥90%得满分，低于90%的按比例得分", 5, "按比例(目标=90)"),
    ("得分=目标值/实际值×分值", 5, "按比例(方向=越低越好)"),
    ("达到100%得满分，未达到的按完成比例得分，最高不超过本项分值", 10, "按比例(目标=100)"),
    ("完成年度目标的得满分；未完成的，按完成比例计算得分", 8, "按比例()"),
    # manual tiers
    ("制度健全得3分，基本健全得2分，不健全不得分", 3, "人工(健全=3,基本健全=2,不健全=0)"),
    (
        "制度健全得4分，基本健全得2分，不健全不得分", 4,
        "人工(健全=100%,基本健全=50%,不健全=0%)",
    ),
    ("目标明确得2分，较明确得1分，不明确不得分", 2, "人工(明确=100%,较明确=50%,不明确=0%)"),
    (
        "目标明确的得2分；目标较明确的得1分；目标不明确的不得分", 2,
        "人工(明确=100%,较明确=50%,不明确=0%)",
    ),
    (
        "优秀得10分；良好得8分；一般得6分；较差得0分", 10,
        "人工(优秀=100%,良好=80%,一般=60%,较差=0%)",
    ),
    (
        "完全符合得满分，基本符合得3分，不符合不得分", 5,
        "人工(完全符合=100%,基本符合=60%,不符合=0%)",
    ),
    ("好（4-5分）、较好（3-4分）、一般（0-3分）", 5, "人工(好=80%~100%,较好=60%~80%,一般=0%~60%)"),
    ("管理规范得3分，较规范得2分，不规范得0分", 3, "人工(规范=3,较规范=2,不规范=0)"),
    ("及时得2分；不及时不得分", 2, "人工(及时=100%,不及时=0%)"),
    ("根据实际情况酌情扣分", 3, "人工()"),
]

# Texts that must give None: the caller makes the row manual and warns.
UNREADABLE_TEXTS = [
    ("", 8),
    ("   ", 8),
    (None, 8),
    ("详见附件", 8),
    ("根据实际情况填写", 8),
    ("每超过一处问题扣0.5分", 8),
    ("每超过1个百分点扣0.5分，扣完为止", 8),
    ("≤100%计6分；每超过一个百分点扣0.5分", 8),
    ("≤100%得满分，每低于1个百分点扣0.5分", 8),
    ("≥90%得满分，每超过1个百分点扣0.5分，每低于1个百分点扣1分", 8),
    ("90%以上得满分，80%-90%每降低1个百分点扣0.5分，80%以下不得分", 8),
    ("得分=（1-偏差率）×分值", 8),
    ("预算执行率×8", 10),
    ("预算执行率×分值×100%", 10),
    ("调整率不为0的不得分，为0得满分", 4),
    ("100%得满分", 8),
    ("优秀得满分", 8),
    ("=0计8分；0-10%(含)6分；其余情况另行研究", 8),
    ("以100%为标准，≤100%计8分；每超过一个百分点扣0.5分，并通报批评", 8),
]


@pytest.mark.parametrize("text, weight, expected", STANDARD_TEXTS)
def test_parse_standard_text(text, weight, expected):
    got = parse_standard_text(text, D(weight))
    if expected is None:
        assert got is None
    else:
        assert got == parse_rule(expected)
        assert format_rule(got) == expected


@pytest.mark.parametrize("text, weight", UNREADABLE_TEXTS)
def test_parse_standard_text_gives_none_when_unsure(text, weight):
    assert parse_standard_text(text, D(weight)) is None


def test_standard_text_corpus_is_large_enough():
    assert len([t for t in STANDARD_TEXTS if t[2] is not None]) >= 40


def test_adopted_rule_scores_like_the_text_says():
    rule = parse_standard_text("100%计满分，每低于5%扣2分，扣完为止", D(8))
    assert score_rule(rule, D("99.27"), D(8)) == D(8)
    assert score_rule(rule, D("94.99"), D(8)) == D(6)
    rule = parse_standard_text("制度健全得3分，基本健全得2分，不健全不得分", D(3))
    assert score_rule(rule, "基本健全", D(3)) == D(2)
    assert full_marks(rule, D(3)) == D(3)


# Rules whose generated 评分标准 text must read back as the very same rule.
SAME_AFTER_DESCRIBE = [
    ("按比例(目标=100)", 10, "%"),
    ("按比例(目标=95.5)", 10, "%"),
    ("按比例()", 20, "%"),
    ("按比例(目标=5,方向=越低越好)", 4, ""),
    ("按比例(方向=越低越好)", 4, "%"),
    (PER_POINT, 3, "%"),
    ("逐点扣分(基准=0,方向=高于,每点=0.8)", 8, "%"),
    ("逐点扣分(基准=90,方向=低于,每点=0.5,点=2)", 5, "%"),
    ("逐点扣分(基准=5,方向=高于,每点=0.3,点=0.5)", 3, "%"),
    ("逐点扣分(基准=10,方向=高于,每点=1)", 4, ""),
    (STEP, 8, "%"),
    ("阶梯扣分(基准=100,方向=高于,步长=2.5,每步=1)", 4, "%"),
    ("阶梯扣分(基准=100,方向=低于,步长=1,每步=1)", 5, "%"),
    (HUNAN_BANDS, 8, "%"),
    ("分档([0,10):5; =10:4; (10,20):3; [20,30]:2; ≥90:9; <-5:1; (-5,0):0)", 10, "%"),
    ("分档(绝对值; =0:4; (0,10]:3; >10:0)", 4, "%"),
    ("分档(≤3:2; >3:0)", 2, ""),
    (TIERS, 3, ""),
    (RANGE_TIERS, 15, ""),
    ("人工()", 3, ""),
    ("阶梯扣分(基准=100,方向=低于,步长=1,每步=0.4,取整=向上)", 10, "%"),
    ("阶梯扣分(基准=3,方向=高于,步长=2,每步=1,取整=向上)", 4, ""),
    ("按比例(目标=25,零分=50,方向=越低越好)", 6, ""),
    ("按比例(目标=95,零分=60)", 5, "%"),
    # counts from 0 with their own unit
    ("逐点扣分(基准=0,方向=高于,每点=3.6,单位=例)", 18, "%"),
    ("逐点扣分(基准=0,方向=高于,每点=1,单位=天)", 3, ""),
    ("阶梯扣分(基准=0,方向=高于,步长=3,每步=1,单位=次)", 3, "%"),
    ("分档(单位=次; =0:10)", 10, "%"),
]


@pytest.mark.parametrize("text, weight, unit", SAME_AFTER_DESCRIBE)
def test_generated_standard_text_reads_back(text, weight, unit):
    rule = parse_rule(text)
    standard = describe_rule(rule, D(weight), unit)
    assert parse_standard_text(standard, D(weight)) == rule, standard


@pytest.mark.parametrize(
    "text, weight, values",
    [
        (ABS_BANDS, 4, ["0", "-5", "15", "-25", "31"]),  # 75% of 4 comes back as 3 points
        ("人工(健全=3,基本健全=1~2,不健全=0)", 3, ["健全", "基本健全", "不健全"]),
    ],
)
def test_generated_standard_text_reads_back_as_an_equivalent_rule(text, weight, values):
    rule = parse_rule(text)
    again = parse_standard_text(describe_rule(rule, D(weight)), D(weight))
    for v in values:
        v = v if _is_label(v) else D(v)
        assert score_rule(again, v, D(weight)) == score_rule(rule, v, D(weight))


# --------------------------------------------------------------------------- new options


def test_round_up_steps_count_every_begun_step():
    rule = parse_rule("阶梯扣分(基准=100,方向=低于,步长=1,每步=0.4,取整=向上)")
    assert rule == DeductPerStep(D(100), "below", D(1), D("0.4"), round_up=True)
    assert parse_rule("阶梯扣分(基准=100,方向=低于,步长=1,每步=0.4,取整=向下)").round_up is False
    assert parse_rule(format_rule(rule)) == rule
    assert [score_rule(rule, D(v), D(10)) for v in ("100", "99.5", "99", "97.2", "70")] == [
        D(10), D("9.6"), D("9.6"), D("8.8"), D(0)]
    assert describe_rule(rule, D(10)) == (
        "100%得满分（10分），每低于1个百分点扣0.4分，扣完为止（不足1个百分点按1个百分点计算）。")
    assert deduction_text(rule, D("97.2"), D(10), D("8.8")) == (
        "实际值97.20%，低于100%共2.8个百分点，计1个百分点3次，扣1.2分")
    # Existing step rules keep their text and their full-steps-only scoring.
    assert format_rule(parse_rule(STEP)) == STEP
    with pytest.raises(RuleError) as e:
        parse_rule("阶梯扣分(基准=100,方向=低于,步长=1,每步=0.4,取整=四舍五入)")
    assert "取整方式" in e.value.message


def test_proportional_with_a_zero_point_is_linear():
    rule = parse_rule("按比例(目标=25,零分=50)")
    assert rule == Proportional(D(25), True, D(50))  # the direction follows from the ends
    assert format_rule(rule) == "按比例(目标=25,零分=50,方向=越低越好)"
    assert [score_rule(rule, D(v), D(6)) for v in (20, 25, 30, 40, 50, 60)] == [
        D(6), D(6), D("4.8"), D("2.4"), D(0), D(0)]
    assert describe_rule(rule, D(6), "个工作日") == (
        "≤25个工作日得满分（6分），≥50个工作日不得分，25个工作日至50个工作日之间按比例计分。")
    assert deduction_text(rule, D(30), D(6), D("4.8"), "") == (
        "实际值30，介于满分值25与零分值50之间，按比例得4.8分，扣1.2分")
    assert deduction_text(rule, D(60), D(6), D(0), "") == "实际值60，≥零分值50，不得分，扣6分"
    up = parse_rule("按比例(目标=95,零分=60)")
    assert score_rule(up, D(81), D(7)) == D("4.2") and not up.lower_is_better
    for bad, words in (("按比例(零分=50)", "零分"), ("按比例(目标=50,零分=50)", "零分"),
                       ("按比例(目标=25,零分=50,方向=越高越好)", "方向")):
        with pytest.raises(RuleError) as e:
            parse_rule(bad)
        assert words in e.value.message


# --------------------------------------------------------------------------- 单位 (counts)


@pytest.mark.parametrize(
    "text",
    [
        "逐点扣分(基准=0,方向=高于,每点=3.6,单位=例)",
        "逐点扣分(基准=90,方向=低于,每点=0.5,点=2,单位=人)",
        "阶梯扣分(基准=0,方向=高于,步长=3,每步=1,单位=次)",
        "阶梯扣分(基准=0,方向=高于,步长=1,每步=1,取整=向上,单位=个月)",
        "分档(单位=次; =0:10)",
        "分档(绝对值; 单位=天; ≤3:2; >3:0)",
    ],
)
def test_unit_option_round_trips(text):
    rule = parse_rule(text)
    assert rule.unit
    assert format_rule(rule) == text
    assert parse_rule(format_rule(rule)) == rule


def test_rules_without_unit_are_unchanged():
    # The option is new and optional: old rule texts parse and format exactly as before.
    assert parse_rule(PER_POINT).unit == "" and format_rule(parse_rule(PER_POINT)) == PER_POINT
    assert format_rule(parse_rule(HUNAN_BANDS)) == HUNAN_BANDS.replace("；", "; ")
    assert parse_rule("分档(单位=次; =0:10)") != parse_rule("分档(=0:10)")


def test_unit_only_names_the_value_it_does_not_change_the_score():
    with_unit = parse_rule("逐点扣分(基准=0,方向=高于,每点=3.6,单位=例)")
    plain = parse_rule("逐点扣分(基准=0,方向=高于,每点=3.6)")
    for v in ("0", "1", "4", "6"):
        assert score_rule(with_unit, D(v), D(18)) == score_rule(plain, D(v), D(18))
    assert score_rule(with_unit, D(1), D(18)) == D("14.4")
    assert score_rule(with_unit, D(6), D(18)) == 0


def test_count_rules_say_what_is_counted():
    rule = parse_rule("逐点扣分(基准=0,方向=高于,每点=3.6,单位=例)")
    assert describe_rule(rule, D(18)) == "0例得满分（18分），每多1例扣3.6分，扣完为止。"
    assert deduction_text(rule, D(2), D(18), D("10.8")) == "实际值2例，超过0共2例，扣7.2分"
    step = parse_rule("阶梯扣分(基准=0,方向=高于,步长=3,每步=1,单位=次)")
    assert describe_rule(step, D(3)) == "0次得满分（3分），每多3次扣1分，扣完为止（不足3次不扣分）。"
    zero = parse_rule("分档(单位=次; =0:10)")
    assert describe_rule(zero, D(10)) == "按次数计：=0得10分。"
    assert deduction_text(zero, D(1), D(10), D(0)) == "实际值1次，不在任何档位内，不得分"
    # A base other than 0 keeps the usual wording, in the rule's unit.
    rule = parse_rule("逐点扣分(基准=50,方向=低于,每点=1,单位=人)")
    assert describe_rule(rule, D(5)) == "以50人为标准，≥50人得满分（5分）；每低于1人扣1分，扣完为止。"


@pytest.mark.parametrize(
    "text, word",
    [
        ("逐点扣分(基准=0,方向=高于,每点=1,单位=1)", "单位"),
        ("逐点扣分(基准=0,方向=高于,每点=1,单位=)", "没有值"),
        ("分档(单位=3; =0:10)", "单位"),
        ("分档(=0:10; 单位=次)", "缺少得分"),
    ],
)
def test_bad_unit_is_a_rule_error(text, word):
    with pytest.raises(RuleError) as e:
        parse_rule(text)
    assert word in e.value.message
