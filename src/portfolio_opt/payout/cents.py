"""Money in whole cents: rounding half away from zero, and splits that never lose a cent."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import pandas as pd

# Absorbs binary noise such as 1.005 * 100 == 100.49999999999999 before rounding.
_EPS = 1e-7

Money = TypeVar("Money", float, np.ndarray, pd.Series, pd.DataFrame)


def to_cents(amount: Money) -> Money:
    """Whole cents of ``amount`` (as floats), rounded half away from zero (四捨五入)."""
    return np.sign(amount) * np.floor(np.abs(amount) * 100 + 0.5 + _EPS)


def round_money(amount: Money) -> Money:
    """``amount`` rounded to cents, half away from zero."""
    return to_cents(amount) / 100


def apportion(raw: pd.Series, groups: pd.Series, totals: pd.Series) -> pd.Series:
    """Whole numbers near ``raw`` that add up to ``totals[group]`` within each group.

    Largest remainder: every value is rounded down, then the missing units go to the values
    with the largest fractions; ties go to the earlier row, so the result depends only on the
    input order.

    Parameters
    ----------
    raw
        Values in the unit to apportion (e.g. cents), one per row.
    groups
        The group of each row (same index as ``raw``).
    totals
        The whole total each group must reach, indexed by group.
    """
    if raw.empty:
        return raw.astype(float)
    key = groups.to_numpy()
    floor = np.floor(raw.astype(float) + _EPS)
    fraction = raw - floor
    by_group = floor.groupby(key)
    residual = totals.reindex(key).fillna(0).to_numpy() - by_group.transform("sum").to_numpy()
    size = by_group.transform("size").to_numpy()
    each, extra = np.divmod(residual, size)
    rank = fraction.groupby(key).rank(method="first", ascending=False).to_numpy() - 1
    return floor + each + (rank < extra)
