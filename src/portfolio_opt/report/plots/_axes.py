"""What the per-manager plots share: order, colours, tick labels, money axes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from portfolio_opt.report.plots import fonts

TYPE_ORDER = ("premium", "standard", "separate_ledger")
TYPE_COLOURS = {
    "premium": "#c8871a",
    "standard": "#3b6ea5",
    "separate_ledger": "#7b5ea7",
    "": "#9a9a9a",
}
TYPE_LABELS = {
    "premium": "premium",
    "standard": "standard",
    "separate_ledger": "separate ledger",
    "": "empty",
}
NAMES_UP_TO = 30  # managers; beyond that a name under every bar is unreadable
IDS_UP_TO = 120  # labels an 18-inch axis holds at 8 pt; beyond that every k-th id is shown
BARS_UP_TO = 200  # bars drawn as patches; beyond, one collection a series (see ``bars``)


def new_axes(ax: Axes | None, n_bars: int, height: float = 4.8) -> Axes:
    """``ax`` itself, or a new figure sized for ``n_bars`` bars (pyplot, for notebooks)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, created = plt.subplots(figsize=(bar_figure_width(n_bars), height), layout="constrained")
    return created


def bar_figure_width(n_bars: int) -> float:
    """Inches of bars: about 0.4 per manager, capped so that a branch still fits a screen."""
    return min(max(6.4, 1.6 + 0.42 * n_bars), 18.0)


def ordered_managers(frame: pd.DataFrame, types: pd.Series | None = None) -> pd.DataFrame:
    """One row per manager, premium first, then standard, then separate ledger; by id within."""
    frame = frame.copy()
    frame["manager_id"] = frame["manager_id"].astype(str)
    if "portfolio_type" not in frame.columns:
        kinds = types if types is not None else pd.Series(dtype=str)
        frame["portfolio_type"] = frame["manager_id"].map(kinds)
    frame["portfolio_type"] = frame["portfolio_type"].fillna("").astype(str)
    rank = {kind: i for i, kind in enumerate(TYPE_ORDER)}
    frame["_rank"] = frame["portfolio_type"].map(lambda k: rank.get(k, len(rank)))
    frame = frame.sort_values(["_rank", "manager_id"], kind="stable")
    return frame.drop(columns="_rank").reset_index(drop=True)


def type_colours(types: pd.Series) -> list[str]:
    return [TYPE_COLOURS.get(str(k), TYPE_COLOURS[""]) for k in types]


def manager_ticks(
    ax: Axes,
    ids: pd.Series,
    types: pd.Series,
    names: Mapping[str, str] | None = None,
) -> None:
    """Manager ids under the bars, with the name below where a font can draw it.

    Tick labels take their portfolio type's colour. Past ``IDS_UP_TO`` bars, every k-th id
    is shown (with a tick): all of them would overlap into a black band, slowly.
    """
    font = fonts.find_cjk_font()
    known = font.codepoints if font is not None else fonts.default_codepoints()
    show_names = names is not None and len(ids) <= NAMES_UP_TO
    labels = []
    for manager_id in ids:
        name = str(names.get(manager_id, "")) if show_names and names is not None else ""
        drawable = bool(name) and all(ord(ch) in known for ch in name if not ch.isspace())
        labels.append(f"{manager_id}\n{name}" if drawable else str(manager_id))
    step = max(1, -(-len(ids) // IDS_UP_TO))
    positions = list(range(0, len(ids), step))
    labels = labels[::step]
    extra: dict[str, object] = {}
    if font is not None and show_names:
        extra["fontfamily"] = font.families
    crowded = len(ids) > 12
    ax.set_xticks(
        positions,
        labels,
        rotation=90 if crowded else 0,
        fontsize=8 if crowded else 9,
        **extra,  # type: ignore[arg-type]
    )
    for label, kind in zip(ax.get_xticklabels(), list(types)[::step], strict=True):
        label.set_color(TYPE_COLOURS.get(str(kind), TYPE_COLOURS[""]))
    ax.set_xlim(-0.6, len(ids) - 0.4)


def type_keys(types: pd.Series) -> list[Line2D]:
    """Legend entries that tell the portfolio types by the colour of the manager ids."""
    present = [k for k in (*TYPE_ORDER, "") if (types == k).any()]
    return [
        Line2D(
            [],
            [],
            linestyle="",
            marker="$M$",
            markersize=9,
            color=TYPE_COLOURS[k],
            label=f"{TYPE_LABELS[k]} portfolio",
        )
        for k in present
    ]


def money(value: float, _: object = None) -> str:
    """Thousands separators, no decimals: 12,345,678."""
    return f"{value:,.0f}"


def money_axis(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(money))
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)


def clean_frame(ax: Axes) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)


def bars(
    ax: Axes,
    x: Any,
    height: Any,
    *,
    bottom: Any = 0.0,
    width: float = 0.8,
    color: Any,
    label: str | None = None,
    **style: Any,
) -> Any:
    """``ax.bar``, or past ``BARS_UP_TO`` bars the same rectangles as one collection: a patch a
    bar took 6 of the 10 s a report spent on its plots at 1,000 managers."""
    if len(x) <= BARS_UP_TO:
        return ax.bar(x, height, bottom=bottom, width=width, color=color, label=label, **style)
    centre = np.asarray(x, dtype=float)
    low = np.broadcast_to(np.asarray(bottom, dtype=float), centre.shape)
    high = low + np.asarray(height, dtype=float)
    left, right = centre - width / 2, centre + width / 2
    corners = np.stack(
        [np.c_[left, low], np.c_[left, high], np.c_[right, high], np.c_[right, low]], axis=1
    )
    edge = style.pop("edgecolor", "none")
    rectangles = PolyCollection(
        list(corners), facecolors=color, edgecolors=edge, linewidths=0.8, label=label, **style
    )
    rectangles.sticky_edges.y.append(0.0)  # as bars: no margin below the axis
    ax.add_collection(rectangles)
    ax.update_datalim(np.r_[corners.reshape(-1, 2), [[0.0, 0.0]]])
    ax.autoscale_view()
    return rectangles
