"""The span band of every manager: how many customers the hard rules allow (rule 5)."""

from __future__ import annotations

import math

import pandas as pd

from portfolio_opt.model.instance import span_band
from portfolio_opt.scenario.policy import Policy


def _personal(managers: pd.DataFrame | None, column: str) -> dict[str, float]:
    if managers is None or column not in managers.columns:
        return {}
    values = pd.to_numeric(managers[column], errors="coerce").astype("float64")
    return {
        str(m): float(v)
        for m, v in zip(managers["manager_id"], values, strict=True)
        if not math.isnan(v)
    }


def span_bands(
    policy: Policy,
    portfolios: pd.DataFrame,
    n_customers: int,
    managers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per manager of ``portfolios``: ``low`` and ``high``, the customers the rules allow.

    floor(N/M) - tolerance .. ceil(N/M) + tolerance for M managers in ``portfolios``; a premium
    or separate-ledger portfolio's own band where the policy sets one; personal bounds from
    ``managers`` (``min_customers``, ``max_customers``) win over both, as in the model.
    """
    ids = portfolios["manager_id"].astype(str)
    kinds = (
        portfolios["portfolio_type"].fillna("").astype(str)
        if "portfolio_type" in portfolios.columns
        else pd.Series("standard", index=portfolios.index)
    )
    low_std, high_std = span_band(n_customers, max(len(ids), 1), policy.span.tolerance)
    own = {"premium": policy.span.premium, "separate_ledger": policy.span.separate_ledger}
    personal_low, personal_high = (
        _personal(managers, "min_customers"),
        _personal(managers, "max_customers"),
    )
    rows = []
    for manager_id, kind in zip(ids, kinds, strict=True):
        low, high = float(low_std), float(high_std)
        band = own.get(kind)
        if band is not None:
            low = low if band.min is None else float(band.min)
            high = high if band.max is None else float(band.max)
        low = personal_low.get(manager_id, low)
        high = personal_high.get(manager_id, high)
        # A personal end beyond the band's other end drags it along (personal bounds win).
        if manager_id in personal_low:
            high = max(high, low)
        if manager_id in personal_high:
            low = min(low, high)
        rows.append((manager_id, int(low), int(high)))
    return pd.DataFrame(rows, columns=["manager_id", "low", "high"])
