import dataclasses
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio_opt.payout import compute_payout, customer_targets
from portfolio_opt.payout.cents import to_cents
from portfolio_opt.payout.compute import PAYOUT_COLUMNS, held_types, payout_problems
from portfolio_opt.problems import ScenarioError

from .builders import build_scenario, plan

DOC = Path(__file__).parents[2] / "docs" / "payout.md"
MONEY = [
    "base_salary",
    "target_income",
    "increment_income",
    "excess_income",
    "adjustments",
    "performance_pay",
    "management_score",
    "actual_income",
    "carried_forward",
]


def _row(result, manager, period):
    table = result.table
    (index,) = table.index[(table["manager_id"] == manager) & (table["period"] == period)]
    return table.loc[index]


def test_worked_example_every_tier_a_penalty_a_credit_two_quarters(worked):
    scenario, assignment = worked
    result = compute_payout(scenario, assignment)
    assert list(result.table.columns[: len(PAYOUT_COLUMNS)]) == list(PAYOUT_COLUMNS)
    assert result.table["period"].tolist() == ["2024Q1", "2024Q2", "2024"] * 3
    # M1 Q1: 1% x 200,000 + 5% x 20,000 + 10% x (250,000 - 220,000)
    m1q1 = _row(result, "M1", "2024Q1")
    assert m1q1[["target_income", "increment_income", "excess_income"]].tolist() == [
        2000,
        1000,
        3000,
    ]
    assert m1q1["actual_income"] == 30_000 + 6_000 * 0.9
    # M1 Q2: YTD entitlement 5,000 < 6,000 paid: nothing paid, 1,000 carried forward
    m1q2 = _row(result, "M1", "2024Q2")
    assert (m1q2["performance_pay"], m1q2["carried_forward"]) == (0, 1000)
    assert m1q2["excess_income"] == -3000
    # M1's year: entitled to 5,000, advanced 6,000: the year end recovers 1,000
    m1 = _row(result, "M1", "2024")
    assert (m1["performance_pay"], m1["carried_forward"], m1["actual_income"]) == (
        5000,
        0,
        124_500,
    )
    assert (m1["paid_before"], m1["year_end_payment"]) == (6000, -1000)
    # M2: half of C5 credited, below stock, penalty in Q2
    m2q2 = _row(result, "M2", "2024Q2")
    assert (m2q2["target_income"], m2q2["adjustments"], m2q2["performance_pay"]) == (
        1300,
        -500,
        800,
    )
    m2 = _row(result, "M2", "2024")
    assert (m2["realised_profit"], m2["target"], m2["performance_pay"]) == (230_000, 295_000, 1800)
    assert m2["base_salary"] == 80_000  # junior
    assert m2["management_score"] == 1000  # the default
    # M3: beyond the target in both quarters
    m3 = _row(result, "M3", "2024")
    assert m3[["target_income", "increment_income", "excess_income"]].tolist() == [2500, 1250, 2500]
    assert m3["actual_income"] == 105_000
    assert result.warnings == []


def test_worked_example_adjustments_are_traced(worked):
    result = compute_payout(*worked)
    applied = result.adjustments_applied
    assert applied.to_dict("records") == [
        {
            "manager_id": "M2",
            "period": "2024Q2",
            "adjustment_period": "2024Q2",
            "kind": "penalty",
            "amount": -500.0,
            "note": "verified complaint",
            "source_row": 2,
        }
    ]
    assert (
        "penalty -500.00 (verified complaint)"
        in _row(result, "M2", "2024Q2")["applied_adjustments"]
    )


def _doc_table() -> pd.DataFrame:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- worked-example-payout -->\n(.*?)<!-- /worked-example-payout -->", text, re.S
    )
    assert block, "docs/payout.md lost its worked example table"
    lines = [line.strip().strip("|").split("|") for line in block.group(1).strip().splitlines()]
    header = [c.strip() for c in lines[0]]
    rows = [[c.strip().replace(",", "") for c in line] for line in lines[2:]]
    return pd.DataFrame(rows, columns=header)


def test_the_docs_show_what_the_code_computes(worked):
    doc = _doc_table()
    result = compute_payout(*worked).table
    assert doc["manager_id"].tolist() == result["manager_id"].tolist()
    assert doc["period"].tolist() == result["period"].tolist()
    for column in MONEY:
        assert doc[column].astype(float).tolist() == result[column].tolist(), column


