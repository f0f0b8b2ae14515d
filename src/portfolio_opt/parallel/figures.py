"""variants.png: a few KPIs per sweep variant, side by side, failed variants marked."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from portfolio_opt.report.plots import fonts
from portfolio_opt.report.plots._axes import clean_frame

VARIANT_KPIS = {
    "span.max_abs_dev": "span: largest distance from N/M",
    "balance.target_gini": "target Gini, standard portfolios",
    "chain.cut_share": "share of chain weight cut",
    "moves.count": "customers who change manager",
    "pay.total_performance_pay": "performance pay, the year",
}
BAR_COLOUR, FAILED_COLOUR = "#3b6ea5", "#b03a2e"
PLANNED = ("optimal", "feasible")


def _shown(kpi: str, value: float) -> str:
    from portfolio_opt.report.compare_command import format_value

    return format_value(kpi, value)


def plot_variant_kpi(
    values: pd.Series,
    status: pd.Series,
    ax: Axes,
    kpi: str,
    title: str | None = None,
    *,
    labels: bool = True,
) -> Axes:
    """One horizontal bar per variant (first on top); a variant without a plan shows why.

    Parameters
    ----------
    values
        The KPI per variant, indexed by the variant's label.
    kpi
        The KPI's dotted name (it picks the number format); the title when none is given.
    status
        Each variant's status (``optimal``, ``feasible``, or what stopped it), same index.
    """
    positions = list(range(len(values)))
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    finite = [v for v in numbers if not math.isnan(v)]
    top = max(finite, default=0.0)
    ax.barh(positions, numbers.fillna(0.0), color=BAR_COLOUR, height=0.6)
    for y, (value, state) in enumerate(zip(numbers, status, strict=True)):
        if not math.isnan(value):
            ax.text(value, y, f" {_shown(kpi, value)}", va="center", ha="left", fontsize=8)
        elif state in PLANNED:
            ax.text(0, y, " n/a", va="center", ha="left", color="#777777", fontsize=8)
        else:
            ax.text(0, y, f" {state}", va="center", ha="left", color=FAILED_COLOUR, fontsize=8)
    if labels:  # shared y axes share their tick labels: only the first sets them
        ax.set_yticks(positions, [str(i) for i in values.index])
        _font_for(ax, [str(i) for i in values.index])
    ax.set_ylim(len(values) - 0.5, -0.5)
    ax.set_xlim(0, top * 1.35 if top > 0 else 1)
    ax.set_xticks([])
    ax.set_title(title or kpi, fontsize=9)
    clean_frame(ax)
    return ax


def _font_for(ax: Axes, labels: list[str]) -> None:
    if all(label.isascii() for label in labels):
        return
    font = fonts.find_cjk_font()
    if font is not None:
        for tick in ax.get_yticklabels():
            tick.set_fontfamily(font.families)


def variants_figure(table: pd.DataFrame, kpis: dict[str, str] | None = None) -> Figure:
    """The sweep table's main KPIs, one panel each, the variants down the side."""
    kpis = kpis or VARIANT_KPIS
    shown = {k: v for k, v in kpis.items() if k in table.columns}
    labels = table["variant"].astype(str)
    width = max(len(label) for label in labels) if len(labels) else 10
    figure = Figure(
        figsize=(min(2.2 + 0.075 * width, 7.0) + 2.6 * max(len(shown), 1), 1.2 + 0.32 * len(table)),
        layout="constrained",
    )
    axes = figure.subplots(1, max(len(shown), 1), sharey=True, squeeze=False)[0]
    status = pd.Series(table["status"].astype(str).to_numpy(), index=labels)
    for i, (ax, (column, title)) in enumerate(zip(axes, shown.items(), strict=False)):
        values = pd.Series(table[column].to_numpy(), index=labels)
        plot_variant_kpi(values, status, ax, column, title, labels=i == 0)
    figure.suptitle("Variants side by side")
    return figure
