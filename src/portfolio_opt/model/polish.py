"""Fast local search on target balance: moves and swaps between an over- and an under-target
manager of one kind, accepted only when no goal ranked above balance gets worse."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from portfolio_opt.model.instance import Instance
from portfolio_opt.model.state import Move, PlanState

CANDIDATES = 24  # best few moves by balance gain, checked in full
SPREAD_PARTNERS = 20  # managers a portfolio off the even spread may trade with, per step
MAX_ROUNDS = 50_000  # ends the search on its own when no deadline is given (deterministic mode)


def _allowed(inst: Instance, state: PlanState, b: int, m: int) -> bool:
    if inst.pin[b] >= 0:
        return False
    return m not in inst.forbidden[b]


def _candidates(inst: Instance, state: PlanState, over: int, under: int) -> list[list[Move]]:
    """Single moves over->under and swaps, best balance gain first."""
    gap = state.total[over] - state.total[under]
    a = np.array([b for b in state.blocks[over] if _allowed(inst, state, b, under)], dtype=np.int64)
    c = np.array([b for b in state.blocks[under] if _allowed(inst, state, b, over)], dtype=np.int64)
    options: list[tuple[float, list[Move]]] = []
    if len(a):
        shift = inst.value_units[a].astype(float)
        gain = np.abs(gap) - np.abs(gap - 2 * shift)
        # Blocks that lose nothing by moving (no prior here) are cheap repairs: always offer some.
        free = np.array([inst.kept[int(b)].get(over, 0) == 0 for b in a])
        picks = [*np.argsort(-gain)[:CANDIDATES], *np.argsort(-np.where(free, gain, -np.inf))[:8]]
        for i in dict.fromkeys(int(i) for i in picks):
            if gain[i] > 0:
                options.append((float(gain[i]), [(int(a[i]), under)]))
    if len(a) and len(c):
        shift = inst.value_units[a][:, None].astype(float) - inst.value_units[c][None, :]
        same_size = inst.size[a][:, None] == inst.size[c][None, :]
        gain = np.where(same_size, np.abs(gap) - np.abs(gap - 2 * shift), -np.inf)
        flat = np.argsort(-gain, axis=None)[:CANDIDATES]
        for k in flat:
            i, j = np.unravel_index(k, gain.shape)
            if gain[i, j] > 0:
                options.append((float(gain[i, j]), [(int(a[i]), under), (int(c[j]), over)]))
    options.sort(key=lambda item: -item[0])
    return [moves for _, moves in options]


def _time_up(
    deadline: float,
    stop: Callable[[], bool] | None,
    state: PlanState | None = None,
    checks: float = math.inf,
) -> bool:
    """Past ``deadline``, asked to stop, or ``state`` has scored ``checks`` candidates in all."""
    spent = state is not None and state.checks >= checks
    return spent or time.monotonic() > deadline or (stop is not None and stop())


def polish_balance(
    state: PlanState,
    deadline: float,
    rng: np.random.Generator,
    stop: Callable[[], bool] | None = None,
    max_checks: float = math.inf,
) -> int:
    """Improve balance until no pair of managers gains, time runs out, ``max_checks``
    candidates are scored or ``stop()`` turns true; return the moves made."""
    inst = state.inst
    made = 0
    until = state.checks + max_checks
    for kind in range(3):
        managers = state.structure.managers_of(kind)
        if len(managers) < 2:
            continue
        stale, rounds = 0, 0
        while stale < 3 and rounds < MAX_ROUNDS and not _time_up(deadline, stop, state, until):
            rounds += 1
            dev = state.total[managers] - state.means.mean[managers]
            order = np.argsort(dev)
            improved = False
            pairs = [
                (int(managers[order[-1 - i]]), int(managers[order[j]]))
                for i in range(min(4, len(order)))
                for j in range(min(4, len(order)))
            ]
            pairs += [
                (int(a), int(b))
                for a, b in (rng.choice(managers, 2, replace=False) for _ in range(4))
            ]
            for over, under in pairs:
                if over == under:
                    continue
                if state.total[over] < state.total[under]:
                    over, under = under, over
                choice = state.best(_candidates(inst, state, over, under))
                if choice is not None:
                    state.apply(choice)
                    made += 1
                    improved = True
                if improved:
                    break
            stale = 0 if improved else stale + 1
    return made


def _links_by_manager(state: PlanState, b: int) -> dict[int, int]:
    weights: dict[int, int] = {}
    for nb, w in state.adjacency[b]:
        m = int(state.assign[nb])
        weights[m] = weights.get(m, 0) + w
    return weights


def _swap_partners(state: PlanState, b: int, target: int, limit: int = 8) -> list[int]:
    """Blocks at ``target`` of the same size and closest target value, least tied to ``target``."""
    inst = state.inst
    same = [c for c in state.blocks[target] if inst.size[c] == inst.size[b] and inst.pin[c] < 0]
    same.sort(key=lambda c: abs(float(inst.value_units[c] - inst.value_units[b])))
    return same[:limit]


def polish_chain(
    state: PlanState,
    deadline: float,
    passes: int = 6,
    stop: Callable[[], bool] | None = None,
    max_checks: float = math.inf,
) -> int:
    """Move or swap blocks towards the managers they are linked to (a Fiduccia-Mattheyses-like
    pass), keeping every band and bound; stops when a pass finds nothing, time runs out,
    ``max_checks`` candidates are scored or ``stop()`` turns true."""
    inst = state.inst
    made = 0
    until = state.checks + max_checks
    for _ in range(passes):
        improved = 0
        order = sorted(
            (b for b in range(inst.n_blocks) if state.adjacency[b] and inst.pin[b] < 0),
            key=lambda b: -sum(w for _, w in state.adjacency[b]),
        )
        for b in order:
            if _time_up(deadline, stop, state, until):
                return made
            here = int(state.assign[b])
            links = _links_by_manager(state, b)
            inside = links.get(here, 0)
            for target, weight in sorted(links.items(), key=lambda kv: -kv[1])[:3]:
                if weight <= inside or target == here:
                    break
                if state.structure.kind[target] != inst.kind[b] or target in inst.forbidden[b]:
                    continue
                options: list[list[Move]] = [[(b, target)]]
                options += [
                    [(b, target), (c, here)]
                    for c in _swap_partners(state, b, target)
                    if here not in inst.forbidden[c]
                ]
                choice = state.best(options)
                if choice is not None:
                    state.apply(choice)
                    made += 1
                    improved += 1
                    break
        if not improved:
            break
    return made


def _band_candidates(state: PlanState, m: int, kind_managers: np.ndarray) -> list[list[Move]]:
    """Moves that bring manager ``m`` back into its band: blocks pulled in or pushed out,
    cheapest for continuity first."""
    inst = state.inst
    options: list[tuple[int, list[Move]]] = []
    if state.count[m] < state.low[m]:
        for other in kind_managers:
            other = int(other)
            if other == m or state.count[other] <= state.low[other]:
                continue
            for b in state.blocks[other]:
                if _allowed(inst, state, b, m):
                    cost = inst.kept[b].get(other, 0) - inst.kept[b].get(m, 0)
                    options.append((cost, [(b, m)]))
    elif state.count[m] > state.high[m]:
        for b in state.blocks[m]:
            for other in kind_managers:
                other = int(other)
                if (
                    other != m
                    and state.count[other] < state.high[other]
                    and _allowed(inst, state, b, other)
                ):
                    cost = inst.kept[b].get(m, 0) - inst.kept[b].get(other, 0)
                    options.append((cost, [(b, other)]))
    options.sort(key=lambda item: item[0])
    return [moves for _, moves in options[:40]]


Candidates = Callable[[PlanState, int, np.ndarray], list[list[Move]]]


def _bring_within(
    state: PlanState,
    low: np.ndarray,
    high: np.ndarray,
    candidates: Candidates,
    deadline: float,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Per kind, step the managers whose count is outside ``low..high`` back in, with the best
    of their ``candidates`` moves, until none moves; return the moves made."""
    made = 0
    for kind in range(3):
        managers = state.structure.managers_of(kind)
        for _ in range(10 * len(managers)):
            if _time_up(deadline, stop):
                return made
            outside = [int(m) for m in managers if not low[m] <= state.count[m] <= high[m]]
            moved = False
            for m in outside:
                choice = state.best(candidates(state, m, managers))
                if choice is not None:
                    state.apply(choice)
                    made += 1
                    moved = True
            if not moved:
                break
    return made


