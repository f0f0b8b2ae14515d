"""Performance pay in three tiers (效益工資): target, increment and excess income.

For realised profit P, stock S, increment I and target T = S + I::

    target_income    = r_target    * min(P, S, T)
    increment_income = r_increment * clamp(P - S, 0, max(I, 0))
    excess_income    = r_excess    * max(P - T, 0)

Each tier is continuous and non-decreasing in P, so their sum is too. With one rate per tier
the tiers apply to the portfolio's totals; when any rate is given per income type, they apply
to each income type on its own (its P_k, S_k, I_k, rates) and the results are added, so a
shortfall in one income type is not offset by excess in another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from portfolio_opt.scenario.policy import INCOME_TYPES, Policy, Rates

TIERS = ("target", "increment", "excess")
TIER_COLUMNS = ("target_income", "increment_income", "excess_income")


@dataclass(frozen=True)
class TierRates:
    """The rates in force for one portfolio, spelled out per income type."""

    target: dict[str, float]
    increment: dict[str, float]
    excess: dict[str, float]
    per_type: bool

    @classmethod
    def from_rates(cls, rates: Rates) -> TierRates:
        per_type = any(isinstance(getattr(rates, tier), dict) for tier in TIERS)
        spelled = {tier: {k: rates.rate(tier, k) for k in INCOME_TYPES} for tier in TIERS}
        return cls(**spelled, per_type=per_type)

    @property
    def highest(self) -> float:
        """The largest rate: no tier pays more than this per unit of profit."""
        return max(max(getattr(self, tier).values()) for tier in TIERS)


def tier_rates(policy: Policy, portfolio_type: str) -> TierRates:
    """The rates of a portfolio type; separate-ledger portfolios take the override's rates.

    Only the tiers written under ``[payout.separate_ledger.rates]`` are overridden; the other
    tiers keep ``[payout.rates]``.
    """
    rates = policy.payout.rates
    override = policy.payout.separate_ledger.rates
    if portfolio_type == "separate_ledger" and override is not None:
        given = {tier: getattr(override, tier) for tier in override.model_fields_set}
        rates = Rates.model_validate({**rates.model_dump(), **given})
    return TierRates.from_rates(rates)


def tier_income(
    realised: float | np.ndarray,
    stock: float | np.ndarray,
    increment: float | np.ndarray,
    target_rate: float | np.ndarray,
    increment_rate: float | np.ndarray,
    excess_rate: float | np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three tiers for realised profit against stock and increment (numbers or arrays).

    Returns
    -------
    target_income, increment_income, excess_income
        Unrounded; negative only when the realised profit (or the target) is negative.
    """
    p, s, i = (np.asarray(v, dtype=float) for v in (realised, stock, increment))
    t = s + i
    target_income = np.asarray(target_rate) * np.minimum(np.minimum(p, s), t)
    increment_income = np.asarray(increment_rate) * np.minimum(
        np.maximum(p - s, 0.0), np.maximum(i, 0.0)
    )
    excess_income = np.asarray(excess_rate) * np.maximum(p - t, 0.0)
    return target_income, increment_income, excess_income


def _rate(rates: pd.Series, tier: str, kind: str) -> np.ndarray:
    return np.array([getattr(r, tier)[kind] for r in rates], dtype=float)


def portfolio_tiers(
    realised: pd.DataFrame, stock: pd.DataFrame, increment: pd.DataFrame, rates: pd.Series
) -> pd.DataFrame:
    """The three tiers per manager (unrounded).

    Parameters
    ----------
    realised, stock, increment
        Money per manager (rows) and income type (columns ``interest, deposit, fee``).
    rates
        A :class:`TierRates` per manager, same index.

    Returns
    -------
    DataFrame
        Same index; columns ``target_income, increment_income, excess_income``.
    """
    kinds = list(INCOME_TYPES)
    by_type = np.zeros((len(rates), 3))
    for kind in kinds:
        by_type += np.column_stack(
            tier_income(
                realised[kind].to_numpy(),
                stock[kind].to_numpy(),
                increment[kind].to_numpy(),
                *(_rate(rates, tier, kind) for tier in TIERS),
            )
        )
    # In total mode the rates are the same for every income type; take the first.
    totals = np.column_stack(
        tier_income(
            realised[kinds].sum(axis=1).to_numpy(),
            stock[kinds].sum(axis=1).to_numpy(),
            increment[kinds].sum(axis=1).to_numpy(),
            *(_rate(rates, tier, kinds[0]) for tier in TIERS),
        )
    )
    per_type = np.array([r.per_type for r in rates], dtype=bool)[:, None]
    return pd.DataFrame(
        np.where(per_type, by_type, totals), index=rates.index, columns=list(TIER_COLUMNS)
    )
