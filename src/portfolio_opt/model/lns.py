"""Large-neighbourhood search: re-solve a few managers at a time with the CP-SAT sub-model.

Neighbourhoods are chosen where the plan is weakest: managers that miss a band or bound, the
most and least loaded managers of one kind, the two ends of a cut chain link, or at random.
The neighbourhood grows while sub-models solve to optimality quickly and shrinks when they do not.
Where affinity leads, a sub-model offers each block only the core's managers (the LP's cheapest
pairs, and the block's own manager).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from portfolio_opt.model.cpmodel import SubModel, SubResult
from portfolio_opt.model.goals import (
    GoalSpec,
    Means,
    evaluate,
    missing_managers,
    objective_key,
    with_changes,
)
from portfolio_opt.model.instance import Instance
from portfolio_opt.model.polish import polish_chain, spread_evenly
from portfolio_opt.model.state import PlanState
from portfolio_opt.model.structure import Structure

MAX_SIZE = 8  # managers in a neighbourhood, at most
MAX_SIZE_COST_LED = 14
# GAP at 60 s on one worker, deterministic, max 14 -> 5: d20100 6,239 -> 6,219, e801600
# 177,223 -> 177,079, d801600 97,189 -> 97,183.
MAX_SIZE_COST_LED_DETERMINISTIC = 5
COST_LED_STEPS = 50  # deterministic steps led by cost, at most, per step of the plain count


@dataclass
class SearchBudget:
    time_limit_s: float
    workers: int
    seed: int
    deterministic: bool


Progress = Callable[[dict[str, int], float], None]


class LargeNeighbourhoodSearch:
    """Improves a complete plan in place, never accepting a worse one."""

    def __init__(
        self,
        instance: Instance,
        structure: Structure,
        means: Means,
        spec: GoalSpec,
        assign: np.ndarray,
        budget: SearchBudget,
        guide: np.ndarray | None = None,
        pruner: Callable[[np.ndarray], np.ndarray | None] | None = None,
        core: Callable[[np.ndarray], dict[int, set[int]]] | None = None,
    ) -> None:
        self.instance, self.structure, self.means, self.spec = instance, structure, means, spec
        self.guide = guide  # (blocks, managers) LP shares, for affinity neighbourhoods
        # plan -> (blocks, managers) pairs no plan as good uses (LP reduced-cost fixing)
        self._pruner = pruner
        self.assign = assign.copy()
        self.budget = budget
        self.values = evaluate(instance, structure, means, self.assign)
        self._pruned = pruner(self.assign) if pruner is not None else None
        # plan -> per block, the managers its sub-models offer it (the plan's own among them)
        self._core = core
        self._offered = core(self.assign) if core is not None else None
        self.rng = np.random.default_rng(budget.seed)
        self.size = 3
        self.iterations = 0
        self._kinds = [k for k in range(3) if len(structure.managers_of(k)) > 1]
        self._weights = self._kind_weights()
        order = list(spec.order)
        balance_first = "balance" in order and (
            "chain" not in order or order.index("balance") < order.index("chain")
        )
        self._extremes_share = (0.35 if balance_first else 0.1) if "balance" in order else 0.0
        affinity = "affinity" in order and instance.affinity_cost is not None
        leads = affinity and all(
            g not in order or order.index("affinity") < order.index(g) for g in ("balance", "chain")
        )
        self._affinity_share = (0.6 if leads else 0.2) if affinity else 0.0
        # Cost-led sub-models (assignment with capacities) solve fast: let them grow larger;
        # less so when deterministic, as the budget is then solver work and more small steps
        # fit in it than large ones.
        self._max_size = (
            (MAX_SIZE_COST_LED_DETERMINISTIC if budget.deterministic else MAX_SIZE_COST_LED)
            if leads
            else MAX_SIZE
        )
        self._cost_led = leads
        self.work = 0.0  # the sub-models' solver time so far (deterministic time if so)

    def _kind_weights(self) -> np.ndarray:
        counts = np.array([len(self.structure.managers_of(k)) for k in self._kinds], dtype=float)
        return counts / counts.sum() if len(counts) else counts

    # -- neighbourhoods ----------------------------------------------------------------------
    def _pick_kind(self) -> int:
        return int(self.rng.choice(self._kinds, p=self._weights))

    def _loads(self) -> tuple[np.ndarray, np.ndarray]:
        inst = self.instance
        count = np.bincount(self.assign, weights=inst.size, minlength=inst.n_managers)
        total = np.bincount(self.assign, weights=inst.value_units, minlength=inst.n_managers)
        return count, total

    def _affinity_related(self, kind: int, first: int | None = None) -> np.ndarray:
        """A manager and the managers it should trade customers with, by affinity.

        With the LP relaxation's shares (``guide``) the first manager is drawn where the plan
        disagrees most with the LP optimum, and its partners are where the LP puts its
        customers (or from where the LP brings customers to it); without them, partners are
        where its customers, or theirs, would be cheaper.
        """
        inst, guide = self.instance, self.guide
        cost = inst.affinity_cost
        assert cost is not None
        managers = self.structure.managers_of(kind)
        local = np.full(inst.n_managers, -1)
        local[managers] = np.arange(len(managers))
        if first is None and guide is not None and self.rng.random() < 0.7:
            kept = guide[np.arange(inst.n_blocks), self.assign]
            away = np.bincount(self.assign, weights=1 - kept, minlength=inst.n_managers)
            mass = away[managers] + 1e-3
            first = int(self.rng.choice(managers, p=mass / mass.sum()))
        seed = int(self.rng.choice(managers)) if first is None else first
        held = np.flatnonzero(self.assign == seed)
        others = np.flatnonzero((local[self.assign] >= 0) & (self.assign != seed))
        if guide is not None:
            gain = guide[held][:, managers].sum(axis=0)
            back = guide[others, seed]
        else:
            gain = np.maximum(cost[held, seed][:, None] - cost[held][:, managers], 0).sum(axis=0)
            back = np.maximum(cost[others, self.assign[others]] - cost[others, seed], 0)
        gain = gain + np.bincount(local[self.assign[others]], weights=back, minlength=len(managers))
        score = gain + self.rng.random(len(managers)) * (0.5 * gain.max() + 1e-9)
        score[local[seed]] = -np.inf
        picked = managers[np.argsort(-score)[: max(self.size - 1, 1)]]
        return np.array(sorted({seed, *picked.tolist()}), dtype=np.int64)

    def _extremes(self, kind: int) -> np.ndarray:
        managers = self.structure.managers_of(kind)
        _, total = self._loads()
        dev = total[managers] - self.means.mean[managers]
        order = np.argsort(dev)
        half = max(1, self.size // 2)
        return np.concatenate([managers[order[:half]], managers[order[-half:]]])

    def _chain_pair(self, kind: int) -> np.ndarray:
        inst = self.instance
        managers = set(self.structure.managers_of(kind).tolist())
        au, av = self.assign[inst.edge_u], self.assign[inst.edge_v]
        cut = np.flatnonzero((au != av) & np.isin(au, list(managers)) & np.isin(av, list(managers)))
        if not len(cut):
            return np.array([], dtype=np.int64)
        weights = inst.edge_w[cut].astype(float)
        e = int(self.rng.choice(cut, p=weights / weights.sum()))
        chosen = {int(au[e]), int(av[e])}
        # widen with managers that share cut links with the first two
        linked = cut[np.isin(au[cut], list(chosen)) | np.isin(av[cut], list(chosen))]
        extra = np.unique(np.concatenate([au[linked], av[linked]]))
        self.rng.shuffle(extra)
        for m in extra:
            if len(chosen) >= self.size:
                break
            chosen.add(int(m))
        return np.array(sorted(chosen), dtype=np.int64)

    def _neighbourhood(self) -> np.ndarray:
        kind = self._pick_kind()
        managers = self.structure.managers_of(kind)
        chosen = set()
        violators = missing_managers(self.instance, self.structure, self.means, self.assign, kind)
        if len(violators) and self._affinity_share:
            first = int(self.rng.choice(violators))
            chosen.update(self._affinity_related(kind, first).tolist())
        elif len(violators):
            chosen.update(self.rng.permutation(violators)[: self.size].tolist())
        else:
            strategy = self.rng.random()
            if strategy < self._affinity_share:
                chosen.update(self._affinity_related(kind).tolist())
                strategy = 1.0
            else:
                strategy = (strategy - self._affinity_share) / (1 - self._affinity_share)
            if strategy < self._extremes_share:
                chosen.update(self._extremes(kind).tolist())
            elif strategy < self._extremes_share + 0.4 and len(self.instance.edge_u):
                chosen.update(self._chain_pair(kind).tolist())
        others = self.rng.permutation(managers)
        for m in others:
            if len(chosen) >= min(self.size, len(managers)):
                break
            chosen.add(int(m))
        return np.array(sorted(chosen), dtype=np.int64)

    # -- the loop ----------------------------------------------------------------------------
    def _sub_model(self, managers: np.ndarray) -> SubModel | None:
        blocks = np.flatnonzero(np.isin(self.assign, managers))
        if len(managers) < 2 or not len(blocks):
            return None
        # Once the plan keeps every hard rule, so do the sub-models: no slack, one stage less.
        return SubModel(
            self.instance,
            self.structure,
            self.means,
            self.spec,
            managers,
            blocks,
            self.assign,
            soft_hard_rules=self.values["violation"] > 0,
            banned=self._banned(managers, blocks),
            # Only a plan keeping the hard rules searches the core: mending one may need any pair.
            offered=self._offered if self.values["violation"] == 0 else None,
        )

    def _banned(self, managers: np.ndarray, blocks: np.ndarray) -> dict[int, set[int]] | None:
        """The pruned pairs among the sub-model's blocks and managers."""
        if self._pruned is None:
            return None
        inside = self._pruned[np.ix_(blocks, managers)]
        return {
            int(blocks[i]): set(managers[np.flatnonzero(inside[i])].tolist())
            for i in np.flatnonzero(inside.any(axis=1))
        }

    def _solve(self, sub: SubModel, sub_time_s: float, seed: int) -> SubResult:
        return sub.solve(sub_time_s, 1, seed, self.budget.deterministic)

    def _accept(self, result: SubResult) -> bool:
        """Adapt the neighbourhood size to how the sub-model went; keep its plan if better."""
        self.iterations += 1
        self.work += result.spent
        self.size = min(self.size + 1, self._max_size) if result.proven else max(self.size - 1, 2)
        if not result.assign:
            return False
        candidate = with_changes(self.assign, result.assign)
        values = evaluate(self.instance, self.structure, self.means, candidate)
        if objective_key(values, self.spec) < objective_key(self.values, self.spec):
            self.assign, self.values = candidate, values
            if self._pruner is not None:
                self._pruned = self._pruner(self.assign)
            if self._core is not None:
                self._offered = self._core(self.assign)
            return True
        return False

    def step(self, sub_time_s: float) -> bool:
        """One neighbourhood re-solved; True when the plan improved."""
        sub = self._sub_model(self._neighbourhood())
        if sub is None:
            return False
        return self._accept(self._solve(sub, sub_time_s, int(self.rng.integers(1 << 30))))

    def step_pair(self, sub_time_s: float, pool: ThreadPoolExecutor) -> bool:
        """Two neighbourhoods with no manager in common, re-solved at once on two threads.

        Their sub-models touch different managers and blocks, so both plans can be kept; each
        is accepted on its own, the second on top of the first.
        """
        first = self._neighbourhood()
        second = self._neighbourhood()
        for _ in range(4):
            if not np.isin(second, first).any():
                break
            second = self._neighbourhood()
        else:
            return self.step(sub_time_s)
        subs = [self._sub_model(first), self._sub_model(second)]
        futures = [
            pool.submit(self._solve, sub, sub_time_s, int(self.rng.integers(1 << 30)))
            for sub in subs
            if sub is not None
        ]
        improved = False
        for future in futures:
            improved |= self._accept(future.result())
        return improved

    def _polish(self, deadline: float) -> None:
        """Cheap local passes between sub-models, and after the last: moves the search alone
        would miss (one customer from the fullest manager to the emptiest, where the two
        never met in a sub-model)."""
        state = PlanState(self.instance, self.structure, self.means, self.spec, self.assign)
        moved = spread_evenly(state, deadline) if "span" in self.spec.order else 0
        if "chain" in self.spec.order and len(self.instance.edge_u):
            moved += polish_chain(state, deadline, passes=2)
        if moved:
            values = evaluate(self.instance, self.structure, self.means, state.assign)
            if objective_key(values, self.spec) < objective_key(self.values, self.spec):
                self.assign, self.values = state.assign, values

    def run(
        self,
        deadline: float,
        progress: Progress | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        """Search until ``deadline`` (monotonic clock), or a step count when deterministic.

        With two workers or more (and not deterministic), two neighbourhoods are solved at a
        time, one a thread: each sub-model uses one core.
        """
        if not self._kinds:
            return
        if self.budget.workers >= 2 and not self.budget.deterministic:
            with ThreadPoolExecutor(max_workers=2) as pool:
                self._loop(deadline, progress, stop, pool)
        else:
            self._loop(deadline, progress, stop, None)

    def _steps_done(self, steps: int) -> bool:
        """Whether a deterministic search has had its budget: ``steps`` sub-models, or, led by
        cost, whose sub-models mostly take milliseconds, the solver work those steps would take
        (deterministic time, the same on any machine), within COST_LED_STEPS times the steps."""
        if not self._cost_led:
            return self.iterations >= steps
        budget = 0.8 * self.budget.time_limit_s
        return self.work >= budget or self.iterations >= COST_LED_STEPS * steps

    def _loop(
        self,
        deadline: float,
        progress: Progress | None,
        stop: Callable[[], bool] | None,
        pool: ThreadPoolExecutor | None,
    ) -> None:
        sub_time = 0.5 if self.instance.n_blocks > 5000 else 0.3
        steps = None
        if self.budget.deterministic:  # a step count, not the clock, so every run is the same
            steps = max(10, int(0.8 * self.budget.time_limit_s / sub_time))
        slowest = sub_time
        while True:
            if stop is not None and stop():
                break
            if steps is not None:
                if self._steps_done(steps):
                    break
            elif time.monotonic() + 1.5 * slowest > deadline:  # finish on time, not after it
                break
            began = time.monotonic()
            if pool is None:
                self.step(sub_time)
            else:
                self.step_pair(sub_time, pool)
            # The step alone: counting the polish in would end the search seconds early.
            slowest = max(slowest, time.monotonic() - began)
            if self.iterations % 20 == 0:
                self._polish(math.inf if steps is not None else deadline)
            if progress is not None:
                progress(self.values, 0.0)
        if stop is None or not stop():
            self._polish(math.inf if steps is not None else deadline)
