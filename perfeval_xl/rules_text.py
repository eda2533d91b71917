"""Reading a county's own free-text 评分标准 into a rule (``rules.read_standard_text``).

Pure standard library, imported lazily by ``rules`` so that ``import perfeval_xl.rules``
(which Excel UDFs do) stays light. The grammar is described in docs/rules.md.
"""

from __future__ import annotations

import re
from decimal import Decimal

from perfeval_xl.rules import (
    _HUNDRED,
    _ZERO,
    ABOVE,
    BELOW,
    Band,
    Bands,
    DeductPerPoint,
    DeductPerStep,
    Manual,
    Proportional,
    Rule,
    RuleError,
    Tier,
    _as_weight,
    _normalize,
    _to_decimal,
)

#
# Reading a county's own 评分标准 text back into a rule, for ``adopt``. Each text is cut
# into clauses and every clause must be understood; one unknown clause means None, so a
# rule is never guessed from half a sentence. Patterns are plain strings: ``re`` caches
# them on first use, which keeps the import cheap for Excel UDFs.

_N = r"-?\d+(?:\.\d+)?"
_UNIT = r"(?:%|个|人|项|次|家|件|天)?"
_PTS = rf"(?:满分|{_N}分|不得分|不计分|不给分|零分)"
_GIVE = r"(?:计|得|给|评|为|记|可得|可计)?"
_MARK = rf"\((?:含|包含|包括|不含|不包含|不包括)(?:本数|端点|两端|{_N}{_UNIT})?\)"
_PREFIX = r"[\u4e00-\u9fff“”\"():]*?"

# Comparison words -> operator. The pattern tries longer words first (不超过 before 超过),
# since a regex alternation takes the first alternative that fits.
_OPS = {
    "小于或等于": "≤", "低于或等于": "≤", "小于等于": "≤", "不超过": "≤", "不高于": "≤",
    "不大于": "≤", "控制在": "≤", "≤": "≤",
    "大于或等于": "≥", "高于或等于": "≥", "大于等于": "≥", "不低于": "≥", "不少于": "≥",
    "不小于": "≥", "达到": "≥", "≥": "≥",
    "未达到": "<", "低于": "<", "小于": "<", "不足": "<", "不到": "<", "未满": "<",
    "不满": "<", "少于": "<", "<": "<",
    "超过": ">", "大于": ">", "高于": ">", "超出": ">", "多于": ">", ">": ">",
    "未超过": "≤", "未超出": "≤", "没有超过": "≤", "不超出": "≤", "未低于": "≥",
    "等于": "=", "为": "=", "是": "=", "=": "=",
}
_OPS_RE = "|".join(sorted(map(re.escape, _OPS), key=len, reverse=True))
# Words after a number; 以上/以下/以内 include the number itself (as in law texts).
_POSTS = {"及以上": "≥", "以上": "≥", "及以下": "≤", "以下": "≤", "以内": "≤", "之内": "≤"}
_POSTS_RE = "|".join(sorted(_POSTS, key=len, reverse=True))
_NEGATIONS = ("未", "不", "没", "没有", "无", "非")

