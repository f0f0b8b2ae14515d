"""Property tests of the engine on random tiny branches.

``feasible_branches`` draws a plan first (managers, their portfolios, sizes within one of each
other) and then a scenario that this plan satisfies: groups inside portfolios, pins to the
holder, rotation only away from other managers, a balance bound just above the plan's own
spread. ``any_branches`` draws scenarios with no such care, with tolerance 0 or 1, so many of
them are infeasible. Either way ``solve`` may only return a plan the independent checker
accepts; without a plan it must say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from plan.builders import make_scenario, plan
from portfolio_opt.model.result import SolveStatus
from portfolio_opt.model.solve import rule_collisions
from portfolio_opt.plan import check_plan
from portfolio_opt.plan.checker import customer_targets
from portfolio_opt.scenario.data import Scenario

from .helpers import solve_fast

STANDARD_CLASSES = ["key", "growth", "basic", "watch", "exit"]
INDUSTRIES = ["steel", "ports", "retail", "chemicals"]
LIMIT = 5  # max_tenure_years, when the rotation rule is on
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass
class Branch:
    """A drawn scenario, with the plan it was built around (if any)."""

    customers: list[dict[str, Any]]
    managers: list[dict[str, Any]]
    relations: list[dict[str, Any]]
    policy: dict[str, Any]
    holdings: dict[str, list[str]] | None = None

    def scenario(self) -> Scenario:
        return make_scenario(self.customers, self.managers, self.relations, policy=self.policy)


def _portfolio_managers(draw: st.DrawFn, designated: bool) -> list[dict[str, Any]]:
    kinds = ["standard"] * draw(st.integers(2, 3))
    kinds += ["premium"] * draw(st.integers(0, 1)) + ["separate_ledger"] * draw(st.integers(0, 1))
    flag_premium = designated or draw(st.booleans())
    flag_separate = designated or draw(st.booleans())
    return [
        {
            "manager_id": f"M{number}",
            "grade": "A" if kind == "premium" else draw(st.sampled_from(["A", "B", "C"])),
            "premium": kind == "premium" and flag_premium,
            "separate_ledger": kind == "separate_ledger" and flag_separate,
            "kind": kind,
        }
        for number, kind in enumerate(kinds)
    ]


def _balance_bound(branch: Branch, standard: list[str]) -> float | None:
    """Just above the plan's own spread of standard targets, when that leaves a usable bound."""
    assert branch.holdings is not None
    target = customer_targets(branch.scenario())
    totals = [sum(target[c] for c in branch.holdings[mid]) for mid in standard]
    mean = sum(totals) / len(totals)
    if mean <= 0:
        return None
    spread = max(abs(t - mean) for t in totals) / mean
    return round(spread + 0.05, 4) if spread + 0.05 < 0.95 else None


@st.composite
def feasible_branches(draw: st.DrawFn) -> Branch:
    rotation = draw(st.booleans())
    managers = _portfolio_managers(draw, designated=draw(st.booleans()))
    size = draw(st.integers(1, 4))
    customers: list[dict[str, Any]] = []
    relations: list[dict[str, Any]] = []
    holdings: dict[str, list[str]] = {}
    prior_choices = [m["manager_id"] for m in managers] + ["MX"]  # MX has left
    for m in managers:
        held = [f"C{len(customers) + i:02d}" for i in range(size + draw(st.integers(0, 1)))]
        holdings[m["manager_id"]] = held
        group = 0
        for position, cid in enumerate(held):
            if position and draw(st.integers(0, 3)) == 0:
                group += 1  # a new group starts; the rest of this portfolio may join it
            pinned = draw(st.integers(0, 5)) == 0
            prior = draw(st.sampled_from(prior_choices))
            tenure = draw(st.integers(0, 8))
            if rotation and prior == m["manager_id"]:
                tenure = min(tenure, LIMIT - 1)  # staying is allowed only below the limit
            customers.append(
                {
                    "customer_id": cid,
                    "customer_class": "premium"
                    if m["kind"] == "premium"
                    else draw(st.sampled_from(STANDARD_CLASSES)),
                    "separate_ledger": m["kind"] == "separate_ledger",
                    "group_id": f"G{m['manager_id']}-{group}" if group else "",
                    "industry": draw(st.sampled_from(INDUSTRIES)),
                    "interest_income": draw(st.integers(0, 1000)),
                    "fee_income": draw(st.integers(0, 300)),
                    "prior_manager_id": prior,
                    "tenure_years": tenure,
                    "pinned_manager_id": m["manager_id"] if pinned else "",
                }
            )
        if len(held) > 1 and draw(st.booleans()):
            relations.append({"a": held[0], "b": held[-1], "kind": "group"})
    ids = [c["customer_id"] for c in customers]
    for _ in range(draw(st.integers(0, 4))):
        a, b = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
        if a != b:
            relations.append({"a": a, "b": b, "kind": "chain", "weight": draw(st.integers(1, 3))})
    policy: dict[str, Any] = {
        "span": {"tolerance": draw(st.integers(0, 1))},
        "objective": {
            "order": draw(st.permutations(["span", "balance", "chain", "industry", "continuity"]))
        },
    }
    if rotation:
        policy["rotation"] = {"max_tenure_years": LIMIT}
    rows = [{k: v for k, v in m.items() if k != "kind"} for m in managers]
    rows.append({"manager_id": "MX", "grade": "B", "available": False})
    branch = Branch(customers, rows, relations, policy, holdings)
    if draw(st.booleans()):
        standard = [m["manager_id"] for m in managers if m["kind"] == "standard"]
        bound = _balance_bound(branch, standard)
        if bound is not None:
            policy["balance"] = {"max_deviation": bound}
    return branch


