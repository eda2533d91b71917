"""County 实际值/目标值 cells under a real ``%`` number format (docs/adopt.md §2): a user who
types 92% there stores 0.92, and the adopted workbook must read it as 92 (like our own
percent inputs, docs/workbook.md), or every such row is scored wrong."""

from __future__ import annotations

import adopt_fixtures as F
import pytest
from helpers import FULL, set_named
from openpyxl import load_workbook

from perfeval_xl import engine
from perfeval_xl.adopt import adopt
from perfeval_xl.workbook.writer import write_scored


def _county(target, target_fmt, actual, actual_fmt):
    """with_targets (年度指标值 | 实际完成值) with the 实际完成值 column formatted as % as a
    county does, and the 个性指标 row's target/actual as given."""
    county = F.with_targets()
    ws = county.wb[county.sheet]
    for r in county.rows.values():
        ws[f"F{r}"].number_format = "0%"
    t = ws[county.cell(F.TRAINING, "target")]
    t.value, t.number_format = target, target_fmt
    county.entries = dict(F.ENTRIES)
    county.entries[F.SATISFACTION] = ("actual", 0.92)  # typed as 92% into a 0% cell
    county.entries[F.TRAINING] = ("actual", actual)
    ws[county.cell(F.TRAINING, "actual")].number_format = actual_fmt
    return county


def _adopt_fill_score(county, tmp_path):
    src = county.save(tmp_path / "county.xlsx")
    report = adopt(src, tmp_path / "adopted.xlsx")
    assert not report.errors, [str(p) for p in report.errors]
    wb = load_workbook(report.output)
    set_named(wb, **FULL)
    ws = wb[county.sheet]
    for key, (role, value) in county.entries.items():
        ws[county.cell(key, role)] = value
    wb.save(tmp_path / "filled.xlsx")
    result = engine.evaluate(tmp_path / "filled.xlsx")
    out = tmp_path / "scored.xlsx"
    write_scored(engine.open_workbook(tmp_path / "filled.xlsx"), result, out,
                 source=tmp_path / "filled.xlsx")
    return result, load_workbook(out)


@pytest.mark.parametrize("target, target_fmt, actual, actual_fmt", [
    ("≥95%", "General", 0.855, "0.0%"),   # text target, % actual
    (0.95, "0%", 85.5, "General"),        # % target, plain actual
    (0.95, "0.00%", 0.855, "0.0%"),       # both %
    (95, "General", "85.5%", "@"),        # text actual with %
])
def test_percent_cells_are_read_as_percent_numbers(tmp_path, target, target_fmt, actual,
                                                   actual_fmt):
    county = _county(target, target_fmt, actual, actual_fmt)
    result, wb = _adopt_fill_score(county, tmp_path)
    ws = wb[county.sheet]
    # 满意度 0.92 shown as 92%: ≥90% gives 5 (read as 0.92 it gave 1).
    assert ws[county.cell(F.SATISFACTION, "score")].value == 5
    # 85.5 % of a 95 % target, proportional over 5 points: 4.5.
    assert ws[county.cell(F.TRAINING, "score")].value == pytest.approx(4.5)
    for key, expected in county.expected.items():
        assert ws[county.cell(key, "score")].value == pytest.approx(expected), key
    assert ws[county.total].value == pytest.approx(F.EXPECTED_TOTAL)
    by_name = {r.name: r for r in result.indicators}
    assert float(by_name[F.SATISFACTION].value) == pytest.approx(92)
    assert float(by_name[F.TRAINING].value) == pytest.approx(85.5)


@pytest.mark.parametrize("actual, expected", [(0.94, 0), (0.96, 5)])
def test_percent_target_read_into_the_rule_at_adopt(tmp_path, actual, expected):
    """A text scored against the row's 目标值 (“达到目标值得满分”) takes 0.95 in a % cell as
    95 when adopt reads it, so 94% misses it and 96% meets it."""
    county = _county(0.95, "0%", actual, "0%")
    ws = county.wb[county.sheet]
    F._text(ws[county.cell(F.TRAINING, "standard")], "达到目标值得满分，未达到不得分")
    county.expected[F.TRAINING] = expected
    result, wb = _adopt_fill_score(county, tmp_path)
    assert wb[county.sheet][county.cell(F.TRAINING, "score")].value == expected
    assert wb[county.sheet][county.total].value == pytest.approx(
        F.EXPECTED_TOTAL - 4.5 + expected)
    rule = next(r.rule_text for r in result.indicators if r.name == F.TRAINING)
    assert "95" in rule and "0.95" not in rule


# --------------------------------------------------------------------------- the Excel door


