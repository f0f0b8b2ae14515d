"""Property tests: random valid plans pass, and one planted break is always caught.

A case is drawn plan first: managers and their portfolios (one premium, one separate-ledger,
the rest standard), sizes within one of each other, then a scenario that this plan satisfies
by construction (groups inside portfolios, pins to the holder, rotation only away from priors,
a balance bound just above the plan's own spread). Mutations then break one rule at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from portfolio_opt.plan import check_plan

from .builders import make_scenario, plan

STANDARD_CLASSES = ["key", "growth", "basic", "watch", "exit"]
LIMIT = 5  # rotation after this many years


@dataclass
class Case:
    customers: list[dict[str, Any]]
    managers: list[dict[str, Any]]
    relations: list[dict[str, Any]]
    policy: dict[str, Any]
    holdings: dict[str, list[str]]

    def scenario(self, **policy: Any):
        return make_scenario(
            self.customers, self.managers, self.relations, policy={**self.policy, **policy}
        )

    def kind(self, manager: str) -> str:
        return next(m["kind"] for m in self.managers if m["manager_id"] == manager)

    def manager_of(self, customer: str) -> str:
        return next(m for m, held in self.holdings.items() if customer in held)

    def moved(self, customer: str, manager: str) -> pd.DataFrame:
        frame = plan(self.holdings)
        frame.loc[frame["customer_id"] == customer, "manager_id"] = manager
        return frame


@st.composite
def valid_cases(draw: st.DrawFn) -> Case:
    n_standard = draw(st.integers(1, 3))
    kinds = ["standard"] * n_standard
    kinds += ["premium"] * draw(st.integers(0, 1)) + ["separate_ledger"] * draw(st.integers(0, 1))
    flag_premium, flag_separate = draw(st.booleans()), draw(st.booleans())
    size = draw(st.integers(1, 4))
    managers, holdings, customers, relations = [], {}, [], []
    for number, kind in enumerate(kinds):
        mid = f"M{number}"
        grade = "A" if kind == "premium" else draw(st.sampled_from(["A", "B", "C"]))
        managers.append(
            {
                "manager_id": mid,
                "grade": grade,
                "kind": kind,
                "premium": kind == "premium" and flag_premium,
                "separate_ledger": kind == "separate_ledger" and flag_separate,
            }
        )
        held = [f"C{len(customers) + i}" for i in range(size + draw(st.integers(0, 1)))]
        holdings[mid] = held
        for cid in held:
            customers.append(
                {
                    "customer_id": cid,
                    "customer_class": "premium"
                    if kind == "premium"
                    else draw(st.sampled_from(STANDARD_CLASSES)),
                    "separate_ledger": kind == "separate_ledger",
                    "group_id": draw(st.sampled_from(["", f"{mid}-g1", f"{mid}-g2"])),
                    "industry": draw(st.sampled_from(["", "steel", "retail"])),
                    "interest_income": draw(st.integers(0, 1000)),
                    "fee_income": draw(st.integers(0, 100)),
                    "growth_rate": draw(st.sampled_from([0.0, 0.05, 0.1])),
                    "pinned_manager_id": draw(st.sampled_from(["", mid])),
                }
            )
        if len(held) >= 2 and draw(st.booleans()):
            a, b = draw(st.permutations(held))[:2]
            relations.append({"a": a, "b": b, "kind": "group"})
    all_ids = [m["manager_id"] for m in managers]
    for customer in customers:
        prior = draw(st.sampled_from(["", *all_ids]))
        holder = next(m for m, held in holdings.items() if customer["customer_id"] in held)
        top = LIMIT - 1 if prior == holder else 20
        customer.update(prior_manager_id=prior, tenure_years=draw(st.integers(0, top)))
    ids = [c["customer_id"] for c in customers]
    for _ in range(draw(st.integers(0, 3))):
        a, b = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
        relations.append({"a": a, "b": b, "kind": "chain", "weight": 1})
    if draw(st.booleans()):
        managers.append({"manager_id": "MX", "grade": "A", "kind": "gone", "available": False})
    policy: dict[str, Any] = {
        "span": {"tolerance": draw(st.integers(0, 2))},
        "rotation": {"max_tenure_years": LIMIT},
    }
    deviation = _standard_deviation(customers, holdings, managers)
    if deviation is not None and deviation < 0.9:
        policy["balance"] = {"max_deviation": deviation + 0.05}
    return Case(customers, managers, relations, policy, holdings)


def _standard_deviation(customers, holdings, managers) -> float | None:
    """Largest relative deviation of the standard portfolios' targets from their mean."""
    target = {
        c["customer_id"]: (c["interest_income"] + c["fee_income"]) * (1 + c["growth_rate"])
        for c in customers
    }
    totals = [
        sum(target[c] for c in holdings[m["manager_id"]])
        for m in managers
        if m["kind"] == "standard"
    ]
    mean = sum(totals) / len(totals)
    return max(abs(t - mean) for t in totals) / mean if mean > 0 else None


PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(valid_cases())
def test_valid_plan_passes(case: Case):
    assert check_plan(case.scenario(), plan(case.holdings)) == []


@PROPERTY
@given(valid_cases(), st.data())
def test_dropped_customer_is_caught(case: Case, data: st.DataObject):
    frame = plan(case.holdings)
    dropped = data.draw(st.sampled_from(list(frame["customer_id"])))
    violations = check_plan(case.scenario(), frame[frame["customer_id"] != dropped])
    assert any(v.rule == "coverage" and dropped in v.customers for v in violations)


@PROPERTY
@given(valid_cases(), st.data())
def test_split_group_is_caught(case: Case, data: st.DataObject):
    groups = [c for c in case.customers if c["group_id"]]
    assume(any(sum(g["group_id"] == c["group_id"] for g in groups) >= 2 for c in groups))
    member = data.draw(
        st.sampled_from(
            [c for c in groups if sum(g["group_id"] == c["group_id"] for g in groups) >= 2]
        )
    )
    cid = member["customer_id"]
    others = [m for m in case.holdings if m != case.manager_of(cid)]
    assume(others)
    violations = check_plan(case.scenario(), case.moved(cid, data.draw(st.sampled_from(others))))
    assert any(v.rule == "group" and cid in v.customers for v in violations)


@PROPERTY
@given(valid_cases(), st.data())
def test_moved_pinned_customer_is_caught(case: Case, data: st.DataObject):
    pinned = [c["customer_id"] for c in case.customers if c["pinned_manager_id"]]
    assume(pinned and len(case.holdings) > 1)
    cid = data.draw(st.sampled_from(pinned))
    target = data.draw(st.sampled_from([m for m in case.holdings if m != case.manager_of(cid)]))
    violations = check_plan(case.scenario(), case.moved(cid, target))
    assert any(v.rule == "pin" and cid in v.message and target in v.message for v in violations)


@PROPERTY
@given(valid_cases(), st.data())
def test_customer_to_unavailable_manager_is_caught(case: Case, data: st.DataObject):
    assume(any(m["manager_id"] == "MX" for m in case.managers))
    cid = data.draw(st.sampled_from([c["customer_id"] for c in case.customers]))
    violations = check_plan(case.scenario(), case.moved(cid, "MX"))
    assert any(v.rule == "unavailable" and cid in v.message for v in violations)


@PROPERTY
@given(valid_cases(), st.data())
def test_mixing_portfolio_types_is_caught(case: Case, data: st.DataObject):
    kinds = {m: case.kind(m) for m in case.holdings}
    special = [m for m, kind in kinds.items() if kind != "standard"]
    assume(special)
    into = data.draw(st.sampled_from(special))
    standard = [c for m, kind in kinds.items() if kind == "standard" for c in case.holdings[m]]
    cid = data.draw(st.sampled_from(standard))
    rule = "premium_only" if kinds[into] == "premium" else "separate_ledger"
    violations = check_plan(case.scenario(), case.moved(cid, into))
    assert any(v.rule == rule and cid in v.message for v in violations)


@PROPERTY
@given(valid_cases(), st.data())
def test_rotation_due_is_caught(case: Case, data: st.DataObject):
    customer = data.draw(st.sampled_from(case.customers))
    customer.update(prior_manager_id=case.manager_of(customer["customer_id"]), tenure_years=LIMIT)
    violations = check_plan(case.scenario(), plan(case.holdings))
    assert [v.customers for v in violations if v.rule == "rotation"] == [(customer["customer_id"],)]


@PROPERTY
@given(valid_cases())
def test_tighter_span_band_is_caught(case: Case):
    sizes = [len(held) for held in case.holdings.values()]
    assume(max(sizes) > 1)
    managers = [
        {**m, "max_customers": max(sizes) - 1} if m["manager_id"] == "M0" else m
        for m in case.managers
    ]
    scenario = make_scenario(case.customers, managers, case.relations, policy=case.policy)
    violations = check_plan(scenario, plan(case.holdings))
    assert any(v.rule == "span" for v in violations) == (len(case.holdings["M0"]) == max(sizes))
