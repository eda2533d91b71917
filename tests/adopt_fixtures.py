"""County-shaped 部门整体支出绩效自评表 workbooks for the ``adopt`` tests.

Each builder returns a :class:`County`: the openpyxl workbook as the county finance bureau
might send it, plus what a person reading it sees (sheet, header rows, which column is
which, the row of each indicator, the total and grade cells), so a test can compare what
``adopt`` found with the truth.

All good shapes carry the same indicators (under varying names and phrasings), so one set
of inputs gives the same expected scores whatever the layout.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="D9D9D9")

STAFF = "财政供养人员控制率"
THREE = "“三公经费”变动率"
COMPLETION = "预算完成率"
CONTROL = "预算控制率"
PUBLIC = "公用经费控制率"
PROCURE = "政府采购执行率"
SYSTEMS = "管理制度健全性"
COMPLIANCE = "资金使用合规性"
ASSETS = "固定资产利用率"
TASKS = "实际完成率"
KEY_TASKS = "重点工作办结率"
SOCIAL = "社会效益"
SATISFACTION = "服务对象满意度"
TRAINING = "中小企业培训人次"

# (key, 一级指标, 二级指标, 分值, 评分标准); the key is the name in the basic shape.
ROWS = [
    (STAFF, "投入", "预算配置", 8, "以100%为标准，≤100%计8分；每超过一个百分点扣0.5分，扣完为止"),
    (THREE, "投入", "预算配置", 8, "“三公经费”变动率≤0得满分；每增加1个百分点扣0.8分，扣完为止"),
    (COMPLETION, "过程", "预算执行", 8, "100%计满分，每低于5%扣2分，扣完为止"),
    (CONTROL, "过程", "预算执行", 8, "=0计8分；0-10%(含)6分；10-20%(含)4分；20-30%(含)2分；>30%不得分"),
    (PUBLIC, "过程", "预算执行", 6, "≤100%计满分；超过部分每1个百分点扣0.5分"),
    (PROCURE, "过程", "预算执行", 6, "达到100%得满分，未达到的按完成比例得分，最高不超过本项分值"),
    (SYSTEMS, "过程", "预算管理", 6, "制度健全得6分，基本健全得3分，不健全不得分"),
    (COMPLIANCE, "过程", "预算管理", 6, "根据实际情况酌情扣分"),
    (ASSETS, "过程", "资产管理", 6, "≥90%得满分，每低于1个百分点扣0.5分，扣完为止"),
    (TASKS, "产出", "职责履行", 10, "完成率达到100%得满分，每降低5个百分点扣1分，不足5个百分点不扣分"),
    (KEY_TASKS, "产出", "职责履行", 10,
     "办结率在90%以上的得10分，80%-90%的得8分，70%-80%的得6分，70%以下的不得分"),
    (SOCIAL, "效果", "履职效益", 8, "好（7-8分）、较好（5-7分）、一般（0-5分）"),
    (SATISFACTION, "效果", "满意度", 5, "满意度≥90%计5分，80%≤满意度<90%计3分，满意度<80%计1分"),
    (TRAINING, "效果", "个性指标", 5, "完成目标得满分，未完成按比例得分"),
]

# What the department enters in the county's own table (by indicator key): the column
# role ("actual" or "score") and the value. Everything else comes from the §4.3 inputs.
ENTRIES = {
    SYSTEMS: ("actual", "基本健全"),
    COMPLIANCE: ("score", 5),
    SOCIAL: ("actual", "好"),
    SATISFACTION: ("actual", 92),
    TRAINING: ("actual", 450),
}
TRAINING_TARGET = 500

# Expected scores with helpers.FULL as inputs and ENTRIES as entries.
EXPECTED = {
    STAFF: 8, THREE: 8, COMPLETION: 8, CONTROL: 0, PUBLIC: 6, PROCURE: 5.76, SYSTEMS: 3,
    COMPLIANCE: 5, ASSETS: 6, TASKS: 10, KEY_TASKS: 10, SOCIAL: 8, SATISFACTION: 5,
    TRAINING: 4.5,
}
EXPECTED_TOTAL = 87.26
EXPECTED_CODES = {
    STAFF: "staff_control_rate", THREE: "three_public_change_rate",
    COMPLETION: "budget_completion_rate", CONTROL: "budget_adjustment_rate",
    PUBLIC: "public_funds_control_rate", PROCURE: "procurement_execution_rate",
    SYSTEMS: "budget_system_soundness", COMPLIANCE: "fund_compliance",
    ASSETS: "asset_utilization_rate", TASKS: "task_completion_rate",
    KEY_TASKS: "key_task_completion_rate", SOCIAL: "social_benefit",
    SATISFACTION: "satisfaction", TRAINING: None,  # a user indicator (个性指标)
}


@dataclass
class County:
    """A county workbook and the truth about its indicator table.

    Attributes:
        columns: role -> column letter ("name", "weight", "standard", "actual", "score",
            "reason", "level1", "level2", "target", "explanation").
        rows: indicator key -> sheet row.
        total / grade: the county's own 总分 and 等级 cells, or None.
    """

    wb: Workbook
    sheet: str
    header_rows: tuple[int, int]
    columns: dict[str, str]
    rows: dict[str, int] = field(default_factory=dict)
    total: str | None = None
    grade: str | None = None
    # What the department types (key -> (role, value)) and what scoring must give.
    entries: dict = field(default_factory=lambda: dict(ENTRIES))
    expected: dict = field(default_factory=lambda: dict(EXPECTED))
    total_expected: float = EXPECTED_TOTAL

    def cell(self, key: str, role: str) -> str:
        return f"{self.columns[role]}{self.rows[key]}"

    def save(self, path: Path) -> Path:
        self.wb.save(path)
        return path

    def written_cells(self) -> set[str]:
        """Cells ``score`` may change in the county sheet: 实际值, 得分, 扣分原因, total, grade."""
        out = {f"{self.columns[r]}{row}" for row in self.rows.values()
               for r in ("actual", "score", "reason") if r in self.columns}
        return out | {c for c in (self.total, self.grade) if c}


def _text(cell, text) -> None:
    """Write text as text: “=0计8分…” as a county types it is a string, not a formula."""
    cell.value = text
    if isinstance(text, str) and text.startswith("="):
        cell.data_type = "s"


def _style_header(ws, row: int, c0: int, c1: int) -> None:
    for c in range(c0, c1 + 1):
        cell = ws.cell(row, c)
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _box(ws, r0: int, r1: int, c0: int, c1: int) -> None:
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            ws.cell(r, c).border = BOX
            ws.cell(r, c).alignment = Alignment(vertical="center", wrap_text=True)


def _merge_levels(ws, col: int, first: int, values: list[str]) -> None:
    """Write level texts down ``col`` merging runs of equal values (like county tables)."""
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            ws.cell(first + start, col, values[start])
            if i - 1 > start:
                ws.merge_cells(start_row=first + start, start_column=col,
                               end_row=first + i - 1, end_column=col)
            start = i


def _fill_down_once(ws, col: int, first: int, values: list[str]) -> None:
    """Write a level text only where it changes (blank cells below, no merge)."""
    prev = None
    for i, v in enumerate(values):
        if v != prev:
            ws.cell(first + i, col, v)
        prev = v


def _print_setup(ws, title_rows: str) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9
    ws.print_title_rows = title_rows
    ws.page_margins.left = 0.4


# --------------------------------------------------------------------------- good shapes


def basic(names: dict[str, str] | None = None) -> County:
    """One sheet 自评表: title and 单位名称 rows, a one-row header, 一级/二级 merged down,
    a 合计 row with a SUM formula, an 评价等级 cell and a note below."""
    names = names or {}
    wb = Workbook()
    ws = wb.active
    ws.title = "自评表"
    ws["A1"] = "XX县2021年度部门整体支出绩效自评表"
    ws.merge_cells("A1:H1")
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws["A2"] = "单位名称："
    ws.merge_cells("B2:D2")
    ws["F2"] = "金额单位：万元"
    headers = ["一级指标", "二级指标", "三级指标", "分值", "评分标准", "实际值", "得分", "扣分原因"]
    for i, h in enumerate(headers, start=1):
        ws.cell(3, i, h)
    _style_header(ws, 3, 1, 8)
    first = 4
    rows = {}
    for i, (key, _l1, _l2, w, std) in enumerate(ROWS):
        r = first + i
        ws.cell(r, 3, names.get(key, key))
        ws.cell(r, 4, w)
        _text(ws.cell(r, 5), std)
        ws.cell(r, 7).number_format = "0.00"
        rows[key] = r
    last = first + len(ROWS) - 1
    _merge_levels(ws, 1, first, [r[1] for r in ROWS])
    _merge_levels(ws, 2, first, [r[2] for r in ROWS])
    _box(ws, first, last, 1, 8)
    total_row = last + 1
    ws.cell(total_row, 1, "合计")
    ws.merge_cells(start_row=total_row, start_column=1, end_row=total_row, end_column=3)
    ws.cell(total_row, 4, f"=SUM(D{first}:D{last})")
    ws.cell(total_row, 7).number_format = "0.00"
    _box(ws, total_row, total_row, 1, 8)
    ws.cell(total_row + 1, 6, "评价等级")
    ws.cell(total_row + 2, 1, "注：1. 定性指标由评价人根据佐证材料打分；2. 金额单位为万元。")
    ws.merge_cells(start_row=total_row + 2, start_column=1, end_row=total_row + 2, end_column=8)
    ws.cell(total_row + 3, 1, "填表人：")
    ws.cell(total_row + 3, 5, "联系电话：")
    for letter, width in zip("ABCDEFGH", [8, 10, 18, 6, 46, 10, 8, 24], strict=True):
        ws.column_dimensions[letter].width = width
    ws.row_dimensions[3].height = 28
    ws.freeze_panes = "A4"
    ws["E3"].comment = Comment("评分标准以县财政局通知为准", "县财政局")
    dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="100")
    dv.add(f"G{first}:G{last}")
    ws.add_data_validation(dv)
    _print_setup(ws, "3:3")
    ws.print_area = f"A1:H{total_row + 3}"
    return County(wb, "自评表", (3, 3), dict(zip(
        ["level1", "level2", "name", "weight", "standard", "actual", "score", "reason"],
        "ABCDEFGH", strict=True)), rows, total=f"G{total_row}", grade=f"G{total_row + 1}")


def two_row_header() -> County:
    """A 填报说明 sheet first; the table on 附件2 under a two-row header: 绩效指标 over
    一级/二级/三级, 自评情况 over 完成值/自评得分, the others merged down both rows."""
    wb = Workbook()
    guide = wb.active
    guide.title = "填报说明"
    guide["A1"] = "填报说明"
    guide["A2"] = "一、请各部门按附件2填报部门整体支出绩效自评表，分值和评分标准不得修改。"
    guide["A3"] = "二、评分标准中的“预算完成率”按调整后预算计算。"
    guide.column_dimensions["A"].width = 90
    ws = wb.create_sheet("附件2")
    ws["A1"] = "附件2"
    ws["A2"] = "2021年度部门整体支出绩效自评表"
    ws.merge_cells("A2:H2")
    ws["A3"] = "填报单位（盖章）：曲沃县中小企业服务中心"
    ws.merge_cells("A3:D3")
    ws["A4"] = "绩效指标"
    ws.merge_cells("A4:C4")
    ws["A5"], ws["B5"], ws["C5"] = "一级指标", "二级指标", "三级指标"
    for col, text in (("D", "分值\n（分）"), ("E", "评分标准"), ("H", "扣分原因")):
        ws[f"{col}4"] = text
        ws.merge_cells(f"{col}4:{col}5")
    ws["F4"] = "自评情况"
    ws.merge_cells("F4:G4")
    ws["F5"], ws["G5"] = "完成值", "自评得分"
    _style_header(ws, 4, 1, 8)
    _style_header(ws, 5, 1, 8)
    first = 6
    rows = {}
    names = {STAFF: "在职人员控制率", COMPLETION: "预算执行率"}
    for i, (key, _l1, _l2, w, std) in enumerate(ROWS):
        r = first + i
        ws.cell(r, 3, names.get(key, key))
        ws.cell(r, 4, w)
        _text(ws.cell(r, 5), std)
        rows[key] = r
    last = first + len(ROWS) - 1
    _merge_levels(ws, 1, first, [r[1] for r in ROWS])
    _merge_levels(ws, 2, first, [r[2] for r in ROWS])
    _box(ws, first, last, 1, 8)
    ws.cell(last + 1, 1, "总分")
    ws.merge_cells(start_row=last + 1, start_column=1, end_row=last + 1, end_column=3)
    ws.cell(last + 1, 4, 100)
    _box(ws, last + 1, last + 1, 1, 8)
    ws.cell(last + 3, 1, "说明：本表由部门自评后报县财政局。")
    for letter, width in zip("ABCDEFGH", [8, 10, 20, 7, 50, 10, 9, 26], strict=True):
        ws.column_dimensions[letter].width = width
    _print_setup(ws, "4:5")
    return County(wb, "附件2", (4, 5), dict(zip(
        ["level1", "level2", "name", "weight", "standard", "actual", "score", "reason"],
        "ABCDEFGH", strict=True)), rows, total=f"G{last + 1}")


def reordered() -> County:
    """Columns in another order with extra columns and wording variants (权重, 评价标准,
    实际完成值, 评分); the levels sit at the right, written once per group (no merge); no
    合计 row, but 自评总分 and 自评等级 cells below the table."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = "部门整体支出绩效评价指标体系及评分表"
    headers = ["序号", "指标名称", "指标解释", "计算公式", "权重", "评价标准", "评价要点",
               "实际完成值", "评分", "扣分原因", "备注", "一级指标", "二级指标"]
    for i, h in enumerate(headers, start=1):
        ws.cell(2, i, h)
    _style_header(ws, 2, 1, len(headers))
    first = 3
    rows = {}
    names = {THREE: "三公经费变动率", CONTROL: "预算调整率"}
    for i, (key, _l1, _l2, w, std) in enumerate(ROWS):
        r = first + i
        ws.cell(r, 1, i + 1)
        ws.cell(r, 2, names.get(key, key))
        ws.cell(r, 3, f"{key}的指标解释")
        ws.cell(r, 4, "=\"见指标解释\"")
        ws.cell(r, 5, w)
        _text(ws.cell(r, 6), std)
        ws.cell(r, 7, "查阅资料")
        rows[key] = r
    last = first + len(ROWS) - 1
    _fill_down_once(ws, 12, first, [r[1] for r in ROWS])
    _fill_down_once(ws, 13, first, [r[2] for r in ROWS])
    _box(ws, first, last, 1, len(headers))
    ws.cell(last + 2, 2, "自评总分")
    ws.cell(last + 3, 2, "自评等级")
    for i, width in enumerate([5, 18, 30, 14, 6, 44, 12, 10, 7, 20, 8, 8, 10], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    return County(wb, "Sheet1", (2, 2), {
        "name": "B", "explanation": "C", "weight": "E", "standard": "F", "actual": "H",
        "score": "I", "reason": "J", "level1": "L", "level2": "M"}, rows,
        total=f"C{last + 2}", grade=f"C{last + 3}")


def two_tables() -> County:
    """One sheet with a 评分汇总 table (指标名称/分值/得分) above the real indicator table;
    the real one must be chosen by its headers."""
    wb = Workbook()
    ws = wb.active
    ws.title = "部门整体自评"
    ws["A1"] = "部门整体支出绩效自评"
    ws["A2"] = "一、评分汇总"
    for i, h in enumerate(["指标名称", "分值", "得分"], start=1):
        ws.cell(3, i, h)
    _style_header(ws, 3, 1, 3)
    ws["A4"], ws["B4"] = "共性指标", 95
    ws["A5"], ws["B5"] = "个性指标", 5
    ws["A7"] = "二、指标评分表"
    top = 8
    headers = ["一级指标", "二级指标", "三级指标", "分值", "评分标准", "实际值", "得分", "扣分原因"]
    for i, h in enumerate(headers, start=1):
        ws.cell(top, i, h)
    _style_header(ws, top, 1, 8)
    first = top + 1
    rows = {}
    for i, (key, _l1, _l2, w, std) in enumerate(ROWS):
        r = first + i
        ws.cell(r, 3, key)
        ws.cell(r, 4, w)
        _text(ws.cell(r, 5), std)
        rows[key] = r
    last = first + len(ROWS) - 1
    _merge_levels(ws, 1, first, [r[1] for r in ROWS])
    _merge_levels(ws, 2, first, [r[2] for r in ROWS])
    ws.cell(last + 1, 1, "合  计")
    ws.cell(last + 1, 4, 100)
    return County(wb, "部门整体自评", (top, top), dict(zip(
        ["level1", "level2", "name", "weight", "standard", "actual", "score", "reason"],
        "ABCDEFGH", strict=True)), rows, total=f"G{last + 1}")


def with_targets() -> County:
    """财预〔2020〕10号 style: 年度指标值 and 实际完成值 columns, 偏差原因 column, title rows
    with the unit and year, 总分 and 自评等级 rows, notes below."""
    wb = Workbook()
    ws = wb.active
    ws.title = "绩效自评表"
    ws["A1"] = "部门整体支出绩效自评表"
    ws.merge_cells("A1:I1")
    ws["A2"] = "（2021年度）"
    ws["A3"] = "部门（单位）名称"
    ws["C3"] = "曲沃县中小企业服务中心"
    ws.merge_cells("C3:F3")
    headers = ["一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值", "评分标准",
               "得分", "偏差原因分析及改进措施"]
    for i, h in enumerate(headers, start=1):
        ws.cell(4, i, h)
    _style_header(ws, 4, 1, 9)
    first = 5
    rows = {}
    for i, (key, _l1, _l2, w, std) in enumerate(ROWS):
        r = first + i
        ws.cell(r, 3, key)
        ws.cell(r, 4, w)
        _text(ws.cell(r, 7), std)
        rows[key] = r
    ws.cell(rows[TRAINING], 5, TRAINING_TARGET)
    ws.cell(rows[STAFF], 5, "≤100%")
    last = first + len(ROWS) - 1
    _merge_levels(ws, 1, first, [r[1] for r in ROWS])
    _merge_levels(ws, 2, first, [r[2] for r in ROWS])
    _box(ws, first, last, 1, 9)
    ws.cell(last + 1, 1, "总分")
    ws.merge_cells(start_row=last + 1, start_column=1, end_row=last + 1, end_column=3)
    ws.cell(last + 1, 4, 100)
    ws.cell(last + 2, 1, "自评等级")
    ws.merge_cells(start_row=last + 2, start_column=1, end_row=last + 2, end_column=3)
    ws.merge_cells(start_row=last + 2, start_column=4, end_row=last + 2, end_column=9)
    ws.cell(last + 4, 1, "注：实际完成值为百分比的，直接填写百分数。")
    return County(wb, "绩效自评表", (4, 4), {
        "level1": "A", "level2": "B", "name": "C", "weight": "D", "target": "E",
        "actual": "F", "standard": "G", "score": "H", "reason": "I"}, rows,
        total=f"H{last + 1}", grade=f"D{last + 2}")


GOOD_SHAPES = {
    "basic": basic,
    "two_row_header": two_row_header,
    "reordered": reordered,
    "two_tables": two_tables,
    "with_targets": with_targets,
}


# --------------------------------------------------------------------------- bad shapes


def no_table() -> Workbook:
    """A notice with text only: no indicator table anywhere."""
    wb = Workbook()
    ws = wb.active
    ws.title = "通知"
    ws["A1"] = "关于开展2021年度部门整体支出绩效自评工作的通知"
    ws["A3"] = "各部门：请于3月底前报送自评表和自评报告。"
    ws["A5"] = "项目"
    ws["B5"] = "金额"
    return wb


def two_equal_tables() -> County:
    """The same table on two sheets: equally plausible, so adopt must refuse."""
    c = basic()
    copy = c.wb.copy_worksheet(c.wb["自评表"])
    copy.title = "自评表 (2)"
    return c


def text_weights() -> County:
    """分值 cells holding text ("8分", "另定")."""
    c = basic()
    ws = c.wb[c.sheet]
    ws[c.cell(STAFF, "weight")] = "8分"
    ws[c.cell(THREE, "weight")] = "另定"
    return c


def contradicting_standard() -> County:
    """A 评分标准 whose full marks (6) contradict its 分值 (8)."""
    c = basic()
    c.wb[c.sheet][c.cell(STAFF, "standard")] = "≤100%计6分；每超过一个百分点扣0.5分"
    return c


def protected(unlock_entries: bool = False) -> County:
    """The county sheet protected (as counties often send it); optionally with the
    实际值/得分/扣分原因 cells unlocked for the department."""
    c = basic()
    ws = c.wb[c.sheet]
    ws.protection.sheet = True
    ws.protection.password = "county"
    if unlock_entries:
        for r in c.rows.values():
            for role in ("actual", "score", "reason"):
                ws[f"{c.columns[role]}{r}"].protection = Protection(locked=False)
    return c


def with_macros(path: Path) -> Path:
    """An .xlsx that carries a VBA project (xl/vbaProject.bin), as a renamed .xlsm does."""
    buf = io.BytesIO()
    basic().wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    return path


# --------------------------------------------------------------------------- header cases
# County layouts seen in real tables (issue #9). Each returns a County whose ``entries`` and
# ``expected`` say what the department types and which scores the county's 得分 cells get.

ROLE_ORDER = ["level1", "level2", "name", "weight", "standard", "actual", "score", "reason"]


def _data(ws, first: int, cols: dict[str, int], items=ROWS, names=None,
          levels: bool = True) -> dict[str, int]:
    """Write ``items`` (ROWS entries) from row ``first`` into the given columns; levels merged
    down like county tables. Returns key -> row."""
    names = names or {}
    rows = {}
    for i, (key, _l1, _l2, w, std) in enumerate(items):
        r = first + i
        ws.cell(r, cols["name"], names.get(key, key))
        if "weight" in cols:
            ws.cell(r, cols["weight"], w)
        if "standard" in cols:
            _text(ws.cell(r, cols["standard"]), std)
        rows[key] = r
    if levels:
        for role, k in (("level1", 1), ("level2", 2)):
            if role in cols:
                _merge_levels(ws, cols[role], first, [it[k] for it in items])
    _box(ws, first, first + len(items) - 1, 1, max(cols.values()))
    return rows


def _level_weight(ws, col: int, first: int, items, k: int) -> None:
    """A level's weight merged down over its rows (the sum of its indicators' 分值)."""
    start = 0
    for i in range(1, len(items) + 1):
        if i == len(items) or items[i][k] != items[start][k]:
            ws.cell(first + start, col, sum(it[3] for it in items[start:i]))
            if i - 1 > start:
                ws.merge_cells(start_row=first + start, start_column=col,
                               end_row=first + i - 1, end_column=col)
            start = i


def level_weights() -> County:
    """A 分值 column beside each of 一级/二级/三级指标 (level weights merged down) in a
    one-row header: the indicator's own 分值 is the one right of 三级指标."""
    wb = Workbook()
    ws = wb.active
    ws.title = "自评表"
    ws["A1"] = "2021年度部门整体支出绩效自评表"
    ws.merge_cells("A1:J1")
    headers = ["一级指标", "分值", "二级指标", "分值", "三级指标", "分值", "评分标准", "实际值",
               "得分", "扣分原因"]
    for i, h in enumerate(headers, start=1):
        ws.cell(2, i, h)
    _style_header(ws, 2, 1, 10)
    cols = {"level1": 1, "level2": 3, "name": 5, "weight": 6, "standard": 7}
    rows = _data(ws, 3, cols)
    _level_weight(ws, 2, 3, ROWS, 1)
    _level_weight(ws, 4, 3, ROWS, 2)
    total = 3 + len(ROWS)
    ws.cell(total, 1, "合计")
    ws.merge_cells(start_row=total, start_column=1, end_row=total, end_column=5)
    ws.cell(total, 6, 100)
    return County(wb, "自评表", (2, 2), {
        "level1": "A", "level2": "C", "name": "E", "weight": "F", "standard": "G",
        "actual": "H", "score": "I", "reason": "J"}, rows, total=f"I{total}")


def level_weights_grouped() -> County:
    """Two-row header: 一级指标/二级指标/三级指标 each merged over 指标 | 分值, 自评情况 over
    完成值 | 得分; 评分标准 and 扣分原因 merged down both rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = "附表"
    ws["A1"] = "部门整体支出绩效评价指标体系"
    ws.merge_cells("A1:J1")
    for c0, text in ((1, "一级指标"), (3, "二级指标"), (5, "三级指标"), (8, "自评情况")):
        ws.cell(2, c0, text)
        ws.merge_cells(start_row=2, start_column=c0, end_row=2, end_column=c0 + 1)
    for col, text in ((7, "评分标准"), (10, "扣分原因")):
        ws.cell(2, col, text)
        ws.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)
    for col, text in ((1, "指标"), (2, "分值"), (3, "指标"), (4, "分值"), (5, "指标名称"),
                      (6, "分值"), (8, "完成值"), (9, "得分")):
        ws.cell(3, col, text)
    _style_header(ws, 2, 1, 10)
    _style_header(ws, 3, 1, 10)
    cols = {"level1": 1, "level2": 3, "name": 5, "weight": 6, "standard": 7}
    rows = _data(ws, 4, cols)
    _level_weight(ws, 2, 4, ROWS, 1)
    _level_weight(ws, 4, 4, ROWS, 2)
    total = 4 + len(ROWS)
    ws.cell(total, 1, "总分")
    ws.merge_cells(start_row=total, start_column=1, end_row=total, end_column=5)
    ws.cell(total, 6, 100)
    return County(wb, "附表", (2, 3), {
        "level1": "A", "level2": "C", "name": "E", "weight": "F", "standard": "G",
        "actual": "H", "score": "I", "reason": "J"}, rows, total=f"I{total}")


COEFFICIENTS = [100, 100, 100, 0, 100, 96, 50, 83, 100, 100, 100, 100, 100, 90]


def coefficients() -> County:
    """权数, 考核指标, 考评标准, 年度目标值, 全年实际值, a department's 得分系数(%) column
    (not 得分) and 指标得分(分) (the 得分), 未完成原因; no level columns."""
    wb = Workbook()
    ws = wb.active
    ws.title = "考核表"
    ws["A1"] = "部门整体支出绩效考核评分表（2021年度）"
    headers = ["序号", "考核指标", "权数", "考评标准", "年度目标值", "全年实际值", "得分系数(%)",
               "指标得分(分)", "未完成原因"]
    for i, h in enumerate(headers, start=1):
        ws.cell(2, i, h)
    _style_header(ws, 2, 1, 9)
    cols = {"name": 2, "weight": 3, "standard": 4}
    rows = _data(ws, 3, cols, levels=False)
    for i, r in enumerate(rows.values()):
        ws.cell(r, 1, i + 1)
        ws.cell(r, 7, COEFFICIENTS[i])
    ws.cell(rows[TRAINING], 5, TRAINING_TARGET)
    total = 3 + len(ROWS)
    ws.cell(total, 2, "合计")
    ws.cell(total, 3, 100)
    return County(wb, "考核表", (2, 2), {
        "name": "B", "weight": "C", "standard": "D", "target": "E", "actual": "F",
        "score": "H", "reason": "I"}, rows, total=f"H{total}")


def three_row_header() -> County:
    """Three header rows: 指标体系 | 自评情况 group labels, then 一级/二级/三级指标, 分值,
    评分标准, 年度目标值, 扣分原因 merged down and 完成情况 over 实际值 | 考评得分."""
    wb = Workbook()
    ws = wb.active
    ws.title = "自评表"
    ws["A1"] = "2021年度部门整体支出绩效自评表"
    ws.merge_cells("A1:I1")
    ws["A2"] = "指标体系"
    ws.merge_cells("A2:F2")
    ws["G2"] = "自评情况"
    ws.merge_cells("G2:I2")
    for col, text in enumerate(["一级指标", "二级指标", "三级指标", "分值", "评分标准",
                                "年度目标值"], start=1):
        ws.cell(3, col, text)
        ws.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
    ws["G3"] = "完成情况"
    ws.merge_cells("G3:H3")
    ws["I3"] = "扣分原因"
    ws.merge_cells("I3:I4")
    ws["G4"], ws["H4"] = "实际值", "考评得分"
    for r in (2, 3, 4):
        _style_header(ws, r, 1, 9)
    cols = {"level1": 1, "level2": 2, "name": 3, "weight": 4, "standard": 5}
    rows = _data(ws, 5, cols)
    ws.cell(rows[TRAINING], 6, TRAINING_TARGET)
    total = 5 + len(ROWS)
    ws.cell(total, 1, "合计")
    ws.merge_cells(start_row=total, start_column=1, end_row=total, end_column=3)
    ws.cell(total, 4, 100)
    return County(wb, "自评表", (2, 4), {
        "level1": "A", "level2": "B", "name": "C", "weight": "D", "standard": "E",
        "target": "F", "actual": "G", "score": "H", "reason": "I"}, rows, total=f"H{total}")


THREE_CONTROL = "“三公经费”控制率"
PAIR_ROWS = [
    *ROWS[:4],
    (PUBLIC, "过程", "预算执行", 12, "≤100%计满分；超过部分每1个百分点扣0.5分"),
    (THREE_CONTROL, "过程", "预算执行", 12, ""),
    (SYSTEMS, "过程", "预算管理", 12, "制度健全、资金使用合规的得满分，发现问题的酌情扣分"),
    (COMPLIANCE, "过程", "预算管理", 12, ""),
    *ROWS[8:],
]


def merged_pairs() -> County:
    """Pairs of indicators sharing one merged 分值 and 评分标准: 公用经费控制率 and “三公经费”
    控制率 share 12 分 (each its own 得分 cell); 管理制度健全性 and 资金使用合规性 share 12 分
    and one merged 得分 cell (one score typed by the evaluator)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "自评表"
    headers = ["一级指标", "二级指标", "三级指标", "分值", "评分标准", "实际值", "得分", "扣分原因"]
    for i, h in enumerate(headers, start=1):
        ws.cell(1, i, h)
    _style_header(ws, 1, 1, 8)
    cols = {"level1": 1, "level2": 2, "name": 3, "weight": 4, "standard": 5}
    rows = _data(ws, 2, cols, items=PAIR_ROWS)
    for key, score_too in ((PUBLIC, False), (SYSTEMS, True)):
        r = rows[key]
        for col in ("D", "E") + (("G",) if score_too else ()):
            ws.merge_cells(f"{col}{r}:{col}{r + 1}")
    total = 2 + len(PAIR_ROWS)
    ws.cell(total, 1, "合计")
    ws.cell(total, 4, "=SUM(D2:D15)")
    c = County(wb, "自评表", (1, 1), dict(zip(ROLE_ORDER, "ABCDEFGH", strict=True)), rows,
               total=f"G{total}")
    c.entries = {SYSTEMS: ("score", 10), SOCIAL: ("actual", "好"),
                 SATISFACTION: ("actual", 92), TRAINING: ("actual", 450)}
    c.expected = {STAFF: 8, THREE: 8, COMPLETION: 8, CONTROL: 0, PUBLIC: 6, THREE_CONTROL: 6,
                  SYSTEMS: 10, ASSETS: 6, TASKS: 10, KEY_TASKS: 10, SOCIAL: 8,
                  SATISFACTION: 5, TRAINING: 4.5}
    c.total_expected = 89.5
    return c


def names_with_weights() -> County:
    """No 分值 column: each name carries its points (“财政供养人员控制率（8分）”)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "评分表"
    headers = ["一级指标", "二级指标", "三级指标", "评分标准", "实际值", "得分", "扣分原因"]
    for i, h in enumerate(headers, start=1):
        ws.cell(1, i, h)
    _style_header(ws, 1, 1, 7)
    names = {key: f"{key}（{w}分）" for key, _l1, _l2, w, _s in ROWS}
    cols = {"level1": 1, "level2": 2, "name": 3, "standard": 4}
    rows = _data(ws, 2, cols, names=names)
    total = 2 + len(ROWS)
    ws.cell(total, 1, "合计")
    ws.merge_cells(start_row=total, start_column=1, end_row=total, end_column=5)
    return County(wb, "评分表", (1, 1), {
        "level1": "A", "level2": "B", "name": "C", "standard": "D", "actual": "E",
        "score": "F", "reason": "G"}, rows, total=f"F{total}")


NO_STANDARD_ROWS = [
    (STAFF, "投入", "预算配置", 3, ""),          # the preset's rule fits 3 分
    (SOCIAL, "效果", "履职效益", 40, ""),        # scored by hand
    (TRAINING, "效果", "个性指标", 57, ""),      # scored by hand
]


def no_standard() -> County:
    """No 评分标准 column: 序号 | 指标名称 | 分值 | 实际值 | 得分."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for i, h in enumerate(["序号", "指标名称", "分值", "实际值", "得分"], start=1):
        ws.cell(1, i, h)
    _style_header(ws, 1, 1, 5)
    rows = _data(ws, 2, {"name": 2, "weight": 3}, items=NO_STANDARD_ROWS, levels=False)
    ws.cell(5, 2, "合计")
    ws.cell(5, 3, 100)
    c = County(wb, "Sheet1", (1, 1), {"name": "B", "weight": "C", "actual": "D", "score": "E"},
               rows, total="E5")
    c.entries = {SOCIAL: ("score", 36), TRAINING: ("score", 50)}
    c.expected = {STAFF: 3, SOCIAL: 36, TRAINING: 50}
    c.total_expected = 89
    return c


def merged_targets() -> County:
    """得分 merged across two columns on every row, the 合计 得分 merged too, and the grade
    cell merged across the rest of the row (as counties lay out printed tables)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "自评表"
    headers = ["一级指标", "二级指标", "三级指标", "分值", "评分标准", "实际值", "得分", None,
               "扣分原因"]
    for i, h in enumerate(headers, start=1):
        if h:
            ws.cell(1, i, h)
    ws.merge_cells("G1:H1")
    _style_header(ws, 1, 1, 9)
    cols = {"level1": 1, "level2": 2, "name": 3, "weight": 4, "standard": 5}
    rows = _data(ws, 2, cols)
    for r in rows.values():
        ws.merge_cells(f"G{r}:H{r}")
    total = 2 + len(ROWS)
    ws.cell(total, 1, "合计")
    ws.merge_cells(start_row=total, start_column=1, end_row=total, end_column=3)
    ws.cell(total, 4, 100)
    ws.merge_cells(f"G{total}:H{total}")
    ws.cell(total + 1, 1, "评价等级")
    ws.merge_cells(f"A{total + 1}:C{total + 1}")
    ws.merge_cells(f"D{total + 1}:I{total + 1}")
    return County(wb, "自评表", (1, 1), {
        "level1": "A", "level2": "B", "name": "C", "weight": "D", "standard": "E",
        "actual": "F", "score": "G", "reason": "I"}, rows, total=f"G{total}",
        grade=f"D{total + 1}")


HEADER_CASES = {
    "level_weights": level_weights,
    "level_weights_grouped": level_weights_grouped,
    "coefficients": coefficients,
    "three_row_header": three_row_header,
    "merged_pairs": merged_pairs,
    "names_with_weights": names_with_weights,
    "no_standard": no_standard,
    "merged_targets": merged_targets,
}