_ABOVE_VERBS = "超过|超出|高出|高于|多于|增加|上升|提高|增长|超"
_BELOW_VERBS = "低于|少于|减少|降低|下降|不足|差|降|减"
_DEDUCT_RE = (
    rf"(?P<pre>.*?)每(?P<verb>{_ABOVE_VERBS}|{_BELOW_VERBS})?(?P<size>\d+(?:\.\d+)?)?"
    r"(?P<unit>个百分点|百分点|个单位|单位|个点|%|点|个|人|项|次)?(?:的|部分)?"
    r"(?:扣|扣减|减)(?P<pts>\d+(?:\.\d+)?)分(?P<post>.*)"
)
_STOP_RES = (
    r"(?:直至|直到)?(?:本项|该项)?(?:分值)?(?:扣完|扣至0分?|扣到0分?)(?:本项|该项)?(?:分值)?"
    r"(?:为止|即止|为限|止)?",
    r"最低(?:得|扣至|为)?(?:0分|不得分)",
    r"不得负分|不计负分|不倒扣分?|最多扣完(?:本项)?(?:分值)?",
)
_STEP_MARK_RE = (
    r"不足(?:\d+(?:\.\d+)?)?(?:个百分点|百分点|个点|%|点)?(?:的|部分)?(?:不扣分|不予扣分|不扣)"
)
_CAP_RES = (
    r"最高(?:不超过)?(?:得|计)?(?:满分|本项分值|该项分值|分值|\d+(?:\.\d+)?分)",
    r"(?:超过|超出|高于)(?:目标|目标值)?(?:的)?(?:部分)?不(?:另外|再)?(?:加分|得分|计分)",
    r"(?:最多|最高)得满分|封顶|不超过(?:本项|该项)?分值",
)
_TARGET_DONE_RE = (
    r"(?:全部|按时|足额)?(?:完成|达到|实现)(?:全部|年度|既定|预期|计划)?"
    r"(?:目标|任务|计划)(?:值|任务)?(?:的)?(?:得|计)?满分"
)
_RATE = r"[\u4e00-\u9fff“”\"]*率"
_WEIGHT_WORD = rf"(?:本项|该项|该指标|指标)?(?P<w>分值|权重|满分|{_N}分?)"
_RATE_FORMULA_RES = (
    rf"(?:得分=)?{_RATE}[×]{_WEIGHT_WORD}",
    rf"(?:得分=)?{_WEIGHT_WORD}[×]{_RATE}",
)
# "实际完成值/目标值", "实际完成率/计划完成率" and the like.
_ACTUAL_WORD = r"[\u4e00-\u9fff]*(?:实际|完成)[\u4e00-\u9fff]*"
_TARGET_WORD = r"[\u4e00-\u9fff]*(?:目标|计划)[\u4e00-\u9fff]*"
_DISCRETION_RE = (
    r"酌情|视情况?|综合(?:评定|评价|打分)|(?:专家|评价人|评价组)(?:直接)?(?:评分|打分|评定)"
)

_CN_NUMERALS = {
    "零": "0", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5",
    "六": "6", "七": "7", "八": "8", "九": "9", "十": "10",
}
_DEGREE_WORDS = sorted(
    [
        "基本上", "基本不", "严重不", "大部分", "少部分", "基本", "较为", "比较", "不太",
        "不够", "没有", "部分", "全部", "完全", "全面", "非常", "十分", "一般", "尚未", "个别",
        "大多", "较", "不", "未", "无", "很", "已", "有",
    ],
    key=len,
    reverse=True,
)


def _std_normalize(text: str) -> str:
    s = _normalize(text).replace("÷", "/").replace("*", "×").replace("＊", "×")
    # Chinese numerals one to ten where a count is meant: 每超过一个百分点, 扣两分, 为零.
    s = re.sub(
        r"百分之([一二两三四五六七八九十]|\d+(?:\.\d+)?)",
        lambda m: _CN_NUMERALS.get(m.group(1), m.group(1)) + "%",
        s,
    )
    s = re.sub(
        r"(?<=[每过于出扣得计减降增少多足到高低])([一二两三四五六七八九十])(?=个|%|分|点)",
        lambda m: _CN_NUMERALS[m.group(1)],
        s,
    )
    s = re.sub(
        r"([一二两三四五六七八九十])(?=个百分点|个点)", lambda m: _CN_NUMERALS[m.group(1)], s
    )
    s = re.sub(r"(?<=[为于是])零", "0", s)
    # describe_rule's own parentheticals: "得满分（8分）", "扣完为止（不足5个百分点不扣分）".
    s = re.sub(rf"满分\(({_N})分\)", r"\1分", s)
    return re.sub(r"\((不足[^()]*)\)", r",\1", s)


def _std_clauses(s: str) -> list[str]:
    # "1、…" numbering leaves a bare number between separators; drop it.
    parts = re.split(r"[,;。、]+", s)
    clauses = [c for c in parts if c and not re.fullmatch(r"\(?\d{1,2}\)?\.?", c)]
    merged: list[str] = []
    for c in clauses:
        if merged and (
            merged[-1].endswith(("的", "时", "者"))
            # "…≤10%，计6分" / "每超过1个百分点，扣0.5分": a result alone joins its condition.
            or re.fullmatch(_GIVE + _PTS, c)
            or re.match(r"(?:扣|扣减|减)\d+(?:\.\d+)?分", c)
        ):
            merged[-1] += c
        else:
            merged.append(c)
    return merged


