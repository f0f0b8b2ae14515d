"""The policy: every key of ``scenario.toml``, typed, documented and defaulted.

A minimal ``scenario.toml`` names only the tables; everything else has the default given here.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from portfolio_opt.problems import Problem, Severity, listed
from portfolio_opt.scenario.tables import decode_text, unreadable

INCOME_TYPES = ("interest", "deposit", "fee")
POLICY_FILE = "scenario.toml"
GOALS = ("span", "balance", "chain", "industry", "continuity", "affinity")
GoalName = Literal["span", "balance", "chain", "industry", "continuity", "affinity"]
DEFAULT_ORDER: list[GoalName] = ["span", "balance", "chain", "industry", "continuity"]
DEFAULT_CLASSES = ["premium", "key", "growth", "basic", "watch", "exit"]
UNKNOWN_CLASS = "unknown_class"  # error types whose hint says more than "fix the value"
# Bounds far beyond any branch, so that integers stay within the model's 64-bit arithmetic.
MOST_CUSTOMERS = 1_000_000
MOST_WEIGHT = 1e6
# The policy's tables keyed by customer class, by key path.
CLASS_TABLE_PATHS: tuple[tuple[str, ...], ...] = (
    ("payout", "growth"),
    ("payout", "separate_ledger", "growth"),
    ("affinity", "default_workload"),
)
MISSING = object()  # what _at finds where a key path of the parsed file leads nowhere
HINTS = {UNKNOWN_CLASS: "spell the class as in [classes] classes, or add it to that list"}


class _Section(BaseModel):
    # inf and nan are valid TOML floats, but no key of the policy means anything by them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Tables(_Section):
    """Paths of the tables, relative to the scenario folder (``file.xlsx#Sheet`` allowed)."""

    customers: str = "customers.csv"
    managers: str = "managers.csv"
    relations: str | None = None
    actuals: str | None = None
    adjustments: str | None = None
    credits: str | None = None
    affinity: str | None = None

    @field_validator("*")
    @classmethod
    def _names_a_file(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("names no file: write its file name, or remove the line")
        if value is not None and re.match(r"[A-Za-z]:[\\/]|[\\/]{2}", value):
            raise ValueError(
                "is a full path: copy the file into the scenario folder and name it relative "
                "to the folder (customers.csv, data/customers.csv)"
            )
        # A folder written on Windows ('data\customers.csv') opens on any system; no sheet
        # name holds a backslash, and no planner's file name does.
        return None if value is None else value.replace("\\", "/")


class Classes(_Section):
    """Customer classes and manager grades; which class is premium, which grade may hold it."""

    classes: list[str] = Field(default_factory=lambda: list(DEFAULT_CLASSES), min_length=1)
    # Checked even when left at the default: a list of one's own may lack "premium".
    premium_class: str = Field(default="premium", validate_default=True)
    grades: list[str] = Field(default_factory=lambda: ["A", "B", "C", "D", "E"], min_length=1)
    premium_grade: str = Field(default="A", validate_default=True)

    # A field validator, not one for the model, so that an error points at its own key.
    @field_validator("premium_class", "premium_grade")
    @classmethod
    def _listed(cls, value: str, info: ValidationInfo) -> str:
        among = "classes" if info.field_name == "premium_class" else "grades"
        names = info.data.get(among)  # absent where the list itself is in error
        if names is not None and value not in names:
            raise ValueError(f"not one of the {among} {names}")
        return value


class Band(_Section):
    """A portfolio type's own band of customer counts (either end optional)."""

    min: int | None = Field(default=None, ge=0, le=MOST_CUSTOMERS)
    max: int | None = Field(default=None, ge=1, le=MOST_CUSTOMERS)

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Span(_Section):
    """Span band: floor(N/M) - tolerance .. ceil(N/M) + tolerance customers per manager."""

    tolerance: int = Field(default=2, ge=0, le=MOST_CUSTOMERS)
    premium: Band = Field(default_factory=Band)
    separate_ledger: Band = Field(default_factory=Band)


def _did_you_mean(goal: str) -> str:
    close = difflib.get_close_matches(goal, GOALS, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Objective(_Section):
    """Soft goals: lexicographic ``order`` (most important first) or one weighted sum.

    Give one of the two; with neither, the goals follow ``DEFAULT_ORDER``.
    """

    order: list[GoalName] | None = None
    weights: dict[str, float] | None = None

    @field_validator("order", mode="before")
    @classmethod
    def _known_goals_no_repeats(cls, order: Any) -> Any:
        """Every slip of the list at once: unknown goals and goals listed twice."""
        if not isinstance(order, list):
            return order
        if not order:
            raise ValueError(
                f"the order lists no goal, so any plan would do; list at least one of {list(GOALS)}"
            )
        slips = [
            f"item {i} {goal!r} is not a goal" + _did_you_mean(goal)
            for i, goal in enumerate(order, start=1)
            if isinstance(goal, str) and goal not in GOALS
        ]
        slips += [
            f"{goal!r} is listed {order.count(goal)} times"
            for goal in dict.fromkeys(order)
            if isinstance(goal, str) and order.count(goal) > 1
        ]
        if slips:
            raise ValueError(f"{'; '.join(slips)}; goals are {list(GOALS)}")
        return order

    @field_validator("weights")
    @classmethod
    def _known_goals(cls, weights: dict[str, float] | None) -> dict[str, float] | None:
        if weights is None:
            return None
        slips = [
            f"{goal!r} is not a goal" + _did_you_mean(goal) for goal in weights if goal not in GOALS
        ]
        slips += [
            f"{goal} = {w:g} is not between 0 and {MOST_WEIGHT:g}"
            for goal, w in weights.items()
            if w < 0 or w > MOST_WEIGHT
        ]
        if slips:
            raise ValueError(f"{'; '.join(slips)}; goals are {list(GOALS)}")
        if not any(w > 0 for w in weights.values()):
            raise ValueError(
                "no goal has a weight above 0, so any plan would do; give at least one goal "
                f"of {list(GOALS)} a positive weight"
            )
        return weights

    @model_validator(mode="before")
    @classmethod
    def _weights_over_order(cls, data: Any) -> Any:
        # The two are alternatives; given both (an older manifest, or a file that parse_policy
        # warns about), the weights are used.
        if isinstance(data, dict) and data.get("weights") is not None:
            return {k: v for k, v in data.items() if k != "order"}
        return data

    @field_serializer("order")
    def _resolved_order(self, order: list[str] | None) -> list[str] | None:
        """The order in force: the default one when neither order nor weights is given."""
        if order is None and self.weights is None:
            return list(DEFAULT_ORDER)
        return order

    def goals(self) -> list[str]:
        """The goals in order of importance (weighted goals by decreasing weight)."""
        if self.weights is not None:
            return [g for g, _ in sorted(self.weights.items(), key=lambda kv: -kv[1]) if _ > 0]
        return list(self.order if self.order is not None else DEFAULT_ORDER)


class Balance(_Section):
    """Optional hard bound: each standard portfolio's target within this fraction of the mean.

    With the bound, the goal ``balance`` moves to the end of the order: the bound holds balance,
    and the goals after it use all the freedom it leaves (balance is then refined last).
    """

    max_deviation: float | None = Field(default=None, gt=0)


class Rotation(_Section):
    """Optional rotation rule: a customer held this many years or more changes manager."""

    max_tenure_years: int | None = Field(default=None, ge=1, le=200)


MOST_WORKERS = 1024  # CP-SAT threads a solve may ask for
LARGEST_SEED = 2**31 - 1  # CP-SAT's seed is a 32-bit integer


LEAST_TIME_LIMIT_S = 0.1  # as --time-limit takes: less would leave no search at all


class Solver(_Section):
    """CP-SAT settings; ``workers = 0`` uses every core."""

    time_limit_s: float = Field(default=30.0, ge=LEAST_TIME_LIMIT_S)
    workers: int = Field(default=0, ge=0, le=MOST_WORKERS)
    seed: int = Field(default=0, ge=0, le=LARGEST_SEED)
    deterministic: bool = False


class Rates(_Section):
    """The three tier rates, each one number or one per income type."""

    target: float | dict[str, float] = 0.004
    increment: float | dict[str, float] = 0.02
    excess: float | dict[str, float] = 0.03

    @field_validator("target", "increment", "excess")
    @classmethod
    def _non_negative(cls, value: float | dict[str, float]) -> float | dict[str, float]:
        values = value.values() if isinstance(value, dict) else [value]
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(INCOME_TYPES))
            if unknown:
                raise ValueError(f"unknown income type(s) {unknown}; use {list(INCOME_TYPES)}")
            # A type left out would earn nothing at this tier, without a word.
            missing = [t for t in INCOME_TYPES if t not in value]
            if missing:
                raise ValueError(
                    f"a rate per income type names all of {list(INCOME_TYPES)}; "
                    f"{', '.join(missing)} missing (write 0 where a type earns nothing at this "
                    "tier, or give one number for all)"
                )
        if any(v < 0 for v in values):
            raise ValueError("a rate must be >= 0")
        return value

    def rate(self, tier: str, income_type: str) -> float:
        value = getattr(self, tier)
        return float(value.get(income_type, 0.0)) if isinstance(value, dict) else float(value)


def _growth_at_least_minus_one(growth: dict[str, float] | None) -> dict[str, float] | None:
    """A portfolio cannot shrink by more than all of it."""
    below = {k: v for k, v in (growth or {}).items() if v < -1}
    if below:
        listed = ", ".join(f"{k} = {v:g}" for k, v in below.items())
        raise ValueError(f"growth below -1 (-100%): {listed}; use a growth >= -1")
    return growth


class PayoutOverride(_Section):
    """Overrides for separate-ledger portfolios (their own assessment scheme)."""

    rates: Rates | None = None
    growth: dict[str, float] | None = None
    default_growth: float | None = Field(default=None, ge=-1)

    _growth = field_validator("growth")(_growth_at_least_minus_one)


class Payout(_Section):
    """The payout model's parameters."""

    year: int | None = Field(default=None, ge=1900, le=2200)
    fx_rate: float = Field(default=1.0, gt=0)
    growth: dict[str, float] = Field(default_factory=dict)
    default_growth: float = Field(default=0.05, ge=-1)
    rates: Rates = Field(default_factory=Rates)
    base_salary: dict[str, float] = Field(default_factory=dict)
    default_base_salary: float = Field(default=0.0, ge=0)
    default_score: float = Field(default=1000.0, ge=0, le=1000)
    unit_target: float | None = Field(default=None, gt=0)
    quarter_weights: list[float] = Field(default_factory=lambda: [0.25, 0.25, 0.25, 0.25])
    separate_ledger: PayoutOverride = Field(default_factory=PayoutOverride)

    _growth = field_validator("growth")(_growth_at_least_minus_one)

    @field_validator("quarter_weights")
    @classmethod
    def _four_weights_adding_to_one(cls, weights: list[float]) -> list[float]:
        if len(weights) != 4 or any(w < 0 for w in weights) or abs(sum(weights) - 1) > 1e-9:
            raise ValueError("give four non-negative weights that add up to 1")
        return weights

    @field_validator("base_salary")
    @classmethod
    def _salaries_non_negative(cls, salaries: dict[str, float]) -> dict[str, float]:
        if any(v < 0 for v in salaries.values()):
            raise ValueError("a base salary must be >= 0")
        return salaries


class Affinity(_Section):
    """Default workload per customer class, where the affinity table gives none."""

    default_workload: dict[str, float] = Field(default_factory=dict)

    @field_validator("default_workload")
    @classmethod
    def _workloads_non_negative(cls, workloads: dict[str, float]) -> dict[str, float]:
        if any(not (v >= 0 and math.isfinite(v)) for v in workloads.values()):
            raise ValueError("a workload must be a number >= 0")
        return workloads


class Policy(_Section):
    """Everything in ``scenario.toml``."""

    name: str | None = None
    tables: Tables = Field(default_factory=Tables)
    classes: Classes = Field(default_factory=Classes)
    span: Span = Field(default_factory=Span)
    objective: Objective = Field(default_factory=Objective)
    balance: Balance = Field(default_factory=Balance)
    rotation: Rotation = Field(default_factory=Rotation)
    solver: Solver = Field(default_factory=Solver)
    payout: Payout = Field(default_factory=Payout)
    affinity: Affinity = Field(default_factory=Affinity)

    @model_validator(mode="after")
    def _class_keys_are_classes(self) -> Policy:
        errors = unknown_class_keys(self.classes.classes, self.class_tables())
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def class_tables(self) -> dict[tuple[str, ...], dict[str, float]]:
        """The policy's tables keyed by customer class, by their key path."""
        tables: dict[tuple[str, ...], dict[str, float]] = {}
        for path in CLASS_TABLE_PATHS:
            node: Any = self
            for part in path:
                node = getattr(node, part)
            tables[path] = node or {}
        return tables

    @property
    def premium_class(self) -> str:
        return self.classes.premium_class

    @property
    def premium_grade(self) -> str:
        return self.classes.premium_grade

    def updated(self, dotted: dict[str, Any]) -> Policy:
        """A copy with dotted keys (``span.tolerance``) replaced, checked like the file."""
        data = self.model_dump()
        objective = data.setdefault("objective", {})
        for given, other in (("order", "weights"), ("weights", "order")):
            # The two are alternatives: giving one replaces the other.
            if dotted.get(f"objective.{given}") is not None and f"objective.{other}" not in dotted:
                objective[other] = None
        for key, value in dotted.items():
            node = data
            *parents, leaf = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        return Policy.model_validate(data)


def unknown_class_keys(
    known: list[str], tables: dict[tuple[str, ...], dict[str, Any]]
) -> list[InitErrorDetails]:
    """An error for each key of a table keyed by customer class (``tables``, by key path) that
    is not a class: such a class would silently take the default, so a misspelt class would
    change targets and pay without a word."""
    return [
        InitErrorDetails(
            type=PydanticCustomError(
                UNKNOWN_CLASS,
                "'{key}' is not a customer class; the classes are {classes}",
                {"key": key, "classes": known},
            ),
            loc=(*where, key),
            input=value,
        )
        for where, table in tables.items()
        for key, value in table.items()
        if key not in known
    ]


def _raw_class_keys(raw: dict[str, Any]) -> list[ErrorDetails]:
    """:func:`unknown_class_keys` on the policy as parsed, for when other errors stop the
    policy's own check: the classes as given (if a list of names), else the defaults."""
    section = raw.get("classes")
    known = _sound_names(section if isinstance(section, dict) else {}, "classes")
    if known is None:
        return []  # the list itself is in error: its keys cannot be judged
    tables = {path: node for path in CLASS_TABLE_PATHS if isinstance(node := _at(raw, path), dict)}
    errors = unknown_class_keys(known, tables)
    if not errors:
        return []
    return ValidationError.from_exception_data("Policy", errors).errors()


def _sound_names(section: dict[str, Any], key: str) -> list[str] | None:
    """[classes] ``classes`` or ``grades`` as given, where a list of names (the default where
    the key is absent), else None."""
    if key not in section:
        return list(Classes().model_dump()[key])
    names = section[key]
    sound = isinstance(names, list) and names and all(isinstance(n, str) and n for n in names)
    return list(names) if sound else None


def _at(raw: Any, loc: tuple[Any, ...]) -> Any:
    """The value at key path ``loc`` of the parsed TOML (tables and lists), else MISSING."""
    node = raw
    for part in loc:
        in_table = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if not (in_table or in_list):
            return MISSING
        node = node[part]
    return node


def policy_key_line(root: Path, dotted: str) -> int | None:
    """The line of a key (``payout.unit_target``) in the folder's scenario.toml, if readable."""
    try:
        text, _ = decode_text((root / POLICY_FILE).read_bytes())
    except (OSError, UnicodeDecodeError):
        return None
    return _key_line(text, tuple(dotted.split(".")))


def _key_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """The line of ``loc`` (a key path) in TOML ``text``, found by a plain scan."""
    section: list[str] = []
    wanted = [str(p) for p in loc if not isinstance(p, int)]
    header = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")
    assignment = re.compile(r"^\s*([A-Za-z0-9_\-\"']+)\s*=")
    best: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if m := header.match(line):
            section = [s.strip().strip("\"'") for s in m.group(1).split(".")]
            if section == wanted[: len(section)] and best is None and len(section) == len(wanted):
                best = number
            continue
        if m := assignment.match(line):
            key = [*section, m.group(1).strip("\"'")]
            if key == wanted[: len(key)] and len(key) >= min(len(wanted), len(section) + 1):
                return number
    return best


def _toml_error_line(exc: tomllib.TOMLDecodeError, text: str) -> int | None:
    """The line of a TOML syntax error (Python < 3.14 gives it only in the message)."""
    line = getattr(exc, "lineno", None)
    if line is None and (m := re.search(r"at line (\d+)", str(exc))):
        line = int(m.group(1))
    if line is None and "end of document" in str(exc):
        line = max(1, len(text.splitlines()))
    return line


def parse_policy(text: str, file: str = "scenario.toml") -> tuple[Policy | None, list[Problem]]:
    """Parse and check the policy text; on failure, every problem with its line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(exc, text)
        return None, [Problem(file, f"not valid TOML: {exc}", _toml_hint(text, line), row=line)]
    warnings = (
        _order_and_weights(raw, text, file)
        + _percents_as_fractions(raw, text, file)
        + _names_listed_twice(raw, text, file)
    )
    try:
        # Strict: TOML has types, and a value of the wrong one is a mistake to report, not to
        # convert (true is not a tolerance of 1, "0.05" in quotes is text).
        policy = Policy.model_validate(raw, strict=True)
        return policy, warnings + goals_left_out(policy, file, text)  # once the goals are sound
    except ValidationError as exc:
        problems = list(warnings)
        errors = exc.errors()
        if not any(err["type"] == UNKNOWN_CLASS for err in errors):
            errors += _raw_class_keys(raw)  # the policy's own check did not get to run
        said: set[tuple[Any, ...]] = set()
        for err in errors:
            if _other_form(err):
                continue
            loc = tuple(p for p in err["loc"] if not _validator_tag(p))
            if loc in said:  # a value that fits no member of a union: one error, not one each
                continue
            said.add(loc)
            key = _key_name(loc)
            message = _plain(err["msg"].removeprefix("Value error, "))
            given = err.get("input")
            row = _key_line(text, loc)
            if _at(raw, loc) is MISSING:  # a default that does not fit the file's own lists
                message = f"not set, and its default {given!r} is {message}"
                hint = f"set {loc[-1]} under [{'.'.join(map(str, loc[:-1]))}]"
                row = _key_line(text, loc[:-1])
            elif err["type"] == "extra_forbidden":
                message = "unknown key"
                hint = "check the spelling; see the policy keys in README.md"
            else:
                if isinstance(given, str) and "\\" in given:  # shown as written: C:\data
                    message += f" (given: '{given}')"
                elif isinstance(given, str | int | float):
                    message += f" (given: {given!r})"
                hint = _type_hint(err) or HINTS.get(err["type"], f"fix the value of {key}")
            problems.append(Problem(file, f"{key}: {message}", hint, row=row, column=key))
        # In the order of the file's lines, as a planner reads it (keys without a line last).
        return None, sorted(problems, key=lambda p: (p.row is None, p.row or 0))


NUMBER_TYPES = {"int_type", "float_type"}
# The validation library's words, and a planner's.
PLAIN_WORDS = (
    (r"^Input should be a valid integer.*", "must be a whole number"),
    (r"^Input should be a valid number.*", "must be a number"),
    (r"^Input should be greater than or equal to (.+)$", r"must be \1 or more"),
    (r"^Input should be greater than (.+)$", r"must be above \1"),
    (r"^Input should be less than or equal to (.+)$", r"must be \1 or less"),
    (r"^Input should be less than (.+)$", r"must be below \1"),
    (r"^Input should be a valid list.*", "must be a list in square brackets"),
    (r"^Input should be a valid dictionary.*", "must be a table, such as { key = 0.1 }"),
    (r"^Input should be a valid string.*", "must be text in quotes"),
    (r"^Input should be a valid boolean.*", "must be true or false"),
    (r"^Input should be a finite number.*", "must be a finite number"),
    (r"^List should have at least (\d+) items? after validation.*", r"must list at least \1"),
)
UNION_MEMBER = re.compile(r"^(float|int|str|bool|none|dict\[.*\]|list\[.*\])$")


def _plain(message: str) -> str:
    """A validation message in a planner's words."""
    for pattern, words in PLAIN_WORDS:
        if re.match(pattern, message):
            return re.sub(pattern, words, message)
    return message


def _other_form(err: Any) -> bool:
    """Whether ``err`` is a union member's complaint about a value given in another form (a
    table where a number may stand: the table's own errors say what is wrong)."""
    tags = [p for p in err["loc"] if isinstance(p, str) and UNION_MEMBER.match(p)]
    if not tags:
        return False
    table = tags[-1].startswith("dict")
    given_table = isinstance(err.get("input"), dict)
    return err["loc"][-1] == tags[-1] and table != given_table


def _validator_tag(part: Any) -> bool:
    """A part of an error's location that names a validator or a union member, not a key."""
    return isinstance(part, str) and (
        part.startswith("function-after") or UNION_MEMBER.match(part) is not None
    )


def _key_name(loc: tuple[Any, ...]) -> str:
    """A policy key as a planner counts: list items from 1 (objective.order item 2)."""
    parts = [f"item {p + 1}" if isinstance(p, int) else str(p) for p in loc]
    return ".".join(parts).replace(".item ", " item ") or "(top level)"


def _number_hint(given: str) -> str:
    """How to write the text ``given`` as a TOML number."""
    text = given.strip().replace(" ", "")
    if text.endswith("%"):
        try:
            fraction = float(text[:-1].replace(",", ".")) / 100
        except ValueError:
            return "write a number, without quotes"
        return f'write the fraction without quotes or % ({fraction:g} rather than "{given}")'
    if re.fullmatch(r"-?\d+,(\d{1,2}|\d{4,})", text):  # a decimal comma, not thousands
        point = text.replace(",", ".")
        return f'write a decimal point, without quotes ({point} rather than "{given}")'
    try:
        float(text.replace(",", ""))
    except ValueError:
        return "write a number, without quotes"
    return f'write the number without quotes ({text.replace(",", "")} rather than "{given}")'


def _type_hint(err: Any) -> str | None:
    """What to write instead of a value of the wrong TOML type."""
    given, kind = err.get("input"), err["type"]
    if isinstance(given, str) and kind == "bool_type":
        return "write true or false, without quotes"
    if isinstance(given, str) and kind in NUMBER_TYPES:
        return _number_hint(given)
    if isinstance(given, bool) and kind in NUMBER_TYPES:
        return "write a number, not true or false"
    if isinstance(given, float) and kind == "int_type":
        return "write a whole number, without a decimal point"
    return None


def _toml_hint(text: str, line: int | None) -> str:
    """What to do about a TOML syntax error; a bare key in Chinese needs quotes."""
    lines = text.splitlines()
    content = lines[line - 1] if line is not None and 0 < line <= len(lines) else ""
    key = content.split("=", 1)[0].strip()
    if "=" in content and key and not key.isascii() and not key.startswith(('"', "'")):
        return f'fix the syntax on that line: put a key that is not plain ASCII in quotes ("{key}")'
    if "\\" in content.split("#", 1)[0]:  # a Windows path in double quotes
        return (
            'fix the syntax on that line: in a path write / ("data/customers.csv"), or put '
            "it in single quotes ('data\\customers.csv')"
        )
    return "fix the syntax on that line"


def _names_listed_twice(raw: dict[str, Any], text: str, file: str) -> list[Problem]:
    """A warning for each class or grade that [classes] lists twice (or again in other
    capitals or with spaces around it): mostly another name was meant."""
    section = raw.get("classes")
    problems = []
    for key in ("classes", "grades"):
        names = section.get(key) if isinstance(section, dict) else None
        if not isinstance(names, list):
            continue
        first: dict[str, int] = {}
        for position, name in enumerate(names, start=1):
            if not isinstance(name, str):
                continue
            seen = first.setdefault(name.strip().casefold(), position)
            if seen == position:
                continue
            problems.append(
                Problem(
                    file,
                    f"classes.{key} lists {names[seen - 1]!r} twice (names {seen} and {position})",
                    f"list each of the {key} once; if another name was meant, write it",
                    row=_key_line(text, ("classes", key)),
                    column=f"classes.{key}",
                    severity=Severity.WARNING,
                )
            )
    return problems


def _percents_as_fractions(raw: dict[str, Any], text: str, file: str) -> list[Problem]:
    """A warning for each growth rate or pay rate of [payout], and the [balance] bound, above
    1: a fraction is meant (0.08), and 8 would be 800%; and for a default management score of
    1 or less, on its scale of 0..1000."""
    problems = []

    def visit(value: Any, loc: tuple[str, ...]) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                visit(inner, (*loc, str(key)))
            return
        rate = any(p in ("rates", "max_deviation") or "growth" in p for p in loc)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if rate and number and math.isfinite(value) and value > 1:
            key = ".".join(loc)
            problems.append(
                Problem(
                    file,
                    f"{key} = {value:g} is {value:.0%}: rates are fractions",
                    f"write {value / 100:g} for {value:g}%, if that is meant",
                    row=_key_line(text, loc),
                    column=key,
                    severity=Severity.WARNING,
                )
            )

    payout: dict[str, Any] = raw["payout"] if isinstance(raw.get("payout"), dict) else {}
    visit(payout, ("payout",))
    score = payout.get("default_score")
    if isinstance(score, int | float) and not isinstance(score, bool) and 0 < score <= 1:
        loc = ("payout", "default_score")
        problems.append(
            Problem(
                file,
                f"payout.default_score = {score:g} is on a scale of 0..1000",
                f"write {score * 1000:g} for {score:.0%}, if that is meant",
                row=_key_line(text, loc),
                column="payout.default_score",
                severity=Severity.WARNING,
            )
        )
    balance = raw.get("balance")
    if isinstance(balance, dict):
        visit({"max_deviation": balance.get("max_deviation")}, ("balance",))
    return problems


def override_warnings(overrides: dict[str, object], label: str) -> list[Problem]:
    """The warnings the policy file would draw for these dotted keys' values (a rate of 5 is
    500%), for values given on the command line or by a sweep's --vary."""
    raw: dict[str, Any] = {}
    for key, value in overrides.items():
        *sections, last = key.split(".")
        place = raw
        for section in sections:
            place = place.setdefault(section, {})
            if not isinstance(place, dict):
                break
        else:
            place[last] = value
    return _percents_as_fractions(raw, "", label)


def _order_and_weights(raw: dict[str, Any], text: str, file: str) -> list[Problem]:
    """A warning when [objective] gives both order and weights: the weights are used."""
    objective = raw.get("objective")
    if not isinstance(objective, dict) or "order" not in objective or "weights" not in objective:
        return []
    return [
        Problem(
            file,
            "objective: both order and weights are given: the weights are used, the order is "
            "ignored",
            "delete order or weights from [objective]",
            row=_key_line(text, ("objective", "order")),
            column="objective.order",
            severity=Severity.WARNING,
        )
    ]


def gives_objective(keys: Iterable[str]) -> bool:
    """Whether these dotted keys give the objective (its order or weights)."""
    return any(key.startswith("objective.") for key in keys)


def values_warnings(policy: Policy, overrides: dict[str, object], label: str) -> list[Problem]:
    """What the policy file would draw for values given on the command line or by a sweep's
    variant (a rate of 5 is 500%), and, where they give the objective, the goals that
    ``policy``, the policy in force, leaves out."""
    found = override_warnings(overrides, label)
    if gives_objective(overrides):
        found += goals_left_out(policy, label)
    return found


def goals_left_out(policy: Policy, file: str, text: str = "") -> list[Problem]:
    """A warning when [objective] leaves goals out (of the order, or with no weight): the
    search does not pursue them, so ``order = ["continuity"]`` can leave targets far apart
    without a word. With the policy file's ``text``, the warning has its line."""
    objective, with_affinity = policy.objective, policy.tables.affinity is not None
    if objective.weights is None and objective.order is None:
        return []  # the default order: every goal
    key = "weights" if objective.weights is not None else "order"
    row = _key_line(text, ("objective", key)) if text else None
    order = None if objective.order is None else list(map(str, objective.order))
    return _left_out_warning(order, objective.weights, with_affinity, file, row)


def _left_out_warning(
    order: list[str] | None,
    weights: dict[str, float] | None,
    with_affinity: bool,
    file: str,
    row: int | None,
) -> list[Problem]:
    """The goals an order or weights leave out, with the full order or the weights to add."""
    kept = [*DEFAULT_ORDER, *(["affinity"] if with_affinity else [])]
    if weights is not None:
        missing = [goal for goal in kept if not weights.get(goal)]
    else:
        missing = [goal for goal in kept if goal not in (order or [])]
    if not missing:
        return []
    them = "it" if len(missing) == 1 else "them"
    left = f"leave{'s' if weights is None else ''} out {listed(missing, len(missing))}"
    if weights is not None:
        what, hint = (
            f"the weights {left} (no weight, or 0)",
            f"to pursue {them}, give {them} a weight ({missing[0]} = 1, say)",
        )
    else:
        ranked = [g for g in order or [] if g != "affinity" or with_affinity] + missing
        full = ", ".join(f'"{goal}"' for goal in ranked)
        what, hint = (
            f"the order {left}",
            f"to rank {them} after the goals listed, write order = [{full}]",
        )
    return [
        Problem(
            file,
            f"objective: {what}: the search does not pursue {them}, so the plan may be far "
            f"from the best on {them} (the KPIs still report {them})",
            hint,
            row=row,
            column=f"objective.{'order' if weights is None else 'weights'}",
            severity=Severity.WARNING,
        )
    ]


def _raw_section(path: Path, name: str) -> dict[str, Any] | None:
    """Section ``name`` of the policy file as parsed, where the file reads as TOML; where it
    does not, the section's own lines, where they do (a slip elsewhere in the file must not
    hide the tables' problems)."""
    try:
        text, _ = decode_text(path.read_bytes())
    except (OSError, UnicodeDecodeError):
        return None
    try:
        section = tomllib.loads(text).get(name, {})
    except tomllib.TOMLDecodeError:
        section = _section_alone(text, name)
    return section if isinstance(section, dict) or section is None else {}


def _section_alone(text: str, name: str) -> dict[str, Any] | None:
    """The lines from ``[name]`` to the next header, parsed on their own; None where the
    section is absent, has sections of its own elsewhere ([payout.rates]) or its lines are
    not TOML either."""
    lines = text.splitlines()
    nested = re.compile(rf"\s*\[\s*{re.escape(name)}\s*\.")
    if any(nested.match(line) for line in lines):
        return None
    header = re.compile(rf"\s*\[\s*{re.escape(name)}\s*\]\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if header.fullmatch(line)), None)
    if start is None:
        return None
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines)
    )
    try:
        return tomllib.loads("\n".join(lines[start + 1 : end]))
    except tomllib.TOMLDecodeError:
        return None


def tables_section(path: Path) -> Tables | None:
    """The [tables] section alone: its keys that name a table by a file (so that the tables
    can be checked while the policy has errors, a misspelt table key among them)."""
    section = _raw_section(path, "tables")
    if section is None:
        return None
    named = {
        key: value
        for key, value in section.items()
        if key in Tables.model_fields and isinstance(value, str)
    }
    try:
        return Tables.model_validate(named, strict=True)
    except ValidationError:
        return None


def names_listed(path: Path, key: str) -> list[str] | None:
    """[classes] ``classes`` or ``grades`` alone, where the list itself is sound (the default
    where the key is absent), else None: so that the tables' classes and grades can be checked
    while other keys have errors."""
    section = _raw_section(path, "classes")
    return None if section is None else _sound_names(section, key)


SALARY_KEYS = {"base_salary", "default_base_salary"}


def payout_section(path: Path) -> tuple[Payout | None, bool]:
    """The [payout] section alone, less its keys in error, else None: so that the payout
    tables can be checked while the policy has errors; and whether a base salary key was in
    error (then the salary checks, which would take the default, are left out)."""
    section = _raw_section(path, "payout")
    if section is None:
        return None, False
    try:
        return Payout.model_validate(section, strict=True), False
    except ValidationError as exc:
        bad = {e["loc"][0] for e in exc.errors() if e["loc"]}
    try:  # the keys in error left out: their errors are said anyway, the tables' need the rest
        kept = {k: v for k, v in section.items() if k not in bad}
        return Payout.model_validate(kept, strict=True), bool(bad & SALARY_KEYS)
    except ValidationError:
        return None, False


def _scenario_of_output(folder: Path) -> str | None:
    """The scenario folder an output folder's manifest.json names, if ``folder`` is one."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    scenario = manifest.get("scenario") if isinstance(manifest, dict) else None
    return scenario if isinstance(scenario, str) and scenario else None


def load_policy(path: Path) -> tuple[Policy | None, list[Problem]]:
    """Read ``scenario.toml``; a missing file is a problem, not an exception."""
    if not path.exists():
        solved_from = _scenario_of_output(path.parent)
        if solved_from:
            return None, [
                Problem(
                    path.name,
                    "file not found: this folder is the output of a solve, not a scenario",
                    f"give the scenario it was solved from, {solved_from}",
                )
            ]
        return None, [Problem(path.name, "file not found", "create scenario.toml in the folder")]
    if path.is_dir():
        return None, [
            Problem(path.name, "is a folder, not a file", "put the policy file scenario.toml there")
        ]
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [unreadable(path.name, exc)]
    try:
        text, _ = decode_text(data)
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")
    return parse_policy(text, path.name)
