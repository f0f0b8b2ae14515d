"""From a scenario to a plan: analyse, structure, construct, search, prove what can be proven."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from portfolio_opt.model.bounds import goal_bounds
from portfolio_opt.model.chain_led import CHAIN_LED_SHARE, chain_led_spec, lead_with_chains
from portfolio_opt.model.collisions import find_collisions
from portfolio_opt.model.construct import construct
from portfolio_opt.model.continuity import keep_relationships
from portfolio_opt.model.cpmodel import SubModel, SubResult
from portfolio_opt.model.exchange import close_deadband
from portfolio_opt.model.goals import (
    GoalSpec,
    Means,
    better_of,
    better_plan,
    evaluate,
    goal_scale,
    goal_spec,
    objective_key,
    portfolio_means,
)
from portfolio_opt.model.handover import hand_over
from portfolio_opt.model.infeasible import colliding_rules, examine
from portfolio_opt.model.instance import KIND_NAMES, Instance, build_instance
from portfolio_opt.model.lns import LargeNeighbourhoodSearch, SearchBudget
from portfolio_opt.model.lp_start import Relaxed, lp_start
from portfolio_opt.model.polish import polish_balance, polish_chain, repair_bands, spread_evenly
from portfolio_opt.model.reduced_cost import (
    CORE_SHARE_EXACT,
    CORE_SHARE_SEARCH,
    merge_bans,
    proven_ban_mask,
    proven_bans,
    solve_core,
)
from portfolio_opt.model.result import Result, SolveStatus
from portfolio_opt.model.state import PlanState
from portfolio_opt.model.structure import (
    Structure,
    decide_structure,
    none_left,
    structure_is_forced,
)
from portfolio_opt.model.symmetry import allowed_labels, interchangeable_classes, relabel
from portfolio_opt.payout import customer_targets
from portfolio_opt.scenario.data import Scenario

MAX_STRUCTURES = 5  # choices of portfolio kinds tried when the exact model rules one out
EXACT_MODEL_PAIRS = 6000  # block x manager pairs up to which the whole branch is one model
CONTINUITY_SHARE = 0.6  # of the time limit, for the whole-branch continuity model
EXACT_SHARE = 0.3  # of the time left, for the whole-branch model; the search has the rest
FINISH_SHARE = 0.01  # of the time limit, kept to score the plan after the search
AGAIN_SHARE = 0.2  # of the time limit, left at least to solve again for other holders
VALIDATE_PROOF_S = 1.5  # for validate's customer-level check of the hard rules
STRUCTURE_AGAIN_S = 2.0  # for the kinds' model's next choice of holders
HOLDER_TRIES = 20  # choices of holders solved at most, while a fifth of the time is left
GOAL_FLOOR_S = 0.5  # for each goal the customer-level model improves, however late
HOLDER_CHOICES = 20  # choices of holders priced by their LP where affinity leads,
HOLDER_SHARE = 0.15  # in this share of the time limit

# An attempt's means, plan, bounds, whether proven for its kinds, steps, method and timings.
Attempt = tuple[Means, np.ndarray, dict[str, float], bool, int, str, dict[str, float]]

ProgressFn = Callable[[dict[str, object]], None]


@dataclass(frozen=True)
class SolveParams:
    time_limit_s: float
    workers: int
    seed: int
    deterministic: bool

    @classmethod
    def from_policy(cls, scenario: Scenario, **given: object) -> SolveParams:
        """The policy's [solver] section, with any value given on the command line winning."""
        solver = scenario.policy.solver
        values: dict[str, Any] = {
            "time_limit_s": solver.time_limit_s,
            "workers": solver.workers,
            "seed": solver.seed,
            "deterministic": solver.deterministic,
        }
        values.update({k: v for k, v in given.items() if v is not None})
        workers = int(values["workers"])
        if workers <= 0:  # every core
            workers = os.cpu_count() or 1
        return cls(
            float(values["time_limit_s"]),
            workers,
            int(values["seed"]),
            bool(values["deterministic"]),
        )


def normalised_objective(values: Mapping[str, float], spec: GoalSpec, instance: Instance) -> float:
    """One number for the goals: each on a readable scale (customers, 0.01%, links, moves)."""
    weights = spec.weights or {g: 1.0 for g in spec.order}
    total = 0.0
    for goal in spec.order:
        total += weights.get(goal, 0.0) * values.get(goal, 0) / goal_scale(instance, goal)
    return round(total, 6)