def test_yearly_actuals_give_one_row_against_full_year_targets(worked):
    scenario, assignment = worked
    yearly = scenario.actuals.copy()
    yearly["period"] = "2024"  # the same income, booked for the whole year
    result = compute_payout(dataclasses.replace(scenario, actuals=yearly), assignment)
    table = result.table.set_index("manager_id")
    assert table["period"].tolist() == ["2024"] * 3
    assert table["target"].tolist() == [880_000, 590_000, 550_000]
    # half a year's income is below every stock: 1% of it
    assert table["target_income"].tolist() == [4200, 2300, 3000]
    assert table["increment_income"].sum() == table["excess_income"].sum() == 0
    # the Q2 penalty has no quarter row here and lands in the year
    assert table.loc["M2", ["adjustments", "performance_pay"]].tolist() == [-500, 1800]
    assert result.adjustments_applied["period"].tolist() == ["2024"]


def _single(actuals=None, adjustments=None, score=None, policy=None, credits=None):
    """One customer (stock 1,000, growth 10%) held by M1; M2 holds nothing; M3 is away."""
    managers = [
        {
            "manager_id": "M1",
            "grade": "A",
            "base_salary": 4000,
            "management_score": float("nan") if score is None else score,
        },
        {"manager_id": "M2", "grade": "A", "base_salary": 2000},
        {"manager_id": "M3", "grade": "A", "base_salary": 1000, "available": False},
    ]
    customers = [{"customer_id": "C", "customer_class": "key", "interest_income": 1000}]
    base = {
        "payout": {
            "year": 2024,
            "default_growth": 0.1,
            "rates": {"target": 0.01, "increment": 0.05, "excess": 0.1},
        }
    }
    for key, value in (policy or {}).items():
        base["payout"][key] = value
    scenario = build_scenario(
        customers, managers, actuals=actuals, adjustments=adjustments, credits=credits, policy=base
    )
    return scenario, plan({"C": "M1"})


def test_without_actuals_the_forecast_is_paid():
    result = compute_payout(*_single())
    m1 = _row(result, "M1", "2024")
    # P = T = 1,100: 1% x 1,000 + 5% x 100
    assert (m1["realised_profit"], m1["performance_pay"]) == (1100, 15)
    assert result.table["period"].tolist() == ["2024", "2024"]


def test_available_managers_without_customers_get_base_salary_only():
    result = compute_payout(*_single())
    m2 = _row(result, "M2", "2024")
    assert (m2["performance_pay"], m2["actual_income"]) == (0, 2000)
    assert "M3" not in set(result.table["manager_id"])  # away and holding nothing


def test_stop_forfeits_a_quarter():
    actuals = [{"customer_id": "C", "period": f"2024Q{q}", "interest_income": 300} for q in (1, 2)]
    adjustments = [
        {"manager_id": "M1", "period": "2024Q1", "kind": "stop", "note": "risk"},
        {"manager_id": "M1", "period": "2024Q3", "kind": "stop"},
    ]
    result = compute_payout(*_single(actuals, adjustments))
    # Q1: YTD S 250, I 25, P 300: 2.5 + 1.25 + 2.5 = 6.25, stopped
    q1, q2, year = (_row(result, "M1", p) for p in ("2024Q1", "2024Q2", "2024"))
    assert (q1["performance_pay"], q1["adjustments"]) == (0, -6.25)
    # Q2: YTD 12.50 - 6.25 forfeited
    assert q2["performance_pay"] == 6.25
    assert year["performance_pay"] == 6.25
    assert result.adjustments_applied["amount"].tolist() == [-6.25]
    (warning,) = result.warnings
    assert "2024Q3" in warning.message and warning.row == 3


def test_yearly_actuals_settle_the_year_after_quarterly_advances():
    actuals = [
        {"customer_id": "C", "period": "2024Q1", "interest_income": 300},
        {"customer_id": "C", "period": "2024Q2", "interest_income": 300},
        {"customer_id": "C", "period": "2024", "interest_income": 1300},
    ]
    result = compute_payout(*_single(actuals))
    q1, q2, year = (_row(result, "M1", p) for p in ("2024Q1", "2024Q2", "2024"))
    # Q1: 1% x 250 + 5% x 25 + 10% x 25; Q2 YTD 12.50 minus the 6.25 paid
    assert (q1["performance_pay"], q2["performance_pay"]) == (6.25, 6.25)
    # the year against the full year: 1% x 1,000 + 5% x 100 + 10% x 200
    assert (year["performance_pay"], year["paid_before"]) == (35, 12.5)


