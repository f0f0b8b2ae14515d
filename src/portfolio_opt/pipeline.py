"""The solve job end to end: scenario -> plan -> checker -> payout -> output folder.

The command line and the parallel runners call these; nothing here knows about the terminal.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from portfolio_opt import __version__
from portfolio_opt.model.instance import span_band
from portfolio_opt.model.result import GOAL_UNITS, Result, SolveStatus
from portfolio_opt.model.settings import search_seconds
from portfolio_opt.model.solve import SolveParams, solve
from portfolio_opt.payout import compute_payout, customer_targets
from portfolio_opt.plan.checker import check_plan
from portfolio_opt.plan.io import cells_digest, plan_digest, plan_table
from portfolio_opt.plan.kpis import compute_kpis
from portfolio_opt.problems import Problem
from portfolio_opt.report.atomic import FolderChangedError
from portfolio_opt.report.folders import atomic_replacement, replace_problem, write_manifest
from portfolio_opt.report.safe_text import escape_frame
from portfolio_opt.report.tables import portfolios_table, with_own_columns
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.loader import POLICY_FILE

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_INFEASIBLE, EXIT_NO_PLAN = 0, 1, 2, 3, 4


def most_severe(codes: Iterable[int]) -> int:
    """0 when every code is 0, else the most severe failure's exit code. The codes rank
    themselves: 1 bad input (or an internal error), 2 bad usage, 3 the hard rules cannot all
    hold, 4 no plan in time; the lowest code above 0 is the most severe."""
    return min((int(code) for code in codes if code != EXIT_OK), default=EXIT_OK)


class OutputFolderError(Exception):
    """The output folder cannot be used without risking the user's files."""


@dataclass
class SolveOutcome:
    result: Result
    exit_code: int
    kpis: dict[str, object] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    # The payout's warnings (customers outside the plan, adjustments not applied, ...)
    notices: list[Problem] = field(default_factory=list)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_hashes(scenario: Scenario) -> dict[str, str]:
    files = {POLICY_FILE: scenario.root / POLICY_FILE, **{k: v for k, v in scenario.files.items()}}
    return {name: file_hash(path) for name, path in sorted(files.items()) if path.is_file()}


def check_output_folder(out: Path, scenario: Scenario) -> None:
    """Refuse folders whose replacement would lose inputs or files the tool did not write."""
    problem = replace_problem(out, {scenario.root: "scenario"}, "solve")
    if problem is not None:
        raise OutputFolderError(problem)


def plan_kpis(
    scenario: Scenario, assignment: pd.DataFrame, violations: int | None = None
) -> dict[str, Any]:
    """The KPIs that follow from the plan alone, with the standard span band."""
    targets = customer_targets(scenario.customers, scenario.policy)["target"]
    kpis = compute_kpis(scenario, assignment, targets, violations)
    span = kpis.get("span")
    if isinstance(span, dict) and len(scenario.available_managers):
        tolerance = scenario.policy.span.tolerance
        span["band"] = list(
            span_band(len(scenario.customers), len(scenario.available_managers), tolerance)
        )
    return kpis


def kpi_record(
    scenario: Scenario, result: Result, assignment: pd.DataFrame, violations: int | None = None
) -> dict[str, object]:
    kpis: dict[str, object] = {
        "status": result.status.value,
        "objective": result.objective,
        "best_bound": result.best_bound,
        "gap": None if result.gap is None else round(result.gap, 6),
        "solve_seconds": round(result.runtime, 3),
    }
    kpis.update(plan_kpis(scenario, assignment, violations))
    weights = scenario.policy.objective.weights
    kpis["goals"] = {
        goal: {
            "value": result.goals.get(goal),
            "bound": result.bounds.get(goal),
            "units": GOAL_UNITS.get(goal),
            "scale": result.scales.get(goal),  # value / scale is what objective adds up ...
            # ... times the goal's weight, under weights
            **({} if weights is None else {"weight": float(weights.get(goal, 0.0))}),
        }
        for goal in result.order
    }
    kpis["method"] = result.method
    return kpis


def manifest(scenario: Scenario, params: SolveParams, result: Result) -> dict[str, object]:
    return {
        "tool": "portfolio-opt",
        "command": "solve",
        "version": __version__,
        "python": platform.python_version(),
        "scenario": str(scenario.root.resolve()),
        "inputs_sha256": input_hashes(scenario),
        "policy": _policy_as_run(scenario, params),
        # as solved: a sweep's variant may have made managers unavailable the files list
        "unavailable_managers": sorted(
            map(str, scenario.managers.loc[~scenario.managers["available"], "manager_id"])
        ),
        "solver": {
            **_solver_settings(params),
            "method": result.method,
            "iterations": result.iterations,
            # as pursued: a bounded balance goes last, whatever the policy's order says
            "goal_order": list(result.order),
        },
        "timings_s": {k: round(v, 3) for k, v in result.timings.items()},
        "status": result.status.value,
    }


