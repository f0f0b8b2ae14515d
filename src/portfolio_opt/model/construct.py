"""A first plan that keeps the hard rules where a greedy can: the search's starting point.

Per portfolio kind: pinned blocks first, then largest blocks first, each to the manager that is
furthest below its share of customers and of target (longest-processing-time style), preferring
last year's manager when continuity leads the policy and linked customers when the chain does.
"""

from __future__ import annotations

import heapq

import networkx as nx
import numpy as np

from portfolio_opt.model.goals import GoalSpec, Means
from portfolio_opt.model.instance import Instance
from portfolio_opt.model.structure import Structure


def _target_counts(instance: Instance, managers: np.ndarray, kind: int, total: int) -> np.ndarray:
    """Customers per manager as even as the bands allow, adding to ``total`` where possible."""
    low = instance.low[kind, managers].astype(float)
    high = instance.high[kind, managers].astype(float)
    lo_level, hi_level = 0.0, float(total) + 1
    for _ in range(60):  # water-filling: find the level whose clipped sizes add to total
        level = (lo_level + hi_level) / 2
        if np.clip(level, low, high).sum() < total:
            lo_level = level
        else:
            hi_level = level
    return np.clip(hi_level, low, high)


def _neighbours(instance: Instance) -> list[list[tuple[int, int]]]:
    adjacency: list[list[tuple[int, int]]] = [[] for _ in range(instance.n_blocks)]
    for u, v, w in zip(instance.edge_u, instance.edge_v, instance.edge_w, strict=True):
        adjacency[int(u)].append((int(v), int(w)))
        adjacency[int(v)].append((int(u), int(w)))
    return adjacency


def construct(instance: Instance, structure: Structure, means: Means, spec: GoalSpec) -> np.ndarray:
    """Block -> manager, built greedily kind by kind."""
    assign = np.full(instance.n_blocks, -1, dtype=np.int64)
    order = list(spec.order)
    rank = {
        g: (order.index(g) if g in order else len(order))
        for g in ("balance", "chain", "continuity")
    }
    adjacency = _neighbours(instance)
    for kind in range(3):
        managers = structure.managers_of(kind)
        blocks = np.flatnonzero(instance.kind == kind)
        if not len(blocks):
            continue
        if not len(managers):
            managers = np.arange(instance.n_managers)
        total = int(instance.size[blocks].sum())
        want = _target_counts(instance, managers, kind, total)
        value_share = instance.value_units[blocks].sum() / len(managers)
        count = np.zeros(len(managers))
        value = np.zeros(len(managers))
        local = {int(m): i for i, m in enumerate(managers)}
        high = instance.high[kind, managers]
        pinned = [b for b in blocks if instance.pin[b] >= 0]
        free = sorted(
            (b for b in blocks if instance.pin[b] < 0),
            key=lambda b: (-instance.size[b], -abs(instance.value_units[b]), b),
        )
        for b in pinned:
            i = local.get(int(instance.pin[b]))
            if i is None:
                assign[b] = int(instance.pin[b])
                continue
            assign[b] = int(managers[i])
            count[i] += instance.size[b]
            value[i] += instance.value_units[b]
        if rank["chain"] < rank["balance"] and len(instance.edge_u):
            _pack_communities(instance, managers, free, want, adjacency, assign, count, value,
                              seed=0)
        for b in free:
            if assign[b] >= 0:
                continue
            size = instance.size[b]
            fill = (count + size) / np.maximum(want, 1) + (value + instance.value_units[b]) / max(
                abs(value_share), 1
            )
            score = fill.copy()
            # Last year's manager is a good start even when continuity ranks low: the search
            # then moves only what the higher goals need.
            pull = 4.0 if rank["continuity"] < rank["balance"] else 0.6
            for m, w in instance.kept[b].items():
                if m in local:
                    score[local[m]] -= pull * w / max(int(instance.total_move_weight[b]), 1)
            if rank["chain"] < rank["balance"]:
                for nb, w in adjacency[b]:
                    if assign[nb] in local:
                        score[local[int(assign[nb])]] -= 0.5 * w / 100
            fits = count + size <= high
            for m in instance.forbidden[b]:
                if m in local:
                    fits[local[m]] = False
            if not fits.any():
                fits = np.ones(len(managers), dtype=bool)
                for m in instance.forbidden[b]:
                    if m in local:
                        fits[local[m]] = False
                if not fits.any():
                    fits[:] = True
            over = count + size > want + 0.5
            score = np.where(over, score + 10.0, score)
            i = int(np.argmin(np.where(fits, score, np.inf)))
            assign[b] = int(managers[i])
            count[i] += size
            value[i] += instance.value_units[b]
    assign[assign < 0] = 0
    return assign


