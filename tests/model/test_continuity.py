"""Continuity first on a rebalancing year: few moves beyond those no valid plan avoids."""

from __future__ import annotations

from portfolio_opt.generate import generate_scenario, write_scenario
from portfolio_opt.plan import check_plan, compute_kpis
from portfolio_opt.scenario.loader import load_scenario

from .helpers import PLAN_STATUSES, solve_fast

CONTINUITY_FIRST = {
    "objective.order": ["continuity", "span", "balance", "chain", "industry"],
    "balance.max_deviation": 0.05,
}


def test_rebalancing_year_moves_close_to_the_bound(tmp_path):
    # 1,500 customers and 40 managers: too big for one exact model, so this is the search path.
    write_scenario(generate_scenario(1500, 40, seed=7, rebalance=True), tmp_path)
    scenario = load_scenario(tmp_path, CONTINUITY_FIRST)
    result = solve_fast(scenario, time_limit_s=10, workers=2)
    assert result.status in PLAN_STATUSES
    assert check_plan(scenario, result.assignment) == []
    moves = compute_kpis(scenario, result.assignment)["moves"]
    assert moves["lower_bound"] <= moves["count"] <= 1.15 * moves["lower_bound"]
