"""Moves no valid plan can avoid: a lower bound on kpis.json ``moves``, in plain Python.

Two bounds, the larger one reported:

- per group: a group goes whole to one manager, so at most the members whose prior is that
  manager stay, and only if no hard rule rules the manager out for a member;
- per portfolio kind: a manager holds one kind of portfolio (premium or not, separate-ledger or
  not) within that kind's span band, so it keeps at most the band's top of last year's
  customers of one kind, and the kinds need enough managers for their customers. Which manager
  takes which kind is a small integer programme whose optimum (or proven bound, where its
  search stops) bounds the customers kept.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from portfolio_opt.plan.checker import PlanView, find_groups
from portfolio_opt.plan.types import customer_type

KEPT_NODES = 500  # branch-and-bound nodes for the most customers kept; its bound holds anyway
KEPT_MOST_S = 20.0
KEPT_WHOLE_UP_TO = 5000  # variables up to which the programme is solved in whole numbers

Kind = tuple[bool, bool]  # (premium, separate-ledger): customers of two kinds never share


def cannot_hold(view: PlanView, customer_id: str, manager_id: str) -> bool:
    """Whether a hard rule forbids this customer from being with this manager in any plan."""
    c, m = customer_id, manager_id
    pinned_elsewhere = bool(view.pinned[c]) and view.pinned[c] != m
    return (
        m not in view.available
        or (view.prior[c] == m and rotation_due(view, c))
        or pinned_elsewhere
        or not may_hold_kind(view, m, kind_of(view, c))
    )


def rotation_due(view: PlanView, customer_id: str) -> bool:
    """Whether the customer's tenure with its prior manager reaches the rotation limit."""
    limit = view.scenario.policy.rotation.max_tenure_years
    tenure = view.tenure[customer_id]
    return limit is not None and not math.isnan(tenure) and tenure >= limit


def kind_of(view: PlanView, customer_id: str) -> Kind:
    return customer_id in view.premium, customer_id in view.separate


def may_hold_kind(view: PlanView, manager_id: str, kind: Kind) -> bool:
    """Grade and designation allow this manager a portfolio of this kind."""
    premium, separate = kind
    m = manager_id
    if premium:
        allowed = view.grade.get(m) == view.scenario.policy.premium_grade and not (
            view.premium_designated and m not in view.premium_designated
        )
    else:
        allowed = m not in view.premium_designated
    if separate:
        return allowed and not (view.separate_designated and m not in view.separate_designated)
    return allowed and m not in view.separate_designated


def moves_lower_bound(view: PlanView, target: dict[str, float]) -> tuple[int, float]:
    """(count, value) of the moves no valid plan avoids: the larger of the two bounds each."""
    groups = find_groups(view.scenario)
    count, value = group_bound(view, groups, target)
    kind_count, kind_value = kind_bound(view, groups, target)
    return max(count, kind_count), max(value, kind_value)


def group_bound(
    view: PlanView, groups: list[list[str]], target: dict[str, float]
) -> tuple[int, float]:
    """Per group: members with a prior minus the most that can stay with one manager.

    In a group only members whose prior is m can stay, and only if no member of the group rules
    m out: m unknown or unavailable, a member due for rotation away from m, a member pinned
    elsewhere, or m's grade and designation not fitting a member's kind. Groups are disjoint,
    so the bounds add up. A single customer is a group of one: it must move exactly when its
    prior manager is ruled out.
    """
    count, value = 0, 0.0
    for members in groups:
        with_prior = [c for c in members if view.prior[c]]
        if not with_prior:
            continue
        stay_count, stay_value = 0, 0.0
        for m in _open_priors(view, members):
            stayers = [c for c in with_prior if view.prior[c] == m]
            stay_count = max(stay_count, len(stayers))
            stay_value = max(stay_value, sum(target.get(c, 0.0) for c in stayers))
        count += len(with_prior) - stay_count
        value += sum(target.get(c, 0.0) for c in with_prior) - stay_value
    return count, value


