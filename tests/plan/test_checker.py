"""The plan checker: for every hard rule, a valid plan passes and a planted break is named."""

from __future__ import annotations

import pandas as pd
import pytest

from portfolio_opt.plan import Violation, check_plan, customer_targets, find_groups
from portfolio_opt.plan.checker import PlanView

from .builders import (
    make_scenario,
    plan,
    small_customers,
    small_managers,
    small_plan,
    small_scenario,
    with_rows,
)


def rules(violations: list[Violation]) -> list[str]:
    return [v.rule for v in violations]


def only(violations: list[Violation], rule: str) -> list[Violation]:
    found = [v for v in violations if v.rule == rule]
    assert found, f"no {rule!r} violation among {violations}"
    return found


def test_small_plan_is_valid():
    assert check_plan(small_scenario(), small_plan()) == []


def test_portfolio_type_column_is_ignored():
    frame = small_plan()
    frame["portfolio_type"] = "standard"  # wrong for MA and ML: the checker derives the type
    assert check_plan(small_scenario(), frame) == []


# Rule 1: every customer once, known ids, unavailable managers hold nothing.


def test_missing_customer():
    frame = small_plan()
    violations = check_plan(small_scenario(), frame[frame["customer_id"] != "S3"])
    (v,) = only(violations, "coverage")
    assert "S3" in v.message and v.customers == ("S3",)
    assert "no row of the plan names it (add one, with its manager_id)" in v.message


def test_customer_listed_twice():
    frame = pd.concat([small_plan(), pd.DataFrame({"customer_id": ["S3"], "manager_id": ["MB"]})])
    (v,) = only(check_plan(small_scenario(), frame), "coverage")
    assert "S3" in v.message and "2 times" in v.message and set(v.managers) == {"MB", "MC"}


def test_blank_manager():
    (v,) = only(check_plan(small_scenario(), small_plan(S3="")), "coverage")
    assert "S3" in v.message and "blank" in v.message


def test_unknown_customer_and_manager_ids():
    frame = pd.concat(
        [small_plan(S3="M9"), pd.DataFrame({"customer_id": ["ZZ"], "manager_id": ["MB"]})]
    )
    found = only(check_plan(small_scenario(), frame), "unknown_id")
    messages = " | ".join(v.message for v in found)
    assert "'ZZ'" in messages and "'M9'" in messages and "S3" in messages


def test_ids_are_matched_after_trimming_spaces():
    frame = small_plan()
    frame["customer_id"] = " " + frame["customer_id"] + " "
    assert check_plan(small_scenario(), frame) == []


def test_unavailable_manager_holds_none():
    (v,) = only(check_plan(small_scenario(), small_plan(S3="MX")), "unavailable")
    assert "MX" in v.message and "S3" in v.message and v.managers == ("MX",)


# Rule 2: groups together.


def test_group_split():
    (v,) = only(check_plan(small_scenario(), small_plan(S2="MC")), "group")
    assert "G1" in v.message and "S1" in v.message and "S2" in v.message
    assert set(v.managers) == {"MB", "MC"}


@pytest.mark.parametrize("kind", ["group", "Group", " GROUP "])
def test_relation_group_is_case_insensitive(kind):
    relations = [{"a": "S3", "b": "S4", "kind": kind}, {"a": "S4", "b": "S1", "kind": "chain"}]
    scenario = small_scenario(relations=relations)
    assert check_plan(scenario, small_plan()) == []
    (v,) = only(check_plan(scenario, small_plan(S3="MB")), "group")
    assert "S3" in v.message and "S4" in v.message and "relations" in v.message


def test_relation_groups_are_transitive():
    relations = [{"a": "S2", "b": "S3", "kind": "group"}, {"a": "S3", "b": "S4", "kind": "group"}]
    scenario = small_scenario(relations=relations, policy={"span": {"tolerance": 2}})
    assert check_plan(scenario, small_plan(S3="MB", S4="MB")) == []
    (v,) = only(check_plan(scenario, small_plan(S3="MB")), "group")
    assert (
        "G1" in v.message
        and "S4 with MC" in v.message
        and set(v.customers)
        == {
            "S1",
            "S2",
            "S3",
            "S4",
        }
    )


def test_groups_join_group_id_and_relations():
    relations = [{"a": "S2", "b": "S3", "kind": "group"}, {"a": "S3", "b": "S4", "kind": "group"}]
    groups = find_groups(small_scenario(relations=relations))
    assert ["S1", "S2", "S3", "S4"] in groups
    assert ["P1"] in groups and len(groups) == 5


# Rule 3: premium alone, premium grade, designated managers.


