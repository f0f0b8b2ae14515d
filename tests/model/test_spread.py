"""The cheap span pass after the first plan: customers move towards the even spread only when
the objective gains."""

from __future__ import annotations

import math

import numpy as np

from plan.builders import make_scenario
from portfolio_opt.model.goals import goal_spec, portfolio_means
from portfolio_opt.model.instance import build_instance
from portfolio_opt.model.polish import spread_evenly
from portfolio_opt.model.state import PlanState
from portfolio_opt.model.structure import decide_structure
from portfolio_opt.plan.checker import customer_targets

from .helpers import standard_customers


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
