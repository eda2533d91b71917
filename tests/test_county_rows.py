"""County rows inserted, deleted, moved or renamed after adopting (docs/adopt.md §3.2):
``score`` re-maps an indicator whose row moved with the mapping's formulas, and refuses
to write into a row that no longer holds the adopted indicator."""

from __future__ import annotations

import re

import adopt_fixtures as F
import pytest
from helpers import FULL, set_named, table_cells
from openpyxl import load_workbook

from perfeval_xl import engine
from perfeval_xl.adopt import adopt
from perfeval_xl.workbook.writer import write_scored

_REF = re.compile(r"(\$?)([A-Z]{1,3})(\$?)(\d+)")


def _shift_refs(text: str, first: int, delta: int, gone: int | None) -> str:
    def one(m):
        row = int(m.group(4))
        if gone is not None and row == gone:
            return "#REF!"
        if row >= first:
            row += delta
        return f"{m.group(1)}{m.group(2)}{m.group(3)}{row}"
    return _REF.sub(one, text)


def _edit_like_excel(wb, sheet: str, idx: int, delta: int) -> None:
    """Insert (delta=1) or delete (delta=-1) sheet row ``idx`` as Excel does: cells and
    merges below move, and every reference to that sheet follows (in formulas on every
    sheet and in defined names); a reference to a deleted row becomes #REF!."""
    ws = wb[sheet]
    gone = idx if delta < 0 else None
    first = idx + 1 if delta < 0 else idx
    quoted = re.escape(f"'{sheet}'!") + "|" + re.escape(f"{sheet}!")
    qualified = re.compile(rf"((?:{quoted})\$?[A-Z]{{1,3}}\$?\d+(?::\$?[A-Z]{{1,3}}\$?\d+)?)")
    merges = [str(m) for m in ws.merged_cells.ranges]
    for m in merges:
        ws.unmerge_cells(m)
    if delta > 0:
        ws.insert_rows(idx)
    else:
        ws.delete_rows(idx)
    for other in wb.worksheets:
        for row in other.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("=") and c.data_type == "f":
                    if other.title == sheet:
                        c.value = _shift_refs(c.value, first, delta, gone)
                    else:
                        c.value = qualified.sub(
                            lambda m: _shift_refs(m.group(1), first, delta, gone), c.value)
    for name in wb.defined_names.values():
        if sheet in (name.attr_text or ""):
            name.attr_text = qualified.sub(lambda m: _shift_refs(m.group(1), first, delta, gone),
                                           name.attr_text)
    for m in merges:
        moved = _shift_refs(m, first, delta, None)
        if "#REF!" not in moved and not (gone and re.search(rf"\D{gone}(\D|$)", m)):
            ws.merge_cells(moved)


def _adopted_filled(tmp_path):
    county = F.basic()
    src = county.save(tmp_path / "county.xlsx")
    report = adopt(src, tmp_path / "adopted.xlsx")
    wb = load_workbook(report.output)
    set_named(wb, **FULL)
    ws = wb[county.sheet]
    for key, (role, value) in F.ENTRIES.items():
        ws[county.cell(key, role)] = value
    sheet, cols, r0, r1 = table_cells(wb, "tbl_custom")
    for r in range(r0 + 1, r1 + 1):
        if wb[sheet][f"{cols['目标值']}{r}"].value is None and wb[sheet][
                f"{cols['代码']}{r}"].value == "custom_01":
            wb[sheet][f"{cols['目标值']}{r}"] = F.TRAINING_TARGET
    return county, wb


def _score(wb, tmp_path):
    wb.save(tmp_path / "edited.xlsx")
    result = engine.evaluate(tmp_path / "edited.xlsx")
    out = tmp_path / "scored.xlsx"
    write_scored(engine.open_workbook(tmp_path / "edited.xlsx"), result, out,
                 source=tmp_path / "edited.xlsx")
    return result, load_workbook(out)


def codes(problems, code):
    return [(p.severity, str(p.location)) for p in problems if p.code == code]


