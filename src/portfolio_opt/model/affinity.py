"""Affinity and workload: how well each manager suits each block, and the work it needs.

The affinity table gives ``cost`` and ``workload`` per (customer or industry, manager); cell by
cell, a customer's own row wins over its industry's. A workload no row gives falls back to the
policy's ``[affinity] default_workload`` for the customer's class, else 0; such a cost is 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_opt.model.instance import Instance

WORKLOAD_UNITS = 1000  # workload and capacity are compared in thousandths at least,
MAX_WORKLOAD_UNITS = 1_000_000  # and in finer units where the figures need them
MAX_COST_UNITS = 10_000  # costs finer than 0.0001 are rounded
FLOAT_NOISE = 1e-6  # of a unit: 0.3 * 1000 is 299.99999999999994 in floating point


def _pair_table(instance: Instance, column: str) -> np.ndarray:
    """(customers, managers) matrix of ``column``, NaN where no row gives it: cell by cell, a
    customer's row wins over its industry's, as in the plan checker."""
    scenario = instance.scenario
    affinity = scenario.affinity
    customers = scenario.customers.reset_index(drop=True)
    n, m = len(customers), instance.n_managers
    matrix = np.full((n, m), np.nan)
    manager = affinity["manager_id"].map(instance.manager_index)
    rows = affinity[manager.notna()]
    manager = manager[rows.index].astype(int)
    by_industry = rows[rows["customer_id"] == ""]
    if len(by_industry):
        industry_pos = {
            ind: np.flatnonzero(customers["industry"].to_numpy() == ind)
            for ind in by_industry["industry"].unique()
        }
        for ind, mm, value in zip(
            by_industry["industry"], manager[by_industry.index], by_industry[column], strict=True
        ):
            matrix[industry_pos[ind], mm] = value
    by_customer = rows[rows["customer_id"] != ""]
    position = pd.Series(np.arange(n), index=customers["customer_id"])
    cust = by_customer["customer_id"].map(position)
    ok = cust.notna() & by_customer[column].notna()
    matrix[cust[ok].astype(int).to_numpy(), manager[by_customer.index][ok].to_numpy()] = (
        by_customer.loc[ok, column].to_numpy(dtype=float)
    )
    return matrix


def _per_block(instance: Instance, per_customer: np.ndarray) -> np.ndarray:
    """Sum customer rows into block rows."""
    out = np.zeros((instance.n_blocks, per_customer.shape[1]))
    np.add.at(out, instance.customer_block, per_customer)
    return out


def cost_units(cost: np.ndarray) -> int:
    """The smallest power of ten (at most MAX_COST_UNITS) that makes every cost a whole number,
    so a cost of 0.3 is not rounded away."""
    return _whole_units(cost, 1, MAX_COST_UNITS)


def _whole_units(values: np.ndarray, least: int, most: int) -> int:
    """The smallest power of ten from ``least`` to ``most`` that makes every finite value whole."""
    finite = values[np.isfinite(values)]
    units = least
    while units < most and not np.allclose(
        finite * units, np.round(finite * units), rtol=0, atol=1e-6
    ):
        units *= 10
    return units


def customer_workload(instance: Instance) -> np.ndarray:
    """(customers, managers): the work each customer needs from each manager, as the table
    gives it, else the policy's default for its class, else 0."""
    scenario = instance.scenario
    customers = scenario.customers.reset_index(drop=True)
    workload = (
        _pair_table(instance, "workload")
        if len(scenario.affinity)
        else np.full((len(customers), instance.n_managers), np.nan)
    )
    defaults = scenario.policy.affinity.default_workload
    fallback = customers["customer_class"].map(lambda c: defaults.get(c, 0.0)).to_numpy(dtype=float)
    return np.where(np.isnan(workload), fallback[:, None], workload)


def attach_affinity(instance: Instance) -> None:
    """Fill the instance's affinity cost, workload and capacity arrays from the scenario."""
    scenario = instance.scenario
    managers = scenario.available_managers.reset_index(drop=True)
    capacity = managers["capacity"].to_numpy(dtype=float, na_value=np.nan)
    has_table = len(scenario.affinity) > 0
    if not has_table and np.isnan(capacity).all():
        return
    cost = np.nan_to_num(_pair_table(instance, "cost"), nan=0.0) if has_table else None
    workload = customer_workload(instance)
    if cost is not None:
        instance.affinity_units = cost_units(cost)
        instance.affinity_cost = np.round(
            _per_block(instance, cost) * instance.affinity_units
        ).astype(np.int64)
    units = _whole_units(
        np.concatenate([workload.ravel(), capacity]), WORKLOAD_UNITS, MAX_WORKLOAD_UNITS
    )
    instance.workload_units = units
    instance.workload = _per_block(instance, workload_in_units(workload, units)).astype(np.int64)
    shown = workload_in_units(workload, units, allowance=False)
    instance.workload_shown = _per_block(instance, shown).astype(np.int64)
    instance.capacity = np.where(
        np.isnan(capacity), -1, np.floor(np.nan_to_num(capacity) * units + FLOAT_NOISE)
    ).astype(np.int64)


def workload_in_units(workload: np.ndarray, units: int, allowance: bool = True) -> np.ndarray:
    """Workloads in whole ``units``, rounded down. Figures whole in some power of ten up to a
    millionth are exact; finer ones (2/3) lose less than a unit each, so a plan within capacity
    stays within it here, and one within it here exceeds it by less than a millionth a customer,
    which the checker allows (2/3 three times fits a capacity of 2). Counted in millionths, an
    exact figure is one less (``allowance``): the checker's millionth a customer, so that
    0.666667 three times fits a capacity of 2 here as there."""
    scaled = workload * units
    whole = np.floor(scaled + FLOAT_NOISE)
    if allowance and units == MAX_WORKLOAD_UNITS:
        exact = np.abs(scaled - np.round(scaled)) <= FLOAT_NOISE
        whole = np.where(exact & (whole > 0), whole - 1, whole)
    return whole.astype(np.int64)
