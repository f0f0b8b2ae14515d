"""plot_targets: stock below, increment on top, a shrinking increment hatched."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.figure import Figure

from portfolio_opt.report.plots import plot_targets

from ..builders import portfolios_frame


def _containers(ax):
    return {c.get_label(): c for c in ax.containers}


def test_increment_sits_on_the_stock() -> None:
    ax = plot_targets(portfolios_frame(), Figure().subplots())
    bars = _containers(ax)
    stock = [p.get_height() for p in bars["stock target"]]
    increment = bars["increment target"]
    # type order: M01, M03 (premium), M02, M04, M05 (standard), M06 (separate ledger)
    assert stock == [9000.0, 7000.0, 3000.0, 3300.0, 2800.0, 900.0]
    assert [p.get_y() for p in increment] == stock
    assert [p.get_height() for p in increment] == [800.0, 500.0, 200.0, 100.0, 250.0, 0.0]


def test_negative_increment_reaches_down_hatched() -> None:
    ax = plot_targets(portfolios_frame(), Figure().subplots())
    shrink = _containers(ax)["negative increment"]
    heights = [p.get_height() for p in shrink]
    assert heights[-1] == -50.0 and heights[:-1] == [0.0] * 5
    assert shrink.patches[-1].get_hatch() == "///"


def test_no_hatched_bars_when_every_portfolio_grows() -> None:
    frame = portfolios_frame()
    frame["increment_target"] = frame["increment_target"].abs()
    ax = plot_targets(frame, Figure().subplots())
    assert "negative increment" not in _containers(ax)


def test_mean_line_of_standard_targets() -> None:
    ax = plot_targets(portfolios_frame(), Figure().subplots())
    (mean,) = [line for line in ax.get_lines() if line.get_label().startswith("standard mean")]
    assert mean.get_ydata()[0] == pytest.approx((3200 + 3400 + 3050) / 3)
    assert mean.get_label() == "standard mean 3,217"


def test_a_large_branch_stacks_the_increment_on_the_stock_in_one_collection_a_series() -> None:
    """Past 200 managers the bars are collections (a patch a bar took seconds to draw): the
    same rectangles, the increment's bottoms at the stock's tops."""
    n = 250
    frame = pd.DataFrame(
        {
            "manager_id": [f"M{i:03d}" for i in range(n)],
            "portfolio_type": "standard",
            "stock_target": [1000.0 + i for i in range(n)],
            "increment_target": [50.0] * n,
        }
    )
    ax = plot_targets(frame, Figure().subplots())
    series = {c.get_label(): c for c in ax.collections}
    stock_tops = [p.vertices[:, 1].max() for p in series["stock target"].get_paths()]
    increment = series["increment target"].get_paths()
    assert stock_tops == frame["stock_target"].tolist()
    assert [p.vertices[:, 1].min() for p in increment] == stock_tops
    assert [p.vertices[:, 1].max() - p.vertices[:, 1].min() for p in increment] == [50.0] * n
    assert not ax.patches and ax.get_ylim()[1] >= 1000.0 + n - 1 + 50.0
