"""``portfolio-opt sweep`` and ``solve-many`` on the command line, on real Dask clusters."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from unittest.mock import patch

import click
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from distributed import Client
from openpyxl import load_workbook
from rich.console import Console

from portfolio_opt.model.solve import SolveParams
from portfolio_opt.parallel.commands import (
    TaskDisplay,
    failure_line,
    folder_problem,
    many_exit_code,
    solve_many,
    sweep,
)
from portfolio_opt.parallel.tasks import SolveTask, TaskSummary, crashed
from portfolio_opt.pipeline import (
    EXIT_BAD_INPUT,
    EXIT_INFEASIBLE,
    EXIT_NO_PLAN,
    EXIT_OK,
    EXIT_USAGE,
    run_solve,
)
from portfolio_opt.scenario.loader import load_scenario

from .conftest import TIME_LIMIT_S

# Deterministic solves stop on a step count and the solver's own work measure, not the clock.
DETERMINISTIC = SolveParams(time_limit_s=2.0, workers=1, seed=3, deterministic=True)


@click.group()
def cli() -> None:
    """A stand-in for the portfolio-opt group."""


cli.add_command(sweep)
cli.add_command(solve_many)


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([], EXIT_USAGE, "at least one --vary"),
        (["--vary", "span.tolerance"], EXIT_USAGE, "KEY=V1,V2"),
        (["--vary", "span.tolrance=1,2"], EXIT_USAGE, "unknown key"),
        (["--vary", "span.tolerance=-1"], EXIT_USAGE, "greater than or equal to 0"),
        (["--drop-managers", "9"], EXIT_USAGE, "one must remain"),
        (["--vary", "span.tolerance=1", "--workers", "0"], EXIT_USAGE, "--workers"),
    ],
)
def test_sweep_usage_errors_stop_before_any_solve(
    branch_dir: Path, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = _run("sweep", branch_dir, "--out", tmp_path / "out", *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_a_sweep_of_a_broken_scenario_lists_its_problems(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "scenario.toml").write_text("[span]\ntolerance = -1\n")
    result = _run("sweep", tmp_path / "broken", "--vary", "span.tolerance=1,2")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "ERROR" in result.output and "span.tolerance" in result.output


def test_the_output_folder_must_not_hold_the_scenario(branch_dir: Path) -> None:
    result = _run("sweep", branch_dir, "--vary", "span.tolerance=1,2", "--out", branch_dir.parent)
    assert result.exit_code == EXIT_USAGE and "holds the scenario" in result.output


def test_only_our_own_folders_are_replaced(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "manifest.json").write_text(json.dumps({"command": "sweep"}))
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "budget.xlsx").write_text("")
    assert folder_problem(tmp_path / "mine", [], "sweep") is None
    assert folder_problem(tmp_path / "new", [], "sweep") is None
    assert "not a solve-many folder" in str(folder_problem(tmp_path / "mine", [], "solve-many"))
    assert "not a sweep folder" in str(folder_problem(tmp_path / "theirs", [], "sweep"))


def _edited_copy(scenario: Path, folder: Path, unavailable: list[str]) -> Path:
    """The scenario with these managers marked ``available = false`` in managers.csv."""
    shutil.copytree(scenario, folder)
    with (scenario / "managers.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        if row["manager_id"] in unavailable:
            row["available"] = "false"
    with (folder / "managers.csv").open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


def test_deterministic_sweep_plans_equal_plain_solves(
    cluster: Client, branch_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    result = _run(
        "sweep", branch_dir, "--vary", "span.tolerance=1,3", "--drop-managers", "0,1",
        "--out", out, "--scheduler", cluster.scheduler.address,
        "--deterministic", "--seed", DETERMINISTIC.seed, "--workers", DETERMINISTIC.workers,
        "--time-limit", DETERMINISTIC.time_limit_s,
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    table = pd.read_csv(out / "sweep.csv", dtype={"folder": str}, keep_default_na=False)
    assert list(table["variant"]) == [
        "span.tolerance=1 all managers",
        "span.tolerance=1 without M004",
        "span.tolerance=3 all managers",
        "span.tolerance=3 without M004",
    ]
    # the infeasible variant is reported and the others are solved all the same
    assert list(table["exit_code"]) == [0, 3, 0, 0]
    assert "span.tolerance=1 without M004: infeasible" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == "sweep" and manifest["solver"]["deterministic"] is True
    workers = {v["worker"] for v in manifest["variants"]}
    assert len(workers) == 2  # the variants ran in both worker processes
    for row, variant in zip(table.to_dict("records"), manifest["variants"], strict=True):
        if row["exit_code"] != 0:
            continue
        dropped = variant["dropped"]
        plain_dir = branch_dir
        if dropped:
            plain_dir = _edited_copy(branch_dir, tmp_path / f"edited-{row['folder'][-8:]}", dropped)
        scenario = load_scenario(plain_dir, variant["overrides"])
        plain = tmp_path / "plain" / Path(row["folder"]).name
        assert run_solve(scenario, plain, DETERMINISTIC).exit_code == EXIT_OK
        swept = (out / row["folder"] / "assignment.csv").read_bytes()
        assert swept == (plain / "assignment.csv").read_bytes(), row["variant"]
    for name in ("compare.csv", "compare.xlsx", "sweep.xlsx", "moves_by_manager.csv"):
        assert (out / name).is_file(), name
    for name in ("variants", "fairness", "load"):
        assert (out / "plots" / f"{name}.png").is_file(), name
    compare = pd.read_csv(out / "compare.csv")
    assert [c for c in compare.columns if c not in ("kpi", "meaning")] == [
        "span.tolerance=1 all managers",
        "span.tolerance=3 all managers",
        "span.tolerance=3 without M004",
    ]


def _infeasible_copy(branch_dir: Path, folder: Path) -> Path:
    """``branch_dir`` with span tolerance 1 and M004 unavailable: the span cannot hold."""
    _edited_copy(branch_dir, folder, ["M004"])
    toml = folder / "scenario.toml"
    text = toml.read_text(encoding="utf-8")
    assert "tolerance = 2\n" in text
    toml.write_text(text.replace("tolerance = 2\n", "tolerance = 1\n"), encoding="utf-8")
    return folder


def test_solve_many_consolidates_branches_on_a_local_cluster(
    branch_dir: Path, other_branch_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "scenario.toml").write_text('[tables]\ncustomers = "nowhere.csv"\n')
    out = tmp_path / "bank"
    # the parent folder holds both generated branches
    result = _run("solve-many", branch_dir.parent, broken, "--out", out, "--time-limit", 1)
    # the report of the solved branches is written, but a script sees that one failed
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "2 of 3 branches solved" in result.output
    assert "broken: bad input - the scenario has errors\n" in result.output
    assert "nowhere.csv" in result.output  # the broken branch's problem is shown
    assert "Not solved: broken (see above); exit code 1" in result.output
    for branch in ("north", "south"):
        assert (out / "branches" / branch / "report.xlsx").is_file()
    table = pd.read_csv(out / "branches.csv")
    assert list(table["branch"]) == ["north", "south", "broken", "bank"]
    assert list(table["status"])[2:] == ["bad input", "2 of 3 branches solved"]
    bank = table.iloc[-1]
    assert bank["n_customers"] == 120 and bank["n_managers"] == 12
    assert bank["target"] == pytest.approx(table["target"].iloc[:2].sum())
    workbook = load_workbook(out / "consolidated.xlsx", read_only=True)
    assert workbook.sheetnames == ["Branches", "Portfolios", "Payout", "Notes"]
    portfolios = list(workbook["Portfolios"].iter_rows(values_only=True))
    assert portfolios[0][0] == "branch" and {r[0] for r in portfolios[1:]} == {"north", "south"}
    header = list(portfolios[0])
    assert header[header.index("manager_id") + 1] == "manager_name"  # ids repeat across branches
    assert all(r[header.index("manager_name")] for r in portfolios[1:])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["cluster"]["local_cluster"] is True
    assert manifest["solver"]["workers"] >= 1


def test_solve_many_exits_3_when_no_branch_can_keep_the_hard_rules_and_keeps_the_last_report(
    cluster: Client, branch_dir: Path, tmp_path: Path
) -> None:
    """As solve keeps its folder when it finds no plan, the bank's last report stays."""
    out = tmp_path / "bank"
    options = ["--out", out, "--time-limit", TIME_LIMIT_S, "--scheduler", cluster.scheduler.address]
    assert _run("solve-many", branch_dir, *options).exit_code == 0
    before = (out / "branches.csv").read_bytes()
    tight = _infeasible_copy(branch_dir, tmp_path / "tight")

    result = _run("solve-many", tight, *options)

    assert result.exit_code == EXIT_INFEASIBLE, result.output
    assert "tight: infeasible - the hard rules cannot all hold\n" in result.output
    assert f"No branch has a plan: nothing was written, and {out} is as it was." in result.output
    assert (out / "branches.csv").read_bytes() == before


