import shutil
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from portfolio_opt.payout.cents import to_cents
from portfolio_opt.payout.notices import unit_target_notice
from portfolio_opt.payout.targets import (
    customer_growth,
    customer_targets,
    portfolio_targets,
    target_reconciliation,
)
from portfolio_opt.scenario.policy import Policy

from .builders import plan, table, worked_example


def _policy(**payout):
    return Policy.model_validate({"payout": payout})


def test_growth_is_own_rate_else_class_default_else_default():
    customers = table(
        "customers",
        [
            {"customer_id": "own", "customer_class": "key", "growth_rate": 0.3},
            {"customer_id": "class", "customer_class": "key"},
            {"customer_id": "default", "customer_class": "basic"},
            {"customer_id": "ledger", "customer_class": "key", "separate_ledger": True},
            {"customer_id": "ledger_default", "customer_class": "basic", "separate_ledger": True},
        ],
    )
    policy = _policy(
        growth={"key": 0.1},
        default_growth=0.05,
        separate_ledger={"growth": {"key": 0.02}, "default_growth": 0.01},
    )
    growth = customer_growth(customers, policy)
    assert growth.to_dict() == {
        "own": 0.3,
        "class": 0.1,
        "default": 0.05,
        "ledger": 0.02,
        "ledger_default": 0.01,
    }


def test_separate_ledger_without_override_uses_the_normal_growth():
    customers = table(
        "customers", [{"customer_id": "L", "customer_class": "key", "separate_ledger": True}]
    )
    assert customer_growth(customers, _policy(growth={"key": 0.1}))["L"] == 0.1


def test_targets_of_the_worked_example():
    scenario, _ = worked_example()
    targets = customer_targets(scenario.customers, scenario.policy)
    assert targets.loc["C2", "fee_base"] == 100_000  # 20,000 foreign x 5
    assert targets["stock_target"].to_dict() == {
        "C1": 600_000,
        "C2": 200_000,
        "C3": 400_000,
        "C4": 400_000,
        "C5": 200_000,
    }
    assert targets.loc["C3", "increment_target"] == 80_000  # own growth 20%
    assert targets.loc["C1", "interest_target"] == 550_000
    assert (targets["target"] == targets["stock_target"] + targets["increment_target"]).all()


def test_unit_target_scales_every_increment_by_one_factor():
    scenario, _ = worked_example()
    policy = scenario.policy.updated({"payout.unit_target": 2_130_000})
    targets = customer_targets(scenario.customers, policy)
    # S = 1,800,000, forecast increments 220,000: factor (2,130,000 - 1,800,000) / 220,000
    assert target_reconciliation(scenario.customers, policy).factor == pytest.approx(1.5)
    assert targets["increment_target"].to_dict() == {
        "C1": 90_000,
        "C2": 30_000,
        "C3": 120_000,
        "C4": 60_000,
        "C5": 30_000,
    }
    assert targets["target"].sum() == 2_130_000


def test_a_unit_target_above_the_stock_scales_the_growth_and_keeps_the_declines():
    customers = table(
        "customers",
        [
            {
                "customer_id": "G",
                "customer_class": "key",
                "interest_income": 100_000.0,
                "growth_rate": 0.12,
            },
            {
                "customer_id": "X",
                "customer_class": "exit",
                "interest_income": 50_000.0,
                "growth_rate": -0.2,
            },
        ],
    )
    # Net forecast 12,000 - 10,000 = 2,000 for a gap of 50,000: scaling the net figure by 25
    # would give X a target of 50,000 - 250,000 < 0.
    policy = _policy(unit_target=200_000)
    targets = customer_targets(customers, policy)
    assert targets["increment_target"].to_dict() == {"G": 60_000, "X": -10_000}
    assert target_reconciliation(customers, policy).factor == pytest.approx(5.0)
    assert "growth scaled by 5" in target_reconciliation(customers, policy).message


def test_declines_that_would_take_a_target_below_zero_are_not_scaled():
    customers = table(
        "customers",
        [
            {
                "customer_id": "A",
                "customer_class": "key",
                "interest_income": 1000.0,
                "growth_rate": -0.001,
            },
            {
                "customer_id": "B",
                "customer_class": "key",
                "interest_income": 10.0,
                "growth_rate": -0.5,
            },
        ],
    )
    # Scaling the declines (-1 and -5) to the gap of -510 would give B 10 - 425 < 0.
    policy = _policy(unit_target=505)
    reconciliation = target_reconciliation(customers, policy)
    assert reconciliation.method == "stock_share"
    assert "would take a target below zero" in reconciliation.message
    assert customer_targets(customers, policy)["target"].to_dict() == {"A": 500, "B": 5}


def test_a_unit_target_far_above_the_stock_is_warned_about():
    scenario, _ = worked_example()
    plausible = target_reconciliation(
        scenario.customers, scenario.policy.updated({"payout.unit_target": 2_130_000})
    )
    assert unit_target_notice(plausible) == []
    stray_zero = target_reconciliation(
        scenario.customers, scenario.policy.updated({"payout.unit_target": 21_300_000})
    )
    [warning] = unit_target_notice(stray_zero)
    assert warning.column == "payout.unit_target" and not warning.is_error
    # S = 1,800,000: 21,300,000 is 1083% above it, increments x 88.6
    assert "1083% above the customers' stock (1,800,000.00)" in warning.message
    assert "88.6" in warning.message and "zero too many" in warning.hint


