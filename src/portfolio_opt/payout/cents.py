"""Money in whole cents: rounding half away from zero, and splits that never lose a cent."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import pandas as pd

# Absorbs binary noise such as 1.005 * 100 == 100.49999999999999 before rounding.
_EPS = 1e-7
FRACTION_DIGITS = 6  # of a unit, in which remainders are compared

Money = TypeVar("Money", float, np.ndarray, pd.Series, pd.DataFrame)


def to_cents(amount: Money) -> Money:
    """Whole cents of ``amount`` (as floats), rounded half away from zero (四捨五入)."""
    values = np.asarray(amount, dtype=float)
    # + 0.0 turns -0.0 into 0.0, so a CSV never shows "-0.0"
    cents = np.sign(values) * np.floor(np.abs(values) * 100 + 0.5 + _EPS) + 0.0
    if isinstance(amount, pd.DataFrame):
        return pd.DataFrame(cents, index=amount.index, columns=amount.columns)
    if isinstance(amount, pd.Series):
        return pd.Series(cents, index=amount.index, name=amount.name)
    return cents[()]


def round_money(amount: Money) -> Money:
    """``amount`` rounded to cents, half away from zero."""
    return to_cents(amount) / 100


def apportion(raw: np.ndarray, groups: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Whole numbers near ``raw`` that add up to ``totals[group]`` within each group.

    Largest remainder: every value is rounded down, then the missing units go to the values
    with the largest fractions; ties go to the earlier row, so the result depends only on the
    input order. Each column of a 2-D ``raw`` is apportioned on its own.

    Parameters
    ----------
    raw
        Values in the unit to apportion (e.g. cents), shape (rows,) or (rows, columns).
    groups
        Group number of each row, 0 .. number of groups - 1.
    totals
        The whole total each group must reach, shape (groups,) or (groups, columns).
    """
    values = np.asarray(raw, dtype=float)
    flat = values.ndim == 1
    values = values[:, None] if flat else values
    wanted = np.asarray(totals, dtype=float).reshape(-1, values.shape[1])
    codes = np.asarray(groups, dtype=np.int64)
    floor = np.floor(values + _EPS)
    # Rounded, so that binary noise breaks no tie (92969.25 x 0.14 is 13015.695000000002).
    fraction = np.round(values - floor, FRACTION_DIGITS)
    residual = wanted.copy()
    np.subtract.at(residual, codes, floor)
    size = np.bincount(codes, minlength=len(wanted)).astype(float)[:, None]
    each, extra = np.divmod(residual, np.maximum(size, 1))
    rank = np.empty_like(floor)
    rows = np.arange(len(codes))
    for column in range(values.shape[1]):
        order = np.lexsort((rows, -fraction[:, column], codes))
        first = np.searchsorted(codes[order], codes[order], side="left")
        rank[order, column] = rows - first
    result = floor + each[codes] + (rank < extra[codes])
    return result.ravel() if flat else result
