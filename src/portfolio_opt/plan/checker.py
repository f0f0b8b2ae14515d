"""The plan checker: every hard rule of SPEC.md, re-checked in plain Python on any assignment.

This module shares nothing with the optimisation model on purpose: it is the independent judge
of every plan the tool writes and of plans a planner edits by hand. Each rule is one function
taking the :class:`PlanView` and returning the violations it finds; ``RULES`` lists them in the
order of SPEC.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from portfolio_opt.plan.types import customer_type, held_type
from portfolio_opt.scenario.data import Scenario

PORTFOLIO_TYPES = ("standard", "premium", "separate_ledger")
REL_TOL = 1e-9
# Workloads count to the millionth: a manager may exceed its capacity by that much a customer.
WORKLOAD_STEP = 1e-6
MAX_NAMED = 12  # ids spelled out in one message; the Violation keeps them all


@dataclass(frozen=True)
class Violation:
    """One broken hard rule, in words a planner understands.

    ``rule`` is a short key (``coverage``, ``unavailable``, ``unknown_id``, ``group``,
    ``premium_only``, ``premium_grade``, ``premium_designated``, ``separate_ledger``, ``span``,
    ``pin``, ``rotation``, ``balance``, ``capacity``); ``customers`` and ``managers`` name the
    ids involved.
    """

    rule: str
    message: str
    customers: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


def names(ids: Iterable[str]) -> str:
    """Ids for a message: all of them up to a dozen, then a count of the rest."""
    ids = list(ids)
    shown = ", ".join(ids[:MAX_NAMED])
    return shown + (f" and {len(ids) - MAX_NAMED} more" if len(ids) > MAX_NAMED else "")


def text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A text column with blanks as ``""`` (a missing column is all blank)."""
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    values = frame[column].astype(object).where(frame[column].notna(), "")
    # Plain str objects: the rules iterate these columns, slowly as a pandas str column.
    return pd.Series([str(v).strip() for v in values.tolist()], index=frame.index, dtype=object)


def number_column(frame: pd.DataFrame, column: str, default: float = math.nan) -> pd.Series:
    """A numeric column as float, blanks as ``default`` (a missing column is all ``default``)."""
    if column not in frame.columns:
        return pd.Series(default, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float).fillna(default)


def flag_column(frame: pd.DataFrame, column: str, default: bool = False) -> pd.Series:
    """A yes/no column as bool, blanks as ``default``."""
    if column not in frame.columns:
        return pd.Series(default, index=frame.index, dtype=bool)
    return frame[column].astype(object).where(frame[column].notna(), default).astype(bool)


def customer_targets(scenario: Scenario) -> pd.Series:
    """Each customer's target (stock + increment), indexed by customer_id, as the payout rules
    set it (docs/payout.md: per income type, to the cent, fitted to ``unit_target``): the
    figures portfolios.csv and the KPIs show, so a verdict on the balance bound agrees with
    them. The targets are an input of the rule, made before any plan, not by the model."""
    from portfolio_opt.payout import customer_targets as payout_targets

    return payout_targets(scenario.customers, scenario.policy)["target"].rename("target")


