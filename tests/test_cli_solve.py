"""``portfolio-opt solve`` and ``portfolio-opt verify`` as a planner runs them.

The branch is ``tests/model/data/small_branch`` (16 customers, 4 available managers, every hard
rule in play), copied to a temporary folder for each test so the repository is never written.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from model.helpers import write_scenario_folder
from portfolio_opt.cli import _many_moves_note, main
from portfolio_opt.generate import generate_scenario, write_scenario
from portfolio_opt.scenario.policy import Policy

SMALL_BRANCH = Path(__file__).parent / "model" / "data" / "small_branch"
FAST = ["--time-limit", "2", "--workers", "1"]

KPI_KEYS = {
    "status",
    "objective",
    "best_bound",
    "gap",
    "solve_seconds",
    "n_customers",
    "n_managers",
    "span",
    "balance",
    "chain",
    "industries_per_portfolio",
    "moves",
    "hard_rule_violations",
}
KPI_PARTS = {
    "span": {"ideal", "min", "max", "max_abs_dev"},
    "balance": {"target_gini", "target_cv", "max_over_min", "max_deviation"},
    "chain": {"links", "cut"},
    "moves": {"count", "value", "lower_bound"},
}
COLUMNS = {
    "assignment": ["customer_id", "manager_id", "portfolio_type", "prior_manager_id", "moved"],
    "portfolios": [
        "manager_id",
        "grade",
        "portfolio_type",
        "n_customers",
        "interest_base",
        "deposit_base",
        "fee_base",
        "stock_target",
        "increment_target",
        "target",
        "n_industries",
        "chain_links_cut",
    ],
    "payout": [
        "manager_id",
        "period",
        "base_salary",
        "target_income",
        "increment_income",
        "excess_income",
        "adjustments",
        "performance_pay",
        "management_score",
        "actual_income",
    ],
}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def solve(scenario: Path, out: Path, *extra: str) -> Result:
    return run("solve", str(scenario), "--out", str(out), *FAST, *extra)


def digests(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def branch(tmp_path: Path) -> Path:
    """A fresh copy of the small branch."""
    return shutil.copytree(SMALL_BRANCH, tmp_path / "small_branch")


@dataclass(frozen=True)
class Solved:
    """A copy of the small branch, its input files' digests before solving, the output folder
    and what the command printed."""

    scenario: Path
    inputs_before: dict[str, str]
    out: Path
    printed: str


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Solved:
    """One deterministic solve (seed 0) of the small branch; tests only read it."""
    root = tmp_path_factory.mktemp("solved")
    scenario = shutil.copytree(SMALL_BRANCH, root / "small_branch")
    before = digests(scenario)
    result = solve(scenario, root / "run", "--deterministic", "--seed", "0")
    assert result.exit_code == 0, result.output
    return Solved(scenario, before, root / "run", result.output)


# ------------------------------------------------------------------ solve


def test_solve_writes_every_output_file(solved: Solved) -> None:
    out = solved.out
    names = {p.name for p in out.iterdir()}

    assert names >= {"assignment.csv", "portfolios.csv", "payout.csv", "kpis.json", "manifest.json"}
    for table, columns in COLUMNS.items():
        frame = pd.read_csv(out / f"{table}.csv", dtype=str)
        assert list(frame.columns[: len(columns)]) == columns, table


def test_the_manifest_times_each_step_from_model_to_writing(solved: Solved) -> None:
    manifest = json.loads((solved.out / "manifest.json").read_text(encoding="utf-8"))
    timings = manifest["timings_s"]
    assert {"search", "check_and_pay", "write"} <= set(timings)
    assert all(isinstance(v, float | int) and v >= 0 for v in timings.values())


def test_kpis_have_the_documented_keys_and_no_violation(solved: Solved) -> None:
    out = solved.out
    kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assignment = pd.read_csv(out / "assignment.csv", dtype=str)

    assert set(kpis) >= KPI_KEYS
    for key, parts in KPI_PARTS.items():
        assert set(kpis[key]) >= parts, key
    assert kpis["hard_rule_violations"] == 0
    assert kpis["status"] in ("optimal", "feasible")
    assert (kpis["n_customers"], kpis["n_managers"]) == (16, 4)
    assert kpis["moves"]["count"] == int((assignment["moved"] == "True").sum())
    assert kpis["moves"]["lower_bound"] <= kpis["moves"]["count"]
    counts = assignment["manager_id"].value_counts()
    assert (kpis["span"]["min"], kpis["span"]["max"]) == (counts.min(), counts.max())


def test_portfolios_add_up_to_the_assignment(solved: Solved) -> None:
    out = solved.out
    assignment = pd.read_csv(out / "assignment.csv", dtype=str)
    portfolios = pd.read_csv(out / "portfolios.csv", dtype={"manager_id": str})

    held = portfolios.set_index("manager_id")["n_customers"]
    assert held[held > 0].to_dict() == assignment["manager_id"].value_counts().to_dict()
    types = assignment.groupby("manager_id")["portfolio_type"].unique()
    assert all(len(t) == 1 for t in types)
    assert types["A1"][0] == "premium" and types["L1"][0] == "separate_ledger"


def _summary_line(output: str, start: str) -> str:
    """The one line of the solve summary that begins with ``start``."""
    [line] = [x for x in output.splitlines() if x.startswith(start)]
    return line


def _kpis(run: Path) -> dict[str, Any]:
    return json.loads((run / "kpis.json").read_text(encoding="utf-8"))


def test_solve_says_in_which_order_it_solved_the_goals(branch: Path, tmp_path: Path) -> None:
    """A hard balance bound moves the goal balance to the end; the summary says so."""
    toml = branch / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[balance]\nmax_deviation = 0.5\n")

    result = solve(branch, tmp_path / "run")

    assert result.exit_code == 0, result.output
    line = _summary_line(result.output, "goals, most important")
    names = [note.split(" (")[0] for note in line.split(": ", 1)[1].split(", ")]
    assert names == ["span", "chain", "industry", "continuity", "balance"]
    # the manifest records the order pursued, the policy the order as written
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["solver"]["goal_order"] == names
    assert manifest["policy"]["objective"]["order"][1] == "balance"
    # and why, with the way to rank balance where the order puts it
    note = _summary_line(result.output, "balance is held within 50.00%")
    assert "refined last" in note and "remove the bound" in note


def test_solve_without_a_balance_bound_has_no_note_on_the_order(solved: Solved) -> None:
    assert "refined last" not in solved.printed


def test_solve_says_which_goals_are_proven_best_and_the_gap_of_the_others(solved: Solved) -> None:
    kpis = _kpis(solved.out)
    line = _summary_line(solved.printed, "goals, most important")
    fewest = kpis["moves"]["count"] == kpis["moves"]["lower_bound"]
    for name, goal in kpis["goals"].items():
        if goal["value"] <= goal["bound"]:
            assert f"{name} (proven best)" in line
        elif name == "continuity" and fewest:
            assert f"{name} (fewest moves possible)" in line
        else:
            gap = (goal["value"] - goal["bound"]) / goal["value"]
            shown = f"{gap:.1%}" if gap < 0.01 else f"{gap:.0%}"
            assert f"{name} (gap {shown})" in line


def test_continuity_at_the_moves_lower_bound_is_called_fewest_moves_not_a_gap() -> None:
    """The continuity goal's own bound is per group and weaker than moves.lower_bound, which
    also counts the bands: where the moves reach that bound, no gap is shown."""
    from portfolio_opt.cli import _goal_note

    goal = {"value": 85_104, "bound": 83_002.0}
    assert _goal_note("continuity", goal, {"count": 77, "lower_bound": 77}) == (
        "continuity (fewest moves possible)"
    )
    assert _goal_note("continuity", goal, {"count": 80, "lower_bound": 77}) == (
        "continuity (gap 2%)"
    )


def test_a_goal_gap_under_one_percent_keeps_a_decimal() -> None:
    from portfolio_opt.cli import _goal_note

    goal = {"value": 6190, "bound": 6177.0}  # 0.21%: "0%" would read as proven
    assert _goal_note("affinity", goal, {}) == "affinity (gap 0.2%)"


def test_solve_gives_the_share_of_chain_links_cut_and_the_unavoidable_part(
    solved: Solved,
) -> None:
    chain = _kpis(solved.out)["chain"]
    line = _summary_line(solved.printed, "chain link weight cut")
    assert line.startswith(
        f"chain link weight cut {chain['cut']:,.0f} of {chain['links']:,.0f} "
        f"({chain['cut_share']:.1%}; {chain['unavoidable']:,.0f} unavoidable)"
    )


def test_the_planners_own_columns_are_carried_to_the_outputs(branch: Path, tmp_path: Path) -> None:
    for table, column in (("customers", "備註"), ("managers", "team")):
        frame = pd.read_csv(branch / f"{table}.csv", dtype=str, keep_default_na=False)
        frame[column] = [f"{column}-{i}" for i in range(len(frame))]
        frame.to_csv(branch / f"{table}.csv", index=False)
    customers = pd.read_csv(branch / "customers.csv", dtype=str)
    managers = pd.read_csv(branch / "managers.csv", dtype=str)

    result = solve(branch, tmp_path / "run")

    assert result.exit_code == 0, result.output
    assignment = pd.read_csv(tmp_path / "run" / "assignment.csv", dtype=str)
    portfolios = pd.read_csv(tmp_path / "run" / "portfolios.csv", dtype=str)
    assert list(assignment.columns[: len(COLUMNS["assignment"])]) == COLUMNS["assignment"]
    assert dict(zip(assignment["customer_id"], assignment["備註"], strict=True)) == dict(
        zip(customers["customer_id"], customers["備註"], strict=True)
    )
    expected = dict(zip(managers["manager_id"], managers["team"], strict=True))
    held = zip(portfolios["manager_id"], portfolios["team"], strict=True)
    assert all(expected[m] == team for m, team in held)


def test_an_own_column_spelled_like_an_output_one_is_left_out_and_verify_reads_the_plan(
    branch: Path, tmp_path: Path
) -> None:
    customers = pd.read_csv(branch / "customers.csv", dtype=str, keep_default_na=False)
    customers["Manager_ID"] = "last year's"
    customers.to_csv(branch / "customers.csv", index=False)

    assert solve(branch, tmp_path / "run").exit_code == 0
    header = (tmp_path / "run" / "assignment.csv").read_text(encoding="utf-8").splitlines()[0]
    assert [c for c in header.split(",") if c.lower() == "manager_id"] == ["manager_id"]
    checked = run("verify", str(branch), str(tmp_path / "run" / "assignment.csv"))
    assert checked.exit_code == 0, checked.output


def test_report_xlsx_keeps_its_own_names_and_targets_and_own_numbers_are_numbers(
    branch: Path, tmp_path: Path
) -> None:
    """A customer list started from last year's report carries manager_name and target: they
    are last year's, so the report shows the tool's, and last year's target apart (a plan read
    back checks its manager_name, so that one is left out); an own column of plain numbers is
    stored as numbers (Excel sums it), one with leading zeros or more digits than Excel keeps
    stays text."""
    from openpyxl import load_workbook

    customers = pd.read_csv(branch / "customers.csv", dtype=str, keep_default_na=False)
    customers["manager_name"] = "去年經理"
    customers["target"] = "111"
    customers["credit_limit"] = [str(1000 * i) for i in range(len(customers))]
    customers["branch_code"] = "0042"
    customers["account_no"] = [str(6222021234567890123 + i) for i in range(len(customers))]
    customers.to_csv(branch / "customers.csv", index=False)

    result = solve(branch, tmp_path / "run")

    assert result.exit_code == 0, result.output
    assert "'manager_name' is not carried to assignment.csv and report.xlsx" in result.output
    assert "'target' is not carried" not in result.output
    written = pd.read_csv(tmp_path / "run" / "assignment.csv", dtype=str)
    assert set(written["target"]) == {"111"} and "manager_name" not in written.columns
    sheet = load_workbook(tmp_path / "run" / "report.xlsx", read_only=True)["Assignment"]
    rows = list(sheet.values)
    table = pd.DataFrame(rows[1:], columns=rows[0])
    assert "去年經理" not in set(table["manager_name"])
    assert not (table["target"] == 111).any() and table["target"].map(type).eq(float).all()
    assert set(table["target (customers.csv)"]) == {111}
    assert table["credit_limit"].map(type).eq(int).all()
    assert set(table["branch_code"]) == {"0042"}
    assert table["account_no"].tolist() == customers["account_no"].tolist()


def test_deterministic_solves_write_the_same_plan_byte_for_byte(
    solved: Solved, tmp_path: Path
) -> None:
    again = solve(solved.scenario, tmp_path / "again", "--deterministic", "--seed", "0")

    assert again.exit_code == 0, again.output
    for name in ("assignment.csv", "portfolios.csv", "payout.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (solved.out / name).read_bytes()


def test_no_deterministic_overrides_the_policys_deterministic(branch: Path, tmp_path: Path) -> None:
    toml = branch / "scenario.toml"
    text = toml.read_text(encoding="utf-8").replace("deterministic = false", "")
    toml.write_text(text.replace("[solver]\n", "[solver]\ndeterministic = true\n"))
    runs = {flag: tmp_path / flag.strip("-") for flag in ("--no-deterministic", "--seed")}

    for flag, out in runs.items():
        result = solve(branch, out, *([flag] if flag != "--seed" else ["--seed", "0"]))
        assert result.exit_code == 0, result.output

    said = {
        flag: json.loads((out / "manifest.json").read_text(encoding="utf-8"))["solver"]
        for flag, out in runs.items()
    }
    assert said["--no-deterministic"]["deterministic"] is False
    assert said["--seed"]["deterministic"] is True  # the policy's, where no flag says


def test_solve_never_modifies_the_inputs(solved: Solved) -> None:
    assert digests(solved.scenario) == solved.inputs_before


def test_a_second_solve_replaces_the_output_folder(solved: Solved, tmp_path: Path) -> None:
    out = shutil.copytree(solved.out, tmp_path / "run")  # an earlier run's folder

    result = solve(solved.scenario, out, "--seed", "7")

    assert result.exit_code == 0, result.output
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["solver"]["seed"] == 7
    assert len(pd.read_csv(out / "assignment.csv", dtype=str)) == 16
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no staging or old folder left


def test_a_plan_edited_in_the_output_folder_is_not_overwritten(
    solved: Solved, tmp_path: Path
) -> None:
    out = shutil.copytree(solved.out, tmp_path / "run")
    (out / "assignment.csv").write_text("customer_id,manager_id\nS01,MX\n", encoding="utf-8")
    before = digests(out)

    result = solve(solved.scenario, out)

    assert result.exit_code == 2, result.output
    assert "assignment.csv" in result.output and "changed after solve wrote it" in result.output
    assert digests(out) == before


def test_a_plan_re_saved_by_a_spreadsheet_unchanged_may_be_replaced(
    solved: Solved, tmp_path: Path
) -> None:
    """Excel's save (BOM, semicolons, CRLF, columns moved) changes the bytes, not the plan."""
    out = shutil.copytree(solved.out, tmp_path / "run")
    plan = pd.read_csv(out / "assignment.csv", dtype=str, keep_default_na=False)
    plan = plan[list(reversed(plan.columns))]
    plan.to_csv(
        out / "assignment.csv", index=False, sep=";", lineterminator="\r\n", encoding="utf-8-sig"
    )

    result = solve(solved.scenario, out)

    assert result.exit_code == 0, result.output


