"""The payout of a plan: targets, credits, realised profit, tiers, settlement, income.

Order of work: customers' targets (with ``unit_target``) -> credits split each customer's
targets and income between managers -> realised profit per manager and period (actuals, or
the forecast) -> three tiers per period (year-to-date for quarters) -> adjustments and
settlement -> base salary + performance pay x score / 1000.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from portfolio_opt.payout.adjustments import year_adjustments
from portfolio_opt.payout.bases import BASE_COLUMNS
from portfolio_opt.payout.cents import round_money, to_cents
from portfolio_opt.payout.credits import credit_shares, split_by_shares
from portfolio_opt.payout.frames import flags, text
from portfolio_opt.payout.periods import cumulative_weights, payout_year, quarter_label
from portfolio_opt.payout.realised import Realised, realised_income
from portfolio_opt.payout.salary import actual_income, base_salaries, management_scores
from portfolio_opt.payout.settlement import YEAR, SettledRow, Tiers, settle
from portfolio_opt.payout.targets import INCREMENT_COLUMNS, Reconciliation, reconciled_targets
from portfolio_opt.payout.tiers import TierRates, portfolio_tiers, tier_rates
from portfolio_opt.payout.validate import validate_payout_inputs
from portfolio_opt.problems import Problem, ScenarioError, Severity
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.policy import INCOME_TYPES

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
PORTFOLIO_TYPES = ("premium", "separate_ledger", "standard")


@dataclass
class PayoutResult:
    """The payout of one plan.

    ``table``: payout.csv, one row per manager and period (quarters with actuals, then the
    year), the SPEC columns first, then the traceability columns. ``adjustments_applied``: one
    row per adjustment that changed a row (a stop with the amount it forfeited).
    ``warnings``: things a planner should know (nothing that stopped the computation).
    """

    table: pd.DataFrame
    adjustments_applied: pd.DataFrame
    year: int
    warnings: list[Problem] = field(default_factory=list)
    reconciliation: Reconciliation | None = None


def _plan(assignment: pd.DataFrame, managers: pd.DataFrame) -> pd.DataFrame:
    """customer_id, manager_id, portfolio_type; a blank type comes from the manager's flags."""
    flagged = pd.Series(
        [
            "separate_ledger" if sl else "premium" if pr else "standard"
            for sl, pr in zip(
                flags(managers, "separate_ledger"), flags(managers, "premium"), strict=True
            )
        ],
        index=text(managers, "manager_id").to_numpy(),
    )
    plan = pd.DataFrame(
        {
            "customer_id": text(assignment, "customer_id").to_numpy(),
            "manager_id": text(assignment, "manager_id").to_numpy(),
            "portfolio_type": text(assignment, "portfolio_type").to_numpy(),
        }
    )
    blank = plan["portfolio_type"] == ""
    plan.loc[blank, "portfolio_type"] = plan.loc[blank, "manager_id"].map(flagged).to_numpy()
    return plan


def _assignment_problems(assignment: pd.DataFrame, scenario: Scenario) -> list[Problem]:
    file = "assignment.csv"
    problems = [
        Problem(file, f"column {c} is missing", f"add a {c} column", column=c)
        for c in ("customer_id", "manager_id")
        if c not in assignment.columns
    ]
    if problems:
        return problems
    customers = set(text(scenario.customers, "customer_id"))
    managers = set(text(scenario.managers, "manager_id"))
    seen: set[str] = set()
    rows = zip(
        range(2, len(assignment) + 2),
        text(assignment, "customer_id"),
        text(assignment, "manager_id"),
        text(assignment, "portfolio_type"),
        strict=True,
    )
    for row, customer, manager, kind in rows:
        if customer not in customers:
            problems.append(Problem(file, f"customer {customer!r} is not in customers", "", row))
        if customer in seen:
            problems.append(Problem(file, f"customer {customer!r} is assigned twice", "", row))
        if manager not in managers:
            problems.append(Problem(file, f"manager {manager!r} is not in managers", "", row))
        if kind and kind not in PORTFOLIO_TYPES:
            problems.append(
                Problem(
                    file,
                    f"portfolio_type {kind!r} is not one of {', '.join(PORTFOLIO_TYPES)}",
                    "",
                    row,
                    "portfolio_type",
                )
            )
        seen.add(customer)
    return problems


