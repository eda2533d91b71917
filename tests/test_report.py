"""Report layer: context, template, rendering, PDF.

Most tests render a Result built by hand below from the seed report's facts
(曲沃县中小企业服务中心 2021), so the report layer is tested on its own; the tests at the end
render the real sample workbook through engine.evaluate.
Every test reopens what was written and asserts on its text.
"""

from __future__ import annotations

import copy
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from decimal import Decimal as D
from pathlib import Path

import pytest

from perfeval_xl import catalogue
from perfeval_xl.files import OutputError
from perfeval_xl.model import Cell, Evaluation, IndicatorResult, Location, Result, Row
from perfeval_xl.report import (
    PdfUnavailable,
    ReportError,
    build_context,
    convert_to_pdf,
    default_report_name,
    fonts,
    render_report,
    template_builder,
)
from perfeval_xl.report import context as ctxmod

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "workbooks" / "sample_quwo_2021.xlsx"


# --------------------------------------------------------------------------- the seed Result

def _cells(sheet: str, values: dict) -> dict[str, Cell]:
    return {k: Cell(v, Location(sheet, f"C{n}")) for n, (k, v) in enumerate(values.items(), 3)}


def _rows(sheet: str, headers: list[str], data: list[dict], first: int = 5) -> list[Row]:
    cols = "ABCDEFGHIJKL"
    out = []
    for n, d in enumerate(data):
        r = first + n
        out.append(Row({h: Cell(d.get(h), Location(sheet, f"{cols[i]}{r}"))
                        for i, h in enumerate(headers)}, row=r))
    return out


INPUTS = {
    "unit_name": "曲沃县中小企业服务中心", "eval_year": D(2021),
    "staff_authorized": D(35), "staff_actual": D(33),
    "budget_initial": D("388.46"), "budget_adjusted": D("620.47"),
    "budget_adjust_excluded": D(0), "carryover_prior": D("84.62"), "other_funds": D("42.34"),
    "spending_total": D("734.63"), "spending_basic": D("207.77"),
    "spending_project": D("526.86"), "balance_closing": None,
    "public_funds_budget": D("28.50"), "public_funds_actual": D("27.36"),
    "three_public_budget": D("3.20"), "three_public_actual": D("2.85"),
    "three_public_prior_budget": D("3.60"), "three_public_prior_actual": D("3.42"),
    "procurement_budget": D(45), "procurement_actual": D("43.20"),
    "assets_in_use": D("96.50"), "assets_total": D("98.70"),
    "project_budget_total": D("412.70"), "key_project_budget": D(300),
    "payment_progress_planned": D(100), "payment_progress_actual": D("98.29"),
    "tasks_planned": D(7), "tasks_completed": D(7), "tasks_on_time": D(6),
    "tasks_quality_ok": D(7), "key_tasks_assigned": D(4), "key_tasks_completed": D(4),
}

TEXTS = {
    "text_overview": "曲沃县中小企业服务中心属县政府直属事业单位。",
    "text_duties": "曲沃县中小企业服务中心主要职责是落实国家有关乡镇企业、中小企业及民营经济政策，"
                   "进行规划、协调、监督和服务。\n贯彻执行国家和省、市有关中小企业的法律、法规和方针政策。",
    "text_goals": "保证人员经费和公用经费按照预算项目合理支出，确保单位办公正常运转。",
    "text_budget_note": "2021年我单位无政府性基金收支预算。",
    "text_economy_intro": "截止11月底",
    "text_eval_focus": "着重对基本支出、三公经费、项目支出和厉行节约情况进行评价。",
    "text_eval_method": "单位成立整体支出绩效自评小组。",
    "text_eval_process": "单位自评小组对预算执行情况等方面进行评价。",
    "text_indicator_system": "评价指标由一级指标、二级指标、三级指标组成。",
    "text_experience": None,
}

DEPARTMENTS = ["办公室", "生产技术股", "统计股", "项目办", "党办"]
SYSTEMS = ["预算业务管理", "收支业务管理", "政府采购业务管理", "国有资产业务管理", "合同业务管理"]
ECONOMY = [
    ("全县中小企业营业收入", "万元", D(636767), D("93.90")),
    ("工业营业收入", "万元", D(544190), D(114)),
    ("规模以上工业（21家）营业收入", "万元", D(435221), D("131.56")),
    ("现价总产值", "万元", D(570298), D("118.71")),
    ("规模以上工业现价总产值", "万元", D(468896), D("151.19")),
    ("利润总额", "万元", D(27547), D("56.91")),
    ("上交税金", "万元", D(29617), D("182.96")),
]
WORK = [
    ("重点工作", "统筹协调，确保完成市定“小升规”培育目标",
     "2021年，“小升规”培育目标任务市考核指标为净增8家，截止目前，共有10家达标。"),
    ("重点工作", "争创一流，聚焦“六新”力促转型蹚新路",
     "组织县域30余家企业参加了“三送三进”活动。"),
    ("重点工作", "调整结构，推进企业走“专精特新”之路",
     "推荐山西长林能源科技有限公司进行国家级专精特新“小巨人”企业的申报工作。"),
    ("重点工作", "精准施策，推动资本市场县域工程工作有力开展",
     "一是进一步做好股改工作；\n二是共为34家中小企业融资3060.9万元，为15家企业延期资金总额3223万元。"),
    ("其他工作", "入企服务工作开展情况", "一年来陪同市、县领导入企调研30余次。"),
    ("其他工作", "疫情防控工作开展情况", "中心全体工作人员全部进行了全程疫苗接种工作，完成率100%。"),
    ("其他工作", "环保工作开展情况", "共累计入户排查784户，发现问题52个。"),
]
PROBLEMS = ["单位年初预算关于政策性社会保障金的预算不准确，预算不够细化，应科学、合理的安排年初预算。",
            "内控制度有薄弱环节", "财务人员业务不精，有待加强业务培训。"]
SUGGESTIONS = ["今后在年初预算工作中要和单位劳资人员及时沟通。", "高度重视单位内控制度。",
               "加强对财务人员的培训。"]

# Hand-set scores of the qualitative rows (tier → share of the weight).
TIERS = {"goal_rationality": "优", "indicator_clarity": "良", "budget_system_soundness": "优",
         "fund_compliance": "优", "disclosure": "优", "basic_info_completeness": "良",
         "asset_system_soundness": "优", "asset_security": "优", "economic_benefit": "优",
         "social_benefit": "优", "ecological_benefit": "良", "satisfaction": "优"}
SHARE = {"优": D(1), "良": D("0.8")}
# Hand-set scores of the rate rows whose rule is not "full marks".
RATE_SCORES = {"budget_adjustment_rate": (D(0), "预算调整率59.73%，超过30%，不得分"),
               "payment_progress_rate": (D("2.95"), "实际值98.29%，未达到目标100%，按比例得分"),
               "procurement_execution_rate": (D("1.92"), "实际值96.00%，按比例得分"),
               "asset_utilization_rate": (D("1.96"), "实际值97.77%，按比例得分"),
               "task_timeliness_rate": (D("5.14"), "实际值85.71%，按比例得分")}


def _rate(code: str, inputs: dict) -> IndicatorResult:
    ind = catalogue.indicators()[code]

    def value(expr: str):
        total = D(0)
        for sign, name in re.findall(r"(-?)\s*([a-z_]+)", expr.replace(" - ", " -")):
            v = inputs.get(name)
            if v is None and name not in ("funds_available", "balance_closing"):
                return None
            if name == "funds_available":
                v = inputs["budget_adjusted"] + inputs["carryover_prior"] + inputs["other_funds"]
            if name == "balance_closing" and v is None:
                v = (inputs["budget_adjusted"] + inputs["carryover_prior"]
                     + inputs["other_funds"] - inputs["spending_total"])
            total += -v if sign else v
        return total

    num, den = value(ind.numerator), value(ind.denominator)
    rate = None if num is None or den is None else num / den * 100
    used = {}  # as the engine records them: leaves first, then the derived quantity
    for name in re.findall(r"[a-z_]+", ind.numerator + " " + ind.denominator):
        if name == "funds_available":
            for leaf in ("budget_adjusted", "carryover_prior", "other_funds"):
                used.setdefault(leaf, inputs[leaf])
        used.setdefault(name, value(name))
    return IndicatorResult(
        code=code, name=ind.name, level1=ind.level1, level2=ind.level2, kind="rate",
        value=rate, unit="%", weight=None, score=None, standard="",
        formula_text=ind.formula_text, inputs=used, numerator=num, denominator=den,
        location=Location("自评表", f"C{len(code)}"))


