"""The CP-SAT model over a set of managers and the blocks they may exchange.

Solving it over all managers is the exact model (used on small branches and to prove bounds);
over a few managers it is one step of the large-neighbourhood search. Goals are solved in the
policy's order, each stage fixing the goal before it (lexicographic), or as one weighted sum.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from portfolio_opt.model.goals import (
    MISPLACED,
    GoalSpec,
    Means,
    bound_around,
    goal_scale,
    holders,
    span_terms,
)
from portfolio_opt.model.instance import STANDARD, Instance
from portfolio_opt.model.structure import Structure

STOP_POLL_S = 0.1  # how often a running solve looks whether it was asked to stop


@contextmanager
def stopped_when(stop: Callable[[], bool] | None, solver: cp_model.CpSolver) -> Iterator[None]:
    """While in the block, a solve of ``solver`` ends soon after ``stop()`` turns true."""
    if stop is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        # Asked again while stop() holds: a request made just before the solve began is lost.
        while not done.wait(STOP_POLL_S):
            if stop():
                solver.stop_search()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


@dataclass
class StageResult:
    goal: str
    value: int
    bound: float
    optimal: bool


@dataclass
class SubResult:
    assign: dict[int, int]  # block -> manager, for the blocks of the sub-model
    stages: list[StageResult] = field(default_factory=list)
    status: str = "unknown"
    proven: bool = True  # every stage solved to proven optimality
    spent: float = 0.0  # solver time used: deterministic time in deterministic mode


Plan = dict[int, int]  # block -> manager, for the sub-model's blocks


def _capacity_excess(plan: Plan, m: int, workload: np.ndarray, capacity: np.ndarray) -> int:
    return sum(int(workload[b, m]) for b, mm in plan.items() if mm == m) - int(capacity[m])


def _both_with(plan: Plan, u: int, v: int, m: int) -> int:
    return int(plan[u] == m and plan[v] == m)


def _apart(plan: Plan, u: int, v: int) -> int:
    return int(plan[u] != plan[v])


WEIGHT_PRECISION = 1000  # the smallest weight's integer coefficient, where the largest allows
LARGEST_WEIGHT = 10**9  # a coefficient at most: goal values run to about 1e9, CP-SAT's to 9e18


def integer_weights(per_unit: dict[str, float]) -> dict[str, int]:
    """Integer coefficients in the ratios of ``per_unit`` (a goal's weight per model unit),
    the smallest at least WEIGHT_PRECISION where the largest stays within LARGEST_WEIGHT, and
    never 0 for a goal that weighs something. (A fixed x1000 rounded affinity at 4 decimals,
    1 / 10,000 of a unit, to 0: the goal fell out of the sum.)"""
    weighing = {g: w for g, w in per_unit.items() if w > 0}
    if not weighing:
        return {}
    factor = min(WEIGHT_PRECISION / min(weighing.values()), LARGEST_WEIGHT / max(weighing.values()))
    return {g: max(1, round(w * factor)) for g, w in weighing.items()}


class SubModel:
    """CP-SAT model for ``blocks`` moving among ``managers`` (all other blocks stay put)."""

    def __init__(
        self,
        instance: Instance,
        structure: Structure,
        means: Means,
        spec: GoalSpec,
        managers: np.ndarray,
        blocks: np.ndarray,
        assign: np.ndarray,
        soft_hard_rules: bool = True,
        banned: dict[int, set[int]] | None = None,
        hint: bool = True,
        offered: dict[int, set[int]] | None = None,
    ) -> None:
        self._instance, self._structure, self._means, self._spec = instance, structure, means, spec
        self._managers = [int(m) for m in managers]
        self._manager_set = set(self._managers)
        self._blocks = [int(b) for b in blocks]
        self._assign = assign
        self._soft = soft_hard_rules
        self._banned = banned or {}
        self._offered = offered or {}  # where given, a block considers only these managers
        self._misplaced: list[int] = []
        self._model = cp_model.CpModel()
        self._x: dict[tuple[int, int], cp_model.IntVar] = {}
        self._choices: dict[int, list[tuple[int, cp_model.IntVar]]] = {}  # per block
        self._on: dict[int, list[tuple[int, cp_model.IntVar]]] = {}  # per manager
        self._count: dict[int, cp_model.LinearExpr] = {}
        self._total: dict[int, cp_model.LinearExpr] = {}
        self.goals: dict[str, cp_model.LinearExprT] = {}
        # Per goal, its per-manager terms with the least each can take (see _term_ceilings).
        self._terms: dict[str, list[tuple[cp_model.LinearExprT, int]]] = {}
        # Auxiliary variables with the rule that gives their value in a plan: a complete hint.
        self._derived: list[tuple[cp_model.IntVar, Callable[[Plan], int]]] = []
        self._cached_plan: Plan | None = None
        self._cached_loads: tuple[dict[int, int], dict[int, int], dict[int, set[int]]] = (
            {},
            {},
            {},
        )
        self._industry_sets = {b: {int(i) for i in instance.industries[b]} for b in self._blocks}
        self._variables()
        self._one_manager_per_block()
        self._span_band()
        self._hard_balance()
        self._workload_capacity()
        self._violation_goal()
        builders = {
            "span": self._span_goal,
            "balance": self._balance_goal,
            "chain": self._chain_goal,
            "industry": self._industry_goal,
            "continuity": self._continuity_goal,
            "affinity": self._affinity_goal,
        }
        for goal in spec.order:  # a goal the policy does not rank adds no variables
            builders[goal]()
        if hint:
            self._start_hint()

    @classmethod
    def whole_branch(
        cls,
        instance: Instance,
        structure: Structure,
        means: Means,
        spec: GoalSpec,
        assign: np.ndarray,
        **options: Any,
    ) -> SubModel:
        """The model over every manager and every block (``options`` as for the constructor)."""
        return cls(
            instance,
            structure,
            means,
            spec,
            np.arange(instance.n_managers),
            np.arange(instance.n_blocks),
            assign,
            **options,
        )

    # -- variables ---------------------------------------------------------------------------
    def _candidates(self, b: int, of_kind: dict[int, list[int]]) -> list[int]:
        inst = self._instance
        if inst.pin[b] >= 0:
            return [int(inst.pin[b])] if int(inst.pin[b]) in self._manager_set else []
        banned = self._banned.get(b, ())
        offered = self._offered.get(b)
        managers = of_kind.get(int(inst.kind[b]), [])
        if offered is not None:
            managers = [m for m in managers if m in offered]
        return [m for m in managers if m not in banned and m not in inst.forbidden[b]]

    def _variables(self) -> None:
        model, inst = self._model, self._instance
        of_kind: dict[int, list[int]] = {}
        for m in self._managers:
            of_kind.setdefault(int(self._structure.kind[m]), []).append(m)
        for b in self._blocks:
            allowed = self._candidates(b, of_kind)
            if not allowed:  # keep the block where it is, priced as a broken rule
                allowed = [int(self._assign[b])]
                self._misplaced.append(b)
            self._choices[b] = []
            for m in allowed:
                var = model.new_bool_var(f"x_{b}_{m}")
                self._x[b, m] = var
                self._choices[b].append((m, var))
        on = self._on
        on.update({m: [] for m in self._managers})
        for (b, m), v in self._x.items():
            on.setdefault(m, []).append((b, v))
        for m in self._managers:
            self._count[m] = cp_model.LinearExpr.weighted_sum(
                [v for _, v in on[m]], [int(inst.size[b]) for b, _ in on[m]]
            )
            self._total[m] = cp_model.LinearExpr.weighted_sum(
                [v for _, v in on[m]], [int(inst.value_units[b]) for b, _ in on[m]]
            )

    def _by_block(self, b: int) -> list[tuple[int, cp_model.IntVar]]:
        return self._choices[b]

    # -- hard rules --------------------------------------------------------------------------
    def _one_manager_per_block(self) -> None:
        for b in self._blocks:
            self._model.add_exactly_one([v for _, v in self._by_block(b)])

    def _slack(self, name: str, upper: int, rule: Callable[[Plan], int]) -> cp_model.IntVar:
        var = self._model.new_int_var(0, max(upper, 0), name)
        self._derived.append((var, lambda plan: min(max(rule(plan), 0), max(upper, 0))))
        return var

    def _loads(self, plan: Plan) -> tuple[dict[int, int], dict[int, int], dict[int, set[int]]]:
        """Count, target and industries per manager of ``plan`` (cached for the last plan)."""
        if self._cached_plan is not plan:
            inst = self._instance
            count: dict[int, int] = {}
            total: dict[int, int] = {}
            industries: dict[int, set[int]] = {}
            for b, m in plan.items():
                count[m] = count.get(m, 0) + int(inst.size[b])
                total[m] = total.get(m, 0) + int(inst.value_units[b])
                industries.setdefault(m, set()).update(self._industry_sets[b])
            self._cached_plan, self._cached_loads = plan, (count, total, industries)
        return self._cached_loads

    def _count_in(self, plan: Plan, m: int) -> int:
        return self._loads(plan)[0].get(m, 0)

    def _total_in(self, plan: Plan, m: int) -> int:
        return self._loads(plan)[1].get(m, 0)

    # -- values of the auxiliary variables in a plan (hint rules) -----------------------------
    def _band_excess(self, plan: Plan, m: int, lo: int, hi: int) -> int:
        return max(lo - self._count_in(plan, m), self._count_in(plan, m) - hi)

    def _balance_excess(self, plan: Plan, m: int, lo: int, hi: int) -> int:
        return max(lo - self._total_in(plan, m), self._total_in(plan, m) - hi)

    def _balance_excess_some_empty(self, plan: Plan, m: int, tight: float) -> int:
        if self._count_in(plan, m) == 0:
            return 0
        inst = self._instance
        filled = [k for k in self._count if self._count_in(plan, k) > 0]
        standard = [k for k in filled if self._structure.kind[k] == STANDARD]
        low, high = bound_around(
            int(inst.value_units[inst.kind == STANDARD].sum()) / max(len(standard), 1), tight
        )
        total = self._total_in(plan, m)
        return int(np.ceil(max(low - total, total - high, 0)))

    def _is_filled(self, plan: Plan, m: int) -> int:
        return int(self._count_in(plan, m) > 0)

    def _off_even(self, plan: Plan, m: int, low: int, high: int) -> int:
        count = self._count_in(plan, m)
        return max(low - count, count - high, 0)

    def _span_deviation(self, plan: Plan, m: int) -> int:
        inst = self._instance
        return abs(inst.n_managers * self._count_in(plan, m) - inst.n_customers)

    def _is_empty(self, plan: Plan, m: int) -> int:
        return int(self._count_in(plan, m) == 0)

    def _balance_deviation(self, plan: Plan, m: int, mean: int, band: int, always: bool) -> int:
        if self._count_in(plan, m) == 0 and not always:
            return 0
        return max(abs(self._total_in(plan, m) - mean) - band, 0)

    def _has_industry(self, plan: Plan, m: int, i: int) -> int:
        return int(i in self._loads(plan)[2].get(m, set()))

    def _span_band(self) -> None:
        model, inst, kind = self._model, self._instance, self._structure.kind
        self._band_slack = []
        for m in self._managers:
            low, high = int(inst.low[kind[m], m]), int(inst.high[kind[m], m])
            if self._soft:
                s = self._slack(
                    f"band_slack_{m}",
                    inst.n_customers,
                    partial(self._band_excess, m=m, lo=low, hi=high),
                )
                self._band_slack.append(s)
                model.add(self._count[m] + s >= low)
                model.add(self._count[m] - s <= high)
            else:
                model.add(self._count[m] >= low)
                model.add(self._count[m] <= high)

    def _hard_balance(self) -> None:
        model, means = self._model, self._means
        self._balance_slack = []
        if means.tight is None:
            return
        managers, filled = holders(self._instance, self._structure, STANDARD)
        if not filled:  # no standard customers: no standard portfolio to balance
            return
        # A portfolio whose band allows none may be left empty, and the mean is then over
        # fewer: the whole-branch model weighs that (its proofs then hold for such plans too).
        whole = all(int(m) in self._count for m in managers)
        may_empty = bool((self._instance.low[STANDARD, managers] == 0).any())
        if filled < len(managers) or (may_empty and whole):
            self._hard_balance_some_empty(managers, filled)
            return
        for m in self._managers:
            if self._structure.kind[m] != STANDARD or not np.isfinite(means.hard_low[m]):
                continue
            low, high = int(np.ceil(means.hard_low[m])), int(np.floor(means.hard_high[m]))
            s = self._slack(
                f"balance_slack_{m}",
                10 * int(abs(means.mean[m])) + 10,
                partial(self._balance_excess, m=m, lo=low, hi=high),
            )
            self._balance_slack.append(s)
            model.add(self._total[m] + s >= low)
            model.add(self._total[m] - s <= high)
            if not self._soft:
                model.add(s == 0)

    def _hard_balance_some_empty(self, managers: np.ndarray, most: int) -> None:
        """The balance bound when not every standard manager can hold customers: the mean is
        over the portfolios that do, so the bound depends on how many there are."""
        model, inst = self._model, self._instance
        tight = float(self._means.tight or 0.0)
        kind_total = int(inst.value_units[inst.kind == STANDARD].sum())
        mine = [int(m) for m in managers if m in self._count]
        if len(mine) < len(managers):
            return  # a sub-model cannot see how many fill: the search checks whole plans
        filled = {m: model.new_bool_var(f"filled_{m}") for m in mine}
        fills = {k: model.new_bool_var(f"fills_{k}") for k in range(1, most + 1)}
        model.add_exactly_one(fills.values())
        model.add(sum(filled.values()) == sum(k * v for k, v in fills.items()))
        for m, f in filled.items():
            model.add(self._count[m] >= 1).only_enforce_if(f)
            model.add(self._count[m] == 0).only_enforce_if(f.Not())
            self._derived.append((f, partial(self._is_filled, m=m)))
            s = self._slack(
                f"balance_slack_{m}",
                10 * abs(kind_total) + 10,
                partial(self._balance_excess_some_empty, m=m, tight=tight),
            )
            self._balance_slack.append(s)
            for k, v in fills.items():
                low, high = bound_around(kind_total / k, tight)
                model.add(self._total[m] + s >= int(np.ceil(low))).only_enforce_if(f, v)
                model.add(self._total[m] - s <= int(np.floor(high))).only_enforce_if(f, v)
            if not self._soft:
                model.add(s == 0)

    def _workload_capacity(self) -> None:
        inst, model = self._instance, self._model
        self._capacity_slack = []
        workload, capacity = inst.workload, inst.capacity
        if workload is None or capacity is None:
            return
        for m in self._managers:
            if capacity[m] < 0:
                continue
            load = sum(int(workload[b, m]) * v for b, v in self._on[m])
            s = self._slack(
                f"capacity_slack_{m}",
                int(workload[:, m].sum()) + 1,
                partial(_capacity_excess, m=m, workload=workload, capacity=capacity),
            )
            self._capacity_slack.append(s)
            model.add(load - s <= int(capacity[m]))
            if not self._soft:
                model.add(s == 0)

    # -- goals -------------------------------------------------------------------------------
    def _span_goal(self) -> None:
        inst, model = self._instance, self._model
        m_count, n_total = inst.n_managers, inst.n_customers
        terms: list[cp_model.LinearExprT] = []
        for m in self._managers:
            dev = model.new_int_var(0, m_count * n_total + n_total, f"span_dev_{m}")
            model.add(dev >= m_count * self._count[m] - n_total)
            model.add(dev >= n_total - m_count * self._count[m])
            self._derived.append((dev, partial(self._span_deviation, m=m)))
            terms.append(dev)
            # Beyond the even spread of the manager's kind: see goals.span_terms.
            low, high = int(self._means.even_low[m]), int(self._means.even_high[m])
            off = model.new_int_var(0, n_total, f"span_off_{m}")
            model.add(off >= low - self._count[m])
            model.add(off >= self._count[m] - high)
            self._derived.append((off, partial(self._off_even, m=m, low=low, high=high)))
            terms.append(m_count * off)
            self._terms.setdefault("span", []).append((dev + m_count * off, self._least_span(m)))
        self.goals["span"] = sum(terms)

    def _least_span(self, m: int) -> int:
        """The least span term manager ``m`` can have at any count its band allows (any count
        at all where the hard rules are soft)."""
        inst, means = self._instance, self._means
        kind = self._structure.kind[m]
        low, high = (0, inst.n_customers) if self._soft else (inst.low[kind, m], inst.high[kind, m])
        count = np.arange(int(low), int(high) + 1)
        if not len(count):
            return 0
        terms = span_terms(inst, means, count, np.full(len(count), m))
        return int(terms.min())

    def _violation_goal(self) -> None:
        self.goals["violation"] = (
            1_000_000 * sum(self._band_slack)
            + sum(self._balance_slack)
            + 1000 * sum(self._capacity_slack)
            + MISPLACED * len(self._misplaced)
        )

    def _balance_goal(self) -> None:
        model, means = self._model, self._means
        terms = []
        for m in self._managers:
            mean, band = int(round(means.mean[m])), int(round(means.deadband[m]))
            top = 20 * abs(mean) + 10 * int(np.abs(self._instance.value_units).sum()) + 10
            dev = model.new_int_var(0, top, f"balance_dev_{m}")
            kind = self._structure.kind[m]
            if self._instance.low[kind, m] >= 1:  # never empty: plain constraints, a tight LP
                model.add(dev >= self._total[m] - mean - band)
                model.add(dev >= mean - band - self._total[m])
            else:
                empty = model.new_bool_var(f"empty_{m}")
                model.add(self._count[m] == 0).only_enforce_if(empty)
                model.add(self._count[m] >= 1).only_enforce_if(empty.Not())
                model.add(dev >= self._total[m] - mean - band).only_enforce_if(empty.Not())
                model.add(dev >= mean - band - self._total[m]).only_enforce_if(empty.Not())
                self._derived.append((empty, partial(self._is_empty, m=m)))
            always = bool(self._instance.low[kind, m] >= 1)
            self._derived.append(
                (dev, partial(self._balance_deviation, m=m, mean=mean, band=band, always=always))
            )
            terms.append(dev)
        self.goals["balance"] = sum(terms)

    def _chain_goal(self) -> None:
        inst = self._instance
        inside = set(self._blocks)
        managers = set(self._managers)
        terms: list[cp_model.LinearExprT] = []
        for u, v, w in zip(inst.edge_u, inst.edge_v, inst.edge_w, strict=True):
            u, v, w = int(u), int(v), int(w)
            if u in inside and v in inside:
                # Both forms of a link, tied: see _apart.
                apart = self._apart(u, v)
                self._model.add(apart + sum(self._together(u, v)) == 1)
                terms.append(w * apart)
            elif u in inside or v in inside:
                b, other = (u, v) if u in inside else (v, u)
                fixed = int(self._assign[other])
                if fixed in managers and (b, fixed) in self._x:
                    terms.append(w - w * self._x[b, fixed])
        self.goals["chain"] = sum(terms)

    def _apart(self, u: int, v: int) -> cp_model.IntVar:
        """A boolean forced true where blocks ``u`` and ``v`` go to different managers, tied
        to each manager's pair of choices: the solver propagates a link kept to equal choices.
        With it, the whole branch's model proved the chain goal of 90 x 5 branches in 0.3 and
        10 s, where :meth:`_together` alone was not proven in 60 s, and found S's plans with
        34% of the chain weight cut (60 s) against 43%. Every model keeps both forms, tied:
        with this one alone the search cut 29.0% of M-chain's chain weight (both: 27.6%), with
        the other alone 37.9% of S's (both: 35.6%)."""
        apart = self._model.new_bool_var(f"apart_{u}_{v}")
        for m in self._managers:
            xu, xv = self._x.get((u, m)), self._x.get((v, m))
            if xu is not None:
                self._model.add(apart >= xu - (xv if xv is not None else 0))
            if xv is not None:
                self._model.add(apart >= xv - (xu if xu is not None else 0))
        self._derived.append((apart, partial(_apart, u=u, v=v)))
        return apart

    def _together(self, u: int, v: int) -> list[cp_model.IntVar]:
        """One boolean per manager that may hold both blocks, true only where both go there."""
        together = []
        for m in self._managers:
            if (u, m) in self._x and (v, m) in self._x:
                y = self._model.new_bool_var(f"same_{u}_{v}_{m}")
                self._model.add_implication(y, self._x[u, m])
                self._model.add_implication(y, self._x[v, m])
                together.append(y)
                self._derived.append((y, partial(_both_with, u=u, v=v, m=m)))
        return together

    def _industry_goal(self) -> None:
        inst, model = self._instance, self._model
        present: dict[tuple[int, int], cp_model.IntVar] = {}
        for (b, m), x in self._x.items():
            for i in inst.industries[b]:
                key = (m, int(i))
                if key not in present:
                    present[key] = model.new_bool_var(f"industry_{m}_{i}")
                    self._derived.append((present[key], partial(self._has_industry, m=m, i=int(i))))
                model.add_implication(x, present[key])
        self.goals["industry"] = sum(present.values())

    def _continuity_goal(self) -> None:
        inst = self._instance
        # Terms that cost nothing are left out: with no prior plan the stage disappears.
        self.goals["continuity"] = sum(
            cost * x
            for (b, m), x in self._x.items()
            if (cost := int(inst.total_move_weight[b]) - inst.kept[b].get(m, 0))
        )

    def _affinity_goal(self) -> None:
        inst = self._instance
        if inst.affinity_cost is None:
            return
        self.goals["affinity"] = sum(
            int(inst.affinity_cost[b, m]) * x for (b, m), x in self._x.items()
        )

    def _start_hint(self) -> None:
        self._hint({b: int(self._assign[b]) for b in self._blocks})

    def _hint(self, plan: Plan) -> None:
        """Hint every variable, so CP-SAT starts from a complete feasible solution."""
        model = self._model
        model.clear_hints()
        for (b, m), x in self._x.items():
            model.add_hint(x, plan[b] == m)
        for var, rule in self._derived:
            model.add_hint(var, rule(plan))

    def _term_ceilings(self, goal: str, value: int) -> None:
        """Once ``goal`` is held at ``value``, no manager's term can exceed its least by more
        than the others leave: said per manager, so the solver propagates it. Where the goal
        is at the sum of the least terms (span at an even spread), each term is fixed. CP-SAT does
        not find this from the sum: S (300 x 10) cut 34.6% of its chain weight in 20 s with
        these, 35.6% without."""
        terms = self._terms.get(goal)
        if not terms:
            return
        room = value - sum(least for _, least in terms)
        for term, least in terms:
            self._model.add(term <= least + max(room, 0))

    # -- solving -----------------------------------------------------------------------------
    def _weighted(self) -> cp_model.LinearExprT:
        weights = self._spec.weights or {}
        per_unit = {
            g: weights.get(g, 0.0) / goal_scale(self._instance, g)
            for g in self._spec.order
            if g in self.goals
        }
        coefficients = integer_weights(per_unit)
        return sum(coefficients[g] * self.goals[g] for g in coefficients)

    def solve(
        self,
        time_limit_s: float,
        workers: int,
        seed: int,
        deterministic: bool,
        quick_presolve: bool = False,
        stop: Callable[[], bool] | None = None,
    ) -> SubResult:
        """Solve stage by stage; return the best assignment found and each stage's bound.

        ``quick_presolve`` skips CP-SAT's probing and symmetry detection in presolve: on a large
        model with a good hint they can take seconds before the search starts, and symmetry
        among hundreds of interchangeable managers took 25 s per stage at 500 x 400 (uncounted
        in deterministic time, so a deterministic solve ran six times its limit).
        """
        model = self._model
        stages = (
            ["violation", *self._spec.order]
            if self._spec.lexicographic
            else ["violation", "weighted"]
        )
        if not self._soft:
            stages = stages[1:]  # the hard rules are constraints: no violation to minimise
        result = SubResult(assign={})
        solver = cp_model.CpSolver()
        # Ctrl-C belongs to the caller, who keeps the best plan so far; CP-SAT would swallow it.
        solver.parameters.catch_sigint_signal = False
        solver.parameters.num_workers = max(workers, 1)
        solver.parameters.random_seed = seed
        if deterministic:
            solver.parameters.interleave_search = workers > 1
        if quick_presolve:
            solver.parameters.cp_model_probing_level = 0
            solver.parameters.symmetry_level = 0
        built = [(g, self._weighted() if g == "weighted" else self.goals.get(g)) for g in stages]
        exprs = [(g, e) for g, e in built if e is not None and not isinstance(e, int)]
        spent = 0.0  # time used so far (deterministic time in deterministic mode)
        for position, (stage, expr) in enumerate(exprs):
            if stop is not None and stop() and result.assign:
                result.proven = False
                break  # asked to stop: keep what the stages so far found
            # Time left is shared by the stages left: an easy stage leaves more for the next.
            share = max(time_limit_s - spent, 0.05) / (len(exprs) - position)
            model.minimize(expr)
            if deterministic:
                solver.parameters.max_deterministic_time = share
            else:
                solver.parameters.max_time_in_seconds = share
            with stopped_when(stop, solver):
                status = solver.solve(model)
            spent += solver.response_proto.deterministic_time if deterministic else solver.wall_time
            if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                result.status = solver.status_name(status)
                result.proven = False
                break
            result.proven &= status == cp_model.OPTIMAL
            value = int(round(solver.objective_value))
            result.stages.append(
                StageResult(stage, value, solver.best_objective_bound, status == cp_model.OPTIMAL)
            )
            result.assign = {b: m for (b, m), x in self._x.items() if solver.value(x)}
            self._hint(result.assign)
            model.add(expr <= value)
            self._term_ceilings(stage, value)
            result.status = solver.status_name(status)
        result.spent = spent
        return result