def _mark_inclusive(mark: str) -> bool:
    return "不" not in mark


def _std_condition(body: str):
    """``body`` (a condition in words) as (low, high, low_inc, high_inc, uses_abs), or None."""
    m = re.fullmatch(
        rf"(?P<pre>{_PREFIX})(?P<a>{_N}){_UNIT}(?P<ma>{_MARK})?(?:-|~|至|到)"
        rf"(?P<b>{_N}){_UNIT}(?P<mb>{_MARK})?(?:之间|区间|范围内)?",
        body,
    )
    if m:
        return _std_range(m)
    m = re.fullmatch(
        rf"(?P<pre>{_PREFIX})(?P<a>{_N}){_UNIT}(?P<o1><|≤)[\u4e00-\u9fff“”\"A-Za-z()]*"
        rf"(?P<o2><|≤)(?P<b>{_N}){_UNIT}",
        body,
    )
    if m:
        a, b = Decimal(m["a"]), Decimal(m["b"])
        if a >= b or m["pre"].endswith(_NEGATIONS):
            return None
        return a, b, m["o1"] == "≤", m["o2"] == "≤", "绝对值" in m["pre"]
    m = re.fullmatch(
        rf"(?P<pre>{_PREFIX})(?P<op>{_OPS_RE})?(?P<x>{_N}){_UNIT}(?P<m1>{_MARK})?"
        rf"(?P<post>{_POSTS_RE})?(?P<m2>{_MARK})?",
        body,
    )
    if m is None or m["pre"].endswith(_NEGATIONS):
        return None  # "未超过" read as "未" + "超过" would turn the condition around
    x = Decimal(m["x"])
    mark = m["m1"] or m["m2"]
    op = _OPS.get(m["op"] or "")
    if m["post"] and (op is None or m["op"] in ("达到", "控制在", "为", "是")):
        op = _POSTS[m["post"]]
    if op is None:
        if mark:
            return None
        op = "="  # a bare number: "100%得满分"
    if mark and op in ("<", "≤", ">", "≥"):
        inclusive = _mark_inclusive(mark)
        op = {("<", True): "≤", ("≤", False): "<", (">", True): "≥", ("≥", False): ">"}.get(
            (op, inclusive), op
        )
    uses_abs = "绝对值" in m["pre"]
    if op == "=":
        return x, x, True, True, uses_abs
    if op in (">", "≥"):
        return x, None, op == "≥", False, uses_abs
    return None, x, False, op == "≤", uses_abs


def _std_range(m):
    if m["pre"].endswith(_NEGATIONS):
        return None
    a, b = Decimal(m["a"]), Decimal(m["b"])
    marks: dict[str, bool] = {}
    for end, mark in (("a", m["ma"]), ("b", m["mb"])):
        if not mark:
            continue
        if "两端" in mark:  # "(含两端)" / "(不含两端)", as describe_rule writes them
            marks = {"a": _mark_inclusive(mark), "b": _mark_inclusive(mark)}
            continue
        named = re.search(_N, mark)
        if named:  # "(含10%)" names the end it is about
            x = Decimal(named.group())
            if x not in (a, b):
                return None
            end = "a" if x == a else "b"
        marks[end] = _mark_inclusive(mark)
    if len(marks) == 1:  # "0-10%(含)": the other end is the opposite
        (end, inc), = marks.items()
        marks["b" if end == "a" else "a"] = not inc
    # No mark at all: both ends inclusive; the first band written wins on a shared edge.
    a_inc, b_inc = marks.get("a", True), marks.get("b", True)
    if a > b:
        a, b, a_inc, b_inc = b, a, b_inc, a_inc
    if a == b and not (a_inc and b_inc):
        return None
    return a, b, a_inc, b_inc, "绝对值" in m["pre"]