def plan_frame(instance: Instance, structure: Structure, assign: np.ndarray) -> pd.DataFrame:
    """assignment.csv rows: one per customer, in the customers table's order."""
    customers = instance.scenario.customers.reset_index(drop=True)
    manager = assign[instance.customer_block]
    kinds = structure.kind[manager]
    frame = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].astype(str),
            "manager_id": [instance.manager_ids[m] for m in manager],
            "portfolio_type": [KIND_NAMES[int(k)] for k in kinds],
            "prior_manager_id": customers["prior_manager_id"].astype(str),
        }
    )
    frame["moved"] = (frame["prior_manager_id"] != "") & (
        frame["prior_manager_id"] != frame["manager_id"]
    )
    return frame


def announce(progress: ProgressFn | None, phase: str) -> None:
    """Tell the progress line which step is running (before any plan is scored)."""
    if progress is not None:
        progress({"phase": phase})


def _exact(instance: Instance, structure: Structure) -> bool:
    pairs = sum(int((instance.kind == k).sum()) * len(structure.managers_of(k)) for k in range(3))
    return pairs <= EXACT_MODEL_PAIRS


def solve_instance(
    instance: Instance,
    params: SolveParams,
    progress: ProgressFn | None = None,
    stop: Callable[[], bool] | None = None,
) -> Result:
    """Solve a compiled instance within ``params.time_limit_s``."""
    started = time.monotonic()
    # The last hundredth of the time scores the plan, so the whole solve ends within the limit.
    deadline = started + params.time_limit_s * (1 - FINISH_SHARE)
    timings: dict[str, float] = {}
    collisions = find_collisions(instance)
    if collisions:
        return Result(
            SolveStatus.INFEASIBLE, explanation=collisions, runtime=time.monotonic() - started
        )
    spec = goal_spec(instance)
    continuity_first = _leads(spec, "continuity")
    tried: list[np.ndarray] = []  # kinds per manager already shown to admit no plan
    last: Structure | None = None
    while True:
        announce(progress, "deciding the portfolio kinds")
        structure = decide_structure(
            instance,
            min(10.0, params.time_limit_s / 3),
            continuity_first,
            exclude=tried,
            deterministic=params.deterministic,
        )
        if not isinstance(structure, Structure):
            if not none_left(structure):  # the kinds' model ran out of time
                return Result(
                    SolveStatus.NO_PLAN,
                    explanation=structure + _band_explanation(instance, last),
                    runtime=time.monotonic() - started,
                )
            if last is not None:  # every choice of kinds fitting the bands was ruled out
                return _after_proof(instance, last, spec, params, started)
            return Result(
                SolveStatus.INFEASIBLE, explanation=structure, runtime=time.monotonic() - started
            )
        if not tried and affinity_leads(instance, spec) and not structure_is_forced(instance):
            structure = _cheapest_holders(instance, structure, params, started)
        attempt = _attempt(instance, structure, spec, params, started, deadline, progress, stop)
        if attempt is not None:
            break
        tried.append(structure.kind)
        last = structure
        if structure_is_forced(instance):  # the exact model's proof holds for every plan
            return _after_proof(instance, structure, spec, params, started)
        if len(tried) >= MAX_STRUCTURES or time.monotonic() > deadline:
            return Result(
                SolveStatus.NO_PLAN,
                explanation=_band_explanation(instance, structure),
                runtime=time.monotonic() - started,
            )
    means, assign, bounds, proven, iterations, method, timings = attempt
    if not structure_is_forced(instance):
        # The models' proofs and bounds hold for the chosen holders of premium and
        # separate-ledger portfolios only; the bounds of the whole branch hold for every plan,
        # and so does a proof for every choice of holders.
        holders = _other_holders(
            instance, structure, spec, attempt, tried, params, started, deadline, progress, stop
        )
        structure, means, assign = holders.structure, holders.means, holders.assign
        iterations += holders.steps
        proven = holders.all_proven
        bounds = {g: float(v) for g, v in goal_bounds(instance).items()}
        if proven:
            method += f", proven over every choice of holders ({holders.choices})"
    elif not proven:
        structure, means, assign = hand_over(instance, structure, means, spec, assign)
    timings["search"] = time.monotonic() - started - sum(timings.values())
    result = _finish(
        instance,
        structure,
        means,
        spec,
        assign,
        bounds,
        proven,
        iterations,
        method,
        timings,
        params,
        started,
    )
    if stop is not None and stop():
        result.method += ", stopped early on request"
        if result.status is SolveStatus.NO_PLAN:
            result.explanation = [
                "Stopped before the search found a plan keeping every hard rule; "
                "run again and let it finish."
            ]
    return result


