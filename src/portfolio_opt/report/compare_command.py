"""``portfolio-opt compare RUN_OR_SCENARIO... [--out DIR]``: plans side by side."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from portfolio_opt.pipeline import EXIT_USAGE
from portfolio_opt.report.atomic import atomic_folder
from portfolio_opt.report.compare import (
    Comparison,
    CompareError,
    collect_runs,
    compare_runs,
    folder_problem,
    write_comparison,
)
from portfolio_opt.report.workbook import COUNT, MONEY, PERCENT, RATIO, number_format

console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False)
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
    table = Table(title="KPIs side by side", title_justify="left")
    table.add_column("KPI")
    for label in labels:
        table.add_column(label, justify="right")
    for row in comparison.kpis.to_dict("records"):
        table.add_row(
            Text(row["kpi"]), *(Text(format_value(row["kpi"], row[label])) for label in labels)
        )
    return table


def _moves_tables(comparison: Comparison) -> list[Table | str]:
    shown: list[Table | str] = []
    by_manager = comparison.by_manager
    for (base, other), managers in by_manager.groupby(["from_plan", "to_plan"], sort=False):
        moves = comparison.moves[
            (comparison.moves["from_plan"] == base) & (comparison.moves["to_plan"] == other)
        ]
        shown.append(
            f"\n{len(moves)} customer(s) change manager from {base} to {other}, "
            f"value {moves['value'].sum():,.0f}"
        )
        if moves.empty:
            continue
        table = Table(title=f"Who gains and loses ({base} -> {other})", title_justify="left")
        for column in ("manager", "name", "customers", "gained", "gained value", "lost"):
            table.add_column(column, justify="left" if column in ("manager", "name") else "right")
        table.add_column("lost value", justify="right")
        table.add_column("net value", justify="right")
        for row in managers.to_dict("records"):
            if not row["gained"] and not row["lost"]:
                continue
            cells = (
                row["manager_id"],
                row["manager_name"],
                f"{row['customers_before']} -> {row['customers_after']}",
                str(row["gained"]),
                f"{row['gained_value']:,.0f}",
                str(row["lost"]),
                f"{row['lost_value']:,.0f}",
                f"{row['net_value']:+,.0f}",
            )
            table.add_row(*(Text(str(c)) for c in cells))
        shown.append(table)
        listed = Table(title=f"Customers that move, by value ({base} -> {other})")
        listed.title_justify = "left"
        for column in ("customer", "name", "from", "to", "value"):
            listed.add_column(column, justify="right" if column == "value" else "left")
        for row in moves.head(MOVES_LISTED).to_dict("records"):
            cells = (
                row["customer_id"],
                row["customer_name"],
                row["from_manager_id"],
                row["to_manager_id"],
                "-" if pd.isna(row["value"]) else f"{row['value']:,.0f}",
            )
            listed.add_row(*(Text(str(c)) for c in cells))
        shown.append(listed)
        if len(moves) > MOVES_LISTED:
            shown.append(f"... and {len(moves) - MOVES_LISTED} more in moves.csv")
    return shown


@click.command(name="compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option(
    "--out", type=click.Path(file_okay=False), help="Output folder (default out/compare)."
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    help="Seconds for each scenario that has to be solved first.",
)
def compare(runs: tuple[str, ...], out: str | None, time_limit: float | None) -> None:
    """Compare plans side by side: KPIs, fairness curves, loads, and the moves between them.

    Each RUN_OR_SCENARIO is a solve output folder, or a scenario folder that is solved first
    (its output goes to OUT/runs/NAME). Writes compare.csv, compare.xlsx, moves.csv,
    moves_by_manager.csv and plots/ (fairness.png, load.png) to OUT.
    """
    if len(runs) < 2:
        raise click.UsageError("give at least two plans to compare")
    paths = [Path(r) for r in runs]
    target = Path(out) if out else Path("out") / "compare"
    problem = folder_problem(target, paths)
    if problem is not None:
        console.print(f"Error: {problem}", markup=False)
        sys.exit(EXIT_USAGE)
    try:
        with atomic_folder(target) as staging:
            found = collect_runs(
                paths,
                staging / "runs",
                time_limit,
                announce=lambda text: console.print(text, markup=False),
            )
            comparison = compare_runs(found)
            write_comparison(staging, comparison)
    except CompareError as exc:
        out_console.print(f"Error: {exc}", markup=False)
        for detail in exc.details:
            out_console.print(f"- {detail}", markup=False)
        sys.exit(exc.exit_code)
    out_console.print(_kpi_table(comparison))
    for part in _moves_tables(comparison):
        out_console.print(part, markup=False)
    for note in comparison.notes:
        out_console.print(f"Note: {note}", markup=False)
    out_console.print(f"Comparison written to {target}", markup=False)
