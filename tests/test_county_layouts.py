"""Real county layouts (#9): each table below reproduces the header layout of a published
county/city 绩效自评表 or 评分表 (source address in its docstring; our indicator texts and
numbers, their columns, wordings, merges and blocks). Each is adopted, filled as a
department would, scored and reopened; the county's own 得分 cells and total must hold
the scores worked out by hand in the builder."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import adopt_fixtures as F
import pytest
from helpers import FULL, set_named
from openpyxl import Workbook, load_workbook

from perfeval_xl import engine
from perfeval_xl.adopt import adopt
from perfeval_xl.report.pdf import find_soffice
from perfeval_xl.workbook.writer import write_scored


@dataclass
class Layout:
    """A county workbook, where the department types (cell -> value) and what the county's
    得分 cells (cell -> score) and total cell must hold after scoring."""

    wb: Workbook
    sheet: str
    entries: dict[str, object]
    scores: dict[str, float]
    total: str
    total_expected: float
    fmt: dict[str, str] = field(default_factory=dict)   # cell -> number format of an entry


def _head(ws, row: int, texts: list[str | None], merges: tuple[str, ...] = ()) -> None:
    for c, t in enumerate(texts, start=1):
        if t is not None:
            ws.cell(row, c, t)
    for m in merges:
        ws.merge_cells(m)
    F._style_header(ws, row, 1, len(texts))


def _rows(ws, first: int, rows: list[list]) -> None:
    for i, values in enumerate(rows):
        for c, v in enumerate(values, start=1):
            if v is not None:
                F._text(ws.cell(first + i, c), v)


# --------------------------------------------------------------------------- 整体支出 评分表


def yueyang_audit() -> Layout:
    """岳阳市审计局 2018 部门整体支出绩效评价评分表（参考样表）:
    http://czj.yueyang.gov.cn/9689/24522/content_1562538.html (same 样表:
    https://m.zixin.com.cn/doc/6659419.html). 一级指标|二级指标|三级指标|评分标准|分值|自评
    得分|扣分原因和其他说明: 评分标准 left of 分值, no 实际值 column, level texts “投  入
    （15分）” merged down, names broken over two lines, header texts broken (“自评\\n得分”)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "附件3-1"
    ws["A1"] = "部门整体支出绩效评价评分表（参考样表）"
    ws.merge_cells("A1:G1")
    _head(ws, 2, ["一级指标", "二级指标", "三级指标", "评分标准", "分值", "自评\n得分",
                  "扣分原因和\n其他说明"])
    _rows(ws, 3, [
        ["投  入\n（15分）", "预算配置\n（15分）", "财政供养人员\n控制率",
         "以100%为标准。在职人员控制率≤100%，计5分；每超过一个百分点扣0.5分，扣完为止。", 5],
        [None, None, "“三公经费”\n变动率",
         "“三公经费”变动率≤0，计5分；“三公经费”>0，每超过一个百分点扣0.5分，扣完为止。", 5],
        ["过  程\n（15分）", "预算执行\n（15分）", "预算调整率",
         "预算调整率=0，计3分；0-10%（含），计2分；10-20%（含），计1分；20-30%（含），"
         "计0.5分；大于30%不得分。", 3],
        [None, None, "资金结余",
         "无结余，3分；有结余，但不超过上年结转，2分；结余超过上年结转，不得分。", 3],
        [None, None, "“三公经费”\n控制率",
         "以100%为标准。三公经费控制率≤100%，计6分；\n每超过一个百分点扣1分，扣完为止。", 6],
        [None, "预算管理", "管理制度\n健全性",
         "①已制定或具有预算资金管理办法，内部财务管理制度、会计核算制度等管理制度，1分；"
         "\n②相关管理制度合法、合规、完整，1分；\n③相关管理制度得到有效执行，1分。", 3],
        ["产出及效果\n（75分）", "职责履行", "履职效益",
         "根据部门年度工作完成情况及社会效益酌情评分。", 75],
    ])
    for col, (r0, r1) in (("A", (3, 4)), ("B", (3, 4)), ("A", (5, 8)), ("B", (5, 7))):
        ws.merge_cells(f"{col}{r0}:{col}{r1}")
    _rows(ws, 10, [["合计", None, None, None, "=SUM(E3:E9)"]])
    ws.merge_cells("A10:D10")
    F._box(ws, 3, 10, 1, 7)
    # FULL: staff 33/35 → 5; 三公 3.5 vs 4.2 → 5; 调整率 59.7 % → 0; 结余 typed 2; 三公控制
    # 3.5/4 → 6; 制度 typed 3 (a composite text: by hand); 履职效益 typed 70 (酌情).
    return Layout(wb, "附件3-1", {"F6": 2, "F8": 3, "F9": 70},
                  {"F3": 5, "F4": 5, "F5": 0, "F6": 2, "F7": 6, "F8": 3, "F9": 70}, "F10", 91)


