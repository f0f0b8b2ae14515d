"""Collisions a planner can make between the hard rules, found before any search.

Each function checks one kind of collision and returns sentences a planner understands, naming
the customers, groups and managers involved and the numbers that do not fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from portfolio_opt.model.affinity import customer_workload, workload_in_units
from portfolio_opt.model.instance import (
    KIND_NAMES,
    KIND_WORDS,
    MIXED,
    PREMIUM,
    SEPARATE,
    STANDARD,
    Instance,
    kind_bands,
)
from portfolio_opt.model.structure import KINDS, fitting_counts, kind_holders, portfolio_counts
from portfolio_opt.problems import as_sentence, listed

SHOWN = 5


def _names(ids: list[str]) -> str:
    return listed(ids, SHOWN)


def _block_ids(instance: Instance, b: int) -> list[str]:
    return [instance.customer_ids[i] for i in instance.members[b]]


def group_ids(instance: Instance, b: int) -> list[str]:
    """The group_id values of a block's members (more than one where relations join them)."""
    groups = instance.scenario.customers["group_id"].iloc[instance.members[b]]
    return sorted({str(g) for g in groups if str(g)})


def _group_name(instance: Instance, b: int) -> str:
    """A block as a planner names it: its group_id, else the group of its first customer."""
    named = group_ids(instance, b)
    return "/".join(named) if named else f"the group of {_block_ids(instance, b)[0]}"


def _describe_block(instance: Instance, b: int) -> str:
    ids = _block_ids(instance, b)
    if len(ids) == 1:
        return f"customer {ids[0]}"
    named = group_ids(instance, b)
    label = f"group {'/'.join(named)}" if named else "the group"
    return f"{label} of {len(ids)} ({_names(ids)})"


def _customer_kind(instance: Instance, i: int) -> int:
    row = instance.scenario.customers.iloc[i]
    if row["separate_ledger"]:
        return SEPARATE
    return PREMIUM if row["customer_class"] == instance.scenario.policy.premium_class else STANDARD


def _customers_of_kind(instance: Instance, kind: int) -> int:
    """Customers of a kind, those in a group mixing kinds included (a planner counts them)."""
    customers = instance.scenario.customers
    separate = customers["separate_ledger"].to_numpy(dtype=bool)
    premium = (customers["customer_class"] == instance.scenario.policy.premium_class).to_numpy()
    kinds = np.where(separate, SEPARATE, np.where(premium, PREMIUM, STANDARD))
    return int((kinds == kind).sum())


def mixed_groups(instance: Instance) -> list[str]:
    """A group must be one portfolio, but premium / separate-ledger portfolios hold nothing else."""
    reasons = []
    for b in np.flatnonzero((instance.kind == MIXED) & (instance.size > 1)):
        by_kind: dict[int, list[str]] = {}
        for i in instance.members[b]:
            by_kind.setdefault(_customer_kind(instance, int(i)), []).append(
                instance.customer_ids[i]
            )
        parts = "; ".join(f"{KIND_WORDS[k]}: {_names(v)}" for k, v in sorted(by_kind.items()))
        named = group_ids(instance, int(b))
        group = f"group {'/'.join(named)}" if named else "a group"
        reasons.append(
            f"{group} mixes portfolio kinds ({parts}). A group stays in one portfolio, but premium "
            "and separate-ledger portfolios hold nothing else: change the class or ledger of some "
            "members, or split the group."
        )
    return reasons


def conflicting_pins(instance: Instance) -> list[str]:
    return [
        f"{_describe_block(instance, b)} must stay together but is pinned to different managers "
        f"({', '.join(pins)}): pin the whole group to one manager."
        for b, pins in enumerate(instance.pin_conflict)
        if pins
    ]


def pins_to_unavailable(instance: Instance) -> list[str]:
    """Unavailable managers hold no customers, so a pin to one cannot be kept."""
    pins = instance.scenario.customers["pinned_manager_id"].astype(str)
    reasons = []
    for manager in sorted(set(pins) & set(instance.unavailable_ids)):
        pinned = pins.index[pins == manager].tolist()
        ids = [str(instance.scenario.customers["customer_id"].iloc[i]) for i in pinned]
        reasons.append(
            f"{len(ids)} customer(s) ({_names(ids)}) are pinned to manager {manager}, who is not "
            "available, and unavailable managers hold no customers: pin them to an available "
            f"manager, clear the pins, or make {manager} available."
        )
    return reasons


def personal_minimums_fit(instance: Instance) -> list[str]:
    """Every manager holds at least its band's minimum, of the kinds it may hold; together
    those may exceed N. Named: the fewest managers whose minimums alone exceed it (the largest
    first), so that each one named is needed."""
    n = instance.n_customers
    floors = np.array(
        [
            min((instance.low[k, m] for k in KINDS if instance.eligible_kind(m, k)), default=0)
            for m in range(instance.n_managers)
        ]
    )
    if floors.sum() <= n:
        return []
    largest = np.argsort(-floors, kind="stable")
    chosen = largest[: int(np.argmax(np.cumsum(floors[largest]) > n)) + 1]
    personal = instance.scenario.available_managers["min_customers"].reset_index(drop=True)
    named = [
        f"{instance.manager_ids[m]} min_customers {int(personal[m])}"
        for m in chosen
        if pd.notna(personal[m])
    ]
    fixes = ["lower min_customers"] if named else []
    for m in chosen[(floors[chosen] > 0) & personal.isna().to_numpy()[chosen]]:
        fix = _floor_fix(instance, int(m), int(floors[m]))
        if fix not in fixes:
            fixes.append(fix)
    if len(chosen) > 1:
        fixes.append("make fewer managers available")
    least = int(floors[chosen].sum())
    if len(chosen) == 1:
        need = f"Manager {instance.manager_ids[chosen[0]]} must hold at least {least} customers"
    elif len(chosen) == instance.n_managers:
        need = (
            f"The {instance.n_managers} available managers must each hold at least their "
            f"minimum, {least} customers together"
        )
    else:
        ids = _names([instance.manager_ids[m] for m in chosen])
        need = (
            f"{len(chosen)} of the {instance.n_managers} available managers ({ids}) must each "
            f"hold at least their minimum, {least} customers together"
        )
    return [
        f"{need}, but there are only {n}"
        + (f" ({_names(named)})" if named else "")
        + ": "
        + (f"{', '.join(fixes[:-1])} or {fixes[-1]}." if len(fixes) > 1 else f"{fixes[0]}.")
    ]


def _floor_fix(instance: Instance, m: int, floor: int) -> str:
    """What lowers manager ``m``'s least count ``floor``, set by a band (no min_customers)."""
    if instance.eligible_kind(m, STANDARD) and instance.low[STANDARD, m] == floor:
        return "widen the span tolerance"
    kind = next((k for k in (PREMIUM, SEPARATE) if instance.eligible_kind(m, k)), PREMIUM)
    return f"lower [span.{KIND_NAMES[kind]}] min"


def kind_minimums_fit(instance: Instance) -> list[str]:
    """Managers who may hold only one kind of portfolio hold at least their minimum of that
    kind's customers; together those may exceed the kind's customers (where the minimums over
    all managers do not already say so)."""
    if personal_minimums_fit(instance):
        return []
    reasons = []
    # A kind without customers opens no portfolio: its eligible managers hold another kind.
    held = [k for k in (STANDARD, PREMIUM, SEPARATE) if _customers_of_kind(instance, k)]
    for kind in held:
        need = _customers_of_kind(instance, kind)
        only = _only_holders(instance, kind, held)
        least = int(instance.low[kind, only].sum())
        if least <= need:
            continue
        personal = _personal_bounds(instance, only)
        name = KIND_WORDS[kind]
        fix = (
            "lower their min_customers"
            if personal
            else "widen the span tolerance"
            if kind == STANDARD
            else f"lower [span.{KIND_NAMES[kind]}] min"
        )
        reasons.append(
            f"{need} {name} customers, but the {len(only)} manager(s) who may hold only {name} "
            f"portfolios must each hold at least their minimum, {least} together"
            + (f" ({personal})" if personal else "")
            + f": {fix}, or make fewer of them available"
            + (f" or flagged {name}." if kind != STANDARD else ".")
        )
    return reasons


