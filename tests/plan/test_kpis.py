"""Plan KPIs on cases small enough to check by hand."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from portfolio_opt.plan import coefficient_of_variation, compute_kpis, gini

from .builders import make_scenario, plan, small_customers, small_plan, small_scenario, with_rows


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 1, 1, 1], 0.0),  # all equal
        ([0, 0, 0, 1], 0.75),  # sum |xi - xj| = 6, over 2 * 16 * 0.25
        ([200, 300], 0.1),  # 2 * 100 / (2 * 4 * 250)
        ([], 0.0),
    ],
)
def test_gini(values, expected):
    assert gini(values) == pytest.approx(expected)


def test_coefficient_of_variation():
    assert coefficient_of_variation([1, 3]) == pytest.approx(0.5)  # std 1, mean 2
    assert coefficient_of_variation([5, 5, 5]) == 0.0


def test_counts_and_span():
    kpis = compute_kpis(small_scenario(), small_plan(S3="MB"))
    assert kpis["n_customers"] == 8 and kpis["n_managers"] == 4  # MX is unavailable
    span = kpis["span"]
    assert span["ideal"] == 2.0 and span["min"] == 1 and span["max"] == 3
    assert span["max_abs_dev"] == 1.0
    assert span["by_type"] == {
        "standard": {"managers": 2, "min": 1, "max": 3},
        "premium": {"managers": 1, "min": 2, "max": 2},
        "separate_ledger": {"managers": 1, "min": 2, "max": 2},
    }
    assert kpis["hard_rule_violations"] == 2  # MB above and MC below the band


def test_valid_plan_has_no_violations_and_serialises():
    kpis = compute_kpis(small_scenario(), small_plan())
    assert kpis["hard_rule_violations"] == 0
    assert "affinity" not in kpis and "workload" not in kpis
    json.dumps(kpis)  # kpis.json must be plain JSON


def test_balance_over_standard_portfolios_only():
    customers = with_rows(
        small_customers(), S4={"interest_income": 200}, P1={"interest_income": 9999}
    )
    kpis = compute_kpis(small_scenario(customers=customers), small_plan())
    # Standard totals: MB 200, MC 300 (premium and separate-ledger left out).
    assert kpis["balance"] == pytest.approx(
        {"target_gini": 0.1, "target_cv": 0.2, "max_over_min": 1.5, "max_deviation": 0.2}
    )


def test_balance_uses_given_targets():
    target = pd.Series({c: 1.0 for c in ["P1", "P2", "S1", "S2", "S3", "L1", "L2"]} | {"S4": 3.0})
    kpis = compute_kpis(small_scenario(), small_plan(), customer_target=target)
    # MB 2, MC 4: mean 3, deviation 1/3.
    assert kpis["balance"]["max_over_min"] == pytest.approx(2.0)
    assert kpis["balance"]["max_deviation"] == pytest.approx(1 / 3)


def test_chain_links_cut_and_unavoidable():
    relations = [
        {"a": "S1", "b": "S3", "kind": "chain", "weight": 2},  # MB - MC: cut
        {"a": "S2", "b": "S4", "kind": "Chain"},  # weight 1 by default, cut
        {"a": "P1", "b": "S1", "kind": "chain", "weight": 3},  # premium - standard: unavoidable
        {"a": "L1", "b": "L2", "kind": "chain", "weight": 1},  # same manager: kept
        {"a": "S1", "b": "S2", "kind": "group"},  # not a chain link
        {"a": "S3", "b": "NOPE", "kind": "chain", "weight": 5},  # not a customer: ignored
    ]
    chain = compute_kpis(small_scenario(relations=relations), small_plan())["chain"]
    assert chain == pytest.approx(
        {"links": 7.0, "cut": 6.0, "cut_share": 6 / 7, "unavoidable": 3.0}
    )


def test_chain_pinned_apart_is_unavoidable():
    customers = with_rows(
        small_customers(), S1={"pinned_manager_id": "MB"}, S3={"pinned_manager_id": "MC"}
    )
    relations = [{"a": "S2", "b": "S3", "kind": "chain", "weight": 4}]  # S2 follows S1's pin
    chain = compute_kpis(small_scenario(customers=customers, relations=relations), small_plan())
    assert chain["chain"]["unavoidable"] == 4.0


def test_industries_per_portfolio():
    customers = with_rows(
        small_customers(),
        S1={"industry": "steel"},
        S2={"industry": "retail"},
        S3={"industry": "steel"},
        S4={"industry": "steel"},
    )
    kpis = compute_kpis(small_scenario(customers=customers), small_plan())
    # MA 0, MB 2, MC 1, ML 0 distinct industries.
    assert kpis["industries_per_portfolio"] == {"mean": 0.75, "max": 2}


def rebalancing_case():
    """Last year's plan meets this year's rules: managers MB, MC available, MX gone.

    S1..S8 have targets 10..80 (no growth). S2's prior MX left; S3 is due for rotation from MC;
    S4 is pinned to MC; S5 and S6 form one group with different priors; S7 is new; S8 is free.
    """
    customers = [
        {"customer_id": f"S{i}", "customer_class": "key", "interest_income": 10 * i}
        for i in range(1, 9)
    ]
    customers = with_rows(
        customers,
        S1={"prior_manager_id": "MB"},
        S2={"prior_manager_id": "MX"},
        S3={"prior_manager_id": "MC", "tenure_years": 6},
        S4={"prior_manager_id": "MB", "pinned_manager_id": "MC"},
        S5={"prior_manager_id": "MB", "group_id": "G"},
        S6={"prior_manager_id": "MC", "group_id": "G"},
        S8={"prior_manager_id": "MB"},
    )
    managers = [
        {"manager_id": "MB", "grade": "B"},
        {"manager_id": "MC", "grade": "B"},
        {"manager_id": "MX", "grade": "B", "available": False},
    ]
    policy = {"rotation": {"max_tenure_years": 5}, "payout": {"default_growth": 0.0}}
    return make_scenario(customers, managers, policy=policy)


def test_moves_and_lower_bound():
    frame = plan({"MB": ["S1", "S2", "S3", "S7"], "MC": ["S4", "S5", "S6", "S8"]})
    kpis = compute_kpis(rebalancing_case(), frame)
    assert kpis["hard_rule_violations"] == 0
    # Moved: S2 (MX), S3 (rotation), S4 (pin), S5 (group went to MC), S8 (free, moved anyway).
    # Unavoidable: S2, S3, S4, and one of S5/S6 - at least the cheaper S5.
    assert kpis["moves"] == pytest.approx(
        {"count": 5, "value": 220.0, "lower_bound": 4, "lower_bound_value": 140.0}
    )


def test_a_loss_making_customer_moved_counts_by_its_size() -> None:
    """S3 has a negative target: moving it is a move of that size, not value gained, and no
    valid plan's moved value is below the bound."""
    customers = with_rows(
        [
            {"customer_id": f"S{i}", "customer_class": "key", "interest_income": 10 * i}
            for i in range(1, 5)
        ],
        S3={"interest_income": 0, "deposit_income": -1000},
    )
    customers = [{**row, "prior_manager_id": "MB"} for row in customers]
    managers = [{"manager_id": "MB", "grade": "B"}, {"manager_id": "MC", "grade": "B"}]
    scenario = make_scenario(
        customers,
        managers,
        policy={"span": {"tolerance": 0}, "payout": {"default_growth": 0.0}},
    )

    moves = compute_kpis(scenario, plan({"MB": ["S2", "S4"], "MC": ["S1", "S3"]}))["moves"]

    assert moves["value"] == pytest.approx(1010.0)
    assert moves["lower_bound"] == 2
    assert moves["lower_bound_value"] == pytest.approx(30.0)  # S1 and S2, the smallest


