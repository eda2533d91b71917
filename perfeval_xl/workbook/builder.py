"""Builds our self-evaluation workbook (部门整体支出绩效自评表) with openpyxl.

This module owns the look of the workbook: where each block sits on its sheet, styles,
number formats, dropdowns, protection and print setup. What the reader relies on — sheet
titles, defined names and table header texts — comes from ``layout`` and ``inputs.toml``
and is never invented here.

Each §4.3 input and each ``layout.TEXTS`` name is one cell with a workbook-scoped defined
name; each ``layout.TABLES`` name covers the table's header row plus its data rows. The
bundled sample (``data/sample/<name>.toml``) fills the same workbook with content; cells it
marks ``illustrative`` get the 示例数据 style and comment, so nobody mistakes an assumed
figure for a fact.
"""

from __future__ import annotations

import datetime
import io
import math
import re
import tomllib
import zipfile
from copy import copy
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from perfeval_xl import catalogue, files
from perfeval_xl.rules import describe_rule, parse_rule, tier_labels
from perfeval_xl.workbook import layout as L

__all__ = ["SAMPLE_NOTE", "build", "build_sample", "load_sample", "workbook_bytes", "write_new"]

SAMPLE_NOTE = "示例数据：种子报告未提供，此为演示用的假设值，请按单位实际填写。"
FORMULA_NOTE = ("默认公式：按下方工作清单自动统计。"
                "如需直接填写，输入数值即可覆盖公式，以输入值为准。")

# Fixed document properties, so two builds are byte-identical (artifacts are checked).
FIXED_TIME = datetime.datetime(2021, 1, 1, 0, 0, 0)
CREATOR = "perfeval_xl"

# --------------------------------------------------------------------------- look

FONT = "等线"
FILL_INPUT = "FFF2CC"      # light yellow: the user types here
FILL_DEFAULT = "DDEBF7"    # light blue: a default formula the user may overwrite
FILL_COMPUTED = "EDEDED"   # light grey: computed or fixed, locked
FILL_SAMPLE = "F8CBAD"     # light orange: 示例数据
FILL_HEADER = "BDD7EE"
FILL_SECTION = "DEEAF6"
GREY = "7F7F7F"
THIN = Side(style="thin", color="A6A6A6")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
GROUP_TOP = Side(style="medium", color="595959")

FMT_AMOUNT = "#,##0.00"
FMT_COUNT = "0"
FMT_PERCENT = '0.00"%"'
FMT_SCORE = "0.00"
FMT_YEAR = "0"
FMT_TEXT = "@"

NUMBER_FORMAT = {"amount": FMT_AMOUNT, "count": FMT_COUNT, "percent": FMT_PERCENT,
                 "year": FMT_YEAR, "text": "General"}

TAB_GUIDE, TAB_INPUT, TAB_SCORES, TAB_SETTINGS, TAB_CHECKS = (
    "808080", "70AD47", "4472C4", "FFC000", "C00000")


def named_styles() -> list[NamedStyle]:
    """The named styles every cell of ours uses (users see them in Excel's style gallery)."""
    def named(name, *, fill=None, bold=False, italic=False, size=11, color=None, locked=True,
              border=True, wrap=False, h=None, v="center"):
        return NamedStyle(
            name=name,
            font=Font(name=FONT, sz=size, b=bold, i=italic, color=color, charset=134),
            fill=PatternFill("solid", fgColor=fill) if fill else PatternFill(),
            border=BOX if border else Border(),
            alignment=Alignment(horizontal=h, vertical=v, wrap_text=wrap),
            protection=Protection(locked=locked),
        )

    return [
        named("绩效_输入", fill=FILL_INPUT, locked=False),
        named("绩效_输入文本", fill=FILL_INPUT, locked=False, wrap=True, h="left", v="top"),
        named("绩效_默认公式", fill=FILL_DEFAULT, locked=False),
        named("绩效_计算", fill=FILL_COMPUTED),
        named("绩效_计算文本", fill=FILL_COMPUTED, wrap=True, h="left", v="top"),
        named("绩效_固定", wrap=True, v="center"),
        named("绩效_示例数据", fill=FILL_SAMPLE, italic=True, locked=False),
        named("绩效_表头", fill=FILL_HEADER, bold=True, wrap=True, h="center"),
        named("绩效_标签", border=False, wrap=True),
        named("绩效_说明", border=False, wrap=True, size=10, color=GREY),
        named("绩效_标题", border=False, bold=True, size=16, h="center"),
        named("绩效_小节", fill=FILL_SECTION, border=False, bold=True, size=12),
    ]


S_INPUT, S_INPUT_TEXT, S_DEFAULT, S_COMPUTED, S_COMPUTED_TEXT, S_FIXED, S_SAMPLE = (
    "绩效_输入", "绩效_输入文本", "绩效_默认公式", "绩效_计算", "绩效_计算文本", "绩效_固定",
    "绩效_示例数据")
S_HEADER, S_LABEL, S_HELP, S_TITLE, S_SECTION = (
    "绩效_表头", "绩效_标签", "绩效_说明", "绩效_标题", "绩效_小节")

# Help texts for the narrative cells (layout.TEXTS carries only the label).
TEXT_HELP = {
    "text_overview": "单位性质、人员、内设机构等概况，可分段填写（Alt+Enter 换行）。",
    "text_systems_intro": "管理制度的总体说明（报告“管理制度”一节的开头），可不填。",
    "text_duties": "单位主要职能职责，可分段填写。",
    "text_goals": "年度部门整体支出绩效目标。",
    "text_budget_note": "预算资金的补充说明，如“无政府性基金收支预算”。可不填。",
    "text_economy_intro": "下表数据的统计口径或截止时间，如“截止11月底”。可不填。",
    "text_eval_focus": "评价依据的文件、评价重点。",
    "text_eval_method": "评价组织方式和方法，如成立自评小组、因素分析法等。",
    "text_eval_process": "评价的主要过程和评价所覆盖的指标。",
    "text_indicator_system": "评价指标的构建思路及分值分布。可不填。",
    "text_experience": "主要经验及做法。可不填。",
}

# Default height (points) of an empty narrative cell.
TEXT_HEIGHT = {"text_budget_note": 36, "text_economy_intro": 30, "text_eval_method": 45,
               "text_indicator_system": 60}

# 预算执行 groups, in sheet order; any input of that sheet not listed lands in a last group.
BUDGET_GROUPS = [
    ("一、预算", ["budget_initial", "budget_adjusted", "budget_adjust_excluded"]),
    ("二、资金来源", ["carryover_prior", "other_funds"]),
    ("三、支出", ["spending_total", "spending_basic", "spending_project", "balance_closing"]),
    ("四、公用经费与“三公经费”", [
        "public_funds_budget", "public_funds_actual", "three_public_budget",
        "three_public_actual", "three_public_prior_budget", "three_public_prior_actual"]),
    ("五、政府采购与资产", [
        "procurement_budget", "procurement_actual", "assets_in_use", "assets_total"]),
    ("六、项目预算", ["project_budget_total", "key_project_budget"]),
    ("七、支付进度", ["payment_progress_planned", "payment_progress_actual"]),
]

# 重点工作 count inputs: their default formulas over tbl_work (header -> criteria).
TASK_FORMULAS = {
    "tasks_planned": ("COUNTA", [("工作事项", None)]),
    "tasks_completed": ("COUNTIF", [("是否完成", "是")]),
    "tasks_on_time": ("COUNTIF", [("是否按时", "是")]),
    "tasks_quality_ok": ("COUNTIF", [("质量达标", "是")]),
    "key_tasks_assigned": ("COUNTIF", [("类别", "重点工作")]),
    "key_tasks_completed": ("COUNTIFS", [("类别", "重点工作"), ("是否完成", "是")]),
}

