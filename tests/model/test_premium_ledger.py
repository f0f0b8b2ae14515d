"""Customers both premium and separate-ledger: portfolios of their own, under a premium-grade
manager designated as rules 3 and 4 ask, the rest of the branch solved around them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plan.builders import cheapest_valid_plan, make_scenario
from portfolio_opt.cli import main
from portfolio_opt.model.result import SolveStatus
from portfolio_opt.plan.checker import customer_targets
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.loader import load_scenario

from .helpers import holdings, solve_fast, standard_customers, valid_plan, write_scenario_folder


def manager(mid: str, grade: str = "B", **extra: Any) -> dict[str, Any]:
    return {"manager_id": mid, "grade": grade, **extra}


def premium(cid: str, **extra: Any) -> dict[str, Any]:
    return {"customer_id": cid, "customer_class": "premium", "interest_income": 100, **extra}


def ledger(cid: str) -> dict[str, Any]:
    return {"customer_id": cid, "customer_class": "key", "separate_ledger": True}


def branch() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two premium separate-ledger customers among premium, separate-ledger and standard ones;
    L2 is the only manager of grade A flagged separate-ledger."""
    customers = [
        premium("PL1", separate_ledger=True),
        premium("PL2", separate_ledger=True),
        premium("P1"),
        premium("P2"),
        ledger("L01"),
        ledger("L02"),
        *standard_customers(8),
    ]
    managers = [
        manager("A1", "A"),
        manager("M1"),
        manager("M2"),
        manager("M3"),
        manager("L1", "C", separate_ledger=True),
        manager("L2", "A", separate_ledger=True),
    ]
    return customers, managers


TOLERANCE_1 = {"span": {"tolerance": 1}}


def test_premium_separate_ledger_customers_get_a_portfolio_of_their_own() -> None:
    scenario = make_scenario(*branch(), policy=TOLERANCE_1)

    plan = valid_plan(scenario, solve_fast(scenario))

    assert sorted(holdings(plan)["L2"]) == ["PL1", "PL2"]
    assert set(plan.loc[plan["manager_id"] == "L2", "portfolio_type"]) == {"separate_ledger"}


def test_the_other_premium_customers_keep_a_designated_manager() -> None:
    """Premium designations exist: the premium separate-ledger holder must be flagged both
    ways (A2); A1, the only other one flagged premium, keeps the plain premium customers."""
    customers, _ = branch()
    managers = [
        manager("A1", "A", premium=True),
        manager("A2", "A", premium=True, separate_ledger=True),
        manager("M1"),
        manager("M2"),
        manager("M3"),
        manager("L1", "C", separate_ledger=True),
    ]
    scenario = make_scenario(customers, managers, policy=TOLERANCE_1)

    held = holdings(valid_plan(scenario, solve_fast(scenario)))

    assert sorted(held["A2"]) == ["PL1", "PL2"] and sorted(held["A1"]) == ["P1", "P2"]


def test_rotation_moves_them_to_another_holder() -> None:
    customers, managers = branch()
    customers[0] |= {"prior_manager_id": "L2", "tenure_years": 6}
    managers.append(manager("L3", "A", separate_ledger=True))
    policy = {**TOLERANCE_1, "rotation": {"max_tenure_years": 5}}
    scenario = make_scenario(customers, managers, policy=policy)

    plan = valid_plan(scenario, solve_fast(scenario))

    assert dict(zip(plan["customer_id"], plan["manager_id"], strict=True))["PL1"] != "L2"


def both(cid: str, **extra: Any) -> dict[str, Any]:
    return premium(cid, separate_ledger=True, **extra)


A_GRADE = [manager("M1", "A"), manager("M2", "A"), manager("M3", "A")]


def test_fewest_holders_give_way_to_the_rest_of_the_branch() -> None:
    """One holder could take all four, but then two standard customers cannot fill the other
    two managers' band of 2..2: two holders it is."""
    customers = [*(both(f"P{i}") for i in range(4)), *standard_customers(2)]
    bands = {"tolerance": 0, "separate_ledger": {"max": 4}}
    scenario = make_scenario(customers, A_GRADE, policy={"span": bands})

    held = holdings(valid_plan(scenario, solve_fast(scenario)))

    assert sorted(len(v) for v in held.values()) == [2, 2, 2]


