"""Cross-table checks: one function per rule, each returning the problems it finds."""

from __future__ import annotations

import difflib
import re
import unicodedata

import numpy as np
import pandas as pd

from portfolio_opt.problems import Problem, Severity, listed
from portfolio_opt.scenario.columns import (
    capped,
    duplicate_ids,
    id_hint,
    id_lookup,
    look_alike_ids,
    look_alike_names,
    repeats,
    unknown_values,
)
from portfolio_opt.scenario.glossary import column_for_header, column_opposed_by
from portfolio_opt.scenario.policy import Policy
from portfolio_opt.scenario.schema import INCOME_COLUMNS, SCHEMAS, WRITTEN_BESIDE
from portfolio_opt.scenario.tables import column_name

RELATION_KINDS = {"group", "chain"}


def _row(position: int) -> int:
    return position + 2


def customer_ids_unique(customers: pd.DataFrame, label: str) -> list[Problem]:
    return duplicate_ids(customers, "customer_id", label) + look_alike_ids(
        customers, "group_id", label
    )


def industries_alike(customers: pd.DataFrame, label: str) -> list[Problem]:
    """Industries written two ways (Steel, steel) are two industries to the industry goal."""
    return look_alike_names(customers, "industry", label, "two industries")


def manager_ids_unique(managers: pd.DataFrame, label: str) -> list[Problem]:
    return duplicate_ids(managers, "manager_id", label)


def _as_listed(names: list[str]) -> str:
    """``names`` in the policy's order (best class or grade first), each once, as a planner
    reads a list."""
    return ", ".join(dict.fromkeys(names))


def classes_known(customers: pd.DataFrame, policy: Policy, label: str) -> list[Problem]:
    allowed = set(policy.classes.classes)
    listed = _as_listed(policy.classes.classes)
    hint = f"use one of {listed} or add the class to [classes] classes in scenario.toml"
    return unknown_values(customers, "customer_class", allowed, label, "customer class", hint)


def grades_known(managers: pd.DataFrame, policy: Policy, label: str) -> list[Problem]:
    allowed = set(policy.classes.grades)
    listed = _as_listed(policy.classes.grades)
    hint = f"use one of {listed} or add the grade to [classes] grades in scenario.toml"
    return unknown_values(managers, "grade", allowed, label, "grade", hint)


def manager_references_known(
    customers: pd.DataFrame, managers: pd.DataFrame, label: str
) -> list[Problem]:
    """pinned_manager_id must name a manager in the managers table. An unknown
    prior_manager_id is only a warning: planners often delete the rows of managers who left,
    and such a manager's customers simply move."""
    known = set(managers["manager_id"])
    return _unknown_priors(customers, known, label) + (
        unknown_values(
            customers,
            "pinned_manager_id",
            known,
            label,
            "manager",
            "pin to a manager in the managers table, or clear the cell",
        )
    )


def designations_available(managers: pd.DataFrame, label: str) -> list[Problem]:
    """A warning where every manager flagged for premium (or separate-ledger) portfolios is
    unavailable: the designation then lapses, and any eligible manager may hold them."""
    problems = []
    for column, who in (
        ("premium", "any manager of the premium grade"),
        ("separate_ledger", "any manager"),
    ):
        flagged = managers[column].astype(bool)
        if flagged.any() and not (flagged & managers["available"]).any():
            rows = np.flatnonzero(flagged)
            ids = ", ".join(managers["manager_id"].iloc[rows].astype(str))
            problems.append(
                Problem(
                    label,
                    f"every manager flagged {column} ({ids}) is unavailable, so the designation "
                    f"lapses this year: {who} may hold {column} portfolios",
                    f"flag an available manager {column} to choose who holds them",
                    row=_row(int(rows[0])),
                    column=column,
                    severity=Severity.WARNING,
                )
            )
    return problems