def seed_result(**changes) -> Result:
    """The seed's facts as a Result (no workbook, no engine)."""
    inputs = dict(INPUTS)
    inputs.update(changes.pop("inputs", {}))
    texts = dict(TEXTS)
    texts.update(changes.pop("texts", {}))
    ev = Evaluation(
        path="sample.xlsx", unit=Cell(inputs["unit_name"], Location("基本情况", "C3")),
        year=Cell(inputs["eval_year"], Location("基本情况", "C4")), preset="mof2013",
        inputs={k: Cell(v, Location("预算执行", f"C{n}")) for n, (k, v) in enumerate(inputs.items(), 3)},
        texts=_cells("基本情况", texts),
        tables={
            "tbl_departments": _rows("基本情况", ["序号", "内设机构", "主要职责"],
                                     [{"序号": D(i), "内设机构": n} for i, n in enumerate(DEPARTMENTS, 1)]),
            "tbl_systems": _rows("基本情况", ["序号", "管理制度", "主要内容"],
                                 [{"序号": D(i), "管理制度": n} for i, n in enumerate(SYSTEMS, 1)]),
            "tbl_staff": _rows("基本情况", ["人员类别", "人数"],
                               [{"人员类别": "财政拨款人员", "人数": D(18)},
                                {"人员类别": "自收自支人员", "人数": D(15)}]),
            "tbl_economy": _rows("经济指标", ["序号", "指标名称", "单位", "本期累计", "同比增长(%)", "说明"],
                                 [{"序号": D(i), "指标名称": n, "单位": u, "本期累计": v,
                                   "同比增长(%)": g} for i, (n, u, v, g) in enumerate(ECONOMY, 1)]),
            "tbl_work": _rows("重点工作", ["序号", "类别", "工作事项", "计划目标", "是否完成", "是否按时",
                                       "质量达标", "完成情况"],
                              [{"序号": D(i), "类别": c, "工作事项": t, "是否完成": "是",
                                "完成情况": x} for i, (c, t, x) in enumerate(WORK, 1)]),
            "tbl_problems": _rows("问题与建议", ["序号", "存在问题"],
                                  [{"序号": D(i), "存在问题": p} for i, p in enumerate(PROBLEMS, 1)]),
            "tbl_suggestions": _rows("问题与建议", ["序号", "建议和改进举措"],
                                     [{"序号": D(i), "建议和改进举措": p}
                                      for i, p in enumerate(SUGGESTIONS, 1)]),
        },
        rows=[],
        grade_bands=[("优", D(90)), ("良好", D(80)), ("一般", D(60)), ("差", D(0))],
    )
    for name, rows in changes.pop("tables", {}).items():
        headers = list(ev.tables[name][0].cells) if ev.tables.get(name) else list(rows[0])
        ev.tables[name] = _rows("表", headers, rows)
    preset = catalogue.preset("mof2013")
    results = []
    for pr in preset.rows:
        ind = catalogue.indicators()[pr.code]
        if ind.kind == "rate":
            r = _rate(pr.code, inputs)
            score, note = RATE_SCORES.get(pr.code, (pr.weight, ""))
            if r.value is None:
                score, note = None, "所需数据未填写，无法计算"
        else:
            tier = TIERS[pr.code]
            r = IndicatorResult(code=pr.code, name=ind.name, level1=ind.level1, level2=ind.level2,
                                kind="qualitative", value=tier, unit="", weight=None, score=None,
                                standard="")
            score = pr.weight * SHARE[tier]
            note = "" if tier == "优" else f"评价等级为“{tier}”，得分{score.normalize():f}分"
        r.weight, r.score, r.note = pr.weight, score, note
        r.standard, r.rule_text = "按规则评分", pr.rule
        results.append(r)
    for code, name, unit, value in (("custom_01", "小升规净增企业数", "家", D(10)),
                                    ("custom_02", "中小企业融资额", "万元", D("3060.9"))):
        results.append(IndicatorResult(code=code, name=name, level1="效果", level2="履职效益",
                                       kind="custom", value=value, unit=unit, weight=D(4),
                                       score=D(4), standard="按比例得分"))
    results = changes.pop("indicators", results)
    total = sum((r.score for r in results if r.score is not None), D(0))
    grade = next(label for label, low in ev.grade_bands if total >= low)
    fa = inputs["budget_adjusted"] + inputs["carryover_prior"] + inputs["other_funds"]
    res = Result(evaluation=ev, indicators=results, total=total, grade=grade, problems=[],
                 derived={"funds_available": fa, "balance_closing": fa - inputs["spending_total"]})
    for k, v in changes.items():
        setattr(res, k, v)
    return res


# --------------------------------------------------------------------------- helpers

def docx_paragraphs(path) -> list[tuple[str, str]]:
    """(style name, text) of every body paragraph, tables excluded."""
    from docx import Document

    doc = Document(str(path))
    return [(p.style.name, p.text) for p in doc.paragraphs]


def docx_text(path) -> str:
    """All visible text: body paragraphs, then every table cell, then footers."""
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def headings(path) -> list[tuple[str, str]]:
    return [(s, t) for s, t in docx_paragraphs(path) if s.startswith("Heading")]


def outline_numbers(path) -> tuple[list[str], dict[str, list[str]]]:
    """Chapter numbers, and per chapter the section numbers, as printed."""
    chapters, sections, current = [], {}, None
    for style, text in headings(path):
        if style == "Heading 1":
            m = re.match(r"^([一二三四五六七八九十]+)、", text)
            assert m, f"chapter heading without number: {text!r}"
            current = m.group(1)
            chapters.append(current)
            sections[current] = []
        elif style == "Heading 2":
            m = re.match(r"^（([一二三四五六七八九十]+)）", text)
            assert m, f"section heading without number: {text!r}"
            sections[current].append(m.group(1))
    return chapters, sections


CN = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]


def assert_consecutive(path) -> None:
    chapters, sections = outline_numbers(path)
    assert chapters == CN[:len(chapters)]
    for ch, nums in sections.items():
        assert nums == CN[:len(nums)], (ch, nums)
    # item lists under Heading 3 restart at 1 in every section
    last = 0
    for style, text in docx_paragraphs(path):
        if style in ("Heading 1", "Heading 2", "附件标题"):
            last = 0
        elif style == "Heading 3":
            n = int(re.match(r"^(\d+)\.", text).group(1))
            assert n == last + 1, text
            last = n


