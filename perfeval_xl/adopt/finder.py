"""Finds the county's indicator table (部门整体支出绩效自评表) in a workbook by its headers.

A county table is recognised by header texts, never by position: any sheet, any row, any
column order, extra columns, title rows above and notes below. A header may span two rows
(``绩效指标`` over ``一级/二级/三级指标``, ``自评情况`` over ``完成值/得分``). Merged
一级/二级 cells running down many rows, and levels written once per group, give every row
its levels.

Each role (三级指标, 分值, 评分标准, 得分 …) has a vocabulary of header wordings
(``VOCABULARY``). A header row is a candidate when it names an indicator column, a 分值
column and a 评分标准 or 得分 column; candidates are ranked by which roles they name
(``ROLE_WEIGHT``). Two distinct tables with the same best rank are ambiguous: an
``AdoptError`` names every sheet and row considered. Nothing is asked interactively.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from openpyxl.utils import get_column_letter

from perfeval_xl.model import Location, Problem

__all__ = [
    "ROLE_LABEL",
    "VOCABULARY",
    "AdoptError",
    "Column",
    "IndicatorRow",
    "Table",
    "find_table",
    "header_role",
    "norm_header",
]


class AdoptError(Exception):
    """The workbook cannot be adopted; ``message`` is Chinese and says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Roles in display order, with the label used in reports.
ROLE_LABEL = {
    "level1": "一级指标",
    "level2": "二级指标",
    "name": "三级指标",
    "weight": "分值",
    "standard": "评分标准",
    "target": "目标值",
    "actual": "实际值",
    "score": "得分",
    "reason": "扣分原因",
    "explanation": "指标解释",
}

# Header wordings per role, most specific first: when two columns claim one role, the
# earlier wording wins (自评得分 over 评价得分), then the leftmost column.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "level1": ("一级指标", "一级", "一级指标名称"),
    "level2": ("二级指标", "二级", "二级指标名称"),
    "name": ("三级指标", "三级指标名称", "指标名称", "具体指标", "考核指标", "评价指标",
             "绩效指标", "考评指标", "三级", "指标内容", "指标", "名称"),
    "weight": ("分值", "权重", "权数", "标准分", "标准分值", "指标分值", "指标权重", "指标权数",
               "权重分", "分值权重", "权重分值", "满分", "满分值", "基础分值", "三级指标分值",
               "三级指标权重", "三级分值"),
    "standard": ("评分标准", "评分规则", "评价标准", "评分办法", "评分方法", "计分方法",
                 "计分标准", "考核标准", "考评标准", "评分细则", "打分标准", "评分标准及方法",
                 "评分标准及说明", "评分要求", "考核评分标准"),
    "target": ("目标值", "年度目标值", "年度指标值", "全年目标值", "年度计划值", "计划值",
               "预期目标值", "绩效目标值", "指标目标值", "预期目标", "年度目标", "指标值",
               "计划数", "年度工作目标", "工作目标", "目标"),
    "actual": ("实际值", "实际完成值", "完成值", "实际完成", "实际完成数", "年度实际值",
               "全年实际值", "年度实际完成值", "全年完成值", "实际完成情况", "完成情况", "实际数",
               "完成数"),
    "score": ("自评得分", "得分", "指标得分", "考评得分", "考核得分", "评分", "自评分",
              "自评分数", "实际得分", "自评分值", "评价得分", "最终得分", "评定得分", "实得分"),
    "reason": ("扣分原因", "扣分理由", "扣分说明", "扣分原因说明", "扣分情况说明",
               "扣分原因及说明", "失分原因", "偏差原因", "偏差原因分析", "偏差原因分析及改进措施",
               "偏差原因及改进措施", "未完成原因", "未完成原因分析", "存在问题及原因"),
    "explanation": ("指标解释", "指标说明", "指标内涵", "指标释义", "指标定义"),
}

# Headers of columns we recognise and leave alone; they make a row look like a header.
# 得分系数/得分率/系数 hold the department's coefficients, never our score.
EXTRA_TERMS = ("序号", "计算公式", "评价要点", "备注", "说明", "评分依据", "数据来源", "佐证材料",
               "复核得分", "审核得分", "财政复核得分", "评价方式", "指标方向", "单位", "计量单位",
               "指标性质", "指标类型", "得分系数", "得分率", "系数", "评分系数", "权重系数",
               "完成率", "完成比例",
               # level weights, never the indicator's 分值
               "一级指标分值", "二级指标分值", "一级分值", "二级分值", "一级指标权重",
               "二级指标权重", "一级权重", "二级权重")
