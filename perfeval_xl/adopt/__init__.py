"""``perfeval-xl adopt``: take the county's own 部门整体支出绩效自评表 workbook, keep its sheets
and layout, and make it a workbook the engine scores (GitHub issue #6).

One straight pipeline, each step adding to one list of problems:

    .xls/.et/.ods? convert a copy to .xlsx                (perfeval_xl.convert)
    -> open (safety checks) -> already adopted? then leave it as it is ("已接管")
    -> find the indicator table by its headers           (finder)
    -> each row -> catalogue code or 个性指标, 评分标准 -> rule  (matcher,
       through rules.read_standard_text)
    -> add our input sheets, the visible 评分标准解读 sheet (原文 → 解读), the hidden
       mapping sheet, names                               (augment)
    -> write OUT atomically (.xlsx, or .xlsm with the ribbon)

``score`` later reads the county's 评分标准 and 分值 cells again (workbook/reader.py), so
county edits after adopting count.

Unusable input raises ``AdoptError`` (CLI exit 2); everything else is a ``Problem`` at the
county's cell (errors: exit 1). The input file is only read, never written.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from perfeval_xl import catalogue, files
from perfeval_xl.adopt.finder import AdoptError, Table, find_table
from perfeval_xl.adopt.matcher import Planned, plan_rows
from perfeval_xl.model import HasProblems, Location, Problem
from perfeval_xl.rules import Manual
from perfeval_xl.workbook import layout as L
from perfeval_xl.workbook.reader import source_location

__all__ = ["AdoptError", "AdoptReport", "adopt", "default_adopted_path", "is_adopted",
           "source_location"]


@dataclass
class AdoptReport(HasProblems):
    """What ``adopt`` found and did.

    Attributes:
        source / output: the county file and the file written (None when nothing was).
        already: the input was already adopted (or is a workbook of ours): nothing changed.
        table: the indicator table found; candidates: every table considered, best first.
        rows: each county row as it is scored.
        problems: Problems at the county's cells (errors make the CLI exit 1).
        notes: further Chinese lines for the user (what was added, fallbacks taken).
    """

    source: Path
    output: Path | None = None
    already: bool = False
    table: Table | None = None
    candidates: list[Table] = field(default_factory=list)
    rows: list[Planned] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """Chinese lines for the user: the table, its columns, the rows, the total cells."""
        if self.already:
            return list(self.notes)
        t = self.table
        out = [f"指标表：{t.where()}（表头），{len(self.rows)} 行指标。",
               f"各列：{t.column_summary()}。"]
        others = [c for c in self.candidates if c is not t]
        if others:
            out.append("另有表格未采用：" + "；".join(
                f"{c.where()}（{c.column_summary()}）" for c in others) + "。")
        cat = [r for r in self.rows if r.kind != "custom"]
        manual = [r for r in self.rows if isinstance(r.rule, Manual)]
        out.append(f"对应指标库 {len(cat)} 行，个性指标 {len(self.rows) - len(cat)} 行；"
                   f"评分标准识别为规则 {len(self.rows) - len(manual)} 行，人工评分 {len(manual)} 行。")
        out.append("县表总分单元格：" + (str(Location(t.sheet, t.total_cell)) if t.total_cell
                                   else "未找到（总分只写入映射表）")
                   + "；等级单元格：" + (str(Location(t.sheet, t.grade_cell)) if t.grade_cell
                                     else "未找到") + "。")
        out.extend(self.notes)
        return out

    def row_lines(self) -> list[str]:
        """One line per county row: where, name, what it maps to, 原文 → 解读."""
        from perfeval_xl.adopt.augment import reading_text

        out = []
        for r in self.rows:
            if r.kind == "custom":
                what = f"个性指标 {r.code}（{r.direction}）"
            else:
                ind = catalogue.indicators()[r.code]
                what = f"{ind.name} {r.code}（{r.how}）"
            text = r.row.text("standard")
            shown = f"“{text[:40]}{'…' if len(text) > 40 else ''}”" if text else "（无评分标准）"
            out.append(f"  第{r.row.row}行 {r.name} → {what}；{shown} → {reading_text(r)[0]}")
        return out


def default_adopted_path(path: Path) -> Path:
    """县表.xlsx -> 县表_接管.xlsx beside it."""
    return path.with_name(f"{path.stem}_接管.xlsx")


def is_adopted(wb) -> bool:
    """Whether ``wb`` was adopted already (it has the mapping sheet or tbl_targets)."""
    return L.SHEET_MAP in wb.sheetnames or "tbl_targets" in wb.defined_names

# --------------------------------------------------------------------------- package checks

_SHAPE = re.compile(rb"<(?:xdr:)?sp[ >]")


def _package_problems(path: Path) -> list[Problem]:
    """What openpyxl would drop from the package: macros, shapes, Excel 2010 extensions."""
    out = []
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        if "xl/vbaProject.bin" in names:
            if path.suffix.lower() == ".xlsm":
                msg = ("原工作簿中的宏不会保留：接管后的 .xlsx 不含宏，.xlsm 只含本程序的"
                       "“绩效评价”功能区宏。")
            else:
                msg = (f"文件“{path.name}”扩展名为 .xlsx，却含有宏工程（xl/vbaProject.bin），可能是"
                       "改了扩展名的 .xlsm 或来历不明的宏。接管后的工作簿不保留这些宏，也不会执行"
                       "它们；如县里的表格确实需要宏，请向县财政局索取原件。")
            out.append(Problem("warning", "macros-dropped", msg))
        for name in names:
            if name.startswith("xl/drawings/drawing") and name.endswith(".xml"):
                if _SHAPE.search(z.read(name)):
                    out.append(Problem(
                        "warning", "shapes-dropped",
                        "工作簿含有文本框或形状等图形对象，接管后不会保留（单元格内容不受影响）；"
                        "如有需要请在 Excel 中对照原件补回。"))
                    break
        for name in names:
            if name.startswith("xl/worksheets/sheet") and b"x14:dataValidation" in z.read(name):
                out.append(Problem(
                    "warning", "validation-dropped",
                    "工作簿含有 Excel 2010 格式的下拉列表（引用其他工作表的数据验证），接管后不会"
                    "保留；单元格内容不受影响。"))
                break
    return out


def _protection_problems(wb, table: Table, rows: list[Planned]) -> list[Problem]:
    ws = wb[table.sheet]
    if not ws.protection.sheet:
        return []
    out = [Problem(
        "warning", "sheet-protected",
        f"“{table.sheet}”设有工作表保护：程序评分时仍会写入实际值、得分、扣分原因和总分，"
        "工作表保护保持不变。", Location(table.sheet))]
    locked = [c for r in rows for c in r.entry if ws[c].protection.locked]
    if locked:
        out.append(Problem(
            "error", "cell-locked",
            f"需要填写评定等级、得分或实际值的 {len(locked)} 个单元格（如 {locked[0]}）被工作表保护"
            "锁定，在 Excel/WPS 中无法输入。请在“审阅›撤销工作表保护”后填写（设有密码的请向县"
            "财政局索取）。", Location(table.sheet, locked[0])))
    return out


def _formula_problems(wb, table: Table, rows: list[Planned]) -> list[Problem]:
    """County formulas in cells that ``score`` overwrites with values."""
    ws = wb[table.sheet]
    cells = [r.row.cells["score"] for r in rows if "score" in r.row.cells]
    cells += [c for c in (table.total_cell, table.grade_cell) if c]
    with_formula = [c for c in dict.fromkeys(cells) if ws[c].data_type == "f"]
    if not with_formula:
        return []
    return [Problem(
        "warning", "formula-replaced",
        f"县表的 {len(with_formula)} 个得分、总分或等级单元格（如 {with_formula[0]}）含有公式，"
        "评分时将写入计算结果（数值）替换这些公式。", Location(table.sheet, with_formula[0]))]


def _weights_problem(table: Table, rows: list[Planned]) -> list[Problem]:
    weights = [r.weight for r in rows]
    if any(w is None for w in weights):
        return []
    total = sum(weights)
    if total == 100:
        return []
    first = rows[0].row.cells.get("weight") if rows else None
    return [Problem("warning", "weights-sum",
                    f"县表各指标分值合计为 {format(total.normalize(), 'f')} 分，不是 100 分；"
                    "请核对县里下发的表（评分时按合计 100 分校验）。",
                    Location(table.sheet, first or ""))]


# --------------------------------------------------------------------------- output


def _xlsm_bytes(wb) -> bytes | None:
    """The macro workbook bytes, or None when the Excel door cannot be built here."""
    try:
        from perfeval_xl.excel.xlsm import xlsm_bytes
    except ImportError:
        return None
    try:
        return xlsm_bytes(wb)
    except ImportError:  # pyopenvba missing
        return None


def _write(wb, out: Path, report: AdoptReport) -> Path:
    from perfeval_xl.workbook.writer import workbook_to_bytes

    if out.suffix.lower() == ".xlsm":
        data = _xlsm_bytes(wb)
        if data is not None:
            return files.atomic_write(out, data)
        out = out.with_suffix(".xlsx")
        report.problems.append(Problem(
            "warning", "xlsm-unavailable",
            f"本机无法生成带宏的 .xlsm（缺少 pyopenvba 组件），已改为输出 {out.name}；可用命令行"
            "perfeval-xl score/check/report 评分和生成报告。"))
    return files.atomic_write(out, files.normalize_zip(workbook_to_bytes(wb)))


def _leave_as_is(src: Path, out: Path, wb, report: AdoptReport, what: str) -> AdoptReport:
    """An adopted workbook (or one of ours) is copied unchanged ("已接管")."""
    report.already = True
    if out.suffix.lower() == src.suffix.lower():
        report.output = files.atomic_write(out, src.read_bytes())
    else:
        report.output = _write(wb, out, report)
    report.notes.append(f"{what}：未做任何改动，已复制到 {report.output}。"
                        "可直接运行 perfeval-xl score / check / report。")
    return report


def adopt(src, out=None, *, preset: str | None = None) -> AdoptReport:
    """Adopt the county's self-evaluation workbook ``src`` into ``out``.

    Args:
        src: the county's .xlsx/.xlsm, or .xls/.et/.ods (converted first, see
            ``perfeval_xl.convert``; only read).
        out: the adopted workbook to write (.xlsx, or .xlsm for the ribbon); default
            ``<src stem>_接管.xlsx`` beside it.
        preset: preset for grade labels and bands (default mof2013); the county's table
            supplies every indicator, weight and rule.

    Returns:
        The AdoptReport; its ``errors`` are problems the user must fix in OUT.

    Raises:
        AdoptError: the file is unusable, has no indicator table, has two equally
            plausible ones, or ``out`` is not a usable output path.
        files.OutputError: OUT cannot be written.
    """
    src = Path(src)
    preset = preset or catalogue.DEFAULT_PRESET
    if preset not in catalogue.PRESETS:
        raise AdoptError(f"未知的评分预设“{preset}”，可选：{'、'.join(catalogue.PRESETS)}。")
    out = Path(out) if out else default_adopted_path(src)
    if out.suffix.lower() not in (".xlsx", ".xlsm"):
        raise AdoptError("输出文件扩展名应为 .xlsx 或 .xlsm。")
    if src.exists() and out.exists() and out.resolve() == src.resolve():
        raise AdoptError("输出文件不能与县里下发的原文件相同，请用 -o 指定另一个文件名。")
    from perfeval_xl import convert

    if src.is_file() and convert.needs_conversion(src):
        # .xls/.et/.ods: adopt a converted copy; the county's file is only read.
        import tempfile

        with tempfile.TemporaryDirectory(prefix="perfeval-convert-") as tmp:
            try:
                converted = convert.to_xlsx(src, tmp, macro=out.suffix.lower() == ".xlsm")
            except convert.ConversionError as exc:
                raise AdoptError(exc.message) from None
            report = _adopt(converted, src, out, preset)
            report.notes.insert(0, f"“{src.name}”是 {convert.format_label(src)}，已先转换为 "
                                   f"{converted.suffix}（保留格式、合并单元格和公式）再接管。")
            return report
    return _adopt(src, src, out, preset)


def _adopt(path: Path, src: Path, out: Path, preset: str) -> AdoptReport:
    """Adopt the workbook file ``path`` (``src`` itself, or its converted copy)."""
    from perfeval_xl import engine
    from perfeval_xl.workbook.reader import OpenpyxlSource

    try:
        # keep_vba=False: the county's macros never travel into our output.
        wb = engine.open_workbook(path, keep_vba=False)
    except engine.UnusableWorkbook as exc:
        raise AdoptError(exc.message) from None
    report = AdoptReport(source=src)
    if is_adopted(wb):
        return _leave_as_is(path, out, wb, report,
                            f"已接管：“{src.name}”已由 perfeval-xl adopt 接管")
    if L.WORKBOOK_KIND in wb.defined_names:
        return _leave_as_is(path, out, wb, report,
                            f"“{src.name}”是 perfeval_xl 自评表，无需接管")

    # 1. The package: what openpyxl will not carry over.
    report.problems.extend(_package_problems(path))
    # 2. The indicator table.
    table, candidates = find_table(wb)
    report.table, report.candidates = table, candidates
    # 3. Rows -> codes and rules.
    rows, problems = plan_rows(OpenpyxlSource(wb, str(path)), table, preset)
    report.rows = rows
    report.problems.extend(table.problems + problems)
    report.problems.extend(_weights_problem(table, rows))
    if "score" not in table.columns:
        report.problems.append(Problem(
            "warning", "no-score-column",
            "县表没有“得分”列：得分和总分只写入映射表和评价报告，县表中不显示；定性指标的评定"
            "等级请在“实际值”列或“个性指标”表中填写。",
            Location(table.sheet, f"A{table.header_top}")))
    report.problems.extend(_protection_problems(wb, table, rows))
    report.problems.extend(_formula_problems(wb, table, rows))
    # 4. Our parts.
    from perfeval_xl.adopt.augment import INPUT_SHEETS, SHEET_READING, augment

    augment(wb, table, rows, preset=preset, source=src.name)
    report.notes.append(f"新增工作表：“{SHEET_READING}”（各指标评分标准的原文与解读，请核对）、"
                        f"{'、'.join(INPUT_SHEETS)}；映射表“{L.SHEET_MAP}”（隐藏）。")
    if table.unit_text:
        report.notes.append(f"单位名称取自县表：{table.unit_text}。")
    # 5. Write.
    report.output = _write(wb, out, report)
    return report
