"""Build tiny workbooks inside tests, so the input sits next to the assertion."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from perfeval_xl.workbook.builder import build, build_sample, workbook_bytes
from perfeval_xl.workbook.reader import parse_ref

# A complete, consistent set of inputs (the seed's budget figures plus plausible others).
FULL = dict(
    unit_name="测试单位", eval_year=2021, staff_authorized=35, staff_actual=33,
    budget_initial=388.46, budget_adjusted=620.47, budget_adjust_excluded=None,
    carryover_prior=84.62, other_funds=42.34, spending_total=734.63, spending_basic=207.77,
    spending_project=526.86, balance_closing=None, public_funds_budget=30,
    public_funds_actual=28, three_public_budget=4, three_public_actual=3.5,
    three_public_prior_budget=4.5, three_public_prior_actual=4.2, procurement_budget=50,
    procurement_actual=48, assets_in_use=95, assets_total=100, project_budget_total=500,
    key_project_budget=320, payment_progress_planned=100, payment_progress_actual=98,
    tasks_planned=10, tasks_completed=10, tasks_on_time=10, tasks_quality_ok=10,
    key_tasks_assigned=4, key_tasks_completed=4,
)


def ref_of(wb, name: str) -> tuple[str, str]:
    sheet, coord = parse_ref(wb.defined_names[name].attr_text)
    return sheet, coord.split(":")[0]


def set_named(wb, **values) -> None:
    """Set single-cell defined names; None blanks the cell."""
    for name, v in values.items():
        sheet, coord = ref_of(wb, name)
        wb[sheet][coord].value = v


def table_cells(wb, name: str) -> tuple[str, dict[str, str], int, int]:
    """(sheet, header -> column letter, header row, last row) of table ``name``."""
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    sheet, rng = parse_ref(wb.defined_names[name].attr_text)
    c0, r0, c1, r1 = range_boundaries(rng)
    ws = wb[sheet]
    cols = {ws.cell(r0, c).value: get_column_letter(c) for c in range(c0, c1 + 1)}
    return sheet, cols, r0, r1


def set_table(wb, name: str, rows: list[dict]) -> None:
    """Fill the first data rows of table ``name`` by header text."""
    sheet, cols, r0, _ = table_cells(wb, name)
    for i, row in enumerate(rows):
        for h, v in row.items():
            wb[sheet][f"{cols[h]}{r0 + 1 + i}"].value = v


def score_row_of(wb, code: str) -> int:
    sheet, cols, r0, r1 = table_cells(wb, "tbl_scores")
    ws = wb[sheet]
    for r in range(r0 + 1, r1 + 1):
        if ws[f"{cols['代码']}{r}"].value == code:
            return r
    raise KeyError(code)


def set_score_cell(wb, code: str, header: str, value) -> None:
    sheet, cols, _, _ = table_cells(wb, "tbl_scores")
    wb[sheet][f"{cols[header]}{score_row_of(wb, code)}"].value = value


def filled(preset: str = "mof2013", tiers: str = "优", **overrides):
    """A workbook with every input filled consistently; qualitative rows set to ``tiers``."""
    wb = build(preset)
    values = dict(FULL)
    values.update(overrides)
    # The builder puts COUNTIF formulas in the task counts; typed values override them.
    set_named(wb, **values)
    set_table(wb, "tbl_staff", [{"人员类别": "财政拨款人员", "人数": 18},
                                {"人员类别": "自收自支人员", "人数": 15}])
    from perfeval_xl import catalogue

    p = catalogue.preset(preset)
    set_table(wb, "tbl_custom", [
        {"三级指标": f"个性指标{i + 1}", "单位": "项", "目标值": 10, "实际值": 10}
        for i in range(len(p.custom))])
    for code, ind in catalogue.indicators().items():
        if ind.kind == "qualitative":
            try:
                set_score_cell(wb, code, "实际值", tiers)
            except KeyError:
                pass
    return wb


def save(wb, path: Path) -> Path:
    path.write_bytes(workbook_bytes(wb))
    return path


def sample_path(tmp_path: Path) -> Path:
    return save(build_sample(), tmp_path / "sample.xlsx")


def reopen(path: Path, data_only: bool = False):
    return load_workbook(path, data_only=data_only)


def named_value(wb, name: str):
    sheet, coord = ref_of(wb, name)
    return wb[sheet][coord].value


def D(x) -> Decimal:
    return Decimal(str(x))
