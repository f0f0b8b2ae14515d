"""From a scenario to a plan: analyse, structure, construct, search, prove what can be proven."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from portfolio_opt.model.attempt import (
    Attempted,
    PlanAttempt,
    affinity_leads,
    fits_one_model,
    leads,
)
from portfolio_opt.model.bounds import goal_bounds
from portfolio_opt.model.collisions import (
    QUICK_CHECKS,
    find_collisions,
    groups_pack_into_portfolios,
)
from portfolio_opt.model.cpmodel import SubModel
from portfolio_opt.model.goals import (
    GoalSpec,
    Means,
    evaluate,
    goal_spec,
    objective_key,
    portfolio_means,
)
from portfolio_opt.model.handover import hand_over
from portfolio_opt.model.infeasible import (
    EXPLAIN_LIMIT_S,
    FACTS,
    FAMILY_WORDS,
    colliding_rules,
    examine,
    present_families,
    rule_facts,
)
from portfolio_opt.model.instance import (
    KIND_NAMES,
    KIND_WORDS,
    PREMIUM,
    SEPARATE,
    STANDARD,
    Instance,
    build_instance,
    manager_bands,
)
from portfolio_opt.model.lp_start import lp_start
from portfolio_opt.model.premium_ledger import PremiumLedger, place_premium_ledger
from portfolio_opt.model.result import Result, SolveStatus
from portfolio_opt.model.settings import ProgressFn, SolveParams, announce
from portfolio_opt.model.structure import (
    Structure,
    decide_structure,
    none_left,
    structure_is_forced,
)
from portfolio_opt.payout import customer_targets
from portfolio_opt.scenario.data import Scenario

__all__ = ["SolveParams", "plan_frame", "rule_collisions", "solve", "solve_instance"]

MAX_STRUCTURES = 5  # choices of portfolio kinds tried when the exact model rules one out
MAX_STRUCTURES_EXACT = 50  # on branches the exact model solves whole (each try is quick)
FINISH_SHARE = 0.01  # of the time limit, kept to score the plan after the search
AGAIN_SHARE = 0.2  # of the time limit, left at least to solve again for other holders
# Of a deterministic limit, for each further choice of holders (a 90 x 5 branch's second
# choice was proven with 0.5 of 10 s, not 0.4), and for the exact model's work in all of them.
DETERMINISTIC_AGAIN_SHARE = 0.5
DETERMINISTIC_AGAIN_MOST = 1.0
VALIDATE_PROOF_S = 1.5  # for validate's customer-level check of the hard rules
AFTER_SEARCH_PROOF_S = 3.0  # for the same check once the search found no plan
STRUCTURE_AGAIN_S = 2.0  # for the kinds' model's next choice of holders
HOLDER_TRIES = 20  # choices of holders solved at most, while a fifth of the time is left
LEDGER_SHARE = 0.05  # of the time limit, for placing premium separate-ledger customers
LEDGER_TRIES = 8  # choices of their holders, each solving the rest of the branch beside them
HOLDER_TRIES_SHARE = 0.5  # of the time limit, past which no further choice of holders is tried
GOAL_FLOOR_S = 0.5  # for each goal the customer-level model improves, however late
HOLDER_CHOICES = 20  # choices of holders priced by their LP where affinity leads,
HOLDER_SHARE = 0.15  # in this share of the time limit


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
    collisions = find_collisions(instance)
    if collisions:
        return Result(
            SolveStatus.INFEASIBLE,
            explanation=collisions,
            runtime=time.monotonic() - started,
            method=QUICK_CHECKS,
        )
    spec = goal_spec(instance)
    continuity_first = leads(spec, "continuity")
    ruled_out: list[Structure] = []  # kinds per manager the exact model found no plan for
    while True:
        announce(progress, "deciding the portfolio kinds")
        structure = decide_structure(
            instance,
            min(10.0, params.time_limit_s / 3),
            continuity_first,
            exclude=[s.kind for s in ruled_out],
            deterministic=params.deterministic,
        )
        if not isinstance(structure, Structure):
            last = ruled_out[-1] if ruled_out else None
            if not none_left(structure):  # the kinds' model ran out of time
                return Result(
                    SolveStatus.NO_PLAN,
                    explanation=structure + _band_explanation(instance, last),
                    runtime=time.monotonic() - started,
                )
            if ruled_out:  # every choice of kinds fitting the bands was ruled out
                return _after_proof(
                    instance, ruled_out, spec, params, started, others_need=structure[:1]
                )
            return Result(
                SolveStatus.INFEASIBLE, explanation=structure, runtime=time.monotonic() - started
            )
        if not ruled_out and affinity_leads(instance, spec) and not structure_is_forced(instance):
            structure = _cheapest_holders(instance, structure, params, started)
        attempt = PlanAttempt(
            instance, structure, spec, params, started, deadline, progress, stop
        ).run()
        if attempt is not None:
            break
        ruled_out.append(structure)
        if structure_is_forced(instance):  # the exact model's proof holds for every plan
            return _after_proof(instance, ruled_out, spec, params, started)
        most = MAX_STRUCTURES_EXACT if fits_one_model(instance, structure) else MAX_STRUCTURES
        late = not params.deterministic and time.monotonic() > deadline
        if len(ruled_out) >= most or late:
            return _after_proof(instance, ruled_out, spec, params, started, every_choice=False)
    means, assign, bounds, proven = attempt.means, attempt.assign, attempt.bounds, attempt.proven
    iterations, method, timings = attempt.steps, attempt.method, attempt.timings
    if not structure_is_forced(instance):
        # The models' proofs and bounds hold for the chosen holders of premium and
        # separate-ledger portfolios only; the bounds of the whole branch hold for every plan,
        # and so does a proof for every choice of holders.
        holders = _other_holders(
            instance,
            structure,
            spec,
            attempt,
            [s.kind for s in ruled_out],
            params,
            started,
            deadline,
            progress,
            stop,
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
    if result.status is SolveStatus.NO_PLAN and not (stop is not None and stop()):
        result = _decided_after_search(instance, structure, spec, params, started, result)
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
    attempt: Attempted,
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
    proven (optimal, or without a plan), the best plan is proven for the whole branch. A
    deterministic solve goes on while every choice solved was proven and work is left (see
    _room_for_other_holders), never by the clock."""
    means, assign, proven_here = attempt.means, attempt.assign, attempt.proven
    # Under a balance bound, holders the exact model ruled out count as open until the
    # customer-level model has examined them too (see _after_proof).
    bounded = instance.scenario.policy.balance.max_deviation is not None
    all_proven = proven_here and not (ruled_out and bounded)
    seen, steps = [*ruled_out, structure.kind], 0
    continuity_first = leads(spec, "continuity")
    work = 0.0  # the further choices' exact-model work, which bounds a deterministic solve's
    while True:
        structure, means, assign = hand_over(instance, structure, means, spec, assign)
        room = _room_for_other_holders(params, deadline, work)
        if (
            not proven_here
            or len(seen) >= HOLDER_TRIES
            or (params.deterministic and not all_proven)
            or (stop is not None and stop())
            or not (room or params.deterministic)
        ):
            return _Holders(structure, means, assign, len(seen), steps, False)
        candidate = structure
        # Out of work, a deterministic solve still asks whether any choice is left: if none
        # is, what it proved holds for the whole branch.
        if any(np.array_equal(structure.kind, kinds) for kinds in seen):
            chosen = decide_structure(
                instance,
                STRUCTURE_AGAIN_S,
                continuity_first,
                exclude=seen,
                deterministic=params.deterministic,
            )
            if not isinstance(chosen, Structure):
                return _Holders(
                    structure, means, assign, len(seen), steps, all_proven and none_left(chosen)
                )
            candidate = chosen
        if not room:
            return _Holders(structure, means, assign, len(seen), steps, False)
        seen.append(candidate.kind)
        again = PlanAttempt(
            instance, candidate, spec, _again(params), started, deadline, progress, stop
        ).run()
        if again is None:
            all_proven &= not bounded
            continue  # these holders admit no plan: the best so far stands
        steps += again.steps
        work += again.model_work
        all_proven &= again.proven
        if objective_key(
            evaluate(instance, candidate, again.means, again.assign), spec
        ) < objective_key(evaluate(instance, structure, means, assign), spec):
            structure, means, assign = candidate, again.means, again.assign
            proven_here = again.proven