def test_spread_is_undefined_around_a_mean_at_or_below_zero() -> None:
    customers = [
        {"customer_id": "S1", "customer_class": "key", "interest_income": 100},
        {"customer_id": "S2", "customer_class": "key", "deposit_income": -1000},
    ]
    managers = [{"manager_id": "MB", "grade": "B"}, {"manager_id": "MC", "grade": "B"}]
    scenario = make_scenario(customers, managers, policy={"payout": {"default_growth": 0.0}})

    balance = compute_kpis(scenario, plan({"MB": ["S1"], "MC": ["S2"]}))["balance"]

    assert balance["target_cv"] is None
    assert balance["target_gini"] is None
    assert balance["max_deviation"] is not None


def test_group_rotation_blocks_every_member():
    # S5 is due to leave MB, so the whole group leaves MB: S6 (prior MB too) must move as well.
    customers = [
        {
            "customer_id": "S5",
            "customer_class": "key",
            "group_id": "G",
            "prior_manager_id": "MB",
            "tenure_years": 9,
            "interest_income": 1,
        },
        {
            "customer_id": "S6",
            "customer_class": "key",
            "group_id": "G",
            "prior_manager_id": "MB",
            "interest_income": 2,
        },
        {"customer_id": "S7", "customer_class": "key", "prior_manager_id": "MB"},
    ]
    managers = [{"manager_id": "MB", "grade": "B"}, {"manager_id": "MC", "grade": "B"}]
    scenario = make_scenario(customers, managers, policy={"rotation": {"max_tenure_years": 5}})
    kpis = compute_kpis(scenario, plan({"MB": ["S7"], "MC": ["S5", "S6"]}))
    assert kpis["moves"]["lower_bound"] == 2 and kpis["moves"]["count"] == 2
    assert kpis["hard_rule_violations"] == 0