def dazhou_names() -> Layout:
    """达州市农业农村局 部门整体支出绩效评价指标: http://nyj.dazhou.gov.cn/xxgk-show-16453.html
    (first table). 一级指标|二级指标|三级指标|得分 only: every level and indicator carries its
    points in its name (“相关性(5分)”), no 分值 and no 评分标准 column: weights from the
    names, each row scored by hand in 得分."""
    wb = Workbook()
    ws = wb.active
    ws.title = "评价指标"
    _head(ws, 1, ["一级指标", "二级指标", "三级指标", "得分"])
    _rows(ws, 2, [
        ["部门决策(25分)", "目标任务(15分)", "相关性(5分)"],
        [None, None, "明确性(5分)"],
        [None, None, "合理性(5分)"],
        [None, "预算编制(10分)", "测算依据(5分)"],
        [None, None, "目标管理(5分)"],
        ["部门绩效情况(75分)", "履职成效(45分)", "重点工作完成情况(45分)"],
        [None, "可持续发展能力(20分)", "人才培养(20分)"],
        [None, "满意度(10分)", "协作部门满意度(3分)"],
        [None, None, "管理对象满意度(3分)"],
        [None, None, "社会公众满意度(4分)"],
    ])
    for m in ("A2:A6", "B2:B4", "B5:B6", "A7:A11", "B9:B11"):
        ws.merge_cells(m)
    ws["A12"] = "合计"
    ws.merge_cells("A12:C12")
    F._box(ws, 2, 12, 1, 4)
    typed = {"D2": 5, "D3": 4, "D4": 5, "D5": 4.5, "D6": 5, "D7": 40, "D8": 18, "D9": 3,
             "D10": 2, "D11": 4}
    return Layout(wb, "评价指标", typed, typed, "D12", 90.5)


