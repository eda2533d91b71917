"""``perfeval-xl rule``: how one 评分标准 text is read, its score at a value, exit codes."""

from __future__ import annotations

import pytest

from perfeval_xl.cli import main


def rule(capsys, *args):
    code = main(["rule", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_deduction_text_is_read_and_scored(capsys):
    code, out, err = rule(capsys, "“三公经费”变动率≦0,计8分;“三公经费”>0,每超过一个百分点扣0.8分,扣完为止。",
                          "--weight", 8, "--value", "2.5")
    assert code == 0 and err == ""
    assert "规则：逐点扣分(基准=0,方向=高于,每点=0.8)" in out
    assert "生成的评分标准：以0为标准，≤0得满分（8分）；每超过1个百分点扣0.8分，扣完为止。" in out
    assert "得分：实际值 2.5% 得 6 分（满分 8 分）" in out
    assert "扣分原因：实际值2.50%，超过0共2.5个百分点，扣2分" in out


def test_reading_without_a_value_prints_rule_and_standard_only(capsys):
    code, out, _ = rule(capsys, "30%以上、20%以上和10%以上，分别得6分、4分和2分", "--weight", 6)
    assert code == 0
    assert "规则：分档(≥30:6; ≥20:4; ≥10:2)" in out
    assert "生成的评分标准：≥30%得6分；≥20%得4分；≥10%得2分。" in out
    assert "得分" not in out.replace("评分标准", "")


def test_round_up_and_days(capsys):
    code, out, _ = rule(capsys, "足额配套的为满分,每少落实一个百分点扣0.4分,扣完为止。不足一个百分点的按照一个百分点计算。",
                        "--weight", 10, "--value", "99.5")
    assert code == 0 and "取整=向上" in out and "得 9.6 分" in out
    code, out, _ = rule(capsys, "≤25个工作日得满分6分,>50个工作日为0分,25-50个工作日按比例减分。",
                        "--weight", 6, "--value", 30, "--unit", "个工作日")
    assert code == 0
    assert "规则：按比例(目标=25,零分=50,方向=越低越好)" in out
    assert "≤25个工作日得满分（6分）" in out and "得 4.8 分" in out


def test_target_from_the_row(capsys):
    code, out, _ = rule(capsys, "按完成比例计算得分，满分为止", "--weight", 5, "--value", 80,
                        "--target", 90)
    assert code == 0
    assert "规则：按比例()" in out and "（目标值90%）" in out and "得 4.44 分" in out
    code, out, err = rule(capsys, "按完成比例计算得分", "--weight", 5, "--value", 80)
    assert code == 2 and "--target" in err


def test_tier_label_as_value(capsys):
    code, out, _ = rule(capsys, "制度健全得3分，基本健全得2分，不健全不得分", "--weight", 3,
                        "--value", "基本健全")
    assert code == 0
    assert "规则：人工(健全=3,基本健全=2,不健全=0)" in out
    assert "得分：实际值 基本健全 得 2 分" in out and "评定为“基本健全”" in out


@pytest.mark.parametrize(
    "text, word",
    [
        ("每低1个百分点扣0.5-1分，扣完为止", "分数区间"),
        ("项目实施组织管理到位的得6分;实行不力的酌情扣分,扣完6分为止。", "酌情"),
        ("超额完成的,每增加1000亩,加0.05分,以2分为限。", "加分"),
        ("详见评分细则", "无法自动识别"),
    ],
)
def test_manual_texts_say_why(capsys, text, word):
    code, out, _ = rule(capsys, text, "--weight", 14, "--value", 80)
    assert code == 1
    assert "解读：人工评分（不自动计分）" in out
    assert f"原因：评分标准“{text[:30]}" in out and word in out
    assert "规则：" not in out and "得分：" not in out


def test_text_written_for_other_full_points(capsys):
    code, out, _ = rule(capsys, "≤100%计6分；每超过一个百分点扣0.5分", "--weight", 8, "--value", 103)
    assert code == 1
    assert "按满分 6 分写成，与分值 8 分不一致" in out
    assert "得 4.5 分（满分 6 分）" in out


@pytest.mark.parametrize(
    "args, words",
    [
        (["--weight", "abc"], "--weight“abc”不是数字"),
        (["--weight", "0"], "必须大于0"),
        (["--weight", "5", "--value", "九十"], "--value“九十”不是数字"),
        (["--weight", "5", "--target", "x"], "--target“x”不是数字"),
    ],
)
def test_bad_arguments_exit_2_in_chinese(capsys, args, words):
    code, out, err = rule(capsys, "100%计满分，每低于5%扣2分，扣完为止", *args)
    assert code == 2 and words in err


def test_weight_is_required(capsys):
    with pytest.raises(SystemExit) as e:
        main(["rule", "按比例得分"])
    assert e.value.code == 2
    assert "缺少必填参数" in capsys.readouterr().err


def test_a_count_is_read_with_its_unit(capsys):
    code, out, _ = rule(capsys, "作风建设(18分):遵纪守法。发现1例扣3.6分,扣完为止。", "--weight", 18,
                        "--value", 2, "--unit", "例")
    assert code == 0
    assert "规则：逐点扣分(基准=0,方向=高于,每点=3.6,单位=例)" in out
    assert "生成的评分标准：0例得满分（18分），每多1例扣3.6分，扣完为止。" in out
    assert "得 10.8 分" in out and "扣分原因：实际值2例，超过0共2例，扣7.2分" in out


def test_a_text_compared_with_the_target_needs_it(capsys):
    text = "农田灌溉水有效利用系数达到年度目标值,得 6 分;小于目标值,不得分。"
    code, out, _ = rule(capsys, text, "--weight", 6, "--value", "0.56", "--target", "0.55",
                        "--unit", "")
    assert code == 0
    assert "规则：分档(≥0.55:6; <0.55:0)" in out and "得 6 分" in out
    code, out, _ = rule(capsys, text, "--weight", 6, "--value", "0.56")
    assert code == 1 and "需要目标值" in out and "规则：" not in out


RANGES = "资金全部到位(14分)到位率在75%以上(10分到13分)到位率50%以上(7分到9分)到位率不足50%(6分到0分)"


def test_score_range_band_leaves_the_value_to_the_evaluator(capsys):
    code, out, err = rule(capsys, RANGES, "--weight", 14, "--value", 80)
    assert code == 1 and err == ""
    assert "规则：分档(≥100:14; ≥75:10~13; ≥50:7~9; <50:0~6)" in out
    assert "≥75%得10至13分（由评价人在区间内评定）" in out
    assert "得分：实际值 80% 由评价人评定（10至13分）" in out
    assert "原因：实际值80.00%属于“≥75%”档：10分至13分，由评价人在区间内评定" in out
    # a value in the fixed band is scored
    code, out, _ = rule(capsys, RANGES, "--weight", 14, "--value", 100)
    assert code == 0 and "得分：实际值 100% 得 14 分（满分 14 分）" in out


def json_rule(capsys, *args):
    import json

    code, out, err = rule(capsys, *args, "--json")
    return code, json.loads(out), err


def test_json_of_a_scored_value(capsys):
    code, data, err = json_rule(capsys, "≥90%得满分，每低1个百分点扣0.5分", "--weight", 5,
                                "--value", "87.5")
    assert code == 0 and err == ""
    assert data == {
        "text": "≥90%得满分，每低1个百分点扣0.5分", "weight": 5, "value": 87.5, "target": None,
        "unit": "%", "read": True, "rule": "逐点扣分(基准=90,方向=低于,每点=0.5)",
        "standard": "以90%为标准，≥90%得满分（5分）；每低于1个百分点扣0.5分，扣完为止。",
        "stated_weight": None, "score": 3.75, "score_range": None, "manual": False,
        "reason": None, "deduction": "实际值87.50%，低于90%共2.5个百分点，扣1.25分", "note": None}


def test_json_of_a_range_band_and_of_a_manual_text(capsys):
    code, data, _ = json_rule(capsys, RANGES, "--weight", 14, "--value", 60)
    assert code == 1
    assert (data["read"], data["manual"], data["score"], data["score_range"]) == (
        True, True, None, [7, 9])
    assert data["rule"] == "分档(≥100:14; ≥75:10~13; ≥50:7~9; <50:0~6)"
    assert "“≥50%”档：7分至9分，由评价人在区间内评定" in data["reason"]
    code, data, _ = json_rule(capsys, "根据实际情况酌情扣分", "--weight", 6)
    assert code == 1
    assert (data["read"], data["manual"], data["rule"], data["standard"], data["score"]) == (
        False, True, None, None, None)
    assert data["reason"].startswith("评分标准“根据实际情况酌情扣分”") and "酌情" in data["reason"]


def test_json_of_tiers_targets_and_other_full_points(capsys):
    code, data, _ = json_rule(capsys, "制度健全得3分，基本健全得2分，不健全不得分", "--weight", 3,
                              "--value", "基本健全")
    assert code == 0 and (data["value"], data["score"]) == ("基本健全", 2)
    code, data, _ = json_rule(capsys, "按完成比例计算得分，满分为止", "--weight", 5,
                              "--value", 80, "--target", 90)
    assert code == 0 and data["target"] == 90 and abs(data["score"] - 40 / 9) < 1e-9
    code, data, _ = json_rule(capsys, "≤100%计6分；每超过一个百分点扣0.5分", "--weight", 8,
                              "--value", 103)
    assert code == 1 and (data["stated_weight"], data["score"], data["manual"]) == (6, 4.5, False)


def test_json_bad_arguments_print_no_json(capsys):
    code, out, err = rule(capsys, "详见细则", "--weight", "x", "--json")
    assert code == 2 and out == "" and "--weight“x”不是数字" in err


def test_json_is_utf8_in_a_subprocess(tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONIOENCODING": "gbk"}
    done = subprocess.run([sys.executable, "-m", "perfeval_xl", "rule", RANGES, "--weight", "14",
                           "--value", "100", "--json"], capture_output=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    data = json.loads(done.stdout.decode("utf-8"))
    assert (data["score"], data["text"]) == (14, RANGES)


def test_kinds_of_one_count_are_explained(capsys):
    text = "未按规定公开的，每项扣0.2分；公开内容不准确的，每项扣0.2分"
    code, out, _ = rule(capsys, text, "--weight", 1, "--value", 3)
    assert code == 0 and "说明：评分标准列出的各种扣分情形按同一标准扣分：实际值填写各种情形合计的项数。" in out
    code, data, _ = json_rule(capsys, text, "--weight", 1, "--value", 3)
    assert data["note"].endswith("合计的项数。") and abs(data["score"] - 0.4) < 1e-9
