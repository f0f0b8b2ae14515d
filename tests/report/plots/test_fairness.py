"""plot_fairness: Lorenz curves per portfolio type, Gini in the title, overlays for compare."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from portfolio_opt.plan.kpis import gini
from portfolio_opt.report.plots import plot_fairness

from ..builders import portfolios_frame


def _curves(ax):
    return {line.get_label(): line for line in ax.get_lines() if "Gini" in line.get_label()}


def test_standard_and_premium_curves_apart() -> None:
    frame = portfolios_frame()
    ax = plot_fairness(frame, Figure().subplots())
    standard = frame.loc[frame["portfolio_type"] == "standard", "target"]
    premium = frame.loc[frame["portfolio_type"] == "premium", "target"]
    curves = _curves(ax)
    assert set(curves) == {
        f"standard (Gini {gini(standard):.4f})",
        f"premium (Gini {gini(premium):.4f})",
    }  # one separate-ledger portfolio: nothing to compare it with
    line = curves[f"standard (Gini {gini(standard):.4f})"]
    assert list(line.get_xdata()) == pytest.approx([0, 1 / 3, 2 / 3, 1])
    sorted_targets = np.sort(standard.to_numpy())
    assert list(line.get_ydata()) == pytest.approx(
        [0, *(np.cumsum(sorted_targets) / sorted_targets.sum())]
    )
    assert f"standard {gini(standard):.4f}" in ax.get_title()
    assert f"premium {gini(premium):.4f}" in ax.get_title()


def test_equal_targets_lie_on_the_diagonal() -> None:
    frame = pd.DataFrame({"portfolio_type": ["standard"] * 4, "target": [5.0] * 4})
    ax = plot_fairness(frame, Figure().subplots())
    (line,) = _curves(ax).values()
    assert list(line.get_ydata()) == pytest.approx(list(line.get_xdata()))
    assert "standard 0.0000" in ax.get_title()


def test_overlay_keeps_one_equality_line() -> None:
    ax = Figure().subplots()
    plot_fairness(portfolios_frame(), ax, label="A", color="C0")
    plot_fairness(portfolios_frame(), ax, label="B", color="C1")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels.count("equal targets") == 1
    assert sum(label.startswith("A: ") for label in labels) == 2
    assert sum(label.startswith("B: ") for label in labels) == 2