def test_managers_flagged_both_ways_whose_band_needs_customers_all_hold_some() -> None:
    customers = [both("P1"), both("P2"), *standard_customers(2)]
    managers = [
        manager("M1", "A", premium=True, separate_ledger=True),
        manager("M2", "A", premium=True, separate_ledger=True),
        manager("M3"),
    ]
    span = {"tolerance": 1, "premium": {"min": 1}}  # an empty M1 or M2 reads as premium
    scenario = make_scenario(customers, managers, policy={"span": span})

    held = holdings(valid_plan(scenario, solve_fast(scenario)))

    assert len(held["M1"]) == len(held["M2"]) == 1


def test_every_manager_flagged_both_ways_holds_one_where_the_premium_band_asks() -> None:
    """An empty manager flagged both ways reads as premium, whose band here needs one customer:
    the four such customers go one to each manager (the one plan among many holder sets)."""
    customers = [both(f"P{i}") for i in range(4)]
    managers = [manager(f"M{i}", "A", premium=True, separate_ledger=True) for i in range(1, 5)]
    span = {"tolerance": 1, "premium": {"min": 1}}
    scenario = make_scenario(customers, managers, policy={"span": span})

    held = holdings(valid_plan(scenario, solve_fast(scenario)))

    assert sorted(len(v) for v in held.values()) == [1, 1, 1, 1]


def test_another_holder_where_rotation_leaves_the_rest_no_plan() -> None:
    """Continuity keeps P1 with M1, but S1 and S2 must both leave M2, who then holds
    nothing: only P1 under M2 leaves a plan."""
    customers = [
        both("P1", prior_manager_id="M1", tenure_years=1),
        *standard_customers(2, prior_manager_id="M2", tenure_years=5),
    ]
    managers = [manager("M1", "A"), manager("M2", "A"), manager("M3")]
    policy = {"span": {"tolerance": 0}, "rotation": {"max_tenure_years": 3}}
    scenario = make_scenario(customers, managers, policy=policy)

    plan = valid_plan(scenario, solve_fast(scenario))

    assert holdings(plan)["M2"] == ["P1"]


def test_the_holders_capacity_counts() -> None:
    """M1 held both last year, but its capacity takes one: one of them moves."""
    customers = [both("P1", prior_manager_id="M1"), both("P2", prior_manager_id="M1")]
    customers += standard_customers(2)
    managers = [
        manager("M1", "A", capacity=6),
        manager("M2", "A", capacity=20),
        manager("M3", capacity=20),
    ]
    affinity = [
        {"customer_id": c["customer_id"], "manager_id": m["manager_id"], "cost": 1, "workload": 5}
        for c in customers
        for m in managers
    ]
    scenario = make_scenario(customers, managers, affinity=affinity, policy=TOLERANCE_1)

    held = holdings(valid_plan(scenario, solve_fast(scenario)))

    assert sorted(held.get("M1", [])) != ["P1", "P2"]
    assert {"P1", "P2"} <= {*held.get("M1", []), *held["M2"]}


def test_a_branch_of_premium_separate_ledger_customers_only() -> None:
    customers = [premium(f"PL{i}", separate_ledger=True) for i in range(3)]
    managers = [manager("L1", "A", separate_ledger=True), manager("M1")]
    # 3 customers over 2 managers, tolerance 0: M1 must hold one, yet may hold none of them.
    bands = {"tolerance": 0, "premium": {"max": 5}, "separate_ledger": {"max": 5}}
    refused = solve_fast(make_scenario(customers, managers, policy={"span": bands}))
    assert refused.status is SolveStatus.INFEASIBLE
    said = "\n".join(refused.explanation)
    assert "the others cannot hold the remaining 0 customer(s) within their bands" in said
    assert "M1 1" in said

    scenario = make_scenario(customers, managers, policy={"span": {"tolerance": 1}})
    plan = valid_plan(scenario, solve_fast(scenario))
    assert set(plan["manager_id"]) == {"L1"}


def test_solve_writes_a_plan_verify_accepts(tmp_path: Path) -> None:
    folder = write_scenario_folder(tmp_path / "branch", *branch(), policy=TOLERANCE_1)
    out = tmp_path / "out"
    runner = CliRunner()

    solved = runner.invoke(
        main, ["solve", str(folder), "--out", str(out), "--time-limit", "2", "--workers", "1"]
    )
    assert solved.exit_code == 0, solved.output

    checked = runner.invoke(main, ["verify", str(folder), str(out / "assignment.csv")])
    assert checked.exit_code == 0, checked.output
    assert "The plan keeps every hard rule." in checked.output


