"""Shared helpers of the engine tests: a fast solve, plan views, scenario folders on disk.

Scenarios are built with ``tests/plan/builders.py`` (typed exactly as the loader types them);
``write_scenario_folder`` writes the same rows as a scenario folder for the pipeline and CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from portfolio_opt.model.result import Result, SolveStatus
from portfolio_opt.model.solve import solve
from portfolio_opt.plan import check_plan
from portfolio_opt.scenario.data import Scenario

FAST: dict[str, Any] = {"time_limit_s": 2, "workers": 1, "seed": 0, "deterministic": True}
PLAN_STATUSES = (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


def solve_fast(scenario: Scenario, **overrides: Any) -> Result:
    """``solve`` with a short, single-worker, deterministic budget."""
    return solve(scenario, **{**FAST, **overrides})


def manager_of(assignment: pd.DataFrame) -> dict[str, str]:
    """customer_id -> manager_id of a plan."""
    return dict(zip(assignment["customer_id"], assignment["manager_id"], strict=True))


def holdings(assignment: pd.DataFrame) -> dict[str, list[str]]:
    """manager_id -> its customers, in plan order."""
    held: dict[str, list[str]] = {}
    for cid, mid in zip(assignment["customer_id"], assignment["manager_id"], strict=True):
        held.setdefault(mid, []).append(cid)
    return held


def valid_plan(scenario: Scenario, result: Result) -> pd.DataFrame:
    """The plan of ``result``, after asserting it exists and keeps every hard rule."""
    assert result.status in PLAN_STATUSES, (result.status, result.explanation)
    assert result.assignment is not None
    plan = result.assignment
    assert sorted(plan["customer_id"]) == sorted(scenario.customers["customer_id"])
    broken = [str(v) for v in check_plan(scenario, plan)]
    assert broken == [], broken
    return plan


def standard_customers(
    count: int, prefix: str = "C", start: int = 0, **common: Any
) -> list[dict[str, Any]]:
    """``count`` customers of class ``key`` with income 100 and ``common`` columns."""
    return [
        {
            "customer_id": f"{prefix}{i:02d}",
            "customer_class": "key",
            "interest_income": 100,
            **common,
        }
        for i in range(start, start + count)
    ]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def toml_text(policy: dict[str, Any], section: str = "") -> str:
    """A policy dict (nested sections of scalars and lists) as ``scenario.toml`` text."""
    scalars = {k: v for k, v in policy.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in policy.items() if isinstance(v, dict)}
    lines = [f"[{section}]"] if section and (scalars or not tables) else []
    lines += [f"{key} = {_toml_value(value)}" for key, value in scalars.items()]
    text = "\n".join(lines) + ("\n" if lines else "")
    for key, value in tables.items():
        text += "\n" + toml_text(value, f"{section}.{key}" if section else key)
    return text


def _csv(root: Path, name: str, rows: list[dict[str, Any]]) -> None:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    frame = pd.DataFrame(
        [{c: "" if row.get(c) is None else str(row[c]) for c in columns} for row in rows],
        columns=columns,
        dtype=str,
    )
    frame.to_csv(root / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")


def write_scenario_folder(
    root: Path,
    customers: list[dict[str, Any]],
    managers: list[dict[str, Any]],
    relations: list[dict[str, Any]] | None = None,
    policy: dict[str, Any] | None = None,
    affinity: list[dict[str, Any]] | None = None,
) -> Path:
    """Write the rows as a scenario folder (CSV tables and ``scenario.toml``); return it."""
    root.mkdir(parents=True, exist_ok=True)
    tables: dict[str, Any] = {"customers": "customers.csv", "managers": "managers.csv"}
    _csv(root, "customers", customers)
    _csv(root, "managers", managers)
    for name, rows in (("relations", relations), ("affinity", affinity)):
        if rows:
            _csv(root, name, rows)
            tables[name] = f"{name}.csv"
    full = dict(policy or {})
    full["tables"] = {**tables, **full.get("tables", {})}
    (root / "scenario.toml").write_text(toml_text(full), encoding="utf-8")
    return root
