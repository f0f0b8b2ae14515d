"""Who holds the premium portfolios: the choice made before the models run must weigh what
a manager's own bounds force on the span, not only last year's holdings."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from plan.builders import make_scenario
from portfolio_opt.model import solve as solve_module
from portfolio_opt.model.instance import PREMIUM, build_instance
from portfolio_opt.model.result import SolveStatus
from portfolio_opt.model.structure import UNDECIDED, Structure, decide_structure, smallest_core
from portfolio_opt.plan.checker import customer_targets


def test_a_manager_whose_own_minimum_suits_the_premium_band_holds_it() -> None:
    """Standard portfolios hold 4 customers each; M1 must hold at least 6, as many as the
    premium portfolio holds. Last year M2 held the premium customers, but the span is the
    leading goal: M1 takes the premium portfolio, which leaves the standard ones even."""
    customers = [
        {"customer_id": f"P{i}", "customer_class": "premium", "prior_manager_id": "M2"}
        for i in range(6)
    ] + [{"customer_id": f"S{i}", "customer_class": "key"} for i in range(12)]
    managers = [
        {"manager_id": "M1", "grade": "A", "min_customers": 6},
        {"manager_id": "M2", "grade": "A"},
        {"manager_id": "M3", "grade": "B"},
        {"manager_id": "M4", "grade": "B"},
    ]
    scenario = make_scenario(
        customers,
        managers,
        policy={"span": {"tolerance": 3, "premium": {"min": 5, "max": 7}}},
    )
    instance = build_instance(scenario, customer_targets(scenario))
    structure = decide_structure(instance)
    assert isinstance(structure, Structure)
    holder = instance.manager_ids[int(structure.managers_of(PREMIUM)[0])]
    assert holder == "M1"


def test_a_kinds_model_out_of_time_is_no_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    """Running out of time deciding the kinds says nothing about the rules: solve finds no
    plan (exit 4), never a collision (exit 3), and validate reports none."""
    scenario = make_scenario(
        [{"customer_id": f"S{i}", "customer_class": "key"} for i in range(4)],
        [{"manager_id": "M1", "grade": "A"}, {"manager_id": "M2", "grade": "B"}],
    )
    monkeypatch.setattr(solve_module, "decide_structure", lambda *args, **kwargs: [UNDECIDED])

    result = solve_module.solve(scenario, time_limit_s=2, workers=1)

    assert result.status is SolveStatus.NO_PLAN
    assert UNDECIDED in result.explanation
    assert solve_module.rule_collisions(scenario) == []


def test_the_live_bound_is_never_one_the_report_takes_back(tmp_path) -> None:
    """Where another choice of premium and separate-ledger holders is open, the models'
    bounds hold for the holders tried only: the live line shows the whole branch's bounds, as
    the report does (it showed 1,619 where the report then gave 258)."""
    from portfolio_opt.generate import generate_scenario, write_scenario
    from portfolio_opt.model.structure import structure_is_forced
    from portfolio_opt.scenario.loader import load_scenario

    write_scenario(generate_scenario(200, 9, seed=2, rebalance=True), tmp_path)
    scenario = load_scenario(tmp_path)
    assert not structure_is_forced(build_instance(scenario, customer_targets(scenario)))
    reports: list[dict[str, object]] = []
    result = solve_module.solve(
        scenario, time_limit_s=3, workers=1, seed=0, progress=reports.append
    )
    bounds = [float(r["bound"]) for r in reports if "bound" in r]  # type: ignore[arg-type]
    assert bounds and result.best_bound is not None
    assert max(bounds) <= result.best_bound + 1e-9


def test_the_smallest_core_drops_every_rule_not_needed_among_many() -> None:
    """100 rules, of which 14 (every seventh) cannot all hold: the other 86, interleaved with
    them, are each dropped (a fixed 60 tries kept some)."""
    model = cp_model.CpModel()
    held = [model.new_bool_var(f"held_{i}") for i in range(100)]
    rules = [model.new_bool_var(f"rule_{i}") for i in range(100)]
    for rule, value in zip(rules, held, strict=True):
        model.add_implication(rule, value)
    needed = [i for i in range(100) if i % 7 == 3]
    model.add(sum(held[i] for i in needed) <= len(needed) - 1)
    solver = cp_model.CpSolver()
    core = smallest_core(model, solver, {r.index: r for r in rules}, {r.index for r in rules})
    assert core == {rules[i].index for i in needed}


def _part_timer_branch(part_timer_grade: str):
    """40 standard customers of equal target, 6 premium ones; M1 may hold at most 3 customers,
    too few to come within 5% of a standard portfolio's mean (800) if it held one."""
    customers = [
        {"customer_id": f"{prefix}{i}", "customer_class": kind, "interest_income": 100}
        for prefix, kind, count in (("P", "premium", 6), ("S", "key", 40))
        for i in range(count)
    ]
    managers = [
        {"manager_id": "M1", "grade": part_timer_grade, "max_customers": 3},
        {"manager_id": "M2", "grade": "A"},
        *({"manager_id": f"M{i}", "grade": "B"} for i in range(3, 7)),
    ]
    policy = {
        "span": {"tolerance": 3, "premium": {"min": 3, "max": 6}},
        "balance": {"max_deviation": 0.05},
    }
    return make_scenario(customers, managers, policy=policy)


def test_a_part_timer_too_small_for_the_balance_bound_holds_premium_where_eligible() -> None:
    instance = build_instance(scenario := _part_timer_branch("A"), customer_targets(scenario))

    structure = decide_structure(instance)

    assert isinstance(structure, Structure)
    assert "M1" in [instance.manager_ids[int(m)] for m in structure.managers_of(PREMIUM)]
    assert solve_module.solve(scenario, time_limit_s=5, workers=1).has_plan


def test_a_part_timer_too_small_for_the_balance_bound_and_only_standard_is_named() -> None:
    instance = build_instance(scenario := _part_timer_branch("B"), customer_targets(scenario))

    reasons = decide_structure(instance)

    assert isinstance(reasons, list)
    assert (
        "manager M1, holding at most 3 customers, must come within 5.0% of the mean standard "
        "portfolio target if holding one (the 3 largest standard customers make "
    ) in reasons[0]