def flags_that_bar(
    managers: pd.DataFrame, policy: Policy, label: str, premium_ledger: bool = False
) -> list[Problem]:
    """A warning for each available manager whose flags leave no portfolio to hold: flagged
    premium without the premium grade, or flagged both premium and separate-ledger (unless of
    the premium grade where some customers are ``premium_ledger``: premium and separate-ledger
    at once, whom such a manager may hold). Such a manager gets no customers (where the band
    allows none; else the solve says so)."""
    problems = []
    for position, row in enumerate(managers.itertuples(index=False)):
        if not row.available or not row.premium:
            continue
        if row.separate_ledger and premium_ledger and row.grade == policy.premium_grade:
            continue
        if row.separate_ledger:
            why, hint = "is flagged both premium and separate-ledger", "clear one of the two flags"
        elif row.grade != policy.premium_grade:
            why = f"is flagged premium but has grade {row.grade}, not {policy.premium_grade}"
            hint = f"clear the flag, or flag a manager of grade {policy.premium_grade}"
        else:
            continue
        problems.append(
            Problem(
                label,
                f"manager {row.manager_id} {why}: a designated manager holds nothing else, so "
                "this manager gets no customers",
                hint,
                row=_row(position),
                column="premium",
                severity=Severity.WARNING,
            )
        )
    return problems


def _unknown_priors(customers: pd.DataFrame, known: set[str], label: str) -> list[Problem]:
    """One warning per prior manager not in the managers table, with the rows naming it."""
    priors = customers["prior_manager_id"]
    unknown = priors[(priors != "") & ~priors.isin(known)]
    padded = id_lookup(known)
    problems = []
    for manager in unknown.unique():
        numbers = [str(_row(int(p))) for p in np.flatnonzero(priors == manager)]
        problems.append(
            Problem(
                label,
                f"unknown prior manager {manager!r} for {len(numbers)} customer(s) "
                f"(rows {listed(numbers)})",
                id_hint(str(manager), padded)
                or "taken as a manager who has left: these customers move; if it is a typo, fix "
                "it, else add the manager to managers with available = false",
                row=int(numbers[0]),
                column="prior_manager_id",
                severity=Severity.WARNING,
            )
        )
    return problems


LOOK_ALIKE = 0.85  # similarity (difflib) from which an own column name reads as a misspelling
# Columns that carry a rule or a figure, worth a word when they sit in a table that lacks them
# (not generic names such as note or name, which planners keep as their own).
# Planners copy grades, classes, groups and incomes into other tables by lookup; these they do
# not, and each sits in one table only.
RULE_COLUMNS = {
    "available",
    "min_customers",
    "max_customers",
    "pinned_manager_id",
    "prior_manager_id",
}


def own_columns_carried(frame: pd.DataFrame, table: str, label: str) -> list[Problem]:
    """A warning for each own column named like one that solve writes beside it: it is left
    out of the output (the tool's column of that name is written)."""
    output, written = WRITTEN_BESIDE[table]
    return [
        Problem(
            label,
            f"the column {column!r} is not carried to {output}: the tool writes its own "
            f"{column_name(column)!r} there",
            "rename the column to keep it in the output",
            row=1,
            column=column,
            severity=Severity.WARNING,
        )
        for column in frame.columns
        if column_name(column) in written
    ]


def nameless_columns(frame: pd.DataFrame, label: str) -> list[Problem]:
    """A warning for each column with values but no name in the header row: it is not read
    (only carried to the outputs under a made-up name), though it may be meant to be."""
    problems = []
    for position, column in enumerate(frame.columns):
        filled = np.flatnonzero((frame[column].astype(str).str.strip() != "").to_numpy())
        if not str(column).startswith("Unnamed: ") or not len(filled):
            continue
        problems.append(
            Problem(
                label,
                f"column {position + 1} has values (first in row {_row(int(filled[0]))}) but no "
                f"name in the header row: it is not read, only carried to the outputs as "
                f"{column!r}",
                "give the column a name in the header row, or delete its values",
                row=1,
                severity=Severity.WARNING,
            )
        )
    return problems


