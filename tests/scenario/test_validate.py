"""Every bad input is reported with its file, spreadsheet row, column and what to do.

Each case is a folder under ``data/invalid/`` named after the failure: ``valid_minimal`` with
one thing broken. Rows are spreadsheet rows (the header is row 1); ``None`` is the whole file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from portfolio_opt.problems import Problem
from portfolio_opt.scenario.loader import inspect_scenario

from .conftest import DATA, INVALID

CASES = [
    # files that cannot be read
    ("MissingScenarioToml", "scenario.toml", None, None, "file not found"),
    ("MissingManagersFile", "managers.csv", None, None, "file not found"),
    ("EmptyCustomersFile", "customers.csv", None, None, "the file is empty"),
    # a header and no rows; relations.csv names C1, which is not reported as unknown
    ("NoCustomerRows", "customers.csv", None, None, "the table has no customers"),
    # a header and no rows; customers name prior managers, which are not reported as unknown
    ("NoManagerRows", "managers.csv", None, None, "the table has no managers"),
    # bytes that are neither UTF-8 nor GB18030
    ("UnreadableEncoding", "customers.csv", 2, None, "unknown encoding"),
    # a data row with more cells than the header: row 3 is the bad line
    ("RaggedCsvRow", "customers.csv", 3, None, "fields, but the header has"),
    # managers.xlsx holds plain text, not a workbook
    ("CorruptXlsx", "managers.xlsx", None, None, "cannot read the workbook"),
    ("UnsupportedFileType", "managers.ods", None, None, "unsupported file type"),
    # customers = "../DuplicateCustomerId/customers.csv": the file exists, but outside
    ("PathLeavesFolder", "scenario.toml", 2, "tables.customers", "leaves the scenario folder"),
    ("AbsolutePathOutsideFolder", "scenario.toml", 2, "tables.customers", "leaves the"),
    # the policy file: syntax, unknown keys and bad values, each with its line
    ("TomlSyntaxError", "scenario.toml", 6, None, "not valid TOML"),
    ("UnknownPolicyKey", "scenario.toml", 7, "span.tolerence", "unknown key"),
    ("PolicyValueOutOfRange", "scenario.toml", 6, "span.tolerance", "must be 0 or more"),
    (
        "PremiumClassNotListed",
        "scenario.toml",
        7,
        "classes.premium_class",
        "not one of the classes",
    ),
    # the header
    ("MissingCustomerClassColumn", "customers.csv", 1, "customer_class", "required column"),
    ("DuplicateColumn", "customers.csv", 1, "name", "the column appears twice"),
    # ids
    ("EmptyCustomerId", "customers.csv", 3, "customer_id", "the value is empty"),
    ("EmptyManagerId", "managers.csv", 4, "manager_id", "the value is empty"),
    ("DuplicateCustomerId", "customers.csv", 4, "customer_id", "duplicate customer_id 'C2'"),
    ("DuplicateManagerId", "managers.csv", 4, "manager_id", "duplicate manager_id 'M2'"),
    # classes and grades outside the policy's lists
    ("UnknownCustomerClass", "customers.csv", 3, "customer_class", "unknown customer class 'vip'"),
    ("UnknownGrade", "managers.csv", 3, "grade", "unknown grade 'Z'"),
    # cells of the wrong type or range
    ("IncomeNotANumber", "customers.csv", 3, "interest_income", "'八十' is not a number"),
    ("ScoreAboveThousand", "managers.csv", 3, "management_score", "at most 1000"),
    ("ScoreBelowZero", "managers.csv", 2, "management_score", "at least 0"),
    ("BooleanNotRecognised", "managers.csv", 3, "available", "'maybe' is not a yes/no value"),
    ("TenureNotWholeNumber", "customers.csv", 3, "tenure_years", "not a whole number"),
    ("MinCustomersAboveMax", "managers.csv", 2, "min_customers", "is above max_customers"),
    # every manager has available = false
    ("NoManagerAvailable", "managers.csv", None, None, "no manager is available"),
    # customers naming managers
    ("UnknownPinnedManager", "customers.csv", 4, "pinned_manager_id", "unknown manager 'M9'"),
    # optional tables naming customers and managers
    ("RelationUnknownCustomer", "relations.csv", 3, "b", "unknown customer 'C9'"),
    ("RelationUnknownKind", "relations.csv", 2, "kind", "unknown kind 'supplier'"),
    ("CreditUnknownCustomer", "credits.csv", 3, "customer_id", "customer 'C9' is not in"),
    ("CreditUnknownManager", "credits.csv", 2, "manager_id", "manager 'M9' is not in"),
    ("ActualsUnknownCustomer", "actuals.csv", 3, "customer_id", "customer 'C9' is not in"),
    ("ActualsBadPeriod", "actuals.csv", 2, "period", "'2026Q5' is not a year"),
    ("AdjustmentUnknownManager", "adjustments.csv", 3, "manager_id", "manager 'M9' is not in"),
    ("AffinityUnknownManager", "affinity.csv", 3, "manager_id", "unknown manager 'M9'"),
    # which of two rows for one pair holds would be a guess
    ("AffinityRepeatedPair", "affinity.csv", 4, "manager_id", "a second row for C1 with manager"),
    (
        "NegativeDefaultWorkload",
        "scenario.toml",
        6,
        "affinity.default_workload",
        "must be a number >= 0",
    ),
    # credit shares: each within 0..1, and one customer's shares at most 1 together
    ("CreditShareAboveOne", "credits.csv", 2, "share", "at most 1"),
    ("CreditShareBelowZero", "credits.csv", 3, "share", "at least 0"),
    ("CreditShareNotANumber", "credits.csv", 2, "share", "'thirty' is not a number"),
    # C1 gives 0.6 (row 3) and 0.5 (row 4) away
    ("CreditSharesAddUpAboveOne", "credits.csv", 3, "share", "add up to 1.1, more than 1"),
]


def errors_of(folder: str) -> list[Problem]:
    scenario, problems = inspect_scenario(INVALID / folder)
    assert scenario is None, "an invalid scenario must not load"
    return [p for p in problems if p.is_error]


@pytest.mark.parametrize(("folder", "file", "row", "column", "phrase"), CASES)
def test_invalid_input_is_reported_where_it_is(
    folder: str, file: str, row: int | None, column: str | None, phrase: str
):
    errors = errors_of(folder)
    found = [
        p
        for p in errors
        if (p.file, p.row, p.column) == (file, row, column) and phrase in p.message
    ]
    assert found, f"expected {file} row {row} column {column}: {phrase!r}; got {errors}"
    assert all(p.hint for p in found), "every problem says what to do"
    # One error per cell, from the most specific check (no extra "share '' is not a number").
    cells = [(p.file, p.row, p.column) for p in errors if p.row is not None]
    assert len(cells) == len(set(cells)), errors


def test_every_invalid_folder_has_a_case():
    folders = {p.name for p in INVALID.iterdir() if p.is_dir()}
    assert folders == {case[0] for case in CASES}


MANY_PROBLEMS = {
    ("customers.csv", 3, "customer_class", "unknown customer class 'vip'"),
    ("customers.csv", 3, "interest_income", "'abc' is not a number"),
    ("customers.csv", 4, "customer_id", "duplicate customer_id 'C2' (first at row 3)"),
    ("customers.csv", 5, "customer_id", "the value is empty"),
    ("customers.csv", 6, "customer_class", "the value is empty"),
    ("customers.csv", 6, "pinned_manager_id", "unknown manager 'M8'"),
    ("managers.csv", 2, "management_score", "'1200' is not at most 1000"),
    ("managers.csv", 3, "grade", "unknown grade 'Z'"),
    ("managers.csv", 3, "available", "'maybe' is not a yes/no value"),
    ("relations.csv", 2, "b", "unknown customer 'C7'"),
    ("relations.csv", 3, "kind", "unknown kind 'friend'"),
    ("actuals.csv", 2, "customer_id", "customer 'C9' is not in customers"),
    ("actuals.csv", 3, "period", "'2026Q9' is not a year"),
    ("actuals.csv", 3, "interest_income", "'x' is not a number"),
    ("adjustments.csv", 2, "manager_id", "manager 'M7' is not in managers"),
    ("credits.csv", 2, "share", "'1.4' is not at most 1"),
    ("credits.csv", 3, "share", "the shares of customer 'C5' add up to 1.3"),
    ("credits.csv", 5, "manager_id", "manager 'M6' is not in managers"),
    ("affinity.csv", 2, "manager_id", "unknown manager 'M5'"),
}


def matches(problem: Problem, expected: tuple[str, int, str, str]) -> bool:
    file, row, column, phrase = expected
    return (problem.file, problem.row, problem.column) == (file, row, column) and (
        phrase in problem.message
    )


def test_many_problems_are_all_reported_at_once():
    scenario, problems = inspect_scenario(DATA / "many_problems")
    assert scenario is None
    errors = [p for p in problems if p.is_error]
    missing = [e for e in MANY_PROBLEMS if not any(matches(p, e) for p in errors)]
    assert missing == []
    unexpected = [p for p in errors if not any(matches(p, e) for e in MANY_PROBLEMS)]
    assert unexpected == []
    warnings = [p for p in problems if not p.is_error]
    assert [(w.file, w.row, w.column) for w in warnings] == [
        ("customers.csv", 4, "interest_income"),
        ("customers.csv", 4, "prior_manager_id"),  # a leaver deleted from managers, or a typo
        ("customers.csv", 5, "pinned_manager_id"),  # a rule collision: solve explains it
        ("actuals.csv", None, "customer_id"),  # C2 and C5 have no actuals rows
    ]


WARNING_CASES = [
    ("NegativeIncome", "customers.csv", 4, "interest_income", "negative income -30"),
    ("NegativeActuals", "actuals.csv", 3, "interest_income", "negative income -90"),
    # 900,000 beside 80 and 100: a few zeros too many
    ("IncomeTypo", "customers.csv", 4, "interest_income", "over 1000 times the column's median"),
    # two hard rules collide (pins, unavailable managers hold none): solve explains it, exit 3
    ("PinnedToUnavailableManager", "customers.csv", 4, "pinned_manager_id", "'M3', who is not"),
    # last year's manager left and was deleted from managers (or a typo): the customer moves
    ("PriorManagerNotInManagers", "customers.csv", 3, "prior_manager_id", "prior manager 'M9'"),
    # a misspelled industry would silently apply to nobody
    ("AffinityIndustryUnknown", "affinity.csv", 3, "industry", "no customer is in industry"),
    # capacities without any workload (no affinity table, no default) bind nothing
    ("CapacityWithoutWorkload", "managers.csv", None, "capacity", "the capacities bind nothing"),
    # ... nor with an affinity table of costs only
    ("CapacityWithCostsOnly", "managers.csv", None, "capacity", "none in the affinity table"),
    # workloads with no capacity to hold them against (here under another name) bind nothing
    ("WorkloadWithoutCapacity", "managers.csv", None, "capacity", "the workloads bind nothing"),
    # a customer's row wins whole: the other industry written beside it is not used
    ("AffinityIndustryBesideCustomer", "affinity.csv", 3, "industry", "whose industry is '建材'"),
]


@pytest.mark.parametrize(("folder", "file", "row", "column", "phrase"), WARNING_CASES)
def test_a_warning_is_reported_where_it_is_and_does_not_stop(
    folder: str, file: str, row: int, column: str, phrase: str
):
    scenario, problems = inspect_scenario(DATA / "warning" / folder)
    assert scenario is not None
    assert [(p.severity, p.file, p.row, p.column) for p in problems] == [
        ("warning", file, row, column)
    ]
    assert phrase in problems[0].message
    assert scenario.warnings == problems


def test_a_negative_income_is_kept_as_written():
    scenario, _ = inspect_scenario(DATA / "warning" / "NegativeIncome")
    assert scenario is not None
    assert scenario.customers["interest_income"].tolist() == [100.0, 80.0, -30.0]


def test_a_blank_pin_is_not_a_pin_to_a_manager_with_a_blank_id():
    """An unavailable manager with an empty id must not flag every customer without a pin."""
    errors = errors_of("EmptyManagerId")
    assert [p.column for p in errors] == ["manager_id"]


@pytest.mark.parametrize(
    ("folder", "file", "message"),
    [
        ("NoCustomerRows", "customers.csv", "the table has no customers"),
        ("NoManagerRows", "managers.csv", "the table has no managers"),
    ],
)
def test_an_empty_table_is_the_one_problem_reported(folder: str, file: str, message: str):
    assert [(p.file, p.message) for p in errors_of(folder)] == [(file, message)]


def test_a_designation_held_only_by_unavailable_managers_is_a_warning(tmp_path):
    folder = tmp_path / "branch"
    shutil.copytree(DATA / "valid_minimal", folder)
    managers = pd.read_csv(folder / "managers.csv", dtype=str, keep_default_na=False)
    managers["premium"] = ["true"] + ["false"] * (len(managers) - 1)
    managers["available"] = ["false"] + ["true"] * (len(managers) - 1)
    managers.to_csv(folder / "managers.csv", index=False)
    scenario, problems = inspect_scenario(folder)
    assert scenario is not None
    (warning,) = [p for p in problems if p.column == "premium"]
    assert "the designation lapses this year" in warning.message and warning.row == 2


@pytest.mark.parametrize("column", ["manager_id", "Manager_ID"])
def test_an_own_column_named_like_an_output_column_is_a_warning(tmp_path, column):
    folder = tmp_path / "branch"
    shutil.copytree(DATA / "valid_minimal", folder)
    customers = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False)
    customers[column] = "M1"  # last year's sheet, say: solve writes its own manager_id
    customers.to_csv(folder / "customers.csv", index=False)
    scenario, problems = inspect_scenario(folder)
    assert scenario is not None
    (warning,) = [p for p in problems if p.column == column]
    assert (
        "not carried to assignment.csv and report.xlsx: the tool writes its own 'manager_id'"
        in (warning.message)
    )
    assert not warning.is_error


def _minimal_copy(tmp_path: Path, policy_lines: str) -> Path:
    folder = tmp_path / "scenario"
    shutil.copytree(DATA / "valid_minimal", folder)
    with (folder / "scenario.toml").open("a", encoding="utf-8") as toml:
        toml.write(policy_lines)
    return folder


def _with_columns(table: Path, header: str, cells: tuple[str, ...]) -> None:
    """The table with columns added: ``header`` to the header row, ``cells`` to each row."""
    lines = table.read_text(encoding="utf-8").splitlines()
    lines[0] += header
    lines[1:] = [line + added for line, added in zip(lines[1:], cells, strict=True)]
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _located(problems: list[Problem]) -> set[tuple[str, int | None, str | None]]:
    return {(p.file, p.row, p.column) for p in problems if p.is_error}


def test_a_policy_error_does_not_hide_the_tables_own_problems(tmp_path):
    folder = _minimal_copy(tmp_path, "\n[payout]\nfx_rate = -1\n")
    customers = folder / "customers.csv"
    text = customers.read_text(encoding="utf-8").replace("C3,丙公司,basic", "C3,丙公司,bsic")
    customers.write_text(text + "C2,重複,key,钢铁,1,1,,\n", encoding="utf-8")
    managers = folder / "managers.csv"
    managers.write_text(
        managers.read_text(encoding="utf-8").replace("M2,李娜,B", "M2,李娜,Z"), encoding="utf-8"
    )
    scenario, problems = inspect_scenario(folder)
    assert scenario is None
    assert _located(problems) == {
        ("scenario.toml", 6, "payout.fx_rate"),
        ("customers.csv", 5, "customer_id"),  # C2 twice: needs no policy to tell
        ("customers.csv", 4, "customer_class"),  # [classes] itself is sound
        ("managers.csv", 3, "grade"),
    }


@pytest.mark.parametrize(
    ("bad_key", "column"),
    [
        ("fx_rate = -1", "payout.fx_rate"),
        ('default_score = "high"', "payout.default_score"),
        ('base_salary = {L1 = "lots"}', "payout.base_salary.L1"),
    ],
)
def test_a_bad_payout_key_does_not_hide_the_payout_tables_problems(tmp_path, bad_key, column):
    """The other keys of [payout] (its year here) still check the actuals' periods; a bad
    base salary leaves out only the check of staff levels without one."""
    folder = _minimal_copy(tmp_path, f"\n[payout]\nyear = 2026\n{bad_key}\n")
    managers = folder / "managers.csv"
    lines = managers.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",staff_level", *(f"{line},L2" for line in lines[1:])]
    managers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "actuals.csv").write_text(
        "customer_id,period,interest_income\nC1,2026,5\nC3,2019,7\n", encoding="utf-8"
    )
    toml = folder / "scenario.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            "[tables]\n", '[tables]\nactuals = "actuals.csv"\n'
        ),
        encoding="utf-8",
    )
    _, problems = inspect_scenario(folder)
    assert _located(problems) == {("scenario.toml", 8, column), ("actuals.csv", 3, "period")}
    salary_words = [p for p in problems if p.column == "staff_level"]
    assert bool(salary_words) == ("base_salary" not in bad_key)  # L2 has no salary given


def test_a_missing_column_in_one_table_does_not_hide_the_others_own_problems(tmp_path):
    """managers.csv without grade: the customers' duplicate id is still found (it needs no
    managers); customers.csv without its class: the managers' duplicate id still is."""
    folder = _minimal_copy(tmp_path, "")
    customers, managers = folder / "customers.csv", folder / "managers.csv"
    customers.write_text(
        customers.read_text(encoding="utf-8") + "C2,重複,key,钢铁,1,1,,\n", encoding="utf-8"
    )
    manager_rows = managers.read_text(encoding="utf-8")
    managers.write_text(manager_rows.replace("grade", "grad", 1), encoding="utf-8")
    _, problems = inspect_scenario(folder)
    assert _located(problems) == {("managers.csv", 1, "grade"), ("customers.csv", 5, "customer_id")}

    managers.write_text(manager_rows + manager_rows.splitlines()[1] + "\n", encoding="utf-8")
    customers.write_text(
        customers.read_text(encoding="utf-8").replace("customer_class", "class", 1),
        encoding="utf-8",
    )
    _, problems = inspect_scenario(folder)
    assert _located(problems) == {
        ("customers.csv", 1, "customer_class"),
        ("customers.csv", 5, "customer_id"),  # its own repeated id, still found
        ("managers.csv", len(manager_rows.splitlines()) + 1, "manager_id"),
    }


