"""plot_load: bars per manager in type order, the band behind them, the ideal line."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from portfolio_opt.report.plots import plot_load
from portfolio_opt.report.plots._axes import IDS_UP_TO, TYPE_COLOURS
from portfolio_opt.report.plots.load import BAND_GID

from ..builders import portfolios_frame


def _axes():
    return Figure().subplots()


def _bars(ax, width: float) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle) and abs(p.get_width() - width) < 1e-9]


def test_bars_follow_type_order_and_colour(no_cjk_font: None) -> None:
    ax = plot_load(portfolios_frame(), (8, 12), _axes())
    bars = _bars(ax, 0.6)
    # premium first, then standard, then separate ledger; by id within each type
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "M01",
        "M03",
        "M02",
        "M04",
        "M05",
        "M06",
    ]
    assert [b.get_height() for b in bars] == [9, 8, 11, 10, 12, 4]
    expected = ["premium"] * 2 + ["standard"] * 3 + ["separate_ledger"]
    assert [b.get_facecolor() for b in bars] == [to_rgba(TYPE_COLOURS[k]) for k in expected]


def _band(ax) -> list[tuple[float, float]]:
    return [(p.get_y(), p.get_y() + p.get_height()) for p in ax.patches if p.get_gid() == BAND_GID]


def test_one_band_for_all_is_a_horizontal_span() -> None:
    ax = plot_load(portfolios_frame(), (8, 12), _axes())
    assert _band(ax) == [(8, 12)]
    assert "span band 8-12" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_a_band_per_manager_is_drawn_behind_each_bar() -> None:
    portfolios = portfolios_frame()
    bands = pd.DataFrame(
        {"manager_id": portfolios["manager_id"], "low": range(1, 7), "high": range(11, 17)}
    )
    ax = plot_load(portfolios, bands, _axes())
    by_id = {m: (lo, hi) for m, lo, hi in bands.itertuples(index=False)}
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert _band(ax) == [by_id[m] for m in ticks]


def test_ideal_line_is_the_mean_count() -> None:
    ax = plot_load(portfolios_frame(), None, _axes())
    (ideal,) = [line for line in ax.get_lines() if line.get_label().startswith("ideal")]
    assert ideal.get_ydata()[0] == pytest.approx(54 / 6)
    assert _band(ax) == []  # no band given


def test_band_from_a_kpi_record() -> None:
    ax = plot_load(portfolios_frame(), {"span": {"ideal": 9.0, "band": [7, 11]}}, _axes())
    assert _band(ax) == [(7, 11)]


def test_legend_names_the_types_present() -> None:
    frame = portfolios_frame()
    ax = plot_load(frame[frame["portfolio_type"] == "standard"], (8, 12), _axes())
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "standard" in labels and "premium" not in labels


def test_a_large_branch_labels_every_kth_manager_in_bar_order(no_cjk_font: None) -> None:
    n = 300
    portfolios = pd.DataFrame(
        {
            "manager_id": [f"M{i:03d}" for i in range(n)],
            "portfolio_type": ["premium"] * 20 + ["standard"] * (n - 20),
            "n_customers": [40] * n,
        }
    )
    portfolios.loc[7, "n_customers"] = 44
    ax = plot_load(portfolios, (39, 41), _axes())
    labels = ax.get_xticklabels()
    # Every manager still has a bar, its height its count: one collection of rectangles, as
    # 300 patches draw slowly.
    (drawn,) = ax.collections
    tops = [path.vertices[:, 1].max() for path in drawn.get_paths()]
    assert tops == portfolios["n_customers"].tolist()
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] >= 44
    assert 0 < len(labels) <= IDS_UP_TO
    step = int(ax.get_xticks()[1])
    assert [t.get_text() for t in labels] == [f"M{i:03d}" for i in range(0, n, step)]
    assert [to_rgba(t.get_color()) for t in labels[:7]] == [
        to_rgba(TYPE_COLOURS["premium"] if i < 20 else TYPE_COLOURS["standard"])
        for i in range(0, 7 * step, step)
    ]
