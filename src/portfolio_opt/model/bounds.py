"""Lower bounds on every goal that no plan can beat, computed without the solver."""

from __future__ import annotations

import numpy as np

from portfolio_opt.model.instance import PREMIUM, SEPARATE, STANDARD, Instance


def span_bound(instance: Instance) -> int:
    """sum |M n_m - N| over managers, at its smallest.

    Without kinds every n_m is floor or ceil of N/M: 2 r (M - r). With them, each kind's
    customers fill that kind's portfolios, evenly at best, within the widest band any manager
    has for the kind; the bound is the least over the numbers of portfolios of each kind.
    """
    m, n = instance.n_managers, instance.n_customers
    r = n % m
    even = 2 * r * (m - r)
    spread = [_even_spread(instance, kind) for kind in range(3)]
    # Over the premium and separate-ledger portfolio counts that fit their bands, one premium
    # count at a time (an (M + 1)^2 table took gigabytes at thousands of managers); the
    # standard portfolios are the managers left.
    best = np.inf
    k_separate = np.flatnonzero(np.isfinite(spread[SEPARATE]))
    for k_premium in np.flatnonzero(np.isfinite(spread[PREMIUM])):
        fits = k_separate[k_separate <= m - k_premium]
        totals = spread[PREMIUM][k_premium] + spread[SEPARATE][fits]
        totals = totals + spread[STANDARD][m - k_premium - fits]
        best = min(best, float(totals.min(initial=np.inf)))
    return max(even, int(best)) if np.isfinite(best) else even


def _even_spread(instance: Instance, kind: int) -> np.ndarray:
    """(M + 1,): the least sum |M n - N| of k portfolios of ``kind`` holding all its customers,
    for k = 0..M (inf where no k portfolios within the band can hold them)."""
    m, n = instance.n_managers, instance.n_customers
    holders = [h for h in range(m) if instance.eligible_kind(h, kind)]
    customers = int(instance.size[instance.kind == kind].sum())
    cost = np.full(m + 1, np.inf)
    if not customers:
        cost[0] = 0.0
    if not holders:
        return cost
    low = int(instance.low[kind, holders].min())
    high = int(instance.high[kind, holders].max())
    for k in range(1, len(holders) + 1):
        if k * low <= customers <= k * high:
            q, r = divmod(customers, k)
            cost[k] = r * abs(m * (q + 1) - n) + (k - r) * abs(m * q - n)
    return cost


def chain_bound(instance: Instance) -> int:
    """Links between customers of different portfolio kinds are cut by every valid plan."""
    ku, kv = instance.kind[instance.edge_u], instance.kind[instance.edge_v]
    pu, pv = instance.pin[instance.edge_u], instance.pin[instance.edge_v]
    forced = (ku != kv) | ((pu >= 0) & (pv >= 0) & (pu != pv))
    return int(instance.edge_w[forced].sum())


def industry_bound(instance: Instance) -> int:
    """Per kind: every portfolio holding a customer of some industry counts one, and an
    industry whose customers outnumber the largest portfolio is spread over several portfolios
    (each of them counts it). Customers with no industry count in none."""
    industry = instance.scenario.customers["industry"].to_numpy(dtype=str)
    total = 0
    for kind in range(3):
        blocks = np.flatnonzero(instance.kind == kind)
        if not len(blocks):
            continue
        biggest = int(instance.high[kind].max(initial=1)) or 1
        members = np.concatenate([instance.members[b] for b in blocks])
        named = industry[members][industry[members] != ""]
        _, customers = np.unique(named, return_counts=True)
        spread = int(sum(-(-int(n) // biggest) for n in customers))
        needed = -(-len(named) // biggest)
        total += max(spread, needed)
    return total


def continuity_bound(instance: Instance) -> int:
    """Each block keeps at most what one manager it may go to held of it last year."""
    total = 0
    for b in range(instance.n_blocks):
        kind = int(instance.kind[b])
        best = 0
        for m, kept in instance.kept[b].items():
            if instance.pin[b] >= 0 and m != instance.pin[b]:
                continue
            if kind >= 0 and instance.eligible_kind(m, kind):
                best = max(best, kept)
        total += int(instance.total_move_weight[b]) - best
    return total


def affinity_bound(instance: Instance) -> int:
    if instance.affinity_cost is None:
        return 0
    return int(instance.affinity_cost.min(axis=1).sum())


def goal_bounds(instance: Instance) -> dict[str, int]:
    return {
        "violation": 0,
        "span": span_bound(instance),
        "balance": 0,
        "chain": chain_bound(instance),
        "industry": industry_bound(instance),
        "continuity": continuity_bound(instance),
        "affinity": affinity_bound(instance),
    }
