"""targets.png: each manager's target, split into the stock and the increment."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from matplotlib.axes import Axes

from portfolio_opt.report.plots import _axes

STOCK_COLOUR = "#4c78a8"
INCREMENT_COLOUR = "#f2a541"
SHRINK_COLOUR = "#d9534f"


def plot_targets(
    portfolios: pd.DataFrame,
    ax: Axes | None = None,
    *,
    names: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Axes:
    """Stacked bars: ``stock_target`` below, ``increment_target`` on top, per manager.

    A shrinking portfolio (negative increment) shows its increment hatched, reaching down
    from the stock to the target. The dashed line is the standard portfolios' mean target,
    the level the balance goal pulls them towards.

    Parameters
    ----------
    portfolios
        ``portfolios.csv``: ``manager_id``, ``portfolio_type``, ``stock_target``,
        ``increment_target``.
    ax
        Axes to draw on; a new figure when ``None``.
    names
        Manager names by id, shown under the ids where a font can draw them.
    """
    table = _axes.ordered_managers(portfolios)
    ax = _axes.new_axes(ax, len(table))
    x = list(range(len(table)))
    stock = table["stock_target"].astype(float)
    increment = table["increment_target"].astype(float)
    growing = increment.clip(lower=0)
    shrinking = increment.clip(upper=0)
    _axes.bars(ax, x, stock, width=0.65, color=STOCK_COLOUR, label="stock target")
    _axes.bars(
        ax, x, growing, bottom=stock, width=0.65, color=INCREMENT_COLOUR, label="increment target"
    )
    if (shrinking < 0).any():
        _axes.bars(
            ax,
            x,
            shrinking,
            bottom=stock,
            width=0.65,
            color="none",
            edgecolor=SHRINK_COLOUR,
            hatch="///",
            label="negative increment",
        )
    standard = table["portfolio_type"] == "standard"
    if standard.any():
        mean = float((stock + increment)[standard].mean())
        ax.axhline(
            mean,
            color="#333333",
            linestyle="--",
            linewidth=1,
            label=f"standard mean {_axes.money(mean)}",
        )
    _axes.manager_ticks(ax, table["manager_id"], table["portfolio_type"], names)
    _axes.money_axis(ax)
    ax.set_ylabel("target (local currency)")
    ax.set_title(title or "Target per manager: stock + increment")
    handles, _ = ax.get_legend_handles_labels()
    handles += _axes.type_keys(table["portfolio_type"])
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    _axes.clean_frame(ax)
    return ax