def repair_bands(state: PlanState, deadline: float) -> int:
    """Bring every manager's count into its band, moving the blocks that cost least."""
    return _bring_within(state, state.low, state.high, _band_candidates, deadline)


def _spread_candidates(state: PlanState, m: int, managers: np.ndarray) -> list[list[Move]]:
    """Single blocks moved out of ``m`` when it is above its kind's even spread, or into it
    when below, between managers that stay within the spread; cheapest for continuity first."""
    inst, even_low, even_high = state.inst, state.means.even_low, state.means.even_high
    others = managers[managers != m]
    # The fullest portfolios give, the emptiest take: a few of them are enough.
    if state.count[m] > even_high[m]:
        pairs = [(m, int(o)) for o in others[np.argsort(state.count[others])][:SPREAD_PARTNERS]]
    else:
        pairs = [(int(o), m) for o in others[np.argsort(-state.count[others])][:SPREAD_PARTNERS]]
    options: list[tuple[int, list[Move]]] = []
    for source, target in pairs:
        for b in state.blocks[source]:
            size = int(inst.size[b])
            if state.count[source] - size < even_low[source]:
                continue
            if state.count[target] + size > min(even_high[target], state.high[target]):
                continue
            if _allowed(inst, state, b, target):
                cost = inst.kept[b].get(source, 0) - inst.kept[b].get(target, 0)
                options.append((cost, [(b, target)]))
    options.sort(key=lambda item: item[0])
    return [moves for _, moves in options[:40]]


def spread_evenly(state: PlanState, deadline: float, stop: Callable[[], bool] | None = None) -> int:
    """Move blocks from managers above their kind's even spread to those below it, while the
    objective gains (so only where span ranks above what the move costs); return moves made.

    On large branches the search may not get round to every manager: this settles the span
    goal cheaply right after the first plan."""
    means = state.means
    return _bring_within(state, means.even_low, means.even_high, _spread_candidates, deadline, stop)
