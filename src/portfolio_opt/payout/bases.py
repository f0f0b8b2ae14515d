"""Bases (基數): per row and income type, local income + ``fx_rate`` x foreign income."""

from __future__ import annotations

import pandas as pd

from portfolio_opt.payout.cents import round_money
from portfolio_opt.payout.frames import numbers, text
from portfolio_opt.scenario.policy import INCOME_TYPES

BASE_COLUMNS = tuple(f"{kind}_base" for kind in INCOME_TYPES)


def income_bases(frame: pd.DataFrame, fx_rate: float) -> pd.DataFrame:
    """Interest, deposit and fee income of each row in local currency, rounded to cents.

    Works on any table with the income columns (customers, actuals); blanks count as 0.

    Returns
    -------
    DataFrame
        Same index as ``frame``; columns ``interest_base``, ``deposit_base``, ``fee_base``.
    """
    return pd.DataFrame(
        {
            f"{kind}_base": round_money(
                numbers(frame, f"{kind}_income") + fx_rate * numbers(frame, f"{kind}_income_fx")
            )
            for kind in INCOME_TYPES
        },
        index=frame.index,
    )


def customer_bases(customers: pd.DataFrame, fx_rate: float) -> pd.DataFrame:
    """Each customer's bases from last year's income, indexed by ``customer_id``."""
    bases = income_bases(customers, fx_rate)
    bases.index = pd.Index(text(customers, "customer_id").to_numpy(), name="customer_id")
    return bases