def _room_for_other_holders(params: SolveParams, deadline: float, work: float) -> bool:
    """Whether another choice of holders may be solved. A deterministic limit is work, not
    time: the further choices may add DETERMINISTIC_AGAIN_MOST of it (counted in the exact
    model's deterministic time, ``work`` so far; a proof mostly takes far less), so the same
    choices are made on any machine."""
    if params.deterministic:
        return work < DETERMINISTIC_AGAIN_MOST * params.time_limit_s
    return deadline - time.monotonic() >= params.time_limit_s * AGAIN_SHARE


def _again(params: SolveParams) -> SolveParams:
    """The settings of a further choice of holders: a deterministic one gets its share of the
    work (the others end at the deadline, whatever their limit)."""
    if not params.deterministic:
        return params
    return replace(params, time_limit_s=params.time_limit_s * DETERMINISTIC_AGAIN_SHARE)


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
    if values["violation"] > 0 and (packing := groups_pack_into_portfolios(instance)):
        return Result(
            SolveStatus.INFEASIBLE, explanation=packing, runtime=time.monotonic() - started
        )
    if values["violation"] > 0:
        return Result(
            SolveStatus.NO_PLAN,
            explanation=[
                "No plan keeping every hard rule was found in the "
                f"{params.time_limit_s:.1f} s the search had (the time limit less building the "
                "model, and never under 0.5 s); try a longer --time-limit.",
                *(
                    f"If a longer limit finds none either: {reason[0].lower()}{reason[1:]}"
                    for reason in _band_explanation(instance, structure)
                ),
            ],
            runtime=time.monotonic() - started,
        )
    ranked = goal_spec(instance, constant_goals=True)
    for goal in values:
        bounds[goal] = min(bounds.get(goal, 0.0), float(values[goal]))
        if goal in ranked.order and goal not in spec.order:  # left out: the same in every plan
            bounds[goal] = float(values[goal])
    if proven and spec.lexicographic:  # each goal proven best given the goals before it
        bounds.update({g: float(values[g]) for g in spec.order})
    # A proven weighted sum bounds the sum only: each goal keeps the bound every plan obeys.
    # Reported over every goal the policy ranks, as kpis.json lists them.
    objective = ranked.reported(values)
    best_bound = objective if proven else ranked.reported(bounds)
    return Result(
        SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE,
        assignment=plan_frame(instance, structure, assign),
        goals={g: values[g] for g in values if g != "violation"},
        bounds={g: bounds[g] for g in values if g != "violation"},
        order=ranked.order,  # as the policy ranks them
        scales=ranked.scales,
        objective=objective,
        best_bound=min(best_bound, objective),
        runtime=time.monotonic() - started,
        timings=timings,
        iterations=iterations,
        method=method,
    )


