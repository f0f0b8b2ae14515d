"""portfolios.csv: one row per available manager, every portfolio_type one SPEC allows."""

from __future__ import annotations

from plan.builders import make_scenario, plan
from portfolio_opt.report.tables import portfolios_table


def test_an_empty_portfolio_has_its_managers_designated_type_or_standard() -> None:
    scenario = make_scenario(
        [
            {"customer_id": "P1", "customer_class": "premium", "interest_income": 100},
            {"customer_id": "S1", "customer_class": "key", "interest_income": 100},
        ],
        [
            {"manager_id": "A1", "grade": "A", "premium": True},
            {"manager_id": "A2", "grade": "A", "premium": True},
            {"manager_id": "L1", "grade": "C", "separate_ledger": True},
            {"manager_id": "M1", "grade": "B"},
            {"manager_id": "M2", "grade": "B"},
        ],
    )
    table = portfolios_table(plan({"A1": ["P1"], "M1": ["S1"]}), scenario)
    types = dict(zip(table["manager_id"], table["portfolio_type"], strict=True))
    assert types == {
        "A1": "premium",
        "A2": "premium",
        "L1": "separate_ledger",
        "M1": "standard",
        "M2": "standard",
    }


def test_an_unavailable_manager_holding_customers_in_an_edited_plan_has_a_row() -> None:
    """A plan edited to give S2 to MX, who left: MX is shown holding it (the broken rule is
    the checker's to count); an unavailable manager holding nothing has no row."""
    scenario = make_scenario(
        [
            {"customer_id": "S1", "customer_class": "key", "interest_income": 100},
            {"customer_id": "S2", "customer_class": "key", "interest_income": 50},
        ],
        [
            {"manager_id": "M1", "grade": "B"},
            {"manager_id": "MX", "grade": "B", "available": False},
            {"manager_id": "MY", "grade": "B", "available": False},
        ],
    )
    table = portfolios_table(plan({"M1": ["S1"], "MX": ["S2"]}), scenario).set_index("manager_id")
    assert list(table.index) == ["M1", "MX"]
    assert table.loc["MX", "n_customers"] == 1 and table.loc["MX", "stock_target"] == 50
