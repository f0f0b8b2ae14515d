"""The ``import-gap`` command: a GAP benchmark problem as a scenario folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from portfolio_opt import gap
from portfolio_opt.report.folders import unwritable_place

EXIT_BAD_INPUT = 1


@click.command(name="import-gap")
@click.argument("spec", metavar="FILE[#k]")
@click.argument("out", type=click.Path(file_okay=False))
@click.option(
    "--maximise",
    is_flag=True,
    help="The numbers are profits to maximise (OR-Library gap1-gap12 as published).",
)
def import_gap(spec: str, out: str, maximise: bool) -> None:
    """Turn a GAP benchmark FILE into the scenario folder OUT.

    FILE is an OR-Library file (several problems: FILE#k picks the k-th, from 1) or a
    Yagiura file (one problem). Jobs become customers, agents managers, resource use the
    workload, capacities the managers' capacity, and cost the affinity cost.
    """
    path, index = gap.split_spec(spec)
    if not path.is_file():  # a missing input is bad input, as for every other command
        what = "is a folder, not a GAP file" if path.is_dir() else "file not found"
        click.echo(f"Error: {path}: {what} (check the path)", err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        problem = gap.load_gap(spec)
    except gap.GapSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="FILE[#k]") from exc
    except gap.GapFormatError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    source = path.name if index is None else f"{path.name}#{index}"
    if (unwritable := unwritable_place(Path(out).resolve())) is not None:
        raise click.UsageError(unwritable)
    try:
        gap.write_gap_scenario(problem, Path(out), source, maximise)
    except FileExistsError as exc:
        raise click.UsageError(str(exc)) from exc
    sense = "maximise profit (cost = -profit)" if maximise else "minimise cost"
    click.echo(
        f"Scenario {out} written: {problem.n_jobs} customers (jobs), "
        f"{problem.n_agents} managers (agents), {sense}."
    )
