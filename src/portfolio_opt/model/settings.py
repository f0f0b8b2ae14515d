"""How a solve is run: its time, threads and seed, and how it reports progress."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portfolio_opt.scenario.data import Scenario

# Candidates scored per second of a share, about, on 2 cores here: deterministic local passes
# count them rather than the clock, so that a share ends at the same point on any machine.
CHECKS_PER_S = 10_000

ProgressFn = Callable[[dict[str, object]], None]
StopFn = Callable[[], bool]


@dataclass(frozen=True)
class SolveParams:
    time_limit_s: float
    workers: int
    seed: int
    deterministic: bool

    @classmethod
    def from_policy(cls, scenario: Scenario, **given: object) -> SolveParams:
        """The policy's [solver] section, with any value given on the command line winning."""
        solver = scenario.policy.solver
        values: dict[str, Any] = {
            "time_limit_s": solver.time_limit_s,
            "workers": solver.workers,
            "seed": solver.seed,
            "deterministic": solver.deterministic,
        }
        values.update({k: v for k, v in given.items() if v is not None})
        workers = int(values["workers"])
        if workers <= 0:  # every core
            workers = os.cpu_count() or 1
        return cls(
            float(values["time_limit_s"]),
            workers,
            int(values["seed"]),
            bool(values["deterministic"]),
        )


AFTER_SEARCH_S = 1.8  # checking, paying and writing a plan: a base (the plots) ...
AFTER_SEARCH_PER_CUSTOMER_S = 0.0002  # ... and per customer (3,000: 2.4 s; 30,000: 7.8 s)
LEAST_SEARCH_SHARE = 0.5  # of the time limit, the search has at least


def search_seconds(params: SolveParams, customers: int, spent_s: float) -> float:
    """The seconds the search may take so that the whole command ends within the time limit:
    the limit less ``spent_s`` (starting, loading) and what writing the plan will take, but at
    least half the limit. Deterministic runs search for the whole limit: a clock read here
    would make their plans differ from run to run."""
    if params.deterministic:
        return params.time_limit_s
    after = AFTER_SEARCH_S + AFTER_SEARCH_PER_CUSTOMER_S * customers
    least = params.time_limit_s * LEAST_SEARCH_SHARE
    return max(params.time_limit_s - spent_s - after, least)


def announce(progress: ProgressFn | None, phase: str) -> None:
    """Tell the progress line which step is running (before any plan is scored)."""
    if progress is not None:
        progress({"phase": phase})


def limit_solver(parameters: Any, seconds: float, deterministic: bool) -> None:
    """A CP-SAT solver's limit: a work limit always, a wall-clock one too unless deterministic
    (it would make the answer depend on the machine and its load)."""
    parameters.max_deterministic_time = seconds
    if not deterministic:
        parameters.max_time_in_seconds = seconds
