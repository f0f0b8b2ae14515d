"""Column generation and diving for plain assignments with capacities.

Where affinity leads and the only rules are who may hold whom and each manager's capacity, the
branch is a generalized assignment problem. Its strongest cheap relaxation gives each manager a
whole portfolio at once (a column): the master LP picks at most one portfolio per manager and
covers every block once; a 0/1 knapsack per manager, on the master's prices, finds the portfolio
that lowers its cost most. Its bound is the Lagrangian one, above the pairwise LP's. A dive fixes
the portfolio the master uses most, solves the master again over what is left, and so on until
every block is placed: on the hard generalized assignment instances (type D, 20 x 100) dives
reach 0.1% of the optimum in seconds where pair-by-pair search stalls at 0.5%. Later dives pick
among the leading portfolios at random and stop where the bound says they cannot do better.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.algorithms.python import knapsack_solver
from ortools.sat.python import cp_model

from portfolio_opt.model.instance import Instance
from portfolio_opt.model.lp_start import allowed_pairs
from portfolio_opt.model.settings import StopFn
from portfolio_opt.model.structure import Structure

# Blocks a manager, on average, and (blocks x managers) pairs up to which the dives pay: above,
# the first master takes too long to converge. Measured on GAP at 60 s: at 10 a manager, 40 x
# 400 (16,000 pairs) reaches 0-0.12% above the best known with dives, 0.02-0.65% without; at
# 20 a manager, 10 x 200 (2,000 pairs) 0.02-0.06% with them (dives left a few blocks no portfolio
# could hold: see ``complete``), 0.13% without, but 20 x 400 (8,000 pairs) leaves them no time.
DIVE_LIMITS = ((10, 16_000), (20, 6_000))
STALL_DIVES = 50  # dives in a row that find nothing cheaper, after which the rest is the search's
DIVE_MAX_CAPACITY = 20_000  # knapsack table width, in the workloads' common unit
NOISE = 0.3  # later dives add up to this to a portfolio's LP value before picking the largest
LPS_PER_S = 40  # master LPs a second, about, on 2 cores here: a deterministic dive counts them
NODE_LPS = 40  # master LPs after each fixing in a dive, as long as every block is covered
# Weight of the best-bound prices when pricing (Wentges smoothing): at 40 x 400 the first master
# converged in half the LPs with 0.8 as with 0.5.
SMOOTHING = 0.8
TOLERANCE = 1e-6
DUAL_SIMPLEX, PRIMAL_SIMPLEX = 1, 4  # HiGHS's simplex_strategy
# Of a dive's time, the most the first master may take to be priced out over every block; a
# slower one gives the rest of the time back to the search.
ROOT_SHARE = 0.6
COMPLETION_WORK = 0.5  # CP-SAT's deterministic time to place what a dive left
PROFIT_SCALE = 1e6  # the knapsack solver takes whole profits: millionths of a cost unit


@dataclass(frozen=True)
class PlainAssignment:
    """Blocks to managers at a cost, each manager's workload within capacity, nothing else."""

    cost: np.ndarray  # (blocks, managers) integer cost
    weight: np.ndarray  # (blocks, managers) integer workload in a common unit
    capacity: np.ndarray  # (managers,) integer capacity in that unit, -1 for none
    allowed: np.ndarray  # (blocks, managers) bool

    @property
    def n_blocks(self) -> int:
        return int(self.cost.shape[0])


@dataclass(frozen=True)
class Dived:
    assign: np.ndarray | None  # block -> manager, None when no dive completed
    bound: float  # Lagrangian bound on the cost, -inf where the master was never priced
    dives: int