def test_a_unit_target_below_the_stock_is_warned_about():
    scenario, assignment = _single(policy={"unit_target": 900})
    result = compute_payout(scenario, assignment)
    assert _row(result, "M1", "2024")["target"] == 900
    (warning,) = result.warnings
    assert "exceeds the unit target" in warning.message
    assert result.reconciliation.method == "stock_share"


def test_separate_ledger_portfolios_use_their_own_rates():
    scenario, assignment = _single(
        policy={"separate_ledger": {"rates": {"target": 0.02}, "default_growth": 0.0}}
    )
    scenario.customers.loc[0, "separate_ledger"] = True
    assignment["portfolio_type"] = "separate_ledger"
    m1 = _row(compute_payout(scenario, assignment), "M1", "2024")
    # growth 0 for the separate ledger: P = T = S = 1,000 at 2%
    assert (m1["target"], m1["performance_pay"]) == (1000, 20)


def test_a_relabelled_portfolio_type_does_not_change_the_rates():
    """A plan edited to call a standard portfolio separate_ledger is paid as standard, with a
    warning naming the row."""
    policy = {"separate_ledger": {"rates": {"target": 0.02}, "default_growth": 0.0}}
    scenario, assignment = _single(policy=policy)
    honest = _row(compute_payout(scenario, assignment), "M1", "2024")
    assignment["portfolio_type"] = "separate_ledger"

    result = compute_payout(scenario, assignment)

    relabelled = _row(result, "M1", "2024")
    assert (relabelled["target"], relabelled["performance_pay"]) == (
        honest["target"],
        honest["performance_pay"],
    )
    (warning,) = [w for w in payout_problems(scenario, assignment) if w.column == "portfolio_type"]
    assert warning.row == 2 and "paid as standard" in warning.message


def test_a_separate_ledger_customer_moved_in_does_not_change_the_portfolios_rates():
    """Two standard customers and one separate-ledger customer moved in by hand: the
    portfolio is still paid at the standard rates."""
    customers = [
        {"customer_id": "C", "customer_class": "key", "interest_income": 1000},
        {"customer_id": "D", "customer_class": "key", "interest_income": 1000},
        {"customer_id": "L", "customer_class": "key", "separate_ledger": True},
    ]
    managers = [{"manager_id": "M1", "grade": "A"}, {"manager_id": "M2", "grade": "A"}]
    rates = {"target": 0.01, "increment": 0.05, "excess": 0.1}
    policy = {
        "payout": {
            "year": 2024,
            "default_growth": 0.1,
            "rates": rates,
            "separate_ledger": {"rates": {"target": 0.02}, "default_growth": 0.0},
        }
    }
    scenario = build_scenario(customers, managers, policy=policy)
    after = plan({"C": "M1", "D": "M1", "L": "M1"})
    assert held_types(scenario, after)["M1"] == "standard"
    before = _row(compute_payout(scenario, plan({"C": "M1", "D": "M1", "L": "M2"})), "M1", "2024")
    moved = _row(compute_payout(scenario, after), "M1", "2024")
    # standard: 1% of the stock of 2,000 and 5% of the increment of 200 (the separate
    # ledger's 2% and no growth would pay 40)
    assert moved["performance_pay"] == before["performance_pay"] == 30


def test_rates_per_income_type_apply_per_type():
    scenario, assignment = _single(
        actuals=[{"customer_id": "C", "period": "2024", "interest_income": 1200, "fee_income": 50}],
        policy={
            "rates": {
                "target": 0.01,
                "increment": 0.05,
                "excess": {"interest": 0.1, "deposit": 0.0, "fee": 0.2},
            }
        },
    )
    m1 = _row(compute_payout(scenario, assignment), "M1", "2024")
    # interest: 10 + 5 + 10% x 100; fee (no stock): 20% x 50
    assert m1[["target_income", "increment_income", "excess_income"]].tolist() == [10, 5, 20]