def placed_apart() -> dict[str, Any]:
    """C1, premium and separate-ledger, goes to M2 (the one designated premium) first; the
    rest of the branch, seven customers over M1 and M3, is solved beside it."""
    incomes = [(229, 1), (199, 70), (237, 39), (293, 69), (28, 17), (201, 53), (156, 70), (101, 39)]
    customers = [
        {
            "customer_id": f"C{i + 1}",
            "customer_class": "key" if i in (3, 4, 6, 7) else "basic",
            "interest_income": 1000 * interest,
            "deposit_income": 1000 * deposit,
        }
        for i, (interest, deposit) in enumerate(incomes)
    ]
    customers[0].update(customer_class="premium", separate_ledger=True, industry="Food")
    for i, industry in ((3, "Steel"), (4, "IT"), (5, "Steel"), (6, "IT")):
        customers[i]["industry"] = industry
    for i, prior in ((1, "M3"), (2, "M3"), (4, "M1"), (5, "MX"), (6, "M1")):
        customers[i]["prior_manager_id"] = prior
    return {
        "customers": customers,
        "managers": [
            manager("M1", "A"),
            manager("M2", "A", premium=True),
            manager("M3", min_customers=1),
        ],
        "relations": [
            {"a": "C8", "b": "C5", "kind": "chain", "weight": 1},
            {"a": "C3", "b": "C6", "kind": "chain", "weight": 1},
        ],
        "policy": {
            "span": {"tolerance": 1, "premium": {"min": 1, "max": 3}},
            "objective": {"order": ["chain", "continuity", "industry", "balance", "span"]},
        },
    }


def goals_by_the_readme(scenario: Scenario, plan: pd.DataFrame) -> dict[str, int]:
    """The goals of a plan (no groups, every manager available) in kpis.json's units, as the
    README defines them."""
    owner = dict(zip(plan["customer_id"], plan["manager_id"], strict=True))
    kind = dict(zip(plan["manager_id"], plan["portfolio_type"], strict=True))
    for _, row in scenario.managers.iterrows():  # an empty portfolio: its designation's type
        ledger = "separate_ledger" if row["separate_ledger"] else "standard"
        kind.setdefault(row["manager_id"], "premium" if row["premium"] else ledger)
    held = {m: [c for c, o in owner.items() if o == m] for m in kind}
    n, m = len(owner), len(kind)
    target = customer_targets(scenario)
    per_money = 1e6 / (abs(target.sum()) / m)  # the mean portfolio is a million units
    units = {c: round(t * per_money) for c, t in target.items()}
    span = balance = 0.0
    for portfolio_kind in set(kind.values()):
        ours = [x for x in kind if kind[x] == portfolio_kind]
        count = sum(len(held[x]) for x in ours)
        fewest, most = count // len(ours), -(-count // len(ours))
        mean = sum(units[c] for x in ours for c in held[x]) / (min(len(ours), count) or 1)
        for x in ours:
            size = len(held[x])
            span += abs(m * size - n) + m * (max(fewest - size, 0) + max(size - most, 0))
            if size:
                total = sum(units[c] for c in held[x])
                balance += max(abs(total - mean) - 0.001 * abs(mean), 0)
    industry = dict(
        zip(scenario.customers["customer_id"], scenario.customers["industry"], strict=True)
    )
    links = zip(
        scenario.relations["a"], scenario.relations["b"], scenario.relations["weight"], strict=True
    )
    typical = target.abs().mean()
    moved = plan.loc[plan["moved"] == "True", "customer_id"]
    return {
        "chain": round(100 * sum(w for a, b, w in links if owner[a] != owner[b])),
        "continuity": sum(1000 + min(999, round(100 * abs(target[c]) / typical)) for c in moved),
        "industry": sum(len({industry[c] for c in cs if industry[c]}) for cs in held.values()),
        "balance": round(balance),
        "span": round(span),
    }


