import pytest

from portfolio_opt.payout.adjustments import adjustment_kind, signed_amount, year_adjustments
from portfolio_opt.payout.settlement import YEAR

from .builders import table


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("Reward", "reward"),
        ("penalty", "penalty"),
        ("扣罚", "penalty"),
        ("處罰", "penalty"),
        ("停發", "stop"),
        (" STOP ", "stop"),
        ("", "adjustment"),
        ("fine", None),
    ],
)
def test_kinds(word, kind):
    assert adjustment_kind(word) == kind


@pytest.mark.parametrize(
    ("kind", "amount", "signed"),
    [
        ("penalty", 500, -500),  # a penalty lowers pay whichever sign is written
        ("penalty", -500, -500),
        ("reward", -20, 20),
        ("adjustment", -20, -20),
        ("stop", 99, 0),
    ],
)
def test_signed_amounts(kind, amount, signed):
    assert signed_amount(kind, amount) == signed


def test_year_adjustments_keep_the_year_and_the_source_rows():
    adjustments = table(
        "adjustments",
        [
            {"manager_id": "M1", "period": "2024Q2", "kind": "penalty", "amount": 100.004},
            {"manager_id": "M1", "period": "2023", "kind": "reward", "amount": 5},
            {"manager_id": "M2", "period": "2024", "kind": "stop"},
            {"manager_id": "M2", "period": "soon", "kind": "reward", "amount": 5},
        ],
    )
    result = year_adjustments(adjustments, 2024)
    assert result["source_row"].tolist() == [2, 4]
    assert result["quarter"].tolist() == [2, YEAR]
    assert result["amount"].tolist() == [-100.0, 0.0]
    assert result["kind"].tolist() == ["penalty", "stop"]
