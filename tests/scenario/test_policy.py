"""scenario.toml: defaults for every key, and problems located at their line."""

from __future__ import annotations

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
    assert problem.row is not None and problem.row >= 6
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