@pytest.fixture(scope="module")
def seed_docx(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed") / "report.docx"
    outcome = render_report(seed_result(), out)
    return outcome


# --------------------------------------------------------------------------- formatting

def test_formatting_rounds_only_for_display():
    assert ctxmod.fmt_amount(D("620.465")) == "620.47"
    assert ctxmod.fmt_amount(D("-0.001")) == "0.00"
    assert ctxmod.fmt_rate(D("98.28745")) == "98.29%"
    assert ctxmod.fmt_score(D("10.00")) == "10"
    assert ctxmod.fmt_score(D("9.50")) == "9.5"
    assert ctxmod.fmt_score(D("2.245")) == "2.25"
    assert ctxmod.fmt_plain(D("3060.9000")) == "3060.9"
    assert ctxmod.fmt_plain(D(636767)) == "636767"
    assert [ctxmod.cn_numeral(n) for n in (1, 9, 10, 11, 20, 23)] == \
        ["一", "九", "十", "十一", "二十", "二十三"]


# --------------------------------------------------------------------------- the seed report

def test_seed_report_outline_in_order(seed_docx):
    heads = [t for _, t in headings(seed_docx.docx)]
    expected = [
        "一、基本情况", "（一）概况", "（二）管理制度", "（三）预算资金",
        "二、实际工作绩效", "（一）经济指标完成情况", "（二）重点工作开展情况",
        "（三）其他工作开展情况",
        "三、职能职责", "四、整体支出绩效目标",
        "五、评价思路", "（一）评价思路及关注点", "（二）评价方法", "（三）评价过程",
        "（四）指标体系", "（五）评价等级",
        "六、评价结论", "（一）评价结论", "（二）绩效分析", "（三）指标得分情况",
        "七、主要经验及做法、存在问题和建议", "（一）存在的问题", "（二）建议和改进举措",
    ]
    outline = [h for h in heads if not re.match(r"^\d+\.", h)]
    assert outline == expected
    assert_consecutive(seed_docx.docx)
    paras = docx_paragraphs(seed_docx.docx)
    assert paras[0] == ("报告标题", "曲沃县中小企业服务中心")
    assert paras[1] == ("报告标题", "2021年度部门整体支出绩效自评报告")
    assert ("附件标题", "指标计算过程") in paras


def test_seed_report_states_every_fact(seed_docx):
    text = docx_text(seed_docx.docx)
    assert "现有干部职工33人，其中财政拨款人员18人，自收自支人员15人" in text
    assert "核定编制35人" in text
    for name in DEPARTMENTS + SYSTEMS:
        assert name in text
    assert "1.预算业务管理" in text and "5.合同业务管理" in text
    for figure in ("388.46", "620.47", "84.62", "42.34", "734.63", "207.77", "526.86",
                   "747.43", "12.80"):
        assert f"{figure}万元" in text, figure
    assert "2021年部门年初预算388.46万元，调整后全年预算620.47万元，较年初增加232.01万元。" in text
    assert "全年可用资金合计747.43万元" in text
    assert "预算完成率98.29%" in text
    assert "2021年我单位无政府性基金收支预算。" in text
    assert ("截止11月底，全县中小企业营业收入累计完成636767万元，同比增长93.90%；"
            "工业营业收入累计完成544190万元，同比增长114.00%") in text
    assert "上交税金累计完成29617万元，同比增长182.96%。" in text
    assert "小升规" in text and "融资3060.9万元" in text
    for p in PROBLEMS:
        assert p in text
    assert "1.单位年初预算关于政策性社会保障金" in text and "3.财务人员业务不精" in text
    assert "3.加强对财务人员的培训。" in text
    # 绩效分析 composed from the numbers, as the seed's sentence but complete
    assert ("2021年度我单位调整预算620.47万元，上年结转84.62万元，其他资金42.34万元，"
            "实际支出734.63万元，其中基本支出207.77万元，项目支出526.86万元，"
            "预算完成率98.29%。") in text
    assert "1.预算调整率（满分3分）：预算调整率59.73%，超过30%，不得分，得0分，扣3分。" in text
    assert "{{" not in text and "{%" not in text and "}}" not in text


def test_seed_report_total_grade_and_score_table(seed_docx):
    res = seed_result()
    total = ctxmod.fmt_score(res.total)
    text = docx_text(seed_docx.docx)
    assert f"自评得分为{total}分，评价等级为“{res.grade}”" in text
    assert "评价结果分为优、良好、一般、差四个等级：90分（含）以上为优，80分（含）至90分为良好，" \
           "60分（含）至80分为一般，60分以下为差。" in text
    assert "指标体系由4个一级指标" in text and "满分100分，其中投入15分、过程40分、产出25分、效果20分" in text
    from docx import Document

    doc = Document(str(seed_docx.docx))
    table = next(t for t in doc.tables if t.rows[0].cells[2].text == "三级指标")
    header = [c.text.replace("\n", "") for c in table.rows[0].cells]
    assert header == ["一级指标", "二级指标", "三级指标", "分值", "实际值", "得分", "扣分原因"]
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert len(rows) == len(res.indicators) + 4 + 1   # items + 4 subtotals + 合计
    last = rows[-1]
    assert last[0] == "合计" and last[3] == "100" and last[5] == total
    budget = next(r for r in rows if r[2] == "预算完成率")
    assert budget[4] == "98.29%" and budget[5] == "5"
    subtotals = [r for r in rows if r[0].endswith("小计")]
    assert [r[0] for r in subtotals] == ["投入小计", "过程小计", "产出小计", "效果小计"]
    assert sum(D(r[5]) for r in subtotals) == res.total
    # header row repeats on every page, rows never split
    xml = table._tbl.xml
    assert "<w:tblHeader/>" in xml and xml.count("<w:cantSplit/>") == len(table.rows)


def test_seed_report_has_charts_and_appendix(seed_docx):
    with zipfile.ZipFile(seed_docx.docx) as z:
        names = z.namelist()
    assert [n for n in names if n.startswith("word/media/")] == []   # no raster image left
    assert sorted(n for n in names if n.startswith("word/charts/chart")) == [
        "word/charts/chart1.xml", "word/charts/chart2.xml"]
    paras = docx_paragraphs(seed_docx.docx)
    captions = [t for s, t in paras if s == "图表标题"]
    assert captions == ["图1 2021年度预算资金来源与使用（万元）", "表1 主要经济指标完成情况",
                        "表2 部门整体支出绩效自评指标得分情况", "图2 各一级指标分值与得分"]
    text = docx_text(seed_docx.docx)
    assert "计算结果：734.63 ÷ 747.43 × 100% = 98.29%。" in text
    assert "在职人员控制率 = 在职人员数 ÷ 编制数 × 100%" in text
    assert "数据：调整后全年预算数620.47万元；上年结转结余资金84.62万元" in text
    assert seed_docx.problems == []


C_NS = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"


def chart_cache(docx_path, part: str) -> tuple[list[str], dict[str, list]]:
    """Categories and {series name: values} as cached in a chart part (what Word draws
    before anyone opens the data); a blank point is None."""
    from lxml import etree

    with zipfile.ZipFile(docx_path) as z:
        root = etree.fromstring(z.read(part))
    series = {}
    cats: list[str] = []
    for ser in root.iter(C_NS + "ser"):
        name = ser.find(f"{C_NS}tx//{C_NS}v").text
        cache = ser.find(f"{C_NS}cat//{C_NS}strCache")
        n = int(cache.find(C_NS + "ptCount").get("val"))
        cats = [None] * n
        for pt in cache.iter(C_NS + "pt"):
            cats[int(pt.get("idx"))] = pt.find(C_NS + "v").text
        num = ser.find(f"{C_NS}val//{C_NS}numCache")
        vals: list = [None] * int(num.find(C_NS + "ptCount").get("val"))
        for pt in num.iter(C_NS + "pt"):
            vals[int(pt.get("idx"))] = D(pt.find(C_NS + "v").text)
        series[name] = vals
    return cats, series


def chart_workbook(docx_path, part: str) -> tuple[list[str], dict[str, list]]:
    """The same from the chart's embedded workbook (what Word's "edit data" opens)."""
    from openpyxl import load_workbook

    rels = part.replace("charts/", "charts/_rels/") + ".rels"
    with zipfile.ZipFile(docx_path) as z:
        rel = re.search(r'Type="[^"]+/package" Target="\.\./([^"]+)"', z.read(rels).decode())
        ws = load_workbook(io.BytesIO(z.read("word/" + rel.group(1)))).active
    rows = list(ws.iter_rows(values_only=True))
    cats = [r[0] for r in rows[1:]]
    series = {name: [None if r[i] is None else D(str(r[i])) for r in rows[1:]]
              for i, name in enumerate(rows[0]) if i}
    return cats, series


def test_charts_are_native_word_charts(seed_docx):
    """Chart parts, their relationships and content types, the inline drawing in the body,
    and the numbers: cache == embedded workbook == the Result's facts."""
    out = seed_docx.docx
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        types = z.read("[Content_Types].xml").decode()
        doc_rels = z.read("word/_rels/document.xml.rels").decode()
        body = z.read("word/document.xml").decode()
        chart_xml = {n: z.read(n).decode() for n in names if n.startswith("word/charts/chart")}
    chart_ct = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
    for n in ("chart1", "chart2"):
        assert f'PartName="/word/charts/{n}.xml" ContentType="{chart_ct}"' in types
    assert "spreadsheetml.sheet" in types
    rids = re.findall(r'Id="(rId\d+)" Type="http://schemas.openxmlformats.org/officeDocument/'
                      r'2006/relationships/chart" Target="charts/chart\d\.xml"', doc_rels)
    assert len(rids) == 2
    # each chart is an inline drawing in the body, referencing its relationship
    for rid in rids:
        assert re.search(r'<wp:inline[^>]*>.*?<a:graphicData uri="http://schemas.openxmlformats'
                         r'.org/drawingml/2006/chart"><c:chart [^>]*r:id="' + rid + '"', body)
    assert "PERFEVAL-CHART" not in body
    assert len([n for n in names if re.match(r"word/embeddings/Microsoft_Excel_Worksheet\d\.xlsx",
                                             n)]) == 2
    # titles, and every chart text in the document's East Asian font (Normal: 仿宋_GB2312)
    budget, scores = chart_xml["word/charts/chart1.xml"], chart_xml["word/charts/chart2.xml"]
    assert "<a:t>2021年度预算资金来源与使用</a:t>" in budget and "<a:t>万元</a:t>" in budget
    assert "<a:t>各一级指标分值与得分</a:t>" in scores
    for x in (budget, scores):
        assert f'<a:ea typeface="{fonts.BODY}"/>' in x
        assert '<c:showVal val="1"/>' in x and "<c:externalData" in x

    cats, series = chart_cache(out, "word/charts/chart1.xml")
    assert cats == ["资金使用 合计747.43", "资金来源 合计747.43"]
    assert series == {"调整后预算": [None, D("620.47")], "上年结转结余": [None, D("84.62")],
                      "其他资金": [None, D("42.34")], "基本支出": [D("207.77"), None],
                      "项目支出": [D("526.86"), None], "年末结转结余": [D("12.80"), None]}
    assert chart_workbook(out, "word/charts/chart1.xml") == (cats, series)

    res = seed_result()
    levels = {}
    for i in res.indicators:
        w, sc = levels.get(i.level1, (D(0), D(0)))
        levels[i.level1] = (w + i.weight, sc + (i.score or 0))
    cats, series = chart_cache(out, "word/charts/chart2.xml")
    assert [c.split("\n")[0] for c in cats] == list(levels)
    assert series["分值"] == [w for w, _ in levels.values()]
    assert series["得分"] == [sc.quantize(D("0.01")) for _, sc in levels.values()]
    assert all("\n得分率" in c for c in cats)
    assert chart_workbook(out, "word/charts/chart2.xml") == (cats, series)


def test_chart_placeholder_inside_a_user_paragraph(tmp_path):
    """A user's template may print a chart in the middle of a sentence and use its own
    font: the text around stays, and the chart takes the template's East Asian font."""
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document()
    rpr = doc.styles["Normal"].element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), "微软雅黑")
    doc.add_paragraph("前面的字{{ scores.chart }}后面的字")
    doc.add_paragraph("{% if budget.chart %}有预算图{% endif %}")
    doc.sections[0].header.paragraphs[0].text = "页眉{{ budget.chart }}"
    tpl = tmp_path / "mine.docx"
    doc.save(tpl)
    out = render_report(seed_result(), tmp_path / "o.docx", template=tpl).docx
    text = docx_text(out)
    assert "前面的字后面的字" in text and "有预算图" in text and "PERFEVAL" not in text
    with zipfile.ZipFile(out) as z:
        assert sorted(n for n in z.namelist() if n.startswith("word/charts/chart")) == [
            "word/charts/chart1.xml"]
        chart = z.read("word/charts/chart1.xml").decode()
        body = z.read("word/document.xml").decode()
    assert '<a:ea typeface="微软雅黑"/>' in chart and "各一级指标分值与得分" in chart
    assert Document(str(out)).sections[0].header.paragraphs[0].text == "页眉"
    assert body.index("前面的字") < body.index("<wp:inline") < body.index("后面的字")


