"""Worksheet functions (UDFs) of the self-evaluation workbook: ``PE_RATE``, ``PE_INDICATOR``,
``PE_SCORE``, ``PE_RULE_TEXT`` and ``PE_GRADE``.

Each UDF converts its Excel arguments and calls the engine's pure functions (rules,
indicators, scoring). Expected conditions come back as a short Chinese marker (see
``MARKERS``); a UDF never raises and never returns Python exception text, because xlwings
would put that text into the cell.

Why no type annotations on the UDFs: on Windows ``@xw.func`` turns annotations into xlwings
converters. The arguments arrive as Excel gives them (float, str, bool, None, datetime, or a
list for a multi-cell range) and are converted here.

Import cost: ``import xlwings`` itself pulls in pandas/numpy (~1 s, measured in
docs/excel.md); the xlwings COM server has imported it already when it loads this module.
Our own imports are standard-library only (rules, indicators, scoring, catalogue: tomllib),
and they are loaded lazily on first call.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from decimal import Decimal, InvalidOperation

import xlwings as xw

# The markers a UDF returns instead of raising. Stable: the sheet's conditional formats
# and the docs refer to them.
MISSING = "缺少数据"
ZERO_DENOMINATOR = "分母为0"
BAD_RULE = "规则有误"
BAD_TYPE = "参数类型错误"
BAD_CODE = "指标代码有误"
BAD_COUNT = "参数个数错误"
BAD_TIER = "等级无效"
NO_TARGET = "缺少目标值"
EVALUATOR = "需评价人评定"  # a 分档 score range ("10~13") or gap: no score from the rule
FAILED = "计算出错"
MARKERS = (MISSING, ZERO_DENOMINATOR, BAD_RULE, BAD_TYPE, BAD_CODE, BAD_COUNT, BAD_TIER,
           NO_TARGET, FAILED, EVALUATOR)

# 财预〔2020〕10号 第十八条, used by PE_GRADE when no band table is given.
DEFAULT_BANDS = (("优", Decimal(90)), ("良", Decimal(80)), ("中", Decimal(60)), ("差", Decimal(0)))

CATEGORY = "绩效评价"  # Excel's Insert Function dialog shows it

# name -> (function, @xw.func options, {argument: @xw.arg options}). The macro-workbook
# builder replays exactly these with xlwings' own decorators to generate the VBA wrappers.
UDF_SPECS: dict[str, tuple] = {}


class _Marker(Exception):
    def __init__(self, marker: str):
        super().__init__(marker)
        self.marker = marker


def _udf(args: dict | None = None, **options):
    """``@xw.arg``/``@xw.func`` with ``options``, recorded in UDF_SPECS, never raising."""

    def deco(f):
        @functools.wraps(f)
        def safe(*a):
            try:
                return f(*a)
            except _Marker as m:
                return m.marker
            except Exception:  # a UDF's exception text would land in the cell
                return FAILED

        wrapped = safe
        for name, opts in (args or {}).items():
            wrapped = xw.arg(name, **opts)(wrapped)
        wrapped = xw.func(**options)(wrapped)
        UDF_SPECS[f.__name__] = (wrapped, dict(options), {k: dict(v) for k, v in
                                                          (args or {}).items()})
        return wrapped

    return deco


# --------------------------------------------------------------------------- conversions


def _blank(x) -> bool:
    return x is None or (isinstance(x, str) and not x.strip())


def _number(x, *, required: bool = True) -> Decimal | None:
    """An Excel argument as Decimal; markers for blank (when required) and wrong types.

    A marker string coming from another PE_ cell propagates unchanged, so a chain of UDFs
    shows the first cause ("缺少数据") rather than a type error.
    """
    if _blank(x):
        if required:
            raise _Marker(MISSING)
        return None
    if isinstance(x, bool):
        raise _Marker(BAD_TYPE)
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, int):
        d = Decimal(x)
    elif isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            raise _Marker(BAD_TYPE)
        d = Decimal(repr(x))
    elif isinstance(x, str):
        s = x.strip()
        if s in MARKERS:
            raise _Marker(s)
        s = unicodedata.normalize("NFKC", s).replace(",", "").replace(" ", "")
        if s.endswith("%"):
            s = s[:-1]
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise _Marker(BAD_TYPE) from None
    else:  # datetime, a multi-cell range (list), an error value ...
        raise _Marker(BAD_TYPE)
    if not d.is_finite():
        raise _Marker(BAD_TYPE)
    return d


def _text(x) -> str:
    if x is None:
        return ""
    if isinstance(x, str):
        return x.strip()
    raise _Marker(BAD_TYPE)


def _out(d: Decimal) -> float:
    return float(d)


# --------------------------------------------------------------------------- UDFs


@_udf(category=CATEGORY, args={
    "numerator": {"doc": "分子：数字、单元格或定义名称（如 spending_total）"},
    "denominator": {"doc": "分母：不能为 0"}})
def PE_RATE(numerator, denominator):
    """比率（百分数）：分子 ÷ 分母 × 100。98.29 表示 98.29%。

    分子或分母为空返回“缺少数据”，分母为 0 返回“分母为0”，不是数字返回“参数类型错误”。
    """
    n = _number(numerator)
    d = _number(denominator)
    if d == 0:
        raise _Marker(ZERO_DENOMINATOR)
    return _out(n / d * 100)


@_udf(category=CATEGORY, args={
    "code": {"doc": "指标代码，如 \"budget_completion_rate\""},
    "inputs": {"doc": "该指标的输入（定义名称），按 docs/excel.md 所列顺序"}})
def PE_INDICATOR(code, *inputs):
    """按指标库公式计算共性指标（百分数），如 PE_INDICATOR("budget_completion_rate", …)。

    参数依次为该指标所用的输入（定义名称），顺序见 docs/excel.md。可选加数（如上年结转）
    为空按 0 计；必需数据为空返回“缺少数据”，分母为 0 返回“分母为0”。
    """
    from perfeval_xl import catalogue, indicators

    key = _text(code)
    ind = catalogue.indicators().get(key)
    if ind is None or ind.kind != "rate":
        raise _Marker(BAD_CODE)
    names = indicators.input_names(key)
    if len(inputs) != len(names):
        raise _Marker(BAD_COUNT)
    values = {n: _number(v, required=False) for n, v in zip(names, inputs, strict=True)}
    calc = indicators.compute(key, values)
    if calc.value is None:
        raise _Marker(ZERO_DENOMINATOR if calc.zero_denominator else MISSING)
    return _out(calc.value)


@_udf(category=CATEGORY, args={
    "value": {"doc": "实际值（百分数）；定性指标填等级（优/良/中/差）"},
    "rule_text": {"doc": "评分规则，如 按比例(目标=100)"},
    "weight": {"doc": "分值"},
    "target": {"doc": "可选：目标值（评分规则未写目标时需要）"},
    "direction": {"doc": "可选：方向，“反向”表示越低越好"}})
def PE_SCORE(value, rule_text, weight, target=None, direction=None):
    """按评分规则计算得分，如 PE_SCORE(L5, G5, E5)。

    value 为实际值（百分数）或定性指标的等级（优/良/中/差）或分数；rule_text 为“评分规则”；
    weight 为分值；target 为目标值（仅“按比例()”未写目标时需要）；direction 为个性指标的
    方向（“反向”表示越低越好）。
    """
    import dataclasses

    from perfeval_xl import rules

    rule = _rule(rule_text)
    # As the engine does for 个性指标 rows: the 方向 column decides a proportional rule.
    if isinstance(rule, rules.Proportional) and isinstance(direction, str) and direction.strip():
        rule = dataclasses.replace(rule, lower_is_better=direction.strip() == "反向")
    w = _number(weight)
    if isinstance(rule, rules.Manual):
        if _blank(value):
            raise _Marker(MISSING)
        if isinstance(value, str) and value.strip() in MARKERS:
            raise _Marker(value.strip())
        v = value.strip() if isinstance(value, str) else _number(value)
    else:
        v = _number(value)
    t = _number(target, required=False)
    try:
        return _out(rules.score_rule(rule, v, w, t))
    except rules.EvaluatorScore:
        raise _Marker(EVALUATOR) from None
    except rules.RuleError:
        if isinstance(rule, rules.Manual):
            raise _Marker(BAD_TIER) from None
        if isinstance(rule, rules.Proportional) and rule.target is None and t is None:
            raise _Marker(NO_TARGET) from None
        raise _Marker(BAD_TYPE) from None


@_udf(category=CATEGORY, args={
    "rule_text": {"doc": "评分规则"},
    "weight": {"doc": "分值"},
    "unit": {"doc": "可选：实际值的单位，默认为 %"}})
def PE_RULE_TEXT(rule_text, weight, unit="%"):
    """由评分规则生成评分标准文字，如 PE_RULE_TEXT(G5, E5)。unit 默认为“%”。"""
    from perfeval_xl import rules

    rule = _rule(rule_text)
    w = _number(weight)
    try:
        return rules.describe_rule(rule, w, _text(unit))
    except rules.RuleError:
        raise _Marker(BAD_RULE) from None


@_udf(category=CATEGORY, args={
    "total": {"doc": "总分"},
    "bands": {"ndim": 2, "doc": "可选：等级表（两列：等级、分数下限）"}})
def PE_GRADE(total, bands=None):
    """由总分评定等级。bands 为两列区域（等级、分数下限），可含表头；
    省略时按财预〔2020〕10号：≥90 优，≥80 良，≥60 中，其余差。"""
    from perfeval_xl import scoring

    t = _number(total)
    table = list(DEFAULT_BANDS) if bands is None else _bands(bands)
    return scoring.grade_for(t, table)


def _rule(rule_text):
    from perfeval_xl import rules

    if not isinstance(rule_text, str):
        raise _Marker(BAD_RULE)
    try:
        return _parse(rule_text)
    except rules.RuleError:
        raise _Marker(BAD_RULE) from None


@functools.lru_cache(maxsize=256)
def _parse(rule_text: str):
    # Rules are frozen dataclasses, so one parse serves every recalculation of the sheet.
    from perfeval_xl import rules

    return rules.parse_rule(rule_text)


def _bands(bands) -> list[tuple[str, Decimal]]:
    """A band range as (label, lower) pairs; header and blank rows are skipped."""
    if not isinstance(bands, (list, tuple)):
        raise _Marker(BAD_TYPE)
    rows = bands if bands and isinstance(bands[0], (list, tuple)) else [bands]
    out = []
    for row in rows:
        if len(row) < 2 or _blank(row[0]):
            continue
        try:
            lower = _number(row[1])
        except _Marker:
            continue  # the header row (等级 / 分数下限) or a blank lower bound
        label = row[0] if isinstance(row[0], str) else format(_number(row[0]).normalize(), "f")
        out.append((label.strip(), lower))
    if not out:
        raise _Marker(BAD_TYPE)
    return out