def test_a_table_missing_a_column_still_lists_its_own_repeated_ids(tmp_path):
    folder = _minimal_copy(tmp_path, "")
    customers, managers = folder / "customers.csv", folder / "managers.csv"
    customer_rows = customers.read_text(encoding="utf-8").replace("customer_class", "class", 1)
    customers.write_text(customer_rows + customer_rows.splitlines()[1] + "\n", encoding="utf-8")
    manager_rows = managers.read_text(encoding="utf-8").replace("grade", "grad", 1)
    managers.write_text(manager_rows + manager_rows.splitlines()[1] + "\n", encoding="utf-8")
    _, problems = inspect_scenario(folder)
    assert _located(problems) == {
        ("customers.csv", 1, "customer_class"),
        ("customers.csv", len(customer_rows.splitlines()) + 1, "customer_id"),
        ("managers.csv", 1, "grade"),
        ("managers.csv", len(manager_rows.splitlines()) + 1, "manager_id"),
    }


def test_foreign_income_at_an_fx_rate_beyond_reach_is_an_error_at_the_largest_cell(tmp_path):
    """9e11 and an fx_rate of 100,000 are each plausible; their product would overflow the
    models' sums (a traceback in validate, targets of 1e18 in solve)."""
    folder = _minimal_copy(tmp_path, "\n[payout]\nfx_rate = 100000\n")
    _with_columns(folder / "customers.csv", ",interest_income_fx", (",5", ",9e11", ",2"))
    scenario, problems = inspect_scenario(folder)
    assert scenario is None
    (error,) = [p for p in problems if p.is_error]
    assert (error.file, error.row, error.column) == ("customers.csv", 3, "interest_income_fx")
    assert "fx_rate 100000" in error.message and "check fx_rate" in error.hint

    toml = folder / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("100000", "7.1"), encoding="utf-8")
    assert inspect_scenario(folder)[0] is not None  # 6.4e12: a large branch, within reach


