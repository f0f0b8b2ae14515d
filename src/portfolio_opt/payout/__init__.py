"""The payout model: bases, targets, tiers, credits, settlement. Pure functions, no solver.

Usable on the optimiser's plan, on a hand-made plan, and from a notebook::

    from portfolio_opt.payout import compute_payout, customer_targets
    result = compute_payout(scenario, assignment)
    result.table  # payout.csv
"""

from portfolio_opt.payout.bases import customer_bases, income_bases
from portfolio_opt.payout.compute import (
    PayoutResult,
    compute_payout,
    manager_types,
    payout_problems,
)
from portfolio_opt.payout.credits import credit_shares, split_by_shares
from portfolio_opt.payout.periods import Period, parse_period, payout_year
from portfolio_opt.payout.realised import Realised, realised_income
from portfolio_opt.payout.salary import actual_income, base_salaries, management_scores
from portfolio_opt.payout.settlement import SettledRow, Tiers, settle
from portfolio_opt.payout.targets import (
    Reconciliation,
    customer_growth,
    customer_targets,
    portfolio_targets,
    reconcile_increments,
    reconciled_targets,
    target_reconciliation,
)
from portfolio_opt.payout.tiers import TierRates, portfolio_tiers, tier_income, tier_rates
from portfolio_opt.payout.validate import assignment_problems, validate_payout_inputs

__all__ = [
    "PayoutResult",
    "Period",
    "Realised",
    "Reconciliation",
    "SettledRow",
    "TierRates",
    "Tiers",
    "actual_income",
    "assignment_problems",
    "base_salaries",
    "compute_payout",
    "credit_shares",
    "customer_bases",
    "customer_growth",
    "customer_targets",
    "income_bases",
    "management_scores",
    "manager_types",
    "parse_period",
    "payout_problems",
    "payout_year",
    "portfolio_targets",
    "portfolio_tiers",
    "realised_income",
    "reconcile_increments",
    "reconciled_targets",
    "settle",
    "split_by_shares",
    "target_reconciliation",
    "tier_income",
    "tier_rates",
    "validate_payout_inputs",
]
