"""Which output folders a command may replace whole."""

from __future__ import annotations

import json
from copy import copy
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

from portfolio_opt.plan.io import cells_digest, plan_digest, plan_table
from portfolio_opt.report import folders
from portfolio_opt.report.fingerprint import workbook_fingerprint
from portfolio_opt.report.folders import replace_problem, write_manifest
from portfolio_opt.report.workbook import write_workbook


def _written_by(folder: Path, command: str, *names: str) -> Path:
    folder.mkdir()
    for name in names:
        (folder / name).write_text("x", encoding="utf-8")
    write_manifest(folder, {"tool": "portfolio-opt", "command": command})
    return folder


def test_new_empty_and_own_folders_may_be_replaced(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    own = _written_by(tmp_path / "own", "payout", "payout.csv")

    assert replace_problem(tmp_path / "new", {}, "payout") is None
    assert replace_problem(tmp_path / "empty", {}, "payout") is None
    assert replace_problem(own, {}, "payout") is None
    manifest = json.loads((own / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"] == ["manifest.json", "payout.csv"]


def test_a_folder_holding_an_input_is_refused(tmp_path: Path) -> None:
    scenario = tmp_path / "branch"
    scenario.mkdir()
    plan = tmp_path / "run" / "assignment.csv"

    assert "holds the scenario" in str(replace_problem(scenario, {scenario: "scenario"}, "payout"))
    assert "holds the scenario" in str(replace_problem(tmp_path, {scenario: "scenario"}, "payout"))
    assert "holds the plan" in str(replace_problem(tmp_path / "run", {plan: "plan"}, "payout"))


def test_other_commands_folders_files_and_foreign_files_are_refused(tmp_path: Path) -> None:
    solve_out = _written_by(tmp_path / "solve", "solve", "assignment.csv")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "minutes.docx").write_text("branch meeting", encoding="utf-8")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    with_notes = _written_by(tmp_path / "notes", "solve", "assignment.csv")
    (with_notes / "notes.txt").write_text("sign-off", encoding="utf-8")

    assert "is an output folder (written by solve), not a payout folder" in str(
        replace_problem(solve_out, {}, "payout")
    )
    assert "not an output folder" in str(replace_problem(mine, {}, "solve"))
    assert "is a file" in str(replace_problem(a_file, {}, "solve"))
    assert "did not write (notes.txt)" in str(replace_problem(with_notes, {}, "solve"))


def test_solve_folders_from_before_manifests_named_the_command_may_be_replaced(
    tmp_path: Path,
) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "assignment.csv").write_text("x", encoding="utf-8")
    (old / "manifest.json").write_text('{"tool": "portfolio-opt"}', encoding="utf-8")

    assert replace_problem(old, {}, "solve") is None
    assert "not a sweep folder" in str(replace_problem(old, {}, "sweep"))


def test_a_place_that_cannot_be_written_is_refused_before_any_work(
    tmp_path: Path, monkeypatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    refused = replace_problem(blocker / "out", {}, "solve")
    assert refused is not None and "is a file" in refused

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(folders.tempfile, "mkdtemp", denied)
    refused = replace_problem(tmp_path / "new" / "out", {}, "solve")
    assert refused == (
        f"cannot write in {tmp_path} (permission denied); choose another output folder"
    )


def test_a_mount_point_is_refused_as_the_output_folder() -> None:
    refused = replace_problem(Path("/proc"), {}, "solve")
    assert refused is not None
    assert "mount point" in refused or "cannot write" in refused


def test_a_file_edited_in_place_is_refused_and_names_it(tmp_path: Path) -> None:
    """A plan edited in the output folder would be lost to the next run: refused; re-saved with
    the same bytes, or a folder from before the manifest kept digests, may be replaced."""
    run = _written_by(tmp_path / "run", "solve", "assignment.csv", "report.xlsx")
    assert replace_problem(run, {}, "solve") is None

    (run / "assignment.csv").write_text("y", encoding="utf-8")
    problem = str(replace_problem(run, {}, "solve"))
    assert "assignment.csv" in problem and "changed after solve wrote it" in problem
    assert "report.xlsx" not in problem

    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    del manifest["output_sha256"]
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert replace_problem(run, {}, "solve") is None


def test_a_workbook_open_in_excel_is_named_and_file_browser_leftovers_are_not_work(
    tmp_path: Path,
) -> None:
    run = _written_by(tmp_path / "run", "solve", "assignment.csv", "report.xlsx")
    (run / "Thumbs.db").write_bytes(b"\0")
    (run / ".DS_Store").write_bytes(b"\0")
    assert replace_problem(run, {}, "solve") is None

    (run / "~$report.xlsx").write_bytes(b"\0")
    problem = str(replace_problem(run, {}, "solve"))
    assert "report.xlsx" in problem and "open in Excel" in problem and "close it" in problem


def test_a_comparison_inside_a_folder_it_reads_is_refused(tmp_path: Path) -> None:
    run = _written_by(tmp_path / "run", "solve", "assignment.csv")
    problem = str(replace_problem(run / "cmp", {run: "plan"}, "compare"))
    assert "is inside the plan" in problem and "choose a folder outside it" in problem
    # a solve's own --out inside its scenario folder stays as it was
    assert replace_problem(run / "out", {run: "scenario"}, "solve") is None


def _solve_folder_with_workbook(folder: Path) -> Path:
    folder.mkdir()
    write_workbook(
        folder / "report.xlsx",
        {
            "Summary": pd.DataFrame({"kpi": ["span", "cut"], "value": [31, 0.125]}),
            "Assignment": pd.DataFrame({"customer_id": ["C1", "C2"], "manager_id": ["M1", ""]}),
        },
    )
    write_manifest(folder, {"tool": "portfolio-opt", "command": "solve"})
    return folder


def _dropdown(cells: str) -> DataValidation:
    rule = DataValidation(type="list", formula1='"M1,M2"')
    rule.add(cells)
    return rule


def _resave(path: Path, edit=None) -> None:
    """Open and save ``path`` as a spreadsheet does: other bytes, maybe an edit."""
    workbook = load_workbook(path)
    if edit is not None:
        edit(workbook)
    workbook.save(path)


def test_a_workbook_opened_and_saved_again_unchanged_may_be_replaced(tmp_path: Path) -> None:
    run = _solve_folder_with_workbook(tmp_path / "run")
    before = folders.file_digest(run / "report.xlsx")

    _resave(run / "report.xlsx")

    assert folders.file_digest(run / "report.xlsx") != before
    assert replace_problem(run, {}, "solve") is None


@pytest.mark.parametrize(
    "edit",
    [
        lambda wb: wb["Assignment"].cell(row=3, column=2, value="M2"),  # a customer moved
        lambda wb: wb["Summary"].cell(row=2, column=4, value="ask Lee"),  # a note beside
        lambda wb: wb.create_sheet("My notes").cell(row=1, column=1, value="x"),
        lambda wb: setattr(wb["Assignment"]["A2"], "fill", PatternFill("solid", "FFFF00")),
        lambda wb: setattr(wb["Assignment"]["A3"], "font", Font(bold=True)),
        lambda wb: setattr(wb["Assignment"]["B2"], "comment", Comment("ask Lee", "planner")),
        lambda wb: setattr(wb["Assignment"]["A2"], "border", Border(left=Side("thick"))),
        lambda wb: setattr(wb["Assignment"]["A2"], "font", Font(size=16)),
        lambda wb: setattr(wb["Summary"]["B3"], "number_format", "0.00%"),
        lambda wb: wb["Summary"].conditional_formatting.add(
            "B2:B3", ColorScaleRule(start_type="min", start_color="FF0000", end_type="max")
        ),
        lambda wb: setattr(wb["Assignment"]["A2"], "hyperlink", "https://example.com/C1"),
        lambda wb: wb["Assignment"].add_data_validation(_dropdown("B2:B3")),
        lambda wb: setattr(wb["Assignment"]["A3"], "_style", copy(wb["Assignment"]["A1"]._style)),
    ],
    ids=[
        "cell changed",
        "note added",
        "sheet added",
        "row highlighted",
        "cell made bold",
        "comment added",
        "border drawn",
        "font size",
        "number format",
        "conditional format",
        "hyperlink",
        "drop-down list",
        "the header's format given to a cell",
    ],
)
def test_a_workbook_edited_and_saved_is_refused(tmp_path: Path, edit) -> None:
    run = _solve_folder_with_workbook(tmp_path / "run")

    _resave(run / "report.xlsx", edit)

    problem = str(replace_problem(run, {}, "solve"))
    assert "report.xlsx" in problem and "changed after solve wrote it" in problem


def test_a_workbook_digest_ignores_how_numbers_and_empty_cells_are_stored(
    tmp_path: Path,
) -> None:
    plain, stored = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_workbook(plain, {"S": pd.DataFrame({"n": [31, 2], "x": ["a", None]})})
    write_workbook(stored, {"S": pd.DataFrame({"n": [31.0, 2.0], "x": ["a", ""]})})

    assert workbook_fingerprint(plain) == workbook_fingerprint(stored)
    assert workbook_fingerprint(tmp_path / "missing.xlsx") is None


def _sweep_like(folder: Path) -> Path:
    """A sweep's folder: its own files, plots/, and a variant's output folder below."""
    variant = folder / "variants" / "01_tolerance=1"
    variant.mkdir(parents=True)
    (variant / "assignment.csv").write_text("customer_id,manager_id\nC1,M1\n", encoding="utf-8")
    table = plan_table(variant / "assignment.csv")
    assert table is not None
    digests = {"plan_sha256": plan_digest(table), "plan_table_sha256": cells_digest(table)}
    write_manifest(variant, {"tool": "portfolio-opt", "command": "solve", **digests})
    (folder / "plots").mkdir()
    (folder / "plots" / "load.png").write_bytes(b"png")
    (folder / "sweep.csv").write_text("variant\n", encoding="utf-8")
    write_manifest(folder, {"tool": "portfolio-opt", "command": "sweep"})
    return folder


def test_files_below_the_top_are_the_planners_work_too(tmp_path: Path) -> None:
    run = _sweep_like(tmp_path / "sweep")
    assert replace_problem(run, {}, "sweep") is None

    (run / "plots" / "notes.txt").write_text("ask Lee", encoding="utf-8")
    problem = str(replace_problem(run, {}, "sweep"))
    assert "plots/notes.txt" in problem and "did not write" in problem
    (run / "plots" / "notes.txt").unlink()

    (run / "plots" / "load.png").write_bytes(b"drawn on")
    assert "plots/load.png" in str(replace_problem(run, {}, "sweep"))


def test_a_variants_plan_is_checked_by_its_own_manifest(tmp_path: Path) -> None:
    run = _sweep_like(tmp_path / "sweep")
    plan = run / "variants" / "01_tolerance=1" / "assignment.csv"

    plan.write_text("customer_id;manager_id\r\nC1;M1\r\n", encoding="utf-8")  # re-saved
    assert replace_problem(run, {}, "sweep") is None

    plan.write_text("customer_id,manager_id\nC1,M2\n", encoding="utf-8")  # edited
    problem = str(replace_problem(run, {}, "sweep"))
    assert "variants/01_tolerance=1/assignment.csv" in problem and "changed after" in problem


def test_the_default_folder_of_other_branches_still_there_is_not_replaced(tmp_path: Path) -> None:
    """solve-many's out/solve-many of last year's branches; a report of the same branches
    and more may replace it, and so may one of branches that are gone."""
    north, south, east = (tmp_path / name for name in ("north", "south", "east"))
    for folder in (north, south, east):
        folder.mkdir()
    report = tmp_path / "report"
    report.mkdir()
    branches = [{"scenario": str(north)}, {"scenario": str(south)}]
    (report / "manifest.json").write_text(json.dumps({"branches": branches}), encoding="utf-8")

    refused = folders.other_scenarios(report, [east])

    assert refused is not None and f"another scenario, {north}, {south}" in refused
    assert folders.other_scenarios(report, [north, south, east]) is None
    south.rmdir()
    assert folders.other_scenarios(report, [north, east]) is None


@pytest.mark.parametrize(
    ("name", "folder"), [("../up", ".._up"), ("..", "scenario"), ("a\\b", "a_b"), ("北區", "北區")]
)
def test_a_scenario_name_makes_one_folder_under_out(name: str, folder: str) -> None:
    assert folders.safe_folder_name(name) == folder
