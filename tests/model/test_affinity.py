"""Affinity and workload: the capacity rule and the cost goal, on cases solved by hand."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from plan.builders import make_scenario, plan
from portfolio_opt.cli import main
from portfolio_opt.model.collisions import QUICK_CHECKS
from portfolio_opt.model.cpmodel import integer_weights
from portfolio_opt.model.instance import PREMIUM, build_instance
from portfolio_opt.model.result import SolveStatus
from portfolio_opt.model.solve import SolveParams, _cheapest_holders
from portfolio_opt.model.structure import Structure, decide_structure
from portfolio_opt.plan import check_plan, compute_kpis
from portfolio_opt.plan.checker import customer_targets
from portfolio_opt.scenario.data import Scenario

from .helpers import holdings, manager_of, solve_fast, standard_customers, valid_plan

COST_ONLY = {"span": {"tolerance": 10}, "objective": {"order": ["affinity"]}}


def manager(mid: str, capacity: float | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"manager_id": mid, "grade": "B"}
    if capacity is not None:
        row["capacity"] = capacity
    return row


def costs(table: dict[str, dict[str, float]], workload: float | None = 1) -> list[dict[str, Any]]:
    """Affinity rows {customer: {manager: cost}}, each with the same workload."""
    return [
        {"customer_id": c, "manager_id": m, "cost": cost, "workload": workload}
        for c, row in table.items()
        for m, cost in row.items()
    ]


# C00..C03 all prefer M1; what moving one of them to M2 costs: 8, 1, 7, 2.
PREFER_M1 = {
    "C00": {"M1": 1, "M2": 9},
    "C01": {"M1": 1, "M2": 2},
    "C02": {"M1": 1, "M2": 8},
    "C03": {"M1": 1, "M2": 3},
}


def test_cost_alone_sends_every_customer_to_its_cheapest_manager() -> None:
    scenario = make_scenario(
        standard_customers(4),
        [manager("M1"), manager("M2")],
        affinity=costs(PREFER_M1),
        policy=COST_ONLY,
    )
    result = solve_fast(scenario)
    plan = valid_plan(scenario, result)
    assert holdings(plan) == {"M1": ["C00", "C01", "C02", "C03"]}
    assert result.goals["affinity"] == 4
    assert result.status is SolveStatus.OPTIMAL


def prefer_m1(capacities: tuple[float, float], customers: list | None = None):
    """The PREFER_M1 costs with managers M1, M2 of these capacities (cost goal only)."""
    return make_scenario(
        customers or standard_customers(4),
        [manager("M1", capacity=capacities[0]), manager("M2", capacity=capacities[1])],
        affinity=costs(PREFER_M1),
        policy=COST_ONLY,
    )


def test_capacity_binds_and_the_cheapest_customers_to_move_are_moved() -> None:
    scenario = prefer_m1((2, 10))
    result = solve_fast(scenario)
    plan = valid_plan(scenario, result)
    # M1 keeps the two whose move would cost most (C00: +8, C02: +7).
    assert holdings(plan) == {"M1": ["C00", "C02"], "M2": ["C01", "C03"]}
    assert result.goals["affinity"] == 1 + 2 + 1 + 3
    kpis = compute_kpis(scenario, plan)
    assert kpis["affinity"] == {"cost": 7.0}
    assert kpis["workload"]["max_utilisation"] == pytest.approx(1.0)  # M1: 2 of 2


def test_fractional_workloads_fit_exactly_at_capacity() -> None:
    scenario = make_scenario(
        standard_customers(4),
        [manager("M1", capacity=1.5), manager("M2")],
        affinity=costs(PREFER_M1, workload=0.5),
        policy=COST_ONLY,
    )
    plan = valid_plan(scenario, solve_fast(scenario))
    assert holdings(plan)["M1"] == ["C00", "C02", "C03"]  # 3 x 0.5 = 1.5; C01 moves for +1


def test_costs_below_one_are_not_rounded_away() -> None:
    # Every cost is under 0.5; M1 holds at most two, so the two whose move costs least (C01,
    # C03) go to M2. Rounded to whole numbers, every plan would look free.
    tenths = {c: {m: cost / 10 for m, cost in row.items()} for c, row in PREFER_M1.items()}
    tenths = {c: {m: cost / 2 for m, cost in row.items()} for c, row in tenths.items()}
    scenario = make_scenario(
        standard_customers(4),
        [manager("M1", capacity=2), manager("M2")],
        affinity=costs(tenths),
        policy=COST_ONLY,
    )
    result = solve_fast(scenario)
    plan = valid_plan(scenario, result)
    assert holdings(plan) == {"M1": ["C00", "C02"], "M2": ["C01", "C03"]}
    assert compute_kpis(scenario, plan)["affinity"]["cost"] == pytest.approx(0.35)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(0.35)
    # The goal counts in steps fine enough for every cost; value / scale is the cost itself.
    assert result.goals["affinity"] / result.scales["affinity"] == pytest.approx(0.35)


def test_weighted_costs_at_four_decimals_still_count() -> None:
    """Under weights, affinity at 4 decimals (10,000 steps a unit) beside span: all four with
    M1 (span 8 per manager, cost 0.0004) beats an even split (span 0, cost 20.0004), and the
    plan proven best says so."""
    dear = {c: {"M1": 0.0001, "M2": 10.0001} for c in ("C00", "C01", "C02", "C03")}
    scenario = make_scenario(
        standard_customers(4),
        [manager("M1"), manager("M2")],
        affinity=costs(dear),
        policy={"span": {"tolerance": 2}, "objective": {"weights": {"span": 1, "affinity": 1}}},
    )

    result = solve_fast(scenario)

    plan = valid_plan(scenario, result)
    assert holdings(plan) == {"M1": ["C00", "C01", "C02", "C03"]}
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(8.0004)


@pytest.mark.parametrize(
    ("per_unit", "expected"),
    [
        ({"span": 0.5, "affinity": 1e-4}, {"span": 5_000_000, "affinity": 1000}),
        ({"span": 1.0, "chain": 0.0}, {"span": 1000}),
        ({"a": 1e12, "b": 1.0}, {"a": 10**9, "b": 1}),  # the ratio beyond reach: never 0
    ],
)
def test_integer_weights_keep_their_ratios(
    per_unit: dict[str, float], expected: dict[str, int]
) -> None:
    assert integer_weights(per_unit) == expected


def test_two_thirds_written_to_six_places_fit_as_the_checker_counts_them() -> None:
    """0.666667 three times is 2.000001: the checker allows a millionth a customer over a
    capacity of 2, and so must the model, or it pays 10 a customer for a plan no better."""
    rows = [
        {"customer_id": c, "manager_id": m, "cost": cost, "workload": load}
        for c in ("C00", "C01", "C02")
        for m, cost, load in (("M1", 0, 0.666667), ("M2", 10, 1))
    ]
    scenario = make_scenario(
        standard_customers(3),
        [manager("M1", capacity=2), manager("M2")],
        affinity=rows,
        policy=COST_ONLY,
    )
    result = solve_fast(scenario)
    plan = valid_plan(scenario, result)
    assert holdings(plan) == {"M1": ["C00", "C01", "C02"]}
    assert result.objective == 0


@pytest.mark.parametrize(("capacity", "collides"), [(3, True), (4, False)])
def test_capacities_that_hold_one_customer_each_are_a_collision_found_first(
    capacity: float, collides: bool
) -> None:
    """Six customers of workload 2, four managers: a capacity of 3 holds one each (4 of 6),
    though the 12 they need fit the 12 the capacities add up to; a capacity of 4 holds two."""
    rows = [
        {"customer_id": c["customer_id"], "manager_id": f"M{m}", "cost": 0, "workload": 2}
        for c in standard_customers(6)
        for m in range(1, 5)
    ]
    scenario = make_scenario(
        standard_customers(6),
        [manager(f"M{m}", capacity=capacity) for m in range(1, 5)],
        affinity=rows,
        policy=COST_ONLY,
    )
    result = solve_fast(scenario)
    if collides:
        assert result.status is SolveStatus.INFEASIBLE
        assert result.method == QUICK_CHECKS
        assert "capacity holds only so many customers" in result.explanation[-1]
        assert "(M1 1, M2 1, M3 1, M4 1): 4 in all, but there are 6" in result.explanation[-1]
    else:
        valid_plan(scenario, result)


def test_customer_row_wins_over_its_industry_row() -> None:
    customers = standard_customers(3, industry="steel") + standard_customers(
        1, start=3, industry="ports"
    )
    affinity = [
        {"industry": "steel", "manager_id": "M1", "cost": 5},
        {"industry": "steel", "manager_id": "M2", "cost": 1},
        {"customer_id": "C00", "manager_id": "M2", "cost": 9},  # C00 is steel, but not for M2
        {"industry": "ports", "manager_id": "M1", "cost": 2},
        {"industry": "ports", "manager_id": "M2", "cost": 6},
    ]
    scenario = make_scenario(
        customers, [manager("M1"), manager("M2")], affinity=affinity, policy=COST_ONLY
    )
    result = solve_fast(scenario)
    plan = valid_plan(scenario, result)
    assert manager_of(plan) == {"C00": "M1", "C01": "M2", "C02": "M2", "C03": "M1"}
    assert result.goals["affinity"] == 5 + 1 + 1 + 2


def test_default_workload_by_class_where_the_table_gives_none() -> None:
    customers = [
        {"customer_id": "K1", "customer_class": "key"},
        {"customer_id": "K2", "customer_class": "key"},
        {"customer_id": "B1", "customer_class": "basic"},
    ]
    scenario = make_scenario(
        customers,
        [manager("M1", capacity=3), manager("M2")],
        affinity=costs({c: {"M1": 0, "M2": 10} for c in ("K1", "K2", "B1")}, workload=None),
        policy={**COST_ONLY, "affinity": {"default_workload": {"key": 2, "basic": 1}}},
    )
    result = solve_fast(scenario)
    plan = valid_plan(scenario, result)
    held = sorted(holdings(plan)["M1"])
    # Two key customers (2 + 2) do not fit in 3; one key and the basic one (2 + 1) do.
    assert held in (["B1", "K1"], ["B1", "K2"])
    assert result.goals["affinity"] == 10
    assert compute_kpis(scenario, plan)["workload"]["max_utilisation"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("order", "expected_m1"),
    [
        (["affinity", "span"], 4),  # cost first: everyone with M1
        (["span", "affinity"], 2),  # span first: two each, then the cheapest split
    ],
)
def test_affinity_takes_its_place_in_the_policy_order(order: list[str], expected_m1: int) -> None:
    scenario = make_scenario(
        standard_customers(4),
        [manager("M1"), manager("M2")],
        affinity=costs(PREFER_M1),
        policy={"span": {"tolerance": 10}, "objective": {"order": order}},
    )
    result = solve_fast(scenario)
    plan = valid_plan(scenario, result)
    assert len(holdings(plan).get("M1", [])) == expected_m1
    if expected_m1 == 2:
        assert sorted(holdings(plan)["M1"]) == ["C00", "C02"]


def test_more_workload_than_capacity_is_explained_before_solving() -> None:
    scenario = prefer_m1((1, 2))
    result = solve_fast(scenario)
    assert result.status is SolveStatus.INFEASIBLE
    assert result.assignment is None
    assert "need a workload of at least 4" in result.explanation[0]
    assert "capacities add up to 3" in result.explanation[0]


def test_a_group_beyond_every_capacity_is_named() -> None:
    # G1 (C00..C02) needs 3 wherever it goes; nobody has room for more than 2.
    customers = [
        *standard_customers(3, group_id="G1"),
        *standard_customers(1, start=3),
    ]
    scenario = prefer_m1((2, 2), customers)
    result = solve_fast(scenario)
    assert result.status is SolveStatus.INFEASIBLE
    text = "\n".join(result.explanation)
    assert "group G1 of 3 (C00, C01, C02) needs a workload of at least 3" in text
    assert "(M1, M2)" in text


def test_cli_exits_3_when_capacity_cannot_hold_the_work(tmp_path: Path) -> None:
    root = _folder(
        tmp_path / "branch",
        {
            "customers": standard_customers(4),
            "managers": [manager("M1", capacity=1), manager("M2", capacity=2)],
            "affinity": costs(PREFER_M1),
        },
        '[tables]\naffinity = "affinity.csv"\n[span]\ntolerance = 10\n',
    )
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["solve", str(root), "--out", str(out), "--time-limit", "2"])
    assert run.exit_code == 3, run.output
    assert "capacities add up to 3" in run.output
    assert not out.exists()


def _folder(root: Path, tables: dict[str, list[dict[str, Any]]], policy: str) -> Path:
    """A scenario folder with these tables as CSV and ``policy`` as scenario.toml."""
    root.mkdir()
    for name, rows in tables.items():
        pd.DataFrame(rows).to_csv(root / f"{name}.csv", index=False)
    (root / "scenario.toml").write_text(policy, encoding="utf-8")
    return root


def _printed_kpis(output: str) -> dict[str, Any]:
    """The KPI JSON that ``verify`` prints before its verdict."""
    kpis, _ = json.JSONDecoder().raw_decode(output[output.index("{") :])
    return kpis


def test_verify_reports_affinity_cost_and_utilisation_and_flags_an_overload(
    tmp_path: Path,
) -> None:
    root = _folder(
        tmp_path / "branch",
        {
            "customers": standard_customers(4),
            "managers": [manager("M1", capacity=2), manager("M2", capacity=4)],
            "affinity": costs(PREFER_M1),
        },
        '[tables]\naffinity = "affinity.csv"\n[span]\ntolerance = 10\n',
    )
    good = pd.DataFrame(
        {"customer_id": ["C00", "C01", "C02", "C03"], "manager_id": ["M1", "M2", "M1", "M2"]}
    )
    good.to_csv(tmp_path / "good.csv", index=False)
    runner = CliRunner()
    result = runner.invoke(main, ["verify", str(root), str(tmp_path / "good.csv")])
    assert result.exit_code == 0, result.output
    kpis = _printed_kpis(result.output)
    assert kpis["affinity"] == {"cost": 7.0}
    assert kpis["workload"]["max_utilisation"] == pytest.approx(1.0)

    overloaded = good.assign(manager_id="M1")
    overloaded.to_csv(tmp_path / "bad.csv", index=False)
    result = runner.invoke(main, ["verify", str(root), str(tmp_path / "bad.csv")])
    assert result.exit_code == 3
    assert "[capacity]" in result.output and "above the capacity 2" in result.output
    kpis = _printed_kpis(result.output)
    assert kpis["workload"]["max_utilisation"] == pytest.approx(2.0)  # 4 of 2


def test_checker_and_engine_agree_on_the_plan_they_price() -> None:
    scenario = make_scenario(
        standard_customers(4),
        [manager("M1", capacity=2), manager("M2", capacity=10)],
        affinity=costs(PREFER_M1),
        policy=COST_ONLY,
    )
    result = solve_fast(scenario)
    assert result.assignment is not None
    assert check_plan(scenario, result.assignment) == []
    assert compute_kpis(scenario, result.assignment)["affinity"]["cost"] == result.goals["affinity"]


@pytest.mark.parametrize("a_grade_managers", [3, 8])
def test_no_optimality_is_claimed_where_another_premium_holder_might_do_better(
    a_grade_managers: int,
) -> None:
    """Which A-grade manager holds the premium portfolio is chosen before the models run, so
    what they prove holds for that choice only: the bound must stay below every plan's cost,
    and the plan is called optimal only once every choice is solved (then it is the best)."""
    premium = {"customer_id": "P1", "customer_class": "premium", "interest_income": 100}
    holders = [f"A{i}" for i in range(1, a_grade_managers + 1)]
    scenario = make_scenario(
        [premium, *standard_customers(4)],
        [{"manager_id": m, "grade": "A"} for m in holders],
        affinity=[
            {"customer_id": "P1", "manager_id": m, "cost": 1 if m == "A3" else 5, "workload": 1}
            for m in holders
        ],
        policy=COST_ONLY,
    )

    for deterministic in (True, False):
        result = solve_fast(scenario, deterministic=deterministic)

        valid_plan(scenario, result)
        assert result.bounds["affinity"] <= 1  # P1 with A3 costs 1, whoever the model chose
        if result.status is SolveStatus.OPTIMAL:
            assert result.goals["affinity"] == 1
            assert "proven over every choice of holders" in result.method


def test_optimality_is_claimed_where_every_manager_holds_one_kind() -> None:
    scenario = make_scenario(
        standard_customers(4),
        [manager("M1"), manager("M2")],
        affinity=costs(PREFER_M1),
        policy=COST_ONLY,
    )
    assert solve_fast(scenario).status is SolveStatus.OPTIMAL


def test_optimality_is_claimed_once_every_choice_of_holders_is_solved() -> None:
    """Two A-grade managers may hold the premium portfolio: once both choices are solved and
    proven, the best plan is proven for the branch, and no plan the checker accepts costs less."""
    rng = np.random.default_rng(3)
    customers = [
        *(
            {"customer_id": f"P{i}", "customer_class": "premium", "interest_income": 100}
            for i in (1, 2)
        ),
        *standard_customers(5),
    ]
    managers = [
        {"manager_id": "M1", "grade": "A"},
        {"manager_id": "M2", "grade": "A"},
        manager("M3"),
    ]
    cost = {
        (c["customer_id"], m["manager_id"]): int(rng.integers(0, 10))
        for c in customers
        for m in managers
    }
    scenario = make_scenario(
        customers,
        managers,
        affinity=[
            {"customer_id": c, "manager_id": m, "cost": v, "workload": 1}
            for (c, m), v in cost.items()
        ],
        policy={"span": {"tolerance": 1}, "objective": {"order": ["affinity", "span"]}},
    )

    result = solve_fast(scenario, deterministic=False, time_limit_s=20)

    valid_plan(scenario, result)
    assert result.status is SolveStatus.OPTIMAL
    assert result.goals["affinity"] == _cheapest_valid_plan(scenario, cost)


def _cheapest_valid_plan(scenario: Scenario, cost: dict[tuple[str, str], int]) -> int:
    """The least affinity cost of any plan the checker accepts, by enumeration (premium and
    standard customers never share a manager: that skips most plans without checking them)."""
    ids = list(scenario.customers["customer_id"])
    classes = scenario.customers["customer_class"]
    premium = {c for c, k in zip(ids, classes, strict=True) if k == "premium"}
    best: int | None = None
    for managers in itertools.product(sorted(scenario.managers["manager_id"]), repeat=len(ids)):
        chosen = dict(zip(ids, managers, strict=True))
        if {chosen[c] for c in premium} & {chosen[c] for c in ids if c not in premium}:
            continue
        held: dict[str, list[str]] = {}
        for c, m in chosen.items():
            held.setdefault(m, []).append(c)
        if check_plan(scenario, plan(held)):
            continue
        total = sum(cost[c, m] for c, m in chosen.items())
        best = total if best is None else min(best, total)
    assert best is not None
    return best


def _workload_rows(table: dict[str, dict[str, float]], key: str = "customer_id") -> list[dict]:
    """Affinity rows {customer or industry: {manager: workload}}, each costing 0."""
    return [
        {key: who, "manager_id": m, "cost": 0, "workload": load}
        for who, row in table.items()
        for m, load in row.items()
    ]


def _blank_workload_scenario(industry_workload: float | None):
    """C1 (pinned to M1, capacity 3) has a row of its own with a cost and no workload."""
    rows = [{"customer_id": "C1", "manager_id": "M1", "cost": 2}]
    if industry_workload is not None:
        rows.append({"industry": "X", "manager_id": "M1", "cost": 0, "workload": industry_workload})
    return make_scenario(
        [
            {
                "customer_id": "C1",
                "customer_class": "basic",
                "industry": "X",
                "pinned_manager_id": "M1",
            },
            {"customer_id": "C2", "customer_class": "basic", "industry": "Y"},
        ],
        [manager("M1", capacity=3), manager("M2")],
        affinity=rows,
        policy={"affinity": {"default_workload": {"basic": 1}}},
    )


def test_a_customer_row_with_a_blank_workload_takes_its_industry_rows_workload():
    """Cell by cell, the customer's row wins: its cost holds, and its blank workload is the
    industry row's 5, not the class default 1, so C1 pinned to M1 overloads its capacity 3."""
    result = solve_fast(_blank_workload_scenario(industry_workload=5))
    assert result.status is SolveStatus.INFEASIBLE
    text = " ".join(result.explanation)
    assert "C1" in text and "pinned to M1" in text and "capacity 3" in text