@pytest.mark.parametrize(
    ("policy_lines", "warned"), [("", True), ("\n[payout]\nfx_rate = 1\n", False)]
)
def test_foreign_income_without_an_fx_rate_is_warned_at_its_first_cell(
    tmp_path, policy_lines, warned
):
    """Without fx_rate, 1,000 dollars would count as 1,000 in local currency without a word;
    an fx_rate of 1 written out is the planner's choice."""
    folder = _minimal_copy(tmp_path, policy_lines)
    fx = ",interest_income_fx,fee_income_fx"
    _with_columns(folder / "customers.csv", fx, (",,", ",0,", ",,1000"))
    scenario, problems = inspect_scenario(folder)
    assert scenario is not None
    located = {(p.file, p.row, p.column) for p in problems if "fx_rate" in p.message}
    assert located == ({("customers.csv", 4, "fee_income_fx")} if warned else set())


def test_a_table_linked_from_outside_the_folder_is_named_as_a_link(tmp_path):
    """One error, saying it is a link and where to; not also a warning that the file in the
    folder is not read."""
    folder = _minimal_copy(tmp_path, "")
    outside = tmp_path / "elsewhere.csv"
    (folder / "managers.csv").rename(outside)
    (folder / "managers.csv").symlink_to(outside)
    _, problems = inspect_scenario(folder)
    (problem,) = problems
    assert (problem.file, problem.column) == ("scenario.toml", "tables.managers")
    assert f"is a link to {outside.resolve()}, outside the scenario folder" in problem.message
    assert problem.hint.startswith("copy the file into the folder")