def column_spelling(header: str) -> str:
    """A header spelled as a column name: units in brackets dropped (they say nothing of which
    column it is), spaces, dashes and dots as underscores ("Interest Income (CNY)")."""
    return re.sub(r"[\s\-.]+", "_", re.sub(r"[(（].*?[)）]", "", column_name(header)).strip())


def look_alike_columns(frame: pd.DataFrame, table: str, label: str) -> list[Problem]:
    """A warning for each own column that looks like a column of the format the table lacks
    (``Interest Income``, ``intrest_income``), or that only another table has (``available``
    on customers): it is carried to the outputs and not read, so its values count for nothing."""
    known = {c.name for c in SCHEMAS[table]}
    missing = sorted(known - set(frame.columns))
    elsewhere = {
        c.name: other
        for other, cols in SCHEMAS.items()
        for c in cols
        if other != table and c.name in RULE_COLUMNS
    }
    problems = []
    for column in frame.columns:
        name = column_name(column)
        if name in known:
            continue
        spelled = column_spelling(column)
        if any(spelled.startswith(f"{c}_") for c in known if c in frame.columns):
            continue  # interest_income_q1 beside interest_income: the planner's own figures
        close = difflib.get_close_matches(spelled, missing, n=1, cutoff=LOOK_ALIKE)
        meant = column_for_header(table, name)
        opposed = column_opposed_by(table, name)
        if meant in missing:
            message = f"the column {column!r} is not read: the format calls it {meant!r}"
            hint = f"rename it {meant}"
        elif opposed in missing:
            message = (
                f"the column {column!r} is not read: the format has {opposed!r}, which says "
                "the opposite"
            )
            hint = f"add a column {opposed} (false where {column} is true) in its place"
        elif close:
            message = f"the column {column!r} is not read: did you mean {close[0]!r}?"
            hint = f"rename it {close[0]}, or to something unlike it if it is your own column"
        elif spelled in elsewhere and spelled not in known:
            message = (
                f"{table} have no column {column!r} (it is a column of "
                f"{elsewhere[spelled]}): it is not read"
            )
            hint = "move the values to that table, or rename the column if it is your own"
        else:
            continue
        problems.append(
            Problem(label, message, hint, row=1, column=str(column), severity=Severity.WARNING)
        )
    return problems


def income_columns_read(frame: pd.DataFrame, table: str, label: str) -> list[Problem]:
    """A warning where a table has rows, none of the income columns, and columns the tool does
    not read (the incomes under headers in another language, say): every income reads as 0,
    and so does every target or payout."""
    known = {c.name for c in SCHEMAS[table]}
    own = [str(c) for c in frame.columns if column_name(c) not in known]
    if not len(frame) or not own or any(c in frame.columns for c in INCOME_COLUMNS):
        return []
    return [
        Problem(
            label,
            "no income column is read (interest_income, deposit_income, fee_income and their "
            f"_fx), while {listed(own)} are not read: every income counts as 0",
            "name the income columns as the format does",
            row=1,
            severity=Severity.WARNING,
        )
    ]


def pins_to_available(customers: pd.DataFrame, managers: pd.DataFrame, label: str) -> list[Problem]:
    unavailable = set(managers.loc[~managers["available"], "manager_id"])
    pins = customers["pinned_manager_id"]
    # A collision of two hard rules, not a typo: solve explains it and exits 3.
    return [
        Problem(
            label,
            f"pinned to manager {pins.iloc[p]!r}, who is not available: no plan can keep both",
            "pin the customer to an available manager, clear the pin, or make the manager "
            "available",
            row=_row(int(p)),
            column="pinned_manager_id",
            severity=Severity.WARNING,
        )
        for p in np.flatnonzero(pins.isin(unavailable) & (pins != ""))
    ]


def personal_bounds_ordered(managers: pd.DataFrame, label: str) -> list[Problem]:
    low, high = managers["min_customers"], managers["max_customers"]
    bad = np.flatnonzero((low.notna() & high.notna() & (low > high)).fillna(False).to_numpy())
    return [
        Problem(
            label,
            f"min_customers {low.iloc[p]} is above max_customers {high.iloc[p]}",
            "swap or correct the two bounds",
            row=_row(int(p)),
            column="min_customers",
        )
        for p in bad
    ]