def _grow_regions(
    instance: Instance, managers: np.ndarray, free: list[int], want: np.ndarray,
    value_share: float, adjacency: list[list[tuple[int, int]]], assign: np.ndarray,
    count: np.ndarray, value: np.ndarray,
) -> None:
    """Greedy graph growing: each manager in turn takes, among the free blocks most linked to what
    it already holds, the one that keeps its target on track, until it has its share of customers."""
    free_set = set(free)
    degree = {b: sum(w for nb, w in adjacency[b] if nb in free_set) for b in free}
    seeds = iter(sorted(free, key=lambda b: (-degree[b], b)))
    for i, m in enumerate(managers):
        m = int(m)
        rate = value_share / max(want[i], 1.0)  # target value per customer
        gain: dict[int, int] = {}
        heap: list[tuple[int, int]] = []

        def link(block: int) -> None:
            for nb, w in adjacency[block]:
                if nb in free_set:
                    gain[nb] = gain.get(nb, 0) + w
                    heapq.heappush(heap, (-gain[nb], nb))

        for b in np.flatnonzero(assign == m):  # pinned blocks seed their manager's region
            link(int(b))
        while count[i] < want[i] - 0.5:
            options = _frontier(heap, gain, free_set, instance, m, count[i], want[i])
            if not options:
                seed = next((b for b in seeds if b in free_set
                             and m not in instance.forbidden[b]
                             and count[i] + instance.size[b] <= want[i] + 0.5), None)
                if seed is None:
                    break
                options = [seed]
            best = max(gain.get(b, 0) for b in options)
            close = [b for b in options if gain.get(b, 0) * 2 >= best]
            block = min(close, key=lambda b: (abs(value[i] + instance.value_units[b]
                                                  - (count[i] + instance.size[b]) * rate), b))
            for other in options:
                if other != block and other in gain:
                    heapq.heappush(heap, (-gain[other], other))
            assign[block] = m
            free_set.discard(block)
            gain.pop(block, None)
            count[i] += instance.size[block]
            value[i] += instance.value_units[block]
            link(block)


def _frontier(
    heap: list[tuple[int, int]], gain: dict[int, int], free_set: set[int], instance: Instance,
    manager: int, count: float, want: float, width: int = 8,
) -> list[int]:
    """Up to ``width`` free blocks most linked to the region that still fit its count."""
    options: list[int] = []
    seen: set[int] = set()
    while heap and len(options) < width:
        weight, block = heapq.heappop(heap)
        if block in seen or block not in free_set or -weight != gain.get(block):
            continue
        seen.add(block)
        if manager in instance.forbidden[block] or count + instance.size[block] > want + 0.5:
            continue
        options.append(block)
    return options


def _pack_communities(
    instance: Instance, managers: np.ndarray, free: list[int], want: np.ndarray,
    adjacency: list[list[tuple[int, int]]], assign: np.ndarray, count: np.ndarray,
    value: np.ndarray, seed: int,
) -> None:
    """Chain communities (Louvain) packed whole into portfolios, largest first; a community too
    big for any portfolio is cut along a breadth-first order into portfolio-sized pieces."""
    free_set = set(free)
    graph = nx.Graph()
    graph.add_nodes_from(free)
    for b in free:
        for nb, w in adjacency[b]:
            if nb in free_set and b < nb:
                graph.add_edge(b, nb, weight=w)
    communities = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    pieces = sorted((sorted(c) for c in communities if len(c) > 1),
                    key=lambda c: (-int(instance.size[c].sum()), c[0]))
    room = want - count
    for piece in pieces:
        for chunk in _chunks(piece, graph, instance, float(room.max())):
            need = int(instance.size[chunk].sum())
            fits = np.flatnonzero(room >= need - 0.5)
            if not len(fits):
                continue  # left to the greedy fill
            i = int(fits[np.argmax(room[fits])])
            m = int(managers[i])
            if any(m in instance.forbidden[b] for b in chunk):
                continue
            assign[chunk] = m
            room[i] -= need
            count[i] += need
            value[i] += instance.value_units[chunk].sum()


def _chunks(piece: list[int], graph: nx.Graph, instance: Instance, largest: float) -> list[list[int]]:
    """The piece as it is, or cut into connected runs of a breadth-first order that each fit."""
    if instance.size[piece].sum() <= largest or largest < 1:
        return [piece]
    start = max(piece, key=lambda b: (graph.degree(b, weight="weight"), -b))
    order = [start, *(v for _, v in nx.bfs_edges(graph.subgraph(piece), start))]
    order += [b for b in piece if b not in set(order)]
    chunks, current, size = [], [], 0
    for b in order:
        if size + instance.size[b] > largest and current:
            chunks.append(current)
            current, size = [], 0
        current.append(b)
        size += int(instance.size[b])
    if current:
        chunks.append(current)
    return chunks