def _duplicate_ids(frame: pd.DataFrame, column: str, file: str) -> list[Problem]:
    ids = text(frame, column)
    return [
        Problem(file, f"{column} {ids.iloc[i]!r} appears twice", "keep one row", i + 2, column)
        for i in ids.duplicated().to_numpy().nonzero()[0]
    ]


def payout_problems(scenario: Scenario, assignment: pd.DataFrame) -> list[Problem]:
    """Every problem that :func:`compute_payout` would refuse (errors) or mention (warnings)."""
    files = {table: path.name for table, path in scenario.files.items()}
    return [
        *_duplicate_ids(scenario.customers, "customer_id", files.get("customers", "customers.csv")),
        *_duplicate_ids(scenario.managers, "manager_id", files.get("managers", "managers.csv")),
        *validate_payout_inputs(
            scenario.customers,
            scenario.managers,
            scenario.actuals,
            scenario.adjustments,
            scenario.credits,
            scenario.policy,
            files,
        ),
        *_assignment_problems(assignment, scenario),
    ]


def _paid_managers(managers: pd.DataFrame, plan: pd.DataFrame, shares: pd.DataFrame) -> list[str]:
    """Available managers plus anyone holding or credited with a customer, in table order."""
    ids = text(managers, "manager_id")
    involved = set(plan["manager_id"]) | set(shares["manager_id"])
    keep = flags(managers, "available", default=True) | ids.isin(involved)
    return list(ids[keep])


def _by_type(per_manager: pd.DataFrame, managers: list[str], suffix: str = "") -> pd.DataFrame:
    frame = per_manager.reindex(managers, fill_value=0.0)
    frame.columns = [str(c).removesuffix(suffix) for c in frame.columns]
    return frame[list(INCOME_TYPES)]


def _cents(tiers: pd.DataFrame) -> dict[str, Tiers]:
    cents = to_cents(tiers).astype("int64")
    return {
        m: Tiers(int(row.target_income), int(row.increment_income), int(row.excess_income))
        for m, row in zip(cents.index, cents.itertuples(index=False), strict=True)
    }


@dataclass
class _Periods:
    """Per manager: YTD tiers per quarter row, the year's tiers, and the figures behind them."""

    quarter_tiers: dict[int, dict[str, Tiers]]
    year_tiers: dict[str, Tiers]
    realised: dict[int, pd.Series]  # YTD realised per quarter; YEAR: the year's
    weight: dict[int, float]  # YTD share of the targets per quarter; YEAR: the year's


def _period_tiers(
    realised: Realised,
    shares: pd.DataFrame,
    managers: list[str],
    stock: pd.DataFrame,
    increment: pd.DataFrame,
    rates: pd.Series,
    quarter_weights: list[float],
) -> _Periods:
    weights = cumulative_weights(quarter_weights)
    periods = _Periods({}, {}, {}, {})
    for quarter in realised.quarters:
        ytd = _by_type(split_by_shares(realised.ytd[quarter], shares), managers)
        w = weights[quarter - 1]
        periods.quarter_tiers[quarter] = _cents(
            portfolio_tiers(ytd, stock * w, increment * w, rates)
        )
        periods.realised[quarter] = ytd.sum(axis=1)
        periods.weight[quarter] = w
    if realised.year is None:
        year = stock + increment
    else:
        year = _by_type(split_by_shares(realised.year, shares), managers)
    w = 1.0 if realised.full_year else weights[realised.quarters[-1] - 1]
    periods.year_tiers = _cents(portfolio_tiers(year, stock * w, increment * w, rates))
    periods.realised[YEAR] = year.sum(axis=1)
    periods.weight[YEAR] = w
    return periods


def _row_of(quarter: int, quarters: list[int]) -> int:
    """The row an adjustment of ``quarter`` lands in: the next quarter row, else the year."""
    if quarter == YEAR:
        return YEAR
    return next((q for q in quarters if q >= quarter), YEAR)


def _applied(
    adjustments: pd.DataFrame, settled: list[SettledRow], year: int, quarters: list[int]
) -> list[dict[str, object]]:
    """Trace rows for one manager: amounts as applied, stops with what they forfeited."""
    forfeited = {row.quarter: row.forfeited for row in settled}
    records = []
    for adj in adjustments.itertuples(index=False):
        row = _row_of(int(adj.quarter), quarters)
        if adj.kind == "stop":
            if row != adj.quarter:
                continue
            amount = -forfeited[row] / 100
        else:
            amount = float(adj.amount)
        records.append(
            {
                "manager_id": adj.manager_id,
                "period": str(year) if row == YEAR else quarter_label(year, row),
                "adjustment_period": adj.period,
                "kind": adj.kind,
                "amount": amount,
                "note": adj.note,
                "source_row": int(adj.source_row),
            }
        )
    return records