def dazhou_project() -> Layout:
    """Same page, second table (项目评价): http://nyj.dazhou.gov.cn/xxgk-show-16453.html.
    A 单位名称/项目名称 title row, headers written with a blank (“一级 指标”), level cells
    holding only their points (“(20分)”), 分值 | 得分 with no 评分标准: by hand."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = "单位名称/ 项目名称"
    ws.merge_cells("B1:E1")
    _head(ws, 2, ["一级 指标", "二级 指标", "三级指标", "分值", "得分"])
    _rows(ws, 3, [
        ["(20分)", "(10分)", "必要性", 5],
        [None, None, "可行性", 5],
        [None, "(10)", "明确性", 5],
        [None, None, "合理性", 5],
        ["(10分)", "(7分)", "资金分配", 3],
        [None, None, "资金使用", 4],
        [None, "(3分)", "执行规范", 3],
        ["(特性指标70分)", "(20)", "完成数量", 5],
        [None, None, "完成质量", 5],
        [None, None, "完成时效", 5],
        [None, None, "完成成本", 5],
        [None, "(50分)", "经济效益(可选项)", 50],
    ])
    for m in ("A3:A6", "B3:B4", "B5:B6", "A7:A9", "B7:B8", "A10:A14", "B10:B13"):
        ws.merge_cells(m)
    ws["A15"] = "总分"
    ws.merge_cells("A15:C15")
    ws["D15"] = "=SUM(D3:D14)"
    F._box(ws, 3, 15, 1, 5)
    typed = {f"E{r}": v for r, v in zip(range(3, 15), [5, 5, 4, 5, 3, 4, 2, 5, 5, 4, 5, 45],
                                         strict=True)}
    return Layout(wb, "Sheet1", typed, typed, "E15", 92)


def wanglu_kaohe() -> Layout:
    """A county 部门预算支出管理 考核表: https://wanglu.net/thread/t13-461855-0.html.
    项目|考核内容|考核指标|指标说明|年度工作目标|评分标准|权数|考评得分: 年度工作目标 holds
    fractions under a % format (1 = 100 %, 0.09 = 9 %), 评分标准 “按完成比例计算得分，满分为
    止”, no 实际值 column (the department types the value on the 个性指标 sheet)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "考核表"
    ws["A1"] = "2018年度部门预算支出管理考核评分表"
    ws.merge_cells("A1:H1")
    _head(ws, 2, ["项目", "考核内容", "考核指标", "指标说明", "年度工作目标", "评分标准", "权数",
                  "考评得分"])
    _rows(ws, 3, [
        ["一般公共预算支出管理(60分)", "一般公共预算支出", "一般公共预算支出实际完成率",
         "一般公共预算支出实际完成率=本年一般公共预算支出完成数*100%/本年一般公共预算支出"
         "年初预算数", 1, "按完成比例计算得分，满分为止。", 20],
        [None, "政府采购", "政府采购计划完成率", "政府采购计划完成率=实际采购额/采购计划额",
         0.9, "按完成比例计算得分，满分为止。", 80],
    ])
    for c in ("E3", "E4"):
        ws[c].number_format = "0%"
    ws.merge_cells("A3:A4")
    ws["A5"] = "合计"
    ws["G5"] = 100
    F._box(ws, 3, 5, 1, 8)
    # 95 of 100 % over 20 points: 19; 92 of 90 % (0.9 shown as 90 %): full 80.
    return Layout(wb, "考核表", {}, {"H3": 19, "H4": 80}, "H5", 99)


# --------------------------------------------------------------------------- 项目支出 自评表