def test_a_toml_syntax_error_does_not_hide_the_tables_own_problems(tmp_path):
    """[tables] and [classes] read on their own lines where the file is not TOML; [payout],
    with sections of its own, is not guessed at (its salaries would be missing)."""
    folder = _minimal_copy(
        tmp_path,
        '\n[classes]\nclasses = ["premium", "key", "basic"]\n'
        "[span]\nmax = [1,\n[payout.base_salary]\nL1 = 1\n",
    )
    customers = folder / "customers.csv"
    text = customers.read_text(encoding="utf-8").replace("C3,丙公司,basic", "C3,丙公司,bsic")
    customers.write_text(text + "C2,重複,key,钢铁,1,1,,\n", encoding="utf-8")
    scenario, problems = inspect_scenario(folder)
    assert scenario is None
    assert _located(problems) == {
        ("scenario.toml", 9, None),  # the unclosed list
        ("customers.csv", 5, "customer_id"),
        ("customers.csv", 4, "customer_class"),
    }
    assert not [p for p in problems if "base_salary" in p.message]


def _customers_named(tmp_path: Path, value: str, file: str | None = None) -> Path:
    """A minimal scenario whose [tables] customers key is ``value`` (TOML, quotes included),
    its customers table moved to ``file`` (a path under the folder) where given."""
    folder = _minimal_copy(tmp_path, "")
    if file is not None:
        (folder / file).parent.mkdir(parents=True, exist_ok=True)
        (folder / "customers.csv").rename(folder / file)
    toml = folder / "scenario.toml"
    text = toml.read_text(encoding="utf-8").replace('"customers.csv"', value)
    toml.write_text(text, encoding="utf-8")
    return folder