def _describe(records: list[dict[str, object]], period: str) -> str:
    parts = []
    for r in records:
        if r["period"] != period:
            continue
        note = f" ({r['note']})" if r["note"] else ""
        parts.append(f"{r['kind']} {float(r['amount']):+.2f}{note} [{r['adjustment_period']}]")  # type: ignore[arg-type]
    return "; ".join(parts)


def _adjustment_warnings(
    adjustments: pd.DataFrame, managers: list[str], quarters: list[int], file: str
) -> list[Problem]:
    warnings = []
    for adj in adjustments.itertuples(index=False):
        if adj.manager_id not in managers:
            warnings.append(
                Problem(
                    file,
                    f"manager {adj.manager_id!r} is not available and holds no customer: "
                    f"the adjustment is not applied",
                    "",
                    int(adj.source_row),
                    "manager_id",
                    Severity.WARNING,
                )
            )
        elif adj.kind == "stop" and adj.quarter != YEAR and adj.quarter not in quarters:
            warnings.append(
                Problem(
                    file,
                    f"there is no payout row for {adj.period} (no actuals for that quarter): "
                    f"the stop is not applied",
                    "add the quarter's actuals, or stop the year instead",
                    int(adj.source_row),
                    "period",
                    Severity.WARNING,
                )
            )
    return warnings


def _coverage_warnings(scenario: Scenario, plan: pd.DataFrame, year: int) -> list[Problem]:
    warnings = []
    planned = set(plan["customer_id"])
    missing = [c for c in text(scenario.customers, "customer_id") if c not in planned]
    if missing:
        warnings.append(
            Problem(
                "assignment.csv",
                f"{len(missing)} customer(s) are not in the assignment, so nobody is paid for "
                f"them: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}",
                "",
                severity=Severity.WARNING,
            )
        )
    for table in ("credits", "actuals"):
        frame = getattr(scenario, table)
        ids = text(frame, "customer_id")
        rows = [i + 2 for i in (~ids.isin(planned) & ids.ne("")).to_numpy().nonzero()[0]]
        if rows:
            name = scenario.files[table].name if table in scenario.files else f"{table}.csv"
            warnings.append(
                Problem(
                    name,
                    f"{len(rows)} row(s) are for customers outside the assignment and are "
                    f"ignored (rows {', '.join(map(str, rows[:10]))}"
                    f"{' ...' if len(rows) > 10 else ''})",
                    "",
                    rows[0],
                    "customer_id",
                    Severity.WARNING,
                )
            )
    return warnings