def _std_points(raw: str, weight: Decimal) -> Decimal:
    if raw == "满分":
        return weight
    if raw.endswith("分") and _to_decimal(raw[:-1]) is not None:
        return Decimal(raw[:-1])
    return _ZERO  # 不得分 / 不计分 / 零分


def _std_band_clause(clause: str, weight: Decimal):
    """A clause "condition + points" as (condition, points), or None."""
    m = re.fullmatch(rf"(?P<body>.+?)(?:的|时|者)?{_GIVE}(?P<pts>{_PTS})", clause)
    if m is None:
        return None
    cond = _std_condition(m["body"])
    if cond is None:
        return None
    return cond, _std_points(m["pts"], weight)


def _direction_of(cond) -> str | None:
    """Where a full-marks condition puts the losing side: ≤x → above, ≥x → below."""
    low, high = cond[0], cond[1]
    if low is not None and high is not None:
        return None if low == high else "range"
    return BELOW if low is not None else ABOVE


def _std_deduct(clauses: list[str], weight: Decimal) -> Rule | None:
    bases: set[Decimal] = set()
    directions: set[str] = set()
    found = None
    step_mark = continuous_mark = False
    for c in clauses:
        if m := re.fullmatch(rf"(?:以|按)(?P<b>{_N})%?为(?:标准|基准|基数|目标|标准值)", c):
            bases.add(Decimal(m["b"]))
        elif any(re.fullmatch(p, c) for p in _STOP_RES):
            pass
        elif re.fullmatch(_STEP_MARK_RE, c):
            step_mark = True
        elif "按比例" in c and "扣" in c and "每" not in c and c.startswith("不足"):
            continuous_mark = True  # "不足1个百分点的按比例扣分"
        elif m := re.fullmatch(_DEDUCT_RE, c):
            if found is not None:
                return None  # two deduction rates cannot be one rule
            found = m
            post = m["post"]
            if post and not any(re.fullmatch(p, post) for p in _STOP_RES):
                return None
            pre = re.sub(r"(?:的|部分|时)+$", "", m["pre"])
            if re.search(r"\d", pre):
                cond = _std_condition(pre)
                if cond is None or (cond[0] is not None and cond[1] is not None):
                    return None
                # "超过100%的每…" / ">0每…": the losing side starts at the number.
                bases.add(cond[0] if cond[0] is not None else cond[1])
                directions.add(ABOVE if cond[0] is not None else BELOW)
        elif band := _std_band_clause(c, weight):
            cond, points = band
            if points != weight or _direction_of(cond) == "range":
                return None
            bases.add(cond[0] if cond[0] is not None else cond[1])
            if (d := _direction_of(cond)) is not None:
                directions.add(d)
        else:
            return None
    if found is None or len(bases) != 1:
        return None
    verb = found["verb"]
    if verb:
        directions.add(ABOVE if re.fullmatch(_ABOVE_VERBS, verb) else BELOW)
    if len(directions) != 1:
        return None
    (base,), (direction,) = bases, directions
    size = Decimal(found["size"] or 1)
    per = Decimal(found["pts"])
    if size <= 0 or per <= 0:
        return None
    # "每…1个百分点扣x分" is read continuously; bigger steps count only when full, unless
    # the text says otherwise ("不足…不扣分" / "不足…按比例扣分").
    if step_mark or (size > 1 and not continuous_mark):
        return DeductPerStep(base, direction, size, per)
    return DeductPerPoint(base, direction, per, size)


