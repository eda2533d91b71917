"""勾稽校验: a plain list of small checks, each ``(evaluation, context) -> [Problem]``.

Every check has a stable code (docs/checks.md lists them) and points at the cell to fix.
Amounts compare with a tolerance of half a cent of 万元 (0.005), the display precision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from openpyxl.utils import get_column_letter

from perfeval_xl import catalogue, indicators
from perfeval_xl.display import clip, fmt_amount, fmt_score
from perfeval_xl.model import Evaluation, IndicatorResult, Location, Problem
from perfeval_xl.workbook import layout

TOLERANCE = Decimal("0.005")
IMPLAUSIBLE_RATE = Decimal(200)
HUNDRED = Decimal(100)


@dataclass
class Context:
    """What the checks may look at besides the evaluation itself."""

    results: list[IndicatorResult]
    derived: dict[str, Decimal | None]


def _v(ev: Evaluation, name: str) -> Decimal | None:
    v = ev.inputs[name].value
    return v if isinstance(v, Decimal) else None


def _loc(ev: Evaluation, name: str) -> Location | None:
    return ev.inputs[name].location


def check_spending_sum(ev: Evaluation, ctx: Context) -> list[Problem]:
    """基本支出 + 项目支出 = 本年实际支出."""
    total, basic, project = (_v(ev, n) for n in ("spending_total", "spending_basic", "spending_project"))
    if None in (total, basic, project) or abs(basic + project - total) <= TOLERANCE:
        return []
    return [Problem(
        "error", "sum-mismatch",
        f"基本支出 {fmt_amount(basic)} 万元 + 项目支出 {fmt_amount(project)} 万元 = {fmt_amount(basic + project)} 万元，"
        f"与本年实际支出 {fmt_amount(total)} 万元不一致，请核对这三项。", _loc(ev, "spending_total"))]


def check_overspend(ev: Evaluation, ctx: Context) -> list[Problem]:
    """本年实际支出 ≤ 可用资金 (调整后预算 + 上年结转 + 其他资金)."""
    total, funds = _v(ev, "spending_total"), ctx.derived.get("funds_available")
    if total is None or funds is None or total <= funds + TOLERANCE:
        return []
    return [Problem(
        "error", "overspend",
        f"本年实际支出 {fmt_amount(total)} 万元超过可用资金 {fmt_amount(funds)} 万元（调整后预算+上年结转+其他资金），"
        "请核对支出或资金来源。", _loc(ev, "spending_total"))]


def check_balance(ev: Evaluation, ctx: Context) -> list[Problem]:
    """年末结转结余 = 可用资金 − 本年实际支出, when both sides are given."""
    bal, total, funds = _v(ev, "balance_closing"), _v(ev, "spending_total"), ctx.derived.get(
        "funds_available")
    if None in (bal, total, funds):
        return []
    expected = funds - total
    if abs(expected - bal) <= TOLERANCE:
        return []
    return [Problem(
        "warning", "balance-mismatch",
        f"年末结转结余 {fmt_amount(bal)} 万元与“可用资金 − 本年实际支出” = {fmt_amount(expected)} 万元不一致，"
        "请核对（若有其他收入或退回资金，请在预算资金补充说明中写明）。", _loc(ev, "balance_closing"))]


def check_staff(ev: Evaluation, ctx: Context) -> list[Problem]:
    """人员构成表合计 = 实有在职人数."""
    actual = _v(ev, "staff_actual")
    rows = ev.tables.get("tbl_staff", [])
    counts = [r.get("人数") for r in rows if isinstance(r.get("人数"), Decimal)]
    if actual is None or not counts or sum(counts) == actual:
        return []
    return [Problem(
        "error", "staff-mismatch",
        f"人员构成表合计 {sum(counts)} 人，与实有在职人数 {actual} 人不一致，请核对。",
        _loc(ev, "staff_actual"))]


def check_tasks(ev: Evaluation, ctx: Context) -> list[Problem]:
    """Task counts: completed/on time/quality ≤ planned; key completed ≤ key assigned."""
    out = []
    pairs = [("tasks_completed", "tasks_planned"), ("tasks_on_time", "tasks_planned"),
             ("tasks_quality_ok", "tasks_planned"), ("key_tasks_completed", "key_tasks_assigned")]
    labels = catalogue.inputs()
    for part, whole in pairs:
        p, w = _v(ev, part), _v(ev, whole)
        if p is not None and w is not None and p > w:
            out.append(Problem(
                "error", "count-exceeds",
                f"{labels[part].label} {p} 大于 {labels[whole].label} {w}，请核对重点工作清单。",
                _loc(ev, part)))
    return out


def check_signs(ev: Evaluation, ctx: Context) -> list[Problem]:
    """Amounts and counts are never negative; years are plausible; the unit is named."""
    out = []
    for d in catalogue.inputs().values():
        v = _v(ev, d.name)
        if d.type in ("amount", "count", "percent") and v is not None and v < 0:
            out.append(Problem("error", "negative-number",
                               f"“{d.label}”不能为负数（当前 {v}），请核对。", _loc(ev, d.name)))
        if d.type == "count" and v is not None and v != v.to_integral_value():
            out.append(Problem("error", "not-integer",
                               f"“{d.label}”应为整数（当前 {v}）。", _loc(ev, d.name)))
    year = _v(ev, "eval_year")
    if year is None or not (2000 <= year <= 2100) or year != year.to_integral_value():
        out.append(Problem("error", "year-invalid",
                           "评价年度应填写四位年份，如 2021。", _loc(ev, "eval_year")))
    if not ev.unit_name:
        out.append(Problem("error", "unit-missing", "请填写单位名称。", _loc(ev, "unit_name")))
    return out


def check_weights(ev: Evaluation, ctx: Context) -> list[Problem]:
    """Weights are numbers ≥ 0 and sum to 100; each score lies in [0, 分值]."""
    out = []
    total = Decimal(0)
    for row in ev.rows:
        if row.weight is None:
            out.append(Problem("error", "weight-missing",
                               f"“{clip(row.name)}”未填写分值，请填写数字。", row.weight_loc))
        elif row.weight < 0:
            out.append(Problem("error", "weight-invalid",
                               f"“{clip(row.name)}”的分值不能为负数。", row.weight_loc))
        else:
            total += row.weight
    if ev.rows and total != HUNDRED:
        first = next((r.weight_loc for r in ev.rows if r.weight_loc), None)
        out.append(Problem(
            "error", "weights-sum",
            f"各指标分值合计为 {fmt_score(total)} 分，应为 100 分，请调整自评表“分值”列。", first))
    for r in ctx.results:
        if r.score is not None and r.weight is not None and not (0 <= r.score <= r.weight):
            out.append(Problem("error", "score-out-of-range",
                               f"“{clip(r.name)}”得分 {r.score} 超出 0～{r.weight} 分。", r.location))
    return out


def check_required_inputs(ev: Evaluation, ctx: Context) -> list[Problem]:
    """A weighted rate that cannot be computed: say which input is blank or zero."""
    out = []
    weighted = {r.code for r in ev.rows if r.weight}
    # A cell the reader already rejected (text, #DIV/0!) is not "blank": its error says more.
    rejected = {p.location for p in ev.problems if p.severity == "error"}
    for r in ctx.results:
        if r.code not in weighted or r.kind != "rate" or r.value is not None:
            continue
        if r.zero_denominator:
            den = indicators.denominator_input(r.code)
            loc = _loc(ev, den) if den in ev.inputs else None
            out.append(Problem("error", "zero-denominator",
                               f"{r.note}，请核对该数据（{clip(r.name)}按0分计入总分）。", loc or r.location))
            continue
        for name in r.blank_inputs:
            if _loc(ev, name) in rejected:
                continue
            label = catalogue.inputs()[name].label
            out.append(Problem(
                "error", "missing-input",
                f"“{label}”未填写，无法计算{clip(r.name)}（按0分计入总分），请填写。",
                _loc(ev, name) or r.location))
    # One blank input can block several rates: report each cell once.
    seen, unique = set(), []
    for p in out:
        key = (p.code, p.location)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def check_rates_plausible(ev: Evaluation, ctx: Context) -> list[Problem]:
    """A ratio over 200 % is almost always a unit slip (元 vs 万元, % typed twice)."""
    out = []
    for r in ctx.results:
        if r.kind == "rate" and r.value is not None and abs(r.value) > IMPLAUSIBLE_RATE \
                and r.code not in ("carryover_change_rate", "three_public_change_rate"):
            out.append(Problem(
                "warning", "implausible-rate",
                f"{clip(r.name)}为 {r.value:.2f}%，超过 200%，请核对相关数据的单位（万元）是否一致。",
                r.location))
    return out


def check_narratives(ev: Evaluation, ctx: Context) -> list[Problem]:
    """Narrative fields the report needs are filled (warning: the report still renders)."""
    out = []
    for name, (_sheet, label, required) in layout.TEXTS.items():
        cell = ev.texts.get(name)
        if required and cell is not None and cell.location and not cell.value:
            out.append(Problem("warning", "narrative-missing",
                               f"“{label}”未填写，报告中该部分将缺少内容。", cell.location))
    for name, label in (("tbl_problems", "存在问题"), ("tbl_suggestions", "建议和改进举措")):
        if not ev.tables.get(name) and name in ev.anchors:
            a = ev.anchors[name]
            out.append(Problem("warning", "narrative-missing",
                               f"“{label}”表为空，报告中该部分将缺少内容。",
                               Location(a["sheet"], f"{get_column_letter(a['min_col'])}{a['first'] + 1}")))
    return out


Check = Callable[[Evaluation, Context], list[Problem]]

CHECKS: list[Check] = [
    check_signs,
    check_spending_sum,
    check_overspend,
    check_balance,
    check_staff,
    check_tasks,
    check_weights,
    check_required_inputs,
    check_rates_plausible,
    check_narratives,
]


def validate(ev: Evaluation, ctx: Context) -> list[Problem]:
    """Run every check in order and collect their problems."""
    out: list[Problem] = []
    for check in CHECKS:
        out.extend(check(ev, ctx))
    return out