# A header ending like this is a ratio or coefficient column ("自评得分系数", "分值占比"),
# whatever term it starts with.
RATIO_ENDINGS = ("系数", "率", "比例", "占比")

# How much each role counts when ranking candidates. name, weight and one of standard or
# score are required.
ROLE_WEIGHT = {"name": 8, "weight": 6, "standard": 6, "score": 6, "level1": 2, "level2": 2,
               "actual": 2, "reason": 2, "target": 1, "explanation": 1}

TOTAL_TERMS = frozenset({"合计", "总计", "总分", "合计得分", "得分合计", "总得分", "自评总分",
                         "合计分值", "综合得分", "自评得分合计", "总分合计"})
GRADE_TERMS = frozenset({"等级", "评价等级", "自评等级", "绩效等级", "评定等级", "等次", "自评等次",
                         "评价结果", "自评结果", "绩效评价等级"})
NOTE_PREFIXES = ("注", "说明", "备注", "填表说明", "填报说明", "填表人", "填报人", "审核人",
                 "负责人", "单位负责人", "联系人", "联系电话", "评价人", "制表", "附注")
# Names of the empty template rows a county leaves in 项目支出绩效自评表 (“指标2：”, “……”):
# skipped when nothing else in the row is filled.
PLACEHOLDER_NAME = re.compile(r"^(指标\d*[:：]?|[…．.。、/\-—]+|无|其他)$")
# The 预算执行 block above a 项目支出绩效自评表's indicator table (财预〔2020〕10号 form):
# a header row with one of these, a 分值/权重 and a 得分 cell; the row below it with a number
# in 分值 is scored as 执行率 × 分值 (matcher.BUDGET_RULE).
BUDGET_RATE_TERMS = ("执行率", "预算执行率", "资金执行率", "全年执行率")
COMPARATORS = ("≥", ">=", ">", "≤", "<=", "<", "=", "＝")
BUDGET_SCAN_ROWS = 15       # how far above the indicator header the block is looked for
UNIT_LABELS = ("单位名称", "部门名称", "部门(单位)名称", "填报单位", "填报单位(盖章)", "单位(盖章)",
               "部门(单位)", "被评价单位", "评价单位", "部门", "单位")

_HEADER_SCAN_ROWS = 300     # header rows are looked for in the first rows of a sheet
_MAX_HEADER_ROWS = 4        # a header spans at most this many rows
_NAME_WEIGHT_RANK = 5       # weights only inside the names rank below a 分值 column
_NAME_WEIGHT = re.compile(r"[(]\s*(\d+(?:\.\d+)?)\s*分\s*[)]")
_MAX_COLUMNS = 60
_MAX_DATA_ROWS = 1000
_BLANK_RUN_END = 3          # this many blank rows end a table
_MERGE_CELL_LIMIT = 20000   # larger merged ranges are not expanded (hostile files)

_TERM_ROLE: dict[str, tuple[str, int]] = {}
for _role, _terms in VOCABULARY.items():
    for _i, _t in enumerate(_terms):
        _TERM_ROLE.setdefault(_t, (_role, _i))
for _t in EXTRA_TERMS:
    _TERM_ROLE.setdefault(_t, ("extra", 0))
# Prefix matching ("得分情况", "分值权重说明") is allowed for terms long or specific enough;
# "指标" or "评分" alone would catch 指标类型 or 评分依据.
_PREFIX_TERMS = frozenset(t for t in _TERM_ROLE
                          if (len(t) >= 3 or t in ("得分", "分值", "权重")) and t not in EXTRA_TERMS)


def norm_header(text: Any) -> str:
    """Header text reduced for matching: NFKC, no blanks or line breaks, no trailing unit in
    brackets ("分值（分）" -> "分值"), no colon or asterisk."""
    if not isinstance(text, str) or text.startswith("="):
        return ""
    s = unicodedata.normalize("NFKC", text)
    s = re.sub(r"\s+", "", s).strip(":*※")
    s = re.sub(r"\([^()]*\)$", "", s) or s
    return s.strip(":*※")


def header_role(text: Any) -> tuple[str, int] | None:
    """(role, priority) of a header text, ("extra", 0) for a known other column, or None."""
    return _role_of(text) if isinstance(text, str) else None


