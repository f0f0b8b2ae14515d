"""``portfolio-opt compare RUN_OR_SCENARIO... [--out DIR]``: plans side by side."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from portfolio_opt.launch import nothing_written_on_ctrl_c
from portfolio_opt.options import Seconds, solver_options
from portfolio_opt.report.console import print_table, refuse
from portfolio_opt.report.workbook import COUNT, MONEY, PERCENT, RATIO, number_format

if TYPE_CHECKING:
    from portfolio_opt.report.compare import Comparison

console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)
MOVES_LISTED = 15


def format_value(kpi: str, value: Any) -> str:
    """A KPI value as the terminal shows it: money with separators, rates as percentages."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    shown = number_format(kpi)
    if shown == PERCENT:
        return f"{value:.1%}"
    if shown == RATIO:
        return f"{value:.4f}"
    if shown in (MONEY, COUNT) or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}" if isinstance(value, int) else f"{value:.4g}"


def _kpi_table(comparison: Comparison) -> Table:
    labels = [run.label for run in comparison.runs]
    rows = [
        [row["kpi"], *(format_value(row["kpi"], row[label]) for label in labels)]
        for row in comparison.kpis.to_dict("records")
    ]
    return _rows("KPIs side by side", ["KPI", *labels], rows, 1)


def _rows(title: str, columns: list[str], rows: list[list[str]], left: int) -> Table:
    """A table whose first ``left`` columns are text and the rest numbers (no markup read)."""
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        # Text columns wrap rather than cut, so long KPI names stay apart in a narrow pipe.
        if i < left:
            table.add_column(column, justify="left", overflow="fold")
        else:
            table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def _gains_table(base: str, other: str, managers: pd.DataFrame) -> Table:
    rows = [
        [
            str(m["manager_id"]),
            str(m["manager_name"]),
            f"{m['customers_before']} -> {m['customers_after']}",
            f"{m['gained']}: {m['gained_value']:,.0f}",
            f"{m['lost']}: {m['lost_value']:,.0f}",
            f"{m['net_value']:+,.0f}",
        ]
        for m in managers.to_dict("records")
        if m["gained"] or m["lost"]
    ]
    columns = ["manager", "name", "customers", "gained", "lost", "net value"]
    return _rows(f"Who gains and loses ({base} -> {other})", columns, rows, 2)


def _moves_list(base: str, other: str, moves: pd.DataFrame) -> Table:
    rows = [
        [
            str(m["customer_id"]),
            str(m["customer_name"]),
            str(m["from_manager_id"]),
            str(m["to_manager_id"]),
            "-" if pd.isna(m["value"]) else f"{m['value']:,.0f}",
        ]
        for m in moves.head(MOVES_LISTED).to_dict("records")
    ]
    columns = ["customer", "name", "from", "to", "value"]
    return _rows(f"Customers that move, by value ({base} -> {other})", columns, rows, 4)


def _moves_parts(comparison: Comparison) -> list[Table | str]:
    """Per pair of plans: a count line, who gains and loses, and the largest moves."""
    shown: list[Table | str] = []
    if comparison.by_manager.empty:  # one plan alone has no moves
        return shown
    pairs = comparison.by_manager.groupby(["from_plan", "to_plan"], sort=False)
    for (base, other), managers in pairs:
        moves = comparison.moves[
            (comparison.moves["from_plan"] == base) & (comparison.moves["to_plan"] == other)
        ]
        shown.append(
            f"\n{len(moves)} customer(s) change manager from {base} to {other}, "
            f"value {moves['value'].abs().sum():,.0f} (a loss-making customer's by its size, as "
            "moves.value counts it)"
        )
        if moves.empty:
            continue
        shown += [_gains_table(base, other, managers), _moves_list(base, other, moves)]
        if len(moves) > MOVES_LISTED:
            shown.append(f"... and {len(moves) - MOVES_LISTED} more in moves.csv")
    return shown


def _compared_and_written(collected: Any, staging: Path) -> Any:
    """``compare_runs`` and ``write_comparison`` (the scenarios without a plan named as left
    out), with a value an edit left where compare cannot read it (a KPI that is text, a
    section that is null) named as a CompareError rather than a traceback."""
    from portfolio_opt.report.compare import CompareError, compare_runs, write_comparison

    runs = collected.runs
    try:
        comparison = compare_runs(runs)
        comparison.left_out = collected.without_plan
        write_comparison(staging, comparison)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        folders = ", ".join(str(run.folder) for run in runs if run.folder is not None)
        raise CompareError(
            f"a plan holds a value compare cannot read ({type(exc).__name__}: {exc})",
            details=[f"write the output folders again with `portfolio-opt solve`: {folders}"],
        ) from exc
    return comparison


@click.command(name="compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(), metavar="RUN_OR_SCENARIO...")
@click.option(
    "--out", type=click.Path(file_okay=False), help="Output folder (default out/compare)."
)
@click.option(
    "--time-limit",
    type=Seconds(),
    help="Seconds for each scenario that has to be solved first.",
)
@click.option(
    "--scenario",
    "plans_of",
    type=click.Path(),
    help="The scenario of the plan files given (default: that of the solve output folder "
    "a plan file sits in).",
)
@solver_options
def compare(
    runs: tuple[str, ...],
    out: str | None,
    time_limit: float | None,
    plans_of: str | None,
    workers: int | None,
    seed: int | None,
    deterministic: bool | None,
) -> None:
    """Compare plans side by side: KPIs, fairness curves, loads, and the moves between them.

    Each RUN_OR_SCENARIO is a solve output folder, a scenario folder that is solved first
    (its output goes to OUT/runs/NAME) with the solver options given here, or a plan file
    (.csv or .xlsx[#Sheet], e.g. edited in Excel) of the --scenario given. A scenario
    without a plan (its hard rules collide, or its solve finds none) is left out with its
    reasons (left_out.csv), and the others compared. Writes compare.csv, compare.xlsx,
    moves.csv, moves_by_manager.csv and plots/ (fairness.png, load.png) to OUT.
    """
    # Plotting and workbook libraries load only when a comparison runs.
    from portfolio_opt.report.atomic import atomic_folder
    from portfolio_opt.report.compare import CompareError, collect_runs, folder_problem

    if len(runs) < 2:
        raise click.UsageError("give at least two plans to compare")
    paths = [Path(r) for r in runs]
    target = Path(out) if out else Path("out") / "compare"
    problem = folder_problem(target, paths)
    if problem is not None:
        refuse(console, problem)
    try:
        with nothing_written_on_ctrl_c(target), atomic_folder(target) as staging:
            found = collect_runs(
                paths,
                staging / "runs",
                {
                    "time_limit_s": time_limit,
                    "workers": workers,
                    "seed": seed,
                    "deterministic": deterministic,
                },
                announce=(lambda text: console.print(text, markup=False))
                if console.is_terminal
                else None,
                plans_of=None if plans_of is None else Path(plans_of),
            )
            comparison = _compared_and_written(found, staging)
    except CompareError as exc:
        out_console.print(f"Error: {exc}", markup=False)
        for detail in exc.details:
            out_console.print(f"- {detail}", markup=False)
        sys.exit(exc.exit_code)
    print_table(out_console, _kpi_table(comparison))
    for part in _moves_parts(comparison):
        out_console.print(part, markup=False)
    for note in comparison.notes:
        out_console.print(f"Note: {note}", markup=False)
    for failed in comparison.left_out:
        out_console.print(f"Left out: {failed}", markup=False)
        for detail in failed.details:
            out_console.print(f"- {detail}", markup=False)
    out_console.print(f"Comparison written to {target}", markup=False)
