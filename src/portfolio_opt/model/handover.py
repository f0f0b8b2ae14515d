"""Hand each finished portfolio to the manager who serves it best: keeps most of its customers,
or costs least in affinity.

Span, balance, chains and industries depend on how the customers are grouped into portfolios,
not on who holds each one. Once the portfolios are set, giving them to the managers by one
assignment problem (each manager one portfolio) can only improve the goals that follow the
manager: moves and affinity. A portfolio may go to any manager who may hold its kind, so a
premium portfolio can change hands with a standard one held by another A-grade manager: this
corrects the holders the engine chose before the models ran. A manager may take a portfolio
only where its own bounds, the pins, the rotation rule and its capacity allow. A search over a
few managers at a time misses such a renaming when it runs around many managers at once.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from portfolio_opt.model.goals import GoalSpec, Means, evaluate, objective_key, portfolio_means
from portfolio_opt.model.instance import Instance
from portfolio_opt.model.structure import KINDS, Structure

NOT_ALLOWED = 1e18
FOLLOW_THE_MANAGER = ("continuity", "affinity")


def _per_holder(instance: Instance, assign: np.ndarray, per_block: np.ndarray) -> np.ndarray:
    """(holders, managers): a (blocks, managers) cost summed over each holder's blocks."""
    total = np.zeros((instance.n_managers, per_block.shape[1]))
    np.add.at(total, assign, per_block)
    return total


def _kept_weight(instance: Instance, assign: np.ndarray) -> np.ndarray:
    """(holders, managers): the move weight kept if the portfolio of one goes to the other."""
    kept = np.zeros((instance.n_managers, instance.n_managers))
    for b in range(instance.n_blocks):
        for m, weight in instance.kept[b].items():
            kept[assign[b], m] += weight
    return kept


def _allowed(instance: Instance, structure: Structure, assign: np.ndarray) -> np.ndarray:
    """(holders, managers): where a manager may take the whole portfolio."""
    m_count = instance.n_managers
    sizes = np.bincount(assign, weights=instance.size, minlength=m_count)
    kinds = structure.kind
    may_hold = np.array([[instance.eligible_kind(m, k) for m in range(m_count)] for k in KINDS])
    allowed = may_hold[kinds]
    allowed &= (sizes[:, None] >= instance.low[kinds]) & (sizes[:, None] <= instance.high[kinds])
    for b in range(instance.n_blocks):
        pin = int(instance.pin[b])
        if pin >= 0:
            only = np.zeros(m_count, dtype=bool)
            only[pin] = True
            allowed[assign[b]] &= only
        for m in instance.forbidden[b]:
            allowed[assign[b], m] = False
    if instance.workload is not None and instance.capacity is not None:
        load = _per_holder(instance, assign, instance.workload)
        allowed &= (instance.capacity[None, :] < 0) | (load <= instance.capacity[None, :])
    return allowed


def _goal_costs(instance: Instance, assign: np.ndarray, goal: str) -> np.ndarray:
    """(holders, managers): a goal's cost of handing one's portfolio to the other, up to a
    constant per portfolio."""
    if goal == "continuity":
        return -_kept_weight(instance, assign)
    assert instance.affinity_cost is not None
    return _per_holder(instance, assign, instance.affinity_cost)


def _hand_over_costs(instance: Instance, spec: GoalSpec, assign: np.ndarray) -> np.ndarray | None:
    """(holders, managers): the cost of each hand-over in the goals that follow the manager,
    weighted, or lexicographic with later goals scaled to break ties only; None if none counts."""
    goals = [g for g in spec.order if g in FOLLOW_THE_MANAGER]
    if "affinity" in goals and instance.affinity_cost is None:
        goals.remove("affinity")
    if not goals:
        return None
    costs = [_goal_costs(instance, assign, g) for g in goals]
    total = np.zeros_like(costs[0])
    if spec.weights is not None:
        for goal, cost in zip(goals, costs, strict=True):
            total += spec.weights.get(goal, 0.0) * cost / spec.scales.get(goal, 1.0)
        return total
    for cost in reversed(costs):  # the last goal first: each earlier one outranks the rest
        spread = np.ptp(total, axis=1).sum() + 1.0
        total = cost + total / spread
    return total


def hand_over(
    instance: Instance, structure: Structure, means: Means, spec: GoalSpec, assign: np.ndarray
) -> tuple[Structure, Means, np.ndarray]:
    """The plan with its portfolios given to the managers who serve them best, and the kinds
    the managers then hold, when that scores better; else the plan as it is."""
    costs = _hand_over_costs(instance, spec, assign)
    if costs is None or instance.n_managers < 2:
        return structure, means, assign
    allowed = _allowed(instance, structure, assign)
    rows, cols = linear_sum_assignment(np.where(allowed, costs, NOT_ALLOWED))
    if not allowed[rows, cols].all():
        return structure, means, assign
    renamed = cols[assign]  # rows are every holder in order: the matrix is square
    kinds = np.empty_like(structure.kind)
    kinds[cols] = structure.kind
    new_structure = Structure(kinds)
    new_means = portfolio_means(instance, new_structure)
    new = objective_key(evaluate(instance, new_structure, new_means, renamed), spec)
    old = objective_key(evaluate(instance, structure, means, assign), spec)
    if new < old:
        return new_structure, new_means, renamed
    return structure, means, assign
