"""Continuity first on a rebalancing year: few moves beyond those no valid plan avoids."""

from __future__ import annotations

import numpy as np

from plan.builders import make_scenario
from portfolio_opt.generate import generate_scenario, write_scenario
from portfolio_opt.model.continuity import send_back
from portfolio_opt.plan import check_plan, compute_kpis
from portfolio_opt.scenario.loader import load_scenario

from .helpers import PLAN_STATUSES, manager_of, solve_fast

DEFAULT_ORDER = ["span", "balance", "chain", "industry"]
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
    # No customer moved for nothing: sent back alone, each breaks a rule.
    plan = result.assignment[["customer_id", "manager_id"]]
    prior = scenario.customers.set_index("customer_id")["prior_manager_id"]
    available = set(scenario.managers["manager_id"])
    moved = plan[plan["manager_id"].to_numpy() != prior[plan["customer_id"]].to_numpy()]
    for row in moved.itertuples():
        if prior[row.customer_id] in available:
            back = plan.copy()
            back.loc[row.Index, "manager_id"] = prior[row.customer_id]
            assert check_plan(scenario, back) != [], row.customer_id


def _year_two(policy: dict, long_held: str = "") -> tuple:
    """Six customers held by M1..M3 two each last year, all three managers still here;
    ``long_held`` has been with its manager for nine years."""
    from plan.builders import make_scenario
    from portfolio_opt.model.goals import goal_spec, portfolio_means
    from portfolio_opt.model.instance import build_instance
    from portfolio_opt.model.structure import decide_structure
    from portfolio_opt.plan.checker import customer_targets

    rows = [
        {
            "customer_id": f"C{i}",
            "customer_class": "key",
            "interest_income": 1000 + 10 * i,
            "prior_manager_id": f"M{i // 2 + 1}",
            "tenure_years": 9 if f"C{i}" == long_held else 1,
        }
        for i in range(6)
    ]
    scenario = make_scenario(
        rows, [{"manager_id": f"M{k}", "grade": "B"} for k in (1, 2, 3)], policy=policy
    )
    instance = build_instance(scenario, customer_targets(scenario))
    structure = decide_structure(instance)
    means = portfolio_means(instance, structure)
    home = np.array([instance.prior_manager[instance.members[b][0]] for b in range(6)])
    return instance, structure, means, goal_spec(instance), home


def test_a_customer_moved_for_no_reason_is_sent_back():
    policy = {"span": {"tolerance": 1}, "objective": {"order": ["continuity", "span"]}}
    instance, structure, means, spec, home = _year_two(policy)
    moved = home.copy()
    moved[0] = home[2]  # M1 -> M2: both stay within the band of 1..3, so nothing forces it
    assert (send_back(instance, structure, means, spec, moved, checks=1000) == home).all()


def test_sending_back_stops_when_its_checks_are_spent():
    policy = {"span": {"tolerance": 1}, "objective": {"order": ["continuity", "span"]}}
    instance, structure, means, spec, home = _year_two(policy)
    moved = home.copy()
    moved[0] = home[2]
    assert (send_back(instance, structure, means, spec, moved, checks=0) == moved).all()


def test_two_customers_that_swapped_managers_are_exchanged_back():
    # A band of exactly two: neither can go home alone, only both at once.
    policy = {"span": {"tolerance": 0}, "objective": {"order": ["continuity", "span"]}}
    instance, structure, means, spec, home = _year_two(policy)
    swapped = home.copy()
    swapped[0], swapped[2] = home[2], home[0]
    assert (send_back(instance, structure, means, spec, swapped, checks=1000) == home).all()


def test_a_cycle_of_three_moves_is_undone_one_exchange_at_a_time():
    policy = {"span": {"tolerance": 0}, "objective": {"order": ["continuity", "span"]}}
    instance, structure, means, spec, home = _year_two(policy)
    cycled = home.copy()
    cycled[0], cycled[2], cycled[4] = home[2], home[4], home[0]  # M1 -> M2 -> M3 -> M1
    assert (send_back(instance, structure, means, spec, cycled, checks=1000) == home).all()


