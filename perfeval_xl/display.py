"""Number formatting for everything a user reads (CLI lines, report, summary workbook).
The engine keeps full precision; only these functions round (half up). Blank gives "".

Also how user text appears in messages: quoted text cut to a readable length
(:func:`clip`), and invisible characters named (:func:`invisible_chars`)."""

from __future__ import annotations

import re
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


# ------------------------------------------------------------------ quoting user text

QUOTE_LIMIT = 60  # characters of a workbook's text quoted in one message
_QUOTED = re.compile(r"“([^”]*)”|「([^」]*)」")


def clip(text: Any, limit: int = QUOTE_LIMIT) -> str:
    """User text (a cell, a formula, a rule) as quoted in a message: one line, at most
    ``limit`` characters, cut with "…" (a 32,767-character cell must not become a
    65,000-character message line)."""
    s = " ".join(str(text if text is not None else "").split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def clip_quotes(message: str, limit: int = QUOTE_LIMIT) -> str:
    """Every “quoted” or 「quoted」 span of ``message`` cut with :func:`clip`: the safety net
    for messages built by modules that quote user text without clipping it."""
    def cut(m: re.Match) -> str:
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        if len(inner) <= limit:
            return m.group(0)
        left, right = ("“", "”") if m.group(1) is not None else ("「", "」")
        return left + clip(inner, limit) + right

    return _QUOTED.sub(cut, message)


# Characters that cannot be seen in a cell but stop text from being a number. NBSP and the
# ideographic space look like spaces; the zero-width ones and the BOM look like nothing.
INVISIBLE = {
    "\u200b": "零宽空格",
    "\u200c": "零宽不连字",
    "\u200d": "零宽连字",
    "\u2060": "零宽不折行",
    "\ufeff": "字节顺序标记 BOM",
    "\u00a0": "不换行空格",
    "\u3000": "全角空格",
    "\u200e": "从左至右标记",
    "\u200f": "从右至左标记",
    "\u00ad": "软连字符",
    "\u202f": "窄不换行空格",
}
_INVISIBLE_RE = re.compile("[" + "".join(INVISIBLE) + "]")


def invisible_chars(text: str) -> list[str]:
    """Names of the invisible characters in ``text``, in order of first appearance
    (["零宽空格 U+200B"]); empty when there are none."""
    seen: list[str] = []
    for ch in _INVISIBLE_RE.findall(text or ""):
        name = f"{INVISIBLE[ch]} U+{ord(ch):04X}"
        if name not in seen:
            seen.append(name)
    return seen


def strip_invisible(text: str) -> str:
    """``text`` without the characters of :data:`INVISIBLE`."""
    return _INVISIBLE_RE.sub("", text)