def _customer_level_plan(
    instance: Instance,
    structure: Structure,
    spec: GoalSpec,
    plan: np.ndarray,
    params: SolveParams,
    started: float,
    method: str,
) -> Result:
    """The customer-level model's plan, scored against the branch's own bounds."""
    return _finish(
        instance,
        structure,
        portfolio_means(instance, structure),
        spec,
        plan,
        {g: float(v) for g, v in goal_bounds(instance).items()},
        False,
        0,
        method,
        {},
        params,
        started,
    )


def _decided_after_search(
    instance: Instance,
    structure: Structure,
    spec: GoalSpec,
    params: SolveParams,
    started: float,
    failed: Result,
) -> Result:
    """The search found no plan. Where the portfolio kinds are forced, the customer-level model
    decides briefly, as ``validate`` does: its plan, or the rules that collide (exit 3, not a
    longer time limit for nothing); else the search's result stands."""
    if not structure_is_forced(instance):
        return failed
    verdict = examine(
        instance,
        structure,
        time_limit_s=AFTER_SEARCH_PROOF_S,
        goals=spec.order,
        goal_time_s=GOAL_FLOOR_S,
        deterministic=params.deterministic,
    )
    if verdict.plan is not None:
        found = _customer_level_plan(
            instance,
            structure,
            spec,
            verdict.plan,
            params,
            started,
            "customer-level feasibility model, after the search found no plan",
        )
        return found if found.has_plan else failed
    if verdict.rules:
        return Result(
            SolveStatus.INFEASIBLE,
            explanation=verdict.rules,
            runtime=time.monotonic() - started,
        )
    return failed