def test_premium_mixed_with_standard():
    violations = check_plan(small_scenario(), small_plan(P2="MC", S3="MA"))
    found = only(violations, "premium_only")
    assert {v.managers for v in found} == {("MA",), ("MC",)}
    assert any("S3" in v.message and "P1" in v.message for v in found)


def test_a_mix_of_kinds_names_the_fewer_customers_first():
    """P2 moved into MB's standard portfolio, or S3 into MA's premium one: the violation
    names the one customer out of place, whose row the planner changed."""
    for moved, manager in (("P2", "MB"), ("S3", "MA")):
        violations = check_plan(small_scenario(), small_plan(**{moved: manager}))
        (found,) = only(violations, "premium_only")
        assert found.managers == (manager,) and found.customers == (moved,)


def test_premium_needs_premium_grade():
    violations = check_plan(small_scenario(), small_plan(P1="MB", P2="MB", S1="MA", S2="MA"))
    (v,) = only(violations, "premium_grade")
    assert v.managers == ("MB",) and "P1" in v.message and "grade B" in v.message
    assert "group" not in rules(violations)


def test_designated_premium_manager_must_hold_premium():
    managers = with_rows(small_managers(), MB={"grade": "A", "premium": "yes"})
    violations = check_plan(small_scenario(managers=managers), small_plan())
    found = only(violations, "premium_designated")
    by_manager = {v.managers: v for v in found}
    assert "P1" in by_manager[("MA",)].message  # premium held by a manager not designated
    assert "S1" in by_manager[("MB",)].message  # designated manager holding standard customers
    swapped = small_plan(P1="MB", P2="MB", S1="MA", S2="MA")
    assert check_plan(small_scenario(managers=managers), swapped) == []


def test_designation_of_unavailable_manager_does_not_count():
    managers = with_rows(small_managers(), MX={"grade": "A", "premium": True})
    assert check_plan(small_scenario(managers=managers), small_plan()) == []


# Rule 4: separate ledger isolated.


def test_separate_ledger_mixed_with_normal():
    violations = check_plan(small_scenario(), small_plan(L1="MC", S3="ML"))
    found = only(violations, "separate_ledger")
    assert {v.managers for v in found} == {("MC",), ("ML",)}
    assert any("L1" in v.message and "S4" in v.message for v in found)


def test_flagged_separate_ledger_managers():
    managers = with_rows(small_managers(), ML={"separate_ledger": True})
    scenario = small_scenario(managers=managers)
    assert check_plan(scenario, small_plan()) == []
    swapped = small_plan(L1="MC", L2="MC", S3="ML", S4="ML")
    found = only(check_plan(scenario, swapped), "separate_ledger")
    by_manager = {v.managers: v for v in found}
    assert "L1" in by_manager[("MC",)].message and "not a separate-ledger manager" in (
        by_manager[("MC",)].message
    )
    assert "S3" in by_manager[("ML",)].message


def test_a_customer_moved_into_the_wrong_portfolio_leaves_its_type_alone():
    """A separate-ledger customer moved into a standard portfolio breaks rule 4; the portfolio
    is still standard (two of its three customers are), so the separate-ledger band of 1..2
    does not apply to it."""
    managers = with_rows(small_managers(), ML={"separate_ledger": True})
    span = {"tolerance": 1, "separate_ledger": {"min": 1, "max": 2}}
    scenario = small_scenario(managers=managers, policy={"span": span})
    moved = small_plan(L1="MB")
    assert PlanView.build(scenario, moved).portfolio_type("MB") == "standard"
    (found,) = only(check_plan(scenario, moved), "separate_ledger")
    assert found.managers == ("MB",) and "MB is not a separate-ledger manager" in found.message
    assert [v.rule for v in check_plan(scenario, moved)] == ["separate_ledger"]


# Rule 5: span.


def test_span_band():
    violations = check_plan(small_scenario(), small_plan(S3="MB", S4="MB", S1="MC", S2="MC"))
    assert violations == []
    found = only(check_plan(small_scenario(), small_plan(S3="MB")), "span")
    by_manager = {v.managers: v.message for v in found}
    assert "3 customers" in by_manager[("MB",)] and "maximum of 2" in by_manager[("MB",)]
    assert "1 customers" in by_manager[("MC",)] and "minimum of 2" in by_manager[("MC",)]


def test_span_tolerance_widens_band():
    scenario = small_scenario(policy={"span": {"tolerance": 1}})
    assert check_plan(scenario, small_plan(S3="MB")) == []


def test_empty_available_manager_below_band():
    managers = [*small_managers(), {"manager_id": "MD", "grade": "C"}]
    # 8 customers / 5 managers: band 1..2 with tolerance 0, so MD may not stay empty.
    (v,) = only(check_plan(small_scenario(managers=managers), small_plan()), "span")
    assert v.managers == ("MD",) and "0 customers" in v.message