def test_cell_text_cannot_place_a_chart(tmp_path):
    """The placeholder is unguessable: text typed into a cell stays text."""
    res = seed_result(texts={"text_goals": "PERFEVAL-CHART-0000000000000000-budget"})
    out = render_report(res, tmp_path / "r.docx").docx
    assert "PERFEVAL-CHART-0000000000000000-budget" in docx_text(out)
    with zipfile.ZipFile(out) as z:
        assert z.read("word/document.xml").decode().count("<wp:inline") == 2


def test_indicator_groups_are_merged_down(seed_docx):
    """一级/二级指标 cells span their group (w:vMerge restart/continue); 小计 rows end it."""
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(seed_docx.docx))
    table = next(t for t in doc.tables if t.rows[0].cells[2].text == "三级指标")
    level1 = []
    for tr in table._tbl.findall(qn("w:tr"))[1:]:
        tc = tr.findall(qn("w:tc"))[0]
        text = "".join(t.text or "" for t in tc.iter(qn("w:t")))
        if tc.grid_span > 1:
            assert tc.vMerge is None
            level1.append(("小计", text))
        else:
            level1.append((tc.vMerge, text))
    groups = [x for x in level1 if x[0] == "restart"]
    assert [t for _, t in groups] == ["投入", "过程", "产出", "效果"]
    for n, (merge, text) in enumerate(level1):
        if merge == "continue":
            assert text == "" and level1[n - 1][0] in ("restart", "continue")
        if merge == "小计" and n + 1 < len(level1) and level1[n + 1][1] != "合计":
            assert level1[n + 1][0] == "restart"


def test_body_styles_follow_gbt9704(seed_docx):
    from docx import Document

    doc = Document(str(seed_docx.docx))
    sec = doc.sections[0]
    mm = [round(x / 36000) for x in (sec.top_margin, sec.bottom_margin, sec.left_margin,
                                     sec.right_margin, sec.page_width, sec.page_height)]
    assert mm == [37, 35, 28, 26, 210, 297]
    normal = doc.styles["Normal"].element.xml
    assert 'w:eastAsia="仿宋_GB2312"' in normal and '<w:sz w:val="32"/>' in normal
    assert 'w:line="579" w:lineRule="exact"' in normal and 'w:firstLineChars="200"' in normal
    assert '<w:spacing w:val="-5"/>' in normal
    assert 'w:eastAsia="黑体"' in doc.styles["Heading 1"].element.xml
    assert 'w:eastAsia="楷体_GB2312"' in doc.styles["Heading 2"].element.xml
    h3 = doc.styles["Heading 3"].element.xml
    assert 'w:eastAsia="仿宋_GB2312"' in h3 and "<w:b/>" in h3
    assert 'w:eastAsia="方正小标宋简体"' in doc.styles["报告标题"].element.xml
    assert '<w:sz w:val="44"/>' in doc.styles["报告标题"].element.xml
    assert 'w:lineRule="auto"' in doc.styles["图片"].element.xml
    assert "outlineLvl" in doc.styles["Heading 1"].element.xml
    for name in ("Heading 1", "Heading 2", "Heading 3", "Heading 1 Char", "Heading 2 Char"):
        xml = doc.styles[name].element.xml
        assert "Theme" not in xml and "365F91" not in xml, name
    footer = sec.footer.paragraphs[0]
    assert footer.text.startswith("— ") and footer.text.endswith(" —")
    assert "PAGE" in footer._p.xml
    assert sec.even_page_footer.paragraphs[0].text.startswith("— ")


