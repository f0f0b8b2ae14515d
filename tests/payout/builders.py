"""Builders of tiny hand-made scenarios for the payout tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.policy import Policy
from portfolio_opt.scenario.schema import SCHEMAS, Column


def _blank(column: Column) -> Any:
    if column.kind == "bool":
        return bool(column.default)
    if column.kind in ("number", "integer"):
        return float("nan") if column.default is None else column.default
    return ""


def table(name: str, rows: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """A typed table as the loader gives it: every schema column, blanks filled as documented."""
    columns = SCHEMAS[name]
    filled = [{c.name: row.get(c.name, _blank(c)) for c in columns} for row in rows or []]
    frame = pd.DataFrame(filled, columns=[c.name for c in columns])
    for c in columns:
        if c.kind == "number":
            frame[c.name] = frame[c.name].astype(float)
        elif c.kind == "bool":
            frame[c.name] = frame[c.name].astype(bool)
        elif c.kind == "integer":
            frame[c.name] = frame[c.name].astype("Int64")
        else:
            frame[c.name] = frame[c.name].astype(str)
    return frame


def build_scenario(
    customers: list[dict[str, Any]],
    managers: list[dict[str, Any]],
    *,
    actuals: list[dict[str, Any]] | None = None,
    adjustments: list[dict[str, Any]] | None = None,
    credits: list[dict[str, Any]] | None = None,
    policy: dict[str, Any] | None = None,
) -> Scenario:
    """A Scenario built directly from row dicts; absent tables are empty typed frames."""
    return Scenario(
        root=Path("."),
        policy=Policy.model_validate(policy or {}),
        customers=table("customers", customers),
        managers=table("managers", managers),
        relations=table("relations"),
        actuals=table("actuals", actuals),
        adjustments=table("adjustments", adjustments),
        credits=table("credits", credits),
        affinity=table("affinity"),
    )


def plan(pairs: dict[str, str], portfolio_type: str = "standard") -> pd.DataFrame:
    """An assignment from {customer_id: manager_id}."""
    return pd.DataFrame(
        {
            "customer_id": list(pairs),
            "manager_id": list(pairs.values()),
            "portfolio_type": portfolio_type,
        }
    )


WORKED_POLICY: dict[str, Any] = {
    "payout": {
        "year": 2024,
        "fx_rate": 5.0,
        "default_growth": 0.10,
        "rates": {"target": 0.01, "increment": 0.05, "excess": 0.10},
        "base_salary": {"senior": 120_000, "junior": 80_000},
        "default_score": 1000,
    }
}


def worked_example() -> tuple[Scenario, pd.DataFrame]:
    """The worked example of docs/payout.md: three managers, five customers, two quarters,
    a credit (half of C5 from M3 to M2) and a penalty (M2, 2024Q2)."""
    customers = [
        {
            "customer_id": "C1",
            "customer_class": "key",
            "interest_income": 500_000,
            "deposit_income": 100_000,
        },
        {
            "customer_id": "C2",
            "customer_class": "key",
            "deposit_income": 100_000,
            "fee_income_fx": 20_000,
        },
        {
            "customer_id": "C3",
            "customer_class": "growth",
            "interest_income": 400_000,
            "growth_rate": 0.20,
        },
        {
            "customer_id": "C4",
            "customer_class": "basic",
            "interest_income": 200_000,
            "deposit_income": 200_000,
        },
        {"customer_id": "C5", "customer_class": "basic", "fee_income": 200_000},
    ]
    managers = [
        {"manager_id": "M1", "grade": "A", "staff_level": "senior", "management_score": 900},
        {"manager_id": "M2", "grade": "B", "staff_level": "junior"},
        {"manager_id": "M3", "grade": "B", "base_salary": 100_000, "management_score": 800},
    ]
    actuals = [
        {
            "customer_id": "C1",
            "period": "2024Q1",
            "interest_income": 150_000,
            "deposit_income": 50_000,
        },
        {"customer_id": "C2", "period": "2024Q1", "deposit_income": 25_000, "fee_income_fx": 5_000},
        {"customer_id": "C3", "period": "2024Q1", "interest_income": 70_000},
        {"customer_id": "C4", "period": "2024Q1", "interest_income": 120_000},
        {"customer_id": "C5", "period": "2024Q1", "fee_income": 60_000},
        {"customer_id": "C1", "period": "2024Q2", "interest_income": 130_000},
        {"customer_id": "C2", "period": "2024Q2", "deposit_income": 20_000, "fee_income_fx": 4_000},
        {"customer_id": "C3", "period": "2024Q2", "interest_income": 100_000},
        {"customer_id": "C4", "period": "2024Q2", "interest_income": 120_000},
        {"customer_id": "C5", "period": "2024Q2", "fee_income": 60_000},
    ]
    adjustments = [
        {
            "manager_id": "M2",
            "period": "2024Q2",
            "kind": "penalty",
            "amount": -500,
            "note": "verified complaint",
        },
    ]
    credits = [{"customer_id": "C5", "manager_id": "M2", "share": 0.5}]
    scenario = build_scenario(
        customers,
        managers,
        actuals=actuals,
        adjustments=adjustments,
        credits=credits,
        policy=WORKED_POLICY,
    )
    return scenario, plan({"C1": "M1", "C2": "M1", "C3": "M2", "C4": "M3", "C5": "M3"})
