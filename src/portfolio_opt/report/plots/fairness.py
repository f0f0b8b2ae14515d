"""fairness.png: Lorenz curves of the managers' targets, one per portfolio type, with the Gini."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from portfolio_opt.plan.kpis import gini
from portfolio_opt.report.plots import _axes

LINE_STYLES = {"standard": "-", "premium": "--", "separate_ledger": ":"}
EQUALITY_GID = "equal-targets"


def _lorenz_points(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Share of managers (x) against their share of the total target, smallest first (y)."""
    xs = np.sort(values.astype(float).to_numpy())
    total = xs.sum()
    cumulative = np.concatenate([[0.0], np.cumsum(xs) / total if total else np.zeros(len(xs))])
    return np.linspace(0.0, 1.0, len(xs) + 1), cumulative


def plot_fairness(
    portfolios: pd.DataFrame,
    ax: Axes | None = None,
    *,
    label: str | None = None,
    color: str | None = None,
    title: str | None = None,
) -> Axes:
    """Lorenz curve of total targets for the standard portfolios, and apart for premium ones.

    Premium and separate-ledger portfolios are measured among themselves (their customers differ
    in kind, so they are not compared with standard ones), each only where there are at least
    two such portfolios. The title gives the Gini of each curve; 0 means equal targets.

    Parameters
    ----------
    portfolios
        ``portfolios.csv``: ``manager_id``, ``portfolio_type``, ``target``.
    ax
        Axes to draw on; a new figure when ``None``. Call again on the same axes with ``label``
        (and ``color``) to overlay plans.
    label
        The plan's name in the legend, when overlaying several.
    color
        One colour for this plan's curves (default: the portfolio type's colour).
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 5.6), layout="constrained")
    if not any(line.get_gid() == EQUALITY_GID for line in ax.get_lines()):
        ax.plot([0, 1], [0, 1], color="#999999", linewidth=1, gid=EQUALITY_GID)
        ax.plot([], [], color="#999999", linewidth=1, label="equal targets")
    parts = []
    for kind in ("standard", "premium", "separate_ledger"):
        targets = portfolios.loc[portfolios["portfolio_type"] == kind, "target"]
        if len(targets) < 2:
            continue
        value = gini(targets.astype(float))
        name = _axes.TYPE_LABELS[kind]
        parts.append(f"{name} {value:.4f}")
        x, y = _lorenz_points(targets)
        ax.plot(
            x,
            y,
            linestyle=LINE_STYLES[kind],
            marker="o",
            markersize=3,
            color=color or _axes.TYPE_COLOURS[kind],
            label=f"{label + ': ' if label else ''}{name} (Gini {value:.4f})",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("share of managers, smallest target first")
    ax.set_ylabel("share of the total target")
    gini_text = ", ".join(parts) if parts else "fewer than two portfolios of a type"
    ax.set_title(title or f"Target fairness - Gini: {gini_text}")
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    ax.grid(color="#eeeeee", linewidth=0.8)
    _axes.clean_frame(ax)
    return ax