# --------------------------------------------------------------------------- optional sections

def test_empty_optional_sections_close_the_numbering(tmp_path):
    res = seed_result(texts={"text_economy_intro": None, "text_budget_note": None})
    ev = res.evaluation
    ev.tables["tbl_economy"] = []
    ev.tables["tbl_systems"] = []
    ev.tables["tbl_work"] = [r for r in ev.tables["tbl_work"] if r.get("类别") == "其他工作"]
    ev.texts["text_eval_method"] = Cell("  \n\u3000 ", Location("评价说明", "C4"))
    ev.texts["text_experience"] = Cell("坚持预算绩效管理与业务工作同部署。", Location("问题与建议", "C3"))
    ev.tables["tbl_problems"] = []
    out = render_report(res, tmp_path / "r.docx", charts=False).docx
    heads = [t for s, t in headings(out) if s in ("Heading 1", "Heading 2")]
    assert heads == [
        "一、基本情况", "（一）概况", "（二）预算资金",
        "二、实际工作绩效", "（一）其他工作开展情况",
        "三、职能职责", "四、整体支出绩效目标",
        "五、评价思路", "（一）评价思路及关注点", "（二）评价过程", "（三）指标体系", "（四）评价等级",
        "六、评价结论", "（一）评价结论", "（二）绩效分析", "（三）指标得分情况",
        "七、主要经验及做法、存在问题和建议", "（一）主要经验及做法", "（二）建议和改进举措",
    ]
    assert_consecutive(out)
    text = docx_text(out)
    assert "管理制度" not in [t for _, t in headings(out)]
    assert "坚持预算绩效管理与业务工作同部署。" in text
    with zipfile.ZipFile(out) as z:
        assert not [n for n in z.namelist() if n.startswith("word/media/")]
    captions = [t for s, t in docx_paragraphs(out) if s == "图表标题"]
    assert captions == ["表1 部门整体支出绩效自评指标得分情况"]
    # no empty paragraphs left where sections were dropped
    paras = docx_paragraphs(out)
    assert all(t.strip() for s, t in paras[3:] if s != "图片")


def test_whole_chapter_dropped_renumbers_the_rest(tmp_path):
    res = seed_result(texts={"text_duties": None, "text_economy_intro": None},
                      inputs={k: None for k in ("tasks_planned", "tasks_completed",
                                                "tasks_on_time", "tasks_quality_ok",
                                                "key_tasks_assigned", "key_tasks_completed")})
    res.evaluation.tables.update(tbl_economy=[], tbl_work=[])
    out = render_report(res, tmp_path / "r.docx", charts=False).docx
    chapters = [t for s, t in headings(out) if s == "Heading 1"]
    assert chapters == ["一、基本情况", "二、整体支出绩效目标", "三、评价思路", "四、评价结论",
                        "五、主要经验及做法、存在问题和建议"]
    assert_consecutive(out)


def test_forty_work_items_are_numbered_and_paginate(tmp_path):
    rows = [{"序号": D(i), "类别": "重点工作" if i % 3 else "其他工作", "工作事项": f"工作事项{i}",
             "完成情况": ("已按计划完成。" * 40 + "\n") * 2} for i in range(1, 46)]
    res = seed_result(tables={"tbl_work": rows})
    out = render_report(res, tmp_path / "r.docx", charts=False).docx
    assert_consecutive(out)
    h3 = [t for s, t in docx_paragraphs(out) if s == "Heading 3"]
    assert "30.工作事项44" in h3 and "15.工作事项45" in h3 and len(h3) == 45 + 16
    from docx import Document

    doc = Document(str(out))
    assert doc.styles["Heading 3"].paragraph_format.keep_with_next


# --------------------------------------------------------------------------- text safety

HOSTILE = "A&B <b>粗体</b> {{ x }} {% if true %}真{% endif %} R&D>0 \"引号\" 'x'"


def test_hostile_cell_text_appears_literally(tmp_path):
    res = seed_result(texts={"text_overview": HOSTILE, "text_goals": "目标&<责任>"})
    res.evaluation.tables["tbl_problems"][0].cells["存在问题"].value = "问题{%p if x %}<&>"
    res.indicators[0].note = "扣分{{ note }}&<"
    out = render_report(res, tmp_path / "r.docx", charts=False).docx
    text = docx_text(out)
    assert HOSTILE in text
    assert "目标&<责任>" in text
    assert "1.问题{%p if x %}<&>" in text
    assert "扣分{{ note }}&<" in text


def test_control_characters_removed_with_warning_naming_the_cell(tmp_path):
    res = seed_result(texts={"text_goals": "保证\x00人员\x07经费\x0b合理\x1f支出。"})
    res.evaluation.tables["tbl_problems"][1].cells["存在问题"].value = "内控\x0c制度"
    outcome = render_report(res, tmp_path / "r.docx", charts=False)
    text = docx_text(outcome.docx)
    assert "保证人员经费合理支出。" in text and "2.内控制度" in text
    found = [(p.code, str(p.location)) for p in outcome.problems]
    goals_loc = str(res.evaluation.texts["text_goals"].location)
    prob_loc = str(res.evaluation.tables["tbl_problems"][1].loc("存在问题"))
    assert ("control-chars-removed", goals_loc) in found
    assert ("control-chars-removed", prob_loc) in found
    assert all(p.severity == "warning" for p in outcome.problems)


def test_dollar_signs_in_chart_labels(tmp_path):
    res = seed_result()
    for i in res.indicators:
        if i.level1 == "效果":
            i.level1 = "效果$x^2$ $"
    outcome = render_report(res, tmp_path / "r.docx")
    assert "效果$x^2$ $小计" in docx_text(outcome.docx)
    cats, _ = chart_cache(outcome.docx, "word/charts/chart2.xml")
    assert cats[-1] == "效果$x^2$ $\n得分率98.00%"


def test_very_long_text_renders(tmp_path):
    long = "很长的文字，" * 3000
    res = seed_result(texts={"text_duties": long + "\n" + long})
    out = render_report(res, tmp_path / "r.docx", charts=False).docx
    assert sum(t == long for _, t in docx_paragraphs(out)) == 2


# --------------------------------------------------------------------------- templates

def test_committed_template_is_up_to_date():
    assert template_builder.TEMPLATE_PATH.is_file()
    assert template_builder.TEMPLATE_PATH.read_bytes() == template_builder.build_template(), \
        "run: python -m perfeval_xl.report.template_builder"