class _UnionFind:
    """Disjoint sets of ids, with path halving."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.parent = {i: i for i in ids}

    def find(self, item: str) -> str:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[root_b] = root_a


def find_groups(scenario: Scenario) -> list[list[str]]:
    """Every customer's group (singletons included), members in customers-table order.

    Customers sharing a non-empty group_id, and the two ends of every ``kind = group`` relation,
    are in one group; the relation is transitive.
    """
    customers = scenario.customers
    ids = list(text_column(customers, "customer_id"))
    sets = _UnionFind(ids)
    first_of_group: dict[str, str] = {}
    for cid, gid in zip(ids, text_column(customers, "group_id"), strict=True):
        if gid:
            sets.union(first_of_group.setdefault(gid, cid), cid)
    relations = scenario.relations
    kinds = text_column(relations, "kind").str.lower()
    for a, b, kind in zip(
        text_column(relations, "a"), text_column(relations, "b"), kinds, strict=True
    ):
        if kind == "group" and a in sets.parent and b in sets.parent:
            sets.union(a, b)
    groups: dict[str, list[str]] = {}
    for cid in ids:
        groups.setdefault(sets.find(cid), []).append(cid)
    return list(groups.values())


@dataclass
class PlanView:
    """A scenario and an assignment, read once into plain dicts every rule can use.

    ``manager_of`` is the effective plan: the first row of each known customer with a known
    manager. Rows with blank, unknown or repeated ids are reported by the coverage rules.
    """

    scenario: Scenario
    rows: pd.DataFrame
    customer_ids: list[str]
    manager_ids: list[str]
    available: list[str]
    customer_class: dict[str, str]
    premium: set[str]
    separate: set[str]
    group_id: dict[str, str]
    industry: dict[str, str]
    pinned: dict[str, str]
    prior: dict[str, str]
    tenure: dict[str, float]
    grade: dict[str, str]
    premium_designated: set[str]
    separate_designated: set[str]
    min_customers: dict[str, float]
    max_customers: dict[str, float]
    manager_of: dict[str, str] = field(default_factory=dict)
    holdings: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, scenario: Scenario, assignment: pd.DataFrame) -> PlanView:
        """Read the scenario's tables and the assignment's id columns (trimmed text)."""
        customers, managers, policy = scenario.customers, scenario.managers, scenario.policy
        cids = list(text_column(customers, "customer_id"))
        mids = list(text_column(managers, "manager_id"))
        classes = dict(zip(cids, text_column(customers, "customer_class"), strict=True))
        separate_flag = flag_column(customers, "separate_ledger")
        available_flag = flag_column(managers, "available", True)
        available = [m for m, ok in zip(mids, available_flag, strict=True) if ok]
        premium_flag = dict(zip(mids, flag_column(managers, "premium"), strict=True))
        separate_manager = dict(zip(mids, flag_column(managers, "separate_ledger"), strict=True))
        rows = pd.DataFrame(
            {
                "customer_id": text_column(assignment, "customer_id"),
                "manager_id": text_column(assignment, "manager_id"),
            }
        )
        rows = rows[(rows["customer_id"] != "") | (rows["manager_id"] != "")].reset_index(drop=True)
        view = cls(
            scenario=scenario,
            rows=rows,
            customer_ids=cids,
            manager_ids=mids,
            available=available,
            customer_class=classes,
            premium={c for c in cids if classes[c] == policy.premium_class},
            separate={c for c, sl in zip(cids, separate_flag, strict=True) if sl},
            group_id=dict(zip(cids, text_column(customers, "group_id"), strict=True)),
            industry=dict(zip(cids, text_column(customers, "industry"), strict=True)),
            pinned=dict(zip(cids, text_column(customers, "pinned_manager_id"), strict=True)),
            prior=dict(zip(cids, text_column(customers, "prior_manager_id"), strict=True)),
            tenure=dict(zip(cids, number_column(customers, "tenure_years"), strict=True)),
            grade=dict(zip(mids, text_column(managers, "grade"), strict=True)),
            premium_designated={m for m in available if premium_flag[m]},
            separate_designated={m for m in available if separate_manager[m]},
            min_customers=dict(zip(mids, number_column(managers, "min_customers"), strict=True)),
            max_customers=dict(zip(mids, number_column(managers, "max_customers"), strict=True)),
        )
        known_c, known_m = set(cids), set(mids)
        for cid, mid in zip(rows["customer_id"], rows["manager_id"], strict=True):
            if cid in known_c and mid in known_m and cid not in view.manager_of:
                view.manager_of[cid] = mid
        order = {c: i for i, c in enumerate(cids)}
        for cid, mid in sorted(view.manager_of.items(), key=lambda kv: order[kv[0]]):
            view.holdings.setdefault(mid, []).append(cid)
        return view

    def portfolio_type(self, manager_id: str) -> str:
        """The type the manager's customers make (see :func:`held_type`); an empty portfolio
        has the designated type."""
        held = self.holdings.get(manager_id, [])
        if manager_id in self.premium_designated:
            flagged = "premium"
        elif manager_id in self.separate_designated:
            flagged = "separate_ledger"
        else:
            flagged = "standard"
        if not held:
            return flagged
        return held_type(
            (customer_type(c in self.premium, c in self.separate) for c in held), flagged
        )

    def span_band(self, manager_id: str, kind: str | None = None) -> tuple[int, float, str]:
        """(lowest, highest, where the bounds come from) customer count for a manager.

        The span band, replaced end by end by the portfolio type's band (``kind``, by default
        the type the manager holds in this plan), then by the manager's personal bounds. A more
        specific end that crosses the other end drags it along: a personal minimum of 5 in a
        band of 2..4 gives 5..5.
        """
        n, m = len(self.customer_ids), len(self.available)
        span = self.scenario.policy.span
        low: float = max(0, n // m - span.tolerance) if m else 0
        high: float = -(-n // m) + span.tolerance if m else math.inf
        source = "the span band"
        kind = kind or self.portfolio_type(manager_id)
        band = {"premium": span.premium, "separate_ledger": span.separate_ledger}.get(kind)
        if band is not None and (band.min is not None or band.max is not None):
            low, high = _override(low, high, band.min, band.max)
            source = f"the {kind.replace('_', '-')} band"
        own_low, own_high = self.min_customers[manager_id], self.max_customers[manager_id]
        if not (math.isnan(own_low) and math.isnan(own_high)):
            low, high = _override(
                low,
                high,
                None if math.isnan(own_low) else own_low,
                None if math.isnan(own_high) else own_high,
            )
            source = "the manager's personal bounds"
        return int(low), high if math.isinf(high) else int(high), source


def _override(
    low: float, high: float, new_low: float | None, new_high: float | None
) -> tuple[float, float]:
    """Bounds replaced end by end; a replaced end wins over the end it crosses."""
    if new_low is not None:
        low, high = new_low, max(high, new_low)
    if new_high is not None:
        high = new_high
        low = low if new_low is not None else min(low, new_high)
    return low, high


Rule = Callable[[PlanView], list[Violation]]


def _every_customer_once(view: PlanView) -> list[Violation]:
    """Each customer of the scenario is on exactly one row, with a manager."""
    listed: dict[str, list[str]] = {}
    for cid, mid in zip(view.rows["customer_id"], view.rows["manager_id"], strict=True):
        listed.setdefault(cid, []).append(mid)
    out = []
    for cid in view.customer_ids:
        given = listed.get(cid, [])
        if not given:
            message = (
                f"customer {cid} has no manager: no row of the plan names it (add one, with "
                "its manager_id)"
            )
            out.append(Violation("coverage", message, (cid,)))
        elif len(given) > 1:
            managers = tuple(dict.fromkeys(m for m in given if m))
            message = f"customer {cid} appears {len(given)} times (managers {names(managers)})"
            out.append(Violation("coverage", message, (cid,), managers))
        elif not given[0]:
            out.append(Violation("coverage", f"customer {cid} has a blank manager_id", (cid,)))
    return out


def _known_ids(view: PlanView) -> list[Violation]:
    """Every id in the assignment names a customer or manager of the scenario."""
    known_c, known_m = set(view.customer_ids), set(view.manager_ids)
    out = []
    strangers: dict[str, list[str]] = {}
    for cid, mid in zip(view.rows["customer_id"], view.rows["manager_id"], strict=True):
        if cid not in known_c:
            what = f"customer {cid!r}" if cid else "a row with a blank customer_id"
            message = f"{what} (manager {mid or 'blank'}) is not in the customers table"
            out.append(Violation("unknown_id", message, (cid,), (mid,) if mid else ()))
        elif mid and mid not in known_m:
            strangers.setdefault(mid, []).append(cid)
    for mid, cids in strangers.items():
        given = f"customer {cids[0]} is" if len(cids) == 1 else f"customers {names(cids)} are"
        message = (
            f"{given} given to manager {mid!r}, who is not in the managers table: "
            "use a manager_id from the managers table"
        )
        out.append(Violation("unknown_id", message, tuple(cids), (mid,)))
    return out


def _unavailable_get_none(view: PlanView) -> list[Violation]:
    available = set(view.available)
    out = []
    for mid, held in view.holdings.items():
        if mid not in available:
            message = (
                f"manager {mid} is not available (leaving or on leave) "
                f"but holds {len(held)} customer(s): {names(held)}"
            )
            out.append(Violation("unavailable", message, tuple(held), (mid,)))
    return out


def _groups_together(view: PlanView) -> list[Violation]:
    out = []
    for members in find_groups(view.scenario):
        placed = [c for c in members if c in view.manager_of]
        managers = list(dict.fromkeys(view.manager_of[c] for c in placed))
        if len(managers) < 2:
            continue
        labels = sorted({view.group_id[c] for c in members if view.group_id[c]})
        label = f"group {'/'.join(labels)}" if labels else "a group linked in relations"
        parts = "; ".join(
            f"{names([c for c in placed if view.manager_of[c] == m])} with {m}" for m in managers
        )
        message = f"{label} ({names(members)}) is split across managers: {parts}"
        out.append(Violation("group", message, tuple(members), tuple(managers)))
    return out


def _premium_alone(view: PlanView) -> list[Violation]:
    out = []
    for mid, held in view.holdings.items():
        premium = [c for c in held if c in view.premium]
        others = [c for c in held if c not in view.premium]
        if premium and others:
            message = (
                f"manager {mid} holds premium customers ({names(premium)}) together with "
                f"non-premium customers {names(others)}; a premium portfolio holds only premium "
                "customers"
            )
            out.append(Violation("premium_only", message, _out_of_place(premium, others), (mid,)))
    return out


def _out_of_place(these: list[str], those: list[str]) -> tuple[str, ...]:
    """Of two kinds of customers that may not share a portfolio, the fewer: most likely the
    ones moved in (by a planner's edit), whose rows a listing should name first."""
    if len(these) == len(those):
        return tuple(these + those)
    return tuple(these if len(these) < len(those) else those)


def _premium_grade(view: PlanView) -> list[Violation]:
    wanted = view.scenario.policy.premium_grade
    out = []
    for mid, held in view.holdings.items():
        premium = [c for c in held if c in view.premium]
        if premium and view.grade[mid] != wanted:
            message = (
                f"manager {mid} (grade {view.grade[mid] or 'blank'}) holds premium customers "
                f"{names(premium)}; premium portfolios need grade {wanted}"
            )
            out.append(Violation("premium_grade", message, tuple(premium), (mid,)))
    return out


def _premium_designated(view: PlanView) -> list[Violation]:
    """Where some managers are designated for premium, premium portfolios are theirs alone."""
    designated = view.premium_designated
    if not designated:
        return []
    out = []
    for mid, held in view.holdings.items():
        premium = [c for c in held if c in view.premium]
        if premium and mid not in designated:
            message = (
                f"manager {mid} holds premium customers {names(premium)} but is not designated "
                f"for premium portfolios (designated: {names(sorted(designated))})"
            )
            out.append(Violation("premium_designated", message, tuple(premium), (mid,)))
        elif not premium and mid in designated:
            message = (
                f"manager {mid} is designated for a premium portfolio but holds only "
                f"non-premium customers: {names(held)}"
            )
            out.append(Violation("premium_designated", message, tuple(held), (mid,)))
    return out


def _separate_ledger_isolated(view: PlanView) -> list[Violation]:
    """Separate-ledger customers only with each other, and with a designated manager if any."""
    designated = view.separate_designated
    out = []
    for mid, held in view.holdings.items():
        separate = [c for c in held if c in view.separate]
        others = [c for c in held if c not in view.separate]
        not_theirs = (
            f"{mid} is not a separate-ledger manager (those are: {names(sorted(designated))})"
        )
        if separate and others:
            message = (
                f"manager {mid} holds separate-ledger customers {names(separate)} together with "
                f"normal customers {names(others)}; separate-ledger portfolios hold nothing else"
            )
            if designated and mid not in designated:
                message += f", and {not_theirs}"
            out.append(
                Violation("separate_ledger", message, _out_of_place(separate, others), (mid,))
            )
        elif separate and designated and mid not in designated:
            message = (
                f"manager {mid} holds separate-ledger customers {names(separate)} but " + not_theirs
            )
            out.append(Violation("separate_ledger", message, tuple(separate), (mid,)))
        elif others and mid in designated:
            message = (
                f"manager {mid} is a dedicated separate-ledger manager but holds normal "
                f"customers {names(others)}"
            )
            out.append(Violation("separate_ledger", message, tuple(others), (mid,)))
    return out


def _span_within_band(view: PlanView) -> list[Violation]:
    if not view.available:
        return []
    out = []
    for mid in view.available:
        held = view.holdings.get(mid, [])
        low, high, source = view.span_band(mid)
        if low <= len(held) <= high:
            continue
        side = f"below the minimum of {low}" if len(held) < low else f"above the maximum of {high}"
        message = (
            f"manager {mid} holds {len(held)} customers, {side} "
            f"({source}: {low}..{high}, {len(view.customer_ids)} customers / "
            f"{len(view.available)} available managers)"
        )
        out.append(Violation("span", message, tuple(held), (mid,)))
    return out


def _pinned_stay(view: PlanView) -> list[Violation]:
    out = []
    for cid, pin in view.pinned.items():
        mid = view.manager_of.get(cid)
        if pin and mid is not None and mid != pin:
            message = f"customer {cid} is pinned to manager {pin} but is given to {mid}"
            out.append(Violation("pin", message, (cid,), (pin, mid)))
    return out


def _rotation_due(view: PlanView) -> list[Violation]:
    limit = view.scenario.policy.rotation.max_tenure_years
    if limit is None:
        return []
    out = []
    for cid, prior in view.prior.items():
        years = view.tenure[cid]
        if prior and not math.isnan(years) and years >= limit and view.manager_of.get(cid) == prior:
            message = (
                f"customer {cid} has been with manager {prior} for {years:g} years "
                f"(rotation after {limit}) and must change manager"
            )
            out.append(Violation("rotation", message, (cid,), (prior,)))
    return out


def standard_portfolio_targets(view: PlanView, target: Mapping[str, float]) -> dict[str, float]:
    """Total target of each available manager holding a standard portfolio."""
    return {
        mid: float(sum(target.get(c, 0.0) for c in view.holdings[mid]))
        for mid in view.available
        if view.holdings.get(mid) and view.portfolio_type(mid) == "standard"
    }


def _balance_within(view: PlanView) -> list[Violation]:
    deviation = view.scenario.policy.balance.max_deviation
    if deviation is None:
        return []
    totals = standard_portfolio_targets(view, customer_targets(view.scenario).to_dict())
    if not totals:
        return []
    mean = sum(totals.values()) / len(totals)
    allowed = (deviation + REL_TOL) * abs(mean)
    out = []
    for mid, total in totals.items():
        if abs(total - mean) > allowed:
            message = (
                f"manager {mid}'s standard portfolio has a total target of {total:,.2f}, outside "
                f"{mean - deviation * abs(mean):,.2f}..{mean + deviation * abs(mean):,.2f} "
                f"(mean {mean:,.2f} +- {deviation:.1%})"
            )
            out.append(Violation("balance", message, tuple(view.holdings[mid]), (mid,)))
    return out


def affinity_lookup(scenario: Scenario) -> Callable[[str, str], tuple[float, float]]:
    """A function (customer, manager) -> (cost, workload) from the affinity table.

    Cell by cell, the customer's row wins over its industry's row; a cost neither gives is 0,
    and a workload neither gives is ``[affinity] default_workload`` for the customer's class,
    else 0.
    """
    table = scenario.affinity
    by_customer: dict[tuple[str, str], tuple[float, float]] = {}
    by_industry: dict[tuple[str, str], tuple[float, float]] = {}
    rows = zip(
        text_column(table, "customer_id"),
        text_column(table, "industry"),
        text_column(table, "manager_id"),
        number_column(table, "cost"),
        number_column(table, "workload"),
        strict=True,
    )
    for cid, industry, mid, cost, load in rows:
        if cid:
            by_customer.setdefault((cid, mid), (cost, load))
        elif industry:
            by_industry.setdefault((industry, mid), (cost, load))
    customers = scenario.customers
    ids = text_column(customers, "customer_id")
    industry_of = dict(zip(ids, text_column(customers, "industry"), strict=True))
    class_of = dict(zip(ids, text_column(customers, "customer_class"), strict=True))
    defaults = scenario.policy.affinity.default_workload
    blank = (math.nan, math.nan)

    def lookup(customer_id: str, manager_id: str) -> tuple[float, float]:
        own = by_customer.get((customer_id, manager_id), blank)
        industry = by_industry.get((industry_of.get(customer_id, ""), manager_id), blank)
        cost, load = (a if not math.isnan(a) else b for a, b in zip(own, industry, strict=True))
        if math.isnan(load):
            load = defaults.get(class_of.get(customer_id, ""), 0.0)
        return (0.0 if math.isnan(cost) else cost), load

    return lookup


def workloads(view: PlanView) -> dict[str, float]:
    """Total workload of every manager holding customers."""
    lookup = affinity_lookup(view.scenario)
    return {mid: sum(lookup(c, mid)[1] for c in held) for mid, held in view.holdings.items()}


def capacities(scenario: Scenario) -> dict[str, float]:
    """Capacity of every manager that has one."""
    managers = scenario.managers
    pairs = zip(
        text_column(managers, "manager_id"), number_column(managers, "capacity"), strict=True
    )
    return {mid: cap for mid, cap in pairs if not math.isnan(cap)}


def _workload_within_capacity(view: PlanView) -> list[Violation]:
    """Where managers have a capacity, their total workload stays within it (SPEC: affinity)."""
    limits = capacities(view.scenario)
    if not limits:
        return []
    out = []
    for mid, load in workloads(view).items():
        cap = limits.get(mid)
        held = len(view.holdings[mid])
        if cap is not None and load > cap + REL_TOL * max(abs(cap), 1.0) + WORKLOAD_STEP * held:
            message = (
                f"manager {mid} has a total workload of {load:.10g}, above the capacity {cap:.10g}"
            )
            out.append(Violation("capacity", message, tuple(view.holdings[mid]), (mid,)))
    return out


RULES: tuple[Rule, ...] = (
    _every_customer_once,
    _known_ids,
    _unavailable_get_none,
    _groups_together,
    _premium_alone,
    _premium_grade,
    _premium_designated,
    _separate_ledger_isolated,
    _span_within_band,
    _pinned_stay,
    _rotation_due,
    _balance_within,
    _workload_within_capacity,
)


def check_plan(scenario: Scenario, assignment: pd.DataFrame) -> list[Violation]:
    """Every hard rule the assignment breaks; an empty list means the plan is valid.

    ``assignment`` needs ``customer_id`` and ``manager_id`` columns; any ``portfolio_type``
    column is ignored, as a portfolio's type follows from its customers.
    """
    view = PlanView.build(scenario, assignment)
    return [violation for rule in RULES for violation in rule(view)]