def test_unchanged_rows_give_no_row_problems(tmp_path):
    county, wb = _adopted_filled(tmp_path)
    result, _ = _score(wb, tmp_path)
    assert not [p for p in result.problems if p.code.startswith("county-row")]


def test_rows_inserted_above_move_every_indicator(tmp_path):
    """A blank row inserted above the table's first indicator: every indicator moved down
    by one, found through the mapping formulas; the scores land in the new rows."""
    county, wb = _adopted_filled(tmp_path)
    first = min(county.rows.values())
    _edit_like_excel(wb, county.sheet, first, 1)
    result, out = _score(wb, tmp_path)
    moved = codes(result.problems, "county-row-moved")
    assert len(moved) == len(county.rows)
    assert ("info", f"'自评表'!C{first + 1}") in moved
    assert not result.errors, [str(p) for p in result.errors]
    ws = out[county.sheet]
    for key, expected in F.EXPECTED.items():
        assert ws[f"G{county.rows[key] + 1}"].value == pytest.approx(expected), key
    assert ws[f"G{first}"].value is None  # the inserted row got nothing
    total_row = max(county.rows.values()) + 2
    assert ws[f"G{total_row}"].value == pytest.approx(F.EXPECTED_TOTAL)


def test_renamed_row_is_an_error_and_nothing_is_written_there(tmp_path):
    county, wb = _adopted_filled(tmp_path)
    r = county.rows[F.PUBLIC]
    wb[county.sheet][f"C{r}"] = "办公经费控制率"
    result, out = _score(wb, tmp_path)
    err = [p for p in result.errors if p.code == "county-row-changed"]
    assert [str(p.location) for p in err] == [f"'自评表'!C{r}"]
    assert "公用经费控制率" in err[0].message and "办公经费控制率" in err[0].message
    assert "重新" in err[0].message and "接管" in err[0].message
    ws = out[county.sheet]
    assert ws[f"G{r}"].value is None
    assert ws[county.total].value is None and ws[county.grade].value is None
    assert ws[county.cell(F.STAFF, "score")].value == 8  # the other rows are written


def test_deleted_row_is_an_error_the_others_move_up(tmp_path):
    county, wb = _adopted_filled(tmp_path)
    r = county.rows[F.PUBLIC]
    _edit_like_excel(wb, county.sheet, r, -1)
    result, out = _score(wb, tmp_path)
    err = [p for p in result.errors if p.code == "county-row-changed"]
    assert len(err) == 1 and "公用经费控制率" in err[0].message
    below = [k for k, row in county.rows.items() if row > r]
    assert len(codes(result.problems, "county-row-moved")) == len(below)
    ws = out[county.sheet]
    for key in below:
        assert ws[f"G{county.rows[key] - 1}"].value == pytest.approx(F.EXPECTED[key]), key
    assert ws[county.total.replace(str(_row(county.total)), str(_row(county.total) - 1))
              ].value is None


def _row(coord: str) -> int:
    return int(re.sub(r"\D", "", coord))


def test_added_row_is_an_error_at_its_name(tmp_path):
    county, wb = _adopted_filled(tmp_path)
    r = county.rows[F.ASSETS]
    _edit_like_excel(wb, county.sheet, r, 1)
    ws = wb[county.sheet]
    ws[f"C{r}"], ws[f"D{r}"], ws[f"E{r}"] = "档案管理规范性", 4, "规范得4分，否则不得分"
    result, out = _score(wb, tmp_path)
    assert codes(result.errors, "county-row-added") == [("error", f"'自评表'!C{r}")]
    assert out[county.sheet][f"G{r}"].value is None


def test_rows_sorted_without_formulas_following_is_an_error(tmp_path):
    """Two rows' contents swapped (a sort or a copy-paste): the formulas still read the old
    rows, so no row is re-mapped; both are errors and neither is written."""
    county, wb = _adopted_filled(tmp_path)
    ws = wb[county.sheet]
    a, b = county.rows[F.STAFF], county.rows[F.THREE]
    for col in "CDE":
        ws[f"{col}{a}"].value, ws[f"{col}{b}"].value = ws[f"{col}{b}"].value, ws[f"{col}{a}"].value
    result, out = _score(wb, tmp_path)
    assert sorted(codes(result.errors, "county-row-changed")) == [
        ("error", f"'自评表'!C{a}"), ("error", f"'自评表'!C{b}")]
    assert out[county.sheet][f"G{a}"].value is None and out[county.sheet][f"G{b}"].value is None


