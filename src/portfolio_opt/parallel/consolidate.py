"""Reports over many solves: the sweep's variant table and comparison, and solve-many's
consolidated workbook (one row per branch and one for the whole bank).

Everything is read back from the solves' output folders: the tasks return only summaries.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from portfolio_opt.parallel.figures import variants_figure
from portfolio_opt.parallel.tasks import TaskSummary
from portfolio_opt.parallel.variants import Variant, apply_drop, format_value
from portfolio_opt.pipeline import most_severe, write_csv
from portfolio_opt.report.folders import write_manifest
from portfolio_opt.report.safe_text import unescape_formula
from portfolio_opt.report.workbook import Sheet, write_workbook
from portfolio_opt.report.writer import flatten_kpis
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.loader import POLICY_FILE, inspect_scenario

if TYPE_CHECKING:
    from portfolio_opt.report.compare import Comparison, Run

SUMMARY_KPIS = (
    "objective",
    "gap",
    "solve_seconds",
    "n_customers",
    "n_managers",
    "span.ideal",
    "span.min",
    "span.max",
    "span.max_abs_dev",
    "balance.target_gini",
    "balance.target_cv",
    "balance.max_over_min",
    "balance.max_deviation",
    "chain.links",
    "chain.cut",
    "chain.cut_share",
    "industries_per_portfolio.mean",
    "moves.count",
    "moves.value",
)
TOTALS = (
    "stock_target",
    "increment_target",
    "target",
    "pay.total_base_salary",
    "pay.total_performance_pay",
    "pay.total_actual_income",
)
SUMMED = (
    "n_customers",
    "n_managers",
    *TOTALS,
    "chain.links",
    "chain.cut",
    "moves.count",
    "moves.value",
    "solve_seconds",
    "seconds",
)
COUNTS = ("exit_code", "n_customers", "n_managers", "span.min", "span.max", "moves.count")
MANAGER_WEIGHTED = ("balance.target_gini", "balance.target_cv", "industries_per_portfolio.mean")
ERROR_TEXT_LIMIT = 2000  # characters of reasons kept in a table cell
VARIANTS_FOLDER, BRANCHES_FOLDER = "variants", "branches"
BANK = "bank"
BANK_NOTES = (
    "One row per branch, then the bank: the branches solved, taken together.",
    "bank: customers, managers, targets, pay, chain links cut, moves and seconds are sums;",
    "span.ideal is all customers over all managers; span.min/max the extremes of any branch;",
    "target Gini, target CV and industries per portfolio are means weighted by managers;",
    "balance.max_over_min and span.max_abs_dev are the largest of any branch;",
    "chain.cut_share is all chain weight cut over all chain weight.",
    "A branch without a plan is listed with its status and reasons and left out of the bank.",
)


class BranchError(ValueError):
    """A solve-many path is neither a scenario folder nor a folder of them."""


def _flat(kpis: Mapping[str, Any]) -> dict[str, Any]:
    if not kpis:
        return {}
    flat = flatten_kpis(kpis)
    return dict(zip(flat["kpi"], flat["value"], strict=True))


def error_text(summary: TaskSummary) -> str:
    text = "; ".join(summary.errors)
    return text if len(text) <= ERROR_TEXT_LIMIT else text[: ERROR_TEXT_LIMIT - 3] + "..."


def summary_row(summary: TaskSummary) -> dict[str, Any]:
    """A solve's status, main KPIs and totals as one table row (blank where no plan)."""
    flat = _flat(summary.kpis)
    row: dict[str, Any] = {"status": summary.status, "exit_code": summary.exit_code}
    row.update({kpi: flat.get(kpi) for kpi in SUMMARY_KPIS})
    row.update({total: summary.totals.get(total) for total in TOTALS})
    row["seconds"] = summary.seconds
    row["error"] = error_text(summary)
    return row