# Data rows per table (tbl_work and tbl_custom come from layout).
TABLE_ROWS = {"tbl_departments": 10, "tbl_systems": 10, "tbl_staff": 6, "tbl_economy": 15,
              "tbl_problems": 10, "tbl_suggestions": 10, "tbl_grades": 6, "tbl_caps": 5,
              "tbl_checks": 5, "tbl_work": L.WORK_ROWS, "tbl_custom": L.CUSTOM_ROWS}


# --------------------------------------------------------------------------- helpers


class Formula(str):
    """An Excel formula ("=…"). Any other text starting with "=" is written as text, so a
    评分标准 such as "=0得8分；…" never turns into a broken formula."""


def _num(x: Any) -> Any:
    """A Decimal as a plain int/float for the cell (other values unchanged)."""
    if isinstance(x, Decimal):
        return int(x) if x == x.to_integral_value() else float(x)
    return x


def _text_lines(text: Any, width: float) -> int:
    """Rough number of wrapped lines ``text`` takes in a column ``width`` characters wide
    (a CJK character is about two width units at 11 pt)."""
    if text is None or text == "":
        return 1
    lines = 0
    for para in str(text).split("\n"):
        units = sum(1.95 if ord(ch) > 0x2E7F else 1.05 for ch in para)
        lines += max(1, math.ceil(units / max(width - 1.5, 1)))
    return lines


def _height(lines: int, minimum: float = 20) -> float:
    return float(min(409, max(minimum, lines * 14.4 + 6)))


def absolute_ref(coord: str) -> str:
    m = re.fullmatch(r"([A-Z]+)(\d+)", coord)
    assert m, coord
    return f"${m.group(1)}${m.group(2)}"


def _ref(ws: Worksheet, first: str, last: str | None = None) -> str:
    """``'Sheet'!$A$1`` or ``'Sheet'!$A$1:$D$9`` (always quoted: our titles are Chinese)."""
    title = "'" + ws.title.replace("'", "''") + "'"
    rng = absolute_ref(first) if last is None else f"{absolute_ref(first)}:{absolute_ref(last)}"
    return f"{title}!{rng}"


@dataclass
class _Column:
    """How one table column is written: style, number format, dropdown/validation."""

    style: str = S_INPUT
    number_format: str = "General"
    validation: DataValidation | None = None
    wrap: bool = False
    h: str | None = None   # horizontal alignment of short values


def _list_validation(items: list[str], message: str, *, strict: bool = True) -> DataValidation:
    dv = DataValidation(type="list", formula1='"' + ",".join(items) + '"', allow_blank=True)
    dv.showErrorMessage = True
    dv.errorStyle = "stop" if strict else "warning"
    dv.errorTitle = "输入有误"
    dv.error = message
    return dv


def _number_validation(kind: str, *, maximum: Any = None) -> DataValidation:
    """Whole (counts, years) or decimal (amounts, percents) validation, ≥ 0 or in a range."""
    whole = kind in ("count", "year")
    vtype = "whole" if whole else "decimal"
    if kind == "year":
        dv = DataValidation(type=vtype, operator="between", formula1="2000", formula2="2100",
                            allow_blank=True)
        dv.error = "请填写四位年度数字，如 2021。"
    elif maximum is not None:
        dv = DataValidation(type=vtype, operator="between", formula1="0",
                            formula2=str(maximum), allow_blank=True)
        dv.error = f"请填写 0 到 {maximum} 之间的数字。"
    else:
        dv = DataValidation(type=vtype, operator="greaterThanOrEqual", formula1="0",
                            allow_blank=True)
        dv.error = ("请填写大于或等于 0 的整数。" if whole
                    else "请填写大于或等于 0 的数字（金额单位：万元；百分比直接填数值，如 98.5）。")
    dv.showErrorMessage = True
    dv.errorStyle = "stop"
    dv.errorTitle = "输入有误"
    return dv


YES_NO_MESSAGE = "请从下拉列表中选择“是”或“否”。"


# --------------------------------------------------------------------------- builder


