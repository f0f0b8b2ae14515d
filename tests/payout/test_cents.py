import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_opt.payout.cents import apportion, round_money, to_cents


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        (1.005, 101),  # binary 1.00499999... still rounds half up
        (0.125, 13),  # half away from zero
        (-0.125, -13),
        (2.674, 267),
        (0.0, 0),
    ],
)
def test_to_cents_rounds_half_away_from_zero(amount, cents):
    assert to_cents(amount) == cents
    assert round_money(amount) == pytest.approx(cents / 100)


def test_apportion_hits_each_group_total_and_breaks_ties_by_order():
    raw = np.array([33.5, 33.5, 33.0, 10.25, 9.75])
    result = apportion(raw, np.array([0, 0, 0, 1, 1]), np.array([100, 20]))
    assert list(result) == [34, 33, 33, 10, 10]


def test_apportion_does_each_column_on_its_own():
    raw = np.array([[0.5, 1.5], [0.5, 0.5]])
    result = apportion(raw, np.array([0, 0]), np.array([[1, 3]]))
    assert result.tolist() == [[1, 2], [0, 1]]


def test_apportion_of_nothing():
    assert apportion(np.array([]), np.array([], dtype=int), np.array([5])).size == 0


def test_apportion_takes_cents_back_from_the_smallest_fractions():
    raw = np.array([10.9, 10.1, 10.5])
    result = apportion(raw, np.zeros(3, dtype=int), np.array([30]))
    assert list(result) == [10, 10, 10]


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=12),
    shift=st.integers(-3, 3),
)
def test_apportion_keeps_each_value_within_one_unit(values, shift):
    raw = np.array(values)
    total = int(np.floor(raw.sum())) + shift
    result = apportion(raw, np.zeros(len(raw), dtype=int), np.array([total]))
    assert result.sum() == total
    assert (np.abs(result - raw) <= 1 + abs(shift) + 1e-6).all()
    assert (result == np.round(result)).all()
