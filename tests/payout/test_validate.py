import dataclasses

import pandas as pd
import pytest

from portfolio_opt.payout import compute_payout, validate_payout_inputs
from portfolio_opt.payout.validate import assignment_problems
from portfolio_opt.problems import ScenarioError
from portfolio_opt.scenario.policy import Rates
from portfolio_opt.scenario.schema import INCOME_COLUMNS

from .builders import build_scenario, plan, table, worked_example


def _with(scenario, name, rows):
    """The scenario with ``rows`` appended to table ``name`` (the new rows come last)."""
    current = getattr(scenario, name)
    extra = table(name, rows)
    return dataclasses.replace(scenario, **{name: pd.concat([current, extra], ignore_index=True)})


def _problems(scenario):
    return validate_payout_inputs(
        scenario.customers,
        scenario.managers,
        scenario.actuals,
        scenario.adjustments,
        scenario.credits,
        scenario.policy,
        {"actuals": "ist.xlsx"},
    )


def test_the_worked_example_is_clean():
    scenario, _ = worked_example()
    assert _problems(scenario) == []


BAD = [
    # (table, rows appended, file, row, column, words in the message)
    # actuals for a customer nobody knows
    (
        "actuals",
        [{"customer_id": "C9", "period": "2024Q1"}],
        "ist.xlsx",
        12,
        "customer_id",
        "'C9' is not in customers",
    ),
    # a fifth quarter
    (
        "actuals",
        [{"customer_id": "C1", "period": "2024Q5"}],
        "ist.xlsx",
        12,
        "period",
        "is not a year",
    ),
    # last year's actuals in this year's payout
    (
        "actuals",
        [{"customer_id": "C1", "period": "2023Q4"}],
        "ist.xlsx",
        12,
        "period",
        "outside the payout year 2024",
    ),
    # adjustment for an unknown manager
    (
        "adjustments",
        [{"manager_id": "M9", "period": "2024"}],
        "adjustments.csv",
        3,
        "manager_id",
        "'M9' is not in managers",
    ),
    # adjustment with a period that is not one
    (
        "adjustments",
        [{"manager_id": "M1", "period": "Q2"}],
        "adjustments.csv",
        3,
        "period",
        "is not a year",
    ),
    # adjustment for next year
    (
        "adjustments",
        [{"manager_id": "M1", "period": "2025"}],
        "adjustments.csv",
        3,
        "period",
        "outside the payout year",
    ),
    # credit of an unknown customer
    (
        "credits",
        [{"customer_id": "C9", "manager_id": "M1", "share": 0.1}],
        "credits.csv",
        3,
        "customer_id",
        "'C9' is not in customers",
    ),
    # credit to an unknown manager
    (
        "credits",
        [{"customer_id": "C1", "manager_id": "M9", "share": 0.1}],
        "credits.csv",
        3,
        "manager_id",
        "'M9' is not in managers",
    ),
    # share above 1
    (
        "credits",
        [{"customer_id": "C1", "manager_id": "M2", "share": 1.5}],
        "credits.csv",
        3,
        "share",
        "not a number from 0 to 1",
    ),
    # negative share
    (
        "credits",
        [{"customer_id": "C1", "manager_id": "M2", "share": -0.1}],
        "credits.csv",
        3,
        "share",
        "not a number from 0 to 1",
    ),
    # C5 already gives 0.5 to M2; another 0.6 makes 1.1
    (
        "credits",
        [{"customer_id": "C5", "manager_id": "M1", "share": 0.6}],
        "credits.csv",
        2,
        "share",
        "add up to 1.1, more than 1 (rows 2, 3)",
    ),
]


@pytest.mark.parametrize(("name", "rows", "file", "row", "column", "words"), BAD)
def test_bad_inputs_are_listed_and_stop_the_payout(name, rows, file, row, column, words):
    scenario, assignment = worked_example()
    scenario = _with(scenario, name, rows)
    errors = [p for p in _problems(scenario) if p.is_error]
    assert [(p.file, p.row, p.column) for p in errors] == [(file, row, column)]
    assert words in errors[0].message
    with pytest.raises(ScenarioError) as caught:
        compute_payout(scenario, assignment)
    assert any(words in p.message for p in caught.value.problems)


