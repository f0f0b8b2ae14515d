"""payout.png: each manager's yearly pay, split into base salary and the three tiers."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from matplotlib.axes import Axes

from portfolio_opt.report.plots import _axes

PARTS = (
    ("base_salary", "base salary", "#9fb3c8"),
    ("target_income", "target tier (up to the stock)", "#4c78a8"),
    ("increment_income", "increment tier", "#f2a541"),
    ("excess_income", "excess tier (beyond the target)", "#54a24b"),
)


def _year_rows(payout: pd.DataFrame, period: str | None) -> pd.DataFrame:
    periods = payout["period"].astype(str)
    if period is not None:
        return payout[periods == period]
    yearly = periods[~periods.str.contains("Q", case=False)]
    chosen = yearly.max() if len(yearly) else periods.max()
    return payout[periods == chosen]


def plot_payout(
    payout: pd.DataFrame,
    ax: Axes | None = None,
    *,
    period: str | None = None,
    names: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Axes:
    """Stacked bars per manager: base salary, then the target, increment and excess tiers.

    The tiers are performance pay before adjustments and the management score; the black
    diamond is the actual income, with both applied.

    Parameters
    ----------
    payout
        ``payout.csv``; the yearly rows (period ``YYYY``) are drawn unless ``period`` is given.
    ax
        Axes to draw on; a new figure when ``None``.
    period
        One period to draw, e.g. ``"2026Q2"``.
    names
        Manager names by id, shown under the ids where a font can draw them.
    """
    rows = _year_rows(payout, period)
    table = _axes.ordered_managers(rows)
    ax = _axes.new_axes(ax, len(table))
    x = list(range(len(table)))
    bottom = pd.Series(0.0, index=table.index)
    for column, label, colour in PARTS:
        height = table[column].astype(float).clip(lower=0)
        _axes.bars(ax, x, height, bottom=bottom, width=0.65, color=colour, label=label)
        bottom = bottom + height
    ax.scatter(
        x,
        table["actual_income"].astype(float),
        marker="D",
        s=22,
        color="black",
        zorder=3,
        label="actual income (score, adjustments)",
    )
    _axes.manager_ticks(ax, table["manager_id"], table["portfolio_type"], names)
    _axes.money_axis(ax)
    shown = str(table["period"].iloc[0]) if len(table) else ""
    ax.set_ylabel("pay (local currency)")
    ax.set_title(title or f"Pay per manager, {shown}: base salary and performance tiers")
    handles, _ = ax.get_legend_handles_labels()
    handles += _axes.type_keys(table["portfolio_type"])
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    _axes.clean_frame(ax)
    return ax
