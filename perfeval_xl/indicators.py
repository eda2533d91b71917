"""Rates of the 财预〔2013〕53号 framework, computed from the catalogue's formulas (data).

Pure functions over Decimal values; no workbook access, so Excel UDFs can call them.
Conventions (DESIGN §4.3–4.4):
- an optional addend (``blank_zero`` in inputs.toml) counts as 0 when blank inside a sum;
- a blank figure that a rate divides by, or that is the rate's main figure, gives None;
- a zero denominator gives None, except where the catalogue sets ``zero_over_zero`` (0/0 of
  “三公经费” means “no increase”/“nothing spent”, not an error).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from perfeval_xl import catalogue

HUNDRED = Decimal(100)
_TERM = re.compile(r"\s*([+-]?)\s*([a-z_][a-z0-9_]*)\s*")


@cache
def _terms(expr: str) -> tuple[tuple[int, str], ...]:
    """Parse "a + b - c" into ((1, "a"), (1, "b"), (-1, "c")). Catalogue data only."""
    out, pos = [], 0
    while pos < len(expr):
        m = _TERM.match(expr, pos)
        if not m or (out and not m.group(1)):
            raise ValueError(f"bad catalogue expression: {expr!r}")
        out.append((-1 if m.group(1) == "-" else 1, m.group(2)))
        pos = m.end()
    return tuple(out)


@dataclass
class Calc:
    """One computed rate with what went into it (for notes and the report's appendix)."""

    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    note: str = ""
    blank: list[str] = field(default_factory=list)   # inputs whose blank made it None
    zero_denominator: bool = False
    used: dict[str, Decimal | None] = field(default_factory=dict)
    zeroed: list[str] = field(default_factory=list)  # optional addends taken as 0


def _label(name: str) -> str:
    d = catalogue.derived().get(name)
    if d is not None:
        return d.label
    i = catalogue.inputs().get(name)
    return i.label if i else name


def leaf_inputs(expr: str) -> list[str]:
    """The §4.3 inputs an expression reads, derived quantities expanded, in order."""
    out: list[str] = []
    for _, name in _terms(expr):
        d = catalogue.derived().get(name)
        names = [name] if d is None else (
            leaf_inputs(d.expr) if d.expr else [name] + leaf_inputs(d.when_blank))
        out.extend(n for n in names if n not in out)
    return out


def input_names(code: str) -> list[str]:
    """The inputs rate ``code`` uses, in a fixed order (PE_INDICATOR takes them in this order)."""
    ind = catalogue.indicators()[code]
    if ind.kind != "rate":
        return []
    out = leaf_inputs(ind.numerator)
    out += [n for n in leaf_inputs(ind.denominator) if n not in out]
    return out


def resolve(name: str, values: dict[str, Decimal | None], calc: Calc) -> Decimal | None:
    """The value of an input or derived quantity; None when it cannot be had."""
    d = catalogue.derived().get(name)
    if d is not None and d.expr:
        v = _sum(d.expr, values, calc)
    elif d is not None and values.get(name) is None:
        v = _sum(d.when_blank, values, calc)
    else:
        v = values.get(name)
    calc.used.setdefault(name, v)
    return v


def _sum(expr: str, values: dict[str, Decimal | None], calc: Calc) -> Decimal | None:
    terms = _terms(expr)
    inputs = catalogue.inputs()
    total, missing = Decimal(0), False
    for sign, name in terms:
        v = resolve(name, values, calc)
        if v is None:
            if len(terms) > 1 and name in inputs and inputs[name].blank_zero:
                if name not in calc.zeroed:
                    calc.zeroed.append(name)
                v = Decimal(0)
            else:
                # A derivable input (年末结转结余) is never itself "missing": the inputs its
                # derivation needed were recorded already.
                if name in inputs and name not in calc.blank and name not in catalogue.derived():
                    calc.blank.append(name)
                missing = True
                continue
        total += sign * v
    return None if missing else total


def compute(code: str, values: dict[str, Decimal | None]) -> Calc:
    """Compute rate ``code`` (percent) from §4.3 input values (Decimal or None for blank)."""
    ind = catalogue.indicators()[code]
    calc = Calc(value=None)
    num = _sum(ind.numerator, values, calc)
    den = _sum(ind.denominator, values, calc)
    calc.numerator, calc.denominator = num, den
    if num is None or den is None:
        labels = "、".join(_label(n) for n in calc.blank) or "所需数据"
        calc.note = f"{labels}未填写，无法计算{ind.name}"
        return calc
    if den == 0:
        if ind.zero_over_zero is not None and num == 0:
            calc.value = ind.zero_over_zero
            calc.note = f"分子分母均为0，按{ind.zero_over_zero}%计（视为未增加）"
            return calc
        calc.zero_denominator = True
        calc.note = f"{_expr_label(ind.denominator)}为0，无法计算{ind.name}"
        return calc
    calc.value = num / den * HUNDRED
    if calc.zeroed:
        calc.note = "、".join(_label(n) for n in calc.zeroed) + "未填写，按0计算"
    return calc


def _expr_label(expr: str) -> str:
    terms = _terms(expr)
    return _label(terms[0][1]) if len(terms) == 1 else "（" + expr_text(expr) + "）"


def expr_text(expr: str) -> str:
    """Chinese rendering of a catalogue expression, e.g. "调整后全年预算数 + 上年结转结余资金"."""
    parts = []
    for i, (sign, name) in enumerate(_terms(expr)):
        op = "" if i == 0 and sign > 0 else (" − " if sign < 0 else " + ")
        parts.append(op + _label(name))
    return "".join(parts)


def denominator_input(code: str) -> str:
    """The first input or derived name of a rate's denominator (where a zero is reported)."""
    return _terms(catalogue.indicators()[code].denominator)[0][1]


def compute_rate(code: str, values: dict[str, Decimal | None]) -> tuple[Decimal | None, str]:
    """(value in percent or None, Chinese note) — the plain function behind PE_INDICATOR."""
    c = compute(code, values)
    return c.value, c.note


def rate(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    """numerator / denominator × 100, None when either is blank or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return Decimal(numerator) / Decimal(denominator) * HUNDRED


def derived_values(values: dict[str, Decimal | None]) -> dict[str, Decimal | None]:
    """Every derived quantity (funds_available, effective balance_closing) for display."""
    out = {}
    for name in catalogue.derived():
        out[name] = resolve(name, values, Calc(value=None))
    return out
