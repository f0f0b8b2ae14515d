"""The report's plots: one function per plot, each drawing on an optional ``ax``.

Nothing here picks a matplotlib backend; without ``ax`` a function opens a pyplot figure (in a
notebook it shows inline), and the report writer draws on figures of its own.
"""

from portfolio_opt.report.plots.bands import span_bands
from portfolio_opt.report.plots.fairness import plot_fairness
from portfolio_opt.report.plots.load import plot_load
from portfolio_opt.report.plots.payout import plot_payout
from portfolio_opt.report.plots.targets import plot_targets

__all__ = ["plot_fairness", "plot_load", "plot_payout", "plot_targets", "span_bands"]