def some_manager_available(managers: pd.DataFrame, label: str) -> list[Problem]:
    if len(managers) and not managers["available"].any():
        return [Problem(label, "no manager is available", "mark at least one manager available")]
    if not len(managers):
        return [Problem(label, "the table has no managers", "add one row per customer manager")]
    return []


def some_customers(customers: pd.DataFrame, label: str) -> list[Problem]:
    if len(customers):
        return []
    return [Problem(label, "the table has no customers", "add one row per corporate customer")]


def growth_as_percent(customers: pd.DataFrame, label: str) -> list[Problem]:
    """A warning for growth rates above 100%: a fraction is meant (0.05), and 5
    would be 500% growth."""
    growth = customers["growth_rate"]
    flagged = (growth > 1).fillna(False)
    return _cell_warnings(
        label,
        "growth_rate",
        growth,
        flagged,
        "growth_rate {value:g} is {value:.0%} growth: growth rates are fractions",
        "write the rate as a fraction (0.08 for 8%), if that is meant",
    )


def tenure_without_prior(customers: pd.DataFrame, policy: Policy, label: str) -> list[Problem]:
    """A warning where a tenure reaches the rotation limit but no prior manager is given: the
    rule needs the manager the customer has been with, so it does nothing for the row."""
    limit = policy.rotation.max_tenure_years
    if limit is None:
        return []
    tenure = customers["tenure_years"]
    flagged = ((tenure >= limit) & (customers["prior_manager_id"] == "")).fillna(False)
    return _cell_warnings(
        label,
        "tenure_years",
        tenure,
        flagged,
        f"tenure_years {{value:g}} reaches the rotation limit ({limit} years), but "
        "prior_manager_id is blank: the rotation rule cannot tell whom to rotate away from",
        "fill in prior_manager_id, or clear tenure_years",
    )


def scores_as_fractions(managers: pd.DataFrame, label: str) -> list[Problem]:
    """A warning for management scores of 1 or less, or of 100 or less where no score is
    higher (a scale of 100): the scale is 0..1000 (933, not 0.933 or 93.3), and pay is scaled
    by score / 1000."""
    score = managers["management_score"]
    hundred_scale = bool(score.max() <= 100) if score.notna().any() else False
    return _cell_warnings(
        label,
        "management_score",
        score,
        ((score > 0) & ((score <= 1) | ((score <= 100) & hundred_scale))).fillna(False),
        "management_score {value:g} is on a scale of 0..1000: pay would be scaled by "
        "{value:g} / 1000",
        "write 933 for 93.3%, if that is meant",
    )


# Cells that mean "no group" in a spreadsheet but would join every customer holding them.
NO_GROUP = {
    *("n/a", "na", "n.a.", "-", "--", "—", "–", "/", "none", "null", "nil", "0", "#n/a"),
    *("無", "无", "暂无", "暫無", "没有", "沒有"),
}


def placeholder_groups(customers: pd.DataFrame, label: str) -> list[Problem]:
    """A warning where several customers share a group_id that reads as "no group" (N/A, -):
    they are kept together as one group."""
    groups = customers["group_id"]
    problems = []
    plain = groups.map(lambda g: unicodedata.normalize("NFKC", g).strip().lower())
    for value in sorted(set(groups[plain.isin(NO_GROUP)])):
        rows = np.flatnonzero((groups == value).to_numpy())
        if len(rows) < 2:
            continue
        problems.append(
            Problem(
                label,
                f"group_id {value!r} joins {len(rows)} customers into one group, kept in one "
                "portfolio",
                "leave group_id blank for customers without a group",
                row=_row(int(rows[0])),
                column="group_id",
                severity=Severity.WARNING,
            )
        )
    return problems