def test_the_goals_are_the_written_plans_over_the_whole_branch(tmp_path: Path) -> None:
    """Not those of the rest of the branch, whose span counts two managers and seven
    customers, and whose balance is against the mean of two portfolios."""
    folder = write_scenario_folder(tmp_path / "branch", **placed_apart())
    out = tmp_path / "out"
    fast = ["--deterministic", "--time-limit", "2", "--workers", "1"]

    solved = CliRunner().invoke(main, ["solve", str(folder), "--out", str(out), *fast])

    assert solved.exit_code == 0, solved.output
    kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    plan = pd.read_csv(out / "assignment.csv", dtype=str, keep_default_na=False)
    goals = goals_by_the_readme(load_scenario(folder), plan)
    assert {g: v["value"] for g, v in kpis["goals"].items()} == goals
    scale = {"chain": 100, "continuity": 1000, "industry": 1, "balance": 100, "span": 3}
    assert kpis["objective"] == pytest.approx(sum(goals[g] / scale[g] for g in goals))
    # The bounds every plan of the whole branch obeys.
    assert all(v["bound"] is not None and v["bound"] <= v["value"] for v in kpis["goals"].values())
    assert kpis["best_bound"] is not None and kpis["best_bound"] <= kpis["objective"]


Branch = tuple[list[dict[str, Any]], list[dict[str, Any]], dict]  # customers, managers, policy


@st.composite
def tiny_branches(draw: st.DrawFn) -> Branch:
    """Up to six customers, one at least premium and separate-ledger, over two or three
    managers with any grades and flags."""
    managers = [
        manager(
            f"M{i}",
            draw(st.sampled_from(["A", "B"])),
            premium=draw(st.integers(0, 3)) == 0,
            separate_ledger=draw(st.integers(0, 2)) == 0,
        )
        for i in range(draw(st.integers(2, 3)))
    ]
    others = draw(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=5))
    kinds = [(True, True), *others]
    customers = [
        {
            "customer_id": f"C{i}",
            "customer_class": "premium" if is_premium else "key",
            "separate_ledger": ledger_flag,
            "interest_income": 100,
            "group_id": draw(st.sampled_from(["", "", "", "G1"])),
            "pinned_manager_id": draw(st.sampled_from(["", "", "", "", "M0", "M1"])),
        }
        for i, (is_premium, ledger_flag) in enumerate(kinds)
    ]
    span: dict[str, Any] = {"tolerance": draw(st.integers(0, 2))}
    if draw(st.booleans()):
        span["premium"] = {"min": 1, "max": draw(st.integers(1, 4))}
    return customers, managers, {"span": span}


@given(tiny_branches())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_plan_is_found_exactly_when_one_exists(branch) -> None:
    """Every assignment of the customers is tried: solve finds a valid plan where one exists
    and says there is none (exit 3) where none does."""
    customers, managers, policy = branch
    scenario = make_scenario(customers, managers, policy=policy)
    exists = cheapest_valid_plan(scenario, [m["manager_id"] for m in managers], lambda _: 0)

    result = solve_fast(scenario)

    if exists is None:
        assert result.status is SolveStatus.INFEASIBLE and result.explanation
    else:
        valid_plan(scenario, result)


CONTINUITY_FIRST = {"objective": {"order": ["continuity", "span", "balance", "chain", "industry"]}}


def test_continuity_first_keeps_them_with_last_years_holders() -> None:
    """Both A-grade managers held one each last year: both stay, though one holder would do."""
    customers = [
        both("P1", prior_manager_id="M1"),
        both("P2", prior_manager_id="M2"),
        *standard_customers(6, prior_manager_id="M3"),
        *standard_customers(6, start=6, prior_manager_id="M4"),
    ]
    managers = [manager("M1", "A"), manager("M2", "A"), manager("M3"), manager("M4")]
    policy = {"span": {"tolerance": 3, "separate_ledger": {"min": 1, "max": 5}}}
    scenario = make_scenario(customers, managers, policy={**policy, **CONTINUITY_FIRST})

    plan = valid_plan(scenario, solve_fast(scenario))

    assert not plan["moved"].any()


