"""One attempt at a plan for a chosen set of portfolio kinds.

A greedy first plan, polished for the leading goals; where continuity or affinity leads, that
goal's own model of the whole branch first (last year's relationships; the pairs the LP
relaxation prices lowest); then the exact model where the branch is small enough, else the
large-neighbourhood search.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from portfolio_opt.model.alongside import ExactAlongside
from portfolio_opt.model.bounds import goal_bounds
from portfolio_opt.model.chain_led import CHAIN_LED_SHARE, lead_with_chains, leads_with_chains
from portfolio_opt.model.construct import construct
from portfolio_opt.model.continuity import keep_relationships, send_back
from portfolio_opt.model.cpmodel import SubModel, SubResult
from portfolio_opt.model.dive import PlainAssignment, dive, plain_assignment
from portfolio_opt.model.exchange import close_deadband
from portfolio_opt.model.goals import (
    GoalSpec,
    Means,
    better_of,
    better_plan,
    evaluate,
    objective_key,
    portfolio_means,
)
from portfolio_opt.model.instance import Instance
from portfolio_opt.model.lns import LargeNeighbourhoodSearch, SearchBudget
from portfolio_opt.model.lp_start import Relaxed, lp_start
from portfolio_opt.model.polish import polish_balance, polish_chain, repair_bands, spread_evenly
from portfolio_opt.model.reduced_cost import (
    CORE_SHARE_EXACT,
    CORE_SHARE_SEARCH,
    SEARCH_CORE_PAIRS_PER_BLOCK,
    core_offer,
    merge_bans,
    proven_ban_mask,
    proven_bans,
    solve_core,
)
from portfolio_opt.model.settings import CHECKS_PER_S, ProgressFn, SolveParams, StopFn, announce
from portfolio_opt.model.state import PlanState
from portfolio_opt.model.structure import Structure, structure_is_forced
from portfolio_opt.model.symmetry import allowed_labels, interchangeable_classes, relabel

EXACT_MODEL_PAIRS = 6000  # block x manager pairs up to which the whole branch is one model
CONTINUITY_SHARE = 0.6  # of the time limit, for the whole-branch continuity model
# Of that share, as CP-SAT's deterministic time when deterministic: a unit took 2 to 5 s on
# that model from 2,000 to 20,000 customers; a quarter left 202 moves against a bound of 159
# at 1,500 x 40 (a half, 160; the whole share, 159 in half as much time again).
CONTINUITY_WORK_PER_S = 0.5
FALLBACK_SHARE = 0.1  # ... and where its plan breaks the balance bound, for a balanced one
EXACT_SHARE = 0.3  # of the time left, for the whole-branch model; the search has the rest
# Below this search time per customer a chain-led plan is not balanced by the clock, and the
# balanced plan wins with its chains as built (97.7% of the weight cut at 12,000 x 260 in
# 10 s; 36.7% in 15 s): its chains are polished instead (70.8%). Measured on 2 cores: 6,000 x
# 150 failed at 6 s and held at 8 s, 12,000 x 260 failed at 10 s and held at 15 s.
CHAIN_LED_S_PER_CUSTOMER = 1 / 900
CHAINS_POLISHED_SHARE = 0.7  # of the time left, for that polish; the search has the rest
CHAINS_POLISHED_PASSES = 50  # passes of the polish at most (it stops once one finds nothing)
SEND_BACK_SHARE = 0.03  # of the time limit, kept from the search for sending moved customers back
POLISH_SHARE = 0.25  # of the time limit, for each deterministic polish of the first plan,
POLISH_CHECKS_LEAST = 30_000  # and never fewer checks: small branches polish to the end
# Of the time left after the LP, for dives where the branch is a plain GAP; they end sooner after
# 50 dives without a better plan, and the exact model goes on from the best of them.
DIVE_SHARE = 0.9


@dataclass
class Attempted:
    """A plan for one choice of kinds, with the goals' bounds, whether it is proven best for
    those kinds, the search steps it took, how it was found and how long each step took."""

    means: Means
    assign: np.ndarray
    bounds: dict[str, float]
    proven: bool
    steps: int
    method: str
    timings: dict[str, float]
    model_work: float = 0.0  # the exact model's deterministic time (work, in seconds)


def leads(spec: GoalSpec, goal: str) -> bool:
    return bool(spec.order) and spec.order[0] == goal


def affinity_leads(instance: Instance, spec: GoalSpec) -> bool:
    return leads(spec, "affinity") and instance.affinity_cost is not None


def fits_one_model(instance: Instance, structure: Structure) -> bool:
    """Whether the whole branch is small enough for the exact model."""
    pairs = sum(int((instance.kind == k).sum()) * len(structure.managers_of(k)) for k in range(3))
    return pairs <= EXACT_MODEL_PAIRS


class PlanAttempt:
    """Constructs, polishes and searches a plan with the given kinds (see :meth:`run`)."""

    def __init__(
        self,
        instance: Instance,
        structure: Structure,
        spec: GoalSpec,
        params: SolveParams,
        started: float,
        deadline: float,
        progress: ProgressFn | None,
        stop: StopFn | None,
    ) -> None:
        self.instance, self.structure, self.spec, self.params = instance, structure, spec, params
        self.started, self.deadline, self.progress, self.stop = started, deadline, progress, stop
        # Where moves count, the last moments send moved customers back (see run).
        self.sends_back = "continuity" in spec.order and any(instance.kept)
        self.send_back_s = SEND_BACK_SHARE * params.time_limit_s if self.sends_back else 0.0
        self.end, self.deadline = deadline, deadline - self.send_back_s
        self.timings: dict[str, float] = {"structure": time.monotonic() - started}
        # The shares of the time below count from this attempt's start (a second attempt, for
        # other holders, has what the first left).
        self.begun = time.monotonic()
        self.span_s = params.time_limit_s - (self.begun - started)
        self.means = portfolio_means(instance, structure)
        self.bounds: dict[str, float] = {k: float(v) for k, v in goal_bounds(instance).items()}
        self.relaxed: Relaxed | None = None  # the LP relaxation, where affinity leads
        self.fallback: np.ndarray | None = None  # see _balanced_fallback
        self.iterations = 0
        self.model_work = 0.0  # deterministic time of the exact model's solves
        self.dived = False  # whether the plan started from column generation and dives
        self.alongside: ExactAlongside | None = None  # the exact model run beside the dives
        # Where balance ranks above chain, a chain-led plan is built instead (see chain_led).
        bounded = instance.scenario.policy.balance.max_deviation is not None
        self.chains_lead = bool(len(instance.edge_u)) and leads_with_chains(spec, bounded)

    def run(self) -> Attempted | None:
        """The attempt's plan; None when the exact model proves that these kinds admit none."""
        pinned = self._all_pinned()
        if pinned is not None:
            return pinned
        assign, budget_s = self._polished_start()
        if affinity_leads(self.instance, self.spec):
            assign, budget_s = self._cheapest_pairs_first(assign, budget_s)
        self.timings["construct"] = time.monotonic() - self.started - self.timings["structure"]
        proven = False
        if fits_one_model(self.instance, self.structure):
            solved = self._exact_model(assign, budget_s)
            if solved is None:
                return None
            assign, proven, method = solved
        else:
            assign, method = self._searched(assign, budget_s)
        if self.dived:
            method = f"column generation and dives, then {method}"
        if self.sends_back and not proven:
            assign = send_back(
                self.instance,
                self.structure,
                self.means,
                self.spec,
                assign,
                checks=int(CHECKS_PER_S * self.send_back_s),
                deadline=math.inf if self.params.deterministic else self.end,
            )
        return Attempted(
            self.means,
            assign,
            self.bounds,
            proven,
            self.iterations,
            method,
            self.timings,
            self.model_work,
        )

    def _all_pinned(self) -> Attempted | None:
        """Where every customer is pinned there is one plan: proven best as it stands, if it
        keeps the hard rules (else the search reports what it breaks)."""
        instance = self.instance
        if not (instance.pin >= 0).all():
            return None
        assign = instance.pin.astype(np.int64)
        if _violation(instance, self.structure, self.means, assign) > 0:
            return None
        return Attempted(
            self.means, assign, self.bounds, True, 0, "every customer pinned: the one plan", {}
        )

    def _parts(self) -> tuple[Instance, Structure, Means, GoalSpec, SolveParams]:
        return self.instance, self.structure, self.means, self.spec, self.params

    # -- the first plan ------------------------------------------------------------------------
    def _polished_start(self) -> tuple[np.ndarray, float]:
        """The first plan, with last year's relationships kept where continuity leads, polished
        for the leading goals; and the search's budget that is left."""
        params = self.params
        announce(self.progress, "building a first plan")
        repair_deadline = math.inf if params.deterministic else self.begun + self.span_s * 0.2
        state = first_plan(
            self.instance,
            self.structure,
            self.means,
            self.spec,
            self.spec,
            repair_deadline,
            self.stop,
        )
        # Up to two fifths of the time after the first plan: the balanced plan is the reference
        # (and the fallback) of everything that follows, even where building it took long.
        polish_deadline = min(
            max(self.begun + self.span_s * 0.3, time.monotonic() + self.span_s * 0.4),
            self.deadline,
        )
        budget_s = params.time_limit_s  # for the search (deterministic time when deterministic)
        if leads(self.spec, "continuity") and not fits_one_model(self.instance, self.structure):
            state, spent = self._relationships_kept(state)
            polish_deadline = min(time.monotonic() + self.span_s * 0.1, self.deadline)  # repairs
            # Deterministic: the work the model left unused goes to the search (a model proven
            # in a tenth of its share had left a 600 x 20 search 10 steps, stopping at 1.6 s of
            # a 10 s limit with the span one move from better).
            budget_s -= (
                min(spent / CONTINUITY_WORK_PER_S, params.time_limit_s * CONTINUITY_SHARE)
                if params.deterministic
                else params.time_limit_s * CONTINUITY_SHARE
            )
            assign = self._polished(state, polish_deadline).assign
            instance, structure, means = self.instance, self.structure, self.means
            missed = _violation(instance, structure, means, assign)
            if means.tight is not None and missed > 0:
                balanced = self._balanced_fallback()
                if _violation(instance, structure, means, balanced) < missed:
                    self.fallback = balanced
            return assign, budget_s
        return self._polished(state, polish_deadline).assign, budget_s

    def _balanced_fallback(self) -> np.ndarray:
        """Where last year's plan leaves a hard balance bound missed, a plan built for balance:
        the search repairs the first from fewer moves, but a tight bound may take it longer
        than the time limit."""
        instance, structure, means, spec, params = self._parts()
        until = (
            math.inf if params.deterministic else time.monotonic() + self.span_s * FALLBACK_SHARE
        )
        return balanced_start(
            instance, structure, means, spec, until, np.random.default_rng(params.seed), self.stop
        )

    def _relationships_kept(self, state: PlanState) -> tuple[PlanState, float]:
        """The whole-branch continuity model's plan, from ``state``, and the solver time it
        took (deterministic time when deterministic)."""
        params = self.params
        announce(self.progress, "keeping last year's relationships")
        budget = params.time_limit_s * CONTINUITY_SHARE
        kept, spent = keep_relationships(
            self.instance,
            self.structure,
            self.means,
            self.spec,
            state.assign,
            budget * CONTINUITY_WORK_PER_S
            if params.deterministic
            else max(min(budget, self.deadline - time.monotonic()), 0.5),
            params.workers,
            params.seed,
            params.deterministic,
            self.stop,
        )
        return PlanState(self.instance, self.structure, self.means, self.spec, kept), spent

    def _polished(self, state: PlanState, polish_deadline: float) -> PlanState:
        """``state`` polished for balance, replaced by a plan built for balance where a hard
        balance bound needs one, then polished for chains."""
        instance, structure, means, spec, params = self._parts()
        until = math.inf if params.deterministic else polish_deadline
        # Where affinity leads, the LP's plan replaces this one (see below): polishing it for the
        # later goals took half the time at 1,000 x 25; only a hard balance bound needs it.
        first_only = affinity_leads(instance, spec) and means.tight is None
        # Deterministic: a count of checks in place of the clock, or a large branch polishes
        # for minutes (20,000 x 400 with continuity first: 141 s at a 30 s limit).
        checks = (
            max(CHECKS_PER_S * POLISH_SHARE * params.time_limit_s, POLISH_CHECKS_LEAST)
            if params.deterministic
            else math.inf
        )
        if "balance" in spec.order and not first_only:
            polish_balance(
                state, until, np.random.default_rng(params.seed), self.stop, max_checks=checks
            )
        if (
            means.tight is not None
            and spec.order
            and spec.order[0] not in ("balance", "continuity")
        ):
            balanced = balanced_start(
                instance,
                structure,
                means,
                spec,
                until,
                np.random.default_rng(params.seed),
                self.stop,
            )
            # Judged on the hard rules alone: on the goals, the plan built for them is the better
            # start even where it scores worse now (the search evens the span out later).
            if _violation(instance, structure, means, balanced) < _violation(
                instance, structure, means, state.assign
            ):
                state = PlanState(instance, structure, means, spec, balanced)
        if (
            "chain" in spec.order
            and len(instance.edge_u)
            and not self.chains_lead
            and not first_only
        ):
            chain_deadline = math.inf if params.deterministic else self.begun + self.span_s * 0.5
            polish_chain(state, chain_deadline, stop=self.stop, max_checks=checks)
        return state

    # -- affinity ------------------------------------------------------------------------------
    def _cheapest_pairs_first(
        self, assign: np.ndarray, budget_s: float
    ) -> tuple[np.ndarray, float]:
        """The LP relaxation's bound and plan, then the model of the pairs it prices lowest,
        before the whole search; and the search's budget that is left."""
        instance, structure, means, spec, params = self._parts()
        announce(self.progress, "pricing pairs with the LP relaxation")
        relaxed = lp_start(
            instance,
            structure,
            (params.time_limit_s if params.deterministic else self.span_s) * 0.2,
        )
        if relaxed is None:
            return assign, budget_s
        self.relaxed = relaxed
        self.bounds["affinity"] = max(self.bounds["affinity"], float(np.ceil(relaxed.bound - 1e-6)))
        if objective_key(evaluate(instance, structure, means, relaxed.assign), spec) < (
            objective_key(evaluate(instance, structure, means, assign), spec)
        ):
            assign = relaxed.assign
        plain = plain_assignment(instance, structure)
        if plain is not None:
            return self._dived(plain, assign, budget_s)
        share = CORE_SHARE_EXACT if fits_one_model(instance, structure) else CORE_SHARE_SEARCH
        core_s = share * (
            params.time_limit_s
            if params.deterministic
            else max(self.deadline - time.monotonic(), 0.5)
        )
        assign = solve_core(
            instance,
            structure,
            means,
            spec,
            assign,
            relaxed,
            core_s,
            params.workers,
            params.seed,
            params.deterministic,
        )
        return assign, budget_s - core_s

    def _dived(
        self, plain: PlainAssignment, assign: np.ndarray, budget_s: float
    ) -> tuple[np.ndarray, float]:
        """Where the branch is a plain generalized assignment problem: the dives' plan and
        bound (see ``dive``); and the search's budget that is left."""
        instance, structure, means, spec, params = self._parts()
        announce(self.progress, "pricing whole portfolios (column generation and dives)")
        seconds = DIVE_SHARE * (
            params.time_limit_s
            if params.deterministic
            else max(self.deadline - time.monotonic(), 0.5)
        )
        prices = None if self.relaxed is None else self.relaxed.block_prices
        stop = self.stop
        # A deterministic run keeps to one thing at a time: a race between two is not repeatable.
        if params.workers >= 2 and not params.deterministic and fits_one_model(instance, structure):
            model = self._whole_model(assign, soft=False)
            self.alongside = ExactAlongside(model, seconds, params.workers, params.seed, self.stop)
            stop = self.alongside.or_proven(self.stop)
        try:
            dived = dive(plain, assign, seconds, params.seed, params.deterministic, stop, prices)
        except BaseException:
            if self.alongside is not None:
                self.alongside.finish()
            raise
        self.dived = True
        if math.isfinite(dived.bound):
            self.bounds["affinity"] = max(self.bounds["affinity"], math.ceil(dived.bound - 1e-6))
        if dived.assign is not None:
            assign = better_of(instance, structure, means, spec, assign, dived.assign)
        return assign, budget_s - seconds

    # -- the exact model -----------------------------------------------------------------------
    def _exact_model(
        self, assign: np.ndarray, budget_s: float
    ) -> tuple[np.ndarray, bool, str] | None:
        """The whole branch as one model, goal by goal, then the search where it is not proven:
        the plan, whether it is proven, the method; None when no plan keeps the hard rules."""
        instance, structure, means, spec, params = self._parts()
        method = "exact CP-SAT model"
        announce(self.progress, "solving the exact model, goal by goal")
        if self.chains_lead:  # a better start for the model
            led = self._chains_first(0.2 * budget_s, with_search=False)
            assign = better_of(instance, structure, means, spec, led, assign)

        def exact(soft: bool) -> SubResult:
            sub = self._whole_model(assign, soft)
            # A deterministic budget must not depend on how long the steps before took.
            remaining = (
                budget_s if params.deterministic else max(self.deadline - time.monotonic(), 0.5)
            )
            outcome = sub.solve(
                remaining * EXACT_SHARE,
                params.workers,
                params.seed,
                params.deterministic,
                stop=self.stop,
            )
            self.model_work += outcome.spent
            return outcome

        beside = self.alongside.finish() if self.alongside is not None else None
        if beside is not None and beside.proven and beside.assign:
            outcome = beside
        else:
            if beside is not None:  # its plan may be the better start, its bounds still hold
                assign = self._taken(assign, beside)
            # The hard rules as constraints first, so the goals are optimised from the first
            # solution on; only when that finds no plan does the model with slack say why.
            outcome = exact(soft=False)
            if outcome.status == "INFEASIBLE":
                return None  # proven: no plan with these kinds keeps every hard rule
            if not outcome.assign:
                outcome = exact(soft=True)
        assign = self._taken(assign, outcome)
        proven = outcome.proven and bool(outcome.assign)
        if (
            outcome.stages
            and outcome.stages[0].goal == "violation"
            and outcome.stages[0].optimal
            and outcome.stages[0].value > 0
        ):
            return None
        if not proven:  # the rest of the time goes to the search, from the model's plan
            method += ", then large-neighbourhood search"
            announce(self.progress, "searching")
            search_s = budget_s * (1 - EXACT_SHARE) if params.deterministic else budget_s
            assign = self._search(assign, search_s)
        return assign, proven, method

    def _whole_model(self, assign: np.ndarray, soft: bool) -> SubModel:
        """The whole branch as one model from ``assign``: interchangeable managers take the one
        labelling the model allows, and pairs no plan as good as ``assign`` uses are banned."""
        instance, structure, means, spec, _ = self._parts()
        classes = interchangeable_classes(instance, structure)
        assign = relabel(instance, classes, structure, assign)
        banned = merge_bans(
            allowed_labels(instance, classes, structure),
            proven_bans(instance, structure, means, spec, assign, self.relaxed),
        )
        return SubModel.whole_branch(
            instance, structure, means, spec, assign, soft_hard_rules=soft, banned=banned
        )

    def _taken(self, assign: np.ndarray, outcome: SubResult) -> np.ndarray:
        """The better of ``assign`` and the exact model's plan (the model's on a tie), its
        stages' bounds kept."""
        if self.spec.lexicographic:
            for stage in outcome.stages:
                self.bounds[stage.goal] = max(
                    self.bounds.get(stage.goal, 0.0), float(np.ceil(stage.bound - 1e-6))
                )
                if not stage.optimal:
                    break  # later stages' bounds hold only given this stage's value
        if not outcome.assign:
            return assign
        instance, structure, means, spec, _ = self._parts()
        return better_plan(instance, structure, means, spec, assign, outcome.assign, ties=True)

    # -- the search ----------------------------------------------------------------------------
    def _searched(self, assign: np.ndarray, budget_s: float) -> tuple[np.ndarray, str]:
        """The search's plan from ``assign``, led by the chains where they rank above balance;
        and the method."""
        instance, structure, means, spec, params = self._parts()
        method = "large-neighbourhood search (CP-SAT sub-models)"
        if self.fallback is not None:
            return self._repaired_or_fallback(assign, budget_s, method)
        if not self.chains_lead:
            return self._search(assign, budget_s), method
        # A deterministic budget is work, which the chain-led plan gets on any clock.
        if not params.deterministic and budget_s < instance.n_customers * CHAIN_LED_S_PER_CUSTOMER:
            method += ", chains polished (too little time to lead with them)"
            return self._search(self._chains_polished(assign), budget_s), method
        method += ", industry chains first"
        announce(self.progress, "keeping industry chains together")
        led_s = CHAIN_LED_SHARE * (
            budget_s if params.deterministic else max(self.deadline - time.monotonic(), 0.5)
        )
        balanced = assign
        assign = self._chains_first(led_s, with_search=True)
        budget_s -= led_s
        # Judged after the search and a last pass of exchanges, which mend what balancing
        # left just off the deadband; the last tenth of the time polishes the chains of
        # whichever plan won.
        left = max(self.deadline - time.monotonic(), 0.0)
        searched = self._search(assign, 0.9 * budget_s, until=self.deadline - 0.1 * left)
        closing = PlanState(instance, structure, means, spec, searched)
        close_deadband(closing, math.inf if params.deterministic else self.deadline, self.stop)
        assign = better_of(instance, structure, means, spec, closing.assign, balanced)
        if assign is balanced:
            state = PlanState(instance, structure, means, spec, balanced)
            polish_chain(state, math.inf if params.deterministic else self.deadline, stop=self.stop)
            return state.assign, method
        return self._search(assign, 0.1 * budget_s), method

    def _chains_polished(self, assign: np.ndarray) -> np.ndarray:
        """``assign`` (balanced) with its blocks moved towards the ones they are linked to, in
        CHAINS_POLISHED_SHARE of the time left; every band and bound kept."""
        instance, structure, means, spec, _ = self._parts()
        state = PlanState(instance, structure, means, spec, assign)
        left = max(self.deadline - time.monotonic(), 0.0)
        until = time.monotonic() + CHAINS_POLISHED_SHARE * left
        polish_chain(state, until, passes=CHAINS_POLISHED_PASSES, stop=self.stop)
        return state.assign

    def _repaired_or_fallback(
        self, assign: np.ndarray, budget_s: float, method: str
    ) -> tuple[np.ndarray, str]:
        """Half the search repairs last year's plan; where it still breaks a hard rule, the
        other half improves the better of it and the balanced fallback (the one breaking less)."""
        instance, structure, means, spec, _ = self._parts()
        assert self.fallback is not None
        halfway = time.monotonic() + 0.5 * max(self.deadline - time.monotonic(), 0.0)
        repaired = self._search(assign, 0.5 * budget_s, until=halfway)
        if _violation(instance, structure, means, repaired) == 0:
            return self._search(repaired, 0.5 * budget_s), method
        start = better_of(instance, structure, means, spec, repaired, self.fallback)
        if start is self.fallback:
            method += ", from a plan built for balance (last year's missed the bound)"
        return self._search(start, 0.5 * budget_s), method

    def _search(
        self,
        start: np.ndarray,
        seconds: float,
        goal_means: Means | None = None,
        goals: GoalSpec | None = None,
        until: float | None = None,
    ) -> np.ndarray:
        """Large-neighbourhood search from ``start`` until ``until`` (else the deadline), under
        ``goal_means`` and ``goals`` (else the policy's); counts its steps in ``iterations``."""
        instance, structure, means, spec, params = self._parts()
        relaxed = self.relaxed
        lns = LargeNeighbourhoodSearch(
            instance,
            structure,
            goal_means or means,
            goals or spec,
            start,
            SearchBudget(seconds, params.workers, params.seed, params.deterministic),
            guide=None if relaxed is None else relaxed.share,
            pruner=lambda plan: proven_ban_mask(instance, structure, means, spec, plan, relaxed),
            core=None
            if relaxed is None
            else (lambda plan: core_offer(relaxed, plan, SEARCH_CORE_PAIRS_PER_BLOCK)),
        )

        # The models' bounds hold for this attempt's holders of premium and separate-ledger
        # portfolios; where others may hold them, the line shows what the report will: the
        # bounds of the whole branch.
        shown = (
            self.bounds
            if structure_is_forced(instance)
            else {g: float(v) for g, v in goal_bounds(instance).items()}
        )

        def report(values: dict[str, int], _: float) -> None:
            if self.progress is not None:
                self.progress(progress_payload(values, shown, spec, instance, self.started))

        # A chain-led plan is not yet balanced: its score would read as the incumbent worsening.
        lns.run(
            self.deadline if until is None else until, report if goals is None else None, self.stop
        )
        self.iterations += lns.iterations
        return lns.assign

    def _chains_first(self, seconds: float, with_search: bool) -> np.ndarray:
        return lead_with_chains(
            self.instance,
            self.structure,
            self.means,
            self.spec,
            self._search if with_search else None,
            seconds,
            math.inf if self.params.deterministic else self.deadline,
            self.stop,
        )