def test_a_workload_no_row_gives_is_the_class_default():
    scenario = _blank_workload_scenario(industry_workload=None)
    plan = valid_plan(scenario, solve_fast(scenario))
    assert manager_of(plan)["C1"] == "M1"
    on_m1 = sum(m == "M1" for m in manager_of(plan).values())
    kpis = compute_kpis(scenario, plan)
    assert kpis["affinity"]["cost"] == 2.0  # C2 has no row: 0
    assert kpis["workload"]["max_utilisation"] == pytest.approx(on_m1 / 3)  # 1 a customer


def test_workloads_finer_than_thousandths_are_not_rounded():
    """Four customers of 0.0015 over two managers of capacity 0.003: two each fit exactly."""
    scenario = make_scenario(
        [{"customer_id": f"C{i}", "customer_class": "basic", "industry": "X"} for i in range(4)],
        [manager("M1", capacity=0.003), manager("M2", capacity=0.003)],
        affinity=_workload_rows({"X": {"M1": 0.0015, "M2": 0.0015}}, key="industry"),
    )
    plan = valid_plan(scenario, solve_fast(scenario))
    assert sorted(len(held) for held in holdings(plan).values()) == [2, 2]


def _thirds_scenario(load: float, capacity: float) -> Scenario:
    """Six customers of ``load`` each, two managers of ``capacity``, three customers each."""
    return make_scenario(
        [{"customer_id": f"C{i}", "customer_class": "basic", "industry": "X"} for i in range(6)],
        [manager("M1", capacity=capacity), manager("M2", capacity=capacity)],
        affinity=_workload_rows({"X": {"M1": load, "M2": load}}, key="industry"),
        policy={"span": {"tolerance": 0}},
    )