def chizhou_project() -> Layout:
    """池州市贵池区 项目支出绩效自评表（2022年度）:
    http://www.anthempetcare.com/upload_cz/download?id=502364&siteId=2. A 项目资金 block
    above the indicator table (年初预算数|全年预算数|全年执行数|分值|执行率|得分, 分值 10 for
    执行率), then 一级指标|二级指标|三级指标|年度指标值|实际完成值|分值|得分|偏差原因分析及
    改进措施 with no 评分标准; 年度指标值 as text (“≥50个”, “≤90万元”, “严格执行相关制度
    规定”); one-level texts “产出指标(50分)” merged down; blank 指标2 rows; 总分 row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "项目支出绩效自评表"
    ws["A1"] = "项目支出绩效自评表"
    ws.merge_cells("A1:H1")
    ws["A2"] = "（2022年度）"
    ws.merge_cells("A2:H2")
    ws["A3"], ws["C3"] = "项目名称", "委托业务项目"
    ws["A4"], ws["C4"] = "主管部门", "池州市贵池区棠溪镇人民政府"
    ws["A5"] = "项目资金\n（万元）"
    ws.merge_cells("A5:B7")
    for c, t in zip("CDEFGH", ["年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
                    strict=True):
        ws[f"{c}5"] = t
    ws["C6"], ws["D6"], ws["E6"], ws["F6"] = 90, 90, 89.974, 10
    ws["G6"], ws["G6"].number_format = "=E6/D6", "0.00%"
    ws["C7"] = "其中：本年财政拨款"
    ws["A8"] = "绩效指标"
    ws.merge_cells("A8:H8")
    _head(ws, 9, ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
                  "偏差原因分析及改进措施"])
    _rows(ws, 10, [
        ["产出指标(50分)", "数量指标", "基建工程委托业务项目数量", "≥50个", "50个", 8],
        [None, "质量指标", "委托业务报告合格率", "≥100%", "100%", 8],
        [None, None, "经费支出合规性", "严格执行相关制度规定", "达成预期指标", 8],
        [None, "时效指标", "提交报告及时性", "在项目计划完成时间内完成", "达成预期指标", 8],
        [None, "成本指标", "项目总成本", "≤90万元", "89.97万元", 18],
        ["效益指标(30分)", "社会效益指标", "对维护基建市场公平的影响程度", "效果明显",
         "达成预期指标", 15],
        [None, "可持续影响指标", "对推动基建项目“四项制度”健全和落实的持续性影响", "效果明显",
         "达成预期指标", 15],
        [None, "生态效益指标", "指标2：", None, None, None],
        ["满意度指标(10分)", "服务对象满意度指标", "公众满意度", "≥90%", "95%", 10],
    ])
    for m in ("A10:A14", "B11:B12", "A15:A17"):
        ws.merge_cells(m)
    ws["A19"] = "总分"
    ws.merge_cells("A19:E19")
    ws["F19"] = "=SUM(F10:F18)+F6"
    F._box(ws, 10, 19, 1, 8)
    typed = {"G10": 8, "G11": 8, "G12": 8, "G13": 7, "G14": 18, "G15": 15, "G16": 12, "G18": 10}
    # 执行率 89.974/90 = 99.971 %: 10 × 0.99971 = 9.997; total 86 + 9.997.
    return Layout(wb, "项目支出绩效自评表", typed, {**typed, "H6": 9.997}, "G19", 95.997)


def qingshen_project() -> Layout:
    """青神县发展和改革局 部门预算项目支出绩效自评表（2023年度）:
    https://www.scqs.gov.cn/info/13206/211004.htm (same form: 大英县司法局,
    https://dyxrmt.cn/article-157795-21.html). A 预算执行情况(10分) block (年初预算|调整后预算
    数|预算执行数|预算执行率|权重|得分|原因) above 一级指标|二级指标|三级指标|指标性质|指标值|
    度量单位|完成值|权重|得分|未完成原因分析, with 指标性质 “=”/“≤”, the unit in its own
    column, 完成值 as text (“完成”), 权重 instead of 分值, a 合计 row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "自评表"
    ws["A1"] = "部门预算项目支出绩效自评表(2023年度)"
    ws.merge_cells("A1:K1")
    ws["A2"], ws["C2"] = "项目名称", "51000021R000000019951-工资性支出"
    ws["A3"], ws["C3"] = "主管部门", "青神县发展和改革局本级"
    ws["A4"] = "预算执行情况(10分)"
    ws.merge_cells("A4:A6")
    for c, t in zip("BCDEFGHI", ["年度预算数(万元)", "年初预算", "调整后预算数", "预算执行数",
                                 "预算执行率", "权重", "得分", "原因"], strict=True):
        ws[f"{c}4"] = t
    ws["B5"], ws["C5"], ws["D5"], ws["E5"], ws["G5"] = "总额", 238.93, 251.89, 239.3, 10
    ws["F5"], ws["F5"].number_format = "=E5/D5", "0.00%"
    ws["B6"], ws["C6"], ws["D6"], ws["E6"], ws["G6"] = "其中：财政资金", 238.93, 251.89, 239.3, "/"
    ws["A7"] = "绩效指标(90分)"
    ws.merge_cells("A7:A10")
    _head(ws, 7, [None, "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位",
                  "完成值", "权重", "得分", "未完成原因分析"])
    _rows(ws, 8, [
        [None, "产出指标", "数量指标", "发放(缴纳)覆盖率", "=", 100, "%", 100, 60],
        [None, "效益指标", "社会效益指标", "足额保障率(参保率)", "=", 100, "%", "完成", 20],
        [None, None, "经济成本指标", "成本控制数", "≤", 260, "万元", 239.3, 10],
    ])
    ws.merge_cells("B9:B10")
    ws["B11"] = "合计"
    ws.merge_cells("B11:H11")
    ws["I11"] = 100
    F._box(ws, 8, 11, 2, 11)
    typed = {"J8": 60, "J9": 18, "J10": 10}
    # 预算执行率 239.3/251.89 = 95.002 %: 10 × 0.95002 = 9.500; total 88 + 9.500.
    return Layout(wb, "自评表", typed, {**typed, "H5": 9.5}, "J11", 97.5)