def test_bad_hand_made_tables_are_problems_not_crashes():
    scenario, assignment = _single()
    broken = dataclasses.replace(scenario, actuals=pd.DataFrame({"customer_id": ["C"]}))
    with pytest.raises(ScenarioError, match="column period is missing"):
        compute_payout(broken, assignment)
    with pytest.raises(ScenarioError, match="not in customers"):
        compute_payout(scenario, plan({"nobody": "M1"}))


def test_customers_outside_a_partial_plan_are_warned_about(worked):
    scenario, assignment = worked
    result = compute_payout(scenario, assignment.iloc[:3])
    messages = " ".join(w.message for w in result.warnings)
    assert "2 customer(s) are in no portfolio (C4, C5)" in messages
    assert "are for customers outside the assignment" in messages


def test_a_credit_to_a_manager_marked_unavailable_is_paid_with_a_warning():
    """M3 is away this year: a credit still pays them (their row, base salary included), and
    the planner is told so, with the row."""
    credits = [{"customer_id": "C", "manager_id": "M3", "share": 0.5}]
    result = compute_payout(*_single(credits=credits))

    m3 = _row(result, "M3", "2024")
    assert m3["base_salary"] == 1000 and m3["performance_pay"] > 0
    (warning,) = [w for w in result.warnings if "marked unavailable" in w.message]
    assert warning.row == 2 and warning.column == "manager_id"
    assert "credited a share of customer 'C'" in warning.message


# ---- properties --------------------------------------------------------------------------

amount = st.integers(-200, 3000)
quarter_actuals = st.lists(st.tuples(amount, amount), min_size=4, max_size=4)
FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pair(quarters):
    """Two customers (stocks 1,000 and 500) of M1 and M2, half of B credited to M1."""
    customers = [
        {"customer_id": "A", "customer_class": "key", "interest_income": 1000},
        {"customer_id": "B", "customer_class": "key", "fee_income": 500, "growth_rate": -0.1},
    ]
    managers = [
        {"manager_id": "M1", "grade": "A", "base_salary": 4000},
        {"manager_id": "M2", "grade": "A", "base_salary": 4000},
    ]
    actuals = [
        {"customer_id": c, "period": f"2024Q{q + 1}", "interest_income": v}
        for q, values in enumerate(quarters)
        for c, v in zip("AB", values, strict=True)
    ]
    policy = {"payout": {"year": 2024, "rates": {"target": 0.01, "increment": 0.05, "excess": 0.1}}}
    scenario = build_scenario(
        customers,
        managers,
        actuals=actuals,
        policy=policy,
        credits=[{"customer_id": "B", "manager_id": "M1", "share": 0.5}],
    )
    return scenario, plan({"A": "M1", "B": "M2"})


@FAST
@given(quarters=quarter_actuals)
def test_the_yearly_settlement_pays_the_years_entitlement_whatever_the_quarters_paid(quarters):
    scenario, assignment = _pair(quarters)
    table = compute_payout(scenario, assignment).table
    yearly_actuals = scenario.actuals.copy()
    yearly_actuals["period"] = "2024"  # the same income, booked for the year
    yearly = compute_payout(dataclasses.replace(scenario, actuals=yearly_actuals), assignment)
    for manager in ("M1", "M2"):
        rows = table[table["manager_id"] == manager]
        quarters_paid = rows["performance_pay"].iloc[:4].sum()
        year = rows.iloc[4]
        alone = _row(yearly, manager, "2024")
        tiers = ["target_income", "increment_income", "excess_income", "realised_profit"]
        assert year[tiers].tolist() == alone[tiers].tolist()
        # what a yearly-only payout pays; the year end pays the rest or recovers the excess
        assert year["performance_pay"] == pytest.approx(alone["performance_pay"], abs=1e-9)
        assert year["paid_before"] == pytest.approx(quarters_paid, abs=1e-9)
        assert year["year_end_payment"] == pytest.approx(
            alone["performance_pay"] - quarters_paid, abs=1e-9
        )