def test_their_holder_is_the_one_whose_customers_they_displace_least() -> None:
    """New to the branch, they go to M2, whose one customer of last year moves, not to M1,
    whose three would."""
    customers = [
        both("P1"),
        both("P2"),
        *standard_customers(3, prior_manager_id="M1"),
        *standard_customers(1, start=3, prior_manager_id="M2"),
        *standard_customers(3, start=4, prior_manager_id="M3"),
        *standard_customers(3, start=7, prior_manager_id="M4"),
    ]
    managers = [manager("M1", "A"), manager("M2", "A"), manager("M3"), manager("M4")]
    policy = {"span": {"tolerance": 3, "separate_ledger": {"min": 1, "max": 5}}}
    scenario = make_scenario(customers, managers, policy={**policy, **CONTINUITY_FIRST})

    plan = valid_plan(scenario, solve_fast(scenario))

    assert sorted(holdings(plan)["M2"]) == ["P1", "P2"]
    assert int(plan["moved"].sum()) == 1


@st.composite
def tiny_rebalancing_years(draw: st.DrawFn) -> Branch:
    """A tiny branch whose customers had managers last year; continuity ranked first."""
    customers, managers, policy = draw(tiny_branches())
    ids = ["", *(m["manager_id"] for m in managers)]
    for customer in customers:
        customer["prior_manager_id"] = draw(st.sampled_from(ids))
    return customers, managers, {**policy, **CONTINUITY_FIRST}


def _moves(scenario: Scenario, plan: dict[str, str]) -> int:
    customers = scenario.customers
    prior = dict(zip(customers["customer_id"], customers["prior_manager_id"], strict=True))
    return sum(bool(prior[c]) and prior[c] != m for c, m in plan.items())


@given(tiny_rebalancing_years())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_continuity_first_moves_no_more_than_the_fewest_any_valid_plan_makes(branch) -> None:
    """Every assignment of the customers is tried: the plan makes the fewest moves of all
    valid plans (all customers are worth the same, so value-weighting changes nothing)."""
    customers, managers, policy = branch
    scenario = make_scenario(customers, managers, policy=policy)
    fewest = cheapest_valid_plan(
        scenario, [m["manager_id"] for m in managers], lambda p: _moves(scenario, p)
    )

    result = solve_fast(scenario)

    if fewest is not None:
        plan = valid_plan(scenario, result)
        chosen = dict(zip(plan["customer_id"], plan["manager_id"], strict=True))
        assert _moves(scenario, chosen) == _moves(scenario, fewest)


def test_plain_separate_ledger_customers_left_without_a_manager_are_named() -> None:
    """M1, flagged both ways, is the only manager flagged separate-ledger: it must hold the
    premium separate-ledger customers, and the plain ones have nobody; the bands are not to
    blame (the tolerance is wide)."""
    customers = [both("P1"), both("P2"), ledger("L1"), ledger("L2"), *standard_customers(12)]
    managers = [
        manager("M1", "A", premium=True, separate_ledger=True),
        manager("M2"),
        manager("M3"),
        manager("M4"),
    ]
    policy = {"span": {"tolerance": 20, "separate_ledger": {"min": 1, "max": 5}}}
    scenario = make_scenario(customers, managers, policy=policy)

    result = solve_fast(scenario)

    assert result.status is SolveStatus.INFEASIBLE
    said = " ".join(result.explanation)
    assert "the 2 other separate-ledger customer(s) have no manager" in said
    assert "flag another manager separate-ledger" in said.lower()
    assert "tolerance" not in said


def test_a_pin_and_a_rotation_that_take_every_premium_manager_are_named() -> None:
    """P1 rotates away from M1 and P2 is pinned to M1: two such portfolios take both A-grade
    managers, and the plain premium customers have none."""
    customers = [
        both("P1", prior_manager_id="M1", tenure_years=9),
        both("P2", prior_manager_id="M1", pinned_manager_id="M1"),
        premium("Q1"),
        premium("Q2"),
        *standard_customers(12),
    ]
    managers = [manager("M1", "A"), manager("M2", "A"), manager("M3"), manager("M4")]
    policy = {
        "span": {"tolerance": 3, "premium": {"min": 1, "max": 6}},
        "rotation": {"max_tenure_years": 8},
    }
    scenario = make_scenario(customers, managers, policy=policy)

    result = solve_fast(scenario)

    assert result.status is SolveStatus.INFEASIBLE
    said = " ".join(result.explanation)
    assert "P1 rotating away from M1" in said and "P2 pinned to M1" in said
    assert "the 2 other premium customer(s) need 1 of M1, M2" in said
