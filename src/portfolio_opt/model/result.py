"""What a solve returns: the plan, how good it is, and how sure we are."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import pandas as pd


class SolveStatus(str, Enum):
    OPTIMAL = "optimal"  # every goal proven optimal (given the portfolio kinds chosen)
    FEASIBLE = "feasible"  # a plan keeping every hard rule; not proven optimal
    INFEASIBLE = "infeasible"  # the hard rules cannot all hold; see ``explanation``
    NO_PLAN = "no_plan"  # no plan found within the time limit


GOAL_UNITS = {
    "span": "sum over managers of |M x customers - N|, plus M per customer beyond the manager's "
    "even share of its portfolio kind",
    "balance": "target deviations beyond +-0.1% of the kind's mean, 1e6 = one mean portfolio",
    "chain": "weight of chain links cut, x100",
    "industry": "sum over portfolios of distinct industries",
    "continuity": "moves, ~1000 per customer plus up to 999 by value",
    "affinity": "total affinity cost, in steps fine enough for every cost (scale a unit)",
}


@dataclass
class Result:
    status: SolveStatus
    assignment: pd.DataFrame | None = None
    goals: dict[str, int] = field(default_factory=dict)
    bounds: dict[str, float] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    scales: dict[str, float] = field(default_factory=dict)  # goal units per readable unit
    objective: float | None = None
    best_bound: float | None = None
    runtime: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    explanation: list[str] = field(default_factory=list)
    iterations: int = 0
    method: str = ""

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.best_bound is None:
            return None
        if self.objective <= 0:
            return 0.0
        return max(0.0, (self.objective - self.best_bound) / self.objective)

    @property
    def has_plan(self) -> bool:
        return self.assignment is not None
