"""The loaded scenario: typed tables plus the policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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

    @property
    def name(self) -> str:
        return self.policy.name or self.root.name

    @property
    def available_managers(self) -> pd.DataFrame:
        return self.managers[self.managers["available"]]

    def has(self, table: str) -> bool:
        """Whether the scenario names this optional table."""
        return table in self.files
