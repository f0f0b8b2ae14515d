"""Habits of spreadsheets, each reported once and clearly: column names under a title row, a
cover sheet before the table, cells holding a formula's error (#N/A). A table with a missing
column does not flood the list with every row of the tables that refer to it."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from portfolio_opt.plan.io import read_assignment
from portfolio_opt.scenario.loader import inspect_scenario, load_scenario
from portfolio_opt.scenario.tables import read_table
from portfolio_opt.scenario.xlsx import read_sheet

DEMO = Path(__file__).parents[2] / "scenarios" / "demo"
TITLE = "2026年 客戶清單"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DEMO, tmp_path / "demo"))


def _customers_text(demo: Path) -> str:
    return (demo / "customers.csv").read_text(encoding="utf-8")


def _errors(folder: Path) -> list[tuple[str, int | None, str | None, str]]:
    _, problems = inspect_scenario(folder)
    return [(p.file, p.row, p.column, p.message) for p in problems if p.is_error]


def test_a_title_line_above_a_csv_header_is_one_error_naming_the_real_header_row(demo):
    (demo / "customers.csv").write_text(f"{TITLE}\n{_customers_text(demo)}", encoding="utf-8")
    errors = _errors(demo)
    assert errors == [
        (
            "customers.csv",
            2,
            None,
            f"the column names are in row 2, not in row 1 (row 1 holds {TITLE!r})",
        )
    ]


def test_a_title_padded_with_separators_and_a_blank_line_are_skipped_in_the_search(demo):
    text = _customers_text(demo).replace(",", ";")
    separators = ";" * text.splitlines()[0].count(";")
    (demo / "customers.csv").write_text(f"{TITLE}{separators}\n\n{text}", encoding="utf-8")
    assert [(row, message[:33]) for _, row, _, message in _errors(demo)] == [
        (3, "the column names are in row 3, no")
    ]


def _customers_under_a_title(demo: Path, blank_row: bool, merged: bool, **cells: str) -> None:
    """customers.xlsx (named in scenario.toml): the demo's customers under a title row (merged
    across the columns, or not) and perhaps a blank row; ``cells`` overwrite the first
    customer's. Every cell is written as text, so a name such as '=SUM ...' stays a name."""
    frame = pd.read_csv(demo / "customers.csv", dtype=str, keep_default_na=False)
    for column, value in cells.items():
        frame.loc[0, column] = value
    book = Workbook()
    sheet = book.active
    sheet.append([TITLE])
    if merged:
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(frame.columns))
    if blank_row:
        sheet.append([])
    sheet.append(list(frame.columns))
    for values in frame.itertuples(index=False):
        sheet.append(list(values))
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"
    book.save(demo / "customers.xlsx")
    policy = demo / "scenario.toml"
    policy.write_text(
        policy.read_text(encoding="utf-8").replace('"customers.csv"', '"customers.xlsx"'),
        encoding="utf-8",
    )


def test_a_title_and_a_blank_row_above_an_xlsx_header_are_one_error(demo):
    _customers_under_a_title(demo, blank_row=True, merged=False)
    assert _errors(demo) == [
        (
            "customers.xlsx",
            3,
            None,
            f"the column names are in row 3, not in row 1 (row 1 holds {TITLE!r})",
        )
    ]