def deyang_project() -> Layout:
    """德阳 部门预算项目支出绩效自评表 as published in text: https://dyrmt.com/article-132779-22.html.
    指标值 written in one cell with its comparator and unit (“=100%”, “≤10次”, “≤5%”),
    权重 22.5 (not whole), 完成值 as text with units, a 评分标准 column added by the county
    (“达到指标值得满分，未达到按比例得分” family) and a 合计 row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "绩效自评"
    _head(ws, 1, ["一级指标", "二级指标", "三级指标", "指标值", "完成值", "评分标准", "权重",
                  "得分", "未完成原因分析"])
    _rows(ws, 2, [
        ["产出指标", "数量指标", "足额保障率", "=100%", "100%",
         "完成目标得满分，未完成按比例得分", 22.5],
        [None, None, "科目调整次数", "≤10次", "12次",
         "科目调整次数≤10次得满分，每超过1次扣2分，扣完为止", 22.5],
        [None, "时效指标", "按时发放率", "=100%", "95%", "完成目标得满分，未完成按比例得分", 22.5],
        ["效益指标", "经济效益指标", "结余率(计算方法为：结余数/预算数)", "≤5%", "3%",
         "结余率≤5%得满分，每超过1个百分点扣2分，扣完为止", 22.5],
        ["预算执行", "资金管理", "项目资金到位率", "=100%", "100%",
         "完成目标得满分，未完成按比例得分", 10],
    ])
    ws.merge_cells("A2:A4")
    ws.merge_cells("B2:B3")
    ws["A7"] = "合计"
    ws["G7"] = 100
    F._box(ws, 2, 7, 1, 9)
    # 22.5 × 1 = 22.5; 12 次: 2 over → 22.5 − 4 = 18.5; 95/100 × 22.5 = 21.375;
    # 3 % ≤ 5 % → 22.5.
    # 到位率 100 % → 10.
    return Layout(wb, "绩效自评", {}, {"H2": 22.5, "H3": 18.5, "H4": 21.375, "H5": 22.5,
                                   "H6": 10}, "H7", 94.875)


def doczj_project() -> Layout:
    """项目支出绩效自评表 with the 财预〔2020〕10号 notes below it:
    http://biz.doczj.com/doc/174893555.html. A two-row header (年度绩效指标 over 一级/二级/
    三级指标 | 年度指标值（A） | 全年实际值（B）; 分值, 得分, 未完成原因分析 merged down), 年度
    指标值 as text (“≥95%”, “≤30天”, “=100%”), 全年实际值 under a real % format or as text
    with units (“28天”), a 满意度指标 section title row merged across the table, notes
    (“注：…”) under a 总分 row. No 评分标准 column: the note's rule (全年实际值(B) ÷ 年度指标
    值(A) × 分值, A/B for a “≤” indicator) scores each row whose 指标值 is a comparator and a
    number."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = "项目支出绩效自评表"
    ws.merge_cells("A1:H1")
    ws["A2"] = "年度绩效指标"
    ws.merge_cells("A2:E2")
    for c, t in (("F", "分值"), ("G", "得分"), ("H", "未完成原因分析")):
        ws[f"{c}2"] = t
        ws.merge_cells(f"{c}2:{c}3")
    _head(ws, 3, ["一级指标", "二级指标", "三级指标", "年度指标值（A）", "全年实际值（B）"])
    F._style_header(ws, 2, 1, 8)
    _rows(ws, 4, [
        ["产出指标", "数量指标", "培训覆盖率", "≥95%", 0.98, 30],
        [None, "时效指标", "资金拨付时限", "≤30天", "28天", 20],
        [None, "质量指标", "验收合格率", "=100%", 0.96, 20],
        ["满意度指标（10分）"],
        ["满意度指标", "服务对象满意度指标", "服务对象满意度", "≥90%", 0.93, 30],
    ])
    ws["E4"].number_format = ws["E6"].number_format = ws["E8"].number_format = "0%"
    ws.merge_cells("A4:A6")
    ws.merge_cells("A7:H7")
    ws["A9"] = "总分"
    ws.merge_cells("A9:E9")
    ws["F9"] = "=SUM(F4:F8)"
    ws["A10"] = ("注：定量指标若为正向指标（即指标值为≥*），则得分计算方法应用全年实际值（B）/"
                 "年度指标值（A）*该指标分值。")
    ws.merge_cells("A10:H10")
    F._box(ws, 4, 9, 1, 8)
    # 98 ≥ 95: 30; 28 天 ≤ 30 天: 20; 96/100 × 20 = 19.2; 93 ≥ 90: 30.
    return Layout(wb, "Sheet1", {}, {"G4": 30, "G5": 20, "G6": 19.2, "G8": 30}, "G9", 99.2)