def _only_holders(instance: Instance, kind: int, held: list[int]) -> list[int]:
    """The managers who may hold ``kind`` and none of the other kinds ``held`` (those with
    customers), and may not stay empty in a kind without customers: each of them holds a
    ``kind`` portfolio within its band."""
    return [
        m
        for m in kind_holders(instance, kind)[0]
        if not any(instance.eligible_kind(m, k) for k in held if k != kind)
        and not any(
            instance.eligible_kind(m, k) and instance.low[k, m] == 0
            for k in (STANDARD, PREMIUM, SEPARATE)
            if k not in held
        )
    ]


def group_sizes_fit_bands(instance: Instance) -> list[str]:
    """A group stays whole, so a portfolio's count is a sum of its blocks' sizes: managers who
    may hold only one kind need such a sum within their band (e.g. groups of 4 never make
    exactly 30)."""
    held = [k for k in (STANDARD, PREMIUM, SEPARATE) if (instance.kind == k).any()]
    reasons = []
    for kind in held:
        sizes = instance.size[instance.kind == kind].astype(int)
        only = _only_holders(instance, kind, held)
        counts = _reachable_counts(sizes, int(instance.high[kind, only].max(initial=0)))
        # A minimum above all the kind's customers is a count problem (kind_counts_fit), not
        # one of group sizes.
        stuck = [
            m
            for m in only
            if 0 < instance.low[kind, m] <= sizes.sum()
            and not counts[int(instance.low[kind, m]) : int(instance.high[kind, m]) + 1].any()
        ]
        if not stuck:
            continue
        low, high = int(instance.low[kind, stuck].min()), int(instance.high[kind, stuck].max())
        step = int(np.gcd.reduce(sizes))
        what = f"a multiple of {step}" if step > 1 else "such a sum"
        reasons.append(
            f"The {KIND_WORDS[kind]} customers come in groups that stay whole (sizes "
            f"{_size_summary(sizes)}), so a portfolio's count is a sum of group sizes, but "
            f"{_names([instance.manager_ids[m] for m in stuck])} must"
            f"{' each' if len(stuck) > 1 else ''} hold "
            f"{low if low == high else f'{low}..{high}'} customers"
            + (f" ({personal})" if (personal := _personal_bounds(instance, stuck)) else "")
            + f", and no count there is {what}. {as_sentence(_widen_band(instance, kind))} "
            "or those managers' bounds, or split a group."
        )
    return reasons


def _widen_band(instance: Instance, kind: int) -> str:
    """How to widen the band of ``kind``'s portfolios: its own band where it has one (the span
    tolerance does not reach it), else the span tolerance."""
    if kind == STANDARD:
        return "widen the span tolerance"
    span = instance.scenario.policy.span
    own = span.premium if kind == PREMIUM else span.separate_ledger
    name = f"[span.{KIND_NAMES[kind]}]"
    if own.min is not None and own.max is not None:
        return f"widen {name} min..max"
    if own.min is not None or own.max is not None:
        end = "min" if own.min is not None else "max"
        return f"widen the span tolerance or {name} {end}"
    return "widen the span tolerance"


PACKING_MOST_MANAGERS = 120  # the joint packing check's size: managers ...
PACKING_MOST_SIZES = 30  # ... and distinct group sizes of a kind
PACKING_MOST_CLASSES = 300  # ... and of sizes, pins and rotations together
PACKING_WORK = 1.0  # its work (deterministic seconds, the same on any machine): only a proof
PACKING_GUARD_S = 10.0  # that no split exists is reported; the clock guards a slow machine


def groups_pack_into_portfolios(instance: Instance) -> list[str]:
    """Groups stay whole, so each kind's groups must split among its portfolios with every
    portfolio's count within its band, and every manager holds one kind: counted by group
    size (which groups, not), a small model says whether any split exists (groups of 4 and 7
    fill 30 only as 4 + 4 + 4 + 4 + 7 + 7); where it does, counted also by pin and by the
    manager rotation takes them from, whether one exists with those. Asked where the search
    found no plan: its proof turns "no plan found in the time" into "no plan exists"."""
    kinds = [k for k in KINDS if (instance.kind == k).any()]
    by_size = {k: _classes(instance, k, with_rules=False) for k in kinds}
    too_big = instance.n_managers > PACKING_MOST_MANAGERS or any(
        len(c) > PACKING_MOST_SIZES for c in by_size.values()
    )
    if (instance.kind < 0).any() or too_big or all(_all_single(c) for c in by_size.values()):
        return []
    grouped = [k for k in kinds if not _all_single(by_size[k])]
    if not _packs(instance, kinds, by_size):
        # The kind that fails on its own, where one does: the others are no part of it.
        alone = [k for k in grouped if not _packs(instance, [k], by_size)]
        return [_packing_reason(instance, alone or grouped, "")]
    with_rules = {k: _classes(instance, k, with_rules=True) for k in kinds}
    if with_rules == by_size or any(len(c) > PACKING_MOST_CLASSES for c in with_rules.values()):
        return []
    if _packs(instance, kinds, with_rules):
        return []
    return [_packing_reason(instance, grouped, _pins_and_rotation(instance))]


ClassKey = tuple[int, int, frozenset[int]]  # size, pin, the managers rotation takes it from
Classes = dict[ClassKey, int]  # blocks of each class


def _classes(instance: Instance, kind: int, with_rules: bool) -> Classes:
    """A kind's blocks counted by size, and ``with_rules`` also by pin and by the managers
    rotation takes them from."""
    counts: Classes = {}
    for b in np.flatnonzero(instance.kind == kind):
        pin = int(instance.pin[b]) if with_rules else -1
        away = frozenset(instance.forbidden[b]) if with_rules else frozenset()
        key = (int(instance.size[b]), pin, away)
        counts[key] = counts.get(key, 0) + 1
    return counts


def _all_single(classes: Classes) -> bool:
    return all(size == 1 for size, _, _ in classes)


def _packing_reason(instance: Instance, kinds: list[int], rules: str) -> str:
    parts = "; ".join(
        f"{KIND_WORDS[k]}: sizes {_size_summary(instance.size[instance.kind == k])} for "
        f"{_bands_of(instance, k)}"
        for k in kinds
    )
    return (
        f"The customers come in groups that stay whole ({parts}), and {rules}no split of them "
        "gives every portfolio a count within its band: widen the span tolerance (or the bands "
        "of [span.premium] / [span.separate_ledger])"
        + (", split a group, or lift a pin or the rotation." if rules else " or split a group.")
    )


def _pins_and_rotation(instance: Instance) -> str:
    """The pins and rotation of groups, as the packing check counts them."""
    said = []
    pinned: dict[int, list[str]] = {}
    for b in np.flatnonzero(instance.pin >= 0).tolist():
        size = int(instance.size[b])
        name = f"{_group_name(instance, b)} ({size})" if size > 1 else _block_ids(instance, b)[0]
        pinned.setdefault(int(instance.pin[b]), []).append(name)
    if pinned:
        pins = [
            f"{listed(names, SHOWN)} to {instance.manager_ids[m]}" for m, names in pinned.items()
        ]
        said.append(f"with the pins of {'; '.join(pins)}")
    away: dict[int, list[int]] = {}
    for block in range(instance.n_blocks):
        for m in instance.forbidden[block]:
            away.setdefault(int(m), []).append(int(instance.size[block]))
    if away:
        moves = [
            f"{len(sizes)} group(s) (sizes {_size_summary(np.array(sizes))}) away from "
            f"{instance.manager_ids[m]}"
            for m, sizes in sorted(away.items(), key=lambda item: -len(item[1]))
        ]
        said.append(f"with rotation taking {listed(moves, SHOWN)}")
    return ", and ".join(said) + ", "