@pytest.mark.parametrize(
    ("customer", "manager", "must_move"),
    [
        ({"customer_class": "premium"}, {"grade": "B"}, True),  # premium needs grade A
        ({"customer_class": "premium"}, {"grade": "A"}, False),
        ({"customer_class": "key"}, {"grade": "A", "premium": True}, True),  # designated premium
        ({"customer_class": "key", "separate_ledger": True}, {"grade": "B"}, True),  # MS flagged
        ({"customer_class": "key"}, {"grade": "B", "separate_ledger": True}, True),
        ({"customer_class": "key", "pinned_manager_id": "MP"}, {"grade": "B"}, False),
    ],
)
def test_lower_bound_reasons(customer, manager, must_move):
    customers = [{"customer_id": "C", "prior_manager_id": "MP", **customer}]
    managers = [
        {"manager_id": "MP", **manager},
        {"manager_id": "MS", "grade": "B", "separate_ledger": not manager.get("separate_ledger")},
    ]
    kpis = compute_kpis(make_scenario(customers, managers), plan({"MS": ["C"]}))
    assert kpis["moves"]["lower_bound"] == int(must_move)


def test_affinity_cost_and_workload():
    customers = with_rows(small_customers(), S3={"industry": "steel"}, S4={"industry": "steel"})
    affinity = [
        {"customer_id": "S1", "manager_id": "MB", "cost": 3, "workload": 2},
        {"industry": "steel", "manager_id": "MC", "cost": 1, "workload": 1},
        # wins over the industry row for the cost; its blank workload is the industry's
        {"customer_id": "S4", "manager_id": "MC", "cost": 10},
    ]
    managers = with_rows(
        [
            {"manager_id": m, "grade": g}
            for m, g in [("MA", "A"), ("MB", "B"), ("MC", "B"), ("ML", "C")]
        ],
        MB={"capacity": 4},
        MC={"capacity": 4},
    )
    scenario = small_scenario(
        customers=customers,
        managers=managers,
        affinity=affinity,
        policy={"affinity": {"default_workload": {"basic": 1.5}}},
    )
    kpis = compute_kpis(scenario, small_plan())
    # S1 3 + S3 1 + S4 10 = 14; MB load 2 (S2 none), MC load 1 + 1 (S4: the industry's).
    assert kpis["affinity"] == {"cost": 14.0}
    assert kpis["workload"]["max_utilisation"] == pytest.approx(2 / 4)
