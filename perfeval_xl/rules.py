"""Scoring rules as data: the machine-readable 评分规则 of one indicator row.

This module owns the rule syntax (docs/rules.md), its parser (never ``eval``), scoring,
the human 评分标准 text generated from a rule, the 扣分原因 text, and the entry points for
reading a county's own free-text 评分标准 (``read_standard_text``, ``parse_standard_text``),
whose grammar lives in ``rules_text`` and is imported only when a text is read.

Pure standard library on purpose: Excel UDFs import it, so it must import fast.

All numbers are ``Decimal``. Rate values are in percent (98.29 means 98.29 %). Scores keep
full precision and are clamped to [0, weight]; callers round for display.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "Band",
    "Bands",
    "DeductPerPoint",
    "DeductPerStep",
    "Manual",
    "Proportional",
    "Rule",
    "RuleError",
    "Tier",
    "EvaluatorScore",
    "deduction_text",
    "describe_rule",
    "evaluator_range",
    "format_rule",
    "full_marks",
    "parse_rule",
    "parse_standard_text",
    "read_standard_text",
    "StandardReading",
    "rule_kind",
    "score_rule",
    "tier_labels",
]

ABOVE = "above"
BELOW = "below"
_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


class RuleError(ValueError):
    """A malformed rule or an input the rule cannot score.

    ``message`` is Chinese and says what is wrong and how to write it correctly.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class EvaluatorScore(RuleError):
    """``score_rule`` of a ``分档`` rule whose value falls in a band that gives a score
    RANGE (``[75,100):10~13``), or in no band of a rule with ``其余=人工``: the rule gives no
    score; the evaluator picks one in [low, high]. A ``RuleError``, so callers that do not
    know it treat the value as unscorable, never as a score.

    Attributes:
        low / high: the allowed score range in points (clamped to [0, weight]).
        band: the matching band, or None for a value in no band.
        message: Chinese, quoting the band: "实际值80.00%属于“75%（含）-100%”档：10分至13分，
            由评价人在区间内评定".
    """

    def __init__(self, message: str, low: Decimal, high: Decimal, band: Band | None):
        super().__init__(message)
        self.low, self.high, self.band = low, high, band


# --------------------------------------------------------------------------- rule objects


@dataclass(frozen=True)
class Proportional:
    """``按比例``: score = weight × min(actual/target, 1) (财预〔2020〕10号 第十三条).

    Attributes:
        target: target value in the indicator's unit (percent for rates); None means the
            target comes from the data row (``score_rule(..., target=)``).
        lower_is_better: True for ``方向=越低越好``: weight × min(target/actual, 1), and an
            actual ≤ 0 scores full.
        zero: ``零分``: the value at which the score reaches 0; between ``target`` (full
            marks) and ``zero`` the score is linear ("≤15日得满分，>30日为0分，15-30日按比例
            减分"). Needs a target; ``lower_is_better`` is then ``zero > target``.
    """

    target: Decimal | None = None
    lower_is_better: bool = False
    zero: Decimal | None = None


@dataclass(frozen=True)
class DeductPerPoint:
    """``逐点扣分``: full marks on the good side of ``base``; beyond it, deduct
    ``per_point`` for every ``point`` units, continuously, until nothing is left.

    Attributes:
        base: the threshold (percent for rates).
        direction: "above" (高于: values over base lose points) or "below" (低于).
        per_point: points deducted per ``point`` units beyond base.
        point: size of one point, default 1 (one percentage point for rates).
        unit: ``单位``: the unit the value is counted in when the text names one and the
            value is a count ("每发现1例" → 例, value = cases found); "" otherwise. Only the
            texts use it (describe_rule, deduction_text); scoring does not.
        cutoff: ``不得分=<80``: beyond this value on the losing side the score is 0 before
            the deduction has taken everything ("每低1个百分点扣0.2分，低于80%不得分");
            None for none. ``cutoff_inclusive``: the cutoff value itself scores 0 (``≤80``).
    """

    base: Decimal
    direction: str
    per_point: Decimal
    point: Decimal = _ONE
    unit: str = ""
    cutoff: Decimal | None = None
    cutoff_inclusive: bool = False


@dataclass(frozen=True)
class DeductPerStep:
    """``阶梯扣分``: like ``DeductPerPoint`` but only FULL steps count (95 vs base 100 with
    step 5 is one step; 99.27 is none), unless ``round_up``.

    Attributes:
        base: the threshold.
        direction: "above" or "below".
        step: step size in the indicator's unit.
        per_step: points deducted per full step.
        round_up: ``取整=向上``: every step begun counts as a whole one ("不足一个百分点的按
            一个百分点计算"), so 99.5 vs base 100 with step 1 is one step.
        unit: ``单位``, as for ``DeductPerPoint``.
        cutoff / cutoff_inclusive: ``不得分=``, as for ``DeductPerPoint``.
    """

    base: Decimal
    direction: str
    step: Decimal
    per_step: Decimal
    round_up: bool = False
    unit: str = ""
    cutoff: Decimal | None = None
    cutoff_inclusive: bool = False


@dataclass(frozen=True)
class Band:
    """One band of ``分档``: a condition on the value and the points it gives.

    Attributes:
        low / high: interval ends; None means unbounded on that side. ``=x`` is
            ``low == high == x`` with both ends inclusive.
        low_inclusive / high_inclusive: whether each end belongs to the band.
        points: the band's score; points when ``percent`` is False, else percent of weight.
            For a range band, the upper end of the range.
        percent: True when written as ``75%`` (of the weight).
        points_low: the lower end of a score RANGE (``[75,100):10~13``: 10, ``points`` 13),
            or None for a fixed score. A value in a range band is scored by the evaluator
            within the range (``score_rule`` raises ``EvaluatorScore``).
    """

    low: Decimal | None
    high: Decimal | None
    low_inclusive: bool
    high_inclusive: bool
    points: Decimal
    percent: bool = False
    points_low: Decimal | None = None

    def contains(self, value: Decimal) -> bool:
        """Whether ``value`` falls in this band (ends inclusive as written)."""
        if self.low is not None:
            if value < self.low or (value == self.low and not self.low_inclusive):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and not self.high_inclusive):
                return False
        return True

    def score(self, weight: Decimal) -> Decimal:
        """The band's points for a row of ``weight`` 分 (before clamping); the upper end of
        a range band."""
        return weight * self.points / _HUNDRED if self.percent else self.points

    def score_low(self, weight: Decimal) -> Decimal:
        """The lower end of a range band's points (the points of a fixed band)."""
        if self.points_low is None:
            return self.score(weight)
        return weight * self.points_low / _HUNDRED if self.percent else self.points_low