def _after_proof(
    instance: Instance,
    ruled_out: list[Structure],
    spec: GoalSpec,
    params: SolveParams,
    started: float,
    every_choice: bool = True,
    others_need: list[str] | None = None,
) -> Result:
    """The exact model found that these choices of kinds admit no plan (``every_choice``: they
    are all there are). Under a balance bound the customer-level model, which measures it
    over the standard portfolios that hold customers as the plan checker does, examines each
    choice again and decides: its plan, where it finds one keeping every rule; else, when every
    choice was ruled out, the rules that collide for all of them together and what kept the
    other choices out (exit 3); else no plan found."""
    bounded = instance.scenario.policy.balance.max_deviation is not None
    verdict = None
    conclusive = True  # every choice examined was decided, not left open for lack of time
    families: set[str] = set()  # the rules that collide, over every choice examined
    # Without a balance bound the exact model's proofs stand; the choices are examined only
    # to name the rules that collide.
    for structure in ruled_out if bounded or every_choice else []:
        if params.deterministic:  # a share of the limit as work, whatever the clock says
            left = params.time_limit_s / len(ruled_out)
        else:
            left = started + params.time_limit_s - time.monotonic()
        if verdict is not None and left <= 0:
            conclusive = False
            break
        verdict = examine(
            instance,
            structure,
            time_limit_s=EXPLAIN_LIMIT_S if verdict is None else max(left, GOAL_FLOOR_S),
            goals=spec.order,
            goal_time_s=max(left / 4, GOAL_FLOOR_S),
            deterministic=params.deterministic,
        )
        if verdict.plan is None:
            conclusive &= verdict.rules is not None
            families.update(verdict.families or ())
            continue
        result = _customer_level_plan(
            instance,
            structure,
            spec,
            verdict.plan,
            params,
            started,
            "customer-level feasibility model (some standard portfolios left empty)",
        )
        if result.has_plan:
            return result
    structure = ruled_out[-1]
    # Each choice fails on its own families, so all of them together fail every choice.
    rules = (
        rule_facts(instance, structure, sorted(families))
        if verdict is not None and every_choice and conclusive and families
        else None
    )
    if rules is None and every_choice and not bounded:
        rules = _band_explanation(instance, structure, proven=True)  # the proof stands
    elif (
        rules is None
        and every_choice
        and _proven_without_bound(instance, ruled_out, params, started)
    ):
        bound = instance.scenario.policy.balance.max_deviation
        rules = [
            *_band_explanation(_without_balance_bound(instance), structure, proven=True),
            f"The [balance] bound (max_deviation = {bound}) is no part of this: the rules "
            "above leave no plan without it.",
        ]
    if rules is None:
        return Result(
            SolveStatus.NO_PLAN,
            explanation=_band_explanation(instance, structure),
            runtime=time.monotonic() - started,
        )
    if not structure_is_forced(instance):
        rules.append(
            f"Every choice of which managers hold premium and separate-ledger portfolios was "
            f"tried ({len(ruled_out)}); together, the rules above leave none of them a plan "
            "(the numbers are for the last one)."
        )
        rules += [_other_choices(reason) for reason in others_need or []]
    return Result(SolveStatus.INFEASIBLE, explanation=rules, runtime=time.monotonic() - started)