@dataclass
class _Holders:
    """The best plan over the choices of holders solved, how many there were, the search steps
    they took, and whether the plan is proven best for every choice of holders."""

    structure: Structure
    means: Means
    assign: np.ndarray
    choices: int
    steps: int
    all_proven: bool


def _other_holders(
    instance: Instance,
    structure: Structure,
    spec: GoalSpec,
    attempt: Attempt,
    ruled_out: list[np.ndarray],
    params: SolveParams,
    started: float,
    deadline: float,
    progress: ProgressFn | None,
    stop: Callable[[], bool] | None,
) -> _Holders:
    """Hand the portfolios over, which may give premium or separate-ledger ones to other
    managers. While the last solve was proven for its holders and time is left, solve again:
    for the holders the hand-over chose, or else for the next choice of the kinds' model, and
    keep the best plan. Once the kinds' model has no choice left and every one solved was
    proven (optimal, or without a plan), the best plan is proven for the whole branch."""
    means, assign, _, proven_here, _, _, _ = attempt
    # The exact model rules holders out assuming every standard portfolio holds customers,
    # which a balance bound makes a real restriction (see _after_proof).
    bounded = instance.scenario.policy.balance.max_deviation is not None
    all_proven = proven_here and not (ruled_out and bounded)
    seen, steps = [*ruled_out, structure.kind], 0
    continuity_first = _leads(spec, "continuity")
    while True:
        structure, means, assign = hand_over(instance, structure, means, spec, assign)
        if (
            not proven_here
            or params.deterministic  # another solve would add its whole budget to the time
            or len(seen) >= HOLDER_TRIES
            or deadline - time.monotonic() < params.time_limit_s * AGAIN_SHARE
            or (stop is not None and stop())
        ):
            return _Holders(structure, means, assign, len(seen), steps, False)
        candidate = structure
        if any(np.array_equal(structure.kind, kinds) for kinds in seen):
            chosen = decide_structure(instance, STRUCTURE_AGAIN_S, continuity_first, exclude=seen)
            if not isinstance(chosen, Structure):
                return _Holders(
                    structure, means, assign, len(seen), steps, all_proven and none_left(chosen)
                )
            candidate = chosen
        seen.append(candidate.kind)
        again = _attempt(instance, candidate, spec, params, started, deadline, progress, stop)
        if again is None:
            all_proven &= not bounded
            continue  # these holders admit no plan: the best so far stands
        steps += again[4]
        all_proven &= again[3]
        if objective_key(evaluate(instance, candidate, again[0], again[1]), spec) < objective_key(
            evaluate(instance, structure, means, assign), spec
        ):
            structure, means, assign = candidate, again[0], again[1]
            proven_here = again[3]


