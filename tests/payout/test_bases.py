import pandas as pd

from portfolio_opt.payout.bases import customer_bases, income_bases


def test_bases_add_foreign_income_at_the_fx_rate_and_round_to_cents():
    customers = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "interest_income": [100.0, None],
            "interest_income_fx": [10.0, 0.333],
            "fee_income": [1.0, 2.0],
        }
    )
    bases = customer_bases(customers, fx_rate=7.1)
    assert list(bases.index) == ["A", "B"]
    assert bases.loc["A", "interest_base"] == 171.0
    assert bases.loc["B", "interest_base"] == 2.36  # 0.333 x 7.1 = 2.3643
    assert (bases["deposit_base"] == 0).all()  # a missing column counts as 0
    assert list(bases["fee_base"]) == [1.0, 2.0]


def test_income_bases_keep_the_row_index():
    actuals = pd.DataFrame({"deposit_income": [5.0]}, index=[7])
    assert income_bases(actuals, 1.0).loc[7, "deposit_base"] == 5.0