def test_other_tables_re_saved_with_every_cell_as_it_was_may_be_replaced(
    solved: Solved, tmp_path: Path
) -> None:
    """portfolios.csv and payout.csv saved again (CRLF, semicolons, 60 as 60.0) are no change;
    a pay figure changed is."""
    out = shutil.copytree(solved.out, tmp_path / "run")
    for name in ("portfolios.csv", "payout.csv"):
        table = pd.read_csv(out / name, keep_default_na=False)
        numbers = table.select_dtypes("number").columns
        table[numbers] = table[numbers].astype(float)
        table.to_csv(out / name, index=False, sep=";", lineterminator="\r\n")

    assert solve(solved.scenario, out).exit_code == 0

    payout = pd.read_csv(out / "payout.csv", keep_default_na=False)
    payout.loc[0, "actual_income"] += 1
    payout.to_csv(out / "payout.csv", index=False)
    result = solve(solved.scenario, out)
    assert result.exit_code == 2, result.output
    assert "payout.csv" in result.output and "changed after solve wrote it" in result.output


def test_a_column_of_notes_added_to_the_plan_keeps_its_folder_from_being_replaced(
    solved: Solved, tmp_path: Path
) -> None:
    out = shutil.copytree(solved.out, tmp_path / "run")
    plan = pd.read_csv(out / "assignment.csv", dtype=str, keep_default_na=False)
    plan["my_note"] = ""
    plan.loc[0, "my_note"] = "call before moving"
    plan.to_csv(out / "assignment.csv", index=False)

    result = solve(solved.scenario, out)

    assert result.exit_code == 2, result.output
    assert "assignment.csv" in result.output and "changed after solve wrote it" in result.output