def _attempt(
    instance: Instance,
    structure: Structure,
    spec: GoalSpec,
    params: SolveParams,
    started: float,
    deadline: float,
    progress: ProgressFn | None,
    stop: Callable[[], bool] | None,
) -> Attempt | None:
    """Construct, polish and search with the given kinds; None when the exact model proves
    that these kinds admit no plan."""
    timings: dict[str, float] = {"structure": time.monotonic() - started}
    # The shares of the time below count from this attempt's start (a second attempt, for
    # other holders, has what the first left).
    begun = time.monotonic()
    span_s = params.time_limit_s - (begun - started)
    announce(progress, "building a first plan")
    means = portfolio_means(instance, structure)
    repair_deadline = math.inf if params.deterministic else begun + span_s * 0.2
    state = _first_plan(instance, structure, means, spec, spec, repair_deadline, stop)
    # Up to two fifths of the time after the first plan: the balanced plan is the reference
    # (and the fallback) of everything that follows, even where building it took long.
    polish_deadline = min(max(begun + span_s * 0.3, time.monotonic() + span_s * 0.4), deadline)
    budget_s = params.time_limit_s  # for the search (deterministic time when deterministic)
    if _leads(spec, "continuity") and not _exact(instance, structure):
        announce(progress, "keeping last year's relationships")
        budget = params.time_limit_s * CONTINUITY_SHARE
        kept = keep_relationships(
            instance,
            structure,
            means,
            spec,
            state.assign,
            budget if params.deterministic else max(min(budget, deadline - time.monotonic()), 0.5),
            params.workers,
            params.seed,
            params.deterministic,
            stop,
        )
        state = PlanState(instance, structure, means, spec, kept)
        polish_deadline = min(time.monotonic() + span_s * 0.1, deadline)  # repairs what is missed
        budget_s -= budget
    # Where affinity leads, the LP's plan replaces this one (see below): polishing it for the
    # later goals took half the time at 1,000 x 25; only a hard balance bound needs it.
    first_only = affinity_leads(instance, spec) and means.tight is None
    if "balance" in spec.order and not first_only:
        polish_balance(
            state,
            math.inf if params.deterministic else polish_deadline,
            np.random.default_rng(params.seed),
            stop,
        )
    if means.tight is not None and spec.order and spec.order[0] not in ("balance", "continuity"):
        balanced = _balanced_start(
            instance,
            structure,
            means,
            spec,
            math.inf if params.deterministic else polish_deadline,
            np.random.default_rng(params.seed),
            stop,
        )
        # Judged on the hard rules alone: on the goals, the plan built for them is the better
        # start even where it scores worse now (the search evens the span out later).
        if _violation(instance, structure, means, balanced) < _violation(
            instance, structure, means, state.assign
        ):
            state = PlanState(instance, structure, means, spec, balanced)
    # Where balance ranks above chain, a chain-led plan is built instead (see chain_led).
    chains_lead = bool(len(instance.edge_u)) and chain_led_spec(spec) is not None
    if "chain" in spec.order and len(instance.edge_u) and not chains_lead and not first_only:
        chain_deadline = math.inf if params.deterministic else begun + span_s * 0.5
        polish_chain(state, chain_deadline, stop=stop)
    assign = state.assign
    bounds: dict[str, float] = {k: float(v) for k, v in goal_bounds(instance).items()}
    guide = None
    relaxed: Relaxed | None = None
    if affinity_leads(instance, spec):
        announce(progress, "pricing pairs with the LP relaxation")
        relaxed = lp_start(
            instance, structure, (params.time_limit_s if params.deterministic else span_s) * 0.2
        )
        if relaxed is not None:
            bounds["affinity"] = max(bounds["affinity"], float(np.ceil(relaxed.bound - 1e-6)))
            guide = relaxed.share
            if objective_key(evaluate(instance, structure, means, relaxed.assign), spec) < (
                objective_key(evaluate(instance, structure, means, assign), spec)
            ):
                assign = relaxed.assign
            # The pairs the LP prices lowest, as one model, before the whole search.
            share = CORE_SHARE_EXACT if _exact(instance, structure) else CORE_SHARE_SEARCH
            core_s = share * (
                params.time_limit_s
                if params.deterministic
                else max(deadline - time.monotonic(), 0.5)
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
            budget_s -= core_s
    timings["construct"] = time.monotonic() - started - timings["structure"]
    proven = False
    iterations = 0

    def search(
        start: np.ndarray,
        seconds: float,
        goal_means: Means | None = None,
        goals: GoalSpec | None = None,
        until: float | None = None,
    ) -> np.ndarray:
        """Large-neighbourhood search from ``start`` until ``until`` (else the deadline), under
        ``goal_means`` and ``goals`` (else the policy's); counts its steps in ``iterations``."""
        nonlocal iterations
        lns = LargeNeighbourhoodSearch(
            instance,
            structure,
            goal_means or means,
            goals or spec,
            start,
            SearchBudget(seconds, params.workers, params.seed, params.deterministic),
            guide=guide,
            pruner=lambda plan: proven_ban_mask(instance, structure, means, spec, plan, relaxed),
        )

        def report(values: dict[str, int], _: float) -> None:
            if progress is not None:
                progress(_progress_payload(values, bounds, spec, instance, started))

        # A chain-led plan is not yet balanced: its score would read as the incumbent worsening.
        lns.run(deadline if until is None else until, report if goals is None else None, stop)
        iterations += lns.iterations
        return lns.assign

    def chains_first(seconds: float, with_search: bool) -> np.ndarray:
        return lead_with_chains(
            instance,
            structure,
            means,
            spec,
            search if with_search else None,
            seconds,
            math.inf if params.deterministic else deadline,
            stop,
        )

    if _exact(instance, structure):
        method = "exact CP-SAT model"
        announce(progress, "solving the exact model, goal by goal")
        if chains_lead:  # a better start for the model
            led = chains_first(0.2 * budget_s, with_search=False)
            assign = better_of(instance, structure, means, spec, led, assign)
        classes = interchangeable_classes(instance, structure)
        assign = relabel(instance, classes, structure, assign)
        banned = merge_bans(
            allowed_labels(instance, classes, structure),
            proven_bans(instance, structure, means, spec, assign, relaxed),
        )

        def exact(soft: bool) -> SubResult:
            sub = SubModel.whole_branch(
                instance,
                structure,
                means,
                spec,
                assign,
                soft_hard_rules=soft,
                banned=banned,
            )
            # A deterministic budget must not depend on how long the steps before took.
            remaining = budget_s if params.deterministic else max(deadline - time.monotonic(), 0.5)
            return sub.solve(
                remaining * EXACT_SHARE,
                params.workers,
                params.seed,
                params.deterministic,
                stop=stop,
            )

        # The hard rules as constraints first, so the goals are optimised from the first
        # solution on; only when that finds no plan does the model with slack say why.
        outcome = exact(soft=False)
        if not outcome.assign:
            outcome = exact(soft=True)
        if outcome.assign:
            assign = better_plan(
                instance, structure, means, spec, assign, outcome.assign, ties=True
            )
        proven = outcome.proven and bool(outcome.assign)
        if spec.lexicographic:
            for stage in outcome.stages:
                bounds[stage.goal] = max(
                    bounds.get(stage.goal, 0.0), float(np.ceil(stage.bound - 1e-6))
                )
                if not stage.optimal:
                    break  # later stages' bounds hold only given this stage's value
        if (
            outcome.stages
            and outcome.stages[0].goal == "violation"
            and outcome.stages[0].optimal
            and outcome.stages[0].value > 0
        ):
            return None
        if not proven:  # the rest of the time goes to the search, from the model's plan
            method += ", then large-neighbourhood search"
            announce(progress, "searching")
            search_s = budget_s * (1 - EXACT_SHARE) if params.deterministic else budget_s
            assign = search(assign, search_s)
    else:
        method = "large-neighbourhood search (CP-SAT sub-models)"
        if chains_lead:
            method += ", industry chains first"
            announce(progress, "keeping industry chains together")
            led_s = CHAIN_LED_SHARE * (
                budget_s if params.deterministic else max(deadline - time.monotonic(), 0.5)
            )
            balanced = assign
            assign = chains_first(led_s, with_search=True)
            budget_s -= led_s
            # Judged after the search and a last pass of exchanges, which mend what balancing
            # left just off the deadband; the last tenth of the time polishes the chains of
            # whichever plan won.
            left = max(deadline - time.monotonic(), 0.0)
            searched = search(assign, 0.9 * budget_s, until=deadline - 0.1 * left)
            closing = PlanState(instance, structure, means, spec, searched)
            close_deadband(closing, math.inf if params.deterministic else deadline, stop)
            assign = better_of(instance, structure, means, spec, closing.assign, balanced)
            if assign is balanced:
                state = PlanState(instance, structure, means, spec, balanced)
                polish_chain(state, math.inf if params.deterministic else deadline, stop=stop)
                assign = state.assign
            else:
                assign = search(assign, 0.1 * budget_s)
        else:
            assign = search(assign, budget_s)
    return means, assign, bounds, proven, iterations, method, timings


def _cheapest_holders(
    instance: Instance, first: Structure, params: SolveParams, started: float
) -> Structure:
    """Where affinity leads, who holds the premium and separate-ledger portfolios decides much
    of the cost, and the kinds' model weighs span and last year only: among its choices (up
    to HOLDER_CHOICES, in HOLDER_SHARE of the time), the one whose LP relaxation costs least. On a
    1,000 x 25 branch the first choice's LP bound was 2,339 and the best one's 2,195."""
    choices = [first]
    until = started + params.time_limit_s * HOLDER_SHARE
    while len(choices) < HOLDER_CHOICES and (params.deterministic or time.monotonic() < until):
        more = decide_structure(
            instance,
            STRUCTURE_AGAIN_S,
            exclude=[c.kind for c in choices],
            deterministic=params.deterministic,
        )
        if not isinstance(more, Structure):
            break
        choices.append(more)
    if len(choices) == 1:
        return first
    priced: list[tuple[float, int, Structure]] = []
    for choice in choices:
        if not params.deterministic and time.monotonic() > until:
            break
        relaxed = lp_start(instance, choice, STRUCTURE_AGAIN_S)
        priced.append((math.inf if relaxed is None else relaxed.bound, len(priced), choice))
    return min(priced, key=lambda p: p[:2])[2] if priced else first


def affinity_leads(instance: Instance, spec: GoalSpec) -> bool:
    return _leads(spec, "affinity") and instance.affinity_cost is not None


def _leads(spec: GoalSpec, goal: str) -> bool:
    return bool(spec.order) and spec.order[0] == goal


def _violation(instance: Instance, structure: Structure, means: Means, assign: np.ndarray) -> int:
    return evaluate(instance, structure, means, assign)["violation"]


def _balanced_start(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    until: float,
    rng: np.random.Generator,
    stop: Callable[[], bool] | None,
) -> np.ndarray:
    """A first plan built and polished for balance first. Under a hard balance bound a plan
    built for the leading goals (chains packed whole, say) can leave a manager holding several
    large groups, which no move or swap between two managers mends; this one keeps the bound
    from the start."""
    lead = GoalSpec(("balance", *(g for g in spec.order if g != "balance")), spec.weights)
    state = _first_plan(instance, structure, means, spec, lead, until, stop)
    polish_balance(state, until, rng, stop)
    return state.assign


def _first_plan(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    lead: GoalSpec,
    until: float,
    stop: Callable[[], bool] | None,
) -> PlanState:
    """A greedy plan built in ``lead``'s order, its bands repaired and, where span counts,
    its customers spread evenly."""
    state = PlanState(instance, structure, means, spec, construct(instance, structure, means, lead))
    repair_bands(state, until)
    if "span" in spec.order:
        spread_evenly(state, until, stop)
    return state


def _finish(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    assign: np.ndarray,
    bounds: dict[str, float],
    proven: bool,
    iterations: int,
    method: str,
    timings: dict[str, float],
    params: SolveParams,
    started: float,
) -> Result:
    """Check the final plan's bands and bounds, and report it with its goals and bounds."""
    values = evaluate(instance, structure, means, assign)
    if values["violation"] > 0:
        return Result(
            SolveStatus.NO_PLAN,
            explanation=[
                "No plan keeping every hard rule was found in the "
                f"{params.time_limit_s:.1f} s the search had (the time limit less loading, "
                "and never under 0.5 s); try a longer --time-limit.",
                *(
                    f"If a longer limit finds none either: {reason[0].lower()}{reason[1:]}"
                    for reason in _band_explanation(instance, structure)
                ),
            ],
            runtime=time.monotonic() - started,
        )
    for goal in values:
        bounds[goal] = min(bounds.get(goal, 0.0), float(values[goal]))
    if proven:
        bounds.update({g: float(values[g]) for g in spec.order})
    objective = normalised_objective(values, spec, instance)
    best_bound = normalised_objective(bounds, spec, instance)
    return Result(
        SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE,
        assignment=plan_frame(instance, structure, assign),
        goals={g: values[g] for g in values if g != "violation"},
        bounds={g: bounds[g] for g in values if g != "violation"},
        order=spec.order,
        objective=objective,
        best_bound=min(best_bound, objective),
        runtime=time.monotonic() - started,
        timings=timings,
        iterations=iterations,
        method=method,
    )


def _progress_payload(
    values: dict[str, int],
    bounds: dict[str, float],
    spec: GoalSpec,
    instance: Instance,
    started: float,
) -> dict[str, object]:
    objective = normalised_objective(values, spec, instance)
    bound = min(normalised_objective(bounds, spec, instance), objective)
    return {
        "incumbent": objective,
        "bound": bound,
        "gap": 0.0 if objective <= 0 else (objective - bound) / objective,
        "elapsed": time.monotonic() - started,
        "violation": values["violation"],
    }


def _after_proof(
    instance: Instance, structure: Structure, spec: GoalSpec, params: SolveParams, started: float
) -> Result:
    """The exact model found that these kinds (the only ones left) admit no plan. Its balance
    bound takes every standard portfolio to hold customers, as the plan checker does not; the
    customer-level model measures it over those that do, and decides: its plan, where it finds
    one keeping every rule; else the rules that collide (exit 3); else no plan found."""
    means = portfolio_means(instance, structure)
    left = started + params.time_limit_s - time.monotonic()
    verdict = examine(
        instance, structure, goals=spec.order, goal_time_s=max(left / 4, GOAL_FLOOR_S)
    )
    if verdict.plan is not None:
        bounds = {g: float(v) for g, v in goal_bounds(instance).items()}
        method = "customer-level feasibility model (some standard portfolios left empty)"
        result = _finish(
            instance,
            structure,
            means,
            spec,
            verdict.plan,
            bounds,
            False,
            0,
            method,
            {},
            params,
            started,
        )
        if result.has_plan:
            return result
    rules = verdict.rules
    if rules is None and instance.scenario.policy.balance.max_deviation is None:
        rules = _band_explanation(instance, structure, proven=True)  # the proof stands
    if rules is None:
        return Result(
            SolveStatus.NO_PLAN,
            explanation=_band_explanation(instance, structure),
            runtime=time.monotonic() - started,
        )
    if not structure_is_forced(instance):
        rules.append(
            "Every choice of which managers hold premium and separate-ledger portfolios was "
            "tried; the rules above are for the last one."
        )
    return Result(SolveStatus.INFEASIBLE, explanation=rules, runtime=time.monotonic() - started)


def _band_explanation(
    instance: Instance, structure: Structure | None, proven: bool = False
) -> list[str]:
    counts = (
        []
        if structure is None
        else [
            f"{len(structure.managers_of(k))} {KIND_NAMES[k]}"
            for k in range(3)
            if len(structure.managers_of(k))
        ]
    )
    kinds = (
        ", ".join(counts[:-1]) + (" and " if len(counts) > 1 else "") + counts[-1] if counts else ""
    )
    rules = ["the span bands"]
    if instance.scenario.policy.balance.max_deviation is not None:
        rules.append("the [balance] bound")
    if (instance.size > 1).any():
        rules.append("keeping groups together")
    if any(instance.forbidden):
        rules.append("rotation")
    if (instance.pin >= 0).any():
        rules.append("pins")
    if instance.capacity is not None:
        rules.append("workload capacity")
    text = (f"With {kinds} portfolios, no" if kinds else "No") + (
        f" plan can keep all of: {', '.join(rules)}."
        if proven
        else f" plan was found keeping all of: {', '.join(rules)}."
    )
    if not proven and not structure_is_forced(instance):
        text += (
            " The portfolio kinds were chosen first, so another choice may still work: widen "
            "[span] tolerance or a type's band, or designate which managers hold premium and "
            "separate-ledger portfolios."
        )
    return [text]


def solve(
    scenario: Scenario,
    progress: ProgressFn | None = None,
    stop: Callable[[], bool] | None = None,
    **given: object,
) -> Result:
    """Solve a loaded scenario; ``given`` overrides [solver] keys (time_limit_s, workers, ...)."""
    params = SolveParams.from_policy(scenario, **given)
    started = time.monotonic()
    instance = compile_instance(scenario)
    compiled = time.monotonic() - started
    remaining = max(params.time_limit_s - compiled, 0.5)  # the limit covers the whole solve
    params = SolveParams(remaining, params.workers, params.seed, params.deterministic)
    result = solve_instance(instance, params, progress, stop)
    result.timings = {"compile": compiled, **result.timings}
    result.runtime += compiled
    return result


def compile_instance(scenario: Scenario) -> Instance:
    """The scenario as the model sees it, with each customer's stock + increment target."""
    values = customer_targets(scenario.customers, scenario.policy)["target"]
    return build_instance(scenario, values)


def rule_collisions(scenario: Scenario, time_limit_s: float = 5.0) -> list[str]:
    """Why the hard rules cannot all hold, as ``solve`` would explain before searching; empty
    when the fast analysis and the choice of portfolio kinds find no collision."""
    instance = compile_instance(scenario)
    collisions = find_collisions(instance)
    if collisions:
        return collisions
    continuity_first = scenario.policy.objective.goals()[:1] == ["continuity"]
    structure = decide_structure(instance, time_limit_s, continuity_first, deterministic=True)
    if not isinstance(structure, Structure):
        return structure if none_left(structure) else []
    if structure_is_forced(instance):  # then what the small model proves holds for all plans
        # Brief: a branch that has a plan takes this long, and most collisions show in a second.
        return colliding_rules(instance, structure, VALIDATE_PROOF_S) or []
    return []
