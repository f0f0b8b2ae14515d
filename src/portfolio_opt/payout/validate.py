"""Checks of the payout inputs, reported as problems a planner can find in the spreadsheet.

Rows keep their original order, so the spreadsheet row of position i is i + 2 (header = 1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd

from portfolio_opt.payout.adjustments import adjustment_kind, year_adjustments
from portfolio_opt.payout.frames import text
from portfolio_opt.payout.notices import stops_without_actuals
from portfolio_opt.payout.periods import parse_period, payout_year
from portfolio_opt.problems import Problem, Severity, listed
from portfolio_opt.scenario.columns import capped, id_hint, id_lookup, repeats
from portfolio_opt.scenario.policy import Policy, Rates
from portfolio_opt.scenario.schema import INCOME_COLUMNS

CENT = 0.01  # a yearly row within half of it of its quarters agrees with them

DEFAULT_FILES = {
    "policy": "scenario.toml",
    "customers": "customers.csv",
    "managers": "managers.csv",
    "actuals": "actuals.csv",
    "adjustments": "adjustments.csv",
    "credits": "credits.csv",
}


def _rows(frame: pd.DataFrame) -> Iterator[int]:
    return iter(range(2, len(frame) + 2))


def _missing_columns(frame: pd.DataFrame, columns: tuple[str, ...], file: str) -> list[Problem]:
    return [
        Problem(file, f"column {c} is missing", f"add a {c} column", column=c)
        for c in columns
        if c not in frame.columns
    ]


def _not_numbers(frame: pd.DataFrame, column: str, file: str) -> list[Problem]:
    """Cells that hold something that is not a number (blanks are fine)."""
    if column not in frame.columns:
        return []
    raw = frame[column]
    bad = raw.notna() & (text(frame, column) != "") & pd.to_numeric(raw, errors="coerce").isna()
    return [
        Problem(file, f"{raw.iloc[i]!r} is not a number", "write a plain number", i + 2, column)
        for i in bad.to_numpy().nonzero()[0]
    ]


def _period_problems(frame: pd.DataFrame, file: str, year: int, year_is_set: bool) -> list[Problem]:
    problems = []
    for row, value in zip(_rows(frame), text(frame, "period"), strict=True):
        period = parse_period(value)
        if period is None:
            problems.append(
                Problem(
                    file,
                    f"period {value!r} is not a year (2024) or a quarter (2024Q1)",
                    "write the period as YYYY or YYYYQn",
                    row,
                    "period",
                )
            )
        elif period.year != year:
            hint = "remove the row" if year_is_set else "set payout.year, or remove the row"
            problems.append(
                Problem(
                    file,
                    f"period {value} is outside the payout year {year}",
                    hint,
                    row,
                    "period",
                )
            )
    return problems


def _unknown_ids(
    frame: pd.DataFrame, column: str, known: set[str], what: str, table: str, file: str
) -> list[Problem]:
    problems = []
    padded = id_lookup(known)
    for row, value in zip(_rows(frame), text(frame, column), strict=True):
        if value == "":
            problems.append(Problem(file, f"{column} is blank", f"name the {what}", row, column))
        elif value not in known:
            problems.append(
                Problem(
                    file,
                    f"{what} {value!r} is not in {table}",
                    id_hint(value, padded) or f"check the id, or add the {what} to {table}",
                    row,
                    column,
                )
            )
    return capped(problems, "ids")


def policy_problems(policy: Policy, file: str = "scenario.toml") -> list[Problem]:
    """Rates below 0 and growth below -100% (a policy built in code skips pydantic's checks)."""
    problems = []
    sections: list[tuple[str, Rates | None]] = [
        ("payout.rates", policy.payout.rates),
        ("payout.separate_ledger.rates", policy.payout.separate_ledger.rates),
    ]
    for key, rates in sections:
        if rates is None:
            continue
        for tier in ("target", "increment", "excess"):
            value = getattr(rates, tier)
            values = value.values() if isinstance(value, dict) else [value]
            if any(v < 0 for v in values):
                problems.append(
                    Problem(
                        file,
                        f"{key}.{tier}: a rate is below 0",
                        "use rates >= 0",
                        None,
                        f"{key}.{tier}",
                    )
                )
    growths = {f"payout.growth.{c}": g for c, g in policy.payout.growth.items()}
    growths["payout.default_growth"] = policy.payout.default_growth
    override = policy.payout.separate_ledger
    growths |= {f"payout.separate_ledger.growth.{c}": g for c, g in (override.growth or {}).items()}
    if override.default_growth is not None:
        growths["payout.separate_ledger.default_growth"] = override.default_growth
    for key, growth in growths.items():
        if growth < -1:
            problems.append(
                Problem(
                    file,
                    f"{key}: growth {growth} is below -1 (-100%)",
                    "use a growth >= -1",
                    None,
                    key,
                )
            )
    return problems


def actuals_problems(
    actuals: pd.DataFrame, customer_ids: set[str], year: int, year_is_set: bool, file: str
) -> list[Problem]:
    """Unknown customers, bad periods, periods outside the year, text in income columns;
    warnings for what would quietly count as no income, or twice."""
    problems = _missing_columns(actuals, ("customer_id", "period"), file)
    if problems:
        return problems
    problems += _unknown_ids(actuals, "customer_id", customer_ids, "customer", "customers", file)
    problems += _period_problems(actuals, file, year, year_is_set)
    for column in INCOME_COLUMNS:
        problems += _not_numbers(actuals, column, file)
    return [
        *problems,
        *quarters_missing(actuals, year, file),
        *customer_quarters_missing(actuals, year, file),
        *yearly_beside_quarterly(actuals, year, file),
        *year_unlike_its_quarters(actuals, year, file),
        *customers_without_actuals(actuals, customer_ids, file),
        *rows_pasted_twice(actuals, file),
        *periods_given_twice(actuals, file),
    ]


def quarters_missing(actuals: pd.DataFrame, year: int, file: str) -> list[Problem]:
    """Quarters without a single row before the latest quarter with rows: the year to date
    would take their income as 0."""
    quarters = _quarters_with_actuals(actuals, year)
    if not quarters:
        return []
    latest = max(quarters)
    return [
        Problem(
            file,
            f"no actuals for {year}Q{q}, though {year}Q{latest} has some: the year to date "
            f"would count {year}Q{q}'s income as 0",
            f"add the {year}Q{q} rows (0 where a customer had no income), or check the periods",
            column="period",
            severity=Severity.WARNING,
        )
        for q in range(1, latest)
        if q not in quarters
    ]


def no_actuals_rows(actuals: pd.DataFrame, file: str) -> list[Problem]:
    """A warning for an actuals table, given, with no rows: every customer is then taken to
    earn its forecast, as without actuals (an empty export?)."""
    if len(actuals):
        return []
    return [
        Problem(
            file,
            "the table has no rows: realised profit is the forecast, every manager exactly on "
            "target, as without actuals",
            "fill in the actuals, or leave the table out of [tables] if none are meant",
            severity=Severity.WARNING,
        )
    ]


def customer_quarters_missing(actuals: pd.DataFrame, year: int, file: str) -> list[Problem]:
    """A warning for customers whose quarter rows miss a quarter that other customers have
    (and who have no yearly row): that quarter's income counts as 0."""
    periods = [parse_period(value) for value in text(actuals, "period")]
    ids = text(actuals, "customer_id").tolist()
    quarters: dict[str, set[int]] = {}
    yearly = set()
    for c, period in zip(ids, periods, strict=True):
        if period is None or period.year != year or not c:
            continue
        if period.quarter:
            quarters.setdefault(c, set()).add(period.quarter)
        else:
            yearly.add(c)
    if not quarters:
        return []
    present = set().union(*quarters.values())  # a quarter nobody has: quarters_missing
    gaps = {c: sorted(present - held) for c, held in quarters.items() if c not in yearly}
    gaps = {c: missing for c, missing in gaps.items() if missing}
    if not gaps:
        return []
    shown = [f"{c} ({', '.join(f'{year}Q{q}' for q in missing)})" for c, missing in gaps.items()]
    return [
        Problem(
            file,
            f"{len(gaps)} customer(s) have no rows for a quarter that others have: "
            f"{listed(shown)}; that quarter's income counts as 0",
            "add their rows for those quarters (0 where a customer had no income)",
            column="period",
            severity=Severity.WARNING,
        )
    ]


def yearly_beside_quarterly(actuals: pd.DataFrame, year: int, file: str) -> list[Problem]:
    """A warning where customers have different kinds of rows for the year: a customer with a
    yearly row only counts nothing in the quarter rows; and one with quarter rows only, short
    of Q4, is settled on those quarters against full-year targets once any customer has a
    yearly row."""
    periods = [parse_period(value) for value in text(actuals, "period")]
    ids = text(actuals, "customer_id").tolist()
    in_year = [
        (c, p) for c, p in zip(ids, periods, strict=True) if p is not None and p.year == year
    ]
    yearly = {c for c, p in in_year if not p.quarter}
    quarters = {p.quarter for _, p in in_year if p.quarter}
    quarterly = {c for c, p in in_year if p.quarter}
    if not yearly or not quarterly:
        return []
    parts = []
    if only_yearly := sorted(yearly - quarterly):
        parts.append(
            f"{len(only_yearly)} customer(s) have a yearly row only ({listed(only_yearly)}) and "
            "count nothing in the quarter rows"
        )
    if max(quarters) < 4 and (only_quarterly := sorted(quarterly - yearly)):
        parts.append(
            f"{len(only_quarterly)} customer(s) have quarter rows only, up to {year}Q"
            f"{max(quarters)} ({listed(only_quarterly)}), and the year is settled against "
            "full-year targets, as other customers have a yearly row"
        )
    if not parts:
        return []
    first = next(i for i, p in enumerate(periods) if p is not None and p.year == year)
    return [
        Problem(
            file,
            f"the {year} actuals give customers different kinds of rows: " + "; ".join(parts),
            "give every customer the same kinds of rows: a yearly row (the year's income), "
            "quarter rows (each quarter's own income), or both",
            first + 2,
            "period",
            Severity.WARNING,
        )
    ]


def year_unlike_its_quarters(actuals: pd.DataFrame, year: int, file: str) -> list[Problem]:
    """A warning for customers whose yearly row differs from the sum of their four quarter
    rows: the year is settled on the yearly row, the quarters on their own rows."""
    periods = [parse_period(value) for value in text(actuals, "period")]
    kept = [p is not None and p.year == year for p in periods]
    columns = [c for c in INCOME_COLUMNS if c in actuals.columns]
    if not any(kept) or not columns:
        return []
    income = actuals.loc[kept, columns].apply(pd.to_numeric, errors="coerce").fillna(0.0)
    income["customer_id"] = text(actuals, "customer_id")[kept].to_numpy()
    income["quarter"] = [p.quarter or 0 for p, k in zip(periods, kept, strict=True) if k and p]
    quarterly = income[income["quarter"] > 0]
    whole = quarterly.groupby("customer_id")["quarter"].nunique() == 4
    summed = quarterly.groupby("customer_id")[columns].sum()[whole]
    yearly = income[income["quarter"] == 0].groupby("customer_id")[columns].sum()
    both = summed.index.intersection(yearly.index)
    apart = (summed.loc[both] - yearly.loc[both]).abs().max(axis=1) > CENT / 2
    differing = sorted(both[apart.to_numpy()])
    if not differing:
        return []
    first = next(i for i, p in enumerate(periods) if p is not None and p.year == year)
    return [
        Problem(
            file,
            f"{len(differing)} customer(s) have a {year} row that differs from the sum of their "
            f"four quarter rows ({listed(differing)}): the year is settled on the yearly row, "
            "each quarter on its own rows",
            "correct the yearly row or the quarter rows, or leave out the yearly row (the "
            "quarters then make the year)",
            first + 2,
            "period",
            Severity.WARNING,
        )
    ]


def customers_without_actuals(
    actuals: pd.DataFrame, customer_ids: set[str], file: str
) -> list[Problem]:
    """Customers with no row at all among actuals given for others: paid as if they earned
    nothing this year."""
    if not len(actuals):
        return []
    missing = sorted(customer_ids - set(text(actuals, "customer_id")) - {""})
    if not missing:
        return []
    shown = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
    return [
        Problem(
            file,
            f"{len(missing)} customer(s) have no actuals rows ({shown}): their income counts "
            "as 0 this year",
            "add their rows, unless they earned nothing",
            column="customer_id",
            severity=Severity.WARNING,
        )
    ]


def rows_pasted_twice(actuals: pd.DataFrame, file: str) -> list[Problem]:
    """Rows identical to an earlier one in every cell: rows of one customer and period are
    added up, so a row pasted twice counts twice."""
    cells = actuals.astype(str).apply(lambda column: column.str.strip())
    if not cells.duplicated().any():
        return []
    copies = [
        Problem(
            file,
            f"the same in every cell as row {first + 2}: both are added up",
            "delete the copy if the row was pasted twice",
            p + 2,
            severity=Severity.WARNING,
        )
        for p, first in repeats(cells.itertuples(index=False, name=None))
    ]
    return capped(copies, "rows")


def periods_given_twice(actuals: pd.DataFrame, file: str) -> list[Problem]:
    """A warning per period whose customers are listed again below them, with other figures
    in the same columns (a quarter issued again by accounting and pasted under the first
    issue, whole or nearly): rows of a customer and period are added up, so the period would
    count twice. A customer's rows one after another are parts of one listing; rows pasted
    unchanged are told apart by :func:`rows_pasted_twice`; blocks that fill different columns
    (interest, then deposits and fees) are parts that add up."""
    ids = text(actuals, "customer_id").to_numpy()
    periods = pd.Series([parse_period(value) for value in text(actuals, "period")])
    problems = []
    for period in dict.fromkeys(p for p in periods if p is not None):
        listings = _listings(ids, np.flatnonzero((periods == period).to_numpy()))
        if listings is None:
            continue
        first, second = listings
        ours, again = set(ids[first]), set(ids[second])
        common, listed_most = len(ours & again), max(len(ours), len(again))
        if common < 2 or common < listed_most - max(1, int(REISSUE_MISSING * listed_most)):
            continue
        both = _columns_in_both(actuals, first, second)
        if not both or _same_rows(actuals, first, second):
            continue
        problems.append(
            Problem(
                file,
                f"the customers with {period.label} actuals are listed again from row "
                f"{second[0] + 2} (rows {first[0] + 2}-{first[-1] + 2}, then "
                f"{second[0] + 2}-{second[-1] + 2}: {common} of {len(ours)} customers, other "
                f"figures in {listed(both, len(both))}): the rows are added up, so those "
                f"figures count twice in {period.label}",
                "if the period was issued again, delete the old rows; if the rows are parts "
                "that add up, leave them",
                int(second[0]) + 2,
                "period",
                Severity.WARNING,
            )
        )
    return problems


REISSUE_MISSING = 0.1  # of a period's customers a second issue may lack (one, at least)


def _listings(ids: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows ``at`` (one period's, in file order) split where a customer's rows start again
    after other customers' (a customer's rows one after another are one listing's parts)."""
    seen: set[str] = set()
    for i, row in enumerate(at):
        customer = ids[row]
        if customer in seen and ids[at[i - 1]] != customer:
            return at[:i], at[i:]
        seen.add(customer)
    return None


def _same_rows(actuals: pd.DataFrame, first: np.ndarray, second: np.ndarray) -> bool:
    """Whether the rows at ``second`` repeat those at ``first`` (in any order), cell for cell."""
    cells = actuals.iloc[np.concatenate([first, second])].astype(str)
    cells = cells.apply(lambda column: column.str.strip())
    ours = set(cells.iloc[: len(first)].itertuples(index=False, name=None))
    return all(row in ours for row in cells.iloc[len(first) :].itertuples(index=False, name=None))


def _columns_in_both(actuals: pd.DataFrame, first: np.ndarray, second: np.ndarray) -> list[str]:
    """The income columns with figures in both blocks of rows."""
    both = []
    for column in INCOME_COLUMNS:
        if column in actuals.columns:
            figures = pd.to_numeric(actuals[column], errors="coerce").fillna(0.0).to_numpy() != 0
            if figures[first].any() and figures[second].any():
                both.append(column)
    return both


def adjustments_problems(
    adjustments: pd.DataFrame, manager_ids: set[str], year: int, year_is_set: bool, file: str
) -> list[Problem]:
    """Unknown managers, bad periods, text amounts; unknown kinds are warnings."""
    problems = _missing_columns(adjustments, ("manager_id", "period"), file)
    if problems:
        return problems
    problems += _unknown_ids(adjustments, "manager_id", manager_ids, "manager", "managers", file)
    problems += _period_problems(adjustments, file, year, year_is_set)
    problems += _not_numbers(adjustments, "amount", file)
    amounts = pd.to_numeric(text(adjustments, "amount"), errors="coerce").fillna(0.0)
    kinds = text(adjustments, "kind")
    for row, kind, amount in zip(_rows(adjustments), kinds, amounts, strict=True):
        problems += _amount_beside_kind(adjustment_kind(kind), float(amount), row, file)
        if adjustment_kind(kind) is None:
            problems.append(
                Problem(
                    file,
                    f"kind {kind!r} is not reward, penalty or stop: its amount is added as given",
                    "use reward, penalty or stop (or leave it blank)",
                    row,
                    "kind",
                    Severity.WARNING,
                )
            )
    return problems


def stops_before_actuals(
    adjustments: pd.DataFrame, actuals: pd.DataFrame, year: int, file: str
) -> list[Problem]:
    """Stops of quarters the actuals do not reach: the payout will have no row to stop."""
    if "period" not in adjustments.columns:
        return []
    quarters = sorted(_quarters_with_actuals(actuals, year)) if "period" in actuals else []
    return stops_without_actuals(year_adjustments(adjustments, year), quarters, file)


def _quarters_with_actuals(actuals: pd.DataFrame, year: int) -> set[int]:
    """The quarters of ``year`` that have actuals rows (the payout has a row for each)."""
    periods = [parse_period(value) for value in text(actuals, "period")]
    return {p.quarter for p in periods if p is not None and p.year == year and p.quarter}


def _amount_beside_kind(kind: str | None, amount: float, row: int, file: str) -> list[Problem]:
    """A warning for a reward or penalty of 0 or blank (it changes nothing), for a reward
    written negative (a reward raises pay: a clawback written as a negative bonus would be
    paid), and for a stop with an amount (a stop pays nothing for the period)."""
    if kind in ("reward", "penalty") and amount == 0:
        message, hint = f"a {kind} of 0 (or blank) changes nothing", "fill in the amount"
    elif kind == "reward" and amount < 0:
        message = f"a reward written as {amount:g} is paid as +{-amount:g}: a reward raises pay"
        hint = "write penalty (or leave the kind blank) for an amount that lowers pay"
    elif kind == "stop" and amount != 0:
        message = f"a stop with an amount ({amount:g}): the period's performance pay stops"
        hint = "clear the amount, or use reward or penalty if an amount is meant"
    else:
        return []
    return [Problem(file, message, hint, row, "amount", Severity.WARNING)]


def credits_problems(
    credits: pd.DataFrame, customer_ids: set[str], manager_ids: set[str], file: str
) -> list[Problem]:
    """Unknown customers or managers, shares outside 0..1, a customer's shares above 1."""
    problems = _missing_columns(credits, ("customer_id", "manager_id", "share"), file)
    if problems:
        return problems
    problems += _unknown_ids(credits, "customer_id", customer_ids, "customer", "customers", file)
    problems += _unknown_ids(credits, "manager_id", manager_ids, "manager", "managers", file)
    share = pd.to_numeric(credits["share"], errors="coerce")
    for row, value, number in zip(_rows(credits), text(credits, "share"), share, strict=True):
        if pd.isna(number) or not 0 <= number <= 1:
            problems.append(
                Problem(
                    file,
                    f"share {value!r} is not a number from 0 to 1",
                    "write the share as a fraction, e.g. 0.3 for 30%",
                    row,
                    "share",
                )
            )
    valid = share.where((share >= 0) & (share <= 1))
    customers = text(credits, "customer_id")
    for customer, total in valid.groupby(customers.to_numpy()).sum().items():
        if total > 1 + 1e-9:
            rows = [i + 2 for i in (customers == customer).to_numpy().nonzero()[0]]
            problems.append(
                Problem(
                    file,
                    f"the shares of customer {customer!r} add up to {total:g}, more than 1 "
                    f"(rows {', '.join(map(str, rows))})",
                    "lower the shares: the holder keeps 1 minus their sum",
                    rows[0],
                    "share",
                )
            )
    return problems


def salary_problems(managers: pd.DataFrame, policy: Policy, file: str) -> list[Problem]:
    """Warnings for staff levels missing from ``payout.base_salary`` (default salary used)."""
    if "base_salary" in managers.columns:
        given = pd.to_numeric(managers["base_salary"], errors="coerce").notna()
    else:
        given = pd.Series(False, index=managers.index)
    problems = []
    for row, level, has_salary in zip(
        _rows(managers), text(managers, "staff_level"), given, strict=True
    ):
        if level and not has_salary and level not in policy.payout.base_salary:
            problems.append(
                Problem(
                    file,
                    f"staff level {level!r} has no entry in payout.base_salary: the base salary "
                    f"is payout.default_base_salary ({policy.payout.default_base_salary:g})",
                    "add the level to [payout.base_salary], or give base_salary",
                    row,
                    "staff_level",
                    Severity.WARNING,
                )
            )
    return problems


PORTFOLIO_TYPES = ("premium", "separate_ledger", "standard")


def assignment_problems(
    assignment: pd.DataFrame,
    customers: pd.DataFrame,
    managers: pd.DataFrame,
    file: str = "assignment.csv",
) -> list[Problem]:
    """What keeps an assignment from being paid: unknown or repeated customers, unknown
    managers, unknown portfolio types (the hard rules are the plan checker's business)."""
    problems = _missing_columns(assignment, ("customer_id", "manager_id"), file)
    if problems:
        return problems
    known_customers = set(text(customers, "customer_id"))
    problems += _unknown_ids(
        assignment, "customer_id", known_customers, "customer", "customers", file
    )
    problems += _unknown_ids(
        assignment, "manager_id", set(text(managers, "manager_id")), "manager", "managers", file
    )
    ids = text(assignment, "customer_id")
    problems += [
        Problem(
            file,
            f"customer {ids.iloc[i]!r} is assigned twice",
            "keep one row",
            i + 2,
            "customer_id",
        )
        for i in ids.duplicated().to_numpy().nonzero()[0]
    ]
    missing = sorted(known_customers - set(ids))
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        problems.append(
            Problem(
                file,
                f"{len(missing)} customer(s) are in no portfolio ({shown}): their income counts "
                "for no manager",
                "add a row for each, or check that the plan is complete",
                severity=Severity.WARNING,
            )
        )
    for row, kind in zip(_rows(assignment), text(assignment, "portfolio_type"), strict=True):
        if kind and kind not in PORTFOLIO_TYPES:
            problems.append(
                Problem(
                    file,
                    f"portfolio_type {kind!r} is not one of {', '.join(PORTFOLIO_TYPES)}",
                    "correct it, or leave it blank to take it from the manager",
                    row,
                    "portfolio_type",
                )
            )
    return problems


def duplicate_ids(frame: pd.DataFrame, column: str, file: str) -> list[Problem]:
    """Ids that appear more than once (the payout model indexes by them)."""
    ids = text(frame, column)
    return [
        Problem(file, f"{column} {ids.iloc[i]!r} appears twice", "keep one row", i + 2, column)
        for i in ids.duplicated().to_numpy().nonzero()[0]
    ]


def validate_payout_inputs(
    customers: pd.DataFrame,
    managers: pd.DataFrame,
    actuals: pd.DataFrame,
    adjustments: pd.DataFrame,
    credits: pd.DataFrame,
    policy: Policy,
    files: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Every problem with the payout inputs, errors and warnings, in table order.

    Parameters
    ----------
    customers, managers, actuals, adjustments, credits
        The tables as loaded (rows in file order); empty frames for absent tables.
    policy
        The policy (``payout`` section; the payout year for period checks).
    files
        File name per table (``customers``, ..., and ``policy``) for the messages; defaults to
        ``<table>.csv`` and ``scenario.toml``.

    Returns
    -------
    list of Problem
        Errors: actuals for unknown customers, periods that are not ``YYYY``/``YYYYQn`` or are
        outside the payout year, adjustments for unknown managers or bad periods, credits for
        unknown customers or managers, shares outside 0..1 or adding up to more than 1 for one
        customer, negative rates, growth below -100%, text in number columns. Warnings: unknown
        adjustment kinds, staff levels without a base salary.
    """
    names = {**DEFAULT_FILES, **(files or {})}
    customer_ids = set(text(customers, "customer_id"))
    manager_ids = set(text(managers, "manager_id"))
    year = payout_year(policy, actuals)
    year_is_set = policy.payout.year is not None
    return [
        *policy_problems(policy, names["policy"]),
        *salary_problems(managers, policy, names["managers"]),
        *actuals_problems(actuals, customer_ids, year, year_is_set, names["actuals"]),
        *adjustments_problems(adjustments, manager_ids, year, year_is_set, names["adjustments"]),
        *stops_before_actuals(adjustments, actuals, year, names["adjustments"]),
        *credits_problems(credits, customer_ids, manager_ids, names["credits"]),
    ]
