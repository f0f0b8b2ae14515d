"""One solve as a task, run here in the test process: summaries, folders, failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from portfolio_opt.parallel.tasks import SolveTask, crashed, solve_task, task_params
from portfolio_opt.pipeline import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_OK, EXIT_USAGE
from portfolio_opt.scenario.loader import load_scenario

from .conftest import TIME_LIMIT_S


def _task(branch_dir: Path, out: Path, **given: object) -> SolveTask:
    values: dict = {"time_limit_s": TIME_LIMIT_S, "workers": 1, "seed": 0, **given}
    return SolveTask("v", str(branch_dir), str(out), **values)


def test_a_task_writes_the_full_output_folder(branch_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "v"
    summary = solve_task(_task(branch_dir, out, overrides=(("span.tolerance", 3),)))
    assert summary.ok and summary.exit_code == EXIT_OK
    assert summary.status in ("optimal", "feasible") and summary.errors == ()
    for name in ("assignment.csv", "portfolios.csv", "payout.csv", "kpis.json", "report.xlsx"):
        assert (out / name).is_file(), name
    assert (out / "plots" / "load.png").is_file()
    assert summary.kpis == json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["policy"]["span"]["tolerance"] == 3  # the override reached the solve
    portfolios = pd.read_csv(out / "portfolios.csv")
    assert summary.totals["target"] == portfolios["target"].sum()
    assert summary.totals["pay.total_actual_income"] > 0


def test_the_dropped_managers_get_no_customers(branch_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "v"
    task = _task(branch_dir, out, overrides=(("span.tolerance", 3),), drop=("M004",))
    assert solve_task(task).ok
    assignment = pd.read_csv(out / "assignment.csv", dtype=str)
    assert "M004" not in set(assignment["manager_id"])
    assert len(assignment) == 60


def test_an_infeasible_variant_is_a_summary_not_an_exception(
    branch_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "v"
    task = _task(branch_dir, out, overrides=(("span.tolerance", 1),), drop=("M004",))
    summary = solve_task(task)
    assert summary.exit_code == EXIT_INFEASIBLE and summary.status == "infeasible"
    assert summary.errors and not summary.ok
    assert not out.exists()  # no plan, no folder


def test_bad_input_lists_the_problems(branch_dir: Path, tmp_path: Path) -> None:
    task = _task(branch_dir, tmp_path / "v", overrides=(("tables.customers", "missing.csv"),))
    summary = solve_task(task)
    assert summary.exit_code == EXIT_BAD_INPUT and summary.status == "bad input"
    assert any("missing.csv" in error for error in summary.errors)


def test_bad_input_is_listed_as_validate_lists_it(branch_dir: Path, tmp_path: Path) -> None:
    """By file, then by row, however the checks found them: a planner fixes them top down."""
    folder = tmp_path / "branch"
    shutil.copytree(branch_dir, folder)
    customers = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False)
    customers.loc[7, "customer_class"] = "no such class"  # found by a check across tables
    customers.loc[10, "interest_income"] = "many"  # found on reading the cell
    customers.to_csv(folder / "customers.csv", index=False)
    summary = solve_task(_task(folder, tmp_path / "v"))
    assert summary.exit_code == EXIT_BAD_INPUT
    rows = [e.split(",")[1] for e in summary.errors if e.startswith("customers.csv")]
    assert rows == [" row 9", " row 12"]


def test_an_output_folder_holding_the_scenario_is_refused(branch_dir: Path) -> None:
    summary = solve_task(_task(branch_dir, branch_dir.parent))
    assert summary.exit_code == EXIT_USAGE and "holds the scenario" in summary.errors[0]


def test_the_variant_solver_keys_win_over_the_command_line(branch_dir: Path) -> None:
    task = _task(branch_dir, branch_dir / "x", seed=3, overrides=(("solver.seed", 7),))
    params = task_params(task, load_scenario(branch_dir, {"solver.seed": 7}))
    assert params.seed == 7 and params.time_limit_s == TIME_LIMIT_S and params.workers == 1
    scenario = load_scenario(branch_dir)
    plain = task_params(SolveTask("v", str(branch_dir), "x"), scenario)
    assert plain.time_limit_s == scenario.policy.solver.time_limit_s  # None: the policy's


def test_a_crash_becomes_a_failed_summary(branch_dir: Path) -> None:
    summary = crashed(_task(branch_dir, branch_dir / "x"), MemoryError("out of memory"), 2.5)
    assert summary.status == "error" and not summary.ok
    assert summary.errors == ("MemoryError: out of memory",) and summary.seconds == 2.5