def test_a_windows_path_in_double_quotes_gets_the_two_ways_to_write_it(tmp_path):
    folder = _customers_named(tmp_path, '"data\\c.csv"')
    _, [problem] = inspect_scenario(folder)
    assert problem.row == 2 and problem.message.startswith("not valid TOML")
    assert 'write / ("data/customers.csv"), or put it in single quotes' in problem.hint


def test_a_windows_path_in_single_quotes_opens_its_file(tmp_path):
    """The advice above works on any system: a backslash parts folders in a table's path."""
    folder = _customers_named(tmp_path, "'data\\c.csv'", "data/c.csv")
    scenario, problems = inspect_scenario(folder)
    assert scenario is not None, problems
    assert len(scenario.customers) == len(pd.read_csv(folder / "data" / "c.csv"))


@pytest.mark.parametrize("path", ["C:\\data\\c.csv", "D:/c.csv", "\\\\server\\share\\c.csv"])
def test_a_full_windows_path_to_a_table_says_to_copy_the_file_in(tmp_path, path):
    folder = _customers_named(tmp_path, f"'{path}'")
    _, problems = inspect_scenario(folder)
    [problem] = [p for p in problems if p.is_error]
    assert (problem.file, problem.row, problem.column) == ("scenario.toml", 2, "tables.customers")
    assert "is a full path: copy the file into the scenario folder" in problem.message
    assert f"(given: '{path}')" in problem.message  # as written, backslashes not doubled