def test_text_in_a_number_column_of_a_hand_made_table():
    scenario, _ = worked_example()
    actuals = scenario.actuals.astype(object)
    actuals.loc[3, "interest_income"] = "lots"
    problems = _problems(dataclasses.replace(scenario, actuals=actuals))
    assert [(p.row, p.column) for p in problems] == [(5, "interest_income")]


def test_negative_rates_are_errors():
    scenario, _ = worked_example()
    rates = Rates.model_construct(target=-0.01, increment={"fee": -1.0}, excess=0.1)
    payout = scenario.policy.payout.model_copy(update={"rates": rates})
    policy = scenario.policy.model_copy(update={"payout": payout})
    problems = _problems(dataclasses.replace(scenario, policy=policy))
    assert [p.column for p in problems] == ["payout.rates.target", "payout.rates.increment"]
    assert all(p.file == "scenario.toml" and "below 0" in p.message for p in problems)


def test_growth_below_minus_one_is_an_error():
    scenario, _ = worked_example()
    # A policy built in code, past the policy file's own check.
    payout = scenario.policy.payout.model_copy(update={"growth": {"key": -1.5}})
    policy = scenario.policy.model_copy(update={"payout": payout})
    (problem,) = _problems(dataclasses.replace(scenario, policy=policy))
    assert problem.is_error and problem.column == "payout.growth.key"


def test_a_credit_to_the_holder_is_fine_and_unknown_kinds_are_warnings():
    scenario, _ = worked_example()
    scenario = _with(scenario, "credits", [{"customer_id": "C1", "manager_id": "M1", "share": 0.2}])
    scenario = _with(
        scenario, "adjustments", [{"manager_id": "M1", "period": "2024", "kind": "fine"}]
    )
    problems = _problems(scenario)
    assert [(p.is_error, p.row, p.column) for p in problems] == [(False, 3, "kind")]


def test_missing_staff_level_salary_is_a_warning():
    scenario, _ = worked_example()
    scenario = _with(
        scenario, "managers", [{"manager_id": "M4", "grade": "C", "staff_level": "intern"}]
    )
    (problem,) = _problems(scenario)
    assert not problem.is_error
    assert (problem.file, problem.row, problem.column) == ("managers.csv", 5, "staff_level")


def test_assignment_problems():
    scenario, _ = worked_example()
    assignment = pd.concat(
        [plan({"C1": "M1", "C9": "M1", "C2": "M7"}), plan({"C1": "M2"}, "fancy")],
        ignore_index=True,
    )
    problems = assignment_problems(assignment, scenario.customers, scenario.managers)
    assert [(p.row, p.column) for p in problems if p.is_error] == [
        (3, "customer_id"),  # unknown customer
        (4, "manager_id"),  # unknown manager
        (5, "customer_id"),  # C1 twice
        (5, "portfolio_type"),  # not a portfolio type
    ]
    left_out = sorted(set(scenario.customers["customer_id"]) - {"C1", "C2"})
    assert [p.message for p in problems if not p.is_error] == [
        f"{len(left_out)} customer(s) are in no portfolio ({', '.join(left_out)}): their income "
        "counts for no manager"
    ]
    assert [
        p.message
        for p in assignment_problems(pd.DataFrame(), scenario.customers, scenario.managers)
    ] == ["column customer_id is missing", "column manager_id is missing"]


def _warnings(scenario):
    return [(p.row, p.column, p.message) for p in _problems(scenario) if not p.is_error]


def test_a_quarter_missing_before_a_later_one_is_a_warning():
    """Q3 has no rows while Q4 has: the year to date would take Q3's income as 0."""
    scenario, _ = worked_example()
    scenario = _with(
        scenario,
        "actuals",
        [{"customer_id": c, "period": "2024Q4"} for c in ["C1", "C2", "C3", "C4", "C5"]],
    )
    assert _warnings(scenario) == [
        (
            None,
            "period",
            "no actuals for 2024Q3, though 2024Q4 has some: the year to date would count "
            "2024Q3's income as 0",
        )
    ]