def compute_payout(scenario: Scenario, assignment: pd.DataFrame) -> PayoutResult:
    """Targets, realised profit and pay of every manager under ``assignment``.

    Parameters
    ----------
    scenario
        The scenario (policy, customers, managers, actuals, adjustments, credits).
    assignment
        Columns ``customer_id``, ``manager_id``, ``portfolio_type`` (premium, separate_ledger,
        standard; blank or missing: from the manager's flags). Separate-ledger portfolios use
        ``[payout.separate_ledger]`` rates.

    Returns
    -------
    PayoutResult
        Rows for every available manager (base salary only without customers) and anyone
        holding or credited with a customer: a row per quarter with actuals (``YYYYQn``),
        then the yearly row ``YYYY``.

    Raises
    ------
    ScenarioError
        With every problem at once, when the inputs or the assignment have errors.
    """
    problems = payout_problems(scenario, assignment)
    if any(p.is_error for p in problems):
        raise ScenarioError(problems)
    policy = scenario.policy
    year = payout_year(policy, scenario.actuals)
    plan = _plan(assignment, scenario.managers)
    shares = credit_shares(plan, scenario.credits)
    managers = _paid_managers(scenario.managers, plan, shares)
    portfolio_type = (
        plan.drop_duplicates("manager_id")
        .set_index("manager_id")["portfolio_type"]
        .reindex(managers)
        .fillna(_plan(pd.DataFrame({"manager_id": managers}), scenario.managers)
                .set_index("manager_id")["portfolio_type"])
    )
    rates = pd.Series(
        [tier_rates(policy, t) for t in portfolio_type], index=managers, dtype=object
    )
    per_customer, reconciliation = reconciled_targets(scenario.customers, policy)
    stock = _by_type(split_by_shares(per_customer[list(BASE_COLUMNS)], shares), managers, "_base")
    increment = _by_type(
        split_by_shares(per_customer[list(INCREMENT_COLUMNS)], shares), managers, "_increment"
    )
    realised = realised_income(scenario.actuals, year, policy.payout.fx_rate)
    periods = _period_tiers(
        realised, shares, managers, stock, increment, rates, policy.payout.quarter_weights
    )
    adjustments = year_adjustments(scenario.adjustments, year)
    salary = base_salaries(scenario.managers, policy)
    score = management_scores(scenario.managers, policy)

    by_manager: dict[str, pd.DataFrame] = dict(tuple(adjustments.groupby("manager_id")))
    rows, applied = [], []
    quarters = realised.quarters
    for manager in managers:
        own = by_manager.get(manager, adjustments.iloc[0:0])
        amounts: dict[int, int] = defaultdict(int)
        for q, amount in zip(own["quarter"], own["amount"], strict=True):
            amounts[int(q)] += int(to_cents(float(amount)))
        stops = {int(q) for q, k in zip(own["quarter"], own["kind"], strict=True) if k == "stop"}
        settled = settle(
            {q: periods.quarter_tiers[q][manager] for q in quarters},
            periods.year_tiers[manager],
            amounts,
            stops,
        )
        records = _applied(own, settled, year, quarters)
        applied += records
        previous_weight, previous_realised = 0.0, 0.0
        for row in settled:
            quarterly = row.quarter != YEAR
            period = quarter_label(year, row.quarter) if quarterly else str(year)
            weight = periods.weight[row.quarter] - (previous_weight if quarterly else 0.0)
            realised_here = float(periods.realised[row.quarter][manager]) - (
                previous_realised if quarterly else 0.0
            )
            if quarterly:
                previous_weight = periods.weight[row.quarter]
                previous_realised = float(periods.realised[row.quarter][manager])
            yearly_salary = float(salary[manager])
            base = yearly_salary / 4 if quarterly else yearly_salary
            pay = row.performance_pay / 100
            stock_total = float(stock.loc[manager].sum())
            increment_total = float(increment.loc[manager].sum())
            rows.append(
                {
                    "manager_id": manager,
                    "period": period,
                    "base_salary": base,
                    "target_income": row.tiers.target / 100,
                    "increment_income": row.tiers.increment / 100,
                    "excess_income": row.tiers.excess / 100,
                    "adjustments": row.adjustments / 100,
                    "performance_pay": pay,
                    "management_score": float(score[manager]),
                    "actual_income": actual_income(base, pay, float(score[manager])),
                    "portfolio_type": portfolio_type[manager],
                    "realised_profit": realised_here,
                    "stock_target": stock_total * weight,
                    "increment_target": increment_total * weight,
                    "target": (stock_total + increment_total) * weight,
                    "paid_before": row.paid_before / 100,
                    "carried_forward": row.carried_forward / 100,
                    "applied_adjustments": _describe(records, period),
                }
            )
    table = pd.DataFrame(rows, columns=[*PAYOUT_COLUMNS, *TRACE_COLUMNS])
    money = [
        c for c in table.columns
        if c not in ("manager_id", "period", "management_score", "portfolio_type",
                     "applied_adjustments")
    ]
    table[money] = round_money(table[money].astype(float))
    table["management_score"] = table["management_score"].astype(float)

    adjustments_file = (
        scenario.files["adjustments"].name if "adjustments" in scenario.files else "adjustments.csv"
    )
    warnings = [p for p in problems if not p.is_error]
    warnings += _coverage_warnings(scenario, plan, year)
    warnings += _adjustment_warnings(adjustments, managers, quarters, adjustments_file)
    if reconciliation is not None and reconciliation.method != "scaled":
        warnings.append(
            Problem(
                "scenario.toml",
                reconciliation.message,
                "check payout.unit_target against the customers' bases",
                column="payout.unit_target",
                severity=Severity.WARNING,
            )
        )
    return PayoutResult(
        table=table,
        adjustments_applied=pd.DataFrame(applied, columns=list(APPLIED_COLUMNS)),
        year=year,
        warnings=warnings,
        reconciliation=reconciliation,
    )