def first_plan(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    lead: GoalSpec,
    until: float,
    stop: StopFn | None,
) -> PlanState:
    """A greedy plan built in ``lead``'s order, its bands repaired and, where span counts,
    its customers spread evenly."""
    state = PlanState(instance, structure, means, spec, construct(instance, structure, means, lead))
    repair_bands(state, until)
    if "span" in spec.order:
        spread_evenly(state, until, stop)
    return state


def balanced_start(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    until: float,
    rng: np.random.Generator,
    stop: StopFn | None,
) -> np.ndarray:
    """A first plan built and polished for balance first. Under a hard balance bound a plan
    built for the leading goals (chains packed whole, say) can leave a manager holding several
    large groups, which no move or swap between two managers mends; this one keeps the bound
    from the start."""
    lead = GoalSpec(
        ("balance", *(g for g in spec.order if g != "balance")), spec.weights, spec.scales
    )
    state = first_plan(instance, structure, means, spec, lead, until, stop)
    polish_balance(state, until, rng, stop)
    return state.assign


def progress_payload(
    values: dict[str, int],
    bounds: dict[str, float],
    spec: GoalSpec,
    instance: Instance,
    started: float,
) -> dict[str, object]:
    """The progress line's incumbent, bound and gap (in normalised units) and elapsed time."""
    objective = spec.reported(values)
    bound = min(spec.reported(bounds), objective)
    return {
        "incumbent": objective,
        "bound": bound,
        "gap": 0.0 if objective <= 0 else (objective - bound) / objective,
        "elapsed": time.monotonic() - started,
        "violation": values["violation"],
    }


def _violation(instance: Instance, structure: Structure, means: Means, assign: np.ndarray) -> int:
    return evaluate(instance, structure, means, assign)["violation"]
