"""A short description of what is in a scenario, for ``portfolio-opt validate``."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from portfolio_opt.model.instance import group_components, span_band
from portfolio_opt.scenario.data import Scenario


def scenario_summary(scenario: Scenario) -> dict[str, object]:
    """Counts a planner checks before solving: classes, groups, managers, links, span band."""
    customers, managers = scenario.customers, scenario.managers
    available = managers[managers["available"]]
    groups = [g for g in group_components(customers, scenario.relations) if len(g) > 1]
    sizes = Counter(len(g) for g in groups)
    chain = _chain_links(scenario)
    n, m = len(customers), len(available)
    low, high = span_band(n, m, scenario.policy.span.tolerance) if m else (0, 0)
    return {
        "scenario": scenario.name,
        "customers": n,
        "customers_by_class": dict(Counter(customers["customer_class"]).most_common()),
        "groups": len(groups),
        "customers_in_groups": sum(len(g) for g in groups),
        "largest_group": max((len(g) for g in groups), default=0),
        "group_sizes": dict(sorted(sizes.items())),
        "separate_ledger_customers": int(customers["separate_ledger"].sum()),
        "industries": int(customers.loc[customers["industry"] != "", "industry"].nunique()),
        "managers": len(managers),
        "managers_available": m,
        "managers_by_grade": dict(sorted(Counter(available["grade"]).items())),
        "managers_designated_premium": int(available["premium"].sum()),
        "managers_separate_ledger": int(available["separate_ledger"].sum()),
        # A link listed twice (either way round) is one link; its weights add up.
        "chain_links": len({frozenset(pair) for pair in zip(chain["a"], chain["b"], strict=True)}),
        # The weight the chain goal counts, as solve reports it ("cut 11 of 33").
        "chain_link_weight": round(float(chain["weight"].sum()), 2),
        "pinned_customers": int((customers["pinned_manager_id"] != "").sum()),
        "customers_with_prior_manager": int((customers["prior_manager_id"] != "").sum()),
        "span_ideal": round(n / m, 2) if m else None,
        "span_band": [low, high],
        "tables": sorted(scenario.files),
    }


def _chain_links(scenario: Scenario) -> pd.DataFrame:
    """The chain rows the chain goal counts: not a customer with itself, both ends known."""
    relations = scenario.relations
    known = set(scenario.customers["customer_id"])
    counted = (
        (relations["kind"].str.lower() == "chain")
        & (relations["a"] != relations["b"])
        & relations["a"].isin(known)
        & relations["b"].isin(known)
    )
    return relations[counted]