def _std_proportional(clauses: list[str], weight: Decimal) -> Rule | None:
    markers = 0
    lower = lower_full = False
    rate_formula = False
    targets: set[Decimal] = set()
    for c in clauses:
        formula = re.sub(r"^得分=", "", c)
        formula = re.sub(r"[×](?:本项|该项|该指标|指标)?(?:分值|权重|满分)$", "", formula)
        formula = re.sub(r"^(?:本项|该项|该指标|指标)?(?:分值|权重|满分)[×]", "", formula)
        if m := re.search(rf"\(目标值({_N})%?\)$", formula):  # "（目标值100%）"
            targets.add(Decimal(m.group(1)))
            formula = formula[: m.start()]
        if re.fullmatch(rf"{_TARGET_WORD}/{_ACTUAL_WORD}", formula):
            lower, markers = True, markers + 1
        elif re.fullmatch(rf"{_ACTUAL_WORD}/{_TARGET_WORD}", formula):
            markers += 1
        elif m := next((m for p in _RATE_FORMULA_RES if (m := re.fullmatch(p, c))), None):
            w = m["w"].rstrip("分")
            if _to_decimal(w) is not None and Decimal(w) != weight:
                return None
            rate_formula, markers = True, markers + 1
        elif "越低越好" in c or "反向指标" in c:
            lower = True
        elif re.search(r"按(?:实际)?(?:完成)?(?:的)?比例", c) and "每" not in c:
            markers += 1
            pre = re.sub(r"(?:的|时)+$", "", c[: c.index("按")])
            if re.search(r"\d", pre):
                cond = _std_condition(pre)
                if cond is None or cond[0] is not None:
                    return None  # "低于90%的按比例得分": the target is 90
                targets.add(cond[1])
        elif re.fullmatch(_TARGET_DONE_RE, c) or any(re.fullmatch(p, c) for p in _CAP_RES):
            pass
        elif re.fullmatch(r"实际值?(?:≤|<|不超过|不高于)0(?:的)?(?:得|计)?满分", c):
            lower_full = True  # the lower-is-better rule's own note
        elif band := _std_band_clause(c, weight):
            cond, points = band
            if points != weight or cond[0] is None:
                return None
            if cond[1] is not None and cond[0] != cond[1]:
                return None
            targets.add(cond[0])  # "≥90%得满分" / "100%得满分"
        else:
            return None
    if markers == 0 or len(targets) > 1 or (lower_full and not lower):
        return None
    target = next(iter(targets), None)
    if target is None and rate_formula and not lower:
        target = _HUNDRED  # "预算执行率×分值": a rate is already a share of 100 %
    if target is not None and target <= 0:
        return None
    return Proportional(target, lower)


def _std_bands(clauses: list[str], weight: Decimal) -> Rule | None:
    bands = []
    uses_abs = False
    for c in clauses:
        band = _std_band_clause(c, weight)
        if band is None:
            return None
        (low, high, low_inc, high_inc, abs_flag), points = band
        uses_abs = uses_abs or abs_flag
        bands.append(Band(low, high, low_inc, high_inc, points))
    # One band alone ("100%得满分") is more likely half a rule than a rule.
    return Bands(tuple(bands), uses_abs) if len(bands) >= 2 else None


_TIER_POINTS = (
    rf"(?:(?P<lo>{_N})(?:-|~|至)(?P<hi>{_N})分|(?P<pts>{_PTS})"
    # "优得100%（3分）", "好得80%-100%（12-15分）": shares of the weight, as describe_rule says
    rf"|(?P<plo>{_N})%(?:-|~|至)(?P<phi>{_N})%(?:\({_N}-{_N}分\))?"
    rf"|(?P<pct>{_N})%(?:\({_N}分\))?)"
)
_TIER_LABEL = r"(?:如|若|凡|对)?(?P<label>[^\d<>=≤≥%]+?)"
_TIER_RES = (
    rf"{_TIER_LABEL}\((?:得|计)?{_TIER_POINTS}\)",  # 好（4-5分）
    rf"{_TIER_LABEL}(?:的|者)?{_GIVE}{_TIER_POINTS}",  # 制度健全得3分
)


