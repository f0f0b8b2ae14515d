"""The soft goals as integers, evaluated on a plan in plain numpy (the model's mirror).

Every goal is a sum over managers or chain links, so a change to a few managers changes only
their terms; that is what lets large-neighbourhood search work on a few managers at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from portfolio_opt.model.instance import CHAIN_UNITS, STANDARD, Instance
from portfolio_opt.model.structure import Structure

Level = TypeVar("Level", float, np.ndarray)  # a mean: one, or one per manager
FLOAT_SLACK = 1e-6  # of a unit: floating-point noise on an integer bound, far below rounding
DEADBAND = 0.001  # balance within +-0.1% of the mean costs nothing: later goals keep that freedom


# Model units in one readable unit: 0.01% off the mean target, a chain link cut, an industry,
# a customer moved. Span (a customer off, per manager) and affinity depend on the instance.
NORMALISE = {"balance": 100.0, "chain": float(CHAIN_UNITS), "industry": 1.0, "continuity": 1000.0}


def goal_scale(instance: Instance, goal: str) -> float:
    """How many of the model's integer units make one readable unit of ``goal``."""
    if goal == "span":
        return float(max(instance.n_managers, 1))
    if goal == "affinity":
        return float(instance.affinity_units)
    return NORMALISE.get(goal, 1.0)


@dataclass(frozen=True)
class GoalSpec:
    """Which goals count and how: lexicographic ``order`` or ``weights``. A weight counts per
    readable unit of its goal (``scales``: the model's units per readable unit), as in the
    objective reported and the CP-SAT model."""

    order: tuple[str, ...]
    weights: dict[str, float] | None
    scales: dict[str, float] = field(default_factory=dict)

    def weighted(self, values: Mapping[str, float]) -> float:
        """The weighted sum of goal values given in the model's units (0 when lexicographic)."""
        return self._sum(values, self.weights or {})

    def reported(self, values: Mapping[str, float]) -> float:
        """One number for the goals, each on its readable scale (customers, 0.01%, links,
        moves): the weighted sum, or the plain sum when lexicographic."""
        return round(self._sum(values, self.weights or dict.fromkeys(self.order, 1.0)), 6)

    def _sum(self, values: Mapping[str, float], weights: Mapping[str, float]) -> float:
        return sum(
            weights.get(g, 0.0) * values.get(g, 0) / self.scales.get(g, 1.0) for g in self.order
        )

    @property
    def lexicographic(self) -> bool:
        return self.weights is None


def goal_spec(instance: Instance, constant_goals: bool = False) -> GoalSpec:
    """The goals the search pursues, most important first (or weighted). Without
    ``constant_goals``, continuity is left out where no customer can stay with a prior manager
    (a first allocation): it is 0 for every plan, and ranked first it would only take time from
    the goals that differ."""
    objective = instance.scenario.policy.objective
    has_affinity = instance.affinity_cost is not None
    order = [g for g in objective.goals() if g != "affinity" or has_affinity]
    if not constant_goals and not any(instance.kept):
        order = [g for g in order if g != "continuity"]
    if has_affinity and "affinity" not in order and objective.weights is None:
        order.append("affinity")
    if instance.scenario.policy.balance.max_deviation is not None and "balance" in order:
        # The hard bound already holds balance; later goals use the freedom it leaves.
        order.remove("balance")
        order.append("balance")
    weights = dict(objective.weights) if objective.weights is not None else None
    return GoalSpec(tuple(order), weights, {g: goal_scale(instance, g) for g in order})


@dataclass
class Means:
    """Each manager's balance reference: the mean target of its portfolio kind, in units."""

    mean: np.ndarray  # (M,)
    deadband: np.ndarray  # (M,)
    hard_low: np.ndarray  # (M,) -inf where no hard bound, or where it rests on how many fill
    hard_high: np.ndarray
    even_low: np.ndarray  # (M,) the kind's customers spread evenly: floor ...
    even_high: np.ndarray  # ... and ceiling of customers per manager
    tight: float | None = None  # the hard balance bound, as a share of the mean; None: none


def span_terms(
    instance: Instance, means: Means, count: np.ndarray, managers: np.ndarray
) -> np.ndarray:
    """Each manager's span term: |M x customers - N|, plus M for each customer beyond the even
    spread of its portfolio kind.

    The first part alone cannot tell 12 + 14 from 13 + 13 when both are above N/M (as standard
    portfolios are beside small premium ones); the second can. An even spread costs nothing more,
    so the span bound holds for both.
    """
    m_count = instance.n_managers
    below = np.maximum(means.even_low[managers] - count, 0)
    above = np.maximum(count - means.even_high[managers], 0)
    return np.abs(m_count * count - instance.n_customers) + m_count * (below + above)