@lru_cache(maxsize=4096)
def _role_of(text: str) -> tuple[str, int] | None:
    s = norm_header(text)
    if not s or len(s) > 24:
        return None
    if s in _TERM_ROLE:
        return _TERM_ROLE[s]
    if s.endswith(RATIO_ENDINGS):
        return None
    for n in range(len(s) - 1, max(len(s) - 3, 1), -1):  # a term plus at most two characters
        if s[:n] in _PREFIX_TERMS:
            return _TERM_ROLE[s[:n]]
    return None


@dataclass(frozen=True)
class Column:
    """One recognised column: its role, 1-based index and the header text as written."""

    role: str
    col: int
    header: str

    @property
    def letter(self) -> str:
        return get_column_letter(self.col)


@dataclass
class IndicatorRow:
    """One data row of the county table.

    Attributes:
        row: sheet row.
        cells: role -> coordinate of the cell that holds the role's value for this row (for
            merged or carried-down levels, the cell where the text is written).
        values: role -> the raw value of that cell (None for blank).
        spans: role -> (first, last) sheet rows of a 分值/评分标准/得分 cell merged down over
            several indicators (they share it).
    """

    row: int
    cells: dict[str, str]
    values: dict[str, Any]
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    budget: bool = False  # the 预算执行率 row of a 项目资金 block above the table

    def text(self, role: str) -> str:
        v = self.values.get(role)
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v).strip()


@dataclass
class Table:
    """A candidate or chosen indicator table."""

    sheet: str
    header_top: int
    header_bottom: int
    columns: dict[str, Column]
    rank: int
    rows: list[IndicatorRow] = field(default_factory=list)
    last_row: int = 0
    total_row: int | None = None
    total_cell: str | None = None
    grade_cell: str | None = None
    unit_text: str | None = None        # 单位名称 written in the title rows
    unit_cell: str | None = None        # or the cell the department is to fill it in
    year: int | None = None
    problems: list[Problem] = field(default_factory=list)
    weight_options: list[Column] = field(default_factory=list)  # 分值 columns, chosen first
    weight_from_name: bool = False      # no 分值 column: the points are in the names
    notes: list[str] = field(default_factory=list)  # the 注/说明 texts below the table

    @property
    def data_start(self) -> int:
        return self.header_bottom + 1

    def where(self) -> str:
        rows = (f"第{self.header_top}行" if self.header_top == self.header_bottom
                else f"第{self.header_top}–{self.header_bottom}行")
        return f"“{self.sheet}”表{rows}"

    def column_summary(self) -> str:
        """"三级指标=C列（三级指标）、分值=D列（分值）…" in role order."""
        parts = []
        for role, label in ROLE_LABEL.items():
            c = self.columns.get(role)
            if c:
                shown = c.header.replace("\n", "")
                parts.append(f"{label}={c.letter}列" + (f"（{shown}）" if shown != label else ""))
        return "、".join(parts)


# --------------------------------------------------------------------------- sheet access


class _Grid:
    """Cell values of one worksheet with merged ranges resolved to their top-left cell."""

    def __init__(self, ws):
        self.ws = ws
        self.owner: dict[tuple[int, int], tuple[int, int]] = {}
        self.span: dict[tuple[int, int], tuple[int, int, int, int]] = {}
        for rng in ws.merged_cells.ranges:
            r0, c0, r1, c1 = rng.min_row, rng.min_col, rng.max_row, rng.max_col
            if (r1 - r0 + 1) * (c1 - c0 + 1) > _MERGE_CELL_LIMIT:
                continue
            self.span[(r0, c0)] = (r0, c0, r1, c1)
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    self.owner[(r, c)] = (r0, c0)
        self.max_row = ws.max_row
        self.max_col = min(ws.max_column, _MAX_COLUMNS)

    def top_left(self, r: int, c: int) -> tuple[int, int]:
        return self.owner.get((r, c), (r, c))

    def merge_of(self, r: int, c: int) -> tuple[int, int, int, int]:
        """(r0, c0, r1, c1) of the merged range holding the cell (the cell itself if none)."""
        return self.span.get(self.top_left(r, c), (r, c, r, c))

    def value(self, r: int, c: int) -> Any:
        r0, c0 = self.top_left(r, c)
        return self.ws.cell(r0, c0).value

    def text(self, r: int, c: int) -> str:
        v = self.value(r, c)
        return v.strip() if isinstance(v, str) and not v.startswith("=") else ""

    def coord(self, r: int, c: int) -> str:
        r0, c0 = self.top_left(r, c)
        return f"{get_column_letter(c0)}{r0}"


