"""Targets (目標任務): stock = bases, increment = bases x growth, target = stock + increment.

With ``payout.unit_target`` the increments are reconciled with the unit's profit task
(結合各經營單位的利潤任務進行匡算) so that all customers' targets add up to it to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from portfolio_opt.payout.bases import BASE_COLUMNS, customer_bases
from portfolio_opt.payout.cents import apportion, round_money, to_cents
from portfolio_opt.payout.frames import flags, optional_numbers, text
from portfolio_opt.scenario.policy import INCOME_TYPES, Policy

INCREMENT_COLUMNS = tuple(f"{kind}_increment" for kind in INCOME_TYPES)
TYPE_TARGET_COLUMNS = tuple(f"{kind}_target" for kind in INCOME_TYPES)
TOTAL_COLUMNS = ("stock_target", "increment_target", "target")
MONEY_COLUMNS = (*BASE_COLUMNS, *INCREMENT_COLUMNS, *TYPE_TARGET_COLUMNS, *TOTAL_COLUMNS)
MOST_PLAUSIBLE_GROWTH = 1.0  # a unit target above twice the stock is warned about

Method = Literal["scaled", "stock_share", "unreachable"]


@dataclass(frozen=True)
class Reconciliation:
    """How the increments were fitted to the unit target.

    ``scaled``: above the stock, every forecast growth multiplied by ``factor`` (> 0) and the
    declines kept; below it, where every customer shrinks, every decline multiplied; every
    increment 0 when the stock alone meets the task. ``stock_share``: the forecast cannot be
    scaled so (the task is below the stock and some customer grows, or it asks for growth
    and none grows, or by less than a cent), so the gap
    ``unit_target - stock`` is spread in proportion to stock. ``unreachable``: there is no stock
    to spread over; increments stay the forecast.
    """

    unit_target: float
    stock: float
    forecast_increment: float
    method: Method
    factor: float | None
    unscaled: str = ""  # below the stock: why the forecast was not scaled, in words

    @property
    def reached(self) -> bool:
        return self.method != "unreachable"

    @property
    def implied_growth(self) -> float | None:
        """The growth on the stock the unit target asks for (None without stock)."""
        return self.unit_target / self.stock - 1 if self.stock > 0 else None

    @property
    def implausible(self) -> bool:
        """The unit target asks the customers to more than double their stock: more likely a
        slip (a stray zero) than the unit's task."""
        growth = self.implied_growth
        return self.method == "scaled" and growth is not None and growth > MOST_PLAUSIBLE_GROWTH

    @property
    def message(self) -> str:
        gap = self.unit_target - self.stock
        if self.implausible:
            return (
                f"the unit target {self.unit_target:,.2f} is {self.implied_growth:.0%} above the "
                f"customers' stock ({self.stock:,.2f}): every forecast growth is multiplied "
                f"by {self.factor:.6g}"
            )
        if self.method == "scaled":
            return (
                f"{'growth' if gap > 0 else 'declines'} scaled by {self.factor:.6g} so that the "
                f"targets add up to the unit target {self.unit_target:,.2f}"
            )
        if self.method == "stock_share" and gap < 0:
            return (
                f"the stock alone ({self.stock:,.2f}) exceeds the unit target "
                f"({self.unit_target:,.2f}): every customer's target is set below its stock, "
                f"by {-gap:,.2f} in all, in proportion to its stock (negative increments)"
                + (f"; the forecast is not scaled, as {self.unscaled}" if self.unscaled else "")
            )
        if self.method == "stock_share":
            return (
                f"the forecast increments add up to {self.forecast_increment:,.2f} but the unit "
                f"target asks for {gap:,.2f} above the stock: the gap is spread in proportion to "
                f"stock"
            )
        return (
            f"no customer has a stock, so the unit target {self.unit_target:,.2f} cannot be "
            f"spread; the targets are the forecast"
        )