def _cell_warnings(
    label: str, column: str, values: pd.Series, flagged: pd.Series, message: str, hint: str
) -> list[Problem]:
    """A warning for each ``flagged`` row of a column (past the first few, one line naming
    the rows); ``message`` is formatted with the row's ``value``."""
    warnings = [
        Problem(
            label,
            message.format(value=values.iloc[p]),
            hint,
            row=_row(int(p)),
            column=column,
            severity=Severity.WARNING,
        )
        for p in np.flatnonzero(flagged.to_numpy())
    ]
    return capped(warnings, "cells")


# What Excel makes of an id it takes for a date or a long number: the id is lost.
DATE_LIKE = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?"
SCIENTIFIC = r"\d+(\.\d+)?[eE][+-]?\d+"
ID_COLUMNS = ("customer_id", "manager_id", "group_id", "prior_manager_id", "pinned_manager_id")


def ids_excel_changed(frame: pd.DataFrame, label: str) -> list[Problem]:
    """A warning at each id Excel turned into a date (M-06 -> 2026-06-01) or wrote in
    scientific notation (6.22203E+18): the id no longer matches its customer or manager."""
    problems = []
    for column in (c for c in ID_COLUMNS if c in frame.columns):
        values = frame[column].astype(str).str.strip()
        for pattern, what, hint in (
            (
                DATE_LIKE,
                "a date",
                "Excel took the id for a date: format the column as Text and type the id again",
            ),
            (
                SCIENTIFIC,
                "a number in scientific notation",
                "Excel shortened a long id: format the column as Text and type the id again",
            ),
        ):
            problems += _cell_warnings(
                label,
                column,
                values,
                values.str.fullmatch(pattern),
                f"the id {{value!r}} is {what}, not an id as written",
                hint,
            )
    return problems


def negative_income(customers: pd.DataFrame, label: str) -> list[Problem]:
    """Negative income is possible (write-backs) but usually a typo: warn, do not stop."""
    problems = []
    for column in INCOME_COLUMNS:
        values = customers[column]
        problems += _cell_warnings(
            label,
            column,
            values,
            values < 0,
            "negative income {value:,.12g}",
            "check the sign; the value is used as given",
        )
    return problems


OUTLIER_FACTOR = 1000  # an income this many times the column's median is probably a typo


def outlying_income(customers: pd.DataFrame, label: str) -> list[Problem]:
    """Incomes far above the rest (an extra 000 typed in): warn, do not stop."""
    problems = []
    for column in INCOME_COLUMNS:
        values = customers[column]
        median = values[values > 0].median()
        if not median > 0:
            continue
        problems += _cell_warnings(
            label,
            column,
            values,
            values > OUTLIER_FACTOR * median,
            f"income {{value:,.2f}} is over {OUTLIER_FACTOR} times the column's median "
            f"({median:,.2f})",
            "check for a typo (an extra 000?); the value is used as given",
        )
    return problems


# A branch's yearly income, in local currency, that the models' sums of cents, times the
# number of portfolios, keep within 64-bit integers (a real branch is far below).
BRANCH_INCOME_LIMIT = 1e14


def incomes_within_reach(customers: pd.DataFrame, policy: Policy, label: str) -> list[Problem]:
    """The customers' incomes, foreign ones at ``fx_rate``, must add up to a sum the models
    compute with exactly: each cell may be plausible while their product is not."""
    fx_rate = policy.payout.fx_rate
    incomes = customers[list(INCOME_COLUMNS)].abs().fillna(0.0)
    converted = incomes.mul([1.0 if not c.endswith("_fx") else fx_rate for c in INCOME_COLUMNS])
    total = float(converted.to_numpy().sum())
    if not len(customers) or total <= BRANCH_INCOME_LIMIT:
        return []
    row, column = np.unravel_index(int(np.argmax(converted.to_numpy())), converted.shape)
    return [
        Problem(
            label,
            f"the customers' incomes add up to {total:,.0f} (foreign income at fx_rate "
            f"{fx_rate:g}), beyond the {BRANCH_INCOME_LIMIT:,.0f} the tool computes with",
            "check fx_rate in scenario.toml (local currency per unit of foreign) and the "
            "income columns; this cell holds the largest income",
            row=_row(int(row)),
            column=INCOME_COLUMNS[int(column)],
        )
    ]


