"""The problem as the optimiser sees it: customers packed into blocks, managers with bands.

A block is a group (group_id plus ``group`` relations, transitively) or a single customer: the
unit the model assigns. Everything is in numpy arrays indexed by block or manager position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from portfolio_opt.scenario.data import Scenario

STANDARD, PREMIUM, SEPARATE = 0, 1, 2
KIND_NAMES = {STANDARD: "standard", PREMIUM: "premium", SEPARATE: "separate_ledger"}
KIND_WORDS = {STANDARD: "standard", PREMIUM: "premium", SEPARATE: "separate-ledger"}  # in prose
MIXED = -1

BALANCE_UNITS = 1_000_000  # the mean portfolio target, in the model's integer units
CHAIN_UNITS = 100  # chain weight 1.0 in integer units


@dataclass
class Instance:
    """Arrays the model and the heuristics share; built once per solve by ``build_instance``."""

    scenario: Scenario
    customer_ids: list[str]
    customer_value: np.ndarray  # each customer's target (stock + increment)
    customer_block: np.ndarray
    customer_move_weight: np.ndarray  # continuity weight of moving the customer
    prior_manager: np.ndarray  # manager position, -1 for none / unavailable / unknown
    members: list[np.ndarray]  # customer positions per block
    size: np.ndarray
    value: np.ndarray  # block target, money
    value_units: np.ndarray  # block target, integer units
    kind: np.ndarray  # STANDARD / PREMIUM / SEPARATE / MIXED
    pin: np.ndarray  # manager position or -1
    pin_conflict: list[list[str]]  # per block, distinct pinned manager ids when more than one
    forbidden: list[frozenset[int]]  # managers a block may not go to (rotation)
    kept: list[dict[int, int]]  # per block: manager -> move weight kept if the block goes there
    total_move_weight: np.ndarray
    industries: list[np.ndarray]  # industry codes per block (distinct)
    industry_names: list[str]
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_w: np.ndarray  # integer chain weight between two blocks
    manager_ids: list[str]  # available managers only
    grade: list[str]
    flag_premium: np.ndarray
    flag_separate: np.ndarray
    low: np.ndarray  # (3, M) lower band per portfolio kind
    high: np.ndarray  # (3, M) upper band per portfolio kind
    unavailable_ids: list[str]
    units_per_money: float
    affinity_cost: np.ndarray | None = None  # (B, M) integer cost, in affinity_units
    affinity_units: int = 1  # integer cost units per unit of the table's cost
    workload: np.ndarray | None = None  # (B, M) integer workload, in workload_units
    capacity: np.ndarray | None = None  # (M,) integer capacity (workload_units), -1 for none
    workload_units: int = 1000  # integer workload units per unit of the table's workload
    # ... and as written, without the model's millionth a customer (for messages)
    workload_shown: np.ndarray | None = None
    chain_total_units: int = 0
    manager_index: dict[str, int] = field(default_factory=dict)

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    @property
    def n_managers(self) -> int:
        return len(self.manager_ids)

    @property
    def n_blocks(self) -> int:
        return len(self.size)

    @property
    def band_basis(self) -> tuple[int, int]:
        """(customers, managers) the span band counts: the whole branch's, where this instance
        is the rest of a branch whose premium separate-ledger part was placed first."""
        return self.scenario.span_basis or (self.n_customers, self.n_managers)

    def eligible_kind(self, m: int, kind: int) -> bool:
        """Whether manager ``m`` may hold a portfolio of ``kind`` (flags and grade)."""
        if kind == PREMIUM:
            if self.grade[m] != self.scenario.policy.premium_grade or self.flag_separate[m]:
                return False
            return bool(self.flag_premium[m]) or not self.flag_premium.any()
        if kind == SEPARATE:
            if self.flag_premium[m]:  # designated for premium: holds nothing else
                return False
            return bool(self.flag_separate[m]) or not self.flag_separate.any()
        return not self.flag_premium[m] and not self.flag_separate[m]


def group_components(customers: pd.DataFrame, relations: pd.DataFrame) -> list[list[int]]:
    """Customer positions joined by a shared group_id or a ``group`` relation, transitively."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(customers)))
    position = {cid: i for i, cid in enumerate(customers["customer_id"])}
    for _, rows in customers[customers["group_id"] != ""].groupby("group_id", sort=False):
        index = [position[c] for c in rows["customer_id"]]
        nx.add_path(graph, index)
    links = relations[relations["kind"].str.lower() == "group"]
    for a, b in zip(links["a"], links["b"], strict=True):
        if a in position and b in position:
            graph.add_edge(position[a], position[b])
    return sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: c[0])