def test_stock_above_the_unit_target_cuts_targets_in_proportion_to_stock():
    scenario, _ = worked_example()
    policy = scenario.policy.updated({"payout.unit_target": 1_620_000})
    targets = customer_targets(scenario.customers, policy)
    reconciliation = target_reconciliation(scenario.customers, policy)
    assert reconciliation.method == "stock_share"
    assert "exceeds the unit target" in reconciliation.message
    # every target is 0.9 x its stock, whatever the customer's growth
    assert targets["target"].to_dict() == {
        "C1": 540_000,
        "C2": 180_000,
        "C3": 360_000,
        "C4": 360_000,
        "C5": 180_000,
    }
    assert targets.loc["C1", "interest_target"] == 450_000
    assert (targets["increment_target"] < 0).all()


def test_no_stock_means_the_unit_target_cannot_be_reached():
    customers = table("customers", [{"customer_id": "A", "customer_class": "key"}])
    policy = _policy(unit_target=1000)
    assert target_reconciliation(customers, policy).method == "unreachable"
    assert customer_targets(customers, policy)["target"].sum() == 0


def test_without_unit_target_there_is_no_reconciliation():
    scenario, _ = worked_example()
    assert target_reconciliation(scenario.customers, scenario.policy) is None


def test_portfolio_targets_sum_the_customers_per_manager():
    scenario, assignment = worked_example()
    portfolios = portfolio_targets(assignment, scenario.customers, scenario.policy)
    assert list(portfolios.index) == ["M1", "M2", "M3"]
    assert portfolios.loc["M1", ["stock_target", "increment_target", "target"]].tolist() == [
        800_000,
        80_000,
        880_000,
    ]
    assert portfolios.loc["M3", "fee_base"] == 200_000  # before the credit to M2
    assert list(portfolios.columns[:6]) == [
        "interest_base",
        "deposit_base",
        "fee_base",
        "stock_target",
        "increment_target",
        "target",
    ]


money = st.floats(min_value=0, max_value=5e6, allow_nan=False).map(lambda x: round(x, 3))


# a forecast too small to scale (a growth of -2e-311)
@example([(0.0, 0.0, 0.0, 2.0, -2.2e-311, False)], 1.0, 1.0, 1)
@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            money,
            money,
            money,
            money,
            st.one_of(st.none(), st.floats(-0.5, 0.8)),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    ),
    unit_target=st.floats(min_value=1, max_value=5e7),
    fx_rate=st.floats(min_value=0.1, max_value=10),
    managers=st.integers(1, 3),
)
def test_reconciliation_hits_the_unit_target_to_the_cent(rows, unit_target, fx_rate, managers):
    customers = table(
        "customers",
        [
            {
                "customer_id": f"C{i}",
                "customer_class": "key",
                "interest_income": interest,
                "deposit_income": deposit,
                "fee_income": fee,
                "fee_income_fx": fee_fx,
                "growth_rate": float("nan") if growth is None else growth,
                "separate_ledger": ledger,
            }
            for i, (interest, deposit, fee, fee_fx, growth, ledger) in enumerate(rows)
        ],
    )
    policy = _policy(
        unit_target=unit_target, fx_rate=fx_rate, separate_ledger={"default_growth": -0.1}
    )
    reconciliation = target_reconciliation(customers, policy)
    targets = customer_targets(customers, policy)
    assignment = plan({f"C{i}": f"M{i % managers}" for i in range(len(rows))})
    portfolios = portfolio_targets(assignment, customers, policy)
    if not reconciliation.reached:
        assert targets["stock_target"].sum() == 0
        return
    wanted = to_cents(unit_target)
    assert to_cents(targets["target"]).sum() == wanted
    assert (targets["target"] >= 0).all()  # no growth of -50% or more, no negative income
    assert to_cents(portfolios["target"]).sum() == wanted
    assert round(portfolios["target"].sum(), 2) == round(wanted / 100, 2)
    per_type = sum(
        to_cents(portfolios[f"{k}_target"]).sum() for k in ("interest", "deposit", "fee")
    )
    assert per_type == wanted


def test_validate_warns_of_a_unit_target_far_above_the_stock_at_its_line(tmp_path):
    from portfolio_opt.scenario.loader import inspect_scenario

    demo = shutil.copytree(Path(__file__).parents[2] / "scenarios" / "demo", tmp_path / "demo")
    toml = demo / "scenario.toml"
    text = toml.read_text(encoding="utf-8").replace("# unit_target = 60000000", "unit_target = 6e8")
    toml.write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("unit_target"))

    scenario, problems = inspect_scenario(demo)

    [warning] = [p for p in problems if p.column == "payout.unit_target"]
    assert scenario is not None and warning.row == line
    assert "above the customers'" in warning.message
