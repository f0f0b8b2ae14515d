"""The soft goals on small, deterministic cases whose best plan is known by hand."""

from __future__ import annotations

import time
from dataclasses import replace
from itertools import product
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from plan.builders import make_scenario
from portfolio_opt.generate import generate_scenario, write_scenario
from portfolio_opt.model.bounds import industry_bound
from portfolio_opt.model.goals import goal_spec, objective_key
from portfolio_opt.model.instance import build_instance
from portfolio_opt.model.result import SolveStatus
from portfolio_opt.model.solve import compile_instance
from portfolio_opt.plan.checker import check_plan, customer_targets
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.loader import load_scenario

from .helpers import holdings, manager_of, solve_fast, standard_customers, valid_plan


def manager(mid: str, grade: str = "B") -> dict[str, Any]:
    return {"manager_id": mid, "grade": grade}


MANAGERS = [manager("M1"), manager("M2"), manager("M3")]
DEMO = Path(__file__).parents[2] / "scenarios" / "demo"


def lopsided_customers() -> list[dict[str, Any]]:
    """12 customers held 5 / 4 / 3 last year, with targets from 100 to 1,200: a valid plan that
    span and balance would both like to change."""
    rows = standard_customers(12)
    for i, row in enumerate(rows):
        row["prior_manager_id"] = "M1" if i < 5 else "M2" if i < 9 else "M3"
        row["interest_income"] = 100 * (i + 1)
        row["industry"] = ["steel", "ports", "retail"][i % 3]
    return rows


def counts(plan: pd.DataFrame) -> dict[str, int]:
    return {m: len(cs) for m, cs in holdings(plan).items()}


def test_continuity_first_without_forced_moves_moves_nobody() -> None:
    scenario = make_scenario(
        lopsided_customers(),
        MANAGERS,
        policy={
            "span": {"tolerance": 1},
            "objective": {"order": ["continuity", "span", "balance", "chain", "industry"]},
        },
    )

    result = solve_fast(scenario)
    plan = valid_plan(scenario, result)

    assert not plan["moved"].any()
    assert (plan["manager_id"] == plan["prior_manager_id"]).all()
    assert result.goals["continuity"] == 0


def test_span_first_moves_the_lopsided_plan_to_four_each() -> None:
    """The same customers with span first: 12 / 3 is exactly 4, and the fewest moves is one."""
    scenario = make_scenario(
        lopsided_customers(),
        MANAGERS,
        policy={
            "span": {"tolerance": 1},
            "objective": {"order": ["span", "continuity", "balance", "chain", "industry"]},
        },
    )

    plan = valid_plan(scenario, solve_fast(scenario))

    assert counts(plan) == {"M1": 4, "M2": 4, "M3": 4}
    assert int(plan["moved"].sum()) == 1
    assert manager_of(plan)[plan.loc[plan["moved"], "customer_id"].iloc[0]] == "M3"


def test_span_counts_are_within_floor_and_ceil_of_the_ideal() -> None:
    """14 customers, 4 managers, tolerance 2 (band 1..6): span first gives 3 or 4 each,
    although last year one manager held 8 and groups of two must stay whole."""
    rows = standard_customers(14)
    for i, row in enumerate(rows):
        row["prior_manager_id"] = "M1" if i < 8 else "M2"
        if i < 6:
            row["group_id"] = f"G{i // 2}"
    scenario = make_scenario(
        rows,
        [*MANAGERS, manager("M4")],
        policy={"span": {"tolerance": 2}},
    )

    result = solve_fast(scenario)
    plan = valid_plan(scenario, result)

    assert sorted(counts(plan).values()) == [3, 3, 4, 4]
    # sum |M n - N| at floor/ceil is 2 r (M - r) with r = N mod M = 2: 8, the proven best.
    assert result.goals["span"] == 8


