"""The plan's KPIs (the plan-derived part of kpis.json), recomputed in plain Python."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from portfolio_opt.plan.checker import (
    PORTFOLIO_TYPES,
    PlanView,
    affinity_lookup,
    capacities,
    check_plan,
    customer_targets,
    find_groups,
    number_column,
    standard_portfolio_targets,
    text_column,
    workloads,
)
from portfolio_opt.plan.moves import moves_lower_bound
from portfolio_opt.scenario.data import Scenario


def gini(values: Iterable[float]) -> float:
    """Gini coefficient: 0 when all values are equal, towards 1 when one holds everything."""
    xs = [float(v) for v in values]
    if not xs:
        return 0.0
    mean = sum(xs) / len(xs)
    if mean == 0:
        return 0.0
    n = len(xs)
    # Sorted form of sum |xi - xj| / (2 n^2 mean): linear after the sort.
    ranked = sum((2 * i - n - 1) * x for i, x in enumerate(sorted(xs), start=1))
    return ranked / (n * n * mean)


def coefficient_of_variation(values: Iterable[float]) -> float:
    """Population standard deviation over the mean (0 when the mean is 0)."""
    xs = [float(v) for v in values]
    if not xs:
        return 0.0
    mean = sum(xs) / len(xs)
    if mean == 0:
        return 0.0
    return math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs)) / mean


def _span(view: PlanView) -> dict[str, Any]:
    counts = {m: len(view.holdings.get(m, [])) for m in view.available}
    if not counts:
        return {"ideal": None, "min": None, "max": None, "max_abs_dev": None, "by_type": {}}
    ideal = len(view.customer_ids) / len(counts)
    by_type: dict[str, dict[str, int]] = {}
    for kind in PORTFOLIO_TYPES:
        of_kind = [n for m, n in counts.items() if view.portfolio_type(m) == kind]
        if of_kind:
            by_type[kind] = {"managers": len(of_kind), "min": min(of_kind), "max": max(of_kind)}
    return {
        "ideal": ideal,
        "min": min(counts.values()),
        "max": max(counts.values()),
        "max_abs_dev": max(abs(n - ideal) for n in counts.values()),
        "by_type": by_type,
    }


def _balance(view: PlanView, target: dict[str, float]) -> dict[str, float | None]:
    totals = list(standard_portfolio_targets(view, target).values())
    if not totals:
        return {"target_gini": None, "target_cv": None, "max_over_min": None, "max_deviation": None}
    mean = sum(totals) / len(totals)
    # Spread relative to a mean at or below zero (write-backs outweighing income) means
    # nothing: left undefined rather than shown negative.
    return {
        "target_gini": gini(totals) if mean > 0 else None,
        "target_cv": coefficient_of_variation(totals) if mean > 0 else None,
        "max_over_min": max(totals) / min(totals) if min(totals) > 0 else None,
        "max_deviation": max(abs(t - mean) for t in totals) / abs(mean) if mean else 0.0,
    }


def _chain(view: PlanView) -> dict[str, float]:
    """Chain links, the weight cut, and the weight every valid plan must cut.

    A link is unavoidably cut when its ends are in different groups and either need different
    portfolio kinds (premium or not, separate-ledger or not) or are pinned to different managers.
    """
    relations = view.scenario.relations
    known = set(view.customer_ids)
    group_of: dict[str, int] = {}
    pins_of: list[set[str]] = []
    for number, members in enumerate(find_groups(view.scenario)):
        pins_of.append({view.pinned[c] for c in members if view.pinned[c]})
        group_of.update(dict.fromkeys(members, number))
    weights = number_column(relations, "weight", 1.0)
    links = cut = unavoidable = 0.0
    for a, b, kind, weight in zip(
        text_column(relations, "a"),
        text_column(relations, "b"),
        text_column(relations, "kind"),
        weights,
        strict=True,
    ):
        if kind.lower() != "chain" or a == b or a not in known or b not in known:
            continue
        links += weight
        manager_a, manager_b = view.manager_of.get(a), view.manager_of.get(b)
        if manager_a is None or manager_a != manager_b:
            cut += weight
        ga, gb = group_of[a], group_of[b]
        kinds_differ = (a in view.premium, a in view.separate) != (
            b in view.premium,
            b in view.separate,
        )
        pins_differ = bool(pins_of[ga] and pins_of[gb] and not pins_of[ga] & pins_of[gb])
        if ga != gb and (kinds_differ or pins_differ):
            unavoidable += weight
    return {
        "links": links,
        "cut": cut,
        "cut_share": cut / links if links else 0.0,
        "unavoidable": unavoidable,
    }


def _industries(view: PlanView) -> dict[str, float | None]:
    counts = [
        len({view.industry[c] for c in held if view.industry[c]})
        for held in view.holdings.values()
        if held
    ]
    if not counts:
        return {"mean": None, "max": None}
    return {"mean": sum(counts) / len(counts), "max": max(counts)}


def _moves(view: PlanView, target: dict[str, float]) -> dict[str, float]:
    """Moves, each weighed by its customer's target as a size, as the optimiser weighs them: a
    loss-making customer moved is a relationship moved too, not value gained."""
    moved = [c for c, prior in view.prior.items() if prior and view.manager_of.get(c) != prior]
    size = {c: abs(value) for c, value in target.items()}
    bound, bound_value = moves_lower_bound(view, size)
    # Money to the cent: float sums in another order would put the bound above the value.
    return {
        "count": len(moved),
        "value": round(float(sum(size.get(c, 0.0) for c in moved)), 2),
        "lower_bound": bound,
        "lower_bound_value": round(float(bound_value), 2),
    }


def _affinity(view: PlanView) -> dict[str, dict[str, float]]:
    lookup = affinity_lookup(view.scenario)
    return {"affinity": {"cost": float(sum(lookup(c, m)[0] for c, m in view.manager_of.items()))}}


def _workload(view: PlanView) -> dict[str, dict[str, float | None]]:
    loads = workloads(view)
    utilisation = [
        loads.get(m, 0.0) / cap for m, cap in capacities(view.scenario).items() if cap > 0
    ]
    return {"workload": {"max_utilisation": max(utilisation) if utilisation else None}}


def compute_kpis(
    scenario: Scenario,
    assignment: pd.DataFrame,
    customer_target: pd.Series | None = None,
    violations: int | None = None,
) -> dict[str, Any]:
    """The KPIs of kpis.json that follow from the plan alone (no solver statistics).

    ``customer_target`` (indexed by customer_id) defaults to :func:`customer_targets`;
    ``violations`` (the hard rules the plan breaks) is counted by :func:`check_plan` if not given.
    Balance is over standard portfolios' total targets; KPIs without data are ``None``.
    """
    view = PlanView.build(scenario, assignment)
    if customer_target is None:
        customer_target = customer_targets(scenario)
    target = {str(k): float(v) for k, v in customer_target.items()}
    kpis: dict[str, Any] = {
        "n_customers": len(set(view.customer_ids) & view.manager_of.keys()),  # assigned
        "n_managers": len(view.available),
        "span": _span(view),
        "balance": _balance(view, target),
        "chain": _chain(view),
        "industries_per_portfolio": _industries(view),
        "moves": _moves(view, target),
        "hard_rule_violations": (
            len(check_plan(scenario, assignment)) if violations is None else violations
        ),
    }
    if not scenario.affinity.empty:
        kpis.update(_affinity(view))
    if not scenario.affinity.empty or capacities(scenario):  # capacity with default workloads
        kpis.update(_workload(view))
    return kpis