def test_bad_cells_below_a_title_are_listed_with_it_at_their_sheet_rows(demo):
    lines = _customers_text(demo).splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")  # the second customer: sheet row 4 under the title
    cells[header.index("interest_income")] = "lots"
    lines[2] = ",".join(cells)
    (demo / "customers.csv").write_text(TITLE + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert [(row, column, message) for _, row, column, message in _errors(demo)] == [
        (2, None, f"the column names are in row 2, not in row 1 (row 1 holds {TITLE!r})"),
        (4, "interest_income", "'lots' is not a number"),
    ]


def test_an_xlsx_title_merged_across_the_columns_hides_no_other_problem(demo):
    _customers_under_a_title(demo, blank_row=False, merged=True, tenure_years="many")
    assert [(row, column, message[:22]) for _, row, column, message in _errors(demo)] == [
        (2, None, "the column names are i"),
        (3, "tenure_years", "'many' is not a number"),
    ]


def test_a_tables_own_checks_run_below_a_title_and_name_sheet_rows_in_their_text(demo):
    """A repeated id and an unknown class need no other table: they are listed beside the
    title's error, at the rows the planner sees, "first at row" too."""
    first = pd.read_csv(demo / "customers.csv", dtype=str).loc[0, "customer_id"]
    _customers_under_a_title(demo, blank_row=True, merged=True)
    book = load_workbook(demo / "customers.xlsx")
    sheet = book.active
    header = [c.value for c in sheet[3]]
    sheet.cell(16, header.index("customer_id") + 1).value = first  # its first copy: row 4
    sheet.cell(15, header.index("customer_class") + 1).value = "bogus"
    book.save(demo / "customers.xlsx")
    assert sorted((row, column, message) for _, row, column, message in _errors(demo)) == [
        (3, None, f"the column names are in row 3, not in row 1 (row 1 holds {TITLE!r})"),
        (15, "customer_class", "unknown customer class 'bogus'"),
        (16, "customer_id", f"duplicate customer_id {first!r} (first at row 4)"),
    ]


def test_rows_hidden_below_a_title_are_named_at_their_sheet_rows(demo):
    _customers_under_a_title(demo, blank_row=True, merged=False)
    book = load_workbook(demo / "customers.xlsx")
    for row in (10, 11):
        book.active.row_dimensions[row].hidden = True
    book.save(demo / "customers.xlsx")
    _, problems = inspect_scenario(demo)
    [hidden] = [p for p in problems if "hidden in Excel" in p.message]
    assert hidden.message.endswith("rows 10-11")


def test_a_missing_column_is_not_repeated_as_an_unknown_customer_in_every_relation(demo):
    text = _customers_text(demo).replace("customer_id,", "id,", 1)
    (demo / "customers.csv").write_text(text, encoding="utf-8")
    errors = _errors(demo)
    assert errors == [
        (
            "customers.csv",
            1,
            "customer_id",
            "a required column is missing",
        )
    ]


def test_a_header_in_row_one_is_read_even_when_a_data_row_repeats_the_names(tmp_path):
    (tmp_path / "c.csv").write_text(
        "customer_id,customer_class\ncustomer_id,customer_class\nC1,key\n", encoding="utf-8"
    )
    frame, problems = read_table(tmp_path, "c.csv", required=["customer_id", "customer_class"])
    assert problems == []
    assert frame is not None and len(frame) == 2


def test_an_edited_plan_under_a_title_row_is_reported_the_same_way(tmp_path):
    """The title, and the rows' own problems at the rows the planner sees."""
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "Plan 2026\ncustomer_id,manager_id\nC0001,M001\nC1,M1\nC0001,M002\n", encoding="utf-8"
    )
    frame, problems = read_assignment(plan, load_scenario(DEMO))
    assert [(p.row, p.message) for p in problems] == [
        (2, "the column names are in row 2, not in row 1 (row 1 holds 'Plan 2026')"),
        (4, "unknown customer 'C1'"),
        (4, "unknown manager 'M1'"),
        (5, "customer C0001 is listed again (first at row 3)"),
    ]
    assert frame.empty


def test_a_workbook_whose_first_sheet_is_a_cover_names_the_sheet_with_the_columns(demo):
    frame = pd.read_csv(demo / "customers.csv", dtype=str, keep_default_na=False)
    with pd.ExcelWriter(demo / "customers.xlsx") as writer:
        pd.DataFrame({"說明": ["2026 客戶清單"]}).to_excel(writer, sheet_name="說明", index=False)
        frame.to_excel(writer, sheet_name="客戶", index=False)
    policy = demo / "scenario.toml"
    policy.write_text(
        policy.read_text(encoding="utf-8").replace('"customers.csv"', '"customers.xlsx"'),
        encoding="utf-8",
    )
    _, problems = inspect_scenario(demo)
    assert [(p.file, p.message, p.hint) for p in problems if p.is_error] == [
        (
            "customers.xlsx",
            "the first sheet, '說明', has no column customer_id, customer_class; "
            "the sheet '客戶' has them",
            "name that sheet after the file: customers.xlsx#客戶, in [tables] or on the "
            "command line for a plan",
        )
    ]


