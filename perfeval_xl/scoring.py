"""Scores every indicator row from its rule (rules-as-data), then the total and the grade.

Conventions (documented in docs/scoring.md):
- a row whose value cannot be computed scores None and counts 0 in the total; a problem
  at the row says why, so the total is never silently complete;
- caps on the total (评分设置 › tbl_caps) apply when the indicator's value lies in
  [下限, 上限) — lower bound inclusive, upper exclusive;
- grade bands include their lower bound (财预〔2020〕10号 第十八条).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from perfeval_xl import catalogue, rules
from perfeval_xl.display import clip, fmt_rate, fmt_score
from perfeval_xl.indicators import Calc, compute
from perfeval_xl.model import Evaluation, IndicatorResult, Problem, ScoreRow


def grade_for(total: Decimal | None, bands: list[tuple[str, Decimal]]) -> str:
    """The label of the first band whose lower bound ``total`` reaches (bands best first)."""
    if total is None:
        return ""
    for label, lower in sorted(bands, key=lambda b: b[1], reverse=True):
        if total >= lower:
            return label
    return bands[-1][0] if bands else ""


def input_values(ev: Evaluation) -> dict[str, Decimal | None]:
    """§4.3 input values as Decimal (None for blank or unusable)."""
    return {k: (c.value if isinstance(c.value, Decimal) else None) for k, c in ev.inputs.items()}


def _row_rule(row: ScoreRow) -> rules.Rule:
    rule = rules.parse_rule(row.rule_text)
    # The 个性指标 sheet's 方向 column decides the direction of a proportional rule.
    if row.kind == "custom" and isinstance(rule, rules.Proportional):
        rule = dataclasses.replace(rule, lower_is_better=(row.direction == "反向"))
    return rule


def score_row(row: ScoreRow, values: dict[str, Decimal | None]) -> tuple[IndicatorResult, list[Problem]]:
    """Compute and score one row; never raises for workbook content."""
    problems: list[Problem] = []
    cat = catalogue.indicators().get(row.code)
    calc: Calc | None = None
    res = IndicatorResult(
        code=row.code, name=row.name, level1=row.level1, level2=row.level2, kind=row.kind,
        value=None, unit=row.unit, weight=row.weight, score=None, standard="",
        rule_text=row.rule_text, location=row.location)
    if cat is not None and cat.kind == "rate":
        calc = compute(row.code, values)
        res.value, res.note = calc.value, calc.note
        res.numerator, res.denominator = calc.numerator, calc.denominator
        res.formula_text = cat.formula_text
        res.inputs = dict(calc.used)
        res.blank_inputs, res.zero_denominator = list(calc.blank), calc.zero_denominator
    elif row.kind == "custom":
        res.value = row.entered if row.direction == "定性" else row.actual
    else:
        res.value = row.entered
    try:
        rule = _row_rule(row)
    except rules.RuleError as exc:
        problems.append(Problem("error", "bad-rule", exc.message, row.rule_loc))
        res.standard = f"（评分规则有误：{clip(row.rule_text)}）"
        return res, problems
    if row.weight is None:
        return res, problems
    target = row.target if row.kind == "custom" else None
    try:
        res.standard = rules.describe_rule(rule, row.weight, row.unit, target)
    except rules.RuleError as exc:  # e.g. proportional without target on a custom row
        res.standard = f"（{exc.message}）"
    full = rules.full_marks(rule, row.weight)
    if full != row.weight and not isinstance(rule, rules.Manual):
        problems.append(Problem(
            "error", "rule-weight-mismatch",
            f"{clip(row.name)}的评分规则最高可得{fmt_score(full)}分，与分值{fmt_score(row.weight)}分不一致，请修改评分规则或分值。",
            row.rule_loc))
    if res.value is None or res.value == "":
        if calc is None:
            what = "评价等级或得分" if row.kind == "qualitative" or row.direction == "定性" else "实际值"
            where = row.entered_loc if row.kind == "qualitative" else (
                row.entered_loc if row.direction == "定性" else row.actual_loc)
            problems.append(Problem(
                "error", "missing-assessment",
                f"{clip(row.name)}未填写{what}，无法评分（按0分计入总分）。", where))
            res.note = f"未填写{what}"
        return res, problems
    try:
        res.score = rules.score_rule(rule, res.value, row.weight, target)
    except rules.EvaluatorScore:
        return _evaluator_score(row, res, rule, target, problems)
    except rules.RuleError as exc:
        loc = row.entered_loc if res.value is row.entered else (row.target_loc or row.rule_loc)
        problems.append(Problem("error", "score-input-invalid", exc.message, loc))
        return res, problems
    if res.score < row.weight:
        text = rules.deduction_text(rule, res.value, row.weight, res.score, row.unit, target)
        res.note = "；".join(x for x in (text, res.note) if x)
    return res, problems


def _evaluator_score(row: ScoreRow, res: IndicatorResult, rule: rules.Rule, target,
                     problems: list[Problem]) -> tuple[IndicatorResult, list[Problem]]:
    """A value in a score-range band (“75%以上(10分到13分)”): the evaluator's own score, when
    one was typed, if it lies in the range; otherwise no score and a problem saying the
    range. Never a score the rule does not give."""
    low, high, reason = rules.evaluator_range(rule, res.value, row.weight, row.unit)
    where = row.hand_score_loc or row.actual_loc or row.entered_loc or row.rule_loc
    span = f"{fmt_score(low)}–{fmt_score(high)}分"
    hand = row.hand_score
    if row.hand_score_loc is None:
        # Our own workbook computes every 得分: there is no cell for the evaluator's pick.
        res.note = reason
        problems.append(Problem(
            "warning", "band-score-needed",
            f"{clip(row.name)}：{reason}。本表的得分由评分规则计算，没有可填写区间内得分的单元格："
            "请把评分规则改为固定分值的档位，或改为人工评分（如 人工()）由评价人直接评分"
            "（本行暂按0分计入总分）。", row.rule_loc or where))
        return res, problems
    if hand is None or (isinstance(hand, str) and not hand.strip()):
        res.note = reason
        problems.append(Problem(
            "warning", "band-score-needed",
            f"{clip(row.name)}：{reason}。请评价人在“得分”栏填写{span}之间的得分"
            "（未填写时按0分计入总分）。", where))
        return res, problems
    try:
        score = rules.score_rule(rules.Manual(), hand, row.weight)  # a number in [0, 分值]
    except rules.RuleError:
        score = None
    if score is None or not low <= score <= high:
        res.note = reason
        problems.append(Problem(
            "error", "score-out-of-range",
            f"{clip(row.name)}的得分“{clip(str(hand))}”不在评分标准允许的区间内：{reason}。"
            f"请改为{span}之间的得分。", where))
        return res, problems
    res.score = score
    if score < row.weight:
        res.note = rules.deduction_text(rule, res.value, row.weight, score, row.unit, target)
    return res, problems


def apply_caps(total: Decimal, results: list[IndicatorResult],
               caps: list[tuple[str, Decimal | None, Decimal | None, Decimal]]) -> tuple[Decimal, str]:
    """Cap the total when an indicator's value lies in a cap's range; returns (total, note)."""
    notes = []
    for code, low, high, max_total in caps:
        r = next((x for x in results if x.code == code), None)
        if r is None or not isinstance(r.value, Decimal):
            continue
        if (low is None or r.value >= low) and (high is None or r.value < high) and total > max_total:
            total = max_total
            notes.append(f"{r.name}为{fmt_rate(r.value)}，总分上限为{fmt_score(max_total)}分")
    return total, "；".join(notes)


def score_all(ev: Evaluation) -> tuple[list[IndicatorResult], Decimal, str, str, list[Problem]]:
    """Score every row of the workbook. Returns (results, total, grade, cap note, problems)."""
    values = input_values(ev)
    results, problems = [], []
    for row in ev.rows:
        res, probs = score_row(row, values)
        results.append(res)
        problems.extend(probs)
    total = sum((r.score for r in results if r.score is not None), Decimal(0))
    total, cap_note = apply_caps(total, results, ev.caps)
    return results, total, grade_for(total, ev.grade_bands), cap_note, problems
