"""The plan: an assignment of customers to managers, its hard-rule checker and its KPIs.

Nothing here uses the optimisation model: the checker is the independent judge of every plan.
"""

from portfolio_opt.plan.checker import Violation, check_plan, customer_targets, find_groups
from portfolio_opt.plan.io import read_assignment
from portfolio_opt.plan.kpis import coefficient_of_variation, compute_kpis, gini

__all__ = [
    "Violation",
    "check_plan",
    "coefficient_of_variation",
    "compute_kpis",
    "customer_targets",
    "find_groups",
    "gini",
    "read_assignment",
]