def test_a_table_named_in_other_capitals_is_pointed_at(tmp_path):
    """A folder made on Windows, where DATA\\c.csv and data/C.csv are one file."""
    folder = _customers_named(tmp_path, "'DATA\\c.csv'", "data/C.csv")
    _, problems = inspect_scenario(folder)
    [problem] = [p for p in problems if p.is_error]
    assert problem.message == "file not found"
    assert problem.hint.startswith("did you mean data/C.csv? File names differ in case")


def test_an_unknown_class_or_grade_lists_the_known_ones_in_the_policys_order(tmp_path):
    folder = _minimal_copy(tmp_path, '\n[classes]\ngrades = ["A", "B", "C", "D", "AA"]\n')
    customers = folder / "customers.csv"
    customers.write_text(customers.read_text(encoding="utf-8").replace(",basic,", ",bsic,", 1))
    managers = folder / "managers.csv"
    managers.write_text(managers.read_text(encoding="utf-8").replace(",B,", ",b+,", 1))
    _, problems = inspect_scenario(folder)
    hints = {p.column: p.hint for p in problems if p.is_error}
    assert "use one of premium, key, growth, basic, watch, exit or" in hints["customer_class"]
    assert "use one of A, B, C, D, AA or" in hints["grade"]


def test_a_policy_error_does_not_hide_an_unknown_class_key(tmp_path):
    folder = _minimal_copy(
        tmp_path, '\n[classes]\npremium_grade = "AA"\n[payout.growth]\nprimium = 0.1\n'
    )
    _, problems = inspect_scenario(folder)
    assert _located(problems) == {
        ("scenario.toml", 6, "classes.premium_grade"),  # its own line, not the section's
        ("scenario.toml", 8, "payout.growth.primium"),
    }


