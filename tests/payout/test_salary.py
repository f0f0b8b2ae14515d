import pytest

from portfolio_opt.payout.salary import (
    actual_income,
    base_salaries,
    management_scores,
    quarter_salary,
)
from portfolio_opt.scenario.policy import Policy

from .builders import table


def test_base_salary_given_else_by_staff_level_else_default():
    managers = table(
        "managers",
        [
            {"manager_id": "given", "grade": "A", "staff_level": "senior", "base_salary": 1},
            {"manager_id": "level", "grade": "A", "staff_level": "senior"},
            {"manager_id": "default", "grade": "A", "staff_level": "intern"},
        ],
    )
    policy = Policy.model_validate(
        {"payout": {"base_salary": {"senior": 100}, "default_base_salary": 10}}
    )
    assert base_salaries(managers, policy).to_dict() == {"given": 1, "level": 100, "default": 10}


def test_score_own_else_default():
    managers = table(
        "managers",
        [
            {"manager_id": "own", "grade": "A", "management_score": 0},
            {"manager_id": "default", "grade": "A"},
        ],
    )
    policy = Policy.model_validate({"payout": {"default_score": 850}})
    assert management_scores(managers, policy).to_dict() == {"own": 0, "default": 850}


def test_actual_income_formula():
    assert actual_income(10_000, 2_000, 900) == 11_800


@pytest.mark.parametrize("yearly", [10_000.03, 99_999.99, 120_000.0, 0.01, 0.0])
def test_the_quarters_base_salaries_add_up_to_the_year(yearly: float) -> None:
    quarters = [quarter_salary(yearly, q) for q in (1, 2, 3, 4)]
    assert round(sum(quarters), 2) == yearly
    assert max(quarters) - min(quarters) <= 0.01 + 1e-9
    assert quarters == sorted(quarters, reverse=True)  # odd cents in the earlier quarters
