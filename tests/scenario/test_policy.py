"""scenario.toml: defaults for every key, and problems located at their line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel, ValidationError

from portfolio_opt.problems import Severity
from portfolio_opt.scenario.policy import (
    Policy,
    goals_left_out,
    load_policy,
    override_warnings,
    parse_policy,
)


def test_minimal_text_names_only_the_tables():
    policy, problems = parse_policy('[tables]\ncustomers = "c.xlsx#Sheet1"\n')
    assert problems == []
    assert policy.tables.customers == "c.xlsx#Sheet1"
    assert policy.tables.managers == "managers.csv"
    assert policy.model_dump(exclude={"tables"}) == Policy().model_dump(exclude={"tables"})


def test_toml_syntax_error_has_its_line():
    text = '[tables]\ncustomers = "c.csv"\n\n[span]\ntolerance = 2\nmax = [1,\n'
    policy, problems = parse_policy(text)
    assert policy is None
    [problem] = problems
    assert problem.file == "scenario.toml"
    assert problem.message.startswith("not valid TOML")
    assert problem.row == 6  # the document ends inside the list
    text = '[solver]\nseed = "1\n'
    _, [problem] = parse_policy(text)
    assert problem.row == 2


def test_unknown_key_has_its_line_and_dotted_name():
    text = "[span]\ntolerance = 1\n\n[span.premium]\nmin = 1\nmaxx = 4\n"
    _, [problem] = parse_policy(text)
    assert (problem.row, problem.column) == (6, "span.premium.maxx")
    assert "unknown key" in problem.message


def test_unknown_section_has_its_line():
    _, [problem] = parse_policy('[tables]\ncustomers = "c.csv"\n\n[solvr]\nseed = 1\n')
    assert (problem.row, problem.column) == (4, "solvr")


def refused(text: str) -> list[tuple[str | None, int | None]]:
    """(dotted key, line) of each problem with ``text``, sorted."""
    _, problems = parse_policy(text)
    return sorted((p.column, p.row) for p in problems)


def test_every_bad_value_is_listed_at_once():
    text = (
        "[span]\ntolerance = -1\n"
        "[solver]\ntime_limit_s = 0\n"
        "[payout]\nquarter_weights = [0.5, 0.5]\n"
        '[objective]\norder = ["span", "span"]\n'
    )
    assert refused(text) == [
        ("objective.order", 8),
        ("payout.quarter_weights", 6),
        ("solver.time_limit_s", 4),
        ("span.tolerance", 2),
    ]


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (
            'order = ["span", "balance", "chains", "balance"]',
            ["item 3 'chains' is not a goal (did you mean 'chain'?)", "'balance' is listed 2"],
        ),
        (
            "weights = { span = 100, balanse = 10, chain = -3 }",
            ["'balanse' is not a goal (did you mean 'balance'?)", "chain = -3 is not between 0"],
        ),
    ],
)
def test_every_slip_of_the_goals_is_named_at_once(line: str, said: list[str]) -> None:
    policy, problems = parse_policy(f"[objective]\n{line}\n", "scenario.toml")
    [problem] = problems
    assert policy is None and all(part in problem.message for part in said)


def test_infinite_or_nan_values_are_refused_where_they_would_reach_the_model():
    text = "[payout]\nfx_rate = nan\n[payout.growth]\nkey = inf\n[balance]\nmax_deviation = inf\n"
    policy, problems = parse_policy(text)
    assert policy is None
    assert sorted((p.column, p.row) for p in problems) == [
        ("balance.max_deviation", 6),
        ("payout.fx_rate", 2),
        ("payout.growth.key", 4),
    ]
    assert all("finite" in p.message for p in problems)


def test_missing_policy_file(tmp_path):
    policy, [problem] = load_policy(tmp_path / "scenario.toml")
    assert policy is None
    assert (problem.file, problem.message) == ("scenario.toml", "file not found")


def test_policy_file_with_bom_or_gb18030(tmp_path):
    text = 'name = "廈門分行"\n[tables]\ncustomers = "客戶.csv"\n'
    for encoding in ("utf-8-sig", "gb18030"):
        path = tmp_path / "scenario.toml"
        path.write_bytes(text.encode(encoding))
        policy, problems = load_policy(path)
        assert problems == []
        assert (policy.name, policy.tables.customers) == ("廈門分行", "客戶.csv")


REFERENCE = Path(__file__).parents[2] / "scenarios" / "demo" / "scenario.toml"


def _section(annotation: object) -> type[BaseModel] | None:
    """The policy section a field holds (``Rates | None`` holds ``Rates``), or None."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def policy_keys(model: type[BaseModel] = Policy, prefix: str = "") -> set[str]:
    """Every leaf key of the policy, dotted (``span.premium.min``)."""
    keys = set()
    for name, field in model.model_fields.items():
        section = _section(field.annotation)
        dotted = f"{prefix}{name}"
        keys |= policy_keys(section, f"{dotted}.") if section else {dotted}
    return keys