def test_a_customer_missing_a_quarter_others_have_is_a_warning_naming_it():
    """C5 has 2024Q1 but not 2024Q2, which every other customer has: its Q2 counts as 0."""
    scenario, _ = worked_example()
    actuals = scenario.actuals
    dropped = actuals[~((actuals["customer_id"] == "C5") & (actuals["period"] == "2024Q2"))]
    (warning,) = _warnings(dataclasses.replace(scenario, actuals=dropped))
    assert warning[1] == "period"
    assert "1 customer(s) have no rows for a quarter that others have: C5 (2024Q2)" in warning[2]


def test_a_customer_without_actuals_rows_is_a_warning_naming_it():
    scenario, _ = worked_example()
    actuals = scenario.actuals[scenario.actuals["customer_id"] != "C5"]
    (warning,) = _warnings(dataclasses.replace(scenario, actuals=actuals))
    assert warning[1] == "customer_id"
    assert "1 customer(s) have no actuals rows (C5)" in warning[2]


def test_a_yearly_row_unlike_the_sum_of_its_four_quarters_is_a_warning_naming_the_customer():
    """Both kinds of rows: the year is settled on the yearly row, so a planner must learn
    that it disagrees with the quarters (a cent's rounding does not count)."""
    quarters = [
        {"customer_id": c, "period": f"2024Q{q}", "interest_income": 100.0}
        for c in ("A", "B", "C")
        for q in range(1, 5)
    ]
    years = [
        {"customer_id": "A", "period": "2024", "interest_income": 400.004},  # rounding
        {"customer_id": "B", "period": "2024", "interest_income": 460.0},
        {"customer_id": "C", "period": "2024", "interest_income": 400.0, "fee_income": 5.0},
    ]
    customers = [{"customer_id": c, "customer_class": "key"} for c in "ABC"]
    managers = [{"manager_id": "M1", "grade": "A"}]
    scenario = build_scenario(
        customers, managers, actuals=quarters + years, policy={"payout": {"year": 2024}}
    )
    (warning,) = [w for w in _warnings(scenario) if "differs from the sum" in w[2]]
    assert warning[:2] == (2, "period")
    assert (
        "2 customer(s) have a 2024 row that differs from the sum of their four quarter "
        in (warning[2])
    )
    assert "(B, C)" in warning[2]


def test_customers_with_different_kinds_of_rows_are_a_warning_naming_them():
    scenario, _ = worked_example()
    actuals = scenario.actuals[scenario.actuals["customer_id"] != "C5"]
    actuals = pd.concat([actuals, table("actuals", [{"customer_id": "C5", "period": "2024"}])])
    (warning,) = _warnings(dataclasses.replace(scenario, actuals=actuals.reset_index(drop=True)))
    assert warning[:2] == (2, "period")
    assert "1 customer(s) have a yearly row only (C5)" in warning[2]
    assert "4 customer(s) have quarter rows only, up to 2024Q2 (C1, C2, C3, C4)" in warning[2]


def test_a_yearly_row_beside_every_customers_quarters_is_no_warning():
    scenario, _ = worked_example()
    yearly = table("actuals", [{"customer_id": f"C{i}", "period": "2024"} for i in range(1, 6)])
    actuals = pd.concat([scenario.actuals, yearly]).reset_index(drop=True)
    assert _warnings(dataclasses.replace(scenario, actuals=actuals)) == []


def test_a_row_pasted_twice_is_a_warning_naming_the_first():
    scenario, _ = worked_example()
    copy = scenario.actuals.iloc[[0]]
    scenario = dataclasses.replace(scenario, actuals=pd.concat([scenario.actuals, copy]))
    assert _warnings(scenario) == [(12, None, "the same in every cell as row 2: both are added up")]


