"""Workbook builder: build each preset and the sample, reopen the file with openpyxl and assert
on what is actually in it (names, headers, protection, validations, seed figures)."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.utils import range_boundaries

from perfeval_xl import catalogue
from perfeval_xl.rules import parse_rule, score_rule
from perfeval_xl.workbook import artifacts, builder
from perfeval_xl.workbook import layout as L

PRESETS = catalogue.PRESETS
SEED_FACT_INPUTS = {
    "unit_name": "曲沃县中小企业服务中心", "eval_year": 2021, "staff_actual": 33,
    "budget_initial": 388.46, "budget_adjusted": 620.47, "carryover_prior": 84.62,
    "other_funds": 42.34, "spending_total": 734.63, "spending_basic": 207.77,
    "spending_project": 526.86,
}


# --------------------------------------------------------------------------- helpers


def _save(wb, tmp_path, name="wb.xlsx"):
    path = tmp_path / name
    path.write_bytes(builder.workbook_bytes(wb))
    return openpyxl.load_workbook(path), path


@pytest.fixture(scope="module", params=PRESETS)
def blank(request, tmp_path_factory):
    wb, _ = _save(builder.build(request.param), tmp_path_factory.mktemp(request.param))
    return request.param, wb


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    wb, path = _save(builder.build_sample(), tmp_path_factory.mktemp("sample"), "sample.xlsx")
    return wb, path


def dest(wb, name):
    """(sheet title, range text without $) of a workbook-scoped defined name."""
    dn = wb.defined_names[name]
    (sheet, ref), = list(dn.destinations)
    return sheet, ref.replace("$", "")


def cell(wb, name):
    sheet, ref = dest(wb, name)
    assert ":" not in ref, name
    return wb[sheet][ref]


def table(wb, name):
    """(header row cells, data rows) of a named table; each data row maps header -> cell."""
    sheet, ref = dest(wb, name)
    ws = wb[sheet]
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    rows = list(ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col,
                             max_col=max_col))
    headers = [c.value for c in rows[0]]
    return rows[0], [dict(zip(headers, r, strict=True)) for r in rows[1:]]


def filled(rows, key):
    return [r for r in rows if r[key].value not in (None, "")]


def validations_covering(ws, coord):
    return [dv for dv in ws.data_validations.dataValidation if coord in dv.sqref]


# --------------------------------------------------------------------------- structure


def test_every_contract_name_exists_on_its_sheet(blank):
    _, wb = blank
    for name, d in catalogue.inputs().items():
        sheet, ref = dest(wb, name)
        assert sheet == d.sheet, name
        assert re.fullmatch(r"[A-Z]+\d+", ref), (name, ref)
    for name, (sheet, _, _) in L.TEXTS.items():
        assert dest(wb, name)[0] == sheet, name
        assert re.fullmatch(r"[A-Z]+\d+", dest(wb, name)[1]), name
    for name, (sheet, headers) in L.TABLES.items():
        assert dest(wb, name)[0] == sheet, name
        header_cells, rows = table(wb, name)
        assert [c.value for c in header_cells] == headers, name
        assert rows, name
    for name in (L.OUT_TOTAL, L.OUT_GRADE):
        assert dest(wb, name)[0] == L.SHEET_SCORES
    for name in (L.PRESET_NAME, L.REPORT_DIR, L.WORKBOOK_KIND):
        assert dest(wb, name)[0] == L.SHEET_SETTINGS
    for dn in wb.defined_names.values():
        assert dn.attr_text.startswith("'") and "!$" in dn.attr_text, dn.name


def test_sheets_markers_and_reserved_rows(blank):
    preset, wb = blank
    assert wb.sheetnames == L.SHEET_ORDER
    assert cell(wb, L.PRESET_NAME).value == preset
    assert cell(wb, L.WORKBOOK_KIND).value == L.WORKBOOK_KIND_VALUE
    assert cell(wb, L.OUT_TOTAL).value is None and cell(wb, L.OUT_GRADE).value is None
    _, work = table(wb, "tbl_work")
    assert len(work) == L.WORK_ROWS
    _, custom = table(wb, "tbl_custom")
    assert [r["代码"].value for r in custom] == [f"custom_{i:02d}"
                                               for i in range(1, L.CUSTOM_ROWS + 1)]
    _, grades = table(wb, "tbl_grades")
    bands = catalogue.preset(preset).grade_bands
    assert [(r["等级"].value, Decimal(str(r["分数下限"].value)))
            for r in filled(grades, "等级")] == bands


def test_tbl_staff_total_row_is_outside_the_table(blank):
    _, wb = blank
    sheet, ref = dest(wb, "tbl_staff")
    _, _, max_col, max_row = range_boundaries(ref)
    ws = wb[sheet]
    assert ws.cell(max_row + 1, max_col - 1).value == "合计"
    assert ws.cell(max_row + 1, max_col).value.startswith("=SUM(")


def test_score_table_follows_the_preset_and_weights_sum_to_100(blank):
    preset_name, wb = blank
    preset = catalogue.preset(preset_name)
    cat = catalogue.indicators()
    _, rows = table(wb, "tbl_scores")
    assert len(rows) == len(preset.rows) + L.CUSTOM_ROWS
    for prow, row in zip(preset.rows, rows, strict=False):
        ind = cat[prow.code]
        assert row["代码"].value == prow.code
        assert row["三级指标"].value == (prow.name or ind.name)
        assert row["一级指标"].value == (prow.level1 or ind.level1)
        assert row["二级指标"].value == (prow.level2 or ind.level2)
        assert row["评分规则"].value == prow.rule
        assert row["评分标准"].value  # generated by rules.describe_rule
        assert row["评分标准"].data_type == "s"  # "=0得8分" stays text
    # 个性指标 rows on 自评表 mirror the 个性指标 sheet by formula.
    for row in rows[len(preset.rows):]:
        assert row["三级指标"].value.startswith("=IF('个性指标'!")
        assert row["分值"].value.startswith("=IF('个性指标'!")
        assert row["得分"].value is None and row["实际值"].value is None
    _, custom = table(wb, "tbl_custom")
    catalogue_weights = sum(Decimal(str(r["分值"].value)) for r in rows[:len(preset.rows)])
    custom_weights = sum(Decimal(str(r["分值"].value)) for r in filled(custom, "分值"))
    assert catalogue_weights + custom_weights == 100
    assert len(filled(custom, "分值")) == len(preset.custom)


def test_inputs_unlocked_computed_locked_protection_on(blank):
    _, wb = blank
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
        assert ws.page_setup.paperSize in (9, "9"), ws.title
    for name in list(catalogue.inputs()) + list(L.TEXTS) + [L.REPORT_DIR]:
        assert cell(wb, name).protection.locked is False, name
    for name in (L.OUT_TOTAL, L.OUT_GRADE, L.PRESET_NAME, L.WORKBOOK_KIND):
        assert cell(wb, name).protection.locked is True, name
    _, rows = table(wb, "tbl_scores")
    for row in rows:
        for h in ("代码", "评分标准", "得分", "扣分原因"):
            assert row[h].protection.locked is True, (h, row[h].coordinate)
    cat = catalogue.indicators()
    for row in rows:
        code = row["代码"].value
        if code in cat:
            assert row["分值"].protection.locked is False
            assert row["评分规则"].protection.locked is False
            qualitative = cat[code].kind == "qualitative"
            assert row["实际值"].protection.locked is (not qualitative), code
            if not qualitative:
                assert row["实际值"].number_format == '0.00"%"'
    _, custom = table(wb, "tbl_custom")
    for row in custom:
        assert row["代码"].protection.locked is True
        assert row["三级指标"].protection.locked is False
    scores = wb[L.SHEET_SCORES]
    assert scores.page_setup.orientation == "landscape"
    assert scores.print_title_rows


def test_task_counts_default_to_formulas_over_tbl_work(blank):
    _, wb = blank
    header_cells, _ = table(wb, "tbl_work")
    col = {c.value: c.column_letter for c in header_cells}
    _, ref = dest(wb, "tbl_work")
    first = int(re.search(r"\d+", ref).group()) + 1
    expected = {
        "tasks_planned": ("COUNTA", ["工作事项"]),
        "tasks_completed": ("COUNTIF", ["是否完成", '"是"']),
        "tasks_on_time": ("COUNTIF", ["是否按时", '"是"']),
        "tasks_quality_ok": ("COUNTIF", ["质量达标", '"是"']),
        "key_tasks_assigned": ("COUNTIF", ["类别", '"重点工作"']),
        "key_tasks_completed": ("COUNTIFS", ["类别", '"重点工作"', "是否完成", '"是"']),
    }
    for name, (func, parts) in expected.items():
        c = cell(wb, name)
        assert c.protection.locked is False, name
        assert c.comment is not None and "覆盖" in c.comment.text
        f = c.value
        assert f.startswith(f"={func}("), (name, f)
        for p in parts:
            if p.startswith('"'):
                assert p in f
            else:
                assert f"${col[p]}${first}:" in f, (name, p, f)


def test_dropdowns_on_yes_no_direction_category_and_tiers(blank):
    _, wb = blank
    header_cells, work = table(wb, "tbl_work")
    ws = wb[L.SHEET_WORK]
    for h in ("是否完成", "是否按时", "质量达标"):
        for row in (work[0], work[-1]):
            dvs = validations_covering(ws, row[h].coordinate)
            assert [dv.formula1 for dv in dvs] == ['"是,否"'], h
            assert dvs[0].error
    dvs = validations_covering(ws, work[5]["类别"].coordinate)
    assert dvs[0].formula1 == '"' + ",".join(L.WORK_CATEGORIES) + '"'
    _, custom = table(wb, "tbl_custom")
    ws = wb[L.SHEET_CUSTOM]
    for row in custom:
        dvs = validations_covering(ws, row["方向"].coordinate)
        assert [dv.formula1 for dv in dvs] == ['"' + ",".join(L.DIRECTIONS) + '"']
    ws = wb[L.SHEET_SCORES]
    _, rows = table(wb, "tbl_scores")
    cat = catalogue.indicators()
    for row in rows:
        if cat.get(row["代码"].value) and cat[row["代码"].value].kind == "qualitative":
            dvs = validations_covering(ws, row["实际值"].coordinate)
            assert dvs and dvs[0].type == "list", row["代码"].value
    ws = wb[L.SHEET_BUDGET]
    dvs = validations_covering(ws, cell(wb, "budget_initial").coordinate)
    assert dvs[0].type == "decimal" and dvs[0].formula1 == "0" and "万元" in dvs[0].error


def test_no_merged_cell_overlaps_a_table(blank):
    _, wb = blank
    for name, (sheet, _) in L.TABLES.items():
        t_min_col, t_min_row, t_max_col, t_max_row = range_boundaries(dest(wb, name)[1])
        for mr in wb[sheet].merged_cells.ranges:
            overlap = not (mr.max_row < t_min_row or mr.min_row > t_max_row
                           or mr.max_col < t_min_col or mr.min_col > t_max_col)
            assert not overlap, (name, str(mr))


def test_write_new_prefills_unit_and_year(tmp_path):
    path = builder.write_new(tmp_path / "新.xlsx", "hunan", unit="某某局", year=2022)
    wb = openpyxl.load_workbook(path)
    assert cell(wb, "unit_name").value == "某某局"
    assert cell(wb, "eval_year").value == 2022
    assert cell(wb, L.PRESET_NAME).value == "hunan"
    assert not list(tmp_path.glob(".~perfeval-*"))


# --------------------------------------------------------------------------- sample


def test_sample_holds_the_seed_figures(sample):
    wb, _ = sample
    for name, value in SEED_FACT_INPUTS.items():
        assert cell(wb, name).value == value, name
    assert cell(wb, "balance_closing").value is None  # derived: 预算完成率 98.29 %
    _, staff = table(wb, "tbl_staff")
    people = {r["人员类别"].value: r["人数"].value for r in filled(staff, "人员类别")}
    assert people == {"财政拨款人员": 18, "自收自支人员": 15}
    assert sum(people.values()) == cell(wb, "staff_actual").value == 33
    _, deps = table(wb, "tbl_departments")
    assert [r["内设机构"].value for r in filled(deps, "内设机构")] == [
        "办公室", "生产技术股", "统计股", "项目办", "党办"]
    _, systems = table(wb, "tbl_systems")
    assert [r["管理制度"].value for r in filled(systems, "管理制度")] == [
        "预算业务管理", "收支业务管理", "政府采购业务管理", "国有资产业务管理", "合同业务管理"]
    _, economy = table(wb, "tbl_economy")
    assert [(r["本期累计"].value, r["同比增长(%)"].value) for r in filled(economy, "指标名称")] == [
        (636767, 93.9), (544190, 114), (435221, 131.56), (570298, 118.71), (468896, 151.19),
        (27547, 56.91), (29617, 182.96)]
    assert cell(wb, "text_budget_note").value == "2021年我单位无政府性基金收支预算。"
    assert cell(wb, "text_economy_intro").value == "截止11月底"
    _, work = table(wb, "tbl_work")
    items = filled(work, "工作事项")
    assert [r["类别"].value for r in items] == ["重点工作"] * 4 + ["其他工作"] * 7
    assert all(len(r["完成情况"].value) > 100 for r in items)
    fixed = "山西晋南立德新材料有限公司、山西恒瑞昆新材料技术有限公司2家企业"  # stray "1"s gone
    assert fixed in items[0]["完成情况"].value
    _, problems = table(wb, "tbl_problems")
    _, suggestions = table(wb, "tbl_suggestions")
    assert len(filled(problems, "存在问题")) == 3
    assert len(filled(suggestions, "建议和改进举措")) == 3
    _, custom = table(wb, "tbl_custom")
    assert [(r["三级指标"].value, r["目标值"].value, r["实际值"].value)
            for r in custom[:2]] == [("小升规净增企业数", 8, 10), ("中小企业融资额", 3000, 3060.9)]
    for name, (_, _, required) in L.TEXTS.items():
        if required:
            assert cell(wb, name).value, name


def _resolve(wb, ref):
    """The cell a sample ``illustrative`` reference names, found through the defined names."""
    m = re.fullmatch(r"(\w+)\[(\d+)\]\.(.+)", ref)
    if m:
        _, rows = table(wb, m.group(1))
        return rows[int(m.group(2)) - 1][m.group(3)]
    if ref.startswith("qualitative."):
        _, rows = table(wb, "tbl_scores")
        (row,) = [r for r in rows if r["代码"].value == ref.split(".", 1)[1]]
        return row["实际值"]
    return cell(wb, ref)


def test_illustrative_cells_and_only_they_carry_the_sample_note(sample):
    wb, _ = sample
    refs = builder.load_sample()["illustrative"]
    marked = {(c.parent.title, c.coordinate) for c in map(lambda r: _resolve(wb, r), refs)}
    assert len(marked) == len(refs)
    for ref in refs:
        c = _resolve(wb, ref)
        assert c.value is not None, ref
        assert c.comment is not None and c.comment.text == builder.SAMPLE_NOTE, ref
        assert c.font.i and c.fill.fgColor.rgb.endswith(builder.FILL_SAMPLE), ref
        assert c.protection.locked is False, ref
    noted = {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
             for c in row if c.comment is not None and c.comment.text.startswith("示例数据")}
    assert noted == marked
    for name in SEED_FACT_INPUTS:
        assert cell(wb, name).comment is None, name


def test_sample_scores_excellent_but_not_perfect(sample):
    """Score the sample with mof2013 from what the workbook holds: ≥ 90 (优), < 100, and the
    59.7 % 预算调整率 honestly loses its points."""
    wb, _ = sample
    values = {n: cell(wb, n).value for n in catalogue.inputs()}
    _, work = table(wb, "tbl_work")
    items = filled(work, "工作事项")

    def count(*conds):
        return sum(all(r[h].value == v for h, v in conds) for r in items)

    values.update(
        tasks_planned=len(items), tasks_completed=count(("是否完成", "是")),
        tasks_on_time=count(("是否按时", "是")), tasks_quality_ok=count(("质量达标", "是")),
        key_tasks_assigned=count(("类别", "重点工作")),
        key_tasks_completed=count(("类别", "重点工作"), ("是否完成", "是")))
    num = {k: Decimal(str(v)) for k, v in values.items() if isinstance(v, (int, float))}
    for k in ("carryover_prior", "other_funds", "budget_adjust_excluded"):
        num.setdefault(k, Decimal(0))
    num["funds_available"] = num["budget_adjusted"] + num["carryover_prior"] + num["other_funds"]
    num.setdefault("balance_closing", num["funds_available"] - num["spending_total"])

    def expr(text):
        terms = re.split(r"\s*([+-])\s*", text.strip())
        total, sign = num[terms[0]], 1
        for tok in terms[1:]:
            if tok in "+-":
                sign = 1 if tok == "+" else -1
            else:
                total += sign * num[tok]
        return total

    _, rows = table(wb, "tbl_scores")
    cat = catalogue.indicators()
    scores = {}
    for row in rows:
        code = row["代码"].value
        if code not in cat:
            continue
        ind, weight = cat[code], Decimal(str(row["分值"].value))
        rule = parse_rule(row["评分规则"].value)
        if ind.kind == "qualitative":
            value = row["实际值"].value
        else:
            value = expr(ind.numerator) / expr(ind.denominator) * 100
        scores[code] = (value, score_rule(rule, value, weight))
    _, custom = table(wb, "tbl_custom")
    for row in filled(custom, "三级指标"):
        scores[row["代码"].value] = (None, score_rule(
            parse_rule(row["评分规则"].value), Decimal(str(row["实际值"].value)),
            Decimal(str(row["分值"].value)), target=Decimal(str(row["目标值"].value))))
    total = sum(s for _, s in scores.values())
    assert round(scores["budget_completion_rate"][0], 2) == Decimal("98.29")
    assert scores["budget_completion_rate"][1] == 5
    assert round(scores["budget_adjustment_rate"][0], 1) == Decimal("59.7")
    assert scores["budget_adjustment_rate"][1] == 0
    assert 90 <= total < 100, total


def test_sample_qualitative_tiers_are_mostly_excellent(sample):
    tiers = list(builder.load_sample()["qualitative"].values())
    assert tiers.count("优") > len(tiers) / 2 and 1 <= tiers.count("良") <= 4


# --------------------------------------------------------------------------- artifacts


def test_builds_are_byte_identical():
    assert builder.workbook_bytes(builder.build_sample()) == builder.workbook_bytes(
        builder.build_sample())
    assert builder.workbook_bytes(builder.build("hunan")) == builder.workbook_bytes(
        builder.build("hunan"))


def test_committed_artifacts_are_up_to_date():
    assert artifacts.main(["--check"]) == 0, "run python -m perfeval_xl.workbook.artifacts"


def test_artifacts_check_names_stale_files(tmp_path, capsys):
    (tmp_path / "blank_hunan.xlsx").write_bytes(b"old")
    assert artifacts.main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "blank_hunan.xlsx" in err and "sample_quwo_2021.xlsx" in err
    assert artifacts.main(["--dir", str(tmp_path)]) == 0
    assert artifacts.stale(tmp_path) == []


@pytest.mark.slow
def test_libreoffice_opens_and_recalculates_the_sample(sample, tmp_path):
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    _, path = sample
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run(
        ["soffice", "--headless", "--norestore",
         f"-env:UserInstallation=file://{tmp_path / 'profile'}",
         "--convert-to", "xlsx", "--outdir", str(out), str(path)],
        capture_output=True, text=True, timeout=180)
    converted = out / path.name
    assert proc.returncode == 0 and converted.is_file(), proc.stderr
    wb = openpyxl.load_workbook(converted, data_only=True)
    assert cell(wb, "tasks_planned").value == 11
    assert cell(wb, "tasks_on_time").value == 10
    assert cell(wb, "key_tasks_completed").value == 4
    assert wb[L.SHEET_SCORES]["A1"].value == "曲沃县中小企业服务中心2021年度部门整体支出绩效自评表"
    _, rows = table(wb, "tbl_scores")
    mirrored = [r["三级指标"].value for r in rows if r["代码"].value == "custom_01"]
    assert mirrored == ["小升规净增企业数"]