def test_a_note_row_added_to_the_plan_keeps_its_folder_from_being_replaced(
    solved: Solved, tmp_path: Path
) -> None:
    out = shutil.copytree(solved.out, tmp_path / "run")
    with (out / "assignment.csv").open("a", encoding="utf-8") as plan:
        plan.write(",M2 leaves in June: move S03 first\n")

    result = solve(solved.scenario, out)

    assert result.exit_code == 2, result.output
    assert "assignment.csv" in result.output and "changed after solve wrote it" in result.output


def test_a_solve_that_writes_no_plan_says_the_folder_keeps_the_earlier_one(
    solved: Solved, tmp_path: Path
) -> None:
    out = shutil.copytree(solved.out, tmp_path / "run")
    scenario = shutil.copytree(solved.scenario, tmp_path / "branch")
    toml = scenario / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[span.premium]\nmin = 9\nmax = 9\n")
    before = digests(out)

    result = solve(scenario, out)

    assert result.exit_code == 3, result.output
    assert "still holds the plan of an earlier run, untouched" in result.output
    assert digests(out) == before
    # Found before the search: fixing it may show other collisions.
    assert "These are what the checks before the search find" in result.output


def test_solve_with_set_values_and_unavailable_managers_leaves_the_files_as_they_are(
    branch: Path, tmp_path: Path
) -> None:
    before = digests(branch)

    result = solve(branch, tmp_path / "run", "--set", "span.tolerance=3")
    away = solve(branch, tmp_path / "away", "--unavailable", "M2")

    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["policy"]["span"]["tolerance"] == 3
    assert away.exit_code == 3, away.output  # S03 is pinned to M2
    assert "pinned to manager M2, who is not available" in away.output
    assert not (tmp_path / "away").exists()
    assert digests(branch) == before


