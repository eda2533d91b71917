"""Adds our parts to a county workbook without disturbing the county's own sheets.

Added, after the county's sheets:

- our input sheets (基本情况, 预算执行, 重点工作, 经济指标, 个性指标, 评价说明, 问题与建议,
  评分设置, 校验结果), built by ``workbook.builder`` itself so they carry the §4.3 defined
  names, styles, dropdowns and protection of a workbook from ``perfeval-xl new``; the
  个性指标 sheet holds the county's rows that are not catalogue indicators;
- a hidden mapping sheet (``layout.SHEET_MAP``) with ``tbl_scores`` (一级/二级/三级/分值 as
  formulas pointing at the county's cells, 代码, 评分规则 as parsed rule text, and the
  evaluator's entry as a formula over the county's 实际值/得分 cells), the total and grade,
  and ``tbl_targets`` (where each result is also written in the county's table);
- defined names ``tbl_scores``, ``tbl_targets``, ``total_score``, ``grade`` and, when the
  county table has such cells, ``county_total`` and ``county_grade``.

The county's sheets are not touched: no cell, merge, style, width, print setting or
formula of theirs changes here (``score`` later writes only 实际值/得分/扣分原因 and the
total and grade cells named in the mapping).
"""

from __future__ import annotations

import dataclasses
from copy import copy

from openpyxl.comments import Comment
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from perfeval_xl import catalogue
from perfeval_xl.adopt.finder import AdoptError, Table
from perfeval_xl.adopt.matcher import Planned, describe_reading
from perfeval_xl.workbook import builder
from perfeval_xl.workbook import layout as L

__all__ = ["INPUT_SHEETS", "READING_HEADERS", "SHEET_READING", "TARGET_HEADERS",
           "TARGET_EXTRA", "augment", "check_room", "quote_sheet"]

# Our sheets added to an adopted workbook, in order (the county's table replaces 自评表,
# and the guide is for our own layout).
INPUT_SHEETS = [L.SHEET_BASIC, L.SHEET_BUDGET, L.SHEET_WORK, L.SHEET_ECONOMY, L.SHEET_CUSTOM,
                L.SHEET_EVAL, L.SHEET_ISSUES, L.SHEET_SETTINGS, L.SHEET_CHECKS]

# tbl_targets: the layout's headers, then where each row came from (for messages and for
# people reading the mapping; the reader ignores extra columns).
# Two more columns, read back by ``score`` (workbook/reader.py): the county's 评分标准 text
# and the 分值 as they were when adopted. When the county cell differs at score time, the
# text is read again. And the county's name text and the sheet rows of each indicator as
# adopted: ``score`` checks the county rows are still where they were (adopt/drift.py).
TARGET_EXTRA = ("评分标准原文", "原分值", "指标名称原文", "县表行")
TARGET_HEADERS = (*L.ADOPT_TABLES["tbl_targets"][1], *TARGET_EXTRA)

# A visible, protected sheet showing how each county 评分标准 was read (原文 → 解读), so a
# department can check every reading before trusting a score.
SHEET_READING = "评分标准解读"
READING_HEADERS = ("序号", "指标", "对应", "县表单元格", "分值", "原文", "解读", "生成的评分标准")

MAP_NOTE = ("本表由 perfeval-xl adopt 生成，程序据此在县里下发的自评表中读取分值、评定等级，"
            "并写入实际值、得分、扣分原因、总分和等级。请勿修改或删除。评分规则由县表“评分标准”"
            "识别而来（见“评分标准解读”表）；县表的评分标准或分值如有改动，评分时会重新识别。")


