"""The last balance misses, closed with exchanges of up to two blocks each way.

A portfolio can end just outside the deadband when few of its blocks can move: large groups
fill most of it, and no single swap shifts a value inside the narrow window it needs. Any pair
of its blocks traded for up to two of another manager's blocks of the same size widens the
choice a thousandfold. Each side's options are sorted by value, so the window is a binary search.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from portfolio_opt.model.state import Move, PlanState

PAIRED_BLOCKS = 80  # blocks of a portfolio that enter pairs; the rest trade singly
PARTNERS_WITH_HITS = 6  # partners whose exchanges are compared, per step
MAX_PARTNERS = 40  # partners tried per step, those with the most room first
HITS_PER_PARTNER = 4
PART_OF_ROOM = 0.25  # a step shifts at least this share of what its partner can take


def _options(state: PlanState, manager: int, to: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sets of at most two of ``manager``'s blocks that may all go to ``to``: their blocks (an
    (options, 2) array, -1 for none), total value and total size. The empty set is the first."""
    inst = state.inst
    movable = np.array(
        sorted(b for b in state.blocks[manager] if inst.pin[b] < 0 and to not in inst.forbidden[b]),
        dtype=np.int64,
    )
    paired = movable[:PAIRED_BLOCKS]
    first, second = np.triu_indices(len(paired), k=1)
    blocks = np.concatenate(
        [
            np.array([[-1, -1]], dtype=np.int64),
            np.stack([movable, np.full(len(movable), -1)], axis=1),
            np.stack([paired[first], paired[second]], axis=1),
        ]
    )
    value = np.append(inst.value_units.astype(float), 0.0)[blocks].sum(axis=1)
    size = np.append(inst.size, 0)[blocks].sum(axis=1)
    return blocks, value, size


def _exchanges(
    state: PlanState, out: int, partner: int, low: float, high: float
) -> list[tuple[float, list[Move]]]:
    """Exchanges between ``out`` and ``partner`` of equal size that shift ``out``'s total
    towards its mean by ``low`` to ``high``, each with its shift, the largest shifts first."""
    sign = 1.0 if state.total[out] > state.means.mean[out] else -1.0
    given, given_value, given_size = _options(state, out, partner)
    taken, taken_value, taken_size = _options(state, partner, out)
    found: list[tuple[float, list[Move]]] = []
    for size in np.intersect1d(given_size, taken_size):
        if size == 0:
            continue
        give = np.flatnonzero(given_size == size)
        take = np.flatnonzero(taken_size == size)
        take = take[np.argsort(taken_value[take])]
        values = taken_value[take]
        # shift = sign * (given - taken) in [low, high]: taken lies in a window around given
        if sign > 0:
            start = np.searchsorted(values, given_value[give] - high, side="left")
            stop = np.searchsorted(values, given_value[give] - low, side="right")
            pick = start  # the least taken shifts most
        else:
            start = np.searchsorted(values, given_value[give] + low, side="left")
            stop = np.searchsorted(values, given_value[give] + high, side="right")
            pick = stop - 1
        for g in np.flatnonzero(stop > start):
            t = take[pick[g]]
            moves = [(int(b), partner) for b in given[give[g]] if b >= 0]
            moves += [(int(b), out) for b in taken[t] if b >= 0]
            found.append((sign * (given_value[give[g]] - taken_value[t]), moves))
    found.sort(key=lambda item: -item[0])
    return found[:HITS_PER_PARTNER]


def _step(state: PlanState, out: int, managers: np.ndarray) -> list[Move] | None:
    """The best exchange that brings ``out`` towards its deadband without pushing a partner out
    of its own: into it where one partner can take the whole miss, else a good part of the way
    (the next steps trade with other partners)."""
    means = state.means
    dev = state.total - means.mean
    sign = 1.0 if dev[out] > 0 else -1.0
    low = abs(dev[out]) - means.deadband[out]
    high = abs(dev[out]) + means.deadband[out]
    # How far each manager may move the other way before it leaves its own deadband.
    room = means.deadband - sign * dev
    candidates: list[list[Move]] = []
    partners = 0
    for p in managers[np.argsort(-room[managers])][:MAX_PARTNERS]:
        p = int(p)
        if room[p] <= 0:
            break
        if p == out or state.count[p] == 0:
            continue
        most = min(high, room[p])
        found = _exchanges(state, out, p, min(low, PART_OF_ROOM * most), most)
        if found:
            candidates += [moves for _, moves in found]
            partners += 1
            if partners >= PARTNERS_WITH_HITS:
                break
    return state.best(candidates) if candidates else None


def close_deadband(
    state: PlanState, deadline: float, stop: Callable[[], bool] | None = None
) -> int:
    """Bring portfolios outside the balance deadband back in with exchanges of up to two blocks
    each way, largest miss first, while time lasts; return the exchanges made."""
    made = 0
    means = state.means
    for kind in range(3):
        managers = state.structure.managers_of(kind)
        if len(managers) < 2:
            continue
        tried: set[int] = set()
        while time.monotonic() < deadline and not (stop is not None and stop()):
            miss = np.abs(state.total[managers] - means.mean[managers]) - means.deadband[managers]
            miss[state.count[managers] == 0] = 0
            out = [int(managers[i]) for i in np.argsort(-miss) if miss[i] > 1e-9]
            out = [m for m in out if m not in tried]
            if not out:
                break
            choice = _step(state, out[0], managers)
            if choice is None:
                tried.add(out[0])
                continue
            state.apply(choice)
            made += 1
            tried.clear()
    return made