def test_solve_with_weights_calls_the_goals_one_weighted_sum(branch: Path, tmp_path: Path) -> None:
    toml = branch / "scenario.toml"
    weights = "\n[objective]\nweights = { span = 100, balance = 10, chain = 3, continuity = 1 }\n"
    toml.write_text(toml.read_text(encoding="utf-8") + weights)

    result = solve(branch, tmp_path / "run")

    assert result.exit_code == 0, result.output
    assert "goals, in one weighted sum: " in result.output
    assert "most important first" not in result.output
    kpis = _kpis(tmp_path / "run")
    goals = kpis["goals"]
    assert {g: goals[g]["weight"] for g in ("span", "chain")} == {"span": 100.0, "chain": 3.0}
    weighted = sum(g["weight"] * g["value"] / g["scale"] for g in goals.values())
    assert weighted == pytest.approx(kpis["objective"], rel=1e-6)


def test_a_proven_weighted_sum_calls_no_goal_proven_best_that_another_plan_beats(
    tmp_path: Path,
) -> None:
    """C00 (M1 last year) and C01 (M2) are linked, each manager holds two: continuity weighs
    ten times chain, so the best sum cuts the link, which the valid plan C00 + C01 | C02 + C03
    keeps. The sum is proven best; chain is not."""
    customers = [
        {"customer_id": f"C0{i}", "customer_class": "key", "industry": "steel"} for i in range(4)
    ]
    customers[0]["prior_manager_id"], customers[1]["prior_manager_id"] = "M1", "M2"
    scenario = write_scenario_folder(
        tmp_path / "branch",
        customers,
        [{"manager_id": "M1", "grade": "B"}, {"manager_id": "M2", "grade": "B"}],
        [{"a": "C00", "b": "C01", "kind": "chain", "weight": 1}],
        {"span": {"tolerance": 0}, "objective": {"weights": {"continuity": 10, "chain": 1}}},
    )

    result = solve(scenario, tmp_path / "run")

    assert result.exit_code == 0, result.output
    kpis = _kpis(tmp_path / "run")
    assert (kpis["status"], kpis["best_bound"]) == ("optimal", kpis["objective"])
    chain = kpis["goals"]["chain"]
    assert (chain["value"], chain["bound"], chain["scale"]) == (100, 0.0, 100)  # one link
    assert chain["units"] == "weight of chain links cut, x100"
    line = _summary_line(result.output, "goals, in one weighted sum")
    assert "chain (gap 100%)" in line and "chain (proven best)" not in line


@pytest.mark.parametrize(
    "target",
    [
        ".",  # the scenario folder itself
        "..",  # the folder holding it
    ],
)
def test_out_holding_the_scenario_is_refused_and_nothing_is_deleted(
    branch: Path, target: str
) -> None:
    out = (branch / target).resolve()
    before = digests(out)

    result = solve(branch, out)

    assert result.exit_code == 2
    assert "choose another --out folder" in result.output
    assert digests(out) == before


def test_bad_usage_exits_2(branch: Path) -> None:
    assert run("solve", str(branch), "--time-limit", "0").exit_code == 2
    assert run("solve", str(branch), "--no-such-option").exit_code == 2


# ------------------------------------------------------------------ verify


def test_verify_accepts_the_written_plan(solved: Solved) -> None:
    scenario, out = solved.scenario, solved.out

    result = run("verify", str(scenario), str(out / "assignment.csv"))

    assert result.exit_code == 0, result.output
    assert "The plan keeps every hard rule." in result.output
    assert "solved with" not in result.output  # solved from the files as they are


def _edited(out: Path, folder: Path, **moves: str) -> Path:
    """A copy of the written plan with customers moved by hand, as a planner would in Excel."""
    plan = pd.read_csv(out / "assignment.csv", dtype=str, keep_default_na=False)
    for customer, manager in moves.items():
        plan.loc[plan["customer_id"] == customer, "manager_id"] = manager
    path = folder / "edited.csv"
    plan.to_csv(path, index=False)
    return path


def test_verify_checks_a_plan_against_set_values_and_unavailable_managers(
    solved: Solved, tmp_path: Path
) -> None:
    """A sweep variant's plan is checked as the variant ran: its policy values, its managers."""
    scenario, out = solved.scenario, solved.out
    plan = pd.read_csv(out / "assignment.csv", dtype=str).set_index("customer_id")
    fuller = plan.loc["S06", "manager_id"]
    other = "M1" if fuller == "M2" else "M2"
    held = int((plan["manager_id"] == other).sum())
    edited = _edited(out, tmp_path, S06=other)  # one manager then holds one more than 6
    assert held + 1 == 7

    assert run("verify", str(scenario), str(edited)).exit_code == 3
    looser = run("verify", str(scenario), str(edited), "--set", "span.tolerance=3")
    assert looser.exit_code == 0, looser.output

    gone = run("verify", str(scenario), str(out / "assignment.csv"), "--unavailable", other)
    assert gone.exit_code == 3, gone.output
    assert f"manager {other} is not available" in gone.output


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (("--set", "span.tolerance=1,3"), "give one value"),
        (("--set", "span.tolerance=1", "--set", "span.tolerance=2"), "set twice"),
        (("--set", "tolerance"), "KEY=V"),
        (("--set", "span.nokey=1"), "span.nokey=1: unknown key"),
        (("--set", "span.tolerance=-1"), "greater than or equal to 0"),
        (("--unavailable", "NOBODY"), "unknown manager(s) NOBODY"),
    ],
)
def test_verify_refuses_unusable_set_or_unavailable_options(
    solved: Solved, options: tuple[str, ...], said: str
) -> None:
    result = run("verify", str(solved.scenario), str(solved.out / "assignment.csv"), *options)

    assert result.exit_code == 2, result.output
    assert said in result.output


def test_verify_names_a_split_group(solved: Solved, tmp_path: Path) -> None:
    scenario, out = solved.scenario, solved.out
    plan = pd.read_csv(out / "assignment.csv", dtype=str).set_index("customer_id")
    other = "M1" if plan.loc["S02", "manager_id"] == "M2" else "M2"

    result = run("verify", str(scenario), str(_edited(out, tmp_path, S02=other)))

    assert result.exit_code == 3, result.output
    assert "[group]" in result.output
    assert "S01" in result.output and "S02" in result.output


def test_verify_shows_the_row_of_an_unknown_manager(solved: Solved, tmp_path: Path) -> None:
    """An id the scenario does not know is bad input (exit 1), said once at its cell: not a
    plan breaking rules (an id Excel changed would break them all)."""
    scenario, out = solved.scenario, solved.out
    edited = _edited(out, tmp_path, S02="M9")
    row = 2 + pd.read_csv(edited, dtype=str)["customer_id"].tolist().index("S02")

    result = run("verify", str(scenario), str(edited))

    assert result.exit_code == 1, result.output
    assert f"ERROR   edited.csv, row {row}, column manager_id: unknown manager 'M9'" in (
        result.output
    )
    assert "nothing was checked" in result.output
    assert "[unknown_id]" not in result.output