def test_a_move_that_rotation_forces_is_kept():
    policy = {
        "span": {"tolerance": 1},
        "rotation": {"max_tenure_years": 5},
        "objective": {"order": ["continuity", "span"]},
    }
    instance, structure, means, spec, home = _year_two(policy, long_held="C0")
    moved = home.copy()
    moved[0] = home[2]
    assert (send_back(instance, structure, means, spec, moved, checks=1000) == moved).all()


def test_in_a_first_allocation_continuity_first_plans_as_if_it_were_not_ranked(tmp_path):
    # No customer has a prior manager: continuity is 0 for every plan and must not take the
    # search's time (ranked first, it skipped the chain-led plan and cut twice the chain weight).
    write_scenario(generate_scenario(200, 8, seed=3, rebalance=False), tmp_path)
    ranked = load_scenario(tmp_path, {"objective.order": ["continuity", *DEFAULT_ORDER]})
    default = load_scenario(tmp_path, {"objective.order": DEFAULT_ORDER})
    first, plain = solve_fast(ranked, time_limit_s=3), solve_fast(default, time_limit_s=3)
    assert manager_of(first.assignment) == manager_of(plain.assignment)
    assert first.order[0] == "continuity"  # still reported as the policy ranks it


def test_a_bound_the_search_cannot_repair_in_time_falls_back_to_a_balanced_plan(
    tmp_path, monkeypatch
):
    """Last year's relationships kept break a tight balance bound; where the search cannot
    repair that in time (here it repairs nothing), the plan built for balance is written,
    not "no plan found"."""
    from portfolio_opt.model.attempt import PlanAttempt

    write_scenario(generate_scenario(1500, 40, seed=7, rebalance=True), tmp_path)
    scenario = load_scenario(tmp_path, {**CONTINUITY_FIRST, "balance.max_deviation": 0.01})
    monkeypatch.setattr(PlanAttempt, "_search", lambda self, start, *args, **kwargs: start)

    result = solve_fast(scenario, time_limit_s=6, workers=2)

    assert result.status in PLAN_STATUSES, result.explanation
    assert "from a plan built for balance" in result.method
    assert check_plan(scenario, result.assignment) == []


def test_with_moves_held_the_span_is_as_even_as_they_allow():
    """M00 held 60 of 600 customers last year, over its band (28..32): 28 must move. The 19
    others held 28 each, and 8 customers are new; with the fewest moves, the movers and the
    new ones fill them up to 30 at most (28 and 30 count as evenly as 29 and 29). Too big
    for one exact model, deterministic on one worker: the search path, on its work budget."""
    rng = np.random.default_rng(2)
    prior = ["M00"] * 60 + [f"M{1 + i // 28:02d}" for i in range(19 * 28)] + [""] * 8
    customers = [
        {
            "customer_id": f"C{i:03d}",
            "customer_class": "key",
            "interest_income": int(rng.integers(50_000, 400_000)),
            "prior_manager_id": m,
            "tenure_years": 2 if m else None,
        }
        for i, m in enumerate(prior)
    ]
    scenario = make_scenario(
        customers,
        [{"manager_id": f"M{i:02d}", "grade": "B"} for i in range(20)],
        policy={
            "span": {"tolerance": 2},
            "objective": {"order": ["continuity", "span", "balance", "chain", "industry"]},
        },
    )

    result = solve_fast(scenario, time_limit_s=10)

    assert check_plan(scenario, result.assignment) == []
    assert compute_kpis(scenario, result.assignment)["moves"]["count"] == 28
    held = manager_of(result.assignment)
    counts = np.bincount([int(m[1:]) for m in held.values()], minlength=20)
    assert counts[0] == 32
    assert counts[1:].max() == 30