@dataclass(frozen=True)
class Bands:
    """``分档``: the first band that contains the value wins; no band scores 0.

    Attributes:
        bands: the bands, in the order written.
        use_abs: ``绝对值;`` option: bands test |value| (e.g. 预算调整率 of either sign).
        unit: ``单位=次;`` option: the value's unit when it is a count ("未发现违规…得满分":
            the value is the number found), as for ``DeductPerPoint``; "" otherwise.
        rest_manual: ``其余=人工;`` option: a value in no band is left to the evaluator
            (the county text leaves a gap, "80%以上…60%以上…50%及以下"), not scored 0.
    """

    bands: tuple[Band, ...]
    use_abs: bool = False
    unit: str = ""
    rest_manual: bool = False


@dataclass(frozen=True)
class Tier:
    """One tier of ``人工``.

    Attributes:
        label: the tier name the evaluator enters (优, 良, 较好 ...).
        value: the tier's score, or the upper end of a range tier (``较好=60%~80%``);
            percent of weight, or points when ``absolute``.
        low: lower end of a range tier, None for a single value.
        absolute: True when written in points (``2`` or ``2分``) rather than ``80%``.
    """

    label: str
    value: Decimal
    low: Decimal | None = None
    absolute: bool = False

    def score(self, weight: Decimal) -> Decimal:
        """Points a label input gets: the upper end of a range (before clamping)."""
        return self.value if self.absolute else weight * self.value / _HUNDRED


@dataclass(frozen=True)
class Manual:
    """``人工``: the evaluator enters a tier label or a score in [0, weight].

    Attributes:
        tiers: the tiers in the order written (dropdown order); empty for a number only.
    """

    tiers: tuple[Tier, ...] = ()


Rule = Proportional | DeductPerPoint | DeductPerStep | Bands | Manual

# --------------------------------------------------------------------------- vocabulary

_KIND_OF_KEYWORD = {
    "按比例": "proportional",
    "proportional": "proportional",
    "逐点扣分": "deduct_per_point",
    "deduct_per_point": "deduct_per_point",
    "阶梯扣分": "deduct_per_step",
    "deduct_per_step": "deduct_per_step",
    "分档": "bands",
    "bands": "bands",
    "人工": "manual",
    "manual": "manual",
}
_KEYWORD_OF_KIND = {
    "proportional": "按比例",
    "deduct_per_point": "逐点扣分",
    "deduct_per_step": "阶梯扣分",
    "bands": "分档",
    "manual": "人工",
}
_EXAMPLE = {
    "proportional": "按比例(目标=100)",
    "deduct_per_point": "逐点扣分(基准=100,方向=高于,每点=0.5)",
    "deduct_per_step": "阶梯扣分(基准=100,方向=低于,步长=5,每步=2)",
    "bands": "分档(=0:8; (0,10]:6; (10,20]:4; (20,30]:2; >30:0)",
    "manual": "人工(优=100%,良=80%,中=60%,差=0%)",
}
_ALL_EXAMPLES = "、".join(_EXAMPLE.values())

# Parameter spelling -> field name, per kind; the Chinese name is canonical.
_PARAMS = {
    "proportional": {"目标": "target", "方向": "direction", "零分": "zero"},
    "deduct_per_point": {
        "基准": "base", "方向": "direction", "每点": "per_point", "点": "point", "单位": "unit",
        "不得分": "cutoff",
    },
    "deduct_per_step": {
        "基准": "base", "方向": "direction", "步长": "step", "每步": "per_step", "取整": "round_up",
        "单位": "unit", "不得分": "cutoff",
    },
}
_REQUIRED = {
    "proportional": (),
    "deduct_per_point": ("base", "direction", "per_point"),
    "deduct_per_step": ("base", "direction", "step", "per_step"),
}
_CN_PARAM = {f: cn for spec in _PARAMS.values() for cn, f in spec.items()}

_PROPORTIONAL_DIRECTIONS = {
    "越高越好": False, "higher": False, "高": False, "正向": False,
    "越低越好": True, "lower": True, "低": True, "反向": True,
}
_DEDUCT_DIRECTIONS = {
    "高于": ABOVE, "超过": ABOVE, "above": ABOVE, "over": ABOVE,
    "低于": BELOW, "不足": BELOW, "below": BELOW, "under": BELOW,
}
_ABS_OPTIONS = {"绝对值", "abs"}
_REST_OPTIONS = {"其余=人工", "rest=manual"}
_ROUNDINGS = {"向下": False, "down": False, "向上": True, "up": True}
# ``单位=例``: a unit is a short word, not a number or syntax.
_UNIT_RE = re.compile(r"[\u4e00-\u9fff%‰A-Za-z]{1,6}")

# Full-width and look-alike characters workbooks contain, mapped to the syntax's own.
_WIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "（": "(", "）": ")", "，": ",", "；": ";", "：": ":", "＝": "=", "％": "%",
        "＜": "<", "＞": ">", "≦": "≤", "≧": "≥", "～": "~", "〜": "~", "－": "-",
        "−": "-", "–": "-", "—": "-", "．": ".", "［": "[", "］": "]", "＋": "+",
        "【": "[", "】": "]", "﹪": "%",
    }
)
_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_NUM_RE = re.compile(_NUM)


def _normalize(text: str) -> str:
    """Half-width punctuation and digits, no whitespace, ``<=``/``>=`` as ``≤``/``≥``."""
    s = re.sub(r"\s+", "", text.translate(_WIDTH))
    return s.replace("<=", "≤").replace(">=", "≥")


def _err(src: str, problem: str, kind: str | None = None) -> RuleError:
    example = _EXAMPLE[kind] if kind else _ALL_EXAMPLES
    return RuleError(f"评分规则“{src}”{problem}，示例：{example}")


def _to_decimal(raw: str) -> Decimal | None:
    """``raw`` as a Decimal, or None when it is not a plain number."""
    if not _NUM_RE.fullmatch(raw):
        return None
    return Decimal(raw)


# --------------------------------------------------------------------------- parsing