def test_chain_first_keeps_two_linked_customers_together() -> None:
    """C00 (with M1 last year) and C05 (with M2) are linked; together they fit any portfolio."""
    rows = lopsided_customers()
    relations = [{"a": "C00", "b": "C05", "kind": "chain", "weight": 2}]
    scenario = make_scenario(
        rows,
        MANAGERS,
        relations,
        policy={
            "span": {"tolerance": 1},
            "objective": {"order": ["chain", "continuity", "span", "balance", "industry"]},
        },
    )

    result = solve_fast(scenario)
    plan = manager_of(valid_plan(scenario, result))

    assert plan["C00"] == plan["C05"]
    assert result.goals["chain"] == 0
    # Continuity next: only one of the two moves, and nobody else does.
    prior = {r["customer_id"]: r["prior_manager_id"] for r in rows}
    moved = {c for c, m in plan.items() if m != prior[c]}
    assert len(moved) == 1 and moved <= {"C00", "C05"}


def test_continuity_first_cuts_the_link_rather_than_move_a_customer() -> None:
    """The same link with continuity before chain: nobody moves, so the link stays cut."""
    relations = [{"a": "C00", "b": "C05", "kind": "chain"}]
    scenario = make_scenario(
        lopsided_customers(),
        MANAGERS,
        relations,
        policy={
            "span": {"tolerance": 1},
            "objective": {"order": ["continuity", "chain", "span", "balance", "industry"]},
        },
    )

    result = solve_fast(scenario)
    plan = valid_plan(scenario, result)

    assert not plan["moved"].any()
    assert result.goals["chain"] == 100  # one link of weight 1, in hundredths


def test_reported_goals_match_the_plan() -> None:
    """span, industry and chain in the result are recomputed here from the plan alone."""
    rows = lopsided_customers()
    relations = [
        {"a": "C00", "b": "C01", "kind": "chain"},
        {"a": "C02", "b": "C07", "kind": "chain", "weight": 3},
    ]
    scenario = make_scenario(rows, MANAGERS, relations, policy={"span": {"tolerance": 1}})

    result = solve_fast(scenario)
    plan = valid_plan(scenario, result)

    held = holdings(plan)
    n, m = len(rows), len(MANAGERS)
    assert result.goals["span"] == sum(abs(m * len(cs) - n) for cs in held.values())
    industry = {r["customer_id"]: r["industry"] for r in rows}
    assert result.goals["industry"] == sum(len({industry[c] for c in cs}) for cs in held.values())
    owner = manager_of(plan)
    cut = sum(100 * r.get("weight", 1) for r in relations if owner[r["a"]] != owner[r["b"]])
    assert result.goals["chain"] == cut


def test_weighted_objective_gives_a_valid_plan_with_a_bound_not_above_it() -> None:
    scenario = make_scenario(
        lopsided_customers(),
        MANAGERS,
        policy={
            "span": {"tolerance": 1},
            "objective": {"weights": {"span": 100, "balance": 10, "continuity": 1}},
        },
    )

    result = solve_fast(scenario)

    valid_plan(scenario, result)
    assert result.objective is not None and result.best_bound is not None
    assert result.best_bound <= result.objective
    assert result.gap is not None and 0.0 <= result.gap <= 1.0


def test_plans_are_compared_by_the_weighted_sum_that_is_reported() -> None:
    """A weight counts per readable unit (0.01% of balance, one move): the search's comparison
    of two plans must agree with the objective reported, whose units differ from the model's."""
    scenario = make_scenario(
        lopsided_customers(),
        MANAGERS,
        policy={"objective": {"weights": {"balance": 10, "continuity": 1}}},
    )
    instance = compile_instance(scenario)
    spec = goal_spec(instance, constant_goals=True)
    # One plan 1.00 balance unit off, the other 5 continuity units (in the model's units).
    off_balance = {"violation": 0, "balance": 100, "continuity": 0}
    moved = {"violation": 0, "balance": 0, "continuity": 5000}
    reported = [spec.reported(v) for v in (off_balance, moved)]
    assert reported[1] < reported[0]
    assert objective_key(moved, spec) < objective_key(off_balance, spec)