def shown_keys(text: str) -> set[str]:
    """Keys written in a TOML text, commented out or not, with their section.

    A commented key just above a section header (``# weights = ...`` then ``[objective]``)
    counts for that section too.
    """
    shown: set[str] = set()
    section, above = "", []  # commented keys just above the next header
    for raw in text.splitlines():
        is_comment = raw.strip().startswith("#")
        line = raw.strip().lstrip("#").strip()
        if m := re.match(r"^\[([a-z_.]+)\]", line):
            section = f"{m.group(1)}."
            shown |= {m.group(1), *(section + key for key in above)}
            above = []
        elif m := re.match(r"^([a-z_]+)\s*=", line):
            shown.add(section + m.group(1))
            above = [*above, m.group(1)] if is_comment else []
        elif line and not is_comment:
            above = []
    return shown


def test_every_policy_key_has_a_default_and_is_shown_in_the_reference_example():
    Policy()  # every key has a default
    shown = shown_keys(REFERENCE.read_text(encoding="utf-8"))
    assert sorted(policy_keys() - shown) == []


@pytest.mark.parametrize(
    ("objective", "column", "message"),
    [
        ("order = []", "objective.order", "the order lists no goal"),
        ("weights = { span = 0 }", "objective.weights", "no goal has a weight above 0"),
        ("weights = {}", "objective.weights", "no goal has a weight above 0"),
    ],
)
def test_an_objective_without_any_goal_is_refused(objective: str, column: str, message: str):
    # With no goal every plan is "optimal": the solver would hand back an arbitrary one.
    text = f'[tables]\ncustomers = "c.csv"\n\n[objective]\n{objective}\n'
    policy, [problem] = parse_policy(text)
    assert policy is None
    assert (problem.column, problem.row) == (column, 5)
    assert message in problem.message and "span" in problem.message  # the goals to choose from


def test_order_and_weights_together_use_the_weights_with_a_warning():
    text = '[objective]\norder = ["continuity", "span"]\nweights = { span = 5, continuity = 1 }\n'
    policy, problems = parse_policy(text)
    problem = next(p for p in problems if p.column == "objective.order")
    assert policy is not None and policy.objective.goals() == ["span", "continuity"]
    assert not problem.is_error
    assert (problem.column, problem.row) == ("objective.order", 2)
    assert "the weights are used" in problem.message
    assert "delete order or weights" in problem.hint


def test_order_or_weights_alone_rank_the_goals():
    weighted, _ = parse_policy("[objective]\nweights = { chain = 1, span = 3, balance = 0 }\n")
    assert weighted.objective.goals() == ["span", "chain"]
    ordered, _ = parse_policy('[objective]\norder = ["chain", "span"]\n')
    assert ordered.objective.goals() == ["chain", "span"]
    assert Policy().objective.goals() == ["span", "balance", "chain", "industry", "continuity"]
    # the policy as written to manifest.json shows the order in force and reads back
    assert Policy().model_dump()["objective"]["order"] == Policy().objective.goals()
    for policy in (weighted, ordered, Policy()):
        again = Policy.model_validate(policy.model_dump(mode="json"))
        assert again.model_dump() == policy.model_dump()
        assert again.objective.goals() == policy.objective.goals()


def test_an_override_of_weights_replaces_the_order_and_back():
    ordered, _ = parse_policy('[objective]\norder = ["chain", "span"]\n')
    weighted = ordered.updated({"objective.weights": {"balance": 2, "span": 1}})
    assert weighted.objective.goals() == ["balance", "span"]
    assert weighted.updated({"objective.order": ["industry"]}).objective.goals() == ["industry"]
    both = Policy().updated({"objective.order": ["chain"], "objective.weights": {"span": 1}})
    assert both.objective.goals() == ["span"]  # the weights are used, as from a file


CLASSES = '[classes]\nclasses = ["premium", "sme", "retail"]\n'


