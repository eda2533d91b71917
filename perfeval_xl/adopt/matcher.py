"""Turns each row of the county's indicator table into one of our indicator rows: a catalogue
indicator (by name or alias), or a user indicator (个性指标) when nothing matches, so no row
is ever dropped; and its 评分标准 text into a rule (``rules.read_standard_text``).

What the department types, and where the engine reads it from, follows from the rule:

- a catalogue rate (预算完成率 …) is computed from our input sheets; its 实际值, 得分 and
  扣分原因 are written into the county's cells;
- a manual rule (tiers such as 健全/基本健全, or 人工()) reads the evaluator's entry from
  the county's 实际值 cell (a tier label) or else its 得分 cell (a score);
- a numeric rule on anything that is not a catalogue rate reads the county's 实际值 cell;
- a row the engine cannot score as a catalogue row (a rate whose 评分标准 is not
  understood, a name the catalogue does not know …) becomes a 个性指标 row.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from perfeval_xl import catalogue
from perfeval_xl.adopt.finder import IndicatorRow, Table, weight_in_name
from perfeval_xl.display import clip
from perfeval_xl.model import Location, Problem
from perfeval_xl.rules import (
    Bands,
    Manual,
    Proportional,
    Rule,
    RuleError,
    StandardReading,
    describe_rule,
    format_rule,
    full_marks,
    parse_rule,
    read_standard_text,
    tier_labels,
)
from perfeval_xl.workbook.formula import ExcelError
from perfeval_xl.workbook.reader import Unevaluated, _has_percent_format

__all__ = ["Planned", "describe_reading", "match_code", "normalize_name", "plan_rows", "read_county_standard"]

_QUOTES = str.maketrans("", "", "“”\"'‘’「」『』《》〈〉")
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*[.、]|\(\d+\)|[①-⑳]|[一二三四五六七八九十]+[、.])")
_PREFIXES = ("部门整体", "本部门", "本单位", "本年度", "部门", "单位", "整体", "年度", "本年", "全年")
_SUFFIXES = ("情况", "指标")


def normalize_name(text: Any) -> str:
    """An indicator name reduced for matching: NFKC, no quotes (“”"'「」), no blanks, no
    leading numbering ("1.", "（1）"), no trailing note in brackets ("（%）")."""
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = re.sub(r"\s+", "", s).translate(_QUOTES)
    s = _NUMBERING.sub("", s)
    return re.sub(r"\([^()]*\)$", "", s) or s


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    out: dict[str, str] = {}
    for code, ind in catalogue.indicators().items():
        for text in (ind.name, *ind.aliases):
            out.setdefault(normalize_name(text), code)
    return out


def _strip_qualifiers(s: str) -> str:
    for p in _PREFIXES:
        if s.startswith(p) and len(s) > len(p) + 1:
            s = s[len(p):]
            break
    for q in _SUFFIXES:
        if s.endswith(q) and len(s) > len(q) + 1:
            s = s[: -len(q)]
            break
    return s


def match_code(name: Any) -> tuple[str | None, str]:
    """The catalogue code of a county indicator name and how it matched.

    Returns:
        (code, how): how is "名称" (our name), "别名" (an alias in indicators.toml),
        "近似" (after dropping 部门/单位/年度 prefixes or 情况/指标 suffixes), or
        (None, "") when nothing matches.
    """
    s = normalize_name(name)
    if not s:
        return None, ""
    index = _index()
    cat = catalogue.indicators()
    for candidate, how in ((s, ""), (_strip_qualifiers(s), "近似")):
        code = index.get(candidate)
        if code:
            if not how:
                how = "名称" if normalize_name(cat[code].name) == candidate else "别名"
            return code, how
    return None, ""


@dataclass
class Planned:
    """One county row as we will score it.

    Attributes:
        code: catalogue code, or ``custom_NN`` for a 个性指标 row.
        kind: "rate" | "qualitative" (catalogue rows, on the mapping sheet) or "custom"
            (a row of the 个性指标 sheet).
        how: how the name matched ("名称", "别名", "近似"), "" for a custom row.
        entry: county cells the evaluator's entry is read from, first non-blank wins
            (实际值 before 得分); empty when it is typed on the 个性指标 sheet.
        write_actual: whether the computed 实际值 is written into the county's 实际值 cell.
        target: a custom proportional row's 目标值: a county cell (str), a number, or None.
    """

    row: IndicatorRow
    name: str
    code: str
    kind: str
    how: str
    rule: Rule
    weight: Decimal | None
    unit: str = ""
    direction: str = "正向"
    entry: list[str] = field(default_factory=list)
    write_actual: bool = False
    target: str | Decimal | None = None
    reading: StandardReading | None = None  # how the county's 评分标准 text was read
    weight_div: int = 1          # rows sharing one merged 分值 each take 分值 / weight_div
    weight_from_name: bool = False  # 分值 written inside the name (“…（5分）”)
    joined: list[IndicatorRow] = field(default_factory=list)  # rows scored together with it

    @property
    def rule_text(self) -> str:
        return format_rule(self.rule)


# --------------------------------------------------------------------------- weights & rules

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_MAX_WEIGHT = Decimal(10000)  # one indicator's 分值; tables total 100 (some 1000)
_STATED_POINTS = re.compile(r"(?:得|计|记|为)?(\d+(?:\.\d+)?)分")


def _as_decimal(v: Any) -> Decimal | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, Decimal):
        return v
    if isinstance(v, (int, float)):
        try:
            return Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
        except InvalidOperation:
            return None
    return None


def _weight(src, table: Table, row: IndicatorRow, name: str,
            problems: list[Problem]) -> Decimal | None:
    coord = row.cells.get("weight")
    loc = Location(table.sheet, coord)
    raw = src.value(table.sheet, coord) if coord else None
    if isinstance(raw, (Unevaluated, ExcelError)) or (
            isinstance(raw, str) and raw.strip().startswith("#")):
        problems.append(Problem("error", "weight-not-number",
                                f"“{name}”的分值单元格是无法计算的公式或错误值，请改为数字。", loc))
        return None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        problems.append(Problem("error", "weight-missing",
                                f"“{name}”的分值为空，请按县里下发的表填写分值（数字）。", loc))
        return None
    def too_big(d: Decimal) -> bool:  # 1.8e308 made the generated 评分标准 unprintable
        if d > _MAX_WEIGHT:
            problems.append(Problem("error", "weight-invalid",
                                    f"“{name}”的分值 {clip(raw, 24)} 大得不合理，请核对。", loc))
        return d > _MAX_WEIGHT

    d = _as_decimal(raw)
    if d is not None:
        if d < 0:
            problems.append(Problem("error", "weight-invalid",
                                    f"“{name}”的分值不能为负数（当前 {raw}）。", loc))
            return None
        return None if too_big(d) else d
    if isinstance(raw, str):
        s = unicodedata.normalize("NFKC", raw).strip()
        if _NUMBER.match(s):
            problems.append(Problem(
                "warning", "weight-text-number",
                f"“{name}”的分值以文本形式填写（“{raw}”），已按 {s} 读取；建议改为数值格式。", loc))
            return None if too_big(Decimal(s)) else Decimal(s)
        problems.append(Problem(
            "error", "weight-not-number",
            f"“{name}”的分值应为数字，当前为文本“{raw}”：请只填数字（如 8，不带“分”字），"
            "否则该指标无法评分。", loc))
        return None
    problems.append(Problem("error", "weight-not-number",
                            f"“{name}”的分值应为数字，当前为“{raw}”，请改为数字。", loc))
    return None


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _preset_rule(code: str | None, weight: Decimal, preset: str | None) -> Rule | None:
    """The preset's rule for a catalogue indicator, when it fits the county's 分值."""
    if not code or not preset:
        return None
    prow = next((r for r in catalogue.preset(preset).rows if r.code == code), None)
    if prow is None or not prow.rule:
        return None
    try:
        rule = parse_rule(prow.rule)
    except RuleError:
        return None
    return rule if full_marks(rule, weight) == weight else None


def describe_reading(rule: Rule, weight: Decimal | None, *, reason: str = "",
                     has_text: bool = True, unit: str = "", target: Decimal | None = None
                     ) -> tuple[str, str]:
    """(解读, 生成的评分标准) of one row, as the 评分标准解读 sheet shows it: the canonical rule
    and the 评分标准 text generated from it at ``weight``, or 人工评分 and why (``reason``, the
    reader's own when it gave one). Used by ``adopt`` and by ``score`` for a row read again.
    """
    if isinstance(rule, Manual) and not tier_labels(rule):
        if reason:
            why = reason
        elif has_text:
            why = "评分标准未能识别"
        else:
            why = "县表没有评分标准"
        return f"人工评分：{why}", "由评价人填写得分"
    try:
        generated = describe_rule(rule, weight, unit, target) if weight is not None else ""
    except RuleError:  # a proportional rule whose target the department still fills in
        generated = "按完成比例得分：得分 = 分值 × 实际值 ÷ 目标值（目标值取自县表或“个性指标”表）"
    return format_rule(rule), generated


def read_county_standard(text: str, weight: Decimal, *, name: str, loc: Location | None,
                         target: Decimal | None = None, shared_total: Decimal | None = None
                         ) -> tuple[Rule, StandardReading, list[Problem]]:
    """Read one county 评分标准 text for a row of ``weight`` 分 (adopt, and ``score`` when the
    county edited the text or the 分值 after adopting).

    Args:
        text: the county's text (not blank).
        weight: the row's 分值.
        name / loc: the indicator and the cell for messages (the 评分标准 cell).
        target: the row's 目标值, for texts that score against a target they do not state.
        shared_total: the whole 分值 when several rows share one merged 分值 cell (each
            row has ``weight`` = its share); a text written for the whole is left manual.

    Returns:
        (the rule, Manual() when the text is not understood; the reading; problems:
        ``rule-weight-mismatch`` error or ``standard-unparsed`` warning quoting the text).
    """
    problems: list[Problem] = []
    reading = read_standard_text(text, weight, target=target)
    rule = reading.rule
    stated = reading.stated_weight
    if stated is None and rule is not None:
        full = full_marks(rule, weight)
        stated = full if full != weight else None
    if stated is None and rule is None:
        # A text written for other full marks ("≤100%计6分…" in a row of 8 分) that the
        # reader did not flag itself.
        for points in dict.fromkeys(Decimal(m) for m in _STATED_POINTS.findall(text)):
            if points != weight and points > 0:
                other = read_standard_text(text, points, target=target).rule
                if other is not None and not isinstance(other, Manual):
                    stated, rule = points, other
                    break
    shown = text if len(text) <= 120 else text[:120] + "…"
    if stated is not None and shared_total is not None and stated == shared_total:
        problems.append(Problem(
            "warning", "standard-unparsed",
            f"评分标准“{shown}”是多项指标共用的（共 {_fmt(shared_total)} 分），无法分到每一项，"
            f"“{name}”已按人工评分处理：请评价人在“得分”栏直接填写得分（0–{_fmt(weight)}分）。",
            loc))
        return Manual(), dataclasses.replace(reading, rule=None, reason=(
            f"多项指标共用的评分标准（共 {_fmt(shared_total)} 分），按人工评分。")), problems
    if stated is not None:
        problems.append(Problem(
            "error", "rule-weight-mismatch",
            f"“{name}”的评分标准按 {_fmt(stated)} 分写成（“{text[:80]}”），与分值 "
            f"{_fmt(weight)} 分不一致。请核对县里的表，修改分值或评分标准后重新评分。", loc))
        return (rule or Manual()), reading, problems
    if reading.note and rule is not None:
        # "每例扣0.1分" for several kinds: the department must enter their total.
        problems.append(Problem("info", "standard-total", f"“{name}”：{reading.note}", loc))
    if isinstance(rule, Bands) and (rule.rest_manual
                                    or any(b.points_low is not None for b in rule.bands)):
        # Read, but some values are the evaluator's to score: say so where the text is.
        problems.append(Problem(
            "info", "standard-range",
            f"“{name}”的评分标准含分数区间或未列明的情况（“{shown}”）：实际值落在这些档位时，"
            f"请评价人在“得分”栏填写评分标准允许区间内的得分；其余按规则自动计分。", loc))
    if rule is not None and not (isinstance(rule, Manual)
                                 and (reading.reason or not tier_labels(rule))):
        return rule, reading, problems  # a numeric rule, or tiers the evaluator picks from
    reason = reading.reason.rstrip("。")
    head = (f"“{name}”：{reason}" if reason and text[:20] in reason
            else f"评分标准“{shown}”无法自动识别" + (f"（{reason}）" if reason else "")
            + f"，“{name}”已按人工评分处理")
    problems.append(Problem(
        "warning", "standard-unparsed",
        f"{head}：请评价人在“得分”栏直接填写得分（0–{_fmt(weight)}分）。", loc))
    return Manual(), reading, problems


def _rule(table: Table, row: IndicatorRow, name: str, weight: Decimal | None,
          problems: list[Problem], code: str | None = None, preset: str | None = None,
          target: Decimal | None = None, shared_total: Decimal | None = None
          ) -> tuple[Rule, StandardReading | None]:
    """The rule of a row from its 评分标准 text; Manual() with a problem when not understood.
    A catalogue row without any 评分标准 takes the preset's rule when it fits its 分值."""
    text = row.text("standard")
    coord = row.cells.get("standard") or row.cells.get("name")
    loc = Location(table.sheet, coord)
    if weight is None:
        # The 分值 problem says what to fix. Read the rule at the weight the texts suggest
        # ("8分" in the 分值 cell, "计8分" in the standard), so the row keeps its kind and
        # scores as soon as the 分值 is a number.
        guesses = re.findall(r"\d+(?:\.\d+)?", unicodedata.normalize(
            "NFKC", str(row.values.get("weight") or "")))[:1]
        guesses += _STATED_POINTS.findall(text) + ["100"]
        for g in dict.fromkeys(Decimal(x) for x in guesses):
            reading = read_standard_text(text, g, target=target) if text and g > 0 else None
            if reading is not None and reading.rule is not None and reading.stated_weight is None:
                return reading.rule, reading
        return Manual(), None
    if not text:
        from_note = _note_rule(table, row, target)
        if from_note is not None:
            rule, note = from_note
            problems.append(Problem(
                "info", "standard-from-note",
                f"县表没有“{name}”的评分标准，按表下注释的计分方法“{clip(note, 60)}”评分："
                f"{describe_rule(rule, weight, _target_unit(row))}",
                Location(table.sheet, row.cells.get("target") or coord)))
            return rule, StandardReading(note, rule)
        fallback = _preset_rule(code, weight, preset)
        if isinstance(fallback, Manual) and "standard" not in table.columns:
            # Scored by hand all the same: the warning at the 得分 cell, with the tiers.
            where = row.cells.get("score") or row.cells.get("name")
            problems.append(Problem(
                "warning", "standard-missing",
                f"县表没有“评分标准”列，“{name}”按人工评分：请评价人在此格填写得分（0–"
                f"{_fmt(weight)}分），或在“实际值”栏填写等级（"
                f"{describe_rule(fallback, weight, catalogue.indicators()[code].unit)}）。",
                Location(table.sheet, where)))
            return fallback, None
        if fallback is not None:
            problems.append(Problem(
                "info", "preset-rule",
                f"“{name}”没有评分标准，已采用预设 {preset} 的评分规则："
                f"{describe_rule(fallback, weight, catalogue.indicators()[code].unit)}", loc))
            return fallback, None
        if "standard" in table.columns:
            problems.append(Problem(
                "warning", "standard-missing",
                f"“{name}”没有评分标准，已按人工评分处理：请评价人在“得分”栏直接填写得分"
                f"（0–{_fmt(weight)}分）。", loc))
        else:
            # No 评分标准 column at all: say so at the cell where the score is typed.
            where = row.cells.get("score") or row.cells.get("name")
            problems.append(Problem(
                "warning", "standard-missing",
                f"县表没有“评分标准”列，“{name}”按人工评分：请评价人在此格直接填写得分"
                f"（0–{_fmt(weight)}分）。", Location(table.sheet, where)))
        return Manual(), None
    rule, reading, found = read_county_standard(text, weight, name=name, loc=loc, target=target,
                                                shared_total=shared_total)
    problems.extend(found)
    return rule, reading


# The 财预〔2020〕10号 项目支出绩效自评表 states its rule for 定量 indicators in a note under
# the table: “完成值达到指标值，记满分；未达到指标值，按 B/A 或 A/B×该指标分值记分” (B the
# 全年实际值, A the 年度指标值; A/B for a 反向 indicator, 指标值 “≤…”). A row without a
# 评分标准 whose 年度指标值 is a comparator and a number is scored that way.
_NOTE_RULE = re.compile(r"B/A|实际(?:完成)?值B?/(?:年度)?指标值A?")
_TARGET_TEXT = re.compile(r"^(≥|>=|>|≤|<=|<|=|不低于|不少于|大于|达到|不高于|不超过|不大于|小于|低于)?"
                          r"(\d+(?:\.\d+)?)(%|[\u4e00-\u9fff]{1,3})?$")
_LOWER = ("≤", "<=", "<", "不高于", "不超过", "不大于", "小于", "低于")


def _note_rule(table: Table, row: IndicatorRow, target: Decimal | None
               ) -> tuple[Rule, str] | None:
    """(按比例 rule, the note) when the table's note states the B/A rule and the row's
    年度指标值 is a comparator and a number; else None."""
    if target is None or target <= 0:
        return None
    note = next((n for n in table.notes
                 if _NOTE_RULE.search(re.sub(r"[\s()（）]", "", unicodedata.normalize("NFKC", n)))),
                None)
    if note is None:
        return None
    raw = row.values.get("target")
    text = re.sub(r"\s", "", unicodedata.normalize("NFKC", str(raw))) if raw is not None else ""
    m = _TARGET_TEXT.match(text) if isinstance(raw, str) else None
    if isinstance(raw, str) and m is None:
        return None
    op = (m.group(1) if m else None) or row.values.get("target_op")
    return Proportional(target=target, lower_is_better=op in _LOWER), note


def _target_unit(row: IndicatorRow) -> str:
    raw = row.values.get("target")
    m = _TARGET_TEXT.match(re.sub(r"\s", "", unicodedata.normalize("NFKC", str(raw)))) \
        if isinstance(raw, str) else None
    return (m.group(3) or "") if m else ""


# --------------------------------------------------------------------------- rows


def _unit_of(name: str, text: str) -> str:
    return "%" if ("%" in text or "百分点" in text or name.endswith("率")) else ""


def _target(src, table: Table, row: IndicatorRow, name: str,
            problems: list[Problem]) -> str | Decimal | None:
    """A custom proportional row's 目标值 from the county's 目标值 column: the cell itself
    when it holds a number or is blank (the department fills it there)."""
    coord = row.cells.get("target")
    if not coord:
        return None
    raw = src.value(table.sheet, coord)
    if raw in (None, "") or _as_decimal(raw) is not None:
        return coord
    s = unicodedata.normalize("NFKC", str(raw)).replace(",", "")
    numbers = re.findall(r"\d+(?:\.\d+)?", s)
    if len(numbers) == 1:
        problems.append(Problem(
            "info", "target-from-text",
            f"“{name}”的目标值“{raw}”按 {numbers[0]} 读取（写入“个性指标”表）。",
            Location(table.sheet, coord)))
        return Decimal(numbers[0])
    problems.append(Problem(
        "warning", "target-unreadable",
        f"“{name}”的目标值“{raw}”不是一个数字，请在“个性指标”表中填写目标值。",
        Location(table.sheet, coord)))
    return None


def _manual_entry(table: Table, row: IndicatorRow, rule: Rule) -> list[str]:
    """Where a manual row's entry is typed: a tier label in 实际值, else a score in 得分."""
    cells = []
    if tier_labels(rule) and row.cells.get("actual"):
        cells.append(row.cells["actual"])
    if row.cells.get("score"):
        cells.append(row.cells["score"])
    return cells


def _target_value(src, table: Table, row: IndicatorRow) -> Decimal | None:
    """The row's 目标值 as a number (for texts that score against it), else None."""
    coord = row.cells.get("target")
    if not coord:
        return None
    raw = src.value(table.sheet, coord)
    d = _as_decimal(raw)
    if d is not None and _has_percent_format(src.number_format(table.sheet, coord)):
        d *= 100  # 90% typed into a %-formatted cell is stored as 0.9
    if d is None and isinstance(raw, str):
        numbers = re.findall(r"\d+(?:\.\d+)?", unicodedata.normalize("NFKC", raw).replace(",", ""))
        d = Decimal(numbers[0]) if len(numbers) == 1 else None
    return d


# The 预算执行率 row of a 项目资金 block (finder._budget_block): 财预〔2020〕10号's form
# scores it as 执行率 × 分值, with no 评分标准 of its own.
BUDGET_RULE = Proportional(target=Decimal(100))
BUDGET_TEXT = "预算执行率得分 = 分值 × 执行率（全年执行数 ÷ 全年预算数），最高为分值"


def _budget_row(src, table: Table, row: IndicatorRow, n: int,
                problems: list[Problem]) -> Planned:
    name = "预算执行率"
    weight = _weight(src, table, row, name, problems)
    problems.append(Problem(
        "info", "budget-block",
        f"表格上方“{row.text('name') or '预算执行'}”栏的预算执行率（分值 "
        f"{_fmt(weight) if weight is not None else '?'} 分）按 执行率 × 分值 计分，得分写入"
        f"{row.cells['score']}；执行率取自 {row.cells['actual']}。",
        Location(table.sheet, row.cells["weight"])))
    return Planned(row, name, f"custom_{n:02d}", "custom", "", BUDGET_RULE, weight, unit="%",
                   entry=[row.cells["actual"]], target=Decimal(100),
                   reading=StandardReading(BUDGET_TEXT, BUDGET_RULE))


def _groups(table: Table) -> tuple[dict[int, list[IndicatorRow]], dict[int, int]]:
    """Rows sharing one merged 得分 cell (scored as one) and rows sharing one merged 分值
    cell: (first row -> the rows scored with it, row -> how many rows share its 分值)."""
    by_span: dict[tuple[str, tuple[int, int]], list[IndicatorRow]] = {}
    for row in table.rows:
        for role in ("score", "weight"):
            if role in row.spans:
                by_span.setdefault((role, row.spans[role]), []).append(row)
    joined: dict[int, list[IndicatorRow]] = {}
    share: dict[int, int] = {}
    for (role, _), rows in by_span.items():
        if len(rows) < 2:
            continue
        if role == "score":
            joined[rows[0].row] = rows
        else:
            for r in rows:
                share[r.row] = len(rows)
    return joined, share


def plan_rows(src, table: Table,
              preset: str | None = None) -> tuple[list[Planned], list[Problem]]:
    """Decide, for every data row of ``table``, its code, kind, rule and entry cells.

    Rows sharing one merged 分值 cell each take an equal share of it (their 评分标准 is read
    at that share); rows sharing one merged 得分 cell are one indicator scored by hand in
    that cell, since no rule can combine their values. Both are reported as info.

    Args:
        src: ``reader.OpenpyxlSource`` over the county workbook (formulas evaluated).
        table: the table from ``finder.find_table``.
        preset: preset whose rule a catalogue row takes when its 评分标准 cell is blank.

    Returns:
        (planned rows in table order, problems located at the county's cells).
    """
    cat = catalogue.indicators()
    problems: list[Problem] = []
    planned: list[Planned] = []
    used: dict[str, int] = {}
    n_custom = 0
    joined, share = _groups(table)
    skip = {r.row for rows in joined.values() for r in rows[1:]}
    if table.weight_from_name and table.rows:
        first = table.rows[0]
        problems.append(Problem(
            "info", "weight-from-name",
            "县表没有“分值”列，各指标的分值取自指标名称中的“（N分）”；如分值有误，请修改"
            "指标名称中的分数后重新接管。", Location(table.sheet, first.cells.get("name", ""))))
    for row in table.rows:
        if row.row in skip:
            continue
        group = joined.get(row.row, [])
        name = "、".join(r.text("name") for r in group if r.text("name")) if group \
            else row.text("name")
        name_loc = Location(table.sheet, row.cells.get("name", ""))
        if not name:
            name = f"第{row.row}行指标"
            problems.append(Problem(
                "error", "name-missing",
                "该行有分值或评分标准，但没有指标名称；已按个性指标接管，请补填指标名称。",
                name_loc))
        if row.budget:
            n_custom += 1
            planned.append(_budget_row(src, table, row, n_custom, problems))
            continue
        div = share.get(row.row, 1) if not group else 1
        if table.weight_from_name:
            weight = weight_in_name(row.values.get("name"))
            if weight is None:
                problems.append(Problem(
                    "error", "weight-missing",
                    f"“{name}”的名称中没有写分值（如“（5分）”），请在名称后补上分值。", name_loc))
        else:
            weight = _weight(src, table, row, name, problems)
        total_w = weight
        if weight is not None and div > 1:
            weight = weight / div
            if row.spans.get("weight", (0,))[0] == row.row:
                r0, r1 = row.spans["weight"]
                problems.append(Problem(
                    "info", "weight-shared",
                    f"第{r0}–{r1}行的 {div} 项指标共用一个分值（{_fmt(total_w)} 分），按每项 "
                    f"{_fmt(weight)} 分分别评分，合计仍为 {_fmt(total_w)} 分。",
                    Location(table.sheet, row.cells.get("weight", ""))))
        code, how = (None, "") if group else match_code(name)
        if group:
            rule, reading = Manual(), None
            text = row.text("standard")
            r0, r1 = row.spans["score"]
            problems.append(Problem(
                "info", "score-shared",
                f"第{r0}–{r1}行的指标（{name}）共用一个得分单元格，按一项指标人工评分："
                f"请评价人在该单元格填写这 {len(group)} 项的合计得分。",
                Location(table.sheet, row.cells.get("score", ""))))
            if text:
                reading = StandardReading(text, None, "多项指标共用一个得分单元格，按人工评分。")
        else:
            rule, reading = _rule(table, row, name, weight, problems, code, preset,
                                  target=_target_value(src, table, row),
                                  shared_total=total_w if div > 1 else None)
        if code in used:
            problems.append(Problem(
                "warning", "duplicate-indicator",
                f"“{name}”与第{used[code]}行对应同一指标（{cat[code].name}），本行按个性指标接管。",
                name_loc))
            code = None
        ind = cat.get(code) if code else None
        p = Planned(row, name, code or "", "custom", how, rule, weight,
                    unit=ind.unit if ind else _unit_of(name, row.text("standard")),
                    reading=reading, weight_div=div, weight_from_name=table.weight_from_name,
                    joined=group)
        if ind is not None and ind.kind == "rate" and not isinstance(rule, Manual):
            if isinstance(rule, Proportional) and rule.target is None:
                p.rule = dataclasses.replace(rule, target=Decimal(100))  # a rate's target
            p.kind, p.write_actual = "rate", bool(row.cells.get("actual"))
        elif ind is not None and ind.kind == "qualitative":
            entry = (_manual_entry(table, row, rule) if isinstance(rule, Manual)
                     else [row.cells["actual"]] if row.cells.get("actual") else [])
            if entry:
                p.kind, p.entry = "qualitative", entry
        if p.kind != "custom":
            used[p.code] = row.row
            planned.append(p)
            continue
        # A 个性指标 row: its own code; numeric rules read 实际值, manual ones the entry.
        n_custom += 1
        p.code, p.how = f"custom_{n_custom:02d}", ""
        if ind is not None:
            problems.append(Problem(
                "info", "adopted-as-custom",
                f"“{name}”对应指标库中的“{ind.name}”，但" + (
                    "评分标准需人工评分" if ind.kind == "rate"
                    else "县表中没有可填写评定等级或实际值的列") + "，已按个性指标接管（见“个性指标”表）。",
                name_loc))
        if isinstance(rule, Manual):
            p.direction = "定性"
            p.entry = [row.cells["score"]] if group and row.cells.get("score") \
                else _manual_entry(table, row, rule)
        else:
            p.direction = "反向" if isinstance(rule, Proportional) and rule.lower_is_better \
                else "正向"
            p.entry = [row.cells["actual"]] if row.cells.get("actual") else []
            if isinstance(rule, Proportional) and rule.target is None:
                p.target = _target(src, table, row, name, problems)
        planned.append(p)
    return planned, problems
