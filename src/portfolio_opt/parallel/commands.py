"""``portfolio-opt sweep`` and ``portfolio-opt solve-many``: many solves on a Dask cluster.

Parse, check, hand the solves to the cluster, print. Progress shows on a terminal only.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
import pandas as pd
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from portfolio_opt import __version__
from portfolio_opt.launch import nothing_written_on_ctrl_c
from portfolio_opt.options import Seconds
from portfolio_opt.pipeline import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    input_hashes,
    most_severe,
)
from portfolio_opt.problems import Problem, counted
from portfolio_opt.report.atomic import FolderChangedError
from portfolio_opt.report.console import print_table, refuse
from portfolio_opt.report.folders import atomic_replacement, output_folder, replace_problem
from portfolio_opt.scenario.columns import folded
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.policy import (
    LARGEST_SEED,
    MOST_WORKERS,
    gives_objective,
    values_warnings,
)

if TYPE_CHECKING:
    from distributed import Client

    from portfolio_opt.parallel.tasks import SolveTask, TaskSummary

console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)
REASON_SHOWN = 100  # characters of a failure's first reason on its progress line
CRASHED = "error"  # the status of a task that raised (``tasks.crashed``)
FAILURE_MEANING = {
    "bad input": "the scenario has errors",
    "bad usage": "the output folder cannot be written",
    "infeasible": "the hard rules cannot all hold",
    "no plan": "no plan found within the time limit",
}
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


# -- shared options -------------------------------------------------------------------------
def _run_options(default_out: str) -> Decorator:
    """--out, --scheduler and the solver options both commands take."""

    def wrap(command: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option(
                "--out",
                type=click.Path(file_okay=False),
                help=f"Output folder (default {default_out}).",
            ),
            click.option(
                "--scheduler",
                metavar="ADDRESS",
                help="Address of a running Dask scheduler (default: a local cluster sized to "
                "this machine). Its workers must see the scenario and output folders.",
            ),
            click.option("--time-limit", type=Seconds(), help="Seconds for each solve."),
            click.option(
                "--workers",
                type=click.IntRange(min=1, max=MOST_WORKERS),
                help="CP-SAT threads per solve (default: the cores shared out among the solves "
                "running at once).",
            ),
            click.option(
                "--seed", type=click.IntRange(min=0, max=LARGEST_SEED), help="Random seed."
            ),
            click.option(
                "--deterministic/--no-deterministic",
                default=None,
                help="Same inputs, same plans (default: [solver] deterministic).",
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return wrap


def _load(path: str, objective_varied: bool = False) -> Scenario:
    """The scenario, or an exit listing its problems; its warnings printed (those on the
    file's [objective] left out where every variant gives its own)."""
    from portfolio_opt.scenario.loader import inspect_scenario

    scenario, problems = inspect_scenario(path)
    if scenario is None:
        _print_problems(problems)
        sys.exit(EXIT_BAD_INPUT)
    for problem in folded(scenario.warnings):
        if not (objective_varied and (problem.column or "").startswith("objective")):
            out_console.print(f"WARNING {problem}", markup=False)
    return scenario


def _print_problems(problems: Sequence[Problem]) -> None:
    errors = [p for p in problems if p.is_error]
    for p in errors:
        out_console.print(f"ERROR   {p}", markup=False)
    out_console.print(f"{counted(errors)} error(s): nothing was solved.", markup=False)


def folder_problem(out: Path, inputs: Sequence[Path], command: str) -> str | None:
    """Why ``out`` cannot take this command's results (it is replaced whole), or ``None``."""
    return replace_problem(out, {Path(p): "scenario" for p in inputs}, command)


@contextmanager
def _replacing(target: Path, command: str) -> Iterator[Path]:
    """A staging folder that replaces ``target`` at the end, unless ``target`` was changed
    meanwhile (a plan edited there during the run): the outputs then go beside it, exit 2."""
    try:
        with atomic_replacement(target, command) as staging:
            yield staging
    except FolderChangedError as exc:
        refuse(console, exc)


class _NothingSolved(Exception):
    """No solve found a plan: the output folder is left as it was, as ``solve`` leaves its
    own, and the failures are told instead."""

    def __init__(self, summaries: Sequence[TaskSummary]) -> None:
        super().__init__("no plan")
        self.summaries = summaries


def _unless_nothing_solved(summaries: Sequence[TaskSummary]) -> None:
    if not any(s.ok for s in summaries):
        raise _NothingSolved(summaries)


def _nothing_written(
    exc: _NothingSolved, keys: Sequence[str], noun: str, target: Path, warn: bool
) -> NoReturn:
    if warn:
        _print_warnings(keys, exc.summaries)
    _print_failures(keys, exc.summaries)
    out_console.print(
        f"No {noun} has a plan: nothing was written, and {target} is as it was.", markup=False
    )
    sys.exit(many_exit_code(exc.summaries))


@contextmanager
def _staged(
    target: Path, command: str, keys: Sequence[str], noun: str, warn: bool = False
) -> Iterator[tuple[Path, ExitStack]]:
    """The staging folder that replaces ``target`` at the end, and a stack for the cluster.
    Nothing is written on Ctrl-C, nor where no solve found a plan (the failures are told, and
    with ``warn`` each task's warnings)."""
    try:
        with (
            nothing_written_on_ctrl_c(target),
            _replacing(target, command) as staging,
            ExitStack() as stack,
        ):
            yield staging, stack
    except _NothingSolved as exc:
        _nothing_written(exc, keys, noun, target, warn)


def _check_folder(out: Path, inputs: Sequence[Path], command: str) -> None:
    problem = folder_problem(out, inputs, command)
    if problem is not None:
        refuse(console, problem)


# -- the cluster and the display --------------------------------------------------------------
def _address_problem(address: str) -> str | None:
    """Why ``address`` is no scheduler address Dask can use (no port, an unknown scheme), told
    before connecting; None where it is one."""
    from distributed.comm.addressing import get_address_host_port, parse_address
    from distributed.comm.registry import get_backend

    try:
        get_backend(parse_address(address)[0])
        get_address_host_port(address)
    except ValueError as exc:
        return str(exc)
    return None


def _connect(
    stack: ExitStack, scheduler: str | None, n_tasks: int, workers: int | None
) -> tuple[Client, int, dict[str, Any]]:
    """The client, CP-SAT threads per solve, and what to record about the cluster."""
    from portfolio_opt.parallel.cluster import open_client, size_local_cluster, threads_on_cluster

    size = None if scheduler else size_local_cluster(n_tasks, workers)
    if scheduler and (problem := _address_problem(scheduler)):
        refuse(
            console,
            f"cannot use the Dask scheduler at {scheduler}: {problem} (give an address "
            "such as tcp://host:8786)",
        )
    try:
        client = stack.enter_context(open_client(scheduler, size))
    except (OSError, TimeoutError) as exc:
        refuse(console, f"cannot use the Dask scheduler at {scheduler}: {exc}")
    if size is not None:
        return client, size.threads_per_task, {"local_cluster": True, "workers": size.n_workers}
    threads = workers or threads_on_cluster(client)
    n_workers = len(client.nthreads())
    return client, threads, {"scheduler": scheduler, "workers": n_workers}


def status_text(status: str) -> str:
    """A task's status as shown: a task that raised is an internal error."""
    return "internal error" if status == CRASHED else status


def failure_line(key: str, summary: TaskSummary) -> str:
    """One line naming a task that wrote no plan and why."""
    if summary.status == CRASHED:
        cause = summary.errors[0] if summary.errors else "no message"
        return (
            f"{key}: internal error ({cause}); this is a fault in portfolio-opt, not in the "
            "scenario: please report it with this scenario folder"
        )
    meaning = FAILURE_MEANING.get(summary.status)
    return f"{key}: {summary.status}" + (f" - {meaning}" if meaning else "")


def many_exit_code(summaries: Sequence[TaskSummary]) -> int:
    """0 when every task wrote a plan, else the most severe failure's exit code."""
    return most_severe(s.exit_code for s in summaries)


def _short(value: object) -> str:
    return "-" if value is None else f"{float(value):.4g}"  # type: ignore[arg-type]


class TaskDisplay:
    """On a terminal: a line per task as it ends, and below, the tasks running now."""

    def __init__(self, keys: Sequence[str], noun: str, where: str) -> None:
        self.keys = list(keys)
        self.noun, self.where = noun, where
        self.state: dict[str, dict[str, Any]] = {}
        self.started: dict[str, float] = {}
        self.attempts: dict[str, int] = {}
        self.finished = 0
        self.begun = time.monotonic()
        self.live: Live | None = None

    def event(self, payload: dict[str, Any]) -> None:
        key = str(payload.get("key"))
        if key not in self.keys or self.state.get(key, {}).get("state") == "done":
            return
        if payload.get("state") == "loading":
            self.started[key] = time.monotonic()
            self.attempts[key] = self.attempts.get(key, 0) + 1
        self.state[key] = payload

    def done(self, summary: TaskSummary) -> None:
        from portfolio_opt.report.compare_command import format_value

        self.finished += 1
        self.state[summary.key] = {"state": "done"}
        count = f"[{self.finished}/{len(self.keys)}]"
        took = f" in {summary.seconds:.1f}s"
        if summary.ok:
            kpis = summary.kpis
            span, balance = kpis.get("span", {}), kpis.get("balance", {})
            detail = (
                f"span {span.get('min')}..{span.get('max')}  "
                f"target Gini {format_value('balance.target_gini', balance.get('target_gini'))}  "
                f"moves {kpis.get('moves', {}).get('count')}"
            )
            line = f"ok   {count} {summary.key}: {summary.status}{took}  {detail}"
        else:
            reason = summary.errors[0] if summary.errors else ""
            if len(reason) > REASON_SHOWN:  # all of it is listed after the table
                reason = reason[: REASON_SHOWN - 3] + "..."
            line = f"FAIL {count} {summary.key}: {status_text(summary.status)}{took}  {reason}"
        target = self.live.console if self.live is not None else console
        target.print(Text(line), soft_wrap=True)

    def __rich__(self) -> Group:
        now = time.monotonic()
        running = [k for k in self.keys if k in self.state and self.state[k]["state"] != "done"]
        waiting = len(self.keys) - self.finished - len(running)
        head = Text(
            f"{self.noun}: {self.finished} done, {len(running)} running, {waiting} waiting "
            f"on {self.where}  {now - self.begun:.0f}s"
        )
        table = Table(box=None, show_header=False, padding=(0, 1))
        for key in running:
            state = self.state[key]
            again = f" (attempt {self.attempts[key]})" if self.attempts.get(key, 1) > 1 else ""
            solver = (
                f"incumbent {_short(state.get('incumbent'))}  bound {_short(state.get('bound'))}  "
                f"gap {float(state['gap']):.1%}"
                if "gap" in state
                else ""
            )
            table.add_row(
                Text(key),
                Text(f"{state['state']}{again}"),
                Text(f"{now - self.started.get(key, now):.0f}s"),
                Text(solver),
            )
        return Group(head, table)


def _run(client: Client, tasks: Sequence[SolveTask], noun: str, where: str) -> list[TaskSummary]:
    from portfolio_opt.parallel.cluster import run_tasks

    if not console.is_terminal:
        return run_tasks(client, tasks)
    display = TaskDisplay([t.key for t in tasks], noun, where)
    with Live(display, console=console, refresh_per_second=2, transient=True) as live:
        display.live = live
        return run_tasks(client, tasks, display)


def _where(cluster: dict[str, Any], threads: int) -> str:
    place = cluster.get("scheduler") or "a local cluster"
    threads_text = "1 CP-SAT thread" if threads == 1 else f"{threads} CP-SAT threads"
    return f"{place} ({cluster['workers']} workers x {threads_text})"


def _manifest(command: str, cluster: dict[str, Any], solver: dict[str, Any]) -> dict[str, Any]:
    return {
        "tool": "portfolio-opt",
        "command": command,
        "version": __version__,
        "cluster": cluster,
        "solver": solver,
    }


def _task_records(keys: Sequence[str], summaries: Sequence[TaskSummary]) -> list[dict[str, Any]]:
    return [
        {
            "label": key,
            "status": s.status,
            "exit_code": s.exit_code,
            "seconds": s.seconds,
            "worker": s.worker,
            "errors": list(s.errors),
            "warnings": list(s.warnings),
        }
        for key, s in zip(keys, summaries, strict=True)
    ]


# -- printing the results ---------------------------------------------------------------------
def _blank(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _span(row: dict[str, Any]) -> str:
    low, high = row.get("span.min"), row.get("span.max")
    return "-" if _blank(low) or _blank(high) else f"{low}..{high}"


def _results_table(title: str, table: Any, first: str, columns: dict[str, str]) -> Table:
    """A results table; ``columns`` maps a table column (or ``span``: min..max) to its heading.

    Numbers never wrap; the first column folds where the terminal is narrow.
    """
    from portfolio_opt.report.compare_command import format_value

    shown = Table(title=title, title_justify="left")
    shown.add_column(first.capitalize(), overflow="fold", ratio=1)
    shown.add_column("Status", overflow="fold")
    for heading in columns.values():
        shown.add_column(heading, justify="right", no_wrap=True)
    for row in table.to_dict("records"):
        cells = [Text(str(row[first])), Text(status_text(str(row["status"])))]
        for column in columns:
            value = _span(row) if column == "span" else row.get(column)
            cells.append(Text(format_value(column, None if _blank(value) else value)))
        shown.add_row(*cells)
    return shown


def _print_table(table: Table) -> None:
    print_table(out_console, table)


def _print_warnings(keys: Sequence[str], summaries: Sequence[TaskSummary]) -> None:
    """Each branch's warnings (slips that change its plan or pay without a word), by name."""
    for key, summary in zip(keys, summaries, strict=True):
        for warning in summary.warnings:
            out_console.print(f"WARNING {key}: {warning}", markup=False)


def _print_failures(keys: Sequence[str], summaries: Sequence[TaskSummary]) -> None:
    """A line per task without a plan, naming it and why, then its reasons."""
    for key, summary in zip(keys, summaries, strict=True):
        if summary.ok:
            continue
        out_console.print(failure_line(key, summary), markup=False)
        if summary.status == CRASHED:
            continue  # its one reason is in the line
        for reason in summary.errors:
            out_console.print(f"- {reason}", markup=False)


SWEEP_COLUMNS = {
    "span": "Span",
    "balance.target_gini": "Gini",
    "chain.cut_share": "Cut",
    "moves.count": "Moves",
    "pay.total_performance_pay": "Perf. pay",
    "seconds": "s",
}
BRANCH_COLUMNS = {
    "n_customers": "Customers",
    "n_managers": "Managers",
    "target": "Target",
    "pay.total_performance_pay": "Perf. pay",
    "balance.target_gini": "Gini",
    "seconds": "s",
}


# -- the commands -----------------------------------------------------------------------------
@click.command(name="sweep")
@click.argument("scenario", type=click.Path())
@click.option(
    "--vary",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="A scenario.toml key (dotted, e.g. span.tolerance) and the values to try; repeat "
    "for more keys: every combination is solved. Values are typed as in TOML "
    "(2, 0.04, true, [a,b]); none unsets an optional key.",
)
@click.option(
    "--drop-managers",
    "drop",
    metavar="K[,K...]",
    help="Head-count variants: K available managers made unavailable (the lowest grade, "
    "then the highest id, never a designated or pinned one), e.g. 0,1,2.",
)
@_run_options("out/NAME-sweep")
def sweep(
    scenario: str,
    vary: tuple[str, ...],
    drop: str | None,
    out: str | None,
    scheduler: str | None,
    time_limit: float | None,
    workers: int | None,
    seed: int | None,
    deterministic: bool | None,
) -> None:
    """Solve policy variants of SCENARIO in parallel on Dask and compare them.

    Writes every variant's output folder to OUT/variants/, one row per variant to
    sweep.csv and sweep.xlsx (a variant without a plan shows why), the comparison of the
    variants with a plan (compare.csv, compare.xlsx, moves) and plots/ to OUT. Exits 0 when
    some variant has a plan; when none has, with the most severe failure's code.
    """
    from portfolio_opt.parallel.cluster import new_topic
    from portfolio_opt.parallel.consolidate import VARIANTS_FOLDER, write_sweep_report
    from portfolio_opt.parallel.tasks import SolveTask
    from portfolio_opt.parallel.variants import VariantError, build_variants, parse_counts

    if not vary and drop is None:
        raise click.UsageError("give at least one --vary KEY=V1,V2,... or --drop-managers K")
    varied = [v.split("=", 1)[0].strip() for v in vary]
    loaded = _load(scenario, objective_varied=gives_objective(varied))
    try:
        counts = parse_counts(drop) if drop is not None else None
        variants = build_variants(loaded, vary, counts)
    except VariantError as exc:
        raise click.UsageError(str(exc)) from None
    target, refused = output_folder(out, f"{loaded.name}-sweep", [loaded.root])
    if refused is not None:
        refuse(console, refused)
    _check_folder(target, [loaded.root], "sweep")
    for variant in variants:
        overrides, label = dict(variant.overrides), f"variant {variant.label}"
        for problem in values_warnings(loaded.policy.updated(overrides), overrides, label):
            out_console.print(f"WARNING {problem}", markup=False)
    started = time.monotonic()
    root, topic = str(loaded.root.resolve()), new_topic()
    with _staged(target, "sweep", [v.label for v in variants], "variant") as (staging, stack):
        client, threads, cluster = _connect(stack, scheduler, len(variants), workers)
        tasks = [
            SolveTask(
                v.label,
                root,
                str(staging / VARIANTS_FOLDER / v.folder_name),
                v.settings,
                v.drop or (),
                time_limit,
                threads,
                seed,
                deterministic,
                topic,
            )
            for v in variants
        ]
        summaries = _run(client, tasks, f"{len(tasks)} variants", _where(cluster, threads))
        _unless_nothing_solved(summaries)
        stack.close()  # the cluster is not needed for the report
        manifest = _manifest(
            "sweep",
            cluster,
            {
                "time_limit_s": time_limit,
                "workers": threads,
                "seed": seed,
                "deterministic": deterministic,
            },
        )
        manifest.update(
            scenario=root,
            inputs_sha256=input_hashes(loaded),
            vary=list(vary),
            drop_managers=counts,
            wall_seconds=round(time.monotonic() - started, 3),
            variants=[
                {
                    **record,
                    "folder": f"{VARIANTS_FOLDER}/{v.folder_name}",
                    "overrides": v.overrides,
                    "dropped": list(v.drop) if v.drop is not None else None,
                }
                for v, record in zip(
                    variants, _task_records([v.label for v in variants], summaries), strict=True
                )
            ],
        )
        table, comparison = write_sweep_report(staging, loaded, variants, summaries, manifest)
    _print_table(_results_table("Variants", table, "variant", SWEEP_COLUMNS))
    _print_failures([v.label for v in variants], summaries)
    for note in comparison.notes if comparison is not None else []:
        out_console.print(f"Note: {note}", markup=False)
    solved = sum(s.ok for s in summaries)
    out_console.print(
        f"Sweep of {len(variants)} variants ({solved} with a plan) written to {target} "
        f"in {time.monotonic() - started:.1f}s",
        markup=False,
    )


@click.command(name="solve-many")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(), metavar="SCENARIO...")
@_run_options("out/solve-many")
def solve_many(
    scenarios: tuple[str, ...],
    out: str | None,
    scheduler: str | None,
    time_limit: float | None,
    workers: int | None,
    seed: int | None,
    deterministic: bool | None,
) -> None:
    """Solve many branches in parallel on Dask, with one consolidated report.

    Each SCENARIO is a branch's scenario folder, or a folder of them. Writes every branch's
    output folder to OUT/branches/, and branches.csv and consolidated.xlsx (per-branch KPIs,
    the whole bank's, every portfolio and payout row) to OUT.

    A branch that fails does not stop the others: the report covers the branches solved and
    each failed branch is listed with why. The exit code is then its most severe failure's:
    1 bad input or an internal error, 2 bad usage, 3 the hard rules cannot all hold, 4 no
    plan within the time limit (0 when every branch is solved).
    """
    from portfolio_opt.parallel.cluster import new_topic
    from portfolio_opt.parallel.consolidate import (
        BANK,
        BRANCHES_FOLDER,
        BranchError,
        find_branches,
        write_consolidated,
    )
    from portfolio_opt.parallel.tasks import SolveTask
    from portfolio_opt.report.compare import unique_labels

    try:
        branches = find_branches([Path(s) for s in scenarios])
    except BranchError as exc:
        out_console.print(f"ERROR   {exc}", markup=False)
        sys.exit(EXIT_BAD_INPUT)
    labels = unique_labels(branches, taken=(BANK,))  # a branch called bank is not the total
    target, refused = output_folder(out, "solve-many", branches)
    if refused is not None:
        refuse(console, refused)
    _check_folder(target, branches, "solve-many")
    started = time.monotonic()
    topic = new_topic()
    with _staged(target, "solve-many", labels, "branch", warn=True) as (staging, stack):
        client, threads, cluster = _connect(stack, scheduler, len(branches), workers)
        tasks = [
            SolveTask(
                label,
                str(path.resolve()),
                str(staging / BRANCHES_FOLDER / label),
                workers=threads,
                time_limit_s=time_limit,
                seed=seed,
                deterministic=deterministic,
                topic=topic,
            )
            for label, path in zip(labels, branches, strict=True)
        ]
        summaries = _run(client, tasks, f"{len(tasks)} branches", _where(cluster, threads))
        _unless_nothing_solved(summaries)
        stack.close()
        manifest = _manifest(
            "solve-many",
            cluster,
            {
                "time_limit_s": time_limit,
                "workers": threads,
                "seed": seed,
                "deterministic": deterministic,
            },
        )
        manifest.update(
            wall_seconds=round(time.monotonic() - started, 3),
            branches=[
                {**record, "scenario": str(path.resolve()), "folder": f"{BRANCHES_FOLDER}/{label}"}
                for label, path, record in zip(
                    labels, branches, _task_records(labels, summaries), strict=True
                )
            ],
        )
        table = write_consolidated(staging, labels, summaries, manifest)
    _print_warnings(labels, summaries)
    _print_table(_results_table("Branches and the bank", table, "branch", BRANCH_COLUMNS))
    _print_failures(labels, summaries)
    solved = sum(s.ok for s in summaries)
    out_console.print(
        f"{solved} of {len(branches)} branches solved; consolidated report ('{BANK}' row: "
        f"the branches solved) written to {target} in {time.monotonic() - started:.1f}s",
        markup=False,
    )
    code = many_exit_code(summaries)
    if code != EXIT_OK:
        unsolved = [label for label, s in zip(labels, summaries, strict=True) if not s.ok]
        out_console.print(
            f"Not solved: {', '.join(unsolved)} (see above); exit code {code}", markup=False
        )
        sys.exit(code)
