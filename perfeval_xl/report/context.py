"""Turns a Result into the docxtpl context of the narrative report (DESIGN §6).

Everything the template prints is decided here, so the template stays a plain Word file:

- **numbering** is generated from what is present: an empty optional section is left out and
  the following numbers close the gap (一、二、… per chapter, （一）（二）… per chapter,
  1. 2. … per list, 表1/图1 … through the document);
- **numbers** come from the Result and are only formatted here: amounts 2 decimals (万元),
  rates 2 decimals with %, scores up to 2 decimals without trailing zeros;
- **text** from cells is cleaned: XML-illegal control characters are removed with a
  ``control-chars-removed`` warning naming the cell; lines become paragraphs. Escaping of
  ``& < >`` is left to jinja2 autoescape at render time.

The context holds plain dicts, lists and str, so a user's own template can use any of it
(docs/report.md lists the variables). A chart is a placeholder string (``budget.chart``,
``scores.chart``) that render.py replaces by a native Word chart after rendering; the chart's
data (charts.ChartSpec) travels beside the context, not in it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from perfeval_xl.display import (
    fmt_2dp,
    fmt_amount,
    fmt_count,
    fmt_plain,
    fmt_rate,
    fmt_score,
    to_decimal,
)
from perfeval_xl.model import Cell, Location, Problem, Result, Row

# Chapters and their sections, in document order (keys are context variable names).
OUTLINE: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("basic", "基本情况", [("overview", "概况"), ("systems", "管理制度"), ("budget", "预算资金")]),
    ("performance", "实际工作绩效", [("economy", "经济指标完成情况"),
                                ("key_work", "重点工作开展情况"),
                                ("other_work", "其他工作开展情况")]),
    ("duties", "职能职责", []),
    ("goals", "整体支出绩效目标", []),
    ("approach", "评价思路", [("focus", "评价思路及关注点"), ("method", "评价方法"),
                          ("process", "评价过程"), ("indicator_system", "指标体系"),
                          ("grade_levels", "评价等级")]),
    ("conclusion", "评价结论", [("verdict", "评价结论"), ("analysis", "绩效分析"),
                            ("scores", "指标得分情况")]),
    ("lessons", "主要经验及做法、存在问题和建议", [("experience", "主要经验及做法"),
                                        ("problems", "存在的问题"),
                                        ("suggestions", "建议和改进举措")]),
]

KEY_WORK = "重点工作"
OTHER_WORK = "其他工作"
TOP_LOSSES = 5          # 绩效分析 names at most this many indicators that lost points

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CN_DIGITS = "零一二三四五六七八九"
_SENTENCE_END = tuple("。！？；…")
_CENT = Decimal("0.01")


# --------------------------------------------------------------------------- formatting

def cn_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (1 ≤ n ≤ 99)."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


# --------------------------------------------------------------------------- text safety

@dataclass
class _Cleaner:
    """Cleans cell text for Word and remembers which cells lost control characters."""

    problems: list[Problem] = field(default_factory=list)
    _seen: set = field(default_factory=set)

    def text(self, value: Any, loc: Location | None = None, what: str = "") -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            s = "是" if value else "否"
        elif isinstance(value, (Decimal, int, float)):
            s = fmt_plain(value)
        else:
            s = str(value)
        s = s.replace("\r\n", "\n").replace("\r", "\n")
        cleaned, n = _ILLEGAL.subn("", s)
        if n:
            key = (str(loc) if loc else "", what)
            if key not in self._seen:
                self._seen.add(key)
                name = f"“{what}”" if what else "单元格内容"
                self.problems.append(Problem(
                    "warning", "control-chars-removed",
                    f"{name}含有 {n} 个无法写入 Word 的控制字符（如从网页或其他系统复制时带入），"
                    "已在报告中删除；请检查该单元格的文字。", loc))
        return cleaned

    def paragraphs(self, value: Any, loc: Location | None = None, what: str = "") -> list[str]:
        """Cell text → paragraphs: one per non-empty line, leading/trailing blanks removed
        (including the full-width spaces people type to indent; the style indents)."""
        text = self.text(value, loc, what)
        return [line.strip(" \t\u3000") for line in text.split("\n")
                if line.strip(" \t\u3000")]

    def line(self, value: Any, loc: Location | None = None, what: str = "") -> str:
        """Cell text as one line (for table cells and headings)."""
        return " ".join(self.paragraphs(value, loc, what))


# --------------------------------------------------------------------------- the builder

def build_context(result: Result, *, charts: bool = True, tpl=None) -> dict:
    """The report context for ``result`` (see docs/report.md for every variable).

    Args:
        result: the engine's Result.
        charts: include chart placeholders (only together with ``tpl``).
        tpl: the template the context will be rendered into (kept for compatibility: a
            context meant for rendering elsewhere has ``chart`` None).
    Returns:
        dict of plain values; amounts in 万元 and rates in percent, formatted for display.
    """
    return build(result, charts=charts and tpl is not None)[0]


def build(result: Result, *, charts: bool = True
          ) -> tuple[dict, list[Problem], dict[str, Any]]:
    """Like build_context, plus the warnings found while building (control characters
    removed) and the charts: {placeholder text: charts.ChartSpec}."""
    b = _Builder(result, charts=charts)
    return b.context(), b.clean.problems, b.chart_specs


class _Builder:
    def __init__(self, result: Result, *, charts: bool):
        self.r = result
        self.ev = result.evaluation
        self.charts = charts
        self.clean = _Cleaner()
        self.chart_specs: dict[str, Any] = {}
        # Unguessable, so no cell text can place a chart where the template did not.
        self.chart_token = secrets.token_hex(8)
        self._level1: list | None = None
        y = self.ev.eval_year
        self.year = str(y) if y else ""
        self.yr = f"{y}年" if y else "本年"
        self.yrd = f"{y}年度" if y else "本年度"

    # ---- access helpers
    def num(self, name: str) -> Decimal | None:
        c = self.ev.inputs.get(name)
        return to_decimal(c.value) if c is not None else None

    def derived(self, name: str) -> Decimal | None:
        v = to_decimal(self.r.derived.get(name)) if self.r.derived else None
        return v

    def text_cell(self, name: str) -> list[str]:
        cell = self.ev.texts.get(name)
        if cell is None:
            return []
        from perfeval_xl.workbook import layout

        label = layout.TEXTS.get(name, ("", name, False))[1]
        return self.clean.paragraphs(cell.value, cell.location, label)

    def rows(self, table: str) -> list[Row]:
        return list(self.ev.tables.get(table) or [])

    def cell(self, row: Row, header: str, table: str, *, one_line: bool = True) -> str:
        c: Cell | None = row.cells.get(header)
        if c is None:
            return ""
        what = f"{_TABLE_LABELS.get(table, table)}“{header}”"
        if one_line:
            return self.clean.line(c.value, c.location, what)
        return self.clean.text(c.value, c.location, what)

    def cell_paragraphs(self, row: Row, header: str, table: str) -> list[str]:
        c = row.cells.get(header)
        if c is None:
            return []
        return self.clean.paragraphs(c.value, c.location,
                                     f"{_TABLE_LABELS.get(table, table)}“{header}”")

    def ind(self, code: str):
        return self.r.indicator(code)

    # ---- the whole context
    def context(self) -> dict:
        unit = self.clean.line(self.ev.unit.value, self.ev.unit.location, "单位名称")
        sections: dict[str, dict] = {
            "overview": self.overview(),
            "systems": self.systems(),
            "budget": self.budget(),
            "performance": self.performance(),
            "economy": self.economy(),
            "key_work": self.work(KEY_WORK),
            "other_work": self.work(OTHER_WORK),
            "duties": {"paragraphs": self.text_cell("text_duties")},
            "goals": {"paragraphs": self.text_cell("text_goals")},
            "focus": {"paragraphs": self.text_cell("text_eval_focus")},
            "method": {"paragraphs": self.text_cell("text_eval_method")},
            "process": {"paragraphs": self.text_cell("text_eval_process")},
            "indicator_system": self.indicator_system(),
            "grade_levels": self.grade_levels(),
            "verdict": self.verdict(),
            "analysis": self.analysis(),
            "scores": self.scores(),
            "experience": {"paragraphs": self.text_cell("text_experience")},
            "problems": self.numbered_table("tbl_problems", "存在问题"),
            "suggestions": self.numbered_table("tbl_suggestions", "建议和改进举措"),
        }
        self.number(sections)
        self.captions(sections)
        appendix = self.appendix()
        ctx: dict[str, Any] = {
            "unit": unit or "（单位名称未填写）",
            "year": self.year,
            "report_title": f"{self.yrd}部门整体支出绩效自评报告" if self.year
            else "部门整体支出绩效自评报告",
            "total": fmt_score(self.r.total),
            "grade": self.r.grade or "",
            "preset": self.ev.preset,
            "inputs": {k: self.display_input(k) for k in self.ev.inputs},
            "derived": {k: fmt_amount(v) for k, v in (self.r.derived or {}).items()},
            "indicators": {i.code: self.indicator_dict(i) for i in self.r.indicators},
            "appendix": appendix,
        }
        ctx.update(sections)
        return ctx

    def display_input(self, name: str) -> str:
        from perfeval_xl import catalogue

        d = catalogue.inputs().get(name)
        c = self.ev.inputs[name]
        if d is None or d.type == "text":
            return self.clean.line(c.value, c.location, d.label if d else name)
        if d.type == "amount":
            return fmt_amount(c.value)
        if d.type == "percent":
            return fmt_rate(c.value)
        return fmt_count(c.value) if to_decimal(c.value) is not None else self.clean.line(c.value)

    def indicator_dict(self, i) -> dict:
        return {
            "code": i.code,
            "name": self.clean.line(i.name, i.location, "指标名称"),
            "level1": self.clean.line(i.level1), "level2": self.clean.line(i.level2),
            "value": self.value_text(i), "weight": fmt_score(i.weight),
            "score": fmt_score(i.score),
            "standard": self.clean.line(i.standard), "note": self.clean.line(i.note),
        }

    # ---- numbering
    def number(self, sections: dict[str, dict]) -> None:
        """Give every present chapter 一、二、… and every present section （一）（二）…"""
        chapter_no = 0
        for key, title, children in OUTLINE:
            own = sections.setdefault(key, {})
            own.setdefault("paragraphs", [])
            shown_children = 0
            for child, child_title in children:
                sec = sections[child]
                sec.setdefault("paragraphs", [])
                sec["show"] = bool(sec["paragraphs"] or sec.get("entries") or sec.get("rows")
                                   or sec.get("table"))
                if sec["show"]:
                    shown_children += 1
                    sec["num"] = f"（{cn_numeral(shown_children)}）"
                else:
                    sec["num"] = ""
                sec["title"] = child_title
                sec["heading"] = sec["num"] + child_title if sec["show"] else ""
            own["show"] = bool(own["paragraphs"] or shown_children)
            if own["show"]:
                chapter_no += 1
                own["num"] = f"{cn_numeral(chapter_no)}、"
            else:
                own["num"] = ""
            own["title"] = title
            own["heading"] = own["num"] + title if own["show"] else ""

    def captions(self, sections: dict[str, dict]) -> None:
        """表1/图1 … in document order, counting only what is shown."""
        tables = figures = 0
        order = [("overview", "table"), ("budget", "chart"), ("economy", "rows"),
                 ("scores", "rows"), ("scores", "chart")]
        for key, what in order:
            sec = sections[key]
            present = sec.get("show") and sec.get(what)
            if what == "chart":
                if present:
                    figures += 1
                    sec["chart_caption"] = f"图{figures} {sec['chart_title']}"
                else:
                    sec["chart"] = None
                    sec["chart_caption"] = ""
            else:
                if present:
                    tables += 1
                    sec["table_caption"] = f"表{tables} {sec['table_title']}"
                else:
                    sec["table_caption"] = ""

    # ---- 一、基本情况
    def overview(self) -> dict:
        text = self.text_cell("text_overview")
        joined = "".join(text)
        extra = []
        staff = self.staff_sentence()
        if staff and not self._already_said(joined, staff["figures"]):
            extra.append(staff["sentence"])
        depts = [(self.cell(r, "内设机构", "tbl_departments"),
                  self.cell(r, "主要职责", "tbl_departments")) for r in self.rows("tbl_departments")]
        depts = [(n, d) for n, d in depts if n]
        names = [n for n, _ in depts]
        if names and not all(n in joined for n in names):
            extra.append(f"单位内设{'、'.join(names)}共{len(names)}个机构。")
        table = []
        if any(d for _, d in depts):
            table = [{"no": str(i), "name": n, "duty": d} for i, (n, d) in enumerate(depts, 1)]
        return {
            "paragraphs": text + ([ "".join(extra)] if extra else []),
            "text": text,
            "staff_sentence": staff["sentence"] if staff else "",
            "departments": names,
            "table": table,
            "table_title": "内设机构及主要职责",
        }

    @staticmethod
    def _already_said(text: str, figures: list[str]) -> bool:
        """The overview text typed by the user already states these staff figures."""
        return bool(figures) and all(f"{f}人" in text for f in figures)

    def staff_sentence(self) -> dict | None:
        cats = []
        for r in self.rows("tbl_staff"):
            name = self.cell(r, "人员类别", "tbl_staff")
            n = to_decimal(r.get("人数"))
            if name and n is not None:
                cats.append((name, n))
        total = self.num("staff_actual")
        if total is None and cats:
            total = sum((n for _, n in cats), Decimal(0))
        if total is None:
            return None
        authorized = self.num("staff_authorized")
        s = f"核定编制{fmt_count(authorized)}人，" if authorized is not None else ""
        s += f"现有干部职工{fmt_count(total)}人"
        if cats:
            s += "，其中" + "，".join(f"{name}{fmt_count(n)}人" for name, n in cats)
        figures = [fmt_count(total)] + [fmt_count(n) for _, n in cats]
        return {"sentence": s + "。", "figures": figures}

    def systems(self) -> dict:
        items = []
        for r in self.rows("tbl_systems"):
            name = self.cell(r, "管理制度", "tbl_systems")
            content = self.cell(r, "主要内容", "tbl_systems")
            if name or content:
                items.append((name, content))
        if not items:
            return {"paragraphs": [], "entries": []}
        lines = [f"{i}.{n}{'：' + c if n and c else c}" for i, (n, c) in enumerate(items, 1)]
        intro = self.text_cell("text_systems_intro")
        lead = [*intro, f"单位现行内部管理制度共{len(items)}项："] if intro else [
            f"单位现行内部管理制度共{len(items)}项："]
        return {"paragraphs": [*lead, *lines], "entries": lines}

    def budget(self) -> dict:
        initial, adjusted = self.num("budget_initial"), self.num("budget_adjusted")
        carry, other = self.num("carryover_prior"), self.num("other_funds")
        spent = self.num("spending_total")
        basic, project = self.num("spending_basic"), self.num("spending_project")
        funds = self.derived("funds_available")
        closing = self.num("balance_closing")
        if closing is None:
            closing = self.derived("balance_closing")
        paras = []
        s = []
        if initial is not None:
            s.append(f"{self.yr}部门年初预算{fmt_amount(initial)}万元")
        if adjusted is not None:
            clause = f"调整后全年预算{fmt_amount(adjusted)}万元"
            if initial is not None and adjusted != initial:
                diff = adjusted - initial
                clause += f"，较年初{'增加' if diff > 0 else '减少'}{fmt_amount(abs(diff))}万元"
            s.append(clause)
        if s:
            paras.append("，".join(s) + "。")
        parts = []
        if carry:
            parts.append(f"上年结转结余资金{fmt_amount(carry)}万元")
        if other:
            parts.append(f"其他资金（盘活存量资金等）{fmt_amount(other)}万元")
        if funds is not None and (parts or adjusted is None):
            lead = f"加上{'、'.join(parts)}，" if parts and adjusted is not None else ""
            paras.append(f"{lead}全年可用资金合计{fmt_amount(funds)}万元。")
        if spent is not None:
            t = f"全年实际支出{fmt_amount(spent)}万元"
            sub = []
            if basic is not None:
                sub.append(f"基本支出{fmt_amount(basic)}万元")
            if project is not None:
                sub.append(f"项目支出{fmt_amount(project)}万元")
            if sub:
                t += "，其中" + "、".join(sub)
            rate = self.ind("budget_completion_rate")
            if rate is not None and to_decimal(rate.value) is not None:
                t += f"，预算完成率{fmt_rate(rate.value)}"
            if closing is not None:
                t += f"；年末结转结余{fmt_amount(closing)}万元"
            paras.append(t + "。")
        paras += self.text_cell("text_budget_note")
        out = {"paragraphs": paras, "chart": None, "chart_title": f"{self.yrd}预算资金来源与使用（万元）"}
        if self.charts and funds is not None and spent is not None:
            sources = [("调整后预算", adjusted or Decimal(0)), ("上年结转结余", carry or Decimal(0)),
                       ("其他资金", other or Decimal(0))]
            if basic is not None and project is not None:
                uses = [("基本支出", basic), ("项目支出", project)]
            else:
                uses = [("实际支出", spent)]
            if closing is not None and closing > 0:
                uses.append(("年末结转结余", closing))
            from perfeval_xl.report import charts

            out["chart"] = self.chart("budget", charts.budget_chart(
                sources, uses, title=out["chart_title"].removesuffix("（万元）")))
        return out

    def chart(self, key: str, spec) -> str:
        """Register a chart and return the placeholder the template prints for it."""
        marker = f"PERFEVAL-CHART-{self.chart_token}-{key}"
        self.chart_specs[marker] = spec
        return marker

    # ---- 二、实际工作绩效
    def performance(self) -> dict:
        planned, done = self.num("tasks_planned"), self.num("tasks_completed")
        on_time, quality = self.num("tasks_on_time"), self.num("tasks_quality_ok")
        key_all, key_done = self.num("key_tasks_assigned"), self.num("key_tasks_completed")
        parts = []
        # Counts of 0 come from the COUNTIF formulas of an empty work list: say nothing then.
        if planned:
            s = f"{self.yr}，我单位计划开展工作{fmt_count(planned)}项"
            if done is not None:
                s += f"，实际完成{fmt_count(done)}项"
            sub = []
            if on_time is not None:
                sub.append(f"按时完成{fmt_count(on_time)}项")
            if quality is not None:
                sub.append(f"质量达标{fmt_count(quality)}项")
            if sub:
                s += "，其中" + "、".join(sub)
            parts.append(s)
        if key_all:
            s = f"交办或下达的重点工作{fmt_count(key_all)}项"
            if key_done is not None:
                s += f"，实际完成{fmt_count(key_done)}项"
            parts.append(s if parts else f"{self.yr}，我单位{s}")
        return {"paragraphs": ["；".join(parts) + "。"] if parts else []}

    def economy(self) -> dict:
        rows, clauses = [], []
        for r in self.rows("tbl_economy"):
            name = self.cell(r, "指标名称", "tbl_economy")
            unit = self.cell(r, "单位", "tbl_economy")
            raw = r.get("本期累计")
            value = fmt_plain(raw) if to_decimal(raw) is not None else self.cell(r, "本期累计",
                                                                           "tbl_economy")
            g = to_decimal(r.get("同比增长(%)"))
            growth = fmt_2dp(g) if g is not None else self.cell(r, "同比增长(%)", "tbl_economy")
            note = self.cell(r, "说明", "tbl_economy")
            if not name and not value:
                continue
            rows.append({"no": str(len(rows) + 1), "name": name, "unit": unit, "value": value,
                         "growth": growth, "note": note})
            if not value:
                continue
            c = f"{name}累计完成{value}{unit}"
            if g is not None:
                c += ("，同比增长" if g > 0 else "，同比下降" if g < 0 else "，与上年持平")
                c += f"{fmt_2dp(abs(g))}%" if g != 0 else ""
            if note:
                c += f"（{note}）"
            clauses.append(c)
        intro = self.text_cell("text_economy_intro")
        paras = []
        body = "；".join(clauses) + "。" if clauses else ""
        if intro:
            last = intro[-1]
            if body and not last.endswith(_SENTENCE_END):
                joiner = "" if last.endswith(("，", "：", ",", ":")) else "，"
                paras = intro[:-1] + [last + joiner + body]
            else:
                paras = intro + ([body] if body else [])
        elif body:
            paras = [body]
        return {"paragraphs": paras, "rows": rows, "table_title": "主要经济指标完成情况"}

    def work(self, category: str) -> dict:
        items = []
        for r in self.rows("tbl_work"):
            cat = self.cell(r, "类别", "tbl_work") or OTHER_WORK
            if (cat == KEY_WORK) != (category == KEY_WORK):
                continue
            title = self.cell(r, "工作事项", "tbl_work")
            paras = self.cell_paragraphs(r, "完成情况", "tbl_work")
            if not paras:
                target = self.cell(r, "计划目标", "tbl_work")
                if target:
                    paras = [f"计划目标：{target}。" if not target.endswith(_SENTENCE_END)
                             else f"计划目标：{target}"]
            if not title and not paras:
                continue
            items.append({"num": f"{len(items) + 1}.", "title": title or "（未填写工作事项）",
                          "paragraphs": paras})
        return {"entries": items, "paragraphs": []}

    # ---- 五、评价思路
    def indicator_system(self) -> dict:
        paras = self.text_cell("text_indicator_system")
        inds = [i for i in self.r.indicators if i.weight is not None]
        if inds:
            l1 = _ordered({i.level1 for i in inds}, [i.level1 for i in inds])
            l2 = _ordered({(i.level1, i.level2) for i in inds},
                          [(i.level1, i.level2) for i in inds])
            total = sum((i.weight for i in inds), Decimal(0))
            weights = "、".join(f"{name}{fmt_score(w)}分" for name, w, _ in self.level1_totals())
            custom = sum(1 for i in inds if i.kind == "custom")
            title = self.preset_title()
            s = f"本次评价{'依据' + title + '设置指标，' if title else ''}"
            s += (f"指标体系由{len(l1)}个一级指标、{len(l2)}个二级指标和{len(inds)}个三级指标构成"
                  f"{f'（含个性指标{custom}个）' if custom else ''}，满分{fmt_score(total)}分，"
                  f"其中{weights}。")
            paras = paras + [s]
        return {"paragraphs": paras}

    def preset_title(self) -> str:
        from perfeval_xl import catalogue

        try:
            title = catalogue.preset(self.ev.preset).title
        except (KeyError, FileNotFoundError):
            return ""
        # The preset's own title, without our "（默认）" marker, quoted.
        title = re.sub(r"（默认）$", "", title)
        return f"“{title}”"

    def grade_levels(self) -> dict:
        bands = sorted(self.ev.grade_bands or [], key=lambda b: b[1], reverse=True)
        if not bands:
            return {"paragraphs": []}
        labels = [self.clean.line(b[0]) for b in bands]
        parts = []
        for i, (label, lower) in enumerate(zip(labels, [b[1] for b in bands], strict=True)):
            upper = bands[i - 1][1] if i else None
            if upper is None:
                parts.append(f"{fmt_score(lower)}分（含）以上为{label}")
            elif lower > 0:
                parts.append(f"{fmt_score(lower)}分（含）至{fmt_score(upper)}分为{label}")
            else:
                parts.append(f"{fmt_score(upper)}分以下为{label}")
        s = (f"评价结果分为{'、'.join(labels)}{cn_numeral(len(labels))}个等级："
             + "，".join(parts) + "。")
        return {"paragraphs": [s]}

    # ---- 六、评价结论
    def verdict(self) -> dict:
        if self.r.total is None:
            return {"paragraphs": ["部分指标尚未评分，暂不能得出自评总分和评价等级。"]}
        s = f"经自评，我单位{self.yrd}部门整体支出绩效自评得分为{fmt_score(self.r.total)}分"
        s += f"，评价等级为“{self.clean.line(self.r.grade)}”。" if self.r.grade else "。"
        paras = [s]
        if self.r.cap_note:
            paras.append(f"其中，{self.clean.line(self.r.cap_note)}，总分已按上限确定。")
        return {"paragraphs": paras}

    def analysis(self) -> dict:
        paras = []
        adjusted, carry = self.num("budget_adjusted"), self.num("carryover_prior")
        other, spent = self.num("other_funds"), self.num("spending_total")
        basic, project = self.num("spending_basic"), self.num("spending_project")
        s = []
        if adjusted is not None:
            s.append(f"调整预算{fmt_amount(adjusted)}万元")
        if carry:
            s.append(f"上年结转{fmt_amount(carry)}万元")
        if other:
            s.append(f"其他资金{fmt_amount(other)}万元")
        if spent is not None:
            t = f"实际支出{fmt_amount(spent)}万元"
            sub = [f"基本支出{fmt_amount(basic)}万元"] if basic is not None else []
            sub += [f"项目支出{fmt_amount(project)}万元"] if project is not None else []
            s.append(t + ("，其中" + "，".join(sub) if sub else ""))
        rate = self.ind("budget_completion_rate")
        if rate is not None and to_decimal(rate.value) is not None:
            s.append(f"预算完成率{fmt_rate(rate.value)}")
        if s:
            paras.append(f"{self.yrd}我单位" + "，".join(s) + "。")

        # other rates, grouped by 二级指标 in table order
        groups: dict[str, list[str]] = {}
        for i in self.r.indicators:
            if i.code == "budget_completion_rate" or i.kind not in ("rate", "custom"):
                continue
            if to_decimal(i.value) is None:
                continue
            groups.setdefault(self.clean.line(i.level2), []).append(
                f"{self.clean.line(i.name, i.location, '指标名称')}{self.value_text(i)}")
        if groups:
            paras.append("从各项指标看，" + "；".join(
                f"{g}方面，{'、'.join(v)}" for g, v in groups.items()) + "。")

        # score by 一级指标
        levels = self.level1_totals()
        if levels:
            paras.append("从得分情况看，" + "，".join(
                f"{name}类指标得{fmt_score(score)}分（满分{fmt_score(weight)}分）"
                for name, weight, score in levels) + "。")

        # where points were lost, most first
        lost = [(i.weight - i.score, n, i) for n, i in enumerate(self.r.indicators)
                if i.weight is not None and i.score is not None and i.score < i.weight]
        lost.sort(key=lambda t: (-t[0], t[1]))
        unscored = [i for i in self.r.indicators if i.weight and i.score is None]
        if lost:
            paras.append(f"共有{len(lost)}项指标未得满分，主要扣分情况如下：")
            for k, (points, _, i) in enumerate(lost[:TOP_LOSSES], 1):
                name = self.clean.line(i.name, i.location, "指标名称")
                note = self.clean.line(i.note).rstrip("。；;")
                scored = f"得{fmt_score(i.score)}分，扣{fmt_score(points)}分"
                if not note:
                    value = self.value_text(i)
                    note = (f"实际值{value}，" if value != "—" else "") + scored
                elif not re.search(r"扣[\d.]+分", note):
                    note += f"，{scored}"
                paras.append(f"{k}.{name}（满分{fmt_score(i.weight)}分）：{note}。")
            if len(lost) > TOP_LOSSES:
                paras.append(f"其余{len(lost) - TOP_LOSSES}项指标扣分情况见指标得分情况表。")
        elif self.r.indicators and not unscored:
            paras.append("各项指标均获得满分。")
        if unscored:
            names = "、".join(self.clean.line(i.name) for i in unscored)
            lead = "另有" if lost else "共有"
            paras.append(f"{lead}{len(unscored)}项指标（{names}）未能评分，按0分计入总分。")
        return {"paragraphs": paras}

    def level1_totals(self) -> list[tuple[str, Decimal, Decimal]]:
        """(一级指标, weight, score) sums of the engine's indicator results, in table order;
        summed once (the Result has no subtotals) and shared by the analysis, the score
        table and the chart."""
        if self._level1 is None:
            self._level1 = self._sum_level1()
        return self._level1

    def _sum_level1(self) -> list[tuple[str, Decimal, Decimal]]:
        out: dict[str, list[Decimal]] = {}
        for i in self.r.indicators:
            if i.weight is None:
                continue
            acc = out.setdefault(self.clean.line(i.level1), [Decimal(0), Decimal(0)])
            acc[0] += i.weight
            acc[1] += i.score or Decimal(0)
        return [(k, w, s) for k, (w, s) in out.items()]

    def value_text(self, i) -> str:
        v = i.value
        if v is None or v == "":
            return "—"
        d = to_decimal(v)
        if d is None:
            return self.clean.line(v, i.location, "实际值")
        if i.kind == "rate" or i.unit == "%":
            return fmt_rate(d)
        if i.kind == "qualitative":
            return fmt_score(d) + "分"
        return fmt_plain(d) + (self.clean.line(i.unit) if i.unit else "")

    def scores(self) -> dict:
        rows = []
        last1 = last2 = None
        groups = self.level1_totals()
        # Group by 一级指标, then by 二级指标 in order of first appearance (个性指标 rows come
        # last in the 自评表 but belong with their 二级指标).
        by_level1: dict[str, list] = {}
        for i in self.r.indicators:
            by_level1.setdefault(self.clean.line(i.level1), []).append(i)
        for items in by_level1.values():
            first = {}
            for n, i in enumerate(items):
                first.setdefault(self.clean.line(i.level2), n)
            items.sort(key=lambda i: first[self.clean.line(i.level2)])
        weight_sum = Decimal(0)
        score_sum = Decimal(0)
        for level1, items in by_level1.items():
            for i in items:
                l2 = self.clean.line(i.level2)
                rows.append({
                    "subtotal": False, "label": "",
                    "level1": level1 if level1 != last1 else "",
                    "level2": l2 if (level1, l2) != (last1, last2) else "",
                    "name": self.clean.line(i.name, i.location, "指标名称"),
                    "weight": fmt_score(i.weight),
                    "value": self.value_text(i),
                    "score": fmt_score(i.score) if i.score is not None else "—",
                    "note": self.clean.line(i.note),
                })
                last1, last2 = level1, l2
            w = sum((i.weight for i in items if i.weight is not None), Decimal(0))
            sc = sum((i.score for i in items if i.score is not None), Decimal(0))
            weight_sum += w
            score_sum += sc
            rows.append({"subtotal": True, "label": f"{level1}小计", "level1": "", "level2": "",
                         "name": "", "weight": fmt_score(w), "value": "", "score": fmt_score(sc),
                         "note": ""})
        if rows:
            note = ""
            total = self.r.total if self.r.total is not None else score_sum
            if self.r.total is not None and self.r.total != score_sum:
                note = (f"各项得分合计{fmt_score(score_sum)}分；"
                        f"{self.clean.line(self.r.cap_note) or '总分按评分设置调整'}")
            rows.append({"subtotal": True, "label": "合计", "level1": "", "level2": "",
                         "name": "", "weight": fmt_score(weight_sum),
                         "value": self.clean.line(self.r.grade), "score": fmt_score(total),
                         "note": note})
        out = {"paragraphs": [], "rows": rows, "table_title": "部门整体支出绩效自评指标得分情况",
               "chart": None, "chart_title": "各一级指标分值与得分"}
        if self.charts and groups:
            from perfeval_xl.report import charts

            out["chart"] = self.chart("scores", charts.score_chart(groups, out["chart_title"]))
        return out

    # ---- 七、问题与建议
    def numbered_table(self, table: str, header: str) -> dict:
        paras, n = [], 0
        for r in self.rows(table):
            lines = self.cell_paragraphs(r, header, table)
            if not lines:
                continue
            n += 1
            paras.append(f"{n}.{lines[0]}")
            paras.extend(lines[1:])
        return {"paragraphs": paras, "count": n}

    # ---- 附件
    def appendix(self) -> dict:
        items = []
        for i in self.r.indicators:
            if i.kind != "rate":
                continue
            name = self.clean.line(i.name, i.location, "指标名称")
            paras = []
            if i.formula_text:
                paras.append(f"计算公式：{self.clean.line(i.formula_text)}。"
                             .replace("。。", "。"))
            data = [f"{label}{self.amount_of(key, v)}" for key, label, v in self.inputs_of(i)]
            if data:
                paras.append("数据：" + "；".join(data) + "。")
            if to_decimal(i.value) is not None:
                if i.numerator is not None and i.denominator is not None:
                    unit = self.unit_of(i)
                    paras.append(
                        f"计算结果：{self.fmt_unit(i.numerator, unit)} ÷ "
                        f"{self.fmt_unit(i.denominator, unit)} × 100% = {fmt_rate(i.value)}。")
                else:
                    paras.append(f"计算结果：{fmt_rate(i.value)}。")
                if i.note:
                    label = ("扣分说明" if i.score is not None and i.weight is not None
                             and i.score < i.weight else "说明")
                    paras.append(f"{label}：{self.clean.line(i.note)}。".replace("。。", "。"))
            else:
                why = self.clean.line(i.note) or "数据不全"
                paras.append(f"计算结果：无法计算（{why}）。".replace("。）", "）"))
            if i.weight is not None:
                s = f"评分标准：{self.clean.line(i.standard)}" if i.standard else ""
                score = (f"得分：{fmt_score(i.score)}分（满分{fmt_score(i.weight)}分）"
                         if i.score is not None else f"得分：未评分（满分{fmt_score(i.weight)}分）")
                paras.append("；".join(x for x in (s.rstrip("。"), score) if x) + "。")
            items.append({"num": f"{len(items) + 1}.", "name": name, "paragraphs": paras,
                          "code": i.code, "value": fmt_rate(i.value)})
        intro = ([f"本附件列示{len(items)}项计算类指标的计算公式、所用数据和计算结果。"
                  "金额单位为万元，比率保留两位小数。"] if items else [])
        return {"show": bool(items), "entries": items, "paragraphs": intro}

    def inputs_of(self, i) -> list[tuple[str, str, Decimal | None]]:
        from perfeval_xl import catalogue

        out = []
        for key, v in (i.inputs or {}).items():
            d = catalogue.inputs().get(key)
            der = catalogue.derived().get(key)
            label = d.label if d else der.label if der else str(key)
            out.append((key, self.clean.line(label), v))
        return out

    def amount_of(self, key: str, v: Any) -> str:
        from perfeval_xl import catalogue

        if to_decimal(v) is None:
            return "（未填写）"
        d = catalogue.inputs().get(key)
        unit = d.unit if d else ("万元" if key in catalogue.derived() else "")
        return self.fmt_unit(v, unit) + unit

    def unit_of(self, i) -> str:
        from perfeval_xl import catalogue

        for key in (i.inputs or {}):
            d = catalogue.inputs().get(key)
            if d is not None:
                return d.unit
            if key in catalogue.derived():
                return "万元"
        return ""

    @staticmethod
    def fmt_unit(v: Any, unit: str) -> str:
        d = to_decimal(v)
        if d is None:
            return ""
        s = fmt_amount(d) if unit in ("万元", "%") else fmt_count(d)
        return f"({s})" if d < 0 else s


_TABLE_LABELS = {
    "tbl_departments": "内设机构表", "tbl_systems": "管理制度表", "tbl_staff": "人员构成表",
    "tbl_work": "工作清单", "tbl_economy": "经济指标表", "tbl_problems": "存在问题表",
    "tbl_suggestions": "建议表",
}


def _ordered(items: set, order: list) -> list:
    seen, out = set(), []
    for x in order:
        if x in items and x not in seen:
            seen.add(x)
            out.append(x)
    return out
