"""The output tables of a plan: portfolios.csv beside assignment.csv."""

from __future__ import annotations

import pandas as pd

from portfolio_opt.payout import portfolio_targets
from portfolio_opt.payout.compute import held_types, manager_types
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.schema import PORTFOLIO_COLUMNS, SCHEMAS, WRITTEN_BESIDE
from portfolio_opt.scenario.tables import column_name


def _chain_cuts(assignment: pd.DataFrame, scenario: Scenario) -> pd.Series:
    """Per manager: weight of chain links with one end in the portfolio and the other elsewhere."""
    holder = assignment.set_index("customer_id")["manager_id"]
    links = scenario.relations[scenario.relations["kind"].str.lower() == "chain"]
    ends_a, ends_b = links["a"].map(holder), links["b"].map(holder)
    cut = ends_a.notna() & ends_b.notna() & (ends_a != ends_b)
    weights = links.loc[cut, "weight"]
    both = pd.concat([weights.groupby(ends_a[cut]).sum(), weights.groupby(ends_b[cut]).sum()])
    return both.groupby(level=0).sum()


def portfolios_table(assignment: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per available manager (empty portfolios included), SPEC's portfolios.csv; in
    an edited plan, also per unavailable manager it gives customers to (a broken rule shown)."""
    every = scenario.managers
    rows = every[every["available"] | every["manager_id"].isin(set(assignment["manager_id"]))]
    managers = rows.set_index("manager_id")
    targets = portfolio_targets(assignment, scenario.customers, scenario.policy)
    table = pd.DataFrame(index=pd.Index(managers.index, name="manager_id"))
    table["grade"] = managers["grade"]
    # An empty portfolio has the type its manager's flags imply, as the plan checker reads it.
    designated = manager_types(rows)
    table["portfolio_type"] = (
        held_types(scenario, assignment).reindex(table.index).fillna(designated)
    )
    table["n_customers"] = assignment.groupby("manager_id").size().reindex(table.index).fillna(0)
    for column in PORTFOLIO_COLUMNS[4:10]:
        table[column] = targets[column].reindex(table.index).fillna(0.0).round(2)
    industry = assignment["customer_id"].map(
        scenario.customers.set_index("customer_id")["industry"]
    )
    named = industry != ""
    table["n_industries"] = (
        industry[named]
        .groupby(assignment.loc[named, "manager_id"])
        .nunique()
        .reindex(table.index)
        .fillna(0)
    )
    table["chain_links_cut"] = _chain_cuts(assignment, scenario).reindex(table.index).fillna(0.0)
    table["n_customers"] = table["n_customers"].astype(int)
    table["n_industries"] = table["n_industries"].astype(int)
    return table.reset_index()[PORTFOLIO_COLUMNS]


def with_own_columns(
    table: pd.DataFrame, source: pd.DataFrame, key: str, source_table: str
) -> pd.DataFrame:
    """``table`` with the planner's own columns of ``source`` (those the scenario format does
    not know) appended, matched on ``key``, untouched; a name the table has already is skipped."""
    known = (
        {c.name for c in SCHEMAS[source_table]}
        | {column_name(c) for c in table.columns}
        | WRITTEN_BESIDE[source_table][1]
    )
    # Read case-insensitively, a carried "Manager_ID" would be a second manager_id.
    own = [c for c in source.columns if column_name(c) not in known]
    if not own:
        return table
    extra = source.drop_duplicates(key).set_index(key)[own]
    return table.join(extra, on=key)