@pytest.mark.parametrize(
    ("table", "line", "column"),
    [
        ("[payout.growth]", "smee = 0.5", "payout.growth.smee"),
        ("[payout.separate_ledger]", "growth = { sme = 0.1, Retail = 0.2 }", None),
        ("[affinity]", "default_workload = { basic = 2.0 }", "affinity.default_workload.basic"),
    ],
)
def test_a_class_keyed_table_names_only_the_policys_classes(table: str, line: str, column):
    # A misspelt class would silently take the default growth (or workload).
    text = f"{CLASSES}\n{table}\n{line}\n"
    policy, [problem] = parse_policy(text)
    assert policy is None
    assert problem.row == 5
    assert problem.column == (column or "payout.separate_ledger.growth.Retail")
    assert "['premium', 'sme', 'retail']" in problem.message
    assert "is not a customer class" in problem.message
    assert "[classes] classes" in problem.hint


def test_every_unknown_class_is_listed_and_known_classes_and_any_staff_level_pass():
    text = f"{CLASSES}\n[payout.growth]\nsme = 0.1\nvip = 0.2\nkey = 0.3\n"
    _, problems = parse_policy(text)
    assert [p.column for p in problems] == ["payout.growth.vip", "payout.growth.key"]
    text = f"{CLASSES}\n[payout.growth]\nsme = 0.1\n[payout.base_salary]\nL9 = 100000\n"
    policy, problems = parse_policy(text)
    assert problems == []
    assert policy.payout.growth == {"sme": 0.1} and policy.payout.base_salary == {"L9": 100000}
    with pytest.raises(ValidationError, match="'vip' is not a customer class"):
        policy.updated({"payout.growth.vip": 0.2})  # a sweep's override is checked the same way


def test_a_bare_chinese_key_gets_a_quote_hint():
    policy, [problem] = parse_policy(
        '[classes]\nclasses = ["優質", "basic"]\n\n[payout.growth]\n優質 = 0.08\n'
    )
    assert policy is None and problem.row == 5
    assert 'in quotes ("優質")' in problem.hint


def test_integers_and_weights_beyond_any_branch_are_refused():
    text = (
        "[span.premium]\nmax = 99999999999999999999\n"
        "[solver]\nseed = 4294967296\n"
        "[objective]\nweights = { span = 1e300 }\n"
    )
    assert refused(text) == [
        ("objective.weights", 6),
        ("solver.seed", 4),
        ("span.premium.max", 2),
    ]