class WorkbookBuilder:
    """Builds one workbook. ``refs`` maps sample references ("budget_initial",
    "tbl_work[3].是否按时", "qualitative.disclosure") to their cells for the 示例数据 marking."""

    def __init__(self, preset: str, unit: str, year: int | None, sample: dict | None):
        self.preset = catalogue.preset(preset)
        self.sample = sample or {}
        self.values: dict[str, Any] = dict(self.sample.get("inputs", {}))
        if unit:
            self.values["unit_name"] = unit
        if year is not None:
            self.values["eval_year"] = int(year)
        unknown = set(self.values) - set(catalogue.inputs())
        if unknown:
            raise ValueError(f"sample inputs not in inputs.toml: {sorted(unknown)}")
        self.texts: dict[str, str] = dict(self.sample.get("texts", {}))
        unknown = set(self.texts) - set(L.TEXTS)
        if unknown:
            raise ValueError(f"sample texts not in layout.TEXTS: {sorted(unknown)}")
        self.tables: dict[str, list[dict]] = dict(self.sample.get("tables", {}))
        unknown = set(self.tables) - set(L.TABLES)
        if unknown:
            raise ValueError(f"sample tables not in layout.TABLES: {sorted(unknown)}")
        self.qualitative: dict[str, str] = dict(self.sample.get("qualitative", {}))
        self.refs: dict[str, Cell] = {}
        self.validations: dict[str, list[DataValidation]] = {}
        self.type_validations: dict[tuple[str, str], DataValidation] = {}
        self.wb = self._new_workbook()

    # ---------------------------------------------------------------- workbook basics

    @staticmethod
    def _new_workbook() -> Workbook:
        wb = Workbook()
        # Default font for every untouched cell: 等线 11 (the Chinese Excel default).
        base = Font(name=FONT, sz=11, family=2, charset=134, scheme="minor")
        wb._fonts = IndexedList([base])
        normal = wb._named_styles["Normal"]
        normal.font = Font(name=FONT, sz=11, family=2, charset=134, scheme="minor")
        for style in named_styles():
            wb.add_named_style(style)
        wb.remove(wb.active)
        for title in L.SHEET_ORDER:
            wb.create_sheet(title)
        wb.calculation.fullCalcOnLoad = True
        return wb

    def sheet(self, title: str) -> Worksheet:
        return self.wb[title]

    def name(self, name: str, ws: Worksheet, first: str, last: str | None = None) -> None:
        if name in self.wb.defined_names:
            raise ValueError(f"defined name {name} created twice")
        self.wb.defined_names[name] = DefinedName(name, attr_text=_ref(ws, first, last))

    def validate(self, ws: Worksheet, dv: DataValidation, ref: str) -> None:
        """Add ``ref`` to ``dv`` and ``dv`` to the sheet (once)."""
        dv.add(ref)
        lst = self.validations.setdefault(ws.title, [])
        if not any(x is dv for x in lst):
            lst.append(dv)
            ws.add_data_validation(dv)

    @staticmethod
    def widths(ws: Worksheet, widths: list[float]) -> None:
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w

    @staticmethod
    def width_of(ws: Worksheet, first_col: int, last_col: int | None = None) -> float:
        last_col = last_col or first_col
        return sum(ws.column_dimensions[get_column_letter(c)].width or 8.43
                   for c in range(first_col, last_col + 1))

    @staticmethod
    def put(ws: Worksheet, row: int, col: int, value: Any = None, style: str = S_FIXED,
            number_format: str | None = None, last_col: int | None = None) -> Cell:
        """Write one cell (merged across to ``last_col`` when given) with a named style."""
        cell = ws.cell(row=row, column=col)
        cell.style = style
        if value is not None:
            cell.value = _num(value)
            if isinstance(value, str) and value.startswith("=") and not isinstance(
                    value, Formula):
                cell.data_type = "s"
        if number_format:
            cell.number_format = number_format
        if last_col and last_col > col:
            for c in range(col + 1, last_col + 1):
                ws.cell(row=row, column=c).style = style
            ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=last_col)
        return cell

    def title(self, ws: Worksheet, text: str, last_col: int, note: str = "") -> int:
        """Sheet title (row 1) and an optional grey note (row 2). Returns the next free row."""
        self.put(ws, 1, 1, text, S_TITLE, last_col=last_col)
        ws.row_dimensions[1].height = 30
        if not note:
            return 3
        self.put(ws, 2, 1, note, S_HELP, last_col=last_col)
        ws.row_dimensions[2].height = _height(_text_lines(note, self.width_of(ws, 1, last_col)))
        return 4

    @staticmethod
    def note_block(ws: Worksheet, r1: int, c1: int, r2: int, c2: int, text: str) -> None:
        """Grey help text merged over a block beside a table (never overlapping it)."""
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                ws.cell(r, c).style = S_HELP
        cell = ws.cell(r1, c1)
        cell.value = text
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)

    def section(self, ws: Worksheet, row: int, text: str, first_col: int, last_col: int) -> int:
        self.put(ws, row, first_col, text, S_SECTION, last_col=last_col)
        ws.row_dimensions[row].height = 22
        return row + 1

    @staticmethod
    def page(ws: Worksheet, *, landscape: bool = False, title_rows: str | None = None,
             freeze: str | None = None, tab: str = TAB_INPUT, pages_wide: int = 1,
             title_cols: str | None = None, protect: bool = True) -> None:
        """A4, fit to ``pages_wide`` pages wide, footer page numbers, and (``protect``)
        sheet protection without password."""
        ws.page_setup.paperSize = 9
        ws.page_setup.orientation = "landscape" if landscape else "portrait"
        ws.page_setup.fitToWidth = pages_wide
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.5
        ws.page_margins.top = ws.page_margins.bottom = 0.75
        ws.oddFooter.center.text = "&A　第 &P 页，共 &N 页"
        ws.oddFooter.center.size = 9
        if title_rows:
            ws.print_title_rows = title_rows
        if title_cols:
            ws.print_title_cols = title_cols
        if freeze:
            ws.freeze_panes = freeze
        ws.sheet_view.showGridLines = False
        ws.sheet_properties.tabColor = tab
        # Protection keeps labels, formulas and engine outputs safe; no password, so a user
        # who must change the layout can lift it (审阅 → 撤销工作表保护). Row heights and
        # column widths stay adjustable.
        if not protect:
            return
        ws.protection.sheet = True
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        ws.protection.selectLockedCells = False
        ws.protection.selectUnlockedCells = False

    # ---------------------------------------------------------------- blocks

    def input_row(self, ws: Worksheet, row: int, name: str, *, label_cols: tuple[int, int],
                  value_col: int, unit_col: int, help_cols: tuple[int, int],
                  formula: str | None = None) -> Cell:
        """One §4.3 input: label, the named value cell, unit, grey help text."""
        d = catalogue.inputs()[name]
        if d.sheet != ws.title:
            raise ValueError(f"input {name} belongs on {d.sheet}, not {ws.title}")
        self.put(ws, row, label_cols[0], d.label, S_LABEL, last_col=label_cols[1])
        value = self.values.get(name)
        if formula is not None and value is None:
            cell = self.put(ws, row, value_col, formula, S_DEFAULT)
            cell.comment = note_comment(FORMULA_NOTE)
        else:
            cell = self.put(ws, row, value_col, value, S_INPUT)
        cell.number_format = NUMBER_FORMAT[d.type]
        if d.type == "text":
            cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
        else:
            cell.alignment = Alignment(horizontal="right", vertical="center")
            self.validate(ws, self._type_validation(ws, d.type), cell.coordinate)
        self.put(ws, row, unit_col, d.unit or None, S_LABEL).alignment = Alignment(
            horizontal="center", vertical="center")
        help_text = d.help + ("（留空按 0 计）" if d.blank_zero and "留空" not in d.help else "")
        self.put(ws, row, help_cols[0], help_text, S_HELP, last_col=help_cols[1])
        lines = max(_text_lines(d.label, self.width_of(ws, *label_cols)),
                    _text_lines(help_text, self.width_of(ws, *help_cols)),
                    _text_lines(value, self.width_of(ws, value_col)) if d.type == "text" else 1)
        ws.row_dimensions[row].height = _height(lines, 21)
        self.name(name, ws, cell.coordinate)
        self.refs[name] = cell
        return cell

    def _type_validation(self, ws: Worksheet, kind: str) -> DataValidation:
        """One shared validation object per sheet and input type."""
        key = (ws.title, kind)
        if key not in self.type_validations:
            self.type_validations[key] = _number_validation(kind)
        return self.type_validations[key]

    def text_block(self, ws: Worksheet, row: int, name: str, first_col: int,
                   last_col: int) -> int:
        """A narrative input: bold label row, grey help row, then one tall merged text cell
        (the named cell is its top-left). Returns the next free row."""
        sheet, label, required = L.TEXTS[name]
        if sheet != ws.title:
            raise ValueError(f"text {name} belongs on {sheet}, not {ws.title}")
        self.put(ws, row, first_col, label + ("" if required else "（选填）"), S_LABEL,
                 last_col=last_col).font = Font(name=FONT, sz=11, b=True)
        ws.row_dimensions[row].height = 20
        help_text = TEXT_HELP.get(name, "")
        self.put(ws, row + 1, first_col, help_text, S_HELP, last_col=last_col)
        text = self.texts.get(name)
        cell = self.put(ws, row + 2, first_col, text, S_INPUT_TEXT, last_col=last_col)
        cell.number_format = FMT_TEXT
        width = self.width_of(ws, first_col, last_col)
        minimum = TEXT_HEIGHT.get(name, 90)
        ws.row_dimensions[row + 2].height = _height(_text_lines(text, width) + 1, minimum)
        self.name(name, ws, cell.coordinate)
        self.refs[name] = cell
        return row + 4

    def table(self, ws: Worksheet, name: str, top: int, left: int,
              columns: dict[str, _Column], rows: list[dict] | None = None,
              n_rows: int | None = None, min_height: float = 20) -> tuple[int, int]:
        """A layout table: header row at ``top`` from column ``left``, then data rows.

        Args:
            columns: header -> how to write it; must list exactly the layout headers.
            rows: data rows keyed by header text (values written as given).
            n_rows: data rows reserved (default TABLE_ROWS[name], or more for long data).

        Returns:
            (first data row, last data row).
        """
        sheet, headers = L.TABLES[name]
        if sheet != ws.title or list(columns) != headers:
            raise ValueError(f"table {name}: columns do not match layout")
        rows = rows if rows is not None else self.tables.get(name, [])
        n = n_rows if n_rows is not None else max(TABLE_ROWS[name], len(rows))
        if len(rows) > n:
            raise ValueError(f"{name}: {len(rows)} rows, only {n} reserved")
        for i, header in enumerate(headers):
            self.put(ws, top, left + i, header, S_HEADER)
        ws.row_dimensions[top].height = _height(max(
            _text_lines(h, self.width_of(ws, left + i)) for i, h in enumerate(headers)), 24)
        first, last = top + 1, top + n
        for k in range(n):
            r = first + k
            data = rows[k] if k < len(rows) else {}
            bad = set(data) - set(headers)
            if bad:
                raise ValueError(f"{name} row {k + 1}: unknown columns {sorted(bad)}")
            lines = 1
            for i, header in enumerate(headers):
                spec = columns[header]
                cell = self.put(ws, r, left + i, data.get(header), spec.style,
                                spec.number_format)
                if spec.wrap:
                    cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
                    lines = max(lines, _text_lines(data.get(header),
                                                   self.width_of(ws, left + i)))
                elif spec.h:
                    cell.alignment = Alignment(horizontal=spec.h, vertical="center")
                self.refs[f"{name}[{k + 1}].{header}"] = cell
            ws.row_dimensions[r].height = _height(lines, min_height)
        for i, header in enumerate(headers):
            dv = columns[header].validation
            if dv is not None:
                col = get_column_letter(left + i)
                self.validate(ws, dv, f"{col}{first}:{col}{last}")
        self.name(name, ws, f"{get_column_letter(left)}{top}",
                  f"{get_column_letter(left + len(headers) - 1)}{last}")
        return first, last

    # ---------------------------------------------------------------- sheets

    def build(self) -> Workbook:
        self.sheet_basic()
        self.sheet_budget()
        self.sheet_work()
        self.sheet_economy()
        self.sheet_custom()
        self.sheet_eval()
        self.sheet_scores()
        self.sheet_issues()
        self.sheet_settings()
        self.sheet_checks()
        self.sheet_guide()
        self.mark_illustrative()
        self.check_complete()
        self.wb.active = 0
        return self.wb

    def sheet_guide(self) -> None:
        ws = self.sheet(L.SHEET_GUIDE)
        self.widths(ws, [3, 16, 64, 22])
        self.title(ws, "部门整体支出绩效自评表 · 填表说明", 4)
        row = 3
        intro = [f"评分方案：{self.preset.title}。"]
        if self.sample.get("title"):
            intro.append(f"{self.sample['title']}。浅橙色斜体单元格为示例数据（报告未提供、"
                         "演示用的假设值），使用时请按单位实际情况替换。")
        for line in intro:
            self.put(ws, row, 2, line, S_LABEL, last_col=4)
            ws.row_dimensions[row].height = _height(_text_lines(line, 100))
            row += 1
        row += 1

        row = self.section(ws, row, "一、各工作表用途", 2, 4)
        for i, h in enumerate(["工作表", "用途", "由谁填写"]):
            self.put(ws, row, 2 + i, h, S_HEADER)
        row += 1
        purposes = [
            (L.SHEET_BASIC, "单位名称、评价年度、人员编制；单位概况、职能职责、绩效目标；内设机构、"
                            "管理制度和人员构成。", "单位填写"),
            (L.SHEET_BUDGET, "预算、资金来源、支出、公用经费、“三公经费”、政府采购、资产、"
                             "项目预算和"
                             "支付进度等金额（万元），下方自动核算可用资金。", "单位财务填写"),
            (L.SHEET_WORK, "重点工作和其他工作清单及完成情况；上方工作量统计默认按清单自动计数。",
             "单位填写"),
            (L.SHEET_ECONOMY, "行业或区域经济指标完成情况（本期累计、同比增长）。", "单位填写"),
            (L.SHEET_CUSTOM, "单位自行设置的个性指标（目标值、实际值、分值、评分规则），"
                             "自动列入自评表。",
             "单位填写"),
            (L.SHEET_EVAL, "评价思路及关注点、评价方法、评价过程、指标体系说明。", "单位填写"),
            (L.SHEET_SCORES, "绩效自评表：指标、分值、评分规则与评分标准；定性指标在“实际值”中选择"
                             "评定等级；实际值、得分、总分和等级由程序计算写入。",
             "评价人选择等级；其余自动"),
            (L.SHEET_ISSUES, "主要经验及做法、存在问题、建议和改进举措。", "单位填写"),
            (L.SHEET_SETTINGS, "评分方案、评价等级分数线、总分封顶规则和报告输出文件夹。",
             "一般无需修改"),
            (L.SHEET_CHECKS, "数据校验发现的问题清单（程序写入，含单元格位置）。", "自动生成"),
        ]
        for sheet, what, who in purposes:
            self.put(ws, row, 2, sheet, S_FIXED).font = Font(name=FONT, sz=11, b=True)
            self.put(ws, row, 3, what, S_FIXED)
            self.put(ws, row, 4, who, S_FIXED)
            ws.row_dimensions[row].height = _height(_text_lines(what, 64))
            row += 1
        row += 1

        row = self.section(ws, row, "二、单元格颜色", 2, 4)
        legend = [
            (S_INPUT, "填写", "浅黄色：需要填写的单元格（可编辑）。"),
            (S_DEFAULT, "公式", "浅蓝色：默认公式，自动统计；直接输入数值即可覆盖，以输入值为准。"),
            (S_COMPUTED, "自动", "浅灰色：自动计算或程序写入的单元格（已锁定）。"),
            (S_SAMPLE, "示例", "浅橙色斜体：示例数据，仅用于演示，请按单位实际填写。"),
        ]
        for style, demo, text in legend:
            self.put(ws, row, 2, demo, style).alignment = Alignment(horizontal="center",
                                                                   vertical="center")
            self.put(ws, row, 3, text, S_LABEL, last_col=4)
            ws.row_dimensions[row].height = 21
            row += 1
        row += 1

        row = self.section(ws, row, "三、填写要求", 2, 4)
        rules = [
            "金额单位均为万元，保留两位小数。",
            "百分比直接填写百分数的数值，不加“%”：98.5 表示 98.5%。",
            "空白表示“未提供”。上年结转结余资金、其他资金、政策性调整数留空按 0 计；年末结转结余"
            "留空时按“可用资金 − 本年实际支出”推算。",
            "“是/否”“类别”“方向”及定性指标的评定等级请从下拉列表选择。",
            "文字较长的单元格可分段填写（单元格内按 Alt+Enter 换行），每段在报告中成为一个自然段。",
            "表格已预留足够行数，空行自动忽略。工作表已设保护（无密码），仅黄色、蓝色单元格可编辑；"
            "确需调整版式时可在“审阅 → 撤销工作表保护”中解除。",
        ]
        for i, text in enumerate(rules, start=1):
            self.put(ws, row, 2, f"{i}.", S_LABEL).alignment = Alignment(
                horizontal="right", vertical="top")
            self.put(ws, row, 3, text, S_LABEL, last_col=4)
            ws.row_dimensions[row].height = _height(_text_lines(text, 86))
            row += 1
        row += 1

        row = self.section(ws, row, "四、计算得分与生成报告", 2, 4)
        steps = [
            ("Excel", "在功能区“绩效评价”选项卡中依次点击：计算得分、数据校验、生成报告、导出PDF。"
                      ""),
            ("命令行", "perfeval-xl score 自评表.xlsx（计算得分并写入副本）；perfeval-xl check "
                      "自评表.xlsx（数据校验）；perfeval-xl report 自评表.xlsx --pdf（生成评价报告"
                      "）。"),
            ("WPS 等", "没有 Excel 宏时使用命令行，计算结果以数值写入单元格，"
                      "可在任何表格软件中查看。"),
        ]
        for who, text in steps:
            self.put(ws, row, 2, who, S_LABEL).font = Font(name=FONT, sz=11, b=True)
            self.put(ws, row, 3, text, S_LABEL, last_col=4)
            ws.row_dimensions[row].height = _height(_text_lines(text, 86))
            row += 1
        self.page(ws, tab=TAB_GUIDE)

    def sheet_basic(self) -> None:
        ws = self.sheet(L.SHEET_BASIC)
        self.widths(ws, [6, 22, 40, 8, 44])
        row = self.title(ws, "基本情况", 5, "填写单位基本信息、概况、职能职责与绩效目标，"
                                        "以及内设机构、"
                                              "管理制度和人员构成。")
        row = self.section(ws, row, "一、单位信息", 1, 5)
        row = self.input_header(ws, row)
        for name in self.inputs_on(ws.title):
            self.input_row(ws, row, name, label_cols=(2, 2), value_col=3, unit_col=4,
                           help_cols=(5, 5))
            row += 1
        row += 1
        row = self.section(ws, row, "二、概况、职能职责与绩效目标", 1, 5)
        for name in self.texts_on(ws.title):
            row = self.text_block(ws, row, name, 1, 5)
        row = self.section(ws, row, "三、内设机构", 1, 5)
        _, last = self.table(ws, "tbl_departments", row, 1, {
            "序号": _Column(number_format=FMT_COUNT, h="center"),
            "内设机构": _Column(wrap=True),
            "主要职责": _Column(wrap=True)})
        row = last + 2
        row = self.section(ws, row, "四、管理制度", 1, 5)
        _, last = self.table(ws, "tbl_systems", row, 1, {
            "序号": _Column(number_format=FMT_COUNT, h="center"),
            "管理制度": _Column(wrap=True),
            "主要内容": _Column(wrap=True)})
        row = last + 2
        row = self.section(ws, row, "五、人员构成", 1, 5)
        first, last = self.table(ws, "tbl_staff", row, 2, {
            "人员类别": _Column(wrap=True),
            "人数": _Column(number_format=FMT_COUNT, validation=_number_validation("count"))})
        total_row = last + 1
        self.put(ws, total_row, 2, "合计", S_COMPUTED).font = Font(name=FONT, sz=11, b=True)
        self.put(ws, total_row, 3, Formula(f"=SUM(C{first}:C{last})"), S_COMPUTED, FMT_COUNT)
        self.put(ws, total_row, 5, "合计应与上方“实有在职人数”一致。", S_HELP)
        self.page(ws, freeze="A2")

    def input_header(self, ws: Worksheet, row: int, cols=(2, 3, 4, 5),
                     help_last: int | None = None) -> int:
        for text, col in zip(("项目", "数值", "单位", "填写说明"), cols, strict=True):
            self.put(ws, row, col, text, S_HEADER,
                     last_col=help_last if text == "填写说明" else None)
        return row + 1

    @staticmethod
    def inputs_on(sheet: str) -> list[str]:
        return [n for n, d in catalogue.inputs().items() if d.sheet == sheet]

    @staticmethod
    def texts_on(sheet: str) -> list[str]:
        return [n for n, (s, _, _) in L.TEXTS.items() if s == sheet]

    def sheet_budget(self) -> None:
        ws = self.sheet(L.SHEET_BUDGET)
        self.widths(ws, [3, 34, 16, 8, 62])
        row = self.title(ws, "预算执行情况", 5, "金额单位：万元，保留两位小数；"
                                          "百分比直接填数值（98.5 表示 "
                                                "98.5%）。空白表示未提供。")
        row = self.input_header(ws, row)
        names = self.inputs_on(ws.title)
        grouped = [n for _, g in BUDGET_GROUPS for n in g]
        rest = [n for n in names if n not in grouped]
        if set(grouped) - set(names):
            raise ValueError(f"BUDGET_GROUPS names not on 预算执行: {set(grouped) - set(names)}")
        for group, members in BUDGET_GROUPS + ([("其他", rest)] if rest else []):
            row = self.section(ws, row, group, 2, 5)
            for name in members:
                self.input_row(ws, row, name, label_cols=(2, 2), value_col=3, unit_col=4,
                               help_cols=(5, 5))
                row += 1
        row += 1
        row = self.section(ws, row, "八、自动核算（仅供核对，不参与评分）", 2, 5)
        checks = [
            ("可用资金", "=budget_adjusted+carryover_prior+other_funds",
             "调整后全年预算数 + 上年结转结余资金 + 其他资金。"),
            ("基本支出 + 项目支出", "=spending_basic+spending_project",
             "应等于“本年实际支出”。"),
            ("本年实际支出 − (基本 + 项目)", "=spending_total-spending_basic-spending_project",
             "不为 0 时请核对支出数。"),
            ("推算年末结转结余", "=budget_adjusted+carryover_prior+other_funds-spending_total",
             "可用资金 − 本年实际支出；“年末结转结余”留空时按此计。"),
        ]
        for label, formula, help_text in checks:
            self.put(ws, row, 2, label, S_LABEL)
            self.put(ws, row, 3, Formula(formula), S_COMPUTED, FMT_AMOUNT)
            self.put(ws, row, 4, "万元", S_LABEL).alignment = Alignment(horizontal="center")
            self.put(ws, row, 5, help_text, S_HELP)
            ws.row_dimensions[row].height = 21
            row += 1
        row += 1
        row = self.section(ws, row, "九、补充说明", 2, 5)
        for name in self.texts_on(ws.title):
            row = self.text_block(ws, row, name, 2, 5)
        self.page(ws, freeze="A4", title_rows="3:3")

    def sheet_work(self) -> None:
        ws = self.sheet(L.SHEET_WORK)
        _, headers = L.TABLES["tbl_work"]
        self.widths(ws, [6, 11, 28, 24, 9, 9, 9, 72])
        self.title(ws, "重点工作及其他工作完成情况", 8)
        row = 2
        top = row + len(TASK_FORMULAS) + 2   # header row of tbl_work
        first, last = top + 1, top + L.WORK_ROWS
        col_of = {h: get_column_letter(1 + i) for i, h in enumerate(headers)}

        def rng(header: str) -> str:
            c = col_of[header]
            return f"${c}${first}:${c}${last}"

        self.put(ws, row, 1, "工作量统计（浅蓝色为默认公式，按下方清单自动计数；"
                             "也可直接填写数值覆盖）",
                 S_SECTION, last_col=8)
        row += 1
        for name in self.inputs_on(ws.title):
            func, crits = TASK_FORMULAS[name]
            if func == "COUNTA":
                formula = Formula(f"=COUNTA({rng(crits[0][0])})")
            else:
                args = ",".join(f'{rng(h)},"{v}"' for h, v in crits)
                formula = Formula(f"={func}({args})")
            self.input_row(ws, row, name, label_cols=(1, 3), value_col=4, unit_col=5,
                           help_cols=(6, 8), formula=formula)
            row += 1
        self.put(ws, row, 1, "工作清单：类别、是否完成、是否按时、质量达标请从下拉列表选择；"
                             "完成情况可分段"
                             "填写（Alt+Enter 换行）。", S_HELP, last_col=8)
        row += 1
        assert row == top
        yes_no = _list_validation(L.YES_NO, YES_NO_MESSAGE)
        self.table(ws, "tbl_work", top, 1, {
            "序号": _Column(number_format=FMT_COUNT, h="center"),
            "类别": _Column(h="center", validation=_list_validation(
                L.WORK_CATEGORIES, "请从下拉列表中选择“重点工作”或“其他工作”。")),
            "工作事项": _Column(wrap=True),
            "计划目标": _Column(wrap=True),
            "是否完成": _Column(validation=yes_no, h="center"),
            "是否按时": _Column(validation=yes_no, h="center"),
            "质量达标": _Column(validation=yes_no, h="center"),
            "完成情况": _Column(style=S_INPUT_TEXT, wrap=True),
        }, n_rows=L.WORK_ROWS, min_height=30)
        self.page(ws, landscape=True, freeze=f"A{first}", title_rows=f"{top}:{top}")

    def sheet_economy(self) -> None:
        ws = self.sheet(L.SHEET_ECONOMY)
        self.widths(ws, [6, 34, 8, 16, 14, 40])
        row = self.title(ws, "经济指标完成情况", 6, "填写单位职责范围内的主要经济指标（如行业营业收"
                                            "入、"
                                                  "产值、利润、税金），同比增长填百分数数值。")
        for name in self.texts_on(ws.title):
            row = self.text_block(ws, row, name, 1, 6)
        top = row
        first, _ = self.table(ws, "tbl_economy", top, 1, {
            "序号": _Column(number_format=FMT_COUNT, h="center"),
            "指标名称": _Column(wrap=True),
            "单位": _Column(),
            "本期累计": _Column(number_format=FMT_AMOUNT),
            "同比增长(%)": _Column(number_format="0.00"),
            "说明": _Column(wrap=True),
        })
        self.page(ws, freeze=f"A{first}", title_rows=f"{top}:{top}")

    def custom_rows(self) -> list[dict]:
        """个性指标 rows: the preset's templates, overlaid with the sample's rows."""
        sample_rows = self.tables.get("tbl_custom", [])
        n = max(len(self.preset.custom), len(sample_rows))
        if n > L.CUSTOM_ROWS:
            raise ValueError(f"more than {L.CUSTOM_ROWS} 个性指标 rows")
        rows = []
        for i in range(L.CUSTOM_ROWS):
            row: dict[str, Any] = {"代码": f"custom_{i + 1:02d}"}
            if i < len(self.preset.custom):
                t = self.preset.custom[i]
                row.update({"一级指标": t.level1, "二级指标": t.level2, "分值": t.weight,
                            "方向": t.direction, "评分规则": t.rule})
            if i < len(sample_rows):
                if "代码" in sample_rows[i]:
                    raise ValueError("tbl_custom 代码 is generated, do not set it")
                row.update(sample_rows[i])
            rows.append(row)
        return rows

    def sheet_custom(self) -> None:
        ws = self.sheet(L.SHEET_CUSTOM)
        self.widths(ws, [11, 9, 13, 24, 7, 11, 11, 8, 7, 24, 36])
        note = ("单位根据职责自行设置的个性指标，自动列入“自评表”。方向：正向＝越高越好，"
                "反向＝越低越好，"
                "定性＝在“实际值”中填写评定等级。评分规则如“按比例()”表示得分＝分值×实际值÷目标值；"
                "写法见“自评表”中的评分规则。代码自动生成，请勿修改。")
        top = self.title(ws, "个性指标", 11, note)
        self.custom_first = top + 1
        self.table(ws, "tbl_custom", top, 1, {
            "代码": _Column(style=S_COMPUTED),
            "一级指标": _Column(wrap=True),
            "二级指标": _Column(wrap=True),
            "三级指标": _Column(wrap=True),
            "单位": _Column(h="center"),
            "目标值": _Column(),
            "实际值": _Column(),
            "方向": _Column(h="center", validation=_list_validation(
                L.DIRECTIONS, "请从下拉列表中选择“正向”“反向”或“定性”。")),
            "分值": _Column(h="center", validation=_number_validation("decimal", maximum=100)),
            "评分规则": _Column(wrap=True),
            "说明": _Column(wrap=True),
        }, rows=self.custom_rows(), n_rows=L.CUSTOM_ROWS, min_height=30)
        self.page(ws, landscape=True, freeze=f"A{top + 1}", title_rows=f"{top}:{top}")

    def sheet_eval(self) -> None:
        ws = self.sheet(L.SHEET_EVAL)
        self.widths(ws, [3, 100])
        row = self.title(ws, "评价思路、方法与过程", 2)
        for name in self.texts_on(ws.title):
            row = self.text_block(ws, row, name, 2, 2)
        self.page(ws, freeze="A2")

    def sheet_scores(self) -> None:
        ws = self.sheet(L.SHEET_SCORES)
        _, headers = L.TABLES["tbl_scores"]
        self.widths(ws, [8, 12, 18, 21, 7, 40, 24, 36, 11, 8, 26])
        col = {h: 1 + i for i, h in enumerate(headers)}
        ncol = len(headers)
        title = ('=IF(unit_name="","",unit_name)&IF(eval_year="","",eval_year&"年度")'
                 '&"部门整体支出绩效自评表"')
        self.put(ws, 1, 1, Formula(title), S_TITLE, last_col=ncol)
        ws.row_dimensions[1].height = 30
        note = (f"评分方案：{self.preset.title}。分值、评分规则可修改（浅黄色）；"
                 "定性指标请在“实际值”中"
                "选择评定等级；评分标准、实际值、得分、扣分原因、总分和等级由“计算得分”或 "
                "perfeval-xl score 写入。个性指标行引自“个性指标”表。")
        self.put(ws, 2, 1, note, S_HELP, last_col=ncol)
        ws.row_dimensions[2].height = 30
        top = 3
        for h in headers:
            self.put(ws, top, col[h], h, S_HEADER)
        ws.row_dimensions[top].height = 24
        cat = catalogue.indicators()
        r = top + 1
        tier_dvs: dict[tuple[str, ...], DataValidation] = {}
        weight_dv = _number_validation("decimal", maximum=100)
        prev_level1 = None
        for prow in self.preset.rows:
            ind = cat[prow.code]
            level1 = prow.level1 or ind.level1
            rule = parse_rule(prow.rule)
            values = {
                "一级指标": level1,
                "二级指标": prow.level2 or ind.level2,
                "三级指标": prow.name or ind.name,
                "代码": prow.code,
                "分值": prow.weight,
                "指标解释": ind.explanation,
                "评分规则": prow.rule,
                "评分标准": describe_rule(rule, prow.weight, ind.unit),
            }
            styles = {"一级指标": S_FIXED, "二级指标": S_FIXED, "三级指标": S_FIXED,
                      "代码": S_COMPUTED, "分值": S_INPUT, "指标解释": S_COMPUTED_TEXT,
                      "评分规则": S_INPUT_TEXT, "评分标准": S_COMPUTED_TEXT,
                      "实际值": S_COMPUTED, "得分": S_COMPUTED, "扣分原因": S_COMPUTED_TEXT}
            qualitative = ind.kind == "qualitative"
            if qualitative:
                styles["实际值"] = S_INPUT
                values["实际值"] = self.qualitative.get(prow.code)
            for h in headers:
                cell = self.put(ws, r, col[h], values.get(h), styles[h])
                if h in ("一级指标", "二级指标", "三级指标"):
                    cell.alignment = Alignment(vertical="center", wrap_text=True,
                                               horizontal="center" if h != "三级指标" else None)
            ws.cell(r, col["代码"]).font = Font(name=FONT, sz=9, color=GREY)
            ws.cell(r, col["分值"]).alignment = Alignment(horizontal="center",
                                                         vertical="center")
            ws.cell(r, col["得分"]).number_format = FMT_SCORE
            actual = ws.cell(r, col["实际值"])
            if qualitative:
                labels = tuple(tier_labels(rule))
                if labels:
                    dv = tier_dvs.get(labels)
                    if dv is None:
                        dv = _list_validation(
                            list(labels), "请从下拉列表选择评定等级；也可直接填写 0 至分值之间的分"
                                          "数。",
                            strict=False)
                        tier_dvs[labels] = dv
                    self.validate(ws, dv, actual.coordinate)
                actual.alignment = Alignment(horizontal="center", vertical="center")
                self.refs[f"qualitative.{prow.code}"] = actual
            else:
                actual.number_format = FMT_PERCENT if ind.kind == "rate" else "General"
            self.validate(ws, weight_dv, ws.cell(r, col["分值"]).coordinate)
            lines = max(_text_lines(values[h], self.width_of(ws, col[h]))
                        for h in ("三级指标", "指标解释", "评分规则", "评分标准"))
            ws.row_dimensions[r].height = _height(lines, 30)
            if prev_level1 is not None and level1 != prev_level1:
                self._group_border(ws, r, ncol)
            prev_level1 = level1
            r += 1
        unknown = set(self.qualitative) - {
            p.code for p in self.preset.rows if cat[p.code].kind == "qualitative"}
        if unknown:
            raise ValueError(f"sample [qualitative] codes not qualitative rows: {sorted(unknown)}")

        # 个性指标 rows mirror the 个性指标 sheet; 评分标准/实际值/得分 are the engine's.
        _, custom_headers = L.TABLES["tbl_custom"]
        ccol = {h: get_column_letter(1 + i) for i, h in enumerate(custom_headers)}
        mirror = {"一级指标": "一级指标", "二级指标": "二级指标", "三级指标": "三级指标",
                  "代码": "代码", "分值": "分值", "指标解释": "说明", "评分规则": "评分规则"}
        self._group_border(ws, r, ncol)
        for k in range(L.CUSTOM_ROWS):
            src = self.custom_first + k
            name_ref = f"'{L.SHEET_CUSTOM}'!{ccol['三级指标']}{src}"
            for h in headers:
                style = S_COMPUTED_TEXT if h in ("指标解释", "评分规则", "评分标准", "扣分原因") \
                    else S_COMPUTED
                value = None
                if h in mirror:
                    ref = f"'{L.SHEET_CUSTOM}'!{ccol[mirror[h]]}{src}"
                    # The code shows only on a used row, so an unused row stays blank.
                    test = name_ref if h == "代码" else ref
                    value = Formula(f'=IF({test}="","",{ref})')
                cell = self.put(ws, r, col[h], value, style)
                if h in ("一级指标", "二级指标"):
                    cell.alignment = Alignment(horizontal="center", vertical="center",
                                               wrap_text=True)
            ws.cell(r, col["代码"]).font = Font(name=FONT, sz=9, color=GREY)
            ws.cell(r, col["分值"]).alignment = Alignment(horizontal="center",
                                                         vertical="center")
            ws.cell(r, col["得分"]).number_format = FMT_SCORE
            ws.row_dimensions[r].height = 30
            r += 1
        last = r - 1
        self.name("tbl_scores", ws, f"A{top}", f"{get_column_letter(ncol)}{last}")

        total = last + 1
        self.put(ws, total, 1, "合计", S_COMPUTED, last_col=col["代码"]).alignment = Alignment(
            horizontal="center", vertical="center")
        ws.cell(total, 1).font = Font(name=FONT, sz=11, b=True)
        self.put(ws, total, col["分值"], Formula(f"=SUM(E{top + 1}:E{last})"), S_COMPUTED,
                 "General").alignment = Alignment(horizontal="center", vertical="center")
        self.put(ws, total, col["指标解释"], "总分（得分合计）及评价等级", S_COMPUTED,
                 last_col=col["实际值"]).alignment = Alignment(horizontal="right",
                                                              vertical="center")
        ws.cell(total, col["指标解释"]).font = Font(name=FONT, sz=11, b=True)
        score = self.put(ws, total, col["得分"], None, S_COMPUTED, FMT_SCORE)
        score.font = Font(name=FONT, sz=12, b=True)
        grade = self.put(ws, total, col["扣分原因"], None, S_COMPUTED)
        grade.font = Font(name=FONT, sz=12, b=True)
        grade.alignment = Alignment(horizontal="center", vertical="center")
        ws.row_dimensions[total].height = 26
        self._group_border(ws, total, ncol)
        self.name(L.OUT_TOTAL, ws, score.coordinate)
        self.name(L.OUT_GRADE, ws, grade.coordinate)
        bands = self.preset.grade_bands
        parts = []
        for i, (label, low) in enumerate(bands):
            low_s = _num(low)
            if i == 0:
                parts.append(f"{label}（≥{low_s}分）")
            else:
                parts.append(f"{label}（{low_s}–{_num(bands[i - 1][1])}分）" if low > 0
                             else f"{label}（<{_num(bands[i - 1][1])}分）")
        legend = ("评价等级：" + "、".join(parts) + "，含下限；以“评分设置”表为准"
                  "（财预〔2020〕10号第十八条）。")
        self.put(ws, total + 1, 1, legend, S_HELP, last_col=ncol)
        self.page(ws, landscape=True, freeze=f"A{top + 1}", title_rows=f"{top}:{top}",
                  tab=TAB_SCORES)

    @staticmethod
    def _group_border(ws: Worksheet, row: int, ncol: int) -> None:
        """A heavier line above ``row``: visually groups the 一级指标 without merging."""
        for c in range(1, ncol + 1):
            cell = ws.cell(row, c)
            b = cell.border
            cell.border = Border(left=b.left, right=b.right, bottom=b.bottom, top=GROUP_TOP)

    def sheet_issues(self) -> None:
        ws = self.sheet(L.SHEET_ISSUES)
        self.widths(ws, [6, 100])
        row = self.title(ws, "主要经验及做法、存在问题和建议", 2)
        for name in self.texts_on(ws.title):
            row = self.text_block(ws, row, name, 1, 2)
        row = self.section(ws, row, "存在问题（每行一条）", 1, 2)
        _, last = self.table(ws, "tbl_problems", row, 1, {
            "序号": _Column(number_format=FMT_COUNT, h="center"),
            "存在问题": _Column(wrap=True)}, min_height=24)
        row = self.section(ws, last + 2, "建议和改进举措（每行一条）", 1, 2)
        self.table(ws, "tbl_suggestions", row, 1, {
            "序号": _Column(number_format=FMT_COUNT, h="center"),
            "建议和改进举措": _Column(wrap=True)}, min_height=24)
        self.page(ws, freeze="A2")

    def sheet_settings(self) -> None:
        ws = self.sheet(L.SHEET_SETTINGS)
        self.widths(ws, [3, 22, 16, 16, 16, 48])
        row = self.title(ws, "评分设置", 6, "本表保存评分方案和评价等级，一般无需修改；"
                                        "等级分数线和封顶规则"
                                            "可按当地通知调整。")
        self.put(ws, row, 2, "评分方案", S_LABEL)
        cell = self.put(ws, row, 3, self.preset.name, S_COMPUTED)
        self.name(L.PRESET_NAME, ws, cell.coordinate)
        self.put(ws, row, 4, self.preset.title, S_LABEL, last_col=6)
        ws.row_dimensions[row].height = 21
        row += 1
        self.put(ws, row, 2, "文件标识", S_LABEL)
        cell = self.put(ws, row, 3, L.WORKBOOK_KIND_VALUE, S_COMPUTED, last_col=4)
        self.name(L.WORKBOOK_KIND, ws, cell.coordinate)
        self.put(ws, row, 5, "程序据此识别本工作簿，请勿修改。", S_HELP, last_col=6)
        ws.row_dimensions[row].height = 21
        row += 1
        self.put(ws, row, 2, "报告输出文件夹（选填）", S_LABEL)
        cell = self.put(ws, row, 3, None, S_INPUT, FMT_TEXT, last_col=5)
        self.name(L.REPORT_DIR, ws, cell.coordinate)
        self.refs[L.REPORT_DIR] = cell
        self.put(ws, row, 6, "生成报告的保存位置，如 D:\\绩效评价\\报告；"
                             "留空则保存在本工作簿所在文件夹。", S_HELP)
        ws.row_dimensions[row].height = 30
        row += 2

        row = self.section(ws, row, "一、评价等级", 2, 6)
        grades = [{"等级": label, "分数下限": _num(low)} for label, low in self.preset.grade_bands]
        top = row
        self.table(ws, "tbl_grades", top, 2, {
            "等级": _Column(),
            "分数下限": _Column(number_format="General",
                            validation=_number_validation("decimal", maximum=100))},
                   rows=grades, n_rows=max(TABLE_ROWS["tbl_grades"], len(grades)))
        self.note_block(ws, top, 5, top + 3, 6,
                        "按分数从高到低排列；总分大于或等于分数下限即为该等级（含下限），依据财预"
                        "〔2020〕10号第十八条。等级名称可按当地通知修改（如 优/良/中/差）。")
        row = top + TABLE_ROWS["tbl_grades"] + 2

        row = self.section(ws, row, "二、总分封顶规则（选填）", 2, 6)
        caps = [{"指标代码": code, "实际值下限": _num(low), "实际值上限": _num(high),
                 "总分上限": _num(cap)} for code, low, high, cap in self.preset.caps]
        top = row
        self.table(ws, "tbl_caps", top, 2, {
            "指标代码": _Column(),
            "实际值下限": _Column(number_format="General"),
            "实际值上限": _Column(number_format="General"),
            "总分上限": _Column(number_format="General",
                            validation=_number_validation("decimal", maximum=100))},
                   rows=caps, n_rows=max(TABLE_ROWS["tbl_caps"], len(caps)))
        self.note_block(ws, top, 6, top + TABLE_ROWS["tbl_caps"], 6,
                        "每行一条规则：当该指标的实际值在“实际值下限”与“实际值上限”之间时（留空表示"
                        "不限），总分最高不超过“总分上限”。指标代码填“自评表”代码列中的代码。"
                        "例：budget_completion_rate、70、80、89 表示预算完成率在 70%–80% 之间时"
                        "总分最高 89 分。")
        self.page(ws, tab=TAB_SETTINGS)

    def sheet_checks(self) -> None:
        ws = self.sheet(L.SHEET_CHECKS)
        self.widths(ws, [10, 22, 24, 80])
        top = self.title(ws, "数据校验结果", 4, "运行“数据校验”或 perfeval-xl check 后在此列出问题"
                                          "；"
                                                "点击“位置”可跳转到对应单元格。本表由程序重写，"
                                                "请勿在此填写。")
        self.table(ws, "tbl_checks", top, 1, {
            "严重程度": _Column(style=S_COMPUTED),
            "问题代码": _Column(style=S_COMPUTED),
            "位置": _Column(style=S_COMPUTED),
            "说明": _Column(style=S_COMPUTED_TEXT, wrap=True)})
        self.page(ws, freeze=f"A{top + 1}", title_rows=f"{top}:{top}", tab=TAB_CHECKS)

    # ---------------------------------------------------------------- sample & checks

    def mark_illustrative(self) -> None:
        """Style and annotate every cell the sample lists as 示例数据."""
        for ref in self.sample.get("illustrative", []):
            cell = self.refs.get(ref)
            if cell is None:
                raise ValueError(f"illustrative reference {ref!r} names no cell")
            if cell.value is None:
                raise ValueError(f"illustrative cell {ref!r} is blank")
            number_format, alignment = cell.number_format, copy(cell.alignment)
            cell.style = S_SAMPLE
            cell.number_format = number_format
            cell.alignment = alignment
            cell.comment = note_comment(SAMPLE_NOTE)

    def check_complete(self) -> None:
        """Every §4.3 input and every layout name must exist exactly once."""
        wanted = (set(catalogue.inputs()) | set(L.TEXTS) | set(L.TABLES)
                  | {L.OUT_TOTAL, L.OUT_GRADE, L.PRESET_NAME, L.WORKBOOK_KIND, L.REPORT_DIR})
        missing = wanted - set(self.wb.defined_names)
        if missing:
            raise AssertionError(f"defined names not created: {sorted(missing)}")


