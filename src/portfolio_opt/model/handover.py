"""Hand each portfolio to the manager of its kind who keeps most of its customers.

Span, balance, chains and industries depend on how the customers are grouped into portfolios,
not on who holds each one. Once the portfolios are set, giving them to the managers of their
kind by one assignment problem (each manager one portfolio, the most move weight kept) can only
cut moves. A search over a few managers at a time misses such a renaming when it runs around
many managers at once. A manager may take a portfolio only where its own bounds, the pins, the
rotation rule and its capacity allow.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from portfolio_opt.model.goals import GoalSpec, Means, better_of
from portfolio_opt.model.instance import Instance
from portfolio_opt.model.structure import Structure

NOT_ALLOWED = 1e18


def _local(instance: Instance, managers: np.ndarray) -> np.ndarray:
    """Each manager's position in ``managers``, -1 for the others."""
    local = np.full(instance.n_managers, -1)
    local[managers] = np.arange(len(managers))
    return local


def _kept_weight(instance: Instance, assign: np.ndarray, managers: np.ndarray) -> np.ndarray:
    """(portfolios, managers) of one kind: the move weight kept if the portfolio now held by
    ``managers[i]`` goes to ``managers[j]``."""
    local = _local(instance, managers)
    kept = np.zeros((len(managers), len(managers)))
    for b in np.flatnonzero(local[assign] >= 0):
        for m, weight in instance.kept[b].items():
            if local[m] >= 0:
                kept[local[assign[b]], local[m]] += weight
    return kept


def _allowed(instance: Instance, assign: np.ndarray, managers: np.ndarray, kind: int) -> np.ndarray:
    """(portfolios, managers): where a manager may take the whole portfolio."""
    local = _local(instance, managers)
    holder = local[assign]
    inside = np.flatnonzero(holder >= 0)
    sizes = np.bincount(holder[inside], weights=instance.size[inside], minlength=len(managers))
    allowed = (sizes[:, None] >= instance.low[kind, managers][None, :]) & (
        sizes[:, None] <= instance.high[kind, managers][None, :]
    )
    for b in inside:
        pin = int(instance.pin[b])
        if pin >= 0:
            only = np.zeros(len(managers), dtype=bool)
            if local[pin] >= 0:
                only[local[pin]] = True
            allowed[holder[b]] &= only
        for m in instance.forbidden[b]:
            if local[m] >= 0:
                allowed[holder[b], local[m]] = False
    if instance.workload is not None and instance.capacity is not None:
        load = np.zeros((len(managers), len(managers)))
        np.add.at(load, holder[inside], instance.workload[np.ix_(inside, managers)])
        capacity = instance.capacity[managers]
        allowed &= (capacity[None, :] < 0) | (load <= capacity[None, :])
    return allowed


def hand_over(
    instance: Instance, structure: Structure, means: Means, spec: GoalSpec, assign: np.ndarray
) -> np.ndarray:
    """``assign`` with its portfolios given to the managers who keep most of them, when that
    scores better; else ``assign`` itself. Not with affinity costs: they follow the manager."""
    if instance.affinity_cost is not None or "continuity" not in spec.order:
        return assign
    renamed = assign.copy()
    for kind in range(3):
        managers = structure.managers_of(kind)
        if len(managers) < 2:
            continue
        allowed = _allowed(instance, assign, managers, kind)
        cost = np.where(allowed, -_kept_weight(instance, assign, managers), NOT_ALLOWED)
        rows, cols = linear_sum_assignment(cost)
        if not allowed[rows, cols].all():
            continue
        for i, j in zip(rows, cols, strict=True):
            renamed[assign == managers[i]] = managers[j]
    return better_of(instance, structure, means, spec, assign, renamed)
