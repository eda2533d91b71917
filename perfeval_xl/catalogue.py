"""Loads the data files that define the product: named inputs, the indicator catalogue and
the scoring presets (``perfeval_xl/data``). Nothing here is workbook-specific."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources


def _load(name: str) -> dict:
    data = resources.files("perfeval_xl").joinpath("data", *name.split("/")).read_bytes()
    return tomllib.loads(data.decode("utf-8"))


@dataclass(frozen=True)
class InputDef:
    name: str
    label: str
    type: str          # text | year | amount | count | percent
    sheet: str
    unit: str = ""
    blank_zero: bool = False
    help: str = ""


@dataclass(frozen=True)
class Derived:
    name: str
    label: str
    expr: str = ""        # always computed
    when_blank: str = ""  # computed only when the input of the same name is blank
    text: str = ""


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    name: str
    level1: str
    level2: str
    kind: str                   # rate | qualitative
    explanation: str
    numerator: str = ""
    denominator: str = ""
    formula_text: str = ""
    zero_over_zero: Decimal | None = None
    aliases: tuple[str, ...] = ()

    @property
    def unit(self) -> str:
        return "%" if self.kind == "rate" else ""


@dataclass(frozen=True)
class PresetRow:
    code: str
    weight: Decimal
    rule: str
    name: str = ""
    level1: str = ""
    level2: str = ""


@dataclass(frozen=True)
class CustomTemplate:
    level1: str
    level2: str
    weight: Decimal
    direction: str
    rule: str


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    qualitative_rule: str
    grade_labels: tuple[str, ...]
    grade_lower: tuple[Decimal, ...]
    rows: tuple[PresetRow, ...]
    custom: tuple[CustomTemplate, ...] = ()
    caps: tuple[tuple[str, Decimal | None, Decimal | None, Decimal], ...] = field(default=())

    @property
    def total_weight(self) -> Decimal:
        return sum((r.weight for r in self.rows), Decimal(0)) + sum(
            (c.weight for c in self.custom), Decimal(0))

    @property
    def grade_bands(self) -> list[tuple[str, Decimal]]:
        return list(zip(self.grade_labels, self.grade_lower, strict=False))


def _dec(x) -> Decimal:
    return Decimal(str(x))


@cache
def inputs() -> dict[str, InputDef]:
    return {d["name"]: InputDef(**d) for d in _load("inputs.toml")["input"]}


@cache
def derived() -> dict[str, Derived]:
    return {k: Derived(name=k, **v) for k, v in _load("indicators.toml")["derived"].items()}


@cache
def indicators() -> dict[str, IndicatorDef]:
    out = {}
    for d in _load("indicators.toml")["indicator"]:
        d = dict(d)
        d["aliases"] = tuple(d.get("aliases", ()))
        if "zero_over_zero" in d:
            d["zero_over_zero"] = _dec(d["zero_over_zero"])
        out[d["code"]] = IndicatorDef(**d)
    return out


PRESETS = ("mof2013", "hunan", "perf2020")
DEFAULT_PRESET = "mof2013"


@cache
def preset(name: str) -> Preset:
    """Load a preset by name; KeyError for an unknown one."""
    if name not in PRESETS:
        raise KeyError(name)
    d = _load(f"presets/{name}.toml")
    cat = indicators()
    rows = []
    for r in d["row"]:
        ind = cat[r["code"]]
        rule = r.get("rule") or (d["qualitative_rule"] if ind.kind == "qualitative" else "")
        rows.append(PresetRow(
            code=r["code"], weight=_dec(r["weight"]), rule=rule, name=r.get("name", ""),
            level1=r.get("level1", ""), level2=r.get("level2", "")))
    custom = tuple(
        CustomTemplate(c["level1"], c["level2"], _dec(c["weight"]), c["direction"], c["rule"])
        for c in d.get("custom", ()))
    caps = tuple(
        (c["code"], _dec(c["low"]) if "low" in c else None,
         _dec(c["high"]) if "high" in c else None, _dec(c["max_total"]))
        for c in d.get("cap", ()))
    g = d["grades"]
    return Preset(
        name=d["name"], title=d["title"], qualitative_rule=d["qualitative_rule"],
        grade_labels=tuple(g["labels"]), grade_lower=tuple(_dec(x) for x in g["lower"]),
        rows=tuple(rows), custom=custom, caps=caps)
