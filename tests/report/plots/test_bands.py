"""span_bands: the span band per manager, as the model applies rule 5."""

from __future__ import annotations

import pandas as pd
import pytest

from portfolio_opt.report.plots import span_bands
from portfolio_opt.scenario.policy import Policy

PORTFOLIOS = pd.DataFrame(
    {
        "manager_id": ["M1", "M2", "M3", "M4", "M5"],
        "portfolio_type": ["standard", "standard", "premium", "separate_ledger", "standard"],
    }
)


def _bands(policy: dict, managers: pd.DataFrame | None = None) -> dict[str, tuple[int, int]]:
    table = span_bands(Policy.model_validate(policy), PORTFOLIOS, 52, managers)
    return {m: (lo, hi) for m, lo, hi in table.itertuples(index=False)}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        # 52 customers over 5 managers: floor 10 - 2 .. ceil 11 + 2 for everyone
        ({}, {m: (8, 13) for m in PORTFOLIOS["manager_id"]}),
        # tolerance 0: 10 .. 11
        ({"span": {"tolerance": 0}}, {m: (10, 11) for m in PORTFOLIOS["manager_id"]}),
        # premium's own band; separate ledger keeps the standard lower end, own upper end
        (
            {"span": {"premium": {"min": 3, "max": 20}, "separate_ledger": {"max": 6}}},
            {"M1": (8, 13), "M2": (8, 13), "M3": (3, 20), "M4": (8, 6), "M5": (8, 13)},
        ),
    ],
)
def test_policy_bands(policy: dict, expected: dict) -> None:
    assert _bands(policy) == expected


def test_personal_bounds_win_and_drag_the_other_end() -> None:
    managers = pd.DataFrame(
        {
            "manager_id": ["M1", "M2", "M5"],
            "min_customers": pd.array([15, None, None], dtype="Int64"),
            "max_customers": pd.array([None, 5, 9], dtype="Int64"),
        }
    )
    bands = _bands({}, managers)
    assert bands["M1"] == (15, 15)  # a minimum above the band's top lifts the top
    assert bands["M2"] == (5, 5)  # a maximum below the band's bottom lowers the bottom
    assert bands["M5"] == (8, 9)
    assert bands["M3"] == (8, 13)
