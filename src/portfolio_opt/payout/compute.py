"""The payout of a plan: targets, credits, realised profit, tiers, settlement, income.

Order of work: customers' targets (with ``unit_target``) -> credits split each customer's
targets and income between managers -> realised profit per manager and period (actuals, or
the forecast) -> three tiers per period (year-to-date for quarters) -> adjustments and
settlement -> base salary + performance pay x score / 1000.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pandas as pd

from portfolio_opt.payout.adjustments import year_adjustments
from portfolio_opt.payout.bases import BASE_COLUMNS
from portfolio_opt.payout.cents import round_money, to_cents
from portfolio_opt.payout.credits import credit_shares, split_by_shares
from portfolio_opt.payout.frames import flags, text
from portfolio_opt.payout.notices import (
    credits_to_unavailable,
    rows_outside_plan,
    unapplied_adjustments,
    unit_target_notice,
)
from portfolio_opt.payout.periods import cumulative_weights, payout_year, quarter_label
from portfolio_opt.payout.realised import realised_income
from portfolio_opt.payout.salary import (
    actual_income,
    base_salaries,
    management_scores,
    quarter_salary,
)
from portfolio_opt.payout.settlement import YEAR, SettledRow, Tiers, settle
from portfolio_opt.payout.targets import INCREMENT_COLUMNS, Reconciliation, reconciled_targets
from portfolio_opt.payout.tiers import portfolio_tiers, tier_rates
from portfolio_opt.payout.validate import (
    assignment_problems,
    duplicate_ids,
    validate_payout_inputs,
)
from portfolio_opt.plan.types import customer_type, held_type
from portfolio_opt.problems import Problem, ScenarioError, Severity
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.policy import INCOME_TYPES, policy_key_line

PAYOUT_COLUMNS = (
    "manager_id",
    "period",
    "base_salary",
    "target_income",
    "increment_income",
    "excess_income",
    "adjustments",
    "performance_pay",
    "management_score",
    "actual_income",
)
TRACE_COLUMNS = (
    "portfolio_type",
    "realised_profit",
    "stock_target",
    "increment_target",
    "target",
    "paid_before",
    "year_end_payment",
    "carried_forward",
    "applied_adjustments",
)
APPLIED_COLUMNS = (
    "manager_id",
    "period",
    "adjustment_period",
    "kind",
    "amount",
    "note",
    "source_row",
)
_NOT_MONEY = {"manager_id", "period", "management_score", "portfolio_type", "applied_adjustments"}


@dataclass
class PayoutResult:
    """The payout of one plan.

    ``table``: payout.csv, one row per manager and period (quarters with actuals, then the
    year), the SPEC columns first, then the traceability columns. ``adjustments_applied``: one
    row per adjustment that changed a row (a stop with the amount it forfeited).
    ``warnings``: what a planner should know; nothing that stopped the computation.
    """

    table: pd.DataFrame
    adjustments_applied: pd.DataFrame
    year: int
    warnings: list[Problem] = field(default_factory=list)
    reconciliation: Reconciliation | None = None


@dataclass
class _Figures:
    """Per manager (rows) and income type: stock and increment after credits, realised profit
    year-to-date per quarter row and for the year, and the share of the targets each covers."""

    stock: pd.DataFrame
    increment: pd.DataFrame
    realised: dict[int, pd.DataFrame]  # quarter -> YTD; YEAR -> the year
    weight: dict[int, float]  # quarter -> YTD share of the year's targets; YEAR -> the year's


def _file(scenario: Scenario, table: str) -> str:
    path = scenario.files.get(table)
    return path.name if path is not None else f"{table}.csv"


def payout_problems(
    scenario: Scenario, assignment: pd.DataFrame, assignment_file: str = "assignment.csv"
) -> list[Problem]:
    """Every error that stops :func:`compute_payout`, and the input warnings."""
    files = {table: path.name for table, path in scenario.files.items()}
    return [
        *duplicate_ids(scenario.customers, "customer_id", _file(scenario, "customers")),
        *duplicate_ids(scenario.managers, "manager_id", _file(scenario, "managers")),
        *validate_payout_inputs(
            scenario.customers,
            scenario.managers,
            scenario.actuals,
            scenario.adjustments,
            scenario.credits,
            scenario.policy,
            files,
        ),
        *assignment_problems(assignment, scenario.customers, scenario.managers, assignment_file),
        *type_mismatches(scenario, assignment, assignment_file),
    ]


def manager_types(managers: pd.DataFrame) -> pd.Series:
    """Portfolio type a manager's flags imply: separate_ledger, premium or standard."""
    kinds = [
        "separate_ledger" if ledger else "premium" if premium else "standard"
        for ledger, premium in zip(
            flags(managers, "separate_ledger"), flags(managers, "premium"), strict=True
        )
    ]
    return pd.Series(kinds, index=text(managers, "manager_id").to_numpy(), dtype=str)