def _packs(instance: Instance, kinds: list[int], classes: dict[int, Classes]) -> bool:
    """Whether the blocks of ``kinds``, counted by class, may split among the managers with
    every count within its band and every manager holding one kind, or one of the other kinds
    where it may; a class pinned, or rotated away from a manager, is not his (False only when
    proven: no split exists)."""
    model = cp_model.CpModel()
    taken: dict[tuple[int, ClassKey], list[cp_model.IntVar]] = {}
    for m in range(instance.n_managers):
        held = [k for k in kinds if instance.eligible_kind(m, k)]
        if not held:
            continue  # holds nothing (where that breaks a rule, other checks say which)
        holds = {k: model.new_bool_var("") for k in held}
        model.add(sum(holds.values()) <= 1)  # a manager with no customers holds no kind
        for k in held:
            row = [
                (key, model.new_int_var(0, n, ""))
                for key, n in classes[k].items()
                if key[1] in (-1, m) and m not in key[2]
            ]
            total = sum(key[0] * var for key, var in row)
            model.add(total >= int(instance.low[k, m]) * holds[k])
            model.add(total <= int(instance.high[k, m]) * holds[k])
            for key, var in row:
                taken.setdefault((k, key), []).append(var)
        elsewhere = any(instance.eligible_kind(m, k) for k in classes if k not in kinds)
        if all(instance.low[k, m] > 0 for k in held) and not elsewhere:
            model.add(sum(holds.values()) == 1)
    for k in kinds:
        for key, n in classes[k].items():
            model.add(sum(taken.get((k, key), [])) == n)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = PACKING_GUARD_S
    solver.parameters.max_deterministic_time = PACKING_WORK
    return solver.solve(model) != cp_model.INFEASIBLE