def test_solve_many_tells_each_branchs_warnings_by_name(
    cluster: Client, branch_dir: Path, tmp_path: Path
) -> None:
    """A slip that changes a branch's pay without a word (growth 5: 500%) is told, as solve
    tells it, and kept in the manifest; a branch with bad input too keeps its warnings."""
    branches = []
    for name, customer_class in (("slipped", None), ("broken", "zzz")):
        folder = shutil.copytree(branch_dir, tmp_path / name)
        customers = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False)
        customers.loc[0, "growth_rate"] = "5"
        if customer_class:
            customers.loc[1, "customer_class"] = customer_class
        customers.to_csv(folder / "customers.csv", index=False)
        branches.append(folder)
    out = tmp_path / "bank"

    result = _run(
        "solve-many", *branches, "--out", out, "--time-limit", TIME_LIMIT_S,
        "--scheduler", cluster.scheduler.address,
    )  # fmt: skip

    assert result.exit_code == 1, result.output  # the broken branch's bad input
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name, record in zip(("slipped", "broken"), manifest["branches"], strict=True):
        said = f"WARNING {name}: customers.csv, row 2, column growth_rate: growth_rate 5 is 500%"
        assert said in result.output
        assert any("growth_rate 5" in w for w in record["warnings"])


def test_a_sweep_where_no_variant_has_a_plan_exits_with_the_failures_code(
    cluster: Client, branch_dir: Path, tmp_path: Path
) -> None:
    tight = _infeasible_copy(branch_dir, tmp_path / "tight")
    result = _run(
        "sweep", tight, "--vary", "span.tolerance=0,1", "--out", tmp_path / "sweep",
        "--time-limit", TIME_LIMIT_S, "--scheduler", cluster.scheduler.address,
    )  # fmt: skip
    assert result.exit_code == EXIT_INFEASIBLE, result.output
    assert "No variant has a plan: nothing was written" in result.output
    assert not (tmp_path / "sweep").exists()