def holders(instance: Instance, structure: Structure, kind: int) -> tuple[np.ndarray, int]:
    """The managers of ``kind`` who may hold customers, and how many portfolios hold some.

    A manager whose band tops out at 0 holds nothing; with fewer blocks than managers, only as
    many portfolios as blocks can hold any. Balance is measured over the portfolios that hold
    customers, as the plan checker does.
    """
    managers = structure.managers_of(kind)
    managers = managers[instance.high[kind, managers] > 0]
    return managers, min(len(managers), int((instance.kind == kind).sum()))


def portfolio_means(
    instance: Instance, structure: Structure, max_deviation: float | None = None
) -> Means:
    """Each manager's balance reference; the hard bound is the policy's, or ``max_deviation``
    where given (a looser or tighter bound for one phase of the search)."""
    m = instance.n_managers
    mean = np.zeros(m)  # the balance goal's reference: the level beside customers too large
    true_mean = np.zeros(m)  # the hard bound's: the checker's mean of the portfolios
    even_low, even_high = np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64)
    for kind in range(3):
        managers, filled = holders(instance, structure, kind)
        if filled:
            values = instance.value_units[instance.kind == kind]
            sizes = instance.size[instance.kind == kind]
            true_mean[managers] = values.sum() / filled
            least, free, apart, apart_value = _least_held(instance, kind, managers)
            even_low[managers], even_high[managers] = even_counts(
                least, instance.high[kind, managers], free, int(sizes.sum())
            )
            share = (even_low[managers] + even_high[managers]) / 2
            if filled == len(managers) and share.max() - share.min() > 1 and share.sum() > 0:
                # Bands hold some far from the others (a part-timer's max of 3): each is
                # measured against its share of the kind's target, so the others are balanced
                # among themselves. A group only its band fits (a holding company of 400)
                # counts at its own target; the rest by its share of the other customers. (A
                # pin does not: the customers beside it can even it out.)
                rest = np.maximum(share - apart, 0)
                free_value = values.sum() - apart_value.sum()
                mean[managers] = apart_value + (
                    free_value * rest / rest.sum() if rest.sum() > 0 else 0.0
                )
            else:
                mean[managers] = level_beside_large(values, sizes, filled)
    deadband = np.abs(mean) * DEADBAND
    low = np.full(m, -np.inf)
    high = np.full(m, np.inf)
    bound = max_deviation
    if bound is None:
        bound = instance.scenario.policy.balance.max_deviation
    if bound is None:
        return Means(mean, deadband, low, high, even_low, even_high)
    standard, filled = holders(instance, structure, STANDARD)
    tight = max(bound - _rounding_margin(instance, standard, true_mean, bound), 0.0)
    if filled == len(standard):  # else the mean rests on how many portfolios hold customers
        low[standard], high[standard] = bound_around(true_mean[standard], tight)
    return Means(mean, deadband, low, high, even_low, even_high, tight)


def level_beside_large(values: np.ndarray, sizes: np.ndarray, portfolios: int) -> float:
    """The mean target of the portfolios beside those that blocks larger than it fill, each
    with the smallest customers beside it that an even span puts there: the reference balance
    measures the others against. Beside one customer of 2.5 portfolios' worth every other
    portfolio is below the plain mean, and any spread among them would cost the same.

    Loss-making customers (negative targets) beside a large one can bring its portfolio down
    to the others: it stands apart only where even the most negative of them leave it above."""
    order = np.argsort(values, kind="stable")[::-1]
    lowest = np.sort(np.repeat(values / sizes, sizes.astype(np.int64)))
    rest, alone, beside = float(values.sum()), 0, 0
    per = int(sizes.sum()) // portfolios
    while alone < portfolios - 1:
        block = order[alone]
        need = max(per - int(sizes[block]), 0)
        offset = min(float(lowest[beside : beside + need].sum()), 0.0)
        if values[block] + offset <= rest / (portfolios - alone):
            break
        rest -= float(values[block])
        beside += need
        alone += 1
    if beside:
        others = order[alone:]
        unit = np.repeat(values[others] / sizes[others], sizes[others].astype(np.int64))
        rest -= float(np.sort(unit)[:beside].sum())
    return rest / (portfolios - alone)


