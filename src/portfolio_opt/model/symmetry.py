"""Interchangeable managers: same kind, bands, capacity, and no pins, priors, rotation or affinity
that tell them apart. Among them any plan can be relabelled, so the model fixes one labelling."""

from __future__ import annotations

import numpy as np

from portfolio_opt.model.instance import Instance
from portfolio_opt.model.structure import Structure


def _signature(instance: Instance, structure: Structure, m: int) -> tuple[object, ...] | None:
    """What distinguishes manager ``m``; None when something personal does."""
    if (instance.pin == m).any() or any(m in f for f in instance.forbidden):
        return None
    if any(m in kept for kept in instance.kept):
        return None
    if instance.affinity_cost is not None or instance.workload is not None:
        return None
    kind = int(structure.kind[m])
    return (kind, int(instance.low[kind, m]), int(instance.high[kind, m]))


def interchangeable_classes(instance: Instance, structure: Structure) -> list[list[int]]:
    """Groups of two or more managers that are interchangeable, each in index order."""
    classes: dict[tuple[object, ...], list[int]] = {}
    for m in range(instance.n_managers):
        signature = _signature(instance, structure, m)
        if signature is not None:
            classes.setdefault(signature, []).append(m)
    return [c for c in classes.values() if len(c) > 1]


def block_order(instance: Instance, kind: int) -> list[int]:
    """Blocks of a kind, largest target first (ties by size, then index): the labelling order."""
    blocks = np.flatnonzero((instance.kind == kind) & (instance.pin < 0))
    return sorted(blocks.tolist(), key=lambda b: (-instance.value_units[b], -instance.size[b], b))


def allowed_labels(
    instance: Instance, classes: list[list[int]], structure: Structure
) -> dict[int, set[int]]:
    """Per block, the interchangeable managers it may not use (block j: only the first j+1)."""
    banned: dict[int, set[int]] = {}
    for members in classes:
        kind = int(structure.kind[members[0]])
        for j, b in enumerate(block_order(instance, kind)):
            if j + 1 >= len(members):
                break
            banned[b] = set(members[j + 1 :])
    return banned


def relabel(
    instance: Instance, classes: list[list[int]], structure: Structure, assign: np.ndarray
) -> np.ndarray:
    """The same plan with interchangeable managers renamed to satisfy the fixed labelling."""
    result = assign.copy()
    for members in classes:
        kind = int(structure.kind[members[0]])
        member_set = set(members)
        mapping: dict[int, int] = {}
        free = iter(members)
        for b in block_order(instance, kind):
            m = int(assign[b])
            if m in member_set and m not in mapping:
                mapping[m] = next(free)
        for m in members:
            if m not in mapping:
                mapping[m] = next(free)
        holders = np.isin(assign, members)
        result[holders] = [mapping[int(m)] for m in assign[holders]]
    return result
