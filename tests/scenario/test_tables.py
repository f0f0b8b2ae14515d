"""Reading one table: encodings, XLSX sheets, header spelling, paths kept inside the folder."""

from __future__ import annotations

import shutil
import zipfile

import pandas as pd
import pytest

from portfolio_opt.scenario.loader import inspect_scenario
from portfolio_opt.scenario.tables import read_table, resolve_inside, split_table_spec

from .conftest import DATA

CSV = "customer_id,name,customer_class\nC1,甲公司,key\nC2,乙公司,basic\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encoding_is_detected(tmp_path, encoding):
    (tmp_path / "c.csv").write_bytes(CSV.encode(encoding))
    frame, problems = read_table(tmp_path, "c.csv")
    assert problems == []
    assert list(frame.columns) == ["customer_id", "name", "customer_class"]
    assert frame["name"].tolist() == ["甲公司", "乙公司"]


def test_header_is_trimmed_and_lower_cased(tmp_path):
    (tmp_path / "c.csv").write_text(" Customer_ID ,NAME\t,customer_class\nC1,甲, key \n")
    frame, problems = read_table(tmp_path, "c.csv")
    assert problems == []
    assert frame.to_dict("records") == [
        {"customer_id": "C1", "name": "甲", "customer_class": "key"}
    ]


def test_trailing_blank_rows_are_dropped_and_row_numbers_kept(tmp_path):
    (tmp_path / "c.csv").write_text("customer_id,customer_class\nC1,key\n,\nC3,x\n,\n,\n")
    frame, _ = read_table(tmp_path, "c.csv")
    assert frame["customer_id"].tolist() == ["C1", "", "C3"]


def xlsx(tmp_path, sheets: dict[str, pd.DataFrame]) -> None:
    with pd.ExcelWriter(tmp_path / "book.xlsx", engine="openpyxl") as book:
        for name, frame in sheets.items():
            frame.to_excel(book, sheet_name=name, index=False)


def test_xlsx_first_sheet_or_the_named_one(tmp_path):
    xlsx(
        tmp_path,
        {
            "客户": pd.DataFrame({"Customer_ID": ["C1"], "interest_income": [1200.5]}),
            "经理": pd.DataFrame({"manager_id": ["M1"], "available": [True], "score": [900]}),
        },
    )
    first, problems = read_table(tmp_path, "book.xlsx")
    assert problems == []
    assert first.to_dict("records") == [{"customer_id": "C1", "interest_income": "1200.5"}]
    named, problems = read_table(tmp_path, "book.xlsx#经理")
    assert problems == []
    assert named.to_dict("records") == [{"manager_id": "M1", "available": "true", "score": "900"}]


def test_xlsx_sheet_name_matches_as_excel_does_regardless_of_case(tmp_path):
    xlsx(tmp_path, {"Customers": pd.DataFrame({"customer_id": ["C1"]}), "Other": pd.DataFrame()})
    frame, problems = read_table(tmp_path, "book.xlsx#customers ")
    assert problems == []
    assert frame["customer_id"].tolist() == ["C1"]


def test_an_empty_sheet_is_named_empty_with_the_other_sheets(tmp_path):
    xlsx(tmp_path, {"Blank": pd.DataFrame(), "Customers": pd.DataFrame({"customer_id": ["C1"]})})
    frame, problems = read_table(tmp_path, "book.xlsx#blank", required=["customer_id"])
    assert frame is None
    [problem] = problems
    assert problem.message == "the sheet 'Blank' is empty"
    assert "book.xlsx#SHEET" in problem.hint and "'Customers'" in problem.hint


def test_xlsx_sheet_that_does_not_exist(tmp_path):
    xlsx(tmp_path, {"客户": pd.DataFrame({"customer_id": ["C1"]})})
    frame, problems = read_table(tmp_path, "book.xlsx#Managers", "book.xlsx")
    assert frame is None
    assert [(p.file, p.message) for p in problems] == [("book.xlsx", "no sheet named 'Managers'")]
    assert "'#'" in problems[0].hint and "the workbook has '客户'" in problems[0].hint


def test_xlsx_sheet_that_does_not_exist_in_a_scenario(minimal):
    pd.read_csv(minimal / "managers.csv").to_excel(
        minimal / "managers.xlsx", sheet_name="经理", index=False
    )
    (minimal / "scenario.toml").write_text(
        '[tables]\ncustomers = "customers.csv"\nmanagers = "managers.xlsx#客户经理"\n',
        encoding="utf-8",
    )
    scenario, problems = inspect_scenario(minimal)
    assert scenario is None
    assert [(p.file, p.message) for p in problems if p.is_error] == [
        ("managers.xlsx#客户经理", "no sheet named '客户经理'")
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("a.csv", ("a.csv", None)),
        ("b.xlsx#Sheet 1", ("b.xlsx", "Sheet 1")),
        ("b.xlsx#", ("b.xlsx", None)),
    ],
)
def test_split_table_spec(spec, expected):
    assert split_table_spec(spec) == expected


@pytest.mark.parametrize("relative", ["../x.csv", "sub/../../x.csv", "/etc/hostname"])
def test_paths_leaving_the_folder_are_refused(tmp_path, relative):
    root = tmp_path / "scenario"
    root.mkdir()
    (tmp_path / "x.csv").write_text(CSV)
    assert resolve_inside(root, relative) is None
    frame, problems = read_table(root, relative, "x.csv")
    assert frame is None
    assert [p.message for p in problems] == ["the path leaves the scenario folder"]


