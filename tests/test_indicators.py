"""Each §4.4 formula with ordinary, blank and zero inputs (pure functions, no workbook)."""

from decimal import Decimal as D

import pytest

from perfeval_xl import catalogue
from perfeval_xl.indicators import compute, compute_rate, derived_values, input_names, rate

SAMPLE = dict(
    budget_initial=D("388.46"), budget_adjusted=D("620.47"), carryover_prior=D("84.62"),
    other_funds=D("42.34"), spending_total=D("734.63"),
)

# code -> (inputs, expected percent rounded to 2 places)
ORDINARY = {
    "staff_control_rate": (dict(staff_actual=D(33), staff_authorized=D(35)), "94.29"),
    "three_public_change_rate": (
        dict(three_public_budget=D("4.5"), three_public_prior_budget=D("5")), "-10.00"),
    "key_spending_rate": (dict(key_project_budget=D(300), project_budget_total=D(500)), "60.00"),
    "budget_completion_rate": (SAMPLE, "98.29"),
    "budget_adjustment_rate": (SAMPLE, "59.73"),
    "payment_progress_rate": (
        dict(payment_progress_actual=D(95), payment_progress_planned=D(100)), "95.00"),
    "carryover_rate": (SAMPLE, "1.71"),
    "carryover_change_rate": (SAMPLE, "-84.87"),
    "public_funds_control_rate": (
        dict(public_funds_actual=D(18), public_funds_budget=D(20)), "90.00"),
    "three_public_control_rate": (
        dict(three_public_actual=D("3.2"), three_public_budget=D(4)), "80.00"),
    "procurement_execution_rate": (
        dict(procurement_actual=D(45), procurement_budget=D(50)), "90.00"),
    "asset_utilization_rate": (dict(assets_in_use=D(96), assets_total=D(100)), "96.00"),
    "task_completion_rate": (dict(tasks_completed=D(10), tasks_planned=D(11)), "90.91"),
    "task_timeliness_rate": (dict(tasks_on_time=D(9), tasks_planned=D(11)), "81.82"),
    "task_quality_rate": (dict(tasks_quality_ok=D(11), tasks_planned=D(11)), "100.00"),
    "key_task_completion_rate": (dict(key_tasks_completed=D(4), key_tasks_assigned=D(4)), "100.00"),
}


def test_every_rate_of_the_catalogue_is_covered():
    rates = {c for c, i in catalogue.indicators().items() if i.kind == "rate"}
    assert rates == set(ORDINARY)


@pytest.mark.parametrize("code", sorted(ORDINARY))
def test_ordinary(code):
    values, expected = ORDINARY[code]
    calc = compute(code, values)
    assert calc.value is not None
    assert f"{calc.value:.2f}" == expected


@pytest.mark.parametrize("code", sorted(ORDINARY))
def test_blank_inputs_give_none_and_a_note(code):
    value, note = compute_rate(code, {})
    assert value is None
    assert "未填写" in note


@pytest.mark.parametrize("code", sorted(ORDINARY))
def test_zero_denominator(code):
    values = dict(ORDINARY[code][0])
    den = catalogue.indicators()[code].denominator
    # Make the denominator exactly zero, the numerator non-zero.
    if code in ("budget_completion_rate", "carryover_rate"):
        values = dict(budget_adjusted=D(0), carryover_prior=D(0), other_funds=D(0),
                      spending_total=D(0), balance_closing=D(5))
    else:
        values[den.split()[0]] = D(0)
        if code == "carryover_change_rate":
            values["balance_closing"] = D(5)
    calc = compute(code, values)
    assert calc.value is None
    assert calc.zero_denominator
    assert "为0" in calc.note


def test_budget_completion_matches_the_seed():
    # 734.63 / (620.47 + 84.62 + 42.34) = 98.29 %
    calc = compute("budget_completion_rate", SAMPLE)
    assert calc.denominator == D("747.43")
    assert calc.numerator == D("734.63")
    assert round(calc.value, 2) == D("98.29")


def test_balance_closing_given_wins_over_derivation():
    calc = compute("budget_completion_rate", dict(SAMPLE, balance_closing=D("20")))
    assert calc.numerator == D("727.43")


def test_optional_addends_count_as_zero_with_a_note():
    calc = compute("budget_completion_rate", dict(budget_adjusted=D(100), spending_total=D(90)))
    assert calc.value == D(90)
    assert "上年结转结余资金" in calc.note and "按0计算" in calc.note


def test_optional_addend_alone_as_denominator_is_none():
    # carryover_prior is optional in sums, but a blank divisor still makes the rate null.
    value, note = compute_rate("carryover_change_rate", dict(SAMPLE, carryover_prior=None))
    assert value is None
    assert "上年结转结余资金" in note


def test_three_public_zero_over_zero_is_no_increase():
    calc = compute("three_public_change_rate",
                   dict(three_public_budget=D(0), three_public_prior_budget=D(0)))
    assert calc.value == D(0)
    assert "视为未增加" in calc.note
    calc = compute("three_public_change_rate",
                   dict(three_public_budget=D(1), three_public_prior_budget=D(0)))
    assert calc.value is None and calc.zero_denominator


def test_input_names_and_derived_values():
    assert input_names("staff_control_rate") == ["staff_actual", "staff_authorized"]
    assert input_names("budget_completion_rate") == [
        "budget_adjusted", "carryover_prior", "other_funds", "balance_closing", "spending_total"]
    assert input_names("goal_rationality") == []
    d = derived_values(SAMPLE)
    assert d["funds_available"] == D("747.43")
    assert d["balance_closing"] == D("12.80")


def test_plain_rate():
    assert rate(D(1), D(4)) == D(25)
    assert rate(D(1), D(0)) is None
    assert rate(None, D(3)) is None


@pytest.mark.parametrize("name", catalogue.PRESETS)
def test_every_preset_sums_to_100(name):
    p = catalogue.preset(name)
    assert p.total_weight == 100
    assert all(r.rule for r in p.rows)
    codes = [r.code for r in p.rows]
    assert len(codes) == len(set(codes))
    assert set(codes) <= set(catalogue.indicators())
