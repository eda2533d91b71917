"""Number formatting for everything a user reads (CLI lines, report, summary workbook).
The engine keeps full precision; only these functions round."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def _q(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fmt_amount(d: Decimal | None) -> str:
    """万元 with two decimals: 734.63."""
    return "—" if d is None else f"{_q(Decimal(d), 2):f}"


def fmt_rate(d: Decimal | None) -> str:
    """Percent with two decimals and the sign: 98.29%."""
    return "—" if d is None else f"{_q(Decimal(d), 2):f}%"


def fmt_score(d: Decimal | None) -> str:
    """Score with at most two decimals, no trailing zeros: 95.5, 8, 2.25."""
    if d is None:
        return "—"
    s = f"{_q(Decimal(d), 2):f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def fmt_number(d: Decimal | None) -> str:
    """A plain figure without trailing zeros: 33, 3060.9."""
    if d is None:
        return "—"
    s = f"{Decimal(d):f}"
    return s.rstrip("0").rstrip(".") if "." in s else s