def parse_rule(text: str) -> Rule:
    """Parse one 评分规则 cell into a rule object.

    Args:
        text: e.g. ``逐点扣分(基准=100,方向=高于,每点=0.5)``; full-width punctuation and
            spaces are tolerated, as are the English aliases.

    Returns:
        A Proportional, DeductPerPoint, DeductPerStep, Bands or Manual.

    Raises:
        RuleError: with a Chinese message naming the problem and showing an example.
    """
    if not isinstance(text, str) or not text.strip():
        raise RuleError(f"评分规则为空，请填写评分规则，示例：{_ALL_EXAMPLES}")
    src = text.strip()
    s = _normalize(src)
    if "(" not in s and ")" not in s:
        keyword, body = s, ""  # a bare keyword means no parameters, e.g. 人工
    else:
        open_at = s.find("(")
        if open_at < 0 or not s.endswith(")"):
            kind = _KIND_OF_KEYWORD.get(s[: max(open_at, 0)].lower())
            raise _err(src, "括号不配对（应写成 关键字(参数)）", kind)
        keyword, body = s[:open_at], s[open_at + 1 : -1]
    kind = _KIND_OF_KEYWORD.get(keyword.lower())
    if kind is None:
        known = "、".join(_KEYWORD_OF_KIND.values())
        raise _err(src, f"的规则类型“{keyword}”无法识别，可用：{known}")
    if kind == "bands":
        return _parse_bands(src, body)
    if "(" in body or ")" in body:
        raise _err(src, "括号不配对", kind)
    if kind == "manual":
        return _parse_manual(src, body)
    return _parse_params_rule(src, kind, body)


def _split_items(body: str, sep: str) -> list[str]:
    # A trailing or doubled separator is harmless; skip empty items.
    return [item for item in body.split(sep) if item]


def _parse_params_rule(src: str, kind: str, body: str) -> Rule:
    spec = _PARAMS[kind]
    values: dict[str, str] = {}
    for item in _split_items(body, ","):
        key, eq, raw = item.partition("=")
        if not eq:
            raise _err(src, f"的参数“{item}”缺少“=”（应写成 名称=值）", kind)
        field = spec.get(key) or (key.lower() if key.lower() in spec.values() else None)
        if field is None:
            allowed = "、".join(spec)
            raise _err(src, f"的参数“{key}”无法识别，可用参数：{allowed}", kind)
        if field in values:
            raise _err(src, f"的参数“{_CN_PARAM[field]}”重复", kind)
        if not raw:
            raise _err(src, f"的参数“{_CN_PARAM[field]}”没有值", kind)
        values[field] = raw
    missing = [f for f in _REQUIRED[kind] if f not in values]
    if missing:
        names = "、".join(f"“{_CN_PARAM[f]}”" for f in missing)
        raise _err(src, f"缺少参数{names}", kind)

    def number(field: str, positive: bool = False) -> Decimal:
        raw = values[field]
        d = _to_decimal(raw[:-1] if raw.endswith("%") else raw)
        if d is None:
            raise _err(src, f"的参数“{_CN_PARAM[field]}”的值“{raw}”不是数字", kind)
        if positive and d <= 0:
            raise _err(src, f"的参数“{_CN_PARAM[field]}”必须大于0", kind)
        return d

    if kind == "proportional":
        lower = False
        if "direction" in values:
            raw = values["direction"]
            if raw.lower() not in _PROPORTIONAL_DIRECTIONS:
                raise _err(src, f"的方向“{raw}”无法识别，可用：越高越好、越低越好", kind)
            lower = _PROPORTIONAL_DIRECTIONS[raw.lower()]
        # A linear rule may have full marks at 0 (按比例(目标=0,零分=10): "得分=(1-10×调剂率)×
        # 分值"); without 零分 the target divides, so it must be positive.
        target = number("target", positive="zero" not in values) if "target" in values else None
        if target is not None and target < 0 and "zero" in values:
            raise _err(src, "的参数“目标”不能为负", kind)
        zero = None
        if "zero" in values:
            zero = number("zero")
            if target is None or zero == target:
                raise _err(src, "的“零分”须与“目标”同时写出且不相等，如 按比例(目标=15,零分=30)", kind)
            if "direction" in values and lower != (zero > target):
                raise _err(src, "的方向与“零分”矛盾（零分大于目标即越低越好）", kind)
            lower = zero > target
        return Proportional(target=target, lower_is_better=lower, zero=zero)

    raw = values["direction"]
    direction = _DEDUCT_DIRECTIONS.get(raw.lower())
    if direction is None:
        raise _err(src, f"的方向“{raw}”无法识别，可用：高于、低于", kind)
    unit = values.get("unit", "")
    if unit and not _UNIT_RE.fullmatch(unit):
        raise _err(src, f"的单位“{unit}”无效（应为单位文字，如 例、天、项）", kind)
    cutoff, cutoff_inclusive = _parse_cutoff(src, kind, values, number("base"), direction)
    if kind == "deduct_per_point":
        point = number("point", positive=True) if "point" in values else _ONE
        return DeductPerPoint(
            base=number("base"), direction=direction,
            per_point=number("per_point", positive=True), point=point, unit=unit,
            cutoff=cutoff, cutoff_inclusive=cutoff_inclusive,
        )
    round_up = False
    if "round_up" in values:
        raw = values["round_up"]
        if raw.lower() not in _ROUNDINGS:
            raise _err(src, f"的取整方式“{raw}”无法识别，可用：向下、向上", kind)
        round_up = _ROUNDINGS[raw.lower()]
    return DeductPerStep(
        base=number("base"), direction=direction,
        step=number("step", positive=True), per_step=number("per_step", positive=True),
        round_up=round_up, unit=unit, cutoff=cutoff, cutoff_inclusive=cutoff_inclusive,
    )


def _parse_cutoff(src: str, kind: str, values: dict, base: Decimal, direction: str
                  ) -> tuple[Decimal | None, bool]:
    """``不得分=<80`` (below) or ``不得分=≥120`` (above): a comparison on the losing side."""
    raw = values.get("cutoff")
    if raw is None:
        return None, False
    m = _CMP_RE.fullmatch(raw)
    ops = ("<", "≤") if direction == BELOW else (">", "≥")
    if m is None or m.group(1) not in ops:
        raise _err(src, f"的“不得分”应写成 {ops[0]}数字 或 {ops[1]}数字（与扣分方向一致），"
                        f"如 不得分={ops[0]}80", kind)
    x = Decimal(m.group(2))
    if (x >= base) if direction == BELOW else (x <= base):
        raise _err(src, f"的“不得分”界限{_fmt(x)}应在基准{_fmt(base)}之外（扣分一侧）", kind)
    return x, m.group(1) in ("≤", "≥")