def test_verify_takes_ids_that_lost_their_zeros_as_bad_input(
    solved: Solved, tmp_path: Path
) -> None:
    scenario, out = solved.scenario, solved.out
    plan = pd.read_csv(out / "assignment.csv", dtype=str, keep_default_na=False)
    changed = int(plan["customer_id"].str.startswith("S0").sum())  # S01 -> S1: a zero lost
    plan["customer_id"] = plan["customer_id"].str.replace("S0", "S", regex=False)
    path = tmp_path / "excel.csv"
    plan.to_csv(path, index=False)

    result = run("verify", str(scenario), str(path))

    assert result.exit_code == 1, result.output
    assert "hard-rule violation" not in result.output
    assert result.output.count("ERROR") == changed > 0


def test_verify_names_a_moved_pinned_customer(solved: Solved, tmp_path: Path) -> None:
    scenario, out = solved.scenario, solved.out

    result = run("verify", str(scenario), str(_edited(out, tmp_path, S03="M1")))

    assert result.exit_code == 3, result.output
    assert "[pin] customer S03 is pinned to manager M2 but is given to M1" in result.output


def test_verify_says_where_in_the_file_a_rule_is_broken(solved: Solved, tmp_path: Path) -> None:
    """Each violation names the rows of its customers, as a spreadsheet numbers them."""
    scenario, out = solved.scenario, solved.out
    edited = _edited(out, tmp_path, S03="M1")
    row = 2 + pd.read_csv(edited, dtype=str)["customer_id"].tolist().index("S03")

    result = run("verify", str(scenario), str(edited))

    assert result.exit_code == 3, result.output
    assert f"given to M1 (edited.csv, row {row}, column manager_id)" in result.output


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing.csv", None),  # no such file
        ("plan.csv", b"customer_id,owner\nS01,M1\n"),  # no manager_id column
        ("plan.xlsx", b"\x00\x01 not a workbook \xff\xfe"),  # not a real .xlsx
    ],
)
def test_verify_an_unreadable_assignment_exits_1(
    solved: Solved, tmp_path: Path, name: str, content: bytes | None
) -> None:
    scenario = solved.scenario
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)

    result = run("verify", str(scenario), str(path))

    assert result.exit_code == 1, result.output
    assert "ERROR" in result.output and name in result.output


def test_payout_on_an_edited_plan_lists_its_problems_and_exits_1(
    solved: Solved, tmp_path: Path
) -> None:
    """An unknown manager and a repeated customer: no traceback, the file's own name."""
    plan = pd.read_csv(solved.out / "assignment.csv", dtype=str, keep_default_na=False)
    plan.loc[plan["customer_id"] == "S01", "manager_id"] = "M99"
    plan = pd.concat([plan, plan.iloc[[0]]])
    path = tmp_path / "hand_edited.csv"
    plan.to_csv(path, index=False)

    result = run("payout", str(solved.scenario), str(path), "--out", str(tmp_path / "pay"))

    assert result.exit_code == 1, result.output
    assert "ERROR   hand_edited.csv" in result.output
    assert "'M99'" in result.output and "is listed again" in result.output
    assert "WARNING" not in result.output  # each cell's problem said once
    assert "nothing was paid" in result.output
    assert not (tmp_path / "pay").exists()


def test_a_plan_of_another_branch_gives_a_short_list(solved: Solved, tmp_path: Path) -> None:
    """Past 50 unknown ids of a kind, one line names the other rows; a line first says that
    most of the plan is unknown."""
    plan = pd.DataFrame(
        {
            "customer_id": [f"X{k:04d}" for k in range(300)],
            "manager_id": [f"Z{k % 7}" for k in range(300)],
        }
    )
    path = tmp_path / "other_branch.csv"
    plan.to_csv(path, index=False)

    result = run("verify", str(solved.scenario), str(path))

    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert len(lines) < 120
    assert "300 of the plan's 300 customers are not in the scenario" in result.output
    assert "... and 250 more unknown customers like these, in rows 52-301" in result.output
    assert "... and 250 more unknown managers like these, in rows 52-301" in result.output