def test_type_band_each_end_separately():
    scenario = small_scenario(policy={"span": {"premium": {"max": 1}}})
    (v,) = only(check_plan(scenario, small_plan()), "span")
    assert v.managers == ("MA",) and "premium band" in v.message and "1..1" in v.message
    scenario = small_scenario(policy={"span": {"separate_ledger": {"min": 1, "max": 3}}})
    assert check_plan(scenario, small_plan()) == []


def test_personal_bounds_win():
    managers = with_rows(small_managers(), MB={"min_customers": 3}, MC={"max_customers": 1})
    scenario = small_scenario(managers=managers)
    assert check_plan(scenario, small_plan(S3="MB")) == []
    found = only(check_plan(scenario, small_plan()), "span")
    assert {v.managers for v in found} == {("MB",), ("MC",)}
    assert all("personal bounds" in v.message for v in found)
    by_manager = {v.managers: v.message for v in found}
    assert (
        "2 customers, below the minimum of 3" in by_manager[("MB",)]
        and "3..3" in (by_manager[("MB",)])
    )
    assert "above the maximum of 1 " in by_manager[("MC",)]


# Rule 6: pins.


def test_pinned_customer():
    customers = with_rows(small_customers(), S3={"pinned_manager_id": "MC"})
    scenario = small_scenario(customers=customers)
    assert check_plan(scenario, small_plan()) == []
    (v,) = only(check_plan(scenario, small_plan(S3="MB", S1="MC", S2="MC", S4="MB")), "pin")
    assert "S3" in v.message and "MC" in v.message and "MB" in v.message


# Rule 7: rotation.


@pytest.mark.parametrize(
    ("tenure", "breaks"),
    [
        (4, False),  # below the limit: may stay
        (5, True),  # at the limit: must change
        (9, True),
        (None, False),  # unknown tenure: no rotation
    ],
)
def test_rotation(tenure, breaks):
    customers = with_rows(small_customers(), S3={"prior_manager_id": "MC", "tenure_years": tenure})
    scenario = small_scenario(customers=customers, policy={"rotation": {"max_tenure_years": 5}})
    violations = check_plan(scenario, small_plan())
    assert ("rotation" in rules(violations)) == breaks
    if breaks:
        assert "S3" in violations[0].message and "MC" in violations[0].message
    moved = small_plan(S3="MB", S1="MC", S2="MC", S4="MB")
    assert check_plan(scenario, moved) == []


def test_no_rotation_without_policy():
    customers = with_rows(small_customers(), S3={"prior_manager_id": "MC", "tenure_years": 30})
    assert check_plan(small_scenario(customers=customers), small_plan()) == []


# Rule 8: balance of standard portfolios' targets.


def test_balance_within_deviation():
    customers = with_rows(small_customers(), S4={"interest_income": 150})
    # MB holds 200, MC holds 250: mean 225, each 11.1% away.
    scenario = small_scenario(customers=customers, policy={"balance": {"max_deviation": 0.05}})
    found = only(check_plan(scenario, small_plan()), "balance")
    assert {v.managers for v in found} == {("MB",), ("MC",)}
    assert "250.00" in next(v.message for v in found if v.managers == ("MC",))
    loose = small_scenario(customers=customers, policy={"balance": {"max_deviation": 0.12}})
    assert check_plan(loose, small_plan()) == []


def test_balance_boundary_is_inclusive():
    customers = with_rows(
        small_customers(), S3={"deposit_income": 0.3}, S4={"interest_income": 0.1}
    )
    customers = with_rows(customers, S1={"interest_income": 0.1}, S2={"fee_income": 0.2})
    # MB 0.3, MC 0.4: mean 0.35, deviation exactly 1/7 up to float rounding.
    scenario = small_scenario(customers=customers, policy={"balance": {"max_deviation": 1 / 7}})
    assert check_plan(scenario, small_plan()) == []


def test_balance_ignores_premium_and_separate_ledger():
    customers = with_rows(small_customers(), P1={"interest_income": 10_000})
    scenario = small_scenario(customers=customers, policy={"balance": {"max_deviation": 0.01}})
    assert check_plan(scenario, small_plan()) == []


# Capacity (hard where managers have one).