_CMP_RE = re.compile(rf"(=|≥|≤|>|<)({_NUM})%?")
_INTERVAL_RE = re.compile(rf"([(\[])({_NUM})%?,({_NUM})%?([)\]])")
_POINTS_RE = re.compile(rf"({_NUM})(%|分)?(?:[~至]({_NUM})(%|分)?)?")


def _parse_bands(src: str, body: str) -> Bands:
    items = _split_items(body, ";")
    use_abs = rest_manual = False
    unit = ""
    # Options lead the bands, in any order: "绝对值;", "单位=次;" and "其余=人工;".
    while items and (items[0].lower() in _ABS_OPTIONS | _REST_OPTIONS
                     or items[0].startswith("单位=")):
        if items[0].lower() in _ABS_OPTIONS:
            use_abs = True
        elif items[0].lower() in _REST_OPTIONS:
            rest_manual = True
        else:
            unit = items[0][len("单位="):]
            if not _UNIT_RE.fullmatch(unit):
                raise _err(src, f"的单位“{unit}”无效（应为单位文字，如 次、例）", "bands")
        items = items[1:]
    if not items:
        raise _err(src, "没有任何档位", "bands")
    bands = []
    for item in items:
        if item.lower() in _ABS_OPTIONS:
            raise _err(src, "的“绝对值”选项应写在最前面", "bands")
        if item.lower() in _REST_OPTIONS:
            raise _err(src, "的“其余=人工”选项应写在最前面", "bands")
        cond, colon, pts = item.rpartition(":")
        if not colon or not pts:
            raise _err(src, f"的档位“{item}”缺少得分（应写成 条件:得分）", "bands")
        m = _POINTS_RE.fullmatch(pts)
        if m is None:
            raise _err(src, f"的档位“{item}”的得分“{pts}”不是数字", "bands")
        points, percent = Decimal(m.group(1)), m.group(2) == "%"
        low = None
        if m.group(3) is not None:
            # A score range "10~13" (the evaluator picks within it); "%" on either end
            # makes both percent, but mixing "%" and "分" is an error.
            units = {u for u in (m.group(2), m.group(4)) if u}
            if len(units) > 1:
                raise _err(src, f"的档位“{item}”的得分区间“{pts}”混用了“%”和“分”", "bands")
            percent = "%" in units
            low, points = sorted((points, Decimal(m.group(3))))
            low = None if low == points else low
        if points < 0 or (low is not None and low < 0):
            raise _err(src, f"的档位“{item}”的得分不能为负", "bands")
        band = _parse_condition(src, item, cond, points, percent)
        bands.append(band if low is None else dataclasses.replace(band, points_low=low))
    return Bands(bands=tuple(bands), use_abs=use_abs, unit=unit, rest_manual=rest_manual)


def _parse_condition(src: str, item: str, cond: str, points: Decimal, percent: bool) -> Band:
    m = _CMP_RE.fullmatch(cond)
    if m:
        op, x = m.group(1), Decimal(m.group(2))
        if op == "=":
            return Band(x, x, True, True, points, percent)
        if op in (">", "≥"):
            return Band(x, None, op == "≥", False, points, percent)
        return Band(None, x, False, op == "≤", points, percent)
    m = _INTERVAL_RE.fullmatch(cond)
    if m:
        lo, hi = Decimal(m.group(2)), Decimal(m.group(3))
        lo_inc, hi_inc = m.group(1) == "[", m.group(4) == "]"
        if lo > hi or (lo == hi and not (lo_inc and hi_inc)):
            raise _err(src, f"的档位“{item}”的区间为空（左端应小于右端）", "bands")
        return Band(lo, hi, lo_inc, hi_inc, points, percent)
    raise _err(
        src,
        f"的档位条件“{cond}”无法识别（可写 =x、>x、≥x、<x、≤x 或区间 (a,b]、[a,b) 等）",
        "bands",
    )


_TIER_VALUE_RE = re.compile(
    r"(\d+(?:\.\d*)?|\.\d+)(%|分)?(?:[~至-](\d+(?:\.\d*)?|\.\d+)(%|分)?)?"
)


def _parse_manual(src: str, body: str) -> Manual:
    tiers: list[Tier] = []
    for item in _split_items(body, ","):
        label, eq, raw = item.partition("=")
        if not eq:
            raise _err(src, f"的等级“{item}”缺少“=”（应写成 等级=得分比例）", "manual")
        if not label or _to_decimal(label) is not None:
            raise _err(src, f"的等级名称“{label}”无效（应为文字，如 优、良）", "manual")
        if any(t.label == label for t in tiers):
            raise _err(src, f"的等级“{label}”重复", "manual")
        m = _TIER_VALUE_RE.fullmatch(raw)
        if m is None:
            raise _err(src, f"的等级“{label}”的值“{raw}”不是数字或范围", "manual")
        units = {u for u in (m.group(2), m.group(4)) if u}
        if len(units) > 1:
            raise _err(src, f"的等级“{label}”的值“{raw}”混用了“%”和“分”", "manual")
        absolute = "%" not in units
        a = Decimal(m.group(1))
        b = Decimal(m.group(3)) if m.group(3) is not None else None
        if b is None:
            tiers.append(Tier(label, a, None, absolute))
        else:
            tiers.append(Tier(label, max(a, b), min(a, b), absolute))
    return Manual(tiers=tuple(tiers))


# --------------------------------------------------------------------------- formatting


def _fmt(d: Decimal, places: int | None = None) -> str:
    """A number without trailing zeros or exponent; ``places`` rounds half up first."""
    if places is not None:
        d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if d == 0:
        return "0"
    return format(d.normalize(), "f")