@FAST
@given(yearly=st.tuples(st.integers(0, 1000), st.integers(0, 1000)))
def test_quarters_in_step_with_the_weights_pay_exactly_the_yearly_amount(yearly):
    quarters = [(4 * a, 4 * b) for a, b in [yearly] * 4]  # each quarter a quarter of the year
    scenario, assignment = _pair(quarters)
    table = compute_payout(scenario, assignment).table
    yearly_actuals = scenario.actuals.copy()
    yearly_actuals["period"] = "2024"
    alone = compute_payout(dataclasses.replace(scenario, actuals=yearly_actuals), assignment)
    for manager in ("M1", "M2"):
        rows = table[table["manager_id"] == manager]
        assert rows["performance_pay"].iloc[:4].sum() == pytest.approx(
            _row(alone, manager, "2024")["performance_pay"], abs=1e-9
        )
        assert (rows["carried_forward"] == 0).all()


@FAST
@given(
    quarters=quarter_actuals,
    penalty=st.integers(-500, 0),
    salary=st.integers(0, 9000),
)
def test_zero_score_gives_base_salary(quarters, penalty, salary):
    scenario, assignment = _pair(quarters)
    scenario.managers["management_score"] = 0.0
    scenario.managers["base_salary"] = float(salary)
    scenario = dataclasses.replace(
        scenario,
        adjustments=pd.DataFrame(
            {
                "manager_id": ["M1"],
                "period": ["2024Q2"],
                "kind": ["penalty"],
                "amount": [float(penalty)],
                "note": [""],
            }
        ),
    )
    table = compute_payout(scenario, assignment).table
    yearly = table["period"] == "2024"
    assert (table.loc[yearly, "actual_income"] == salary).all()
    assert (table.loc[~yearly, "actual_income"] == to_cents(salary / 4) / 100).all()


@FAST
@given(
    p=st.integers(-500, 5000),
    dp=st.integers(0, 2000),
    score=st.integers(0, 1000),
    adjustment=st.integers(-100, 100),
)
def test_pay_is_non_decreasing_and_continuous_in_realised_profit(p, dp, score, adjustment):
    adjustments = [{"manager_id": "M1", "period": "2024", "amount": adjustment}]

    def pay(profit):
        actuals = [{"customer_id": "C", "period": "2024", "interest_income": profit / 100}]
        result = compute_payout(*_single(actuals, adjustments, score=score))
        row = _row(result, "M1", "2024")
        return row["performance_pay"], row["actual_income"]

    (low_pay, low_income), (high_pay, high_income) = pay(p * 100), pay((p + dp) * 100)
    assert high_pay >= low_pay and high_income >= low_income
    # no jump: at most the highest rate (10%) per unit of profit, plus a cent of rounding
    assert high_pay - low_pay <= 0.1 * dp + 0.01


@FAST
@given(
    shares=st.lists(st.floats(0, 0.3), min_size=3, max_size=3),
    income=st.lists(st.integers(-10_000, 10_000_000), min_size=3, max_size=3),
    unit_target=st.one_of(st.none(), st.integers(1, 30_000_000)),
)
def test_credits_conserve_income_and_targets(shares, income, unit_target):
    customers = [
        {"customer_id": f"C{i}", "customer_class": "key", "deposit_income": abs(v) / 7 + 1}
        for i, v in enumerate(income)
    ]
    managers = [{"manager_id": f"M{i}", "grade": "A"} for i in range(3)]
    actuals = [
        {"customer_id": f"C{i}", "period": "2024", "fee_income": v / 100}
        for i, v in enumerate(income)
    ]
    credits = [
        {"customer_id": "C0", "manager_id": "M1", "share": shares[0]},
        {"customer_id": "C0", "manager_id": "M2", "share": shares[1]},
        {"customer_id": "C2", "manager_id": "M0", "share": shares[2]},
        {"customer_id": "C1", "manager_id": "M1", "share": shares[2]},  # to its own holder
    ]
    policy = {"payout": {"year": 2024, "unit_target": unit_target}}
    scenario = build_scenario(customers, managers, actuals=actuals, credits=credits, policy=policy)
    assignment = plan({"C0": "M0", "C1": "M1", "C2": "M1"})
    table = compute_payout(scenario, assignment).table
    year = table[table["period"] == "2024"]
    assert to_cents(year["realised_profit"]).sum() == sum(income)
    targets = customer_targets(scenario.customers, scenario.policy)
    assert to_cents(year["target"]).sum() == to_cents(targets["target"]).sum()
    if unit_target is not None:
        assert to_cents(year["target"]).sum() == unit_target * 100