def customer_kinds(scenario: Scenario) -> dict[str, str]:
    """customer_id -> the portfolio type the customer makes (see :func:`customer_type`)."""
    customers = scenario.customers
    ids = text(customers, "customer_id").to_numpy()
    premium = text(customers, "customer_class") == scenario.policy.classes.premium_class
    return dict(
        zip(ids, map(customer_type, premium, flags(customers, "separate_ledger")), strict=True)
    )


def held_types(scenario: Scenario, assignment: pd.DataFrame) -> pd.Series:
    """manager_id -> the portfolio type its customers make (see :func:`held_type`)."""
    kind_of = customer_kinds(scenario)
    kinds: dict[str, list[str]] = {}
    for cid, mid in zip(
        text(assignment, "customer_id"), text(assignment, "manager_id"), strict=True
    ):
        kinds.setdefault(mid, []).append(kind_of.get(cid, "standard"))
    flagged = manager_types(scenario.managers)
    return pd.Series(
        {mid: held_type(held, flagged.get(mid, "standard")) for mid, held in kinds.items()},
        dtype=str,
    )


def type_mismatches(
    scenario: Scenario, assignment: pd.DataFrame, assignment_file: str
) -> list[Problem]:
    """Rows whose portfolio_type says other than the manager's customers make it: the
    customers win (a relabelled plan must not change anyone's pay rates)."""
    held = held_types(scenario, assignment)
    out, said = [], set()  # one warning a manager
    for row, (mid, given) in enumerate(
        zip(text(assignment, "manager_id"), text(assignment, "portfolio_type"), strict=True),
        start=2,
    ):
        if given and mid in held.index and given != held[mid] and mid not in said:
            said.add(mid)
            out.append(
                Problem(
                    assignment_file,
                    f"portfolio_type {given!r}, but manager {mid}'s customers make the portfolio "
                    f"{held[mid]}: paid as {held[mid]}",
                    "correct the column, or leave it blank",
                    row,
                    "portfolio_type",
                    Severity.WARNING,
                )
            )
    return out


def _plan(assignment: pd.DataFrame, types: pd.Series, implied: pd.Series) -> pd.DataFrame:
    """customer_id, manager_id, portfolio_type: the type the manager's customers make
    (``types``), or for a manager without customers the one its flags imply."""
    plan = pd.DataFrame(
        {
            "customer_id": text(assignment, "customer_id").to_numpy(),
            "manager_id": text(assignment, "manager_id").to_numpy(),
        }
    )
    plan["portfolio_type"] = plan["manager_id"].map(types).fillna(plan["manager_id"].map(implied))
    return plan


def _paid_managers(managers: pd.DataFrame, plan: pd.DataFrame, shares: pd.DataFrame) -> list[str]:
    """Available managers plus anyone holding or credited with a customer, in table order."""
    ids = text(managers, "manager_id")
    involved = set(plan["manager_id"]) | set(shares["manager_id"])
    return list(ids[flags(managers, "available", default=True) | ids.isin(involved)])


def _by_type(per_manager: pd.DataFrame, managers: list[str], suffix: str = "") -> pd.DataFrame:
    frame = per_manager.reindex(managers, fill_value=0.0)
    frame.columns = [str(c).removesuffix(suffix) for c in frame.columns]
    return frame[list(INCOME_TYPES)]


def _figures(
    scenario: Scenario, shares: pd.DataFrame, managers: list[str], year: int
) -> tuple[_Figures, Reconciliation | None]:
    policy = scenario.policy
    per_customer, reconciliation = reconciled_targets(scenario.customers, policy)
    stock = _by_type(split_by_shares(per_customer[list(BASE_COLUMNS)], shares), managers, "_base")
    increment = _by_type(
        split_by_shares(per_customer[list(INCREMENT_COLUMNS)], shares), managers, "_increment"
    )
    actuals = realised_income(scenario.actuals, year, policy.payout.fx_rate)
    weights = cumulative_weights(policy.payout.quarter_weights)
    figures = _Figures(stock, increment, {}, {})
    for quarter in actuals.quarters:
        figures.realised[quarter] = _by_type(
            split_by_shares(actuals.ytd[quarter], shares), managers
        )
        figures.weight[quarter] = weights[quarter - 1]
    if actuals.year is None:
        figures.realised[YEAR] = stock + increment
    else:
        figures.realised[YEAR] = _by_type(split_by_shares(actuals.year, shares), managers)
    figures.weight[YEAR] = 1.0 if actuals.full_year else weights[actuals.quarters[-1] - 1]
    return figures, reconciliation


