"""Input that used to slip through: infinities, decimal commas, Big5 text, a repeated column,
semicolon- or tab-separated files. Each is read correctly or reported with file, row, column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from portfolio_opt.scenario.columns import coerce_table, parse_numbers
from portfolio_opt.scenario.loader import inspect_scenario
from portfolio_opt.scenario.schema import SCHEMAS
from portfolio_opt.scenario.tables import decode_text, read_table, sniff_delimiter

from .conftest import DATA, copy_scenario


def coerce_customers(**columns: list[str]) -> tuple[pd.DataFrame, list]:
    """Three customers with the given text columns, typed as the customers table."""
    frame = pd.DataFrame(
        {"customer_id": ["C1", "C2", "C3"], "customer_class": ["key"] * 3, **columns}, dtype=str
    )
    return coerce_table(frame, SCHEMAS["customers"], "customers.csv")


def located(problems) -> list[tuple[str, int | None, str | None, str]]:
    return [(p.file, p.row, p.column, p.message) for p in problems]


# -- 1. numbers that are not finite


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "-Infinity", "+INF", "1e400"])
def test_infinity_is_not_a_finite_number(text):
    typed, problems = coerce_customers(interest_income=["10", text, "20"])
    assert located(problems) == [
        ("customers.csv", 3, "interest_income", f"{text!r} is not a finite number")
    ]
    assert np.isfinite(typed["interest_income"]).all()


def test_minus_infinity_is_reported_once_not_also_as_below_the_minimum(minimal):
    (minimal / "managers.csv").write_text(
        "manager_id,name,grade,base_salary,available\n"
        "M1,张伟,A,-inf,true\nM2,李娜,B,Infinity,true\n",
        encoding="utf-8",
    )
    scenario, problems = inspect_scenario(minimal)
    assert scenario is None
    assert located(problems) == [
        ("managers.csv", 2, "base_salary", "'-inf' is not a finite number"),
        ("managers.csv", 3, "base_salary", "'Infinity' is not a finite number"),
    ]


def test_infinite_whole_number_is_not_also_a_fraction():
    _, problems = coerce_customers(tenure_years=["inf", "3", ""])
    assert [p.message for p in problems] == ["'inf' is not a finite number"]


def test_nan_is_still_not_a_number():
    _, problems = coerce_customers(growth_rate=["nan", "0.1", ""])
    assert [p.message for p in problems] == ["'nan' is not a number"]


# -- 2. decimal commas


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1,234", 1234.0),
        ("192,887.37", 192887.37),
        ("-12,345,678.9", -12345678.9),
        ("1 234 567", 1234567.0),
        (" 0.08 ", 0.08),
        ("１９２，８８７．３７", 192887.37),  # full-width, as a Chinese input method types it
        ("－５\u3000", -5.0),
    ],
)
def test_thousands_separators_still_read(text, number):
    assert parse_numbers(pd.Series([text], dtype=str)).tolist() == [number]


@pytest.mark.parametrize(
    "text", ["0,08", "1,5", "12,34", "1,2345", "1.234,56", "1,234,5", "0,050", "-0,015"]
)
def test_decimal_comma_is_an_error_that_asks_for_a_decimal_point(text):
    typed, problems = coerce_customers(growth_rate=["0.1", "", text])
    assert located(problems) == [
        ("customers.csv", 4, "growth_rate", f"{text!r} is not a number with a decimal point")
    ]
    assert "use a decimal point" in problems[0].hint
    assert pd.isna(typed["growth_rate"].iloc[2])


def test_comma_in_text_that_is_no_number_keeps_the_plain_message():
    _, problems = coerce_customers(interest_income=["abc,def", "1", "2"])
    assert [(p.message, p.hint) for p in problems] == [
        ("'abc,def' is not a number", "write a plain number")
    ]


def test_decimal_comma_in_a_scenario_file_is_found_with_its_row(minimal):
    path = minimal / "customers.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace(",80,20,", ',"0,8",20,'), encoding="utf-8"
    )
    scenario, problems = inspect_scenario(minimal)
    assert scenario is None
    assert located(problems) == [
        ("customers.csv", 3, "interest_income", "'0,8' is not a number with a decimal point")
    ]


# -- 3. Big5 (cp950) text from Taiwan and Hong Kong Excel


def big5_twin(tmp_path: Path) -> Path:
    """``valid_all_columns`` (Traditional Chinese) with its tables saved as Big5."""
    twin = copy_scenario("valid_all_columns", tmp_path / "big5")
    for name in ("customers.csv", "managers.csv"):
        text = (twin / name).read_text(encoding="utf-8")
        (twin / name).write_bytes(text.encode("cp950"))
    return twin


def test_big5_tables_load_like_their_utf8_twin(tmp_path):
    twin = big5_twin(tmp_path)
    expected, _ = inspect_scenario(DATA / "valid_all_columns")
    loaded, problems = inspect_scenario(twin)
    assert problems == []
    pd.testing.assert_frame_equal(loaded.customers, expected.customers)
    pd.testing.assert_frame_equal(loaded.managers, expected.managers)
    assert loaded.managers["name"].tolist()[:2] == ["田鵬斌", "蘇勇英"]


def test_big5_class_names_match_the_policy(tmp_path):
    (tmp_path / "c.csv").write_bytes(
        "customer_id,customer_class\nC1,優質\nC2,重點\n".encode("cp950")
    )
    frame, problems = read_table(tmp_path, "c.csv")
    assert problems == []
    assert frame["customer_class"].tolist() == ["優質", "重點"]


def test_gb18030_text_is_not_taken_for_big5():
    text = "customer_id,name,customer_class\nC1,甲公司,基礎\nC2,乙公司,關注\n"
    assert decode_text(text.encode("gb18030")) == (text, "gb18030")


def test_text_that_is_neither_clean_gb18030_nor_big5_is_refused(tmp_path):
    # Big5 bytes (private-use characters in GB18030) and then a GB18030-only four-byte sequence
    data = "customer_id,name\nC1,一乙丁\n".encode("cp950") + b"C2,\x81\x30\x81\x30\n"
    (tmp_path / "c.csv").write_bytes(data)
    frame, problems = read_table(tmp_path, "c.csv")
    assert frame is None
    [problem] = problems
    assert problem.file == "c.csv"
    assert "encoding is unclear" in problem.message
    assert all(name in problem.message for name in ("UTF-8", "GB18030", "Big5"))
    assert "UTF-8" in problem.hint


# -- 4. a column repeated under exactly the same name


def test_csv_column_repeated_exactly_is_reported(tmp_path):
    (tmp_path / "c.csv").write_text(
        "customer_id,customer_class,name,customer_class\nC1,key,甲,premium\n", encoding="utf-8"
    )
    frame, problems = read_table(tmp_path, "c.csv")
    assert located(problems) == [("c.csv", 1, "customer_class", "the column appears twice")]
    assert list(frame.columns) == ["customer_id", "customer_class", "name"]
    assert frame["customer_class"].tolist() == ["key"]


def test_xlsx_column_repeated_exactly_is_reported(tmp_path):
    frame = pd.DataFrame([["C1", "key", "premium"]], columns=["customer_id", "a", "b"])
    frame.columns = ["customer_id", "customer_class", "customer_class"]
    frame.to_excel(tmp_path / "c.xlsx", index=False)
    read, problems = read_table(tmp_path, "c.xlsx")
    assert located(problems) == [("c.xlsx", 1, "customer_class", "the column appears twice")]
    assert read.to_dict("records") == [{"customer_id": "C1", "customer_class": "key"}]


def test_repeated_column_stops_the_scenario(minimal):
    path = minimal / "customers.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    extra = ["customer_class"] + ["premium"] * (len(lines) - 1)
    path.write_text(
        "\n".join(f"{line},{cell}" for line, cell in zip(lines, extra, strict=True)) + "\n",
        encoding="utf-8",
    )
    scenario, problems = inspect_scenario(minimal)
    assert scenario is None
    assert located(problems) == [("customers.csv", 1, "customer_class", "the column appears twice")]


# -- 5. semicolon- and tab-separated files


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(tmp_path, delimiter):
    rows = [["customer_id", "name", "interest_income"], ["C1", "甲, 乙公司", "1,234.5"]]
    text = "\n".join(delimiter.join(row) for row in rows) + "\n"
    (tmp_path / "c.csv").write_text(text, encoding="utf-8")
    frame, problems = read_table(tmp_path, "c.csv")
    assert problems == []
    assert frame.to_dict("records") == [
        {"customer_id": "C1", "name": "甲, 乙公司", "interest_income": "1,234.5"}
    ]


def test_semicolon_managers_file_loads_like_its_comma_twin(minimal):
    path = minimal / "managers.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    loaded, problems = inspect_scenario(minimal)
    assert problems == []
    expected, _ = inspect_scenario(DATA / "valid_minimal")
    pd.testing.assert_frame_equal(loaded.managers, expected.managers)


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("customer_id,name;note,customer_class", ","),
        ('"a;b",c', ","),
        ("customer_id;customer_class", ";"),
        ("customer_id\tcustomer_class", "\t"),
        ("customer_id", ","),
        ("", ","),
    ],
)
def test_sniff_delimiter(header, delimiter):
    assert sniff_delimiter(header + "\nC1\n") == delimiter


# -- percent cells, as a spreadsheet saves a rate


def test_a_rate_may_be_written_as_a_percent():
    typed, problems = coerce_customers(growth_rate=["8%", " 12.5 % ", "１０％"])
    assert problems == []
    assert typed["growth_rate"].tolist() == pytest.approx([0.08, 0.125, 0.1])


def test_an_income_written_as_a_percent_is_still_an_error():
    _, problems = coerce_customers(interest_income=["8%", "100", "200"])
    assert [(p.row, p.column) for p in problems] == [(2, "interest_income")]


def test_numbers_beyond_any_branch_are_errors_not_overflows():
    _, problems = coerce_customers(
        interest_income=["10", "1e300", "20"], tenure_years=["1", "2", "99999999999999999999"]
    )
    assert located(problems) == [
        ("customers.csv", 3, "interest_income", "'1e300' is not within ±1,000,000,000,000,000"),
        (
            "customers.csv",
            4,
            "tenure_years",
            "'99999999999999999999' is not within ±1,000,000,000",
        ),
    ]


def test_a_misspelt_table_key_does_not_hide_the_tables_problems(minimal: Path) -> None:
    toml = minimal / "scenario.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("[tables]", '[tables]\nrelation = "r.csv"'),
        encoding="utf-8",
    )
    customers = minimal / "customers.csv"
    lines = customers.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("customer_class")] = ""
    customers.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n", "utf-8")

    _, problems = inspect_scenario(minimal)

    assert ("scenario.toml", "tables.relation") in [(p.file, p.column) for p in problems]
    assert ("customers.csv", 2, "customer_class") in [(p.file, p.row, p.column) for p in problems]


def test_a_table_key_naming_no_file_is_named_with_its_key(minimal: Path) -> None:
    toml = minimal / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + 'relations = ""\n', encoding="utf-8")
    scenario, problems = inspect_scenario(minimal)
    assert scenario is None
    [problem] = problems
    assert (problem.file, problem.column) == ("scenario.toml", "tables.relations")
    assert "names no file" in problem.message


def test_text_no_encoding_reads_points_at_the_line_of_the_first_bad_bytes(tmp_path: Path):
    lines = ["customer_id,name", "C1,ok", "C2,ok"]
    data = "\n".join(lines[:3]).encode("utf-8") + b"\nC3,\xff\xfe\x81\x30\n"
    (tmp_path / "c.csv").write_bytes(data)
    frame, [problem] = read_table(tmp_path, "c.csv")
    assert frame is None and problem.row == 4
    assert "line 4" in problem.hint


def test_text_no_encoding_reads_names_every_line_of_bad_bytes(tmp_path: Path):
    bad = b"C9,\xff\xfe\x81\x30"
    data = b"customer_id,name\n" + bad + b"\nC2,ok\n" + bad + b"\n" + bad + b"\n"
    (tmp_path / "c.csv").write_bytes(data)
    _, [problem] = read_table(tmp_path, "c.csv")
    assert problem.row == 2
    assert "are in lines 2, 4, 5" in problem.hint


def test_every_empty_required_cell_is_listed_past_fifty_in_one_line():
    """A formula filled down past the data leaves 70 empty classes: 50 listed, then one line
    naming the other 20 rows."""
    frame = pd.DataFrame(
        {"customer_id": [f"C{i}" for i in range(70)], "customer_class": [""] * 70}, dtype=str
    )
    _, problems = coerce_table(frame, SCHEMAS["customers"], "customers.csv")
    empty = [p for p in problems if p.column == "customer_class"]
    assert len(empty) == 51
    assert empty[-1].message == "... and 20 more cells like these, in rows 52-71"
    assert empty[-1].hint == "fill in customer_class"