# --------------------------------------------------------------------------- candidates


def _roles(grid: _Grid, top: int, bottom: int) -> tuple[dict[str, tuple[int, Column]],
                                                      list[tuple[Column, str | None]]]:
    """Roles named by the header rows ``top``..``bottom``, and every 分值-like column.

    Each column takes the lowest recognised text of its own in the header (a cell merged
    down is judged at its top row; a label merged across names only its first column), so
    完成值 under 自评情况 wins over the group label. A generic 指标/名称 or 分值 under a group
    label 一级指标/二级指标/三级指标 merged across takes that level: 一级指标 over 指标 | 分值
    names the level-1 column and its level weight (never the indicator's 分值).

    Returns:
        (role -> (priority, column) with the 分值 still undecided, [(分值 column, level of
        its group label or None)]).
    """
    found: dict[str, tuple[int, Column]] = {}
    weights: list[tuple[Column, str | None]] = []
    for c in range(1, grid.max_col + 1):
        hit = None
        for r in range(bottom, top - 1, -1):
            r0, c0, _, _ = grid.merge_of(r, c)
            if r0 != r:
                if r0 < top:
                    break
                continue  # merged down from a header row above: judged there
            if c0 != c:
                break  # covered by a label merged across from the left
            text = grid.text(r, c)
            role = header_role(text) if text else None
            if role is not None:
                hit = (role, text, r)
                break
        if hit is None or hit[0][0] == "extra":
            continue
        (role, prio), text, hit_row = hit
        group = _group_above(grid, top, hit_row, c)
        if group in ("level1", "level2") and role == "name":
            role, prio = group, 50
        if role == "weight":
            weights.append((Column("weight", c, text), group))
            continue
        if role not in found or prio < found[role][0]:
            found[role] = (prio, Column(role, c, text))
    return found, weights


def _group_above(grid: _Grid, top: int, row: int, c: int) -> str | None:
    """The level (一级/二级/三级指标) of the nearest label merged across columns above
    ``row`` that covers column ``c``, or None."""
    for r in range(row - 1, top - 1, -1):
        r0, c0, _, c1 = grid.merge_of(r, c)
        if c1 > c0 and r0 >= top:
            hit = header_role(grid.text(r0, c0))
            return hit[0] if hit and hit[0] in ("level1", "level2", "name") else None
    return None


def _choose_weight(found: dict, weights: list[tuple[Column, str | None]]) -> list[Column]:
    """The indicator's own 分值 column first, then the other candidates.

    A 分值 under a 一级/二级指标 group label is a level weight and never chosen. Of the rest,
    the one nearest on the right of the 三级指标 column belongs to it (一级指标 | 分值 |
    二级指标 | 分值 | 三级指标 | 分值 is how counties write level weights); failing that the
    nearest on its left.
    """
    options = [col for col, group in weights if group not in ("level1", "level2")]
    name = found.get("name")
    if not options or name is None:
        return options
    n = name[1].col
    right = sorted((c for c in options if c.col > n), key=lambda c: c.col)
    left = sorted((c for c in options if c.col < n), key=lambda c: -c.col)
    return right + left


def _own_header(grid: _Grid, r: int) -> bool:
    return any(grid.top_left(r, c) == (r, c) and header_role(grid.text(r, c))
               for c in range(1, grid.max_col + 1))


def _row_contributes(grid: _Grid, r: int, first: bool) -> bool:
    """Whether header row ``r`` adds something: a recognised text of its own (分值 merged
    down, 绩效指标 over 一级/二级/三级), or group labels (自评情况 over 完成值 | 得分). A
    title row merged across the table is not a group label: the first row of a header needs
    two group labels, or one beside a cell merged down into the next row."""
    if _own_header(grid, r):
        return True
    groups, merged_down = 0, False
    for c in range(1, grid.max_col + 1):
        if grid.top_left(r, c) != (r, c):
            continue
        r0, c0, r1, c1 = grid.merge_of(r, c)
        merged_down = merged_down or r1 > r
        if not grid.text(r, c) or c1 == c0 or r1 > r:
            continue
        below = sum(1 for k in range(c0, c1 + 1) if header_role(grid.text(r + 1, k)))
        groups += below >= 2
    return groups >= 2 or (groups >= 1 and (merged_down or not first))