def format_rule(rule: Rule) -> str:
    """The canonical Chinese-keyword text of ``rule``; ``parse_rule`` reads it back equal."""
    if isinstance(rule, Proportional):
        params = []
        if rule.target is not None:
            params.append(f"目标={_fmt(rule.target)}")
        if rule.zero is not None:
            params.append(f"零分={_fmt(rule.zero)}")
        if rule.lower_is_better:
            params.append("方向=越低越好")
        return f"按比例({','.join(params)})"
    if isinstance(rule, DeductPerPoint):
        direction = "高于" if rule.direction == ABOVE else "低于"
        text = f"逐点扣分(基准={_fmt(rule.base)},方向={direction},每点={_fmt(rule.per_point)}"
        if rule.point != 1:
            text += f",点={_fmt(rule.point)}"
        return text + (f",单位={rule.unit}" if rule.unit else "") + _format_cutoff(rule) + ")"
    if isinstance(rule, DeductPerStep):
        direction = "高于" if rule.direction == ABOVE else "低于"
        return (
            f"阶梯扣分(基准={_fmt(rule.base)},方向={direction},"
            f"步长={_fmt(rule.step)},每步={_fmt(rule.per_step)}"
            + (",取整=向上" if rule.round_up else "")
            + (f",单位={rule.unit}" if rule.unit else "") + _format_cutoff(rule) + ")"
        )
    if isinstance(rule, Bands):
        items = ["绝对值"] if rule.use_abs else []
        if rule.unit:
            items.append(f"单位={rule.unit}")
        if rule.rest_manual:
            items.append("其余=人工")
        for b in rule.bands:
            pct = "%" if b.percent else ""
            pts = f"{_fmt(b.points)}{pct}"
            if b.points_low is not None:
                pts = f"{_fmt(b.points_low)}{pct}~{pts}"
            items.append(f"{_format_condition(b)}:{pts}")
        return f"分档({'; '.join(items)})"
    if isinstance(rule, Manual):
        items = []
        for t in rule.tiers:
            unit = "" if t.absolute else "%"
            value = f"{_fmt(t.value)}{unit}"
            if t.low is not None:
                value = f"{_fmt(t.low)}{unit}~{value}"
            items.append(f"{t.label}={value}")
        return f"人工({','.join(items)})"
    raise TypeError(f"not a rule: {rule!r}")


def _cutoff_op(rule: DeductPerPoint | DeductPerStep) -> str:
    if rule.direction == BELOW:
        return "≤" if rule.cutoff_inclusive else "<"
    return "≥" if rule.cutoff_inclusive else ">"


def _format_cutoff(rule: DeductPerPoint | DeductPerStep) -> str:
    return "" if rule.cutoff is None else f",不得分={_cutoff_op(rule)}{_fmt(rule.cutoff)}"


def _cut_off(rule: DeductPerPoint | DeductPerStep, value: Decimal) -> bool:
    """Whether ``value`` is past the rule's ``不得分`` cutoff (scores 0)."""
    if rule.cutoff is None:
        return False
    if value == rule.cutoff:
        return rule.cutoff_inclusive
    return value < rule.cutoff if rule.direction == BELOW else value > rule.cutoff


def _format_condition(b: Band) -> str:
    if b.low is not None and b.high is not None:
        if b.low == b.high and b.low_inclusive and b.high_inclusive:
            return f"={_fmt(b.low)}"
        return (
            f"{'[' if b.low_inclusive else '('}{_fmt(b.low)},"
            f"{_fmt(b.high)}{']' if b.high_inclusive else ')'}"
        )
    if b.low is not None:
        return f"{'≥' if b.low_inclusive else '>'}{_fmt(b.low)}"
    if b.high is not None:
        return f"{'≤' if b.high_inclusive else '<'}{_fmt(b.high)}"
    raise ValueError("a band needs at least one end")


def rule_kind(rule: Rule) -> str:
    """"proportional" | "deduct_per_point" | "deduct_per_step" | "bands" | "manual"."""
    for cls, kind in _KIND_OF_CLASS:
        if isinstance(rule, cls):
            return kind
    raise TypeError(f"not a rule: {rule!r}")


_KIND_OF_CLASS = (
    (Proportional, "proportional"),
    (DeductPerPoint, "deduct_per_point"),
    (DeductPerStep, "deduct_per_step"),
    (Bands, "bands"),
    (Manual, "manual"),
)


def tier_labels(rule: Rule) -> list[str]:
    """The manual tier labels in written order (for a dropdown); [] for other kinds."""
    return [t.label for t in rule.tiers] if isinstance(rule, Manual) else []


def full_marks(rule: Rule, weight: Decimal) -> Decimal:
    """The best score the rule can give a row of ``weight`` 分, NOT clamped.

    Bands give their highest band, tiered manual rules their best tier, so a caller can
    compare with the 分值 and flag a rule whose top score disagrees with it.
    """
    weight = _as_weight(weight)
    if isinstance(rule, Bands):
        return max(b.score(weight) for b in rule.bands)
    if isinstance(rule, Manual) and rule.tiers:
        return max(t.score(weight) for t in rule.tiers)
    return weight


# --------------------------------------------------------------------------- scoring


def _as_weight(weight) -> Decimal:
    w = _as_number(weight, "分值")
    if w < 0:
        raise RuleError(f"分值“{_fmt(w)}”不能为负数")
    return w


def _as_number(value, what: str) -> Decimal:
    """``value`` (Decimal, int, float or numeric text, ``%`` allowed) as a Decimal."""
    if isinstance(value, bool) or value is None:
        raise RuleError(f"{what}为空或不是数字，无法评分")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        d = Decimal(repr(value))  # repr, not the binary expansion: 98.29 stays 98.29
    elif isinstance(value, str):
        s = _normalize(value)
        d = _to_decimal(s[:-1] if s.endswith("%") else s)
        if d is None:
            raise RuleError(f"{what}“{value}”不是数字，无法评分")
    else:
        raise RuleError(f"{what}“{value}”不是数字，无法评分")
    if not d.is_finite():
        raise RuleError(f"{what}“{value}”不是有效数字，无法评分")
    return d


def _clamp(score: Decimal, weight: Decimal) -> Decimal:
    return min(max(score, _ZERO), weight)


def _target_of(rule: Proportional, target) -> Decimal:
    # The rule's own target wins: the generated 评分标准 text shows it, so the score must too.
    t = rule.target if rule.target is not None else target
    if t is None:
        raise RuleError(
            f"评分规则“{format_rule(rule)}”没有目标值：请在数据行填写目标值，"
            f"或写成 按比例(目标=100)"
        )
    t = _as_number(t, "目标值")
    if t <= 0:
        raise RuleError(f"目标值“{_fmt(t)}”必须大于0，无法按比例评分")
    return t


def _distance(base: Decimal, direction: str, value: Decimal) -> Decimal:
    """How far ``value`` is on the losing side of ``base`` (≤ 0: not at all)."""
    return value - base if direction == ABOVE else base - value


def _raw_deduction(rule: DeductPerPoint | DeductPerStep, value: Decimal) -> Decimal:
    distance = _distance(rule.base, rule.direction, value)
    if distance <= 0:
        return _ZERO
    if isinstance(rule, DeductPerPoint):
        return distance / rule.point * rule.per_point
    return _steps(rule, distance) * rule.per_step


