"""Periods of actuals and adjustments: ``YYYY`` (the year) or ``YYYYQn`` (a quarter)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import pandas as pd

from portfolio_opt.scenario.policy import Policy

_YEAR = re.compile(r"^(\d{4})(?:\.0+)?$")
_QUARTER = re.compile(r"^(\d{4})\s*-?\s*Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """A payout period; ``quarter`` is ``None`` for the whole year."""

    year: int
    quarter: int | None = None

    @property
    def label(self) -> str:
        return str(self.year) if self.quarter is None else f"{self.year}Q{self.quarter}"


def parse_period(text: object) -> Period | None:
    """The period written as ``2024`` or ``2024Q3`` (also ``2024q3``, ``2024-Q3``), else None."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    return _parse_period_text(str(text).strip())


# A table repeats a few periods on every row: each is parsed once.
@functools.lru_cache(maxsize=4096)
def _parse_period_text(value: str) -> Period | None:
    if match := _YEAR.match(value):
        return Period(int(match.group(1)))
    if match := _QUARTER.match(value):
        return Period(int(match.group(1)), int(match.group(2)))
    return None


def quarter_label(year: int, quarter: int) -> str:
    """The period label of a quarter, ``2024Q1``."""
    return Period(year, quarter).label


def payout_year(policy: Policy, actuals: pd.DataFrame | None = None) -> int:
    """The year paid: ``payout.year``, else the latest year in the actuals, else this year."""
    if policy.payout.year is not None:
        return policy.payout.year
    if actuals is not None and "period" in actuals.columns:
        years = [p.year for p in map(parse_period, actuals["period"]) if p is not None]
        if years:
            return max(years)
    return dt.date.today().year


def cumulative_weights(weights: list[float]) -> list[float]:
    """Year-to-date share of the year at the end of each quarter; exactly 1 after Q4."""
    running, total = [], 0.0
    for weight in weights[:3]:
        total += weight
        running.append(total)
    return [*running, 1.0]
