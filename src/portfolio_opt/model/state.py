"""A plan held incrementally, so a local move is priced in microseconds, not a full evaluation."""

from __future__ import annotations

from collections import Counter

import numpy as np

from portfolio_opt.model.goals import GoalSpec, Means, span_terms
from portfolio_opt.model.instance import STANDARD, Instance
from portfolio_opt.model.structure import Structure

Move = tuple[int, int]  # (block, new manager)


class PlanState:
    """Per-manager counts, targets and industries of a plan, with exact goal deltas for moves."""

    def __init__(
        self,
        instance: Instance,
        structure: Structure,
        means: Means,
        spec: GoalSpec,
        assign: np.ndarray,
    ) -> None:
        self.inst, self.structure, self.means, self.spec = instance, structure, means, spec
        self.assign = assign.copy()
        m = instance.n_managers
        self.count = np.bincount(assign, weights=instance.size, minlength=m).astype(np.int64)
        self.total = np.bincount(assign, weights=instance.value_units, minlength=m).astype(float)
        self.blocks: list[set[int]] = [set() for _ in range(m)]
        self.industry: list[Counter[int]] = [Counter() for _ in range(m)]
        for b, mm in enumerate(assign):
            self.blocks[int(mm)].add(b)
            self.industry[int(mm)].update(int(i) for i in instance.industries[b])
        kind = structure.kind
        self.low = instance.low[kind, np.arange(m)]
        self.high = instance.high[kind, np.arange(m)]
        self.adjacency: list[list[tuple[int, int]]] = [[] for _ in range(instance.n_blocks)]
        for u, v, w in zip(instance.edge_u, instance.edge_v, instance.edge_w, strict=True):
            self.adjacency[int(u)].append((int(v), int(w)))
            self.adjacency[int(v)].append((int(u), int(w)))
        self.goal_names = ["violation", *spec.order]
        self.checks = 0  # candidate changes scored so far: a measure of work, not of time
        self.load: np.ndarray = np.zeros(m)
        if instance.workload is not None:
            self.load = np.bincount(
                assign, weights=instance.workload[np.arange(instance.n_blocks), assign], minlength=m
            )

    # -- per-manager terms -------------------------------------------------------------------
    def _manager_terms(
        self, m: int, count: int, total: float, industries: int, load: float
    ) -> dict[str, float]:
        inst, means = self.inst, self.means
        band = max(self.low[m] - count, 0) + max(count - self.high[m], 0)
        hard = 0.0
        if count > 0 and self.structure.kind[m] == STANDARD:
            hard = max(means.hard_low[m] - total, 0) + max(total - means.hard_high[m], 0)
        balance = max(abs(total - means.mean[m]) - means.deadband[m], 0) if count > 0 else 0.0
        over = 0.0
        if inst.capacity is not None and inst.capacity[m] >= 0:
            over = max(load - inst.capacity[m], 0.0)
        return {
            "violation": band * 1_000_000 + np.ceil(hard) + np.ceil(over) * 1000,
            "span": float(span_terms(inst, means, np.array([count]), np.array([m]))[0]),
            "balance": balance,
            "industry": industries,
        }

    def delta(self, moves: list[Move]) -> dict[str, float]:
        """Change of every goal if ``moves`` were applied together."""
        self.checks += 1
        inst = self.inst
        new_of = {b: m for b, m in moves}
        touched = {int(self.assign[b]) for b, _ in moves} | {m for _, m in moves}
        count = {m: int(self.count[m]) for m in touched}
        total = {m: float(self.total[m]) for m in touched}
        industry = {m: Counter(self.industry[m]) for m in touched}
        load = {m: float(self.load[m]) for m in touched}
        result = dict.fromkeys(self.goal_names, 0.0)
        for b, to in moves:
            frm = int(self.assign[b])
            if frm == to:
                continue
            count[frm] -= int(inst.size[b])
            count[to] += int(inst.size[b])
            total[frm] -= float(inst.value_units[b])
            total[to] += float(inst.value_units[b])
            if inst.workload is not None:
                load[frm] -= float(inst.workload[b, frm])
                load[to] += float(inst.workload[b, to])
            codes = [int(i) for i in inst.industries[b]]
            industry[frm].subtract(codes)
            industry[to].update(codes)
            kept = inst.kept[b]
            result["continuity"] = (
                result.get("continuity", 0.0) + kept.get(frm, 0) - kept.get(to, 0)
            )
            if inst.affinity_cost is not None:
                result["affinity"] = result.get("affinity", 0.0) + float(
                    inst.affinity_cost[b, to] - inst.affinity_cost[b, frm]
                )
        for m in touched:
            before = self._manager_terms(
                m,
                int(self.count[m]),
                float(self.total[m]),
                sum(1 for c in self.industry[m].values() if c > 0),
                float(self.load[m]),
            )
            after = self._manager_terms(
                m, count[m], total[m], sum(1 for c in industry[m].values() if c > 0), load[m]
            )
            for goal in ("violation", "span", "balance", "industry"):
                result[goal] = result.get(goal, 0.0) + after[goal] - before[goal]
        result["chain"] = self._chain_delta(new_of)
        return result

    def _chain_delta(self, new_of: dict[int, int]) -> float:
        change = 0.0
        seen: set[tuple[int, int]] = set()
        for b, to in new_of.items():
            for nb, w in self.adjacency[b]:
                key = (min(b, nb), max(b, nb))
                if key in seen:
                    continue
                seen.add(key)
                before = self.assign[b] != self.assign[nb]
                after = to != new_of.get(nb, int(self.assign[nb]))
                change += w * (int(after) - int(before))
        return change

    def improves(self, change: dict[str, float]) -> bool:
        """Whether a change is strictly better: lexicographically, or by the weighted sum."""
        if change["violation"] < -1e-9:
            return True
        if change["violation"] > 1e-9:
            return False
        if self.spec.weights is None:
            for goal in self.spec.order:
                value = change.get(goal, 0.0)
                if value < -1e-9:
                    return True
                if value > 1e-9:
                    return False
            return False
        return self.spec.weighted(change) < -1e-9

    def best(self, candidates: list[list[Move]]) -> list[Move] | None:
        """The improving candidate that leaves the goals best, in their order.

        While a band or bound is missed, any step that reduces the miss qualifies, and the one that
        does least harm to the goals (chain links, continuity) wins: repairs stay cheap.
        """
        best_key, best_moves = None, None
        for moves in candidates:
            change = self.delta(moves)
            if not self.improves(change):
                continue
            repairing = change["violation"] < -1e-9
            key = (
                0 if repairing else 1,
                *(change.get(g, 0.0) for g in self.spec.order),
                change["violation"],
            )
            if best_key is None or key < best_key:
                best_key, best_moves = key, moves
        return best_moves

    def apply(self, moves: list[Move]) -> None:
        inst = self.inst
        for b, to in moves:
            frm = int(self.assign[b])
            if frm == to:
                continue
            self.assign[b] = to
            self.count[frm] -= int(inst.size[b])
            self.count[to] += int(inst.size[b])
            self.total[frm] -= float(inst.value_units[b])
            self.total[to] += float(inst.value_units[b])
            if inst.workload is not None:
                self.load[frm] -= float(inst.workload[b, frm])
                self.load[to] += float(inst.workload[b, to])
            self.blocks[frm].discard(b)
            self.blocks[to].add(b)
            codes = [int(i) for i in inst.industries[b]]
            self.industry[frm].subtract(codes)
            self.industry[to].update(codes)
