"""Rewards and penalties (獎罰) from the adjustments table, read for one payout year."""

from __future__ import annotations

import pandas as pd

from portfolio_opt.payout.cents import round_money
from portfolio_opt.payout.frames import numbers, text
from portfolio_opt.payout.periods import parse_period
from portfolio_opt.payout.settlement import YEAR

KIND_WORDS = {
    "": "adjustment",
    "adjustment": "adjustment",
    "reward": "reward",
    "bonus": "reward",
    "獎勵": "reward",
    "奖励": "reward",
    "penalty": "penalty",
    "處罰": "penalty",
    "处罚": "penalty",
    "扣罰": "penalty",
    "扣罚": "penalty",
    "stop": "stop",
    "停發": "stop",
    "停发": "stop",
}

ADJUSTMENT_COLUMNS = ("source_row", "manager_id", "period", "quarter", "kind", "amount", "note")


def adjustment_kind(word: str) -> str | None:
    """``reward``, ``penalty``, ``stop`` or ``adjustment`` (blank); ``None`` if unknown."""
    return KIND_WORDS.get(word.strip().lower())


def signed_amount(kind: str, amount: float) -> float:
    """The amount added to performance pay: a penalty always lowers it, a reward raises it.

    A penalty may be written as ``-500`` or ``500``; a stop carries no amount of its own.
    """
    if kind == "penalty":
        return -abs(amount)
    if kind == "reward":
        return abs(amount)
    if kind == "stop":
        return 0.0
    return amount


def year_adjustments(adjustments: pd.DataFrame, year: int) -> pd.DataFrame:
    """The adjustments of ``year``, one row each, with signed amounts in cents.

    Rows whose period is not a period of ``year`` are left out (validation reports them).

    Returns
    -------
    DataFrame
        Columns ``source_row`` (spreadsheet row, header = 1), ``manager_id``, ``period``,
        ``quarter`` (1..4, or ``settlement.YEAR``), ``kind`` (unknown words count as
        ``adjustment``), ``amount``, ``note``.
    """
    periods = [parse_period(p) for p in text(adjustments, "period")]
    kinds = [adjustment_kind(k) or "adjustment" for k in text(adjustments, "kind")]
    amounts = numbers(adjustments, "amount")
    table = pd.DataFrame(
        {
            "source_row": range(2, len(adjustments) + 2),
            "manager_id": text(adjustments, "manager_id").to_numpy(),
            "period": [p.label if p else "" for p in periods],
            "quarter": [(p.quarter or YEAR) if p else YEAR for p in periods],
            "kind": kinds,
            "amount": round_money(
                pd.Series(
                    [signed_amount(k, a) for k, a in zip(kinds, amounts, strict=True)], dtype=float
                )
            ).to_numpy(),
            "note": text(adjustments, "note").to_numpy(),
        }
    )
    in_year = pd.Series([p is not None and p.year == year for p in periods], dtype=bool)
    return table[in_year.to_numpy()].reset_index(drop=True)