def test_symlink_out_of_the_folder_is_refused(tmp_path):
    root = tmp_path / "scenario"
    root.mkdir()
    (tmp_path / "x.csv").write_text(CSV)
    (root / "link.csv").symlink_to(tmp_path / "x.csv")
    assert resolve_inside(root, "link.csv") is None


def test_a_workbook_encrypted_with_a_password_is_named_so(tmp_path):
    """Excel wraps an encrypted .xlsx in an OLE container, as an old .xls is: saving it again as
    .xlsx keeps the password, so the advice is to remove it. An .xls renamed is not this."""
    ole = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)
    (tmp_path / "locked.xlsx").write_bytes(ole + "EncryptedPackage".encode("utf-16-le"))
    (tmp_path / "old.xlsx").write_bytes(ole + "Workbook".encode("utf-16-le"))

    _, [locked] = read_table(tmp_path, "locked.xlsx")
    _, [old] = read_table(tmp_path, "old.xlsx")

    assert "protected by a password" in locked.message and "remove the password" in locked.hint
    assert "not an .xlsx file" in old.message


def test_paths_inside_the_folder_are_allowed(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.csv").write_text(CSV)
    frame, problems = read_table(tmp_path, "sub/../sub/c.csv")
    assert problems == [] and len(frame) == 2


def test_another_format_renamed_xlsx_is_named_so(tmp_path):
    """An .ods is a zip too, without the parts of a workbook: no traceback, a plain message."""
    with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    for spec in ("book.xlsx", "book.xlsx#Customers"):
        frame, [problem] = read_table(tmp_path, spec)
        assert frame is None
        assert "not an .xlsx file" in problem.message and "save it as .xlsx" in problem.hint


def test_a_workbook_is_loaded_once_for_all_the_tables_read_from_it(tmp_path, monkeypatch):
    import openpyxl

    from portfolio_opt.scenario import xlsx as module

    xlsx(tmp_path, {"A": pd.DataFrame({"customer_id": ["C1"]}), "B": pd.DataFrame({"x": [1]})})
    loads = []
    real = openpyxl.load_workbook

    def counted(*args, **kwargs):
        if not kwargs.get("read_only"):
            loads.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(module.openpyxl, "load_workbook", counted)
    with module.workbooks_kept():
        read_table(tmp_path, "book.xlsx#A")
        read_table(tmp_path, "book.xlsx#B")
    assert len(loads) == 1
    read_table(tmp_path, "book.xlsx#A")  # outside the block: loaded again, not kept
    assert len(loads) == 2


def test_a_chart_sheet_named_as_a_table_is_named_so(tmp_path):
    """customers.xlsx holds the sheets Summary, Chart (a chart sheet) and Data."""
    shutil.copy(DATA / "workbooks" / "with_chart_sheet.xlsx", tmp_path / "book.xlsx")
    frame, [problem] = read_table(tmp_path, "book.xlsx#Chart")
    assert frame is None
    assert problem.message == "the sheet 'Chart' is a chart, not a table"
    assert "'Data'" in problem.hint


def test_folding_warnings_keeps_the_count_of_a_line_that_stands_for_more_rows():
    """A table's own cap ("... and 130 more rows") survives the console's fold of its kind."""
    from portfolio_opt.problems import FOLD_MARK, Problem, Severity
    from portfolio_opt.scenario.columns import folded

    alike = [
        Problem("a.csv", "a copy", "delete it", row=row, severity=Severity.WARNING)
        for row in range(2, 52)
    ]
    cap = Problem(
        "a.csv", f"{FOLD_MARK}130 more like these, in rows 52-181", "delete it",
        severity=Severity.WARNING,
    )  # fmt: skip

    shown = [p.message for p in folded([*alike, cap])]

    assert len(shown) == 7
    assert shown[5] == "... and 45 more warnings like these, in rows 7-51"
    assert shown[6] == cap.message


def test_rows_hidden_or_filtered_out_in_excel_are_read_and_named(tmp_path):
    """A planner sees 2 customers where the table holds 4: rows 3 and 5 are hidden."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["customer_id", "customer_class"], *([f"C{i}", "key"] for i in range(1, 5))):
        sheet.append(row)
    for hidden in (3, 5):
        sheet.row_dimensions[hidden].hidden = True
    book.save(tmp_path / "book.xlsx")

    frame, [problem] = read_table(tmp_path, "book.xlsx")

    assert len(frame) == 4
    assert problem.severity.value == "warning"
    assert "2 row(s) hidden in Excel (hidden, or filtered out) are read" in problem.message
    assert problem.message.endswith("rows 3, 5")


def test_excels_separator_line_names_the_separator_and_is_no_row(tmp_path):
    """Excel reads "sep=;" as the separator and hides the line: the header is row 1 there, so
    a bad cell on the second customer is in row 3."""
    demo = shutil.copytree(DATA.parents[2] / "scenarios" / "demo", tmp_path / "demo")
    customers = pd.read_csv(demo / "customers.csv", dtype=str, keep_default_na=False)
    customers.loc[1, "tenure_years"] = "many"
    text = customers.to_csv(index=False, sep=";")
    (demo / "customers.csv").write_text("sep=;\r\n" + text, encoding="utf-8")

    frame, problems = read_table(demo, "customers.csv")
    _, found = inspect_scenario(demo)

    assert problems == [] and list(frame.columns) == list(customers.columns)
    assert len(frame) == len(customers)
    assert [(p.row, p.column) for p in found if p.is_error] == [(3, "tenure_years")]