def test_workload_capacity():
    managers = with_rows(small_managers(), MB={"capacity": 1.5})
    # S1 by its own row, S2 by its industry's row: 2 units of work on MB.
    affinity = [
        {"customer_id": "S1", "manager_id": "MB", "workload": 1},
        {"industry": "growth-sector", "manager_id": "MB", "workload": 1},
    ]
    customers = with_rows(small_customers(), S2={"industry": "growth-sector"})
    scenario = small_scenario(customers=customers, managers=managers, affinity=affinity)
    (v,) = only(check_plan(scenario, small_plan()), "capacity")
    assert v.managers == ("MB",) and "1.5" in v.message
    roomy = small_scenario(
        customers=customers,
        managers=with_rows(small_managers(), MB={"capacity": 2}),
        affinity=affinity,
    )
    assert check_plan(roomy, small_plan()) == []


# Targets recomputed from the payout formula.


def test_customer_targets_formula():
    customers = [
        # base 100 + 7 * 10 = 170, own growth 10%: 187
        {
            "customer_id": "A",
            "customer_class": "key",
            "interest_income": 100,
            "interest_income_fx": 10,
            "growth_rate": 0.1,
        },
        # class growth 20%: (50 + 50) * 1.2 = 120
        {"customer_id": "B", "customer_class": "key", "deposit_income": 50, "fee_income": 50},
        # default growth 5%: 100 * 1.05 = 105
        {"customer_id": "C", "customer_class": "basic", "fee_income": 100},
        # separate ledger: its own default growth, 0%
        {"customer_id": "D", "customer_class": "key", "fee_income": 100, "separate_ledger": 1},
    ]
    policy = {
        "payout": {
            "fx_rate": 7,
            "growth": {"key": 0.2},
            "default_growth": 0.05,
            "separate_ledger": {"default_growth": 0.0},
        }
    }
    scenario = make_scenario(customers, [{"manager_id": "M", "grade": "A"}], policy=policy)
    targets = customer_targets(scenario)
    assert targets.to_dict() == pytest.approx({"A": 187.0, "B": 120.0, "C": 105.0, "D": 100.0})


@pytest.mark.parametrize(
    ("growth", "unit_target", "expected"),
    [
        (0.1, 520, {"A": 130.0, "B": 390.0}),  # increments 10 + 30 tripled to reach 520
        (0.1, 400, {"A": 100.0, "B": 300.0}),  # the stock meets the task: no increment
        (-0.1, 520, {"A": 130.0, "B": 390.0}),  # shrinking forecast: +120 spread by stock
        (0.1, 300, {"A": 75.0, "B": 225.0}),  # stock above the task: -100 spread by stock
    ],
)
def test_unit_target_fits_increments(growth, unit_target, expected):
    customers = [
        {"customer_id": "A", "customer_class": "key", "interest_income": 100},
        {"customer_id": "B", "customer_class": "key", "interest_income": 300},
    ]
    policy = {"payout": {"unit_target": unit_target, "default_growth": growth}}
    scenario = make_scenario(customers, [{"manager_id": "M", "grade": "A"}], policy=policy)
    targets = customer_targets(scenario)
    assert targets.to_dict() == pytest.approx(expected)
    assert targets.sum() == pytest.approx(unit_target)


def test_unit_target_scales_the_growth_and_keeps_the_declines_to_the_cent():
    """The balance bound is about the targets the payout sets (docs/payout.md): with a task
    above the stock, the growing customers' increments are scaled and a shrinking customer
    keeps its forecast decline; the targets add up to the task to the cent."""
    customers = [
        {"customer_id": "G", "customer_class": "key", "interest_income": 1000},
        {"customer_id": "H", "customer_class": "key", "interest_income": 333.33},
        {"customer_id": "X", "customer_class": "exit", "interest_income": 1000},
    ]
    policy = {"payout": {"unit_target": 3000, "growth": {"key": 0.1, "exit": -0.5}}}
    scenario = make_scenario(customers, [{"manager_id": "M", "grade": "A"}], policy=policy)
    targets = customer_targets(scenario)
    assert targets["X"] == 500.0  # 1000 - 50%, not scaled with the growth
    assert round(targets.sum(), 2) == 3000.0
    assert (targets * 100).round(6).mod(1).eq(0).all()  # whole cents


def test_every_violation_names_its_rule_and_ids():
    frame = plan({"MA": ["P1", "P2", "S3"], "MB": ["S1"], "MC": ["S2", "S4"], "ML": ["L1", "L2"]})
    violations = check_plan(small_scenario(), frame)
    assert {"premium_only", "group", "span"} <= set(rules(violations))
    assert all(v.message and (v.customers or v.managers) for v in violations)
    assert str(violations[0]).startswith(f"[{violations[0].rule}] ")


def test_customers_of_an_unknown_manager_are_one_violation():
    found = only(check_plan(small_scenario(), small_plan(S1="M9", S3="M9")), "unknown_id")
    assert len(found) == 1
    assert set(found[0].customers) == {"S1", "S3"} and found[0].managers == ("M9",)