def test_a_formula_error_in_a_cell_is_reported_once_as_such(demo):
    rows = [line.split(",") for line in _customers_text(demo).splitlines()]
    header = rows[0]
    rows[1][header.index("prior_manager_id")] = "#N/A"
    rows[2][header.index("interest_income")] = "#VALUE!"
    rows[3][header.index("customer_class")] = "#ref!"
    (demo / "customers.csv").write_text(
        "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8"
    )
    hint = "fix the formula behind the cell (a lookup that found nothing?), or type the value"
    _, problems = inspect_scenario(demo)
    assert sorted((p.row, p.column, p.message, p.hint) for p in problems if p.is_error) == [
        (2, "prior_manager_id", "'#N/A' is not a value but a spreadsheet formula's error", hint),
        (3, "interest_income", "'#VALUE!' is not a value but a spreadsheet formula's error", hint),
        (4, "customer_class", "'#ref!' is not a value but a spreadsheet formula's error", hint),
    ]


def test_a_blank_row_inside_a_table_is_one_error_and_blank_rows_after_it_none(demo):
    lines = _customers_text(demo).splitlines()
    blank = "," * lines[0].count(",")
    lines[5:5] = [blank]
    (demo / "customers.csv").write_text("\n".join([*lines, blank, blank]) + "\n", "utf-8")
    assert _errors(demo) == [("customers.csv", 6, None, "the row is blank")]


def test_a_nameless_xlsx_column_with_notes_is_kept_as_from_a_csv(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["customer_id", "customer_class", None, None])
    sheet.append(["C1", "key", "call back in May", None])
    sheet.append(["C2", "key", None, None])
    book.save(tmp_path / "c.xlsx")
    (tmp_path / "c.csv").write_text(
        "customer_id,customer_class,\nC1,key,call back in May\nC2,key,\n", encoding="utf-8"
    )
    from_xlsx, _ = read_table(tmp_path, "c.xlsx")
    from_csv, _ = read_table(tmp_path, "c.csv")
    assert (
        list(from_xlsx.columns)
        == list(from_csv.columns)
        == [
            "customer_id",
            "customer_class",
            "unnamed: 2",
        ]
    )
    assert from_xlsx["unnamed: 2"].tolist() == ["call back in May", ""]


def _workbook(path: Path, rows: list[list[object]], merge: str | None = None) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if merge is not None:
        sheet.merge_cells(merge)
    book.save(path)
    return path


CUSTOMERS_HEADER = ["customer_id", "customer_class", "interest_income", "group_id"]


def _located(problems) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.message) for p in problems]


def test_xlsx_error_results_and_na_words_are_read_as_a_csv_reads_them(tmp_path):
    """pandas would turn them into blanks, i.e. an income of 0, without a word."""
    rows = [["C1", "key", "#N/A", ""], ["C2", "key", "n/a", "NULL"], ["C3", "NA", 5, "None"]]
    _workbook(tmp_path / "c.xlsx", [CUSTOMERS_HEADER, *rows])
    frame, problems = read_table(tmp_path, "c.xlsx")
    assert problems == []
    assert frame["interest_income"].tolist() == ["#N/A", "n/a", "5"]
    assert frame["customer_class"].tolist() == ["key", "key", "NA"]
    assert frame["group_id"].tolist() == ["", "NULL", "None"]


def test_merged_cells_in_an_xlsx_table_are_errors_not_blanks(tmp_path):
    rows = [["C1", "key", 1, "G1"], ["C2", "key", 2, None], ["C3", "key", 3, None]]
    _workbook(tmp_path / "data.xlsx", [CUSTOMERS_HEADER, *rows], merge="D2:D4")
    _workbook(tmp_path / "head.xlsx", [CUSTOMERS_HEADER, *rows], merge="B1:C1")

    _, in_data = read_table(tmp_path, "data.xlsx")
    _, in_header = read_table(tmp_path, "head.xlsx")

    assert [(r, c, m[:28]) for r, c, m in _located(in_data)] == [
        (2, "group_id", "the cells D2:D4 are merged: ")
    ]
    assert _located(in_header) == [
        (1, "customer_class", "the column names in B1:C1 are merged into one cell")
    ]
    assert "unmerge" in in_data[0].hint and "unmerge" in in_header[0].hint