def _steps(rule: DeductPerStep, distance: Decimal) -> Decimal:
    # Integer division of Decimals is exact, so 5 // 5 is one full step, 4.99 // 5 none;
    # round_up counts a begun step as one (4.99 // 5 → 1).
    full = distance // rule.step
    if rule.round_up and distance % rule.step:
        full += 1
    return full


def score_rule(rule: Rule, value, weight: Decimal, target: Decimal | None = None) -> Decimal:
    """Score one indicator.

    Args:
        rule: a parsed rule.
        value: the indicator value (Decimal; percent for rates). For ``Manual``, a tier
            label (str) or a score (Decimal / numeric text) in [0, weight].
        weight: the row's 分值.
        target: the data row's 目标值, used by ``按比例()`` without its own target.

    Returns:
        The score in [0, weight], full Decimal precision (callers round for display).

    Raises:
        RuleError: unknown tier, manual score outside [0, weight], no or non-positive
            target, or a non-numeric value for a numeric rule.
    """
    weight = _as_weight(weight)
    if isinstance(rule, Manual):
        return _score_manual(rule, value, weight)[0]
    v = _as_number(value, "实际值")
    if isinstance(rule, Proportional):
        if rule.zero is not None:  # linear between two written ends (目标 may be 0)
            t = rule.target
            linear = weight * (v - rule.zero) / (t - rule.zero)
            return _ZERO if linear <= 0 else min(linear, weight)
        t = _target_of(rule, target)
        if rule.lower_is_better:
            return weight if v <= 0 else _clamp(weight * min(t / v, _ONE), weight)
        return _clamp(weight * min(v / t, _ONE), weight)
    if isinstance(rule, (DeductPerPoint, DeductPerStep)):
        if _cut_off(rule, v):
            return _ZERO
        return _clamp(weight - _raw_deduction(rule, v), weight)
    if isinstance(rule, Bands):
        band = _matching_band(rule, v)
        if _left_to_evaluator(rule, band):
            low, high = _evaluator_range(band, weight)
            raise EvaluatorScore(_evaluator_reason(rule, band, v, weight, "%"), low, high, band)
        return _ZERO if band is None else _clamp(band.score(weight), weight)
    raise TypeError(f"not a rule: {rule!r}")


def _left_to_evaluator(rule: Bands, band: Band | None) -> bool:
    return band.points_low is not None if band is not None else rule.rest_manual


def _evaluator_range(band: Band | None, weight: Decimal) -> tuple[Decimal, Decimal]:
    if band is None:
        return _ZERO, weight
    return _clamp(band.score_low(weight), weight), _clamp(band.score(weight), weight)


def _evaluator_reason(rule: Bands, band: Band | None, v: Decimal, weight: Decimal,
                      unit: str) -> str:
    unit = rule.unit or unit
    low, high = _evaluator_range(band, weight)
    actual = f"实际值{_actual(v, unit)}"
    if band is None:
        return (f"{actual}不在评分标准所列的任何档位内，由评价人评定（{_fmt(low, 4)}分至"
                f"{_fmt(high, 4)}分）")
    return (f"{actual}属于“{_describe_condition(band, unit)}”档：{_fmt(low, 4)}分至"
            f"{_fmt(high, 4)}分，由评价人在区间内评定")


def evaluator_range(rule: Rule, value, weight, unit: str = "%"
                    ) -> tuple[Decimal, Decimal, str] | None:
    """For a ``分档`` rule whose ``value`` falls in a score-range band (or in no band of a
    rule with ``其余=人工``): (lowest, highest score allowed, Chinese reason quoting the
    band); None when ``score_rule`` scores the value itself. ``unit`` as for
    ``describe_rule``."""
    if not isinstance(rule, Bands):
        return None
    weight = _as_weight(weight)
    v = _as_number(value, "实际值")
    band = _matching_band(rule, v)
    if not _left_to_evaluator(rule, band):
        return None
    low, high = _evaluator_range(band, weight)
    return low, high, _evaluator_reason(rule, band, v, weight, unit)


def _bands_gap(bands, counted: bool = False) -> bool:
    """Whether a value between two bands is in none ("80%以上…60%以上…50%及以下": 50–60 %).
    ``counted``: the values are whole counts, so 1.5 between "1个" and "2个" is no gap."""
    ends = sorted({x for b in bands for x in (b.low, b.high) if x is not None})
    if not ends:
        return False
    if counted and all(x == x.to_integral_value() for x in ends) and ends[-1] - ends[0] < 1000:
        probes = [ends[0] + i for i in range(-1, int(ends[-1] - ends[0]) + 2)]
    else:
        probes = sorted([*ends, *((a + b) / 2 for a, b in zip(ends, ends[1:], strict=False)),
                         ends[0] - 1, ends[-1] + 1])
    covered = [any(b.contains(v) for b in bands) for v in probes]
    if True not in covered:
        return False
    first, last = covered.index(True), len(covered) - 1 - covered[::-1].index(True)
    return not all(covered[first : last + 1])


def _matching_band(rule: Bands, value: Decimal) -> Band | None:
    v = abs(value) if rule.use_abs else value
    return next((b for b in rule.bands if b.contains(v)), None)


def _score_manual(rule: Manual, value, weight: Decimal) -> tuple[Decimal, Tier | None]:
    """The manual score and the tier it came from (None for a number input)."""
    if isinstance(value, str):
        label = _normalize(value)
        for tier in rule.tiers:
            if tier.label == label:
                return _clamp(tier.score(weight), weight), tier
        if _to_decimal(label.rstrip("分")) is None:
            choices = "、".join(t.label for t in rule.tiers)
            hint = f"可选：{choices}，或" if choices else "请"
            raise RuleError(
                f"“{value}”不是评分规则“{format_rule(rule)}”中的等级，"
                f"{hint}直接填写0-{_fmt(weight)}之间的分数"
            )
        value = label.rstrip("分")
    score = _as_number(value, "人工评分")
    if not 0 <= score <= weight:
        raise RuleError(f"人工评分“{_fmt(score)}”超出分值范围（0-{_fmt(weight)}分）")
    return score, None


# --------------------------------------------------------------------------- texts


def _unit_value(d: Decimal, unit: str) -> str:
    # Zero is zero in any unit; real tables write "=0" and "≤0".
    return "0" if d == 0 else f"{_fmt(d)}{unit}"


def _point_unit(unit: str) -> str:
    """The word after a distance: 个百分点 for rates, the unit itself, or 个单位."""
    if unit == "%":
        return "个百分点"
    return unit or "个单位"