def note_comment(text: str) -> Comment:
    c = Comment(text, CREATOR)
    c.width = 260
    c.height = 70
    return c


# --------------------------------------------------------------------------- public API


def build(preset: str = catalogue.DEFAULT_PRESET, unit: str = "", year: int | None = None,
          sample: dict | None = None) -> Workbook:
    """Build a self-evaluation workbook.

    Args:
        preset: scoring preset name (``catalogue.PRESETS``).
        unit: 单位名称 to prefill ("" leaves it blank).
        year: 评价年度 to prefill.
        sample: parsed sample TOML (``load_sample``) to fill the workbook with content.

    Returns:
        The openpyxl workbook; save it with ``workbook_bytes`` for a deterministic file.
    """
    return WorkbookBuilder(preset, unit, year, sample).build()


def workbook_bytes(wb: Workbook) -> bytes:
    """The .xlsx bytes of ``wb``, byte-identical across builds of the same content
    (fixed document properties and zip timestamps)."""
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = CREATOR
    wb.properties.lastModifiedBy = CREATOR
    wb.properties.title = "部门整体支出绩效自评表"
    buf = io.BytesIO()
    # ExcelWriter directly: Workbook.save() would stamp the current time into docProps.
    archive = zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()
    return files.normalize_zip(buf.getvalue())


def write_new(path, preset: str = catalogue.DEFAULT_PRESET, unit: str = "",
              year: int | None = None) -> Path:
    """Write a blank workbook to ``path`` (.xlsx) atomically.

    Raises:
        files.OutputError: unsupported extension or the file cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise files.OutputError(f"无法创建 {path.name}：此处只支持 .xlsx 文件。")
    return files.atomic_write(path, workbook_bytes(build(preset, unit, year)))


def load_sample(name: str = "quwo2021") -> dict:
    """The parsed sample ``perfeval_xl/data/sample/<name>.toml``."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise ValueError(f"bad sample name {name!r}")
    data = resources.files("perfeval_xl").joinpath("data", "sample", f"{name}.toml").read_bytes()
    return tomllib.loads(data.decode("utf-8"))


def build_sample(name: str = "quwo2021") -> Workbook:
    """Build the bundled sample workbook ``name``."""
    sample = load_sample(name)
    return build(sample.get("preset", catalogue.DEFAULT_PRESET), sample=sample)