UNBOUNDED_PROOF_SHARE = 0.25  # of the limit at most, for the exact model without the bound


def _without_balance_bound(instance: Instance) -> Instance:
    scenario = instance.scenario
    policy = scenario.policy.updated({"balance.max_deviation": None})
    return replace(instance, scenario=replace(scenario, policy=policy))


def _proven_without_bound(
    instance: Instance, ruled_out: list[Structure], params: SolveParams, started: float
) -> bool:
    """Whether the exact model proves, with the balance bound left out, that none of these
    choices of kinds admits a plan. Under the bound its proofs do not stand alone (it measures
    balance over every standard portfolio, the checker over those holding customers); without
    it they do, and then the bound is no part of the collision, unless the bound is what kept
    the kinds model from other choices (a part-timer kept out of a standard portfolio)."""
    budget = UNBOUNDED_PROOF_SHARE * params.time_limit_s
    if not params.deterministic:  # within the limit: what the examination left of it
        budget = min(budget, started + params.time_limit_s - time.monotonic())
    each = budget / (len(ruled_out) + 1)  # the kinds model, then each choice
    if each < GOAL_FLOOR_S:
        return False
    unbounded = _without_balance_bound(instance)
    other = decide_structure(
        unbounded, each, exclude=[s.kind for s in ruled_out], deterministic=params.deterministic
    )
    if isinstance(other, Structure) or not none_left(other):
        return False
    spec = goal_spec(unbounded)
    for structure in ruled_out:
        if not fits_one_model(unbounded, structure):
            return False
        model = SubModel.whole_branch(
            unbounded,
            structure,
            portfolio_means(unbounded, structure),
            spec,
            np.zeros(unbounded.n_blocks, dtype=int),
            soft_hard_rules=False,
            hint=False,
        )
        outcome = model.solve(each, params.workers, params.seed, params.deterministic)
        if outcome.status != "INFEASIBLE":
            return False
    return True


def _other_choices(reason: str) -> str:
    """The kinds' model's reason that no choice is left, as what rules the other choices out
    (the choices tried are excluded from it)."""
    _, _, requirements = reason.partition(": ")
    return (
        f"The other choices of holders cannot meet: {requirements.rstrip('.')}."
        if requirements
        else reason
    )


def _band_explanation(
    instance: Instance, structure: Structure | None, proven: bool = False
) -> list[str]:
    counts = (
        []
        if structure is None
        else [
            f"{len(structure.managers_of(k))} {KIND_WORDS[k]}"
            for k in range(3)
            if len(structure.managers_of(k))
        ]
    )
    kinds = (
        ", ".join(counts[:-1]) + (" and " if len(counts) > 1 else "") + counts[-1] if counts else ""
    )
    families = present_families(instance)
    rules = [FAMILY_WORDS[name] for name in families]
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
    if proven and structure is not None:  # which of them could give way is not known: each
        return [text, *(FACTS[name](instance, structure) for name in families)]
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
    tried: list[frozenset[str]] = []  # holders already tried beside the rest of the branch
    best: Result | None = None
    last: Result | None = None
    while len(tried) < LEDGER_TRIES:
        placed = place_premium_ledger(
            scenario, LEDGER_SHARE * params.time_limit_s, params.seed, params.deterministic, tried
        )
        if placed is None:
            return _solve_branch(scenario, params, started, progress, stop)
        if isinstance(placed, list):
            if last is not None or best is not None:  # no other holders: what was found stands
                break
            runtime = time.monotonic() - started
            return Result(SolveStatus.INFEASIBLE, explanation=placed, runtime=runtime)
        if len(placed.rest.customers):
            result = _solve_branch(placed.rest, params, started, progress, stop)
        else:
            result = _premium_ledger_only(placed, started)
        rest_proven = result.status is SolveStatus.OPTIMAL
        result = with_premium_ledger(result, placed, scenario)
        tried.append(frozenset(placed.holders))
        if result.status is SolveStatus.INFEASIBLE:
            last = result
        else:
            best = _better_whole_branch(best, result, scenario)
            if not _time_for_another(params, started, rest_proven):
                break
        late = time.monotonic() - started > params.time_limit_s
        if (late and not params.deterministic) or (stop is not None and stop()):
            break
    if best is not None:
        return best
    assert last is not None
    if len(tried) > 1:
        last.explanation.append(
            f"({len(tried)} choices of holders for the premium separate-ledger customers were "
            "tried; the last is shown.)"
        )
    return last


