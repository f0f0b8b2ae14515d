"""A start for affinity-led plans from the linear relaxation of the assignment.

When affinity cost leads the goals, the problem is a generalized assignment problem with bands:
its LP relaxation (HiGHS, through scipy) solves in seconds even for 1,600 customers x 80
managers, and a basic optimum splits at most about one block per capacity or band row. Blocks
the LP places whole keep that manager; the split ones go, cheapest first, to a manager that
still has room, and the search repairs what is left. The LP optimum is also a lower bound on
the affinity cost, its shares guide the search to where the plan and the LP disagree, and its
reduced costs tell which pairs no good plan uses (see ``reduced_cost``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, vstack

from portfolio_opt.model.instance import Instance
from portfolio_opt.model.structure import Structure


@dataclass(frozen=True)
class Relaxed:
    assign: np.ndarray  # block -> manager, rounded
    share: np.ndarray  # (blocks, managers) LP value of each pair
    bound: float  # the LP optimum, from its duals: no plan has a lower affinity cost
    reduced: np.ndarray  # (blocks, managers) reduced cost of each pair, inf where not allowed
    block_prices: np.ndarray  # (blocks,) the duals of "each block placed once"


def allowed_pairs(instance: Instance, structure: Structure) -> tuple[np.ndarray, np.ndarray]:
    """(block, manager) pairs a plan may use: kind, pins and rotation respected."""
    blocks: list[int] = []
    managers: list[int] = []
    for b in range(instance.n_blocks):
        if instance.pin[b] >= 0:
            allowed = [int(instance.pin[b])]
        else:
            allowed = [
                int(m)
                for m in structure.managers_of(int(instance.kind[b]))
                if int(m) not in instance.forbidden[b]
            ]
        blocks += [b] * len(allowed)
        managers += allowed
    return np.array(blocks, dtype=np.int64), np.array(managers, dtype=np.int64)


def lp_start(instance: Instance, structure: Structure, time_limit_s: float) -> Relaxed | None:
    """The rounded LP optimum; None without affinity costs, or when the LP finds nothing."""
    cost = instance.affinity_cost
    if cost is None or (instance.kind < 0).any():
        return None
    b_of, m_of = allowed_pairs(instance, structure)
    if not len(b_of) or len(np.unique(b_of)) < instance.n_blocks:
        return None
    n_b, n_m = instance.n_blocks, instance.n_managers
    cols = np.arange(len(b_of))
    count = coo_matrix((instance.size[b_of].astype(float), (m_of, cols)), shape=(n_m, len(cols)))
    kinds, everyone = structure.kind, np.arange(n_m)
    rows = [count, -count]
    limits = [instance.high[kinds, everyone], -instance.low[kinds, everyone]]
    if instance.workload is not None and instance.capacity is not None:
        capped = instance.capacity[m_of] >= 0
        load = instance.workload[b_of, m_of][capped].astype(float)
        rows.append(coo_matrix((load, (m_of[capped], cols[capped])), shape=(n_m, len(cols))))
        unlimited = float(instance.workload.sum()) + 1  # more than any manager can carry
        limits.append(np.where(instance.capacity >= 0, instance.capacity, unlimited))
    a_ub = vstack(rows).tocsr()
    b_ub = np.concatenate(limits).astype(float)
    a_eq = coo_matrix((np.ones(len(cols)), (b_of, cols)), shape=(n_b, len(cols))).tocsr()
    prices = cost[b_of, m_of].astype(float)
    result = linprog(
        prices,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=np.ones(n_b),
        bounds=(0, 1),
        method="highs",
        options={"time_limit": max(time_limit_s, 0.1)},
    )
    if result.status != 0 or result.x is None:  # infeasible, or out of time: no start, no bound
        return None
    share = np.zeros((n_b, n_m))
    share[b_of, m_of] = result.x
    reduced = np.full((n_b, n_m), np.inf)
    # Duals of the right signs price every plan: the block prices, the rows' prices, and per
    # block its cheapest pair at reduced cost; each block takes exactly one pair.
    on_rows = np.minimum(result.ineqlin.marginals, 0.0)
    per_block = result.eqlin.marginals
    reduced[b_of, m_of] = prices - a_eq.T @ per_block - a_ub.T @ on_rows
    bound = float(per_block.sum() + b_ub @ on_rows + reduced.min(axis=1).sum())
    assign = np.full(n_b, -1, dtype=np.int64)
    whole = result.x > 1 - 1e-6
    assign[b_of[whole]] = m_of[whole]
    _place_split_blocks(instance, assign, b_of, m_of, result.x)
    return Relaxed(assign, share, bound, reduced, per_block)


def _place_split_blocks(
    instance: Instance,
    assign: np.ndarray,
    b_of: np.ndarray,
    m_of: np.ndarray,
    x: np.ndarray,
) -> None:
    """Blocks the LP split: to the cheapest allowed manager with room, else their largest share."""
    cost = instance.affinity_cost
    assert cost is not None
    n_m = instance.n_managers
    workload, capacity = instance.workload, instance.capacity
    load = np.zeros(n_m)
    cap = np.full(n_m, -1.0)
    placed = np.flatnonzero(assign >= 0)
    if workload is not None and capacity is not None:
        cap = capacity.astype(float)
        load = np.bincount(
            assign[placed], weights=workload[placed, assign[placed]], minlength=n_m
        ).astype(float)
    for b in np.flatnonzero(assign < 0):
        options = np.flatnonzero(b_of == b)
        managers = m_of[options]
        work = workload[b, managers] if workload is not None else np.zeros(len(managers))
        room = (cap[managers] < 0) | (load[managers] + work <= cap[managers])
        if room.any():
            pick = int(managers[room][np.argmin(cost[b, managers[room]])])
        else:
            pick = int(managers[np.argmax(x[options])])
        assign[b] = pick
        if workload is not None:
            load[pick] += workload[b, pick]
