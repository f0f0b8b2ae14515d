"""load_scenario: the Python API, and the same frames whatever format the tables come in."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from portfolio_opt.problems import ScenarioError
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.loader import inspect_scenario, load_scenario
from portfolio_opt.scenario.policy import Policy
from portfolio_opt.scenario.schema import SCHEMAS

from .conftest import DATA, INVALID

TABLES = ("customers.csv", "managers.csv")


def assert_same_tables(twin: Path, original: Path) -> Scenario:
    """Customers and managers of ``twin`` equal those of ``original``; the twin, loaded."""
    expected, loaded = load_scenario(original), load_scenario(twin)
    pd.testing.assert_frame_equal(loaded.customers, expected.customers)
    pd.testing.assert_frame_equal(loaded.managers, expected.managers)
    return loaded


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
def test_csv_in_another_encoding_loads_like_its_utf8_twin(all_columns, tmp_path, encoding):
    twin = tmp_path / encoding
    twin.mkdir()
    (twin / "scenario.toml").write_bytes((all_columns / "scenario.toml").read_bytes())
    for name in TABLES:
        text = (all_columns / name).read_text(encoding="utf-8")
        (twin / name).write_bytes(text.encode(encoding))
    if encoding == "gb18030":  # make sure the twin really is not UTF-8
        with pytest.raises(UnicodeDecodeError):
            (twin / "customers.csv").read_bytes().decode("utf-8")
    loaded = assert_same_tables(twin, all_columns)
    assert loaded.customers.loc[0, "name"] == "廈門星佳鋼鐵有限公司"
    assert loaded.customers["備註"].tolist() == ["老客戶", "", "續約中", "分賬"]


def test_xlsx_loads_like_its_csv_twin(all_columns, tmp_path):
    """Numbers and booleans as Excel stores them, a Chinese sheet name, first sheet by default."""
    twin = tmp_path / "xlsx"
    twin.mkdir()
    with pd.ExcelWriter(twin / "名單.xlsx", engine="openpyxl") as book:
        for name, sheet in zip(TABLES, ("客戶", "客戶經理"), strict=True):
            frame = pd.read_csv(all_columns / name, encoding="utf-8")
            frame.to_excel(book, sheet_name=sheet, index=False)
    (twin / "scenario.toml").write_text(
        '[tables]\ncustomers = "名單.xlsx"\nmanagers = "名單.xlsx#客戶經理"\n', encoding="utf-8"
    )
    assert_same_tables(twin, all_columns)


def test_minimal_policy_takes_every_default():
    scenario = load_scenario(DATA / "valid_minimal")
    policy = scenario.policy
    assert policy == Policy()
    assert policy.classes.classes == ["premium", "key", "growth", "basic", "watch", "exit"]
    assert (policy.premium_class, policy.premium_grade) == ("premium", "A")
    assert policy.span.tolerance == 2
    assert (policy.span.premium.min, policy.span.premium.max) == (None, None)
    assert policy.objective.goals() == ["span", "balance", "chain", "industry", "continuity"]
    assert policy.balance.max_deviation is None
    assert policy.rotation.max_tenure_years is None
    assert (policy.solver.time_limit_s, policy.solver.workers, policy.solver.seed) == (30.0, 0, 0)
    assert policy.solver.deterministic is False
    assert policy.payout.fx_rate == 1.0
    assert policy.payout.default_score == 1000.0
    assert policy.payout.quarter_weights == [0.25, 0.25, 0.25, 0.25]
    assert policy.payout.unit_target is None
    assert scenario.name == "valid_minimal"


def test_optional_tables_absent_are_empty_frames_with_their_columns():
    scenario = load_scenario(DATA / "valid_minimal")
    assert sorted(scenario.files) == ["customers", "managers"]
    for table in ("relations", "actuals", "adjustments", "credits", "affinity"):
        frame = getattr(scenario, table)
        assert len(frame) == 0
        assert list(frame.columns) == [c.name for c in SCHEMAS[table]]
        assert not scenario.has(table)


def test_typed_columns_follow_the_schema():
    scenario = load_scenario(DATA / "valid_all_columns")
    customers, managers = scenario.customers, scenario.managers
    assert customers["customer_id"].tolist() == ["K1", "K2", "K3", "K4"]
    assert customers["separate_ledger"].tolist() == [False, False, False, True]
    assert customers["interest_income"].tolist() == [325287.16, 0.0, 20697.81, 1000.0]
    assert customers["group_id"].tolist() == ["", "G1", "G1", ""]
    assert customers["tenure_years"].dtype == "Int64"
    assert customers["tenure_years"].tolist()[:3] == [4, 2, 10]
    assert customers["tenure_years"].isna().tolist() == [False, False, False, True]
    assert pd.isna(customers.loc[1, "growth_rate"]) and customers.loc[3, "growth_rate"] == 0.12
    assert managers["available"].tolist() == [True, True, False, True]
    assert managers["premium"].tolist() == [True, False, False, False]
    assert pd.isna(managers.loc[2, "management_score"])
    assert scenario.available_managers["manager_id"].tolist() == ["M1", "M2", "M4"]


def test_unknown_columns_are_kept_untouched(minimal):
    path = minimal / "customers.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] += ",Branch Code ,備註"
    lines[1:] = [f"{line},0012,=SUM(A1)" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    customers = load_scenario(minimal).customers
    assert customers["Branch Code"].tolist() == ["0012"] * 3  # its own name, trimmed
    assert customers["備註"].tolist() == ["=SUM(A1)"] * 3


def test_columns_are_matched_ignoring_case_and_spaces(minimal):
    (minimal / "managers.csv").write_text(
        " Manager_ID ,NAME,  Grade,Management_Score  , AVAILABLE\n"
        "M1 , 张伟 ,A, 900 ,TRUE\nM2,李娜,B,850,true\nM3,王芳,C,,False\n",
        encoding="utf-8",
    )
    managers = load_scenario(minimal).managers
    assert managers["manager_id"].tolist() == ["M1", "M2", "M3"]
    assert managers["name"].tolist() == ["张伟", "李娜", "王芳"]
    assert managers["management_score"].tolist()[:2] == [900.0, 850.0]
    assert managers["available"].tolist() == [True, True, False]


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("N", False),
        ("yes", True),
        ("NO", False),
        ("1", True),
        ("0", False),
        ("True", True),
        ("false", False),
        ("", True),
    ],
)
def test_booleans_in_every_spelling(minimal, word, value):
    path = minimal / "managers.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace("M1,张伟,A,900,true", f"M1,张伟,A,900,{word}"),
        encoding="utf-8",
    )
    assert load_scenario(minimal).managers["available"].tolist() == [value, True, False]


def test_invalid_scenario_raises_with_every_problem():
    with pytest.raises(ScenarioError) as raised:
        load_scenario(DATA / "many_problems")
    errors = [p for p in raised.value.problems if p.is_error]
    assert len(errors) == 19  # and warnings: a pin to an unavailable manager, a prior manager
    assert "customers.csv, row 4, column customer_id: duplicate customer_id 'C2'" in str(
        raised.value
    )


def test_scenario_named_by_its_toml_file():
    scenario = load_scenario(DATA / "valid_minimal" / "scenario.toml")
    assert scenario.root == DATA / "valid_minimal"
    assert len(scenario.customers) == 3


def test_missing_folder_is_a_problem_not_a_crash(tmp_path):
    with pytest.raises(ScenarioError) as raised:
        load_scenario(tmp_path / "nowhere")
    assert "no such scenario folder" in raised.value.problems[0].message


def test_a_path_leaving_the_folder_is_refused_even_when_the_file_exists():
    target = INVALID / "DuplicateCustomerId" / "customers.csv"
    assert target.is_file()
    with pytest.raises(ScenarioError) as raised:
        load_scenario(INVALID / "PathLeavesFolder")
    assert [(p.file, p.row, p.column, p.message) for p in raised.value.problems] == [
        (
            "scenario.toml",
            2,
            "tables.customers",
            "customers = '../DuplicateCustomerId/customers.csv' leaves the scenario folder",
        )
    ]


@pytest.mark.parametrize(
    ("order", "is_error"), [('["affinity"]', True), ('["affinity", "span"]', False)]
)
def test_the_affinity_goal_without_an_affinity_table(minimal, order, is_error):
    """Without the table the goal is left out: a warning, or an error when no goal is left."""
    toml = minimal / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + f"\n[objective]\norder = {order}\n")

    scenario, problems = inspect_scenario(minimal)

    (problem,) = [p for p in problems if p.column == "objective"]
    assert "needs an affinity table" in problem.message
    assert problem.is_error is is_error and (scenario is None) is is_error


def test_the_affinity_goal_with_an_affinity_table_of_no_rows(minimal):
    """A template with only its column names is no table: the goal alone is an error."""
    (minimal / "affinity.csv").write_text("customer_id,manager_id,cost\n", encoding="utf-8")
    toml = minimal / "scenario.toml"
    text = toml.read_text(encoding="utf-8").replace(
        "[tables]\n", '[tables]\naffinity = "affinity.csv"\n', 1
    )
    toml.write_text(text + '\n[objective]\norder = ["affinity"]\n', encoding="utf-8")

    scenario, problems = inspect_scenario(minimal)

    (problem,) = [p for p in problems if p.column == "objective"]
    assert "the table has no rows" in problem.message
    assert problem.is_error and scenario is None


def test_an_output_folder_given_as_the_scenario_points_to_its_scenario(tmp_path):
    (tmp_path / "manifest.json").write_text(
        '{"command": "solve", "scenario": "/branches/east"}', encoding="utf-8"
    )

    scenario, problems = inspect_scenario(tmp_path)

    (problem,) = problems
    assert scenario is None
    assert "the output of a solve" in problem.message
    assert "/branches/east" in problem.hint