def _actual(v: Decimal, unit: str) -> str:
    # Rates are shown as the 自评表 shows them, with two decimals (101.50%).
    return f"{_fmt(v)}{unit}" if unit != "%" else f"{v.quantize(Decimal('0.01'), ROUND_HALF_UP)}%"


def describe_rule(
    rule: Rule, weight: Decimal, unit: str = "%", target: Decimal | None = None
) -> str:
    """The human 评分标准 text of ``rule`` for a row of ``weight`` 分.

    Args:
        rule: a parsed rule.
        weight: the row's 分值.
        unit: "%" for rates (percent values); "" for counts and other plain numbers.
        target: the data row's 目标值, shown for ``按比例()`` without its own target.

    Returns:
        Chinese text, e.g. "以100%为标准，≤100%得满分（3分）；每超过1个百分点扣0.5分，扣完为止。"
    """
    weight = _as_weight(weight)
    w = _fmt(weight)
    unit = getattr(rule, "unit", "") or unit  # a count's own unit ("例") wins
    if (
        isinstance(rule, DeductPerPoint | DeductPerStep)
        and rule.unit and rule.base == 0 and rule.direction == ABOVE
    ):
        # A count ("每发现1例扣3.6分"): none is full marks, every one found deducts.
        size = rule.point if isinstance(rule, DeductPerPoint) else rule.step
        per = rule.per_point if isinstance(rule, DeductPerPoint) else rule.per_step
        each = f"{_fmt(size)}{unit}"
        partial = ""
        if isinstance(rule, DeductPerStep):
            partial = f"（不足{each}按{each}计算）" if rule.round_up else f"（不足{each}不扣分）"
        elif size != 1:
            partial = f"（不足{each}按比例扣分）"
        return (f"0{unit}得满分（{w}分），每多{each}扣{_fmt(per)}分，扣完为止{partial}"
                f"{_describe_cutoff(rule, unit)}。")
    if isinstance(rule, Proportional) and rule.zero is not None:
        t, z = _unit_value(rule.target, unit), _unit_value(rule.zero, unit)
        full, none = ("≤", "≥") if rule.lower_is_better else ("≥", "≤")
        lo, hi = (t, z) if rule.lower_is_better else (z, t)
        return f"{full}{t}得满分（{w}分），{none}{z}不得分，{lo}至{hi}之间按比例计分。"
    if isinstance(rule, Proportional):
        t = rule.target if rule.target is not None else target
        t_text = "" if t is None else f"（目标值{_unit_value(_as_number(t, '目标值'), unit)}）"
        if rule.lower_is_better:
            return f"得分=分值×目标值/实际值{t_text}，实际值≤0得满分，最高{w}分。"
        return f"得分=分值×实际值/目标值{t_text}，最高{w}分。"
    if isinstance(rule, DeductPerPoint):
        base = _unit_value(rule.base, unit)
        op, verb = ("≤", "超过") if rule.direction == ABOVE else ("≥", "低于")
        point = f"{_fmt(rule.point)}{_point_unit(unit)}"
        # With a point other than 1 the reader could take it for a step rule; say it is not.
        partial = "" if rule.point == 1 else f"不足{point}按比例扣分，"
        return (
            f"以{base}为标准，{op}{base}得满分（{w}分）；"
            f"每{verb}{point}扣{_fmt(rule.per_point)}分，{partial}扣完为止"
            f"{_describe_cutoff(rule, unit)}。"
        )
    if isinstance(rule, DeductPerStep):
        base = _unit_value(rule.base, unit)
        # "100%得满分，每低于…" is how real tables say it; the above case needs the ≤.
        op, verb = ("≤", "超过") if rule.direction == ABOVE else ("", "低于")
        step = f"{_fmt(rule.step)}{_point_unit(unit)}"
        partial = f"按{step}计算" if rule.round_up else "不扣分"
        return (
            f"{op}{base}得满分（{w}分），每{verb}{step}扣{_fmt(rule.per_step)}分，"
            f"扣完为止（不足{step}{partial}）{_describe_cutoff(rule, unit)}。"
        )
    if isinstance(rule, Bands):
        parts = []
        for b in rule.bands:
            points = _clamp(b.score(weight), weight)
            earned = "不得分" if points == 0 else f"得{_fmt(points, 4)}分"
            if b.points_low is not None:
                low = _fmt(_clamp(b.score_low(weight), weight), 4)
                earned = f"得{low}至{_fmt(points, 4)}分（由评价人在区间内评定）"
            parts.append(f"{_describe_condition(b, unit)}{earned}")
        if rule.rest_manual:
            parts.append(f"其余情况由评价人在0至{w}分之间评定")
        elif _bands_gap(rule.bands, counted=unit not in ("%", "‰", "")):
            parts.append("其余情况不得分")  # a value between bands scores 0: say so
        prefix = "按绝对值计：" if rule.use_abs else ""
        if rule.unit:
            prefix += f"按{rule.unit}数计："
        return prefix + "；".join(parts) + "。"
    if isinstance(rule, Manual):
        if not rule.tiers:
            return f"由评价人直接评分（0-{w}分）。"
        parts = []
        for t in rule.tiers:
            parts.append(f"{t.label}得{_describe_tier(t, weight)}")
        return "评价人按等级评定：" + "，".join(parts) + "。"
    raise TypeError(f"not a rule: {rule!r}")


def _describe_cutoff(rule: DeductPerPoint | DeductPerStep, unit: str) -> str:
    if rule.cutoff is None:
        return ""
    if rule.unit and rule.base == 0 and rule.direction == ABOVE:  # a count: in its words
        n = f"{_fmt(rule.cutoff)}{rule.unit}"
        return f"；{n}及以上不得分" if rule.cutoff_inclusive else f"；超过{n}不得分"
    return f"；{_cutoff_op(rule)}{_unit_value(rule.cutoff, unit)}不得分"


def _describe_tier(t: Tier, weight: Decimal) -> str:
    def pts(x: Decimal) -> str:
        return _fmt(_clamp(x if t.absolute else weight * x / _HUNDRED, weight), 4)

    if t.absolute:
        return f"{pts(t.value)}分" if t.low is None else f"{pts(t.low)}-{pts(t.value)}分"
    if t.low is None:
        return f"{_fmt(t.value)}%（{pts(t.value)}分）"
    return f"{_fmt(t.low)}%-{_fmt(t.value)}%（{pts(t.low)}-{pts(t.value)}分）"