def _open_priors(view: PlanView, members: list[str]) -> list[str]:
    """Prior managers of the group's members that the whole group may go to."""
    priors = dict.fromkeys(view.prior[c] for c in members if view.prior[c])
    return [
        m for m in priors if m in view.grade and not any(cannot_hold(view, c, m) for c in members)
    ]


@dataclass(frozen=True)
class Stay:
    """A group staying with one of its members' prior managers, who then holds ``kind``."""

    group: int
    manager: str
    kind: Kind
    size: int
    kept: int
    value: float


def kind_bound(
    view: PlanView, groups: list[list[str]], target: dict[str, float]
) -> tuple[int, float]:
    """Moves forced by each manager holding a single kind of portfolio within its band."""
    with_prior = [c for c in view.customer_ids if view.prior[c]]
    if not with_prior or not view.available:
        return 0, 0.0
    need: dict[Kind, int] = defaultdict(int)
    stays: list[Stay] = []
    barred: list[Barred] = []
    for number, members in enumerate(groups):
        kinds = {kind_of(view, c) for c in members}
        for kind in kinds:
            need[kind] += sum(1 for c in members if kind_of(view, c) == kind)
        if len(kinds) != 1:
            continue  # such a group has no valid plan; it keeps nothing here
        kind = next(iter(kinds))
        if away := _barred_from(view, members):
            barred.append(Barred(number, kind, len(members), away))
        for m in _open_priors(view, members):
            kept = [c for c in members if view.prior[c] == m]
            value = sum(target.get(c, 0.0) for c in kept)
            stays.append(Stay(number, m, kind, len(members), len(kept), value))
    total_value = sum(target.get(c, 0.0) for c in with_prior)
    kept_count = _most_kept(view, need, stays, barred, by_value=False)
    kept_value = _most_kept(view, need, stays, barred, by_value=True)
    count = len(with_prior) - math.floor(kept_count + 1e-6)
    return max(count, 0), max(total_value - kept_value, 0.0)