def affinity_goal_has_a_table(
    policy: Policy, affinity: pd.DataFrame | None, label: str
) -> list[Problem]:
    """The goal affinity needs an affinity table with rows; without them it is dropped, and a
    policy with no other goal would accept any plan."""
    goals = policy.objective.goals()
    if "affinity" not in goals or (affinity is not None and len(affinity)):
        return []
    alone = goals == ["affinity"]
    missing = "there is none" if affinity is None else "the table has no rows"
    return [
        Problem(
            label,
            f"the goal affinity needs an affinity table and {missing}: "
            + ("no goal is left, so any plan would do" if alone else "it is left out"),
            'add affinity = "affinity.csv" under [tables] with a row per customer (or industry) '
            "and manager, or take affinity out of the objective",
            column="objective",
            severity=Severity.ERROR if alone else Severity.WARNING,
        )
    ]


def relations_valid(relations: pd.DataFrame, customers: pd.DataFrame, label: str) -> list[Problem]:
    """Both ends must be known customers; kind is group or chain; no self-links."""
    known = set(customers["customer_id"])
    kinds = relations["kind"].str.lower()
    problems = unknown_values(
        relations,
        "a",
        known,
        label,
        "customer",
        "use a customer_id from customers, or delete the row",
    )
    problems += unknown_values(
        relations,
        "b",
        known,
        label,
        "customer",
        "use a customer_id from customers, or delete the row",
    )
    for p in np.flatnonzero((kinds != "") & ~kinds.isin(RELATION_KINDS)):
        problems.append(
            Problem(
                label,
                f"unknown kind {relations['kind'].iloc[p]!r}",
                "use 'group' (same group, hard) or 'chain' (industry chain, soft)",
                row=_row(int(p)),
                column="kind",
            )
        )
    for p in np.flatnonzero((relations["a"] == relations["b"]) & (relations["a"] != "")):
        problems.append(
            Problem(
                label,
                "a customer is linked to itself",
                "delete the row",
                row=_row(int(p)),
                column="b",
                severity=Severity.WARNING,
            )
        )
    return problems + _repeated_links(relations, label)


def _repeated_links(relations: pd.DataFrame, label: str) -> list[Problem]:
    """A warning at each chain link listed again (either way round): their weights add up."""
    chains = relations[relations["kind"].str.lower() == "chain"]
    # Each link once, either way round; positions by dictionary (a scan per repeat took 14 s
    # at 60,000 links).
    pair = [tuple(sorted(ab)) for ab in zip(chains["a"], chains["b"], strict=True)]
    problems = []
    for p, first in repeats(pair):
        a, b = pair[p]
        problems.append(
            Problem(
                label,
                f"the chain link {a} - {b} is listed again (first in row "
                f"{_row(int(chains.index[first]))}): the weights of its rows add up",
                "keep one row per link, with the weight it should have",
                row=_row(int(chains.index[p])),
                column="b",
                severity=Severity.WARNING,
            )
        )
    return capped(problems, "repeated links")


def affinity_valid(
    affinity: pd.DataFrame, customers: pd.DataFrame, managers: pd.DataFrame, label: str
) -> list[Problem]:
    """Each row names a known manager and a known customer or industry."""
    problems = unknown_values(
        affinity,
        "manager_id",
        set(managers["manager_id"]),
        label,
        "manager",
        "use a manager_id from managers, or delete the row",
    )
    problems += unknown_values(
        affinity,
        "customer_id",
        set(customers["customer_id"]),
        label,
        "customer",
        "use a customer_id from customers, or delete the row",
    )
    neither = np.flatnonzero((affinity["customer_id"] == "") & (affinity["industry"] == ""))
    problems += [
        Problem(
            label,
            "the row names neither a customer nor an industry",
            "fill in customer_id or industry",
            row=_row(int(p)),
            column="customer_id",
        )
        for p in neither
    ]
    return [
        *problems,
        *_repeated_pairs(affinity, label),
        *_industry_beside_customer(affinity, customers, label),
        *_unmatched_industries(affinity, customers, label),
    ]


