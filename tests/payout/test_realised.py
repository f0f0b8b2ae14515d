from portfolio_opt.payout.realised import realised_income

from .builders import table


def test_quarters_accumulate_year_to_date():
    actuals = table(
        "actuals",
        [
            {"customer_id": "A", "period": "2024Q1", "interest_income": 10},
            {"customer_id": "A", "period": "2024Q3", "interest_income": 5, "fee_income_fx": 1},
            {"customer_id": "B", "period": "2024Q3", "deposit_income": 7},
            {"customer_id": "B", "period": "2024Q3", "deposit_income": 3},  # rows add up
            {"customer_id": "A", "period": "2023Q4", "interest_income": 99},  # another year
        ],
    )
    realised = realised_income(actuals, 2024, fx_rate=2.0)
    assert realised.quarters == [1, 3]
    assert realised.ytd[1].loc["A", "interest"] == 10
    assert realised.ytd[1].loc["B", "deposit"] == 0
    assert realised.ytd[3].loc["A"].tolist() == [15, 0, 2]
    assert realised.ytd[3].loc["B", "deposit"] == 10
    assert realised.year.loc["A"].tolist() == [15, 0, 2]
    assert not realised.full_year  # Q4 is not in


def test_a_yearly_row_is_the_customers_year_figure():
    actuals = table(
        "actuals",
        [
            {"customer_id": "A", "period": "2024Q1", "interest_income": 10},
            {"customer_id": "A", "period": "2024", "interest_income": 50},
            {"customer_id": "B", "period": "2024Q2", "interest_income": 4},
        ],
    )
    realised = realised_income(actuals, 2024, fx_rate=1.0)
    assert realised.year["interest"].to_dict() == {"A": 50, "B": 4}
    assert realised.full_year


def test_no_actuals_means_forecast():
    realised = realised_income(table("actuals"), 2024, fx_rate=1.0)
    assert realised.year is None
    assert realised.quarters == []