def plain_assignment(instance: Instance, structure: Structure) -> PlainAssignment | None:
    """The branch as a generalized assignment problem, or None where another rule binds (a
    span band, a balance bound) or the problem is too large for the master to converge."""
    cost, workload, capacity = instance.affinity_cost, instance.workload, instance.capacity
    if cost is None or workload is None or capacity is None or (instance.kind < 0).any():
        return None
    if instance.scenario.policy.balance.max_deviation is not None:
        return None
    per_manager = instance.n_blocks / max(instance.n_managers, 1)
    fits = any(per_manager <= most and cost.size <= pairs for most, pairs in DIVE_LIMITS)
    if not fits or not _bands_open(instance, structure):
        return None
    step = math.gcd(*(int(v) for v in np.unique(workload)), *(int(c) for c in capacity if c > 0))
    step = max(step, 1)
    units = np.where(capacity >= 0, capacity // step, -1)
    if units.max(initial=0) > DIVE_MAX_CAPACITY:
        return None
    return PlainAssignment(cost, workload // step, units, _allowed(instance, structure))


def _bands_open(instance: Instance, structure: Structure) -> bool:
    """Whether every manager may hold no customer and every customer (the band is off)."""
    everyone = np.arange(instance.n_managers)
    kinds = structure.kind
    return bool(
        (instance.low[kinds, everyone] <= 0).all()
        and (instance.high[kinds, everyone] >= instance.size.sum()).all()
    )


def _allowed(instance: Instance, structure: Structure) -> np.ndarray:
    """(blocks, managers): the pairs kinds, pins and rotation allow."""
    allowed = np.zeros((instance.n_blocks, instance.n_managers), dtype=bool)
    allowed[allowed_pairs(instance, structure)] = True
    return allowed


class Knapsack:
    """The blocks of largest total profit within a capacity (0/1 knapsack), by OR-Tools'
    dynamic programming solver on profits in millionths; blocks of no profit are left out."""

    def __init__(self) -> None:
        self.solver = knapsack_solver.KnapsackSolver(
            knapsack_solver.SolverType.KNAPSACK_DYNAMIC_PROGRAMMING_SOLVER, "portfolio"
        )

    def best(
        self, profit: np.ndarray, weight: np.ndarray, capacity: int
    ) -> tuple[np.ndarray, float]:
        """The chosen blocks (mask) and a number no portfolio's profit exceeds: their profit
        plus what rounding the profits may have cost (the Lagrangian bound must stay valid)."""
        chosen = np.zeros(len(profit), dtype=bool)
        if capacity < 0:
            chosen = profit > TOLERANCE
            return chosen, float(profit[chosen].sum())
        items = np.flatnonzero((profit > TOLERANCE) & (weight <= capacity))
        if not len(items):
            return chosen, 0.0
        self.solver.init(
            np.round(profit[items] * PROFIT_SCALE).astype(np.int64).tolist(),
            [weight[items].astype(np.int64).tolist()],
            [int(capacity)],
        )
        self.solver.solve()
        taken = [self.solver.best_solution_contains(t) for t in range(len(items))]
        chosen[items[np.asarray(taken, dtype=bool)]] = True
        return chosen, float(profit[chosen].sum()) + len(items) / PROFIT_SCALE


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS prints its banner on standard output when the first model is made in a process,
    before any option can silence it; the progress line and piped output must not see it."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no standard output to keep clean
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _pricing_points(centre: np.ndarray | None, duals: np.ndarray) -> Iterator[np.ndarray]:
    """Prices to find new portfolios at: first between the best-bound prices so far and the
    master's (smoothing: the master's own swing wildly and converge slowly), then the master's
    own where the first found nothing."""
    if centre is not None:
        yield SMOOTHING * centre + (1 - SMOOTHING) * duals
    yield duals


def _reaches(bound: float, cutoff: float) -> bool:
    """Whether no integer cost at least ``bound`` beats ``cutoff``."""
    return math.isfinite(bound) and math.ceil(bound - TOLERANCE) >= cutoff


@dataclass(frozen=True)
class _Priced:
    """The master's optimum: its value, the blocks' and managers' prices (duals), the
    portfolios' values and the artificials' total."""

    value: float
    block_prices: np.ndarray
    manager_prices: np.ndarray
    columns: np.ndarray
    artificial: float


_banner_shown = [False]  # HiGHS shows it once a process


def _new_highs(highspy: Any) -> Any:
    """A HiGHS model, its banner kept off standard output."""
    if _banner_shown[0]:
        return highspy.Highs()
    with _quiet_stdout():
        highs = highspy.Highs()
    _banner_shown[0] = True
    return highs


class _Master:
    """The restricted master LP: one row per block (covered once), one per manager (at most one
    portfolio), an artificial column per block so that it is always feasible."""

    def __init__(self, problem: PlainAssignment) -> None:
        import highspy  # the master is re-solved from its last basis after each new column

        self.problem = problem
        n_b, n_m = problem.cost.shape
        self.n_b = n_b
        self.highs = _new_highs(highspy)
        self.highs.setOptionValue("output_flag", False)
        # From the last basis, without presolve (which would start afresh); after new columns,
        # primal simplex took 3.4 s where the default took 7.9 s at 20 x 200.
        self.highs.setOptionValue("presolve", "off")
        self.bounds_changed = False
        self.changed: set[int] = set()
        self.infinity = highspy.kHighsInf
        self.optimal = highspy.HighsModelStatus.kOptimal
        none = np.array([], dtype=np.int32)
        self.highs.addRows(n_b, np.ones(n_b), np.ones(n_b), 0, none, none, np.array([]))
        self.highs.addRows(n_m, np.full(n_m, -self.infinity), np.ones(n_m), 0, none, none, [])
        # Dear enough that a master with room for every block leaves them out; cheap enough
        # that its first prices do not send column generation far off.
        artificial = 2.0 * float(np.abs(problem.cost).max(initial=0)) + 1.0
        for b in range(n_b):
            self.highs.addCol(artificial, 0.0, self.infinity, 1, np.array([b], np.int32), [1.0])
        self.manager: list[int] = []
        self.blocks: list[np.ndarray] = []
        self.cost: list[float] = []
        self.seen: set[tuple[int, bytes]] = set()

    def add(self, manager: int, blocks: np.ndarray) -> bool:
        """Add a portfolio as a column; False when the master has it already."""
        key = (manager, blocks.tobytes())
        if key in self.seen:
            return False
        self.seen.add(key)
        cost = float(self.problem.cost[blocks, manager].sum())
        rows = np.concatenate([np.flatnonzero(blocks), [self.n_b + manager]]).astype(np.int32)
        self.highs.addCol(cost, 0.0, self.infinity, len(rows), rows, np.ones(len(rows)))
        self.manager.append(manager)
        self.blocks.append(blocks)
        self.cost.append(cost)
        return True

    def fix(self, column: int) -> None:
        """Take the column whole, and none that shares its manager or a block with it (the
        master would find that out, but slowly)."""
        manager, blocks = self.manager[column], self.blocks[column]
        others = np.flatnonzero(
            (np.asarray(self.manager) == manager) | np.vstack(self.blocks)[:, blocks].any(axis=1)
        )
        self._set_bounds(others, 0.0)
        self._set_bounds(np.array([column]), 1.0)

    def reopen(self) -> None:
        """Free every column fixed or shut since the last reopen."""
        changed = np.fromiter(self.changed, dtype=np.int64)
        if len(changed):
            self._set_bounds(changed, None)
        self.changed.clear()

    def _set_bounds(self, columns: np.ndarray, value: float | None) -> None:
        """Fix the columns at ``value``, or free them (0 .. infinity) for None."""
        low = np.zeros(len(columns)) if value is None else np.full(len(columns), value)
        high = np.full(len(columns), self.infinity if value is None else value)
        self.highs.changeColsBounds(len(columns), (self.n_b + columns).astype(np.int32), low, high)
        self.changed.update(columns.tolist())
        self.bounds_changed = True

    def _simplex_for_the_change(self) -> None:
        """Dual simplex after bounds change (the basis stays dual feasible), primal after new
        columns (it stays primal feasible)."""
        strategy = DUAL_SIMPLEX if self.bounds_changed else PRIMAL_SIMPLEX
        self.highs.setOptionValue("simplex_strategy", strategy)
        self.bounds_changed = False

    def solve(self) -> _Priced | None:
        """The master's optimum and prices; None when HiGHS fails."""
        self._simplex_for_the_change()
        self.highs.run()
        if self.highs.getModelStatus() != self.optimal:
            return None
        solution = self.highs.getSolution()
        duals = np.asarray(solution.row_dual)
        values = np.asarray(solution.col_value)
        return _Priced(
            float(self.highs.getInfo().objective_function_value),
            duals[: self.n_b],
            duals[self.n_b :],
            values[self.n_b :],
            float(values[: self.n_b].sum()),
        )


@dataclass
class _Dive:
    """What is still open in a dive: managers without a portfolio, blocks without a manager."""

    open_managers: np.ndarray
    open_blocks: np.ndarray
    fixed_cost: float = 0.0


class _Search:
    """Column generation and dives over one master, within a deadline or a count of LPs."""

    def __init__(
        self,
        problem: PlainAssignment,
        seconds: float,
        max_lps: int | None,
        stop: StopFn | None,
        prices: np.ndarray | None = None,
    ) -> None:
        self.problem, self.max_lps, self.stop = problem, max_lps, stop
        self.prices = prices  # good prices of every block to start pricing from, where known
        started = time.monotonic()
        self.deadline = started + seconds
        self.root_deadline = started + ROOT_SHARE * seconds
        self.lps = 0
        self.rooted = False  # whether the master has been priced out over every block
        self.master = _Master(problem)
        self.knapsack = Knapsack()
        self.bound = -math.inf

    def out_of_time(self) -> bool:
        """Whether the time (or the count of LPs) is up: before the master has been priced out
        over every block, at ``ROOT_SHARE`` of it, so that a master too slow to converge
        leaves most of the time to the search."""
        if self.stop is not None and self.stop():
            return True
        share = 1.0 if self.rooted else ROOT_SHARE
        if self.max_lps is not None:
            return self.lps >= max(int(share * self.max_lps), 1)
        return time.monotonic() >= (self.deadline if self.rooted else self.root_deadline)

    def _master_solved(self) -> _Priced | None:
        self.lps += 1
        return self.master.solve()

    def generate(
        self,
        state: _Dive,
        cutoff: float,
        most_lps: float = math.inf,
        centre: np.ndarray | None = None,
    ) -> tuple[np.ndarray, float, float] | None:
        """Columns until the master is optimal over every portfolio, its bound reaches the
        cutoff, or ``most_lps`` master LPs cover every block without artificials: the columns'
        values, the artificials' total and the Lagrangian bound of what is open, fixed cost
        included; None when out of time or HiGHS fails. ``centre``: prices known to be good
        (the pairwise LP's), priced first and smoothed towards."""
        bound = -math.inf
        lps = 0
        while not self.out_of_time():
            lps += 1
            solved = self._master_solved()
            if solved is None:
                return None
            added = 0
            points = _pricing_points(centre, solved.block_prices)
            if lps == 1 and centre is not None:
                points = itertools.chain([centre], points)
            for prices in points:
                lagrangian, added = self._price(state, prices, solved)
                if lagrangian > bound:
                    bound, centre = lagrangian, prices
                if added:
                    break
            settled = added == 0 or solved.value - bound < TOLERANCE
            enough = lps >= most_lps and solved.artificial <= TOLERANCE
            if settled or enough or _reaches(bound, cutoff):
                values = solved.columns
                values = np.concatenate([values, np.zeros(len(self.master.cost) - len(values))])
                return values, solved.artificial, bound
        return None

    def _price(self, state: _Dive, prices: np.ndarray, solved: _Priced) -> tuple[float, int]:
        """Each open manager's best portfolio at ``prices``: the Lagrangian bound these prices
        give, and how many portfolios that lower the master's cost were added."""
        problem = self.problem
        lagrangian = state.fixed_cost + float(prices[state.open_blocks].sum())
        added = 0
        for m in np.flatnonzero(state.open_managers):
            profit = np.where(
                state.open_blocks & problem.allowed[:, m], prices - problem.cost[:, m], 0.0
            )
            blocks, most = self.knapsack.best(
                profit, problem.weight[:, m], int(problem.capacity[m])
            )
            lagrangian -= most
            reduced = (
                problem.cost[blocks, m].sum()
                - solved.block_prices[blocks].sum()
                - solved.manager_prices[m]
            )
            if reduced < -TOLERANCE and blocks.any():
                added += self.master.add(int(m), blocks)
        return lagrangian, added

    def dive(self, rng: np.random.Generator, noise: float, cutoff: float) -> np.ndarray | None:
        """One dive: fix the portfolio the master uses most (plus noise) until every block has
        a manager; None where the bound reaches ``cutoff`` or the blocks left do not fit."""
        problem, master = self.problem, self.master
        n_b, n_m = problem.cost.shape
        state = _Dive(np.ones(n_m, dtype=bool), np.ones(n_b, dtype=bool))
        assign = np.full(n_b, -1, dtype=np.int64)
        fixed: list[int] = []
        try:
            while state.open_blocks.any():
                generated = (
                    self.generate(state, cutoff, NODE_LPS)
                    if fixed
                    else self.generate(state, cutoff, centre=self.prices)
                )
                if generated is None:
                    return None
                values, artificial, bound = generated
                if not fixed:
                    self.bound = max(self.bound, bound)
                    self.rooted = True
                if _reaches(bound, cutoff):
                    return None
                if artificial > TOLERANCE:  # the portfolios left cannot hold what is left
                    return complete(self.problem, assign) if fixed else None
                usable = np.array(
                    [
                        state.open_managers[m] and not (blocks & ~state.open_blocks).any()
                        for m, blocks in zip(master.manager, master.blocks, strict=True)
                    ]
                )
                score = np.where(usable, values + noise * rng.random(len(values)), -np.inf)
                whole = np.flatnonzero(usable & (values > 1 - TOLERANCE))
                chosen = whole if len(whole) else [int(np.argmax(score))]
                if not usable[chosen].all():
                    return None
                for column in chosen:
                    self._fix(state, assign, int(column))
                    fixed.append(int(column))
            return assign
        finally:
            master.reopen()

    def _fix(self, state: _Dive, assign: np.ndarray, column: int) -> None:
        """Give the column's blocks to its manager for the rest of the dive."""
        master = self.master
        m, blocks = master.manager[column], master.blocks[column]
        assign[blocks] = m
        state.open_managers[m] = False
        state.open_blocks &= ~blocks
        state.fixed_cost += master.cost[column]
        master.fix(column)


def complete(problem: PlainAssignment, partial: np.ndarray) -> np.ndarray | None:
    """``partial`` with its unplaced blocks (-1) given to the managers with room for them at
    least cost (a small CP-SAT model; the placed blocks stay), or None when they do not fit:
    a dive that cannot end in whole portfolios mostly leaves a few blocks that fit elsewhere."""
    n_m = problem.cost.shape[1]
    placed = partial >= 0
    held = problem.weight[np.flatnonzero(placed), partial[placed]]
    load = np.bincount(partial[placed], weights=held, minlength=n_m)
    room = np.where(problem.capacity >= 0, problem.capacity - load, np.inf)
    model = cp_model.CpModel()
    x = {
        (b, m): model.new_bool_var(f"x{b}_{m}")
        for b in np.flatnonzero(~placed)
        for m in np.flatnonzero(problem.allowed[b] & (problem.weight[b] <= room))
    }
    for b in np.flatnonzero(~placed):
        model.add_exactly_one(v for (bb, _), v in x.items() if bb == b)
    for m in np.flatnonzero(np.isfinite(room)):
        taken = [(int(problem.weight[b, m]), v) for (b, mm), v in x.items() if mm == m]
        if taken:
            model.add(sum(w * v for w, v in taken) <= int(room[m]))
    model.minimize(sum(int(problem.cost[b, m]) * v for (b, m), v in x.items()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = COMPLETION_WORK
    solver.parameters.catch_sigint_signal = False  # Ctrl-C is the caller's (see SubModel.solve)
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    plan = partial.copy()
    for (b, m), v in x.items():
        if solver.value(v):
            plan[b] = m
    return plan


def _portfolios_that_fit(problem: PlainAssignment, plan: np.ndarray) -> np.ndarray:
    """Per manager, whether the plan's portfolio keeps its capacity and allowed pairs."""
    n_b, n_m = problem.cost.shape
    rows = np.arange(n_b)
    load = np.bincount(plan, weights=problem.weight[rows, plan], minlength=n_m)
    misplaced = np.bincount(plan, weights=~problem.allowed[rows, plan], minlength=n_m)
    return ((problem.capacity < 0) | (load <= problem.capacity)) & (misplaced == 0)


def dive(
    problem: PlainAssignment,
    start: np.ndarray | None,
    seconds: float,
    seed: int,
    deterministic: bool,
    stop: StopFn | None = None,
    prices: np.ndarray | None = None,
) -> Dived:
    """The cheapest plan the dives find in ``seconds`` (counted in master LPs when
    ``deterministic``), and the Lagrangian bound. ``start``, a plan within capacity, seeds the
    master with its portfolios and is the cutoff to beat; ``prices`` of the blocks (the
    pairwise LP's duals), where given, are where pricing starts."""
    max_lps = max(int(LPS_PER_S * seconds), 1) if deterministic else None
    search = _Search(problem, seconds, max_lps, stop, prices)
    best, best_cost = None, math.inf
    if start is not None:
        fits = _portfolios_that_fit(problem, start)
        for m in np.flatnonzero(fits):
            search.master.add(int(m), start == m)
        if fits.all() and problem.allowed[np.arange(problem.n_blocks), start].all():
            best, best_cost = start, float(problem.cost[np.arange(problem.n_blocks), start].sum())
    rng = np.random.default_rng(seed)
    dives = since_better = 0
    while not search.out_of_time() and since_better < STALL_DIVES:
        plan = search.dive(rng, NOISE if dives else 0.0, best_cost)
        dives += 1
        since_better += 1
        if plan is not None:
            cost = float(problem.cost[np.arange(problem.n_blocks), plan].sum())
            if cost < best_cost:
                best, best_cost, since_better = plan, cost, 0
        if _reaches(search.bound, best_cost):
            break  # proven: no plan is cheaper
    return Dived(best, search.bound, dives)