def test_a_swept_value_solve_would_warn_about_is_warned_about(
    cluster: Client, branch_dir: Path, tmp_path: Path
) -> None:
    result = _run(
        "sweep", branch_dir, "--vary", "payout.rates.target=0.01,5", "--out", tmp_path / "s",
        "--time-limit", TIME_LIMIT_S, "--scheduler", cluster.scheduler.address,
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    warned = [line for line in result.output.splitlines() if "rates are fractions" in line]
    assert len(warned) == 1 and "variant payout.rates.target=5" in warned[0]


def _summary(key: str, status: str, code: int, errors: tuple[str, ...] = ()) -> TaskSummary:
    return TaskSummary(key, f"/x/{key}", status, code, 0.5, errors=errors)


def test_the_most_severe_failure_gives_solve_many_its_exit_code() -> None:
    solved = _summary("a", "optimal", EXIT_OK)
    bad = _summary("b", "bad input", EXIT_BAD_INPUT)
    infeasible = _summary("c", "infeasible", EXIT_INFEASIBLE)
    no_plan = _summary("d", "no plan", EXIT_NO_PLAN)
    assert many_exit_code([solved, solved]) == EXIT_OK
    assert many_exit_code([]) == EXIT_OK
    assert many_exit_code([solved, no_plan]) == EXIT_NO_PLAN
    assert many_exit_code([no_plan, infeasible, solved]) == EXIT_INFEASIBLE
    assert many_exit_code([no_plan, infeasible, bad]) == EXIT_BAD_INPUT


def test_a_branch_that_crashed_is_named_as_an_internal_error() -> None:
    crash = crashed(SolveTask("west", "/x/west", "/out/west"), OverflowError("float infinity"))
    assert many_exit_code([crash]) == EXIT_BAD_INPUT
    line = failure_line("west", crash)
    assert line.startswith("west: internal error (OverflowError: float infinity)")
    assert "report it" in line
    assert failure_line("c", _summary("c", "no plan", EXIT_NO_PLAN)) == (
        "c: no plan - no plan found within the time limit"
    )
    display = TaskDisplay(["west"], "1 branch", "a local cluster")
    recorded = Console(record=True, width=200)
    display.live = None
    with patch("portfolio_opt.parallel.commands.console", recorded):
        display.done(crash)
    shown = recorded.export_text()
    assert "FAIL [1/1] west: internal error in 0.0s  OverflowError: float infinity" in shown


def test_solve_many_refuses_a_folder_without_scenarios(tmp_path: Path) -> None:
    result = _run("solve-many", tmp_path, "--out", tmp_path / "out", "--time-limit", TIME_LIMIT_S)
    assert result.exit_code == EXIT_BAD_INPUT and "no scenario folder" in result.output


@pytest.mark.parametrize("address", ["dask-server", "http://localhost:8786"])
def test_a_scheduler_address_without_a_port_or_with_another_scheme_is_a_usage_error(
    branch_dir: Path, tmp_path: Path, address: str
) -> None:
    result = _run(
        "sweep", branch_dir, "--vary", "span.tolerance=1,2", "--scheduler", address,
        "--out", tmp_path / "out", "--time-limit", TIME_LIMIT_S,
    )  # fmt: skip
    assert result.exit_code == EXIT_USAGE, result.output
    assert f"cannot use the Dask scheduler at {address}" in result.output
    assert "Traceback" not in result.output


def test_the_display_shows_running_tasks_and_a_line_per_finished_one() -> None:
    display = TaskDisplay(["a", "b", "c"], "3 variants", "a local cluster")
    display.event({"key": "a", "state": "loading"})
    display.event({"key": "a", "state": "solving", "incumbent": 12.5, "bound": 2.0, "gap": 0.84})
    display.event({"key": "b", "state": "loading"})
    display.event({"key": "elsewhere", "state": "loading"})  # another run's task: ignored
    recorded = Console(record=True, width=120)
    display.live = None
    recorded.print(display)
    shown = recorded.export_text()
    assert "0 done, 2 running, 1 waiting" in shown
    assert "incumbent 12.5  bound 2  gap 84.0%" in shown
    summary = TaskSummary("b", "/x/b", "infeasible", 3, 0.2, errors=("too few A managers",))
    display.done(summary)
    recorded.print(display)
    assert "1 done, 1 running, 1 waiting" in recorded.export_text()


def test_a_sweep_that_varies_the_objective_does_not_warn_of_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every variant gives its own order: the file's partial order is no variant's."""
    from portfolio_opt.parallel import commands

    branch = shutil.copytree(
        Path(__file__).parents[1] / "model" / "data" / "small_branch", tmp_path / "b"
    )
    toml = branch / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[objective]\norder = ["span"]\n')

    commands._load(str(branch), objective_varied=True)
    varied = capsys.readouterr().out
    commands._load(str(branch))
    plain = capsys.readouterr().out

    assert "leaves out" not in varied
    assert "leaves out balance, chain, industry, continuity" in plain