def _time_for_another(params: SolveParams, started: float, rest_proven: bool) -> bool:
    """Whether another choice of premium separate-ledger holders may be tried: the plans beside
    the holders differ in the moves and spans of the rest of the branch, which the small model
    that chooses them does not see. A deterministic run tries another only after a proof (its
    limit is work, not time), so it makes the same choices each time."""
    if params.deterministic:
        return rest_proven
    return time.monotonic() - started < HOLDER_TRIES_SHARE * params.time_limit_s


def _better_whole_branch(best: Result | None, result: Result, scenario: Scenario) -> Result:
    """The better of two plans of the whole branch, by the policy's goals (``best`` on ties)."""
    if best is None:
        return result
    spec = goal_spec(compile_instance(scenario), constant_goals=True)
    keys = [objective_key({"violation": 0, **r.goals}, spec) for r in (best, result)]
    return result if keys[1] < keys[0] else best


def _solve_branch(
    scenario: Scenario,
    params: SolveParams,
    started: float,
    progress: ProgressFn | None,
    stop: Callable[[], bool] | None,
) -> Result:
    """Compile and solve, the time limit counting from ``started``."""
    instance = compile_instance(scenario)
    compiled = time.monotonic() - started
    if not params.deterministic:  # the limit covers the whole solve; a deterministic one is work
        remaining = max(params.time_limit_s - compiled, 0.5)
        params = SolveParams(remaining, params.workers, params.seed, params.deterministic)
    result = solve_instance(instance, params, progress, stop)
    result.timings = {"compile": compiled, **result.timings}
    result.runtime += compiled
    return result


def with_premium_ledger(result: Result, placed: PremiumLedger, scenario: Scenario) -> Result:
    """The rest of the branch's result with the premium separate-ledger portfolios added."""
    holders = ", ".join(placed.holders)
    if result.assignment is None:
        if result.explanation:
            result.explanation = [
                f"With the premium separate-ledger customers in portfolios of their own "
                f"(held by {holders}), the rest of the branch has no plan:",
                *result.explanation,
            ]
        return result
    order = {c: i for i, c in enumerate(scenario.customers["customer_id"])}
    joined = pd.concat([result.assignment, placed.assignment], ignore_index=True)
    result.assignment = joined.sort_values(
        "customer_id", key=lambda ids: ids.map(order)
    ).reset_index(drop=True)
    result.method += f"; premium separate-ledger customers placed first, held by {holders}"
    # The proofs and bounds of the search hold for these holders and the rest of the branch
    # only; the whole branch keeps the bounds every plan obeys.
    result.status = SolveStatus.FEASIBLE
    _score_whole_branch(result, scenario)
    return result