def _rank(roles) -> int:
    return sum(ROLE_WEIGHT[r] for r in roles)


def _is_table(roles) -> bool:
    """name, one of 评分标准/得分, and a 分值 column (or, checked on the rows later, weights
    written inside the names: “在职人员控制率（5分）”)."""
    return "name" in roles and ("standard" in roles or "score" in roles)


def _header_like(grid: _Grid, r: int) -> bool:
    hits = sum(1 for c in range(1, grid.max_col + 1)
               if grid.top_left(r, c) == (r, c) and header_role(grid.text(r, c)))
    return hits >= 3


def _valid_header(grid: _Grid, top: int, bottom: int) -> bool:
    return all(_row_contributes(grid, r, r == top) for r in range(top, bottom)) and (
        top == bottom or _own_header(grid, bottom))


def _candidates(ws) -> list[Table]:
    grid = _Grid(ws)
    best: dict[int, Table] = {}  # data start row -> best candidate starting there
    own: dict[int, bool] = {}  # row -> has a recognised header text of its own
    for top in range(1, min(grid.max_row, _HEADER_SCAN_ROWS) + 1):
        for bottom in range(min(top + _MAX_HEADER_ROWS, grid.max_row + 1) - 1, top - 1, -1):
            if bottom not in own:
                own[bottom] = _own_header(grid, bottom)
            if not own[bottom]:
                continue  # the last header row always names a column of its own
            roles, weights = _roles(grid, top, bottom)
            if not _is_table(roles) or not _valid_header(grid, top, bottom):
                continue
            options = _choose_weight(roles, weights)
            cols = {role: col for role, (_, col) in roles.items()}
            rank = _rank(roles)
            if options:
                cols["weight"] = options[0]
                rank += ROLE_WEIGHT["weight"]
            else:
                rank += _NAME_WEIGHT_RANK
            t = Table(ws.title, top, bottom, cols, rank, weight_options=options)
            held = best.get(bottom + 1)
            if held is None or t.rank > held.rank:
                best[bottom + 1] = t
    scanned = []
    for t in best.values():
        _scan_rows(grid, t)
        if "weight" in t.columns:
            _check_weight_column(grid, t)
        elif not _weights_in_names(t):
            continue
        if t.rows:
            scanned.append(t)
    # The same table read from two header rows (or a "header" that is a row of a bigger
    # table) overlaps a better reading: keep the best one per region of the sheet.
    kept: list[Table] = []
    for t in sorted(scanned, key=lambda t: (-t.rank, t.header_top)):
        if not any(k.header_top <= t.header_bottom
                   and t.header_top <= max(k.last_row, k.header_bottom) for k in kept):
            kept.append(t)
    return sorted(kept, key=lambda t: t.header_top)


def _coverage(grid: _Grid, t: Table, col: int) -> float:
    """Share of the rows with a number of their own in column ``col`` (a level weight is
    merged down or written once per group, the indicator's 分值 is on every row)."""
    own = sum(1 for row in t.rows if grid.top_left(row.row, col) == (row.row, col)
              and isinstance(grid.value(row.row, col), (int, float)))
    return own / max(len(t.rows), 1)


def _column_sum(grid: _Grid, t: Table, col: int) -> Decimal:
    """Sum of the numbers in column ``col`` on the table's rows, each merged cell once."""
    seen, total = set(), Decimal(0)
    for row in t.rows:
        cell = grid.top_left(row.row, col)
        v = grid.value(row.row, col)
        if cell not in seen and isinstance(v, (int, float)) and not isinstance(v, bool):
            seen.add(cell)
            total += Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
    return total


def _check_weight_column(grid: _Grid, t: Table) -> None:
    """Take another 分值 column when the nearest one is clearly a level weight (a number on
    fewer than half the rows), or when both are per-row and only the other sums to 100."""
    if len(t.weight_options) < 2 or not t.rows:
        return
    chosen = t.columns["weight"]
    if _coverage(grid, t, chosen.col) >= 0.5:
        # Both look like per-row weights: the one whose values sum to 100 belongs to the
        # indicators (the other may be a 标准分 in other units).
        if _column_sum(grid, t, chosen.col) == 100:
            return
        better = [c for c in t.weight_options[1:] if _coverage(grid, t, c.col) >= 0.8
                  and _column_sum(grid, t, c.col) == 100]
    else:
        better = [c for c in t.weight_options[1:] if _coverage(grid, t, c.col) >= 0.8]
    if better:
        t.columns["weight"] = better[0]
        t.rows, t.last_row, t.total_row, t.total_cell, t.grade_cell = [], 0, None, None, None
        _scan_rows(grid, t)