def _most_kept(
    view: PlanView,
    need: dict[Kind, int],
    stays: list[Stay],
    barred: list[Barred],
    by_value: bool,
) -> float:
    """Most customers (or value) kept, at most, by the plans of this integer programme (its
    proven bound where the search stops at its node limit; its linear relaxation on large
    branches).

    Variables, per holder m (a manager, or managers alike counted together, see ``_holders``):
    y[m, k], how many of them hold kind k; x[s], stay s happens; z[m, k], the customers they
    hold beside the groups that stay with them; and w[k], the sum of z[., k]. Each manager
    holds at most one kind, and one
    exactly where every band it may hold starts above 0; each group stays at most once, only
    with a manager of its kind; what a manager holds is within its band; the holders of each
    kind hold all its customers; and the customers of a group ``barred`` from m that do not
    stay are held by the other managers (a group rotating away from m cannot fill m's
    minimum).
    """
    holders = _holders(view, need, stays, barred)
    pairs = [(m, k) for m in holders for k in need if may_hold_kind(view, m, k)]
    pair_index = {pair: i for i, pair in enumerate(pairs)}
    stays = [s for s in stays if (s.manager, s.kind) in pair_index]
    if not stays:
        return 0.0
    low, high = np.zeros(len(pairs)), np.zeros(len(pairs))
    for i, (m, k) in enumerate(pairs):
        lo, hi, _ = view.span_band(m, customer_type(*k))
        low[i], high[i] = lo, min(hi, len(view.customer_ids))
    n_y, n_x = len(pairs), len(stays)
    y = np.arange(n_y)
    x = n_y + np.arange(n_x)  # the stays' columns follow the y columns, then the z columns
    z = n_y + n_x + y
    of_pair = np.array([pair_index[s.manager, s.kind] for s in stays])
    managers = {m: i for i, m in enumerate(holders)}
    copies = np.array([float(holders[m]) for m, _ in pairs])
    groups = {g: i for i, g in enumerate(dict.fromkeys(s.group for s in stays))}
    kinds = {k: i for i, k in enumerate(need)}
    counts = np.array([float(need[k]) for k in kinds])
    kind_of_pair = np.array([kinds[k] for _, k in pairs])
    kind_of_stay = kind_of_pair[of_pair]
    size = np.array([float(s.size) for s in stays])
    n_k = len(kinds)
    w = n_y + n_x + n_y + np.arange(n_k)  # what the holders of each kind hold beside stays
    rows = _Rows(n_y + n_x + n_y + n_k)
    manager_of_pair = [managers[m] for m, _ in pairs]
    rows.add(manager_of_pair, y, 1.0, np.array([float(c) for c in holders.values()]))
    busy = {
        i: row for row, i in enumerate(i for m, i in managers.items() if _must_hold(m, pairs, low))
    }
    held_by_busy = [p for p in y if manager_of_pair[p] in busy]
    busy_copies = [float(holders[m]) for m, i in managers.items() if i in busy]
    rows.add(
        [busy[manager_of_pair[p]] for p in held_by_busy], held_by_busy, -1.0, -np.array(busy_copies)
    )
    rows.add([groups[s.group] for s in stays], x, 1.0, np.ones(len(groups)))
    rows.add(
        np.r_[np.arange(n_x), np.arange(n_x)],
        np.r_[x, of_pair],
        np.r_[np.ones(n_x), -np.ones(n_x)],
        np.zeros(n_x),
    )
    # What each manager holds, sum(size x) + z, is within low * y .. high * y ...
    rows.add(np.r_[of_pair, y, y], np.r_[x, z, y], np.r_[size, np.ones(n_y), -high], np.zeros(n_y))
    rows.add(np.r_[of_pair, y, y], np.r_[x, z, y], np.r_[-size, -np.ones(n_y), low], np.zeros(n_y))
    # ... and the holders of each kind hold all its customers, no more.
    held_rows, held_columns = np.r_[kind_of_stay, kind_of_pair], np.r_[x, z]
    held_values = np.r_[size, np.ones(n_y)]
    rows.add(held_rows, held_columns, held_values, counts)
    rows.add(held_rows, held_columns, -held_values, -counts)
    # w[k] = sum of z[m, k]: the rows for barred groups then need two of them, not every z.
    beside = np.r_[kind_of_pair, np.arange(n_k)], np.r_[z, w], np.r_[np.ones(n_y), -np.ones(n_k)]
    rows.add(*beside, np.zeros(n_k))
    rows.add(beside[0], beside[1], -beside[2], np.zeros(n_k))
    _barred_elsewhere(rows, barred, stays, pairs, n_y, z, {k: int(w[i]) for k, i in kinds.items()})
    gain = np.array([s.value if by_value else float(s.kept) for s in stays])
    # Whole numbers tighten the bound (a manager holds a kind or not); on large branches the
    # fractional programme's bound, in a fraction of the time, serves.
    whole = n_y + n_x <= KEPT_WHOLE_UP_TO
    solved = milp(
        -np.concatenate([np.zeros(n_y), gain, np.zeros(n_y + n_k)]),
        constraints=LinearConstraint(rows.matrix(), -np.inf, rows.bounds()),
        integrality=np.r_[np.full(n_y + n_x, int(whole)), np.zeros(n_y + n_k)],
        bounds=Bounds(0.0, np.r_[copies, np.ones(n_x), high * copies, counts]),
        # A node limit, not a clock, so the bound is the same on any machine; the clock only
        # guards against a pathological branch.
        options={"node_limit": KEPT_NODES, "time_limit": KEPT_MOST_S},
    )
    if solved.status == 0:
        return float(-solved.fun)
    bound = getattr(solved, "mip_dual_bound", None)
    if solved.status == 1 and bound is not None and math.isfinite(bound):
        return float(-bound)  # the best the search could not rule out
    return float(gain.sum())  # no kinds fit (no valid plan) or not solved: keep every stay


