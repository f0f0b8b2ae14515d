"""report.xlsx and plots/*.png of a solve, written into the output folder's staging copy."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from portfolio_opt.payout import customer_targets
from portfolio_opt.report.plots import (
    plot_fairness,
    plot_load,
    plot_payout,
    plot_targets,
    span_bands,
)
from portfolio_opt.report.plots._axes import bar_figure_width
from portfolio_opt.report.workbook import Sheet, write_workbook
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.schema import ADDED_IN_REPORT, SCHEMAS, WRITTEN_BESIDE
from portfolio_opt.scenario.summary import scenario_summary
from portfolio_opt.scenario.tables import column_name

# A plain number as a planner types it; a leading zero (00123) marks an id or a code: text.
PLAIN_NUMBER = r"-?(0|[1-9]\d*)(\.\d+)?"
EXACT_DIGITS = 15  # what Excel keeps of a number
PLOT_DPI = 120
LEGEND_WIDTH = 2.8  # inches right of the bars

KPI_MEANINGS = {
    "status": (
        "optimal: proven best; feasible: best plan found within the time limit; edited: a plan "
        "changed since its solve, or read from a file, checked and paid again"
    ),
    "objective": (
        "the goals on one readable scale, added up (lower is better; under an [objective] "
        "order plans rank goal by goal, not by this sum)"
    ),
    "best_bound": (
        "under weights, no plan can score below this; under an order, each goal's bound "
        "given the goals before it, added up"
    ),
    "gap": "how far the plan may still be from the best possible (0: proven best)",
    "solve_seconds": "time spent searching",
    "n_customers": "customers assigned",
    "n_managers": "available managers",
    "span.ideal": "customers per manager if all held the same number (N/M)",
    "span.min": "fewest customers of any manager",
    "span.max": "most customers of any manager",
    "span.max_abs_dev": "largest distance of a manager's count from the ideal",
    "balance.target_gini": "inequality of the standard portfolios' targets (0: all equal)",
    "balance.target_cv": "spread of the standard portfolios' targets (std / mean)",
    "balance.max_over_min": "largest standard target over the smallest",
    "balance.max_deviation": "largest distance of a standard target from their mean",
    "chain.links": "weight of industry-chain links between customers",
    "chain.cut": "weight of chain links split between managers",
    "chain.cut_share": "share of the chain weight split between managers",
    "chain.unavoidable": "chain weight that every valid plan must split",
    "industries_per_portfolio.mean": "industries per portfolio, on average",
    "industries_per_portfolio.max": "industries in the most mixed portfolio",
    "moves.count": "customers who change manager",
    "moves.value": "total target of the customers who change manager (a negative one as its size)",
    "moves.lower_bound": "moves that no valid plan can avoid",
    "moves.lower_bound_value": "value of the moves no valid plan can avoid",
    "hard_rule_violations": "hard rules broken (always 0 for a written plan)",
    "affinity.cost": "total manager-customer suitability cost (lower is better)",
    "workload.max_utilisation": "the busiest manager's workload over capacity",
    "method": "how the plan was found",
}


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows += _flatten(value, f"{name}.")
        else:
            rows.append((name, value))
    return rows


def flatten_kpis(kpis: Mapping[str, Any]) -> pd.DataFrame:
    """``kpis.json`` as rows: ``kpi`` (dotted name), ``value``, ``meaning``."""
    rows = _flatten(kpis)
    return pd.DataFrame(
        {
            "kpi": [k for k, _ in rows],
            "value": pd.Series([v for _, v in rows], dtype=object),
            "meaning": [KPI_MEANINGS.get(k, "") for k, _ in rows],
        }
    )


def names_by_id(frame: pd.DataFrame, key: str) -> pd.Series:
    """The ``name`` column indexed by ``key`` (empty where the table has no names)."""
    return frame.set_index(key)["name"] if "name" in frame.columns else pd.Series(dtype=str)


def assignment_sheet(scenario: Scenario, assignment: pd.DataFrame) -> pd.DataFrame:
    """The plan with names, class, industry, group and target beside the ids."""
    customers = scenario.customers.set_index("customer_id")
    sheet = assignment.copy()
    ids = sheet["customer_id"].astype(str)
    extra = {
        "customer_name": ids.map(names_by_id(scenario.customers, "customer_id")),
        "manager_name": sheet["manager_id"]
        .astype(str)
        .map(names_by_id(scenario.managers, "manager_id")),
        "customer_class": ids.map(customers["customer_class"]),
        "industry": ids.map(customers["industry"]),
        "group_id": ids.map(customers["group_id"]),
        "target": ids.map(customer_targets(scenario.customers, scenario.policy)["target"]),
    }
    for column, values in extra.items():
        if column not in sheet.columns:
            sheet[column] = values
    first = ["customer_id", "customer_name", "manager_id", "manager_name", "portfolio_type"]
    order = [c for c in first if c in sheet.columns]
    return sheet[order + [c for c in sheet.columns if c not in order]]


def _with_manager_name(scenario: Scenario, table: pd.DataFrame) -> pd.DataFrame:
    if "manager_id" not in table.columns or "manager_name" in table.columns:
        return table
    table = table.copy()
    names = table["manager_id"].astype(str).map(names_by_id(scenario.managers, "manager_id"))
    table.insert(table.columns.get_loc("manager_id") + 1, "manager_name", names)
    return table


def _own_set_apart(scenario: Scenario, table: pd.DataFrame, source_table: str) -> pd.DataFrame:
    """``table`` with the planner's own columns named like one the sheet adds (a customer list
    from last year's report brings its ``target``) renamed "target (customers.csv)"."""
    added = ADDED_IN_REPORT[source_table]
    source = scenario.files.get(source_table)
    label = source.name if source is not None else source_table
    renamed = {c: f"{c} ({label})" for c in table.columns if column_name(c) in added}
    return table.rename(columns=renamed) if renamed else table


