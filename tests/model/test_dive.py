"""Column generation and dives for plain assignments with capacities (model/dive.py)."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from ortools.sat.python import cp_model

from portfolio_opt.gap import GapProblem, write_gap_scenario
from portfolio_opt.model import attempt
from portfolio_opt.model import dive as dive_module
from portfolio_opt.model.dive import (
    Dived,
    Knapsack,
    PlainAssignment,
    complete,
    dive,
    plain_assignment,
)
from portfolio_opt.model.instance import Instance
from portfolio_opt.model.result import SolveStatus
from portfolio_opt.model.settings import StopFn
from portfolio_opt.model.solve import compile_instance, solve
from portfolio_opt.model.structure import Structure, decide_structure
from portfolio_opt.plan import check_plan
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.loader import load_scenario


def _random_problem(seed: int, managers: int = 3, blocks: int = 7) -> PlainAssignment:
    """A small generalized assignment problem, tight enough that capacity binds."""
    rng = np.random.default_rng(seed)
    weight = rng.integers(1, 10, size=(blocks, managers))
    cost = rng.integers(-5, 30, size=(blocks, managers))
    capacity = np.full(managers, int(weight.sum() * 0.8 / managers) + 3)
    allowed = rng.random((blocks, managers)) > 0.15
    allowed[np.arange(blocks), rng.integers(0, managers, blocks)] = True
    return PlainAssignment(cost, weight, capacity, allowed)


def _every_plan(problem: PlainAssignment) -> list[tuple[np.ndarray, int]]:
    """Every plan keeping the capacities and allowed pairs, with its cost."""
    n_b, n_m = problem.cost.shape
    rows = np.arange(n_b)
    plans = []
    for plan in itertools.product(range(n_m), repeat=n_b):
        assign = np.array(plan)
        load = np.bincount(assign, weights=problem.weight[rows, assign], minlength=n_m)
        if problem.allowed[rows, assign].all() and (load <= problem.capacity).all():
            plans.append((assign, int(problem.cost[rows, assign].sum())))
    return plans


@pytest.mark.parametrize("seed", range(12))
def test_knapsack_finds_the_most_profitable_set_within_capacity(seed: int) -> None:
    rng = np.random.default_rng(seed)
    profit = rng.normal(0, 5, 9)
    weight = rng.integers(1, 8, 9)
    capacity = int(rng.integers(0, 25))
    chosen, most = Knapsack().best(profit, weight, capacity)
    best = max(
        profit[list(s)].sum()
        for k in range(10)
        for s in itertools.combinations(range(9), k)
        if weight[list(s)].sum() <= capacity
    )
    assert weight[chosen].sum() <= capacity
    assert profit[chosen].sum() == pytest.approx(best, abs=1e-4)
    assert most >= best - 1e-9  # the bound it reports is never below the true best


def test_knapsack_without_capacity_takes_every_profitable_block() -> None:
    chosen, most = Knapsack().best(np.array([3.0, -1.0, 0.0, 2.5]), np.array([5, 1, 1, 9]), -1)
    assert chosen.tolist() == [True, False, False, True]
    assert most == pytest.approx(5.5)


@pytest.mark.parametrize("seed", range(8))
def test_dives_find_a_valid_plan_and_a_bound_below_the_optimum(seed: int) -> None:
    problem = _random_problem(seed)
    plans = _every_plan(problem)
    dived = dive(problem, None, 2.0, seed=0, deterministic=True)
    if not plans:
        assert dived.assign is None
        return
    optimum = min(cost for _, cost in plans)
    assert dived.bound <= optimum + 1e-6
    assert dived.assign is not None
    rows = np.arange(problem.n_blocks)
    assert problem.allowed[rows, dived.assign].all()
    load = np.bincount(dived.assign, weights=problem.weight[rows, dived.assign], minlength=3)
    assert (load <= problem.capacity).all()
    assert problem.cost[rows, dived.assign].sum() == optimum  # tiny: the dives reach it


def test_a_start_plan_is_kept_when_no_dive_beats_it() -> None:
    problem = _random_problem(3)
    best, cost = min(_every_plan(problem), key=lambda pc: pc[1])
    dived = dive(problem, best, 1.0, seed=0, deterministic=True)
    assert dived.assign is not None
    assert problem.cost[np.arange(problem.n_blocks), dived.assign].sum() == cost


def test_deterministic_dives_give_the_same_plan() -> None:
    problem = _random_problem(5, managers=4, blocks=14)
    first = dive(problem, None, 2.0, seed=3, deterministic=True)
    second = dive(problem, None, 2.0, seed=3, deterministic=True)
    assert first.assign is not None and second.assign is not None
    assert first.assign.tolist() == second.assign.tolist()
    assert first.bound == second.bound


@pytest.mark.parametrize("seed", range(8))
def test_a_dive_left_unfinished_is_completed_at_least_cost(seed: int) -> None:
    """The blocks a dive could not place go where there is room, at least cost; the blocks it
    placed stay where they are."""
    problem = _random_problem(seed)
    plans = _every_plan(problem)
    if not plans:
        return
    rng = np.random.default_rng(seed)
    kept, _ = plans[int(rng.integers(len(plans)))]
    partial = kept.copy()
    partial[rng.choice(problem.n_blocks, 3, replace=False)] = -1
    fitting = [cost for plan, cost in plans if (plan[partial >= 0] == partial[partial >= 0]).all()]
    completed = complete(problem, partial)
    assert completed is not None
    assert (completed[partial >= 0] == partial[partial >= 0]).all()
    assert [c for p, c in plans if p.tolist() == completed.tolist()] == [min(fitting)]


def test_a_dive_whose_blocks_fit_nowhere_is_not_completed() -> None:
    problem = PlainAssignment(
        np.array([[1, 2], [2, 1], [3, 3]]),
        np.array([[2, 2], [2, 2], [2, 2]]),
        np.array([3, 3]),
        np.ones((3, 2), dtype=bool),
    )
    assert complete(problem, np.array([0, 1, -1])) is None  # each manager has room for one


@pytest.mark.parametrize("seed", range(4))
def test_pricing_from_given_prices_reaches_the_same_bound(seed: int) -> None:
    """Prices to start from (the pairwise LP's) speed column generation up, and whatever they
    are, the bound it proves is the same and never above the optimum."""
    problem = _random_problem(seed, managers=3, blocks=8)
    plans = _every_plan(problem)
    if not plans:
        return
    optimum = min(cost for _, cost in plans)
    plain = dive(problem, None, 2.0, seed=0, deterministic=True)
    prices = np.random.default_rng(seed).normal(10, 5, problem.n_blocks)
    primed = dive(problem, None, 2.0, seed=0, deterministic=True, prices=prices)
    assert primed.bound == pytest.approx(plain.bound, abs=1e-4)
    assert primed.bound <= optimum + 1e-6


def test_a_master_too_slow_to_converge_gives_the_time_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first master is priced out within a share of the dives' time (in master LPs when
    deterministic), or the dives stop and leave the rest to the search."""
    solved: list[int] = []
    original = dive_module._Master.solve

    def counted(self: object) -> object:
        solved.append(1)
        return original(self)  # type: ignore[arg-type]

    monkeypatch.setattr(dive_module._Master, "solve", counted)
    problem = _random_problem(2, managers=12, blocks=90)
    lps = 10
    dived = dive(problem, None, lps / dive_module.LPS_PER_S, seed=0, deterministic=True)
    assert len(solved) == int(dive_module.ROOT_SHARE * lps)
    assert dived.assign is None and dived.dives == 1
    assert dived.bound == -np.inf


def test_nothing_reaches_standard_output() -> None:
    """HiGHS announces itself on standard output; a piped solve must not show it."""
    code = (
        "import numpy as np\n"
        "from portfolio_opt.model.dive import PlainAssignment, dive\n"
        "p = PlainAssignment(np.array([[1, 2], [2, 1]]), np.ones((2, 2), int),"
        " np.array([1, 1]), np.ones((2, 2), bool))\n"
        "d = dive(p, None, 0.5, 0, True)\n"
        "import sys; sys.stderr.write(str(d.assign.tolist()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == ""
    assert done.stderr == "[0, 1]"


def _imported(tmp_path: Path, extra_policy: str = "") -> tuple[Instance, Structure]:
    rng = np.random.default_rng(0)
    problem = GapProblem(
        rng.integers(5, 25, size=(3, 8)), rng.integers(5, 25, size=(3, 8)), np.full(3, 60), "t"
    )
    write_gap_scenario(problem, tmp_path / "s", "test")
    if extra_policy:
        toml = tmp_path / "s" / "scenario.toml"
        toml.write_text(toml.read_text(encoding="utf-8") + extra_policy, encoding="utf-8")
    instance = compile_instance(load_scenario(tmp_path / "s"))
    structure = decide_structure(instance, 10, False, exclude=[], deterministic=True)
    assert isinstance(structure, Structure)
    return instance, structure


def test_an_imported_gap_is_a_plain_assignment_in_its_own_units(tmp_path: Path) -> None:
    instance, structure = _imported(tmp_path)
    plain = plain_assignment(instance, structure)
    assert plain is not None
    # Workloads are held in thousandths; the knapsack works in their common step.
    assert plain.capacity.tolist() == [60, 60, 60]
    assert plain.allowed.all()


def _gap_of(tmp_path: Path, agents: int, jobs: int) -> tuple[Instance, Structure]:
    rng = np.random.default_rng(1)
    weight = rng.integers(5, 25, size=(agents, jobs))
    problem = GapProblem(rng.integers(5, 25, size=(agents, jobs)), weight, weight.sum(1) // 4, "g")
    folder = tmp_path / f"g{agents}x{jobs}"
    write_gap_scenario(problem, folder, "test")
    instance = compile_instance(load_scenario(folder))
    structure = decide_structure(instance, 10, False, exclude=[], deterministic=True)
    assert isinstance(structure, Structure)
    return instance, structure


@pytest.mark.parametrize(
    ("agents", "jobs", "dived"),
    [(40, 400, True), (10, 200, True), (10, 210, False), (20, 400, False), (45, 400, False)],
)
def test_the_dives_take_branches_whose_first_master_converges_in_time(
    tmp_path: Path, agents: int, jobs: int, dived: bool
) -> None:
    """Up to 10 customers a manager on average and 16,000 pairs, or 20 and 6,000."""
    instance, structure = _gap_of(tmp_path, agents, jobs)
    assert (plain_assignment(instance, structure) is not None) is dived


def test_a_balance_bound_makes_it_more_than_a_plain_assignment(tmp_path: Path) -> None:
    instance, structure = _imported(tmp_path, "\n[balance]\nmax_deviation = 0.5\n")
    assert plain_assignment(instance, structure) is None


def test_a_span_band_makes_it_more_than_a_plain_assignment(tmp_path: Path) -> None:
    instance, structure = _imported(tmp_path)
    instance.high[:, 0] = 3  # a band that binds on one manager
    assert plain_assignment(instance, structure) is None


def _random_gap(
    tmp_path: Path, seed: int, agents: int, jobs: int, tightness: int
) -> tuple[GapProblem, Scenario]:
    """A random GAP written as a scenario: each agent's capacity is its whole workload over
    ``tightness``."""
    rng = np.random.default_rng(seed)
    weight = rng.integers(5, 25, size=(agents, jobs))
    cost = rng.integers(10, 50, size=(agents, jobs))
    problem = GapProblem(cost, weight, weight.sum(axis=1) // tightness, "random")
    write_gap_scenario(problem, tmp_path / "s", "test")
    return problem, load_scenario(tmp_path / "s")


def test_a_deterministic_solve_of_a_plain_assignment_repeats_its_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dives count master LPs, not seconds, under --deterministic: the same plan twice."""
    dives: list[int] = []

    def counted(*args: object, **kwargs: object) -> object:
        dived = dive(*args, **kwargs)  # type: ignore[arg-type]
        dives.append(dived.dives)
        return dived

    monkeypatch.setattr(attempt, "dive", counted)
    _, scenario = _random_gap(tmp_path, seed=7, agents=5, jobs=40, tightness=6)
    plans = []
    for _ in range(2):
        result = solve(scenario, time_limit_s=2, workers=1, seed=0, deterministic=True)
        assert result.assignment is not None
        plans.append(result.assignment["manager_id"].tolist())
        assert result.method.startswith("column generation and dives, then ")
        assert check_plan(scenario, result.assignment) == []
    assert plans[0] == plans[1]
    assert len(dives) == 2 and dives[0] == dives[1] > 0


def _least_cost(problem: GapProblem) -> int:
    """The optimum of a small generalized assignment problem, by a plain model of its own."""
    model = cp_model.CpModel()
    agents, jobs = problem.cost.shape
    x = [[model.new_bool_var(f"x{i}_{j}") for j in range(jobs)] for i in range(agents)]
    for j in range(jobs):
        model.add_exactly_one(x[i][j] for i in range(agents))
    for i in range(agents):
        load = sum(int(problem.resource[i, j]) * x[i][j] for j in range(jobs))
        model.add(load <= int(problem.capacity[i]))
    model.minimize(
        sum(int(problem.cost[i, j]) * x[i][j] for i in range(agents) for j in range(jobs))
    )
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 30
    assert solver.solve(model) == cp_model.OPTIMAL
    return int(solver.objective_value)


def test_the_exact_model_beside_the_dives_ends_them_once_it_proves_the_optimum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two workers the exact model runs beside the dives (here dives that never end on
    their own); its proof ends them long before their time, and the plan is the optimum."""
    ended_by_proof: list[bool] = []

    def endless(*args: object) -> Dived:
        stop: StopFn = args[5]  # type: ignore[assignment]
        began = time.monotonic()
        while not stop() and time.monotonic() - began < 60:
            time.sleep(0.01)
        ended_by_proof.append(stop())
        return Dived(None, -math.inf, 0)

    monkeypatch.setattr(attempt, "dive", endless)
    problem, scenario = _random_gap(tmp_path, seed=3, agents=4, jobs=24, tightness=3)
    result = solve(scenario, time_limit_s=120, workers=2, seed=0)
    assert result.status is SolveStatus.OPTIMAL
    assert result.method.startswith("column generation and dives, then exact CP-SAT model")
    assert ended_by_proof == [True]
    assert result.runtime < 60  # the dives would have run for most of the 120 s
    plan = result.assignment
    agent = plan["manager_id"].str[1:].astype(int) - 1
    job = plan["customer_id"].str[1:].astype(int) - 1
    assert int(problem.cost[agent, job].sum()) == _least_cost(problem)
    assert check_plan(scenario, result.assignment) == []