def groups_fit_portfolios(instance: Instance) -> list[str]:
    """Groups of ``size`` customers or more fit at most max // size to a portfolio (two groups
    of 5 in 12, never three): the portfolios of their kind may hold fewer such groups than
    there are. One line per kind, for the size that leaves the most groups out."""
    reasons = []
    for kind in KINDS:
        eligible = np.asarray(_eligible(instance, kind), dtype=int)
        counts = portfolio_counts(instance, kind)
        if not len(eligible) or not counts or not max(counts):
            continue  # no holder, or no number of portfolios fits: collisions of their own
        # The most portfolios of the kind that may open, the largest first.
        holders = eligible[np.argsort(-instance.high[kind, eligible], kind="stable")][: max(counts)]
        highs = instance.high[kind, holders].astype(int)
        # A group larger than every portfolio is a collision of its own.
        blocks = np.flatnonzero(
            (instance.kind == kind) & (instance.size > 1) & (instance.size <= highs.max())
        )
        worst: tuple[int, int] | None = None  # (groups left out, size)
        for size in np.unique(instance.size[blocks]).tolist():
            left = int((instance.size[blocks] >= size).sum() - (highs // size).sum())
            if left > 0 and (worst is None or left >= worst[0]):
                worst = (left, size)
        if worst is not None:
            big = blocks[instance.size[blocks] >= worst[1]]
            reasons.append(_packing_text(instance, kind, big, worst[1], holders))
    return reasons


def _packing_text(
    instance: Instance, kind: int, big: np.ndarray, size: int, holders: np.ndarray
) -> str:
    """Too many groups of ``size`` or more for the ``holders``' portfolios, in words."""
    highs = instance.high[kind, holders].astype(int)
    each = highs // size
    name = "" if kind == STANDARD else f"{KIND_WORDS[kind]} "
    groups = _names([_group_name(instance, int(b)) for b in big])
    portfolios = f"{len(holders)} {name}portfolio{'s' if len(holders) > 1 else ''}"
    if (highs == highs[0]).all():
        hold = (
            f"a {name}portfolio holds at most {highs[0]} customers, so at most {each[0]} of "
            f"them each: {portfolios} take at most {int(each.sum())}"
        )
    else:
        hold = (
            f"the {portfolios} that may open hold at most "
            f"{highs.min()}..{highs.max()} customers, so at most {each.min()}..{each.max()} of "
            f"them each: together at most {int(each.sum())}"
        )
    _, limits, band = _max_limits(instance, holders.tolist())
    fixes = [
        "Split a group",
        "add a manager" if kind == STANDARD else "make another manager eligible",
    ]
    if limits:
        fixes.append(f"raise max_customers ({_names(limits)})")
    if band:
        fixes.append(
            "widen the span tolerance"
            if kind == STANDARD
            else f"raise [span.{KIND_NAMES[kind]}] max"
        )
    return (
        f"{len(big)} {name}groups of {size} or more customers ({groups}), but {hold}. "
        f"{', '.join(fixes[:-1])} or {fixes[-1]}."
    )


def _max_limits(instance: Instance, managers: list[int]) -> tuple[list[int], list[str], bool]:
    """Of ``managers``, those whose own max_customers sets their maximum (lowest first), the
    same as text ("M1 max_customers 3"), and whether a band sets any other's."""
    personal = instance.scenario.available_managers["max_customers"].reset_index(drop=True)
    own = sorted((m for m in managers if pd.notna(personal[m])), key=lambda m: personal[m])
    named = [f"{instance.manager_ids[m]} max_customers {int(personal[m])}" for m in own]
    return own, named, len(own) < len(managers)


def _reachable_counts(sizes: np.ndarray, most: int) -> np.ndarray:
    """Which counts 0..most some set of blocks of these sizes adds up to."""
    reach = 1  # bit c: count c is reachable
    mask = (1 << (most + 1)) - 1
    for size, times in zip(*np.unique(sizes, return_counts=True), strict=True):
        for _ in range(min(int(times), most // max(int(size), 1) + 1)):
            reach = (reach | (reach << int(size))) & mask
    return np.array([(reach >> c) & 1 for c in range(most + 1)], dtype=bool)


def _size_summary(sizes: np.ndarray) -> str:
    values, counts = np.unique(sizes, return_counts=True)
    return ", ".join(f"{v} x{c}" for v, c in zip(values, counts, strict=True))


def pins_against_kind(instance: Instance) -> list[str]:
    reasons = []
    for b in np.flatnonzero(instance.pin >= 0):
        m, kind = int(instance.pin[b]), int(instance.kind[b])
        if kind >= 0 and not instance.eligible_kind(m, kind):
            reasons.append(
                f"{_describe_block(instance, int(b))} ({KIND_WORDS[kind]}) is pinned to manager "
                f"{instance.manager_ids[m]} ({_why_not_eligible(instance, m, kind)}), who may "
                f"not hold a {KIND_WORDS[kind]} portfolio: pin it to an eligible manager or "
                "clear the pin."
            )
        if m in instance.forbidden[b]:
            reasons.append(
                f"{_describe_block(instance, int(b))} is pinned to manager "
                f"{instance.manager_ids[m]}, "
                f"but the rotation rule moves it away from them ({_due(instance, int(b), m)}): "
                "clear the pin or the tenure."
            )
    return reasons


def pins_beyond_maximum(instance: Instance) -> list[str]:
    """More customers pinned to a manager than the manager may hold."""
    reasons = []
    pinned = np.flatnonzero((instance.pin >= 0) & (instance.kind >= 0))
    for m in np.unique(instance.pin[pinned]):
        blocks = pinned[instance.pin[pinned] == m]
        count = int(instance.size[blocks].sum())
        kind = int(instance.kind[blocks[0]])  # mixed kinds are a collision of their own
        if count <= instance.high[kind, m] or not instance.eligible_kind(int(m), kind):
            continue  # a pin to a manager who may not hold the kind: pins_against_kind
        ids = [c for b in blocks for c in _block_ids(instance, int(b))]
        who = instance.manager_ids[m]
        pins = instance.scenario.customers.set_index("customer_id")["pinned_manager_id"]
        own = [c for c in ids if pins.get(c) == who]
        followers = [c for c in ids if c not in own]
        what = (
            f"{count} customers are pinned to manager {who} ({_names(ids)})"
            if not followers
            else f"{count} customers must go to manager {who}: {_names(own)} pinned there, and "
            f"{_names(followers)} with them in their groups"
        )
        reasons.append(
            f"{what}, more than the {int(instance.high[kind, m])} it may hold "
            f"({_max_source(instance, int(m), kind)}): pin some to other managers"
            + (", split a group" if followers else "")
            + ", or raise that maximum."
        )
    return reasons


def _why_not_eligible(instance: Instance, m: int, kind: int) -> str:
    """What keeps manager ``m`` from holding a ``kind`` portfolio, as the managers table says."""
    if instance.flag_separate[m]:
        return "separate_ledger = true: holds only separate-ledger customers"
    if instance.flag_premium[m]:
        return "premium = true: holds only premium customers"
    if kind == PREMIUM:
        if instance.grade[m] != instance.scenario.policy.premium_grade:
            return f"grade {instance.grade[m]}, not {instance.scenario.policy.premium_grade}"
        return "not flagged premium, while other managers are"
    return "not flagged separate_ledger, while other managers are"


def _due(instance: Instance, b: int, m: int) -> str:
    """Which members' tenure with manager ``m`` makes the rotation rule apply."""
    customers = instance.scenario.customers
    limit = instance.scenario.policy.rotation.max_tenure_years
    members = customers.iloc[instance.members[b]]
    due = members[
        (members["prior_manager_id"].astype(str) == instance.manager_ids[m])
        & (members["tenure_years"].fillna(0) >= (limit or 0))
    ]
    held = ", ".join(f"{row.customer_id} {row.tenure_years:g} years" for row in due.itertuples())
    return f"{held or 'tenure'}, max_tenure_years {limit}"


def _max_source(instance: Instance, m: int, kind: int) -> str:
    """Which setting gives manager ``m`` its most customers of a ``kind`` portfolio."""
    personal = instance.scenario.available_managers["max_customers"].iloc[m]
    if pd.notna(personal):
        return "its own max_customers"
    span = instance.scenario.policy.span
    band = {PREMIUM: span.premium, SEPARATE: span.separate_ledger}.get(kind)
    if band is not None and band.max is not None:
        return f"[span.{KIND_NAMES[kind]}] max"
    return "the span band's maximum: customers / managers rounded up, plus [span] tolerance"


def _bands_of(instance: Instance, kind: int) -> str:
    """The managers who may hold ``kind`` and their bands, in a planner's words."""
    eligible = _eligible(instance, kind)
    low, high = instance.low[kind, eligible], instance.high[kind, eligible]
    bands = f"{int(low.min())}..{int(high.max())} customers"
    if len({(int(a), int(b)) for a, b in zip(low, high, strict=True)}) > 1:
        bands = f"within {bands} (their bands differ)"
    names = listed([instance.manager_ids[m] for m in eligible])
    return f"{len(eligible)} manager(s) ({names}), each holding {bands}"


def _eligible(instance: Instance, kind: int) -> list[int]:
    return [m for m in range(instance.n_managers) if instance.eligible_kind(m, kind)]


def no_eligible_manager(instance: Instance) -> list[str]:
    reasons = []
    policy = instance.scenario.policy
    for kind, who in (
        (
            PREMIUM,
            f"an available manager of grade {policy.premium_grade}"
            + (" designated premium" if instance.flag_premium.any() else ""),
        ),
        (SEPARATE, "an available separate-ledger manager"),
        (STANDARD, "an available manager not designated premium or separate-ledger"),
    ):
        count = _customers_of_kind(instance, kind)
        if count and not _eligible(instance, kind):
            reasons.append(
                f"{count} {KIND_WORDS[kind]} customers need {who}, and there is none"
                f"{_flagged_but_barred(instance, kind)}."
            )
    # A manager who may hold no kind holds nothing: a collision only where a band needs more.
    for m in np.flatnonzero(instance.flag_premium & instance.flag_separate):
        if instance.low[STANDARD, m] > 0:
            reasons.append(
                f"Manager {instance.manager_ids[m]} is designated both premium and "
                "separate-ledger, so may hold neither kind, but must hold at least "
                f"{int(instance.low[STANDARD, m])} customers: clear one of the two flags."
            )
    for m in np.flatnonzero(instance.flag_premium & ~instance.flag_separate):
        if instance.grade[m] != policy.premium_grade and instance.low[STANDARD, m] > 0:
            reasons.append(
                f"Manager {instance.manager_ids[m]} is designated premium but has grade "
                f"{instance.grade[m]}; premium portfolios need grade {policy.premium_grade}, and "
                f"a designated manager holds nothing else, but must hold at least "
                f"{int(instance.low[STANDARD, m])} customers."
            )
    return reasons


def _flagged_but_barred(instance: Instance, kind: int) -> str:
    """The managers flagged for ``kind`` who may not hold it after all, and why, as a clause."""
    if kind == STANDARD:
        return ""
    flags = instance.flag_premium if kind == PREMIUM else instance.flag_separate
    grade = instance.scenario.policy.premium_grade
    why = []
    for m in np.flatnonzero(flags):
        if not instance.eligible_kind(int(m), kind):
            other = "premium" if kind == SEPARATE else "separate-ledger"
            both = instance.flag_premium[m] and instance.flag_separate[m]
            why.append(
                f"{instance.manager_ids[m]} is flagged {other} too"
                if both
                else f"{instance.manager_ids[m]} has grade {instance.grade[m]}, not {grade}"
            )
    return f" that may hold them ({'; '.join(why)})" if why else ""


def oversized_groups(instance: Instance) -> list[str]:
    reasons = []
    for kind in (STANDARD, PREMIUM, SEPARATE):
        eligible = _eligible(instance, kind)
        if not eligible:
            continue
        largest = int(instance.high[kind, eligible].max())
        if largest < 1:  # no portfolio may hold any: kind_counts_fit says why, once
            continue
        for b in np.flatnonzero((instance.kind == kind) & (instance.size > largest)):
            size = int(instance.size[b])
            reasons.append(
                f"{_describe_block(instance, int(b))} is more customers than the "
                f"largest {KIND_WORDS[kind]} portfolio allowed ({largest}): "
                f"{_larger_portfolio_fix(instance, kind, size)}."
            )
    return reasons


def _larger_portfolio_fix(instance: Instance, kind: int, size: int) -> str:
    """What lets a portfolio of ``kind`` hold ``size`` customers: a manager's own max where
    the band allows it already, the type's own max where it has one (the span tolerance does
    not reach it), else the span tolerance; and a manager's own max always."""
    span = instance.scenario.policy.span
    band_high = int(kind_bands(instance.scenario, *instance.band_basis)[1][kind])
    personal = f"give a manager who may hold it a max_customers of at least {size}"
    own_max = instance.scenario.available_managers["max_customers"].to_numpy()
    capped = all(pd.notna(own_max[m]) and own_max[m] < size for m in _eligible(instance, kind))
    if band_high >= size or capped:  # a wider band meets the managers' own max first
        return personal
    widen = f"widen the span tolerance (to {span.tolerance + size - band_high})"
    own = span.premium if kind == PREMIUM else span.separate_ledger
    band = f"[span.{KIND_NAMES[kind]}] max"
    if kind == STANDARD:
        return f"{widen}, or {personal}"
    if own.max is not None:
        return f"raise {band} (to {size}), or {personal}"
    return f"{widen} or set {band} = {size}, or {personal}"


def _personal_bounds(instance: Instance, managers: list[int]) -> str:
    """The min_customers / max_customers the managers table gives ``managers``, as text."""
    table = instance.scenario.available_managers.reset_index(drop=True)
    given = []
    for m in managers:
        ends = [
            f"{column} {int(table.at[m, column])}"
            for column in ("min_customers", "max_customers")
            if pd.notna(table.at[m, column])
        ]
        if ends:
            given.append(f"{instance.manager_ids[m]} {' '.join(ends)}")
    return _names(given) if given else ""


def kind_counts_fit(instance: Instance) -> list[str]:
    """Can some number of portfolios of each kind hold its customers within the band?"""
    reasons = []
    for kind in (PREMIUM, SEPARATE):
        need = _customers_of_kind(instance, kind)
        eligible = _eligible(instance, kind)
        if not need or not eligible:
            continue
        lows, highs = instance.low[kind, eligible], instance.high[kind, eligible]
        if not fitting_counts(need, lows, highs, least=1):
            low, high = int(lows.min()), int(highs.max())
            why = (
                f"{len(eligible)} portfolio(s) hold at most {int(highs.sum())}"
                if need > highs.sum()
                else f"one portfolio needs at least {low}"
                if need < low
                else _count_gap(need, lows, highs)
            )
            personal = _personal_bounds(instance, eligible)
            # More eligible managers help only where they all hold too few together.
            managers = ", or make more managers eligible" if need > highs.sum() else ""
            reasons.append(
                f"{need} {KIND_WORDS[kind]} customers fit no number of "
                f"{KIND_WORDS[kind]} portfolios "
                f"of {low}..{high} customers with {len(eligible)} eligible manager(s) "
                f"({_who_holds(instance, kind, eligible)}): {why}. "
                + _left_unflagged(instance, kind)
                + (
                    f"The eligible managers' own bounds set this ({personal}): change them"
                    f"{managers}."
                    if personal
                    else f"Set [span.{KIND_NAMES[kind]}] "
                    f"{_band_change(need, low, high, len(eligible))}{managers}."
                )
            )
    n, highs = instance.n_customers, instance.high.max(axis=0)
    if highs.sum() < n:
        reasons.append(_branch_maximum_text(instance, int(highs.sum())))
    return reasons


def _branch_maximum_text(instance: Instance, most: int) -> str:
    """The managers hold at most ``most`` customers together, fewer than there are: what
    sets their maximums (their own max_customers, or the span band) and what to change."""
    own, named, band = _max_limits(instance, list(range(instance.n_managers)))
    if not named:
        who, fixes = "", ["add managers", "widen the span tolerance"]
    else:
        others = "; the others at the span band's maximum" if band else ""
        who = f" ({_names(named)}{others})"
        whose = f"{instance.manager_ids[own[0]]}'s" if len(own) == 1 else "those"
        fixes = [f"raise {whose} max_customers", "add managers"]
        if band:  # only the band's maximum moves with the tolerance
            fixes.append("widen the span tolerance")
    return (
        f"{instance.n_customers} customers but the {instance.n_managers} available managers "
        f"hold at most {most} together{who}: {', '.join(fixes[:-1])} or {fixes[-1]}."
    )


def _who_holds(instance: Instance, kind: int, eligible: list[int]) -> str:
    """The ``eligible`` managers of a kind, and what makes them so."""
    ids = _names([instance.manager_ids[m] for m in eligible])
    flags = instance.flag_premium if kind == PREMIUM else instance.flag_separate
    if flags.any():
        return f"flagged {KIND_WORDS[kind]}: {ids}"
    if kind == PREMIUM:
        return f"grade {instance.scenario.policy.premium_grade}: {ids}"
    return ids


def _left_unflagged(instance: Instance, kind: int) -> str:
    """Premium-grade managers not flagged premium, where others are: they hold none."""
    grade = instance.scenario.policy.premium_grade
    if kind != PREMIUM or not instance.flag_premium.any():
        return ""
    left = [
        instance.manager_ids[m]
        for m in range(instance.n_managers)
        if instance.grade[m] == grade and not instance.flag_premium[m]
    ]
    if not left:
        return ""
    one = len(left) == 1
    return (
        f"{_names(left)} (grade {grade}) {'is' if one else 'are'} not flagged premium, and once "
        "any manager is flagged only flagged managers hold premium portfolios: flag "
        f"{'it' if one else 'them'} premium if {'it' if one else 'they'} may hold them. "
    )


def _band_change(need: int, low: int, high: int, portfolios: int) -> str:
    """The band's ends that let ``need`` customers fill some count of up to ``portfolios``
    portfolios of ``low``..``high``: a max that fewer can reach, or a min that more can."""
    fewer = max((k for k in range(1, portfolios + 1) if k * low <= need), default=0)
    more = min((k for k in range(1, portfolios + 1) if k * high >= need), default=0)
    ends = []
    if fewer and -(-need // fewer) > high:
        ends.append(f"max to at least {-(-need // fewer)} ({fewer} portfolio(s))")
    if more and need // more < low:
        ends.append(f"min to at most {need // more} ({more} portfolio(s))")
    return " or ".join(ends) if ends else "min/max"


def _count_gap(need: int, lows: np.ndarray, highs: np.ndarray) -> str:
    """Where ``need`` falls between two counts of portfolios: k hold too few, k + 1 too many."""
    most = np.cumsum(np.sort(highs)[::-1])  # k portfolios hold at most most[k - 1]
    least = np.cumsum(np.sort(lows))  # and need at least least[k - 1]
    for k in range(1, len(most)):
        if most[k - 1] < need < least[k]:
            return (
                f"{k} portfolio(s) hold at most {int(most[k - 1])}, "
                f"{k + 1} need at least {int(least[k])}"
            )
    return "no count of portfolios brings their least and most sizes around it"


def designated_without_customers(instance: Instance) -> list[str]:
    """Managers who may hold only premium (or separate-ledger) portfolios, in a year without
    such customers: they would hold nothing, below their band."""
    reasons = []
    for kind in (PREMIUM, SEPARATE):
        if _customers_of_kind(instance, kind):
            continue
        only = [m for m in kind_holders(instance, kind)[1] if instance.low[kind, m] > 0]
        if only:
            name = KIND_WORDS[kind]
            ids = [instance.manager_ids[m] for m in only]
            reasons.append(
                f"{_names(ids)} may hold only {name} portfolios (flagged {name} in managers), "
                f"but there are no {name} customers: {'they' if len(ids) > 1 else 'it'} would "
                f"hold none, below the band's minimum of {int(instance.low[kind, only].min())}. "
                f"Clear the {name} flag for this year, or set available = false."
            )
    return reasons


def rotation_without_alternative(instance: Instance) -> list[str]:
    """Customers that must rotate away from every manager who may hold their kind; one line
    per kind and managers left, naming the customers."""
    stuck: dict[tuple[int, tuple[int, ...]], list[str]] = {}
    for b in np.flatnonzero(instance.kind >= 0):
        if not instance.forbidden[b] or instance.pin[b] >= 0:
            continue
        kind = int(instance.kind[b])
        eligible = set(_eligible(instance, kind))  # none at all is a collision of its own
        if eligible and not eligible - instance.forbidden[b]:
            stuck.setdefault((kind, tuple(sorted(instance.forbidden[b]))), []).extend(
                _block_ids(instance, int(b))
            )
    reasons = []
    for (kind, held), ids in stuck.items():
        who = "customer " + ids[0] if len(ids) == 1 else f"{len(ids)} customers ({_names(ids)})"
        managers = [instance.manager_ids[m] for m in held]
        why = (
            f"must rotate away from {managers[0]}"
            if len(managers) == 1
            else "must rotate away from "
            + ", ".join(managers)
            + " (a group stays with one manager, so each member's rotation binds them all)"
        )
        reasons.append(
            f"{who} {why}, but no other manager may hold a {KIND_WORDS[kind]} portfolio: lower "
            f"{'its' if len(ids) == 1 else 'their'} tenure_years, raise max_tenure_years, or "
            "make another manager eligible."
        )
    return reasons


def rotation_beyond_the_others(instance: Instance) -> list[str]:
    """Customers of a kind rotating away from one manager go to the others who may hold that
    kind, who together hold at most the tops of their bands."""
    away: dict[tuple[int, int], list[int]] = {}  # (kind, manager) -> blocks that must leave
    for b in np.flatnonzero(instance.kind >= 0):
        if instance.pin[b] < 0:
            for m in instance.forbidden[b]:
                away.setdefault((int(instance.kind[b]), m), []).append(int(b))
    eligible = {k: _eligible(instance, k) for k in {kind for kind, _ in away}}
    reasons = []
    for (kind, m), leaving in away.items():
        others = [o for o in eligible[kind] if o != m]
        room = int(instance.high[kind, others].sum())
        count = int(instance.size[leaving].sum())
        # Not eligible anyway, or none left (collisions of their own), or room enough.
        if m not in eligible[kind] or not others or count <= room:
            continue
        ids = [c for b in leaving for c in _block_ids(instance, b)]
        personal = _personal_bounds(instance, others)
        name = KIND_WORDS[kind]
        reasons.append(
            f"{count} {name} customers must rotate away from {instance.manager_ids[m]} "
            f"({_names(ids)}), but the other managers who may hold {name} portfolios "
            f"({_names([instance.manager_ids[o] for o in others])}) hold at most {room} "
            "together"
            + (f" ({personal})" if personal else "")
            + ": raise their maximums, make more managers eligible, or raise max_tenure_years."
        )
    return reasons


@dataclass(frozen=True)
class _BalanceReach:
    """What the [balance] bound allows a standard portfolio: its total at most ``limit`` (the
    loosest over how many portfolios may hold the standard customers), and the words for it."""

    bound: float
    customers: int  # standard customers
    holders_min: int  # the fewest standard portfolios the span bands allow to hold them all
    holders_max: int
    total: float
    means: tuple[float, float]  # the mean target with the fewest and with the most
    offset: float  # write-backs (negative targets) may share a portfolio and pull it down
    limit: float
    least: int  # the fewest customers a standard portfolio holds
    most: int  # the most customers a standard portfolio may hold
    wider: int | None  # the span tolerance that lets one portfolio fewer hold them, if any

    @property
    def means_text(self) -> str:
        low, high = min(self.means), max(self.means)
        return f"{low:,.0f}..{high:,.0f}" if self.holders_max > self.holders_min else f"{high:,.0f}"

    @property
    def above(self) -> str:
        """The words 'above the mean standard portfolio target plus the bound'."""
        bands = (
            f" (the span bands hold the {self.customers} standard customers in no fewer than "
            f"{self.holders_min} portfolios)"
            if self.holders_min > 1
            else ""
        )
        return (
            f"above the mean standard portfolio target ({self.means_text}) plus "
            f"{percent(self.bound)}{bands}"
        )

    def needed(self, portfolio: float) -> str:
        """The max_deviation under which a portfolio of ``portfolio`` could be within bound,
        with headroom: the search holds the bound a hair tighter than the checker (targets
        rounded to whole units), and at the least bound only one plan may fit."""
        least = _least_deviation(portfolio, self.means)
        return percent_up(least * (1 + ADVICE_HEADROOM) + ADVICE_HEADROOM)

    def fixes(self, target: float) -> str:
        """A wider tolerance lets fewer portfolios hold them, raising the mean; it helps only
        where one portfolio fewer would do, and it says how wide."""
        fewer = self.total / (self.holders_min - 1) if self.holders_min > 1 else 0.0
        helps = self.holders_min > 1 and target + self.offset <= fewer + self.bound * abs(fewer)
        if not helps or self.wider is None:
            return ""
        return f"widen [span] tolerance to {self.wider} (one portfolio fewer), "


def _balance_reach(instance: Instance) -> _BalanceReach | None:
    bound = instance.scenario.policy.balance.max_deviation
    standard = instance.kind == STANDARD
    eligible = _eligible(instance, STANDARD)
    if bound is None or not standard.any() or not eligible:
        return None
    need = int(instance.size[standard].sum())
    holders_max = len(eligible)
    # As few as the largest band lets hold them all, but no fewer than the managers who may
    # hold nothing else and whose band's minimum makes them hold some (38 each: every one).
    others = [kind for kind in (PREMIUM, SEPARATE) if (instance.kind == kind).any()]
    held = sum(
        int(instance.low[STANDARD, m]) > 0
        and not any(instance.eligible_kind(m, kind) for kind in others)
        for m in eligible
    )
    holders_min = min(
        max(1, -(-need // int(instance.high[STANDARD, eligible].max())), held), holders_max
    )
    total = float(instance.value[standard].sum())
    means = (total / holders_min, total / holders_max)
    offset = float(instance.value[standard & (instance.value < 0)].sum())
    # The checker allows mean +- bound * |mean|: with write-backs the mean may be below zero,
    # and then fewer portfolios lower it. The loosest of the possible means sets the limit.
    limit = max(mean + bound * abs(mean) for mean in means)
    least = min(int(instance.low[STANDARD, m]) for m in eligible)
    most = max(int(instance.high[STANDARD, m]) for m in eligible)
    wider = _fewer_holders_tolerance(instance, need, holders_min, held, most, eligible)
    return _BalanceReach(
        bound, need, holders_min, holders_max, total, means, offset, limit, least, most, wider
    )


def _fewer_holders_tolerance(
    instance: Instance, need: int, holders: int, held: int, most: int, eligible: list[int]
) -> int | None:
    """The span tolerance with which one standard portfolio fewer may hold the standard
    customers: a band large enough for their share, and where band minimums make them all
    hold some, one minimum down to 0. None where personal bounds do not move with it."""
    if holders < 2:
        return None
    table = instance.scenario.available_managers.reset_index(drop=True)
    own_min = table["min_customers"].fillna(0).to_numpy()[eligible] > 0
    own_max = table["max_customers"].notna().to_numpy()[eligible]
    tolerance = instance.scenario.policy.span.tolerance
    customers, managers = instance.band_basis
    share = -(-need // (holders - 1))
    if share > most and own_max.all():
        return None
    if held >= holders and own_min.all():
        return None
    larger = tolerance + max(share - most, 0)
    emptier = customers // managers if held >= holders else tolerance
    return max(larger, emptier)


def balance_bound_reachable(instance: Instance) -> list[str]:
    """With [balance] max_deviation, no single group may exceed the bound on its own, nor the
    customers pinned to one manager together."""
    reach = _balance_reach(instance)
    if reach is None:
        return []
    standard = instance.kind == STANDARD
    reasons = []
    smallest = _SmallestTargets(instance, standard)
    alone = np.zeros(instance.n_blocks, dtype=bool)
    for b in np.flatnonzero(standard):
        size, value = int(instance.size[b]), float(instance.value[b])
        # Its portfolio at its lowest: beside it as many write-backs as its band has room
        # for, and at least the fewest customers the band holds.
        room = max(reach.most - size, 0)
        floor = value + smallest.lowest(int(b), max(reach.least - size, 0), room)
        if floor <= reach.limit:
            continue
        if value + smallest.lowest(int(b), 0, room) > reach.limit:
            alone[b] = True
            reasons.append(
                f"{_describe_block(instance, int(b))} alone has a target of {value:,.0f}, "
                f"{reach.above}: check its income figures (a typo?), {reach.fixes(value)}or "
                f"raise [balance] max_deviation to at least {reach.needed(floor)}."
            )
            continue
        reasons.append(
            f"{_describe_block(instance, int(b))} has a target of {instance.value[b]:,.0f}; the "
            f"portfolio that holds it holds at least {reach.least} customers (the span bands), "
            f"so at least {floor:,.0f} together, {reach.above}: check its income figures (a "
            f"typo?), lower the band's minimum ([span] tolerance, personal min_customers) or "
            f"raise [balance] max_deviation to at least {reach.needed(floor)}."
        )
    for m in np.unique(instance.pin[standard & ~alone & (instance.pin >= 0)]):
        pinned = np.flatnonzero(standard & (instance.pin == m))
        total_pinned = float(instance.value[pinned].sum())
        if total_pinned + reach.offset <= reach.limit:
            continue
        ids = [c for b in pinned for c in _block_ids(instance, int(b))]
        room = max(reach.most - len(ids), 0)
        floor = total_pinned + smallest.lowest(-1, max(reach.least - len(ids), 0), room)
        reasons.append(
            f"the {len(ids)} customer(s) pinned to {instance.manager_ids[int(m)]} "
            f"({_names(ids)}) have a target of {total_pinned:,.0f} together, {reach.above}: pin "
            f"fewer of them to {instance.manager_ids[int(m)]}, {reach.fixes(total_pinned)}or "
            f"raise [balance] max_deviation to at least {reach.needed(floor)}."
        )
    return reasons


def pairwise_apart(ranked: np.ndarray, limit: float) -> int:
    """How many of the largest of ``ranked`` (largest first) no two of which fit within
    ``limit`` together: the two smallest of them are too large together."""
    apart = 1
    while apart < len(ranked) and ranked[apart - 1] + ranked[apart] > limit:
        apart += 1
    return apart


def large_customers_apart(instance: Instance) -> list[str]:
    """With [balance] max_deviation: customers so large that no two fit one standard portfolio
    within the bound each need one of their own; more of them than standard portfolios leave
    no plan."""
    reach = _balance_reach(instance)
    if reach is None:
        return []
    blocks = np.flatnonzero(instance.kind == STANDARD)
    order = blocks[np.argsort(-instance.value[blocks], kind="stable")]
    value = instance.value[order] + 0.0
    if value[0] + reach.offset > reach.limit:
        return []  # one alone is too large: balance_bound_reachable says so
    apart = pairwise_apart(value + reach.offset / 2, reach.limit)
    portfolios = reach.holders_max
    if apart <= portfolios:
        return []
    ids = [c for b in order[:apart] for c in _block_ids(instance, int(b))]
    # Of any portfolios + 1 of them two share a portfolio: at least the two smallest of the
    # largest portfolios + 1.
    shared = float(value[portfolios - 1] + value[portfolios]) + reach.offset
    return [
        f"{apart} standard customers or groups ({_names(ids)}) have targets of "
        f"{value[apart - 1]:,.0f} to {value[0]:,.0f}; any two of them together are "
        f"{reach.above}, so each needs a standard portfolio of its own, and at most "
        f"{portfolios} managers may hold standard customers: check their income figures (a "
        f"typo?), or raise [balance] max_deviation to at least {reach.needed(shared)}."
    ]


def percent(share: float) -> str:
    """A share as a percentage with the decimals it has (2.5%, 1%, 0.05%)."""
    return f"{share * 100:.4f}".rstrip("0").rstrip(".") + "%"


ADVICE_HEADROOM = 1e-4  # of a balance bound advised, relative and absolute (0.01%)


def percent_up(share: float) -> str:
    """A share as a percentage rounded up (to 0.1%, or 0.001% below that): advice to raise a
    bound to it is always enough."""
    decimals = 1 if share >= 0.001 else 3
    step = 10**decimals
    return (
        f"{math.ceil(share * 100 * step - 1e-6) / step:.{decimals}f}".rstrip("0").rstrip(".") + "%"
    )


def _least_deviation(total: float, means: tuple[float, ...]) -> float:
    """The smallest max_deviation under which a portfolio of ``total`` could lie within the
    bound of one of the possible ``means``."""
    return min((total - mean) / abs(mean) for mean in means if mean)


class _SmallestTargets:
    """The standard customers' per-customer targets (a block's target over its size), sorted
    once, for a lower bound on the customers a portfolio holds beside a block."""

    def __init__(self, instance: Instance, standard: np.ndarray) -> None:
        self.instance = instance
        blocks = np.flatnonzero(standard)
        self.unit = instance.value / np.maximum(instance.size, 1)
        units = np.sort(np.repeat(self.unit[blocks], instance.size[blocks].astype(int)))
        self.sorted = units
        self.prefix = np.concatenate([[0.0], np.cumsum(units)])
        self.negative = int(np.searchsorted(units, 0.0, side="left"))  # write-back customers

    def lowest(self, b: int, least: int, most: int) -> float:
        """The lowest total of ``least`` to ``most`` other customers beside block ``b`` (or,
        for ``b`` = -1, beside customers pinned together): every write-back there is room
        for, then the smallest of the rest."""
        negative = self.negative
        if b >= 0 and self.unit[b] < 0:
            negative -= int(self.instance.size[b])
        company = min(max(negative, least), most)
        if b < 0:  # beside several blocks: any customers (a bound below their own too)
            return float(self.prefix[min(company, len(self.sorted))])
        return self.beside(b, company)

    def beside(self, b: int, company: int) -> float:
        """The sum of the ``company`` smallest per-customer targets of the other blocks."""
        own, size = self.unit[b], int(self.instance.size[b])
        k = min(company, len(self.sorted) - size)
        below = int(np.searchsorted(self.sorted, own, side="left"))
        if k <= below:
            return float(self.prefix[k])
        equal = int(np.searchsorted(self.sorted, own, side="right")) - below
        alike = min(k - below, equal - size)  # the others' customers of the same target
        rest = k - below - alike
        above = below + equal
        return float(
            self.prefix[below] + alike * own + self.prefix[above + rest] - self.prefix[above]
        )


def _fits_capacity(instance: Instance, b: int, m: int) -> bool:
    assert instance.workload is not None and instance.capacity is not None
    return instance.capacity[m] < 0 or instance.workload[b, m] <= instance.capacity[m]


def _shown(instance: Instance) -> np.ndarray:
    """(blocks, managers) workloads as written, for messages (see ``workload_shown``)."""
    assert instance.workload_shown is not None
    return instance.workload_shown


def _workload_text(instance: Instance, units: float) -> str:
    return f"{units / instance.workload_units:,.10g}"


def group_beyond_capacity(instance: Instance) -> list[str]:
    """A group whose workload exceeds the capacity of every manager who may hold it."""
    workload = instance.workload
    if workload is None or instance.capacity is None:
        return []
    reasons = []
    for b in np.flatnonzero(instance.kind >= 0):
        kind = int(instance.kind[b])
        options = (
            [int(instance.pin[b])]
            if instance.pin[b] >= 0
            else [m for m in _eligible(instance, kind) if m not in instance.forbidden[b]]
        )
        if not options or any(_fits_capacity(instance, int(b), m) for m in options):
            continue
        least = min(options, key=lambda m: int(workload[b, m]))
        reasons.append(
            f"{_describe_block(instance, int(b))} needs a workload of at least "
            f"{_workload_text(instance, _shown(instance)[b, least])} "
            f"(with {instance.manager_ids[least]}), "
            f"more than the capacity of every manager who may hold it "
            f"({_names([instance.manager_ids[m] for m in options])}): raise a capacity or "
            "lower the workload in the affinity table."
        )
    return reasons


def capacity_counts_fit(instance: Instance) -> list[str]:
    """Every manager has a capacity: each holds at most as many groups as the lightest it may
    take fit in it, and those counts together may fall short of the groups (every customer
    needs 2 and every capacity is 3: one each, whatever the total says)."""
    workload, capacity = instance.workload, instance.capacity
    if workload is None or capacity is None or (capacity < 0).any() or (instance.kind < 0).any():
        return []
    may = _may_hold(instance)
    most = [
        int(np.searchsorted(np.cumsum(np.sort(workload[may[:, m], m])), capacity[m], "right"))
        for m in range(instance.n_managers)
    ]
    if sum(most) >= instance.n_blocks:
        return []
    what = "groups and customers" if (instance.size > 1).any() else "customers"
    held = _names([f"{instance.manager_ids[m]} {k}" for m, k in enumerate(most)])
    return [
        f"Each manager's capacity holds only so many {what}, even the lightest it may take "
        f"({held}): {sum(most)} in all, but there are {instance.n_blocks}. Raise the "
        "capacities, add managers, or lower the workloads in the affinity table."
    ]


def heavy_customers_apart(instance: Instance) -> list[str]:
    """Customers so heavy that no two fit one manager's capacity each need a manager of their
    own; more of them than managers who may hold their kind leave no plan (four of workload 6,
    three capacities of 10: 30 of 30 in all, yet no fit)."""
    workload, capacity = instance.workload, instance.capacity
    if workload is None or capacity is None or capacity_counts_fit(instance):
        return []  # where the counts fall short, that says it (the same story, shorter)
    reasons = []
    for kind in KINDS:
        blocks = np.flatnonzero(instance.kind == kind)
        eligible = _eligible(instance, kind)
        if not len(blocks) or not eligible or (capacity[eligible] < 0).any():
            continue
        lightest = workload[np.ix_(blocks, np.array(eligible))].min(axis=1)
        order = np.argsort(-lightest, kind="stable")
        heavy, largest = lightest[order], int(capacity[eligible].max())
        apart = pairwise_apart(heavy, largest)
        if apart <= len(eligible):
            continue
        ids = [c for b in blocks[order[:apart]] for c in _block_ids(instance, int(b))]
        # Of any len(eligible) + 1 of them two share a manager: at least the two lightest.
        shared = heavy[len(eligible) - 1] + heavy[len(eligible)]
        reasons.append(
            f"{apart} {KIND_WORDS[kind]} customers or groups ({_names(ids)}) need workloads of "
            f"{_span_text(instance, heavy[apart - 1], heavy[0])} (with the manager they weigh "
            f"least with), and no two of them fit one capacity (the "
            f"largest is {_workload_text(instance, largest)}), so each needs a manager of its "
            f"own, but {len(eligible)} managers may hold them: raise a capacity to at least "
            f"{_workload_text(instance, shared)}, add a manager, or lower their workloads in the "
            "affinity table."
        )
    return reasons


def _span_text(instance: Instance, low: float, high: float) -> str:
    if low == high:
        return _workload_text(instance, low)
    return f"{_workload_text(instance, low)} to {_workload_text(instance, high)}"


def _may_hold(instance: Instance) -> np.ndarray:
    """(blocks, managers): the pairs pins, kinds and rotation allow."""
    managers = np.arange(instance.n_managers)
    eligible = np.array(
        [[instance.eligible_kind(int(m), k) for m in managers] for k in KINDS], dtype=bool
    )
    pin = instance.pin[:, None]
    may = ((pin == -1) | (pin == managers)) & eligible[instance.kind]
    for b, managers_out in enumerate(instance.forbidden):
        may[b, list(managers_out)] = False
    return may


def total_beyond_capacity(instance: Instance) -> list[str]:
    """Every manager has a capacity, and the least total workload is above their sum."""
    if instance.workload is None or instance.capacity is None or (instance.capacity < 0).any():
        return []
    least = int(instance.workload.min(axis=1).sum())
    total = int(instance.capacity.sum())
    if least <= total:
        return []
    shown = int(_shown(instance).min(axis=1).sum())
    need, room = _workload_text(instance, shown), _workload_text(instance, total)
    return [
        f"The customers need a workload of at least {need} even each with the manager who "
        f"serves them fastest, but the {instance.n_managers} available managers' capacities "
        f"add up to {room}: raise capacities or add managers."
    ]


def kind_beyond_capacity(instance: Instance) -> list[str]:
    """A kind's customers need more workload than the capacities of the most portfolios of
    that kind its band allows (one premium portfolio: one manager must carry them all)."""
    workload, capacity = instance.workload, instance.capacity
    if workload is None or capacity is None:
        return []
    reasons = []
    for kind in (PREMIUM, SEPARATE, STANDARD):
        eligible = np.asarray(_eligible(instance, kind), dtype=int)
        blocks = np.flatnonzero(instance.kind == kind)
        counts = portfolio_counts(instance, kind)
        if not len(blocks) or not len(eligible) or not counts or (capacity[eligible] < 0).any():
            continue
        most = max(counts)
        if most == 1:
            reasons += _one_portfolio_beyond_capacity(instance, kind, blocks, eligible)
            continue
        if most == instance.n_managers:
            continue  # every manager: the check of the whole branch says it
        least = int(workload[np.ix_(blocks, eligible)].min(axis=1).sum())
        total = int(np.sort(capacity[eligible])[::-1][:most].sum())
        if least > total:
            shown = int(_shown(instance)[np.ix_(blocks, eligible)].min(axis=1).sum())
            need, room = _workload_text(instance, shown), _workload_text(instance, total)
            holders = _names([instance.manager_ids[m] for m in eligible])
            reasons.append(
                f"The {KIND_WORDS[kind]} customers need a workload of at least {need}, but "
                f"they fit at most {most} {KIND_WORDS[kind]} portfolios, and the {most} largest "
                f"capacities of the managers who may hold them ({holders}) add up to {room}: "
                "raise their capacities, lower the workloads in the affinity table, or make "
                "more managers eligible."
            )
    return reasons


def _one_portfolio_beyond_capacity(
    instance: Instance, kind: int, blocks: np.ndarray, eligible: np.ndarray
) -> list[str]:
    """The kind's band allows one portfolio only: some eligible manager must carry it all."""
    assert instance.workload is not None and instance.capacity is not None
    loads = instance.workload[blocks][:, eligible].sum(axis=0)
    if (loads <= instance.capacity[eligible]).any():
        return []
    name = KIND_WORDS[kind]
    shown = [
        f"{instance.manager_ids[m]} {_workload_text(instance, load)} against "
        f"{_workload_text(instance, instance.capacity[m])}"
        for m, load in zip(eligible, _shown(instance)[blocks][:, eligible].sum(axis=0), strict=True)
    ]
    band = f"[span.{KIND_NAMES[kind]}] min/max" if kind != STANDARD else "the span tolerance"
    return [
        f"The {_customers_of_kind(instance, kind)} {name} customers fit only one {name} "
        f"portfolio, and no manager who may hold it has the capacity for their workload "
        f"({_names(shown)}): raise a capacity, lower the workloads in the affinity table, or "
        f"widen {band} so that they fit more portfolios."
    ]


def capacity_holds_minimum(instance: Instance) -> list[str]:
    """A manager must hold its pinned customers and its band's minimum; even the lightest
    such customers may need more workload than its capacity."""
    if instance.workload is None or instance.capacity is None:
        return []
    per_customer = workload_in_units(customer_workload(instance), instance.workload_units)
    held = [k for k in (STANDARD, PREMIUM, SEPARATE) if (instance.kind == k).any()]
    reasons = []
    written = workload_in_units(customer_workload(instance), instance.workload_units, False)
    for m in np.flatnonzero(instance.capacity >= 0):
        least = least_load(instance, per_customer, int(m), held)
        if least is not None and least[0] > instance.capacity[m]:
            shown = least_load(instance, written, int(m), held)  # the same, as written
            assert shown is not None
            reasons.append(_beyond_capacity_text(instance, int(m), *shown))
    return reasons


def least_load(
    instance: Instance, per_customer: np.ndarray, m: int, held: list[int]
) -> tuple[int, list[int], int, int] | None:
    """The least workload manager ``m`` carries, over the kinds it may hold: the load, its
    pinned customers, the band's minimum and the kind; None where it may hold nothing."""
    pinned_blocks = np.flatnonzero(instance.pin == m)
    pinned = [int(c) for b in pinned_blocks for c in instance.members[b]]
    kinds = {int(instance.kind[b]) for b in pinned_blocks} if len(pinned) else set(held)
    if len(pinned) and any(k < 0 or not instance.eligible_kind(m, k) for k in kinds):
        return None  # pins against the kinds: another check says it
    best = None
    for kind in kinds:
        if not instance.eligible_kind(m, kind):
            continue
        free = [
            int(c)
            for b in np.flatnonzero((instance.kind == kind) & (instance.pin < 0))
            if m not in instance.forbidden[b]
            for c in instance.members[b]
        ]
        short = max(int(instance.low[kind, m]) - len(pinned), 0)
        if short > len(free):
            continue  # it cannot hold this kind at all
        load = int(per_customer[pinned, m].sum() + np.sort(per_customer[free, m])[:short].sum())
        if best is None or load < best[0]:
            best = (load, pinned, int(instance.low[kind, m]), kind)
    return best


def _beyond_capacity_text(
    instance: Instance, m: int, load: int, pinned: list[int], low: int, kind: int
) -> str:
    assert instance.capacity is not None
    who, cap = instance.manager_ids[m], _workload_text(instance, instance.capacity[m])
    need = _workload_text(instance, load)
    ids = _names([instance.customer_ids[c] for c in pinned])
    if len(pinned) >= low:
        them = f"Customer {ids} is" if len(pinned) == 1 else f"Customers {ids} are"
        return (
            f"{them} pinned to {who} and need a workload of {need} with it, above "
            f"its capacity {cap}: raise {who}'s capacity, lower their workloads in the affinity "
            f"table, or pin fewer of them to {who}."
        )
    carried = (
        f"its pinned customers ({ids}) and its lightest others"
        if pinned
        else f"its {low} lightest customers"
    )
    return (
        f"{who} must hold at least {low} customers (its band's minimum for a "
        f"{KIND_WORDS[kind]} portfolio), and even {carried} need a workload of {need} with it, "
        f"above its capacity {cap}: raise its capacity, lower its minimum (min_customers or the "
        "span tolerance), or lower the workloads in the affinity table."
    )


QUICK_CHECKS = "the checks before the search"  # the method of a result they end
CHECKS = (
    mixed_groups,
    conflicting_pins,
    pins_to_unavailable,
    pins_against_kind,
    pins_beyond_maximum,
    no_eligible_manager,
    designated_without_customers,
    oversized_groups,
    groups_fit_portfolios,
    kind_counts_fit,
    personal_minimums_fit,
    kind_minimums_fit,
    group_sizes_fit_bands,
    rotation_without_alternative,
    rotation_beyond_the_others,
    balance_bound_reachable,
    large_customers_apart,
    group_beyond_capacity,
    kind_beyond_capacity,
    capacity_holds_minimum,
    total_beyond_capacity,
    capacity_counts_fit,
    heavy_customers_apart,
)


def find_collisions(instance: Instance) -> list[str]:
    """Every collision found, in the order of CHECKS."""
    return [reason for check in CHECKS for reason in check(instance)]
