import datetime as dt

import pandas as pd
import pytest

from portfolio_opt.payout.periods import Period, cumulative_weights, parse_period, payout_year
from portfolio_opt.scenario.policy import Policy


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2024", Period(2024)),
        ("2024Q3", Period(2024, 3)),
        ("2024q1", Period(2024, 1)),
        (" 2024-Q2 ", Period(2024, 2)),
        ("2024.0", Period(2024)),  # a year that went through a number column
        ("2024Q5", None),  # no fifth quarter
        ("24Q1", None),
        ("2024H1", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_period(text, period):
    assert parse_period(text) == period


def test_labels():
    assert Period(2024).label == "2024"
    assert Period(2024, 2).label == "2024Q2"


def test_payout_year_prefers_the_policy_then_the_actuals():
    actuals = pd.DataFrame({"period": ["2023Q4", "2024Q1", "junk"]})
    assert payout_year(Policy.model_validate({"payout": {"year": 2022}}), actuals) == 2022
    assert payout_year(Policy(), actuals) == 2024
    assert payout_year(Policy(), actuals.iloc[0:0]) == dt.date.today().year


def test_cumulative_weights_end_at_exactly_one():
    assert cumulative_weights([0.1, 0.2, 0.3, 0.4]) == pytest.approx([0.1, 0.3, 0.6, 1.0])
    assert cumulative_weights([0.1, 0.2, 0.3, 0.4])[3] == 1.0
