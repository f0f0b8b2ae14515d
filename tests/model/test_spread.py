"""The cheap span pass after the first plan: customers move towards the even spread only when
the objective gains."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plan.builders import make_scenario
from portfolio_opt.model.goals import (
    even_counts,
    goal_spec,
    level_beside_large,
    portfolio_means,
)
from portfolio_opt.model.instance import build_instance
from portfolio_opt.model.polish import spread_evenly
from portfolio_opt.model.state import PlanState
from portfolio_opt.model.structure import decide_structure
from portfolio_opt.plan.checker import customer_targets

from .helpers import solve_fast, standard_customers, valid_plan


def lopsided_state(order: list[str]) -> PlanState:
    """12 customers held 6 / 4 / 2 last year by three managers, all free to move."""
    rows = standard_customers(12)
    for i, row in enumerate(rows):
        row["prior_manager_id"] = "M1" if i < 6 else "M2" if i < 10 else "M3"
    scenario = make_scenario(
        rows,
        [{"manager_id": m, "grade": "B"} for m in ("M1", "M2", "M3")],
        policy={"span": {"tolerance": 4}, "objective": {"order": order}},
    )
    instance = build_instance(scenario, customer_targets(scenario))
    structure = decide_structure(instance)
    assign = np.array([instance.prior_manager[instance.members[b][0]] for b in range(12)])
    return PlanState(
        instance, structure, portfolio_means(instance, structure), goal_spec(instance), assign
    )


def test_span_first_spreads_the_customers_evenly() -> None:
    state = lopsided_state(["span", "continuity"])
    assert sorted(state.count.tolist()) == [2, 4, 6]

    moved = spread_evenly(state, math.inf)

    assert moved == 2 and state.count.tolist() == [4, 4, 4]


def test_continuity_first_keeps_last_years_portfolios() -> None:
    state = lopsided_state(["continuity", "span"])

    assert spread_evenly(state, math.inf) == 0
    assert state.count.tolist() == [6, 4, 2]


def _standard_counts(scenario) -> dict[str, int]:
    plan = valid_plan(scenario, solve_fast(scenario, time_limit_s=5))
    return plan["manager_id"].value_counts().to_dict()


def test_beside_a_part_timer_the_others_share_the_rest_evenly() -> None:
    """100 customers, five managers, M1 at most 10 (its own bound): the other four hold 90,
    22 or 23 each. Against one mean of 20 they would all be above it, and 20 / 25 / 22 / 23
    would count as even as 22 / 22 / 23 / 23."""
    managers = [{"manager_id": f"M{i}", "grade": "B"} for i in range(1, 6)]
    managers[0]["max_customers"] = 10
    scenario = make_scenario(standard_customers(100), managers, policy={"span": {"tolerance": 8}})

    counts = _standard_counts(scenario)

    assert counts["M1"] == 10
    assert sorted(counts[m] for m in ("M2", "M3", "M4", "M5")) == [22, 22, 23, 23]


def test_beside_a_holding_company_only_one_band_fits_the_others_share_the_rest() -> None:
    """A group of 30 only M1's own band (25..40) holds; the 40 others go 10 each to M2..M5."""
    rows = [
        *standard_customers(30, group_id="HOLDCO"),
        *(
            {**row, "interest_income": 2_000 if i % 8 == 0 else 100}
            for i, row in enumerate(standard_customers(40, start=30))
        ),
    ]
    managers = [{"manager_id": f"M{i}", "grade": "B", "max_customers": 14} for i in range(1, 6)]
    managers[0].update(min_customers=25, max_customers=40)
    scenario = make_scenario(rows, managers, policy={"span": {"tolerance": 8}})

    counts = _standard_counts(scenario)

    assert counts["M1"] == 30
    assert sorted(counts[m] for m in ("M2", "M3", "M4", "M5")) == [10, 10, 10, 10]


def test_levels_beside_what_is_too_large_to_share() -> None:
    # One block of 250 beside 75 of 10, five portfolios of 15: the whale's portfolio takes the
    # 14 smallest beside it, the other four share 750 - 140.
    values, sizes = np.array([250.0] + [10.0] * 75), np.ones(76, dtype=np.int64)
    assert level_beside_large(values, sizes, 5) == 152.5
    # A group of 28 beside 72 customers, five bands of 0..30: the other four hold 18 each.
    low, high = np.zeros(5, dtype=np.int64), np.full(5, 30)
    assert even_counts(low, high, np.array([28] + [1] * 72), 100)[1].tolist() == [18] * 5


