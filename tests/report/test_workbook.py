"""write_workbook: formatted sheets, and text that never turns into a formula."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from portfolio_opt.report.fingerprint import workbook_fingerprint, written_fingerprint
from portfolio_opt.report.workbook import (
    COUNT,
    MONEY,
    PERCENT,
    RATE,
    RATIO,
    Sheet,
    key_format,
    number_format,
    sheet_title,
    write_workbook,
)

RISKY = ["=SUM 貿易有限公司", "+86 21 5555", "-5 penalty", "@cmd", "=1+1"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("stock_target", MONEY),
        ("interest_base", MONEY),
        ("actual_income", MONEY),
        ("moves.value", MONEY),
        ("gap", PERCENT),
        ("balance.max_deviation", PERCENT),
        ("chain.cut_share", PERCENT),
        ("balance.target_gini", RATIO),
        ("payout.fx_rate", RATIO),  # 7.1 is a rate of exchange, not 710%
        ("n_customers", COUNT),
        ("moves.count", COUNT),
        ("customer_id", None),
        ("span.ideal", None),
    ],
)
def test_number_format_by_name(name: str, expected: str | None) -> None:
    assert number_format(name) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("customers_by_class.growth", COUNT),  # a count of the class named growth
        ("policy.payout.growth.growth", RATE),  # that class's growth rate
        ("policy.payout.separate_ledger.rates.target", RATE),  # 0.008 is 0.8%, not 0.01
        ("policy.payout.base_salary.L1", MONEY),
        ("goals.balance.value", None),  # a score in the solver's units, not money
        ("policy.tables.adjustments", None),  # a file name
        ("moves.value", MONEY),  # no section says otherwise: by its own name
    ],
)
def test_rows_keyed_by_dotted_names_are_formatted_by_their_section(
    key: str, expected: str | None
) -> None:
    assert key_format(key) == expected


def _write(tmp_path: Path, sheets: dict) -> Path:
    path = tmp_path / "book.xlsx"
    write_workbook(path, sheets)
    return path


def test_formula_like_text_is_stored_as_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"name": RISKY, "target": [1.0, 2.0, -3.0, 4.0, 5.0]})
    book = load_workbook(_write(tmp_path, {"T": frame}))
    cells = [c for row in book["T"].iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = [c.value for c in book["T"]["A"][1:]]
    assert names == RISKY
    assert all(c.quotePrefix for c in book["T"]["A"][1:])
    assert book["T"]["B4"].value == -3.0  # a negative number stays a number


def test_values_of_every_kind(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "text": pd.Series(["廈門星佳鋼鐵", None, "bell\x07"], dtype=object),
            "amount": [np.float64(1.5), np.nan, np.inf],
            "flag": [True, False, True],
            "n_items": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    sheet = load_workbook(_write(tmp_path, {"T": frame}))["T"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows == [
        ("廈門星佳鋼鐵", 1.5, True, 1),
        (None, None, False, None),
        ("bell", None, True, 3),
    ]


def test_layout_header_filter_widths_formats(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "customer_name": ["廈門星佳鋼鐵有限責任公司", "ABC"],
            "stock_target": [1234567.891, 2.0],
            "gap": [0.125, 0.0],
        }
    )
    sheet = load_workbook(_write(tmp_path, {"Plan": frame}))["Plan"]
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == "A1:D3"
    assert sheet["A1"].font.bold
    assert sheet["C2"].number_format == MONEY and sheet["D2"].number_format == PERCENT
    # twelve CJK characters need about 24 columns; the id column stays narrow
    assert sheet.column_dimensions["B"].width >= 24 > sheet.column_dimensions["A"].width


def test_rows_formatted_by_their_key(tmp_path: Path) -> None:
    kpis = pd.DataFrame(
        {"kpi": ["gap", "moves.value", "span.min"], "value": pd.Series([0.5, 1e6, 8], dtype=object)}
    )
    sheet = load_workbook(_write(tmp_path, {"KPIs": Sheet(kpis, key_column="kpi")}))["KPIs"]
    assert [sheet[f"B{r}"].number_format for r in (2, 3, 4)] == [PERCENT, MONEY, "General"]
    assert sheet["A2"].number_format == "General"


def test_sheet_titles_valid_and_unique() -> None:
    taken: set[str] = set()
    assert sheet_title("Moves by manager", taken) == "Moves by manager"
    assert sheet_title("a/b:c*d?", taken) == "a_b_c_d_"
    long = "x" * 40
    first, second = sheet_title(long, taken), sheet_title(long, taken)
    assert len(first) == 31 and len(second) <= 31 and first != second


def test_sheets_in_order(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1]})
    book = load_workbook(_write(tmp_path, {"First": frame, "Second": frame, "Third": frame}))
    assert book.sheetnames == ["First", "Second", "Third"]


cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(-1e15, 1e15),  # money and rates; near the largest float, 16 digits overflow
    st.sampled_from([math.nan, math.inf, -math.inf]),  # written as empty cells
    st.text(max_size=12),  # control characters, formula-like text, CJK
    st.sampled_from(["=SUM(A1)", "+1", "-x", "@me", "貿易", "", " "]),
)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.tuples(cells, cells, cells), max_size=6),
    names=st.tuples(st.text(min_size=1, max_size=8), st.text(min_size=1, max_size=8)),
)
def test_the_fingerprint_taken_while_writing_is_the_files_and_survives_a_save(
    tmp_path_factory, rows, names
) -> None:
    """So the next run can tell a workbook saved again unchanged from one edited."""
    frame = pd.DataFrame(rows, columns=["a", "b", "c"], dtype=object)
    path = tmp_path_factory.mktemp("wb") / "w.xlsx"

    write_workbook(path, {names[0]: frame, names[1]: frame.iloc[:, :1]})

    written = written_fingerprint(path)
    assert written == workbook_fingerprint(path)
    resaved = load_workbook(path)  # as a spreadsheet opens and saves it
    resaved.save(path)
    assert workbook_fingerprint(path) == written