def class_growth(customer_class: str, separate_ledger: bool, policy: Policy) -> float:
    """The default growth of a class; for separate-ledger customers the override comes first.

    Order: ``[payout.separate_ledger] growth[class]``, then its ``default_growth`` (separate-
    ledger customers only), then ``payout.growth[class]``, then ``payout.default_growth``.
    """
    payout = policy.payout
    override = payout.separate_ledger
    if separate_ledger:
        if override.growth and customer_class in override.growth:
            return float(override.growth[customer_class])
        if override.default_growth is not None:
            return float(override.default_growth)
    return float(payout.growth.get(customer_class, payout.default_growth))


def customer_growth(customers: pd.DataFrame, policy: Policy) -> pd.Series:
    """Each customer's forecast growth: its own ``growth_rate``, else its class default."""
    own = optional_numbers(customers, "growth_rate")
    defaults = [
        class_growth(c, sl, policy)
        for c, sl in zip(
            text(customers, "customer_class"), flags(customers, "separate_ledger"), strict=True
        )
    ]
    growth = own.fillna(pd.Series(defaults, index=customers.index, dtype=float))
    growth.index = pd.Index(text(customers, "customer_id").to_numpy(), name="customer_id")
    return growth.rename("growth")


def reconcile_increments(
    bases: pd.DataFrame, forecast: pd.DataFrame, unit_target: float
) -> tuple[pd.DataFrame, Reconciliation]:
    """Increments (same shape as ``forecast``) that make stock + increments = ``unit_target``.

    Parameters
    ----------
    bases
        Stock per customer and income type (money in whole cents), columns ``*_base``.
    forecast
        Forecast increments base x growth, columns ``*_increment``, same rows as ``bases``.
    unit_target
        The unit's profit task.

    Returns
    -------
    increments, reconciliation
        The increments in money, rounded so that the total hits the unit target to the cent
        (leftover cents go to the largest remainders, ties to the earlier customer).
    """
    stock_cells = to_cents(bases.to_numpy(dtype=float)).ravel()
    forecast_cells = forecast.to_numpy(dtype=float).ravel() * 100
    stock, increment = stock_cells.sum(), forecast_cells.sum()
    gap = float(to_cents(unit_target) - stock)
    # Above the stock, the growth forecasts are scaled and the declines kept. Scaling the net
    # forecast instead would blow a shrinking customer's decline up with the growth: a small
    # net figure over a large gap turns a -20% customer into a target far below zero. Below
    # the stock, declines are scaled only where no customer grows and no target goes below
    # zero; else the gap is spread by stock (see below), which keeps every target at 0 or more.
    along = np.sign(forecast_cells) == np.sign(gap)
    toward, against = forecast_cells[along].sum(), forecast_cells[~along].sum()
    method: Method
    # Less than a cent of forecast the task's way is no forecast to scale (and would overflow).
    scalable = abs(toward) >= 1 and (gap > 0 or against == 0)
    factor: float | None = (gap - against) / toward if scalable else 0.0
    scaled = np.where(along, forecast_cells * factor, forecast_cells)
    if gap == 0:
        method, factor = "scaled", 0.0
        raw = forecast_cells * 0.0
    elif scalable and _stays_whole(stock_cells, scaled):
        method, raw = "scaled", scaled
    elif stock != 0:
        method, factor = "stock_share", None
        raw = gap * stock_cells / stock
    else:
        method, factor = "unreachable", None
        raw = forecast_cells
    reconciliation = Reconciliation(
        unit_target=float(unit_target),
        stock=float(stock) / 100,
        forecast_increment=float(increment) / 100,
        method=method,
        factor=factor,
        unscaled=_why_unscaled(forecast_cells, toward, scalable) if gap < 0 else "",
    )
    if method == "unreachable":
        cents = to_cents(raw)
    else:
        cents = apportion(raw, np.zeros(len(raw), dtype=np.int64), np.array([gap]))
    values = np.asarray(cents, dtype=float).reshape(forecast.shape) / 100
    return pd.DataFrame(values, index=forecast.index, columns=forecast.columns), reconciliation