def stay_or_link() -> Scenario:
    """Four customers of one industry and target, two managers of exactly two: C00 (M1 last
    year) and C01 (M2) are linked. Keeping both cuts the link; joining them moves one. With
    continuity weighing ten times chain, the weighted optimum cuts a link another plan keeps."""
    rows = standard_customers(4, industry="steel")
    rows[0]["prior_manager_id"], rows[1]["prior_manager_id"] = "M1", "M2"
    return make_scenario(
        rows,
        [manager("M1"), manager("M2")],
        [{"a": "C00", "b": "C01", "kind": "chain", "weight": 1}],
        policy={
            "span": {"tolerance": 0},
            "objective": {"weights": {"continuity": 10, "chain": 1, "span": 1, "balance": 1}},
        },
    )


def fewest_links_cut(scenario: Scenario) -> int:
    """The chain goal (weight cut, x100) of the valid plan that cuts least, by trying every plan."""
    customers = list(scenario.customers["customer_id"])
    links = list(zip(scenario.relations["a"], scenario.relations["b"], strict=True))
    cuts = []
    for owners in product(scenario.managers["manager_id"], repeat=len(customers)):
        owner = dict(zip(customers, owners, strict=True))
        if not check_plan(scenario, plan_of(owner)):
            cuts.append(100 * sum(owner[a] != owner[b] for a, b in links))
    return min(cuts)


def plan_of(owner: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(owner), "manager_id": list(owner.values())})


def test_a_weighted_optimum_bounds_each_goal_by_what_every_plan_keeps() -> None:
    """The weighted sum is proven best; a goal's value at it is no bound on that goal."""
    scenario = stay_or_link()

    result = solve_fast(scenario)

    valid_plan(scenario, result)
    assert result.status is SolveStatus.OPTIMAL
    assert result.best_bound == result.objective
    assert result.goals["chain"] == 100 > fewest_links_cut(scenario) == 0
    assert all(result.bounds[g] <= result.goals[g] for g in result.order)
    assert result.bounds["chain"] <= fewest_links_cut(scenario)


def test_a_tiny_branch_is_proven_optimal_with_no_gap() -> None:
    scenario = make_scenario(lopsided_customers(), MANAGERS, policy={"span": {"tolerance": 1}})

    result = solve_fast(scenario)

    valid_plan(scenario, result)
    assert result.status is SolveStatus.OPTIMAL
    assert result.gap == 0.0
    assert result.best_bound == result.objective
    assert all(result.bounds[g] == result.goals[g] for g in result.order)


def test_same_seed_same_plan_in_deterministic_mode() -> None:
    scenario = make_scenario(lopsided_customers(), MANAGERS, policy={"span": {"tolerance": 1}})

    first = solve_fast(scenario, seed=7).assignment
    second = solve_fast(scenario, seed=7).assignment

    assert first is not None and second is not None
    pd.testing.assert_frame_equal(first, second)


def test_industry_bound_counts_an_industry_too_big_for_one_portfolio() -> None:
    # 9 steel customers, 3 managers of at most 4 customers (12 / 3, tolerance 0): steel needs
    # at least 3 portfolios, and the 3 retail customers one more.
    rows = standard_customers(12)
    for i, row in enumerate(rows):
        row["industry"] = "steel" if i < 9 else "retail"
    scenario = make_scenario(rows, MANAGERS, policy={"span": {"tolerance": 0}})
    instance = build_instance(scenario, customer_targets(scenario))
    assert industry_bound(instance) == 3 + 1
    result = solve_fast(scenario)
    valid_plan(scenario, result)
    assert result.goals["industry"] >= industry_bound(instance)