def test_workloads_no_power_of_ten_makes_whole_fit_as_they_add_up():
    """2/3 as Excel stores it, three times, is 2: a capacity of 2 holds it (rounded to the
    millionth, each would be 0.666667, three 2.000001)."""
    scenario = _thirds_scenario(0.6666666666666666, 2)
    plan = valid_plan(scenario, solve_fast(scenario))
    assert sorted(len(held) for held in holdings(plan).values()) == [3, 3]


@pytest.mark.parametrize(
    ("load", "breaks"),
    [(0.3333334, False), (0.33334, True)],  # 1.0000002 and 1.00002 against a capacity of 1
)
def test_the_checker_allows_a_millionth_a_customer_above_capacity(load, breaks):
    scenario = _thirds_scenario(load, 1)
    plan_ = plan({"M1": ["C0", "C1", "C2"], "M2": ["C3", "C4", "C5"]})
    rules = {v.rule for v in check_plan(scenario, plan_)}
    assert ("capacity" in rules) is breaks


def test_a_capacity_collision_names_the_group_the_pin_and_the_capacities_in_table_units():
    """Without group G1 (C4, C6) a plan exists; with it, the pin of C2 to M3 and the
    capacities of 9.9 leave none: all three rules are named, the capacities as written."""
    loads = {
        "C1": {"M1": 2, "M3": 2},
        "C2": {"M1": 1, "M3": 3},
        "C3": {"M1": 4, "M3": 5},
        "C4": {"M1": 4, "M3": 2},
        "C5": {"M1": 1, "M3": 1},
        "C6": {"M1": 4, "M3": 5},
    }
    customers = [{"customer_id": c, "customer_class": "basic", "industry": "X"} for c in loads]
    customers[1]["pinned_manager_id"] = "M3"
    customers[3]["group_id"] = customers[5]["group_id"] = "G1"
    scenario = make_scenario(
        customers,
        [manager("M1", capacity=9.9), manager("M3", capacity=9.9)],
        affinity=_workload_rows(loads),
    )
    result = solve_fast(scenario)
    assert result.status is SolveStatus.INFEASIBLE
    text = " ".join(result.explanation)
    assert "group G1: 2 customers (C4, C6)" in text
    assert "pins: C2 to M3" in text
    # the tightest first: M3 holds pinned C2 (3 of its 9.9)
    assert "workload within capacity: M3 9.9 (needs at least 3), M1 9.9 (needs at least 1)" in text