def test_beside_a_holding_company_its_own_target_is_its_reference() -> None:
    """A holding company of 40 of 100 customers, worth a third of the target, only M1's band
    (40..40) holds; the other six hold 10 each. M1 is measured against the company's own
    target, the others against a sixth of the rest: not all above their references (where
    any spread among them would cost the same)."""
    rows = standard_customers(100)
    for i, row in enumerate(rows):
        row["interest_income"] = 50 if i < 40 else 100 + 7 * (i % 9)
        row["group_id"] = "HOLD" if i < 40 else ""
    managers = [{"manager_id": f"M{i}", "grade": "B"} for i in range(1, 8)]
    managers[0].update(min_customers=40, max_customers=40)
    for m in managers[1:]:
        m.update(min_customers=9, max_customers=11)
    scenario = make_scenario(rows, managers, policy={"span": {"tolerance": 40}})
    instance = build_instance(scenario, customer_targets(scenario))
    means = portfolio_means(instance, decide_structure(instance))

    company = instance.value_units[instance.size == 40].sum()
    assert means.mean[0] == pytest.approx(company)
    assert means.mean[1:] == pytest.approx([(instance.value_units.sum() - company) / 6] * 6)


def test_beside_a_part_timer_a_pinned_customer_is_evened_out_by_the_others() -> None:
    """M2 has a customer worth five others pinned to it; the customers beside it can even
    its portfolio out, so its reference is its share like any full-timer's."""
    rows = standard_customers(100)
    rows[0]["interest_income"] = 500
    rows[0]["pinned_manager_id"] = "M2"
    managers = [{"manager_id": f"M{i}", "grade": "B"} for i in range(1, 6)]
    managers[0]["max_customers"] = 3
    scenario = make_scenario(rows, managers, policy={"span": {"tolerance": 30}})
    instance = build_instance(scenario, customer_targets(scenario))
    means = portfolio_means(instance, decide_structure(instance))

    assert means.mean[1:] == pytest.approx([means.mean[1]] * 4)


def test_write_backs_can_offset_a_large_customer_so_it_does_not_stand_apart() -> None:
    # One of 250 beside 45 of 10 and 30 loss-makers of -20, five portfolios of 15: 14 of the
    # loss-makers bring it to -30, below the mean of 20; all five are measured against 20.
    values = np.array([250.0] + [10.0] * 45 + [-20.0] * 30)
    sizes = np.ones(76, dtype=np.int64)
    assert level_beside_large(values, sizes, 5) == pytest.approx(values.sum() / 5)
    # Without enough of them it still stands apart (2 of -20 leave it at 210 + 12 x 10).
    values = np.array([250.0] + [10.0] * 73 + [-20.0] * 2)
    assert level_beside_large(values, sizes, 5) < values.sum() / 5


def test_a_branch_of_half_write_backs_is_balanced_around_its_negative_mean() -> None:
    """Half the customers lose money: the mean portfolio target is below zero and every
    portfolio comes close to it (a large customer alone no longer sets the reference)."""
    rng = np.random.default_rng(14)
    rows = standard_customers(120)
    incomes = rng.choice([-1, 1], len(rows)) * rng.lognormal(12, 1.0, len(rows))
    incomes *= -np.sign(incomes.sum())  # more lost than earned
    for row, income in zip(rows, incomes, strict=True):
        row["interest_income"] = round(float(income), 2)
    managers = [{"manager_id": f"M{i}", "grade": "B"} for i in range(1, 7)]
    scenario = make_scenario(rows, managers)

    plan = valid_plan(scenario, solve_fast(scenario, time_limit_s=3.0))

    totals = customer_targets(scenario).groupby(plan.set_index("customer_id")["manager_id"]).sum()
    assert totals.mean() < 0
    spread = float(np.abs(totals - totals.mean()).max())
    largest = float(np.abs(customer_targets(scenario)).max())
    assert spread < 0.02 * largest, (totals.tolist(), largest)


def test_beside_a_part_timer_each_is_measured_against_its_share_of_the_target() -> None:
    """M1 holds at most 3 of 100: its balance reference is 3 customers' worth, the others'
    the rest shared by their counts; together they make the kind's whole target."""
    managers = [{"manager_id": f"M{i}", "grade": "B"} for i in range(1, 6)]
    managers[0]["max_customers"] = 3
    scenario = make_scenario(standard_customers(100), managers, policy={"span": {"tolerance": 30}})
    instance = build_instance(scenario, customer_targets(scenario))
    means = portfolio_means(instance, decide_structure(instance))

    # Shares of 3 and of 24 or 25 (24.5) customers.
    assert means.mean.sum() == pytest.approx(instance.value_units.sum())
    assert means.mean[0] / means.mean[1] == pytest.approx(3 / 24.5)
    assert means.mean[1:] == pytest.approx([means.mean[1]] * 4)