@pytest.mark.parametrize(
    ("line", "column", "hint"),
    [
        ("[span]\ntolerance = true", "span.tolerance", "not true or false"),
        ("[payout.growth]\nkey = true", "payout.growth.key", "not true or false"),
        ('[payout]\nfx_rate = "7.1"', "payout.fx_rate", 'without quotes (7.1 rather than "7.1")'),
        ('[balance]\nmax_deviation = "0.05"', "balance.max_deviation", "without quotes"),
        ('[solver]\ndeterministic = "yes"', "solver.deterministic", "write true or false"),
        (
            '[payout]\nfx_rate = "7,1"',
            "payout.fx_rate",
            "decimal point, without quotes (7.1 rather",
        ),
        ('[balance]\nmax_deviation = "5%"', "balance.max_deviation", '(0.05 rather than "5%")'),
        ('[payout]\nfx_rate = "seven"', "payout.fx_rate", "write a number, without quotes"),
        ("[rotation]\nmax_tenure_years = 8.5", "rotation.max_tenure_years", "whole number"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_not_converted(line: str, column: str, hint: str):
    """true is not a tolerance of 1, nor 100% growth; a number in quotes is text."""
    _, [problem] = parse_policy(f"# a policy\n{line}\n")
    assert (problem.column, problem.row) == (column, 3)
    assert hint in problem.hint


def test_whole_numbers_stay_welcome_where_decimals_are():
    policy, problems = parse_policy("[payout]\nfx_rate = 7\n[solver]\ntime_limit_s = 30\n")
    assert problems == []
    assert policy.payout.fx_rate == 7.0 and policy.solver.time_limit_s == 30.0


def test_growth_below_minus_one_is_refused_at_its_section():
    text = "[payout]\ndefault_growth = -1.5\n[payout.growth]\nkey = 0.1\nexit = -2\n"
    assert refused(text) == [("payout.default_growth", 2), ("payout.growth", 3)]
    _, problems = parse_policy(text)
    assert any("exit = -2" in p.message for p in problems)


def test_a_balance_bound_of_one_or_more_is_allowed():
    policy, problems = parse_policy("[balance]\nmax_deviation = 1.0\n")
    assert problems == [] and policy is not None
    assert policy.balance.max_deviation == 1.0


def test_policy_errors_come_in_the_order_of_the_files_lines():
    text = '[span]\ntolerance = "1"\n[payout]\nfx_rate = -1\n[classes]\npremium_grade = "Z"\n'
    _, problems = parse_policy(text)
    assert [p.row for p in problems] == [2, 4, 6]


def test_policy_errors_speak_a_planners_words():
    text = "[payout]\nfx_rate = -1\n[classes]\nclasses = []\n"
    messages = [p.message for p in parse_policy(text)[1]]
    assert messages == [
        "payout.fx_rate: must be above 0 (given: -1)",
        "classes.classes: must list at least 1",
    ]


def test_a_value_given_on_the_command_line_draws_the_warning_the_file_would():
    warnings = override_warnings(
        {"payout.rates.target": 5, "payout.growth.key": 0.08, "span.tolerance": 3}, "override"
    )
    assert [(w.column, w.message) for w in warnings] == [
        ("payout.rates.target", "payout.rates.target = 5 is 500%: rates are fractions")
    ]
    assert warnings[0].severity is Severity.WARNING


def test_a_class_or_grade_listed_twice_is_a_warning_with_its_line():
    text = (
        "[classes]\n"
        'classes = ["premium", "basic", "growth", "Basic "]\n'
        'grades = ["A", "B", "C"]\n'
        'premium_grade = "A"\n'
    )
    policy, problems = parse_policy(text)
    assert policy is not None  # the plan can still be made: a warning, not an error
    assert [(p.row, p.column, p.message, p.severity) for p in problems] == [
        (
            2,
            "classes.classes",
            "classes.classes lists 'basic' twice (names 2 and 4)",
            Severity.WARNING,
        )
    ]
    _, again = parse_policy('[classes]\ngrades = ["A", "B", "A"]\n')
    assert [p.message for p in again] == ["classes.grades lists 'A' twice (names 1 and 3)"]


def test_classes_listed_once_draw_no_warning():
    assert parse_policy('[classes]\nclasses = ["premium", "basic"]\n')[1] == []


def test_an_order_that_leaves_goals_out_warns_and_gives_the_full_order():
    policy, [problem] = parse_policy('[objective]\norder = ["continuity"]\n')
    assert policy is not None and policy.objective.goals() == ["continuity"]
    assert not problem.is_error
    assert (problem.column, problem.row) == ("objective.order", 2)
    assert "leaves out span, balance, chain, industry" in problem.message
    assert 'order = ["continuity", "span", "balance", "chain", "industry"]' in problem.hint


def test_affinity_counts_as_left_out_only_with_an_affinity_table():
    full = '["span", "balance", "chain", "industry", "continuity"]'
    assert parse_policy(f"[objective]\norder = {full}\n")[1] == []
    text = f'[tables]\naffinity = "a.csv"\n[objective]\norder = {full}\n'
    _, [problem] = parse_policy(text)
    assert "leaves out affinity:" in problem.message


def test_a_partial_order_or_weights_given_on_the_command_line_warn_too():
    [problem] = goals_left_out(Policy().updated({"objective.order": ["continuity"]}), "--set")
    assert problem.file == "--set"
    assert "leaves out span, balance, chain, industry" in problem.message
    weighted = Policy().updated({"objective.weights": {"span": 100, "balance": 10}})
    [problem] = goals_left_out(weighted, "--set")
    assert problem.column == "objective.weights"
    assert "the weights leave out chain, industry, continuity (no weight, or 0)" in problem.message
    assert "give them a weight (chain = 1, say)" in problem.hint


def test_an_order_naming_affinity_without_its_table_is_not_advised_to_keep_it():
    _, problems = parse_policy('[objective]\norder = ["span", "affinity"]\n')
    [hint] = [p.hint for p in problems if "leaves out" in p.message]
    assert '"span", "balance", "chain", "industry", "continuity"]' in hint
    assert "affinity" not in hint


def test_a_time_limit_below_what_the_option_takes_is_refused_in_the_file_too():
    _, [problem] = parse_policy("[solver]\ntime_limit_s = 0.05\n")
    assert problem.is_error and problem.column == "solver.time_limit_s"
    assert parse_policy("[solver]\ntime_limit_s = 0.1\n")[0] is not None