def _describe_condition(b: Band, unit: str) -> str:
    if b.low is not None and b.high is not None:
        if b.low == b.high and b.low_inclusive and b.high_inclusive:
            return f"={_unit_value(b.low, unit)}"
        hi = _unit_value(b.high, unit)
        # "0-10%（含）" is the tables' own phrasing; a negative start needs "至" to read.
        lo, sep = (_fmt(b.low), "-") if b.low >= 0 else (_unit_value(b.low, unit), "至")
        if b.low_inclusive and b.high_inclusive:
            return f"{lo}{sep}{hi}（含两端）"
        if b.high_inclusive:
            return f"{lo}{sep}{hi}（含）"
        if b.low_inclusive:
            return f"{_unit_value(b.low, unit)}（含）{sep}{hi}"
        return f"{lo}{sep}{hi}（不含两端）"
    if b.low is not None:
        return f"{'≥' if b.low_inclusive else '>'}{_unit_value(b.low, unit)}"
    return f"{'≤' if b.high_inclusive else '<'}{_unit_value(b.high, unit)}"


def deduction_text(
    rule: Rule, value, weight: Decimal, score: Decimal, unit: str = "%", target=None
) -> str:
    """A short Chinese 扣分原因 when ``score`` < ``weight``; "" for full marks. Numbers are
    shown to two decimals, as in the score table.

    Args:
        rule, value, weight, target: as for ``score_rule``.
        score: the score ``score_rule`` gave.
        unit: "%" for rates, "" for plain numbers.
    """
    weight = _as_weight(weight)
    unit = getattr(rule, "unit", "") or unit
    score = _as_number(score, "得分")
    if score >= weight:
        return ""
    lost = f"扣{_fmt(weight - score, 2)}分"
    if isinstance(rule, Manual):
        _, tier = _score_manual(rule, value, weight)
        if tier is None:
            return f"评价人评分{_fmt(score, 2)}分，{lost}"
        span = "" if tier.low is None else f"（{_describe_tier(tier, weight)}，取上限）"
        return f"评定为“{tier.label}”{span}，得{_fmt(score, 2)}分，{lost}"
    v = _as_number(value, "实际值")
    actual = f"实际值{_actual(v, unit)}"
    if isinstance(rule, Proportional) and rule.zero is not None:
        t, z = _unit_value(rule.target, unit), _unit_value(rule.zero, unit)
        if score <= 0:
            return f"{actual}，{'≥' if rule.lower_is_better else '≤'}零分值{z}，不得分，{lost}"
        return f"{actual}，介于满分值{t}与零分值{z}之间，按比例得{_fmt(score, 2)}分，{lost}"
    if isinstance(rule, Proportional):
        t = _target_of(rule, target)
        t_text = _unit_value(t, unit)
        if rule.lower_is_better:
            return f"{actual}，高于目标值{t_text}，按目标值/实际值计得{_fmt(score, 2)}分，{lost}"
        ratio = _fmt(v / t * _HUNDRED, 2)
        return f"{actual}，为目标值{t_text}的{ratio}%，得{_fmt(score, 2)}分，{lost}"
    if isinstance(rule, (DeductPerPoint, DeductPerStep)):
        if _cut_off(rule, v):
            return f"{actual}，{_cutoff_op(rule)}{_unit_value(rule.cutoff, unit)}，不得分，{lost}"
        distance = _distance(rule.base, rule.direction, v)
        verb = "超过" if rule.direction == ABOVE else "低于"
        pu = _point_unit(unit)
        text = f"{actual}，{verb}{_unit_value(rule.base, unit)}共{_fmt(distance, 2)}{pu}"
        if isinstance(rule, DeductPerStep):
            steps = _steps(rule, distance)
            counted = "计" if rule.round_up else "满"
            text += f"，{counted}{_fmt(rule.step)}{pu}{_fmt(steps)}次"
        raw = _raw_deduction(rule, v)
        if raw >= weight:
            return f"{text}，应扣{_fmt(raw, 2)}分，扣完为止"
        return f"{text}，扣{_fmt(raw, 2)}分"
    if isinstance(rule, Bands):
        if rule.use_abs and v < 0:
            actual += f"（绝对值{_actual(abs(v), unit)}）"
        band = _matching_band(rule, v)
        if _left_to_evaluator(rule, band):  # the score is the evaluator's, within the range
            low, high = _evaluator_range(band, weight)
            where = "不在任何档位内" if band is None else \
                f"属于“{_describe_condition(band, unit)}”档"
            return (f"{actual}，{where}（{_fmt(low, 2)}分至{_fmt(high, 2)}分），评价人评定"
                    f"{_fmt(score, 2)}分，{lost}")
        if band is None:
            return f"{actual}，不在任何档位内，不得分"
        return f"{actual}，属于“{_describe_condition(band, unit)}”档，得{_fmt(score, 2)}分，{lost}"
    raise TypeError(f"not a rule: {rule!r}")


@dataclass(frozen=True)
class StandardReading:
    """How one county 评分标准 text was read: the interface adopt, ``perfeval-xl rule`` and the
    mapping sheet's 原文 → 解读 columns share.

    Attributes:
        text: the text as found in the cell.
        rule: the rule it reads as, or None when it is left to manual scoring.
        reason: Chinese, why the text is left manual (it quotes the text, cut to a readable
            length); empty when ``rule`` is set.
        stated_weight: full points the text itself states when they differ from the row's
            分值 (a contradiction the caller reports at the cell), else None.
        note: Chinese, what the value must be when the reading needs saying so (several
            kinds of one count at one rate: the value is their total); else "".
    """

    text: str
    rule: Rule | None
    reason: str = ""
    stated_weight: Decimal | None = None
    note: str = ""


def parse_standard_text(text: str, weight: Decimal) -> Rule | None:
    """Read a county's free-text 评分标准 into the equivalent rule (see ``rules_text``).

    Returns None when the text is not understood in full; discretionary texts (酌情扣分)
    give ``Manual()``. ``read_standard_text`` says why a text is left manual.
    """
    from perfeval_xl import rules_text

    return rules_text.parse(text, weight)


def read_standard_text(text: str, weight, *, target: Decimal | None = None) -> StandardReading:
    """Read a county's free-text 评分标准 for a row of ``weight`` 分 (see ``rules_text.read``).

    ``target`` is the row's own 目标值, for texts that score against a target they do not
    state (“按完成比例计算得分”); proportional rules read that way keep ``target=None`` and
    are scored with the row's target.
    """
    from perfeval_xl import rules_text

    return rules_text.read(text, weight, target=target)
