"""How many premium and separate-ledger portfolios to open, and which managers hold them.

A small CP-SAT model over one type choice per manager: the counts must let each kind's customers
fit within its managers' bands; among feasible choices it keeps portfolio sizes close to N/M and
then keeps managers on the kind of customers they held last year.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from portfolio_opt.model.instance import (
    KIND_WORDS,
    PREMIUM,
    SEPARATE,
    STANDARD,
    Instance,
    kind_bands,
    span_band,
)
from portfolio_opt.model.settings import limit_solver
from portfolio_opt.problems import listed

KINDS = (STANDARD, PREMIUM, SEPARATE)
UNDECIDED = "the portfolio kinds could not be decided in time"


@dataclass(frozen=True)
class Structure:
    """The kind of portfolio each available manager holds (STANDARD / PREMIUM / SEPARATE)."""

    kind: np.ndarray

    def managers_of(self, kind: int) -> np.ndarray:
        return np.flatnonzero(self.kind == kind)


def customers_of_kind(instance: Instance, kind: int) -> int:
    return int(instance.size[instance.kind == kind].sum())


def _prior_kind_weight(instance: Instance) -> np.ndarray:
    """(3, M): move weight of last year's customers of each kind per manager."""
    weight = np.zeros((3, instance.n_managers), dtype=np.int64)
    for b in range(instance.n_blocks):
        if instance.kind[b] < 0:
            continue
        for m, w in instance.kept[b].items():
            weight[instance.kind[b], m] += w
    return weight


def _personal_span_cost(instance: Instance) -> np.ndarray:
    """(3, M): the span cost a manager's own bounds force on a portfolio of each kind, beyond
    what the kind's band forces (the kind's count covers that): |M x size - N| at the nearest
    size its own min or max allows."""
    m_count, n = instance.n_managers, instance.n_customers
    band_low, band_high = kind_bands(instance.scenario, *instance.band_basis)

    def forced(low: np.ndarray, high: np.ndarray) -> np.ndarray:
        return np.maximum(np.maximum(m_count * low - n, n - m_count * high), 0)

    own = forced(instance.low, instance.high)
    return np.maximum(own - forced(band_low, band_high)[:, None], 0)


PINNED_SHOWN = 5  # customers named in a pin's requirement before "and N more"
MAX_CORE_TRIES = 60  # solves spent making the explanation's set of rules minimal, at least ...
CORE_TRIES_PER_RULE = 3  # ... and this many per rule of the first set (a pass of single drops)
CORE_TRY_S = 1.0


