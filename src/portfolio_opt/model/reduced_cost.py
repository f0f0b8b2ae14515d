"""What the LP relaxation's reduced costs say about affinity-led plans.

A pair's reduced cost, above the least of its block's, is what using it adds at least to the LP
bound. Pairs that push every plan above a known plan's cost can be
banned without losing any plan as good (reduced-cost fixing); the pairs with the smallest
reduced costs form a small core model where the good plans usually are.
"""

from __future__ import annotations

import numpy as np

from portfolio_opt.model.cpmodel import SubModel
from portfolio_opt.model.goals import GoalSpec, Means, better_plan, evaluate
from portfolio_opt.model.instance import Instance
from portfolio_opt.model.lp_start import Relaxed
from portfolio_opt.model.structure import Structure

CORE_PAIRS_PER_BLOCK = 3.0  # average managers a block may choose from in the core model
# ... and in the search's sub-models: smaller sub-models solve to the end and grow larger
# (GAP at 60 s: e801600 0.36% -> 0.15% above the best known, d20100 0.78% -> 0.63%).
SEARCH_CORE_PAIRS_PER_BLOCK = 6.0
# Of the search time, for the core model: the whole-branch model that follows it gains more
# from a good start than the neighbourhood search, which improves a plan on its own.
CORE_SHARE_EXACT = 0.6
CORE_SHARE_SEARCH = 0.3


def cheapest_with(relaxed: Relaxed) -> np.ndarray:
    """(blocks, managers): the least affinity cost of any plan giving the block to the manager."""
    reduced = relaxed.reduced
    # The bound counts each block at its cheapest reduced cost; this pair adds the difference.
    return relaxed.bound + reduced - reduced.min(axis=1, keepdims=True)


def ban_mask(relaxed: Relaxed, upper: float, integral: bool = True) -> np.ndarray:
    """(blocks, managers): True where no plan of affinity cost ``upper`` or less uses the pair."""
    least = cheapest_with(relaxed)
    tolerance = 1e-6 * (1.0 + abs(relaxed.bound))
    # Integer costs: a plan costs at least the bound rounded up.
    above = np.ceil(least - tolerance) > upper if integral else least > upper + tolerance
    return above & np.isfinite(relaxed.reduced)


def safe_bans(relaxed: Relaxed, upper: float, integral: bool = True) -> dict[int, set[int]]:
    """Per block, the managers no plan of affinity cost ``upper`` or less can give it to."""
    banned: dict[int, set[int]] = {}
    for b, m in zip(*np.nonzero(ban_mask(relaxed, upper, integral)), strict=True):
        banned.setdefault(int(b), set()).add(int(m))
    return banned


def merge_bans(*bans: dict[int, set[int]]) -> dict[int, set[int]]:
    """The union of several block -> banned managers maps."""
    merged: dict[int, set[int]] = {}
    for ban in bans:
        for b, managers in ban.items():
            merged.setdefault(b, set()).update(managers)
    return merged


def proven_ban_mask(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    assign: np.ndarray,
    relaxed: Relaxed | None,
) -> np.ndarray | None:
    """The pairs no plan at least as good as ``assign`` uses, when affinity leads the goals in
    order (not weighted) and ``assign`` keeps the hard rules; else None."""
    if relaxed is None or spec.weights is not None or spec.order[:1] != ("affinity",):
        return None
    values = evaluate(instance, structure, means, assign)
    if values["violation"] > 0:
        return None
    cost = instance.affinity_cost
    integral = cost is not None and np.issubdtype(cost.dtype, np.integer)
    return ban_mask(relaxed, values["affinity"], integral)


def proven_bans(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    assign: np.ndarray,
    relaxed: Relaxed | None,
) -> dict[int, set[int]]:
    """:func:`proven_ban_mask` as block -> banned managers."""
    mask = proven_ban_mask(instance, structure, means, spec, assign, relaxed)
    if mask is None:
        return {}
    banned: dict[int, set[int]] = {}
    for b, m in zip(*np.nonzero(mask), strict=True):
        banned.setdefault(int(b), set()).add(int(m))
    return banned


def core_offer(
    relaxed: Relaxed, assign: np.ndarray, per_block: float = CORE_PAIRS_PER_BLOCK
) -> dict[int, set[int]]:
    """Per block, the managers of the core: the smallest reduced costs over all blocks (about
    ``per_block`` each on average), the block's cheapest pair and its manager in ``assign``."""
    reduced = relaxed.reduced
    n_blocks = reduced.shape[0]
    finite = np.sort(reduced[np.isfinite(reduced)])
    if not len(finite):
        return {}
    threshold = finite[min(int(per_block * n_blocks), len(finite) - 1)]
    inside = reduced <= threshold + 1e-9
    inside[np.arange(n_blocks), np.argmin(reduced, axis=1)] = True
    inside[np.arange(n_blocks), assign] = True
    return {b: set(np.flatnonzero(row).tolist()) for b, row in enumerate(inside)}


def solve_core(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    assign: np.ndarray,
    relaxed: Relaxed,
    time_limit_s: float,
    workers: int,
    seed: int,
    deterministic: bool,
) -> np.ndarray:
    """The plan of the core model over the whole branch when it beats ``assign``, else
    ``assign``. Its bound holds for the core only, so it proves nothing."""
    values = evaluate(instance, structure, means, assign)
    sub = SubModel.whole_branch(
        instance,
        structure,
        means,
        spec,
        assign,
        soft_hard_rules=values["violation"] > 0,
        banned=proven_bans(instance, structure, means, spec, assign, relaxed),
        offered=core_offer(relaxed, assign),
    )
    outcome = sub.solve(time_limit_s, workers, seed, deterministic)
    return better_plan(instance, structure, means, spec, assign, outcome.assign)
