"""Base salary (基礎工資) and management score (管理考核得分) of each manager."""

from __future__ import annotations

import pandas as pd

from portfolio_opt.payout.cents import to_cents
from portfolio_opt.payout.frames import optional_numbers, text
from portfolio_opt.scenario.policy import Policy


def base_salaries(managers: pd.DataFrame, policy: Policy) -> pd.Series:
    """Yearly base salary: the manager's ``base_salary``, else ``payout.base_salary`` for its
    ``staff_level``, else ``payout.default_base_salary``. Index ``manager_id``."""
    by_level = text(managers, "staff_level").map(policy.payout.base_salary).astype(float)
    salary = (
        optional_numbers(managers, "base_salary")
        .fillna(by_level)
        .fillna(policy.payout.default_base_salary)
    )
    salary.index = pd.Index(text(managers, "manager_id").to_numpy(), name="manager_id")
    return salary.rename("base_salary")


def management_scores(managers: pd.DataFrame, policy: Policy) -> pd.Series:
    """Management score 0..1000: the manager's own, else ``payout.default_score``."""
    score = optional_numbers(managers, "management_score").fillna(policy.payout.default_score)
    score.index = pd.Index(text(managers, "manager_id").to_numpy(), name="manager_id")
    return score.rename("management_score")


def actual_income(base_salary: float, performance_pay: float, score: float) -> float:
    """實際收入 = 基礎工資 + 效益工資 x 管理考核得分 / 1000 (unrounded)."""
    return base_salary + performance_pay * score / 1000


def quarter_salary(yearly: float, quarter: int) -> float:
    """A quarter's part (1..4) of the yearly base salary, in whole cents: the four add up to
    the year, odd cents going to the earlier quarters (10,000.03: 2,500.01 in Q1-Q3, 2,500.00
    in Q4)."""
    each, left = divmod(int(to_cents(yearly)), 4)
    return (each + (quarter <= left)) / 100