def with_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Count columns as whole numbers, blank where a solve gave none (not 3000.0)."""
    for name in COUNTS:
        if name in table.columns:
            table[name] = pd.array(
                [None if v is None or pd.isna(v) else int(v) for v in table[name]], dtype="Int64"
            )
    return table


def _cell(value: object) -> object:
    return value if isinstance(value, bool | int | float | str) else format_value(value)


def sweep_table(variants: Sequence[Variant], summaries: Sequence[TaskSummary]) -> pd.DataFrame:
    """One row per variant: its label and folder, the values it takes, status, KPIs, totals."""
    rows = []
    for variant, summary in zip(variants, summaries, strict=True):
        row: dict[str, Any] = {
            "variant": variant.label,
            "folder": f"{VARIANTS_FOLDER}/{variant.folder_name}" if summary.ok else "",
        }
        # A varied key named like a KPI (balance.max_deviation: the bound set, and the largest
        # deviation reached) is the policy's column.
        row.update(
            {
                (f"policy.{key}" if key in SUMMARY_KPIS else key): _cell(value)
                for key, value in variant.settings
            }
        )
        if variant.drop is not None:
            row["managers_dropped"] = len(variant.drop)
            row["dropped_ids"] = ",".join(variant.drop)
        row.update(summary_row(summary))
        rows.append(row)
    return with_counts(pd.DataFrame(rows))


def variant_scenario(base: Scenario, variant: Variant) -> Scenario:
    """The variant as the worker solved it, rebuilt from the base scenario without re-reading
    the tables (unless the variant points a table at another file)."""
    if any(key.startswith("tables.") for key in variant.overrides):
        scenario, _ = inspect_scenario(base.root, variant.overrides)
        if scenario is None:
            raise ValueError(f"{variant.label}: the scenario no longer loads")
    else:
        scenario = replace(base, policy=base.policy.updated(variant.overrides))
    return apply_drop(scenario, variant.drop or ())


def sweep_runs(
    folder: Path, base: Scenario, variants: Sequence[Variant], summaries: Sequence[TaskSummary]
) -> list[Run]:
    """The plans of the variants that have one, each with its own policy and managers."""
    from portfolio_opt.report.compare import load_run

    runs = []
    for variant, summary in zip(variants, summaries, strict=True):
        if not summary.ok:
            continue
        run = load_run(folder / VARIANTS_FOLDER / variant.folder_name, variant.label)
        run.scenario = variant_scenario(base, variant)  # bands and values of this variant
        run.policy = run.scenario.policy
        run.notes = []
        runs.append(run)
    return runs


def write_sweep_report(
    folder: Path,
    base: Scenario,
    variants: Sequence[Variant],
    summaries: Sequence[TaskSummary],
    manifest: Mapping[str, Any],
) -> tuple[pd.DataFrame, Comparison | None]:
    """sweep.csv, sweep.xlsx and plots/variants.png; compare's files over the variants with a
    plan (compare.csv, compare.xlsx, moves, plots/fairness.png, plots/load.png); manifest."""
    from portfolio_opt.report.compare import compare_runs, write_comparison
    from portfolio_opt.report.writer import save_figures

    remove_leftovers(folder / VARIANTS_FOLDER)
    table = sweep_table(variants, summaries)
    runs = sweep_runs(folder, base, variants, summaries)
    comparison = compare_runs(runs) if runs else None
    if comparison is not None:
        write_comparison(folder, comparison)
    write_csv(table, folder / "sweep.csv")
    sheets: dict[str, pd.DataFrame | Sheet] = {"Variants": table}
    if comparison is not None:
        sheets["KPIs"] = Sheet(comparison.kpis, key_column="kpi")
    write_workbook(folder / "sweep.xlsx", sheets)
    save_figures(folder / "plots", {"variants": variants_figure(table)})
    notes = list(comparison.notes) if comparison is not None else []
    write_manifest(folder, {**manifest, "notes": notes})
    return table, comparison


def remove_leftovers(folder: Path) -> None:
    """Remove staging folders that a worker lost while writing left behind."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if (
            path.is_dir()
            and path.name.startswith(".")
            and (path.name.endswith(".tmp") or ".old-" in path.name)
        ):
            shutil.rmtree(path, ignore_errors=True)


def find_branches(paths: Sequence[Path]) -> list[Path]:
    """Each path that is a scenario folder, and the scenario folders directly inside the rest.

    Raises
    ------
    BranchError
        A path does not exist, or is a folder holding no scenario folder.
    """
    found: list[Path] = []
    for path in map(Path, paths):
        if (path / POLICY_FILE).is_file() or (path.is_file() and path.name == POLICY_FILE):
            found.append(path.parent if path.is_file() else path)
        elif path.is_dir():
            inside = sorted(p for p in path.iterdir() if (p / POLICY_FILE).is_file())
            if not inside:
                raise BranchError(f"{path}: no scenario folder (with {POLICY_FILE}) in it")
            found += inside
        else:
            raise BranchError(f"{path}: no such scenario folder")
    unique: list[Path] = []
    for path in found:
        if path.resolve() not in {p.resolve() for p in unique}:
            unique.append(path)
    return unique


