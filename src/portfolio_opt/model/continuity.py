"""Keep last year's relationships first: one CP-SAT model per portfolio kind over every manager.

When continuity leads the objective, most customers should simply stay. So each block that can
stay is offered only its prior managers and where it is now, while the blocks that must move
(and new customers) may go to any manager of their kind. That small model minimises the hard
rules' misses and then the moves, over the whole branch at once, which neighbourhoods of a few
managers cannot: making room for one group often takes a chain of moves across many managers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from portfolio_opt.model.cpmodel import SubModel
from portfolio_opt.model.goals import GoalSpec, Means, better_of, better_plan
from portfolio_opt.model.instance import Instance
from portfolio_opt.model.state import Move, PlanState
from portfolio_opt.model.structure import Structure

MAX_PAIRS = 60_000  # block x manager choices per model; beyond, movers get a sample of managers
MIN_CHOICES = 8  # managers offered to each block that must move, at the least
RETURN_PASSES = 3  # rounds of sending moved blocks back; each round is one sweep over them
EXCHANGE_PARTNERS = 12  # newcomers at a prior manager a moved block may change places with


def keep_relationships(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    assign: np.ndarray,
    time_limit_s: float,
    workers: int,
    seed: int,
    deterministic: bool,
    stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, float]:
    """A plan with as few moves as the hard rules allow, or ``assign`` if none is better; and
    the solver time it took (deterministic time when deterministic).

    Where staying home leaves a band or bound missed, the plan may still miss it: the
    neighbourhood search repairs such misses at the least cost in moves.
    """
    rng = np.random.default_rng(seed)
    only_continuity = replace(spec, order=("continuity",), weights=None)
    best = assign.copy()
    spent = 0.0
    kinds = [k for k in range(3) if len(structure.managers_of(k)) > 1]
    sizes = [int((instance.kind == k).sum()) for k in kinds]
    for kind, size in zip(kinds, sizes, strict=True):
        if stop is not None and stop():
            break
        managers = structure.managers_of(kind)
        blocks = np.flatnonzero(instance.kind == kind)
        offered = _choices(instance, structure, kind, blocks, best, rng)
        sub = SubModel(
            instance, structure, means, only_continuity, managers, blocks, best, offered=offered
        )
        share = time_limit_s * size / max(sum(sizes), 1)
        outcome = sub.solve(share, workers, seed, deterministic, quick_presolve=True, stop=stop)
        spent += outcome.spent
        best = better_plan(instance, structure, means, spec, best, outcome.assign)
    return best, spent


def _choices(
    instance: Instance,
    structure: Structure,
    kind: int,
    blocks: np.ndarray,
    assign: np.ndarray,
    rng: np.random.Generator,
) -> dict[int, set[int]]:
    """Managers each block may take: a block that can stay, its homes and its place; a block
    that must move, any manager, or a sample when the model would grow too big."""
    managers = structure.managers_of(kind)
    homes = {int(b): _homes(instance, structure, kind, int(b)) for b in blocks}
    movers = sum(1 for home in homes.values() if not home)
    room = max(MAX_PAIRS - 3 * (len(blocks) - movers), 0) // max(movers, 1)
    sample = min(max(room, MIN_CHOICES), len(managers))
    offered: dict[int, set[int]] = {}
    for b, home in homes.items():
        if home or sample < len(managers):
            offered[b] = home | {int(assign[b])}
        if not home and sample < len(managers):
            offered[b] |= {int(m) for m in rng.choice(managers, sample, replace=False)}
    return offered


def _homes(instance: Instance, structure: Structure, kind: int, b: int) -> set[int]:
    """Prior managers the block can stay with (they hold its kind)."""
    return {m for m in instance.kept[b] if structure.kind[m] == kind}


def send_back(
    instance: Instance,
    structure: Structure,
    means: Means,
    spec: GoalSpec,
    assign: np.ndarray,
    checks: int,
    deadline: float = math.inf,
) -> np.ndarray:
    """The plan with moved blocks sent back to a prior manager wherever the goals gain, alone or
    in exchange for a block that came to that manager from elsewhere; else ``assign`` itself.
    The most valuable blocks go first; at most ``checks`` candidates are checked, until
    ``deadline`` (monotonic clock).

    The search changes a few managers at a time and may stop with such single steps undone: a
    customer moved for no reason is what a planner notices first.
    """
    state = PlanState(instance, structure, means, spec, assign)
    until, spent = state.checks + checks, False
    for _ in range(RETURN_PASSES):
        changed = False
        for b in _moved(instance, state.assign):
            candidates = _returns(instance, structure, state, b)
            spent = state.checks + len(candidates) > until
            if spent or time.monotonic() > deadline:
                break
            moves = state.best(candidates)
            if moves is not None:
                state.apply(moves)
                changed = True
        if not changed or spent:
            break
    return better_of(instance, structure, means, spec, assign, state.assign)


def _moved(instance: Instance, assign: np.ndarray) -> list[int]:
    """Blocks away from the prior manager they would keep most with, unpinned, the most kept
    weight first."""
    moved = [
        b
        for b, kept in enumerate(instance.kept)
        if kept and instance.pin[b] < 0 and kept.get(int(assign[b]), 0) < max(kept.values())
    ]
    return sorted(moved, key=lambda b: -max(instance.kept[b].values()))


def _returns(
    instance: Instance, structure: Structure, state: PlanState, b: int
) -> list[list[Move]]:
    """Block ``b`` back to each prior manager that may hold it, alone or in exchange for a
    newcomer there that may take its place."""
    here = int(state.assign[b])
    kind = int(instance.kind[b])
    candidates: list[list[Move]] = []
    for home in instance.kept[b]:
        if home == here or structure.kind[home] != kind or home in instance.forbidden[b]:
            continue
        candidates.append([(b, home)])
        newcomers = [
            c
            for c in sorted(state.blocks[home])
            if instance.pin[c] < 0
            and instance.kept[c].get(home, 0) == 0
            and here not in instance.forbidden[c]
        ]
        candidates.extend([(b, home), (c, here)] for c in newcomers[:EXCHANGE_PARTNERS])
    return candidates