def span_band(n_customers: int, n_managers: int, tolerance: int) -> tuple[int, int]:
    """floor(N/M) - tolerance .. ceil(N/M) + tolerance, never below 0."""
    low = n_customers // n_managers - tolerance
    high = -(-n_customers // n_managers) + tolerance
    return max(low, 0), high


def kind_bands(scenario: Scenario, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(3,) each: the band of customers per portfolio of each kind, before personal bounds."""
    span = scenario.policy.span
    low_std, high_std = span_band(n, m, span.tolerance)
    low = np.full(3, low_std, dtype=np.int64)
    high = np.full(3, high_std, dtype=np.int64)
    for kind, band in ((PREMIUM, span.premium), (SEPARATE, span.separate_ledger)):
        # A type's own end replaces the general one and drags the other end along if needed.
        if band.min is not None:
            low[kind] = band.min
            high[kind] = max(high[kind], band.min)
        if band.max is not None:
            high[kind] = band.max
            low[kind] = min(low[kind], band.max)
    return low, high


def manager_bands(
    scenario: Scenario, managers: pd.DataFrame, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """(3, M) each: the customers each of ``managers`` may hold in a portfolio of each kind,
    the span band counting ``n`` customers over the managers (or the scenario's
    ``span_basis``), replaced by the kind's band, then by personal bounds."""
    n, m = scenario.span_basis or (n, len(managers))
    kind_low, kind_high = kind_bands(scenario, n, m)
    m = len(managers)
    low = np.repeat(kind_low[:, None], m, axis=1)
    high = np.repeat(kind_high[:, None], m, axis=1)
    personal_low = managers["min_customers"].to_numpy(dtype="float64", na_value=np.nan)
    personal_high = managers["max_customers"].to_numpy(dtype="float64", na_value=np.nan)
    for kind in range(3):
        low[kind] = np.where(np.isnan(personal_low), low[kind], personal_low).astype(np.int64)
        high[kind] = np.where(np.isnan(personal_high), high[kind], personal_high).astype(np.int64)
        # A personal end beyond the band's other end drags it along (personal bounds win).
        high[kind] = np.where(
            ~np.isnan(personal_low), np.maximum(high[kind], low[kind]), high[kind]
        )
        low[kind] = np.where(~np.isnan(personal_high), np.minimum(low[kind], high[kind]), low[kind])
    # An empty portfolio is standard unless its manager is designated (as the plan checker
    # reads it), so a premium or separate-ledger portfolio of anyone else holds a customer.
    for kind, designated in ((PREMIUM, "premium"), (SEPARATE, "separate_ledger")):
        flagged = managers[designated].to_numpy(dtype=bool)
        low[kind] = np.where(flagged, low[kind], np.maximum(low[kind], 1))
    return low, high


def _move_weights(value: np.ndarray) -> np.ndarray:
    """Mostly a count of moves, with the customer's value as a lesser part (value-weighted)."""
    mean = float(np.mean(np.abs(value))) or 1.0
    return 1000 + np.minimum(999, np.round(100 * np.abs(value) / mean)).astype(np.int64)


def build_instance(scenario: Scenario, customer_value: pd.Series) -> Instance:
    """Compile a validated scenario into model arrays.

    ``customer_value`` is each customer's target (stock + increment), indexed by customer_id.
    """
    policy = scenario.policy
    customers = scenario.customers.reset_index(drop=True)
    managers = scenario.available_managers.reset_index(drop=True)
    manager_index = {mid: i for i, mid in enumerate(managers["manager_id"])}
    n = len(customers)
    value = customer_value.reindex(customers["customer_id"]).fillna(0.0).to_numpy(dtype=float)
    prior = np.array(
        [manager_index.get(p, -1) for p in customers["prior_manager_id"]], dtype=np.int64
    )
    has_prior = (customers["prior_manager_id"] != "").to_numpy()
    move_weight = np.where(has_prior, _move_weights(value), 0)  # nothing to keep without a prior
    is_premium = (customers["customer_class"] == policy.premium_class).to_numpy()
    is_separate = customers["separate_ledger"].to_numpy(dtype=bool)
    customer_kind = np.where(is_separate, SEPARATE, np.where(is_premium, PREMIUM, STANDARD))
    max_tenure = policy.rotation.max_tenure_years
    tenure = customers["tenure_years"].to_numpy(dtype="float64", na_value=np.nan)
    rotation_due = (
        (tenure >= max_tenure) & (prior >= 0) if max_tenure is not None else np.zeros(n, dtype=bool)
    )
    # A blank industry is none: it counts in no portfolio's industries, as in the KPI.
    industry_codes, industry_names = pd.factorize(customers["industry"].replace("", None))
    pinned = customers["pinned_manager_id"].to_numpy(dtype=object)

    components = group_components(customers, scenario.relations)
    block_of = np.empty(n, dtype=np.int64)
    members, kinds, pins, conflicts, forbidden, kept, industries = [], [], [], [], [], [], []
    for b, comp in enumerate(components):
        idx = np.array(comp, dtype=np.int64)
        block_of[idx] = b
        members.append(idx)
        member_kinds = set(customer_kind[idx].tolist())
        kinds.append(member_kinds.pop() if len(member_kinds) == 1 else MIXED)
        pin_ids = sorted({p for p in pinned[idx] if p})
        conflicts.append(pin_ids if len(pin_ids) > 1 else [])
        pins.append(manager_index.get(pin_ids[0], -1) if len(pin_ids) == 1 else -1)
        banned = frozenset(int(m) for m in prior[idx][rotation_due[idx]])
        forbidden.append(banned)
        stay: dict[int, int] = {}
        for i in idx:
            if prior[i] >= 0 and prior[i] not in banned:
                stay[int(prior[i])] = stay.get(int(prior[i]), 0) + int(move_weight[i])
        if pins[-1] >= 0:  # a pinned block can keep only what its pin held
            stay = {pins[-1]: stay[pins[-1]]} if pins[-1] in stay else {}
        kept.append(stay)
        codes = industry_codes[idx]
        industries.append(np.unique(codes[codes >= 0]))

    size = np.array([len(x) for x in members], dtype=np.int64)
    block_value = np.array([value[x].sum() for x in members], dtype=float)
    mean_portfolio = abs(value.sum()) / max(len(managers), 1) or 1.0
    units = BALANCE_UNITS / mean_portfolio
    low, high = manager_bands(scenario, managers, n)

    edges = _chain_edges(scenario.relations, customers, block_of)
    instance = Instance(
        scenario=scenario,
        customer_ids=list(customers["customer_id"]),
        customer_value=value,
        customer_block=block_of,
        customer_move_weight=move_weight,
        prior_manager=prior,
        members=members,
        size=size,
        value=block_value,
        value_units=np.round(block_value * units).astype(np.int64),
        kind=np.array(kinds, dtype=np.int64),
        pin=np.array(pins, dtype=np.int64),
        pin_conflict=conflicts,
        forbidden=forbidden,
        kept=kept,
        total_move_weight=np.array([move_weight[x].sum() for x in members], dtype=np.int64),
        industries=industries,
        industry_names=[str(x) for x in industry_names],
        edge_u=edges[0],
        edge_v=edges[1],
        edge_w=edges[2],
        manager_ids=list(managers["manager_id"]),
        grade=list(managers["grade"]),
        flag_premium=managers["premium"].to_numpy(dtype=bool),
        flag_separate=managers["separate_ledger"].to_numpy(dtype=bool),
        low=low,
        high=high,
        unavailable_ids=list(scenario.managers.loc[~scenario.managers["available"], "manager_id"]),
        units_per_money=units,
        chain_total_units=int(edges[3]),
        manager_index=manager_index,
    )
    _idle_hold_nothing(instance)
    from portfolio_opt.model.affinity import attach_affinity  # affinity builds on the instance

    attach_affinity(instance)
    return instance


def _idle_hold_nothing(instance: Instance) -> None:
    """A manager who may hold no kind of portfolio (designated premium without the premium
    grade, or flagged both premium and separate-ledger) holds nothing: every kind's band becomes
    0 .. 0, kept above 0 at the low end where the band of the kind the flag names needs
    customers (a collision, see ``collisions.no_eligible_manager``)."""
    for m in range(instance.n_managers):
        if any(instance.eligible_kind(m, k) for k in (STANDARD, PREMIUM, SEPARATE)):
            continue
        named = PREMIUM if instance.flag_premium[m] else SEPARATE
        instance.low[:, m] = instance.low[named, m]
        instance.high[:, m] = 0


def _chain_edges(
    relations: pd.DataFrame, customers: pd.DataFrame, block_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Chain links summed per pair of blocks (links inside a block are never cut)."""
    links = relations[relations["kind"].str.lower() == "chain"]
    position = {cid: i for i, cid in enumerate(customers["customer_id"])}
    weights: dict[tuple[int, int], int] = {}
    total = 0
    for a, b, w in zip(links["a"], links["b"], links["weight"], strict=True):
        if a not in position or b not in position or a == b:
            continue
        units = int(round(float(w) * CHAIN_UNITS))
        total += units
        u, v = int(block_of[position[a]]), int(block_of[position[b]])
        if u != v:
            key = (min(u, v), max(u, v))
            weights[key] = weights.get(key, 0) + units
    if not weights:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy(), total
    keys = np.array(list(weights.keys()), dtype=np.int64)
    return keys[:, 0], keys[:, 1], np.array(list(weights.values()), dtype=np.int64), total


def ceil_div(a: int, b: int) -> int:
    return -(-a // b) if b else math.inf  # type: ignore[return-value]
