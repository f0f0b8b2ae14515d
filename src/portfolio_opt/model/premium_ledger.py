"""Customers both premium and booked in a separate ledger: placed first, in portfolios of their own.

Such a customer's portfolio may hold only premium customers (rule 3) and only separate-ledger
customers (rule 4): only customers like it. Its manager has the premium grade, is designated
for premium portfolios where any manager is, and for separate-ledger ones where any is; and
holds nothing else. These portfolios share no customer and no manager with the rest of the
branch, so a small model places them first, and the rest of the branch is solved as usual
without them (its span band still counts every customer and manager of the branch).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from portfolio_opt.model.instance import PREMIUM, SEPARATE, group_components, manager_bands
from portfolio_opt.model.settings import limit_solver
from portfolio_opt.scenario.data import Scenario, premium_ledger_mask

PORTFOLIO_TYPE = "premium"  # as the plan checker and the payout read a premium-only portfolio
HOLDER_WEIGHT = 1_000_000  # each holder taken from the rest of the branch, before all else
MOVE_WEIGHT = 1_000  # each customer moved from last year's manager


@dataclass(frozen=True)
class Limit:
    seconds: float
    seed: int
    deterministic: bool


@dataclass
class PremiumLedger:
    """The plan of the premium separate-ledger customers, and the rest of the branch."""

    assignment: pd.DataFrame  # customer_id, manager_id, portfolio_type, prior_manager_id, moved
    holders: list[str]
    rest: Scenario


def place_premium_ledger(
    scenario: Scenario, time_limit_s: float, seed: int = 0, deterministic: bool = True
) -> PremiumLedger | list[str] | None:
    """The premium separate-ledger customers' plan and the rest of the branch; why there is
    none (the reasons); or None when the branch has no such customers."""
    both = premium_ledger_mask(scenario.customers, scenario.policy)
    if not both.any():
        return None
    customers = scenario.customers.reset_index(drop=True)
    managers = scenario.available_managers.reset_index(drop=True)
    blocks = [c for c in group_components(customers, scenario.relations) if both[c].any()]
    reasons = _mixed_groups(customers, blocks, both)
    if reasons or not len(managers):
        return reasons or None  # no managers at all: the usual path says so
    low, high = _portfolio_band(scenario, managers)
    eligible = _eligible(scenario, managers, both) & (low <= high)
    reasons = _pins_kept_out(scenario, customers, managers, blocks, eligible)
    if reasons:
        return reasons
    if not eligible.any():
        return [_no_holder(scenario, customers, managers, both)]
    limit = Limit(time_limit_s, seed, deterministic)
    solved = _solve(scenario, customers, managers, blocks, eligible, low, high, limit)
    if solved is None:
        return [_no_fit(customers, managers, both, eligible, low, high)]
    frame = _frame(customers, managers, blocks, solved)
    holders = sorted(set(frame["manager_id"]))
    return PremiumLedger(frame, holders, _rest(scenario, both, holders))


# -- who may hold them -------------------------------------------------------------------------
def _portfolio_band(scenario: Scenario, managers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per manager, the customers such a portfolio may hold: the premium band (the checker's
    reading of a premium-only portfolio), within the separate-ledger band too where the two
    overlap, so the plan keeps either reading of rule 5."""
    low, high = manager_bands(scenario, managers, len(scenario.customers))
    both_low = np.maximum(low[PREMIUM], low[SEPARATE])
    both_high = np.minimum(high[PREMIUM], high[SEPARATE])
    overlap = both_low <= both_high
    return np.where(overlap, both_low, low[PREMIUM]), np.where(overlap, both_high, high[PREMIUM])


def _eligible(scenario: Scenario, managers: pd.DataFrame, both: np.ndarray) -> np.ndarray:
    """Managers of the premium grade, designated as rules 3 and 4 ask, whom no other customer
    is pinned to."""
    premium = managers["premium"].to_numpy(dtype=bool)
    ledger = managers["separate_ledger"].to_numpy(dtype=bool)
    ok = (managers["grade"] == scenario.policy.premium_grade).to_numpy(copy=True)
    if premium.any():
        ok &= premium
    if ledger.any():
        ok &= ledger
    customers = scenario.customers.reset_index(drop=True)
    pinned_by_others = set(customers.loc[~both, "pinned_manager_id"]) - {""}
    return ok & ~managers["manager_id"].isin(pinned_by_others).to_numpy()


