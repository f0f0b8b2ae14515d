"""Handing finished portfolios to the managers who keep most of their customers: fewer moves,
every other goal the same, and never against a pin, the rotation rule or a personal bound."""

from __future__ import annotations

from typing import Any

import numpy as np

from plan.builders import make_scenario
from portfolio_opt.model.goals import evaluate, goal_spec, portfolio_means
from portfolio_opt.model.handover import hand_over
from portfolio_opt.model.instance import PREMIUM, STANDARD, build_instance
from portfolio_opt.model.structure import Structure, decide_structure
from portfolio_opt.plan.checker import customer_targets

MANAGERS = ("M1", "M2", "M3")


def handed_over(priors: list[str], held: list[str], **columns: list[Any]) -> tuple[list, list]:
    """(managers before, managers after) of the customers, by manager id."""
    rows = [
        {
            "customer_id": f"C{i}",
            "customer_class": "key",
            "interest_income": 100,
            "prior_manager_id": prior,
            "tenure_years": 1,
            **{name: values[i] for name, values in columns.items()},
        }
        for i, prior in enumerate(priors)
    ]
    scenario = make_scenario(
        rows,
        [{"manager_id": m, "grade": "B"} for m in MANAGERS],
        policy={"span": {"tolerance": 0}, "rotation": {"max_tenure_years": 5}},
    )
    instance = build_instance(scenario, customer_targets(scenario))
    structure = decide_structure(instance)
    index = {m: i for i, m in enumerate(instance.manager_ids)}
    assign = np.array([index[held[instance.members[b][0]]] for b in range(instance.n_blocks)])
    means = portfolio_means(instance, structure)
    spec = goal_spec(instance)
    new_structure, new_means, after = hand_over(instance, structure, means, spec, assign)
    before_values = evaluate(instance, structure, means, assign)
    after_values = evaluate(instance, new_structure, new_means, after)
    for goal in ("violation", "span", "balance", "chain", "industry"):
        assert after_values[goal] == before_values[goal]
    assert after_values["continuity"] <= before_values["continuity"]

    def names(plan: np.ndarray) -> list[str]:
        return [instance.manager_ids[plan[instance.customer_block[i]]] for i in range(len(priors))]

    return names(assign), names(after)


PRIORS = ["M1", "M1", "M2", "M2", "M3", "M3"]
ROTATED = ["M2", "M2", "M3", "M3", "M1", "M1"]  # every portfolio one manager along


def test_portfolios_go_back_to_the_managers_who_held_their_customers() -> None:
    _, after = handed_over(PRIORS, ROTATED)
    assert after == PRIORS


def test_a_pin_keeps_its_portfolio_where_it_is_pinned() -> None:
    pins = ["", "", "M3", "", "", ""]  # C2 is pinned to M3, where it is now
    _, after = handed_over(PRIORS, ROTATED, pinned_manager_id=pins)
    assert after == ["M1", "M1", "M3", "M3", "M2", "M2"]


def test_rotation_keeps_a_portfolio_from_a_manager_its_customer_must_leave() -> None:
    tenure = [1, 9, 1, 1, 1, 1]  # C1 has been with M1 for 9 years: it must move
    _, after = handed_over(PRIORS, ROTATED, tenure_years=tenure)
    assert after[0] != "M1" and after[1] != "M1"
    assert sum(a == p for a, p in zip(after, PRIORS, strict=True)) == 2  # one portfolio home


def test_a_premium_portfolio_changes_hands_with_a_standard_one_for_affinity() -> None:
    """Two A-grade managers: the premium portfolio goes to the one its customers suit, and the
    kinds the two hold swap with it."""
    customers = [
        {"customer_id": "P1", "customer_class": "premium", "interest_income": 100},
        {"customer_id": "P2", "customer_class": "premium", "interest_income": 100},
        {"customer_id": "S1", "customer_class": "key", "interest_income": 100},
        {"customer_id": "S2", "customer_class": "key", "interest_income": 100},
    ]
    suits = {"P1": "M2", "P2": "M2", "S1": "M1", "S2": "M1"}
    affinity = [
        {"customer_id": c, "manager_id": m, "cost": 0 if suits[c] == m else 5}
        for c in suits
        for m in ("M1", "M2")
    ]
    scenario = make_scenario(
        customers,
        [{"manager_id": m, "grade": "A"} for m in ("M1", "M2")],
        affinity=affinity,
        policy={"span": {"tolerance": 0}, "objective": {"order": ["affinity", "span"]}},
    )
    instance = build_instance(scenario, customer_targets(scenario))
    structure = Structure(np.array([PREMIUM, STANDARD]))  # M1 premium: the costlier choice
    assign = np.array([0 if instance.kind[b] == PREMIUM else 1 for b in range(instance.n_blocks)])
    means = portfolio_means(instance, structure)
    new_structure, new_means, after = hand_over(
        instance, structure, means, goal_spec(instance), assign
    )
    assert list(new_structure.kind) == [STANDARD, PREMIUM]
    assert evaluate(instance, new_structure, new_means, after)["affinity"] == 0
    assert evaluate(instance, new_structure, new_means, after)["violation"] == 0
