"""The one pipeline behind every door (CLI, Excel macros, batch):

    read (by defined name) -> score (indicators + rules) -> validate -> Result

Problems are values collected along the way; only a file that cannot be used at all
raises (UnusableWorkbook / NotOurWorkbook, each with a Chinese message).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from openpyxl.utils.cell import column_index_from_string

from perfeval_xl import catalogue, indicators, scoring, validation
from perfeval_xl.display import fmt_score
from perfeval_xl.model import Evaluation, Location, Problem, Result, ScoreRow
from perfeval_xl.workbook import layout
from perfeval_xl.workbook.reader import NotOurWorkbook, OpenpyxlSource, read_evaluation
from perfeval_xl.workbook.source import CellSource

__all__ = ["NotOurWorkbook", "UnusableWorkbook", "evaluate", "evaluate_source", "load",
           "open_workbook", "run"]


class UnusableWorkbook(Exception):
    """The file cannot be opened as a workbook; ``message`` is Chinese and says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def open_workbook(path: str | Path, *, keep_vba: bool | None = None):
    """Safety-check then load a workbook with openpyxl (formulas kept).

    An .xls/.et/.ods (``convert.needs_conversion``) is first converted to .xlsx in a
    temporary folder (the file itself is never touched); the workbook then reads as if it
    had been saved as .xlsx, and writing it gives an .xlsx.
    """
    from perfeval_xl import convert
    from perfeval_xl.workbook import safety

    path = Path(path)
    if path.is_file() and convert.needs_conversion(path):
        import tempfile

        with tempfile.TemporaryDirectory(prefix="perfeval-convert-") as tmp:
            try:
                converted = convert.to_xlsx(path, tmp)
            except convert.ConversionError as exc:
                raise UnusableWorkbook(exc.message) from None
            return open_workbook(converted, keep_vba=False)
    try:
        safety.check_workbook_file(path)
    except safety.UnusableFile as exc:
        raise UnusableWorkbook(exc.message) from None
    safety.ensure_defused()
    from perfeval_xl.workbook.reader import load_workbook_bounded

    if keep_vba is None:
        keep_vba = path.suffix.lower() == ".xlsm"
    try:
        return load_workbook_bounded(path, keep_vba=keep_vba)
    except Exception as exc:  # openpyxl raises many types for damaged parts
        raise UnusableWorkbook(
            f"无法读取工作簿 {path.name}：文件已损坏或不是有效的 Excel 文件（{type(exc).__name__}）。"
            "请在 Excel/WPS 中打开后另存为 .xlsx 再试。") from None


_PACKAGE_SUFFIXES = (".xlsx", ".xlsm")


def load(path: str | Path):
    """Open a workbook the way score/check/report/batch need it: an .xlsx/.xlsm is checked
    for safety and read as package bytes (``WorkbookFile``: cells parsed from the sheet XML
    on demand, several times cheaper than an openpyxl load); any other kind goes through
    ``open_workbook``. Pass the result as ``wb=`` to ``evaluate`` and to
    ``writer.write_scored``."""
    path = Path(path)
    if path.suffix.lower() not in _PACKAGE_SUFFIXES:
        return open_workbook(path)
    return _load_package(path)


def _load_package(path: Path):
    from perfeval_xl.workbook import ooxml, safety
    from perfeval_xl.workbook.xmlsource import WorkbookFile

    try:
        safety.check_workbook_file(path)
    except safety.UnusableFile as exc:
        raise UnusableWorkbook(exc.message) from None
    try:
        return WorkbookFile(path, path.read_bytes())
    except ooxml.PackageError as exc:
        raise UnusableWorkbook(f"无法读取工作簿 {path.name}：{exc.message}") from None
    except (KeyError, OSError, ValueError) as exc:
        raise UnusableWorkbook(
            f"无法读取工作簿 {path.name}：文件已损坏或不是有效的 Excel 文件（{type(exc).__name__}）。"
            "请在 Excel/WPS 中打开后另存为 .xlsx 再试。") from None


def evaluate(path: str | Path, preset: str | None = None, *, wb=None) -> Result:
    """Read and evaluate the workbook file at ``path``.

    Args:
        path: the workbook file.
        preset: score with this preset instead of the workbook's own rules.
        wb: what ``load`` or ``open_workbook`` returned for ``path`` (opened if None).
    """
    from perfeval_xl.workbook.xmlsource import WorkbookFile

    wb = wb if wb is not None else load(path)
    if isinstance(wb, WorkbookFile):
        return evaluate_source(wb.source, preset)
    return evaluate_source(OpenpyxlSource(wb, str(path)), preset)


