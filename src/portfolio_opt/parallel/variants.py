"""Sweep variants: ``--vary KEY=V1,V2`` values, head-count cuts, and their cross product.

A variant is what a worker needs to rebuild it from the scenario folder: dotted policy
overrides and the ids of managers made unavailable. Nothing here holds a table.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.policy import Policy

KEY = re.compile(r"^[^\W\d][\w-]*(\.[^\W\d][\w-]*)*$")  # letters of any script (優質)
FOLDER_UNSAFE = re.compile(r"[^\w.=,+-]+")
FOLDER_LENGTH = 80
OPENERS, CLOSERS = "[{", "]}"
BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")  # a TOML key that needs no quotes


class VariantError(ValueError):
    """A ``--vary`` or ``--drop-managers`` value cannot be used; the message says why."""


Setting = tuple[str, object]


def split_top_level(text: str) -> list[str]:
    """``text`` cut at the commas outside brackets, braces and quotes.

    >>> split_top_level('1,[2,3],"a,b"')
    ['1', '[2,3]', '"a,b"']
    """
    parts, depth, quote, start, escaped = [], 0, "", 0, False
    for i, ch in enumerate(text):
        if escaped:  # the character after a backslash in a "..." string
            escaped = False
        elif quote:
            escaped = quote == '"' and ch == "\\"
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth -= 1
            if depth < 0:
                raise VariantError(f"{text!r}: {ch!r} closes nothing")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if quote or depth:
        raise VariantError(f"{text!r}: an opened quote or bracket is not closed")
    parts.append(text[start:])
    return parts


def parse_value(text: str) -> object:
    """A value typed as in TOML: 2 is an int, 0.04 a float, true a bool, [a,b] a list.

    A bare word is a string and ``none`` unsets an optional key.

    >>> parse_value("0.04"), parse_value("true"), parse_value("[span, balance]")
    (0.04, True, ['span', 'balance'])
    """
    text = text.strip()
    if not text:
        raise VariantError("an empty value")
    if text.lower() == "none":
        return None
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [parse_value(part) for part in split_top_level(inner)] if inner else []
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        if any(ch in text for ch in "[]{}\"'"):  # a list, table or string gone wrong
            raise VariantError(f"{text!r} is not a valid value") from None
        return text


def format_value(value: object) -> str:
    """A value written back as ``--vary`` takes it (and as it shows in a variant's label)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        try:
            plain = (
                value == value.strip() != "" and "," not in value and parse_value(value) == value
            )
        except VariantError:
            plain = False
        return value if plain else json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, list | tuple):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_key(k)}={format_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _key(key: object) -> str:
    """A table's key as TOML takes it: bare where it may be, else quoted (高級)."""
    text = str(key)
    return text if BARE_KEY.match(text) else json.dumps(text, ensure_ascii=False)


def parse_vary(spec: str) -> tuple[str, list[object]]:
    """``KEY=V1,V2,...`` as the dotted key and its typed values (at least one, no repeats)."""
    key, sep, values = spec.partition("=")
    key = key.strip()
    if not sep or not KEY.match(key):
        raise VariantError(f"{spec!r}: write KEY=V1,V2,... with a dotted scenario.toml key")
    parsed = [parse_value(part) for part in split_top_level(values)]
    shown = [format_value(v) for v in parsed]
    repeated = sorted({s for s in shown if shown.count(s) > 1})
    if repeated:
        raise VariantError(f"{key}: the value(s) {', '.join(repeated)} are listed twice")
    return key, parsed


def parse_settings(specs: Sequence[str]) -> dict[str, object]:
    """``--set KEY=VALUE`` options as dotted keys with their typed values (one each)."""
    settings: dict[str, object] = {}
    for spec in specs:
        key, values = parse_vary(spec)
        if len(values) != 1:
            raise VariantError(f"{spec!r}: give one value (to try several, use sweep --vary)")
        if key in settings:
            raise VariantError(f"{key} is set twice: give it once")
        settings[key] = values[0]
    return settings


def parse_counts(text: str) -> list[int]:
    """``--drop-managers`` as head-count cuts: ``2`` or ``0,1,2``."""
    counts = []
    for part in split_top_level(text):
        value = parse_value(part)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise VariantError(f"{part.strip()!r}: give whole numbers of managers, e.g. 0,1,2")
        counts.append(value)
    if len(set(counts)) != len(counts):
        raise VariantError(f"{text!r}: a count is listed twice")
    return counts


@dataclass(frozen=True)
class Variant:
    """One policy variant: the ``--vary`` values taken, and the managers it makes unavailable.

    ``drop`` is ``None`` when the sweep has no head-count axis, and a (maybe empty) tuple of
    manager ids when it has one.
    """

    index: int
    settings: tuple[Setting, ...] = ()
    drop: tuple[str, ...] | None = None

    @property
    def overrides(self) -> dict[str, object]:
        """The dotted policy overrides (``{"span.tolerance": 1}``)."""
        return dict(self.settings)

    @property
    def label(self) -> str:
        """The variant as a planner reads it: ``span.tolerance=1 without M081,M080``."""
        parts = [f"{key}={format_value(value)}" for key, value in self.settings]
        if self.drop is not None:
            parts.append(f"without {','.join(self.drop)}" if self.drop else "all managers")
        return " ".join(parts) or "as given"

    @property
    def folder_name(self) -> str:
        """A file-system-safe folder name, numbered so that it is unique and sorts in order."""
        parts = [f"{key.rsplit('.', 1)[-1]}={format_value(value)}" for key, value in self.settings]
        if self.drop:
            parts.append(f"drop-{len(self.drop)}")
        text = re.sub("_+", "_", FOLDER_UNSAFE.sub("_", "_".join(parts)))
        text = text.strip("._")[:FOLDER_LENGTH]
        return f"{self.index:02d}" + (f"_{text}" if text else "")


def managers_to_drop(scenario: Scenario, count: int) -> tuple[str, ...]:
    """The ``count`` managers a head-count cut makes unavailable, chosen the same way each time.

    Candidates are the available managers that nobody is pinned to and that are not
    designated for premium or separate-ledger portfolios (those roles are named by the branch).
    The lowest grade goes first (the last in ``[classes] grades``), then the highest id.
    """
    managers = scenario.available_managers
    if count >= len(managers):
        raise VariantError(
            f"cannot drop {count} of the {len(managers)} available managers: one must remain"
        )
    pinned = set(scenario.customers["pinned_manager_id"].astype(str)) - {""}
    special = managers["premium"].astype(bool) | managers["separate_ledger"].astype(bool)
    candidates = managers[~special & ~managers["manager_id"].isin(pinned)]
    if count > len(candidates):
        raise VariantError(
            f"cannot drop {count} managers: only {len(candidates)} available managers are "
            "neither designated (premium, separate ledger) nor pinned to a customer"
        )
    grades = scenario.policy.classes.grades
    rank = (
        candidates["grade"]
        .astype(str)
        .map(lambda g: grades.index(g) if g in grades else len(grades))
    )
    order = pd.DataFrame({"rank": rank, "manager_id": candidates["manager_id"].astype(str)})
    order = order.sort_values(["rank", "manager_id"], ascending=False, kind="stable")
    return tuple(order["manager_id"].head(count))


def apply_drop(scenario: Scenario, manager_ids: Sequence[str]) -> Scenario:
    """The scenario with these managers unavailable, as if ``available`` said false."""
    if not manager_ids:
        return scenario
    unknown = sorted(set(manager_ids) - set(scenario.managers["manager_id"]))
    if unknown:
        raise VariantError(f"unknown manager(s) {', '.join(unknown)}")
    managers = scenario.managers.copy()
    managers.loc[managers["manager_id"].isin(list(manager_ids)), "available"] = False
    if not managers["available"].any():
        raise VariantError(
            f"{', '.join(manager_ids)} leave{'s' if len(manager_ids) == 1 else ''} no manager "
            "available to hold the customers"
        )
    return replace(scenario, managers=managers)


def cross_product(
    axes: Sequence[tuple[str, Sequence[object]]],
    drops: Sequence[tuple[str, ...]] | None = None,
) -> list[Variant]:
    """Every combination of the axes' values (first axis slowest), head-count cuts last."""
    keys = [key for key, _ in axes]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise VariantError(f"{', '.join(repeated)} is varied twice: give its values once")
    value_lists = [list(values) for _, values in axes]
    drop_axis: list[tuple[str, ...] | None] = list(drops) if drops is not None else [None]
    variants = []
    for number, (values, drop) in enumerate(
        itertools.product(itertools.product(*value_lists), drop_axis), start=1
    ):
        variants.append(Variant(number, tuple(zip(keys, values, strict=True)), drop))
    return variants


def build_variants(
    scenario: Scenario, vary: Sequence[str], drop_counts: Sequence[int] | None = None
) -> list[Variant]:
    """The sweep's variants of ``scenario``, each checked against the policy rules.

    Raises
    ------
    VariantError
        A value is malformed, a key unknown, a value out of range, or a cut impossible.
    """
    axes = [parse_vary(spec) for spec in vary]
    drops = None
    if drop_counts is not None:
        drops = [managers_to_drop(scenario, k) for k in drop_counts]
    variants = cross_product(axes, drops)
    for key, values in axes:  # each value alone first: the message names just that value
        for value in values:
            try:
                check_overrides(scenario, {key: value})
            except VariantError:
                # A value may need another axis's value (a band's min with its max).
                if not any(
                    v.overrides.get(key) == value and _valid(scenario, v.overrides)
                    for v in variants
                ):
                    raise
    for variant in variants:
        check_overrides(scenario, variant.overrides)
    return variants


def _valid(scenario: Scenario, overrides: dict[str, object]) -> bool:
    try:
        check_overrides(scenario, overrides)
    except VariantError:
        return False
    return True


def check_overrides(scenario: Scenario, overrides: dict[str, object]) -> None:
    """Raise :class:`VariantError` unless ``overrides`` make a valid policy."""
    check_policy_overrides(scenario.policy, overrides)


def check_policy_overrides(policy: Policy, overrides: dict[str, object]) -> None:
    """Raise :class:`VariantError` unless ``overrides`` make ``policy`` a valid one."""
    from pydantic import ValidationError

    try:
        policy.updated(overrides)
    except ValidationError as exc:
        reasons = "; ".join(
            "unknown key"
            if e["type"] == "extra_forbidden"
            else e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise VariantError(f"{format_overrides(overrides)}: {reasons}") from None
    except (AttributeError, TypeError):  # a key that descends into a plain value
        raise VariantError(
            f"{format_overrides(overrides)}: a key goes below a value that has no keys"
        ) from None


def format_overrides(overrides: dict[str, object]) -> str:
    return " ".join(f"{k}={format_value(v)}" for k, v in overrides.items())