def _solver_settings(params: SolveParams) -> dict[str, Any]:
    return {
        "time_limit_s": params.time_limit_s,
        "workers": params.workers,
        "seed": params.seed,
        "deterministic": params.deterministic,
    }


def _policy_as_run(scenario: Scenario, params: SolveParams) -> dict[str, Any]:
    """The policy as resolved, its [solver] section as the solve ran (the command line wins)."""
    return {**scenario.policy.model_dump(mode="json"), "solver": _solver_settings(params)}


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    escape_frame(_without_float_noise(frame)).to_csv(
        path, index=False, encoding="utf-8", lineterminator="\n"
    )


def _without_float_noise(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers to 15 significant digits, so that a sum such as 2394935.8400000003 is written
    2394935.84 (also in columns that mix numbers and text)."""

    def clean(value: object) -> object:
        return float(f"{value:.15g}") if isinstance(value, float) else value

    tidy = frame.copy()
    for column in tidy.columns:
        if tidy[column].dtype == object or pd.api.types.is_float_dtype(tidy[column]):
            tidy[column] = tidy[column].map(clean)
    return tidy


def write_outputs(
    out: Path,
    tables: dict[str, pd.DataFrame],
    kpis: dict[str, object],
    meta: dict[str, object],
    extras: Callable[[Path], None] | None = None,
) -> None:
    """Every output file into a staging folder, then one rename into ``out`` (refused where
    ``out`` was changed meanwhile: the outputs then go beside it)."""
    started = time.monotonic()
    try:
        with atomic_replacement(out, str(meta.get("command", "solve"))) as staging:
            _write_into(staging, tables, kpis, meta, extras, started)
    except FolderChangedError as exc:
        raise OutputFolderError(str(exc)) from None


def _write_into(
    staging: Path,
    tables: dict[str, pd.DataFrame],
    kpis: dict[str, object],
    meta: dict[str, object],
    extras: Callable[[Path], None] | None,
    started: float,
) -> None:
    """The tables, KPIs, report files and manifest into ``staging``."""
    for name, frame in tables.items():
        write_csv(frame, staging / f"{name}.csv")
    (staging / "kpis.json").write_text(_json(kpis), encoding="utf-8")
    if "assignment" in tables:  # so compare, and the next solve, can tell an edited plan
        meta["plan_sha256"] = plan_digest(tables["assignment"])
        written = plan_table(staging / "assignment.csv")
        meta["plan_table_sha256"] = None if written is None else cells_digest(written)
    if extras is not None:
        extras(staging)
    _timed(meta, "write", started)
    write_manifest(staging, meta)


def _timed(meta: dict[str, object], step: str, started: float) -> None:
    """Add the seconds since ``started`` to the manifest's timings as ``step``."""
    timings = meta.setdefault("timings_s", {})
    if isinstance(timings, dict):
        timings[step] = round(time.monotonic() - started, 3)


def run_solve(
    scenario: Scenario,
    out: Path | None,
    params: SolveParams,
    progress: Callable[[dict[str, object]], None] | None = None,
    stop: Callable[[], bool] | None = None,
    extras: Callable[[Path, Scenario, dict[str, pd.DataFrame], dict[str, object]], None]
    | None = None,
    spent_s: float = 0.0,
) -> SolveOutcome:
    """Solve, check, pay and (with ``out``) write the output folder; ``spent_s`` of the time
    limit went before (starting, loading), and writing the plan takes its share too."""
    if out is not None:
        check_output_folder(out, scenario)
    result = solve(
        scenario,
        progress=progress,
        stop=stop,
        time_limit_s=search_seconds(params, len(scenario.customers), spent_s),
        workers=params.workers,
        seed=params.seed,
        deterministic=params.deterministic,
    )
    if result.status in (SolveStatus.INFEASIBLE, SolveStatus.NO_PLAN) or result.assignment is None:
        code = EXIT_INFEASIBLE if result.status is SolveStatus.INFEASIBLE else EXIT_NO_PLAN
        return SolveOutcome(result, code)
    assignment = result.assignment
    checked = time.monotonic()
    violations = check_plan(scenario, assignment)
    if violations:  # never write a plan that breaks a hard rule
        return SolveOutcome(result, EXIT_NO_PLAN, violations=[v.message for v in violations])
    payout = compute_payout(scenario, assignment)
    tables = {
        "assignment": with_own_columns(assignment, scenario.customers, "customer_id", "customers"),
        "portfolios": with_own_columns(
            portfolios_table(assignment, scenario), scenario.managers, "manager_id", "managers"
        ),
        "payout": payout.table,
    }
    kpis = kpi_record(scenario, result, assignment, violations=0)  # checked above
    if out is not None:
        hook = None if extras is None else (lambda staging: extras(staging, scenario, tables, kpis))
        meta = manifest(scenario, params, result)
        _timed(meta, "check_and_pay", checked)  # the checker, the payout and the KPIs
        write_outputs(out, tables, kpis, meta, hook)
    return SolveOutcome(result, EXIT_OK, kpis, tables, notices=payout.warnings)
