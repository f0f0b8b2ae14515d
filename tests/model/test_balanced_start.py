"""Under a hard balance bound, a first plan built for the leading goals can miss the bound in a
way no move or swap between two managers mends; the engine then starts from one built for
balance first."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plan.builders import make_scenario
from portfolio_opt.model.attempt import balanced_start
from portfolio_opt.model.construct import construct
from portfolio_opt.model.goals import evaluate, goal_spec, portfolio_means
from portfolio_opt.model.instance import build_instance
from portfolio_opt.model.polish import polish_balance, repair_bands, spread_evenly
from portfolio_opt.model.state import PlanState
from portfolio_opt.model.structure import decide_structure
from portfolio_opt.plan import check_plan
from portfolio_opt.plan.checker import customer_targets

from .helpers import solve_fast


def _customer(cid: str, income: float, group: str = "") -> dict[str, Any]:
    return {
        "customer_id": cid,
        "customer_class": "key",
        "interest_income": income,
        "group_id": group,
    }


def linked_large_groups():
    """4 managers of exactly 10 customers, targets within 5%. Groups A (76% of a portfolio's
    target), B and C (10% each) are one industry chain: packed whole they fill one portfolio to
    136%, and moving B or C out takes three customers in, which no move or swap does."""
    customers = [
        *(_customer(f"A{i}", 8000 / 3, "GA") for i in range(3)),
        *(_customer(f"B{i}", 1050, "GB") for i in range(3)),
        *(_customer(f"C{i}", 1050, "GC") for i in range(3)),
        *(_customer(f"S{i:02d}", 1050) for i in range(24)),
        *(_customer(f"T{i}", 2500 / 7) for i in range(7)),
    ]
    chain = [("A0", "B0"), ("B0", "C0"), ("A0", "C0")]
    chain += [(f"S{2 * i:02d}", f"S{2 * i + 1:02d}") for i in range(12)]
    return make_scenario(
        customers,
        [{"manager_id": f"M{i}", "grade": "B"} for i in range(4)],
        [{"a": a, "b": b, "kind": "chain"} for a, b in chain],
        policy={
            "span": {"tolerance": 0},
            "balance": {"max_deviation": 0.05},
            "objective": {"order": ["span", "chain", "balance"]},
        },
    )


def test_the_balanced_start_keeps_the_bound_where_the_chain_start_cannot() -> None:
    scenario = linked_large_groups()
    instance = build_instance(scenario, customer_targets(scenario))
    structure = decide_structure(instance)
    spec, means = goal_spec(instance), portfolio_means(instance, structure)

    chain_first = PlanState(
        instance, structure, means, spec, construct(instance, structure, means, spec)
    )
    repair_bands(chain_first, math.inf)
    spread_evenly(chain_first, math.inf)
    polish_balance(chain_first, math.inf, np.random.default_rng(0))
    assert evaluate(instance, structure, means, chain_first.assign)["violation"] > 0  # the premise

    balanced = balanced_start(
        instance, structure, means, spec, math.inf, np.random.default_rng(0), None
    )
    assert evaluate(instance, structure, means, balanced)["violation"] == 0


def test_solve_keeps_the_bound_on_that_branch() -> None:
    scenario = linked_large_groups()
    result = solve_fast(scenario)
    assert result.has_plan
    assert [str(v) for v in check_plan(scenario, result.assignment)] == []