def test_template_passes_docxtpl_lint():
    exe = Path(sys.executable).with_name("docxtpl-lint")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "docxtpl_lint"]
    proc = subprocess.run(cmd + ["--autoescape", "--fail-on", "warning", "--no-config",
                                 str(template_builder.TEMPLATE_PATH)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_template_variables_are_all_in_the_context():
    from docxtpl_lint.api import lint

    ctx = build_context(seed_result(), charts=False)
    res = lint(str(template_builder.TEMPLATE_PATH), data=_jsonable(ctx), autoescape=True)
    assert res.ok, [(i.rule, i.message) for i in res.issues]


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_jsonable(v) for v in x]
    return "" if x is None else x


def test_each_tag_sits_in_one_run():
    from docx import Document

    doc = Document(str(template_builder.TEMPLATE_PATH))
    pars = list(doc.paragraphs)
    for t in doc.tables:
        for row in t.rows:
            for c in row.cells:
                pars.extend(c.paragraphs)
    for p in pars:
        for run in p.runs:
            t = run.text
            assert t.count("{{") == t.count("}}") and t.count("{%") == t.count("%}"), t
        full = p.text
        assert full.count("{{") == sum(r.text.count("{{") for r in p.runs)


def _user_template(tmp_path, text: str) -> Path:
    from docx import Document

    doc = Document()
    doc.add_paragraph(text)
    path = tmp_path / "mine.docx"
    doc.save(path)
    return path


def test_user_template_with_known_variables(tmp_path):
    tpl = _user_template(tmp_path, "{{ unit }}：总分{{ total }}，等级{{ grade }}，预算完成率"
                                   "{{ indicators.budget_completion_rate.value }}")
    out = render_report(seed_result(), tmp_path / "o.docx", template=tpl).docx
    assert "曲沃县中小企业服务中心：总分" in docx_text(out)
    assert "预算完成率98.29%" in docx_text(out)


def test_user_template_with_unknown_variable(tmp_path):
    tpl = _user_template(tmp_path, "{{ unit }} {{ budget_totl }} {{ mystery }}")
    with pytest.raises(ReportError) as exc:
        render_report(seed_result(), tmp_path / "o.docx", template=tpl)
    assert "budget_totl" in exc.value.message and "mystery" in exc.value.message
    assert not (tmp_path / "o.docx").exists()


def test_user_template_with_unknown_attribute(tmp_path):
    tpl = _user_template(tmp_path, "{{ budget.no_such_field }}")
    with pytest.raises(ReportError) as exc:
        render_report(seed_result(), tmp_path / "o.docx", template=tpl)
    assert "no_such_field" in exc.value.message


def test_missing_and_corrupt_templates(tmp_path):
    with pytest.raises(ReportError, match="不存在"):
        render_report(seed_result(), tmp_path / "o.docx", template=tmp_path / "nope.docx")
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"this is not a zip")
    with pytest.raises(ReportError, match="已损坏"):
        render_report(seed_result(), tmp_path / "o.docx", template=bad)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "x")
    bad.write_bytes(buf.getvalue())
    with pytest.raises(ReportError, match="已损坏"):
        render_report(seed_result(), tmp_path / "o.docx", template=bad)
    truncated = template_builder.TEMPLATE_PATH.read_bytes()[:5000]
    bad.write_bytes(truncated)
    with pytest.raises(ReportError, match="已损坏"):
        render_report(seed_result(), tmp_path / "o.docx", template=bad)
    assert not (tmp_path / "o.docx").exists()


# --------------------------------------------------------------------------- strict, names, output

def test_strict_refuses_a_result_with_errors(tmp_path):
    from perfeval_xl.model import Problem

    res = seed_result()
    res.problems = [Problem("error", "sum-mismatch", f"第{i}个错误", Location("预算执行", f"C{i}"))
                    for i in range(1, 6)] + [Problem("warning", "w", "警告")]
    with pytest.raises(ReportError) as exc:
        render_report(res, tmp_path / "o.docx", strict=True)
    assert "5 个错误" in exc.value.message and "第1个错误" in exc.value.message
    assert not (tmp_path / "o.docx").exists()
    assert render_report(res, tmp_path / "o.docx", charts=False).docx.is_file()


def test_default_report_name_is_safe():
    res = seed_result()
    assert default_report_name(res) == "曲沃县中小企业服务中心_2021年度部门整体支出绩效自评报告.docx"
    res.evaluation.unit = Cell("../a/b:c*", None)
    name = default_report_name(res)
    assert "/" not in name and "\\" not in name and ":" not in name and "*" not in name
    assert not name.startswith(".") and name.endswith("_2021年度部门整体支出绩效自评报告.docx")
    res.evaluation.year = Cell(None, None)
    res.evaluation.unit = Cell(None, None)
    assert default_report_name(res) == "未命名单位_部门整体支出绩效自评报告.docx"


def test_output_to_a_folder_uses_the_default_name(tmp_path):
    out = render_report(seed_result(), tmp_path, charts=False).docx
    assert out == tmp_path / "曲沃县中小企业服务中心_2021年度部门整体支出绩效自评报告.docx"


def test_folder_without_write_permission(tmp_path, monkeypatch):
    """As root (CI) chmod cannot make a folder unwritable, so the OS refusal is simulated."""
    import tempfile

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(OutputError) as exc:
        render_report(seed_result(), tmp_path / "o.docx", charts=False)
    assert "权限" in exc.value.message
    assert list(tmp_path.iterdir()) == []


def test_locked_output_keeps_the_old_file(tmp_path, monkeypatch):
    """A target that Word holds open: the rename fails, the old file stays, no temp left."""
    target = tmp_path / "o.docx"
    target.write_bytes(b"old report")

    def locked(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(OutputError) as exc:
        render_report(seed_result(), target, charts=False)
    assert "关闭" in exc.value.message
    assert target.read_bytes() == b"old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.docx"]


def test_missing_output_folder(tmp_path):
    with pytest.raises(OutputError):
        render_report(seed_result(), tmp_path / "no" / "such" / "o.docx", charts=False)


# --------------------------------------------------------------------------- context API

def test_build_context_without_template_has_no_charts():
    ctx = build_context(seed_result())
    assert ctx["budget"]["chart"] is None and ctx["scores"]["chart"] is None
    assert ctx["unit"] == "曲沃县中小企业服务中心" and ctx["year"] == "2021"
    assert ctx["inputs"]["budget_initial"] == "388.46"
    assert ctx["derived"]["funds_available"] == "747.43"
    assert ctx["indicators"]["budget_completion_rate"]["value"] == "98.29%"
    assert ctx["basic"]["heading"] == "一、基本情况"
    assert ctx["budget"]["heading"] == "（三）预算资金"
    assert ctx["problems"]["paragraphs"][0].startswith("1.单位年初预算")


def test_import_is_cheap():
    code = ("import sys, perfeval_xl.report; "
            "bad = [m for m in ('docxtpl', 'matplotlib', 'docx', 'jinja2', 'pptx') "
            "if m in sys.modules]; "
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_fontconfig_file_in_docs_matches_code():
    path = ROOT / "docs" / "fonts" / "65-perfeval-fonts.conf"
    assert path.read_text(encoding="utf-8") == fonts.fontconfig_aliases()


# --------------------------------------------------------------------------- PDF

def test_pdf_unavailable_is_a_warning(tmp_path, monkeypatch):
    from perfeval_xl.report import pdf as pdfmod

    monkeypatch.setattr(pdfmod, "find_soffice", lambda: None)
    monkeypatch.setattr(pdfmod, "_word_available", lambda: False)
    outcome = render_report(seed_result(), tmp_path / "r.docx", pdf=True, charts=False)
    assert outcome.pdf is None and outcome.docx.is_file()
    assert [p.code for p in outcome.problems] == ["pdf-unavailable"]
    with pytest.raises(PdfUnavailable) as exc:
        convert_to_pdf(outcome.docx)
    assert "LibreOffice" in exc.value.message


needs_soffice = pytest.mark.skipif(
    shutil.which("soffice") is None and shutil.which("libreoffice") is None,
    reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                   reason="poppler-utils (pdftotext) is not installed")


def _pdftext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))


@pytest.mark.slow
@needs_soffice
@needs_poppler
def test_pdf_of_the_seed_report(tmp_path):
    outcome = render_report(seed_result(), tmp_path / "报告.docx", pdf=True)
    assert outcome.pdf == tmp_path / "报告.pdf" and outcome.pdf.is_file()
    assert outcome.problems == []
    text = re.sub(r"\s+", "", _pdftext(outcome.pdf))
    for s in ("2021年度部门整体支出绩效自评报告", "一、基本情况", "现有干部职工33人",
              "预算完成率98.29%", "七、主要经验及做法、存在问题和建议", "指标计算过程",
              "—1—", "—2—"):
        assert s in text, s
    # the native charts were drawn by LibreOffice: their titles, category labels, legends
    for s in ("2021年度预算资金来源与使用", "资金来源合计747.43", "资金使用合计747.43", "调整后预算",
              "上年结转结余", "年末结转结余", "各一级指标分值与得分", "得分率96.00%", "分值", "万元"):
        assert s in text, s
    assert 8 <= _pages(outcome.pdf) <= 20
    fonts_used = subprocess.run(["pdffonts", str(outcome.pdf)], capture_output=True,
                                text=True).stdout
    assert "NotoSansCJK" in fonts_used  # 黑体 headings were mapped, not tofu