def weight_in_name(text: Any) -> Decimal | None:
    """The points written inside an indicator name: “在职人员控制率（5分）” -> 5."""
    if not isinstance(text, str):
        return None
    m = _NAME_WEIGHT.search(unicodedata.normalize("NFKC", text))
    return Decimal(m.group(1)) if m else None


def _weights_in_names(t: Table) -> bool:
    """A table without a 分值 column is one when (nearly) every name carries its points."""
    named = sum(1 for row in t.rows if weight_in_name(row.values.get("name")) is not None)
    t.weight_from_name = named >= 2 and named * 2 >= len(t.rows)
    return t.weight_from_name


# --------------------------------------------------------------------------- data rows


def _row_texts(grid: _Grid, r: int, c0: int, c1: int) -> list[str]:
    return [norm_header(grid.value(r, c)) for c in range(c0, c1 + 1)]


def _scan_rows(grid: _Grid, t: Table) -> None:
    """Collect the data rows under the header, the totals row and the notes' start."""
    cols = t.columns
    c_hi = max(c.col for c in cols.values())
    carried: dict[str, tuple[str, Any]] = {}
    blanks = 0
    r = t.data_start
    end = min(grid.max_row, t.data_start + _MAX_DATA_ROWS)
    while r <= end:
        texts = [x for x in _row_texts(grid, r, 1, c_hi) if x]
        if r > t.data_start and _header_like(grid, r):
            break
        label = _total_label(grid, r, c_hi)
        if label is not None:
            _set_total(grid, t, r, label)
            break
        if texts and texts[0].startswith(NOTE_PREFIXES) and not _has_number(grid, r, cols):
            break
        if all(grid.value(r, c.col) in (None, "") for c in cols.values()):
            blanks += 1
            if blanks >= _BLANK_RUN_END:
                break
            r += 1
            continue
        blanks = 0
        row = _data_row(grid, t, r, carried)
        if row is not None:
            t.rows.append(row)
            t.last_row = r
        r += 1
    _find_total_and_grade(grid, t)


def _has_number(grid: _Grid, r: int, cols: dict[str, Column]) -> bool:
    c = cols.get("weight")
    return c is not None and isinstance(grid.value(r, c.col), (int, float))


def _data_row(grid: _Grid, t: Table, r: int, carried: dict) -> IndicatorRow | None:
    cols = t.columns
    cells: dict[str, str] = {}
    values: dict[str, Any] = {}
    for role, col in cols.items():
        r0, c0 = grid.top_left(r, col.col)
        value = grid.ws.cell(r0, c0).value
        if role in ("level1", "level2"):
            # Merged down or written once per group: carry the text to the rows below.
            if value not in (None, ""):
                carried[role] = (f"{get_column_letter(c0)}{r0}", value)
            if role in carried:
                cells[role], values[role] = carried[role]
            continue
        if role == "name":
            rm0, cm0, rm1, cm1 = grid.merge_of(r, col.col)
            if cm1 - cm0 >= 2 and cm0 <= c0:
                return None  # a section row ("一、投入（20分）") merged across the table
            if rm0 != r:
                return None  # the second line of an indicator whose name is merged down
        cells[role] = f"{get_column_letter(c0)}{r0}"
        values[role] = value
    name = values.get("name")
    if name in (None, "") and values.get("weight") in (None, "") and values.get(
            "standard") in (None, ""):
        return None
    if PLACEHOLDER_NAME.match(norm_header(name)) and all(
            values.get(k) in (None, "") for k in values if k not in ("name", "level1",
                                                                    "level2")):
        return None  # an empty template row (“指标2：”) the department did not use
    # 指标性质 in its own column left of 指标值 (“≥”, “≤”, “=”: the Sichuan form) gives the
    # target's direction.
    if "target" in cols and cols["target"].col > 1:
        op = norm_header(grid.value(r, cols["target"].col - 1))
        if op in COMPARATORS:
            values["target_op"] = op
    # A 分值/评分标准/得分 merged down over several indicators is shared by them: each row
    # points at the merge's top-left cell and knows the rows sharing it (matcher decides).
    spans = {}
    for role in ("weight", "standard", "score"):
        col = cols.get(role)
        if col:
            r0, _, r1, _ = grid.merge_of(r, col.col)
            if r1 > r0:
                spans[role] = (r0, r1)
    return IndicatorRow(r, cells, values, spans)