LAYOUTS = {f.__name__: f for f in (doczj_project, yueyang_audit, dazhou_names, dazhou_project, wanglu_kaohe,
                                   chizhou_project, qingshen_project, deyang_project)}


def run(layout: Layout, src: Path, tmp_path: Path, custom: dict | None = None):
    report = adopt(src, tmp_path / "adopted.xlsx")
    assert not report.errors, [str(p) for p in report.errors]
    wb = load_workbook(report.output)
    set_named(wb, **FULL)
    ws = wb[layout.sheet]
    for cell, v in layout.entries.items():
        ws[cell] = v
    if custom:
        custom(wb, report)
    wb.save(tmp_path / "filled.xlsx")
    result = engine.evaluate(tmp_path / "filled.xlsx")
    out = tmp_path / "scored.xlsx"
    write_scored(engine.open_workbook(tmp_path / "filled.xlsx"), result, out,
                 source=tmp_path / "filled.xlsx")
    return report, result, load_workbook(out)[layout.sheet]


def _custom_values(values: dict[str, tuple]):
    """Fill 实际值 of 个性指标 rows (by 三级指标 name) on the 个性指标 sheet."""
    from helpers import table_cells

    def fill(wb, report):
        sheet, cols, r0, r1 = table_cells(wb, "tbl_custom")
        ws = wb[sheet]
        for r in range(r0 + 1, r1 + 1):
            name = ws[f"{cols['三级指标']}{r}"].value
            if isinstance(name, str) and name.startswith("="):
                ref = name[1:].split("!")
                name = wb[ref[0].strip("'")][ref[1].replace("$", "")].value
            if name in values:
                ws[f"{cols['实际值']}{r}"] = values[name]
    return fill


CUSTOM = {"wanglu_kaohe": {"一般公共预算支出实际完成率": 95, "政府采购计划完成率": 92}}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_real_layout_adopt_fill_score(name, tmp_path):
    layout = LAYOUTS[name]()
    src = tmp_path / "county.xlsx"
    layout.wb.save(src)
    fill = _custom_values(CUSTOM[name]) if name in CUSTOM else None
    report, result, ws = run(layout, src, tmp_path, fill)
    assert not result.errors, [str(p) for p in result.errors]
    for cell, expected in layout.scores.items():
        assert ws[cell].value == pytest.approx(expected, abs=0.001), (cell, ws[cell].value)
    assert ws[layout.total].value == pytest.approx(layout.total_expected, abs=0.006)
    assert float(result.total) == pytest.approx(layout.total_expected, abs=0.006)