def _tiers(figures: _Figures, period: int, rates: pd.Series) -> dict[str, Tiers]:
    """The tiers in cents per manager for a period's (YTD) realised profit and targets."""
    w = figures.weight[period]
    tiers = portfolio_tiers(
        figures.realised[period], figures.stock * w, figures.increment * w, rates
    )
    cents = to_cents(tiers).astype("int64")
    return {
        m: Tiers(int(t), int(i), int(e))
        for m, t, i, e in zip(
            cents.index,
            cents["target_income"],
            cents["increment_income"],
            cents["excess_income"],
            strict=True,
        )
    }


def _row_of(quarter: int, quarters: list[int]) -> int:
    """The row an adjustment of ``quarter`` lands in: the next quarter row, else the year."""
    if quarter == YEAR:
        return YEAR
    return next((q for q in quarters if q >= quarter), YEAR)


def _label(year: int, quarter: int) -> str:
    return str(year) if quarter == YEAR else quarter_label(year, quarter)


@dataclass(frozen=True)
class _Applied:
    """One applied adjustment (a row of ``PayoutResult.adjustments_applied``)."""

    manager_id: str
    period: str
    adjustment_period: str
    kind: str
    amount: float
    note: str
    source_row: int

    def describe(self) -> str:
        note = f" ({self.note})" if self.note else ""
        return f"{self.kind} {self.amount:+.2f}{note} [{self.adjustment_period}]"


def _applied(
    adjustments: pd.DataFrame, settled: list[SettledRow], year: int, quarters: list[int]
) -> list[_Applied]:
    """Trace of one manager's adjustments: where each landed, stops with what they forfeited."""
    forfeited = {row.quarter: row.forfeited for row in settled}
    records = []
    for adj in adjustments.itertuples(index=False):
        row = _row_of(int(adj.quarter), quarters)
        if adj.kind == "stop" and row != adj.quarter:
            continue
        # pop: a second stop of the same period forfeits nothing more
        amount = -forfeited.pop(row, 0) / 100 if adj.kind == "stop" else float(adj.amount)
        records.append(
            _Applied(
                str(adj.manager_id),
                _label(year, row),
                str(adj.period),
                str(adj.kind),
                amount,
                str(adj.note),
                int(adj.source_row),
            )
        )
    return records


def _describe(records: list[_Applied], period: str | None) -> str:
    """The adjustments in a row as text; ``None``: all of them (the yearly row)."""
    return "; ".join(r.describe() for r in records if period is None or r.period == period)


def _settle_manager(
    manager: str,
    adjustments: pd.DataFrame,
    quarter_tiers: dict[int, dict[str, Tiers]],
    year_tiers: dict[str, Tiers],
) -> list[SettledRow]:
    amounts: dict[int, int] = {}
    for quarter, amount in zip(adjustments["quarter"], adjustments["amount"], strict=True):
        amounts[int(quarter)] = amounts.get(int(quarter), 0) + int(to_cents(float(amount)))
    stops = {
        int(q)
        for q, k in zip(adjustments["quarter"], adjustments["kind"], strict=True)
        if k == "stop"
    }
    return settle(
        {q: tiers[manager] for q, tiers in quarter_tiers.items()},
        year_tiers[manager],
        amounts,
        stops,
    )


def _rows(
    manager: str,
    settled: list[SettledRow],
    figures: _Figures,
    year: int,
    yearly_salary: float,
    score: float,
) -> list[dict[str, object]]:
    """The payout rows of one manager: quarters show their own part, the year its total."""
    stock = float(figures.stock.loc[manager].sum())
    increment = float(figures.increment.loc[manager].sum())
    rows = []
    before_weight = before_realised = 0.0
    for row in settled:
        weight = figures.weight[row.quarter]
        realised = float(figures.realised[row.quarter].loc[manager].sum())
        share, profit = weight, realised
        base = yearly_salary
        if row.quarter != YEAR:
            share, profit = weight - before_weight, realised - before_realised
            before_weight, before_realised = weight, realised
            base = quarter_salary(yearly_salary, row.quarter)
        pay = row.performance_pay / 100
        rows.append(
            {
                "manager_id": manager,
                "period": _label(year, row.quarter),
                "base_salary": base,
                "target_income": row.tiers.target / 100,
                "increment_income": row.tiers.increment / 100,
                "excess_income": row.tiers.excess / 100,
                "adjustments": row.adjustments / 100,
                "performance_pay": pay,
                "management_score": score,
                "actual_income": actual_income(base, pay, score),
                "realised_profit": profit,
                "stock_target": stock * share,
                "increment_target": increment * share,
                "target": (stock + increment) * share,
                "paid_before": row.paid_before / 100,
                # What the year's settlement pays on top of the advances, or recovers (< 0).
                "year_end_payment": (row.performance_pay - row.paid_before) / 100
                if row.quarter == YEAR
                else None,
                "carried_forward": row.carried_forward / 100,
            }
        )
    return rows