def _right_of(grid: _Grid, r: int, c: int) -> str:
    """The first cell right of the (possibly merged) label at (r, c)."""
    _, _, _, c1 = grid.merge_of(r, c)
    return grid.coord(r, c1 + 1)


def _total_label(grid: _Grid, r: int, c_hi: int) -> int | None:
    """Column of a 合计/总分 label written in row ``r`` (its own cell), or None."""
    for c in range(1, c_hi + 1):
        if grid.top_left(r, c) == (r, c) and norm_header(grid.value(r, c)) in TOTAL_TERMS:
            return c
    return None


def _set_total(grid: _Grid, t: Table, r: int, label_col: int) -> None:
    """A totals row inside the table (its 分值 cell filled, or the label ends right before
    the 得分 column) has its total in the 得分 column; a free label such as "自评总分"
    below the table has it in the cell to its right."""
    t.total_row = r
    right = _right_of(grid, r, label_col)
    score, weight = t.columns.get("score"), t.columns.get("weight")
    in_table = weight is not None and grid.value(r, weight.col) not in (None, "")
    if score is not None and (in_table or right == grid.coord(r, score.col)):
        t.total_cell = grid.coord(r, score.col)
    else:
        t.total_cell = right


def _find_total_and_grade(grid: _Grid, t: Table) -> None:
    """A 总分 label below the table when there was no totals row, and the 等级 cell."""
    start = t.total_row or (t.last_row + 1)
    for r in range(start, min(grid.max_row, start + 6) + 1):
        for c in range(1, grid.max_col + 1):
            if grid.top_left(r, c) != (r, c):
                continue
            s = norm_header(grid.value(r, c))
            if t.total_cell is None and s in TOTAL_TERMS:
                _set_total(grid, t, r, c)
            elif t.grade_cell is None and s in GRADE_TERMS:
                t.grade_cell = _right_of(grid, r, c)


def _title_info(grid: _Grid, t: Table) -> None:
    """单位名称 and 评价年度 from the rows above the header."""
    for r in range(1, t.header_top):
        for c in range(1, grid.max_col + 1):
            if grid.top_left(r, c) != (r, c):
                continue
            raw = grid.text(r, c)
            if not raw:
                continue
            s = unicodedata.normalize("NFKC", raw).replace(" ", "")
            if t.year is None and (m := re.search(r"(20\d{2})年", s)):
                t.year = int(m.group(1))
            if t.unit_text or t.unit_cell:
                continue
            m = re.match(r"(.+?)[:：](.*)$", s)
            label, rest = (m.group(1), m.group(2).strip()) if m else (s, "")
            if label not in UNIT_LABELS:
                continue
            if rest:
                t.unit_text = rest
            else:
                t.unit_text, t.unit_cell = _value_right_of(grid, r, c)


def _value_right_of(grid: _Grid, r: int, c: int) -> tuple[str | None, str | None]:
    """The text filled in right of a label (skipping blank cells, stopping at another
    label such as "金额单位："), else the first blank cell there, for the user to fill."""
    blank = None
    for _ in range(3):
        coord = _right_of(grid, r, c)
        cell = grid.ws[coord]
        c = cell.column
        v = cell.value
        if isinstance(v, str) and v.strip() and not v.startswith("="):
            if re.search(r"[:：]", v):
                break
            return v.strip(), None
        if v not in (None, ""):
            break
        blank = blank or coord
    return None, blank


# --------------------------------------------------------------------------- choosing