def test_a_capacity_collision_names_the_customers_workloads():
    """Workloads 8, 5, 5 and 5 against capacities of 12 and 11: 23 fits 23, each manager
    could take two of the lightest and no two customers are too heavy to share, but no
    customers add up to 11 or 12. The solver proves it; its explanation gives the capacities
    and what the customers need."""
    loads = {f"C{i}": {"M1": w, "M2": w} for i, w in enumerate((8, 5, 5, 5), start=1)}
    scenario = make_scenario(
        [{"customer_id": c, "customer_class": "basic", "industry": "X"} for c in loads],
        [manager("M1", capacity=12), manager("M2", capacity=11)],
        affinity=_workload_rows(loads),
        policy={"span": {"tolerance": 4}},
    )
    result = solve_fast(scenario)
    assert result.status is SolveStatus.INFEASIBLE
    text = " ".join(result.explanation)
    assert "workload within capacity: M2 11, M1 12" in text
    assert "the customers need at least C1 8, C2 5, C3 5, C4 5, 23 in all" in text
    assert result.method != QUICK_CHECKS  # proven by the solver: nothing more to find


def test_no_empty_premium_portfolio_is_opened_to_dodge_a_collision():
    """One premium customer and two A-grade managers: only one premium portfolio may open, so
    the collision (group G1 fits nowhere beside the pin) is proven: exit 3, not exit 4."""
    scenario = make_scenario(
        [
            {"customer_id": "P1", "customer_class": "premium", "industry": "X"},
            {"customer_id": "C2", "customer_class": "basic", "group_id": "G1", "industry": "X"},
            {"customer_id": "C3", "customer_class": "basic", "group_id": "G1", "industry": "X"},
            {
                "customer_id": "C4",
                "customer_class": "watch",
                "industry": "X",
                "pinned_manager_id": "M3",
            },
        ],
        [
            {"manager_id": "M1", "grade": "A", "capacity": 6},
            {"manager_id": "M3", "grade": "C", "capacity": 5},
            {"manager_id": "M4", "grade": "A", "capacity": 6},
        ],
        affinity=_workload_rows({"X": {"M1": 5, "M4": 5, "M3": 2}}, key="industry"),
    )
    result = solve_fast(scenario, time_limit_s=10)
    assert result.status is SolveStatus.INFEASIBLE, result.explanation
    assert "group G1: 2 customers (C2, C3)" in " ".join(result.explanation)


