"""Slips a planner makes in a spreadsheet that would change the plan or the pay without a word:
each is now a warning (or an error) at its file, row and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from portfolio_opt.pipeline import write_csv
from portfolio_opt.problems import Severity
from portfolio_opt.scenario.loader import inspect_scenario
from portfolio_opt.scenario.policy import parse_policy
from portfolio_opt.scenario.tables import read_table
from portfolio_opt.scenario.validate import ids_excel_changed

from .conftest import DATA

HEADER = "customer_id,customer_class,group_id,growth_rate,prior_manager_id"


@pytest.fixture
def branch(tmp_path: Path) -> Path:
    folder = shutil.copytree(DATA / "valid_minimal", tmp_path / "branch")
    (folder / "scenario.toml").write_text(
        '[tables]\ncustomers = "customers.csv"\nmanagers = "managers.csv"\n'
        '[classes]\nclasses = ["premium", "key", "basic"]\n',
        encoding="utf-8",
    )
    return folder


def _customers(folder: Path, *rows: str) -> None:
    (folder / "customers.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")


def _found(folder: Path, severity: Severity) -> list[tuple[str, int | None, str | None, str]]:
    _, problems = inspect_scenario(folder)
    return [(p.file, p.row, p.column, p.message) for p in problems if p.severity is severity]


def test_a_growth_rate_written_as_a_percent_is_a_warning(branch: Path) -> None:
    _customers(branch, "C1,key,,5,M1", "C2,key,,0.05,M1", "C3,basic,,,M2")
    assert _found(branch, Severity.WARNING) == [
        (
            "customers.csv",
            2,
            "growth_rate",
            "growth_rate 5 is 500% growth: growth rates are fractions",
        )
    ]


def test_a_tenure_at_the_rotation_limit_without_a_prior_manager_is_a_warning(
    branch: Path,
) -> None:
    """The rotation rule cannot apply to C2: it did nothing without a word."""
    toml = branch / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "[rotation]\nmax_tenure_years = 8\n")
    header = f"{HEADER},tenure_years"
    rows = ["C1,key,,,M1,9", "C2,key,,,,12", "C3,basic,,,,3"]
    (branch / "customers.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")

    warned = [w for w in _found(branch, Severity.WARNING) if w[2] == "tenure_years"]

    assert [w[:3] for w in warned] == [("customers.csv", 3, "tenure_years")]
    assert "prior_manager_id is blank" in warned[0][3]


def test_an_actuals_table_without_rows_is_a_warning(branch: Path) -> None:
    """Everyone would be paid as exactly on target, as if no actuals were given."""
    toml = branch / "scenario.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace(
            'managers = "managers.csv"\n', 'managers = "managers.csv"\nactuals = "actuals.csv"\n'
        ),
        encoding="utf-8",
    )
    (branch / "actuals.csv").write_text("customer_id,period,interest_income\n", encoding="utf-8")

    warned = [w for w in _found(branch, Severity.WARNING) if w[0] == "actuals.csv"]

    assert len(warned) == 1 and "the table has no rows" in warned[0][3]


def test_past_fifty_unknown_classes_the_rest_are_one_line_naming_their_rows(branch: Path) -> None:
    """A class renamed in the whole file: 50 rows listed, the other 10 in one line with their
    rows, so no row is lost (it said only how many more there were)."""
    _customers(branch, *(f"C{i},VIP,,,M1" for i in range(1, 61)))
    errors = [e for e in _found(branch, Severity.ERROR) if e[2] == "customer_class"]
    assert len(errors) == 51
    assert errors[-1] == (
        "customers.csv",
        None,
        "customer_class",
        "... and 10 more unknown customer class values like these, in rows 52-61",
    )


def test_a_bank_sheets_chinese_headers_are_named_with_the_columns_they_stand_for(
    branch: Path,
) -> None:
    """客戶編號 is customer_id: the missing column's error, and beside it the header to rename,
    in Traditional or Simplified Chinese, full-width or spaced as a sheet may have it."""
    (branch / "customers.csv").write_text(
        "客戶編號,客户分类,行 業\nC1,key,钢铁\nC2,basic,建材\n", encoding="utf-8"
    )
    renames = [
        (column, message)
        for _, _, column, message in _found(branch, Severity.WARNING)
        if "the format calls it" in message
    ]
    assert renames == [
        ("客戶編號", "the column '客戶編號' is not read: the format calls it 'customer_id'"),
        ("客户分类", "the column '客户分类' is not read: the format calls it 'customer_class'"),
        ("行 業", "the column '行 業' is not read: the format calls it 'industry'"),
    ]


def test_short_english_headers_that_carry_a_rule_are_named_with_their_columns(
    branch: Path,
) -> None:
    """group for group_id, tenure for tenure_years, active for available: each left unread
    would drop a hard rule without a word (a split group, a missed rotation, a leaver's
    customers), so each is a warning naming the column to rename it to."""
    (branch / "customers.csv").write_text(
        "customer_id,customer_class,Group,tenure,pinned to\nC1,key,G1,3,\nC2,basic,G1,9,M1\n",
        encoding="utf-8",
    )
    managers = (branch / "managers.csv").read_text(encoding="utf-8")
    (branch / "managers.csv").write_text(managers.replace(",available", ",active"), "utf-8")
    renames = {
        (file, column): message
        for file, _, column, message in _found(branch, Severity.WARNING)
        if "the format calls it" in message
    }
    assert renames == {
        ("customers.csv", "Group"): (
            "the column 'Group' is not read: the format calls it 'group_id'"
        ),
        ("customers.csv", "tenure"): (
            "the column 'tenure' is not read: the format calls it 'tenure_years'"
        ),
        ("customers.csv", "pinned to"): (
            "the column 'pinned to' is not read: the format calls it 'pinned_manager_id'"
        ),
        ("managers.csv", "active"): (
            "the column 'active' is not read: the format calls it 'available'"
        ),
    }


def test_a_header_saying_the_opposite_of_a_column_is_not_offered_as_a_rename(
    branch: Path,
) -> None:
    managers = (branch / "managers.csv").read_text(encoding="utf-8")
    (branch / "managers.csv").write_text(managers.replace(",available", ",on_leave"), "utf-8")
    _, problems = inspect_scenario(branch)
    [warning] = [p for p in problems if p.column == "on_leave"]
    assert warning.message == (
        "the column 'on_leave' is not read: the format has 'available', which says the opposite"
    )
    assert warning.hint == "add a column available (false where on_leave is true) in its place"


def test_policy_rates_written_as_percents_are_warnings() -> None:
    policy, problems = parse_policy("[payout.growth]\nkey = 8\nbasic = 0.05\n[payout.rates]\n")
    assert policy is not None
    assert [(p.column, p.row, p.message) for p in problems] == [
        ("payout.growth.key", 2, "payout.growth.key = 8 is 800%: rates are fractions")
    ]


def test_a_placeholder_group_id_shared_by_customers_is_a_warning(branch: Path) -> None:
    _customers(branch, "C1,key,N/A,,M1", "C2,key,G1,,M1", "C3,basic,N/A,,M2")
    assert _found(branch, Severity.WARNING) == [
        (
            "customers.csv",
            2,
            "group_id",
            "group_id 'N/A' joins 2 customers into one group, kept in one portfolio",
        )
    ]


def test_an_invisible_character_in_an_id_is_dropped_with_a_warning(branch: Path) -> None:
    managers = (branch / "managers.csv").read_text(encoding="utf-8")
    (branch / "managers.csv").write_text(managers.replace("M1,", "M1\u200b,", 1), "utf-8")
    _customers(branch, "C1,key,,,M1", "C2,key,,,M1", "C3,basic,,,M2")
    scenario, problems = inspect_scenario(branch)
    assert scenario is not None
    assert "M1" in set(scenario.managers["manager_id"])
    assert [(p.file, p.column, p.message) for p in problems] == [
        (
            "managers.csv",
            "manager_id",
            "'M1' holds invisible characters (U+200B), read without them",
        )
    ]


def test_a_table_file_the_policy_does_not_name_is_a_warning(branch: Path) -> None:
    (branch / "relations.csv").write_text("a,b,kind\nC1,C2,group\n", encoding="utf-8")
    assert [(f, m[:40]) for f, _, _, m in _found(branch, Severity.WARNING)] == [
        ("relations.csv", "the file is in the folder, but [tables] ")
    ]


def test_a_short_row_is_a_warning_and_a_long_one_hides_no_other_problem(branch: Path) -> None:
    _customers(branch, "C1,key", "C2,nonsense,,,M1", "C3,basic,,1,234,M2")
    assert _found(branch, Severity.WARNING) == [
        (
            "customers.csv",
            2,
            None,
            "2 fields, but the header has 5 columns: the cells to the right are read as blank",
        )
    ]
    errors = [(row, column) for _, row, column, _ in _found(branch, Severity.ERROR)]
    assert (4, None) in errors  # the long row, and none of its shifted cells
    assert (3, "customer_class") in errors  # the row below it is still checked
    assert [e for e in errors if e[0] == 4] == [(4, None)]


def test_rows_beyond_the_first_twenty_of_a_kind_are_named_in_one_line(branch: Path) -> None:
    _customers(branch, *(f"C{i},basic,,1,234,M2" for i in range(30)), "C99,key")
    _, problems = read_table(branch, "customers.csv")
    long_rows = [p for p in problems if p.is_error]
    assert [p.row for p in long_rows[:20]] == list(range(2, 22))
    assert long_rows[20].message == "... and 10 more like these, in rows 22-31"
    assert len(long_rows) == 21


def test_an_empty_nameless_first_column_is_formatting(branch: Path) -> None:
    (branch / "customers.csv").write_text(
        ",customer_id,customer_class\n,C1,key\n,C2,key\n,C3,basic\n", encoding="utf-8"
    )
    frame, problems = read_table(branch, "customers.csv")
    assert problems == [] and frame is not None
    assert list(frame.columns) == ["customer_id", "customer_class"]


def test_the_first_shown_sheet_is_read_past_hidden_ones(tmp_path: Path) -> None:
    book = Workbook()
    old = book.active
    old.title = "old_2025"
    old.append(["customer_id"])
    old.append(["OLD"])
    old.sheet_state = "hidden"
    shown = book.create_sheet("customers_2026")
    shown.append(["customer_id"])
    shown.append(["NEW"])
    book.save(tmp_path / "c.xlsx")
    frame, problems = read_table(tmp_path, "c.xlsx")
    assert frame is not None and list(frame["customer_id"]) == ["NEW"]
    assert [(p.severity, p.message[:40]) for p in problems] == [
        (Severity.WARNING, "the sheet 'customers_2026' is read: the ")
    ]


def test_column_names_that_start_like_a_formula_are_escaped(tmp_path: Path) -> None:
    write_csv(pd.DataFrame({"=HYPERLINK(1)": ["a"], "@note": ["=1+1"]}), tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_text(encoding="utf-8").splitlines() == [
        "'=HYPERLINK(1),'@note",
        "a,'=1+1",
    ]


def test_ids_that_lost_their_leading_zeros_are_named_with_the_id_meant(branch: Path) -> None:
    (branch / "managers.csv").write_text("manager_id,grade\n007,B\n008,B\n", encoding="utf-8")
    _customers(branch, "C1,key,,,7", "C2,key,,,008", "C3,basic,,,9")
    _, problems = inspect_scenario(branch)
    hints = {p.row: p.hint for p in problems if p.column == "prior_manager_id"}
    assert hints[2].startswith("did you mean 007? The spreadsheet may have dropped leading zeros")
    assert not hints[4].startswith("did you mean")


def test_the_tables_are_checked_beside_a_policy_with_errors(branch: Path) -> None:
    toml = branch / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "[span]\ntolerence = 2\n", "utf-8")
    _customers(branch, "C1,key,,eight,M1", "C2,key,,,M1", "C3,basic,,,M2")
    scenario, problems = inspect_scenario(branch)
    assert scenario is None
    assert [(p.file, p.row, p.column) for p in problems if p.is_error] == [
        ("scenario.toml", 7, "span.tolerence"),
        ("customers.csv", 2, "growth_rate"),
    ]


def _warned(folder: Path) -> list[str]:
    return [f"{f}|{c}|{m}" for f, _, c, m in _found(folder, Severity.WARNING)]


def test_units_in_headers_and_other_languages_do_not_hide_the_incomes(branch: Path) -> None:
    (branch / "customers.csv").write_text(
        "customer_id,customer_class,Interest Income (CNY),interest_income_ly\n"
        "C1,key,100,90\nC2,key,100,90\nC3,basic,100,90\n",
        encoding="utf-8",
    )
    warned = _warned(branch)
    assert any("|Interest Income (CNY)|" in w and "'interest_income'" in w for w in warned)
    assert any("no income column is read" in w for w in warned)
    (branch / "customers.csv").write_text(
        "customer_id,customer_class,interest_income,interest_income_ly\n"
        "C1,key,100,90\nC2,key,100,90\nC3,basic,100,90\n",
        encoding="utf-8",
    )
    assert _warned(branch) == []  # last year's figures beside this year's: the planner's own


def test_a_balance_bound_and_scores_written_on_the_wrong_scale_are_warnings(branch: Path) -> None:
    toml = branch / "scenario.toml"
    toml.write_text(toml.read_text("utf-8") + "[balance]\nmax_deviation = 10\n", "utf-8")
    (branch / "managers.csv").write_text(
        "manager_id,grade,management_score\nM1,A,0.93\nM2,B,880\nM3,B,\n", encoding="utf-8"
    )
    warned = _warned(branch)
    assert any("balance.max_deviation = 10 is 1000%" in w for w in warned)
    assert [w for w in warned if "management_score" in w] == [
        "managers.csv|management_score|management_score 0.93 is on a scale of 0..1000: pay "
        "would be scaled by 0.93 / 1000"
    ]


@pytest.mark.parametrize(("scores", "warned_rows"), [("88.8,93,", 2), ("88.8,930,", 0)])
def test_scores_all_on_a_scale_of_100_are_warnings(
    branch: Path, scores: str, warned_rows: int
) -> None:
    rows = [f"M{i},B,{s}" for i, s in enumerate(scores.split(","), 1)]
    (branch / "managers.csv").write_text(
        "manager_id,grade,management_score\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    warned = [w for w in _warned(branch) if "management_score" in w]
    assert len(warned) == warned_rows
    assert all("on a scale of 0..1000" in w for w in warned)


@pytest.mark.parametrize("placeholder", ["—", "Ｎ／Ａ", "暂无"])
def test_placeholder_group_ids_in_other_scripts_are_warnings(branch: Path, placeholder) -> None:
    _customers(branch, f"C1,key,{placeholder},,M1", "C2,key,G1,,M1", f"C3,basic,{placeholder},,M2")
    assert [w.split("|")[1] for w in _warned(branch)] == ["group_id"]


def test_a_quote_left_open_that_joins_two_rows_is_a_warning(branch: Path) -> None:
    (branch / "customers.csv").write_text(
        'customer_id,name,customer_class\nC1,"Acme,key\nC2,Bolt",key\nC3,Core,basic\n',
        encoding="utf-8",
    )
    _, problems = inspect_scenario(branch)
    assert any(p.row == 2 and "a quote left open" in p.message for p in problems)


def test_an_old_csv_beside_the_workbook_that_tables_names_is_a_warning(branch: Path) -> None:
    toml = branch / "scenario.toml"
    (branch / "customers.xlsx").write_bytes(b"")  # only its presence matters here
    pd.read_csv(branch / "customers.csv").to_excel(branch / "customers.xlsx", index=False)
    toml.write_text(toml.read_text("utf-8").replace("customers.csv", "customers.xlsx"), "utf-8")
    assert _warned(branch) == [
        "customers.csv|None|the file is in the folder, but [tables] names customers.xlsx for "
        "customers: it is not read"
    ]


def test_an_invisible_character_in_a_header_is_dropped(branch: Path) -> None:
    text = (branch / "customers.csv").read_text("utf-8")
    header, rest = text.split("\n", 1)
    (branch / "customers.csv").write_text(
        header.replace("customer_class", "customer_class\u200b") + "\n" + rest, "utf-8"
    )
    scenario, problems = inspect_scenario(branch)
    assert scenario is not None, problems


def test_a_blank_tenure_under_rotation_is_not_due(branch: Path) -> None:
    from portfolio_opt.model.solve import rule_collisions
    from portfolio_opt.scenario.loader import load_scenario

    toml = branch / "scenario.toml"
    toml.write_text(toml.read_text("utf-8") + "[rotation]\nmax_tenure_years = 3\n", "utf-8")
    (branch / "customers.csv").write_text(
        "customer_id,customer_class,prior_manager_id,tenure_years\n"
        "C1,key,M1,\nC2,key,M1,5\nC3,basic,M2,1\n",
        encoding="utf-8",
    )
    assert isinstance(rule_collisions(load_scenario(branch)), list)


@pytest.mark.parametrize(
    ("number_format", "shown"),
    [("000", ["001", "024"]), ('"M"0000', ["M0001", "M0024"]), ('\\M00"-A"', ["M01-A", "M24-A"])],
)
def test_ids_kept_as_numbers_with_leading_zeros_in_a_workbook_read_as_shown(
    tmp_path: Path, number_format: str, shown: list[str]
) -> None:
    """Excel shows 1 as 001, or as M0001 under a format with literal text."""
    book = Workbook()
    sheet = book.active
    sheet.append(["manager_id", "grade"])
    for number in (1, 24):
        sheet.append([number, "B"])
        sheet.cell(row=sheet.max_row, column=1).number_format = number_format
    book.save(tmp_path / "m.xlsx")
    frame, problems = read_table(tmp_path, "m.xlsx")
    assert problems == [] and frame is not None
    assert list(frame["manager_id"]) == shown


def test_a_csv_with_decimal_commas_says_so_once(branch: Path) -> None:
    (branch / "customers.csv").write_text(
        "customer_id;customer_class;interest_income\nC1;key;100,5\nC2;key;200,25\nC3;basic;7,5\n",
        encoding="utf-8",
    )
    _, problems = inspect_scenario(branch)
    whole_file = [p for p in problems if p.row is None and "decimal commas" in p.message]
    assert len(whole_file) == 1 and whole_file[0].severity is Severity.WARNING
    assert [p.row for p in problems if p.column == "interest_income"] == [2, 3, 4]


@pytest.mark.parametrize("word", ["Total", "合計", " SUM "])
def test_a_totals_row_at_the_bottom_is_named_so(branch: Path, word: str) -> None:
    _customers(branch, "C1,key", "C2,basic", f"{word},")
    frame, problems = read_table(branch, "customers.csv")
    [problem] = [p for p in problems if p.is_error]
    assert (problem.row, problem.column) == (4, "customer_id")
    assert "totals row" in problem.message and "delete the row" in problem.hint
    assert frame["customer_id"].tolist() == ["C1", "C2"]


def test_nul_padding_at_the_end_of_a_file_is_a_blank_tail(branch: Path) -> None:
    _customers(branch, "C1,key,,,", "C2,basic,,,")
    path = branch / "customers.csv"
    path.write_bytes(path.read_bytes() + b"\x00" * 40)
    frame, problems = read_table(branch, "customers.csv")
    assert problems == [] and frame["customer_id"].tolist() == ["C1", "C2"]


def test_ids_excel_turned_into_dates_or_long_numbers_are_warned_about(branch: Path) -> None:
    _customers(branch, "2026-06-01,key,,,", "6.22203E+18,basic,,,", "C3,key,,,")
    warnings = [
        (row, column, message)
        for _, row, column, message in _found(branch, Severity.WARNING)
        if "not an id as written" in message
    ]
    assert [(r, c) for r, c, _ in warnings] == [(2, "customer_id"), (3, "customer_id")]
    assert "is a date" in warnings[0][2] and "scientific notation" in warnings[1][2]


def test_a_long_id_stored_as_a_number_in_a_workbook_reads_as_excel_shows_it(
    tmp_path: Path,
) -> None:
    """Excel keeps 15 digits: a 19-digit id typed without Text format is no longer the id, so
    it reads as Excel shows it and gets the warning, not a wrong id without a word; an id of 15
    digits is exact."""
    book = Workbook()
    sheet = book.active
    sheet.append(["customer_id", "customer_class"])
    sheet.append([6222021234567890123.0, "key"])
    sheet.append([123456789012345.0, "key"])
    book.save(tmp_path / "c.xlsx")
    frame, _ = read_table(tmp_path, "c.xlsx")
    assert frame is not None
    assert list(frame["customer_id"]) == ["6.22202123456789E+18", "123456789012345"]
    warnings = ids_excel_changed(frame, "c.xlsx")
    assert [(p.row, p.column) for p in warnings] == [(2, "customer_id")]
    assert "scientific notation" in warnings[0].message


def test_a_chain_link_listed_again_is_warned_about(branch: Path) -> None:
    _customers(branch, "C1,key,,,", "C2,basic,,,", "C3,key,,,")
    (branch / "relations.csv").write_text(
        "a,b,kind,weight\nC1,C2,chain,2\nC2,C3,chain,1\nC2,C1,chain,5\nC1,C2,group,\n",
        encoding="utf-8",
    )
    toml = branch / "scenario.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            "[classes]", 'relations = "relations.csv"\n[classes]'
        ),
        encoding="utf-8",
    )
    [warning] = [w for w in _found(branch, Severity.WARNING) if "listed again" in w[3]]
    assert warning[:3] == ("relations.csv", 4, "b")
    assert "C1 - C2 is listed again (first in row 2)" in warning[3]


def test_ids_that_differ_only_in_case_or_width_are_named(branch: Path) -> None:
    _customers(branch, "C1,key,,,", "c1,basic,,,", "Ｃ2,key,,,Ｍ1")
    warnings = [w for w in _found(branch, Severity.WARNING) if "looks like" in w[3]]
    assert [(row, column) for _, row, column, _ in warnings] == [(3, "customer_id")]
    assert "'c1' looks like 'C1' (row 2)" in warnings[0][3]
    _, problems = inspect_scenario(branch)
    [prior] = [p for p in problems if p.column == "prior_manager_id"]
    assert "did you mean M1?" in prior.hint


def test_a_quote_left_open_is_named_as_the_cause_of_too_many_fields(branch: Path) -> None:
    _customers(branch, 'C1,key,"G1,,', "C2,basic,,,", 'C3,key,G1",,,,', "C4,key,,,", "C5,key,,,")
    _, problems = read_table(branch, "customers.csv")
    [error] = [p for p in problems if p.is_error]
    assert error.row == 2 and "a quote left open joined this row" in error.message
    assert "thousands" not in error.hint


@pytest.mark.parametrize("cell", ["¥1,234.50", "(1,234.50)", "-", "€12"])
def test_money_in_an_accounting_format_gets_a_hint_to_write_it_plainly(
    branch: Path, cell: str
) -> None:
    (branch / "customers.csv").write_text(
        f'customer_id,customer_class,interest_income\nC1,key,"{cell}"\nC2,key,5\n',
        encoding="utf-8",
    )
    [error] = [p for p in inspect_scenario(branch)[1] if p.is_error]
    assert (error.row, error.column) == (2, "interest_income")
    assert "currency sign" in error.hint and "minus sign" in error.hint


def test_group_ids_that_differ_only_in_case_or_width_are_named(branch: Path) -> None:
    """One group typed three ways would be three groups: the hard rule would not join them."""
    _customers(branch, "C1,key,G2,,", "C2,basic,g2,,", "C3,key,Ｇ2,,", "C4,key,G2,,")
    warnings = [w for w in _found(branch, Severity.WARNING) if "looks like" in w[3]]
    assert [(row, column) for _, row, column, _ in warnings] == [(3, "group_id"), (4, "group_id")]


def test_industries_that_differ_only_in_case_or_width_are_named_once_each(branch: Path) -> None:
    """Steel and steel would be two industries to the goal of few industries per portfolio."""
    (branch / "customers.csv").write_text(
        "customer_id,customer_class,industry\nC1,key,Steel\nC2,basic,steel\nC3,key,steel\n"
        "C4,key,ＳＴＥＥＬ\nC5,key,Coal\nC6,key,coal\n",
        encoding="utf-8",
    )
    warnings = [w for w in _found(branch, Severity.WARNING) if "looks like" in w[3]]
    # rows 3 and 5 first spell steel and ＳＴＥＥＬ, row 7 coal; row 4 repeats row 3
    assert [row for _, row, _, _ in warnings] == [3, 5, 7]
    assert "industry 'steel' looks like 'Steel' (row 2)" in warnings[0][3]


def test_a_totals_row_with_a_blank_id_is_found_by_its_label(branch: Path) -> None:
    _customers(branch, "C1,key,,,", "C2,basic,,,", ",,合計:,,")
    _, problems = read_table(branch, "customers.csv")
    [error] = [p for p in problems if p.is_error]
    assert (error.row, error.column) == (4, "group_id") and "totals row" in error.message


def test_a_group_named_total_is_not_a_totals_row(branch: Path) -> None:
    _customers(branch, "C1,key,TOTAL,,", "C2,basic,,,", "C3,key,TOTAL,,")
    frame, problems = read_table(branch, "customers.csv")
    assert problems == [] and len(frame) == 3


@pytest.mark.parametrize("spec", ["c.xls", "c.xls#Sheet1", "c.ods#Plan"])
def test_an_older_or_other_spreadsheet_format_says_so_with_or_without_a_sheet(
    tmp_path: Path, spec: str
) -> None:
    (tmp_path / spec.split("#")[0]).write_bytes(b"\xd0\xcf\x11\xe0")  # an old .xls header
    frame, problems = read_table(tmp_path, spec)
    assert frame is None
    [problem] = problems
    assert "unsupported file type" in problem.message and "save it as .xlsx" in problem.hint


def test_a_column_with_values_but_no_name_is_warned_about(branch: Path) -> None:
    (branch / "customers.csv").write_text(
        f"{HEADER},\n" + "\n".join(["C1,key,,,,note", "C2,basic,,,,"]) + "\n", encoding="utf-8"
    )
    found = [
        (row, message)
        for _, row, _, message in _found(branch, Severity.WARNING)
        if "no name in the header row" in message
    ]
    assert len(found) == 1 and found[0][0] == 1 and "first in row 2" in found[0][1]
