import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from portfolio_opt.payout.tiers import TierRates, portfolio_tiers, tier_income, tier_rates
from portfolio_opt.scenario.policy import Policy

RATES = (0.01, 0.05, 0.10)


@pytest.mark.parametrize(
    ("realised", "expected"),
    [
        (-100, (-1.0, 0, 0)),  # a loss: negative target tier (the floor comes later)
        (500, (5.0, 0, 0)),  # below the stock: target tier only
        (1000, (10.0, 0, 0)),  # exactly the stock
        (1050, (10.0, 2.5, 0)),  # half the increment
        (1100, (10.0, 5.0, 0)),  # exactly the target
        (1300, (10.0, 5.0, 20.0)),  # every tier
    ],
)
def test_three_tiers_with_stock_1000_and_increment_100(realised, expected):
    assert tier_income(realised, 1000, 100, *RATES) == pytest.approx(expected)


def test_a_shrinking_portfolio_has_no_increment_tier():
    # stock 1000, increment -200: target 800
    assert tier_income(700, 1000, -200, *RATES) == pytest.approx((7.0, 0, 0))
    assert tier_income(900, 1000, -200, *RATES) == pytest.approx((8.0, 0, 10.0))


def _frame(interest, deposit, fee):
    return pd.DataFrame({"interest": [interest], "deposit": [deposit], "fee": [fee]}, index=["M"])


def test_one_rate_per_tier_applies_to_totals_and_per_type_rates_to_each_type():
    stock, increment = _frame(1000, 1000, 0), _frame(100, 100, 0)
    realised = _frame(1300, 700, 0)  # interest beyond target, deposit short of stock
    totals = TierRates.from_rates(
        Policy().payout.rates.model_copy(update={"target": 0.01, "increment": 0.05, "excess": 0.1})
    )
    result = portfolio_tiers(realised, stock, increment, pd.Series([totals], index=["M"]))
    # totals: P = 2000 = S, nothing beyond the stock
    assert result.loc["M"].tolist() == pytest.approx([20.0, 0.0, 0.0])
    per_type = tier_rates(
        Policy.model_validate(
            {
                "payout": {
                    "rates": {
                        "target": {"interest": 0.01, "deposit": 0.01, "fee": 0.0},
                        "increment": 0.05,
                        "excess": 0.1,
                    }
                }
            }
        ),
        "standard",
    )
    assert per_type.per_type
    result = portfolio_tiers(realised, stock, increment, pd.Series([per_type], index=["M"]))
    # interest: 10 + 5 + 20; deposit: 7; the deposit shortfall does not eat the interest excess
    assert result.loc["M"].tolist() == pytest.approx([17.0, 5.0, 20.0])


def test_separate_ledger_overrides_only_the_tiers_it_names():
    policy = Policy.model_validate(
        {
            "payout": {
                "rates": {"target": 0.01, "increment": 0.05, "excess": 0.1},
                "separate_ledger": {"rates": {"excess": 0.2}},
            }
        }
    )
    ledger = tier_rates(policy, "separate_ledger")
    assert ledger.target["fee"] == 0.01
    assert ledger.increment["interest"] == 0.05
    assert ledger.excess["deposit"] == 0.2
    assert tier_rates(policy, "standard").excess["deposit"] == 0.1


positive = st.floats(0, 1e6)
rates = st.floats(0, 0.5)


@settings(max_examples=150, deadline=None)
@given(
    p=st.floats(-1e6, 2e6),
    dp=st.floats(0, 1e5),
    stock=positive,
    increment=st.floats(-5e5, 5e5),
    r=st.tuples(rates, rates, rates),
)
def test_pay_is_continuous_and_non_decreasing_in_realised_profit(p, dp, stock, increment, r):
    low = sum(tier_income(p, stock, increment, *r))
    high = sum(tier_income(p + dp, stock, increment, *r))
    assert high >= low - 1e-6
    # Lipschitz with the largest rate: no jump anywhere
    assert high - low <= max(r) * dp + 1e-6 * max(1.0, abs(p))


def test_tiers_work_on_arrays():
    t, i, e = tier_income(np.array([0.0, 2000.0]), 1000, 100, *RATES)
    assert list(t + i + e) == pytest.approx([0.0, 10 + 5 + 90])


def test_a_rate_per_income_type_must_name_every_type():
    """Left out, a type earned nothing at that tier without a word."""
    with pytest.raises(ValidationError, match="deposit, fee missing"):
        Policy.model_validate({"payout": {"rates": {"increment": {"interest": 0.03}}}})
