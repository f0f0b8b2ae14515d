from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_opt.payout.settlement import YEAR, Tiers, settle


def _pay(rows):
    return [r.performance_pay for r in rows]


def test_yearly_only():
    (year,) = settle({}, Tiers(100, 50, 25), {YEAR: -30})
    assert (year.performance_pay, year.adjustments, year.carried_forward) == (145, -30, 0)


def test_penalty_never_takes_pay_below_zero():
    (year,) = settle({}, Tiers(100, 0, 0), {YEAR: -300})
    assert year.performance_pay == 0
    assert year.carried_forward == 200  # the part of the penalty that found nothing to reduce


def test_a_weak_quarter_pays_nothing_and_carries_the_shortfall_forward():
    rows = settle({1: Tiers(600, 0, 0), 2: Tiers(500, 0, 0), 3: Tiers(900, 0, 0)}, Tiers(900, 0, 0))
    assert _pay(rows) == [600, 0, 300, 900]
    assert [r.carried_forward for r in rows] == [0, 100, 0, 0]
    assert [r.tiers.target for r in rows] == [600, -100, 400, 900]
    assert rows[-1].paid_before == 900


def test_the_year_end_recovers_what_the_quarters_paid_too_much():
    rows = settle({1: Tiers(600, 0, 0), 2: Tiers(500, 0, 0)}, Tiers(500, 0, 0))
    assert _pay(rows) == [600, 0, 500]  # a weak quarter takes nothing back; the year does
    assert (rows[-1].paid_before, rows[-1].carried_forward) == (600, 0)


def test_a_penalty_lowers_the_year_even_where_the_quarters_paid_it_all():
    rows = settle({1: Tiers(300, 0, 0), 2: Tiers(600, 0, 0)}, Tiers(600, 0, 0), {YEAR: -100})
    assert _pay(rows) == [300, 300, 500]
    assert rows[-1].adjustments == -100


def test_stop_forfeits_the_quarter_for_good():
    rows = settle(
        {1: Tiers(100, 0, 0), 2: Tiers(250, 0, 0), 3: Tiers(300, 0, 0)}, Tiers(300, 0, 0), stops={2}
    )
    assert _pay(rows) == [100, 0, 50, 150]
    assert rows[1].forfeited == 150
    assert rows[1].adjustments == -150
    assert rows[-1].adjustments == -150


def test_stop_for_the_year_forfeits_the_whole_years_pay():
    rows = settle({1: Tiers(100, 0, 0)}, Tiers(400, 0, 0), stops={YEAR})
    assert _pay(rows) == [100, 0]  # the quarter's advance is recovered at year end
    assert (rows[-1].forfeited, rows[-1].adjustments) == (400, -400)
    (year,) = settle({}, Tiers(400, 0, 0), {YEAR: 50}, stops={YEAR})
    assert year.performance_pay == 0


def test_adjustment_of_a_quarter_without_row_lands_in_the_next_row():
    rows = settle({1: Tiers(100, 0, 0), 3: Tiers(300, 0, 0)}, Tiers(300, 0, 0), {2: 40, 4: 7})
    assert [r.adjustments for r in rows] == [0, 40, 47]
    assert _pay(rows) == [100, 240, 347]


tiers = st.builds(Tiers, st.integers(-1000, 10_000), st.integers(0, 5000), st.integers(0, 5000))


@settings(max_examples=200, deadline=None)
@given(
    ytd=st.dictionaries(st.integers(1, 4), tiers, min_size=1, max_size=4),
    adjustments=st.dictionaries(st.integers(1, 4), st.integers(-3000, 3000), max_size=4),
    stops=st.sets(st.integers(1, 4), max_size=2),
)
def test_the_year_pays_what_the_quarters_paid_less_what_they_paid_too_much(ytd, adjustments, stops):
    # the year is the sum of the quarters, and no adjustment lands in the yearly row alone
    year_tiers = ytd[max(ytd)]
    adjustments = {q: a for q, a in adjustments.items() if q <= max(ytd)}
    rows = settle(ytd, year_tiers, adjustments, stops)
    *quarters, year = rows
    assert all(r.performance_pay >= 0 for r in rows)
    paid = sum(r.performance_pay for r in quarters)
    assert year.paid_before == paid
    assert year.performance_pay == max(paid - quarters[-1].carried_forward, 0)
    # the identity of every row: pay = tiers + adjustments + carried - carried before
    carried_before = 0
    for r in quarters:
        assert r.performance_pay == (
            r.tiers.total + r.adjustments + r.carried_forward - carried_before
        )
        carried_before = r.carried_forward
    assert year.performance_pay == year.tiers.total + year.adjustments + year.carried_forward
