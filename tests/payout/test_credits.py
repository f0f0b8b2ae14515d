import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_opt.payout.cents import to_cents
from portfolio_opt.payout.credits import credit_shares, split_by_shares

from .builders import plan


def test_holder_keeps_what_the_credits_leave():
    shares = credit_shares(
        plan({"C1": "M1", "C2": "M2"}),
        pd.DataFrame(
            {
                "customer_id": ["C1", "C1", "C1", "X"],
                "manager_id": ["M2", "M3", "M1", "M2"],
                "share": [0.25, 0.25, 0.1, 0.5],
            }
        ),
    )
    by_pair = shares.set_index(["customer_id", "manager_id"])["share"].round(9).to_dict()
    # a credit to the holder itself just adds to its part; X is not in the plan
    assert by_pair == {("C1", "M1"): 0.5, ("C2", "M2"): 1.0, ("C1", "M2"): 0.25, ("C1", "M3"): 0.25}


def _c1_held_by_m1_credited_to_m2(amount: float, share: float) -> dict[str, float]:
    """How ``amount`` of C1 (held by M1, ``share`` of it credited to M2) is split."""
    shares = credit_shares(
        plan({"C1": "M1"}),
        pd.DataFrame({"customer_id": ["C1"], "manager_id": ["M2"], "share": [share]}),
    )
    values = pd.DataFrame({"income": [amount]}, index=pd.Index(["C1"], name="customer_id"))
    return split_by_shares(values, shares)["income"].to_dict()


def test_split_is_exact_to_the_cent_and_the_odd_cent_goes_to_the_holder():
    assert _c1_held_by_m1_credited_to_m2(100.01, 0.5) == {"M1": 50.01, "M2": 50.0}


def test_a_half_cent_lost_to_binary_noise_still_goes_to_the_holder():
    """92,969.25 x 0.14 is 13,015.695 exactly, but 13,015.695000000002 in floats."""
    assert _c1_held_by_m1_credited_to_m2(92969.25, 0.14) == {"M1": 79953.56, "M2": 13015.69}


def test_split_without_credits_is_the_sum_per_holder():
    shares = credit_shares(plan({"A": "M1", "B": "M1", "C": "M2"}), pd.DataFrame())
    values = pd.DataFrame({"x": [1.0, 2.0, 4.0]}, index=["A", "B", "C"])
    assert split_by_shares(values, shares)["x"].to_dict() == {"M1": 3.0, "M2": 4.0}


@settings(max_examples=60, deadline=None)
@given(
    amounts=st.lists(st.floats(-1e6, 1e6).map(lambda x: round(x, 2)), min_size=1, max_size=6),
    credits=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 3), st.floats(0, 0.34)), max_size=10
    ),
    holders=st.lists(st.integers(0, 3), min_size=6, max_size=6),
)
def test_credits_conserve_income(amounts, credits, holders):
    customers = [f"C{i}" for i in range(len(amounts))]
    assignment = plan({c: f"M{holders[i]}" for i, c in enumerate(customers)})
    rows = [(f"C{c}", f"M{m}", s) for c, m, s in credits if c < len(amounts)]
    # keep every customer's credited shares at most 1, as validation requires
    used: dict[str, float] = {}
    kept = []
    for customer, manager, share in rows:
        if used.get(customer, 0) + share <= 1:
            used[customer] = used.get(customer, 0) + share
            kept.append((customer, manager, share))
    table = pd.DataFrame(kept, columns=["customer_id", "manager_id", "share"])
    shares = credit_shares(assignment, table)
    assert shares.groupby("customer_id")["share"].sum().round(9).eq(1).all()
    values = pd.DataFrame({"income": amounts}, index=customers)
    split = split_by_shares(values, shares)
    assert to_cents(split["income"]).sum() == to_cents(values["income"]).sum()
    # every manager gets its share, give or take a cent
    for manager, amount in split["income"].items():
        expected = sum(
            s * values.loc[c, "income"]
            for c, m, s in shares.itertuples(index=False)
            if m == manager
        )
        assert abs(amount - expected) <= 0.01 * len(customers) + 1e-6