def quote_sheet(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _abs(coord: str) -> str:
    return builder.absolute_ref(coord)


def _ref(sheet: str, coord: str) -> str:
    """"'自评表'!$G$7": reference text for tbl_targets and defined names."""
    return f"{quote_sheet(sheet)}!{_abs(coord)}"


def _link(sheet: str, coord: str) -> builder.Formula:
    """A formula showing a county cell, e.g. ='自评表'!$E$7."""
    return builder.Formula(f"={_ref(sheet, coord)}")


def _weight_value(sheet: str, p: Planned):
    """What our 分值 cell holds: a formula on the county's 分值 cell (its share when several
    rows share one merged 分值), or the number written in the name."""
    cell = p.row.cells.get("weight")
    if p.weight_from_name or not cell:
        return p.weight
    if p.weight_div > 1:
        return builder.Formula(f"={_ref(sheet, cell)}/{p.weight_div}")
    return _link(sheet, cell)


def _entry(sheet: str, cells: list[str]) -> builder.Formula:
    """The first non-blank of the county cells (blank stays "", never 0); of 实际值 and 得分,
    a number in 实际值 (a measured value, not a tier label) gives way to a typed 得分, as
    ``reader.source_location`` reads it."""
    if len(cells) == 2:
        a, b = (_ref(sheet, c) for c in cells)
        return builder.Formula(f'=IF(ISNUMBER({a}),IF({b}<>"",{b},{a}),'
                               f'IF({a}<>"",{a},IF({b}<>"",{b},"")))')
    expr = '""'
    for coord in reversed(cells):
        r = _ref(sheet, coord)
        expr = f'IF({r}<>"",{r},{expr})'
    return builder.Formula(f"={expr}")


def check_room(wb) -> None:
    """Refuse when our sheet titles or defined names are already taken in ``wb``.

    Raises:
        AdoptError: naming the clashing sheets or names.
    """
    clash = [t for t in [*INPUT_SHEETS, SHEET_READING, L.SHEET_MAP] if t in wb.sheetnames]
    if clash:
        shown = "、".join(f"“{t}”" for t in clash)
        raise AdoptError(
            f"工作簿中已有工作表 {shown}，与接管时新增的输入表同名。请先将其改名（如"
            f"“{clash[0]}（县表）”）后再接管。")
    ours = (set(catalogue.inputs()) | set(L.TEXTS) | set(L.TABLES) | set(L.ADOPT_TABLES)
            | {L.OUT_TOTAL, L.OUT_GRADE, L.PRESET_NAME, L.WORKBOOK_KIND, L.REPORT_DIR,
               L.COUNTY_TOTAL, L.COUNTY_GRADE, L.READING_TABLE})
    taken = sorted(ours & set(wb.defined_names))
    if taken:
        raise AdoptError(
            f"工作簿中已有定义名称 {'、'.join(taken)}，与本程序使用的名称冲突。请在“公式›名称"
            "管理器”中将其改名或删除后再接管。")


class _AdoptBuilder(builder.WorkbookBuilder):
    """The builder, building our input sheets into the county's workbook.

    Only the workbook it starts from, the 个性指标 rows and their count differ from
    ``perfeval-xl new``; every sheet is built by the builder's own methods.
    """

    def __init__(self, wb, preset: str, custom_rows: list[dict], values: dict):
        self._county = wb
        self._adopted_custom = custom_rows
        super().__init__(preset, "", None, None)
        self.values.update(values)
        # The county's table carries every weight and rule: no preset 个性指标 templates,
        # and no caps on the total that the county did not set.
        self.preset = dataclasses.replace(self.preset, custom=(), caps=())

    def _new_workbook(self):
        wb = self._county
        for style in builder.named_styles():
            if style.name not in wb.named_styles:
                wb.add_named_style(style)
        for title in INPUT_SHEETS:
            wb.create_sheet(title)
        return wb

    def custom_rows(self) -> list[dict]:
        rows = list(self._adopted_custom)
        n = max(L.CUSTOM_ROWS, len(rows))
        rows += [{"代码": f"custom_{i + 1:02d}"} for i in range(len(rows), n)]
        return rows

    def table(self, ws, name, top, left, columns, rows=None, n_rows=None, min_height=20):
        if name == "tbl_custom" and rows is not None:
            n_rows = max(n_rows or 0, len(rows))  # a county may have many 个性指标
        return super().table(ws, name, top, left, columns, rows, n_rows, min_height)

    def build_inputs(self) -> None:
        self.sheet_basic()
        self.sheet_budget()
        self.sheet_work()
        self.sheet_economy()
        self.sheet_custom()
        self.sheet_eval()
        self.sheet_issues()
        self.sheet_settings()
        self.sheet_checks()


def _custom_rows(table: Table, planned: list[Planned]) -> list[dict]:
    sheet = table.sheet
    rows = []
    for p in planned:
        if p.kind != "custom":
            continue
        cells = p.row.cells
        target = p.target
        if isinstance(target, str):
            target = _link(sheet, target)
        rows.append({
            "代码": p.code,
            "一级指标": _link(sheet, cells["level1"]) if "level1" in cells else None,
            "二级指标": _link(sheet, cells["level2"]) if "level2" in cells else None,
            "三级指标": _link(sheet, cells["name"]) if p.row.text("name") and not p.joined
            and not p.row.budget else p.name,
            "单位": p.unit or None,
            "目标值": target,
            "实际值": _entry(sheet, p.entry) if p.entry else None,
            "方向": p.direction,
            "分值": _weight_value(sheet, p),
            "评分规则": p.rule_text,
            "说明": f"接管自“{sheet}”第{p.row.row}行",
        })
    return rows


def _mark_linked(b: _AdoptBuilder, table: Table, planned: list[Planned]) -> None:
    """County-linked cells on 个性指标 are computed (grey, locked); say where to type."""
    customs = [p for p in planned if p.kind == "custom"]
    for k, p in enumerate(customs):
        for header in ("一级指标", "二级指标", "三级指标", "分值", "目标值", "实际值"):
            cell = b.refs.get(f"tbl_custom[{k + 1}].{header}")
            if cell is None or not isinstance(cell.value, str) or not cell.value.startswith("="):
                continue
            fmt, align = cell.number_format, copy(cell.alignment)
            cell.style = builder.S_COMPUTED
            cell.number_format, cell.alignment = fmt, align
            if header in ("实际值", "目标值"):
                where = p.entry if header == "实际值" else [str(p.target)]
                shown = "或".join(f"“{table.sheet}”{c}" for c in where)
                cell.comment = builder.note_comment(f"请在县表{shown}中填写，本格自动引用。")


def _map_sheet(b: _AdoptBuilder, table: Table, planned: list[Planned], source: str) -> None:
    ws = b.wb.create_sheet(L.SHEET_MAP)
    ws.sheet_state = "hidden"
    put = b.put
    _, headers = L.TABLES["tbl_scores"]
    b.widths(ws, [10, 12, 22, 26, 8, 30, 36, 30, 12, 8, 24])
    put(ws, 1, 1, "perfeval_xl 接管映射（程序使用，请勿修改）", builder.S_TITLE,
        last_col=len(headers))
    put(ws, 2, 1, MAP_NOTE, builder.S_HELP, last_col=len(headers))
    ws.row_dimensions[2].height = 45
    put(ws, 3, 1, "来源", builder.S_LABEL)
    put(ws, 3, 2, f"{source}：{table.where()}；{table.column_summary()}", builder.S_LABEL,
        last_col=len(headers))
    top = 5
    for i, h in enumerate(headers, start=1):
        put(ws, top, i, h, builder.S_HEADER)
    cat = catalogue.indicators()
    sheet = table.sheet
    r = top
    for p in planned:
        if p.kind == "custom":
            continue
        r += 1
        ind = cat[p.code]
        cells = p.row.cells
        expl = cells.get("explanation")
        values = {
            "一级指标": _link(sheet, cells["level1"]) if "level1" in cells else ind.level1,
            "二级指标": _link(sheet, cells["level2"]) if "level2" in cells else ind.level2,
            "三级指标": _link(sheet, cells["name"]),
            "代码": p.code,
            "分值": _weight_value(sheet, p),
            "指标解释": _link(sheet, expl) if expl and p.row.text("explanation")
            else ind.explanation,
            "评分规则": p.rule_text,
            "实际值": _entry(sheet, p.entry) if p.entry else None,
        }
        for i, h in enumerate(headers, start=1):
            put(ws, r, i, values.get(h), builder.S_COMPUTED_TEXT)
    last = max(r, top + 1)  # keep one (blank) data row so the table always has a body
    for k in range(r + 1, last + 1):
        for i in range(1, len(headers) + 1):
            put(ws, k, i, None, builder.S_COMPUTED_TEXT)
    b.name("tbl_scores", ws, f"A{top}", f"{get_column_letter(len(headers))}{last}")

    row = last + 2
    put(ws, row, 1, "总分", builder.S_LABEL)
    total = put(ws, row, 2, None, builder.S_COMPUTED, builder.FMT_SCORE)
    put(ws, row + 1, 1, "等级", builder.S_LABEL)
    grade = put(ws, row + 1, 2, None, builder.S_COMPUTED)
    b.name(L.OUT_TOTAL, ws, total.coordinate)
    b.name(L.OUT_GRADE, ws, grade.coordinate)

    ttop = row + 3
    for i, h in enumerate(TARGET_HEADERS, start=1):
        put(ws, ttop, i, h, builder.S_HEADER)
    r = ttop
    for p in planned:
        r += 1
        cells = p.row.cells

        def where(role: str, cells=cells) -> str | None:
            return _ref(sheet, cells[role]) if role in cells else None

        values = {
            "代码": p.code,
            "实际值位置": where("actual") if p.write_actual else None,
            "得分位置": where("score"),
            "扣分原因位置": where("reason"),
            "评分标准位置": where("standard"),
            "分值位置": where("weight"),
            "指标名称位置": where("name"),
            "评分标准原文": p.row.text("standard") if "standard" in cells else None,
            "原分值": p.weight,
            "指标名称原文": p.row.text("name") or None,
            "县表行": ",".join(str(x) for x in sorted({p.row.row, *(j.row for j in p.joined)})),
        }
        for i, h in enumerate(TARGET_HEADERS, start=1):
            put(ws, r, i, values[h], builder.S_COMPUTED_TEXT)
    tlast = max(r, ttop + 1)
    for k in range(r + 1, tlast + 1):
        for i in range(1, len(TARGET_HEADERS) + 1):
            put(ws, k, i, None, builder.S_COMPUTED_TEXT)
    b.name("tbl_targets", ws, f"A{ttop}",
           f"{get_column_letter(len(TARGET_HEADERS))}{tlast}")
    ws.sheet_view.showGridLines = False


def reading_text(p: Planned) -> tuple[str, str]:
    """(解读, 生成的评分标准) of one row (``matcher.describe_reading``)."""
    return describe_reading(
        p.rule, p.weight, reason=p.reading.reason if p.reading is not None else "",
        has_text=bool(p.row.text("standard")), unit=p.unit,
        target=p.target if not isinstance(p.target, str) else None)


def _reading_sheet(b: _AdoptBuilder, table: Table, planned: list[Planned],
                   n_county: int) -> None:
    """The visible 评分标准解读 sheet: 原文 → 解读 per county row, read-only."""
    wb = b.wb
    ws = wb.create_sheet(SHEET_READING, index=n_county)
    put = b.put
    n = len(READING_HEADERS)
    widths = [6, 20, 22, 12, 7, 44, 34, 44]
    b.widths(ws, widths)
    top = b.title(ws, "评分标准解读（原文 → 解读）", n, note=(
        "本表列出县表每个指标的评分标准原文，以及程序如何理解它（解读为评分规则，并据此生成评分"
        "标准文字）。请逐行核对：如解读与原意不符，请修改县表中的评分标准或分值，运行“计算得分”"
        "时会重新识别。“人工评分”的指标请在县表“得分”栏填写得分。本表只读。"))
    for i, h in enumerate(READING_HEADERS, start=1):
        put(ws, top, i, h, builder.S_HEADER)
    cat = catalogue.indicators()
    r = top
    for k, p in enumerate(planned, start=1):
        r += 1
        cells = p.row.cells
        coord = cells.get("standard") or cells.get("name")
        what = (f"{cat[p.code].name}（指标库）" if p.code in cat
                else f"个性指标 {p.code}")
        reading, generated = reading_text(p)
        values = [k, p.name, what, f"{table.sheet}!{coord}" if coord else "",
                  float(p.weight) if p.weight is not None else None,
                  p.row.text("standard") or (
                      f"（无；表格上方的预算执行栏：{p.reading.text}）"
                      if p.row.budget and p.reading else "（无）"), reading, generated]
        for i, v in enumerate(values, start=1):
            cell = put(ws, r, i, v, builder.S_COMPUTED_TEXT)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r].height = builder._height(max(
            builder._text_lines(v, w) for v, w in zip(values, widths, strict=True)))
        if coord:
            link = ws.cell(r, 4)
            link.hyperlink = Hyperlink(ref=link.coordinate,
                                       location=f"{quote_sheet(table.sheet)}!{coord}",
                                       display=str(link.value))
    # Found by ``score`` to show a reading made again after a county edit (reader.py).
    b.name(L.READING_TABLE, ws, f"A{top}", f"{get_column_letter(n)}{max(r, top + 1)}")
    ws.freeze_panes = f"A{top + 1}"
    ws.print_title_rows = f"{top}:{top}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.protection.sheet = True  # read-only: the county's cells are where to edit
    ws.sheet_view.showGridLines = False