def evaluate_source(source: CellSource, preset: str | None = None) -> Result:
    """Read and evaluate any CellSource (openpyxl file, package XML or xlwings Book)."""
    from perfeval_xl.workbook.ooxml import PackageError

    try:
        ev = read_evaluation(source)
    except PackageError as exc:  # a sheet part parsed on demand is damaged
        raise UnusableWorkbook(
            f"无法读取工作簿 {Path(source.path).name}：{exc.message}") from None
    if preset and "targets" in ev.anchors:
        # An adopted county table keeps its own weights and rules: scoring it with a preset
        # would write foreign scores into the county's 得分 column.
        ev.problems.append(Problem(
            "warning", "preset-ignored",
            f"本工作簿由县里下发的自评表接管，分值和评分标准以县表为准，已忽略 --preset {preset}。",
            Location(layout.SHEET_SETTINGS)))
    elif preset:
        apply_preset(ev, preset)
    return run(ev)


def apply_preset(ev: Evaluation, name: str) -> None:
    """Score with preset ``name`` instead of the weights and rules stored in the workbook.

    Catalogue rows come from the preset (entries typed in the workbook are kept by code);
    the workbook's 个性指标 take the preset's custom weights in order.
    """
    p = catalogue.preset(name)
    cat = catalogue.indicators()
    by_code = {r.code: r for r in ev.rows}
    rows: list[ScoreRow] = []
    for pr in p.rows:
        ind = cat[pr.code]
        old = by_code.get(pr.code)
        rows.append(ScoreRow(
            code=pr.code, name=pr.name or ind.name, level1=pr.level1 or ind.level1,
            level2=pr.level2 or ind.level2, weight=pr.weight, rule_text=pr.rule, kind=ind.kind,
            explanation=ind.explanation, entered=old.entered if old else None, unit=ind.unit,
            location=old.location if old else None, entered_loc=old.entered_loc if old else None))
    customs = [r for r in ev.rows if r.kind == "custom"]
    for i, row in enumerate(customs):
        if i < len(p.custom):
            row.weight, row.weight_loc = p.custom[i].weight, None
        else:
            ev.problems.append(Problem(
                "warning", "custom-over-preset",
                f"预设 {name} 只设有 {len(p.custom)} 个个性指标，“{row.name}”按 0 分权重处理。",
                row.location))
            row.weight = Decimal(0)
        rows.append(row)
    if len(customs) < len(p.custom):
        missing = p.custom[len(customs):]
        ev.problems.append(Problem(
            "error", "custom-under-preset",
            f"预设 {name} 还需要 {len(missing)} 个个性指标（"
            + "、".join(f"{c.level1}/{c.level2} {fmt_score(c.weight)}分" for c in missing)
            + "），请在“个性指标”表中补充。", Location("个性指标")))
    ev.rows = rows
    ev.grade_bands = p.grade_bands
    ev.caps = list(p.caps)
    if ev.preset != name:
        ev.problems.append(Problem(
            "info", "preset-override",
            f"按预设 {name} 的分值和评分规则计算（工作簿中保存的是 {ev.preset}）。",
            Location("评分设置")))
    ev.preset = name


def run(ev: Evaluation) -> Result:
    """Score and validate an Evaluation."""
    values = scoring.input_values(ev)
    results, total, grade, cap_note, score_problems = scoring.score_all(ev)
    derived = indicators.derived_values(values)
    ctx = validation.Context(results=results, derived=derived)
    problems = list(ev.problems) + score_problems + validation.validate(ev, ctx)
    return Result(evaluation=ev, indicators=results, total=total, grade=grade,
                  problems=_unique(problems), derived=derived, cap_note=cap_note)


def _unique(problems: list[Problem]) -> list[Problem]:
    """Drop repeats; order errors first, then by position in the workbook (sheet, row, col)."""
    seen, out = set(), []
    for p in problems:
        key = (p.severity, p.code, p.location, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return sorted(out, key=_problem_order)


_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _problem_order(p: Problem) -> tuple:
    loc = p.location
    if loc is None:
        return (_SEVERITY_ORDER[p.severity], -1, 0, 0)
    sheet = layout.SHEET_ORDER.index(loc.sheet) if loc.sheet in layout.SHEET_ORDER else 99
    m = re.match(r"([A-Z]+)(\d+)", loc.cell or "")
    row, col = (int(m.group(2)), column_index_from_string(m.group(1))) if m else (0, 0)
    return (_SEVERITY_ORDER[p.severity], sheet, row, col)