def test_a_customer_with_no_industry_counts_in_no_portfolios_industries() -> None:
    # 5 steel, 5 retail and 2 customers of no industry, 2 portfolios of 6: steel and retail
    # each whole, one blank beside each, is 1 industry per portfolio, as the KPI counts them.
    rows = standard_customers(12)
    for i, row in enumerate(rows):
        row["industry"] = "steel" if i < 5 else "retail" if i < 10 else ""
    scenario = make_scenario(
        rows,
        MANAGERS[:2],
        policy={"span": {"tolerance": 0}, "objective": {"order": ["industry"]}},
    )
    instance = build_instance(scenario, customer_targets(scenario))
    assert industry_bound(instance) == 2
    result = solve_fast(scenario)
    plan = valid_plan(scenario, result)
    assert result.goals["industry"] == 2
    industries = plan.merge(pd.DataFrame(rows)[["customer_id", "industry"]], on="customer_id")
    named = industries.loc[industries["industry"] != ""]
    assert named.groupby("manager_id")["industry"].nunique().tolist() == [1, 1]


def test_span_spreads_standard_customers_evenly_beside_small_portfolios() -> None:
    """The demo branch: N/M is 10, the premium and separate-ledger portfolios hold 11 and 5, so
    the 44 standard customers go 11 + 11 + 11 + 11, not 10 + 11 + 11 + 12 (which is as far from
    N/M in total)."""
    scenario = load_scenario(DEMO, {"balance.max_deviation": None})

    plan = valid_plan(scenario, solve_fast(scenario, time_limit_s=5))

    standard = plan.loc[plan["portfolio_type"] == "standard"]
    assert standard.groupby("manager_id").size().tolist() == [11, 11, 11, 11]


@pytest.mark.parametrize("bound", [0.1, None])
def test_balance_is_measured_over_the_managers_who_may_hold_customers(bound: float | None) -> None:
    """The demo branch with one manager who may hold nobody (max_customers = 0): the standard
    portfolios are balanced among themselves, under a hard bound and as a goal."""
    demo = load_scenario(DEMO, {"span.tolerance": 5, "balance.max_deviation": bound})
    managers = demo.managers.copy()
    managers.loc[managers["manager_id"] == "M003", "max_customers"] = 0
    managers.loc[managers["manager_id"] == "M005", "max_customers"] = 15
    scenario = replace(demo, managers=managers)

    plan = valid_plan(scenario, solve_fast(scenario, time_limit_s=5))

    standard = plan.loc[plan["portfolio_type"] == "standard"]
    totals = customer_targets(scenario)[standard["customer_id"]].groupby(
        standard["manager_id"].to_numpy()
    )
    sums = totals.sum()
    assert "M003" not in set(plan["manager_id"])
    # With balance last (a hard bound) within it; as the second goal, within 1%.
    assert sums.std() / sums.mean() <= (bound or 0.01), sums.to_dict()


def test_the_balance_bound_holds_when_managers_outnumber_customers() -> None:
    """5 customers, 8 managers: only the portfolios that hold customers are measured, so a plan
    exists (customers paired to stay within +-50% of their own mean)."""
    rows = standard_customers(5)
    for row, income in zip(rows, (80, 300, 185, 155, 445), strict=True):
        row["interest_income"] = income
    scenario = make_scenario(
        rows,
        [manager(f"M{i}") for i in range(8)],
        policy={"span": {"tolerance": 2}, "balance": {"max_deviation": 0.5}},
    )

    plan = valid_plan(scenario, solve_fast(scenario, time_limit_s=5))

    assert plan["manager_id"].nunique() < 5


def test_a_portfolio_left_empty_counts_under_the_balance_bound() -> None:
    """Four customers linked to C03, two managers, a band of 0..4 and a balance bound: one
    portfolio of all four keeps every link and is within the bound (only portfolios that hold
    customers are measured), so the proven best cuts none."""
    rows = standard_customers(4)
    relations = [{"a": f"C0{i}", "b": "C03", "kind": "chain", "weight": 1} for i in range(3)]
    scenario = make_scenario(
        rows,
        [manager("M1"), manager("M2")],
        relations,
        policy={
            "span": {"tolerance": 2},
            "balance": {"max_deviation": 0.2},
            "objective": {"order": ["chain", "span", "industry", "continuity", "balance"]},
        },
    )

    result = solve_fast(scenario)

    assert len(set(manager_of(valid_plan(scenario, result)).values())) == 1
    assert result.goals["chain"] == 0 and result.status is SolveStatus.OPTIMAL


