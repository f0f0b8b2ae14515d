"""plot_payout: base salary and the three tiers stacked, actual income marked."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from portfolio_opt.report.plots import plot_payout

from ..builders import payout_frame


def _stack(ax) -> dict[str, list[tuple[float, float]]]:
    return {c.get_label(): [(p.get_y(), p.get_height()) for p in c] for c in ax.containers}


def test_yearly_rows_stacked_in_order() -> None:
    ax = plot_payout(payout_frame(), Figure().subplots())
    stack = _stack(ax)
    # managers in type order: M01, M03 (premium), M02 (standard)
    assert [h for _, h in stack["base salary"]] == [200.0, 180.0, 150.0]
    tiers = ["target tier (up to the stock)", "increment tier", "excess tier (beyond the target)"]
    assert [h for _, h in stack[tiers[0]]] == [50.0, 40.0, 30.0]
    assert [y for y, _ in stack[tiers[1]]] == [250.0, 220.0, 180.0]
    assert [y + h for y, h in stack[tiers[2]]] == [280.0, 235.0, 180.0]
    assert "2026" in ax.get_title()


def test_actual_income_marked() -> None:
    ax = plot_payout(payout_frame(), Figure().subplots())
    (marks,) = ax.collections
    assert [y for _, y in marks.get_offsets()] == pytest.approx([270.0, 230.0, 177.0])


def test_a_chosen_quarter() -> None:
    ax = plot_payout(payout_frame(), Figure().subplots(), period="2026Q1")
    assert [h for _, h in _stack(ax)["base salary"]] == [50.0, 45.0, 37.5]
    assert "2026Q1" in ax.get_title()