def _std_tiers(clauses: list[str], weight: Decimal) -> Rule | None:
    labels: list[str] = []
    values: list[tuple[Decimal | None, Decimal]] = []
    shares: list[tuple[Decimal | None, Decimal]] = []
    for c in clauses:
        m = next((m for p in _TIER_RES if (m := re.fullmatch(p, c))), None)
        if m is None or re.search(r"每|扣|比例|[()]", m["label"]):
            return None
        labels.append(m["label"])
        if m["lo"] is not None:
            values.append(tuple(sorted((Decimal(m["lo"]), Decimal(m["hi"])))))
        elif m["pts"] is not None:
            values.append((None, _std_points(m["pts"], weight)))
        elif m["plo"] is not None:
            shares.append(tuple(sorted((Decimal(m["plo"]), Decimal(m["phi"])))))
        else:
            shares.append((None, Decimal(m["pct"])))
    labels = _clean_labels(labels)
    if len(labels) < 2 or len(set(labels)) != len(labels) or (values and shares):
        return None  # tiers in points and in percent mixed: not one scale
    if shares:
        return Manual(tuple(Tier(x, hi, lo) for x, (lo, hi) in zip(labels, shares, strict=True)))
    return Manual(_tiers_from_points(labels, values, weight))


def _tiers_from_points(labels, values, weight: Decimal) -> tuple[Tier, ...]:
    """Tiers as percent of the weight when every share is exact, else in points."""

    def share(x: Decimal) -> Decimal | None:
        if weight <= 0:
            return None
        pct = x * _HUNDRED / weight
        exact = pct == pct.quantize(Decimal("0.01")) and pct * weight / _HUNDRED == x
        return pct if exact else None

    ends = [x for lo, hi in values for x in (lo, hi) if x is not None]
    if all(share(x) is not None for x in ends):
        return tuple(
            Tier(label, share(hi), None if lo is None else share(lo))
            for label, (lo, hi) in zip(labels, values, strict=True)
        )
    return tuple(
        Tier(label, hi, lo, absolute=True) for label, (lo, hi) in zip(labels, values, strict=True)
    )


def _clean_labels(labels: list[str]) -> list[str]:
    """Drop the subject the labels share: 目标明确/目标较明确 → 明确/较明确, and
    制度健全/基本健全/不健全 → 健全/基本健全/不健全."""
    prefix = _common_prefix(labels)
    longer = all(len(x) > len(prefix) for x in labels)
    if len(prefix) >= 2 and prefix not in _DEGREE_WORDS and longer:
        labels = [x[len(prefix) :] for x in labels]
    suffix = _common_prefix([x[::-1] for x in labels])[::-1]
    if not suffix:
        return labels
    cleaned = []
    for x in labels:
        head = x[: len(x) - len(suffix)]
        degree = next((d for d in _DEGREE_WORDS if head.endswith(d)), "")
        cleaned.append(degree + suffix)
    return cleaned if len(set(cleaned)) == len(cleaned) else labels


def _common_prefix(items: list[str]) -> str:
    first = min(items, key=len) if items else ""
    for i, ch in enumerate(first):
        if any(x[i] != ch for x in items):
            return first[:i]
    return first



def parse(text: str, weight: Decimal) -> Rule | None:
    """Read a county's free-text 评分标准 into the equivalent rule, for ``adopt``.

    Args:
        text: e.g. "以100%为标准，≤100%计8分；每超过一个百分点扣0.5分，扣完为止".
        weight: the row's 分值; stated full points must agree with it, and tier points
            become shares of it.

    Returns:
        The rule, or None when the text is not understood in full (the caller then makes
        the row manual and warns).
    """
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        weight = _as_weight(weight)
    except RuleError:
        return None
    s = _std_normalize(text)
    # A lead like "评分标准：" or "按绝对值计：" heads the whole text; only 绝对值 matters.
    if m := re.match(r"([\u4e00-\u9fff]{1,12}):", s):
        s = ("绝对值" if "绝对值" in m.group(1) else "") + s[m.end() :]
    clauses = _std_clauses(s)
    if not clauses:
        return None
    for reader in (_std_deduct, _std_proportional, _std_bands, _std_tiers):
        rule = reader(clauses, weight)
        if rule is not None:
            return rule
    if re.search(_DISCRETION_RE, s):
        return Manual()
    return None




def read(text: str, weight, *, target: Decimal | None = None):
    from perfeval_xl.rules import StandardReading

    rule = parse(text, weight)
    if rule is not None:
        return StandardReading(text, rule)
    shown = text if len(text) <= 80 else text[:80] + "…"
    return StandardReading(text, None, f"评分标准“{shown}”无法自动识别，按人工评分处理。")
