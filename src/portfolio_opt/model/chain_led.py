"""Chains first, balance after: the search order for a branch whose goals rank balance above chain.

Balanced first to within the deadband, a plan has almost no freedom left: every move that keeps
a chain together must be paid for by an equal-valued move back, and the search stalls with most
links cut. Kept together first under a loose balance bound, the chains shape the portfolios;
balancing them afterwards takes a few swaps and costs few links. The lexicographic order is
still the judge: the chain-led plan is kept only when it is better under the real goals.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from portfolio_opt.model.construct import construct
from portfolio_opt.model.exchange import close_deadband
from portfolio_opt.model.goals import GoalSpec, Means, portfolio_means
from portfolio_opt.model.instance import Instance
from portfolio_opt.model.polish import polish_balance, polish_chain, repair_bands, spread_evenly
from portfolio_opt.model.settings import CHECKS_PER_S
from portfolio_opt.model.state import PlanState
from portfolio_opt.model.structure import Structure

LOOSE_BALANCE = 0.02  # the balance bound while chains lead: loose, yet cheap to tighten after
CHAIN_LED_SHARE = 0.7  # of the search time, for the chain-led plan; the search mends the rest
BUILD_SHARE = 0.8  # of that, to build and search it; the rest to balance it
CLOSING_SHARE = 0.3  # of the time to balance it, kept for the last portfolios off the deadband
DETERMINISTIC_POLISH = 0.5  # of the seconds, as checks, for the polishes when deterministic
LEADS_CHAIN = {"span", "balance"}  # goals that may rank above chain for the reorder to apply


def chain_led_spec(spec: GoalSpec) -> GoalSpec | None:
    """The goals in order (weighted goals by weight) with chain moved just ahead of balance, or
    None where that changes nothing or would put chain above a goal it must not pass
    (continuity, affinity, industry)."""
    order = list(spec.order)
    if spec.weights is not None:
        weights = spec.weights
        order = sorted((g for g in order if weights.get(g, 0) > 0), key=lambda g: -weights[g])
    if "balance" not in order or "chain" not in order:
        return None
    if order.index("balance") > order.index("chain"):
        return None
    if not set(order[: order.index("chain")]) <= LEADS_CHAIN:
        return None
    order.remove("balance")
    order.insert(order.index("chain") + 1, "balance")
    return GoalSpec(tuple(order), None)


def leads_with_chains(spec: GoalSpec, bounded: bool) -> bool:
    """Whether a plan built with chains leading under a loose balance bound is worth trying:
    where the goals rank balance above chain (see chain_led_spec), and where they rank chain
    first but bound balance, as the plan built balanced first has few chains left to keep."""
    if chain_led_spec(spec) is not None:
        return True
    order = list(spec.order)
    return (
        bounded
        and spec.weights is None
        and "chain" in order
        and set(order[: order.index("chain")]) <= LEADS_CHAIN
    )


Search = Callable[[np.ndarray, float, Means, GoalSpec, float], np.ndarray]


def lead_with_chains(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    search: Search | None,
    seconds: float,
    deadline: float,
    stop: Callable[[], bool] | None = None,
) -> np.ndarray:
    """A plan built and searched with chains leading under the loose bound, then balanced as
    far as local moves reach, in ``seconds`` but by ``deadline`` (monotonic; ``math.inf`` when
    deterministic). The caller judges it against its own plan (``goals.better_of``): a few
    portfolios may still be just off the balance deadband, which a search can mend.

    ``search(start, seconds, means, spec, until)`` improves a plan under those goals; without
    it, the plan is only built and polished (a start for the exact model).
    """
    led = chain_led_spec(spec) or spec  # chain ahead of a bounded balance: as the goals say
    # Deterministic: each polish a count of checks in place of the clock; run to the end, they
    # took 55 s of a 30 s limit at 30,000 x 600.
    checks = math.inf if math.isfinite(deadline) else CHECKS_PER_S * DETERMINISTIC_POLISH * seconds
    build_checks, balance_checks = BUILD_SHARE * checks / 2, (1 - BUILD_SHARE) * checks / 2
    now = time.monotonic()
    build = min(now + BUILD_SHARE * seconds, deadline) if math.isfinite(deadline) else math.inf
    until = min(now + seconds, deadline) if math.isfinite(deadline) else math.inf
    policy_bound = instance.scenario.policy.balance.max_deviation  # weighted goals may have one
    loose = portfolio_means(instance, structure, min(LOOSE_BALANCE, policy_bound or math.inf))
    state = PlanState(instance, structure, loose, led, construct(instance, structure, loose, led))
    repair_bands(state, build)
    # Into the loose bound:
    polish_balance(state, build, np.random.default_rng(0), stop, build_checks)
    if "span" in led.order:  # after: repairs may take a portfolio off the even spread
        spread_evenly(state, build, stop)
    polish_chain(state, build, stop=stop, max_checks=build_checks)
    if search is not None:
        state.assign = search(state.assign, BUILD_SHARE * seconds, loose, led, build)
    state = PlanState(instance, structure, means, spec, state.assign)
    if "span" in spec.order:
        spread_evenly(state, until, stop)
    # The last portfolios off the deadband need exchanges the pairwise polish cannot find.
    closing = until - CLOSING_SHARE * max(until - time.monotonic(), 0.0)
    polish_balance(state, closing, np.random.default_rng(0), stop, balance_checks)
    close_deadband(state, until, stop)
    polish_chain(state, until, stop=stop, max_checks=balance_checks)
    return state.assign
