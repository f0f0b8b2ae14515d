"""One solve as a Dask task: rebuilt on the worker from the scenario path, written to its folder.

The task gets paths and overrides, never tables: each worker reads the scenario itself, so a
task is a few hundred bytes whatever the branch's size, and the answer is a small summary.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from portfolio_opt.model.solve import SolveParams
from portfolio_opt.parallel.variants import VariantError, apply_drop
from portfolio_opt.pipeline import (
    EXIT_BAD_INPUT,
    EXIT_INFEASIBLE,
    EXIT_NO_PLAN,
    EXIT_OK,
    EXIT_USAGE,
    OutputFolderError,
    run_solve,
)
from portfolio_opt.problems import as_sentence, in_reading_order
from portfolio_opt.scenario.columns import folded
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.loader import inspect_scenario

PROGRESS_EVERY_S = 1.0  # at most one progress event per task and second
STATUS_OF_EXIT = {
    EXIT_BAD_INPUT: "bad input",
    EXIT_USAGE: "bad usage",
    EXIT_INFEASIBLE: "infeasible",
    EXIT_NO_PLAN: "no plan",
}
SOLVER_KEYS = ("time_limit_s", "workers", "seed", "deterministic")

Notify = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class SolveTask:
    """Everything a worker needs for one solve, as plain values.

    ``overrides`` are dotted policy keys with their values, ``drop`` the managers made
    unavailable; solver values left ``None`` come from the scenario's ``[solver]`` section.
    ``topic`` names the event topic that progress goes to (empty: none is sent).
    """

    key: str
    scenario: str
    out: str
    overrides: tuple[tuple[str, object], ...] = ()
    drop: tuple[str, ...] = ()
    time_limit_s: float | None = None
    workers: int | None = None
    seed: int | None = None
    deterministic: bool | None = None
    topic: str = ""


@dataclass(frozen=True)
class TaskSummary:
    """What a solve returns to the client: its outcome in a few numbers, never its tables.

    ``status`` is the solver's (optimal, feasible) for a written plan, else what stopped it
    (bad input, infeasible, no plan, error); ``errors`` lists the reasons. ``totals`` holds the
    plan's summed targets and the year's pay.
    """

    key: str
    folder: str
    status: str
    exit_code: int
    seconds: float
    kpis: dict[str, Any] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    worker: str = ""
    warnings: tuple[str, ...] = ()  # the scenario's, past a few of a kind folded into one
    manager_names: dict[str, str] = field(default_factory=dict)  # for the consolidated sheets

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK


def task_params(task: SolveTask, scenario: Scenario) -> SolveParams:
    """The task's solver values over the policy's, except keys the variant itself sets."""
    overridden = {key for key, _ in task.overrides}
    given = {
        name: getattr(task, name) for name in SOLVER_KEYS if f"solver.{name}" not in overridden
    }
    return SolveParams.from_policy(scenario, **given)


def load_task_scenario(task: SolveTask) -> tuple[Scenario | None, list[str], tuple[str, ...]]:
    """The task's scenario with its overrides and head-count cut, or the errors found (in the
    order `validate` lists them); and its warnings, past a few of a kind folded into one."""
    scenario, problems = inspect_scenario(task.scenario, dict(task.overrides) or None)
    warnings = tuple(str(p) for p in folded([p for p in problems if not p.is_error]))
    if scenario is None:
        errors = [str(p) for p in in_reading_order([p for p in problems if p.is_error])]
        return None, errors, warnings
    try:
        return apply_drop(scenario, task.drop), [], warnings
    except VariantError as exc:
        return None, [str(exc)], warnings


def plan_totals(tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Summed stock, increment and total targets, and the year's pay over all managers."""
    from portfolio_opt.report.compare import pay_totals

    portfolios = tables["portfolios"]
    totals = {
        column: float(portfolios[column].astype(float).sum())
        for column in ("stock_target", "increment_target", "target")
        if column in portfolios.columns
    }
    totals.update(pay_totals(tables.get("payout", pd.DataFrame())))
    return totals


def _where() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def _notifier(task: SolveTask) -> Notify:
    """Progress as worker events under ``task.topic``; silent outside a worker."""
    if not task.topic:
        return lambda payload: None
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return lambda payload: None

    def notify(payload: dict[str, Any]) -> None:
        worker.log_event(task.topic, {"key": task.key, "worker": worker.address, **payload})

    return notify


def _solver_progress(notify: Notify) -> Callable[[dict[str, object]], None]:
    last = [0.0]

    def progress(state: dict[str, object]) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = now
        values = {k: float(v) for k, v in state.items() if isinstance(v, int | float)}
        notify({"state": "solving", **values})

    return progress


def failed(
    task: SolveTask,
    status: str,
    code: int,
    errors: list[str],
    seconds: float,
    worker: str = "",
    warnings: tuple[str, ...] = (),
) -> TaskSummary:
    """The summary of a task that wrote no plan."""
    return TaskSummary(
        task.key,
        task.out,
        status,
        code,
        round(seconds, 3),
        errors=tuple(errors),
        worker=worker,
        warnings=warnings,
    )


def solve_task(task: SolveTask) -> TaskSummary:
    """Load, solve and write one plan with its report files into ``task.out``.

    Bad input, an infeasible policy or no plan in time come back as a summary; anything
    unexpected is raised, so that Dask retries the task (e.g. after a file-system hiccup).
    """
    from portfolio_opt.report.writer import names_by_id, write_report_files

    started = time.monotonic()
    where = _where()
    notify = _notifier(task)
    notify({"state": "loading"})
    scenario, errors, warnings = load_task_scenario(task)
    if scenario is None:
        seconds = time.monotonic() - started
        return failed(task, "bad input", EXIT_BAD_INPUT, errors, seconds, where, warnings)
    params = task_params(task, scenario)
    notify({"state": "solving", "time_limit_s": params.time_limit_s})
    try:
        outcome = run_solve(
            scenario,
            Path(task.out),
            params,
            progress=_solver_progress(notify),
            extras=write_report_files,
        )
    except OutputFolderError as exc:
        seconds = time.monotonic() - started
        return failed(task, "bad usage", EXIT_USAGE, [str(exc)], seconds, where, warnings)
    seconds = time.monotonic() - started
    if outcome.exit_code != EXIT_OK:
        reasons = [as_sentence(r) for r in outcome.result.explanation + outcome.violations]
        status = STATUS_OF_EXIT.get(outcome.exit_code, "error")
        return failed(task, status, outcome.exit_code, reasons, seconds, where, warnings)
    return TaskSummary(
        task.key,
        task.out,
        str(outcome.kpis.get("status", "")),
        EXIT_OK,
        round(seconds, 3),
        kpis=outcome.kpis,
        totals=plan_totals(outcome.tables),
        worker=where,
        manager_names=names_by_id(scenario.managers, "manager_id").astype(str).to_dict(),
        warnings=warnings,
    )


def crashed(task: SolveTask, exc: BaseException, seconds: float = 0.0) -> TaskSummary:
    """The summary of a task that raised (after its retries) or whose workers kept dying."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return failed(task, "error", EXIT_BAD_INPUT, [text], seconds)