def _holders(
    view: PlanView, need: dict[Kind, int], stays: list[Stay], barred: list[Barred]
) -> dict[str, int]:
    """The available managers as the programme counts them: each manager a stay or a barred
    group names on its own; the others, alike in the kinds they may hold and in their bands,
    as one holder standing for that many (interchangeable: the same optimum, far fewer
    variables where managers outnumber last year's portfolios)."""
    named = {s.manager for s in stays} | {m for group in barred for m in group.away}
    holders: dict[str, int] = {}
    first_alike: dict[tuple[object, ...], str] = {}
    for m in view.available:
        if m in named:
            holders[m] = 1
            continue
        alike = tuple(
            view.span_band(m, customer_type(*k))[:2] if may_hold_kind(view, m, k) else None
            for k in need
        )
        first = first_alike.setdefault(alike, m)
        holders[first] = holders.get(first, 0) + 1
    return holders


@dataclass(frozen=True)
class Barred:
    """A group (of one kind) that may not go to the managers ``away``."""

    group: int
    kind: Kind
    size: int
    away: frozenset[str]


def _barred_from(view: PlanView, members: list[str]) -> frozenset[str]:
    """The available managers a group may not go to: those a member rotates away from, and
    all but the pinned one."""
    away = {view.prior[c] for c in members if rotation_due(view, c)}
    pins = {view.pinned[c] for c in members if view.pinned[c]}
    if pins:
        away |= set(view.available) - pins
    return frozenset(away & set(view.available))


def _barred_elsewhere(
    rows: _Rows,
    barred: list[Barred],
    stays: list[Stay],
    pairs: list[tuple[str, Kind]],
    n_y: int,
    z: np.ndarray,
    w: dict[Kind, int],
) -> None:
    """Rows: for each (m, k) with groups of kind k barred from m, the other holders of k hold
    those of them that stay nowhere, beside what they hold: w[k] - z[m, k] + sum of size x
    over the barred groups' stays >= their size."""
    stays_of: dict[int, list[int]] = defaultdict(list)
    for i, stay in enumerate(stays):
        stays_of[stay.group].append(n_y + i)
    barred_at: dict[tuple[str, Kind], list[Barred]] = defaultdict(list)
    for group in barred:
        for m in group.away:
            barred_at[m, group.kind].append(group)
    row_of: list[int] = []
    column: list[int] = []
    value: list[float] = []
    rhs: list[float] = []
    for i, (m, k) in enumerate(pairs):
        if not (groups := barred_at.get((m, k))):
            continue
        held = [(x, float(g.size)) for g in groups for x in stays_of[g.group]]
        row_of += [len(rhs)] * (2 + len(held))
        column += [w[k], int(z[i])] + [x for x, _ in held]
        value += [-1.0, 1.0] + [-size for _, size in held]
        rhs.append(-float(sum(g.size for g in groups)))
    if rhs:
        rows.add(row_of, column, value, np.array(rhs))


def _must_hold(manager: str, pairs: list[tuple[str, Kind]], low: np.ndarray) -> bool:
    """Whether every band the manager may hold starts above 0 (it cannot be left empty)."""
    lows = [low[i] for i, (m, _) in enumerate(pairs) if m == manager]
    return bool(lows) and min(lows) > 0


class _Rows:
    """A sparse constraint matrix (<= rows) built one block of rows at a time."""

    def __init__(self, n_columns: int) -> None:
        self.n_columns = n_columns
        self.parts: list[sparse.coo_matrix] = []
        self.rhs: list[np.ndarray] = []

    def add(self, rows: object, columns: object, values: object, rhs: np.ndarray) -> None:
        """Entries (rows[i], columns[i]) = values[i] (or one value for all); row bounds rhs."""
        r, c = np.asarray(rows), np.asarray(columns)
        v = np.broadcast_to(np.asarray(values, dtype=float), c.shape)
        self.parts.append(sparse.coo_matrix((v, (r, c)), shape=(len(rhs), self.n_columns)))
        self.rhs.append(np.asarray(rhs, dtype=float))

    def matrix(self) -> sparse.csr_matrix:
        return sparse.vstack(self.parts).tocsr()

    def bounds(self) -> np.ndarray:
        return np.concatenate(self.rhs)
