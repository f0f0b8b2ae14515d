"""The loaded scenario: typed tables plus the policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from portfolio_opt.problems import Problem
from portfolio_opt.scenario.policy import Policy


@dataclass
class Scenario:
    """A scenario as the rest of the tool sees it.

    Tables follow ``schema.py``: typed columns, ids as ``str``, blank optional text as ``""``.
    Optional tables that the scenario does not have are empty frames with the schema's columns.
    """

    root: Path
    policy: Policy
    customers: pd.DataFrame
    managers: pd.DataFrame
    relations: pd.DataFrame
    actuals: pd.DataFrame
    adjustments: pd.DataFrame
    credits: pd.DataFrame
    affinity: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    # (customers, available managers) the span band counts, where not this scenario's own: the
    # rest of a branch solved without a part the solve placed first
    span_basis: tuple[int, int] | None = None
    # The options that make this scenario from its files, where it is not as they say (a
    # sweep's variant: --set KEY=VALUE, --unavailable IDS), for the commands a message suggests
    as_run: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.policy.name or self.root.resolve().name  # "." has no name of its own

    @property
    def available_managers(self) -> pd.DataFrame:
        return self.managers[self.managers["available"]]

    def has(self, table: str) -> bool:
        """Whether the scenario names this optional table."""
        return table in self.files


def premium_ledger_mask(customers: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Customers premium and booked in a separate ledger at once: their portfolio may hold only
    customers like them."""
    premium = customers["customer_class"] == policy.premium_class
    return (premium & customers["separate_ledger"].astype(bool)).to_numpy()
