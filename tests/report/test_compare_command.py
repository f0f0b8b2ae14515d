"""``portfolio-opt compare`` on the command line: output, files and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from portfolio_opt.pipeline import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE
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
