"""Warnings about a payout: inputs that are left out, and why."""

from __future__ import annotations

import pandas as pd

from portfolio_opt.payout.frames import flags, text
from portfolio_opt.payout.settlement import YEAR
from portfolio_opt.payout.targets import Reconciliation
from portfolio_opt.problems import Problem, Severity


def _listed(items: list[str], limit: int) -> str:
    return ", ".join(items[:limit]) + (" ..." if len(items) > limit else "")


def rows_outside_plan(frame: pd.DataFrame, planned: set[str], file: str) -> list[Problem]:
    """Actuals or credits rows of customers that are not in the plan (they are ignored)."""
    ids = text(frame, "customer_id")
    rows = [str(i + 2) for i in (~ids.isin(planned) & ids.ne("")).to_numpy().nonzero()[0]]
    if not rows:
        return []
    return [
        Problem(
            file,
            f"{len(rows)} row(s) are for customers outside the assignment and are ignored "
            f"(rows {_listed(rows, 10)})",
            "",
            int(rows[0]),
            "customer_id",
            Severity.WARNING,
        )
    ]


def credits_to_unavailable(
    credits: pd.DataFrame, managers: pd.DataFrame, planned: set[str], file: str
) -> list[Problem]:
    """A warning for each credit to a manager marked unavailable: such a manager holds no
    portfolio this year, yet the credit pays them (a payout row, with their base salary)."""
    ids = text(managers, "manager_id")
    away = set(ids[~flags(managers, "available", default=True)])
    warnings = []
    for i, (customer, manager) in enumerate(
        zip(text(credits, "customer_id"), text(credits, "manager_id"), strict=True)
    ):
        if manager in away and customer in planned:
            warnings.append(
                Problem(
                    file,
                    f"manager {manager!r} is marked unavailable but is credited a share of "
                    f"customer {customer!r}: they are paid for it, with their base salary",
                    "remove the row if the share should stay with the customer's manager",
                    i + 2,
                    "manager_id",
                    Severity.WARNING,
                )
            )
    return warnings


def unapplied_adjustments(
    adjustments: pd.DataFrame, managers: list[str], file: str
) -> list[Problem]:
    """Adjustments of managers without rows (stops of quarters without a row are input
    warnings: see ``stops_without_actuals``)."""
    warnings = []
    for adj in adjustments.itertuples(index=False):
        if adj.manager_id not in managers:
            message = (
                f"manager {adj.manager_id!r} is not available and holds no customer: the "
                f"adjustment is not applied"
            )
            warnings.append(
                Problem(file, message, "", int(adj.source_row), "manager_id", Severity.WARNING)
            )
    return warnings


def stops_without_actuals(
    adjustments: pd.DataFrame, quarters: list[int], file: str
) -> list[Problem]:
    """A warning for each stop of a quarter that has no actuals (``quarters`` have some): the
    payout has no row for that quarter, so nothing is stopped."""
    return [
        Problem(
            file,
            f"there is no payout row for {adj.period} (no actuals for that quarter): "
            f"the stop is not applied",
            "add the quarter's actuals, or stop the year instead",
            int(adj.source_row),
            "period",
            Severity.WARNING,
        )
        for adj in adjustments.itertuples(index=False)
        if adj.kind == "stop" and adj.quarter != YEAR and adj.quarter not in quarters
    ]


def unit_target_notice(
    reconciliation: Reconciliation | None, row: int | None = None
) -> list[Problem]:
    """A warning when the unit target could not be met by scaling the forecast, or asks for
    implausible growth; ``row``: the line of payout.unit_target in scenario.toml."""
    if reconciliation is None or (
        reconciliation.method == "scaled" and not reconciliation.implausible
    ):
        return []
    return [
        Problem(
            "scenario.toml",
            reconciliation.message,
            "check payout.unit_target against the customers' bases: is there a zero too many?"
            if reconciliation.implausible
            else "check payout.unit_target against the customers' bases",
            row=row,
            column="payout.unit_target",
            severity=Severity.WARNING,
        )
    ]