@st.composite
def any_branches(draw: st.DrawFn) -> Branch:
    n_managers = draw(st.integers(2, 4))
    managers = [
        {
            "manager_id": f"M{i}",
            "grade": draw(st.sampled_from(["A", "B"])),
            "premium": draw(st.integers(0, 5)) == 0,
            "separate_ledger": draw(st.integers(0, 5)) == 0,
            "available": draw(st.integers(0, 7)) > 0,
        }
        for i in range(n_managers)
    ]
    managers[0]["available"] = True  # the loader refuses a branch with nobody available
    available = [m["manager_id"] for m in managers if m["available"]]
    all_ids = [m["manager_id"] for m in managers]
    n_customers = draw(st.integers(n_managers, 12))
    customers = [
        {
            "customer_id": f"C{i:02d}",
            "customer_class": draw(st.sampled_from(["premium", *STANDARD_CLASSES])),
            "separate_ledger": draw(st.integers(0, 6)) == 0,
            "group_id": draw(st.sampled_from(["", "", "", "G1", "G2"])),
            "industry": draw(st.sampled_from(INDUSTRIES)),
            "interest_income": draw(st.integers(0, 1000)),
            "prior_manager_id": draw(st.sampled_from(["", *all_ids])),
            "tenure_years": draw(st.integers(0, 8)),
            "pinned_manager_id": draw(st.sampled_from(["", "", "", "", *available])),
        }
        for i in range(n_customers)
    ]
    policy: dict[str, Any] = {"span": {"tolerance": draw(st.integers(0, 1))}}
    if draw(st.booleans()):
        policy["rotation"] = {"max_tenure_years": LIMIT}
    if draw(st.booleans()):
        policy["balance"] = {"max_deviation": draw(st.sampled_from([0.05, 0.2, 0.5]))}
    return Branch(customers, managers, [], policy)


@given(feasible_branches())
@PROPERTY
def test_a_branch_with_a_valid_plan_gets_a_valid_plan(branch: Branch) -> None:
    scenario = branch.scenario()
    assert branch.holdings is not None
    assert check_plan(scenario, plan(branch.holdings)) == []  # the drawn plan proves feasibility
    assert rule_collisions(scenario, time_limit_s=2.0) == []  # validate never refuses it

    result = solve_fast(scenario)

    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE), result.explanation
    assert result.assignment is not None
    assert [str(v) for v in check_plan(scenario, result.assignment)] == []


# A premium separate-ledger customer pinned to the manager rotation takes it from.
PINNED_AGAINST_ROTATION = Branch(
    customers=[
        {
            "customer_id": "C00",
            "customer_class": "premium",
            "separate_ledger": True,
            "group_id": "",
            "industry": "steel",
            "interest_income": 0,
            "prior_manager_id": "M0",
            "tenure_years": 5,
            "pinned_manager_id": "M0",
        },
        {
            "customer_id": "C01",
            "customer_class": "premium",
            "separate_ledger": True,
            "group_id": "",
            "industry": "steel",
            "interest_income": 0,
            "prior_manager_id": "",
            "tenure_years": 0,
            "pinned_manager_id": "",
        },
    ],
    managers=[
        {"manager_id": "M0", "grade": "A", "premium": True, "separate_ledger": True},
        {
            "manager_id": "M1",
            "grade": "A",
            "premium": True,
            "separate_ledger": True,
            "available": False,
        },
    ],
    relations=[],
    policy={"span": {"tolerance": 0}, "rotation": {"max_tenure_years": 5}},
    holdings=None,
)


@given(any_branches())
@example(PINNED_AGAINST_ROTATION)
@PROPERTY
def test_solve_never_returns_a_plan_that_breaks_a_rule(branch: Branch) -> None:
    scenario = branch.scenario()

    result = solve_fast(scenario)

    if result.has_plan:
        assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
        assert [str(v) for v in check_plan(scenario, result.assignment)] == []
    else:
        assert result.status in (SolveStatus.INFEASIBLE, SolveStatus.NO_PLAN)
        assert result.explanation and all(reason.strip() for reason in result.explanation)
