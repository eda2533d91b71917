"""Typed records that flow through the engine. Every value read from a workbook keeps the
``sheet!cell`` it came from, so any later stage can point the user back at it.

Money is ``Decimal`` in 万元; rates are ``Decimal`` in percent (98.29 means 98.29 %).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from perfeval_xl.display import QUOTE_LIMIT, clip_quotes

Number = Decimal


@dataclass(frozen=True, order=True)
class Location:
    """A cell in a workbook: sheet title plus A1 address ("C7")."""

    sheet: str
    cell: str = ""

    def __str__(self) -> str:
        quoted = "'" + self.sheet.replace("'", "''") + "'"
        return f"{quoted}!{self.cell}" if self.cell else quoted


SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Problem:
    """One finding. ``code`` is stable kebab-case; ``message`` is Chinese and says what to fix."""

    severity: str
    code: str
    message: str
    location: Location | None = None

    def __post_init__(self) -> None:
        # Quoted workbook text is cut to a readable length wherever the message was built.
        if len(self.message) > QUOTE_LIMIT:
            object.__setattr__(self, "message", clip_quotes(self.message))

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "location": str(self.location) if self.location else "",
            "message": self.message,
        }

    def __str__(self) -> str:
        where = f"{self.location}：" if self.location else ""
        label = {"error": "错误", "warning": "警告", "info": "提示"}[self.severity]
        return f"[{label}] {where}{self.message}（{self.code}）"


class HasProblems:
    """Mixin for records with a ``problems`` list: the errors and the warnings among them."""

    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


@dataclass
class Cell:
    """A value read from one cell. ``value`` is Decimal, str, bool or None (blank)."""

    value: Any
    location: Location | None = None


@dataclass
class Row:
    """One data row of a table: header text -> Cell."""

    cells: dict[str, Cell]
    row: int = 0

    def get(self, header: str) -> Any:
        c = self.cells.get(header)
        return None if c is None else c.value

    def loc(self, header: str) -> Location | None:
        c = self.cells.get(header)
        return None if c is None else c.location


@dataclass
class ScoreRow:
    """One indicator row of the 自评表 (or of the 个性指标 sheet for the department's own)."""

    code: str
    name: str
    level1: str
    level2: str
    weight: Decimal | None
    rule_text: str
    kind: str                      # rate | qualitative | custom
    explanation: str = ""
    entered: Any = None            # evaluator's entry for qualitative rows (tier or score)
    target: Decimal | None = None  # 个性指标 目标值
    actual: Decimal | None = None  # 个性指标 实际值
    direction: str = "正向"
    unit: str = "%"
    note: str = ""
    # Where things are, for messages and write-back.
    location: Location | None = None           # the row's name cell
    weight_loc: Location | None = None
    rule_loc: Location | None = None
    entered_loc: Location | None = None
    target_loc: Location | None = None
    actual_loc: Location | None = None
    # A score the evaluator typed (an adopted county's 得分 cell), for a 分档 rule whose
    # value falls in a score-range band: checked against the range, then used.
    hand_score: Any = None
    hand_score_loc: Location | None = None


@dataclass
class Evaluation:
    """Everything read from one workbook, before any computation."""

    path: str
    unit: Cell
    year: Cell
    preset: str
    inputs: dict[str, Cell]                    # §4.3 names (blank -> Cell(None, loc))
    texts: dict[str, Cell]                     # layout.TEXTS names
    tables: dict[str, list[Row]]               # layout.TABLES names
    rows: list[ScoreRow]                       # scored rows in 自评表 order (catalogue + custom)
    grade_bands: list[tuple[str, Decimal]]     # (label, lower bound), best first
    caps: list[tuple[str, Decimal | None, Decimal | None, Decimal]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # found while reading
    # Where the engine writes back: {"scores": {"sheet", "columns": {header: letter},
    # "rows": {code: row}}, "total": Location, "grade": Location, "checks": {...}}.
    anchors: dict[str, Any] = field(default_factory=dict)

    @property
    def unit_name(self) -> str:
        return str(self.unit.value or "").strip()

    @property
    def eval_year(self) -> int | None:
        v = self.year.value
        try:
            return int(v) if v is not None else None
        except (TypeError, ValueError):
            return None


@dataclass
class IndicatorResult:
    """A computed and scored indicator (one line of §4.2 JSON)."""

    code: str
    name: str
    level1: str
    level2: str
    kind: str
    value: Any                     # Decimal percent, Decimal count, tier str, or None
    unit: str
    weight: Decimal | None
    score: Decimal | None
    standard: str                  # 评分标准 text generated from the rule
    note: str = ""                 # 扣分原因 / why null
    rule_text: str = ""            # machine-readable 评分规则
    formula_text: str = ""
    inputs: dict[str, Decimal | None] = field(default_factory=dict)  # for the appendix
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    blank_inputs: list[str] = field(default_factory=list)  # why a rate is None: blank inputs
    zero_denominator: bool = False                          # … or a zero denominator
    location: Location | None = None

    def to_json(self) -> dict[str, Any]:
        def num(x):
            return None if x is None else float(x)

        value = self.value
        value = num(value) if isinstance(value, Decimal) else value
        return {
            "code": self.code,
            "name": self.name,
            "level1": self.level1,
            "level2": self.level2,
            "value": value,
            "unit": self.unit,
            "weight": num(self.weight),
            "score": num(self.score),
            "rule": self.standard,
            "note": self.note,
        }


@dataclass
class Result(HasProblems):
    """The engine's output for one workbook."""

    evaluation: Evaluation
    indicators: list[IndicatorResult]
    total: Decimal | None
    grade: str
    problems: list[Problem]
    derived: dict[str, Decimal | None] = field(default_factory=dict)  # funds_available, …
    cap_note: str = ""

    def indicator(self, code: str) -> IndicatorResult | None:
        return next((i for i in self.indicators if i.code == code), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.evaluation.unit_name,
            "year": self.evaluation.eval_year,
            "preset": self.evaluation.preset,
            "indicators": [i.to_json() for i in self.indicators],
            "total": None if self.total is None else float(self.total),
            "grade": self.grade,
            "problems": [p.to_json() for p in self.problems],
        }
