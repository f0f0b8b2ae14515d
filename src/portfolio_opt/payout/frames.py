"""Tolerant column access, so the payout model also runs on hand-made frames in a notebook."""

from __future__ import annotations

import pandas as pd

from portfolio_opt.scenario.schema import TRUE_WORDS


def numbers(frame: pd.DataFrame, column: str, default: float = 0.0) -> pd.Series:
    """The column as floats; missing column, blanks and text count as ``default``."""
    if column not in frame.columns:
        return pd.Series(default, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float).fillna(default)


def optional_numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """The column as floats with NaN for blanks (and for a missing column)."""
    if column not in frame.columns:
        return pd.Series(float("nan"), index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def text(frame: pd.DataFrame, column: str) -> pd.Series:
    """The column as trimmed ``str``; blanks and a missing column are ``""``."""
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=str)
    cells = [
        "" if not isinstance(value, str) and pd.isna(value) else str(value).strip()
        for value in frame[column].to_numpy(dtype=object)
    ]
    return pd.Series(cells, index=frame.index, dtype=str)


def flags(frame: pd.DataFrame, column: str, default: bool = False) -> pd.Series:
    """The column as ``bool``, reading the same yes/no words as the loader."""
    if column not in frame.columns:
        return pd.Series(default, index=frame.index, dtype=bool)
    values = frame[column]
    if values.dtype == bool:
        return values
    words = text(frame, column).str.lower()
    blank_means = words == "" if default else False
    return words.isin(TRUE_WORDS) | blank_means
