"""The span lower bound: what portfolio kinds add to it, and that no valid plan beats it
(checked by enumerating every plan of tiny branches)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plan.builders import cheapest_valid_plan, make_scenario
from portfolio_opt.model.bounds import span_bound
from portfolio_opt.model.instance import build_instance
from portfolio_opt.payout import customer_targets
from portfolio_opt.scenario.data import Scenario


def bound_of(scenario: Scenario) -> int:
    return span_bound(
        build_instance(scenario, customer_targets(scenario.customers, scenario.policy)["target"])
    )


def span_of(choice: dict[str, str], managers: list[str]) -> int:
    """sum over managers of |M n_m - N|, counted here from the plan itself."""
    counts = Counter(choice.values())
    return sum(abs(len(managers) * counts[m] - len(choice)) for m in managers)


def test_a_small_premium_portfolio_is_counted():
    # 2 premium customers must sit with the only A-grade manager, alone; the 7 others share
    # two portfolios. Even split 2 / 4 / 3 gives |6-9| + |12-9| + |9-9| = 6, not 0.
    customers = [{"customer_id": f"P{i}", "customer_class": "premium"} for i in range(2)] + [
        {"customer_id": f"S{i}", "customer_class": "key"} for i in range(7)
    ]
    managers = [
        {"manager_id": "MA", "grade": "A"},
        {"manager_id": "MB", "grade": "B"},
        {"manager_id": "MC", "grade": "B"},
    ]
    scenario = make_scenario(customers, managers, policy={"span": {"tolerance": 2}})
    assert bound_of(scenario) == 6


def test_a_separate_ledger_band_is_counted():
    # Separate-ledger portfolios hold 1..2 customers; 3 such customers need two of them.
    customers = [
        {"customer_id": f"L{i}", "customer_class": "key", "separate_ledger": True} for i in range(3)
    ] + [{"customer_id": f"S{i}", "customer_class": "key"} for i in range(9)]
    managers = [{"manager_id": f"M{i}", "grade": "B"} for i in range(4)]
    policy = {"span": {"tolerance": 9, "separate_ledger": {"min": 1, "max": 2}}}
    # N = 12, M = 4: ledger portfolios of 2 and 1 (|8-12| + |4-12|), standard 5 and 4
    assert bound_of(make_scenario(customers, managers, policy=policy)) == 4 + 8 + 8 + 4


MANAGERS = ["MA", "MB", "MC"]


@st.composite
def tiny_branches(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict]:
    customers = [
        {
            "customer_id": f"C{i}",
            "customer_class": draw(st.sampled_from(["premium", "key", "key"])),
            "separate_ledger": draw(st.sampled_from([False] * 4 + [True])),
            "group_id": draw(st.sampled_from(["", "", "", "G1"])),
        }
        for i in range(4)
    ]
    managers = [
        {
            "manager_id": m,
            "grade": draw(st.sampled_from(["A", "B"])),
            "premium": draw(st.sampled_from([False] * 4 + [True])),
            "max_customers": draw(st.sampled_from([None] * 4 + [4])),
        }
        for m in MANAGERS
    ]
    band = draw(st.sampled_from([None, {"min": 1, "max": 2}, {"min": 2, "max": 3}]))
    policy: dict[str, Any] = {"span": {"tolerance": draw(st.integers(0, 2))}}
    if band is not None:
        policy["span"][draw(st.sampled_from(["premium", "separate_ledger"]))] = band
    return customers, managers, policy


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(tiny_branches())
def test_bound_never_above_the_span_of_a_valid_plan(branch):
    customers, managers, policy = branch
    scenario = make_scenario(customers, managers, policy=policy)
    choice = cheapest_valid_plan(scenario, MANAGERS, lambda c: span_of(c, MANAGERS))
    if choice is not None:
        assert bound_of(scenario) <= span_of(choice, MANAGERS)