@pytest.mark.slow
@needs_soffice
def test_parallel_conversions_do_not_collide(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    docs = []
    for i in range(2):
        res = seed_result()
        res.evaluation.unit = Cell(f"单位{i}", None)
        docs.append(render_report(res, tmp_path / f"r{i}.docx", charts=False).docx)
    (tmp_path / "pdf").mkdir()
    with ThreadPoolExecutor(2) as pool:
        pdfs = list(pool.map(lambda p: convert_to_pdf(p, tmp_path / "pdf"), docs))
    assert [p.name for p in pdfs] == ["r0.pdf", "r1.pdf"]
    assert all(p.stat().st_size > 10000 for p in pdfs)


# --------------------------------------------------------------------------- the real sample

def _real_sample():
    from perfeval_xl import engine

    assert SAMPLE.is_file(), f"committed sample workbook missing: {SAMPLE}"
    return engine.evaluate(SAMPLE)


def test_real_sample_report(tmp_path):
    res = _real_sample()
    outcome = render_report(res, tmp_path)
    out = outcome.docx
    assert out.name == "曲沃县中小企业服务中心_2021年度部门整体支出绩效自评报告.docx"
    assert_consecutive(out)
    text = docx_text(out)
    for figure in ("388.46", "620.47", "84.62", "42.34", "734.63", "207.77", "526.86"):
        assert f"{figure}万元" in text, figure
    assert "33人" in text and "财政拨款人员18人" in text and "自收自支人员15人" in text
    for name in DEPARTMENTS + SYSTEMS:
        assert name in text
    assert "预算完成率98.29%" in text
    assert "营业收入累计完成636767万元，同比增长93.90%" in text
    assert "小升规" in text and "融资3060.9万元" in text
    for p in PROBLEMS:
        assert p in text
    assert f"自评得分为{ctxmod.fmt_score(res.total)}分" in text and res.grade in text
    assert "{{" not in text and "{%" not in text
    rc = res.indicator("budget_completion_rate")
    assert f"{ctxmod.fmt_rate(rc.value)}" == "98.29%"
    heads = [t for s, t in headings(out) if s == "Heading 1"]
    assert heads[0] == "一、基本情况" and heads[-1] == "七、主要经验及做法、存在问题和建议"
    # every indicator of the Result appears in the score table with its score
    from docx import Document

    doc = Document(str(out))
    table = next(t for t in doc.tables if t.rows[0].cells[2].text == "三级指标")
    names = {r.cells[2].text: r.cells[5].text for r in table.rows[1:]}
    for i in res.indicators:
        assert names[i.name] == (ctxmod.fmt_score(i.score) if i.score is not None else "—")
    assert [p.code for p in outcome.problems] == []
    # the budget chart's numbers are the workbook's own cells, read here straight from the sheet
    from openpyxl import load_workbook

    book = load_workbook(SAMPLE)
    ev = res.evaluation

    def sheet_value(key):
        loc = ev.inputs[key].location
        return D(str(book[loc.sheet][loc.cell].value)).quantize(D("0.01"))

    _, series = chart_workbook(out, "word/charts/chart1.xml")
    for key, label in (("budget_adjusted", "调整后预算"), ("carryover_prior", "上年结转结余"),
                       ("other_funds", "其他资金")):
        assert series[label][1] == sheet_value(key), label
    for key, label in (("spending_basic", "基本支出"), ("spending_project", "项目支出")):
        assert series[label][0] == sheet_value(key), label
    assert chart_cache(out, "word/charts/chart1.xml")[1] == series


@pytest.mark.parametrize("name", ["blank_mof2013.xlsx", "blank_hunan.xlsx",
                                  "blank_perf2020.xlsx"])
def test_blank_workbook_report_is_short_and_clean(tmp_path, name):
    engine = pytest.importorskip("perfeval_xl.engine")
    path = ROOT / "workbooks" / name
    if not path.is_file():
        pytest.skip(f"blank workbook not built: {path}")
    out = render_report(engine.evaluate(path), tmp_path / "r.docx").docx
    assert_consecutive(out)
    text = docx_text(out)
    assert "计划开展工作0项" not in text and "{{" not in text
    assert [t for s, t in headings(out) if s == "Heading 1"][0] == "一、评价思路"


@pytest.mark.slow
@needs_soffice
@needs_poppler
def test_real_sample_pdf(tmp_path):
    res = _real_sample()
    outcome = render_report(res, tmp_path / "sample.docx", pdf=True)
    text = re.sub(r"\s+", "", _pdftext(outcome.pdf))
    assert "曲沃县中小企业服务中心" in text and "预算完成率98.29%" in text
    assert 8 <= _pages(outcome.pdf) <= 25


def test_seed_result_is_not_mutated_by_rendering(tmp_path):
    res = seed_result()
    before = copy.deepcopy(res.to_json())
    render_report(res, tmp_path / "r.docx", charts=False)
    assert res.to_json() == before


@pytest.mark.parametrize("make", ["seed", "empty"])
def test_builtin_template_declares_nothing_the_context_lacks(make):
    """render() skips the undeclared-variable scan for the built-in template; this proves it
    is never needed, for a full and for an almost empty workbook."""
    from docxtpl import DocxTemplate
    from jinja2 import Environment, StrictUndefined

    from perfeval_xl.report.render import load_template

    res = seed_result()
    if make == "empty":
        for key in res.evaluation.texts:
            res.evaluation.texts[key] = Cell(None, None)
        for key in res.evaluation.tables:
            res.evaluation.tables[key] = []
    tpl = DocxTemplate(io.BytesIO(load_template()))
    tpl.init_docx()
    ctx, _, specs = ctxmod.build(res, charts=True)
    assert len(specs) == 2
    env = Environment(undefined=StrictUndefined, autoescape=True)
    assert tpl.get_undeclared_template_variables(env, context=ctx) == set()


# --------------------------------------------------------------------------- untrusted templates

def _cli(*args, cwd=None, timeout=60):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "perfeval_xl", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


def _ssti_expressions(flag: Path) -> list[str]:
    """Classic Jinja template-injection payloads: each would run `id` or create ``flag``
    under a normal jinja2 Environment."""
    return [
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ self._TemplateReference__context.joiner.__init__.__globals__.os.system("
        f"'touch {flag}') }}}}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ namespace.__init__.__globals__['__builtins__']['open']"
        f"('{flag}', 'w').write('x') }}}}",
        "{{ unit.__class__.__base__.__subclasses__() }}",
        "{% set x = cycler.__init__ %}{{ x.__globals__ }}",
        "{{ (unit|attr('__class__')).__mro__ }}",
    ]


def test_template_injection_runs_nothing_cli(tmp_path):
    flag = tmp_path / "PWNED"
    tpl = _user_template(tmp_path, "{{ unit }}" + _ssti_expressions(flag)[0] +
                         _ssti_expressions(flag)[1])
    before = tpl.read_bytes()
    out = tmp_path / "o.docx"
    proc = _cli("report", SAMPLE, "-o", out, "--template", tpl, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "uid=" not in proc.stdout + proc.stderr
    assert "不允许的操作" in proc.stderr and "mine.docx" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not flag.exists() and not out.exists()
    assert tpl.read_bytes() == before


@pytest.mark.parametrize("n", range(7))
def test_template_injection_runs_nothing(tmp_path, n):
    flag = tmp_path / "PWNED"
    tpl = _user_template(tmp_path, "前文 " + _ssti_expressions(flag)[n])
    with pytest.raises(ReportError) as exc:
        render_report(seed_result(), tmp_path / "o.docx", template=tpl)
    assert "不允许的操作" in exc.value.message, exc.value.message
    assert "uid=" not in exc.value.message
    assert not flag.exists() and not (tmp_path / "o.docx").exists()


@pytest.mark.parametrize("body, says", [
    ("{% for i in range(10**9) %}x{% endfor %}", "range()"),
    ("{% for i in range(9999) %}{% for j in range(9999) %}{{ unit }}{% endfor %}{% endfor %}",
     "循环合计超过"),
    ("{{ 'x' * 10**9 }}", "内容过长"),
    ("{{ unit|center(10**9) }}", "内存不足"),
])
def test_runaway_templates_end_quickly_with_a_chinese_error(tmp_path, body, says):
    import time

    tpl = _user_template(tmp_path, body)
    start = time.monotonic()
    with pytest.raises(ReportError) as exc:
        render_report(seed_result(), tmp_path / "o.docx", template=tpl)
    assert time.monotonic() - start < 15   # generous: a loaded 2-core machine
    assert says in exc.value.message and "mine.docx" in exc.value.message
    assert not (tmp_path / "o.docx").exists()


def test_a_loop_no_budget_sees_is_killed_at_the_timeout(tmp_path, monkeypatch):
    """Nested loops over strings pass no range() and print nothing: the separate process
    is killed at its time limit (shortened here)."""
    import time

    from perfeval_xl.report import sandbox

    monkeypatch.setattr(sandbox, "PROCESS_SECONDS", 2.0)
    tpl = _user_template(tmp_path, "{% for a in unit*500 %}{% for b in unit*500 %}"
                                   "{% for c in unit*500 %}{% endfor %}{% endfor %}{% endfor %}")
    start = time.monotonic()
    with pytest.raises(ReportError) as exc:
        render_report(seed_result(), tmp_path / "o.docx", template=tpl)
    assert time.monotonic() - start < 10
    assert "超过 2 秒" in exc.value.message and "mine.docx" in exc.value.message


def test_template_syntax_error_names_the_paragraph(tmp_path):
    from docx import Document

    doc = Document()
    doc.add_paragraph("第一段")
    doc.add_paragraph("总分{{ total ")
    tpl = tmp_path / "mine.docx"
    doc.save(tpl)
    with pytest.raises(ReportError) as exc:
        render_report(seed_result(), tmp_path / "o.docx", template=tpl)
    msg = exc.value.message
    assert "语法错误" in msg and "模板第 2 段：“总分{{ total”" in msg, msg


def test_output_equal_to_template_is_refused(tmp_path):
    tpl = _user_template(tmp_path, "{{ unit }}")
    before = tpl.read_bytes()
    proc = _cli("report", SAMPLE, "-o", tpl, "--template", tpl)
    assert proc.returncode == 2 and "就是报告模板本身" in proc.stderr, proc.stderr
    link = tmp_path / "link.docx"
    link.symlink_to(tpl)
    with pytest.raises(ReportError, match="就是报告模板本身"):
        render_report(seed_result(), link, template=tpl)
    hard = tmp_path / "hard.docx"
    os.link(tpl, hard)
    with pytest.raises(ReportError, match="就是报告模板本身"):
        render_report(seed_result(), hard, template=tpl)
    assert tpl.read_bytes() == before and link.is_symlink()


def test_output_equal_to_the_input_workbook_is_refused(tmp_path):
    book = tmp_path / "book.xlsx"
    shutil.copyfile(SAMPLE, book)
    before = book.read_bytes()
    alias = tmp_path / "book.docx"
    os.link(book, alias)
    proc = _cli("report", book, "-o", alias)
    assert proc.returncode == 2 and "就是输入的工作簿" in proc.stderr, proc.stderr
    assert book.read_bytes() == before


def test_builtin_template_compiles_once_per_process(tmp_path):
    from perfeval_xl.report import sandbox

    render_report(seed_result(), tmp_path / "a.docx")
    env = sandbox.environment()
    compiled = dict(env._compiled)
    render_report(seed_result(), tmp_path / "b.docx")
    assert sandbox.environment() is env
    assert env._compiled == compiled   # same source -> the same compiled template object
    assert docx_text(tmp_path / "a.docx") == docx_text(tmp_path / "b.docx")


def test_builtin_template_code_is_kept_between_processes(tmp_path, monkeypatch):
    """The built-in template's compiled code goes to Jinja's file bytecode cache; a damaged
    cache file only means compiling again. A user's template is never stored."""
    from jinja2.bccache import FileSystemBytecodeCache

    from perfeval_xl.report import sandbox

    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setattr(sandbox, "_bytecode_cache",
                        FileSystemBytecodeCache(str(cache), "__perfeval_report_%s.cache"))
    env = sandbox.environment()
    monkeypatch.setattr(env, "_compiled", {})
    render_report(seed_result(), tmp_path / "a.docx")
    files = sorted(cache.iterdir())
    assert files and max(f.stat().st_size for f in files) > 10000   # the document body
    for f in files:
        f.write_bytes(b"garbage")
    env._compiled.clear()
    render_report(seed_result(), tmp_path / "b.docx")
    assert docx_text(tmp_path / "a.docx") == docx_text(tmp_path / "b.docx")
    assert "预算完成率98.29%" in docx_text(tmp_path / "b.docx")
    before = sorted(cache.iterdir())
    tpl = _user_template(tmp_path, "{{ unit }} 的报告")
    render_report(seed_result(), tmp_path / "c.docx", template=tpl)
    assert sorted(cache.iterdir()) == before


# --------------------------------------------------------------------------- no fonts, no matplotlib

NO_FONT_SCRIPT = r"""
import sys, zipfile
from perfeval_xl import engine
from perfeval_xl.report import render_report
out = render_report(engine.evaluate(sys.argv[1]), sys.argv[2]).docx
with zipfile.ZipFile(out) as z:
    charts = [z.read(n).decode() for n in sorted(z.namelist())
              if n.startswith("word/charts/chart")]
    media = [n for n in z.namelist() if n.startswith("word/media/")]
print(len(charts), len(media), "matplotlib" in sys.modules,
      "预算资金来源与使用" in charts[0] and "得分率" in charts[1],
      all('<a:ea typeface="仿宋_GB2312"/>' in c for c in charts))
"""


def test_report_on_a_machine_without_cjk_fonts(tmp_path):
    """fontconfig sees no font at all, HOME is empty (no font cache): the charts are still
    complete, with their Chinese text in the document (drawn later by Word/WPS/LibreOffice
    with the document's fonts), and the report path never imports matplotlib."""
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
                    f"<fontconfig><dir>{tmp_path / 'nofonts'}</dir>"
                    f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>",
                    encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, FONTCONFIG_FILE=str(conf), HOME=str(home), PYTHONPATH=str(ROOT),
               XDG_CACHE_HOME=str(home / ".cache"), MPLCONFIGDIR=str(home / "mpl"))
    if shutil.which("fc-list"):
        fc = subprocess.run(["fc-list", ":lang=zh"], env=env, capture_output=True, text=True)
        assert fc.stdout.strip() == ""   # really no CJK font visible
    proc = subprocess.run([sys.executable, "-c", NO_FONT_SCRIPT, str(SAMPLE),
                           str(tmp_path / "r.docx")], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    # 2 charts, no raster image, no matplotlib, Chinese text, all of it in the document font
    assert proc.stdout.split() == ["2", "0", "False", "True", "True"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses the fork start method")
def test_a_template_process_that_dies_is_reported(tmp_path, monkeypatch):
    import time

    from perfeval_xl.report import render

    monkeypatch.setattr(render, "_fill_bytes", lambda *a: os._exit(3))
    tpl = _user_template(tmp_path, "{{ unit }}")
    start = time.monotonic()
    with pytest.raises(ReportError) as exc:
        render_report(seed_result(), tmp_path / "o.docx", template=tpl)
    assert time.monotonic() - start < 10
    assert "进程异常退出" in exc.value.message and "mine.docx" in exc.value.message
