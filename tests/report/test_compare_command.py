"""``portfolio-opt compare`` on the command line: output, files and exit codes."""

from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from portfolio_opt.pipeline import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_OK, EXIT_USAGE
from portfolio_opt.plan.checker import check_plan
from portfolio_opt.report.compare_command import compare, format_value

from .conftest import Solved


@click.group()
def cli() -> None:
    """A stand-in for the portfolio-opt group."""


cli.add_command(compare)


def _run(*args: str | Path):
    return CliRunner().invoke(cli, ["compare", *map(str, args)])


def test_two_output_folders(solved: Solved, solved_tight: Solved, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = _run(solved.out, solved_tight.out, "--out", out)
    assert result.exit_code == EXIT_OK, result.output
    assert "KPIs side by side" in result.output
    assert "balance.target_gini" in result.output and "demo-tight" in result.output
    assert "change manager from demo to demo-tight" in result.output
    for name in ("compare.csv", "compare.xlsx", "moves.csv", "moves_by_manager.csv"):
        assert (out / name).is_file(), name
    assert not (out / "left_out.csv").exists()  # nothing was left out
    assert (out / "plots" / "fairness.png").is_file() and (out / "plots" / "load.png").is_file()
    again = _run(solved.out, solved_tight.out, "--out", out)  # its own folder is replaced
    assert again.exit_code == EXIT_OK, again.output


def test_a_scenario_is_solved_first(demo_dir: Path, solved: Solved, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = _run(
        demo_dir, solved.out, "--out", out, "--time-limit", "1", "--workers", "1", "--seed", "7"
    )
    assert result.exit_code == EXIT_OK, result.output
    assert (out / "runs" / "demo" / "report.xlsx").is_file()
    assert "demo-2" in result.output  # both folders are named demo
    manifest = json.loads((out / "runs" / "demo" / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["solver"]["workers"], manifest["solver"]["seed"]) == (1, 7)


def test_scenarios_whose_rules_collide_are_all_named_before_any_is_solved(
    demo_dir: Path, tmp_path: Path
) -> None:
    """Two scenarios without an A-grade manager for the premium customers: both are named
    (exit 3), and the demo beside them is not solved first (no output folder)."""
    broken = []
    for name in ("one-a", "one-b"):
        folder = shutil.copytree(demo_dir, tmp_path / name)
        managers = pd.read_csv(folder / "managers.csv", dtype=str, keep_default_na=False)
        managers["grade"] = "B"
        managers.to_csv(folder / "managers.csv", index=False)
        broken.append(folder)
    out = tmp_path / "cmp"

    result = _run(demo_dir, *broken, "--out", out, "--time-limit", "1", "--workers", "1")

    assert result.exit_code == EXIT_INFEASIBLE, result.output
    assert "one-a: the hard rules cannot all hold" in result.output
    assert "one-b: the hard rules cannot all hold" in result.output
    assert "Solving" not in result.output and not out.exists()


def _without_a_grade(demo_dir: Path, folder: Path) -> Path:
    """A copy of the demo whose premium customers have no A-grade manager to hold them."""
    shutil.copytree(demo_dir, folder)
    managers = pd.read_csv(folder / "managers.csv", dtype=str, keep_default_na=False)
    managers["grade"] = "B"
    managers.to_csv(folder / "managers.csv", index=False)
    return folder


def test_a_scenario_whose_rules_collide_is_left_out_and_the_others_compared(
    demo_dir: Path, solved: Solved, solved_tight: Solved, tmp_path: Path
) -> None:
    """As a sweep's variant without a plan: named with its reasons, the rest compared (exit 0)."""
    broken = _without_a_grade(demo_dir, tmp_path / "no-a")
    out = tmp_path / "cmp"

    result = _run(solved.out, broken, solved_tight.out, "--out", out)

    assert result.exit_code == EXIT_OK, result.output
    said = result.output.replace("\n", " ")
    assert f"Left out: {broken}: the hard rules cannot all hold" in said
    assert f"{broken}: 11 premium customers need an available manager of grade A" in said
    compared = pd.read_csv(out / "compare.csv")
    assert [c for c in compared.columns if c not in ("kpi", "meaning")] == ["demo", "demo-tight"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [entry["why"] for entry in manifest["left_out"]] == [
        f"{broken}: the hard rules cannot all hold, so it has no plan to compare"
    ]
    left_out = pd.read_csv(out / "left_out.csv")
    assert set(left_out["exit_code"]) == {EXIT_INFEASIBLE} and len(left_out) == 2
    assert left_out["reason"].str.contains("11 premium customers need").any()
    sheet = pd.read_excel(out / "compare.xlsx", sheet_name="Left out")
    assert sheet["reason"].tolist() == left_out["reason"].tolist()


def test_a_scenario_whose_solve_finds_no_plan_is_left_out_after_the_others_are_solved(
    demo_dir: Path, solved: Solved, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plans solved before it are kept and compared, not thrown away with it."""
    from portfolio_opt.pipeline import EXIT_NO_PLAN
    from portfolio_opt.report import compare as compare_module

    solving = compare_module.solve_run

    def slow_for_one(scenario, label, out, solver=None):  # type: ignore[no-untyped-def]
        if label == "slow":
            raise compare_module.CompareError("slow: no plan to compare", EXIT_NO_PLAN, ["slow"])
        return solving(scenario, label, out, solver)

    monkeypatch.setattr(compare_module, "solve_run", slow_for_one)
    slow = shutil.copytree(demo_dir, tmp_path / "slow")
    out = tmp_path / "cmp"

    result = _run(demo_dir, slow, solved.out, "--out", out, "--time-limit", "1", "--workers", "1")

    assert result.exit_code == EXIT_OK, result.output
    assert "Left out: slow: no plan to compare" in result.output
    assert (out / "runs" / "demo" / "assignment.csv").is_file()
    assert not (out / "runs" / "slow").exists()


def test_a_scenario_left_without_a_plan_beside_one_plan_is_its_failure(
    demo_dir: Path, solved: Solved, tmp_path: Path
) -> None:
    """One plan is nothing to compare: the other's reasons, with its exit code."""
    broken = _without_a_grade(demo_dir, tmp_path / "no-a")
    result = _run(solved.out, broken, "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_INFEASIBLE, result.output
    assert "no-a: the hard rules cannot all hold" in result.output
    assert not (tmp_path / "cmp").exists()


def test_one_plan_is_a_usage_error(solved: Solved) -> None:
    assert _run(solved.out).exit_code == EXIT_USAGE


def test_a_missing_folder_is_bad_input(solved: Solved, tmp_path: Path) -> None:
    result = _run(solved.out, tmp_path / "nowhere", "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "does not exist" in result.output
    assert not (tmp_path / "cmp").exists()


def test_a_broken_scenario_is_bad_input(demo_dir: Path, solved: Solved, tmp_path: Path) -> None:
    broken = shutil.copytree(demo_dir, tmp_path / "broken")
    toml = broken / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("tolerance = 2", "tolerance = -1"))
    result = _run(solved.out, broken, "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "tolerance" in result.output


def test_every_bad_input_is_reported_before_any_scenario_is_solved(
    demo_dir: Path, tmp_path: Path
) -> None:
    broken = shutil.copytree(demo_dir, tmp_path / "broken")
    toml = broken / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("tolerance = 2", "tolerance = -1"))
    result = _run(demo_dir, broken, tmp_path / "nowhere", "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "tolerance" in result.output and "does not exist" in result.output
    assert "Solving" not in result.output  # demo_dir was not solved first, for nothing
    assert not (tmp_path / "cmp").exists()


def test_each_bad_scenarios_problems_name_its_folder(demo_dir: Path, tmp_path: Path) -> None:
    """Both have a customers.csv: each line says whose it is."""
    for name, bad in (("north", "abc"), ("south", "xyz")):
        folder = shutil.copytree(demo_dir, tmp_path / name)
        customers = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False)
        customers.loc[1, "interest_income"] = bad
        customers.to_csv(folder / "customers.csv", index=False)
    result = _run(tmp_path / "north", tmp_path / "south", "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_BAD_INPUT
    for name, bad in (("north", "abc"), ("south", "xyz")):
        where = (tmp_path / name / "customers.csv").as_posix()
        assert f"{where}, row 3, column interest_income: '{bad}'" in result.output


def test_a_copy_of_a_solves_plan_in_its_folder_is_that_solve(
    solved: Solved, tmp_path: Path
) -> None:
    """Not "edited": the file is the plan the solve wrote, re-saved with other line ends."""
    out = shutil.copytree(solved.out, tmp_path / "run")
    text = (out / "assignment.csv").read_text(encoding="utf-8")
    (out / "as saved.csv").write_text(text, encoding="utf-8", newline="\r\n")
    result = _run(out, out / "as saved.csv", "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_OK, result.output
    table = _kpi_table(tmp_path / "cmp")
    assert table.loc["status", "as saved"] == table.loc["status", "run"] != "edited"
    assert "edited: a plan changed since its solve" in table.loc["status", "meaning"]


def test_a_folder_of_other_files_is_refused(solved: Solved, solved_tight: Solved, tmp_path: Path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    result = _run(solved.out, solved_tight.out, "--out", mine)
    assert result.exit_code == EXIT_USAGE
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize(
    ("kpi", "value", "shown"),
    [
        ("gap", 0.5303, "53.0%"),
        ("moves.value", 11365489.4, "11,365,489"),
        ("balance.target_gini", 0.034906, "0.0349"),
        ("span.ideal", 10.0, "10"),
        ("status", "feasible", "feasible"),
        ("affinity.cost", None, "-"),
    ],
)
def test_format_value(kpi: str, value: object, shown: str) -> None:
    assert format_value(kpi, value) == shown


def test_a_plan_re_saved_with_semicolons_is_read(
    solved: Solved, solved_tight: Solved, tmp_path: Path
) -> None:
    resaved = tmp_path / "resaved"
    shutil.copytree(solved_tight.out, resaved)
    plan = resaved / "assignment.csv"
    text = plan.read_text(encoding="utf-8").replace(",", ";")
    plan.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # as Excel saves it in Europe
    result = _run(solved.out, resaved, "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_OK, result.output


def test_a_plan_without_its_columns_is_bad_input(solved: Solved, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(solved.out, broken)
    (broken / "assignment.csv").write_text("id|who\nC1|M1\n", encoding="utf-8")
    result = _run(solved.out, broken, "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "no column customer_id, manager_id" in result.output


@pytest.mark.parametrize(("thousands", "decimal", "separator"), [(",", ".", ","), (".", ",", ";")])
def test_money_re_saved_with_a_spreadsheets_number_format_is_read(
    solved: Solved, tmp_path: Path, thousands: str, decimal: str, separator: str
) -> None:
    resaved = tmp_path / "resaved"
    shutil.copytree(solved.out, resaved)
    table = pd.read_csv(resaved / "portfolios.csv", dtype={"manager_id": str})
    text = table.astype(object).map(
        lambda v: (
            f"{v:,.2f}".replace(",", "_").replace(".", decimal).replace("_", thousands)
            if isinstance(v, float)
            else v
        )
    )
    text.to_csv(resaved / "portfolios.csv", index=False, sep=separator)
    result = _run(solved.out, resaved, "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_OK, result.output
    compared = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert len(compared)


def _edited(solved: Solved, tmp_path: Path, name: str, edit) -> Path:
    """A copy of the solve output with ``name`` rewritten by ``edit`` (text -> text)."""
    copy = tmp_path / "edited"
    shutil.copytree(solved.out, copy)
    path = copy / name
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return copy


def test_text_where_a_number_is_needed_is_named_by_row_and_column(
    solved: Solved, tmp_path: Path
) -> None:
    def eleven(text: str) -> str:
        lines = text.splitlines()
        header = lines[0].split(",")
        cells = lines[2].split(",")
        cells[header.index("n_customers")] = "eleven"
        return "\n".join([*lines[:2], ",".join(cells), *lines[3:]]) + "\n"

    edited = _edited(solved, tmp_path, "portfolios.csv", eleven)
    result = _run(solved.out, edited, "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "portfolios.csv, column n_customers: not a number in row 3 ('eleven')" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "cmp").exists()


@pytest.mark.parametrize(
    ("name", "edit", "said"),
    [
        ("kpis.json", lambda text: f"[{text}]", "kpis.json: not a JSON object"),
        ("manifest.json", lambda text: "[]", "manifest.json: not a JSON object"),
        (
            "kpis.json",
            lambda text: text.replace('"span": {', '"span": "n/a", "x": {'),
            "kpis.json: span = 'n/a' is not an object",
        ),
        (
            "kpis.json",
            lambda text: text.replace('"n_customers": 60', '"n_customers": "sixty"'),
            "kpis.json: n_customers = 'sixty' is not a whole number",
        ),
    ],
)
def test_kpis_or_manifest_an_edit_broke_are_bad_input(
    solved: Solved, tmp_path: Path, name: str, edit, said: str
) -> None:
    result = _run(solved.out, _edited(solved, tmp_path, name, edit), "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert said in result.output and "Traceback" not in result.output


def test_accounting_formats_of_a_re_saved_payout_are_read(solved: Solved, tmp_path: Path) -> None:
    """¥1,234.50, (1,234.50) for a negative, and the dash Excel shows for a zero."""
    table = pd.read_csv(solved.out / "payout.csv", dtype=str, keep_default_na=False)
    pay = table["performance_pay"].astype(float)
    table["performance_pay"] = [
        "-" if v == 0 else f"¥{v:,.2f}" if i % 2 else f"({-v:,.2f})" if v < 0 else f"{v:,.2f}"
        for i, v in enumerate(pay)
    ]
    table.loc[0, "performance_pay"] = "-"
    edited = _edited(solved, tmp_path, "payout.csv", lambda _: table.to_csv(index=False))
    result = _run(solved.out, edited, "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_OK, result.output


def _moved_one(plan: pd.DataFrame) -> pd.DataFrame:
    """The plan with its first customer given to another manager of the plan."""
    edited = plan.copy()
    other = next(m for m in edited["manager_id"] if m != edited.loc[0, "manager_id"])
    edited.loc[0, "manager_id"] = other
    return edited


def _copy_with_plan(
    solved: Solved,
    folder: Path,
    plan_name: str,
    edit: Callable[[pd.DataFrame], pd.DataFrame] = _moved_one,
) -> Path:
    """A copy of the solve's folder with ``plan_name`` holding its plan, edited (one move)."""
    shutil.copytree(solved.out, folder)
    plan = pd.read_csv(folder / "assignment.csv", dtype=str, keep_default_na=False)
    edit(plan).to_csv(folder / plan_name, index=False)
    return folder / plan_name


def _kpi_table(out: Path) -> pd.DataFrame:
    """compare.csv as text, one row per KPI."""
    return pd.read_csv(out / "compare.csv", dtype=str, keep_default_na=False).set_index("kpi")


def test_an_output_folder_whose_plan_was_edited_shows_the_edited_plan(
    solved: Solved, tmp_path: Path
) -> None:
    """Its kpis.json is the solve's: compare computes the edited plan's KPIs and pay again."""
    edited = tmp_path / "edited"
    _copy_with_plan(solved, edited, "assignment.csv")
    out = tmp_path / "cmp"

    result = _run(solved.out, edited, "--out", out)

    assert result.exit_code == EXIT_OK, result.output
    assert "edited: assignment.csv was changed after the solve" in result.output
    table = _kpi_table(out)
    assert table.loc["status", "edited"] == "edited"
    assert int(table.loc["moves.count", "edited"]) != int(table.loc["moves.count", "demo"]) or (
        table.loc["balance.target_cv", "edited"] != table.loc["balance.target_cv", "demo"]
    )
    assert "1 customer(s) change manager from demo to edited" in result.output


def _edit_workbook_plan(folder: Path, customer: str, manager: str, title: str = "") -> None:
    """Give ``customer`` to ``manager`` in the Assignment sheet of the folder's report.xlsx,
    as a planner does in Excel (and rename the sheet to ``title``, if given)."""
    import openpyxl

    book = openpyxl.load_workbook(folder / "report.xlsx")
    sheet = book["Assignment"]
    header = [cell.value for cell in sheet[1]]
    column = header.index("manager_id") + 1
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, header.index("customer_id") + 1).value == customer:
            sheet.cell(row, column).value = manager
    if title:
        sheet.title = title
    book.save(folder / "report.xlsx")


def _with_one_workbook_move(solved: Solved, folder: Path, title: str = "") -> Path:
    """A copy of the solve's output folder with one customer moved in its report.xlsx."""
    shutil.copytree(solved.out, folder)
    plan = pd.read_csv(folder / "assignment.csv", dtype=str, keep_default_na=False)
    moved = _moved_one(plan)
    _edit_workbook_plan(folder, moved.loc[0, "customer_id"], moved.loc[0, "manager_id"], title)
    return folder


def test_an_edit_in_a_renamed_plan_sheet_is_not_compared_silently(
    solved: Solved, tmp_path: Path
) -> None:
    edited = _with_one_workbook_move(solved, tmp_path / "edited", title="Assignment v2")

    result = _run(solved.out, edited, "--out", tmp_path / "cmp")

    assert result.exit_code == EXIT_OK, result.output
    assert "has no Assignment sheet with a plan (renamed?)" in result.output


def test_an_output_folder_whose_workbook_plan_was_edited_shows_the_edited_plan(
    solved: Solved, tmp_path: Path
) -> None:
    """The planner edits report.xlsx, not assignment.csv: compare reads the edited sheet."""
    edited = _with_one_workbook_move(solved, tmp_path / "edited")
    out = tmp_path / "cmp"

    result = _run(solved.out, edited, "--out", out)

    assert result.exit_code == EXIT_OK, result.output
    assert "the Assignment sheet of report.xlsx was changed after the solve" in result.output
    assert "1 customer(s) change manager from demo to edited" in result.output
    assert _kpi_table(out).loc["status", "edited"] == "edited"


def test_a_workbook_resaved_without_a_change_of_plan_is_not_an_edit(
    solved: Solved, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(solved.out, copy)
    first = pd.read_csv(copy / "assignment.csv", dtype=str, keep_default_na=False).iloc[0]
    _edit_workbook_plan(copy, first["customer_id"], first["manager_id"])  # re-saved as it was

    result = _run(solved.out, copy, "--out", tmp_path / "cmp")

    assert result.exit_code == EXIT_OK, result.output
    assert "changed after the solve" not in result.output


def test_an_unchanged_copy_of_an_output_folder_keeps_the_solves_figures(
    solved: Solved, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(solved.out, copy)
    result = _run(solved.out, copy, "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_OK, result.output
    assert "changed after the solve" not in result.output
    assert (_kpi_table(tmp_path / "cmp").loc["status"] != "edited").all()


def test_a_plan_file_is_compared_against_the_scenario_given(solved: Solved, tmp_path: Path) -> None:
    plan = _moved_one(pd.read_csv(solved.out / "assignment.csv", dtype=str, keep_default_na=False))
    path = tmp_path / "my_plan.xlsx"
    plan.to_excel(path, index=False)
    broken = len(check_plan(solved.scenario, plan))
    out = tmp_path / "cmp"

    result = _run(solved.out, path, "--scenario", solved.scenario.root, "--out", out)

    assert result.exit_code == EXIT_OK, result.output
    assert "my_plan" in result.output
    assert "1 customer(s) change manager from demo to my_plan" in result.output
    table = _kpi_table(out)
    assert int(table.loc["hard_rule_violations", "my_plan"]) == broken
    assert ("the plan breaks" in result.output) == (broken > 0)
    assert (
        table.loc["pay.total_base_salary", "my_plan"] == table.loc["pay.total_base_salary", "demo"]
    )


def test_a_plan_file_in_an_output_folder_takes_that_solves_scenario(
    solved: Solved, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    edited = _copy_with_plan(solved, folder, "assignment_edited.csv")

    result = _run(folder, edited, "--out", tmp_path / "cmp")

    assert result.exit_code == EXIT_OK, result.output
    assert "change manager from run to assignment_edited" in result.output


def test_a_plan_file_without_its_scenario_is_a_usage_error(solved: Solved, tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    shutil.copy(solved.out / "assignment.csv", path)
    result = _run(solved.out, path, "--out", tmp_path / "cmp")
    assert result.exit_code == EXIT_USAGE, result.output
    assert "which scenario is this plan of?" in result.output
    assert "give --scenario FOLDER" in result.output
    assert not (tmp_path / "cmp").exists()


def test_a_plan_file_with_unknown_ids_is_bad_input(solved: Solved, tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("customer_id,manager_id\nNOBODY,M1\n", encoding="utf-8")
    result = _run(solved.out, path, "--scenario", solved.scenario.root, "--out", tmp_path / "c")
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "unknown customer 'NOBODY'" in result.output


def test_a_plan_with_a_blank_manager_is_shown_with_its_broken_rules(
    solved: Solved, tmp_path: Path
) -> None:
    plan = pd.read_csv(solved.out / "assignment.csv", dtype=str, keep_default_na=False)
    plan.loc[plan["customer_id"] == plan["customer_id"].iloc[0], "manager_id"] = ""
    path = tmp_path / "blank.csv"
    plan.to_csv(path, index=False)

    result = _run(solved.out, path, "--scenario", solved.scenario.root, "--out", tmp_path / "c")

    assert result.exit_code == EXIT_OK, result.output
    assert "blank: the plan breaks" in result.output
    assert int(_kpi_table(tmp_path / "c").loc["hard_rule_violations", "blank"]) >= 1


def test_last_years_plan_with_customers_who_left_is_compared_without_them(
    solved: Solved, tmp_path: Path
) -> None:
    plan = pd.read_csv(solved.out / "assignment.csv", dtype=str, keep_default_na=False)
    plan = plan[["customer_id", "manager_id"]]
    gone = pd.DataFrame({"customer_id": ["C8001", "C8002"], "manager_id": ["M001", "M002"]})
    path = tmp_path / "last_year.csv"
    pd.concat([plan, gone]).to_csv(path, index=False)

    result = _run(path, solved.out, "--scenario", solved.scenario.root, "--out", tmp_path / "c")

    assert result.exit_code == EXIT_OK, result.output
    assert "2 customer(s) of the plan are not in the scenario (C8001, C8002)" in result.output
    assert "no customer changes manager" in result.output or "0 customer(s)" in result.output


def test_last_years_plan_with_a_manager_deleted_since_is_compared(
    solved: Solved, tmp_path: Path
) -> None:
    """A manager who left and was deleted from managers.csv: last year's plan shows the
    customers it held moving away (a broken rule in that plan, unpaid), not exit 1."""
    plan = pd.read_csv(solved.out / "assignment.csv", dtype=str, keep_default_na=False)
    plan = plan[["customer_id", "manager_id"]]
    plan.loc[plan.index[:3], "manager_id"] = "MX"
    path = tmp_path / "last_year.csv"
    plan.to_csv(path, index=False)
    out = tmp_path / "c"

    result = _run(path, solved.out, "--scenario", solved.scenario.root, "--out", out)

    assert result.exit_code == EXIT_OK, result.output
    assert "held by managers the scenario does not have (MX)" in result.output
    assert int(_kpi_table(out).loc["hard_rule_violations", "last_year"]) >= 1
    # verify refuses a plan naming a manager the scenario lacks: the note says so first
    assert "once the rows of MX (not in the scenario) name one who is, `portfolio-opt verify" in (
        result.output
    )
    by_manager = pd.read_csv(out / "moves_by_manager.csv", dtype={"manager_id": str})
    assert by_manager.set_index("manager_id").loc["MX", "lost"] == 3


def test_a_plan_mostly_of_unknown_customers_and_managers_is_still_bad_input(
    solved: Solved, tmp_path: Path
) -> None:
    """Unknown customers on some rows and unknown managers on others, most rows in all: a plan
    of another branch, not a year of leavers."""
    plan = pd.read_csv(solved.out / "assignment.csv", dtype=str, keep_default_na=False)
    plan = plan[["customer_id", "manager_id"]].copy()
    half = len(plan) // 2
    plan.loc[plan.index[:half], "customer_id"] = [f"X{i}" for i in range(half)]
    plan.loc[plan.index[half:-5], "manager_id"] = "E01"
    path = tmp_path / "other.csv"
    plan.to_csv(path, index=False)
    result = _run(path, solved.out, "--scenario", solved.scenario.root, "--out", tmp_path / "c")
    assert result.exit_code == EXIT_BAD_INPUT, result.output


def test_a_plan_re_saved_unchanged_is_not_taken_as_edited(solved: Solved, tmp_path: Path) -> None:
    """Excel's line ends and a column moved: the same plan, so the solve's figures stand."""
    copy = tmp_path / "resaved"
    shutil.copytree(solved.out, copy)
    plan = pd.read_csv(copy / "assignment.csv", dtype=str, keep_default_na=False)
    plan[list(reversed(plan.columns))].to_csv(
        copy / "assignment.csv", index=False, lineterminator="\r\n"
    )

    result = _run(solved.out, copy, "--out", tmp_path / "cmp")

    assert result.exit_code == EXIT_OK, result.output
    assert "changed after the solve" not in result.output


def test_an_edited_plan_missing_rows_counts_the_customers_it_assigns(
    solved: Solved, tmp_path: Path
) -> None:
    edited = tmp_path / "edited"
    _copy_with_plan(solved, edited, "assignment.csv", edit=lambda plan: plan.iloc[2:])
    out = tmp_path / "cmp"

    result = _run(solved.out, edited, "--out", out)

    assert result.exit_code == EXIT_OK, result.output
    table = _kpi_table(out)
    assert int(table.loc["n_customers", "edited"]) == int(table.loc["n_customers", "demo"]) - 2
    assert int(table.loc["hard_rule_violations", "edited"]) >= 1


def test_a_plan_file_in_a_folder_whose_plan_was_removed_takes_its_solves_scenario(
    solved: Solved, tmp_path: Path
) -> None:
    """The planner saved the plan as a workbook there and deleted assignment.csv."""
    folder = tmp_path / "run"
    shutil.copytree(solved.out, folder)
    plan = pd.read_csv(folder / "assignment.csv", dtype=str, keep_default_na=False)
    plan.to_excel(folder / "assignment.xlsx", index=False)
    (folder / "assignment.csv").unlink()

    result = _run(solved.out, folder / "assignment.xlsx", "--out", tmp_path / "cmp")

    assert result.exit_code == EXIT_OK, result.output
    assert "0 customer(s) change manager" in result.output


def test_an_edited_variant_plan_suggests_verify_with_the_variants_values(
    solved_tight: Solved, tmp_path: Path
) -> None:
    """A run solved with span.tolerance 1 over a file saying 2 (as a sweep's variant): the
    suggested verify checks the edited plan as the variant ran, and finds what compare found."""
    from portfolio_opt.cli import main

    folder = shutil.copytree(solved_tight.out, tmp_path / "my variant")  # a space: quoted
    plan = pd.read_csv(folder / "assignment.csv", dtype=str, keep_default_na=False)
    standard = plan[plan["portfolio_type"] == "standard"]
    fullest = standard["manager_id"].value_counts().index[0]
    other = standard.loc[standard["manager_id"] != fullest, "manager_id"].iloc[0]
    plan.loc[plan["manager_id"] == other, "manager_id"] = fullest  # a portfolio far too large
    plan.to_csv(folder / "assignment.csv", index=False)

    result = _run(folder, solved_tight.out, "--out", tmp_path / "c")

    assert result.exit_code == EXIT_OK, result.output
    said = result.output.replace("\n", " ")
    assert "--set span.tolerance=1`" in said
    command = shlex.split(said.split("`portfolio-opt ")[1].split("`")[0])
    checked = CliRunner().invoke(main, command)
    assert checked.exit_code == EXIT_INFEASIBLE, checked.output
    broken = said.split("the plan breaks ")[1].split(" hard rule")[0]
    assert f"{broken} hard-rule violation(s)" in checked.output
