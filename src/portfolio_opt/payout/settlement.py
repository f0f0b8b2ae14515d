"""Quarterly settlement (按季預發, 年終清算): quarterly advances, settled for the year.

All amounts are whole cents (``int``). For each quarter row q (in order):

- the entitlement so far is ``X = YTD tiers + all adjustments so far`` (YTD actuals against
  YTD targets, see ``periods.cumulative_weights``);
- the quarter pays ``max(X - paid so far, 0)``: a quarter never pays less than 0, and a
  shortfall (earlier quarters paid more than is now earned) is carried forward: later quarters
  pay nothing until the entitlement has caught up;
- ``stop`` forfeits what the quarter would have paid: it is booked as a negative adjustment,
  so later quarters do not pay it either.

The yearly row settles the whole year, both ways (多退少補): its performance pay is the year's
entitlement ``max(X_year, 0)`` with every adjustment of the year, and the year-end payment is
that minus what the quarters paid; below 0, the quarters paid too much and it is recovered. So
a penalty lowers the year's pay even where the quarters had paid it all, and a ``stop`` for the
year forfeits the year's whole performance pay.

``carried_forward`` holds what the floor at 0 leaves: a quarter's shortfall, and a penalty
larger than the tiers (an entitlement below 0 pays 0, and the part not taken is carried there).

Every row satisfies ``performance_pay = tiers + adjustments + carried_forward -
carried_forward of the previous quarter row`` (the yearly row: with no previous row), where the
quarter rows' tiers are the growth of the YTD tiers since the previous quarter row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

YEAR = 0  # the key of the whole year in adjustments and stops


@dataclass(frozen=True)
class Tiers:
    """The three tiers in cents."""

    target: int = 0
    increment: int = 0
    excess: int = 0

    @property
    def total(self) -> int:
        return self.target + self.increment + self.excess

    def __sub__(self, other: Tiers) -> Tiers:
        return Tiers(
            self.target - other.target,
            self.increment - other.increment,
            self.excess - other.excess,
        )


@dataclass(frozen=True)
class SettledRow:
    """One payout row of one manager, in cents; ``quarter`` is ``YEAR`` for the yearly row."""

    quarter: int
    tiers: Tiers
    adjustments: int
    performance_pay: int
    paid_before: int
    carried_forward: int
    forfeited: int


def settle(
    quarter_tiers: Mapping[int, Tiers],
    year_tiers: Tiers,
    adjustments: Mapping[int, int] | None = None,
    stops: frozenset[int] | set[int] = frozenset(),
) -> list[SettledRow]:
    """Settle one manager's quarters (if any) and year.

    Parameters
    ----------
    quarter_tiers
        YTD tiers at the end of each quarter that gets a row (quarter number 1..4).
    year_tiers
        The tiers the year is settled on.
    adjustments
        Amount per quarter (``YEAR`` for the year). A quarter without a row passes its
        amount to the next quarter row, or to the yearly row after the last one.
    stops
        Quarters (and/or ``YEAR``) whose performance pay is stopped; a stop for a quarter
        without a row has no effect.

    Returns
    -------
    list of SettledRow
        The quarter rows in order, then the yearly row.
    """
    adjustments = adjustments or {}
    rows: list[SettledRow] = []
    paid = cumulative_adjustments = 0
    previous = Tiers()
    last_quarter = 0
    for quarter in sorted(quarter_tiers):
        ytd = quarter_tiers[quarter]
        added = sum(adjustments.get(q, 0) for q in range(last_quarter + 1, quarter + 1))
        cumulative_adjustments += added
        due = max(ytd.total + cumulative_adjustments - paid, 0)
        forfeited = due if quarter in stops else 0
        cumulative_adjustments -= forfeited
        pay = due - forfeited
        rows.append(
            SettledRow(
                quarter=quarter,
                tiers=ytd - previous,
                adjustments=added - forfeited,
                performance_pay=pay,
                paid_before=paid,
                carried_forward=max(paid + pay - ytd.total - cumulative_adjustments, 0),
                forfeited=forfeited,
            )
        )
        paid += pay
        previous, last_quarter = ytd, quarter
    year_adjustments = cumulative_adjustments + sum(
        adjustments.get(q, 0) for q in (*range(last_quarter + 1, 5), YEAR)
    )
    entitled = max(year_tiers.total + year_adjustments, 0)
    forfeited = entitled if YEAR in stops else 0
    year_adjustments -= forfeited
    pay = entitled - forfeited
    rows.append(
        SettledRow(
            quarter=YEAR,
            tiers=year_tiers,
            adjustments=year_adjustments,
            performance_pay=pay,
            paid_before=paid,
            carried_forward=max(pay - year_tiers.total - year_adjustments, 0),
            forfeited=forfeited,
        )
    )
    return rows
