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
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from portfolio_opt.model.instance import (
    PREMIUM,
    SEPARATE,
    build_instance,
    group_components,
    manager_bands,
)
from portfolio_opt.model.settings import limit_solver
from portfolio_opt.problems import listed
from portfolio_opt.scenario.data import Scenario, premium_ledger_mask

PORTFOLIO_TYPE = "separate_ledger"  # as the plan checker and the payout read it (plan.types)
WORK_UNITS = 1000  # workload units per unit of the table's workload
Room = frozenset[str]  # what the rest of the branch is left: managers for each plain kind
ROOM: Room = frozenset({"premium", "separate-ledger", "bands"})  # (Reserved.kind), its bands
HOLDER_WEIGHT = 1_000_000  # each holder taken from the rest of the branch, before all else
MOVE_WEIGHT = 1_000  # each customer moved from last year's manager
SHOWN = 8  # ids named in an explanation before "and N more"


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
    scenario: Scenario,
    time_limit_s: float,
    seed: int = 0,
    deterministic: bool = True,
    tried: list[frozenset[str]] | None = None,
) -> PremiumLedger | list[str] | None:
    """The premium separate-ledger customers' plan and the rest of the branch; why there is
    none (the reasons); or None when the branch has no such customers. ``tried`` are sets of
    holders already tried beside the rest of the branch, not to be chosen again."""
    both = premium_ledger_mask(scenario.customers, scenario.policy)
    if not both.any():
        return None
    customers = scenario.customers.reset_index(drop=True)
    managers = scenario.available_managers.reset_index(drop=True)
    blocks = [c for c in group_components(customers, scenario.relations) if both[c].any()]
    reasons = _mixed_groups(customers, blocks, both)
    if reasons or not len(managers):
        return reasons or None  # no managers at all: the usual path says so
    low, high = manager_bands(scenario, managers, len(customers))
    # The checker types such a portfolio separate-ledger (see plan.types): its band applies.
    low, high = low[SEPARATE], high[SEPARATE]
    eligible = _eligible(scenario, managers, both) & (low <= high)
    reasons = _pins_kept_out(scenario, customers, managers, blocks, eligible)
    if reasons:
        return reasons
    if not eligible.any():
        return [_no_holder(scenario, customers, managers, both)]
    placing = _Placing(scenario, customers, managers, blocks, eligible, low, high)
    limit = Limit(time_limit_s, seed, deterministic)
    solved = placing.solve(limit, tried or [])
    if solved is None:
        if not tried and placing.solve(limit, [], room=frozenset()) is not None:
            return [placing.why_no_room(limit)]
        return [_no_fit(customers, managers, both, eligible, low, high, len(tried or []))]
    frame = _frame(customers, managers, blocks, solved)
    holders = sorted(set(frame["manager_id"]))
    return PremiumLedger(frame, holders, _rest(scenario, both, holders))


# -- who may hold them -------------------------------------------------------------------------
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


@dataclass(frozen=True)
class Reserved:
    """Managers the plain premium (or plain separate-ledger) customers of the rest of the
    branch need: ``keep`` of those in ``may``, for ``customers`` of them."""

    kind: str  # in prose: premium, separate-ledger
    customers: int
    may: np.ndarray  # (managers,) bool
    keep: int


def _reserved(scenario: Scenario, managers: pd.DataFrame) -> list[Reserved]:
    """Per plain kind of the rest of the branch, enough of the managers who may hold it."""
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
        keep = math.ceil(plain_premium / max(int(high[PREMIUM].max()), 1))
        out.append(Reserved("premium", plain_premium, may, keep))
    plain_ledger = int((ledger_customer & ~both).sum())
    if plain_ledger:
        may = ~premium & (ledger if ledger.any() else True)
        keep = math.ceil(plain_ledger / max(int(high[SEPARATE].max()), 1))
        out.append(Reserved("separate-ledger", plain_ledger, may, keep))
    return out