def augment(wb, table: Table, planned: list[Planned], *, preset: str, source: str) -> None:
    """Add our input sheets, the hidden mapping sheet and the defined names to ``wb``.

    Args:
        wb: the county's openpyxl workbook (changed in place; the county's sheets are not).
        table: the county's indicator table (``finder.find_table``).
        planned: its rows as we score them (``matcher.plan_rows``).
        preset: the preset for grade labels and bands (评分设置).
        source: the county file's name, recorded on the mapping sheet.

    Raises:
        AdoptError: our sheet titles or names are already taken.
    """
    check_room(wb)
    values: dict = {}
    if table.unit_text:
        values["unit_name"] = table.unit_text
    elif table.unit_cell:
        r = _ref(table.sheet, table.unit_cell)
        values["unit_name"] = builder.Formula(f'=IF({r}="","",{r})')
    if table.year:
        values["eval_year"] = table.year
    b = _AdoptBuilder(wb, preset, _custom_rows(table, planned), values)
    b.build_inputs()
    _mark_linked(b, table, planned)
    _map_sheet(b, table, planned, source)
    _reading_sheet(b, table, planned, n_county=len(wb.sheetnames) - len(INPUT_SHEETS) - 1)
    for name, coord in ((L.COUNTY_TOTAL, table.total_cell), (L.COUNTY_GRADE, table.grade_cell)):
        if coord:
            b.name(name, wb[table.sheet], coord)
    b.check_complete()
    missing = set(L.ADOPT_TABLES) - set(wb.defined_names)
    if missing:  # pragma: no cover - a programming error, not a user one
        raise AssertionError(f"adopt names not created: {sorted(missing)}")
    wb.calculation.fullCalcOnLoad = True
    if isinstance(values.get("unit_name"), builder.Formula):
        cell = b.refs.get("unit_name")
        if cell is not None:
            cell.comment = Comment(
                f"引用县表“{table.sheet}”{table.unit_cell}；在县表中填写单位名称即可。",
                builder.CREATOR)
