"""Realised profit (實收效益) per customer from the actuals table, for one payout year."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from portfolio_opt.payout.bases import income_bases
from portfolio_opt.payout.frames import text
from portfolio_opt.payout.periods import parse_period
from portfolio_opt.scenario.policy import INCOME_TYPES


@dataclass(frozen=True)
class Realised:
    """A year's realised income per customer (index ``customer_id``, columns income types).

    ``quarters``: quarters that have actuals, in order; ``ytd[q]``: income from the start of
    the year to the end of quarter q. ``year``: each customer's income for the year (its
    yearly row, else the sum of its quarterly rows), or ``None`` when there are no actuals (the
    payout then uses the forecast). ``full_year``: whether ``year`` covers the whole year
    (there are yearly rows, or Q4 is in); if not, the year is settled against year-to-date
    targets up to the last quarter.
    """

    quarters: list[int] = field(default_factory=list)
    ytd: dict[int, pd.DataFrame] = field(default_factory=dict)
    year: pd.DataFrame | None = None
    full_year: bool = True


def realised_income(actuals: pd.DataFrame, year: int, fx_rate: float) -> Realised:
    """Read the actuals of ``year``; rows of other years or with bad periods are left out.

    Several rows for one customer and period are added up.
    """
    periods = [parse_period(p) for p in text(actuals, "period")]
    in_year = [p for p in periods if p is not None and p.year == year]
    keep = np.array([p is not None and p.year == year for p in periods], dtype=bool)
    if not keep.any():
        return Realised()
    income = income_bases(actuals, fx_rate)[keep]
    income.columns = list(INCOME_TYPES)
    income["customer_id"] = text(actuals, "customer_id")[keep].to_numpy()
    income["quarter"] = [p.quarter or 0 for p in in_year]

    quarterly = income[income["quarter"] > 0]
    by_quarter = quarterly.groupby(["quarter", "customer_id"])[list(INCOME_TYPES)].sum()
    customers = pd.Index(sorted(set(quarterly["customer_id"])), name="customer_id")
    quarters = sorted(set(quarterly["quarter"]))
    ytd: dict[int, pd.DataFrame] = {}
    running = pd.DataFrame(0.0, index=customers, columns=list(INCOME_TYPES))
    for quarter in quarters:
        running = running + by_quarter.loc[quarter].reindex(customers, fill_value=0.0)
        ytd[quarter] = running

    yearly = income[income["quarter"] == 0].groupby("customer_id")[list(INCOME_TYPES)].sum()
    from_quarters = quarterly.groupby("customer_id")[list(INCOME_TYPES)].sum()
    from_quarters = from_quarters[~from_quarters.index.isin(yearly.index)]
    year_income = pd.concat([yearly, from_quarters]).sort_index()
    year_income.index.name = "customer_id"
    return Realised(
        quarters=quarters,
        ytd=ytd,
        year=year_income,
        full_year=not yearly.empty or 4 in quarters,
    )