def test_payout_with_a_set_value_pays_as_the_variant_would_and_records_it(
    solved: Solved, tmp_path: Path
) -> None:
    plan = str(solved.out / "assignment.csv")
    full, half = tmp_path / "full", tmp_path / "half"

    assert run("payout", str(solved.scenario), plan, "--out", str(full)).exit_code == 0
    result = run(
        "payout", str(solved.scenario), plan, "--out", str(half),
        "--set", "payout.default_score=500",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    paid = {f: pd.read_csv(f / "payout.csv") for f in (full, half)}
    performance = paid[full]["actual_income"] - paid[full]["base_salary"]
    assert performance.sum() > 0
    assert list(paid[half]["actual_income"]) == pytest.approx(
        list(paid[full]["base_salary"] + performance / 2)
    )
    manifest = json.loads((half / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"] == ["payout.default_score=500"]


def test_payout_warns_about_customers_left_out_of_the_plan(solved: Solved, tmp_path: Path) -> None:
    plan = pd.read_csv(solved.out / "assignment.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "partial.csv"
    plan[plan["customer_id"] != "S01"].to_csv(path, index=False)

    result = run("payout", str(solved.scenario), str(path), "--out", str(tmp_path / "pay"))

    assert result.exit_code == 0, result.output
    assert "WARNING partial.csv: 1 customer(s) are in no portfolio (S01)" in result.output
    assert result.output.count("are in no portfolio") == 1  # said once, under the file's name
    assert (tmp_path / "pay" / "payout.csv").exists()


def test_payout_on_a_plan_breaking_a_hard_rule_says_so_and_still_pays(
    solved: Solved, tmp_path: Path
) -> None:
    plan = pd.read_csv(solved.out / "assignment.csv", dtype=str, keep_default_na=False)
    others = sorted(set(plan["manager_id"]) - {plan["manager_id"].iloc[0]})
    plan.loc[0, "manager_id"] = others[0]  # one customer to another manager: a band or a rule
    path = tmp_path / "edited.csv"
    plan.to_csv(path, index=False)

    result = run("payout", str(solved.scenario), str(path), "--out", str(tmp_path / "pay"))

    assert result.exit_code == 0, result.output
    assert "WARNING the plan breaks" in result.output and "portfolio-opt verify" in result.output
    assert (tmp_path / "pay" / "payout.csv").exists()


def test_payout_writes_a_workbook_beside_its_csv(solved: Solved, tmp_path: Path) -> None:
    """payout.xlsx holds the same rows as payout.csv, with the managers' names, and the
    inputs it was paid from."""
    from openpyxl import load_workbook

    result = run(
        "payout", str(solved.scenario), str(solved.out / "assignment.csv"), "--out", str(tmp_path)
    )

    assert result.exit_code == 0, result.output
    assert "payout.csv and payout.xlsx written to" in result.output
    table = pd.read_csv(tmp_path / "payout.csv", dtype=str, keep_default_na=False)
    book = load_workbook(tmp_path / "payout.xlsx", read_only=True)
    assert book.sheetnames[0] == "Payout" and book.sheetnames[-1] == "Inputs"
    rows = list(book["Payout"].iter_rows(values_only=True))
    assert rows[0][:2] == ("manager_id", "manager_name")
    assert [str(r[0]) for r in rows[1:]] == table["manager_id"].tolist()
    column = rows[0].index("actual_income")
    assert [round(float(r[column]), 2) for r in rows[1:]] == [
        round(float(v), 2) for v in table["actual_income"]
    ]


def test_payout_never_replaces_the_scenario_or_a_solve_output_folder(
    solved: Solved, tmp_path: Path
) -> None:
    """The payout replaces its --out folder whole: not one that holds inputs or other files."""
    plan = solved.out / "assignment.csv"
    for out in (solved.scenario, solved.out):
        before = digests(out)

        result = run("payout", str(solved.scenario), str(plan), "--out", str(out))

        assert result.exit_code == 2, result.output
        assert "choose another --out folder" in " ".join(result.output.split())
        assert digests(out) == before
    pay = tmp_path / "pay"
    for _ in range(2):  # its own folder is replaced
        result = run("payout", str(solved.scenario), str(plan), "--out", str(pay))
        assert result.exit_code == 0, result.output
    assert {p.name for p in pay.iterdir()} == {"payout.csv", "payout.xlsx", "manifest.json"}
    manifest = json.loads((pay / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["assignment_sha256"] == hashlib.sha256(plan.read_bytes()).hexdigest()


def test_payout_reads_the_plan_from_a_sheet_of_the_solve_workbook(
    solved: Solved, tmp_path: Path
) -> None:
    """report.xlsx#Assignment pays as assignment.csv does; the manifest hashes the workbook."""
    book = solved.out / "report.xlsx"
    from_csv, from_sheet = tmp_path / "csv", tmp_path / "sheet"
    run("payout", str(solved.scenario), str(solved.out / "assignment.csv"), "--out", str(from_csv))

    result = run("payout", str(solved.scenario), f"{book}#Assignment", "--out", str(from_sheet))

    assert result.exit_code == 0, result.output
    assert (from_sheet / "payout.csv").read_bytes() == (from_csv / "payout.csv").read_bytes()
    manifest = json.loads((from_sheet / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["assignment"] == f"{book.resolve()}#Assignment"
    assert manifest["assignment_sha256"] == hashlib.sha256(book.read_bytes()).hexdigest()


def _with_adjustment_for_the_leaving_manager(scenario: Path) -> None:
    """MX is leaving and holds nothing: its adjustment cannot be applied."""
    (scenario / "adjustments.csv").write_text(
        "manager_id,period,kind,amount\nMX,2026,reward,500\n", encoding="utf-8"
    )
    policy = scenario / "scenario.toml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(
        text.replace("[tables]\n", '[tables]\nadjustments = "adjustments.csv"\n'), "utf-8"
    )


def test_solve_and_payout_say_what_the_payout_left_out_once(branch: Path, tmp_path: Path) -> None:
    _with_adjustment_for_the_leaving_manager(branch)
    warning = "manager 'MX' is not available and holds no customer"

    solved = solve(branch, tmp_path / "run")
    paid = run(
        "payout",
        str(branch),
        str(tmp_path / "run" / "assignment.csv"),
        "--out",
        str(tmp_path / "pay"),
    )

    for result in (solved, paid):
        assert result.exit_code == 0, result.output
        assert " ".join(result.output.split()).count(warning) == 1, result.output


def test_progress_text_runs_the_clock_and_shows_the_latest_report():
    from portfolio_opt.cli import _ProgressText

    text = _ProgressText()
    assert text.__rich__().startswith("starting  elapsed ")
    text.state = {"phase": "building a first plan"}
    assert text.__rich__().startswith("building a first plan  elapsed ")
    text.state = {"incumbent": 12.5, "bound": 10.0, "gap": 0.2, "elapsed": 1.0}
    line = text.__rich__()
    assert "incumbent 12.500  bound 10.000  gap 20.0%  elapsed" in line


def test_a_kill_while_writing_leaves_no_staging_folder(tmp_path: Path) -> None:
    import os
    import signal

    from portfolio_opt.cli import _terminated
    from portfolio_opt.report.atomic import atomic_folder

    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        with pytest.raises(SystemExit) as stopped, atomic_folder(tmp_path / "run") as staging:
            (staging / "assignment.csv").write_text("customer_id,manager_id\n")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler interrupts this at once
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def _wait_for_work(process: subprocess.Popen[bytes], seconds: float) -> None:
    """Until the process has used ``seconds`` of CPU (or, where /proc cannot tell, of the
    clock), or has ended: on a busy machine loading takes longer by the clock, not by the
    CPU."""
    import os

    stat = Path(f"/proc/{process.pid}/stat")
    started = time.monotonic()
    while time.monotonic() - started < 20 * seconds and process.poll() is None:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            time.sleep(seconds)
            return
        used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        if used >= seconds:
            return
        time.sleep(0.1)


def _interrupted(
    args: list[str], after_s: float, again_after_s: float | None = None
) -> tuple[int, str, float]:
    """``portfolio-opt ARGS`` in a process of its own, sent Ctrl-C (SIGINT) once it has worked
    ``after_s`` seconds: its exit code, its output and the seconds from the signal to its end.
    With ``again_after_s``, sent Ctrl-C again if it still runs that long after: CPython loses
    an interrupt that lands in a garbage collector's callback ("Exception ignored"), and a
    planner whose Ctrl-C went unheard presses it again."""
    import signal
    import sys

    command = "from portfolio_opt.cli import main; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", command, *args, "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    _wait_for_work(process, after_s)
    assert process.poll() is None, "the command ended before it was interrupted"
    process.send_signal(signal.SIGINT)
    signalled = time.monotonic()
    try:
        output, _ = process.communicate(timeout=again_after_s or 100)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=100)
    return process.returncode, output.decode(), time.monotonic() - signalled


def _solve_interrupted(
    scenario: Path, out: Path, time_limit: int, after_s: float
) -> tuple[str, float]:
    """``portfolio-opt solve``, sent Ctrl-C once it has worked ``after_s`` seconds; its output,
    once it has ended with exit code 0, and the seconds from the signal to its end."""
    args = ["solve", str(scenario), "--out", str(out), "--time-limit", str(time_limit)]
    code, output, stopped_in = _interrupted(args, after_s)
    assert code == 0, output
    return output, stopped_in


def test_ctrl_c_stops_the_search_and_writes_the_best_plan_so_far(tmp_path: Path) -> None:
    """The first Ctrl-C (SIGINT) ends the search early; the plan found so far is written."""
    city = Path(__file__).parents[1] / "scenarios" / "city-branch"
    out = tmp_path / "run"
    # 4 s: loaded, and keeping last year's relationships (city-branch: continuity first)
    text, stopped_in = _solve_interrupted(city, out, time_limit=120, after_s=4)

    assert "Stopping: keeping the best plan so far" in text
    assert "Stopped early (Ctrl-C): this is the best plan found so far." in text
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["method"].endswith("stopped early on request")
    assert (out / "assignment.csv").exists()
    # The search had 120 s; it stops, and the plan is written, within seconds of the signal.
    assert stopped_in < 12, f"the solve went on for {stopped_in:.1f} s after Ctrl-C"
    assert run("verify", str(city), str(out / "assignment.csv")).exit_code == 0


def test_ctrl_c_stops_a_long_exact_model_within_seconds(tmp_path: Path) -> None:
    """A 300 x 10 branch's exact model, given 600 s, runs in one CP-SAT call per goal (its
    chain goal is not proven in minutes): the request to stop must reach it then, not once
    it returns."""
    branch = tmp_path / "branch"
    write_scenario(generate_scenario(300, 10, seed=1), branch)
    out = tmp_path / "run"
    _, stopped_in = _solve_interrupted(branch, out, time_limit=600, after_s=15)  # the chains

    assert (out / "assignment.csv").exists()
    assert stopped_in < 12, f"the solve went on for {stopped_in:.1f} s after Ctrl-C"


def test_ctrl_c_during_compare_stops_it_and_writes_nothing(tmp_path: Path) -> None:
    """compare solves scenarios one after another: Ctrl-C ends it (exit 130) at once, and its
    output folder, with the plans of the solves already made, is not written."""
    scenarios = Path(__file__).parents[1] / "scenarios"
    out = tmp_path / "compared"
    args = ["compare", str(scenarios / "demo"), str(scenarios / "city-branch"), "--out", str(out)]
    code, output, stopped_in = _interrupted(
        [*args, "--time-limit", "120"], after_s=4, again_after_s=8
    )

    assert code == 130, output
    assert f"Stopped (Ctrl-C): nothing was written to {out}." in output
    assert list(tmp_path.iterdir()) == []  # no output folder, no staging folder left behind
    assert stopped_in < 12, f"compare went on for {stopped_in:.1f} s after Ctrl-C"


@pytest.mark.parametrize(("command", "outcome"), [("payout", "paid"), ("verify", "checked")])
def test_a_bad_scenario_says_what_was_not_done(
    solved: Solved, tmp_path: Path, command: str, outcome: str
) -> None:
    scenario = Path(shutil.copytree(solved.scenario, tmp_path / "bad"))
    customers = scenario / "customers.csv"
    text = customers.read_text(encoding="utf-8").splitlines()
    text[1] = text[1].replace(text[1].split(",")[0], "", 1)  # a blank customer_id
    customers.write_text("\n".join(text) + "\n", encoding="utf-8")

    result = run(command, str(scenario), str(solved.out / "assignment.csv"))

    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1].endswith(f"nothing was {outcome}.")


@pytest.mark.parametrize("limit", ["nan", "inf", "-inf", "0"])
def test_a_time_limit_that_is_not_a_finite_positive_number_is_bad_usage(
    limit: str, tmp_path: Path
) -> None:
    result = run("solve", str(SMALL_BRANCH), "--out", str(tmp_path / "o"), "--time-limit", limit)
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["solve", "validate", "verify"])
def test_ctrl_c_while_a_scenario_loads_ends_with_the_shells_code(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not click's "Aborted!" and exit 1, which scripts read as bad input: 130, and a word."""

    def interrupted(path: object, overrides: object = None, away: object = ()) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("portfolio_opt.cli.inspect_scenario", interrupted)
    args = [str(SMALL_BRANCH), str(tmp_path / "plan.csv")] if command == "verify" else []
    result = run(command, *(args or [str(SMALL_BRANCH)]))
    assert result.exit_code == 130, result.output
    assert "Stopped (Ctrl-C): nothing was written." in result.output
    assert "Aborted" not in result.output


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("solve", "--seed", "2147483648"),  # CP-SAT's seed is a 32-bit integer
        ("solve", "--workers", "3000000000"),
        ("sweep", "--seed", "2147483648"),
        ("sweep", "--workers", "100000"),
    ],
)
def test_a_seed_or_worker_count_the_solver_cannot_take_is_bad_usage(
    command: str, option: str, value: str, tmp_path: Path
) -> None:
    """Not a traceback from the solver (exit 1, bad input): the option's range, exit 2."""
    args = ["--vary", "span.tolerance=1,2"] if command == "sweep" else []
    result = run(command, str(SMALL_BRANCH), *args, "--out", str(tmp_path / "o"), option, value)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("order", "count", "noted"),
    [
        (["span", "balance", "chain", "industry", "continuity"], 460, True),
        (["span", "balance", "chain", "industry", "continuity"], 100, False),  # few beyond 64
        (["continuity", "span", "balance", "chain", "industry"], 460, False),  # ranked first
    ],
)
def test_many_needless_moves_are_traced_to_the_goal_order(order, count, noted) -> None:
    policy = Policy.model_validate({"objective": {"order": order}})
    kpis = {"n_customers": 600, "moves": {"count": count, "lower_bound": 64}}
    note = _many_moves_note(kpis, policy)
    assert (note is not None) == noted
    if noted:
        assert note.startswith(
            "460 of 600 customers change manager, where no plan moves fewer than 64"
        )
        assert "ranks 5 of 5" in note


def test_a_plan_whose_ids_lost_their_zeros_is_not_called_another_branchs(tmp_path: Path) -> None:
    """Every id unknown, but each one explained by a dropped zero: no 'another branch' line."""
    folder = tmp_path / "branch"
    write_scenario_folder(
        folder,
        [{"customer_id": f"{i:04d}", "customer_class": "key"} for i in range(1, 7)],
        [{"manager_id": "M1", "grade": "B"}, {"manager_id": "M2", "grade": "B"}],
    )
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "customer_id,manager_id\n" + "".join(f"{i},M{1 + i % 2}\n" for i in range(1, 7)),
        encoding="utf-8",
    )

    result = run("verify", str(folder), str(plan))

    assert result.exit_code == 1, result.output
    assert "did you mean 0001?" in result.output
    assert "not in the scenario" not in result.output


def test_past_five_warnings_of_a_kind_the_rest_are_one_line_naming_their_rows(
    branch: Path, tmp_path: Path
) -> None:
    """validate lists every warning; solve folds a slip repeated on many rows into one line."""
    managers = pd.read_csv(branch / "managers.csv", dtype=str, keep_default_na=False)
    gone = [{**managers.iloc[-1].to_dict(), "manager_id": f"MX{i}"} for i in range(3)]
    managers = pd.concat([managers, pd.DataFrame(gone)], ignore_index=True)  # 8 rows
    managers["management_score"] = "0.9"
    managers.to_csv(branch / "managers.csv", index=False)

    printed = solve(branch, tmp_path / "run").output.splitlines()
    listed = run("validate", str(branch)).output.splitlines()

    scores = [line for line in printed if "column management_score" in line]
    assert len(scores) == 6
    assert scores[-1].startswith(
        "WARNING managers.csv, column management_score: ... and 3 more warnings like these, "
        "in rows 7-9"
    )
    assert len([line for line in listed if "column management_score" in line]) == 8


def test_an_abort_leaves_no_complaints_from_writers_cut_off(tmp_path: Path) -> None:
    """A writer abandoned mid-stream (as openpyxl's sheet writer is when a second Ctrl-C
    aborts the report) complains as it is collected; after an abort that is noise."""
    script = """
import gc, sys
from portfolio_opt.cli import _quiet_cleanup

def stream():
    try:
        yield 1
    finally:
        raise RuntimeError("cut off mid-sheet")

if sys.argv[1] == "aborted":
    _quiet_cleanup()
writer = stream()
next(writer)
del writer
gc.collect()
"""
    runs = {
        mode: subprocess.run(
            [sys.executable, "-c", script, mode], capture_output=True, text=True, check=True
        )
        for mode in ("running", "aborted")
    }

    assert "cut off mid-sheet" in runs["running"].stderr
    assert runs["aborted"].stderr == ""


def test_the_default_folder_of_another_scenario_of_the_same_name_is_left_as_it_is(
    branch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Next year's folder, copied from last year's, keeps its name: its solve must not replace
    last year's outputs in out/NAME."""
    monkeypatch.chdir(tmp_path)
    assert run("solve", str(branch), *FAST).exit_code == 0
    last_year = digests(tmp_path / "out" / "small-branch")
    next_year = shutil.copytree(branch, tmp_path / "next_year")

    result = run("solve", str(next_year), *FAST)
    again = run("solve", str(branch), *FAST)  # the same scenario replaces its own outputs
    own = run("solve", str(next_year), *FAST, "--out", str(tmp_path / "next"))

    assert result.exit_code == 2, result.output
    assert f"holds the outputs of another scenario, {branch}" in result.output
    assert "give this run its own --out folder" in result.output
    assert again.exit_code == 0, again.output
    assert digests(tmp_path / "out" / "small-branch").keys() == last_year.keys()
    assert json.loads((tmp_path / "out" / "small-branch" / "manifest.json").read_text())[
        "scenario"
    ] == str(branch.resolve())
    assert own.exit_code == 0, own.output
    payout = run("payout", str(next_year), str(tmp_path / "next" / "assignment.csv"))
    assert payout.exit_code == 0, payout.output
    paid_again = run("payout", str(branch), str(tmp_path / "next" / "assignment.csv"))
    assert paid_again.exit_code == 2, paid_again.output
    assert "holds the outputs of another scenario" in paid_again.output


def test_verify_says_which_options_its_own_plan_was_solved_with(
    branch: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    solved = solve(branch, out, "--unavailable", "M1", "--set", "span.tolerance=6")
    assert solved.exit_code == 0, solved.output

    plain = run("verify", str(branch), str(out / "assignment.csv"))
    as_made = run(
        "verify", str(branch), str(out / "assignment.csv"), "--unavailable", "M1",
        "--set", "span.tolerance=6",
    )  # fmt: skip

    assert "this plan was solved with --set span.tolerance=6 --unavailable M1" in plain.output
    expected = f"verify {branch} {out / 'assignment.csv'} --set span.tolerance=6 --unavailable M1"
    assert expected in plain.output
    assert as_made.exit_code == 0, as_made.output
    assert "solved with" not in as_made.output


def test_a_scenario_name_that_is_a_path_stays_inside_the_default_folder(
    branch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = branch / "scenario.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('name = "small-branch"', 'name = "../up"'),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)

    result = run("solve", str(branch), *FAST)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / ".._up" / "assignment.csv").is_file()
    assert not (tmp_path / "up").exists()


def test_verify_given_an_output_folder_whose_workbook_was_edited_names_its_plan_sheet(
    solved: Solved, tmp_path: Path
) -> None:
    """The planner moved a customer on report.xlsx's Assignment sheet: that is the plan to
    check, not assignment.csv, the plan as solved."""
    from openpyxl import load_workbook

    out = shutil.copytree(solved.out, tmp_path / "run")
    plain = run("verify", str(solved.scenario), str(out))
    book = load_workbook(out / "report.xlsx")
    book["Assignment"]["B2"] = "M1" if book["Assignment"]["B2"].value != "M1" else "M2"
    book.save(out / "report.xlsx")

    edited = run("verify", str(solved.scenario), str(out))

    assert f"give {out.resolve() / 'assignment.csv'}" in plain.output
    assert edited.exit_code == 1
    assert f"give {out.resolve() / 'report.xlsx'}#Assignment: report.xlsx was changed" in (
        edited.output
    )