def find_table(wb) -> tuple[Table, list[Table]]:
    """Find the indicator table of a county workbook.

    Args:
        wb: openpyxl workbook (formulas kept).

    Returns:
        (the chosen table with its data rows, every candidate considered, best first).

    Raises:
        AdoptError: no indicator table anywhere, or two equally plausible ones.
    """
    candidates: list[Table] = []
    hidden = []
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            hidden.append(ws.title)
            continue
        candidates.extend(_candidates(ws))
    if not candidates:
        where = "、".join(f"“{ws.title}”" for ws in wb.worksheets if ws.sheet_state == "visible")
        extra = f"（隐藏的工作表 {'、'.join(hidden)} 未查找，请先取消隐藏）" if hidden else ""
        raise AdoptError(
            f"在工作表 {where} 中没有找到绩效指标表{extra}（每张工作表查找了前 "
            f"{_HEADER_SCAN_ROWS} 行、前 {_MAX_COLUMNS} 列中最多 {_MAX_HEADER_ROWS} 行的表头）。"
            "指标表须有表头行，至少包含“三级指标”（或 指标名称/具体指标）、“分值”（或 权重/权数/"
            "标准分，也可写在指标名称中，如“在职人员控制率（5分）”），以及“评分标准”（或 评分规则/"
            "评价标准）或“得分”（或 自评得分/考评得分）列。请确认这是县财政局下发的部门整体支出"
            "绩效自评表；如指标表在更靠下的位置，请删去表格上方多余的行后再接管。")
    candidates.sort(key=lambda t: (-t.rank, t.sheet, t.header_top))
    top = candidates[0]
    rivals = [t for t in candidates[1:] if t.rank == top.rank]
    if rivals:
        listed = "；".join(f"{t.where()}（{t.column_summary()}，{len(t.rows)}行指标）"
                          for t in [top, *rivals])
        raise AdoptError(
            f"找到 {len(rivals) + 1} 张同样可能的指标表，无法确定接管哪一张：{listed}。"
            "请删除多余的副本（或把不用的工作表另存出去）后再接管。")
    grid = _Grid(wb[top.sheet])
    _title_info(grid, top)
    _budget_block(grid, top)
    _notes(grid, top)
    return top, candidates


NOTE_SCAN_ROWS = 12  # rows below the table (or its total) read for its 注/说明


def _notes(grid: _Grid, t: Table) -> None:
    """The notes under the table, from the first row starting with 注/说明 (their numbered
    continuation lines included): a 项目支出绩效自评表 states its scoring rule there."""
    start = max(t.total_row or 0, t.last_row) + 1
    seen = False
    for r in range(start, min(grid.max_row, start + NOTE_SCAN_ROWS) + 1):
        texts = [str(grid.value(r, c)).strip() for c in range(1, grid.max_col + 1)
                 if grid.top_left(r, c) == (r, c) and isinstance(grid.value(r, c), str)
                 and str(grid.value(r, c)).strip()]
        if texts and not seen and texts[0].startswith(("注", "说明", "填表说明", "填报说明")):
            seen = True
        if seen and texts:
            t.notes.append(" ".join(texts))


def _budget_block(grid: _Grid, t: Table) -> None:
    """The 预算执行率 row of a 项目资金/预算执行情况 block above the indicator table: its 分值
    counts in the total (10 of 100 in the 财预〔2020〕10号 form), so it becomes a row of the
    table, placed first (its 执行率 cell is the value, its 得分 cell gets the score)."""
    for hr in range(t.header_top - 1, max(0, t.header_top - BUDGET_SCAN_ROWS), -1):
        found: dict[str, int] = {}
        for c in range(1, grid.max_col + 1):
            if grid.top_left(hr, c) != (hr, c):
                continue
            s = norm_header(grid.value(hr, c))
            if s in BUDGET_RATE_TERMS:
                found.setdefault("actual", c)
            elif s in VOCABULARY["weight"]:
                found.setdefault("weight", c)
            elif s in VOCABULARY["score"]:
                found.setdefault("score", c)
            elif s in VOCABULARY["reason"] or s == "原因":
                found.setdefault("reason", c)
        if not {"actual", "weight", "score"} <= found.keys():
            continue
        for r in range(hr + 1, min(hr + 4, t.header_top)):
            if isinstance(grid.value(r, found["weight"]), bool) or not isinstance(
                    grid.value(r, found["weight"]), (int, float)):
                continue
            label_r, label_c = grid.top_left(hr, 1)
            cells = {role: grid.coord(r, c) for role, c in found.items()}
            cells["name"] = grid.coord(label_r, label_c)
            values = {role: grid.value(r, c) for role, c in found.items()}
            values["name"] = grid.value(label_r, label_c) or "预算执行率"  # the block's label
            t.rows.insert(0, IndicatorRow(r, cells, values, budget=True))
            return
        return


def location(table: Table, coord: str) -> Location:
    return Location(table.sheet, coord)