def _least_held(
    instance: Instance, kind: int, managers: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each manager's band minimum, raised to the blocks only it can hold: those pinned to it,
    and groups too large for any other's band (a holding company of 400 beside bands of 36);
    the sizes of the other blocks, free to go to any of them; and each manager's customers
    and target (in units) of the groups only its band fits."""
    forced = np.zeros(len(managers), dtype=np.int64)
    apart = np.zeros(len(managers), dtype=np.int64)
    apart_value = np.zeros(len(managers))
    high = instance.high[kind, managers]
    blocks = np.flatnonzero(instance.kind == kind)
    size = instance.size[blocks].astype(np.int64)
    value = instance.value_units[blocks].astype(float)
    position = {int(m): i for i, m in enumerate(managers)}
    pinned = np.array([position.get(int(p), -1) for p in instance.pin[blocks]], dtype=np.int64)
    np.add.at(forced, pinned[pinned >= 0], size[pinned >= 0])
    # A block that only the largest band holds (the second largest is too small for it).
    ranked = np.sort(high)
    second = ranked[-2] if len(ranked) > 1 else -1
    alone = (pinned < 0) & (size > second) & (size <= ranked[-1])
    if alone.any():
        largest = int(np.argmax(high))
        forced[largest] += int(size[alone].sum())
        apart[largest], apart_value[largest] = int(size[alone].sum()), float(value[alone].sum())
    least = np.minimum(np.maximum(instance.low[kind, managers], forced), high)
    return least, size[(pinned < 0) & ~alone], apart, apart_value


def even_counts(
    low: np.ndarray, high: np.ndarray, free: np.ndarray, total: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each manager's count in the most even spread of ``total`` customers within the bands
    ``low``..``high`` (``low`` raised to what it must hold), ``free`` the sizes of the blocks
    that may go to any of them: one level that the bands clip, each
    count its floor or ceiling. A group larger than the level fills its portfolio on its own,
    beyond the level: the others share the rest.

    Beside a manager whose own bounds hold it far from the rest (a part-timer's max of 10, a
    giant group's 380), or a group of 28 where the level is 20, the others share what is left
    evenly; measured against one mean for all they would be all above or all below it, and
    any spread among them would cost the same."""
    if not len(low) or not low.sum() <= total <= high.sum():  # the bands cannot hold them
        share = total // max(len(low), 1)
        return np.full(len(low), share), np.full(len(low), -(-total // max(len(low), 1)))
    bottom, top = float(low.min()), float(high.max())
    for _ in range(100):  # the level at which the counts add up to the total
        level = (bottom + top) / 2
        held = np.clip(level, low, high).sum() + np.maximum(free - level, 0).sum()
        if held < total:
            bottom = level
        else:
            top = level
    level = top if abs(top - round(top)) > 1e-6 else float(round(top))
    return (
        np.clip(np.floor(level), low, high).astype(np.int64),
        np.clip(np.ceil(level), low, high).astype(np.int64),
    )


def _rounding_margin(
    instance: Instance, standard: np.ndarray, mean: np.ndarray, bound: float
) -> float:
    """How much the model's bound must be tighter than the policy's so that a plan within it
    in the model's rounded integer targets is within the policy's in money: a portfolio's
    total is off by its customers' rounding errors, at most the largest ones its span allows,
    and so is the mean. Targets that the units hold exactly need no margin."""
    if not len(standard) or not mean[standard].any():
        return 0.0
    is_standard = instance.kind == STANDARD
    errors = np.abs(
        instance.value_units[is_standard] - instance.value[is_standard] * instance.units_per_money
    )
    most = int(min(instance.high[STANDARD, standard].max(), len(errors)))
    largest = float(np.sort(errors)[::-1][:most].sum())
    return (1 + bound) * 2 * largest / float(np.abs(mean[standard]).min())


def bound_around(mean: Level, tight: float) -> tuple[Level, Level]:
    """The hard balance bound around a mean (a number or an array): within ``tight`` of it."""
    reach = abs(mean) * tight + FLOAT_SLACK
    return mean - reach, mean + reach


def balance_bound_miss(
    structure: Structure, means: Means, count: np.ndarray, total: np.ndarray
) -> float:
    """How far standard portfolios that hold customers are outside the hard balance bound
    around their own mean (as the plan checker measures it)."""
    filled = (structure.kind == STANDARD) & (count > 0)
    if means.tight is None or not filled.any():
        return 0.0
    mean = total[filled].mean()
    reach = abs(mean) * means.tight + FLOAT_SLACK
    miss = np.maximum(mean - reach - total, 0) + np.maximum(total - mean - reach, 0)
    return float(np.ceil(miss[filled]).sum())


def evaluate(
    instance: Instance, structure: Structure, means: Means, assign: np.ndarray
) -> dict[str, int]:
    """All goal values (and ``violation``, the amount by which bands or bounds are missed)."""
    m_count = instance.n_managers
    count = np.bincount(assign, weights=instance.size, minlength=m_count)
    total = np.bincount(assign, weights=instance.value_units, minlength=m_count)
    kind = structure.kind
    low = instance.low[kind, np.arange(m_count)]
    high = instance.high[kind, np.arange(m_count)]
    band_miss = np.maximum(low - count, 0) + np.maximum(count - high, 0)
    holds = count > 0
    values = {
        "violation": int(
            band_miss.sum() * 1_000_000
            + balance_bound_miss(structure, means, count, total)
            + MISPLACED * misplaced_blocks(instance, structure, assign)
        ),
        "span": int(span_terms(instance, means, count, np.arange(m_count)).sum()),
        "balance": int(
            np.round(np.maximum(np.abs(total - means.mean) - means.deadband, 0)[holds].sum())
        ),
        "chain": int(instance.edge_w[assign[instance.edge_u] != assign[instance.edge_v]].sum()),
        "industry": _industries(instance, assign),
        "continuity": int(
            sum(
                int(instance.total_move_weight[b]) - instance.kept[b].get(int(assign[b]), 0)
                for b in range(instance.n_blocks)
            )
        ),
    }
    if instance.affinity_cost is not None:
        values["affinity"] = int(instance.affinity_cost[np.arange(instance.n_blocks), assign].sum())
    if instance.workload is not None and instance.capacity is not None:
        load = np.bincount(
            assign,
            weights=instance.workload[np.arange(instance.n_blocks), assign],
            minlength=m_count,
        )
        over = np.where(instance.capacity >= 0, np.maximum(load - instance.capacity, 0), 0)
        values["violation"] += int(np.ceil(over).sum() * 1000)
    return values


def missing_managers(
    instance: Instance, structure: Structure, means: Means, assign: np.ndarray, kind: int
) -> np.ndarray:
    """Managers of ``kind`` that miss their span band, balance bound or workload capacity."""
    managers = structure.managers_of(kind)
    count = np.bincount(assign, weights=instance.size, minlength=instance.n_managers)
    total = np.bincount(assign, weights=instance.value_units, minlength=instance.n_managers)
    low, high = instance.low[kind, managers], instance.high[kind, managers]
    bad = (count[managers] < low) | (count[managers] > high)
    bad |= (total[managers] < means.hard_low[managers]) | (
        total[managers] > means.hard_high[managers]
    )
    if instance.workload is not None and instance.capacity is not None:
        load = np.bincount(
            assign,
            weights=instance.workload[np.arange(instance.n_blocks), assign],
            minlength=instance.n_managers,
        )
        cap = instance.capacity[managers]
        bad |= (cap >= 0) & (load[managers] > cap)
    return managers[bad]


MISPLACED = 10**12  # a block with a manager it may not have: worse than any band miss


def misplaced_blocks(instance: Instance, structure: Structure, assign: np.ndarray) -> int:
    """Blocks at a manager of the wrong kind, away from their pin, or kept against rotation."""
    pinned = instance.pin >= 0
    wrong = np.where(pinned, assign != instance.pin, structure.kind[assign] != instance.kind)
    rotation = sum(1 for b in range(instance.n_blocks) if int(assign[b]) in instance.forbidden[b])
    return int(wrong.sum()) + rotation


def _industries(instance: Instance, assign: np.ndarray) -> int:
    pairs = {
        (int(assign[b]), int(i)) for b in range(instance.n_blocks) for i in instance.industries[b]
    }
    return len(pairs)


def objective_key(values: dict[str, int], spec: GoalSpec) -> tuple[float, ...]:
    """Comparable key: violation first, then the goals lexicographically or as one sum."""
    if spec.weights is None:
        return (values["violation"], *(values.get(g, 0) for g in spec.order))
    return (values["violation"], spec.weighted(values))


def with_changes(assign: np.ndarray, found: dict[int, int]) -> np.ndarray:
    """A copy of the plan with a sub-model's block -> manager choices applied."""
    candidate = assign.copy()
    for b, m in found.items():
        candidate[b] = m
    return candidate


def better_plan(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    assign: np.ndarray,
    found: dict[int, int],
    ties: bool = False,
) -> np.ndarray:
    """The plan with ``found`` applied if that is better (or as good, with ``ties``), else
    ``assign`` itself."""
    candidate = with_changes(assign, found)
    return better_of(instance, structure, means, spec, assign, candidate, ties)


def better_of(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    plan: np.ndarray,
    other: np.ndarray,
    ties: bool = False,
) -> np.ndarray:
    """``plan``, or ``other`` (the same object) where the goals score it better (or as good,
    with ``ties``)."""
    new = objective_key(evaluate(instance, structure, means, other), spec)
    old = objective_key(evaluate(instance, structure, means, plan), spec)
    return other if new < old or (ties and new == old) else plan