def capacity_without_workload(
    managers: pd.DataFrame, policy: Policy, affinity: pd.DataFrame | None, label: str
) -> list[Problem]:
    """Capacities with no workload anywhere (none in an affinity table, no default): they bind
    nothing."""
    if _has_workloads(policy, affinity) or not managers["capacity"].notna().any():
        return []
    where = "no affinity table" if affinity is None else "none in the affinity table"
    return [
        Problem(
            label,
            f"managers have a capacity, but no customer has a workload ({where}, no "
            "[affinity] default_workload): the capacities bind nothing",
            "give workloads in the affinity table's workload column or [affinity] "
            "default_workload, or clear the capacity column",
            column="capacity",
            severity=Severity.WARNING,
        )
    ]


def workload_without_capacity(
    managers: pd.DataFrame, policy: Policy, affinity: pd.DataFrame | None, label: str
) -> list[Problem]:
    """Workloads with no manager's capacity to hold them against: they bind nothing."""
    if not _has_workloads(policy, affinity) or managers["capacity"].notna().any():
        return []
    return [
        Problem(
            label,
            "customers have workloads, but no manager has a capacity: the workloads bind nothing",
            "give managers a capacity (column capacity, in the workloads' units), or leave the "
            "workloads out",
            column="capacity",
            severity=Severity.WARNING,
        )
    ]


def _has_workloads(policy: Policy, affinity: pd.DataFrame | None) -> bool:
    given = affinity is not None and bool(affinity["workload"].notna().any())
    return given or bool(policy.affinity.default_workload)


def _repeated_pairs(affinity: pd.DataFrame, label: str) -> list[Problem]:
    """Two rows for one (customer or industry, manager) pair: which one holds is a guess."""
    key = affinity["customer_id"].where(
        affinity["customer_id"] != "", "industry " + affinity["industry"]
    )
    pairs = list(zip(key, affinity["manager_id"], strict=True))
    repeated = [
        Problem(
            label,
            f"a second row for {pairs[p][0]} with manager {pairs[p][1]} (the first is row "
            f"{_row(first)})",
            "keep one row per customer (or industry) and manager",
            row=_row(p),
            column="manager_id",
        )
        for p, first in repeats(pairs)
        if pairs[p][0] not in ("", "industry ") and pairs[p][1]
    ]
    return capped(repeated, "repeated rows")


def _industry_beside_customer(
    affinity: pd.DataFrame, customers: pd.DataFrame, label: str
) -> list[Problem]:
    """A row naming a customer and another industry than the customer's: the customer wins."""
    industry_of = dict(zip(customers["customer_id"], customers["industry"], strict=True))
    unused = [
        Problem(
            label,
            f"the row is for customer {cid}, whose industry is {industry_of[cid]!r}: the "
            f"industry {industry!r} is not used",
            "leave industry blank on a customer's row, or the customer blank on an industry's",
            row=_row(p),
            column="industry",
            severity=Severity.WARNING,
        )
        for p, (cid, industry) in enumerate(
            zip(affinity["customer_id"], affinity["industry"], strict=True)
        )
        if cid in industry_of and industry and industry != industry_of[cid]
    ]
    return capped(unused, "rows")


def _unmatched_industries(
    affinity: pd.DataFrame, customers: pd.DataFrame, label: str
) -> list[Problem]:
    """An industry row no customer belongs to applies to nobody: often a misspelling."""
    known = set(customers["industry"])
    by_industry = (affinity["customer_id"] == "") & (affinity["industry"] != "")
    unmatched = np.flatnonzero(by_industry & ~affinity["industry"].isin(known))
    warnings = [
        Problem(
            label,
            f"no customer is in industry {affinity['industry'].iloc[p]!r}: the row applies to "
            "nobody",
            "check the spelling against the customers' industry column",
            row=_row(int(p)),
            column="industry",
            severity=Severity.WARNING,
        )
        for p in unmatched
    ]
    return capped(warnings, "rows")