def test_project_form_rows_inserted_between_budget_block_and_table(tmp_path):
    """项目支出绩效自评表: a row inserted between the 项目资金 block and the indicator table
    moves the indicators (re-mapped) but not the 预算执行率 row above; scores typed in the
    moved 得分 cells count and land there."""
    import test_county_layouts as L

    layout = L.chizhou_project()
    src = tmp_path / "county.xlsx"
    layout.wb.save(src)
    report = adopt(src, tmp_path / "adopted.xlsx")
    wb = load_workbook(report.output)
    set_named(wb, **FULL)
    _edit_like_excel(wb, layout.sheet, 8, 1)
    ws = wb[layout.sheet]
    for cell, v in layout.entries.items():
        ws[f"{cell[0]}{_row(cell) + 1}"] = v
    result, out = _score(wb, tmp_path)
    assert not result.errors, [str(p) for p in result.errors]
    assert len(codes(result.problems, "county-row-moved")) == len(layout.entries)
    ws = out[layout.sheet]
    assert ws["H6"].value == pytest.approx(9.997, abs=0.001)
    for cell, v in layout.entries.items():
        assert ws[f"{cell[0]}{_row(cell) + 1}"].value == v
    assert ws["G20"].value == pytest.approx(layout.total_expected, abs=0.006)


def test_section_rows_with_points_are_no_added_rows(tmp_path):
    """A section row (“一、投入（16分）” merged over the name columns, its points in 分值),
    skipped by adopt, is not reported as a row added after adopting."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "自评表"
    for c, h in enumerate(["三级指标", "评分标准", "实际值", "分值", "得分"], start=1):
        ws.cell(1, c, h)
    ws["A2"], ws["D2"] = "一、投入（16分）", 16
    ws.merge_cells("A2:C2")
    for r, (key, *_rest, w, std) in enumerate(F.ROWS[:2], start=3):
        ws.cell(r, 1, key)
        F._text(ws.cell(r, 2), std)
        ws.cell(r, 4, w)
    ws["A5"], ws["D5"] = "二、产出（84分）", 84
    ws.merge_cells("A5:C5")
    ws["A6"], ws["B6"], ws["D6"] = "履职效益", "根据工作完成情况酌情评分", 84
    ws["A7"], ws["D7"] = "合计", 100
    src = tmp_path / "county.xlsx"
    wb.save(src)
    report = adopt(src, tmp_path / "adopted.xlsx")
    assert [r.row.row for r in report.rows] == [3, 4, 6]
    out = load_workbook(report.output)
    set_named(out, **FULL)
    out["自评表"]["E6"] = 80
    result, scored = _score(out, tmp_path)
    assert not [p for p in result.problems if p.code.startswith("county-row")]
    assert scored["自评表"]["E7"].value == pytest.approx(96)


def test_added_row_in_a_project_form_with_a_budget_block(tmp_path):
    """The 预算执行 block above the table (its own name column) does not stop the search for
    a row added to the indicator table."""
    import test_county_layouts as L

    layout = L.chizhou_project()
    src = tmp_path / "county.xlsx"
    layout.wb.save(src)
    report = adopt(src, tmp_path / "adopted.xlsx")
    wb = load_workbook(report.output)
    set_named(wb, **FULL)
    _edit_like_excel(wb, layout.sheet, 12, 1)
    ws = wb[layout.sheet]
    ws["C12"], ws["D12"], ws["F12"] = "新增检查次数", "≥4次", 5
    result, out = _score(wb, tmp_path)
    assert codes(result.errors, "county-row-added") == [("error", f"'{layout.sheet}'!C12")]
    assert not codes(result.errors, "county-row-changed")
