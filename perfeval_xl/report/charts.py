"""The report's charts as PNG bytes: budget sources and uses, and score against weight by
一级指标. matplotlib is imported lazily with the Agg backend (no display needed).

Labels are Chinese, so a CJK font is required; when none is installed the chart is still
drawn (with whatever font there is) and the caller gets a ``chart-font-fallback`` warning
instead of silent tofu boxes.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from decimal import Decimal

from perfeval_xl.model import Problem
from perfeval_xl.report import fonts

WIDTH_CM = 14.0
DPI = 200

# Muted colours that print well in grey scale too.
_SOURCE_COLOURS = ["#3b6ea5", "#7fa7d1", "#b9d0e8"]
_USE_COLOURS = ["#c0504d", "#e59b79", "#d9d9d9"]


@dataclass
class Chart:
    png: bytes
    problems: list[Problem]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _setup(plt) -> list[Problem]:
    family = fonts.chart_font()
    problems = []
    if family is None:
        problems.append(Problem(
            "warning", "chart-font-fallback",
            "未找到可显示中文的字体，报告图表中的中文可能显示为方框。"
            "请安装 Noto Sans CJK（Linux：fonts-noto-cjk）或使用装有微软雅黑/黑体的电脑生成报告。"))
        family = "DejaVu Sans"
    plt.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": [family, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "svg.hashsalt": "perfeval",
        "font.size": 9,
    })
    return problems


def _png(fig, plt) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _fmt(d: Decimal | float) -> str:
    return f"{Decimal(str(d)).quantize(Decimal('0.01')):f}"


def _budget_chart(sources: list[tuple[str, Decimal]], uses: list[tuple[str, Decimal]]) -> Chart:
    """Two stacked horizontal bars (万元): where the money came from and where it went.

    Args:
        sources: (label, amount) such as 调整后预算, 上年结转结余, 其他资金.
        uses: (label, amount) such as 基本支出, 项目支出, 年末结转结余.
    """
    plt = _pyplot()
    problems = _setup(plt)
    fig, ax = plt.subplots(figsize=(WIDTH_CM / 2.54, 5.6 / 2.54))
    total = max(sum((float(v) for _, v in sources), 0.0), sum((float(v) for _, v in uses), 0.0))
    for y, parts, colours in ((1, sources, _SOURCE_COLOURS), (0, uses, _USE_COLOURS)):
        left = 0.0
        for (label, value), colour in zip(parts, colours, strict=False):
            v = float(value)
            if v <= 0:
                continue
            ax.barh(y, v, left=left, color=colour, edgecolor="white", height=0.55,
                    label=f"{label} {_fmt(value)}")
            if total and v / total > 0.09:
                ax.text(left + v / 2, y, _fmt(value), ha="center", va="center", fontsize=8,
                        color="black")
            left += v
        ax.text(left + total * 0.01, y, f"合计 {_fmt(sum((v for _, v in parts), Decimal(0)))}",
                va="center", fontsize=8)
    ax.set_yticks([0, 1], ["资金使用", "资金来源"])
    ax.set_xlim(0, total * 1.22 if total else 1)
    ax.set_xlabel("万元")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.38), ncol=3, fontsize=7.5,
              frameon=False)
    fig.tight_layout()
    return Chart(_png(fig, plt), problems)


def _score_chart(groups: list[tuple[str, Decimal, Decimal]]) -> Chart:
    """Grouped bars per 一级指标: 分值 (weight) against 得分 (score), with the score rate.

    Args:
        groups: (一级指标, weight, score) in table order.
    """
    plt = _pyplot()
    problems = _setup(plt)
    fig, ax = plt.subplots(figsize=(WIDTH_CM / 2.54, 6.4 / 2.54))
    xs = list(range(len(groups)))
    w = 0.36
    weights = [float(g[1]) for g in groups]
    scores = [float(g[2]) for g in groups]
    ax.bar([x - w / 2 for x in xs], weights, w, label="分值", color="#b9d0e8", edgecolor="#3b6ea5")
    ax.bar([x + w / 2 for x in xs], scores, w, label="得分", color="#3b6ea5")
    top = max(weights + scores + [1.0])
    for x, (_, weight, score) in zip(xs, groups, strict=True):
        ax.text(x - w / 2, float(weight) + top * 0.02, _num(weight), ha="center", fontsize=8)
        ax.text(x + w / 2, float(score) + top * 0.02, _num(score), ha="center", fontsize=8,
                color="#1f3f66")
    # The score rate goes under the category name, where it cannot collide with the bars.
    ticks = [f"{_text(name)}\n得分率{_fmt(score / weight * 100)}%" if weight else _text(name)
             for name, weight, score in groups]
    ax.set_xticks(xs, ticks)
    ax.set_ylabel("分")
    ax.set_ylim(0, top * 1.2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    fig.tight_layout()
    return Chart(_png(fig, plt), problems)


def _text(s: str) -> str:
    """Workbook text as a literal label: a "$" would otherwise start matplotlib mathtext."""
    return str(s).replace("$", r"\$")


def _num(d: Decimal) -> str:
    q = Decimal(str(d)).quantize(Decimal("0.01"))
    s = format(q.normalize(), "f")
    return "0" if s in ("-0", "") else s


def budget_chart(sources: list[tuple[str, Decimal]], uses: list[tuple[str, Decimal]]) -> Chart:
    """Two stacked horizontal bars (万元): where the money came from and where it went.

    Args:
        sources: (label, amount) such as 调整后预算, 上年结转结余, 其他资金.
        uses: (label, amount) such as 基本支出, 项目支出, 年末结转结余.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        return _budget_chart(sources, uses)


def score_chart(groups: list[tuple[str, Decimal, Decimal]]) -> Chart:
    """Grouped bars per 一级指标: 分值 (weight) against 得分 (score), with the score rate.

    Args:
        groups: (一级指标, weight, score) in table order.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        return _score_chart(groups)