def smallest_core(
    model: cp_model.CpModel,
    solver: cp_model.CpSolver,
    literal_of: dict[int, cp_model.IntVar],
    core: set[int],
) -> set[int]:
    """Drop rules from the infeasible set, halves first and then ever smaller runs, keeping a
    drop when the rest still cannot hold: with enough tries no rule left can be spared."""
    kept = sorted(core)
    run, tries = max(len(kept) // 2, 1), 0
    most = max(MAX_CORE_TRIES, CORE_TRIES_PER_RULE * len(kept))
    # Each try is small; one that cannot decide in a second keeps its rules (never too few).
    solver.parameters.max_time_in_seconds = CORE_TRY_S
    solver.parameters.max_deterministic_time = CORE_TRY_S
    while tries < most:
        start = 0
        while start < len(kept) and tries < most:
            rest = kept[:start] + kept[start + run :]
            tries += 1
            model.clear_assumptions()
            model.add_assumptions([literal_of[i] for i in rest])
            if rest and solver.solve(model) == cp_model.INFEASIBLE:
                kept = rest
            else:
                start += run
        if run == 1:
            break
        run //= 2
    return set(kept)


def _smallest_reasons(
    model: cp_model.CpModel,
    solver: cp_model.CpSolver,
    assumptions: dict[str, cp_model.IntVar],
    counts: set[str],
) -> list[str]:
    """The labelled rules of a smallest set that cannot all hold: among the counts and sizes
    alone where they already cannot (a pin or a rotation named beside them would send the
    planner to the wrong rule), else among all of them."""
    for texts in (counts, set(assumptions)):
        chosen = {text: lit for text, lit in assumptions.items() if text in texts}
        if not chosen:
            continue
        model.clear_assumptions()
        model.add_assumptions(list(chosen.values()))
        if solver.solve(model) != cp_model.INFEASIBLE:
            continue
        core = smallest_core(
            model,
            solver,
            {lit.index: lit for lit in chosen.values()},
            set(solver.sufficient_assumptions_for_infeasibility()),
        )
        return [text for text, lit in chosen.items() if lit.index in core]
    return []


def kind_holders(instance: Instance, kind: int) -> tuple[list[int], list[int]]:
    """The managers who may hold a ``kind`` portfolio, and those of them who may hold no
    other kind (designated, or eligible for nothing else)."""
    holders = [h for h in range(instance.n_managers) if instance.eligible_kind(h, kind)]
    only = [h for h in holders if not any(instance.eligible_kind(h, k) for k in KINDS if k != kind)]
    return holders, only


def portfolio_counts(instance: Instance, kind: int) -> list[int]:
    """The numbers of ``kind`` portfolios that can hold that kind's customers, each within its
    band, counting the managers who may hold nothing else (designated, or eligible for no other
    kind)."""
    holders, only = kind_holders(instance, kind)
    return fitting_counts(
        customers_of_kind(instance, kind),
        instance.low[kind, holders],
        instance.high[kind, holders],
        least=len(only),
    )


def fitting_counts(need: int, lows: np.ndarray, highs: np.ndarray, least: int = 0) -> list[int]:
    """The numbers of portfolios, from ``least``, that can hold ``need`` customers: those whose
    smallest bands' lows add up to at most ``need`` and largest bands' highs to at least it.

    >>> fitting_counts(10, np.array([3, 3, 3]), np.array([4, 4, 4]))
    [3]
    """
    lows, highs = np.sort(lows), np.sort(highs)[::-1]
    return [
        count
        for count in range(least, len(lows) + 1)
        if (count > 0 or need == 0) and lows[:count].sum() <= need <= highs[:count].sum()
    ]


def _why_none(instance: Instance, kind: int) -> str:
    """Why no number of ``kind`` portfolios holds its customers, in numbers."""
    need = customers_of_kind(instance, kind)
    holders, only = kind_holders(instance, kind)
    lows, highs = instance.low[kind, only], instance.high[kind, holders]
    if only and lows.sum() > need:
        return (
            f"none ({len(only)} manager(s) may hold only this kind and need at least "
            f"{int(lows.sum())} customers together, but there are {need})"
        )
    if highs.sum() < need:
        return (
            f"none ({need} customers, but the {len(holders)} manager(s) who may hold them hold "
            f"{int(highs.sum())} at most together)"
        )
    return f"none for {need} customers"


def _counts_text(counts: list[int]) -> str:
    if not counts:
        return "none"
    if counts == list(range(counts[0], counts[-1] + 1)) and len(counts) > 1:
        return f"{counts[0]}..{counts[-1]}"
    return ", ".join(map(str, counts))


def counts_fact(instance: Instance) -> str:
    """One sentence: how many portfolios of each kind could hold its customers, and whether
    that squares with the number of available managers."""
    counts = {k: portfolio_counts(instance, k) for k in KINDS}
    listed = "; ".join(
        f"{KIND_WORDS[k]} {_counts_text(c) if c else _why_none(instance, k)}"
        for k, c in counts.items()
    )
    text = f"How many portfolios of each kind can hold its customers within the bands: {listed}"
    m = instance.n_managers
    if any(not c for c in counts.values()):
        return text + "."
    least, most = sum(min(c) for c in counts.values()), sum(max(c) for c in counts.values())
    if least > m:
        return text + f"; together at least {least}, but {m} managers are available."
    if most < m:
        return text + f"; together at most {most}, but all {m} available managers hold one."
    return text + f"; {m} managers are available."


def band_facts(instance: Instance) -> list[str]:
    """The numbers behind the bands: how many customers of each kind, how many managers may
    hold them and how many customers each such portfolio holds."""
    n, m = instance.band_basis
    tolerance = instance.scenario.policy.span.tolerance
    low, high = span_band(n, m, tolerance)
    facts = [
        f"The span band is {low}..{high} customers a manager ({n} customers over {m} available "
        f"managers, tolerance {tolerance}).",
        counts_fact(instance),
    ]
    personal = instance.scenario.available_managers.reset_index(drop=True)
    own = (personal["min_customers"].notna() | personal["max_customers"].notna()).to_numpy()
    for k in KINDS:
        need = customers_of_kind(instance, k)
        holders = [h for h in range(instance.n_managers) if instance.eligible_kind(h, k)]
        if not need or not holders:
            continue
        lows, highs = instance.low[k, holders], instance.high[k, holders]
        sizes = f"{int(lows.min())}..{int(highs.max())} customers"
        if own[holders].any():
            sizes += " (their personal min/max_customers included)"
        facts.append(
            f"{need} {KIND_WORDS[k]} customers; {len(holders)} manager(s) may hold a "
            f"{KIND_WORDS[k]} portfolio of {sizes}, {int(highs.sum())} at most all together."
        )
    facts.append(one_kind_fact(instance))
    for column in ("min_customers", "max_customers"):
        set_ = personal[personal[column].notna()]
        if len(set_):
            listed = ", ".join(
                f"{r.manager_id} {int(getattr(r, column))}" for r in set_.itertuples()
            )
            facts.append(f"Personal {column}: {listed}.")
    return facts


def one_kind_fact(instance: Instance) -> str:
    return f"Each of the {instance.n_managers} available managers holds one kind of portfolio."


def structure_is_forced(instance: Instance) -> bool:
    """Whether every manager may hold only one kind of portfolio that has customers. Then every
    plan has this structure, and what the models prove for it holds for all plans; otherwise
    another choice of who holds premium or separate-ledger portfolios might do better."""
    kinds = [k for k in KINDS if customers_of_kind(instance, k) > 0]

    def choices(m: int) -> int:
        held = sum(instance.eligible_kind(m, k) for k in kinds)
        # Without standard customers, a manager may still hold an empty standard portfolio.
        empty = STANDARD not in kinds and instance.eligible_kind(m, STANDARD)
        return held + bool(empty and instance.low[STANDARD, m] == 0)

    return all(choices(m) <= 1 for m in range(instance.n_managers))


def _pinned_by_kind(instance: Instance) -> dict[tuple[int, int], str]:
    """(manager, kind) -> the customers of that kind pinned to the manager, in words."""
    own = instance.scenario.customers["pinned_manager_id"].astype(str).to_numpy()
    pinned: dict[tuple[int, int], list[str]] = {}
    for b in np.flatnonzero(instance.pin >= 0):
        m, k = int(instance.pin[b]), int(instance.kind[b])
        if k >= 0:
            members = instance.members[b]  # a group follows its members' pin
            named = [i for i in members if own[i] == instance.manager_ids[m]] or members
            pinned.setdefault((m, k), []).extend(instance.customer_ids[i] for i in named)
    return {key: listed(ids, PINNED_SHOWN) for key, ids in pinned.items()}


def _balance_within_reach(
    model: cp_model.CpModel,
    instance: Instance,
    choose: dict[tuple[int, int], cp_model.IntVar],
    labelled: Callable[[str], cp_model.IntVar],
) -> None:
    """With [balance] max_deviation, a manager whose own max is too few customers to come
    within the bound of the mean standard portfolio (a part-timer's 6 largest customers below
    it) holds another kind where one may. The mean is the standard total over the number of
    standard portfolios, so the rule is linear in that number."""
    bound = instance.scenario.policy.balance.max_deviation
    standard = instance.kind[instance.customer_block] == STANDARD
    units = np.sort(instance.customer_value[standard] * instance.units_per_money)[::-1]
    total = float(units.sum())
    if bound is None or total <= 0:
        return
    largest = np.concatenate([[0.0], np.cumsum(units)])  # the top n customers' targets
    count = sum(v for (m, k), v in choose.items() if k == STANDARD)
    holders = sum(kind == STANDARD for _, kind in choose)  # the most standard portfolios
    need = math.floor((1 - bound) * total)
    for (m, k), var in choose.items():
        most = int(instance.high[STANDARD, m])
        if k != STANDARD or instance.low[STANDARD, m] < 1 or most >= len(units):
            continue
        reach = math.floor(largest[most]) + most  # a unit a customer for rounding
        share = largest[most] * holders / total  # of the lowest mean: the most portfolios
        text = (
            f"manager {instance.manager_ids[m]}, holding at most {most} customers, must come "
            f"within {bound:.1%} of the mean standard portfolio target if holding one (the "
            f"{most} largest standard customers make {share:.0%} of it, at most)"
        )
        model.add(count * reach >= need).only_enforce_if([var, labelled(text)])


def decide_structure(
    instance: Instance,
    time_limit_s: float = 5.0,
    continuity_first: bool = False,
    exclude: list[np.ndarray] | None = None,
    deterministic: bool = False,
) -> Structure | list[str]:
    """Choose each manager's portfolio kind (other than the ``exclude``d choices); on failure,
    the reasons in words."""
    model = cp_model.CpModel()
    m_count = instance.n_managers
    n_total = instance.n_customers
    choose: dict[tuple[int, int], cp_model.IntVar] = {}
    for m in range(m_count):
        for k in KINDS:
            if instance.eligible_kind(m, k):
                choose[m, k] = model.new_bool_var(f"type_{m}_{k}")
        options = [choose[m, k] for k in KINDS if (m, k) in choose]
        if options:
            model.add_exactly_one(options)
    assumptions: dict[str, cp_model.IntVar] = {}

    def labelled(text: str) -> cp_model.IntVar:
        literal = model.new_bool_var(text)
        assumptions[text] = literal
        return literal

    # Rotation and pins first: the smallest set of rules drops the earliest it can, and a
    # count that cannot hold on its own explains more plainly than a pin beside it.
    for b in np.flatnonzero([bool(f) for f in instance.forbidden]):
        k = int(instance.kind[b])
        if k < 0 or instance.pin[b] >= 0:
            continue
        others = [v for (m, kk), v in choose.items() if kk == k and m not in instance.forbidden[b]]
        ids = ", ".join(instance.customer_ids[i] for i in instance.members[b][:3])
        away = ", ".join(instance.manager_ids[m] for m in sorted(instance.forbidden[b]))
        text = (
            f"customers rotating away from their manager ({ids}: away from {away}, tenure at "
            f"the {instance.scenario.policy.rotation.max_tenure_years}-year limit) must have "
            f"another {KIND_WORDS[k]} manager"
        )
        if others:
            model.add(sum(others) >= 1).only_enforce_if(labelled(text))
        else:
            model.add_bool_or([labelled(text).Not()])
    for (m, k), pinned in _pinned_by_kind(instance).items():
        var = choose.get((m, k))
        who = instance.manager_ids[m]
        text = f"manager {who} must hold the {KIND_WORDS[k]} customers pinned to them ({pinned})"
        if var is None:
            model.add_bool_or([labelled(text).Not()])
        else:
            model.add_implication(labelled(text), var)

    specific = set(assumptions)
    for k in KINDS:
        need = customers_of_kind(instance, k)
        holders = [(m, var) for (m, kk), var in choose.items() if kk == k]
        low = sum(int(instance.low[k, m]) * v for m, v in holders)
        high = sum(int(instance.high[k, m]) * v for m, v in holders)
        name = KIND_WORDS[k]
        model.add(low <= need).only_enforce_if(
            labelled(
                f"the {name} portfolios' minimum sizes must add up to no more than the {need} "
                f"{name} customers"
            )
        )
        model.add(high >= need).only_enforce_if(
            labelled(
                f"the {name} portfolios' maximum sizes must add up to at least the {need} "
                f"{name} customers"
            )
        )
        # Each portfolio that must hold a customer takes at least one group (or single customer).
        blocks = int((instance.kind == k).sum())
        filled = [v for m, v in holders if instance.low[k, m] >= 1]
        if k != STANDARD and len(filled) > blocks:
            model.add(sum(filled) <= blocks).only_enforce_if(
                labelled(
                    f"no more {name} portfolios may be opened than there are {name} groups and "
                    f"single customers ({blocks})"
                    if blocks
                    else f"with no {name} customers, no manager holds a {name} portfolio"
                )
            )
        largest = int(instance.size[instance.kind == k].max(initial=0))
        if largest:
            fitting = [v for m, v in holders if instance.high[k, m] >= largest]
            model.add(sum(fitting) >= 1).only_enforce_if(
                labelled(
                    f"some {name} manager must have room for the largest {name} group ({largest})"
                )
            )
    _balance_within_reach(model, instance, choose, labelled)
    counts = set(assumptions) - specific
    # Span: each kind's average portfolio close to N/M, i.e. |M * N_k - N * count_k| small.
    span_terms = []
    for k in KINDS:
        need = customers_of_kind(instance, k)
        count = sum(v for (m, kk), v in choose.items() if kk == k)
        dev = model.new_int_var(0, 10 * n_total * m_count + 10, f"span_dev_{k}")
        model.add_abs_equality(dev, m_count * need - n_total * count)
        span_terms.append(dev)
    personal = _personal_span_cost(instance)
    span_cost = sum(span_terms) + cp_model.LinearExpr.weighted_sum(
        list(choose.values()), [int(personal[k, m]) for (m, k) in choose]
    )
    prior = _prior_kind_weight(instance)
    keep = sum(int(prior[k, m]) * v for (m, k), v in choose.items())
    big = int(prior.sum()) + 1
    if continuity_first:  # one unit kept outweighs any span cost
        most_span = 3 * (10 * n_total * m_count + 10) + int(personal.max(axis=0).sum())
        model.maximize(keep * (most_span + 1) - span_cost)
    else:
        model.minimize(span_cost * big - keep)
    for kinds in exclude or []:  # a choice already shown to admit no plan
        same = [choose[m, int(k)] for m, k in enumerate(kinds) if (m, int(k)) in choose]
        model.add(sum(same) <= len(same) - 1)
    model.add_assumptions(list(assumptions.values()))
    solver = cp_model.CpSolver()
    solver.parameters.catch_sigint_signal = False  # Ctrl-C is the caller's
    limit_solver(solver.parameters, time_limit_s, deterministic)
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        kind = np.full(m_count, STANDARD, dtype=np.int64)
        for (m, k), var in choose.items():
            if solver.value(var):
                kind[m] = k
        return Structure(kind)
    if status == cp_model.INFEASIBLE:
        names = _smallest_reasons(model, solver, assumptions, counts)
        return (
            [
                f"These requirements cannot all be met together: {'; '.join(names)}."
                if len(names) > 1
                else f"This requirement cannot be met: {names[0]}."
            ]
            if names
            else ["no choice of portfolio kinds per manager fits the span bands"]
        ) + (
            # Pins and rotation alone collide through the one kind a manager holds: the
            # numbers of the bands would only distract.
            [one_kind_fact(instance)]
            if names and not counts.intersection(names)
            else band_facts(instance)
        )
    return [UNDECIDED]


def none_left(answer: Structure | list[str]) -> bool:
    """Whether ``decide_structure`` proved that no choice of kinds (beyond those excluded) can
    hold the customers, rather than running out of time."""
    return not isinstance(answer, Structure) and answer != [UNDECIDED]