def test_premium_customers_may_fill_fewer_portfolios_than_there_are_a_grade_managers() -> None:
    """Four premium customers of one industry, two A-grade managers, nobody designated: one
    premium portfolio (the other manager holds nothing) has one industry, not two."""
    rows = [
        {"customer_id": f"P{i}", "customer_class": "premium", "industry": "steel"} for i in range(4)
    ]
    scenario = make_scenario(
        rows,
        [manager("M1", "A"), manager("M2", "A")],
        policy={"objective": {"order": ["industry", "span", "balance", "chain", "continuity"]}},
    )

    for deterministic in (True, False):  # a deterministic solve tries other holders too
        result = solve_fast(scenario, deterministic=deterministic)

        assert len(set(manager_of(valid_plan(scenario, result)).values())) == 1
        assert result.goals["industry"] == 1 and result.status is SolveStatus.OPTIMAL


def test_a_deterministic_rebalance_finds_the_fewest_moves_over_every_choice_of_holders() -> None:
    """M1 or M3 (both A) may take the premium C3, last year M3's. With M3, C2 moves off M3
    and C0 or C2 still has to leave: a deterministic solve, like a free one, tries M1 too
    and proves the 2 moves the best (it used to stop at the first choice with 3)."""

    def customer(cid: str, cls: str, income: int, prior: str, **extra: Any) -> dict[str, Any]:
        row = {"customer_id": cid, "customer_class": cls, "interest_income": income}
        return {**row, "industry": "x", "prior_manager_id": prior, "tenure_years": 1, **extra}

    customers = [
        customer("C0", "basic", 352, "M3"),
        customer("C1", "basic", 517, "M1"),
        customer("C2", "basic", 555, "M3"),
        customer("C3", "premium", 269, "M3"),
        customer("C4", "basic", 286, "M4", group_id="G2"),
    ]
    managers = [
        manager("M1", "A"),
        {**manager("M2"), "min_customers": 2},
        manager("M3", "A"),
        manager("M4"),
    ]
    policy = {
        "classes": {"classes": ["premium", "basic"], "grades": ["A", "B"]},
        "span": {"tolerance": 1, "premium": {"min": 1, "max": 4}},
        "objective": {"order": ["continuity", "span", "balance", "chain", "industry"]},
    }
    scenario = make_scenario(customers, managers, policy=policy)
    free = solve_fast(scenario, deterministic=False, time_limit_s=10)
    fixed = solve_fast(scenario, time_limit_s=10)

    for result in (free, fixed):
        plan = manager_of(valid_plan(scenario, result))
        assert sum(plan[c["customer_id"]] != c["prior_manager_id"] for c in customers) == 2
        assert result.status is SolveStatus.OPTIMAL


@pytest.mark.parametrize("seed", [3, 5])
def test_a_small_first_allocation_is_proven_optimal_over_every_goal(
    seed: int, tmp_path: Path
) -> None:
    """A generated 90 x 5 branch (a premium and a separate-ledger portfolio, three standard
    ones sharing local supply networks): span, balance, chain links and industries proven
    best in turn, for both choices of premium holder, in a few seconds of one worker."""
    write_scenario(generate_scenario(90, 5, seed=seed), tmp_path)
    scenario = load_scenario(tmp_path)
    result = solve_fast(scenario, time_limit_s=10)

    valid_plan(scenario, result)
    assert result.status is SolveStatus.OPTIMAL
    assert "proven over every choice of holders" in result.method
    assert result.goals["chain"] > 0  # the links between kinds are cut in every plan