def _score_whole_branch(result: Result, scenario: Scenario) -> None:
    """The goals and objective of the plan over the whole branch: the rest's own count other
    customers and managers (N and M of the span, the kinds' means, the move weights)."""
    assert result.assignment is not None
    instance = compile_instance(scenario)
    manager = dict(
        zip(result.assignment["customer_id"], result.assignment["manager_id"], strict=True)
    )
    assign = np.array(
        [instance.manager_index[manager[instance.customer_ids[b[0]]]] for b in instance.members],
        dtype=np.int64,
    )
    structure = Structure(_plan_kinds(instance, result.assignment))
    values = evaluate(instance, structure, portfolio_means(instance, structure), assign)
    result.goals = {g: v for g, v in values.items() if g != "violation"}
    ranked = goal_spec(instance, constant_goals=True)
    result.order, result.scales = ranked.order, ranked.scales
    result.objective = ranked.reported(values)
    every_plan = goal_bounds(instance)
    bounds = {g: min(float(every_plan.get(g, 0)), float(v)) for g, v in values.items()}
    result.bounds = {g: bounds[g] for g in result.goals}
    result.best_bound = ranked.reported(bounds)


def _plan_kinds(instance: Instance, assignment: pd.DataFrame) -> np.ndarray:
    """Each manager's portfolio kind in the plan; an empty portfolio's is the one its manager is
    designated for, as the plan checker reads it."""
    kind = np.where(
        instance.flag_premium, PREMIUM, np.where(instance.flag_separate, SEPARATE, STANDARD)
    )
    code = {name: k for k, name in KIND_NAMES.items()}
    for mid, name in zip(assignment["manager_id"], assignment["portfolio_type"], strict=True):
        kind[instance.manager_index[mid]] = code[name]
    return kind


def _premium_ledger_only(placed: PremiumLedger, started: float) -> Result:
    """Every customer is premium and separate-ledger: the other managers must be allowed to
    hold none."""
    rest = placed.rest
    managers = rest.available_managers.reset_index(drop=True)
    low, _ = manager_bands(rest, managers, 0)
    kind = np.where(
        managers["premium"], PREMIUM, np.where(managers["separate_ledger"], SEPARATE, STANDARD)
    )
    needy = [
        f"{mid} at least {int(low[k, i])}"
        for i, (mid, k) in enumerate(zip(managers["manager_id"], kind, strict=True))
        if low[k, i] > 0
    ]
    runtime = time.monotonic() - started
    if needy:
        return Result(
            SolveStatus.INFEASIBLE,
            explanation=[
                "Every customer is premium and booked in a separate ledger, held in portfolios "
                f"of their own by {', '.join(placed.holders)}; the other managers would hold "
                f"none, but their bands ask for customers ({', '.join(needy)}): widen the span "
                "tolerance, lower min_customers, or make those managers unavailable."
            ],
            runtime=runtime,
        )
    return Result(
        SolveStatus.FEASIBLE,
        assignment=placed.assignment.iloc[:0],  # with_premium_ledger adds them
        runtime=runtime,
        method="premium separate-ledger customers in portfolios of their own (small CP-SAT model)",
    )


def compile_instance(scenario: Scenario) -> Instance:
    """The scenario as the model sees it, with each customer's stock + increment target."""
    values = customer_targets(scenario.customers, scenario.policy)["target"]
    return build_instance(scenario, values)


def rule_collisions(scenario: Scenario, time_limit_s: float = 5.0) -> list[str]:
    """Why the hard rules cannot all hold, as ``solve`` would explain before searching; empty
    when the fast analysis and the choice of portfolio kinds find no collision."""
    tried: list[frozenset[str]] = []
    reasons: list[str] = []
    while len(tried) < LEDGER_TRIES:
        placed = place_premium_ledger(scenario, LEDGER_SHARE * time_limit_s, tried=tried)
        if placed is None:
            return _branch_collisions(scenario, time_limit_s)
        if isinstance(placed, list):
            return reasons or placed
        if len(placed.rest.customers):
            reasons = _branch_collisions(placed.rest, time_limit_s)
        else:
            reasons = _premium_ledger_only(placed, time.monotonic()).explanation
        if not reasons:
            return []
        tried.append(frozenset(placed.holders))
    return reasons


def _branch_collisions(scenario: Scenario, time_limit_s: float) -> list[str]:
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
