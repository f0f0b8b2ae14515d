"""Fast local search on target balance: moves and swaps between an over- and an under-target
manager of one kind, accepted only when no goal ranked above balance gets worse."""

from __future__ import annotations

import time

import numpy as np

from portfolio_opt.model.instance import Instance
from portfolio_opt.model.state import Move, PlanState

CANDIDATES = 12  # best few moves by balance gain, checked in full
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
        for i in np.argsort(-gain)[:CANDIDATES]:
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


def polish_balance(state: PlanState, deadline: float, rng: np.random.Generator) -> int:
    """Improve balance until no pair of managers gains or time runs out; return moves made."""
    inst = state.inst
    made = 0
    for kind in range(3):
        managers = state.structure.managers_of(kind)
        if len(managers) < 2:
            continue
        stale, rounds = 0, 0
        while stale < 3 and rounds < MAX_ROUNDS and time.monotonic() < deadline:
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
                tuple(int(x) for x in rng.choice(managers, 2, replace=False)) for _ in range(4)
            ]
            for over, under in pairs:
                if over == under:
                    continue
                if state.total[over] < state.total[under]:
                    over, under = under, over
                for moves in _candidates(inst, state, over, under):
                    if state.improves(state.delta(moves)):
                        state.apply(moves)
                        made += 1
                        improved = True
                        break
                if improved:
                    break
            stale = 0 if improved else stale + 1
    return made
