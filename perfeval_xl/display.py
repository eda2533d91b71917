"""Number formatting for everything a user reads (CLI lines, report, summary workbook).
The engine keeps full precision; only these functions round (half up). Blank gives ""."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

_CENT = Decimal("0.01")


def to_decimal(x: Any) -> Decimal | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, Decimal):
        return x if x.is_finite() else None
    if isinstance(x, (int, float)):
        return Decimal(str(x))
    return None


def fmt_2dp(d: Decimal) -> str:
    s = f"{d.quantize(_CENT, rounding=ROUND_HALF_UP):f}"
    return "0.00" if s == "-0.00" else s


def fmt_amount(d: Any) -> str:
    """An amount in 万元 with 2 decimals ("620.47"); "" for blank."""
    v = to_decimal(d)
    return "" if v is None else fmt_2dp(v)


def fmt_rate(d: Any) -> str:
    """A rate in percent with 2 decimals and the sign ("98.29%"); "" for blank."""
    v = to_decimal(d)
    return "" if v is None else fmt_2dp(v) + "%"


def fmt_score(d: Any) -> str:
    """A score with up to 2 decimals, no trailing zeros ("10", "9.5", "2.25"); "" for blank."""
    v = to_decimal(d)
    if v is None:
        return ""
    s = format(v.quantize(_CENT, rounding=ROUND_HALF_UP).normalize(), "f")
    return "0" if s in ("-0", "") else s


def fmt_plain(d: Any, places: int = 4) -> str:
    """A number as typed (636767, 3060.9), rounded to ``places`` decimals, no trailing zeros."""
    v = to_decimal(d)
    if v is None:
        return "" if d is None else str(d)
    try:
        q = v.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        q = v
    s = format(q.normalize(), "f")
    return "0" if s in ("-0", "") else s


def fmt_count(d: Any) -> str:
    return fmt_plain(d, 2)