def _reserved(scenario: Scenario, managers: pd.DataFrame) -> list[tuple[np.ndarray, int]]:
    """(managers, how many must stay) for the plain premium and plain separate-ledger customers
    of the rest of the branch: enough of the managers who may hold them."""
    customers = scenario.customers.reset_index(drop=True)
    both = premium_ledger_mask(customers, scenario.policy)
    premium_class = (customers["customer_class"] == scenario.policy.premium_class).to_numpy()
    ledger_customer = customers["separate_ledger"].to_numpy(dtype=bool)
    premium = managers["premium"].to_numpy(dtype=bool)
    ledger = managers["separate_ledger"].to_numpy(dtype=bool)
    grade_ok = (managers["grade"] == scenario.policy.premium_grade).to_numpy()
    _, high = manager_bands(scenario, managers, len(customers))
    out = []
    plain_premium = int((premium_class & ~ledger_customer).sum())
    if plain_premium:
        may = grade_ok & ~ledger & (premium if premium.any() else True)
        out.append((may, math.ceil(plain_premium / max(int(high[PREMIUM].max()), 1))))
    plain_ledger = int((ledger_customer & ~both).sum())
    if plain_ledger:
        may = ~premium & (ledger if ledger.any() else True)
        out.append((may, math.ceil(plain_ledger / max(int(high[SEPARATE].max()), 1))))
    return out


# -- the model ---------------------------------------------------------------------------------
def _solve(
    scenario: Scenario,
    customers: pd.DataFrame,
    managers: pd.DataFrame,
    blocks: list[list[int]],
    eligible: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    limit: Limit,
) -> dict[int, int] | None:
    """Block -> manager position: fewest holders, then fewest moves, then sizes nearest the
    span's ideal; None when no plan exists."""
    model = cp_model.CpModel()
    ids = list(managers["manager_id"])
    n, m = len(customers), len(managers)
    holders = [int(i) for i in np.flatnonzero(eligible)]
    used = {i: model.new_bool_var(f"y{i}") for i in holders}
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    moves = []
    for b, members in enumerate(blocks):
        allowed = _allowed(scenario, customers, members, ids, holders)
        if not allowed:
            return None
        for i in allowed:
            x[b, i] = model.new_bool_var(f"x{b}_{i}")
            model.add_implication(x[b, i], used[i])
            stay = sum(int(customers.at[c, "prior_manager_id"] == ids[i]) for c in members)
            moves.append((len(members) - stay) * x[b, i])
        model.add_exactly_one(x[b, i] for i in allowed)
    spread = []
    for i in holders:
        load = sum(len(blocks[b]) * v for (b, j), v in x.items() if j == i)
        model.add(load >= int(low[i]) * used[i])
        model.add(load <= int(high[i]) * used[i])
        deviation = model.new_int_var(0, m * n, f"d{i}")
        model.add_abs_equality(deviation, m * load - n * used[i])
        spread.append(deviation)
    for may, keep in _reserved(scenario, managers):
        taken = [used[i] for i in holders if may[i]]
        model.add(sum(taken) <= int(may.sum()) - keep)
    model.minimize(HOLDER_WEIGHT * sum(used.values()) + MOVE_WEIGHT * sum(moves) + sum(spread))
    solver = cp_model.CpSolver()
    solver.parameters.catch_sigint_signal = False  # Ctrl-C is the caller's
    limit_solver(solver.parameters, max(limit.seconds, 0.1), limit.deterministic)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = limit.seed
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return {b: i for (b, i), v in x.items() if solver.value(v)}


def _allowed(
    scenario: Scenario,
    customers: pd.DataFrame,
    members: list[int],
    ids: list[str],
    holders: list[int],
) -> list[int]:
    """The holders a block may go to: its pin, else any but a manager rotation takes it from."""
    pins = set(customers.loc[members, "pinned_manager_id"]) - {""}
    if pins:
        return [i for i in holders if ids[i] in pins] if len(pins) == 1 else []
    most = scenario.policy.rotation.max_tenure_years
    barred = set()
    if most is not None:
        for c in members:
            tenure = customers.at[c, "tenure_years"]
            if not pd.isna(tenure) and tenure >= most:
                barred.add(customers.at[c, "prior_manager_id"])
    return [i for i in holders if ids[i] not in barred]


