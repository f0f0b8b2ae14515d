"""Which hard rules collide, once no plan can exist: the smallest set of rule families (span
bands, groups kept whole, the balance bound, rotation, pins, capacity), each with its numbers.

A model over customers (not groups), so that keeping groups whole is a rule it can drop like
the others. Every bound is written a little looser than the plan checker's, so the model never
calls a branch infeasible that has a plan: it only says which rules together leave none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from portfolio_opt.model.affinity import customer_workload, workload_in_units
from portfolio_opt.model.collisions import group_ids, least_load, percent
from portfolio_opt.model.instance import KIND_WORDS, STANDARD, Instance
from portfolio_opt.model.settings import limit_solver
from portfolio_opt.model.structure import CORE_TRY_S, Structure
from portfolio_opt.problems import listed

EXPLAIN_LIMIT_S = 5.0
LARGEST_MODEL = 20_000  # customer x manager pairs: beyond, no explanation is attempted
CENTS = 100
GROUPS_SHOWN = 8  # groups an explanation names before "and N more"


class _Model:
    """The customer-level feasibility model, one literal per rule family: true for the
    families ``on`` (every family where None), false for the others."""

    def __init__(
        self, instance: Instance, structure: Structure, on: frozenset[str] | None = None
    ) -> None:
        self.inst, self.structure, self.on = instance, structure, on
        self.model = cp_model.CpModel()
        self.rules: dict[str, cp_model.IntVar] = {}
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}
        self.held: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in structure.kind]
        block_kind = instance.kind[instance.customer_block]
        for c in range(instance.n_customers):
            for m in np.flatnonzero(structure.kind == block_kind[c]):
                self.x[c, int(m)] = self.model.new_bool_var(f"x_{c}_{m}")
                self.held[int(m)].append((c, self.x[c, int(m)]))
            self.model.add_exactly_one(self.x[c, int(m)] for m in self.managers(c))

    def managers(self, c: int) -> np.ndarray:
        kind = self.inst.kind[self.inst.customer_block[c]]
        return np.flatnonzero(self.structure.kind == kind)

    def rule(self, name: str) -> cp_model.IntVar:
        literal = self.rules[name] = self.model.new_bool_var(name)
        # Fixed, not assumed: with assumptions CP-SAT's presolve cannot use them, and six
        # large customers for five portfolios went unproven in 5 s (fixed: 0.01 s).
        self.model.add(literal == int(self.on is None or name in self.on))
        return literal

    def at(self, m: int) -> list[tuple[int, cp_model.IntVar]]:
        return self.held[m]


def _span_bands(model: _Model) -> None:
    inst, kinds = model.inst, model.structure.kind
    literal = model.rule("span")
    for m in range(inst.n_managers):
        held = sum(v for _, v in model.at(m))
        model.model.add(held >= int(inst.low[kinds[m], m])).only_enforce_if(literal)
        model.model.add(held <= int(inst.high[kinds[m], m])).only_enforce_if(literal)


def _groups_whole(model: _Model) -> None:
    inst = model.inst
    if not (inst.size > 1).any():
        return
    literal = model.rule("groups")
    for members in inst.members:
        first = int(members[0])
        for other in members[1:]:
            for m in model.managers(first):
                model.model.add(
                    model.x[first, int(m)] == model.x[int(other), int(m)]
                ).only_enforce_if(literal)


def _balance_bound(model: _Model) -> None:
    """Standard portfolios that hold customers: each target within the policy's bound of their
    mean. How many hold customers is a variable k, so the bound reads |k x total - sum| <=
    |sum| x bound (in cents, widened by every customer's rounding)."""
    inst = model.inst
    bound = inst.scenario.policy.balance.max_deviation
    standard = [int(m) for m in model.structure.managers_of(STANDARD)]
    std = inst.kind[inst.customer_block] == STANDARD
    if bound is None or not standard or not std.any():
        return
    cents = np.round(inst.customer_value * CENTS).astype(np.int64)
    whole = int(cents[std].sum())
    slack = int(std.sum()) + 1
    reach = int(np.ceil(abs(whole) * bound))
    literal = model.rule("balance")
    low, high = int(cents[cents < 0].sum()), int(cents[cents > 0].sum())
    portfolios = []
    for m in standard:
        held = model.at(m)
        total = model.model.new_int_var(low, high, f"total_{m}")
        model.model.add(total == sum(int(cents[c]) * v for c, v in held))
        holds = model.model.new_bool_var(f"holds_{m}")
        model.model.add(sum(v for _, v in held) >= 1).only_enforce_if(holds)
        model.model.add(sum(v for _, v in held) == 0).only_enforce_if(holds.Not())
        portfolios.append((total, holds))
    filled = [model.model.new_bool_var(f"filled_{k}") for k in range(1, len(standard) + 1)]
    model.model.add_exactly_one(filled)
    model.model.add(
        sum(holds for _, holds in portfolios)
        == sum(k * lit for k, lit in enumerate(filled, start=1))
    )
    for total, holds in portfolios:
        for k, lit in enumerate(filled, start=1):
            when = [literal, holds, lit]
            model.model.add(k * total >= whole - reach - k * slack).only_enforce_if(when)
            model.model.add(k * total <= whole + reach + k * slack).only_enforce_if(when)


def _rotation(model: _Model) -> None:
    inst = model.inst
    due = [c for c in range(inst.n_customers) if _rotation_due(inst, c)]
    if not due:
        return
    literal = model.rule("rotation")
    for c in due:
        if (c, int(inst.prior_manager[c])) in model.x:
            model.model.add(model.x[c, int(inst.prior_manager[c])] == 0).only_enforce_if(literal)


def _rotation_due(inst: Instance, c: int) -> bool:
    """Whether customer ``c`` has been with its (available) manager as long as rotation allows."""
    limit = inst.scenario.policy.rotation.max_tenure_years
    tenure = inst.scenario.customers["tenure_years"].iloc[c]
    due = limit is not None and inst.prior_manager[c] >= 0 and pd.notna(tenure)
    return bool(due and tenure >= limit)


def _pins(model: _Model) -> None:
    inst = model.inst
    pinned = inst.scenario.customers["pinned_manager_id"].to_numpy(dtype=object)
    if not any(pinned):
        return
    literal = model.rule("pins")
    for c, pin in enumerate(pinned):
        if not pin:
            continue
        m = inst.manager_index.get(pin, -1)
        if (c, m) in model.x:
            model.model.add(model.x[c, m] == 1).only_enforce_if(literal)
        else:
            model.model.add_bool_or([literal.Not()])


def _capacity(model: _Model) -> None:
    inst = model.inst
    if inst.workload is None or inst.capacity is None or not (inst.capacity >= 0).any():
        return
    literal = model.rule("capacity")
    # Each customer's own workload, so that the rule still counts right with groups dropped.
    workload = workload_in_units(customer_workload(inst), inst.workload_units)
    for m in np.flatnonzero(inst.capacity >= 0):
        load = sum(int(workload[c, m]) * v for c, v in model.at(int(m)))
        model.model.add(load <= int(inst.capacity[m])).only_enforce_if(literal)


RULES: tuple[Callable[[_Model], None], ...] = (
    _span_bands,
    _groups_whole,
    _balance_bound,
    _rotation,
    _pins,
    _capacity,
)


@dataclass
class Verdict:
    """What the customer-level model found: a plan (block -> manager), or the smallest set of
    rule families that leave none, or neither (too large, or undecided in time)."""

    plan: np.ndarray | None = None
    rules: list[str] | None = None
    families: list[str] | None = None  # the rule families of ``rules``, by name


def examine(
    instance: Instance,
    structure: Structure,
    time_limit_s: float = EXPLAIN_LIMIT_S,
    goals: tuple[str, ...] = (),
    goal_time_s: float = EXPLAIN_LIMIT_S,
    deterministic: bool = False,
) -> Verdict:
    """Look for a plan with these portfolio kinds, every rule family on, best in the ``goals``
    this model can weigh (affinity, continuity, span), in their order; where none exists, name
    the smallest set of families that leaves none, in words with their numbers."""
    if instance.n_customers * instance.n_managers > LARGEST_MODEL or (instance.kind < 0).any():
        return Verdict()
    model = _built(instance, structure)
    solver = _solver(time_limit_s, deterministic)
    status = solver.solve(model.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = {pair for pair, var in model.x.items() if solver.value(var)}
        for goal in goals:
            chosen = _improve(model, solver, goal, chosen, goal_time_s, deterministic)
        first = [int(members[0]) for members in instance.members]
        plan = np.array(
            [next(m for m in model.managers(c) if (c, int(m)) in chosen) for c in first]
        )
        return Verdict(plan=plan)
    if status != cp_model.INFEASIBLE or not model.rules:
        return Verdict()
    names = _needed(instance, structure, list(model.rules), deterministic)
    return Verdict(rules=rule_facts(instance, structure, names), families=names)


def _built(instance: Instance, structure: Structure, on: frozenset[str] | None = None) -> _Model:
    model = _Model(instance, structure, on)
    for add in RULES:
        add(model)
    return model


def _solver(time_limit_s: float, deterministic: bool) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    limit_solver(solver.parameters, time_limit_s, deterministic)
    solver.parameters.num_workers = 1
    solver.parameters.catch_sigint_signal = False
    return solver


def _needed(
    instance: Instance, structure: Structure, names: list[str], deterministic: bool
) -> list[str]:
    """Of rule families that together leave no plan, drop one at a time while the rest still
    leave none: each family left is needed. A try undecided in CORE_TRY_S keeps its family
    (never too few)."""
    kept = list(names)
    for name in names:
        rest = [other for other in kept if other != name]
        if not rest:
            break
        model = _built(instance, structure, frozenset(rest))
        if _solver(CORE_TRY_S, deterministic).solve(model.model) == cp_model.INFEASIBLE:
            kept = rest
    return kept


FAMILY_WORDS = {
    "span": "the span bands",
    "balance": "the [balance] bound",
    "groups": "keeping groups together",
    "rotation": "rotation",
    "pins": "pins",
    "capacity": "workload capacity",
}


def present_families(instance: Instance) -> list[str]:
    """The rule families this branch has (the span bands always), in FACTS order."""
    has = {
        "span": True,
        "groups": bool((instance.size > 1).any()),
        "balance": instance.scenario.policy.balance.max_deviation is not None,
        "rotation": any(instance.forbidden),
        "pins": bool((instance.pin >= 0).any()),
        "capacity": instance.capacity is not None,
    }
    return [name for name in FACTS if has[name]]


def rule_facts(instance: Instance, structure: Structure, families: list[str]) -> list[str]:
    """The rule families, in words with their numbers (for ``structure``'s kinds)."""
    facts = [FACTS[name](instance, structure) for name in FACTS if name in families]
    if len(facts) == 1:
        facts[0] = f"on its own, {facts[0]}"
    else:  # a list of rules that each read as fine needs saying what they do together
        facts.insert(
            0,
            f"these {len(facts)} rules together leave no plan (the solver proved it); "
            "relaxing any one of them is where to start:",
        )
    return facts


def _goal(model: _Model, goal: str) -> cp_model.LinearExprT | None:
    """The goal as the engine counts it, over blocks (a group's first member stands for it);
    None for goals this model does not weigh."""
    inst = model.inst
    first = [int(members[0]) for members in inst.members]
    if goal == "affinity" and inst.affinity_cost is not None:
        cost = inst.affinity_cost
        return sum(
            int(cost[b, m]) * model.x[c, int(m)]
            for b, c in enumerate(first)
            for m in model.managers(c)
        )
    if goal == "continuity":
        return sum(
            (int(inst.total_move_weight[b]) - inst.kept[b].get(int(m), 0)) * model.x[c, int(m)]
            for b, c in enumerate(first)
            for m in model.managers(c)
        )
    if goal == "span":
        n, m_count = inst.n_customers, inst.n_managers
        terms = []
        for m in range(m_count):
            gap = model.model.new_int_var(0, n * m_count, f"span_{m}")
            model.model.add_abs_equality(gap, m_count * sum(v for _, v in model.at(m)) - n)
            terms.append(gap)
        return sum(terms)
    return None


def _improve(
    model: _Model,
    solver: cp_model.CpSolver,
    goal: str,
    chosen: set[tuple[int, int]],
    time_limit_s: float,
    deterministic: bool,
) -> set[tuple[int, int]]:
    """The (customer, manager) pairs of a plan at least as good in ``goal`` as ``chosen``'s
    (from which the search starts), the goal then held at that value, so that the next goal
    only breaks its ties."""
    expression = _goal(model, goal)
    if expression is None:
        return chosen
    for pair, var in model.x.items():
        model.model.add_hint(var, pair in chosen)
    model.model.minimize(expression)
    limit_solver(solver.parameters, time_limit_s, deterministic)
    if solver.solve(model.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        model.model.add(expression <= round(solver.objective_value))
        chosen = {pair for pair, var in model.x.items() if solver.value(var)}
    model.model.clear_hints()
    model.model.clear_objective()
    return chosen


def colliding_rules(
    instance: Instance, structure: Structure, time_limit_s: float = EXPLAIN_LIMIT_S
) -> list[str] | None:
    """The smallest set of rule families that together leave no plan with these portfolio
    kinds, in words with their numbers; None when a plan exists or nothing was proven."""
    return examine(instance, structure, time_limit_s).rules


def _span_fact(inst: Instance, structure: Structure) -> str:
    n, m = inst.band_basis
    tolerance = inst.scenario.policy.span.tolerance
    parts = []
    for k in range(3):
        managers = structure.managers_of(k)
        if len(managers):
            low, high = inst.low[k, managers], inst.high[k, managers]
            parts.append(
                f"{len(managers)} {KIND_WORDS[k]} portfolio(s) of {int(low.min())}.."
                f"{int(high.max())} customers"
            )
    managers = inst.scenario.available_managers.reset_index(drop=True)

    def bound(value: object) -> str:
        return "" if pd.isna(value) else str(int(value))  # type: ignore[call-overload]

    personal = [
        f"{r.manager_id} {bound(r.min_customers)}..{bound(r.max_customers)}"
        for r in managers.itertuples()
        if not (pd.isna(r.min_customers) and pd.isna(r.max_customers))
    ]
    own = f"; personal bounds {', '.join(personal)}" if personal else ""
    return (
        f"the span bands: {'; '.join(parts)} ({n} customers over {m} managers, "
        f"tolerance {tolerance}{own})"
    )


def _groups_fact(inst: Instance, structure: Structure) -> str:
    blocks = sorted(
        (b for b, members in enumerate(inst.members) if len(members) > 1),
        key=lambda b: -len(inst.members[b]),
    )
    shown = [_group_text(inst, b) for b in blocks]
    if len(shown) > GROUPS_SHOWN:  # the sizes say what the few named do not
        sizes = Counter(len(inst.members[b]) for b in blocks)
        by_size = ", ".join(f"{count} of {size}" for size, count in sorted(sizes.items())[::-1])
        held = f"{len(shown)} groups ({by_size} customers), of {listed(shown, GROUPS_SHOWN)}"
    elif len(shown) > 1:
        held = f"{len(shown)} groups, of {listed(shown, GROUPS_SHOWN)}"
    else:
        held = f"group {shown[0]}" if group_ids(inst, blocks[0]) else f"a group of {shown[0]}"
    return f"each group stays whole with one manager: {held}"


def _group_text(inst: Instance, b: int) -> str:
    """A group's size and first members, after its group_id where it has one (GA: 3 customers
    (C01, C02, C03))."""
    members = inst.members[b]
    first = ", ".join(inst.customer_ids[int(c)] for c in members[:3])
    named = "/".join(group_ids(inst, b))
    return (f"{named}: " if named else "") + (
        f"{len(members)} customers ({first}{', ...' if len(members) > 3 else ''})"
    )


def _balance_fact(inst: Instance, structure: Structure) -> str:
    bound = inst.scenario.policy.balance.max_deviation
    assert bound is not None  # the family is there only with the bound
    std = inst.kind[inst.customer_block] == STANDARD
    values = inst.customer_value[std]
    count = len(structure.managers_of(STANDARD))
    mean = values.sum() / max(count, 1)
    largest = np.sort(values)[::-1][:3]
    return (
        f"[balance] max_deviation = {bound}: each standard portfolio's target within "
        f"{percent(bound)} of their mean ({mean:,.2f} when all {count} hold customers); the "
        "largest customer targets are "
        f"{', '.join(f'{v:,.2f}' for v in largest)}"
    )


def _rotation_fact(inst: Instance, structure: Structure) -> str:
    limit = inst.scenario.policy.rotation.max_tenure_years
    due = [
        f"{inst.customer_ids[c]} (with {inst.manager_ids[int(inst.prior_manager[c])]})"
        for c in range(inst.n_customers)
        if _rotation_due(inst, c)
    ]
    return f"rotation: customers with their manager {limit} years or more must move: {listed(due)}"


def _pins_fact(inst: Instance, structure: Structure) -> str:
    customers = inst.scenario.customers
    pinned = customers[customers["pinned_manager_id"] != ""]
    shown = [f"{r.customer_id} to {r.pinned_manager_id}" for r in pinned.itertuples()]
    return f"pins: {listed(shown)}"


def _capacity_fact(inst: Instance, structure: Structure) -> str:
    """The capacities, the tightest first: each against the least its portfolio needs (its
    pins and the lightest customers its band's minimum makes it hold)."""
    assert inst.capacity is not None
    # As the planner wrote them: the model's allowance would show 6 as 5.999999.
    per_customer = workload_in_units(customer_workload(inst), inst.workload_units, False)
    rows = []
    for m in np.flatnonzero(inst.capacity >= 0):
        least = least_load(inst, per_customer, int(m), [int(structure.kind[m])])
        need = 0 if least is None else least[0]
        text = f"{inst.manager_ids[m]} {inst.capacity[m] / inst.workload_units:,.10g}"
        if need:
            text += f" (needs at least {need / inst.workload_units:,.10g})"
        rows.append((int(inst.capacity[m]) - need, int(m), text))
    return (
        f"workload within capacity: {listed([text for *_, text in sorted(rows)])}; "
        f"{_heaviest_customers(inst, per_customer)}, and each goes whole to one manager "
        "(raise a capacity, add a manager, or lower workloads in the affinity table)"
    )


def _heaviest_customers(inst: Instance, per_customer: np.ndarray) -> str:
    """The customers' workloads, the heaviest first: each at the least any manager gives it,
    and their total, which the capacities must hold."""
    least = per_customer.min(axis=1)
    order = np.argsort(-least, kind="stable")
    named = [
        f"{inst.customer_ids[c]} {least[c] / inst.workload_units:,.10g}"
        for c in order
        if least[c] > 0
    ]
    if not named:
        return "no customer needs any workload"
    total = least.sum() / inst.workload_units
    return f"the customers need at least {listed(named)}, {total:,.10g} in all"


FACTS: dict[str, Callable[[Instance, Structure], str]] = {
    "span": _span_fact,
    "groups": _groups_fact,
    "balance": _balance_fact,
    "rotation": _rotation_fact,
    "pins": _pins_fact,
    "capacity": _capacity_fact,
}