def own_numbers(sheet: pd.DataFrame, source_table: str) -> pd.DataFrame:
    """``sheet`` with the planner's own columns that hold plain numbers only stored as numbers,
    so that Excel sums and sorts them (they are read as text, to be carried as written)."""
    tools = {c.name for c in SCHEMAS[source_table]} | WRITTEN_BESIDE[source_table][1]
    converted = {}
    for column in sheet.columns:
        values = sheet[column]
        if column in tools or not (
            pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
        ):
            continue
        text = values.astype("string").str.strip()
        given = text[text.notna() & (text != "")]
        exact = given.str.count(r"\d") <= EXACT_DIGITS  # an account number would lose digits
        if len(given) and given.str.fullmatch(PLAIN_NUMBER).all() and exact.all():
            converted[column] = pd.to_numeric(text.replace("", pd.NA))
    return sheet.assign(**converted) if converted else sheet


def inputs_sheet(scenario: Scenario) -> pd.DataFrame:
    """What went in: the scenario's summary, then the policy as resolved."""
    rows = _flatten(scenario_summary(scenario))
    rows += _flatten(scenario.policy.model_dump(mode="json"), "policy.")
    return pd.DataFrame(
        {"item": [k for k, _ in rows], "value": pd.Series([v for _, v in rows], dtype=object)}
    )


def report_sheets(
    scenario: Scenario, tables: Mapping[str, pd.DataFrame], kpis: Mapping[str, Any]
) -> dict[str, pd.DataFrame | Sheet]:
    """The sheets of report.xlsx, in order."""
    sheets: dict[str, pd.DataFrame | Sheet] = {}
    for name, table in tables.items():
        if name == "assignment":
            table = _own_set_apart(scenario, table, "customers")
            sheets["Assignment"] = own_numbers(assignment_sheet(scenario, table), "customers")
        elif name == "portfolios":
            table = _own_set_apart(scenario, table, "managers")
            sheets["Portfolios"] = own_numbers(_with_manager_name(scenario, table), "managers")
        else:
            sheets[name.replace("_", " ").capitalize()] = _with_manager_name(scenario, table)
    sheets["KPIs"] = Sheet(flatten_kpis(kpis), key_column="kpi")
    sheets["Inputs"] = Sheet(inputs_sheet(scenario), key_column="item")
    return sheets


def payout_sheets(
    scenario: Scenario, payout: pd.DataFrame, adjustments: pd.DataFrame
) -> dict[str, pd.DataFrame | Sheet]:
    """The sheets of payout.xlsx, which ``portfolio-opt payout`` writes beside payout.csv."""
    sheets: dict[str, pd.DataFrame | Sheet] = {"Payout": _with_manager_name(scenario, payout)}
    if len(adjustments):
        sheets["Adjustments applied"] = _with_manager_name(scenario, adjustments)
    sheets["Inputs"] = Sheet(inputs_sheet(scenario), key_column="item")
    return sheets


def _figure(n_bars: int, height: float = 5.0) -> Figure:
    return Figure(figsize=(bar_figure_width(n_bars) + LEGEND_WIDTH, height), layout="constrained")


def report_figures(
    scenario: Scenario, tables: Mapping[str, pd.DataFrame], kpis: Mapping[str, Any]
) -> dict[str, Figure]:
    """load, targets, fairness and payout as figures of their own (no pyplot state)."""
    portfolios = tables["portfolios"]
    names = names_by_id(scenario.managers, "manager_id").astype(str).to_dict()
    n_customers = int(kpis.get("n_customers") or portfolios["n_customers"].sum())
    bands = span_bands(scenario.policy, portfolios, n_customers, scenario.available_managers)
    figures: dict[str, Figure] = {}
    figures["load"] = _figure(len(portfolios))
    plot_load(portfolios, bands, figures["load"].subplots(), names=names)
    figures["targets"] = _figure(len(portfolios))
    plot_targets(portfolios, figures["targets"].subplots(), names=names)
    figures["fairness"] = Figure(figsize=(7.5, 6.5), layout="constrained")
    plot_fairness(portfolios, figures["fairness"].subplots())
    if "payout" in tables and len(tables["payout"]):
        figures["payout"] = _figure(len(portfolios))
        plot_payout(tables["payout"], figures["payout"].subplots(), names=names)
    return figures


def save_figures(folder: Path, figures: Mapping[str, Figure]) -> None:
    """Each figure as ``folder/<name>.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, figure in figures.items():
        figure.savefig(folder / f"{name}.png", dpi=PLOT_DPI)


def write_report_files(
    staging: Path,
    scenario: Scenario,
    tables: dict[str, pd.DataFrame],
    kpis: dict[str, Any],
) -> None:
    """report.xlsx and plots/{load,targets,fairness,payout}.png into ``staging``."""
    write_workbook(staging / "report.xlsx", report_sheets(scenario, tables, kpis))
    save_figures(staging / "plots", report_figures(scenario, tables, kpis))