# -- the model ---------------------------------------------------------------------------------
@dataclass
class _Placing:
    """The small model: which eligible manager holds each block of such customers."""

    scenario: Scenario
    customers: pd.DataFrame
    managers: pd.DataFrame
    blocks: list[list[int]]
    eligible: np.ndarray
    low: np.ndarray  # per manager, the customers such a portfolio may hold
    high: np.ndarray

    def solve(
        self, limit: Limit, tried: list[frozenset[str]], room: Room = ROOM
    ) -> dict[int, int] | None:
        """Block -> manager position: fewest holders, then fewest moves (fewest moves first
        where the policy ranks continuity before span), then sizes nearest the span's ideal;
        never a set of holders in ``tried``, and leaving the rest of the branch the ``room``
        asked (managers for each plain kind named, bands that hold its customers); None when
        no plan exists."""
        self.model = cp_model.CpModel()
        self.holders = [int(i) for i in np.flatnonzero(self.eligible)]
        self.used = {i: self.model.new_bool_var(f"y{i}") for i in self.holders}
        x, moves = self._assignment()
        if x is None:
            return None
        spread = self._bands(x)
        needs = _reserved(self.scenario, self.managers)
        self._managers_for_the_kinds([need for need in needs if need.kind in room])
        if "bands" in room:
            self._bands_for_the_rest()
        self._capacities(x)
        ids = list(self.managers["manager_id"])
        for held in tried:
            inside = [v for i, v in self.used.items() if ids[i] in held]
            outside = [v for i, v in self.used.items() if ids[i] not in held]
            self.model.add(sum(inside) - sum(outside) <= len(held) - 1)
        moves += self._displaced()
        move_weight = MOVE_WEIGHT
        if _moves_first(self.scenario):  # a move then outweighs every holder together
            move_weight = HOLDER_WEIGHT * (len(self.holders) + 1)
        self.model.minimize(
            HOLDER_WEIGHT * sum(self.used.values()) + move_weight * sum(moves) + sum(spread)
        )
        solver = cp_model.CpSolver()
        solver.parameters.catch_sigint_signal = False  # Ctrl-C is the caller's
        limit_solver(solver.parameters, max(limit.seconds, 0.1), limit.deterministic)
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = limit.seed
        if solver.solve(self.model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return {b: i for (b, i), v in x.items() if solver.value(v)}

    def _assignment(self) -> tuple[dict[tuple[int, int], Any] | None, list[Any]]:
        """One holder a block, among those its pin and rotation allow; the moves it makes."""
        ids = list(self.managers["manager_id"])
        x: dict[tuple[int, int], Any] = {}
        moves = []
        for b, members in enumerate(self.blocks):
            allowed = _allowed(self.scenario, self.customers, members, ids, self.holders)
            if not allowed:
                return None, []
            for i in allowed:
                x[b, i] = self.model.new_bool_var(f"x{b}_{i}")
                self.model.add_implication(x[b, i], self.used[i])
                prior = self.customers.loc[members, "prior_manager_id"]
                moves.append(int((prior != ids[i]).sum()) * x[b, i])
            self.model.add_exactly_one(x[b, i] for i in allowed)
        return x, moves

    def _displaced(self) -> list[Any]:
        """The moves a holder makes elsewhere: its other customers of last year, who might
        have stayed (no rotation due, no pin elsewhere), leave it."""
        customers, ids = self.customers, list(self.managers["manager_id"])
        both = premium_ledger_mask(customers, self.scenario.policy)
        staying = np.zeros(len(ids), dtype=np.int64)
        position = {mid: i for i, mid in enumerate(ids)}
        for c in np.flatnonzero(~both):
            prior, pin = customers.at[c, "prior_manager_id"], customers.at[c, "pinned_manager_id"]
            if prior not in position or (pin and pin != prior):
                continue
            if prior in _rotated_from(self.scenario, customers, [int(c)]):
                continue
            staying[position[prior]] += 1
        return [int(staying[i]) * self.used[i] for i in self.holders]

    def _bands(self, x: dict[tuple[int, int], Any]) -> list[Any]:
        """Each holder's count within its band; its distance from the span's ideal."""
        n, m = len(self.customers), len(self.managers)
        spread = []
        for i in self.holders:
            load = sum(len(self.blocks[b]) * v for (b, j), v in x.items() if j == i)
            self.model.add(load >= int(self.low[i]) * self.used[i])
            self.model.add(load <= int(self.high[i]) * self.used[i])
            deviation = self.model.new_int_var(0, m * n, f"d{i}")
            self.model.add_abs_equality(deviation, m * load - n * self.used[i])
            spread.append(deviation)
        return spread

    def _managers_for_the_kinds(self, needs: list[Reserved]) -> None:
        """Enough managers left for the plain premium and separate-ledger customers."""
        for need in needs:
            taken = [self.used[i] for i in self.holders if need.may[i]]
            self.model.add(sum(taken) <= int(need.may.sum()) - need.keep)

    def _bands_for_the_rest(self) -> None:
        """The managers left can hold the rest of the customers within their bands."""
        floor, ceiling = _rest_bands(self.scenario, self.managers)
        rest = len(self.customers) - sum(len(b) for b in self.blocks)
        left_floor = int(floor.sum()) - sum(int(floor[i]) * v for i, v in self.used.items())
        left_ceiling = int(ceiling.sum()) - sum(int(ceiling[i]) * v for i, v in self.used.items())
        self.model.add(left_floor <= rest)
        self.model.add(left_ceiling >= rest)

    def _capacities(self, x: dict[tuple[int, int], Any]) -> None:
        """Each holder's workload within its capacity, where managers have one."""
        capacity = self.managers["capacity"].to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(capacity).all():
            return
        work = self._workloads  # (customers, managers), in thousandths
        for i in self.holders:
            if np.isnan(capacity[i]):
                continue
            load = sum(int(work[self.blocks[b], i].sum()) * v for (b, j), v in x.items() if j == i)
            self.model.add(load <= int(np.floor(capacity[i] * WORK_UNITS + 1e-6)))

    def why_no_room(self, limit: Limit) -> str:
        """Why every choice of holders leaves the rest of the branch no plan: a plain kind
        left without enough managers, else the bands of the managers left."""
        for need in _reserved(self.scenario, self.managers):
            if self.solve(limit, [], room=frozenset({need.kind})) is None:
                return _no_managers_left(self, need)
        both = premium_ledger_mask(self.customers, self.scenario.policy)
        return _no_room(self.scenario, self.customers, self.managers, both)

    @cached_property
    def _workloads(self) -> np.ndarray:
        """(customers, available managers): each customer's workload, in thousandths (built
        once, though the model may be solved twice)."""
        from portfolio_opt.model.affinity import customer_workload  # builds on the instance
        from portfolio_opt.payout import customer_targets

        values = customer_targets(self.scenario.customers, self.scenario.policy)["target"]
        work = customer_workload(build_instance(self.scenario, values))
        return np.ceil(work * WORK_UNITS - 1e-6).astype(np.int64)


def _moves_first(scenario: Scenario) -> bool:
    """Whether the policy ranks continuity before span: then a holder is chosen for the moves
    it saves before the manager it leaves the rest of the branch."""
    goals = scenario.policy.objective.goals()
    if "continuity" not in goals:
        return False
    return "span" not in goals or goals.index("continuity") < goals.index("span")


def _rest_bands(scenario: Scenario, managers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per manager, the fewest and most customers it may hold in the rest of the branch: over
    the kinds its flags allow; a manager whose flags allow none holds nothing, but its flagged
    kind's band may still ask for customers (then it must hold these customers or fail)."""
    low, high = manager_bands(scenario, managers, len(scenario.customers))
    premium = managers["premium"].to_numpy(dtype=bool)
    ledger = managers["separate_ledger"].to_numpy(dtype=bool)
    grade_ok = (managers["grade"] == scenario.policy.premium_grade).to_numpy()
    idle = premium & (ledger | ~grade_ok)  # as instance._idle_hold_nothing finds them
    # Flagged premium, an idle manager's empty portfolio reads as premium (as the checker has it).
    floor = np.where(idle, low[PREMIUM], low.min(axis=0))
    ceiling = np.where(idle, 0, high.max(axis=0))
    return floor, ceiling


def _allowed(
    scenario: Scenario,
    customers: pd.DataFrame,
    members: list[int],
    ids: list[str],
    holders: list[int],
) -> list[int]:
    """The holders a block may go to: its pin, else any; never a manager rotation takes it
    from."""
    pins = set(customers.loc[members, "pinned_manager_id"]) - {""}
    barred = _rotated_from(scenario, customers, members)
    if pins:
        return [i for i in holders if ids[i] in pins - barred] if len(pins) == 1 else []
    return [i for i in holders if ids[i] not in barred]


def _rotated_from(scenario: Scenario, customers: pd.DataFrame, members: list[int]) -> set[str]:
    """The managers the rotation rule takes these customers from (tenure at the limit)."""
    most = scenario.policy.rotation.max_tenure_years
    barred = set()
    if most is not None:
        for c in members:
            tenure = customers.at[c, "tenure_years"]
            if not pd.isna(tenure) and tenure >= most:
                barred.add(customers.at[c, "prior_manager_id"])
    return barred


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
def _names(ids: list[str]) -> str:
    return listed(ids, SHOWN)


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
        barred = _rotated_from(scenario, customers, b)
        for c in b:
            pin = customers.at[c, "pinned_manager_id"]
            if pin and pin in barred:
                out.append(
                    f"{customers.at[c, 'customer_id']} is pinned to {pin}, but the rotation rule "
                    f"moves it (or its group) away from {pin} (tenure at "
                    f"{scenario.policy.rotation.max_tenure_years} years or more): clear the pin "
                    "or the tenure."
                )
            elif pin and pin not in may:
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


def _no_room(
    scenario: Scenario, customers: pd.DataFrame, managers: pd.DataFrame, both: np.ndarray
) -> str:
    floor, ceiling = _rest_bands(scenario, managers)
    rest = int((~both).sum())
    needy = [f"{mid} {int(f)}" for mid, f in zip(managers["manager_id"], floor, strict=True) if f]
    return (
        f"{int(both.sum())} customer(s) are premium and booked in a separate ledger, in "
        "separate-ledger portfolios of their own; whichever managers hold them, the others "
        f"cannot hold the remaining {rest} customer(s) within their bands (at least: "
        f"{_names(needy) or 'none'}; at most {int(ceiling.sum())} in all). Widen the span "
        "tolerance, lower min_customers, or make fewer managers available."
    )


def _no_managers_left(placing: _Placing, need: Reserved) -> str:
    scenario, customers, managers = placing.scenario, placing.customers, placing.managers
    both = premium_ledger_mask(customers, scenario.policy)
    ids = list(customers.loc[both, "customer_id"])
    may = list(managers.loc[need.may, "manager_id"])
    holders = [managers.at[i, "manager_id"] for i in placing.holders]
    grade = scenario.policy.premium_grade
    if may:
        short = (
            f"need {need.keep} of {_names(may)} (who may hold {need.kind} portfolios), and "
            "whichever managers hold the premium separate-ledger customers leave too few"
        )
    elif need.kind == "premium":
        short = (
            f"have no manager who may hold a premium portfolio (grade {grade}, flagged premium "
            "where any manager is, and not flagged separate-ledger)"
        )
    else:
        short = (
            "have no manager who may hold a separate-ledger portfolio (flagged separate-ledger "
            "where any manager is, and not flagged premium)"
        )
    fix = (
        f"give another manager grade {grade} (flagged premium, where any manager is)"
        if need.kind == "premium"
        else "flag another manager separate-ledger (one not flagged premium)"
    )
    constraints = _pins_and_rotation(scenario, customers)
    return (
        f"{len(ids)} customer(s) are premium and booked in a separate ledger ({_names(ids)}), in "
        f"separate-ledger portfolios of their own, which only {_names(holders)} may hold"
        f"{f' ({constraints})' if constraints else ''}; the {need.customers} other {need.kind} "
        f"customer(s) {short}. {fix[0].upper()}{fix[1:]}"
        f"{', clear a pin or a tenure' if constraints else ''}, or change the class or the "
        "ledger flag of some of these customers."
    )


def _pins_and_rotation(scenario: Scenario, customers: pd.DataFrame) -> str:
    """The pins and rotations of the premium separate-ledger customers, in words ("" if none)."""
    both = np.flatnonzero(premium_ledger_mask(customers, scenario.policy))
    parts = []
    for c in both:
        cid, pin = customers.at[c, "customer_id"], customers.at[c, "pinned_manager_id"]
        if pin:
            parts.append(f"{cid} pinned to {pin}")
        for away in sorted(_rotated_from(scenario, customers, [int(c)])):
            parts.append(f"{cid} rotating away from {away}")
    return _names(parts)


def _no_fit(
    customers: pd.DataFrame,
    managers: pd.DataFrame,
    both: np.ndarray,
    eligible: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    tried: int,
) -> str:
    ids = list(customers.loc[both, "customer_id"])
    may = [f"{managers.at[i, 'manager_id']} {low[i]}..{high[i]}" for i in np.flatnonzero(eligible)]
    after = (
        f" beside a rest of the branch that has a plan ({tried} choice(s) of holders left the "
        "rest none)"
        if tried
        else ""
    )
    return (
        f"{len(ids)} customer(s) are premium and booked in a separate ledger ({_names(ids)}), "
        "in separate-ledger portfolios of their own; the managers who may hold them, with the "
        f"customers each such portfolio may hold ({_names(may)}), cannot take them all{after} "
        "within those bands, their pins, rotation and capacities, while leaving enough managers "
        "for the other customers. Widen the separate-ledger band, flag more managers, or "
        "change the class or the ledger flag of some of these customers."
    )