def test_formulas_without_a_saved_result_are_errors_not_zeros(tmp_path):
    """A workbook written by a program stores formulas without their results."""
    rows = [["C1", "key", "=50000*2", ""], ["C2", "key", 7, ""], ["C3", "key", "=1+1", ""]]
    _workbook(tmp_path / "c.xlsx", [CUSTOMERS_HEADER, *rows])

    _, problems = read_table(tmp_path, "c.xlsx")

    assert [(r, c, m[:33]) for r, c, m in _located(problems)] == [
        (2, "interest_income", "the formula =50000*2 has no saved"),
        (4, "interest_income", "the formula =1+1 has no saved res"),
    ]
    assert "save it" in problems[0].hint


def test_a_formula_whose_saved_result_is_empty_text_reads_as_a_blank_cell(tmp_path):
    """Excel saves =IFERROR(VLOOKUP(...),"") as a text result (t="str") with no value: the
    cell is blank, not a formula never calculated."""
    rows = [["C1", "key", 5, '=IFERROR(1/0,"")'], ["C2", "key", 7, ""]]
    _workbook(tmp_path / "c.xlsx", [CUSTOMERS_HEADER, *rows])
    _as_excel_saves_text_results(tmp_path / "c.xlsx")

    frame, problems = read_table(tmp_path, "c.xlsx")

    assert problems == []
    assert frame.iloc[0].tolist()[-1] == ""


def _as_excel_saves_text_results(path):
    """Mark every formula cell as Excel marks a text result: t="str"."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(rb'(<c r="[A-Z]+\d+")(><f>)', rb'\1 t="str"\2', parts[sheet])
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_a_thousands_comma_in_the_first_data_row_is_an_error_not_a_shift(demo):
    """One field too many in row 2 made pandas take customer_id as the index: every cell moved
    one column left and the errors blamed the wrong cells."""
    lines = _customers_text(demo).splitlines()
    fields = lines[1].split(",")
    lines[1] = ",".join([*fields[:6], "1", "234", *fields[7:]])  # interest_income 1,234
    (demo / "customers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = _errors(demo)
    assert [(file, row, message[:9]) for file, row, _, message in errors] == [
        ("customers.csv", 2, f"{len(fields) + 1} fields")
    ]


def test_a_separator_ending_every_row_is_harmless(demo):
    text = "\n".join(line + "," for line in _customers_text(demo).splitlines()[1:])
    header = _customers_text(demo).splitlines()[0]
    (demo / "customers.csv").write_text(f"{header}\n{text}\n", encoding="utf-8")
    scenario = load_scenario(demo)
    assert scenario.customers["customer_id"].iloc[0] == "C0001"


def test_a_thousands_comma_is_caught_where_the_row_ends_in_empty_cells(tmp_path):
    """1,234 in a row whose last cells are empty: the extra field is an empty one, yet the
    income would read 1 and the next column 234."""
    folder = tmp_path / "branch"
    folder.mkdir()
    (folder / "scenario.toml").write_text(
        '[tables]\ncustomers = "customers.csv"\nmanagers = "managers.csv"\n', encoding="utf-8"
    )
    (folder / "managers.csv").write_text("manager_id,grade\nM1,A\n", encoding="utf-8")
    (folder / "customers.csv").write_text(
        "customer_id,customer_class,interest_income,growth_rate,prior_manager_id\n"
        "C1,key,1,234,0,\nC2,key,500,0,\n",
        encoding="utf-8",
    )
    assert [(row, message) for _, row, _, message in _errors(folder)] == [
        (2, "6 fields, but the header has 5 columns")
    ]


def test_a_formatted_empty_cell_at_the_sheets_last_row_is_not_read_as_a_million_rows(
    tmp_path: Path,
) -> None:
    """Excel's used range then reaches row 1,048,576; only the cells that hold something are
    read (reading the range took minutes and gigabytes)."""
    path = tmp_path / "customers.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(["customer_id", "customer_class"])
    sheet.append(["C1", "key"])
    sheet.cell(1_048_576, 1).number_format = "0.00"
    book.save(path)

    cells = read_sheet(path, None)

    assert cells.rows == [["customer_id", "customer_class"], ["C1", "key"]]


def test_a_payout_table_under_a_title_is_not_read_as_empty_by_the_checks_across_tables(demo):
    """actuals.csv under a title: its error, and no warning that a quarter has no actuals."""
    actuals = demo / "actuals.csv"
    actuals.write_text(f"{TITLE}\n" + actuals.read_text(encoding="utf-8"), encoding="utf-8")
    _, problems = inspect_scenario(demo)
    assert [(p.file, p.row) for p in problems] == [("actuals.csv", 2)]