def _frame(
    customers: pd.DataFrame, managers: pd.DataFrame, blocks: list[list[int]], solved: dict[int, int]
) -> pd.DataFrame:
    rows = [(c, managers.at[i, "manager_id"]) for b, i in solved.items() for c in blocks[b]]
    rows.sort()
    frame = pd.DataFrame(
        {
            "customer_id": [str(customers.at[c, "customer_id"]) for c, _ in rows],
            "manager_id": [str(mid) for _, mid in rows],
            "portfolio_type": PORTFOLIO_TYPE,
            "prior_manager_id": [str(customers.at[c, "prior_manager_id"]) for c, _ in rows],
        }
    )
    frame["moved"] = (frame["prior_manager_id"] != "") & (
        frame["prior_manager_id"] != frame["manager_id"]
    )
    return frame


def _rest(scenario: Scenario, both: np.ndarray, holders: list[str]) -> Scenario:
    """The branch without the premium separate-ledger customers and their managers, its span
    band still computed over the whole branch."""
    customers = scenario.customers.reset_index(drop=True)
    placed = set(customers.loc[both, "customer_id"])
    relations = scenario.relations
    affinity = scenario.affinity
    return dataclasses.replace(
        scenario,
        customers=customers[~both].reset_index(drop=True),
        managers=scenario.managers[~scenario.managers["manager_id"].isin(holders)],
        relations=relations[~relations["a"].isin(placed) & ~relations["b"].isin(placed)],
        affinity=affinity[
            ~affinity["customer_id"].isin(placed) & ~affinity["manager_id"].isin(holders)
        ],
        span_basis=(len(customers), len(scenario.available_managers)),
    )


# -- why not -----------------------------------------------------------------------------------
def _names(ids: list[str], most: int = 8) -> str:
    shown = ", ".join(ids[:most])
    return shown + (f" and {len(ids) - most} more" if len(ids) > most else "")


def _mixed_groups(customers: pd.DataFrame, blocks: list[list[int]], both: np.ndarray) -> list[str]:
    ids = customers["customer_id"].to_numpy()
    return [
        f"A group holds premium separate-ledger customers ({_names(list(ids[b][both[b]]))}) "
        f"and others ({_names(list(ids[b][~both[b]]))}). A group stays in one "
        "portfolio, but a premium separate-ledger customer's portfolio holds only customers "
        "both premium and separate-ledger: change the class or ledger of some members, or split "
        "the group."
        for b in blocks
        if not both[b].all()
    ]


def _pins_kept_out(
    scenario: Scenario,
    customers: pd.DataFrame,
    managers: pd.DataFrame,
    blocks: list[list[int]],
    eligible: np.ndarray,
) -> list[str]:
    may = set(managers.loc[eligible, "manager_id"])
    out = []
    for b in blocks:
        for c in b:
            pin = customers.at[c, "pinned_manager_id"]
            if pin and pin not in may:
                rule = _holder_rule(scenario, managers)
                out.append(
                    f"{customers.at[c, 'customer_id']} is premium and booked in a separate ledger "
                    f"but pinned to {pin}, who may not hold such a portfolio ({rule}): "
                    "pin it to such a manager, or remove the pin."
                )
    return out


def _holder_rule(scenario: Scenario, managers: pd.DataFrame) -> str:
    """Who may hold a premium separate-ledger portfolio, in words."""
    rule = f"a manager of grade {scenario.policy.premium_grade}"
    if managers["premium"].any():
        rule += ", flagged premium"
    if managers["separate_ledger"].any():
        rule += ", flagged separate-ledger"
    return rule + ", whom no other customer is pinned to"


def _no_holder(
    scenario: Scenario, customers: pd.DataFrame, managers: pd.DataFrame, both: np.ndarray
) -> str:
    ids = list(customers.loc[both, "customer_id"])
    return (
        f"{len(ids)} customer(s) are premium and booked in a separate ledger ({_names(ids)}): "
        "their portfolio holds only such customers, under "
        f"{_holder_rule(scenario, managers)}; no available manager is one. Flag such a manager "
        "(or give one the grade), or change the class or the ledger flag of these customers."
    )


def _no_fit(
    customers: pd.DataFrame,
    managers: pd.DataFrame,
    both: np.ndarray,
    eligible: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> str:
    ids = list(customers.loc[both, "customer_id"])
    may = [f"{managers.at[i, 'manager_id']} {low[i]}..{high[i]}" for i in np.flatnonzero(eligible)]
    return (
        f"{len(ids)} customer(s) are premium and booked in a separate ledger ({_names(ids)}), "
        "in portfolios of their own; the managers who may hold them, with the customers each "
        f"such portfolio may hold ({_names(may)}), cannot take them all within those bands "
        "(with their pins and rotation, and leaving enough managers for the other premium and "
        "separate-ledger customers). Widen the premium band, flag more managers, or change the "
        "class or the ledger flag of some of these customers."
    )
