"""scenario.toml: defaults for every key, and problems located at their line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from pydantic import BaseModel

from portfolio_opt.scenario.policy import Policy, load_policy, parse_policy


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


def test_every_bad_value_is_listed_at_once():
    text = (
        "[span]\ntolerance = -1\n"
        "[solver]\ntime_limit_s = 0\n"
        "[payout]\nquarter_weights = [0.5, 0.5]\n"
        '[objective]\norder = ["span", "span"]\n'
    )
    _, problems = parse_policy(text)
    assert sorted((p.column, p.row) for p in problems) == [
        ("objective.order", 8),
        ("payout.quarter_weights", 6),
        ("solver.time_limit_s", 4),
        ("span.tolerance", 2),
    ]


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
