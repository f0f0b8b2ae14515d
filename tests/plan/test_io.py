"""Reading assignment files as planners hand them back: CSV in three encodings, or XLSX."""

from __future__ import annotations

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolio_opt.plan import check_plan, read_assignment
from portfolio_opt.problems import Severity
from portfolio_opt.report.safe_text import escape_formula, unescape_formula

from .builders import make_scenario, small_customers, small_managers, small_scenario

SMALL_CSV = (
    "customer_id,manager_id,name\n"
    "P1,MA,甲公司\nP2,MA,乙公司\nS1,MB,\nS2,MB,\nS3,MC,\nS4,MC,\nL1,ML,\nL2,ML,\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(tmp_path, encoding):
    path = tmp_path / "plan.csv"
    path.write_bytes(SMALL_CSV.encode(encoding))
    frame, problems = read_assignment(path, small_scenario())
    assert problems == []
    assert list(frame.columns) == ["customer_id", "manager_id", "name"]
    assert frame.loc[0, "name"] == "甲公司"
    assert check_plan(small_scenario(), frame) == []


def test_column_names_and_ids_are_trimmed(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text(" Manager_ID , CUSTOMER_ID \n MB , S1 \n", encoding="utf-8")
    frame, problems = read_assignment(path, small_scenario())
    assert problems == []
    assert frame.to_dict("records") == [{"customer_id": "S1", "manager_id": "MB"}]


def keys(*ids: str) -> list[dict[str, str]]:
    """Customers of class key with these ids."""
    return [{"customer_id": i, "customer_class": "key"} for i in ids]


def test_numeric_ids_stay_text(tmp_path):
    scenario = make_scenario(keys("101", "0102"), [{"manager_id": "7", "grade": "B"}])
    path = tmp_path / "plan.csv"
    path.write_text("customer_id,manager_id\n101,7\n0102,7\n", encoding="utf-8")
    frame, problems = read_assignment(path, scenario)
    assert problems == [] and list(frame["customer_id"]) == ["101", "0102"]


def test_xlsx_numbers_are_read_as_written(tmp_path):
    scenario = make_scenario(keys("101", "102"), [{"manager_id": "7", "grade": "B"}])
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    sheet = book.create_sheet("Plan")
    for row in (["Customer_ID", "Manager_ID"], [101, 7], [102.0, 7.0], [None, None]):
        sheet.append(row)
    book.save(tmp_path / "plan.xlsx")
    frame, problems = read_assignment(tmp_path / "plan.xlsx#Plan", scenario)
    assert problems == []
    assert frame.to_dict("records") == [
        {"customer_id": "101", "manager_id": "7"},
        {"customer_id": "102", "manager_id": "7"},
    ]
    assert check_plan(scenario, frame) == []


def test_missing_column(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text("customer_id,owner\nS1,MB\n", encoding="utf-8")
    frame, problems = read_assignment(path, small_scenario())
    (problem,) = problems
    assert problem.is_error and problem.column == "manager_id" and problem.row == 1
    assert problem.file == "plan.csv" and "manager_id" in problem.hint
    assert frame.empty and list(frame.columns) == ["customer_id", "manager_id"]


@pytest.mark.parametrize("header", ["Customer ID,Manager ID", "客户号,经理编号"])
def test_headers_that_stand_for_the_ids_are_named_in_the_hint(tmp_path, header):
    path = tmp_path / "plan.csv"
    path.write_text(f"{header}\nS1,MB\n", encoding="utf-8")
    _, problems = read_assignment(path, small_scenario())
    first, second = header.split(",")
    assert [p.hint for p in problems] == [
        f"rename the column {first!r} to 'customer_id'",
        f"rename the column {second!r} to 'manager_id'",
    ]


def test_a_managers_name_in_place_of_the_id_is_named_with_the_id(tmp_path):
    managers = [{**m, "name": n} for m, n in zip(small_managers(), "甲乙丙丁戊", strict=True)]
    path = tmp_path / "plan.csv"
    path.write_text("customer_id,manager_id\nS1,乙\n", encoding="utf-8")
    _, problems = read_assignment(path, small_scenario(managers=managers))
    assert [(p.row, p.column, p.hint) for p in problems if p.is_error] == [
        (2, "manager_id", "乙 is the name of manager MB: write MB")
    ]


def test_blank_customer_id_is_an_error_with_its_row(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text("customer_id,manager_id\nS1,MB\n,\n ,MC\n", encoding="utf-8")
    frame, problems = read_assignment(path, small_scenario())
    (problem,) = problems  # the fully blank row 3 is skipped quietly
    assert problem.is_error and problem.row == 4 and problem.column == "customer_id"
    assert list(frame["customer_id"]) == ["S1"]


def test_unknown_and_repeated_ids_are_located(tmp_path):
    scenario = make_scenario(keys("00123", "A"), [{"manager_id": "M1", "grade": "B"}])
    path = tmp_path / "plan.csv"
    path.write_text("customer_id,manager_id\n123,M1\nA,M9\nA,M1\n", encoding="utf-8")
    frame, problems = read_assignment(path, scenario)
    assert all(p.severity is Severity.ERROR for p in problems)  # bad input, not rule breaks
    where = {(p.row, p.column): p for p in problems}
    assert "00123" in where[(2, "customer_id")].hint  # leading zeros dropped by a spreadsheet
    assert "'M9'" in where[(3, "manager_id")].message
    assert "first at row 3" in where[(4, "customer_id")].message
    assert len(frame) == 3


def test_formula_escape_is_undone(tmp_path):
    scenario = make_scenario(keys("-5"), [{"manager_id": "=M", "grade": "B"}])
    path = tmp_path / "plan.csv"
    path.write_text("customer_id,manager_id\n'-5,'=M\n", encoding="utf-8")
    frame, problems = read_assignment(path, scenario)
    assert problems == [] and frame.to_dict("records") == [
        {"customer_id": "-5", "manager_id": "=M"}
    ]


@given(st.text(alphabet="'=+-@ab", max_size=6))
def test_every_id_the_tool_writes_reads_back_unchanged(value: str) -> None:
    """Our writers' formula escape, undone by the assignment reader, gives the id back, also
    for ids that start with a quote themselves ('=C10)."""
    assert unescape_formula(str(escape_formula(value))) == value


def test_missing_file(tmp_path):
    frame, problems = read_assignment(tmp_path / "nope.csv", small_scenario())
    (problem,) = problems
    assert problem.is_error and problem.file == "nope.csv" and "not found" in problem.message
    assert "[tables]" not in problem.hint  # an assignment is named on the command line
    assert str(tmp_path / "nope.csv") in problem.hint
    assert frame.empty


def test_a_manager_name_unlike_its_id_is_a_warning_naming_who_the_row_goes_to(tmp_path):
    """A planner moved a customer in Excel by typing another manager's name: the plan is read
    by id, and the warning says how to move the customer."""
    scenario = make_scenario(
        keys("C1", "C2", "C3"),
        [
            {"manager_id": "M1", "grade": "B", "name": "張偉"},
            {"manager_id": "M2", "grade": "B", "name": "李娜"},
        ],
    )
    path = tmp_path / "plan.csv"
    path.write_text(
        "customer_id,manager_id,manager_name\nC1,M1,張偉\nC2,M1,李娜\nC3,M2,\n", encoding="utf-8"
    )
    frame, problems = read_assignment(path, scenario)
    (warning,) = problems
    assert (warning.severity, warning.row, warning.column) == (
        Severity.WARNING,
        3,
        "manager_name",
    )
    assert warning.message == (
        "manager_name '李娜' is not the name of M1 ('張偉'): the row is read as M1's"
    )
    assert warning.hint == "to give the customer to 李娜, write M2 in manager_id"
    assert frame["manager_id"].tolist() == ["M1", "M1", "M2"]


def test_edited_columns_the_tool_works_out_are_warnings_naming_what_counts(tmp_path):
    """portfolio_type and prior_manager_id are written for the planner, never read: a planner
    who types 'premium' or another prior manager there is told the plan did not change, and
    how to change it. A stale moved cell (the customer moved by its manager_id) is no news."""
    customers = [
        {**c, "prior_manager_id": "MB"} if c["customer_id"] == "S3" else c
        for c in small_customers()
    ]
    scenario = small_scenario(customers=customers)
    path = tmp_path / "plan.csv"
    path.write_text(
        "customer_id,manager_id,portfolio_type,prior_manager_id,moved\n"
        "P1,MA,premium,,False\nP2,MA,premium,,False\nS1,MB,standard,,False\n"
        "S2,MB,premium,,False\nS3,MC,standard,MB,False\nS4,MC,standard,MC,True\n"
        "L1,ML,separate_ledger,,False\nL2,ML,separate_ledger,,False\n",
        encoding="utf-8",
    )
    frame, problems = read_assignment(path, scenario)
    assert {p.severity for p in problems} == {Severity.WARNING}
    located = {p.column: (p.row, p.message, p.hint) for p in problems}
    assert set(located) == {"portfolio_type", "prior_manager_id"}  # S2's, S4's
    row, message, hint = located["portfolio_type"]
    assert row == 5 and "'premium' where it is 'standard'" in message
    assert "change manager_id" in hint
    assert located["prior_manager_id"][0] == 7
    assert "customers table" in located["prior_manager_id"][1]
    assert frame["manager_id"].tolist() == ["MA", "MA", "MB", "MB", "MC", "MC", "ML", "ML"]


def test_a_class_group_or_industry_typed_into_the_plan_is_not_read_and_says_so(tmp_path):
    """The report shows each customer's class, group and industry beside the plan; a planner
    who re-classes or regroups a customer there is told to do it in the customers table."""
    path = tmp_path / "plan.csv"
    path.write_text(
        "customer_id,manager_id,customer_class,group_id,industry\n"
        "P1,MA,premium,,\nP2,MA,premium,,\nS1,MB,key,G1,\nS2,MB,growth,G1,\n"
        "S3,MC,premium,,\nS4,MC,basic,G9,\nL1,ML,basic,,\nL2,ML,watch,,\n",
        encoding="utf-8",
    )

    _, problems = read_assignment(path, small_scenario())

    located = {p.column: p.row for p in problems if p.severity is Severity.WARNING}
    assert located == {"customer_class": 6, "group_id": 7}  # S3's class, S4's group
    assert all("customers table" in p.message for p in problems)


def test_a_target_typed_into_the_plan_is_not_read_and_says_so(tmp_path):
    """The report's plan sheet shows each customer's target, which decides pay: a planner who
    changes it there is told that pay follows the scenario's incomes and growth."""
    from portfolio_opt.payout import customer_targets

    scenario = small_scenario()
    targets = customer_targets(scenario.customers, scenario.policy)["target"]
    rows = [
        ("P1", "MA"), ("P2", "MA"), ("S1", "MB"), ("S2", "MB"),
        ("S3", "MC"), ("S4", "MC"), ("L1", "ML"), ("L2", "ML"),
    ]  # fmt: skip
    written = {c: f"{targets[c]:,.2f}" for c, _ in rows} | {"S2": "1,000,000.00"}
    path = tmp_path / "plan.csv"
    path.write_text(
        "customer_id,manager_id,target\n" + "".join(f'{c},{m},"{written[c]}"\n' for c, m in rows),
        encoding="utf-8",
    )

    _, problems = read_assignment(path, scenario)

    [problem] = problems
    assert (problem.row, problem.column, problem.severity) == (5, "target", Severity.WARNING)
    assert "1 cell(s) differ" in problem.message and "not read" in problem.message
    assert f"where it is '{targets['S2']:.2f}'" in problem.message  # as typed, no type names
    assert "customers table" in problem.hint


def test_last_years_plan_is_not_held_to_this_years_prior_managers(tmp_path):
    scenario = small_scenario()
    path = tmp_path / "plan.csv"
    path.write_text(SMALL_CSV.replace("name", "prior_manager_id"), encoding="utf-8")
    _, problems = read_assignment(path, scenario, customers_left=True)
    assert problems == []


def test_a_numeric_prior_manager_re_saved_as_a_float_is_no_edit(tmp_path):
    """pandas or a spreadsheet re-saves the id 7001 of a column with blanks as 7001.0."""
    customers = [{**row, "prior_manager_id": "7001"} for row in keys("C1")] + keys("C2")
    scenario = make_scenario(customers, [{"manager_id": m, "grade": "B"} for m in ("7001", "7002")])
    path = tmp_path / "plan.csv"
    path.write_text(
        "customer_id,manager_id,prior_manager_id\nC1,7001,7001.0\nC2,7002,\n", encoding="utf-8"
    )
    _, problems = read_assignment(path, scenario)
    assert problems == []


def test_a_customer_moved_into_another_kind_keeps_its_stale_type_without_a_warning(tmp_path):
    """Only manager_id was edited (S1 into the premium portfolio): its row still says
    standard, its own kind. The checker reports the broken rule; the cell is no news."""
    path = tmp_path / "plan.csv"
    path.write_text(
        "customer_id,manager_id,portfolio_type\nP1,MA,premium\nP2,MA,premium\n"
        "S1,MA,standard\nS2,MB,standard\nS3,MC,standard\nS4,MC,standard\n"
        "L1,ML,separate_ledger\nL2,ML,separate_ledger\n",
        encoding="utf-8",
    )
    frame, problems = read_assignment(path, small_scenario())
    assert problems == []
    assert check_plan(small_scenario(), frame)  # S1 beside premium customers, S1 apart from S2


def test_a_manager_id_saved_as_a_number_with_decimals_is_told_apart(tmp_path):
    scenario = make_scenario(keys("C1"), [{"manager_id": "7001", "grade": "B"}])
    path = tmp_path / "plan.csv"
    path.write_text("customer_id,manager_id\nC1,7001.0\n", encoding="utf-8")
    _, [problem] = read_assignment(path, scenario)
    assert problem.is_error and problem.column == "manager_id"
    assert problem.hint.startswith("did you mean 7001? A program saved the id as a number")
