"""Tiny scenarios and plans built in code, typed exactly as the scenario loader types them."""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from pathlib import Path
from typing import Any

import pandas as pd

from portfolio_opt.scenario.columns import coerce_table
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.policy import Policy
from portfolio_opt.scenario.schema import SCHEMAS

_EMPTY: dict[str, pd.DataFrame] = {}


def table(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A typed table from rows of plain values (missing cells blank)."""
    if not rows:
        if name not in _EMPTY:
            _EMPTY[name] = _typed(name, [])
        return _EMPTY[name].copy()
    return _typed(name, rows)


def _typed(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = list(dict.fromkeys([c.name for c in SCHEMAS[name]] + [k for r in rows for k in r]))
    text = pd.DataFrame(
        [{c: "" if r.get(c) is None else str(r[c]) for c in columns} for r in rows],
        columns=columns,
        dtype=str,
    )
    typed, problems = coerce_table(text, SCHEMAS[name], name)
    errors = [p for p in problems if p.is_error]
    assert not errors, errors
    return typed


def make_scenario(
    customers: list[dict[str, Any]],
    managers: list[dict[str, Any]],
    relations: list[dict[str, Any]] | None = None,
    affinity: list[dict[str, Any]] | None = None,
    policy: dict[str, Any] | None = None,
) -> Scenario:
    """A Scenario from rows; absent optional tables are empty frames with the schema columns."""
    return Scenario(
        root=Path("."),
        policy=Policy.model_validate(policy or {}),
        customers=table("customers", customers),
        managers=table("managers", managers),
        relations=table("relations", relations or []),
        actuals=table("actuals", []),
        adjustments=table("adjustments", []),
        credits=table("credits", []),
        affinity=table("affinity", affinity or []),
    )


def plan(holdings: dict[str, list[str]]) -> pd.DataFrame:
    """An assignment frame from {manager: [customers]}."""
    rows = [(c, m) for m, held in holdings.items() for c in held]
    return pd.DataFrame(rows, columns=["customer_id", "manager_id"], dtype=str)


def small_customers() -> list[dict[str, Any]]:
    """Two premium customers, four standard ones (S1 and S2 in group G1), two separate-ledger."""
    return [
        {"customer_id": "P1", "customer_class": "premium", "interest_income": 100},
        {"customer_id": "P2", "customer_class": "premium", "interest_income": 100},
        {"customer_id": "S1", "customer_class": "key", "group_id": "G1", "interest_income": 100},
        {"customer_id": "S2", "customer_class": "growth", "group_id": "G1", "fee_income": 100},
        {"customer_id": "S3", "customer_class": "key", "deposit_income": 100},
        {"customer_id": "S4", "customer_class": "basic", "interest_income": 100},
        {"customer_id": "L1", "customer_class": "basic", "separate_ledger": True},
        {"customer_id": "L2", "customer_class": "watch", "separate_ledger": "是"},
    ]


def small_managers() -> list[dict[str, Any]]:
    """MA (grade A) for premium, MB and MC (grade B) standard, ML for the separate ledger, MX
    unavailable."""
    return [
        {"manager_id": "MA", "grade": "A"},
        {"manager_id": "MB", "grade": "B"},
        {"manager_id": "MC", "grade": "B"},
        {"manager_id": "ML", "grade": "C"},
        {"manager_id": "MX", "grade": "B", "available": False},
    ]


def small_scenario(**changes: Any) -> Scenario:
    """8 customers, 4 available managers, tolerance 0 so each holds exactly 2; ``changes``
    may replace ``customers``, ``managers``, ``relations``, ``affinity`` or add ``policy`` keys."""
    policy = {"span": {"tolerance": 0}, "payout": {"default_growth": 0.0}}
    for key, value in changes.pop("policy", {}).items():
        policy[key] = {**policy.get(key, {}), **value}
    return make_scenario(
        changes.pop("customers", small_customers()),
        changes.pop("managers", small_managers()),
        changes.pop("relations", None),
        changes.pop("affinity", None),
        policy,
    )


SMALL_PLAN = {"MA": ["P1", "P2"], "MB": ["S1", "S2"], "MC": ["S3", "S4"], "ML": ["L1", "L2"]}


def small_plan(**moves: str) -> pd.DataFrame:
    """The valid plan of the small scenario, with customers moved: ``small_plan(S3="MB")``."""
    frame = plan(SMALL_PLAN)
    for customer, manager in moves.items():
        frame.loc[frame["customer_id"] == customer, "manager_id"] = manager
    return frame


def with_rows(rows: list[dict[str, Any]], **changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows with some of them (by their first column's id) changed."""
    out = []
    for row in rows:
        key = next(iter(row.values()))
        out.append({**row, **changes.get(key, {})})
    return out


def cheapest_valid_plan(
    scenario: Scenario, managers: list[str], cost: Callable[[dict[str, str]], int]
) -> dict[str, str] | None:
    """Of every plan of a tiny branch ({customer: manager}), the cheapest the checker accepts."""
    from portfolio_opt.plan import check_plan

    ids = scenario.customers["customer_id"].astype(str).tolist()
    plans = [dict(zip(ids, chosen, strict=True)) for chosen in product(managers, repeat=len(ids))]
    for choice in sorted(plans, key=cost):
        frame = plan({m: [c for c, mm in choice.items() if mm == m] for m in managers})
        if not check_plan(scenario, frame):
            return choice
    return None
