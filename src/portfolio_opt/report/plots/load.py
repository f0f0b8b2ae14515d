"""load.png: customers per manager, coloured by portfolio type, against the span band."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from portfolio_opt.report.plots import _axes

BAND_COLOUR = "#d4d4d4"
BAND_GID = "span-band"


def _bands(band: Any, ids: pd.Series) -> pd.DataFrame | None:
    """Per manager low/high from a (low, high) pair, a span_bands frame, or a KPI record."""
    if isinstance(band, pd.DataFrame):
        table = band.assign(manager_id=band["manager_id"].astype(str)).set_index("manager_id")
        found = table.reindex(ids)[["low", "high"]]
        return None if found.isna().all().all() else found.reset_index()
    if isinstance(band, Mapping):
        band = (band.get("span") or {}).get("band") if "span" in band else None
    if band is None:
        return None
    low, high = band
    return pd.DataFrame({"manager_id": ids, "low": low, "high": high})


def plot_load(
    portfolios: pd.DataFrame,
    band: tuple[int, int] | pd.DataFrame | Mapping[str, Any] | None,
    ax: Axes | None = None,
    *,
    names: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Axes:
    """Bars of ``n_customers`` per manager, the allowed band behind them, the ideal N/M dashed.

    Parameters
    ----------
    portfolios
        ``portfolios.csv``: ``manager_id``, ``portfolio_type``, ``n_customers``.
    band
        ``(low, high)`` for every manager, a frame from :func:`span_bands` (one band per
        manager: premium, separate-ledger and personal bands differ), or the KPI record when
        it carries ``span.band``; ``None`` draws the ideal line only.
    ax
        Axes to draw on; a new figure when ``None``.
    names
        Manager names by id, shown under the ids where a font can draw them.
    """
    table = _axes.ordered_managers(portfolios)
    ax = _axes.new_axes(ax, len(table))
    x = list(range(len(table)))
    counts = table["n_customers"].astype(float)
    bands = _bands(band, table["manager_id"])
    handles: list[Any] = []
    if bands is not None:
        lows, highs = bands["low"].astype(float), bands["high"].astype(float)
        if lows.nunique() == 1 and highs.nunique() == 1:
            label = f"span band {lows.iloc[0]:.0f}-{highs.iloc[0]:.0f}"
            ax.axhspan(
                lows.iloc[0], highs.iloc[0], color=BAND_COLOUR, alpha=0.7, zorder=0, gid=BAND_GID
            )
        else:
            label = "span band (own per manager)"
            _axes.bars(
                ax,
                x,
                highs - lows,
                bottom=lows,
                width=0.92,
                color=BAND_COLOUR,
                zorder=0,
                gid=BAND_GID,
            )
        handles.append(Patch(color=BAND_COLOUR, label=label))
    bars = _axes.bars(ax, x, counts, width=0.6, color=_axes.type_colours(table["portfolio_type"]))
    if len(table) <= _axes.NAMES_UP_TO:
        ax.bar_label(bars, fmt="%.0f", padding=2, fontsize=8)
    ideal = counts.sum() / len(table) if len(table) else 0.0
    handles.append(
        ax.axhline(ideal, color="#333333", linestyle="--", linewidth=1, label=f"ideal {ideal:.1f}")
    )
    present = [k for k in (*_axes.TYPE_ORDER, "") if (table["portfolio_type"] == k).any()]
    handles += [Patch(color=_axes.TYPE_COLOURS[k], label=_axes.TYPE_LABELS[k]) for k in present]
    _axes.manager_ticks(ax, table["manager_id"], table["portfolio_type"], names)
    top = float(counts.max()) if len(counts) else 0.0
    if bands is not None:
        top = max(top, float(highs.max()))
    ax.set_ylim(0, top * 1.15 + 1)
    ax.set_ylabel("customers")
    ax.set_title(title or "Customers per manager")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)
    _axes.clean_frame(ax)
    return ax