def test_note_rule_reads_the_target_column(tmp_path):
    """doczj_project: each row is read from the note (info at its 年度指标值 cell quoting
    the note), none is left to hand scoring; without the note they all are."""
    layout = doczj_project()
    src = tmp_path / "county.xlsx"
    layout.wb.save(src)
    report = adopt(src, tmp_path / "adopted.xlsx")
    notes = [p for p in report.problems if p.code == "standard-from-note"]
    assert sorted(p.location.cell for p in notes) == ["D4", "D5", "D6", "D8"]
    assert all("B）/年度指标值" in p.message or "B)/年度指标值" in p.message for p in notes)
    assert not [p for p in report.problems if p.code == "standard-missing"]
    rules = {r.name: r.rule_text for r in report.rows}
    assert rules["资金拨付时限"] == "按比例(目标=30,方向=越低越好)"
    layout.wb["Sheet1"]["A10"] = "注：定性指标按三档评分。"
    layout.wb.save(src)
    report = adopt(src, tmp_path / "adopted2.xlsx")
    assert not [p for p in report.problems if p.code == "standard-from-note"]
    assert sorted(p.location.cell for p in report.problems if p.code == "standard-missing") \
        == ["G4", "G5", "G6", "G8"]


@pytest.mark.parametrize("name", ["chizhou_project"])
def test_real_layout_hand_scored_rows_warn_at_their_score_cells(name, tmp_path):
    """No 评分标准 column: one standard-missing warning per hand-scored row, at its 得分 cell;
    the empty “指标2：” row is no indicator."""
    layout = LAYOUTS[name]()
    src = tmp_path / "county.xlsx"
    layout.wb.save(src)
    report = adopt(src, tmp_path / "adopted.xlsx")
    missing = sorted(p.location.cell for p in report.problems if p.code == "standard-missing")
    hand = sorted(c for c in layout.entries)
    assert missing == hand
    assert all(p.location.sheet == layout.sheet for p in report.problems
               if p.code == "standard-missing")
    assert not any(r.row.row == 17 for r in report.rows if name == "chizhou_project")


def test_budget_block_is_scored_and_shown(tmp_path):
    """The 项目资金 block's 执行率 row: one info at its 分值 cell, a 个性指标 row reading the
    county's 执行率 cell, and its reading on the 评分标准解读 sheet."""
    layout = chizhou_project()
    src = tmp_path / "county.xlsx"
    layout.wb.save(src)
    report = adopt(src, tmp_path / "adopted.xlsx")
    info = [p for p in report.problems if p.code == "budget-block"]
    assert [(p.severity, p.location.cell) for p in info] == [("info", "F6")]
    assert "H6" in info[0].message and "G6" in info[0].message
    budget = report.rows[0]
    assert (budget.name, budget.weight, budget.entry) == ("预算执行率", 10, ["G6"])
    wb = load_workbook(report.output)
    texts = [c.value for row in wb["评分标准解读"].iter_rows() for c in row
             if isinstance(c.value, str)]
    assert any("预算执行栏" in t and "执行率" in t for t in texts)


def _soffice_xls(src: Path, outdir: Path) -> Path:
    outdir.mkdir(exist_ok=True)
    subprocess.run([find_soffice(), "--headless", "--norestore",
                    f"-env:UserInstallation={(outdir / 'profile').as_uri()}",
                    "--convert-to", "xls:MS Excel 97", "--outdir", str(outdir), str(src)],
                   check=True, capture_output=True, timeout=180)
    return outdir / f"{src.stem}.xls"