def test_where_affinity_leads_the_premium_portfolio_goes_to_the_holder_the_lp_prices_lowest():
    """Three A-grade managers may hold the premium portfolio; its customers cost 1 with A3 and
    9 with the others. Whatever the kinds' model offers first, the holders chosen for the
    solve are the ones whose LP relaxation costs least."""
    customers = [
        *({"customer_id": f"P{i}", "customer_class": "premium"} for i in range(3)),
        *standard_customers(6),
    ]
    managers = [{"manager_id": m, "grade": "A"} for m in ("A1", "A2", "A3")]
    affinity = [
        {"customer_id": c["customer_id"], "manager_id": m["manager_id"], "cost": 1, "workload": 1}
        if c["customer_class"] != "premium" or m["manager_id"] == "A3"
        else {"customer_id": c["customer_id"], "manager_id": m["manager_id"], "cost": 9}
        for c in customers
        for m in managers
    ]
    scenario = make_scenario(
        customers, managers, affinity=affinity, policy={"objective": {"order": ["affinity"]}}
    )
    instance = build_instance(scenario, customer_targets(scenario))
    first = decide_structure(instance)
    assert isinstance(first, Structure)
    params = SolveParams(10, 1, 0, True)

    chosen = _cheapest_holders(instance, first, params, time.monotonic())

    assert [instance.manager_ids[m] for m in chosen.managers_of(PREMIUM)] == ["A3"]