def branch_table(labels: Sequence[str], summaries: Sequence[TaskSummary]) -> pd.DataFrame:
    """One row per branch: status, size, targets, pay and the main KPIs."""
    rows = [
        {
            "branch": label,
            "folder": f"{BRANCHES_FOLDER}/{label}" if summary.ok else "",
            **summary_row(summary),
        }
        for label, summary in zip(labels, summaries, strict=True)
    ]
    return with_counts(pd.DataFrame(rows))


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number


def bank_row(table: pd.DataFrame) -> dict[str, Any]:
    """The whole bank: the solved branches taken together (see ``BANK_NOTES``)."""
    solved = table[table["exit_code"] == 0]
    row: dict[str, Any] = {column: None for column in table.columns}
    row.update(branch=BANK, folder="", status=f"{len(solved)} of {len(table)} branches solved")
    row["exit_code"] = most_severe(table["exit_code"])  # the command's own
    if solved.empty:
        return row

    def column(name: str) -> pd.Series:
        return solved[name].map(_number) if name in solved.columns else pd.Series(dtype=float)

    for name in SUMMED:
        row[name] = float(column(name).sum(min_count=1))
    managers = column("n_managers")
    for name in MANAGER_WEIGHTED:
        values = column(name)
        known = values.notna() & managers.notna()
        weight = managers[known].sum()
        row[name] = float((values[known] * managers[known]).sum() / weight) if weight else None
    if row.get("n_managers"):
        row["span.ideal"] = row["n_customers"] / row["n_managers"]
    row["span.min"] = column("span.min").min()
    for name in ("span.max", "span.max_abs_dev", "balance.max_over_min", "gap"):
        row[name] = column(name).max()
    links = row.get("chain.links")
    row["chain.cut_share"] = row["chain.cut"] / links if links else None
    for name in ("n_customers", "n_managers", "chain.links", "chain.cut", "moves.count"):
        if row.get(name) is not None and not math.isnan(row[name]):
            row[name] = int(row[name])
    return row


def _unescaped(value: object) -> object:
    return unescape_formula(value) if isinstance(value, str) else value


def _read_output_table(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(
        path,
        dtype={"manager_id": str, "period": str, "customer_id": str},
        keep_default_na=False,
        na_values=[""],
    )
    for name in frame.columns:
        if pd.api.types.is_string_dtype(frame[name]) or frame[name].dtype == object:
            frame[name] = frame[name].map(
                lambda v: unescape_formula(v) if isinstance(v, str) else v
            )
    return frame


def combined_table(
    folder: Path, labels: Sequence[str], summaries: Sequence[TaskSummary], name: str
) -> pd.DataFrame:
    """``name``.csv of every solved branch, one below the other, with a ``branch`` column (and
    the managers' names beside their ids: ids repeat across branches)."""
    parts = []
    for label, summary in zip(labels, summaries, strict=True):
        path = folder / BRANCHES_FOLDER / label / f"{name}.csv"
        if summary.ok and path.is_file():
            part = _read_output_table(path)
            part.insert(0, "branch", label)
            if "manager_id" in part.columns and summary.manager_names:
                names = part["manager_id"].astype(str).map(summary.manager_names)
                part.insert(part.columns.get_loc("manager_id") + 1, "manager_name", names)
            parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"branch": []})


def write_consolidated(
    folder: Path,
    labels: Sequence[str],
    summaries: Sequence[TaskSummary],
    manifest: Mapping[str, Any],
) -> pd.DataFrame:
    """branches.csv and consolidated.xlsx (Branches with the bank row, Portfolios, Payout,
    Notes) into ``folder``; returns the branch table with the bank row last."""
    remove_leftovers(folder / BRANCHES_FOLDER)
    table = branch_table(labels, summaries)
    table = with_counts(pd.concat([table, pd.DataFrame([bank_row(table)])], ignore_index=True))
    write_csv(table, folder / "branches.csv")
    sheets: dict[str, pd.DataFrame | Sheet] = {
        "Branches": table,
        "Portfolios": combined_table(folder, labels, summaries, "portfolios"),
        "Payout": combined_table(folder, labels, summaries, "payout"),
        "Notes": pd.DataFrame({"note": list(BANK_NOTES)}),
    }
    write_workbook(folder / "consolidated.xlsx", sheets)
    write_manifest(folder, manifest)
    return table