@pytest.mark.skipif(find_soffice() is None, reason="LibreOffice (soffice) not installed")
@pytest.mark.parametrize("name", ["chizhou_project", "yueyang_audit"])
def test_real_layout_as_xls_through_libreoffice(name, tmp_path):
    """The county sends .xls: saved as .xls by LibreOffice, adopted (converted), filled,
    scored; same 得分 cells and total as the .xlsx."""
    layout = LAYOUTS[name]()
    xlsx = tmp_path / "county.xlsx"
    layout.wb.save(xlsx)
    xls = _soffice_xls(xlsx, tmp_path / "xls")
    before = xls.read_bytes()
    report, result, ws = run(layout, xls, tmp_path)
    assert xls.read_bytes() == before
    assert not result.errors, [str(p) for p in result.errors]
    for cell, expected in layout.scores.items():
        assert ws[cell].value == pytest.approx(expected, abs=0.001), (cell, ws[cell].value)
    assert ws[layout.total].value == pytest.approx(layout.total_expected, abs=0.006)


def test_target_and_value_texts_as_counties_write_them(tmp_path):
    """年度指标值 / 实际完成值 as counties write them in these forms: “按时完成”, “≤5%” with a
    % cell, “100%” and “98%” as text, counts and days with their unit (“12个”, “7天”)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "自评表"
    _head(ws, 1, ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "评分标准",
                  "分值", "得分", "偏差原因分析及改进措施"])
    _rows(ws, 2, [
        ["产出指标", "时效指标", "项目按时完成情况", "按时完成", "按时完成",
         "按时完成得满分，否则不得分", 20],
        [None, "数量指标", "结余率", "≤5%", 0.03, "结余率≤5%得满分，每超过1个百分点扣2分，扣完为止",
         20],
        [None, None, "验收合格率", "100%", "98%", "完成目标得满分，未完成按比例得分", 20],
        [None, None, "新建站点数", "12个", "10个", "完成目标得满分，未完成按比例得分", 24],
        [None, "时效指标", "平均办理时限", "≤5天", "7天", "≤5天得满分，每超过1天扣1分，扣完为止", 16],
    ])
    ws["E3"].number_format = "0%"
    ws["A8"], ws["G8"] = "合计", 100
    src = tmp_path / "county.xlsx"
    wb.save(src)
    # 按时完成: the tier; 3 % ≤ 5 %: 20; 98/100 × 20 = 19.6; 10/12 × 24 = 20; 7 天 is 2 over
    # 5: 16 − 2 = 14.
    layout = Layout(wb, "自评表", {}, {"H2": 20, "H3": 20, "H4": 19.6, "H5": 20, "H6": 14},
                    "H8", 93.6)
    report, result, out = run(layout, src, tmp_path)
    assert not result.errors, [str(p) for p in result.errors]
    for cell, expected in layout.scores.items():
        assert out[cell].value == pytest.approx(expected), cell
    assert out["H8"].value == pytest.approx(93.6)
    assert {p.location.cell for p in report.problems if p.code == "target-from-text"} == {
        "D4", "D5"}


def test_note_rule_takes_the_direction_from_the_comparator_column(tmp_path):
    """qingshen_project with the B/A note under it: 指标性质 “≤” in its own column makes
    成本控制数 a 反向 indicator (260 万元 planned, 239.3 spent: full marks, not 239.3/260)."""
    layout = qingshen_project()
    ws = layout.wb["自评表"]
    ws["B13"] = ("注：定量指标完成值达到指标值，记满分；未达到指标值，正向指标按 B/A、反向指标按 "
                 "A/B×该指标分值记分（A为指标值，B为完成值）。")
    ws["H9"] = 100  # 完成值 as a number now that the row is computed
    src = tmp_path / "county.xlsx"
    layout.wb.save(src)
    layout.entries = {}
    layout.scores = {"J8": 60, "J9": 20, "J10": 10, "H5": 9.5}
    layout.total_expected = 99.5
    report, result, out = run(layout, src, tmp_path)
    assert not result.errors, [str(p) for p in result.errors]
    rules = {r.name: r.rule_text for r in report.rows}
    assert rules["成本控制数"] == "按比例(目标=260,方向=越低越好)"
    for cell, expected in layout.scores.items():
        assert out[cell].value == pytest.approx(expected, abs=0.001), cell
    assert out["J11"].value == pytest.approx(99.5, abs=0.006)