def _issued_again(actuals: pd.DataFrame, period: str = "2024Q1") -> pd.DataFrame:
    again = actuals[actuals["period"] == period].copy()
    again["interest_income"] = pd.to_numeric(again["interest_income"]) + 1.0
    return again


def test_a_quarter_issued_again_under_the_first_issue_is_a_warning_naming_both_blocks():
    """Accounting re-issues Q1 and the planner pastes it below: every customer's Q1 twice."""
    scenario, _ = worked_example()
    actuals = scenario.actuals
    again = _issued_again(actuals)
    n = len(actuals)

    (warning,) = _warnings(dataclasses.replace(scenario, actuals=pd.concat([actuals, again])))

    assert warning[:2] == (n + 2, "period")
    assert f"2024Q1 actuals are listed again from row {n + 2}" in warning[2]
    assert f"{len(again)} of {len(again)} customers, other figures in interest_income" in warning[2]
    assert "count twice in 2024Q1" in warning[2]


def test_a_quarter_issued_again_without_one_customer_or_after_parts_rows_is_told_too():
    scenario, _ = worked_example()
    actuals = scenario.actuals
    q1 = actuals[actuals["period"] == "2024Q1"]
    parts = pd.concat([q1.iloc[[0]].assign(fee_income=0.0), q1])  # one customer in two rows
    rest = actuals[actuals["period"] != "2024Q1"]
    for given in (
        pd.concat([actuals, _issued_again(actuals).iloc[1:]]),  # the re-issue lacks one
        pd.concat([parts, rest, _issued_again(actuals)]),
    ):
        found = _warnings(dataclasses.replace(scenario, actuals=given.reset_index(drop=True)))
        assert any("listed again" in message for _, _, message in found), found


def test_parts_of_a_customers_income_on_rows_of_their_own_are_no_warning():
    """Rows a customer at a time (an interest row, then a fee row) are parts that add up, and
    so are blocks that fill different columns (a loans export, then deposits and fees)."""
    scenario, _ = worked_example()
    actuals = scenario.actuals
    parts = pd.concat([actuals, actuals.assign(interest_income=0.25)]).sort_index(kind="stable")
    assert _warnings(dataclasses.replace(scenario, actuals=parts.reset_index(drop=True))) == []
    income = [c for c in INCOME_COLUMNS if c in actuals.columns]
    loans = actuals.assign(**{c: 0.0 for c in income if c != "interest_income"})
    rest = actuals.assign(interest_income=0.0)
    blocks = pd.concat([loans, rest]).reset_index(drop=True)
    assert _warnings(dataclasses.replace(scenario, actuals=blocks)) == []


def test_a_reward_without_an_amount_and_a_stop_with_one_are_warnings():
    scenario, _ = worked_example()
    rows = [
        {"manager_id": "M1", "period": "2024", "kind": "reward"},
        {"manager_id": "M1", "period": "2024", "kind": "stop", "amount": 5000},
        {"manager_id": "M1", "period": "2024", "kind": "penalty", "amount": 300},
    ]
    scenario = _with(scenario, "adjustments", rows)
    first = len(scenario.adjustments) - 1  # the spreadsheet row of the first new one
    assert _warnings(scenario) == [
        (first, "amount", "a reward of 0 (or blank) changes nothing"),
        (first + 1, "amount", "a stop with an amount (5000): the period's performance pay stops"),
    ]


def test_a_reward_or_bonus_written_negative_is_warned_about_as_paid_positive():
    """A clawback written as a negative bonus would raise pay: the planner is told."""
    scenario, _ = worked_example()
    rows = [
        {"manager_id": "M1", "period": "2024", "kind": "bonus", "amount": -12},
        {"manager_id": "M1", "period": "2024", "kind": "reward", "amount": 12},
    ]
    scenario = _with(scenario, "adjustments", rows)
    first = len(scenario.adjustments) - len(rows) + 2  # its spreadsheet row
    assert _warnings(scenario) == [
        (first, "amount", "a reward written as -12 is paid as +12: a reward raises pay"),
    ]