def _why_unscaled(forecast: np.ndarray, declines: float, scalable: bool) -> str:
    """Why a task below the stock was not met by scaling the forecast declines."""
    if (forecast >= 1e-9).any():
        return "some customers are forecast to grow"
    if not scalable or abs(declines) < 1:
        return "no customer is forecast to shrink"
    return "scaling the forecast declines would take a target below zero"


def _stays_whole(stock: np.ndarray, increments: np.ndarray) -> bool:
    """Whether no cell's target (stock + increment) falls below zero where its stock does not."""
    return bool(((stock + increments >= -0.5) | (stock < 0)).all())


def reconciled_targets(
    customers: pd.DataFrame, policy: Policy
) -> tuple[pd.DataFrame, Reconciliation | None]:
    """:func:`customer_targets` and how they met the unit target (``None`` without one)."""
    bases = customer_bases(customers, policy.payout.fx_rate)
    growth = customer_growth(customers, policy)
    forecast = pd.DataFrame(
        {f"{k}_increment": bases[f"{k}_base"] * growth for k in INCOME_TYPES}, index=bases.index
    )
    reconciliation = None
    if policy.payout.unit_target is None:
        increments = round_money(forecast)
    else:
        increments, reconciliation = reconcile_increments(
            bases, forecast, policy.payout.unit_target
        )
    table = pd.concat([bases, increments], axis=1)
    for kind in INCOME_TYPES:
        table[f"{kind}_target"] = round_money(table[f"{kind}_base"] + table[f"{kind}_increment"])
    table["stock_target"] = round_money(bases.sum(axis=1))
    table["increment_target"] = round_money(increments.sum(axis=1))
    table["target"] = round_money(table["stock_target"] + table["increment_target"])
    table["growth"] = growth
    return table, reconciliation


def customer_targets(customers: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Bases and targets of every customer, known before any assignment.

    Parameters
    ----------
    customers
        The customers table (``schema.CUSTOMERS``).
    policy
        Uses ``payout.fx_rate``, growth (with the separate-ledger override for separate-ledger
        customers) and ``unit_target`` (one scale over all customers).

    Returns
    -------
    DataFrame
        Index ``customer_id``; columns ``interest_base, deposit_base, fee_base``,
        ``*_increment``, ``*_target`` per income type, ``stock_target``, ``increment_target``,
        ``target`` (money, in cents) and ``growth`` (the rate used before any scaling).
    """
    return reconciled_targets(customers, policy)[0]


def target_reconciliation(customers: pd.DataFrame, policy: Policy) -> Reconciliation | None:
    """How the targets met ``payout.unit_target`` (``None`` without a unit target)."""
    return reconciled_targets(customers, policy)[1]


def sum_by_manager(
    per_customer: pd.DataFrame, assignment: pd.DataFrame, columns: tuple[str, ...]
) -> pd.DataFrame:
    """Sums of money ``columns`` per manager, exact to the cent (managers in first-seen order)."""
    plan = pd.DataFrame(
        {
            "customer_id": text(assignment, "customer_id"),
            "manager_id": text(assignment, "manager_id"),
        }
    )
    cents = to_cents(per_customer[list(columns)].reindex(plan["customer_id"]).fillna(0.0))
    cents.index = pd.Index(plan["manager_id"].to_numpy(), name="manager_id")
    return cents.groupby(level="manager_id", sort=False).sum() / 100


def portfolio_targets(
    assignment: pd.DataFrame, customers: pd.DataFrame, policy: Policy
) -> pd.DataFrame:
    """Bases and targets of every portfolio in ``assignment`` (before joint-marketing credits).

    Returns
    -------
    DataFrame
        Index ``manager_id`` (in order of first appearance); columns ``interest_base,
        deposit_base, fee_base, stock_target, increment_target, target`` and the per-type
        ``*_increment`` / ``*_target``.
    """
    per_customer = customer_targets(customers, policy)
    sums = sum_by_manager(per_customer, assignment, MONEY_COLUMNS)
    order = [*BASE_COLUMNS, *TOTAL_COLUMNS, *INCREMENT_COLUMNS, *TYPE_TARGET_COLUMNS]
    return sums[order]
