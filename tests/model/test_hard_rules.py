"""Each hard rule of SPEC.md, on a tiny scenario where it binds.

"Binds" means a plan ignoring the rule would score better on the soft goals: most scenarios put
continuity first and give the customers a prior manager that the rule forbids, so keeping
everyone where they were is the tempting plan. Each test solves, checks the plan with the
independent checker, and asserts the rule's own property on the plan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from plan.builders import make_scenario
from plan.builders import plan as by_hand
from portfolio_opt.plan import check_plan
from portfolio_opt.plan.checker import customer_targets
from portfolio_opt.scenario.data import Scenario

from .helpers import holdings, manager_of, solve_fast, standard_customers, valid_plan

CONTINUITY_FIRST = {"objective": {"order": ["continuity", "span", "balance", "chain", "industry"]}}


def policy(**sections: dict[str, Any]) -> dict[str, Any]:
    """Continuity first, no growth (targets = income), plus ``sections``."""
    return {**CONTINUITY_FIRST, "payout": {"default_growth": 0.0}, **sections}


def manager(mid: str, grade: str = "B", **extra: Any) -> dict[str, Any]:
    return {"manager_id": mid, "grade": grade, **extra}


def premium(cid: str, **extra: Any) -> dict[str, Any]:
    return {"customer_id": cid, "customer_class": "premium", "interest_income": 100, **extra}


def counts(plan: pd.DataFrame) -> dict[str, int]:
    return {m: len(held) for m, held in holdings(plan).items()}


# ------------------------------------------------------------------ rule 1: coverage


def test_unavailable_manager_gets_nobody_even_as_everyones_prior_manager() -> None:
    """All 12 customers were with MX, who is leaving: staying would cost no move at all."""
    customers = standard_customers(12, prior_manager_id="MX")
    managers = [manager("M1"), manager("M2"), manager("M3"), manager("MX", available=False)]
    scenario = make_scenario(customers, managers, policy=policy(span={"tolerance": 0}))

    plan = valid_plan(scenario, solve_fast(scenario))

    assert "MX" not in set(plan["manager_id"])
    assert plan["customer_id"].is_unique and len(plan) == 12
    # The span band counts available managers only: 12 / 3 = 4 each with tolerance 0.
    assert counts(plan) == {"M1": 4, "M2": 4, "M3": 4}
    assert plan["moved"].all()


# ------------------------------------------------------------------ rule 2: groups


def test_group_id_members_share_a_manager_although_their_priors_differ() -> None:
    customers = standard_customers(12)
    for row, prior in zip(customers, ["M1", "M1", "M2", "M2", "M3", "M3"] * 2, strict=True):
        row["prior_manager_id"] = prior
    for row in customers[:3]:
        row["group_id"] = "G1"  # priors M1, M1, M2
    scenario = make_scenario(
        customers, [manager("M1"), manager("M2"), manager("M3")], policy=policy()
    )

    plan = manager_of(valid_plan(scenario, solve_fast(scenario)))

    assert plan["C00"] == plan["C01"] == plan["C02"]


def test_group_relations_join_customers_transitively() -> None:
    """C00-C01 and C01-C02 are ``group`` links, so C00 and C02 share a manager too."""
    customers = standard_customers(12)
    for row, prior in zip(customers, ["M1", "M2", "M3"] * 4, strict=True):
        row["prior_manager_id"] = prior
    relations = [
        {"a": "C00", "b": "C01", "kind": "group"},
        {"a": "C01", "b": "C02", "kind": "group"},
        {"a": "C03", "b": "C04", "kind": "chain"},  # a chain link is soft: no grouping
    ]
    scenario = make_scenario(
        customers, [manager("M1"), manager("M2"), manager("M3")], relations, policy=policy()
    )

    plan = manager_of(valid_plan(scenario, solve_fast(scenario)))

    assert plan["C00"] == plan["C01"] == plan["C02"]
    # Continuity first and a soft chain link: C03 and C04 stay with their own priors.
    assert (plan["C03"], plan["C04"]) == ("M1", "M2")


# ------------------------------------------------------------------ rule 3: premium


def test_premium_customers_leave_a_b_grade_prior_for_a_premium_only_a_grade_portfolio() -> None:
    customers = [
        premium("P1", prior_manager_id="M1"),
        premium("P2", prior_manager_id="M1"),
        premium("P3", prior_manager_id="A1"),
        *standard_customers(9, prior_manager_id="A1"),  # A1 held normal customers too
    ]
    managers = [manager("A1", "A"), manager("M1"), manager("M2")]
    scenario = make_scenario(customers, managers, policy=policy(span={"tolerance": 1}))

    plan = valid_plan(scenario, solve_fast(scenario))

    held = holdings(plan)
    premium_holders = {m for m, cs in held.items() if any(c.startswith("P") for c in cs)}
    assert premium_holders == {"A1"}
    assert sorted(held["A1"]) == ["P1", "P2", "P3"]
    types = dict(zip(plan["customer_id"], plan["portfolio_type"], strict=True))
    assert {types[c] for c in ("P1", "P2", "P3")} == {"premium"}
    assert {types[c] for c in held["M1"] + held["M2"]} == {"standard"}


def test_designated_premium_manager_takes_premium_from_an_undesignated_a_grade_prior() -> None:
    """A1 and A2 are both grade A; only A2 is designated, so P1..P3 leave A1 for A2."""
    customers = [
        *(premium(f"P{i}", prior_manager_id="A1") for i in range(1, 4)),
        *standard_customers(9, prior_manager_id="A2"),
    ]
    managers = [manager("A1", "A"), manager("A2", "A", premium=True), manager("M1")]
    scenario = make_scenario(customers, managers, policy=policy(span={"tolerance": 1}))

    plan = valid_plan(scenario, solve_fast(scenario))

    held = holdings(plan)
    assert sorted(held["A2"]) == ["P1", "P2", "P3"]
    assert not any(c.startswith("P") for c in held.get("A1", []))


def test_with_no_designation_the_premium_holders_are_chosen_among_a_grade_managers() -> None:
    """Six premium customers, two of grade A; span first wants 3 per manager."""
    customers = [
        *(premium(f"P{i}") for i in range(6)),
        *standard_customers(6),
    ]
    managers = [manager("A1", "A"), manager("A2", "A"), manager("M1"), manager("M2")]
    scenario = make_scenario(customers, managers, policy={"span": {"tolerance": 1}})

    plan = valid_plan(scenario, solve_fast(scenario))

    held = holdings(plan)
    for mid, cs in held.items():
        kinds = {c.startswith("P") for c in cs}
        assert len(kinds) == 1, f"{mid} mixes premium and normal customers: {cs}"
        if kinds == {True}:
            assert mid in {"A1", "A2"}


# ------------------------------------------------------------------ rule 4: separate ledger


def test_separate_ledger_customers_go_to_the_flagged_manager_who_holds_nothing_else() -> None:
    customers = [
        *standard_customers(3, prefix="L", prior_manager_id="M1", separate_ledger=True),
        *standard_customers(9, prior_manager_id="ML"),  # ML held normal customers last year
    ]
    managers = [manager("M1"), manager("M2"), manager("ML", "C", separate_ledger=True)]
    scenario = make_scenario(customers, managers, policy=policy(span={"tolerance": 1}))

    plan = valid_plan(scenario, solve_fast(scenario))

    held = holdings(plan)
    assert sorted(held["ML"]) == ["L00", "L01", "L02"]
    types = dict(zip(plan["customer_id"], plan["portfolio_type"], strict=True))
    assert {types[c] for c in held["ML"]} == {"separate_ledger"}


def test_with_no_flagged_manager_a_chosen_manager_holds_the_separate_ledger_alone() -> None:
    customers = [
        *standard_customers(3, prefix="L", prior_manager_id="M1", separate_ledger=True),
        *standard_customers(9, prior_manager_id="M1"),
    ]
    managers = [manager("M1"), manager("M2"), manager("M3")]
    scenario = make_scenario(customers, managers, policy=policy(span={"tolerance": 1}))

    plan = valid_plan(scenario, solve_fast(scenario))

    held = holdings(plan)
    ledger_holders = {m for m, cs in held.items() if any(c.startswith("L") for c in cs)}
    assert len(ledger_holders) == 1
    (holder,) = ledger_holders
    assert sorted(held[holder]) == ["L00", "L01", "L02"]


# ------------------------------------------------------------------ rule 5: span bands


def test_span_band_caps_a_manager_who_held_almost_everyone() -> None:
    """M1 held 10 of 12; the band with tolerance 1 is 3..5."""
    customers = standard_customers(12, prior_manager_id="M1")
    customers[10]["prior_manager_id"] = customers[11]["prior_manager_id"] = "M2"
    scenario = make_scenario(
        customers,
        [manager("M1"), manager("M2"), manager("M3")],
        policy=policy(span={"tolerance": 1}),
    )

    plan = valid_plan(scenario, solve_fast(scenario))

    assert all(3 <= n <= 5 for n in counts(plan).values()), counts(plan)
    assert counts(plan)["M1"] == 5  # continuity keeps as many as the band lets it


def test_premium_band_splits_premium_customers_the_general_band_would_keep_together() -> None:
    """30 customers, 5 managers: general band 4..8, premium band 2..3.

    All six premium customers were with A1 (6 fits the general band, not the premium one), so
    two premium portfolios of three are needed; three would leave 24 standard customers to two
    managers, over the general band.
    """
    customers = [
        *(premium(f"P{i}", prior_manager_id="A1") for i in range(6)),
        *standard_customers(24),
    ]
    managers = [
        manager("A1", "A"),
        manager("A2", "A"),
        manager("A3", "A"),
        manager("M1"),
        manager("M2"),
    ]
    scenario = make_scenario(
        customers, managers, policy=policy(span={"tolerance": 2, "premium": {"min": 2, "max": 3}})
    )

    plan = valid_plan(scenario, solve_fast(scenario))

    premium_counts = {
        m: len(cs) for m, cs in holdings(plan).items() if any(c.startswith("P") for c in cs)
    }
    assert sorted(premium_counts.values()) == [3, 3]
    assert all(4 <= n <= 8 for m, n in counts(plan).items() if m not in premium_counts)


def test_separate_ledger_band_opens_as_many_ledger_portfolios_as_it_needs() -> None:
    """Four separate-ledger customers, at most two per ledger portfolio: two ledger managers,
    although all four were with one manager and the general band (2..5) would take them."""
    customers = [
        *standard_customers(4, prefix="L", prior_manager_id="M1", separate_ledger=True),
        *standard_customers(12, prior_manager_id="M2"),
    ]
    managers = [manager(f"M{i}") for i in range(1, 6)]
    scenario = make_scenario(
        customers,
        managers,
        policy=policy(span={"tolerance": 1, "separate_ledger": {"min": 1, "max": 2}}),
    )

    plan = valid_plan(scenario, solve_fast(scenario))

    ledger = {m: cs for m, cs in holdings(plan).items() if any(c.startswith("L") for c in cs)}
    assert len(ledger) >= 2
    assert all(len(cs) <= 2 and all(c.startswith("L") for c in cs) for cs in ledger.values())


def test_personal_bounds_win_over_the_span_band() -> None:
    """20 customers, 4 managers, band 4..6; M1 takes at most 2 and M2 at least 7."""
    customers = standard_customers(20, prior_manager_id="M1")
    managers = [
        manager("M1", max_customers=2),
        manager("M2", min_customers=7),
        manager("M3"),
        manager("M4"),
    ]
    scenario = make_scenario(
        customers,
        managers,
        policy={"span": {"tolerance": 1}},  # span first: 5 each tempts
    )

    plan = valid_plan(scenario, solve_fast(scenario))

    n = counts(plan)
    assert n["M1"] == 2  # personal max 2 drags the band's floor (4) down to 2
    assert n["M2"] == 7  # personal min 7 drags the band's ceiling (6) up to 7
    assert sorted([n["M3"], n["M4"]]) == [5, 6]


# ------------------------------------------------------------------ rule 6: pins


def test_pinned_customer_goes_to_its_pin_not_to_its_prior_manager() -> None:
    customers = standard_customers(12, prior_manager_id="M1")
    customers[0]["pinned_manager_id"] = "M3"
    customers[1]["group_id"] = customers[2]["group_id"] = "G1"
    customers[2]["pinned_manager_id"] = "M2"  # one pinned member carries its group
    for row in customers[6:]:
        row["prior_manager_id"] = "M2"
    scenario = make_scenario(
        customers, [manager("M1"), manager("M2"), manager("M3")], policy=policy()
    )

    plan = manager_of(valid_plan(scenario, solve_fast(scenario)))

    assert plan["C00"] == "M3"
    assert plan["C01"] == plan["C02"] == "M2"


def test_premium_customer_pinned_to_an_a_grade_manager_who_is_not_its_prior() -> None:
    customers = [
        premium("P1", prior_manager_id="A1", pinned_manager_id="A2"),
        premium("P2", prior_manager_id="A1"),
        *standard_customers(10, prior_manager_id="M1"),
    ]
    managers = [manager("A1", "A"), manager("A2", "A"), manager("M1"), manager("M2")]
    scenario = make_scenario(customers, managers, policy=policy(span={"tolerance": 2}))

    plan = manager_of(valid_plan(scenario, solve_fast(scenario)))

    assert plan["P1"] == "A2"


def pinned_ledger_branch() -> Scenario:
    """L00 and L01 (separate ledger) were with M1 and are pinned to M3; band 1..3."""
    customers = [
        *standard_customers(
            2, prefix="L", separate_ledger=True, prior_manager_id="M1", pinned_manager_id="M3"
        ),
        *standard_customers(3, prior_manager_id="M2"),
        *standard_customers(3, start=3, prior_manager_id="M4"),
    ]
    managers = [manager("M1"), manager("M2"), manager("M3"), manager("M4")]
    return make_scenario(customers, managers, policy=policy(span={"tolerance": 1}))


PINNED_LEDGER_PLAN = {
    "M3": ["L00", "L01"],
    "M1": ["C00", "C03"],
    "M2": ["C01", "C02"],
    "M4": ["C04", "C05"],
}


def test_pinned_ledger_customers_do_not_make_their_old_manager_a_ledger_manager() -> None:
    scenario = pinned_ledger_branch()

    plan = manager_of(valid_plan(scenario, solve_fast(scenario)))

    assert plan["L00"] == plan["L01"] == "M3"


# ------------------------------------------------------------------ rule 7: rotation


def test_rotation_moves_customers_at_or_above_the_limit_and_keeps_the_rest() -> None:
    customers = standard_customers(12, prior_manager_id="M1", tenure_years=1)
    customers[0]["tenure_years"] = 5  # at the limit: moves
    customers[1]["tenure_years"] = 9  # above: moves
    customers[2]["tenure_years"] = 4  # below: continuity keeps it
    customers[3]["group_id"] = customers[4]["group_id"] = "G1"
    customers[3]["tenure_years"] = 6  # a rotating member takes its group along
    for row in customers[6:]:
        row["prior_manager_id"] = "M2"
    scenario = make_scenario(
        customers,
        [manager("M1"), manager("M2"), manager("M3")],
        policy=policy(rotation={"max_tenure_years": 5}, span={"tolerance": 2}),
    )

    plan = manager_of(valid_plan(scenario, solve_fast(scenario)))

    assert plan["C00"] != "M1"
    assert plan["C01"] != "M1"
    assert plan["C02"] == "M1"
    assert plan["C03"] == plan["C04"] != "M1"


def test_rotation_of_a_premium_customer_to_the_other_a_grade_manager() -> None:
    """P1 has been with A1 for 7 years; A2 is also grade A and free to take it."""
    customers = [
        premium("P1", prior_manager_id="A1", tenure_years=7),
        *standard_customers(8),
    ]
    managers = [manager("A1", "A"), manager("A2", "A"), manager("M1"), manager("M2")]
    scenario = make_scenario(
        customers,
        managers,
        policy={"rotation": {"max_tenure_years": 7}, "span": {"tolerance": 2}},
    )

    plan = manager_of(valid_plan(scenario, solve_fast(scenario)))

    assert plan["P1"] == "A2"


def test_rotation_of_premium_customers_between_designated_managers() -> None:
    """Both A-grade managers are designated, so both hold premium: P1 and P2 swap."""
    customers = [
        premium("P1", prior_manager_id="A1", tenure_years=7),
        premium("P2", prior_manager_id="A2", tenure_years=7),
        *standard_customers(5, prior_manager_id="M1", tenure_years=7),
        *standard_customers(5, start=5, prior_manager_id="M2", tenure_years=7),
    ]
    managers = [
        manager("A1", "A", premium=True),
        manager("A2", "A", premium=True),
        manager("M1"),
        manager("M2"),
    ]
    scenario = make_scenario(
        customers,
        managers,
        policy=policy(rotation={"max_tenure_years": 7}, span={"tolerance": 2}),
    )

    plan = manager_of(valid_plan(scenario, solve_fast(scenario)))

    # Every customer is due to rotate and each kind has two managers: they all swap.
    assert (plan["P1"], plan["P2"]) == ("A2", "A1")
    assert [plan[f"C{i:02d}"] for i in range(10)] == ["M2"] * 5 + ["M1"] * 5


def test_rotation_when_the_other_manager_must_take_the_ledger_instead() -> None:
    """C00 must leave M1; the only other manager, M2, held the ledger customers last year.

    M2 {C00, C01, C02} and M1 {L00, L01} keeps every rule (band 2..3).
    """
    customers = [
        *standard_customers(1, prior_manager_id="M1", tenure_years=5),
        *standard_customers(2, start=1, prior_manager_id="M1"),
        *standard_customers(2, prefix="L", separate_ledger=True, prior_manager_id="M2"),
    ]
    scenario = make_scenario(
        customers,
        [manager("M1"), manager("M2")],
        policy={"span": {"tolerance": 0}, "rotation": {"max_tenure_years": 5}},
    )

    plan = manager_of(valid_plan(scenario, solve_fast(scenario)))

    assert plan["C00"] != "M1"


def rotation_without_room_branch() -> Scenario:
    """C02 must leave M3; M1 is full with its two pinned customers (band 2..2)."""
    customers = [
        *standard_customers(2, pinned_manager_id="M1"),
        *standard_customers(1, start=2, prior_manager_id="M3", tenure_years=5),
        *standard_customers(1, start=3),
        *standard_customers(2, prefix="L", separate_ledger=True, prior_manager_id="M2"),
    ]
    return make_scenario(
        customers,
        [manager("M1"), manager("M2"), manager("M3")],
        policy={"span": {"tolerance": 0}, "rotation": {"max_tenure_years": 5}},
    )


ROTATION_WITHOUT_ROOM_PLAN = {"M1": ["C00", "C01"], "M2": ["C02", "C03"], "M3": ["L00", "L01"]}


def test_rotation_does_not_turn_a_feasible_branch_infeasible() -> None:
    scenario = rotation_without_room_branch()

    plan = manager_of(valid_plan(scenario, solve_fast(scenario)))

    assert plan["C02"] != "M3"


@pytest.mark.parametrize(
    ("branch", "holdings_by_hand"),
    [
        (pinned_ledger_branch, PINNED_LEDGER_PLAN),
        (rotation_without_room_branch, ROTATION_WITHOUT_ROOM_PLAN),
    ],
)
def test_the_branches_of_the_regression_tests_admit_a_plan(
    branch: Callable[[], Scenario], holdings_by_hand: dict[str, list[str]]
) -> None:
    """A plan made by hand keeps every rule: those branches are feasible."""
    assert check_plan(branch(), by_hand(holdings_by_hand)) == []


# ------------------------------------------------------------------ rule 8: balance


def test_balance_bound_spreads_targets_that_continuity_would_keep_lopsided() -> None:
    """Targets 400, 300, 200, 100 (three of each); priors give M1 1,500, M2 1,000, M3 500.

    One plan puts one of each size with every manager (1,000 each); +-10% forbids the priors.
    """
    incomes = [400, 300, 200, 100] * 3
    priors = ["M1", "M1", "M1", "M2", "M1", "M2", "M2", "M3", "M2", "M3", "M3", "M3"]
    customers = [
        {
            "customer_id": f"C{i:02d}",
            "customer_class": "key",
            "interest_income": income,
            "prior_manager_id": prior,
        }
        for i, (income, prior) in enumerate(zip(incomes, priors, strict=True))
    ]
    scenario = make_scenario(
        customers,
        [manager("M1"), manager("M2"), manager("M3")],
        policy=policy(balance={"max_deviation": 0.1}, span={"tolerance": 1}),
    )

    plan = valid_plan(scenario, solve_fast(scenario))

    target = customer_targets(scenario)
    totals = {m: sum(target[c] for c in cs) for m, cs in holdings(plan).items()}
    mean = sum(totals.values()) / len(totals)
    assert all(abs(t - mean) <= 0.1 * mean for t in totals.values()), totals


def test_balance_bound_ignores_premium_portfolios() -> None:
    """A premium portfolio far above the standard mean does not count against the bound."""
    customers = [
        premium("P1", interest_income=5000),
        premium("P2", interest_income=5000),
        *standard_customers(9),
    ]
    managers = [manager("A1", "A", premium=True), manager("M1"), manager("M2"), manager("M3")]
    scenario = make_scenario(
        customers,
        managers,
        policy={"balance": {"max_deviation": 0.05}, "span": {"tolerance": 1}},
    )

    plan = valid_plan(scenario, solve_fast(scenario))

    n = counts(plan)
    assert sorted(holdings(plan)["A1"]) == ["P1", "P2"]
    assert n["M1"] == n["M2"] == n["M3"] == 3  # equal targets: the only balanced split


def test_no_more_premium_portfolios_open_than_premium_groups_can_fill() -> None:
    """Five A-grade managers, premium customers in two blocks (a pair and one alone): two
    premium portfolios, not three that could not all hold a customer."""
    scenario = make_scenario(
        [
            premium("P1", group_id="G1"),
            premium("P2", group_id="G1"),
            premium("P3"),
            *standard_customers(2),
        ],
        [manager(f"M{i}", "A") for i in range(1, 6)],
        policy={"span": {"tolerance": 2}},
    )
    result = solve_fast(scenario)
    assert result.has_plan, result.explanation
    assert [str(v) for v in check_plan(scenario, result.assignment)] == []


@pytest.mark.parametrize(("low", "high"), [(95, 105), (19_001, 20_999)])
def test_a_balance_bound_holds_plans_at_and_just_inside_it(low: int, high: int) -> None:
    """Targets 95 and 105 are exactly 5% off their mean; 19,001 and 20,999 just inside it."""
    scenario = make_scenario(
        [
            *standard_customers(1, interest_income=low),
            *standard_customers(1, start=1, interest_income=high),
        ],
        [manager("M1"), manager("M2")],
        policy={"span": {"tolerance": 0}, "balance": {"max_deviation": 0.05}},
    )
    result = solve_fast(scenario)
    assert result.has_plan, result.explanation
    assert [str(v) for v in check_plan(scenario, result.assignment)] == []


def test_a_bound_smaller_than_the_rounding_margin_holds_equal_portfolios() -> None:
    scenario = make_scenario(
        standard_customers(4),
        [manager("M1"), manager("M2")],
        policy={"span": {"tolerance": 0}, "balance": {"max_deviation": 0.00005}},
    )
    result = solve_fast(scenario)
    assert result.has_plan, result.explanation


def test_a_branch_with_every_customer_pinned_has_its_one_plan_proven_at_once() -> None:
    """400 x 20, too large for one exact model: the one plan there is, proven, not searched."""
    rows = [
        {**row, "pinned_manager_id": f"M{1 + i % 20}", "interest_income": 100 + i}
        for i, row in enumerate(standard_customers(400))
    ]
    scenario = make_scenario(rows, [manager(f"M{m}") for m in range(1, 21)])

    result = solve_fast(scenario, time_limit_s=20)

    plan = valid_plan(scenario, result)
    assert manager_of(plan) == {row["customer_id"]: row["pinned_manager_id"] for row in rows}
    assert result.status.value == "optimal" and result.gap == 0.0
    assert result.runtime < 5