@pytest.mark.parametrize("weights", [None, {"span": 1, "balance": 1, "continuity": 2}])
def test_the_objective_adds_up_every_goal_listed_even_one_no_plan_changes(weights) -> None:
    """Last year's manager has left: every customer moves in every plan, so the search leaves
    continuity out, yet the objective and its bound count it as the goals list it."""
    customers = standard_customers(6, prior_manager_id="MX", tenure_years=1)
    managers = [*MANAGERS, {**manager("MX"), "available": False}]
    objective = {"weights": weights} if weights else {}
    scenario = make_scenario(customers, managers, policy={"objective": objective})

    for deterministic in (True, False):
        result = solve_fast(scenario, deterministic=deterministic)

        valid_plan(scenario, result)
        assert result.goals["continuity"] > 0
        factor = weights or dict.fromkeys(result.order, 1)
        added = sum(factor.get(g, 0) * result.goals[g] / result.scales[g] for g in result.order)
        assert result.objective == pytest.approx(added)
        assert result.bounds["continuity"] == result.goals["continuity"]
        if result.status is SolveStatus.OPTIMAL:
            assert result.best_bound == pytest.approx(result.objective)


def test_a_deterministic_plan_does_not_depend_on_the_clock(monkeypatch) -> None:
    """The same plan on a machine (or under a load) that makes every step 20 times slower:
    a deterministic limit is an amount of work, never what the clock says is left."""
    scenario = load_scenario(Path(__file__).parents[2] / "scenarios" / "city-branch")
    fast = solve_fast(scenario, seed=3).assignment

    origin, real = time.monotonic(), time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: origin + 20 * (real() - origin))
    slow = solve_fast(scenario, seed=3).assignment

    assert fast is not None and slow is not None
    pd.testing.assert_frame_equal(fast, slow)


def span_then_chain(most_for_m3: int | None) -> Scenario:
    """Seven customers, three managers, a chain of five that no portfolio of three holds whole
    and two linked pairs: span ranks first, then chain. With ``most_for_m3`` M3 holds at most
    that many, so the span goal cannot reach an even spread."""
    rows = standard_customers(7, industry="steel")
    managers = [manager("M1"), manager("M2"), manager("M3")]
    if most_for_m3 is not None:
        managers[2]["max_customers"] = most_for_m3
    chain = [("C00", "C01"), ("C01", "C02"), ("C02", "C03"), ("C03", "C04"), ("C05", "C06")]
    return make_scenario(
        rows,
        managers,
        [{"a": a, "b": b, "kind": "chain", "weight": 1} for a, b in chain],
        policy={
            "span": {"tolerance": 3},
            "objective": {"order": ["span", "chain", "balance", "industry"]},
        },
    )


def fewest_cut_at_spread(scenario: Scenario, counts: tuple[int, ...]) -> int:
    """The chain goal (x100) of the valid plan that cuts least among those holding ``counts``
    customers per manager (in any order), by trying every plan."""
    customers = list(scenario.customers["customer_id"])
    links = list(zip(scenario.relations["a"], scenario.relations["b"], strict=True))
    cuts = []
    for owners in product(scenario.managers["manager_id"], repeat=len(customers)):
        held = sorted((owners.count(m) for m in scenario.managers["manager_id"]), reverse=True)
        owner = dict(zip(customers, owners, strict=True))
        if tuple(held) == counts and not check_plan(scenario, plan_of(owner)):
            cuts.append(100 * sum(owner[a] != owner[b] for a, b in links))
    return min(cuts)


@pytest.mark.parametrize(("most_for_m3", "spread"), [(None, (3, 2, 2)), (1, (3, 3, 1))])
def test_chain_after_span_is_the_fewest_cut_at_the_best_spread(
    most_for_m3: int | None, spread: tuple[int, ...]
) -> None:
    """Span held at its best (an even spread, or the best M3's bound allows) leaves chain
    every plan with that spread: the model's per-manager limits on span take none away."""
    scenario = span_then_chain(most_for_m3)

    result = solve_fast(scenario)

    plan = valid_plan(scenario, result)
    held = sorted(plan["manager_id"].value_counts().tolist(), reverse=True)
    assert tuple(held) == spread
    assert result.status is SolveStatus.OPTIMAL
    assert result.goals["chain"] == fewest_cut_at_spread(scenario, spread)