def compute_payout(
    scenario: Scenario, assignment: pd.DataFrame, assignment_file: str = "assignment.csv"
) -> PayoutResult:
    """Targets, realised profit and pay of every manager under ``assignment``.

    Parameters
    ----------
    scenario
        The scenario (policy, customers, managers, actuals, adjustments, credits).
    assignment
        Columns ``customer_id``, ``manager_id``, and optionally ``portfolio_type``. A
        portfolio's type is the one its customers make (see :func:`held_types`; a manager
        without customers: the one its flags imply); a ``portfolio_type`` that says otherwise
        is a warning. Separate-ledger portfolios use the ``[payout.separate_ledger]`` rates.
    assignment_file
        The plan's file name, as problems name it.

    Returns
    -------
    PayoutResult
        Rows for every available manager (base salary only without customers) and anyone
        holding or credited with a customer: one row per quarter with actuals (``YYYYQn``),
        then the yearly row ``YYYY``. Money is rounded to cents.

    Raises
    ------
    ScenarioError
        With every problem at once, when the inputs or the assignment have errors.
    """
    problems = payout_problems(scenario, assignment, assignment_file)
    if any(p.is_error for p in problems):
        raise ScenarioError(problems)
    policy = scenario.policy
    year = payout_year(policy, scenario.actuals)
    implied = manager_types(scenario.managers)
    plan = _plan(assignment, held_types(scenario, assignment), implied)
    shares = credit_shares(plan, scenario.credits)
    managers = _paid_managers(scenario.managers, plan, shares)
    held = plan.drop_duplicates("manager_id").set_index("manager_id")["portfolio_type"]
    portfolio_type = {m: held.get(m, implied.get(m, "standard")) for m in managers}
    rates = pd.Series([tier_rates(policy, portfolio_type[m]) for m in managers], index=managers)

    figures, reconciliation = _figures(scenario, shares, managers, year)
    quarters = [q for q in figures.realised if q != YEAR]
    quarter_tiers = {q: _tiers(figures, q, rates) for q in quarters}
    year_tiers = _tiers(figures, YEAR, rates)
    adjustments = year_adjustments(scenario.adjustments, year)
    salary = base_salaries(scenario.managers, policy)
    score = management_scores(scenario.managers, policy)

    rows: list[dict[str, object]] = []
    applied: list[_Applied] = []
    for manager in managers:
        own = adjustments[adjustments["manager_id"] == manager]
        settled = _settle_manager(manager, own, quarter_tiers, year_tiers)
        records = _applied(own, settled, year, quarters)
        applied += records
        for row in _rows(
            manager, settled, figures, year, float(salary[manager]), float(score[manager])
        ):
            yearly = row["period"] == str(year)
            row["portfolio_type"] = portfolio_type[manager]
            row["applied_adjustments"] = _describe(records, None if yearly else str(row["period"]))
            rows.append(row)

    table = pd.DataFrame(rows, columns=[*PAYOUT_COLUMNS, *TRACE_COLUMNS])
    money = [c for c in table.columns if c not in _NOT_MONEY]
    table[money] = round_money(table[money].astype(float))
    table["management_score"] = table["management_score"].astype(float)
    planned = set(plan["customer_id"])
    warnings = [
        *(p for p in problems if not p.is_error),
        *rows_outside_plan(scenario.actuals, planned, _file(scenario, "actuals")),
        *rows_outside_plan(scenario.credits, planned, _file(scenario, "credits")),
        *credits_to_unavailable(
            scenario.credits, scenario.managers, planned, _file(scenario, "credits")
        ),
        *unapplied_adjustments(adjustments, managers, _file(scenario, "adjustments")),
        *unit_target_notice(reconciliation, policy_key_line(scenario.root, "payout.unit_target")),
    ]
    return PayoutResult(
        table=table,
        adjustments_applied=pd.DataFrame(
            [dataclasses.astuple(a) for a in applied], columns=list(APPLIED_COLUMNS)
        ),
        year=year,
        warnings=warnings,
        reconciliation=reconciliation,
    )