class _Range:
    def __init__(self, sheet, a, b=None):
        self.sheet, self.a, self.b = sheet, a, b

    def options(self, **_kw):
        return self

    def _grid(self, get):
        (r0, c0), (r1, c1) = self.a, self.b
        return [[get(r, c) for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]

    @property
    def value(self):
        return self._grid(lambda r, c: self.sheet.values.get((r, c)))

    @property
    def formula(self):
        return self._grid(lambda r, c: self.sheet.formulas.get((r, c), ""))

    @property
    def number_format(self):
        return self.sheet.formats.get(self.a, "General")


class _Sheet:
    """What desktop Excel (COM) answers for one sheet: values as shown, formulas, formats."""

    def __init__(self, ws, source):
        from openpyxl.utils import get_column_letter

        self.name = ws.title
        self.values, self.formulas, self.formats = {}, {}, {}
        for row in ws.iter_rows():
            for c in row:
                key = (c.row, c.column)
                coord = f"{get_column_letter(c.column)}{c.row}"
                v = source.value(ws.title, coord)
                self.values[key] = None if v is None else (
                    float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
                if isinstance(c.value, str) and c.value.startswith("=") and c.data_type == "f":
                    self.formulas[key] = c.value
                self.formats[coord] = c.number_format
        self.max = (ws.max_row, ws.max_column)

    @property
    def used_range(self):
        class _U:
            pass
        u = _U()
        u.last_cell = _U()
        u.last_cell.row, u.last_cell.column = self.max
        return u

    def range(self, a, b=None):
        if isinstance(a, str):
            return _Range(self, a)
        return _Range(self, a, b)


class _FakeBook:
    def __init__(self, path):
        from perfeval_xl.workbook.reader import OpenpyxlSource

        wb = load_workbook(path)
        source = OpenpyxlSource(wb, str(path))
        self.fullname = str(path)
        self._sheets = {ws.title: _Sheet(ws, source) for ws in wb.worksheets}

        class _N:
            def __init__(self, name, ref):
                self.name, self.refers_to = name, "=" + ref
        self.names = [_N(n, d.attr_text) for n, d in wb.defined_names.items()]

    @property
    def sheets(self):
        book = self

        class _Sheets:
            def __iter__(self):
                return iter(book._sheets.values())

            def __getitem__(self, name):
                return book._sheets[name]
        return _Sheets()


def test_excel_door_reads_percent_cells_through_number_formats(tmp_path):
    """The Excel door reads through ``XlwingsSource``: desktop Excel gives each cell's
    number format and formulas (COM), so a county % cell is scaled there too."""
    from perfeval_xl.excel.xlsource import XlwingsSource

    county = _county("≥95%", "General", 0.855, "0.0%")
    _adopt_fill_score(county, tmp_path)
    result = engine.evaluate_source(XlwingsSource(_FakeBook(tmp_path / "filled.xlsx")))
    by_name = {r.name: r for r in result.indicators}
    assert float(by_name[F.SATISFACTION].value) == pytest.approx(92)
    assert float(by_name[F.SATISFACTION].score) == 5
    assert float(by_name[F.TRAINING].value) == pytest.approx(85.5)
    assert float(by_name[F.TRAINING].score) == pytest.approx(4.5)


def test_text_values_with_units_are_read(tmp_path):
    """实际完成值 and 年度指标值 typed as text with their unit (“450人次”, “≥500人次”)."""
    county = _county("≥500人次", "General", "450人次", "General")
    result, wb = _adopt_fill_score(county, tmp_path)
    assert wb[county.sheet][county.cell(F.TRAINING, "score")].value == pytest.approx(4.5)
    warned = [p for p in result.problems if p.code == "text-number"]
    assert [str(p.location) for p in warned] == [
        f"'{county.sheet}'!{county.cell(F.TRAINING, 'actual')}"]


def test_problems_on_adopted_rows_point_at_the_county_cells(tmp_path):
    """A missing entry on a catalogue row and on a 个性指标 row: both errors name the
    county's own cell, where the department types, not our hidden or grey cells."""
    county = _county(500, "General", None, "General")
    county.entries = {k: v for k, v in F.ENTRIES.items() if k not in (F.SYSTEMS, F.TRAINING)}
    result, _ = _adopt_fill_score(county, tmp_path)
    missing = sorted(str(p.location) for p in result.errors if p.code == "missing-assessment")
    assert missing == sorted(f"'{county.sheet}'!{county.cell(k, 'actual')}"
                             for k in (F.SYSTEMS, F.TRAINING))


def test_our_own_custom_sheet_reads_percent_cells_the_same_way(tmp_path):
    """Not adopted: a 个性指标 with 目标值 95 typed plainly and 实际值 typed as 85.5% in a %
    cell (stored 0.855) scores 85.5/95 of its points, as the county path does."""
    from helpers import filled, save, table_cells

    wb = filled()
    sheet, cols, r0, _ = table_cells(wb, "tbl_custom")
    ws = wb[sheet]
    ws[f"{cols['目标值']}{r0 + 1}"] = 95
    ws[f"{cols['单位']}{r0 + 1}"] = "%"
    actual = ws[f"{cols['实际值']}{r0 + 1}"]
    actual.value, actual.number_format = 0.855, "0.0%"
    path = save(wb, tmp_path / "ours.xlsx")
    result = engine.evaluate(path)
    row = next(r for r in result.indicators if r.name == "个性指标1")
    assert float(row.value) == pytest.approx(85.5)
    assert float(row.score) == pytest.approx(float(row.weight) * 0.9)
