"""Balance ranked above chain: the search keeps chains together first, then balances."""

from __future__ import annotations

from portfolio_opt.generate import generate_scenario, write_scenario
from portfolio_opt.model.chain_led import chain_led_spec, leads_with_chains
from portfolio_opt.model.goals import GoalSpec
from portfolio_opt.plan import check_plan, compute_kpis
from portfolio_opt.scenario.loader import load_scenario

from .helpers import PLAN_STATUSES, solve_fast

DEFAULT = ("span", "balance", "chain", "industry", "continuity")


def test_chain_moves_just_ahead_of_balance() -> None:
    led = chain_led_spec(GoalSpec(DEFAULT, None))
    assert led is not None
    assert led.order == ("span", "chain", "balance", "industry", "continuity")
    balance_first = chain_led_spec(GoalSpec(("balance", "span", "chain"), None))
    assert balance_first is not None
    assert balance_first.order == ("span", "chain", "balance")


def test_no_reorder_where_chain_would_pass_another_goal_or_leads_already() -> None:
    assert chain_led_spec(GoalSpec(("continuity", "span", "balance", "chain"), None)) is None
    assert chain_led_spec(GoalSpec(("span", "balance", "industry", "chain"), None)) is None
    assert chain_led_spec(GoalSpec(("span", "chain", "balance"), None)) is None
    assert chain_led_spec(GoalSpec(("span", "balance"), None)) is None
    assert chain_led_spec(GoalSpec(DEFAULT, {"chain": 10, "balance": 3})) is None
    assert chain_led_spec(GoalSpec(DEFAULT, {"balance": 10, "chain": 0})) is None


def test_weighted_goals_are_ordered_by_weight() -> None:
    weights = {"span": 100, "balance": 10, "chain": 3, "industry": 2, "continuity": 1}
    led = chain_led_spec(GoalSpec(DEFAULT, weights))
    assert led is not None
    assert led.order == ("span", "chain", "balance", "industry", "continuity")
    assert led.lexicographic  # a search order; the weighted sum still judges the plan


def test_chains_also_lead_where_they_rank_first_over_a_bounded_balance() -> None:
    """Chain first and balance bounded: the plan built balanced first keeps few chains, so
    the chain-led plan competes (3,000 x 80 at 30 s: 46.7% of the chain weight cut -> 43.8%)."""
    chain_first = GoalSpec(("span", "chain", "balance", "industry", "continuity"), None)
    assert leads_with_chains(chain_first, bounded=True)
    assert not leads_with_chains(chain_first, bounded=False)  # balance comes after, unbounded
    assert leads_with_chains(GoalSpec(("span", "balance", "chain"), None), bounded=False)
    assert not leads_with_chains(GoalSpec(("continuity", "chain", "balance"), None), bounded=True)
    weighted = GoalSpec(("span", "chain", "balance"), {"span": 10, "chain": 5, "balance": 1})
    assert not leads_with_chains(weighted, bounded=True)


def test_default_order_keeps_most_chain_links_and_the_balance(tmp_path) -> None:
    # 1,000 customers and 15 managers: the search path. Balancing first and then polishing
    # chains cut 56% of the chain weight here; chains first, then balance, cut about 37%.
    write_scenario(generate_scenario(1000, 15, seed=11), tmp_path)
    scenario = load_scenario(tmp_path)
    reports: list[dict[str, object]] = []
    result = solve_fast(scenario, time_limit_s=4, deterministic=True, progress=reports.append)
    assert result.status in PLAN_STATUSES
    assert "industry chains first" in result.method
    assert check_plan(scenario, result.assignment) == []
    kpis = compute_kpis(scenario, result.assignment)
    assert kpis["chain"]["cut_share"] <= 0.45
    assert kpis["balance"]["max_deviation"] <= 0.0011  # the +-0.1% the balance goal allows
    # the live line never shows the unbalanced chain-led plan as a worse incumbent
    incumbents = [float(r["incumbent"]) for r in reports if "incumbent" in r]  # type: ignore[arg-type]
    assert incumbents == sorted(incumbents, reverse=True)


def test_too_little_time_to_lead_with_chains_polishes_the_balanced_plans(tmp_path) -> None:
    """A second for 1,000 customers: a chain-led plan would not be balanced by the clock and
    would lose to the balanced plan as built, so that plan's chains are polished instead (56%
    of the weight cut here; without the polish, 85%). A deterministic limit is work: it leads
    with chains whatever the clock says."""
    write_scenario(generate_scenario(1000, 15, seed=11), tmp_path)
    scenario = load_scenario(tmp_path)

    result = solve_fast(scenario, time_limit_s=1, deterministic=False)

    assert "chains polished (too little time" in result.method
    assert check_plan(scenario, result.assignment) == []
    kpis = compute_kpis(scenario, result.assignment)
    assert kpis["balance"]["max_deviation"] <= 0.0011
    assert kpis["chain"]["cut_share"] < 0.75
    assert "industry chains first" in solve_fast(scenario, time_limit_s=1).method