def test_a_value_fitting_no_form_of_a_rate_is_one_error(tmp_path):
    folder = _minimal_copy(tmp_path, '\n[payout.rates]\nexcess = "5%"\n')
    _, problems = inspect_scenario(folder)
    (error,) = [p for p in problems if p.is_error]
    assert (error.row, error.column) == (6, "payout.rates.excess")
    assert "0.05" in error.hint


def test_a_stop_of_a_quarter_without_actuals_is_a_warning_before_any_plan(tmp_path):
    folder = _minimal_copy(tmp_path, 'adjustments = "adjustments.csv"\n')
    (folder / "adjustments.csv").write_text(
        "manager_id,period,kind,amount\nM1,2026Q2,stop,0\n", encoding="utf-8"
    )
    scenario, problems = inspect_scenario(folder)
    assert scenario is not None
    assert [(p.file, p.row, p.column) for p in problems] == [("adjustments.csv", 2, "period")]
    assert "the stop is not applied" in problems[0].message


@pytest.mark.parametrize(
    ("lines", "column", "words"),
    [
        ('classes = ["vip", "key", "basic"]', "classes.premium_class", "default 'premium'"),
        ('grades = ["S", "B"]', "classes.premium_grade", "default 'A'"),
    ],
)
def test_a_default_premium_class_or_grade_missing_from_ones_own_list_is_an_error(
    tmp_path, lines, column, words
):
    folder = _minimal_copy(tmp_path, f"\n[classes]\n{lines}\n")
    _, problems = inspect_scenario(folder)
    (error,) = [p for p in problems if p.is_error and p.file == "scenario.toml"]
    assert (error.row, error.column) == (5, column)  # the [classes] line: the key is not there
    assert words in error.message and "not set" in error.message