def test_capacity_with_default_workloads_alone_binds_and_is_reported() -> None:
    """No affinity table: the class defaults are the workloads, capacity binds, and kpis.json
    reports the busiest manager's load (and no affinity cost)."""
    scenario = make_scenario(
        standard_customers(4),
        [manager("M1", capacity=2), manager("M2", capacity=2)],
        policy={"span": {"tolerance": 10}, "affinity": {"default_workload": {"key": 1}}},
    )
    plan = valid_plan(scenario, solve_fast(scenario))
    assert sorted(len(held) for held in holdings(plan).values()) == [2, 2]
    kpis = compute_kpis(scenario, plan)
    assert kpis["workload"]["max_utilisation"] == pytest.approx(1.0)
    assert "affinity" not in kpis


def test_a_plan_that_must_leave_a_portfolio_empty_is_still_the_cheapest():
    """Targets 1000, 500 and 500 within 10% of the mean of the filled portfolios: only A alone
    and B + C together (one portfolio empty) keep the bound. The plan found that way is then
    made cheapest: A with M3 and B, C with M1 cost 0."""
    customers = [
        {"customer_id": c, "customer_class": "basic", "industry": "X", "interest_income": v}
        for c, v in (("A", 1000), ("B", 500), ("C", 500))
    ]
    cost = {"A": {"M1": 9, "M2": 5, "M3": 0}, "B": {"M1": 0, "M2": 5, "M3": 9}}
    cost["C"] = cost["B"]
    scenario = make_scenario(
        customers,
        [manager(m, capacity=10) for m in ("M1", "M2", "M3")],
        affinity=costs(cost),
        policy={
            "objective": {"order": ["affinity", "span", "balance", "chain", "industry"]},
            "balance": {"max_deviation": 0.1},
        },
    )
    result = solve_fast(scenario, time_limit_s=5)
    plan = valid_plan(scenario, result)
    assert holdings(plan) == {"M3": ["A"], "M1": ["B", "C"]}
    assert result.goals["affinity"] == 0