def test_a_bad_value_in_a_per_type_rate_table_is_one_error_at_its_key(tmp_path):
    folder = _minimal_copy(tmp_path, '\n[payout.rates]\nexcess = { interest = "5%" }\n')
    _, problems = inspect_scenario(folder)
    (error,) = [p for p in problems if p.is_error]
    assert error.column == "payout.rates.excess.interest"


def test_a_policy_error_does_not_hide_the_payout_tables_unknown_ids(tmp_path):
    folder = _minimal_copy(tmp_path, 'actuals = "actuals.csv"\n\n[span]\ntolerance = "1"\n')
    (folder / "actuals.csv").write_text(
        "customer_id,period,interest_income\nC1,2026,10\nC77,2026,5\n", encoding="utf-8"
    )
    _, problems = inspect_scenario(folder)
    assert _located(problems) == {
        ("scenario.toml", 7, "span.tolerance"),
        ("actuals.csv", 3, "customer_id"),  # [payout] is sound: its tables are checked
    }


def test_a_broken_class_list_does_not_hide_unknown_grades(tmp_path):
    folder = _minimal_copy(tmp_path, "\n[classes]\nclasses = []\n")
    managers = folder / "managers.csv"
    managers.write_text(
        managers.read_text(encoding="utf-8").replace("M2,李娜,B", "M2,李娜,Z"), encoding="utf-8"
    )
    _, problems = inspect_scenario(folder)
    assert ("managers.csv", 3, "grade") in _located(problems)


def test_past_fifty_bad_cells_the_rest_are_named_by_row(tmp_path):
    folder = _minimal_copy(tmp_path, "")
    customers = folder / "customers.csv"
    rows = [f"X{i},公司{i},basic,建材,TBD,1,," for i in range(60)]  # file rows 5..64
    customers.write_text(
        customers.read_text(encoding="utf-8") + "\n".join(rows) + "\n", encoding="utf-8"
    )
    _, problems = inspect_scenario(folder)
    income = [p for p in problems if p.column == "interest_income"]
    assert len(income) == 51
    assert income[-1].message == "... and 10 more cells like these, in rows 55-64"


def test_every_repeated_affinity_row_is_reported(tmp_path):
    """60 repeated rows: 50 listed one by one, the last 10 named by their rows (none lost)."""
    folder = tmp_path / "scenario"
    shutil.copytree(DATA / "valid_minimal", folder)
    with (folder / "scenario.toml").open("a", encoding="utf-8") as toml:
        toml.write('affinity = "affinity.csv"\n')
    rows = ["industry,manager_id,cost"] + [f"行业{i},M1,1" for i in range(60)] * 2
    (folder / "affinity.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    _, problems = inspect_scenario(folder)
    repeated = [p for p in problems if p.is_error and p.file == "affinity.csv"]
    assert len(repeated) == 51
    assert repeated[0].row == 62 and "a second row for industry 行业0" in repeated[0].message
    assert repeated[-1].message == "... and 10 more repeated rows like these, in rows 112-121"
    # the rows' industries match no customer: warnings, their summary line one too
    unmatched = [p for p in problems if p.column == "industry"]
    assert len(unmatched) == 51 and not any(p.is_error for p in unmatched)
